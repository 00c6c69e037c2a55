import { HyperLogLog } from '../stats/hyperloglog.js';
import {
  CLIENT_KINDS,
  FAILURE_REASONS,
  FALLBACK_ACTIONS,
  OTHER,
  PROTOCOL_LABELS,
  SITE_CELLS,
  UPSTREAM_ERROR_STATUSES,
  parseClientLabel,
  parseFingerprintKey,
  PASS_THROUGH_OUTCOMES,
  type PassThroughOutcome,
  parseHandshakeKey,
  parseRequestKey,
  parseTotalsKey,
  parseVisitorKey,
  type ProtocolLabel,
  type TotalsKey,
  type UpstreamErrorStatus,
  type VisitorClass,
} from '../stats/labels.js';
import { CLIENT_SKETCH_PRECISION, DAY_MS, HOUR_MS, dayStart, hourStart, type DayBucket, type HourBucket, type StatsState } from '../stats/model.js';
import type { SitesPlan, StorageStatus } from '../stats/types.js';
import { knownClient } from '../tls/known-clients.js';
import { DEFAULT_READINESS } from './options.js';
import { buildSites, type ReadinessSettings, type SitesReport } from './sites.js';
import { CLIENT_HELLO_OUTCOMES, type ClientHelloOutcome, type ClientKind, type FallbackAction, type HandshakeFailureReason, type OfferedVersion, type TlsProtocol } from '../types.js';

/** Identifies the report document; bump `REPORT_VERSION` on any incompatible change (README documents it). */
export const REPORT_SCHEMA = 'legacy-tls-fallback/report';
export const REPORT_VERSION = 1;

export type WindowName = '24h' | '7d' | '30d';
export const WINDOWS: readonly WindowName[] = ['24h', '7d', '30d'];

export interface LegacyClientRow {
  browser: string;
  version: string;
  os: string;
  requests: number;
  visitors: number;
}

export interface WhatIfRow {
  /** The minimum TLS version considered. */
  minimum: 'TLSv1.2' | 'TLSv1.3';
  /** Requests that would reach the fallback page: below the minimum, or legacy by user agent. */
  requests: number;
  requestShare: number;
  /** Browser (human) visitors who would reach the fallback page, estimated. */
  browserVisitors: number;
  browserVisitorShare: number;
  /** Clients whose handshake already fails (too old a protocol, or no shared cipher). */
  cannotConnect: number;
  /**
   * Connections (not requests) whose ClientHello offers nothing at or above the minimum: every client
   * the minimum turns away, also those that never make a request. From the ClientHello census.
   */
  connections: number;
  /** Share of the connections whose ClientHello was read. */
  connectionShare: number;
}

/** Failed handshakes of one fingerprint: "IE 8 XP: 41 connections, 30 in the last 24 hours". */
export interface NamedFailureRow {
  offered: OfferedVersion;
  ja4: string;
  /** The clients that send this fingerprint (testssl.sh's recorded ones, see KNOWN_CLIENTS_SOURCE); `null` when unknown. */
  name: string | null;
  /** Failed handshakes in the window. */
  connections: number;
  /** Of those, in the last 24 hours. */
  last24h: number;
}

export interface SeriesPoint {
  start: string;
  requests: number;
  legacy: number;
  byProtocol: Record<ProtocolLabel, number>;
}

