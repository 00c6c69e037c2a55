import net from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { absoluteFormHost, hostMatches, normaliseHostPattern, parseHost, type ParsedHost } from '../http/host.js';
import { normalisePrefix, type NormalisedPath } from '../http/request-path.js';
import { assertKnownKeys, assertPlainObject, hasControlCharacters } from '../schema/checks.js';
import type { PlannedSite, SitesPlan } from '../stats/types.js';
import type { FallbackMode } from '../types.js';
import { resolveSwitchOffDate } from './page-options.js';
import { deprecationHeaders } from './switch-off.js';

/**
 * Options per site (host) and per section (path group), and the pure decision of which apply to a
 * request. A request's host comes from its Host header and its connection's SNI name; neither is
 * believed to make a request *less* strict than its spelling allows: a Host that disagrees with the SNI,
 * that is spelt oddly, or that is not a host name at all gets the stricter (or strictest) options, and
 * a path that servers read in two ways gets the stricter of its two groups. A Host that names a
 * configured host picks that host's options (the site behind routes on the same Host); one that names
 * none gets the global options, which should therefore be those of the server's default site.
 */

/** How legacy clients are told before the switch-off date: a one-time page, or response headers only. */
export type NoticeKind = 'interstitial' | 'headers';
export const NOTICE_KINDS: readonly NoticeKind[] = ['interstitial', 'headers'];
const MODES: readonly FallbackMode[] = ['redirect', 'render', 'observe'];

/** What a host or a group may set; the rest is inherited (global ← host ← group). */
export interface SiteOptions {
  mode?: FallbackMode;
  /** `'YYYY-MM-DD'`, or `false` for no date here (the mode applies now) when a wider one has a date. */
  switchOff?: string | false;
  notice?: NoticeKind;
}

export interface GroupOptions extends SiteOptions {
  /** The group's name in the report and the metrics. */
  name: string;
}

/** `{ 'api.example.com': { mode: 'observe' }, '*.shop.example.com': { switchOff: '2027-06-01' } }` */
export type HostsOption = Readonly<Record<string, SiteOptions>>;
/** `{ '/api': 'API', '/shop': { name: 'Shop', switchOff: '2027-06-01' } }`: path prefixes, segment-wise. */
export type GroupsOption = Readonly<Record<string, string | GroupOptions>>;

export const MAX_CONFIGURED_HOSTS = 100;
export const MAX_CONFIGURED_GROUPS = 50;
export const MAX_GROUP_NAME_LENGTH = 48;
/** Host label for a request whose Host is not a host name at all. */
export const INVALID_HOST = '(invalid)';

/** The options that apply to one request, ready to use: nothing here is computed per request. */
export interface SitePolicy {
  readonly mode: FallbackMode;
  /** Midnight UTC of the switch-off day, in ms; `null`: no date, `mode` applies. */
  readonly switchOff: number | null;
  /** The same day as `YYYY-MM-DD`. */
  readonly switchOffDay: string | null;
  readonly notice: NoticeKind;
  /** `Deprecation` and `Sunset`, ready to send, when there is a date. */
  readonly headers: Readonly<Record<string, string>> | null;
}

/** What a request is counted under, and the options that apply to it. */
export interface SiteMatch {
  /** Normalised host (Host, else SNI), `''` when the request names none, `(invalid)` for junk. */
  readonly host: string;
  /** Group name, `''` outside every group. */
  readonly group: string;
  readonly policy: SitePolicy;
}

/** Whether the switch-off date of `policy` is still ahead at `now`. */
export function beforeSwitchOff(policy: SitePolicy, now: number): boolean {
  return policy.switchOff !== null && now < policy.switchOff;
}

/**
 * How strict a policy is at `now`: `observe` 0, the warning phase with headers only 1, with the
 * interstitial 2, a blocking mode (`redirect`, `render`) 3.
 */
export function strictness(policy: SitePolicy, now: number): number {
  if (beforeSwitchOff(policy, now)) return policy.notice === 'interstitial' ? 2 : 1;
  return policy.mode === 'observe' ? 0 : 3;
}

interface Settings {
  mode: FallbackMode | undefined;
  switchOff: number | null | undefined;
  notice: NoticeKind | undefined;
}

interface HostEntry {
  pattern: string;
  settings: Settings;
}

interface GroupEntry {
  prefix: NormalisedPath;
  name: string;
  settings: Settings;
}

