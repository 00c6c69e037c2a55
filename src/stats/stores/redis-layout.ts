import { createHash } from 'node:crypto';
import { HyperLogLog } from '../hyperloglog.js';
import { CLIENT_HELLO_OUTCOMES, FAILURE_REASONS, FALLBACK_ACTIONS, LEGACY_REASONS, PASS_THROUGH_OUTCOMES, UPSTREAM_ERROR_STATUSES, type PassThroughOutcome, type UpstreamErrorStatus } from '../labels.js';
import {
  CLIENT_SKETCH_PRECISION,
  DAY_MS,
  HOUR_MS,
  HOURLY_SKETCH_HOURS,
  MAX_CLIENTS_PER_BUCKET,
  MAX_FINGERPRINTS_PER_HOUR,
  MAX_GROUPS,
  MAX_HOSTS,
  MAX_OS_PER_HOUR,
  SITE_SKETCH_PRECISION,
  dayStart,
  emptyState,
  hourStart,
  type DayBucket,
  type HourBucket,
  type SiteCells,
  type SiteDay,
  type StatsState,
} from '../model.js';
import type { ClientHelloOutcome, FallbackAction, HandshakeFailureReason, LegacyReason } from '../../types.js';
import type { InstanceStatus } from '../types.js';

/**
 * How the numbers are laid out in Redis, and the one script that writes them. `P` is the key prefix.
 *
 * | key | type | holds | expires |
 * | --- | --- | --- | --- |
 * | `P salt` | string | the visitor salt (first writer wins: `SET NX`) | never |
 * | `P t` | hash | all-time totals: `r:` requests, `s:` handshakes, `f:` failures, `u:` upstream errors, `k:` connections by offered version; `H:` hosts / `G:` path groups (cells `a,b,c,d`, the first 20 / 64 names for good, later ones in `other`; `#H`/`#G` their number) | never (closed label sets and bounded sites: ≤ 520 fields) |
 * | `P h:<hour ms>` | hash | the hour's counters: `r:` `a:` `e:` `s:` `f:` `u:` `k:` connections by offered version, `p:` pass-through, `w:` the fallback page's own views (closed sets), `c:` legacy clients (≤ 32 + other), `o:` OS (≤ 24 + other), `j:` failed handshakes by version and JA4 (≤ 32 + other), `H:`/`G:` hosts (≤ 20 + other) / groups (≤ 64 + other) as cells `a,b,c,d`; `#c` `#o` `#j` `#H` `#G` their number | retention + 1 h |
 * | `P hv:<hour ms>` | hash | the hour's visitor sketches: `v:<class>` (2048 registers), `c:<client>` (256) | 49 h |
 * | `P d:<day ms>` | hash | the day's legacy clients `c:` (≤ 32 + other), requests per host `H:` (≤ 20 + other) and group `G:` (≤ 64 + other); `#c` `#H` `#G` | retention + 1 day |
 * | `P dv:<day ms>` | hash | the day's sketches, as `hv`, and per site the browser visitors `Hb:`/`Gb:` and legacy browser visitors `Hl:`/`Gl:` (256 registers each) | retention + 1 day |
 * | `P is` / `P ir` | sorted set / hash | instance name → last seen (Redis clock) / requests | names unseen for the retention are removed; ≤ 1000 names |
 * | `P q:<process id>` | string | the last delta sequence applied for that process | retention |
 *
 * Nothing here names a visitor: sketch registers (maxima of hash bits of a salted SipHash) and label
 * counts only. The per-bucket label caps are the in-memory model's, and the script evicts the same way
 * (the lightest label goes to `other`, its sketches united into `other`'s; labels already there first,
 * then the new ones lightest first, as mergeState takes them; the all-time sites keep their first names
 * for good), so every read stays within the bounds the model assumes. Every field of the model is
 * carried: test/redis-model.test.ts compares a read with the stats file's round trip, field for field.
 */

