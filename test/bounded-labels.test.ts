/**
 * Issue 10, item 8: 34 made-up legacy user agents took the 32 client-label slots first come and hid
 * real IE 8 traffic as `other` in the 24 h and 7 d windows. Bounded label maps now keep the heaviest
 * keys: these tests replay that attack, churn, merges and late loads, and check that totals stay exact.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPolicy } from '../src/classify/policy.js';
import { classifyClient } from '../src/classify/classify.js';
import { buildReport, type LegacyClientRow, type WindowName } from '../src/report/document.js';
import {
  DAY_MS,
  HOUR_MS,
  MAX_CLIENTS_PER_BUCKET,
  emptyState,
  hourStart,
  mergeState,
  recordRequest,
  type StatsState,
} from '../src/stats/model.js';
import {
  OTHER,
  type RequestLabels,
} from '../src/stats/labels.js';
import { workerOf } from './helpers/stats.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { clientLabel as legacyClientLabel } from '../src/stats/labels.js';
import type { TlsProtocol } from '../src/types.js';
import { IE8 } from './helpers/fallback.js';

const policy = buildPolicy();

/** 40 user agents that each name a different legacy browser (Chrome before 30, Firefox before 27). */
const FAKES = [
  ...Array.from({ length: 20 }, (_, i) => `Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${i + 10}.0.1000.0 Safari/537.36`),
  ...Array.from({ length: 20 }, (_, i) => `Mozilla/5.0 (Windows NT 6.1; rv:${i + 4}.0) Gecko/20100101 Firefox/${i + 4}.0`),
];

function record(stats: TrafficStats, protocol: TlsProtocol, userAgent: string, remoteAddress: string): void {
  const verdict = classifyClient({ protocol, cipher: null, servername: null, source: 'socket' }, userAgent, policy);
  stats.recordRequest({ verdict, action: verdict.legacy ? 'redirected' : 'passed', remoteAddress, userAgent });
}

function ie8Row(stats: TrafficStats, window: WindowName): LegacyClientRow | undefined {
  const report = buildReport(stats.snapshot(), stats.now(), stats.storageStatus());
  return report.windows[window].topLegacyClients.find((row) => row.browser === 'IE' && row.version === '8' && row.os === 'Windows XP');
}

const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);

/** Every hour's client map adds up to the legacy requests of that hour, and holds at most the cap. */
function expectExactAndBounded(state: StatsState): void {
  for (const [start, hour] of state.hours) {
    const legacy = sum([...hour.requests].filter(([key]) => key.split('|')[2] === '1').map(([, n]) => n));
    expect(sum(hour.clients.values()), new Date(start).toISOString()).toBe(legacy);
    expect([...hour.clients.keys()].filter((key) => key !== OTHER).length).toBeLessThanOrEqual(MAX_CLIENTS_PER_BUCKET);
    for (const key of hour.clientVisitors?.keys() ?? []) expect(hour.clients.has(key)).toBe(true);
  }
  for (const day of state.days.values()) {
    expect([...day.clients.keys()].filter((key) => key !== OTHER).length).toBeLessThanOrEqual(MAX_CLIENTS_PER_BUCKET);
  }
}