/** How a Host (or SNI) text reads: its label, and the host entries whose options could apply. */
interface HostReading {
  label: string;
  /** Indices into the hosts (−1: the global options); the strictest of them applies. */
  candidates: readonly number[];
  /** The one host entry it names (−1: none), for comparing a Host with the SNI. */
  index: number;
}

const HOST_CACHE_SIZE = 1024;
const NONE: HostReading = Object.freeze({ label: '', candidates: Object.freeze([-1]), index: -1 });
const GLOBAL_ONLY: readonly number[] = Object.freeze([-1]);

/**
 * The hosts and groups of a configuration, compiled once. `match` is the per-request work: a cached
 * read of the Host header, a prefix scan of the groups, and a table lookup.
 */
export class SiteResolver {
  /** Whether any policy has a date: without one, no clock needs reading per request. */
  readonly hasDates: boolean;
  readonly plan: SitesPlan;
  private readonly hosts: readonly HostEntry[];
  private readonly groups: readonly GroupEntry[];
  /** Effective policies: `[host + 1][group + 1]`. */
  private readonly table: readonly (readonly SitePolicy[])[];
  private readonly hostCache = new Map<string, HostReading>();
  private readonly invalid: HostReading;

  constructor(global: { mode: FallbackMode; switchOff: number | null; notice: NoticeKind }, hosts: readonly HostEntry[], groups: readonly GroupEntry[]) {
    this.hosts = hosts;
    this.groups = groups;
    const base: Settings = { mode: global.mode, switchOff: global.switchOff, notice: global.notice };
    const rows = [undefined, ...hosts.map((h) => h.settings)];
    const columns = [undefined, ...groups.map((g) => g.settings)];
    this.table = rows.map((host) => columns.map((group) => policyOf(base, host, group)));
    this.hasDates = this.table.some((row) => row.some((policy) => policy.switchOff !== null));
    this.invalid = Object.freeze({ label: INVALID_HOST, candidates: Object.freeze([-1, ...hosts.map((_, i) => i)]), index: -1 });
    const planned = (policy: SitePolicy, name: string): PlannedSite => ({ name, mode: policy.mode, switchOff: policy.switchOffDay });
    const byName = new Map<string, PlannedSite & { prefixes: string[] }>();
    groups.forEach((group, i) => {
      const entry = byName.get(group.name) ?? { ...planned(this.table[0]![i + 1]!, group.name), prefixes: [] };
      entry.prefixes.push(group.prefix.path);
      byName.set(group.name, entry);
    });
    this.plan = {
      site: planned(this.table[0]![0]!, ''),
      hosts: hosts.map((host, i) => planned(this.table[i + 1]![0]!, host.pattern)),
      groups: [...byName.values()],
    };
  }

  /**
   * The labels and options of a request. `hostHeader` and `servername` come from the client; `target`
   * is the raw request target (`req.url`); `path` the normalised path (`null` when unreadable).
   */
  match(hostHeader: unknown, servername: string | null, target: string | undefined, path: NormalisedPath | null, now: number): SiteMatch {
    let host = this.readHost(hostHeader);
    const sni = servername === null ? undefined : this.readHost(servername);
    if (host === NONE && sni !== undefined) host = sni;
    // Another host in the request target, or an SNI naming another configured host: the stricter.
    let candidates = host.candidates;
    if (sni !== undefined && sni !== host && sni.index !== host.index) candidates = [...candidates, ...sni.candidates];
    const absolute = absoluteFormHost(target);
    if (absolute !== undefined) {
      const reading = absolute === null ? this.invalid : this.reading(absolute);
      if (reading.index !== host.index || reading === this.invalid) candidates = [...candidates, ...reading.candidates];
    }
    const groups = path === null || this.groups.length === 0 ? GLOBAL_ONLY : this.groupCandidates(path);
    const groupLabel = groups[0] === -1 || groups[0] === undefined ? '' : this.groups[groups[0]]!.name;
    return { host: host.label, group: groupLabel, policy: this.strictest(candidates, groups, now) };
  }

  private strictest(hosts: readonly number[], groups: readonly number[], now: number): SitePolicy {
    let best: SitePolicy | undefined;
    let bestRank = -1;
    for (const h of hosts) {
      for (const g of groups) {
        const policy = this.table[h + 1]![g + 1]!;
        if (hosts.length === 1 && groups.length === 1) return policy;
        const rank = strictness(policy, now);
        if (rank > bestRank) [best, bestRank] = [policy, rank];
      }
    }
    return best ?? this.table[0]![0]!;
  }