export interface WindowReport {
  from: string;
  to: string;
  requests: {
    total: number;
    legacy: number;
    byProtocol: Record<ProtocolLabel, number>;
    byKind: Record<ClientKind, number>;
    byAction: Record<FallbackAction, number>;
    /** `intercepted-or-spoofed` requests are legacy by `tls-version` too: the reasons overlap. */
    byReason: { 'tls-version': number; 'user-agent': number; 'intercepted-or-spoofed': number };
  };
  /** Approximate distinct visitors (salted hash of address + user agent), ±2.3 % standard error. */
  visitors: { total: number; browsers: number; legacy: number; byProtocol: Record<ProtocolLabel, number> };
  /** Legacy requests / all requests; 0 when there are none. */
  legacyShare: number;
  /** The same among browsers only: bots, libraries and unknown clients left out. */
  legacyShareBrowsers: number;
  topLegacyClients: LegacyClientRow[];
  handshakes: { total: number; resumed: number; byProtocol: Record<ProtocolLabel, number> };
  handshakeFailures: { total: number; byReason: Record<HandshakeFailureReason, number> };
  /**
   * The ClientHello census, per connection (the figures above are per request): each connection by the
   * highest version its hello offered, or `not-tls`, `unreadable`, `no-hello` when there was no hello.
   */
  offered: { connections: number; byVersion: Record<ClientHelloOutcome, number> };
  /** Failed handshakes by offered version and JA4, named where the fingerprint is known; heaviest first. */
  namedFailures: NamedFailureRow[];
  /**
   * The built-in pass-through's connections: `relayed` ones went to the existing server, so they are in
   * `offered` (per connection) but in none of the request, visitor or handshake figures, which count
   * what was terminated here. All 0 without the pass-through.
   */
  passThrough: Record<PassThroughOutcome, number>;
  /**
   * Requests the standalone proxy answered itself because the upstream failed: 502 (unreachable, or a
   * broken answer) and 504 (no answer in time). Always 0 with the middleware, which has no upstream.
   */
  upstreamErrors: { total: number; byStatus: Record<UpstreamErrorStatus, number> };
  whatIf: WhatIfRow[];
  /** Hourly points for 24h, daily points for 7d and 30d, oldest first. */
  series: SeriesPoint[];
  /**
   * The fallback page's own requests (the page, its assets, its continue link), apart from `requests`:
   * one `curl -L` from a legacy client is one request sent to the page and one view of it, not two lost.
   */
  pageViews: { total: number; legacy: number };
}

/** All-time counts since the stats began (never pruned): what the Prometheus counters show. */
export interface Totals {
  requests: (TotalsKey & { count: number })[];
  handshakes: { protocol: ProtocolLabel; resumed: boolean; count: number }[];
  handshakeFailures: Record<HandshakeFailureReason, number>;
  upstreamErrors: Record<UpstreamErrorStatus, number>;
  /** Connections by what their ClientHello offered (the census). */
  offered: Record<ClientHelloOutcome, number>;
  /** Per host (the first 20 seen, then `other`) and per path group (`''`: outside every group). */
  sites: { scope: 'host' | 'group'; name: string; legacy: boolean; browser: boolean; count: number }[];
}

export interface ReportDocument {
  schema: typeof REPORT_SCHEMA;
  version: typeof REPORT_VERSION;
  generatedAt: string;
  storage: StorageStatus;
  windows: Record<WindowName, WindowReport>;
  totals: Totals;
  /**
   * The whole time the numbers cover, from the hour of the first to the hour of the last: present in a
   * report built from logs (`analyse`), where the log's span is the question; daily series.
   */
  span?: WindowReport;
  /** Per host and per path group, with each one's switch-off date and readiness (report/sites.ts). */
  sites: SitesReport;
}

/** What the report knows besides the stats. */
export interface ReportOptions {
  /** Adds `span`, from the hour of `from` to the hour of `to` (ms since the epoch). */
  span?: { from: number; to: number };
  /** The middleware's switch-off plan per host and group. */
  plan?: SitesPlan | undefined;
  readiness?: ReadinessSettings;
}

/** The same, by the name the switch-off code knows it. */
export type ReportContext = ReportOptions;


export const TOP_CLIENTS = 10;
export const TOP_FINGERPRINTS = 10;

const WINDOW_HOURS: Record<WindowName, number> = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24 };
const WINDOW_DAYS: Record<WindowName, number> = { '24h': 1, '7d': 7, '30d': 30 };
/** Points of a daily series at most: a longer span gets points of several days each. */
const MAX_SERIES_POINTS = 400;

/** What a window covers: the hours it sums, and the sketches it unites (hourly ones, or daily ones). */
interface Range {
  firstHour: number;
  lastHour: number;
  firstDay: number;
  lastDay: number;
  hourly: boolean;
}

function rangeOf(now: number, name: WindowName): Range {
  const lastHour = hourStart(now);
  return { firstHour: lastHour - (WINDOW_HOURS[name] - 1) * HOUR_MS, lastHour, firstDay: dayStart(now) - (WINDOW_DAYS[name] - 1) * DAY_MS, lastDay: dayStart(now), hourly: name === '24h' };
}

// Protocols that a minimum of TLS 1.2 / 1.3 would send to the fallback page.
const BELOW: Record<WhatIfRow['minimum'], readonly TlsProtocol[]> = {
  'TLSv1.2': ['TLSv1', 'TLSv1.1'],
  'TLSv1.3': ['TLSv1', 'TLSv1.1', 'TLSv1.2'],
};

