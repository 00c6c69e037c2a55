/**
 * The Redis layout against the model itself: a state with every field of every bucket and of the totals
 * filled (by the model's own record functions, past every bound) goes through a RedisStore to a real
 * Redis and back, and must equal the same state through the stats file (toDocument/fromDocument). The
 * fields are found by walking the state, so a field added to the model later and not carried by the
 * Redis layout fails here (and one the fixture does not fill fails the completeness check first).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HyperLogLog } from '../src/stats/hyperloglog.js';
import { clientLabel, FAILURE_REASONS, FALLBACK_ACTIONS, OTHER, sampleKeys, siteCell, UPSTREAM_ERROR_STATUSES, type PassThroughOutcome, type ProtocolLabel, type RequestLabels } from '../src/stats/labels.js';
import {
  DAY_MS,
  emptyState,
  HOUR_MS,
  hourStart,
  MAX_CLIENTS_PER_BUCKET,
  MAX_FINGERPRINTS_PER_HOUR,
  MAX_GROUPS,
  MAX_HOSTS,
  MAX_OS_PER_HOUR,
  mergeState,
  prune,
  recordClientHello,
  recordHandshake,
  recordHandshakeFailure,
  recordPassThrough,
  recordRequest,
  recordSite,
  recordUpstreamError,
  type StatsState,
} from '../src/stats/model.js';
import { fromDocument, toDocument } from '../src/stats/serialize.js';
import { redisStore, type RedisStore } from '../src/stats/stores/redis.js';
import { CLIENT_HELLO_OUTCOMES, type FallbackAction } from '../src/types.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { hasTool } from './helpers/tools.js';

const haveRedis = hasTool('redis-server');
const RETENTION_DAYS = 31;
const NOW = hourStart(Date.now()) + 17 * 60_000;
const SALT = Buffer.alloc(32, 7);

const visitor = (seed: string): Uint8Array => createHash('sha256').update(seed).digest().subarray(0, 8);

/** Labels of one request, varied by `i` over every closed set and past every open set's bound. */
function labels(i: number, action: FallbackAction): RequestLabels {
  const protocols: ProtocolLabel[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'none'];
  const protocol = protocols[i % protocols.length] ?? 'none';
  const tlsLegacy = protocol === 'TLSv1' || protocol === 'TLSv1.1';
  const uaLegacy = i % 3 === 0;
  const legacy = tlsLegacy || uaLegacy;
  const kinds = ['browser', 'bot', 'library', 'unknown'] as const;
  // Clients and OS families past MAX_CLIENTS_PER_BUCKET / MAX_OS_PER_HOUR, with distinct weights.
  const os = `os${i % (MAX_OS_PER_HOUR + 6)}`;
  return {
    protocol,
    kind: kinds[i % 4] ?? 'browser',
    legacy,
    uaLegacy,
    tlsLegacy,
    intercepted: i % 7 === 0,
    action,
    client: legacy ? clientLabel(`Browser${i % (MAX_CLIENTS_PER_BUCKET + 8)}`, String(i % 5), os) : null,
    os,
  };
}

