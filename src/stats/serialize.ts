import { HyperLogLog } from './hyperloglog.js';
import { CLIENT_HELLO_OUTCOMES, PASS_THROUGH_OUTCOMES, FAILURE_REASONS, FALLBACK_ACTIONS, fromVersion1Key, LEGACY_REASONS, UPSTREAM_ERROR_STATUSES } from './labels.js';
import { CLIENT_SKETCH_PRECISION, emptyState, MAX_FINGERPRINTS_PER_HOUR, MAX_GROUPS, MAX_HOSTS, MAX_IMPORTS, SITE_SKETCH_PRECISION, type ClientCounts, type DayBucket, type HourBucket, type ImportRecord, type SiteCells, type SiteDay, type StatsState } from './model.js';

/**
 * On-disk format of the stats file. Bump `STATS_FILE_VERSION` on any incompatible change, and keep
 * reading the older versions: version 1 spelt the booleans of two kinds of keys `true`/`false`.
 */
export const STATS_FILE_FORMAT = 'legacy-tls-fallback-stats';
export const STATS_FILE_VERSION = 2;

type Counts = Record<string, number>;

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The largest stats file `TrafficStats` will read: 16 MiB, plus 1.25 MiB per day of retention (128.5 MiB
 * with the default 90 days). Real files are far smaller (a million distinct clients in an hour add
 * about 34 KiB; a site with a few hosts and groups adds a few KiB a day); even the worst the writer can
 * produce stays below, with every label set full of its longest labels (printable ASCII for clients,
 * at most 2 bytes a character in JSON; 253-character host names; 48-character group names of 3-byte
 * characters), every count at 2^53 and every sketch dense: about 1.1 MiB per day of retention, of which
 * the per-host and per-group counts are 0.6 MiB. A bigger file was not written with this retention,
 * and reading it would cost memory and seconds in proportion to its size.
 */
export function maxStatsFileBytes(retentionDays: number): number {
  return 16 * MiB + retentionDays * 1280 * KiB;
}

interface HourDocument {
  start: string;
  requests: Counts;
  actions: Counts;
  reasons: Counts;
  clients: Counts;
  os: Counts;
  handshakes: Counts;
  failures: Counts;
  /** Absent in files written before it was counted per hour, and when there were none. */
  upstreamErrors?: Counts;
  /** The ClientHello census; absent in files written before it, and when there was nothing. */
  offered?: Counts;
  failedFingerprints?: Counts;
  passThrough?: Counts;
  visitors: Record<string, string> | null;
  clientVisitors: Record<string, string> | null;
  /** The fallback page's own requests; absent in older files and when there were none. */
  pageViews?: Counts;
  /** Requests per host and per path group, four cells each; absent in older files. */
  hosts?: Record<string, number[]>;
  groups?: Record<string, number[]>;
}

interface SiteDayDocument {
  requests: number;
  browsers: string;
  legacyBrowsers: string;
}

interface DayDocument {
  start: string;
  visitors: Record<string, string>;
  clients: Record<string, { requests: number; visitors: string }>;
  hosts?: Record<string, SiteDayDocument>;
  groups?: Record<string, SiteDayDocument>;
}

export interface StatsDocument {
  format: typeof STATS_FILE_FORMAT;
  version: typeof STATS_FILE_VERSION;
  savedAt: string;
  /** Salt of the visitor hashes, so a restart does not count everyone again. */
  salt: string;
  totals: { requests: Counts; handshakes: Counts; failures: Counts; upstreamErrors?: Counts; offered?: Counts; hosts?: Record<string, number[]>; groups?: Record<string, number[]> };
  hours: HourDocument[];
  days: DayDocument[];
  /** Logs imported by `analyse --into`; absent when there were none (and in files written before). */
  imports?: ImportDocument[];
}

interface ImportDocument {
  id: string;
  input: string;
  records: number;
  last: string;
  at: string;
}

