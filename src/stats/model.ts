import type { ClientHelloOutcome, FallbackAction, HandshakeFailureReason, LegacyReason, OfferedTls } from '../types.js';
import { HyperLogLog } from './hyperloglog.js';
import { fingerprintKey, handshakeKey, OTHER, sampleKeys, type PassThroughOutcome, type ProtocolLabel, type RequestLabels, type UpstreamErrorStatus } from './labels.js';

/**
 * The pure data behind the analytics: counters per hour, visitor sketches per hour and per day, and
 * all-time totals for Prometheus. Everything is bounded by construction: label values come from closed
 * sets, and the only open-ended dimensions (client family/version, OS) are capped per bucket, keeping
 * the heaviest keys (see addBounded).
 */

/** Distinct legacy clients (family, version, OS) tracked per bucket; the lightest are folded into `other`. */
export const MAX_CLIENTS_PER_BUCKET = 32;
/** Distinct OS families tracked per hour; the lightest are folded into `other`. */
export const MAX_OS_PER_HOUR = 24;
/**
 * Distinct (offered version, JA4) pairs of failed handshakes tracked per hour; the lightest are folded
 * into `other`. The clients that fail here are the few dozen that offer nothing a modern server accepts
 * (testssl's 162 recorded clients hold 108 fingerprints, about 40 of them legacy-only), so 32 an hour
 * keep every real one with its exact count, while a scanner minting fingerprints churns through one
 * slot. At most 32 keys of 45 bytes an hour: under 40 KiB a day in the stats file.
 */
export const MAX_FINGERPRINTS_PER_HOUR = 32;
/** Hours whose visitor sketches are kept (the 24 h window needs 24; one spare day for the window's edge). */
export const HOURLY_SKETCH_HOURS = 48;
/** Precision of the per-client visitor sketches: 256 registers, about 6.5 % standard error, 256 bytes. */
export const CLIENT_SKETCH_PRECISION = 8;

export interface ClientCounts {
  requests: number;
  visitors: HyperLogLog;
}

/** Counters of one hour, keyed as labels.ts says (flat keys keep the file small). */
export interface HourBucket {
  requests: Map<string, number>;
  actions: Map<FallbackAction, number>;
  reasons: Map<LegacyReason, number>;
  clients: Map<string, number>;
  os: Map<string, number>;
  handshakes: Map<string, number>;
  failures: Map<HandshakeFailureReason, number>;
  /** Responses the proxy made itself because the upstream failed, by status (`502`, `504`). */
  upstreamErrors: Map<UpstreamErrorStatus, number>;
  /** Connections by what their first bytes were: the highest version offered, or why there was none. */
  offered: Map<ClientHelloOutcome, number>;
  /** Failed handshakes whose hello was read, by `fingerprintKey` (bounded: MAX_FINGERPRINTS_PER_HOUR). */
  failedFingerprints: Map<string, number>;
  /** Connections of the built-in pass-through, by what it did with them (empty without it). */
  passThrough: Map<PassThroughOutcome, number>;
  /** Visitor sketches; dropped once the hour is older than HOURLY_SKETCH_HOURS. */
  visitors: Map<string, HyperLogLog> | null;
  clientVisitors: Map<string, HyperLogLog> | null;
  /** The fallback page's own requests (action `page`), by request key: counted apart from `requests`. */
  pageViews: Map<string, number>;
  /** Requests per host (top MAX_HOSTS) and per path group, in cells (labels.ts `SITE_CELLS`). */
  hosts: Map<string, SiteCells>;
  groups: Map<string, SiteCells>;
}

/** Visitor sketches of one UTC day, for the 7 d and 30 d windows. */
export interface DayBucket {
  visitors: Map<string, HyperLogLog>;
  clients: Map<string, ClientCounts>;
  /** Per host (top MAX_HOSTS) and per path group: requests, and browser visitors for the readiness. */
  hosts: Map<string, SiteDay>;
  groups: Map<string, SiteDay>;
}