describe('bounded client labels keep the heaviest, not the first come', () => {
  it('shows real IE 8 traffic after 40 made-up legacy user agents, with its exact count, in the 24 h and 7 d windows', async () => {
    const today = Date.UTC(2026, 2, 10);
    let now = today - 2 * DAY_MS + 10 * HOUR_MS;
    const stats = new TrafficStats({ now: () => now });
    const attack = (prefix: string) => {
      for (const [i, ua] of FAKES.entries()) for (let n = 0; n < 3; n++) record(stats, 'TLSv1.2', ua, `${prefix}.${i}.${n}`);
    };
    const ie8 = (requests: number, visitors: number) => {
      for (let i = 0; i < requests; i++) record(stats, 'TLSv1', IE8, `198.51.100.${i % visitors}`);
    };

    attack('203.0.113');
    ie8(20, 4);
    now = today + 9 * HOUR_MS;
    attack('203.0.114');
    ie8(30, 6);
    now = today + 12 * HOUR_MS;

    const day = ie8Row(stats, '24h');
    expect(day?.requests).toBe(30);
    // Per-client sketches have 256 registers: two of six visitors may share one.
    expect(Math.abs(day!.visitors - 6)).toBeLessThanOrEqual(1);
    const week = ie8Row(stats, '7d');
    expect(week?.requests).toBe(50);
    expect(Math.abs(week!.visitors - 6)).toBeLessThanOrEqual(1);
    // The lightest made-up agents went to `other`, counted, not dropped.
    const rows = buildReport(stats.snapshot(), stats.now(), stats.storageStatus()).windows['24h'].topLegacyClients;
    expect(rows[0]).toMatchObject({ browser: 'IE', requests: 30 });
    expect(rows.find((row) => row.browser === OTHER)?.requests).toBe((FAKES.length + 1 - MAX_CLIENTS_PER_BUCKET) * 3);
    expectExactAndBounded(stats.snapshot());
    await stats.close();
  });

  it('keeps IE 8 exact while the made-up agents keep rotating between its requests', async () => {
    const stats = new TrafficStats({ now: () => Date.UTC(2026, 2, 10, 10) });
    for (const [i, ua] of FAKES.entries()) record(stats, 'TLSv1.2', ua, `203.0.113.${i}`);
    let next = FAKES.length;
    for (let i = 0; i < 40; i++) {
      record(stats, 'TLSv1', IE8, `198.51.100.${i % 5}`);
      // 40 agents for 31 free slots: most of them were pushed out since their last request and must take a slot back.
      for (let j = 0; j < 4; j++, next++) record(stats, 'TLSv1.2', FAKES[next % FAKES.length]!, `203.0.113.${next % 250}`);
    }
    expect(ie8Row(stats, '24h')?.requests).toBe(40);
    expect(ie8Row(stats, '7d')?.requests).toBe(40);
    expectExactAndBounded(stats.snapshot());
    await stats.close();
  });

  it('finds IE 8 in the primary when a cluster worker sends it after another sent the made-up agents', async () => {
    const now = Date.UTC(2026, 2, 10, 10);
    const primary = new TrafficStats({ now: () => now });
    const attacker = await workerOf(primary, () => now);
    const honest = await workerOf(primary, () => now);
    for (const [i, ua] of FAKES.entries()) for (let n = 0; n < 5; n++) record(attacker, 'TLSv1.2', ua, `203.0.113.${i}`);
    await attacker.flush();
    for (let delta = 0; delta < 3; delta++) {
      for (let i = 0; i < 4; i++) record(honest, 'TLSv1', IE8, `198.51.100.${i}`);
      await honest.flush();
    }
    expect(ie8Row(primary, '24h')?.requests).toBe(12);
    expect(ie8Row(primary, '7d')?.requests).toBe(12);
    expectExactAndBounded(primary.snapshot());
    await Promise.all([primary.close(), attacker.close(), honest.close()]);
  });

  describe('with a stats file', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-labels-'));
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('keeps IE 8 counted while the file (full of made-up agents) was still loading', async () => {
      const statsFile = path.join(dir, 'stats.json');
      const now = Date.UTC(2026, 2, 10, 10);
      const first = new TrafficStats({ statsFile, now: () => now });
      for (const [i, ua] of FAKES.entries()) for (let n = 0; n < 5; n++) record(first, 'TLSv1.2', ua, `203.0.113.${i}`);
      await first.close();

      const second = new TrafficStats({ statsFile, now: () => now });
      for (let i = 0; i < 7; i++) record(second, 'TLSv1', IE8, `198.51.100.${i}`);
      await second.ready;
      expect(ie8Row(second, '24h')?.requests).toBe(7);
      expect(Math.abs(ie8Row(second, '24h')!.visitors - 7)).toBeLessThanOrEqual(1);
      expectExactAndBounded(second.snapshot());
      await second.close();
    });
  });
});

describe('labels', () => {
  it('are printable ASCII of at most 98 characters, whatever the user agent gave the parser', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'grapheme', maxLength: 200 })), fc.option(fc.string({ maxLength: 40 })), fc.option(fc.string({ unit: 'binary', maxLength: 200 })), (browser, version, os) => {
        const label = legacyClientLabel(browser, version, os);
        expect(label.length).toBeLessThanOrEqual(48 + 1 + 16 + 1 + 32);
        expect(label).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 500 },
    );
    expect(legacyClientLabel('IE', '8.0', 'Windows XP')).toBe('IE 8|Windows XP');
    expect(legacyClientLabel('Evil\u001b[2J', '9', 'Ünix\n')).toBe('Evil?[2J 9|?nix?');
  });
});

// Model level: made-up labels, to push far more distinct keys through than real user agents allow.

const HOUR = Date.UTC(2026, 2, 10, 10);

function labels(client: string, os: string | null = null): RequestLabels {
  return { protocol: 'TLSv1', kind: 'browser', legacy: true, tlsLegacy: true, uaLegacy: false, action: 'redirected', client, os };
}

function visitor(n: number): Buffer {
  return createHash('sha256').update(`visitor ${n}`).digest();
}