export function toDocument(state: StatsState, salt: Buffer, now: number): StatsDocument {
  return {
    format: STATS_FILE_FORMAT,
    version: STATS_FILE_VERSION,
    savedAt: new Date(now).toISOString(),
    salt: salt.toString('base64'),
    totals: {
      requests: Object.fromEntries(state.totals.requests),
      handshakes: Object.fromEntries(state.totals.handshakes),
      failures: Object.fromEntries(state.totals.failures),
      upstreamErrors: Object.fromEntries(state.totals.upstreamErrors),
      ...(state.totals.offered.size > 0 && { offered: Object.fromEntries(state.totals.offered) }),
      ...(state.totals.hosts.size > 0 && { hosts: Object.fromEntries(state.totals.hosts) }),
      ...(state.totals.groups.size > 0 && { groups: Object.fromEntries(state.totals.groups) }),
    },
    hours: [...state.hours].sort(([a], [b]) => a - b).map(([start, h]) => ({
      start: new Date(start).toISOString(),
      requests: Object.fromEntries(h.requests),
      actions: Object.fromEntries(h.actions),
      reasons: Object.fromEntries(h.reasons),
      clients: Object.fromEntries(h.clients),
      os: Object.fromEntries(h.os),
      handshakes: Object.fromEntries(h.handshakes),
      failures: Object.fromEntries(h.failures),
      ...(h.upstreamErrors.size > 0 && { upstreamErrors: Object.fromEntries(h.upstreamErrors) }),
      ...(h.offered.size > 0 && { offered: Object.fromEntries(h.offered) }),
      ...(h.failedFingerprints.size > 0 && { failedFingerprints: Object.fromEntries(h.failedFingerprints) }),
      ...(h.passThrough.size > 0 && { passThrough: Object.fromEntries(h.passThrough) }),
      visitors: h.visitors && sketchesToObject(h.visitors),
      clientVisitors: h.clientVisitors && sketchesToObject(h.clientVisitors),
      ...(h.pageViews.size > 0 && { pageViews: Object.fromEntries(h.pageViews) }),
      ...(h.hosts.size > 0 && { hosts: Object.fromEntries(h.hosts) }),
      ...(h.groups.size > 0 && { groups: Object.fromEntries(h.groups) }),
    })),
    days: [...state.days].sort(([a], [b]) => a - b).map(([start, d]) => ({
      start: new Date(start).toISOString(),
      visitors: sketchesToObject(d.visitors),
      clients: Object.fromEntries([...d.clients].map(([k, c]) => [k, { requests: c.requests, visitors: c.visitors.toString() }])),
      ...(d.hosts.size > 0 && { hosts: siteDaysToObject(d.hosts) }),
      ...(d.groups.size > 0 && { groups: siteDaysToObject(d.groups) }),
    })),
    ...(state.imports && state.imports.size > 0 && { imports: [...state.imports.values()].sort((a, b) => a.at - b.at).map(importToDocument) }),
  };
}

function importToDocument(entry: ImportRecord): ImportDocument {
  return { id: entry.id, input: entry.input, records: entry.records, last: new Date(entry.last).toISOString(), at: new Date(entry.at).toISOString() };
}

function siteDaysToObject(map: Map<string, SiteDay>): Record<string, SiteDayDocument> {
  return Object.fromEntries([...map].map(([key, d]) => [key, { requests: d.requests, browsers: d.browsers.toString(), legacyBrowsers: d.legacyBrowsers.toString() }]));
}

function sketchesToObject(map: Map<string, HyperLogLog>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, hll] of map) if (!hll.isEmpty()) out[key] = hll.toString();
  return out;
}

/** A file that fails any check here is treated as corrupt: moved aside, never half-loaded. */
export class InvalidStatsDocument extends Error {}