/**
 * A log imported into the stats (`analyse --into`) and how far, so that importing it again, or a
 * rotated or grown copy of it, counts only what is new.
 */
export interface ImportRecord {
  /** Hash of the log's first record (time, address, request, user agent…): rotation and growth keep it. */
  id: string;
  /** The input as it was named when imported, for messages. */
  input: string;
  /** Records counted from the log, from its first one on. */
  records: number;
  /** Time of the last record counted (ms): a later import checks the log still has it at that place. */
  last: number;
  /** When it was imported (ms). */
  at: number;
}

/** Imports remembered; the oldest are forgotten first (re-importing one whose data is past retention adds nothing). */
export const MAX_IMPORTS = 1000;

export interface StatsState {
  /** Hour start (ms since epoch) → bucket. */
  hours: Map<number, HourBucket>;
  /** Day start (ms since epoch, UTC) → bucket. */
  days: Map<number, DayBucket>;
  /** All-time counters behind the Prometheus metrics: monotonic, never pruned. */
  totals: {
    requests: Map<string, number>;
    handshakes: Map<string, number>;
    failures: Map<HandshakeFailureReason, number>;
    /** Responses the proxy made itself because the upstream failed, by status (502, 504). */
    upstreamErrors: Map<string, number>;
    /** Connections by what their first bytes were (the ClientHello census). */
    offered: Map<ClientHelloOutcome, number>;
    /** Requests per host and per group, in cells; a name keeps its slot for good (counters stay monotonic). */
    hosts: Map<string, SiteCells>;
    groups: Map<string, SiteCells>;
  };
  /** Logs imported by `analyse --into`, by `ImportRecord.id`. Absent in states that never had one. */
  imports?: Map<string, ImportRecord>;
}

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

export function hourStart(time: number): number {
  return time - (time % HOUR_MS);
}

export function dayStart(time: number): number {
  return time - (time % DAY_MS);
}

/** Whether nothing was counted in `state` (a drained counter that saw no traffic). */
export function isEmptyState(state: StatsState): boolean {
  const { totals } = state;
  return (
    state.hours.size === 0 &&
    state.days.size === 0 &&
    totals.requests.size === 0 &&
    totals.handshakes.size === 0 &&
    totals.failures.size === 0 &&
    totals.upstreamErrors.size === 0 &&
    totals.offered.size === 0 &&
    totals.hosts.size === 0 &&
    totals.groups.size === 0 &&
    !state.imports?.size
  );
}

export function emptyState(): StatsState {
  return { hours: new Map(), days: new Map(), totals: { requests: new Map(), handshakes: new Map(), failures: new Map(), upstreamErrors: new Map(), offered: new Map(), hosts: new Map(), groups: new Map() } };
}

function emptyHour(): HourBucket {
  return {
    requests: new Map(),
    actions: new Map(),
    reasons: new Map(),
    clients: new Map(),
    os: new Map(),
    handshakes: new Map(),
    failures: new Map(),
    upstreamErrors: new Map(),
    offered: new Map(),
    failedFingerprints: new Map(),
    passThrough: new Map(),
    visitors: new Map(),
    clientVisitors: new Map(),
    pageViews: new Map(),
    hosts: new Map(),
    groups: new Map(),
  };
}

function emptyDay(): DayBucket {
  return { visitors: new Map(), clients: new Map(), hosts: new Map(), groups: new Map() };
}

export function addTo<K>(map: Map<K, number>, key: K, amount = 1): void {
  map.set(key, (map.get(key) ?? 0) + amount);
}

/**
 * Bounded label maps keep the heaviest keys. A new key always gets a slot (otherwise it could never
 * build up a count, and whoever came first would hold the slots for good); when all `cap` slots are
 * taken, the lightest entry is folded into `other` to make room. Among equally light entries the
 * oldest goes, so a stream of one-off keys churns through one slot, and every key heavier than the
 * lightest keeps its slot and its exact count. Totals stay exact: what leaves a slot goes to `other`.
 */
