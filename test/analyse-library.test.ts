/**
 * `analyseLogs` as a library function: `into` takes any StatsStore (the fleet store can be passed the
 * same way as the file's), a store that refuses stops the run before a line is read, and the windows
 * are the log's own (they end at its last line, not at the clock).
 */
import { describe, expect, it } from 'vitest';
import { analyseLogs, FileStore } from '../src/index.js';
import { MemoryStore } from '../src/stats/stores/memory.js';
import { buildReport } from '../src/report/document.js';
import type { StatsStore } from '../src/stats/stores/store.js';
import { logFile } from './helpers/analyse.js';

const line = (day: number, hour: number, protocol: string, agent: string) =>
  `192.0.2.${day} - - [${String(day).padStart(2, '0')}/Mar/2025:${String(hour).padStart(2, '0')}:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "${agent}" "${protocol}" "AES128-SHA"`;
const IE8 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

describe('analyseLogs', () => {
  it('windows end at the log\'s last line; the span covers it all; into takes any StatsStore', async () => {
    // Day 1: two TLS 1.0 requests; day 20: one; day 28 (the last day): one TLS 1.3 request.
    const file = await logFile([line(1, 10, 'TLSv1', IE8), line(1, 11, 'TLSv1', IE8), line(20, 9, 'TLSv1', CHROME), line(28, 23, 'TLSv1.3', CHROME)].join('\n') + '\n');
    const store = new MemoryStore();
    const { report, state } = await analyseLogs([file], { into: store, retentionDays: 3660 });
    expect(report.analysis.from).toBe('2025-03-01T10:00:00.000Z');
    expect(report.analysis.to).toBe('2025-03-28T23:00:00.000Z');
    expect(report.windows['24h'].requests.total).toBe(1);
    expect(report.windows['7d'].requests.total).toBe(1);
    expect(report.windows['30d'].requests.total).toBe(4);
    expect(report.span!.requests).toMatchObject({ total: 4, legacy: 3 });
    // What went into the store is the analysis' state: the same report from it.
    const fromStore = buildReport(await store.read(), Date.parse(report.analysis.to!), report.storage);
    expect(fromStore.windows['30d'].requests).toEqual(report.windows['30d'].requests);
    expect(buildReport(state, Date.parse(report.analysis.to!), report.storage).windows['30d'].requests).toEqual(report.windows['30d'].requests);
    expect(report.analysis.imported).toMatchObject({ store: 'memory', requests: 4 });
  });

  it('a store that refuses to open stops the run with its error, and nothing is read', async () => {
    const refusing: StatsStore = Object.assign(new MemoryStore(), { open: () => Promise.reject(new Error('the fleet is unreachable')) });
    await expect(analyseLogs(['/nonexistent/never-read.log'], { into: refusing })).rejects.toThrow('the fleet is unreachable');
  });

  it('refuses an `into` that is no StatsStore, naming what would do', async () => {
    await expect(analyseLogs([], { into: {} as StatsStore })).rejects.toThrow(/expected a StatsStore, such as new FileStore\(file\)/);
    expect(typeof FileStore).toBe('function');
  });
});