/**
 * Every Redis command the store sends, itself or from its script (AUTH and SELECT of the login aside, which
 * need no rule; the client's CLIENT SETINFO may be refused). An ACL rule for one site:
 * `ACL SETUSER ltf on >PASSWORD resetkeys ~ltf:* resetchannels -@all +eval +evalsha +exists …`.
 */
export const REDIS_ACL_COMMANDS = ['eval', 'evalsha', 'exists', 'get', 'hdel', 'hexists', 'hget', 'hgetall', 'hincrby', 'hset', 'pexpireat', 'set', 'time', 'zadd', 'zcard', 'zrange', 'zrangebyscore', 'zrem'] as const;

/** Sketches of the last this many hours are kept: the 24 h window needs 24, the window's edge one more day. */
const HOUR_SKETCH_TTL_MS = (HOURLY_SKETCH_HOURS + 1) * HOUR_MS;
/** Instance names kept at most; the ones seen longest ago go first. */
export const MAX_INSTANCES = 1000;

/**
 * Applies one delta, once. KEYS: none (every key starts with the prefix in ARGV[1]: a standalone Redis,
 * not a cluster). ARGV: prefix, process id, sequence, instance name, header (JSON), sketch registers.
 * Returns 1 when applied, 0 when this process's sequence was already applied (a retry whose first reply
 * was lost). The `#!lua` line makes Redis 7 refuse the whole script up front when it is out of memory,
 * rather than failing halfway through.
 */