function addBounded(map: Map<string, number>, key: string, cap: number, amount: number, sketches: Map<string, HyperLogLog> | null): void {
  const count = map.get(key);
  if (count !== undefined) {
    map.set(key, count + amount);
    return;
  }
  if (key !== OTHER && namedSize(map) >= cap) {
    const victim = evictFor(map, weightOfCount, key, amount);
    if (victim !== undefined) {
      addTo(map, OTHER, map.get(victim) ?? 0);
      map.delete(victim);
      moveSketchToOther(sketches, victim);
    }
  }
  map.set(key, amount);
}

/** The same for a day's clients, whose entries carry their visitor sketch. */
function addDayClient(clients: Map<string, ClientCounts>, key: string, amount: number): ClientCounts {
  let counts = clients.get(key);
  if (counts) {
    counts.requests += amount;
    return counts;
  }
  if (key !== OTHER && namedSize(clients) >= MAX_CLIENTS_PER_BUCKET) {
    const victim = evictFor(clients, weightOfClient, key, amount);
    const evicted = victim === undefined ? undefined : clients.get(victim);
    if (victim !== undefined && evicted) {
      clients.delete(victim);
      const other = clients.get(OTHER);
      if (other) {
        other.requests += evicted.requests;
        other.visitors.merge(evicted.visitors);
      } else clients.set(OTHER, evicted);
    }
  }
  counts = { requests: amount, visitors: new HyperLogLog(CLIENT_SKETCH_PRECISION) };
  clients.set(key, counts);
  return counts;
}

const weightOfCount = (count: number): number => count;
const weightOfClient = (counts: ClientCounts): number => counts.requests;

function namedSize(map: Map<string, unknown>): number {
  return map.has(OTHER) ? map.size - 1 : map.size;
}

/**
 * Eviction candidates of a full bounded map, so that a stream of new keys does not scan the map for
 * each one: the keys that weighed `min` at the last scan, oldest first, then the keys inserted since
 * with that weight. Weights only grow, and every key enters a full map through evictFor, so the first
 * queued key that still weighs `min` is the lightest and oldest entry; a newcomer lighter than `min`
 * drops the queue, and the next eviction scans again.
 */
const candidates = new WeakMap<Map<string, unknown>, { min: number; keys: string[] }>();

/** The entry to fold into `other` to make room for `key` (arriving with `amount`) in a full map. */
function evictFor<V>(map: Map<string, V>, weight: (value: V) => number, key: string, amount: number): string | undefined {
  let queue = candidates.get(map);
  let victim: string | undefined;
  while (queue && victim === undefined) {
    const next = queue.keys.shift();
    if (next === undefined) queue = undefined;
    else {
      const value = map.get(next);
      if (value !== undefined && weight(value) === queue.min) victim = next;
    }
  }
  if (!queue) {
    queue = lightestKeys(map, weight);
    candidates.set(map, queue);
    victim = queue.keys.shift();
  }
  if (amount < queue.min) candidates.delete(map);
  else if (amount === queue.min) queue.keys.push(key);
  return victim;
}

/** The entries of the smallest weight, in insertion order (a Map iterates in insertion order). */
function lightestKeys<V>(map: Map<string, V>, weight: (value: V) => number): { min: number; keys: string[] } {
  let min = Infinity;
  let keys: string[] = [];
  map.forEach((value, key) => {
    if (key === OTHER) return;
    const w = weight(value);
    if (w < min) {
      min = w;
      keys = [key];
    } else if (w === min) keys.push(key);
  });
  return { min, keys };
}

