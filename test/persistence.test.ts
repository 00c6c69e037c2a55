import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildPolicy } from '../src/classify/policy.js';
import { classifyClient } from '../src/classify/classify.js';
import { createReportResponder } from '../src/report/handler.js';
import { buildReport, type ReportDocument } from '../src/report/document.js';
import { HyperLogLog } from '../src/stats/hyperloglog.js';
import {
  CLIENT_SKETCH_PRECISION,
  HOURLY_SKETCH_HOURS,
  HOUR_MS,
  DAY_MS,
  MAX_CLIENTS_PER_BUCKET,
  MAX_FINGERPRINTS_PER_HOUR,
  MAX_OS_PER_HOUR,
  MAX_GROUPS,
  MAX_HOSTS,
  SITE_SKETCH_PRECISION,
  dayStart,
  emptyState,
  hourStart,
  prune,
  type StatsState,
} from '../src/stats/model.js';
import {
  CLIENT_HELLO_OUTCOMES,
  CLIENT_KINDS,
  fingerprintKey,
  LEGACY_REASONS,
  PASS_THROUGH_OUTCOMES,
  FAILURE_REASONS,
  UPSTREAM_ERROR_STATUSES,
  FALLBACK_ACTIONS,
  OTHER,
  PROTOCOL_LABELS,
  requestKey,
  totalsKey,
} from '../src/stats/labels.js';
import { fromDocument, maxStatsFileBytes, toDocument } from '../src/stats/serialize.js';
import { workerOf } from './helpers/stats.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { InvalidOptionError } from '../src/errors.js';
import type { TlsProtocol } from '../src/types.js';

const policy = buildPolicy();
const IE8 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function record(stats: TrafficStats, protocol: TlsProtocol, userAgent: string, remoteAddress: string, times = 1): void {
  const verdict = classifyClient({ protocol, cipher: null, servername: null, source: 'socket' }, userAgent, policy);
  for (let i = 0; i < times; i++) stats.recordRequest({ verdict, action: verdict.legacy ? 'redirected' : 'passed', remoteAddress, userAgent });
}

function totalRequests(stats: TrafficStats): number {
  return buildReport(stats.snapshot(), stats.now(), stats.storageStatus()).windows['24h'].requests.total;
}

const quiet = () => ({ warn: vi.fn(), info: vi.fn() });