export const APPLY_DELTA_SCRIPT = `#!lua
local P = ARGV[1]
local qkey = P .. 'q:' .. ARGV[2]
local seq = tonumber(ARGV[3])
local last = tonumber(redis.call('GET', qkey) or '0')
if seq <= last then return 0 end
local d = cjson.decode(ARGV[5])

-- Register-wise maximum of two sketches of the same precision: their union.
local function unite(key, field, bytes)
  local old = redis.call('HGET', key, field)
  if (not old) or #old ~= #bytes then
    redis.call('HSET', key, field, bytes)
    return
  end
  if old == bytes then return end
  local parts = {}
  for i = 1, #old, 256 do
    local a = {string.byte(old, i, i + 255)}
    local b = {string.byte(bytes, i, i + 255)}
    for k = 1, #a do
      if b[k] > a[k] then a[k] = b[k] end
    end
    parts[#parts + 1] = string.char(unpack(a))
  end
  redis.call('HSET', key, field, table.concat(parts))
end

-- A bounded label set in hash key (fields pre..label, how many in countField): a new label always gets
-- a slot; when all cap slots are taken the lightest label goes to other, with its sketches (fields
-- sp..label of sketchKey for each prefix sp in sks; args: the matching ARGV indexes, 0 for none).
local function addBounded(key, pre, countField, label, n, cap, sketchKey, sks, args, present)
  local field = pre .. label
  local otherField = pre .. 'other'
  if field ~= otherField and (present == false or (present == nil and redis.call('HEXISTS', key, field) == 0)) then
    local size = tonumber(redis.call('HGET', key, countField) or '0')
    local victim, least = nil, nil
    if size >= cap then
      local all = redis.call('HGETALL', key)
      for i = 1, #all, 2 do
        local f = all[i]
        if f ~= otherField and string.sub(f, 1, #pre) == pre then
          local v = tonumber(all[i + 1])
          if least == nil or v < least then victim, least = f, v end
        end
      end
    end
    if victim then
      redis.call('HDEL', key, victim)
      redis.call('HINCRBY', key, otherField, least)
      if sketchKey then
        local gone = string.sub(victim, #pre + 1)
        for _, sp in ipairs(sks) do
          local s = redis.call('HGET', sketchKey, sp .. gone)
          if s then
            redis.call('HDEL', sketchKey, sp .. gone)
            unite(sketchKey, sp .. 'other', s)
          end
        end
      end
    else
      redis.call('HINCRBY', key, countField, 1)
    end
  end
  redis.call('HINCRBY', key, field, n)
  if sketchKey then
    for i, sp in ipairs(sks) do
      local a = tonumber(args[i])
      if a > 0 then unite(sketchKey, sp .. label, ARGV[a]) end
    end
  end
end

-- A site's four request cells (labels.ts SITE_CELLS), one field 'a,b,c,d' per name.
local function cellsOf(text)
  local t = {0, 0, 0, 0}
  if text then
    local i = 1
    for v in string.gmatch(text, '%d+') do
      if i <= 4 then t[i] = tonumber(v) end
      i = i + 1
    end
  end
  return t
end

local function addCells(key, field, cells)
  local t = cellsOf(redis.call('HGET', key, field))
  for i = 1, 4 do t[i] = t[i] + cells[i] end
  redis.call('HSET', key, field, string.format('%d,%d,%d,%d', t[1], t[2], t[3], t[4]))
end

-- Bounded sites, as addBounded with a name's weight the sum of its cells. sticky (the all-time totals,
-- monotonic counters): the first cap names keep their slots for good, later ones count in other.
local function addSite(key, pre, countField, name, text, cap, sticky, present)
  local cells = cellsOf(text)
  local field = pre .. name
  local otherField = pre .. 'other'
  if field ~= otherField and (present == false or (present == nil and redis.call('HEXISTS', key, field) == 0)) then
    local size = tonumber(redis.call('HGET', key, countField) or '0')
    if size < cap then
      redis.call('HINCRBY', key, countField, 1)
    elseif sticky then
      field = otherField
    else
      local victim, least, moved = nil, nil, nil
      local all = redis.call('HGETALL', key)
      for i = 1, #all, 2 do
        local f = all[i]
        if f ~= otherField and string.sub(f, 1, #pre) == pre then
          local c = cellsOf(all[i + 1])
          local w = c[1] + c[2] + c[3] + c[4]
          if least == nil or w < least then victim, least, moved = f, w, c end
        end
      end
      if victim then
        redis.call('HDEL', key, victim)
        addCells(key, otherField, moved)
      else
        redis.call('HINCRBY', key, countField, 1)
      end
    end
  end
  addCells(key, field, cells)
end

-- As the model merges (mergeState): labels already in the hash (and other) first, then the new ones in
-- the delta's order (lightest first in buckets, first come in the totals). Marks each (e.p: there or
-- not), so that addBounded and addSite need not ask again.
local function existingFirst(key, pre, list)
  local out, later = {}, {}
  for _, e in ipairs(list) do
    if e[1] == 'other' or redis.call('HEXISTS', key, pre .. e[1]) == 1 then
      e.p = true
      out[#out + 1] = e
    else
      e.p = false
      later[#later + 1] = e
    end
  end
  for _, e in ipairs(later) do out[#out + 1] = e end
  return out
end

for _, h in ipairs(d.H) do
  local key = P .. 'h:' .. h[1]
  local vkey = P .. 'hv:' .. h[1]
  for _, c in ipairs(h[4]) do redis.call('HINCRBY', key, c[1], c[2]) end
  for _, c in ipairs(existingFirst(key, 'c:', h[5])) do addBounded(key, 'c:', '#c', c[1], c[2], d.cc, vkey, {'c:'}, {c[3]}, c.p) end
  for _, o in ipairs(existingFirst(key, 'o:', h[6])) do addBounded(key, 'o:', '#o', o[1], o[2], d.oc, nil, nil, nil, o.p) end
  for _, v in ipairs(h[7]) do unite(vkey, 'v:' .. v[1], ARGV[v[2]]) end
  for _, j in ipairs(existingFirst(key, 'j:', h[8])) do addBounded(key, 'j:', '#j', j[1], j[2], d.jc, nil, nil, nil, j.p) end
  for _, c in ipairs(existingFirst(key, 'H:', h[9])) do addSite(key, 'H:', '#H', c[1], c[2], d.hc, false, c.p) end
  for _, c in ipairs(existingFirst(key, 'G:', h[10])) do addSite(key, 'G:', '#G', c[1], c[2], d.gc, false, c.p) end
  if redis.call('EXISTS', key) == 1 then redis.call('PEXPIREAT', key, h[2]) end
  if redis.call('EXISTS', vkey) == 1 then redis.call('PEXPIREAT', vkey, h[3]) end
end

for _, day in ipairs(d.D) do
  local key = P .. 'd:' .. day[1]
  local vkey = P .. 'dv:' .. day[1]
  for _, c in ipairs(existingFirst(key, 'c:', day[3])) do addBounded(key, 'c:', '#c', c[1], c[2], d.cc, vkey, {'c:'}, {c[3]}, c.p) end
  for _, v in ipairs(day[4]) do unite(vkey, 'v:' .. v[1], ARGV[v[2]]) end
  for _, c in ipairs(existingFirst(key, 'H:', day[5])) do addBounded(key, 'H:', '#H', c[1], c[2], d.hc, vkey, {'Hb:', 'Hl:'}, {c[3], c[4]}, c.p) end
  for _, c in ipairs(existingFirst(key, 'G:', day[6])) do addBounded(key, 'G:', '#G', c[1], c[2], d.gc, vkey, {'Gb:', 'Gl:'}, {c[3], c[4]}, c.p) end
  if redis.call('EXISTS', key) == 1 then redis.call('PEXPIREAT', key, day[2]) end
  if redis.call('EXISTS', vkey) == 1 then redis.call('PEXPIREAT', vkey, day[2]) end
end

local tkey = P .. 't'
for _, c in ipairs(d.T) do redis.call('HINCRBY', tkey, c[1], c[2]) end
for _, c in ipairs(existingFirst(tkey, 'H:', d.TH)) do addSite(tkey, 'H:', '#H', c[1], c[2], d.hc, true, c.p) end
for _, c in ipairs(existingFirst(tkey, 'G:', d.TG)) do addSite(tkey, 'G:', '#G', c[1], c[2], d.gc, true, c.p) end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local seen = P .. 'is'
local requests = P .. 'ir'
redis.call('ZADD', seen, now, ARGV[4])
redis.call('HINCRBY', requests, ARGV[4], d.n)
local gone = redis.call('ZRANGEBYSCORE', seen, '-inf', now - tonumber(d.i), 'LIMIT', 0, 100)
local extra = redis.call('ZCARD', seen) - d.mi
if extra > 0 then
  for _, name in ipairs(redis.call('ZRANGE', seen, 0, extra - 1)) do gone[#gone + 1] = name end
end
for _, name in ipairs(gone) do
  redis.call('ZREM', seen, name)
  redis.call('HDEL', requests, name)
end

redis.call('SET', qkey, ARGV[3], 'PX', d.q)
return 1
`;

