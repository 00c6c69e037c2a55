import { HyperLogLog } from '../stats/hyperloglog.js';
import { OTHER, SITE_CELLS } from '../stats/labels.js';
import { DAY_MS, HOUR_MS, MAX_HOSTS, SITE_SKETCH_PRECISION, dayStart, emptyCells, hourStart, type DayBucket, type HourBucket, type SiteCells, type SiteDay, type StatsState } from '../stats/model.js';
import type { PlannedSite, SitesPlan } from '../stats/types.js';
import type { FallbackMode } from '../types.js';

/**
 * The report per site (host) and per section (path group), and each one's readiness for its switch-off:
 * a pure function of the stats, the time and the middleware's plan. Request counts are exact; visitor
 * figures are sketches (about 6.5 % standard error, exact for small counts).
 */

export type SiteScope = 'site' | 'host' | 'group';
type Window = '24h' | '7d' | '30d';
const WINDOW_NAMES: readonly Window[] = ['24h', '7d', '30d'];
const WINDOW_HOURS: Record<Window, number> = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24 };

export interface ReadinessSettings {
  /** Legacy share among browser visitors below which a day counts as ready (0.001 is 0.1 %). */
  threshold: number;
  /** Days in a row. */
  days: number;
}

export interface SiteSeriesPoint {
  start: string;
  requests: number;
  legacy: number;
  browsers: number;
  legacyBrowsers: number;
}

export interface SiteWindow {
  requests: number;
  legacy: number;
  legacyShare: number;
  /** Requests from browsers (bots, libraries and unknown clients left out). */
  browsers: number;
  legacyBrowsers: number;
  /** Legacy share among browser requests; `null` when there were none (no data, not 0 %). */
  legacyShareBrowsers: number | null;
  /** Hourly points for 24h, daily points for 7d and 30d, oldest first. */
  series: SiteSeriesPoint[];
}

export interface ReadinessDay {
  day: string;
  browserVisitors: number;
  legacyBrowserVisitors: number;
  /** `null`: no browser visitor that day, which neither breaks nor makes a run. */
  share: number | null;
}

export interface Readiness {
  threshold: number;
  days: number;
  /** Every day with browser visitors, since `since`, was below the threshold, for at least `days` days. */
  ready: boolean;
  /** First day of the current run below the threshold (the first day with data after the last day above it). */
  since: string | null;
  /** Days in that run so far, today included (`0` without one). */
  daysBelow: number;
  /** The highest daily share of the last `days` days that had browser visitors, `null` when none had. */
  highestShare: number | null;
  /** The last `days` days, oldest first. */
  daily: ReadinessDay[];
}

export interface SiteSwitchOff {
  /** `YYYY-MM-DD`, from midnight UTC. */
  date: string;
  /** Whole days until then (0 from that day on). */
  daysLeft: number;
  phase: 'before' | 'after';
}

export interface SiteRow {
  scope: SiteScope;
  /** Host name or group name; `''`: the whole site, requests without a host, or outside every group; `other`: the rest. */
  name: string;
  /** Named in the configuration (`hosts`, `groups`), so its own options apply. */
  configured: boolean;
  /** The mode that applies (from the date on, when there is one); `null` when no middleware told the stats. */
  mode: FallbackMode | null;
  switchOff: SiteSwitchOff | null;
  windows: Record<Window, SiteWindow>;
  readiness: Readiness;
}

export interface SitesReport {
  readiness: ReadinessSettings;
  /** The whole site. */
  site: SiteRow;
  /** The busiest hosts of the last 30 days (at most MAX_HOSTS), every configured one, and `other`. */
  hosts: SiteRow[];
  /** Every group (configured or seen), and `''` for the requests outside all of them. */
  groups: SiteRow[];
}

export function buildSites(state: StatsState, now: number, plan: SitesPlan | undefined, readiness: ReadinessSettings): SitesReport {
  const hosts = rowsOf(state, now, plan, readiness, 'host');
  const groups = rowsOf(state, now, plan, readiness, 'group');
  const site = row(state, now, 'site', '', plan?.site, plan !== undefined, readiness, () => true);
  return { readiness: { threshold: readiness.threshold, days: readiness.days }, site, hosts, groups };
}