// Offered versions that a minimum of TLS 1.2 / 1.3 turns away (SSL ones cannot connect today either).
const OFFERED_BELOW: Record<WhatIfRow['minimum'], readonly ClientHelloOutcome[]> = {
  'TLSv1.2': ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1'],
  'TLSv1.3': ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2'],
};
const HELLO_READ: readonly ClientHelloOutcome[] = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * The report, from the stats alone: a pure function of (state, now). Request counts are exact sums of
 * the hours inside the window; the 24 h visitor figures unite hourly sketches, the 7 d and 30 d ones
 * unite the sketches of the last 7 / 30 UTC days (today included).
 */
export function buildReport(state: StatsState, now: number, storage: StorageStatus, options: ReportOptions = {}): ReportDocument {
  const lastDay = fingerprintCounts(state, hourStart(now) - 23 * HOUR_MS, hourStart(now));
  const windows = Object.fromEntries(WINDOWS.map((name) => [name, buildWindow(state, rangeOf(now, name), lastDay)])) as Record<WindowName, WindowReport>;
  const report: ReportDocument = {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    generatedAt: new Date(now).toISOString(),
    storage,
    windows,
    totals: buildTotals(state),
    sites: buildSites(state, now, options.plan, options.readiness ?? DEFAULT_READINESS),
  };
  const span = options.span;
  if (span) {
    const from = Math.min(span.from, span.to);
    report.span = buildWindow(state, { firstHour: hourStart(from), lastHour: hourStart(span.to), firstDay: dayStart(from), lastDay: dayStart(span.to), hourly: false }, lastDay);
  }
  return report;
}

/** The all-time part of the document, on its own: Prometheus scrapes read only this. */
export function buildTotals(state: StatsState): Totals {
  const requests: Totals['requests'] = [];
  for (const [key, count] of state.totals.requests) {
    const labels = parseTotalsKey(key);
    if (labels) requests.push({ ...labels, count });
  }
  const handshakes: Totals['handshakes'] = [];
  for (const [key, count] of state.totals.handshakes) {
    const labels = parseHandshakeKey(key);
    if (labels) handshakes.push({ ...labels, count });
  }
  const handshakeFailures = zero(FAILURE_REASONS);
  for (const [reason, n] of state.totals.failures) if (Object.hasOwn(handshakeFailures, reason)) handshakeFailures[reason] += n;
  const upstreamErrors = zero(UPSTREAM_ERROR_STATUSES);
  for (const [status, n] of state.totals.upstreamErrors) if (Object.hasOwn(upstreamErrors, status)) upstreamErrors[status as UpstreamErrorStatus] += n;
  const offered = zero(CLIENT_HELLO_OUTCOMES);
  for (const [outcome, n] of state.totals.offered) if (Object.hasOwn(offered, outcome)) offered[outcome] += n;
  const sites: Totals['sites'] = [];
  for (const [scope, map] of [['host', state.totals.hosts], ['group', state.totals.groups]] as const) {
    for (const [name, cells] of map) SITE_CELLS.forEach((cell, i) => {
      if ((cells[i] ?? 0) > 0) sites.push({ scope, name, legacy: cell.legacy, browser: cell.browser, count: cells[i] ?? 0 });
    });
  }
  return { requests, handshakes, handshakeFailures, upstreamErrors, offered, sites };
}

/** Failed handshakes by fingerprint key in the hours [firstHour, lastHour]. */
function fingerprintCounts(state: StatsState, firstHour: number, lastHour: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [start, bucket] of state.hours) {
    if (start < firstHour || start > lastHour) continue;
    for (const [key, n] of bucket.failedFingerprints) counts.set(key, (counts.get(key) ?? 0) + n);
  }
  return counts;
}

function namedFailures(counts: Map<string, number>, lastDay: Map<string, number>): NamedFailureRow[] {
  const rows: NamedFailureRow[] = [];
  for (const [key, connections] of counts) {
    const parsed = parseFingerprintKey(key);
    // `other` (the fingerprints folded away) is in the failure totals already; it names nobody.
    if (parsed) rows.push({ offered: parsed.offered, ja4: parsed.ja4, name: knownClient(parsed.ja4)?.label ?? null, connections, last24h: lastDay.get(key) ?? 0 });
  }
  return rows.sort((a, b) => b.connections - a.connections || a.ja4.localeCompare(b.ja4)).slice(0, TOP_FINGERPRINTS);
}