export function fromDocument(value: unknown): { state: StatsState; salt: Buffer } {
  const doc = object(value, 'document');
  if (doc.format !== STATS_FILE_FORMAT) fail(`format is ${JSON.stringify(doc.format)}, expected ${STATS_FILE_FORMAT}`);
  if (doc.version !== STATS_FILE_VERSION && doc.version !== 1) fail(`version ${JSON.stringify(doc.version)} is not supported (expected 1 or ${STATS_FILE_VERSION})`);
  const rekey = doc.version === 1 ? fromVersion1Key : (key: string) => key;
  const salt = Buffer.from(string(doc.salt, 'salt'), 'base64');
  if (salt.length < 16) fail('salt is too short');
  const state = emptyState();
  const totals = object(doc.totals, 'totals');
  state.totals.requests = counts(totals.requests, 'totals.requests', undefined, rekey);
  state.totals.handshakes = counts(totals.handshakes, 'totals.handshakes', undefined, rekey);
  state.totals.failures = counts(totals.failures, 'totals.failures', FAILURE_REASONS);
  if (totals.upstreamErrors !== undefined) state.totals.upstreamErrors = counts(totals.upstreamErrors, 'totals.upstreamErrors', UPSTREAM_ERROR_STATUSES);
  if (totals.offered !== undefined) state.totals.offered = counts(totals.offered, 'totals.offered', CLIENT_HELLO_OUTCOMES);
  if (totals.hosts !== undefined) state.totals.hosts = siteCells(totals.hosts, 'totals.hosts', MAX_HOSTS);
  if (totals.groups !== undefined) state.totals.groups = siteCells(totals.groups, 'totals.groups', MAX_GROUPS);
  for (const [i, raw] of array(doc.hours, 'hours').entries()) {
    const h = object(raw, `hours[${i}]`);
    const bucket: HourBucket = {
      requests: counts(h.requests, 'requests'),
      actions: counts(h.actions, 'actions', FALLBACK_ACTIONS),
      reasons: counts(h.reasons, 'reasons', LEGACY_REASONS),
      clients: counts(h.clients, 'clients'),
      os: counts(h.os, 'os'),
      handshakes: counts(h.handshakes, 'handshakes', undefined, rekey),
      failures: counts(h.failures, 'failures', FAILURE_REASONS),
      upstreamErrors: h.upstreamErrors === undefined ? new Map() : counts(h.upstreamErrors, 'upstreamErrors', UPSTREAM_ERROR_STATUSES),
      offered: h.offered === undefined ? new Map() : counts(h.offered, 'offered', CLIENT_HELLO_OUTCOMES),
      failedFingerprints: h.failedFingerprints === undefined ? new Map() : bounded(counts(h.failedFingerprints, 'failedFingerprints'), MAX_FINGERPRINTS_PER_HOUR, 'failedFingerprints'),
      passThrough: h.passThrough === undefined ? new Map() : counts(h.passThrough, 'passThrough', PASS_THROUGH_OUTCOMES),
      visitors: h.visitors === null ? null : sketches(h.visitors, 'visitors'),
      clientVisitors: h.clientVisitors === null ? null : sketches(h.clientVisitors, 'clientVisitors', CLIENT_SKETCH_PRECISION),
      pageViews: h.pageViews === undefined ? new Map() : counts(h.pageViews, 'pageViews'),
      hosts: h.hosts === undefined ? new Map() : siteCells(h.hosts, 'hosts', MAX_HOSTS),
      groups: h.groups === undefined ? new Map() : siteCells(h.groups, 'groups', MAX_GROUPS),
    };
    state.hours.set(time(h.start, `hours[${i}].start`), bucket);
  }
  for (const [i, raw] of array(doc.days, 'days').entries()) {
    const d = object(raw, `days[${i}]`);
    const clients = new Map<string, ClientCounts>();
    for (const [key, c] of Object.entries(object(d.clients, 'clients'))) {
      const entry = object(c, `clients.${key}`);
      clients.set(key, { requests: count(entry.requests, key), visitors: HyperLogLog.fromString(string(entry.visitors, key), CLIENT_SKETCH_PRECISION) });
    }
    const bucket: DayBucket = {
      visitors: sketches(d.visitors, 'visitors'),
      clients,
      hosts: d.hosts === undefined ? new Map() : siteDays(d.hosts, 'hosts', MAX_HOSTS),
      groups: d.groups === undefined ? new Map() : siteDays(d.groups, 'groups', MAX_GROUPS),
    };
    state.days.set(time(d.start, `days[${i}].start`), bucket);
  }
  if (doc.imports !== undefined) {
    const list = array(doc.imports, 'imports');
    if (list.length > MAX_IMPORTS) fail(`imports has ${list.length} entries, more than ${MAX_IMPORTS}`);
    state.imports = new Map();
    for (const [i, raw] of list.entries()) {
      const entry = object(raw, `imports[${i}]`);
      const id = string(entry.id, `imports[${i}].id`);
      const input = string(entry.input, `imports[${i}].input`);
      if (id.length > 64 || input.length > 512) fail(`imports[${i}] is too long`);
      state.imports.set(id, { id, input, records: count(entry.records, `imports[${i}].records`), last: time(entry.last, `imports[${i}].last`), at: time(entry.at, `imports[${i}].at`) });
    }
  }
  return { state, salt };
}