function rowsOf(state: StatsState, now: number, plan: SitesPlan | undefined, readiness: ReadinessSettings, scope: 'host' | 'group'): SiteRow[] {
  const mapOf = (bucket: HourBucket) => (scope === 'host' ? bucket.hosts : bucket.groups);
  const windowStart = hourStart(now) - (WINDOW_HOURS['30d'] - 1) * HOUR_MS;
  const weights = new Map<string, number>();
  for (const [start, bucket] of state.hours) {
    if (start < windowStart || start > hourStart(now)) continue;
    for (const [name, cells] of mapOf(bucket)) weights.set(name, (weights.get(name) ?? 0) + sum(cells));
  }
  const configured = scope === 'host' ? (plan?.hosts ?? []) : (plan?.groups ?? []);
  const configuredNames = new Set(configured.map((site) => site.name));
  // Wildcard hosts are patterns, not names: their hosts are shown as they come.
  const named = configured.filter((site) => !site.name.startsWith('*.')).map((site) => site.name);
  // Hosts in the hourly buckets are bounded per hour, not over 30 days: the busiest are kept, the rest folded.
  const ranked = [...weights].filter(([name]) => name !== OTHER && !configuredNames.has(name)).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const limit = scope === 'host' ? MAX_HOSTS : Infinity;
  const shown = new Set([...named, ...ranked.slice(0, limit).map(([name]) => name)]);
  const folded = ranked.length > limit || weights.has(OTHER);
  const rows = [...shown].map((name) => {
    const planned = scope === 'host' ? hostPlan(plan, name) : groupPlan(plan, name);
    return row(state, now, scope, name, planned?.site, planned?.configured ?? false, readiness, (candidate) => candidate === name);
  });
  if (folded) rows.push(row(state, now, scope, OTHER, plan?.site, false, readiness, (candidate) => candidate === OTHER || !shown.has(candidate)));
  // Busiest first; configured sites without traffic keep their place at the end.
  return rows.sort((a, b) => b.windows['30d'].requests - a.windows['30d'].requests || Number(a.name === OTHER) - Number(b.name === OTHER) || a.name.localeCompare(b.name));
}

function hostPlan(plan: SitesPlan | undefined, name: string): { site: PlannedSite; configured: boolean } | undefined {
  if (plan === undefined) return undefined;
  const exact = plan.hosts.find((host) => host.name === name);
  if (exact) return { site: exact, configured: true };
  const dot = name.indexOf('.');
  const wildcard = dot > 0 ? plan.hosts.find((host) => host.name === `*${name.slice(dot)}`) : undefined;
  return wildcard ? { site: wildcard, configured: true } : { site: plan.site, configured: false };
}

function groupPlan(plan: SitesPlan | undefined, name: string): { site: PlannedSite; configured: boolean } | undefined {
  if (plan === undefined) return undefined;
  const group = plan.groups.find((g) => g.name === name);
  return group ? { site: group, configured: true } : { site: plan.site, configured: false };
}

/** One row: the cells of the names `includes` accepts, in the hour buckets and the day buckets. */
function row(state: StatsState, now: number, scope: SiteScope, name: string, planned: PlannedSite | undefined, configured: boolean, settings: ReadinessSettings, includes: (name: string) => boolean): SiteRow {
  const pick = scope === 'group' ? (bucket: HourBucket) => bucket.groups : (bucket: HourBucket) => bucket.hosts;
  const pickDay = scope === 'group' ? (bucket: DayBucket) => bucket.groups : (bucket: DayBucket) => bucket.hosts;
  const cellsAt = (bucket: HourBucket): SiteCells => {
    const total = emptyCells();
    for (const [candidate, cells] of pick(bucket)) if (includes(candidate)) for (let i = 0; i < 4; i++) total[i]! += cells[i] ?? 0;
    return total;
  };
  // Each hour of the widest window once; the narrower windows are parts of it.
  const lastHour = hourStart(now);
  const byHour = new Map<number, SiteCells>();
  for (const [start, bucket] of state.hours) if (start > lastHour - WINDOW_HOURS['30d'] * HOUR_MS && start <= lastHour) byHour.set(start, cellsAt(bucket));
  const windows = Object.fromEntries(WINDOW_NAMES.map((window) => [window, siteWindow(byHour, now, window)])) as Record<Window, SiteWindow>;
  const dayAt = (bucket: DayBucket): SiteDay | undefined => {
    let united: SiteDay | undefined;
    for (const [candidate, entry] of pickDay(bucket)) {
      if (!includes(candidate)) continue;
      united ??= { requests: 0, browsers: new HyperLogLog(SITE_SKETCH_PRECISION), legacyBrowsers: new HyperLogLog(SITE_SKETCH_PRECISION) };
      united.requests += entry.requests;
      united.browsers.merge(entry.browsers);
      united.legacyBrowsers.merge(entry.legacyBrowsers);
    }
    return united;
  };
  return {
    scope,
    name,
    configured,
    mode: planned?.mode ?? null,
    switchOff: switchOffOf(planned?.switchOff ?? null, now),
    windows,
    readiness: readinessOf(state, now, settings, dayAt),
  };
}