  private readHost(text: unknown): HostReading {
    if (text === undefined || text === '') return NONE;
    if (typeof text !== 'string') return this.invalid;
    const cached = this.hostCache.get(text);
    if (cached !== undefined) return cached;
    const parsed = parseHost(text);
    const reading = parsed === undefined ? NONE : parsed === null ? this.invalid : this.reading(parsed);
    // Junk hosts may each be new: the cache is cleared when full rather than grown.
    if (this.hostCache.size >= HOST_CACHE_SIZE) this.hostCache.clear();
    this.hostCache.set(text, reading);
    return reading;
  }

  private reading(parsed: ParsedHost): HostReading {
    const index = this.hostIndex(parsed.name);
    // A spelling some servers read as another host (a trailing dot): the stricter of that host and the rest.
    const candidates = index < 0 ? GLOBAL_ONLY : parsed.odd ? [index, -1] : [index];
    return Object.freeze({ label: parsed.name, candidates: Object.freeze(candidates), index });
  }

  /** The configured host for a name: an exact name first, then a wildcard; −1 for none. */
  private hostIndex(name: string): number {
    const exact = this.hosts.findIndex((h) => !h.pattern.startsWith('*.') && h.pattern === name.replace(/^\[|\]$/g, ''));
    if (exact >= 0) return exact;
    return this.hosts.findIndex((h) => h.pattern.startsWith('*.') && hostMatches(h.pattern, name));
  }

  /** The group of each reading of the path (the longest prefix; −1 for none); one entry when they agree. */
  private groupCandidates(path: NormalisedPath): readonly number[] {
    const strict = longestPrefix(this.groups, path.path, (g) => g.prefix.path);
    const lenient = path.lenient === path.path ? strict : longestPrefix(this.groups, path.lenient, (g) => g.prefix.lenient);
    if (strict === lenient) return strict < 0 ? GLOBAL_ONLY : [strict];
    return [strict, lenient];
  }
}

function longestPrefix(groups: readonly GroupEntry[], path: string, prefixOf: (g: GroupEntry) => string): number {
  let best = -1;
  let length = -1;
  for (let i = 0; i < groups.length; i++) {
    const prefix = prefixOf(groups[i]!);
    if (prefix.length > length && (path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f))) {
      best = i;
      length = prefix.length;
    }
  }
  return best;
}

function policyOf(base: Settings, host: Settings | undefined, group: Settings | undefined): SitePolicy {
  const pick = <K extends keyof Settings>(key: K): Settings[K] => (group?.[key] !== undefined ? group[key] : host?.[key] !== undefined ? host[key] : base[key]);
  const switchOff = pick('switchOff') ?? null;
  return Object.freeze({
    mode: pick('mode') ?? 'redirect',
    switchOff,
    switchOffDay: switchOff === null ? null : new Date(switchOff).toISOString().slice(0, 10),
    notice: pick('notice') ?? 'interstitial',
    headers: switchOff === null ? null : deprecationHeaders(switchOff),
  });
}

// ----------------------------------------------------------------------------------------------------
// Options