function moveSketchToOther(sketches: Map<string, HyperLogLog> | null, key: string): void {
  const hll = sketches?.get(key);
  if (!sketches || !hll) return;
  sketches.delete(key);
  const other = sketches.get(OTHER);
  if (other) other.merge(hll);
  else sketches.set(OTHER, hll);
}

function mergeSketch(sketches: Map<string, HyperLogLog>, key: string, hll: HyperLogLog): void {
  const existing = sketches.get(key);
  if (existing) existing.merge(hll);
  else sketches.set(key, hll.clone());
}

function sketch(map: Map<string, HyperLogLog>, key: string, precision?: number): HyperLogLog {
  let hll = map.get(key);
  if (!hll) {
    hll = new HyperLogLog(precision);
    map.set(key, hll);
  }
  return hll;
}

// The buckets of the current hour and day, per state: every request of the hour looks them up.
const current = new WeakMap<StatsState, { hour: number; hourBucket: HourBucket; day: number; dayBucket: DayBucket }>();

export function hourBucket(state: StatsState, time: number): HourBucket {
  return getOrCreate(state.hours, hourStart(time), emptyHour);
}

function dayBucket(state: StatsState, time: number): DayBucket {
  return getOrCreate(state.days, dayStart(time), emptyDay);
}

function getOrCreate<V>(map: Map<number, V>, key: number, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Both buckets for `time`, remembered until the hour changes. */
function buckets(state: StatsState, time: number): { hour: HourBucket; day: DayBucket } {
  const hour = hourStart(time);
  const cached = current.get(state);
  if (cached?.hour === hour && state.hours.get(hour) === cached.hourBucket && state.days.get(cached.day) === cached.dayBucket) {
    return { hour: cached.hourBucket, day: cached.dayBucket };
  }
  const fresh = { hour, hourBucket: hourBucket(state, time), day: dayStart(time), dayBucket: dayBucket(state, time) };
  current.set(state, fresh);
  return { hour: fresh.hourBucket, day: fresh.dayBucket };
}

/**
 * Counts `amount` requests with the same labels. `visitor` is the salted hash of address + user agent,
 * or null when that visitor is already in this hour's and day's sketches (same connection, same
 * labels), so they are skipped. Separate arguments rather than one merged object: V8 leaves its fast
 * path for a spread followed by more properties (`{ ...labels, visitor }`), on every request.
 */
export function recordRequest(state: StatsState, time: number, sample: RequestLabels, visitor: Uint8Array | null, amount = 1): void {
  const { hour, day } = buckets(state, time);
  const keys = sample.keys ?? sampleKeys(sample);
  addTo(state.totals.requests, keys.totals, amount);
  if (visitor !== null) {
    for (const key of keys.visitors) {
      if (hour.visitors) sketch(hour.visitors, key).add(visitor);
      sketch(day.visitors, key).add(visitor);
    }
  }
  // The fallback page's own views are not more requests lost to it: one `curl -L` is one, not two.
  // They are counted apart (and in the all-time totals, under their action), never as the site's.
  if (sample.action === 'page') {
    addTo(hour.pageViews, keys.request, amount);
    return;
  }
  addTo(hour.requests, keys.request, amount);
  addTo(hour.actions, sample.action, amount);
  if (sample.tlsLegacy) addTo(hour.reasons, 'tls-version', amount);
  if (sample.uaLegacy) addTo(hour.reasons, 'user-agent', amount);
  if (sample.intercepted) addTo(hour.reasons, 'intercepted-or-spoofed', amount);
  if (sample.os !== null) addBounded(hour.os, sample.os, MAX_OS_PER_HOUR, amount, null);
  if (sample.legacy && sample.client !== null) {
    addBounded(hour.clients, sample.client, MAX_CLIENTS_PER_BUCKET, amount, hour.clientVisitors);
    if (hour.clientVisitors && visitor !== null) sketch(hour.clientVisitors, sample.client, CLIENT_SKETCH_PRECISION).add(visitor);
    const counts = addDayClient(day.clients, sample.client, amount);
    if (visitor !== null) counts.visitors.add(visitor);
  }
}

/**
 * The visitor sketches of recordRequest alone, for a caller that counts requests of the same labels
 * in bulk (recordRequest with `visitor` null and an amount). Not for legacy clients' labels: their
 * per-client sketches live beside their bounded counts and go with recordRequest.
 */
export function recordVisitor(state: StatsState, time: number, sample: RequestLabels, visitor: Uint8Array): void {
  const { hour, day } = buckets(state, time);
  const keys = sample.keys ?? sampleKeys(sample);
  for (const key of keys.visitors) {
    if (hour.visitors) sketch(hour.visitors, key).add(visitor);
    sketch(day.visitors, key).add(visitor);
  }
}

export function recordHandshake(state: StatsState, time: number, protocol: ProtocolLabel, resumed: boolean): void {
  const key = handshakeKey({ protocol, resumed });
  addTo(hourBucket(state, time).handshakes, key);
  addTo(state.totals.handshakes, key);
}

export function recordHandshakeFailure(state: StatsState, time: number, reason: HandshakeFailureReason, offered: OfferedTls | null = null): void {
  const hour = hourBucket(state, time);
  addTo(hour.failures, reason);
  addTo(state.totals.failures, reason);
  if (offered) addBounded(hour.failedFingerprints, fingerprintKey({ offered: offered.maxVersion, ja4: offered.ja4 }), MAX_FINGERPRINTS_PER_HOUR, 1, null);
}

/** One connection of the built-in pass-through. */
export function recordPassThrough(state: StatsState, time: number, outcome: PassThroughOutcome): void {
  addTo(hourBucket(state, time).passThrough, outcome);
}

/** One connection of the ClientHello census. */
export function recordClientHello(state: StatsState, time: number, outcome: ClientHelloOutcome): void {
  addTo(hourBucket(state, time).offered, outcome);
  addTo(state.totals.offered, outcome);
}

export function recordUpstreamError(state: StatsState, time: number, status: 502 | 504): void {
  const key: UpstreamErrorStatus = status === 502 ? '502' : '504';
  addTo(hourBucket(state, time).upstreamErrors, key);
  addTo(state.totals.upstreamErrors, key);
}

/** Drops what is older than the retention, and hourly sketches older than HOURLY_SKETCH_HOURS. */
export function prune(state: StatsState, now: number, retentionDays: number): void {
  const oldestHour = hourStart(now) - retentionDays * DAY_MS;
  const oldestSketchHour = hourStart(now) - HOURLY_SKETCH_HOURS * HOUR_MS;
  for (const [start, bucket] of state.hours) {
    if (start < oldestHour) state.hours.delete(start);
    else if (start < oldestSketchHour) {
      bucket.visitors = null;
      bucket.clientVisitors = null;
    }
  }
  const oldestDay = dayStart(now) - retentionDays * DAY_MS;
  for (const start of state.days.keys()) if (start < oldestDay) state.days.delete(start);
  if (state.imports) pruneImports(state.imports, oldestHour);
}

/** Forgets imports whose every record is past retention, then all but the MAX_IMPORTS latest. */
function pruneImports(imports: Map<string, ImportRecord>, oldest: number): void {
  for (const [id, entry] of imports) if (entry.last < oldest) imports.delete(id);
  if (imports.size <= MAX_IMPORTS) return;
  const latest = [...imports.values()].sort((a, b) => b.at - a.at).slice(0, MAX_IMPORTS);
  imports.clear();
  for (const entry of latest) imports.set(entry.id, entry);
}

/** Adds `other` into `target`: counters add up, sketches unite. Used for cluster workers and late loads. */
export function mergeState(target: StatsState, other: StatsState): void {
  for (const [start, bucket] of other.hours) {
    const into = target.hours.get(start);
    if (!into) {
      target.hours.set(start, bucket);
      continue;
    }
    mergeCounts(into.requests, bucket.requests);
    mergeCounts(into.actions, bucket.actions);
    mergeCounts(into.reasons, bucket.reasons);
    // Sketch maps exist for the last HOURLY_SKETCH_HOURS only; a bucket that still has them passes them on.
    if (!into.clientVisitors && bucket.clientVisitors) into.clientVisitors = new Map();
    mergeBounded(into.clients, bucket.clients, MAX_CLIENTS_PER_BUCKET, into.clientVisitors, bucket.clientVisitors);
    mergeBounded(into.os, bucket.os, MAX_OS_PER_HOUR, null, null);
    mergeCounts(into.handshakes, bucket.handshakes);
    mergeCounts(into.failures, bucket.failures);
    mergeCounts(into.upstreamErrors, bucket.upstreamErrors);
    mergeCounts(into.offered, bucket.offered);
    mergeCounts(into.passThrough, bucket.passThrough);
    mergeBounded(into.failedFingerprints, bucket.failedFingerprints, MAX_FINGERPRINTS_PER_HOUR, null, null);
    into.visitors = mergeSketchMaps(into.visitors, bucket.visitors);
    mergeCounts(into.pageViews, bucket.pageViews);
    mergeSiteCells(into.hosts, bucket.hosts, MAX_HOSTS, false);
    mergeSiteCells(into.groups, bucket.groups, MAX_GROUPS, false);
  }
  for (const [start, bucket] of other.days) {
    const into = target.days.get(start);
    if (!into) {
      target.days.set(start, bucket);
      continue;
    }
    into.visitors = mergeSketchMaps(into.visitors, bucket.visitors) ?? new Map();
    const arriving: [string, ClientCounts][] = [];
    for (const [client, counts] of bucket.clients) {
      const existing = into.clients.get(client);
      if (existing) {
        existing.requests += counts.requests;
        existing.visitors.merge(counts.visitors);
      } else if (client === OTHER) into.clients.set(OTHER, counts);
      else arriving.push([client, counts]);
    }
    for (const [client, counts] of byWeight(arriving, (c) => c.requests)) addDayClient(into.clients, client, counts.requests).visitors.merge(counts.visitors);
    mergeSiteDays(into.hosts, bucket.hosts, MAX_HOSTS);
    mergeSiteDays(into.groups, bucket.groups, MAX_GROUPS);
  }
  mergeCounts(target.totals.requests, other.totals.requests);
  mergeCounts(target.totals.handshakes, other.totals.handshakes);
  mergeCounts(target.totals.failures, other.totals.failures);
  mergeCounts(target.totals.upstreamErrors, other.totals.upstreamErrors);
  mergeCounts(target.totals.offered, other.totals.offered);
  if (other.imports?.size) {
    target.imports ??= new Map();
    // The same log imported further wins: it covers what the shorter import did.
    for (const [id, entry] of other.imports) if ((target.imports.get(id)?.records ?? -1) < entry.records) target.imports.set(id, entry);
  }
  mergeSiteCells(target.totals.hosts, other.totals.hosts, MAX_HOSTS, true);
  mergeSiteCells(target.totals.groups, other.totals.groups, MAX_GROUPS, true);
}

function mergeCounts<K>(into: Map<K, number>, from: Map<K, number>): void {
  for (const [key, value] of from) addTo(into, key, value);
}

/**
 * Adds a bounded map into another as if its entries arrived one by one, lightest first: a key new to
 * `into` takes a slot as it would have online (see addBounded), and when several arrive at once the
 * heavier ones are the ones left standing.
 */
function mergeBounded(
  into: Map<string, number>,
  from: Map<string, number>,
  cap: number,
  intoSketches: Map<string, HyperLogLog> | null,
  fromSketches: Map<string, HyperLogLog> | null,
): void {
  const arriving: [string, number][] = [];
  for (const [key, n] of from) {
    if (key === OTHER || into.has(key)) addTo(into, key, n);
    else arriving.push([key, n]);
  }
  // Sketches of keys already there (and of `other`) first: an eviction below moves them along with the count.
  if (intoSketches && fromSketches) for (const [key, hll] of fromSketches) if (into.has(key)) mergeSketch(intoSketches, key, hll);
  for (const [key, n] of byWeight(arriving, (count) => count)) {
    addBounded(into, key, cap, n, intoSketches);
    const hll = fromSketches?.get(key);
    if (intoSketches && hll) mergeSketch(intoSketches, key, hll);
  }
}

/** Lightest first; stable, so equal weights keep their order. */
function byWeight<V>(entries: [string, V][], weight: (value: V) => number): [string, V][] {
  return entries.sort((a, b) => weight(a[1]) - weight(b[1]));
}

function mergeSketchMaps(into: Map<string, HyperLogLog> | null, from: Map<string, HyperLogLog> | null): Map<string, HyperLogLog> | null {
  if (!into || !from) return into ?? from;
  for (const [key, hll] of from) mergeSketch(into, key, hll);
  return into;
}

// ----------------------------------------------------------------------------------------------------
// Sites: per host and per path group.

/**
 * Hosts kept per hour, per day and in the all-time totals: the heaviest 20 in the buckets, the first 20
 * in the totals (a Prometheus counter must not move to `other` and back), the rest folded into `other`.
 * Host names come from the client, so without a bound a scan with made-up Host headers would grow the
 * report and the metrics without end; 20 is more sites than one process serves in practice.
 */
export const MAX_HOSTS = 20;
/** Path groups kept: the configuration allows 50; the margin is for merging other processes' numbers. */
export const MAX_GROUPS = 64;
/** Precision of the per-site visitor sketches (the readiness): 256 registers, about 6.5 % standard error. */
export const SITE_SKETCH_PRECISION = 8;

/** A site's requests in four cells (labels.ts `SITE_CELLS`): legacy or not, browser or not. */
export type SiteCells = number[];

/** A site's day: its requests (for keeping the heaviest), and its browser visitors, all and legacy. */
export interface SiteDay {
  requests: number;
  browsers: HyperLogLog;
  legacyBrowsers: HyperLogLog;
}

export function emptyCells(): SiteCells {
  return [0, 0, 0, 0];
}

/**
 * Counts `amount` requests of one site pair (host, group) into `cell` (labels.ts `siteCell`). `visitor`
 * is the browser visitor's hash when this visitor is new to this host or group this hour (else null),
 * and `legacy` whether it goes into the legacy browsers' sketch too.
 */
export function recordSite(state: StatsState, time: number, host: string, group: string, cell: number, visitor: Uint8Array | null, legacy: boolean, amount = 1): void {
  const { hour, day } = buckets(state, time);
  addCells(hour.hosts, host, MAX_HOSTS, cell, amount);
  addCells(hour.groups, group, MAX_GROUPS, cell, amount);
  addCells(state.totals.hosts, host, MAX_HOSTS, cell, amount, true);
  addCells(state.totals.groups, group, MAX_GROUPS, cell, amount, true);
  const hostDay = siteDay(day.hosts, host, MAX_HOSTS, amount);
  const groupDay = siteDay(day.groups, group, MAX_GROUPS, amount);
  if (visitor === null) return;
  hostDay.browsers.add(visitor);
  groupDay.browsers.add(visitor);
  if (!legacy) return;
  hostDay.legacyBrowsers.add(visitor);
  groupDay.legacyBrowsers.add(visitor);
}

const weightOfCells = (cells: SiteCells): number => (cells[0] ?? 0) + (cells[1] ?? 0) + (cells[2] ?? 0) + (cells[3] ?? 0);

/** Adds to a site's cells. Bounded as addBounded (heaviest kept), or `sticky`: the first `cap` names keep their slots. */
function addCells(map: Map<string, SiteCells>, key: string, cap: number, cell: number, amount: number, sticky = false): void {
  const cells = cellsFor(map, key, cap, amount, sticky);
  cells[cell] = (cells[cell] ?? 0) + amount;
}

/** The cells `key` counts into: its own (made room for, `weight` being what arrives), or `other`'s. */
function cellsFor(map: Map<string, SiteCells>, key: string, cap: number, weight: number, sticky: boolean): SiteCells {
  let cells = map.get(key);
  if (cells !== undefined) return cells;
  if (key !== OTHER && namedSize(map) >= cap) {
    if (sticky) return cellsFor(map, OTHER, cap, weight, sticky);
    const victim = evictFor(map, weightOfCells, key, weight);
    const evicted = victim === undefined ? undefined : map.get(victim);
    if (victim !== undefined && evicted !== undefined) {
      map.delete(victim);
      addAllCells(map, OTHER, evicted);
    }
  }
  cells = emptyCells();
  map.set(key, cells);
  return cells;
}

function addAllCells(map: Map<string, SiteCells>, key: string, from: SiteCells): void {
  const into = map.get(key) ?? emptyCells();
  for (let i = 0; i < 4; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
  map.set(key, into);
}

function siteDay(map: Map<string, SiteDay>, key: string, cap: number, amount: number): SiteDay {
  let entry = map.get(key);
  if (entry) {
    entry.requests += amount;
    return entry;
  }
  if (key !== OTHER && namedSize(map) >= cap) {
    const victim = evictFor(map, (d: SiteDay) => d.requests, key, amount);
    const evicted = victim === undefined ? undefined : map.get(victim);
    if (victim !== undefined && evicted) {
      map.delete(victim);
      mergeSiteDay(map, OTHER, evicted);
    }
  }
  entry = { requests: amount, browsers: new HyperLogLog(SITE_SKETCH_PRECISION), legacyBrowsers: new HyperLogLog(SITE_SKETCH_PRECISION) };
  map.set(key, entry);
  return entry;
}

function mergeSiteDay(map: Map<string, SiteDay>, key: string, from: SiteDay): void {
  const into = map.get(key);
  if (!into) {
    map.set(key, { requests: from.requests, browsers: from.browsers.clone(), legacyBrowsers: from.legacyBrowsers.clone() });
    return;
  }
  into.requests += from.requests;
  into.browsers.merge(from.browsers);
  into.legacyBrowsers.merge(from.legacyBrowsers);
}

/** As mergeBounded: new names arrive lightest first (in the totals, in their order: first come, first kept). */
function mergeSiteCells(into: Map<string, SiteCells>, from: Map<string, SiteCells>, cap: number, sticky: boolean): void {
  const arriving: [string, SiteCells][] = [];
  for (const [key, cells] of from) {
    if (key === OTHER || into.has(key)) addAllCells(into, key, cells);
    else arriving.push([key, cells]);
  }
  for (const [key, cells] of sticky ? arriving : byWeight(arriving, weightOfCells)) {
    const slot = cellsFor(into, key, cap, weightOfCells(cells), sticky);
    for (let i = 0; i < 4; i++) slot[i] = (slot[i] ?? 0) + (cells[i] ?? 0);
  }
}

function mergeSiteDays(into: Map<string, SiteDay>, from: Map<string, SiteDay>, cap: number): void {
  const arriving: [string, SiteDay][] = [];
  for (const [key, entry] of from) {
    if (key === OTHER || into.has(key)) mergeSiteDay(into, key, entry);
    else arriving.push([key, entry]);
  }
  for (const [key, entry] of byWeight(arriving, (d) => d.requests)) {
    const slot = siteDay(into, key, cap, entry.requests);
    slot.browsers.merge(entry.browsers);
    slot.legacyBrowsers.merge(entry.legacyBrowsers);
  }
}
