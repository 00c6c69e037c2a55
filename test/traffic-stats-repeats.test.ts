import { describe, expect, it } from 'vitest';
import { workerOf } from './helpers/stats.js';
import { buildPolicy, classifyClient, TrafficStats } from '../src/index.js';
import { CHROME, IE8 } from './helpers/fallback.js';
import type { StatsState } from '../src/stats/model.js';

// Keep-alive repeats are counted on the cached labels and folded into the state before any read:
// these check that nothing is lost or double-counted on the way, whatever comes in between.

const HOUR = 3_600_000;
const policy = buildPolicy();

function totalRequests(state: StatsState): number {
  return [...state.totals.requests.values()].reduce((a, b) => a + b, 0);
}

function hourRequests(state: StatsState, hour: number): number {
  return [...(state.hours.get(hour)?.requests.values() ?? [])].reduce((a, b) => a + b, 0);
}

describe('TrafficStats, repeated requests on one connection', () => {
  it('counts every request exactly, in the right hour, across hour turns and reads', async () => {
    let now = 10 * HOUR + 1000;
    const stats = new TrafficStats({ now: () => now });
    const connection = {};
    const verdict = classifyClient({ protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', servername: null, source: 'socket' }, CHROME, policy);
    const record = () => stats.recordRequest({ verdict, action: 'passed', remoteAddress: '192.0.2.1', userAgent: CHROME, connection });
    for (let i = 0; i < 5; i++) record();
    expect(hourRequests(stats.snapshot(), 10 * HOUR)).toBe(5);
    for (let i = 0; i < 7; i++) record();
    now = 11 * HOUR + 5; // the hour turns with requests still pending
    for (let i = 0; i < 3; i++) record();
    const state = stats.snapshot();
    expect(hourRequests(state, 10 * HOUR)).toBe(12);
    expect(hourRequests(state, 11 * HOUR)).toBe(3);
    expect(totalRequests(state)).toBe(15);
    await stats.close();
  });

  it('keeps legacy clients, actions and deltas exact with many connections pending at once', async () => {
    let now = 20 * HOUR;
    const merged = new TrafficStats({ now: () => now });
    const stats = await workerOf(merged, () => now);
    const legacy = classifyClient({ protocol: 'TLSv1', cipher: 'ECDHE-RSA-AES128-SHA', servername: null, source: 'socket' }, IE8, policy);
    // More connections than the pending list holds before it folds on its own.
    const connections = Array.from({ length: 1500 }, () => ({}));
    for (let round = 0; round < 3; round++) {
      for (const [i, connection] of connections.entries()) {
        stats.recordRequest({ verdict: legacy, action: 'redirected', remoteAddress: `10.0.${i >> 8}.${i & 255}`, userAgent: IE8, connection });
      }
    }
    await stats.flush();
    now += 1000;
    stats.recordRequest({ verdict: legacy, action: 'redirected', remoteAddress: '10.0.0.0', userAgent: IE8, connection: connections[0]! });
    await stats.flush();
    const state = merged.snapshot();
    expect(totalRequests(state)).toBe(4501);
    const hour = state.hours.get(20 * HOUR)!;
    expect(hour.actions.get('redirected')).toBe(4501);
    expect(hour.reasons.get('tls-version')).toBe(4501);
    expect([...hour.clients.values()].reduce((a, b) => a + b, 0)).toBe(4501);
    await Promise.all([stats.close(), merged.close()]);
  });
});