function siteWindow(hours: ReadonlyMap<number, SiteCells>, now: number, window: Window): SiteWindow {
  const lastHour = hourStart(now);
  const firstHour = lastHour - (WINDOW_HOURS[window] - 1) * HOUR_MS;
  const byHour = new Map<number, SiteCells>();
  const total = emptyCells();
  for (const [start, cells] of hours) {
    if (start < firstHour || start > lastHour) continue;
    byHour.set(start, cells);
    for (let i = 0; i < 4; i++) total[i]! += cells[i]!;
  }
  const point = (from: number, to: number): SiteSeriesPoint => {
    const cells = emptyCells();
    for (const [start, hour] of byHour) if (start >= from && start < to) for (let i = 0; i < 4; i++) cells[i]! += hour[i]!;
    return { start: new Date(from).toISOString(), ...figures(cells) };
  };
  const series: SiteSeriesPoint[] = [];
  if (window === '24h') for (let start = firstHour; start <= lastHour; start += HOUR_MS) series.push(point(start, start + HOUR_MS));
  else {
    const today = dayStart(now);
    for (let start = today - (WINDOW_HOURS[window] / 24 - 1) * DAY_MS; start <= today; start += DAY_MS) series.push(point(start, start + DAY_MS));
  }
  const f = figures(total);
  return { ...f, legacyShare: ratio(f.legacy, f.requests), legacyShareBrowsers: f.browsers === 0 ? null : ratio(f.legacyBrowsers, f.browsers), series };
}

function figures(cells: SiteCells): Omit<SiteSeriesPoint, 'start'> {
  let requests = 0;
  let legacy = 0;
  let browsers = 0;
  let legacyBrowsers = 0;
  SITE_CELLS.forEach((cell, i) => {
    const n = cells[i] ?? 0;
    requests += n;
    if (cell.legacy) legacy += n;
    if (cell.browser) browsers += n;
    if (cell.legacy && cell.browser) legacyBrowsers += n;
  });
  return { requests, legacy, browsers, legacyBrowsers };
}

/**
 * Walks back from today over the days with browser visitors: the run below the threshold ends at the
 * first day at or above it. Days without browser visitors neither break the run nor count as evidence
 * of it: `since` is the first day *with data* of the run, and the run is counted in calendar days from it.
 */
export function readinessOf(state: StatsState, now: number, settings: ReadinessSettings, dayAt: (bucket: DayBucket) => SiteDay | undefined): Readiness {
  const today = dayStart(now);
  const oldest = Math.min(today, ...state.days.keys());
  const shareOn = (day: number): ReadinessDay => {
    const bucket = state.days.get(day);
    const entry = bucket === undefined ? undefined : dayAt(bucket);
    const browserVisitors = entry?.browsers.count() ?? 0;
    const legacyBrowserVisitors = Math.min(browserVisitors, entry?.legacyBrowsers.count() ?? 0);
    return { day: new Date(day).toISOString().slice(0, 10), browserVisitors, legacyBrowserVisitors, share: browserVisitors === 0 ? null : ratio(legacyBrowserVisitors, browserVisitors) };
  };
  let since: number | null = null;
  for (let day = today; day >= oldest; day -= DAY_MS) {
    const { browserVisitors, legacyBrowserVisitors } = shareOn(day);
    if (browserVisitors === 0) continue;
    // Compared unrounded: 0.00096 is below 0.001 even though it shows as 0.10 %.
    if (legacyBrowserVisitors / browserVisitors >= settings.threshold) break;
    since = day;
  }
  const daily: ReadinessDay[] = [];
  for (let day = today - (settings.days - 1) * DAY_MS; day <= today; day += DAY_MS) daily.push(shareOn(day));
  const shares = daily.map((d) => d.share).filter((share): share is number => share !== null);
  const daysBelow = since === null ? 0 : (today - since) / DAY_MS + 1;
  return {
    threshold: settings.threshold,
    days: settings.days,
    ready: daysBelow >= settings.days,
    since: since === null ? null : new Date(since).toISOString().slice(0, 10),
    daysBelow,
    highestShare: shares.length === 0 ? null : Math.max(...shares),
    daily,
  };
}

function switchOffOf(day: string | null, now: number): SiteSwitchOff | null {
  if (day === null) return null;
  const at = Date.parse(`${day}T00:00:00Z`);
  return { date: day, daysLeft: Math.max(0, Math.ceil((at - now) / DAY_MS)), phase: now < at ? 'before' : 'after' };
}

function sum(cells: SiteCells): number {
  return (cells[0] ?? 0) + (cells[1] ?? 0) + (cells[2] ?? 0) + (cells[3] ?? 0);
}

/** Share in [0, 1], rounded to 4 decimals so that JSON and dashboard show the same figure. */
function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}