export const APPLY_DELTA_SHA = createHash('sha1').update(APPLY_DELTA_SCRIPT).digest('hex');

/** A delta as the script's arguments (after prefix, process id, sequence and instance name). */
export interface EncodedDelta {
  header: string;
  sketches: Buffer[];
  /** Requests in the delta, for the instance table. */
  requests: number;
}

type Pair = [string, string];

/** Turns a delta into the script's header and sketch arguments. `firstSketchArg`: ARGV index of the first sketch. */
export function encodeDelta(state: StatsState, retentionDays: number, firstSketchArg = 6): EncodedDelta {
  const sketches: Buffer[] = [];
  const sketchArg = (hll: HyperLogLog | undefined): number => {
    const registers = hll?.registers();
    if (!registers || registers.every((value) => value === 0)) return 0;
    sketches.push(Buffer.from(registers.buffer, registers.byteOffset, registers.byteLength));
    return firstSketchArg + sketches.length - 1;
  };
  const retentionMs = retentionDays * DAY_MS;
  const hours = [...state.hours].map(([start, bucket]) => {
    const counters: Pair[] = [];
    const put = (prefix: string, map: Map<string, number>) => map.forEach((n, key) => n > 0 && counters.push([`${prefix}${key}`, String(n)]));
    put('r:', bucket.requests);
    put('a:', bucket.actions);
    put('e:', bucket.reasons);
    put('s:', bucket.handshakes);
    put('f:', bucket.failures);
    put('u:', bucket.upstreamErrors);
    put('w:', bucket.pageViews);
    // The ClientHello census (closed sets); its fingerprints are bounded below.
    put('k:', bucket.offered);
    put('p:', bucket.passThrough);
    const clients = lightestFirst(bucket.clients).map(([label, n]) => [label, String(n), sketchArg(bucket.clientVisitors?.get(label))]);
    const os = lightestFirst(bucket.os).map(([label, n]) => [label, String(n)]);
    const visitors = bucket.visitors ? [...bucket.visitors].map(([key, hll]) => [key, sketchArg(hll)]).filter(([, arg]) => arg !== 0) : [];
    const fingerprints = lightestFirst(bucket.failedFingerprints).map(([label, n]) => [label, String(n)]);
    return [String(start), String(start + retentionMs + HOUR_MS), String(start + HOUR_SKETCH_TTL_MS), counters, clients, os, visitors, fingerprints, cellsList(bucket.hosts, true), cellsList(bucket.groups, true)];
  });
  const days = [...state.days].map(([start, bucket]) => {
    const clients = [...bucket.clients].filter(([, c]) => c.requests > 0).sort((a, b) => a[1].requests - b[1].requests).map(([label, c]) => [label, String(c.requests), sketchArg(c.visitors)]);
    const visitors = [...bucket.visitors].map(([key, hll]) => [key, sketchArg(hll)]).filter(([, arg]) => arg !== 0);
    const sites = (map: Map<string, SiteDay>) => [...map].filter(([, e]) => e.requests > 0).sort((a, b) => a[1].requests - b[1].requests).map(([name, e]) => [name, String(e.requests), sketchArg(e.browsers), sketchArg(e.legacyBrowsers)]);
    return [String(start), String(start + retentionMs + DAY_MS), clients, visitors, sites(bucket.hosts), sites(bucket.groups)];
  });
  const totals: Pair[] = [];
  let requests = 0;
  state.totals.requests.forEach((n, key) => {
    requests += n;
    totals.push([`r:${key}`, String(n)]);
  });
  state.totals.handshakes.forEach((n, key) => totals.push([`s:${key}`, String(n)]));
  state.totals.failures.forEach((n, key) => totals.push([`f:${key}`, String(n)]));
  state.totals.upstreamErrors.forEach((n, key) => totals.push([`u:${key}`, String(n)]));
  state.totals.offered.forEach((n, key) => totals.push([`k:${key}`, String(n)]));
  const header = JSON.stringify({
    H: hours,
    D: days,
    T: totals,
    TH: cellsList(state.totals.hosts),
    TG: cellsList(state.totals.groups),
    n: String(requests),
    cc: MAX_CLIENTS_PER_BUCKET,
    oc: MAX_OS_PER_HOUR,
    jc: MAX_FINGERPRINTS_PER_HOUR,
    hc: MAX_HOSTS,
    gc: MAX_GROUPS,
    q: String(retentionMs),
    i: String(retentionMs),
    mi: MAX_INSTANCES,
  });
  return { header, sketches, requests };
}