/** Every kind of count at `time`, `scale` times over (scales give distinct weights to distinct labels). */
function fill(state: StatsState, time: number, seed: string, scale = 1): void {
  const actions = FALLBACK_ACTIONS;
  for (let i = 0; i < 400 * scale; i++) {
    const action = actions[i % actions.length] ?? 'passed';
    const sample = labels(i, action);
    const hash = visitor(`${seed}:${i % 150}`);
    recordRequest(state, time, { ...sample, keys: sampleKeys(sample) }, hash);
    // Hosts past MAX_HOSTS and groups past MAX_GROUPS, heavier the lower their number.
    const host = `host${Math.floor(Math.sqrt(i * 7)) % (MAX_HOSTS + 5)}.example`;
    const group = `group${(i * 13) % (MAX_GROUPS + 6)}`;
    recordSite(state, time, host, group, siteCell(sample.legacy, sample.kind === 'browser'), sample.kind === 'browser' ? hash : null, sample.legacy);
  }
  for (let i = 0; i < 60 * scale; i++) {
    recordHandshake(state, time, (['TLSv1', 'TLSv1.2', 'TLSv1.3'] as const)[i % 3] ?? 'none', i % 4 === 0);
    recordClientHello(state, time, CLIENT_HELLO_OUTCOMES[i % CLIENT_HELLO_OUTCOMES.length] ?? 'TLSv1');
    recordPassThrough(state, time, (['relayed', 'terminated', 'upstream-unavailable'] as PassThroughOutcome[])[i % 3] ?? 'relayed');
    recordUpstreamError(state, time, i % 2 === 0 ? 502 : 504);
  }
  // Failed handshakes past MAX_FINGERPRINTS_PER_HOUR (the lower numbers heavier), some with no hello read.
  const distinct = MAX_FINGERPRINTS_PER_HOUR + 10;
  for (let i = 0; i < distinct * 3 * scale; i++) {
    const n = i % distinct < distinct / 2 ? i % distinct : i % (distinct + 7);
    const offered = i % 11 === 5 ? null : { maxVersion: n % 3 === 0 ? ('SSLv3' as const) : ('TLSv1' as const), ja4: `t10d${String(n).padStart(4, '0')}00_aaaaaaaaaaaa_bbbbbbbbbbbb` };
    recordHandshakeFailure(state, time, FAILURE_REASONS[i % FAILURE_REASONS.length] ?? 'other', offered);
  }
}