function buildWindow(state: StatsState, range: Range, lastDay: Map<string, number>): WindowReport {
  const { firstHour, lastHour } = range;
  const hours = [...state.hours].filter(([start]) => start >= firstHour && start <= lastHour);

  const byProtocol = zero(PROTOCOL_LABELS);
  const byKind = zero(CLIENT_KINDS);
  const byAction = zero(FALLBACK_ACTIONS);
  const byReason = { 'tls-version': 0, 'user-agent': 0, 'intercepted-or-spoofed': 0 };
  const offered = zero(CLIENT_HELLO_OUTCOMES);
  const passThrough = zero(PASS_THROUGH_OUTCOMES);
  const handshakesByProtocol = zero(PROTOCOL_LABELS);
  const failures = zero(FAILURE_REASONS);
  const upstreamErrors = zero(UPSTREAM_ERROR_STATUSES);
  const whatIfRequests = { 'TLSv1.2': 0, 'TLSv1.3': 0 };
  let total = 0;
  let legacy = 0;
  let browsers = 0;
  let legacyBrowsers = 0;
  let resumed = 0;
  const clientRequests = new Map<string, number>();
  const pageViews = { total: 0, legacy: 0 };

  for (const [, bucket] of hours) {
    for (const [key, n] of bucket.requests) {
      const labels = parseRequestKey(key);
      if (!labels) continue;
      total += n;
      byProtocol[labels.protocol] += n;
      byKind[labels.kind] += n;
      if (labels.legacy) legacy += n;
      if (labels.kind === 'browser') {
        browsers += n;
        if (labels.legacy) legacyBrowsers += n;
      }
      for (const minimum of ['TLSv1.2', 'TLSv1.3'] as const) {
        if (labels.uaLegacy || (BELOW[minimum] as readonly string[]).includes(labels.protocol)) whatIfRequests[minimum] += n;
      }
    }
    for (const [key, n] of bucket.pageViews) {
      const labels = parseRequestKey(key);
      if (!labels) continue;
      pageViews.total += n;
      if (labels.legacy) pageViews.legacy += n;
    }
    for (const [action, n] of bucket.actions) byAction[action] += n;
    for (const [reason, n] of bucket.reasons) byReason[reason] += n;
    for (const [client, n] of bucket.clients) clientRequests.set(client, (clientRequests.get(client) ?? 0) + n);
    for (const [key, n] of bucket.handshakes) {
      const handshake = parseHandshakeKey(key);
      if (!handshake) continue;
      handshakesByProtocol[handshake.protocol] += n;
      if (handshake.resumed) resumed += n;
    }
    for (const [reason, n] of bucket.failures) failures[reason] += n;
    for (const [status, n] of bucket.upstreamErrors) upstreamErrors[status] += n;
    for (const [outcome, n] of bucket.offered) offered[outcome] += n;
    for (const [outcome, n] of bucket.passThrough) passThrough[outcome] += n;
  }
  const helloConnections = sum(HELLO_READ.map((v) => offered[v]));

  const sketches = visitorSketches(state, range);
  const classes = [...sketches].map(([key, hll]) => [parseVisitorKey(key), hll] as const).filter((entry): entry is readonly [VisitorClass, HyperLogLog] => entry[0] !== null);
  const unite = (predicate: (protocol: VisitorClass['protocol'], human: VisitorClass['human']) => boolean) =>
    HyperLogLog.union(classes.filter(([visitor]) => predicate(visitor.protocol, visitor.human)).map(([, hll]) => hll)).count();
  const visitorsByProtocol = zero(PROTOCOL_LABELS);
  for (const protocol of PROTOCOL_LABELS) visitorsByProtocol[protocol] = unite((p) => p === protocol);
  const allBrowserVisitors = unite((p, human) => p !== 'ua-legacy' && human === 'browser');
  const cannotConnect = failures['protocol-too-old'] + failures['no-shared-cipher'];

  const whatIf = (['TLSv1.2', 'TLSv1.3'] as const).map((minimum): WhatIfRow => {
    const below = BELOW[minimum] as readonly string[];
    const browserVisitors = Math.min(allBrowserVisitors, unite((p, human) => human === 'browser' && (p === 'ua-legacy' || below.includes(p))));
    return {
      minimum,
      requests: whatIfRequests[minimum],
      requestShare: ratio(whatIfRequests[minimum], total),
      browserVisitors,
      browserVisitorShare: ratio(browserVisitors, allBrowserVisitors),
      cannotConnect,
      connections: sum(OFFERED_BELOW[minimum].map((v) => offered[v])),
      connectionShare: ratio(sum(OFFERED_BELOW[minimum].map((v) => offered[v])), helloConnections),
    };
  });

  return {
    from: new Date(firstHour).toISOString(),
    to: new Date(lastHour + HOUR_MS).toISOString(),
    requests: { total, legacy, byProtocol, byKind, byAction, byReason },
    visitors: {
      total: unite((p) => p !== 'ua-legacy'),
      browsers: allBrowserVisitors,
      legacy: unite((p) => p === 'ua-legacy' || p === 'TLSv1' || p === 'TLSv1.1'),
      byProtocol: visitorsByProtocol,
    },
    legacyShare: ratio(legacy, total),
    legacyShareBrowsers: ratio(legacyBrowsers, browsers),
    topLegacyClients: topClients(clientRequests, clientVisitorSketches(state, range)),
    handshakes: { total: sum(Object.values(handshakesByProtocol)), resumed, byProtocol: handshakesByProtocol },
    handshakeFailures: { total: sum(Object.values(failures)), byReason: failures },
    offered: { connections: sum(Object.values(offered)), byVersion: offered },
    namedFailures: namedFailures(fingerprintCounts(state, firstHour, lastHour), lastDay),
    passThrough,
    upstreamErrors: { total: sum(Object.values(upstreamErrors)), byStatus: upstreamErrors },
    whatIf,
    series: range.hourly ? hourlySeries(state, firstHour, lastHour) : dailySeries(state, range.firstDay, range.lastDay),
    pageViews,
  };
}