/**
 * A bounded map's entries, lightest first (stable): the script adds them in this order, so that labels
 * new to Redis arrive as the model's mergeState takes them, and the heavier ones are left standing.
 */
function lightestFirst(map: Map<string, number>): [string, number][] {
  return [...map].filter(([, n]) => n > 0).sort((a, b) => a[1] - b[1]);
}

/**
 * Sites' cells as [name, 'a,b,c,d'] (the script adds them up cell by cell); empty names left out. Hour
 * buckets go lightest first (see lightestFirst); the totals in their order: first come, first kept.
 */
function cellsList(map: Map<string, SiteCells>, byWeight = false): [string, string][] {
  const out: [string, string, number][] = [];
  map.forEach((cells, name) => {
    const four = [0, 1, 2, 3].map((i) => Math.max(0, Math.trunc(cells[i] ?? 0)));
    const weight = four.reduce((a, b) => a + b, 0);
    if (weight > 0) out.push([name, four.join(','), weight]);
  });
  if (byWeight) out.sort((a, b) => a[2] - b[2]);
  return out.map(([name, text]) => [name, text]);
}

/** The hashes a report reads, by role, for the window the report covers (at most 31 days back). */
export interface ReadPlan {
  totals: string;
  hours: { start: number; counters: string; sketches: string | null }[];
  days: { start: number; counts: string; sketches: string }[];
  seen: string;
  requests: string;
}