const SITE_KEYS = ['mode', 'switchOff', 'notice'] as const;
const HOST_PATTERN = /^(?=.{1,253}$)(?:\*\.)?[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function siteSettings(value: unknown, where: string, keys: readonly string[]): Settings {
  assertPlainObject(value, where);
  assertKnownKeys(value, keys, `${where}.`);
  const { mode, switchOff, notice } = value as SiteOptions;
  if (mode !== undefined && !MODES.includes(mode)) throw new InvalidOptionError(`${where}.mode`, mode, `expected one of ${MODES.map((m) => `'${m}'`).join(', ')}`);
  if (notice !== undefined && !NOTICE_KINDS.includes(notice)) throw new InvalidOptionError(`${where}.notice`, notice, `expected one of ${NOTICE_KINDS.map((m) => `'${m}'`).join(', ')}`);
  const day = switchOff === false || switchOff === undefined ? undefined : resolveSwitchOffDate(switchOff, `${where}.switchOff`);
  return { mode, switchOff: switchOff === false ? null : day?.getTime(), notice };
}

/** Validates the `hosts` option; returns a frozen copy. */
export function checkHosts(value: unknown, name = 'hosts'): HostsOption {
  compileHosts(value, name);
  return Object.freeze(structuredClone(value as HostsOption));
}

function compileHosts(value: unknown, name: string): HostEntry[] {
  assertPlainObject(value, name);
  const keys = Object.keys(value);
  if (keys.length > MAX_CONFIGURED_HOSTS) throw new InvalidOptionError(name, `${keys.length} hosts`, `expected at most ${MAX_CONFIGURED_HOSTS} hosts`);
  const seen = new Set<string>();
  return keys.map((key) => {
    if (!(HOST_PATTERN.test(key) || net.isIP(key) !== 0)) {
      throw new InvalidOptionError(`${name}['${key}']`, key, "expected a host name such as 'api.example.com' or '*.example.com' (no scheme, port or path)");
    }
    const pattern = normaliseHostPattern(key);
    if (seen.has(pattern)) throw new InvalidOptionError(`${name}['${key}']`, key, `it names the same host as another key ('${pattern}'); keep one`);
    seen.add(pattern);
    return { pattern, settings: siteSettings(value[key], `${name}['${key}']`, SITE_KEYS) };
  });
}

/** Validates the `groups` option; returns a frozen copy. */
export function checkGroups(value: unknown, name = 'groups'): GroupsOption {
  compileGroups(value, name);
  return Object.freeze(structuredClone(value as GroupsOption));
}

function compileGroups(value: unknown, name: string): GroupEntry[] {
  assertPlainObject(value, name);
  const keys = Object.keys(value);
  if (keys.length > MAX_CONFIGURED_GROUPS) throw new InvalidOptionError(name, `${keys.length} groups`, `expected at most ${MAX_CONFIGURED_GROUPS} groups`);
  const prefixes = new Map<string, string>();
  const byName = new Map<string, { key: string; settings: string }>();
  return keys.map((key) => {
    const where = `${name}['${key}']`;
    const prefix = hasControlCharacters(key) ? null : normalisePrefix(key);
    if (prefix === null || prefix.path === '/') {
      throw new InvalidOptionError(where, key, "expected a path prefix such as '/api' (segment-wise: it covers /api and /api/x, not /apix; not '/' itself)");
    }
    const other = prefixes.get(prefix.path);
    if (other !== undefined) throw new InvalidOptionError(where, key, `it is the same prefix as '${other}' once normalised ('${prefix.path}'); keep one`);
    prefixes.set(prefix.path, key);
    const raw = value[key];
    const options: GroupOptions = typeof raw === 'string' ? { name: raw } : (raw as GroupOptions);
    if (typeof raw !== 'string') assertPlainObject(raw, where);
    const groupName = options.name;
    if (typeof groupName !== 'string' || groupName.trim() === '' || groupName.length > MAX_GROUP_NAME_LENGTH || hasControlCharacters(groupName)) {
      throw new InvalidOptionError(typeof raw === 'string' ? where : `${where}.name`, groupName, `expected a name of 1 to ${MAX_GROUP_NAME_LENGTH} characters such as 'API' or 'Shop'`);
    }
    const settings = typeof raw === 'string' ? { mode: undefined, switchOff: undefined, notice: undefined } : siteSettings(raw, where, ['name', ...SITE_KEYS]);
    // One name is one group in the report: two prefixes may share it only with the same options.
    const signature = JSON.stringify(settings);
    const same = byName.get(groupName);
    if (same !== undefined && same.settings !== signature) {
      throw new InvalidOptionError(where, raw, `the group '${groupName}' is also given for '${same.key}' with other options; give both the same options, or other names`);
    }
    byName.set(groupName, { key, settings: signature });
    return { prefix, name: groupName, settings };
  });
}

/** Compiles validated options into the resolver the engine asks per request. */
export function compileSites(
  global: { mode: FallbackMode; switchOff: string | undefined; notice: NoticeKind },
  hosts: HostsOption | undefined,
  groups: GroupsOption | undefined,
): SiteResolver {
  const switchOff = global.switchOff === undefined ? null : resolveSwitchOffDate(global.switchOff)!.getTime();
  return new SiteResolver({ mode: global.mode, switchOff, notice: global.notice }, hosts === undefined ? [] : compileHosts(hosts, 'hosts'), groups === undefined ? [] : compileGroups(groups, 'groups'));
}

/** How a command-line value reads: JSON for an object. */
export function parseJsonOption(text: string, name: string, example: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidOptionError(name, text, `expected JSON such as ${example}`);
  }
}

/** `--groups '/api=API,/shop=Shop'` (or JSON). */
export function parseGroupsText(text: string, name: string): unknown {
  if (text.trim().startsWith('{')) return parseJsonOption(text, name, `{"/api": "API"}`);
  const groups: Record<string, string> = {};
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new InvalidOptionError(name, text, "expected PREFIX=NAME pairs separated by commas, such as '/api=API,/shop=Shop', or JSON");
    groups[item.slice(0, equals).trim()] = item.slice(equals + 1).trim();
  }
  return groups;
}