/** Unites, per key, the sketches the window covers: hourly ones for 24 h, daily ones for 7 d, 30 d and a span. */
function windowSketches(
  state: StatsState,
  range: Range,
  hourly: (bucket: HourBucket) => Iterable<[string, HyperLogLog]>,
  daily: (bucket: DayBucket) => Iterable<[string, HyperLogLog]>,
): Map<string, HyperLogLog> {
  const out = new Map<string, HyperLogLog>();
  const add = ([key, hll]: [string, HyperLogLog]) => {
    const existing = out.get(key);
    if (existing) existing.merge(hll);
    else out.set(key, hll.clone());
  };
  if (range.hourly) {
    for (const [start, bucket] of state.hours) if (start >= range.firstHour && start <= range.lastHour) for (const entry of hourly(bucket)) add(entry);
  } else {
    for (const [start, bucket] of state.days) if (start >= range.firstDay && start <= range.lastDay) for (const entry of daily(bucket)) add(entry);
  }
  return out;
}

function visitorSketches(state: StatsState, range: Range): Map<string, HyperLogLog> {
  return windowSketches(state, range, (hour) => hour.visitors ?? [], (day) => day.visitors);
}

function clientVisitorSketches(state: StatsState, range: Range): Map<string, HyperLogLog> {
  return windowSketches(state, range, (hour) => hour.clientVisitors ?? [], (day) => [...day.clients].map(([key, c]): [string, HyperLogLog] => [key, c.visitors]));
}

function topClients(requests: Map<string, number>, visitors: Map<string, HyperLogLog>): LegacyClientRow[] {
  return [...requests]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, TOP_CLIENTS)
    .map(([key, n]) => {
      const label = parseClientLabel(key);
      const browser = label.browser;
      const version = key === OTHER ? '' : (label.version ?? '?');
      const os = key === OTHER ? OTHER : (label.os ?? '?');
      const hll = visitors.get(key) ?? new HyperLogLog(CLIENT_SKETCH_PRECISION);
      return { browser, version, os, requests: n, visitors: Math.min(n, hll.count()) };
    });
}

function hourlySeries(state: StatsState, firstHour: number, lastHour: number): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (let start = firstHour; start <= lastHour; start += HOUR_MS) points.push(point(state, start, start + HOUR_MS));
  return points;
}

function dailySeries(state: StatsState, firstDay: number, lastDay: number): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  const step = Math.ceil((lastDay - firstDay + DAY_MS) / DAY_MS / MAX_SERIES_POINTS) * DAY_MS;
  for (let start = firstDay; start <= lastDay; start += step) points.push(point(state, start, Math.min(start + step, lastDay + DAY_MS)));
  return points;
}

function point(state: StatsState, from: number, to: number): SeriesPoint {
  const byProtocol = zero(PROTOCOL_LABELS);
  let requests = 0;
  let legacy = 0;
  for (const [start, bucket] of state.hours) {
    if (start < from || start >= to) continue;
    for (const [key, n] of bucket.requests) {
      const labels = parseRequestKey(key);
      if (!labels) continue;
      requests += n;
      byProtocol[labels.protocol] += n;
      if (labels.legacy) legacy += n;
    }
  }
  return { start: new Date(from).toISOString(), requests, legacy, byProtocol };
}

function zero<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Share in [0, 1], rounded to 4 decimals so that JSON and dashboard show the same figure. */
export function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}
