import { describe, expect, it, vi } from 'vitest';
import { TrafficSummary } from '../src/stats/summary.js';

describe('TrafficSummary', () => {
  it('logs one line per interval and the first sighting of each legacy client, never per request', () => {
    const logger = { warn: vi.fn(), info: vi.fn() };
    const summary = new TrafficSummary(logger);
    for (let i = 0; i < 1000; i++) summary.count(i % 4 === 0, i % 4 === 0 ? 'IE 8|Windows XP' : null);
    summary.count(true, 'curl 7|?');
    expect(logger.info.mock.calls.map(([line]) => line)).toEqual([
      'legacy-tls-fallback: first legacy client this hour: IE 8 on Windows XP',
      'legacy-tls-fallback: first legacy client this hour: curl 7',
    ]);
    summary.log();
    expect(logger.info).toHaveBeenLastCalledWith('legacy-tls-fallback: 1001 requests, 25.1% legacy; top legacy client IE 8 on Windows XP (250)');
    summary.log();
    expect(logger.info).toHaveBeenCalledTimes(3);
  });

  it('stays bounded with endless distinct legacy clients', () => {
    const logger = { warn: vi.fn(), info: vi.fn() };
    const summary = new TrafficSummary(logger);
    for (let i = 0; i < 10_000; i++) summary.count(true, `Bot ${i}|?`);
    expect(logger.info.mock.calls.length).toBeLessThanOrEqual(64);
  });
});