export function readPlan(prefix: string, now: number, retentionDays: number): ReadPlan {
  const days = Math.min(retentionDays, 31);
  const lastHour = hourStart(now);
  const firstHour = lastHour - days * DAY_MS;
  const oldestSketch = lastHour - HOURLY_SKETCH_HOURS * HOUR_MS;
  const hours: ReadPlan['hours'] = [];
  for (let start = firstHour; start <= lastHour; start += HOUR_MS) {
    hours.push({ start, counters: `${prefix}h:${start}`, sketches: start >= oldestSketch ? `${prefix}hv:${start}` : null });
  }
  const dayList: ReadPlan['days'] = [];
  const today = dayStart(now);
  for (let start = today - (days - 1) * DAY_MS; start <= today; start += DAY_MS) dayList.push({ start, counts: `${prefix}d:${start}`, sketches: `${prefix}dv:${start}` });
  return { totals: `${prefix}t`, hours, days: dayList, seen: `${prefix}is`, requests: `${prefix}ir` };
}

/** A hash as Redis returns it (flat array in RESP2, map in RESP3), as field → value entries. */
export type HashReply = Map<string, Buffer>;

export function hashReply(reply: unknown): HashReply {
  const out: HashReply = new Map();
  const asBuffer = (value: unknown) => (Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'latin1'));
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out.set(asBuffer(reply[i]).toString('latin1'), asBuffer(reply[i + 1]));
  } else if (reply instanceof Map) {
    for (const [key, value] of reply as Map<unknown, unknown>) out.set(asBuffer(key).toString('latin1'), asBuffer(value));
  } else if (reply !== null && typeof reply === 'object') {
    for (const [key, value] of Object.entries(reply as Record<string, unknown>)) out.set(key, asBuffer(value));
  }
  return out;
}