describe('TrafficStats persistence', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-stats-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps every count across close() and a new instance, and does not count a returning visitor twice', async () => {
    const statsFile = path.join(dir, 'stats.json');
    const first = new TrafficStats({ statsFile });
    record(first, 'TLSv1', IE8, '198.51.100.1', 7);
    record(first, 'TLSv1.3', CHROME, '198.51.100.2', 5);
    first.recordHandshake('TLSv1', false);
    first.recordHandshakeFailure('no-shared-cipher');
    await first.close();

    const second = new TrafficStats({ statsFile });
    await second.ready;
    record(second, 'TLSv1', IE8, '198.51.100.1', 1);
    const w = buildReport(second.snapshot(), second.now(), second.storageStatus()).windows['24h'];
    expect(w.requests.total).toBe(13);
    expect(w.requests.byProtocol.TLSv1).toBe(8);
    expect(w.visitors.total).toBe(2);
    expect(w.handshakes.total).toBe(1);
    expect(w.handshakeFailures.byReason['no-shared-cipher']).toBe(1);
    expect(second.snapshot().totals.requests.get('TLSv1|1|browser|redirected')).toBe(8);
    await second.close();
  });

  it('reads a version 1 file, whose totals and handshake keys spelt their booleans true/false', async () => {
    const statsFile = path.join(dir, 'stats.json');
    const hour = new Date(hourStart(Date.now())).toISOString();
    const v1 = {
      format: 'legacy-tls-fallback-stats',
      version: 1,
      savedAt: hour,
      salt: Buffer.alloc(32, 7).toString('base64'),
      totals: { requests: { 'TLSv1|true|browser|redirected': 3 }, handshakes: { 'TLSv1|false': 2, 'TLSv1.3|true': 1 }, failures: {} },
      hours: [{ start: hour, requests: { 'TLSv1|browser|1|0': 3 }, actions: { redirected: 3 }, reasons: { 'tls-version': 3 }, clients: {}, os: {}, handshakes: { 'TLSv1|false': 2, 'TLSv1.3|true': 1 }, failures: {}, visitors: null, clientVisitors: null }],
      days: [],
    };
    await writeFile(statsFile, JSON.stringify(v1));
    const stats = new TrafficStats({ statsFile });
    await stats.ready;
    const state = stats.snapshot();
    expect(state.totals.requests.get(totalsKey({ protocol: 'TLSv1', legacy: true, kind: 'browser', action: 'redirected' }))).toBe(3);
    expect(state.totals.handshakes.get('TLSv1|0')).toBe(2);
    const w = buildReport(state, stats.now(), stats.storageStatus()).windows['24h'];
    expect(w.handshakes).toMatchObject({ total: 3, resumed: 1 });
    stats.recordHandshake('TLSv1', false);
    await stats.close();
    // Written back as version 2.
    expect(JSON.parse(await readFile(statsFile, 'utf8'))).toMatchObject({ version: 2, totals: { handshakes: { 'TLSv1|0': 3, 'TLSv1.3|1': 1 } } });
  });

  it('never writes an address or a user agent to disk', async () => {
    const statsFile = path.join(dir, 'stats.json');
    const stats = new TrafficStats({ statsFile });
    record(stats, 'TLSv1', `${IE8} SecretToken`, '203.0.113.77', 3);
    await stats.close();
    const text = await readFile(statsFile, 'utf8');
    expect(text).not.toContain('203.0.113');
    expect(text).not.toContain('SecretToken');
    expect(text).not.toContain('Trident');
  });

  it('moves a corrupt file aside, says so once, and starts afresh', async () => {
    const statsFile = path.join(dir, 'stats.json');
    await writeFile(statsFile, '{"format":"legacy-tls-fallback-stats","trunc');
    const logger = quiet();
    const stats = new TrafficStats({ statsFile, logger });
    await stats.ready;
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(/could not be read .* moved to .*stats\.json\.corrupt-/);
    const files = await readdir(dir);
    expect(files.some((f) => /^stats\.json\.corrupt-\d{4}-/.test(f))).toBe(true);
    record(stats, 'TLSv1', IE8, '198.51.100.1', 2);
    await stats.close();
    const reopened = new TrafficStats({ statsFile });
    await reopened.ready;
    expect(totalRequests(reopened)).toBe(2);
    await reopened.close();
  });

  it('creates the stats file 0600 (it holds the visitor salt), also over an existing 0644 file', async () => {
    const statsFile = path.join(dir, 'stats.json');
    const stats = new TrafficStats({ statsFile });
    record(stats, 'TLSv1', IE8, '198.51.100.1', 1);
    await stats.close();
    expect((await stat(statsFile)).mode & 0o777).toBe(0o600);
    await chmod(statsFile, 0o644);
    const again = new TrafficStats({ statsFile });
    record(again, 'TLSv1', IE8, '198.51.100.1', 1);
    await again.close();
    expect((await stat(statsFile)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['stats.json']);
  });

  it('answers a report asked for while the file is still being read with the numbers from the file', async () => {
    const statsFile = path.join(dir, 'stats.json');
    const first = new TrafficStats({ statsFile });
    record(first, 'TLSv1', IE8, '198.51.100.1', 9);
    await first.close();

    const restarted = new TrafficStats({ statsFile });
    const respond = createReportResponder({ stats: restarted, logger: quiet() });
    const ask = (route: string) => respond({ method: 'GET', path: `/_legacy-tls/${route}`, query: '', authorization: undefined, remoteAddress: '127.0.0.1' });
    // Asked in the same tick as the restart: nothing is loaded yet.
    const [json, metrics] = [ask('report.json'), ask('metrics')];
    expect(totalRequests(restarted)).toBe(0);
    const report = JSON.parse((await json)!.body) as ReportDocument;
    expect(report.windows['24h'].requests.total).toBe(9);
    expect((await metrics)!.body).toContain('legacy_tls_requests_total{protocol="TLSv1",legacy="true",kind="browser",action="redirected"} 9');
    await restarted.close();
  });

  it('sets a file larger than its retention allows aside unread, with a warning naming the bound', async () => {
    const statsFile = path.join(dir, 'stats.json');
    // Sparse: 200 MB that take no disk.
    await writeFile(statsFile, '');
    await truncate(statsFile, 200_000_000);
    const logger = quiet();
    const stats = new TrafficStats({ statsFile, logger });
    await stats.ready;
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(
      new RegExp(`^legacy-tls-fallback: the stats file ${statsFile} is 190\\.7 MiB, more than a stats file can reach with retentionDays 90 \\(128\\.5 MiB\\); it was not read, it was moved to ${statsFile}\\.corrupt-\\S+, and counting starts afresh\\.$`),
    );
    record(stats, 'TLSv1', IE8, '198.51.100.1', 2);
    await stats.close();
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['stats.json', expect.stringMatching(/^stats\.json\.corrupt-/)]));
    const reopened = new TrafficStats({ statsFile });
    await reopened.ready;
    expect(totalRequests(reopened)).toBe(2);
    await reopened.close();
  });

  it('never writes a file it would refuse: the worst case for a retention stays under its bound', () => {
    const now = Date.UTC(2026, 2, 10, 13, 30);
    const sizes = [1, 30].map((retentionDays) => {
      const document = JSON.stringify(toDocument(worstCaseState(now, retentionDays), Buffer.alloc(32, 7), now));
      const bytes = Buffer.byteLength(document);
      expect(bytes, `retentionDays ${retentionDays}`).toBeLessThan(maxStatsFileBytes(retentionDays));
      expect(fromDocument(JSON.parse(document)).state.hours.size).toBe(retentionDays * 24 + 1);
      return bytes;
    });
    // Each further day of retention adds less than the bound grows by.
    expect((sizes[1]! - sizes[0]!) / 29).toBeLessThan(maxStatsFileBytes(2) - maxStatsFileBytes(1));
  });

  it('treats a valid JSON file of the wrong shape as corrupt too', async () => {
    const statsFile = path.join(dir, 'stats.json');
    await writeFile(statsFile, JSON.stringify({ format: 'legacy-tls-fallback-stats', version: 1, salt: 'AAAA', totals: {}, hours: 'nope', days: [] }));
    const logger = quiet();
    const stats = new TrafficStats({ statsFile, logger });
    await stats.ready;
    expect(logger.warn).toHaveBeenCalledTimes(1);
    await stats.close();
  });

  it('survives an unwritable location: keeps counting, reports once, and catches up when it can write again', async () => {
    const blocker = path.join(dir, 'not-a-directory');
    await writeFile(blocker, 'a file where a directory should be');
    const statsFile = path.join(blocker, 'stats.json');
    const logger = quiet();
    const stats = new TrafficStats({ statsFile, logger, flushInterval: 100 });
    record(stats, 'TLSv1', IE8, '198.51.100.1', 3);
    await stats.flush();
    record(stats, 'TLSv1', IE8, '198.51.100.1', 2);
    await stats.flush();
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(/cannot write the stats file .*ENOTDIR.*counting continues in memory/);
    expect(stats.storageStatus().error).toMatch(/ENOTDIR/);

    await rm(blocker);
    await mkdir(blocker);
    await stats.flush();
    expect(stats.storageStatus().error).toBeNull();
    await stats.close();
    const reopened = new TrafficStats({ statsFile });
    await reopened.ready;
    expect(totalRequests(reopened)).toBe(5);
    await reopened.close();
  });

  // A real full disk: a 64 KiB tmpfs, filled up. Needs mount rights (root here); skipped where absent.
  it.runIf(canMountTmpfs())('survives a full disk (ENOSPC) and catches up once there is room', async () => {
    const mountPoint = path.join(dir, 'tiny');
    await mkdir(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
    try {
      const filler = path.join(mountPoint, 'filler');
      await writeFile(filler, Buffer.alloc(64 * 1024)).catch(() => undefined);
      const statsFile = path.join(mountPoint, 'stats.json');
      const logger = quiet();
      const stats = new TrafficStats({ statsFile, logger });
      record(stats, 'TLSv1', IE8, '198.51.100.1', 4);
      await stats.flush();
      record(stats, 'TLSv1.3', CHROME, '198.51.100.2', 2);
      await stats.flush();
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0]?.[0]).toMatch(/ENOSPC/);
      expect(totalRequests(stats)).toBe(6);
      await rm(filler);
      await stats.close();
      const reopened = new TrafficStats({ statsFile });
      await reopened.ready;
      expect(totalRequests(reopened)).toBe(6);
      await reopened.close();
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  it('loses at most one flush interval to kill -9, and the file is never corrupt (5 crashes)', async () => {
    const statsFile = path.join(dir, 'stats.json');
    const flushInterval = 200;
    let expectedAtLeastBefore = 0;
    for (let crash = 0; crash < 5; crash++) {
      const { lastCounted, countedAtLastFlushBound } = await runAndKill(statsFile, flushInterval, 700 + crash * 150);
      const stats = new TrafficStats({ statsFile, logger: quiet() });
      await stats.ready;
      const persisted = totalRequests(stats);
      await stats.close();
      const before = expectedAtLeastBefore;
      // Everything from earlier runs is still there, and this run lost at most one interval's worth.
      expect(persisted - before).toBeGreaterThanOrEqual(countedAtLastFlushBound);
      expect(persisted - before).toBeLessThanOrEqual(lastCounted);
      expectedAtLeastBefore = persisted;
      const files = await readdir(dir);
      expect(files.filter((f) => f.includes('.corrupt-'))).toEqual([]);
    }
  }, 60_000);

  it('drops buckets older than the retention', async () => {
    let now = Date.parse('2026-01-01T12:00:00Z');
    const stats = new TrafficStats({ retentionDays: 2, now: () => now });
    record(stats, 'TLSv1', IE8, '198.51.100.1', 4);
    now += 3 * 24 * 3_600_000;
    record(stats, 'TLSv1', IE8, '198.51.100.1', 1);
    expect(stats.snapshot().hours.size).toBe(1);
    expect(stats.snapshot().days.size).toBe(1);
    // All-time Prometheus totals are never pruned: counters must not go down.
    expect(stats.snapshot().totals.requests.get('TLSv1|1|browser|redirected')).toBe(5);
    await stats.close();
  });

  it('merges workers: one writer, every count, one visitor seen by two workers counted once', async () => {
    const primary = new TrafficStats({ statsFile: path.join(dir, 'stats.json') });
    await primary.ready;
    const workers = [await workerOf(primary), await workerOf(primary)];
    record(workers[0]!, 'TLSv1', IE8, '198.51.100.1', 3);
    record(workers[1]!, 'TLSv1', IE8, '198.51.100.1', 4);
    record(workers[1]!, 'TLSv1.3', CHROME, '198.51.100.9', 1);
    for (const worker of workers) await worker.flush();
    const w = buildReport(primary.snapshot(), primary.now(), primary.storageStatus()).windows['24h'];
    expect(w.requests.total).toBe(8);
    expect(w.visitors.total).toBe(2);
    await primary.close();
  });

  it('validates its options', () => {
    expect(() => new TrafficStats({ flushInterval: 0 })).toThrow(InvalidOptionError);
    expect(() => new TrafficStats({ flushInterval: 10.5 })).toThrow(/`flushInterval` is 10.5; expected a whole number of milliseconds/);
    expect(() => new TrafficStats({ retentionDays: -1 })).toThrow(/retentionDays/);
    expect(() => new TrafficStats({ statsFile: '' })).toThrow(/statsFile/);
    expect(() => new TrafficStats({ statsfile: 'x' } as never)).toThrow(/did you mean `statsFile`/);
  });

  it('keeps the file small: 20 000 distinct visitors in one hour', async () => {
    const statsFile = path.join(dir, 'stats.json');
    const stats = new TrafficStats({ statsFile });
    const verdict = classifyClient({ protocol: 'TLSv1', cipher: null, servername: null, source: 'socket' }, IE8, policy);
    for (let i = 0; i < 20_000; i++) stats.recordRequest({ verdict, action: 'redirected', remoteAddress: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, userAgent: `${IE8} ${i}` });
    await stats.close();
    expect((await stat(statsFile)).size).toBeLessThan(16 * 1024);
  });
});