/** The state as plain data, order-free: maps as sorted objects, sketches as their registers. */
function plain(value: unknown): unknown {
  if (value instanceof HyperLogLog) {
    const registers = value.registers();
    return registers && registers.some((r) => r !== 0) ? `hll:${Buffer.from(registers).toString('base64')}` : 'hll:empty';
  }
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** The names of the fields of `object` that hold nothing (an empty map, null). */
function emptyFields(object: object, where: string): string[] {
  return Object.entries(object)
    .filter(([, v]) => v === null || v === undefined || (v instanceof Map && v.size === 0))
    .map(([k]) => `${where}.${k}`);
}

function throughFile(state: StatsState): StatsState {
  return fromDocument(JSON.parse(JSON.stringify(toDocument(state, SALT, NOW)))).state;
}

const open: RedisStore[] = [];
async function store(url: string, keyPrefix: string): Promise<RedisStore> {
  const created = redisStore({ url, keyPrefix, instance: 'model', connectTimeout: 1000, commandTimeout: 5000 });
  open.push(created);
  await created.open({ salt: SALT, now: () => NOW, retentionDays: RETENTION_DAYS, warn: () => undefined });
  return created;
}

async function throughRedis(url: string, keyPrefix: string, ...deltas: StatsState[]): Promise<StatsState> {
  const s = await store(url, keyPrefix);
  for (const delta of deltas) {
    s.add(delta);
    await s.flush();
  }
  expect(s.status().error).toBeNull();
  return s.read();
}

/** The fixture: this hour, two hours ago, and three days ago (its hourly sketches dropped, as the model does). */
function fixture(seed: string, scale = 1): StatsState {
  const state = emptyState();
  for (const [offset, k] of [[0, 1], [2 * HOUR_MS, 2], [3 * DAY_MS, 1]] as const) fill(state, NOW - offset, `${seed}:${offset}`, scale * k);
  prune(state, NOW, RETENTION_DAYS);
  return state;
}

describe.skipIf(!haveRedis)('the Redis layout carries the whole model', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await redis?.stop();
  });

  it('fills every field of the model in the fixture (a new field must be filled here too)', () => {
    const state = fixture('complete');
    const hour = state.hours.get(hourStart(NOW));
    const day = state.days.get(NOW - (NOW % DAY_MS));
    expect(hour && day).toBeTruthy();
    const empty = [...emptyFields(hour!, 'hour'), ...emptyFields(day!, 'day'), ...emptyFields(state.totals, 'totals')];
    expect(empty).toEqual([]);
    // Every bound reached: `other` holds what was folded away.
    const bounded = { hourClients: hour!.clients, hourOs: hour!.os, fingerprints: hour!.failedFingerprints, hourHosts: hour!.hosts, hourGroups: hour!.groups, dayClients: day!.clients, dayHosts: day!.hosts, dayGroups: day!.groups, totalHosts: state.totals.hosts, totalGroups: state.totals.groups };
    expect(Object.entries(bounded).filter(([, map]) => !map.has(OTHER)).map(([name]) => name)).toEqual([]);
    expect(hour!.reasons.get('intercepted-or-spoofed')).toBeGreaterThan(0);
    expect([...day!.hosts.values()].some((d) => d.legacyBrowsers.count() > 0)).toBe(true);
    expect(new Set(state.totals.upstreamErrors.keys())).toEqual(new Set(UPSTREAM_ERROR_STATUSES));
  });

  it('reads back from Redis exactly what the stats file keeps, field for field', async () => {
    const state = fixture('round-trip');
    const expected = plain(throughFile(state));
    const back = await throughRedis(redis.url, 'model1:', state);
    expect(plain(back)).toEqual(expected);
  });

  it('writes nothing of a delta while Redis is out of memory, and all of it, once, when there is room', async () => {
    const state = fixture('oom');
    const expected = plain(throughFile(state));
    const s = await store(redis.url, 'oom:');
    redis.cli('CONFIG', 'SET', 'maxmemory', '1');
    try {
      s.add(state);
      await s.flush();
      expect(s.status().error).toMatch(/OOM|memory/i);
      expect(redis.cli('--scan', '--pattern', 'oom:*').trim().split('\n').filter((key) => key && key !== 'oom:salt')).toEqual([]);
    } finally {
      redis.cli('CONFIG', 'SET', 'maxmemory', '0');
    }
    for (let attempt = 0; attempt < 50 && s.status().error !== null; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await s.flush();
    }
    expect(s.status().error).toBeNull();
    expect(plain(await s.read())).toEqual(expected);
  });

  it('unites two deltas in Redis as the model merges them: same bounds, same `other`, sticky all-time sites', async () => {
    const a = fixture('first', 1);
    const b = fixture('second', 3);
    // More hosts in the second delta: in the hours the heaviest stay; in the totals the first 20 keep their slots.
    for (let i = 0; i < 30; i++) for (let n = 0; n <= i; n++) recordSite(b, NOW, `late${i}.example`, `late-group${i}`, siteCell(true, true), null, true);
    const expected = throughFile(a);
    mergeState(expected, throughFile(b));
    const back = await throughRedis(redis.url, 'model2:', a, b);
    const got = plain(back) as { hours: Record<string, Record<string, unknown>>; days: Record<string, Record<string, unknown>>; totals: unknown };
    const want = plain(expected) as typeof got;
    // Counters and bounds: exactly the model's (weights differ, so the lightest is never a tie).
    expect(got.totals).toEqual(want.totals);
    for (const [start, hour] of Object.entries(want.hours)) {
      for (const field of ['requests', 'actions', 'reasons', 'handshakes', 'failures', 'upstreamErrors', 'offered', 'passThrough', 'pageViews', 'hosts', 'groups', 'failedFingerprints', 'os', 'clients']) {
        expect([start, field, got.hours[start]?.[field]]).toEqual([start, field, hour[field]]);
      }
    }
    const hour = back.hours.get(hourStart(NOW))!;
    const day = back.days.get(NOW - (NOW % DAY_MS))!;
    expect(hour.hosts.size).toBe(MAX_HOSTS + 1);
    expect(hour.groups.size).toBe(MAX_GROUPS + 1);
    expect(day.hosts.size).toBe(MAX_HOSTS + 1);
    expect(back.totals.hosts.size).toBe(MAX_HOSTS + 1);
    // Sticky totals: the names of the first delta hold the slots; every later name counts in `other`.
    expect([...back.totals.hosts.keys()].filter((k) => k.startsWith('late'))).toEqual([]);
    const sum = (s: StatsState) => [...s.totals.hosts.values()].flat().reduce((x, y) => x + y, 0);
    expect(sum(back)).toBe(sum(a) + sum(b));
    // A day's sites: requests exact, sketches of what went to `other` united into other's.
    for (const [name, site] of expected.days.get(NOW - (NOW % DAY_MS))!.hosts) {
      const got = day.hosts.get(name);
      expect([name, got?.requests]).toEqual([name, site.requests]);
      expect([name, Math.round(got?.browsers.count() ?? -1)]).toEqual([name, Math.round(site.browsers.count())]);
    }
  });
});