function count(value: Buffer): number | null {
  const text = value.toString('latin1');
  if (!/^\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function sketchOf(value: Buffer, precision?: number): HyperLogLog | null {
  try {
    return HyperLogLog.fromRegisters(value, precision);
  } catch {
    // Not a sketch this package wrote (another writer under the prefix): left out, never fatal.
    return null;
  }
}

/** Counters of one prefix (`r:`…) into `map`; `allowed` keeps closed label sets closed. */
function counters<K extends string>(hash: HashReply, prefix: string, allowed?: readonly K[]): Map<K, number> {
  const map = new Map<K, number>();
  for (const [field, value] of hash) {
    if (!field.startsWith(prefix)) continue;
    const key = field.slice(prefix.length);
    if (allowed && !allowed.includes(key as K)) continue;
    const n = count(value);
    if (n !== null) map.set(key as K, n);
  }
  return map;
}

function sketches(hash: HashReply | undefined, prefix: string, precision?: number): Map<string, HyperLogLog> {
  const map = new Map<string, HyperLogLog>();
  if (!hash) return map;
  for (const [field, value] of hash) {
    if (!field.startsWith(prefix)) continue;
    const hll = sketchOf(value, precision);
    if (hll) map.set(field.slice(prefix.length), hll);
  }
  return map;
}

/**
 * A bounded map as the script keeps it: at most `cap` names and `other`. More was not written by this
 * package (another writer under the prefix): the heaviest are kept, the rest folded into `other`, so a
 * report never holds more than the model's bounds.
 */
function bounded(map: Map<string, number>, cap: number): Map<string, number> {
  const named = [...map].filter(([key]) => key !== 'other');
  if (named.length <= cap) return map;
  named.sort((a, b) => b[1] - a[1]);
  const out = new Map(named.slice(0, cap));
  let other = map.get('other') ?? 0;
  for (const [, n] of named.slice(cap)) other += n;
  out.set('other', other);
  return out;
}

/** Sites' cells of one prefix (`H:` hosts, `G:` groups): 'a,b,c,d' per name; at most `cap` names and `other`. */
function siteCells(hash: HashReply, prefix: string, cap: number): Map<string, SiteCells> {
  const map = new Map<string, SiteCells>();
  for (const [field, value] of hash) {
    if (!field.startsWith(prefix)) continue;
    const parts = value.toString('latin1').split(',');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,16}$/.test(p))) continue;
    const cells = parts.map(Number);
    if (cells.some((n) => !Number.isSafeInteger(n)) || cells.every((n) => n === 0)) continue;
    map.set(field.slice(prefix.length), cells);
  }
  return map.size > cap + 1 ? foldSites(map, cap) : map;
}

function foldSites(map: Map<string, SiteCells>, cap: number): Map<string, SiteCells> {
  const weight = (cells: SiteCells) => cells.reduce((a, b) => a + b, 0);
  const named = [...map].filter(([key]) => key !== 'other').sort((a, b) => weight(b[1]) - weight(a[1]));
  const out = new Map(named.slice(0, cap));
  const other = [...(map.get('other') ?? [0, 0, 0, 0])];
  for (const [, cells] of named.slice(cap)) cells.forEach((n, i) => (other[i] = (other[i] ?? 0) + n));
  out.set('other', other);
  return out;
}

/** A day's sites of one scope (`H` hosts, `G` groups): requests in the counts hash, sketches `Hb:`/`Hl:` beside the day's. */
function siteDays(reply: { counts: HashReply; sketches: HashReply }, scope: 'H' | 'G', cap: number): Map<string, SiteDay> {
  const browsers = sketches(reply.sketches, `${scope}b:`, SITE_SKETCH_PRECISION);
  const legacy = sketches(reply.sketches, `${scope}l:`, SITE_SKETCH_PRECISION);
  const map = new Map<string, SiteDay>();
  for (const [name, requests] of bounded(counters(reply.counts, `${scope}:`), cap)) {
    map.set(name, {
      requests,
      browsers: browsers.get(name) ?? new HyperLogLog(SITE_SKETCH_PRECISION),
      legacyBrowsers: legacy.get(name) ?? new HyperLogLog(SITE_SKETCH_PRECISION),
    });
  }
  return map;
}

export interface ReadReplies {
  totals: HashReply;
  hours: { counters: HashReply; sketches: HashReply | undefined }[];
  days: { counts: HashReply; sketches: HashReply }[];
  seen: unknown;
  requests: HashReply;
}