/**
 * The largest state the writer can keep for `retentionDays`: every hour and day present, every label
 * set full of the longest labels, made of the characters that cost the most JSON (labels are printable
 * ASCII: `"` takes two bytes), every count at 2^53, every sketch dense.
 */
function worstCaseState(now: number, retentionDays: number): StatsState {
  const MAX = Number.MAX_SAFE_INTEGER;
  const dense = (precision?: number) => {
    const hll = new HyperLogLog(precision);
    for (let i = 0; i < 20_000; i++) hll.add(createHash('sha256').update(String(i)).digest());
    return hll;
  };
  const visitorsSketch = dense();
  const clientSketch = dense(CLIENT_SKETCH_PRECISION);
  const siteSketch = dense(SITE_SKETCH_PRECISION);
  const label = (length: number, i: number) => `${'"'.repeat(length - 3)}${String(i).padStart(3, '0')}`;
  const full = <K extends string>(keys: readonly K[]) => new Map(keys.map((key) => [key, MAX]));
  const clients = [...Array.from({ length: MAX_CLIENTS_PER_BUCKET }, (_, i) => label(48 + 1 + 16 + 1 + 32, i)), OTHER];
  const systems = [...Array.from({ length: MAX_OS_PER_HOUR }, (_, i) => label(32, i)), OTHER];
  // Host labels are host names (253 one-byte characters at most); group names are the owner's, up to
  // 48 characters, each up to 3 bytes of UTF-8 (or 2 of JSON for a quote).
  const hosts = [...Array.from({ length: MAX_HOSTS }, (_, i) => `${'h'.repeat(250)}${String(i).padStart(3, '0')}`), OTHER];
  const groups = [...Array.from({ length: MAX_GROUPS }, (_, i) => `${'€'.repeat(45)}${String(i).padStart(3, '0')}`), OTHER];
  const cells = () => [MAX, MAX, MAX, MAX];
  const siteDay = () => ({ requests: MAX, browsers: siteSketch, legacyBrowsers: siteSketch });
  const visitorKeys = ['ua-legacy', ...PROTOCOL_LABELS].flatMap((p) => [`${p}|browser`, `${p}|other`]);
  const requestKeys = PROTOCOL_LABELS.flatMap((p) => CLIENT_KINDS.flatMap((k) => [requestKey({ protocol: p, kind: k, legacy: true, uaLegacy: true }), requestKey({ protocol: p, kind: k, legacy: true, uaLegacy: false }), requestKey({ protocol: p, kind: k, legacy: false, uaLegacy: true }), requestKey({ protocol: p, kind: k, legacy: false, uaLegacy: false })]));
  const handshakeKeys = PROTOCOL_LABELS.flatMap((p) => [`${p}|1`, `${p}|0`]);
  // The longest version name and a JA4 of 36 characters, the only length it has.
  const fingerprints = [...Array.from({ length: MAX_FINGERPRINTS_PER_HOUR }, (_, i) => fingerprintKey({ offered: 'TLSv1.1', ja4: `t11d${String(i).padStart(6, '0')}_${'a'.repeat(12)}_${'b'.repeat(12)}` })), OTHER];
  const state = emptyState();
  for (let h = 0; h <= retentionDays * 24; h++) {
    const sketched = h < HOURLY_SKETCH_HOURS;
    state.hours.set(hourStart(now) - h * HOUR_MS, {
      requests: full(requestKeys),
      actions: full(FALLBACK_ACTIONS),
      reasons: full(LEGACY_REASONS),
      clients: full(clients),
      os: full(systems),
      handshakes: full(handshakeKeys),
      failures: full(FAILURE_REASONS),
      upstreamErrors: full(UPSTREAM_ERROR_STATUSES),
      offered: full(CLIENT_HELLO_OUTCOMES),
      failedFingerprints: full(fingerprints),
      passThrough: full(PASS_THROUGH_OUTCOMES),
      visitors: sketched ? new Map(visitorKeys.map((key) => [key, visitorsSketch])) : null,
      clientVisitors: sketched ? new Map(clients.map((key) => [key, clientSketch])) : null,
      pageViews: full(requestKeys),
      hosts: new Map(hosts.map((key) => [key, cells()])),
      groups: new Map(groups.map((key) => [key, cells()])),
    });
  }
  for (let d = 0; d <= retentionDays; d++) {
    state.days.set(dayStart(now) - d * DAY_MS, {
      visitors: new Map(visitorKeys.map((key) => [key, visitorsSketch])),
      clients: new Map(clients.map((key) => [key, { requests: MAX, visitors: clientSketch }])),
      hosts: new Map(hosts.map((key) => [key, siteDay()])),
      groups: new Map(groups.map((key) => [key, siteDay()])),
    });
  }
  state.totals.requests = full(PROTOCOL_LABELS.flatMap((protocol) => CLIENT_KINDS.flatMap((kind) => FALLBACK_ACTIONS.flatMap((action) => [true, false].map((legacy) => totalsKey({ protocol, kind, action, legacy }))))));
  state.totals.handshakes = full(handshakeKeys);
  state.totals.failures = full(FAILURE_REASONS);
  state.totals.upstreamErrors = full(['502', '504']);
  state.totals.hosts = new Map(hosts.map((key) => [key, cells()]));
  state.totals.groups = new Map(groups.map((key) => [key, cells()]));
  state.totals.offered = full(CLIENT_HELLO_OUTCOMES);
  prune(state, now, retentionDays);
  return state;
}

/** Runs the writer child, kills it with SIGKILL after `ms`, and says what it had counted. */
async function runAndKill(statsFile: string, flushInterval: number, ms: number): Promise<{ lastCounted: number; countedAtLastFlushBound: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/stats-writer.ts'), statsFile, String(flushInterval)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const progress: { at: number; counted: number }[] = [];
  child.stdout.setEncoding('utf8');
  let buffer = '';
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    // `ready` comes first; only the counts matter here.
    for (const line of lines) if (/^\d+$/.test(line)) progress.push({ at: Date.now(), counted: Number(line) });
  });
  await new Promise((r) => setTimeout(r, ms));
  const killedAt = Date.now();
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const lastCounted = progress.at(-1)?.counted ?? 0;
  // A flush happened within the last interval (plus slack for the write itself): what was counted before then is safe.
  const safeBefore = killedAt - flushInterval * 2 - 100;
  const countedAtLastFlushBound = [...progress].reverse().find((p) => p.at <= safeBefore)?.counted ?? 0;
  return { lastCounted, countedAtLastFlushBound };
}

function canMountTmpfs(): boolean {
  const probe = path.join(os.tmpdir(), `ltf-mount-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('rm', ['-rf', probe]);
  }
}