function fail(message: string): never {
  throw new InvalidStatsDocument(`stats file: ${message}`);
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${where} is not an object`);
  return value as Record<string, unknown>;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) fail(`${where} is not an array`);
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(`${where} is not a string`);
  return value;
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${where} is not a count`);
  return value;
}

function time(value: unknown, where: string): number {
  const ms = Date.parse(string(value, where));
  if (!Number.isFinite(ms)) fail(`${where} is not a date`);
  return ms;
}

function counts<K extends string>(value: unknown, where: string, allowed?: readonly K[], rekey: (key: string) => string = (key) => key): Map<K, number> {
  const map = new Map<K, number>();
  for (const [key, n] of Object.entries(object(value, where))) {
    if (key.length > 200 || (allowed && !allowed.includes(key as K))) fail(`${where} has an unexpected key`);
    map.set(rekey(key) as K, count(n, `${where}.${key}`));
  }
  return map;
}

// A file holds what the writer bounded: more keys than its cap (plus `other`) was not written by it.
function bounded<V>(map: Map<string, V>, cap: number, where: string): Map<string, V> {
  if (map.size > cap + 1) fail(`${where} has more than ${cap} keys`);
  return map;
}

/** Site maps hold at most `cap` names and `other`: more was never written by this package. */
function siteCells(value: unknown, where: string, cap: number): Map<string, SiteCells> {
  const map = new Map<string, SiteCells>();
  for (const [key, cells] of Object.entries(object(value, where))) {
    if (key.length > 300 || !Array.isArray(cells) || cells.length !== 4) fail(`${where} has an unexpected entry`);
    map.set(key, cells.map((n, i) => count(n, `${where}.${key}[${i}]`)));
  }
  if (map.size > cap + 1) fail(`${where} has more than ${cap} names`);
  return map;
}

function siteDays(value: unknown, where: string, cap: number): Map<string, SiteDay> {
  const map = new Map<string, SiteDay>();
  for (const [key, raw] of Object.entries(object(value, where))) {
    const entry = object(raw, `${where}.${key}`);
    if (key.length > 300) fail(`${where} has an unexpected entry`);
    try {
      map.set(key, {
        requests: count(entry.requests, `${where}.${key}.requests`),
        browsers: HyperLogLog.fromString(string(entry.browsers, key), SITE_SKETCH_PRECISION),
        legacyBrowsers: HyperLogLog.fromString(string(entry.legacyBrowsers, key), SITE_SKETCH_PRECISION),
      });
    } catch (error) {
      if (error instanceof InvalidStatsDocument) throw error;
      fail(`${where}.${key}: ${(error as Error).message}`);
    }
  }
  if (map.size > cap + 1) fail(`${where} has more than ${cap} names`);
  return map;
}

function sketches(value: unknown, where: string, precision?: number): Map<string, HyperLogLog> {
  const map = new Map<string, HyperLogLog>();
  for (const [key, text] of Object.entries(object(value, where))) {
    try {
      map.set(key, HyperLogLog.fromString(string(text, `${where}.${key}`), precision));
    } catch (error) {
      fail(`${where}.${key}: ${(error as Error).message}`);
    }
  }
  return map;
}