/** What Redis holds, as the model's state (the report's input), and the instance table. */
export function decodeState(plan: ReadPlan, replies: ReadReplies): { state: StatsState; instances: InstanceStatus[] } {
  const state = emptyState();
  state.totals.requests = counters(replies.totals, 'r:');
  state.totals.handshakes = counters(replies.totals, 's:');
  state.totals.failures = counters(replies.totals, 'f:', FAILURE_REASONS);
  state.totals.upstreamErrors = counters<UpstreamErrorStatus>(replies.totals, 'u:', UPSTREAM_ERROR_STATUSES);
  state.totals.offered = counters<ClientHelloOutcome>(replies.totals, 'k:', CLIENT_HELLO_OUTCOMES);
  state.totals.hosts = siteCells(replies.totals, 'H:', MAX_HOSTS);
  state.totals.groups = siteCells(replies.totals, 'G:', MAX_GROUPS);
  plan.hours.forEach(({ start }, i) => {
    const { counters: hash, sketches: sketchHash } = replies.hours[i] ?? { counters: new Map(), sketches: undefined };
    if (hash.size === 0 && (!sketchHash || sketchHash.size === 0)) return;
    const bucket: HourBucket = {
      requests: counters(hash, 'r:'),
      actions: counters<FallbackAction>(hash, 'a:', FALLBACK_ACTIONS),
      reasons: counters<LegacyReason>(hash, 'e:', LEGACY_REASONS),
      clients: counters(hash, 'c:'),
      os: counters(hash, 'o:'),
      handshakes: counters(hash, 's:'),
      failures: counters<HandshakeFailureReason>(hash, 'f:', FAILURE_REASONS),
      upstreamErrors: counters<UpstreamErrorStatus>(hash, 'u:', UPSTREAM_ERROR_STATUSES),
      visitors: sketchHash ? sketches(sketchHash, 'v:') : null,
      clientVisitors: sketchHash ? sketches(sketchHash, 'c:', CLIENT_SKETCH_PRECISION) : null,
      offered: counters<ClientHelloOutcome>(hash, 'k:', CLIENT_HELLO_OUTCOMES),
      failedFingerprints: bounded(counters(hash, 'j:'), MAX_FINGERPRINTS_PER_HOUR),
      passThrough: counters<PassThroughOutcome>(hash, 'p:', PASS_THROUGH_OUTCOMES),
      pageViews: counters(hash, 'w:'),
      hosts: siteCells(hash, 'H:', MAX_HOSTS),
      groups: siteCells(hash, 'G:', MAX_GROUPS),
    };
    state.hours.set(start, bucket);
  });
  plan.days.forEach(({ start }, i) => {
    const reply = replies.days[i];
    if (!reply || (reply.counts.size === 0 && reply.sketches.size === 0)) return;
    const clientSketches = sketches(reply.sketches, 'c:', CLIENT_SKETCH_PRECISION);
    const bucket: DayBucket = { visitors: sketches(reply.sketches, 'v:'), clients: new Map(), hosts: siteDays(reply, 'H', MAX_HOSTS), groups: siteDays(reply, 'G', MAX_GROUPS) };
    for (const [label, requests] of counters(reply.counts, 'c:')) {
      bucket.clients.set(label, { requests, visitors: clientSketches.get(label) ?? new HyperLogLog(CLIENT_SKETCH_PRECISION) });
    }
    state.days.set(start, bucket);
  });
  return { state, instances: decodeInstances(replies.seen, replies.requests) };
}

function decodeInstances(seen: unknown, requests: HashReply): InstanceStatus[] {
  const flat = Array.isArray(seen) ? seen : [];
  const out: InstanceStatus[] = [];
  // ZRANGE … REV WITHSCORES: name, score, name, score… (RESP3 may nest each pair).
  const pairs: [unknown, unknown][] = flat.length > 0 && Array.isArray(flat[0]) ? (flat as [unknown, unknown][]) : [];
  if (pairs.length === 0) for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  for (const [name, score] of pairs) {
    const text = Buffer.isBuffer(name) ? name.toString('utf8') : String(name);
    const ms = Number(Buffer.isBuffer(score) ? score.toString('latin1') : score);
    if (!Number.isFinite(ms)) continue;
    const n = requests.get(text);
    out.push({ name: text, lastSeen: new Date(ms).toISOString(), requests: n === undefined ? 0 : (count(n) ?? 0) });
  }
  return out;
}