describe('bounded label maps (model)', () => {
  it('lets a stream of one-off keys churn through one slot: every heavier key keeps its exact count', () => {
    const state = emptyState();
    for (let i = 0; i < MAX_CLIENTS_PER_BUCKET; i++) recordRequest(state, HOUR, labels(`heavy ${i}|x`), visitor(i), i + 2);
    for (let i = 0; i < 10_000; i++) recordRequest(state, HOUR, labels(`one-off ${i}|x`), visitor(1000 + i));
    const hour = state.hours.get(hourStart(HOUR))!;
    const day = [...state.days.values()][0]!;
    // Only the lightest heavy key (2 requests) made room; the one-offs then pushed each other out.
    for (let i = 1; i < MAX_CLIENTS_PER_BUCKET; i++) {
      expect(hour.clients.get(`heavy ${i}|x`)).toBe(i + 2);
      expect(day.clients.get(`heavy ${i}|x`)?.requests).toBe(i + 2);
    }
    expect(hour.clients.has('heavy 0|x')).toBe(false);
    expect(hour.clients.get(OTHER)).toBe(2 + 9_999);
    expect(hour.clients.size).toBe(MAX_CLIENTS_PER_BUCKET + 1);
    const added = sum(Array.from({ length: MAX_CLIENTS_PER_BUCKET }, (_, i) => i + 2)) + 10_000;
    expect(sum(hour.clients.values())).toBe(added);
    expect(sum([...day.clients.values()].map((c) => c.requests))).toBe(added);
    // The evicted keys' visitors went into `other`'s sketches (256 registers: a few per cent either way).
    expect(Math.abs(hour.clientVisitors!.get(OTHER)!.count() - 10_000)).toBeLessThan(1_000);
    expect(Math.abs(day.clients.get(OTHER)!.visitors.count() - 10_000)).toBeLessThan(1_000);
    expect(hour.clientVisitors!.get('heavy 5|x')!.count()).toBe(1);
  });

  it('evicts by count in the OS map too', () => {
    const state = emptyState();
    for (let i = 0; i < 100; i++) recordRequest(state, HOUR, labels(`c|x`, `Fake OS ${i}`), null);
    for (let i = 0; i < 9; i++) recordRequest(state, HOUR, labels(`c|x`, 'Windows XP'), null);
    const hour = state.hours.get(hourStart(HOUR))!;
    expect(hour.os.get('Windows XP')).toBe(9);
    expect(sum(hour.os.values())).toBe(109);
    expect(hour.os.size).toBeLessThanOrEqual(24 + 1);
  });

  it('merges two full maps by keeping the heavier keys, folding the rest (and their visitors) into other', () => {
    const light = emptyState();
    const heavy = emptyState();
    for (let i = 0; i < MAX_CLIENTS_PER_BUCKET; i++) {
      recordRequest(light, HOUR, labels(`light ${i}|x`), visitor(i), 10);
      recordRequest(heavy, HOUR, labels(`heavy ${i}|x`), visitor(100 + i), 20);
    }
    mergeState(light, heavy);
    const hour = light.hours.get(hourStart(HOUR))!;
    const day = [...light.days.values()][0]!;
    for (let i = 0; i < MAX_CLIENTS_PER_BUCKET; i++) {
      expect(hour.clients.get(`heavy ${i}|x`)).toBe(20);
      expect(day.clients.get(`heavy ${i}|x`)?.requests).toBe(20);
    }
    expect(hour.clients.get(OTHER)).toBe(MAX_CLIENTS_PER_BUCKET * 10);
    expect(day.clients.get(OTHER)?.requests).toBe(MAX_CLIENTS_PER_BUCKET * 10);
    expect(Math.abs(hour.clientVisitors!.get(OTHER)!.count() - MAX_CLIENTS_PER_BUCKET)).toBeLessThanOrEqual(2);
    expect(Math.abs(day.clients.get(OTHER)!.visitors.count() - MAX_CLIENTS_PER_BUCKET)).toBeLessThanOrEqual(2);
  });

  it('lets the heaviest newcomer of a merge stand, however many light ones come with it', () => {
    const primary = emptyState();
    for (let i = 0; i < MAX_CLIENTS_PER_BUCKET; i++) recordRequest(primary, HOUR, labels(`fake ${i}|x`), visitor(i), 50);
    const delta = emptyState();
    for (let i = 0; i < 100; i++) recordRequest(delta, HOUR, labels(`one-off ${i}|x`), visitor(200 + i));
    recordRequest(delta, HOUR, labels('IE 8|Windows XP'), visitor(999), 3);
    for (let i = 100; i < 200; i++) recordRequest(delta, HOUR, labels(`one-off ${i}|x`), visitor(200 + i));
    mergeState(primary, delta);
    const hour = primary.hours.get(hourStart(HOUR))!;
    expect(hour.clients.get('IE 8|Windows XP')).toBe(3);
    expect(hour.clientVisitors!.get('IE 8|Windows XP')!.count()).toBe(1);
    expect([...primary.days.values()][0]!.clients.get('IE 8|Windows XP')?.requests).toBe(3);
    // One fake made room for the one-offs, which then pushed each other out; IE 8 took a one-off's slot.
    expect(sum(hour.clients.values())).toBe(MAX_CLIENTS_PER_BUCKET * 50 + 203);
    expect([...hour.clients.keys()].filter((key) => key.startsWith('fake ')).length).toBe(MAX_CLIENTS_PER_BUCKET - 1);
  });
});
