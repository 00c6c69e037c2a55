/**
 * Issue 10, item 7: two processes on one stats file overwrote each other's whole state (160 requests
 * answered, 60 kept, no warning). The file is now locked; a second writer refuses, says who holds the
 * file, keeps counting in memory and never writes the file.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildPolicy } from '../src/classify/policy.js';
import { classifyClient } from '../src/classify/classify.js';
import { LegacyTlsError, StatsFileLockedError } from '../src/errors.js';
import { createReportResponder } from '../src/report/handler.js';
import { buildReport, type ReportDocument } from '../src/report/document.js';
import { acquireLock, LOCK_ABANDONED_MS, judgeLock, parseHolder, type LockHolder, type LockSelf } from '../src/stats/stores/lock-file.js';
import { fromDocument } from '../src/stats/serialize.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { startCli } from './helpers/cli.js';
import { IE8 } from './helpers/fallback.js';
import { hasTool } from './helpers/tools.js';
import { LONG } from './helpers/long.js';

const policy = buildPolicy();
const verdict = classifyClient({ protocol: 'TLSv1', cipher: null, servername: null, source: 'socket' }, IE8, policy);

function record(stats: TrafficStats, times: number): void {
  for (let i = 0; i < times; i++) stats.recordRequest({ verdict, action: 'redirected', remoteAddress: `198.51.100.${i % 200}`, userAgent: IE8 });
}

function requestsIn(stats: TrafficStats): number {
  return buildReport(stats.snapshot(), stats.now(), stats.storageStatus()).windows['24h'].requests.total;
}

async function requestsInFile(file: string): Promise<number> {
  const { state } = fromDocument(JSON.parse(await readFile(file, 'utf8')));
  return [...state.totals.requests.values()].reduce((a, b) => a + b, 0);
}

const quiet = () => ({ warn: vi.fn(), info: vi.fn() });

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** A pid that ran on this machine a moment ago and has exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid!;
}

function lockOf(overrides: Partial<LockHolder>): string {
  const holder: LockHolder = { pid: process.ppid, host: os.hostname(), boot: bootId(), token: 'someone-else', since: '2026-03-10T09:00:00.000Z', ...overrides };
  return `${JSON.stringify(holder)}\n`;
}

describe('judgeLock (pure)', () => {
  const self: LockSelf = { pid: 1, host: 'web1', boot: 'boot-a', tokens: new Set(['mine']) };
  const holder = (overrides: Partial<LockHolder> = {}): LockHolder => ({ pid: 42, host: 'web1', boot: 'boot-a', token: 'theirs', since: '2026-03-10T09:00:00.000Z', ...overrides });
  const alive = () => true;
  const dead = () => false;

  it.each([
    ['a live pid on this host and boot', holder(), 0, alive, 'held'],
    ['a dead pid on this host and boot', holder(), 0, dead, 'stale'],
    ['our own pid with another token (pid 1 again, in a container)', holder({ pid: 1 }), 0, alive, 'stale'],
    ['our own token', holder({ pid: 1, token: 'mine' }), 0, alive, 'held-here'],
    ['another host, recently touched', holder({ host: 'web2' }), 1_000, dead, 'held'],
    ['another host, untouched for longer than the abandon time', holder({ host: 'web2' }), LOCK_ABANDONED_MS + 1, alive, 'stale'],
    ['a live pid untouched for longer than the abandon time (frozen, or a reused pid)', holder(), LOCK_ABANDONED_MS + 1, alive, 'stale'],
    ['an earlier boot of this host', holder({ boot: 'boot-b' }), 0, alive, 'stale'],
    ['no boot id to compare', holder({ boot: null }), 0, alive, 'held'],
    ['a lock file being written (no holder yet)', null, 100, alive, 'held'],
    ['a half-written lock a crash left behind', null, 10_000, alive, 'stale'],
  ] as const)('%s: %s', (_name, found, age, isAlive, expected) => {
    expect(judgeLock(found, age, self, isAlive)).toBe(expected);
  });

  it('reads only well-formed holders, and no control characters into messages', () => {
    expect(parseHolder('')).toBeNull();
    expect(parseHolder('{"pid":"1","host":"h","boot":null,"token":"t","since":"s"}')).toBeNull();
    expect(parseHolder('{"pid":0,"host":"h","boot":null,"token":"t","since":"s"}')).toBeNull();
    expect(parseHolder('{"pid":7,"host":"h\\u001b[2J\\nx","boot":null,"token":"t","since":"s"}')?.host).toBe('h?[2J?x');
  });
});

describe('one writer per stats file', () => {
  let dir: string;
  let statsFile: string;
  let lockFile: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-lock-'));
    statsFile = path.join(dir, 'stats.json');
    lockFile = `${statsFile}.lock`;
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second TrafficStats on the same file in one process: it counts in memory and never writes', async () => {
    const first = new TrafficStats({ statsFile });
    await first.ready;
    record(first, 5);
    await first.flush();

    const logger = quiet();
    const second = new TrafficStats({ statsFile, logger });
    const refusal = await second.ready.then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(StatsFileLockedError);
    expect(refusal).toBeInstanceOf(LegacyTlsError);
    expect(refusal).toMatchObject({ code: 'ERR_LEGACY_TLS_STATS_FILE_LOCKED', file: statsFile, lockFile, holder: { pid: process.pid, host: os.hostname() } });
    expect((refusal as Error).message).toContain(`the stats file ${statsFile} is already open in this process`);
    expect((refusal as Error).message).toMatch(/Share one TrafficStats/);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(second.storageStatus().error).toBe((refusal as Error).message);

    record(second, 7);
    expect(requestsIn(second)).toBe(7);
    await second.flush();
    await second.close();
    expect(await requestsInFile(statsFile)).toBe(5);
    // The refused one took nothing and released nothing: the first still holds the file.
    expect(JSON.parse(await readFile(lockFile, 'utf8')).pid).toBe(process.pid);
    record(first, 1);
    await first.close();
    expect(await requestsInFile(statsFile)).toBe(6);
    expect(await readdir(dir)).toEqual(['stats.json']);
  });

  it('still serves the report of a refused instance, with the refusal as its storage error', async () => {
    const first = new TrafficStats({ statsFile });
    await first.ready;
    const second = new TrafficStats({ statsFile, logger: quiet() });
    record(second, 2);
    const respond = createReportResponder({ stats: second, logger: quiet() });
    const response = await respond({ method: 'GET', path: '/_legacy-tls/report.json', query: '', authorization: undefined, remoteAddress: '127.0.0.1' });
    expect(response?.status).toBe(200);
    const report = JSON.parse(response!.body) as ReportDocument;
    expect(report.windows['24h'].requests.total).toBe(2);
    expect(report.storage.error).toMatch(/already open in this process/);
    await Promise.all([first.close(), second.close()]);
  });

  it('logs the refusal once instead of an unhandled rejection when nobody awaits ready', async () => {
    const first = new TrafficStats({ statsFile });
    await first.ready;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const logger = quiet();
      const second = new TrafficStats({ statsFile, logger });
      await vi.waitFor(() => expect(logger.warn).toHaveBeenCalledTimes(1));
      // Unhandled rejections are reported once the microtasks have run: give them a turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(logger.warn.mock.calls[0]?.[0]).toMatch(/already open in this process/);
      await second.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await first.close();
    }
  });

  it('recovers a stale lock left by a dead process', async () => {
    await writeFile(lockFile, lockOf({ pid: deadPid() }));
    const stats = new TrafficStats({ statsFile });
    await stats.ready;
    record(stats, 3);
    await stats.close();
    expect(await requestsInFile(statsFile)).toBe(3);
    await expect(stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never leaves a half-written lock behind, wherever kill -9 lands (it would refuse the next start for 5 s)', async () => {
    // A child takes and releases the lock in a loop; each kill lands somewhere in that loop. With the
    // lock created empty and then written, one kill in a few left an empty file and the next start was
    // refused: the persistence test's restart after kill -9 failed that way under load.
    for (let kill = 0; kill < 8; kill++) {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/lock-churn.ts'), lockFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, 20 + kill * 11));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const attempt = await acquireLock(lockFile);
      expect(attempt.status, `after kill ${kill}: ${await readFile(lockFile, 'utf8').catch(() => 'no lock file')}`).toBe('acquired');
      if (attempt.status === 'acquired') await attempt.lock.release();
    }
    // Nor anything else: the temp files of killed holders go when the lock is next taken.
    expect((await readdir(dir)).filter((name) => name !== 'stats.json')).toEqual([]);
  });

  it('takes a lock naming our own pid but another token as stale (pid 1 in every container run)', async () => {
    await writeFile(lockFile, lockOf({ pid: process.pid, token: 'an-earlier-run' }));
    const stats = new TrafficStats({ statsFile });
    await stats.ready;
    const lock = JSON.parse(await readFile(lockFile, 'utf8')) as LockHolder;
    expect(lock.pid).toBe(process.pid);
    expect(lock.token).not.toBe('an-earlier-run');
    await stats.close();
  });

  it('refuses a lock held by a live process on this host, naming it, and leaves its lock alone', async () => {
    const theirs = lockOf({ pid: process.ppid });
    await writeFile(lockFile, theirs);
    const stats = new TrafficStats({ statsFile, logger: quiet() });
    const error = (await stats.ready.catch((e: unknown) => e)) as StatsFileLockedError;
    expect(error.message).toBe(
      `legacy-tls-fallback: the stats file ${statsFile} is in use by another process (pid ${process.ppid} on host ${os.hostname()}, since 2026-03-10T09:00:00.000Z), ` +
        "so this one will not write it: two writers would overwrite each other's counts. Counting goes on in memory only. " +
        `Stop the other process, or give this one a stats file of its own (statsFile, --stats-file); if no such process is running, delete ${lockFile}.`,
    );
    record(stats, 2);
    await stats.close();
    expect(await readFile(lockFile, 'utf8')).toBe(theirs);
    await expect(stat(statsFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('holds to a lock from another host until it has not been touched for a minute', async () => {
    await writeFile(lockFile, lockOf({ host: 'another-host.example', pid: 1 }));
    const refused = new TrafficStats({ statsFile, logger: quiet() });
    await expect(refused.ready).rejects.toThrow(/pid 1 on host another-host\.example/);
    await refused.close();

    const longAgo = new Date(Date.now() - LOCK_ABANDONED_MS - 5_000);
    await utimes(lockFile, longAgo, longAgo);
    const taker = new TrafficStats({ statsFile });
    await taker.ready;
    expect(JSON.parse(await readFile(lockFile, 'utf8')).host).toBe(os.hostname());
    await taker.close();
  });

  it.runIf(bootId() !== null)('takes a lock from an earlier boot of this host as stale, even if its pid is in use now', async () => {
    await writeFile(lockFile, lockOf({ pid: process.ppid, boot: '00000000-0000-0000-0000-000000000000' }));
    const stats = new TrafficStats({ statsFile });
    await stats.ready;
    await stats.close();
  });

  it('holds to a lock file without a readable holder for a few seconds (it may be being written), then takes it', async () => {
    await writeFile(lockFile, '');
    const early = new TrafficStats({ statsFile, logger: quiet() });
    await expect(early.ready).rejects.toThrow(`its lock file ${lockFile} is being written or cannot be read`);
    await early.close();
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lockFile, longAgo, longAgo);
    const late = new TrafficStats({ statsFile });
    await late.ready;
    await late.close();
  });

  it.runIf(hasTool('mkfifo'))('does not hang on a FIFO left where the lock goes', async () => {
    execFileSync('mkfifo', [lockFile]);
    const stats = new TrafficStats({ statsFile, logger: quiet() });
    await expect(stats.ready).rejects.toThrow(/is being written or cannot be read/);
    await stats.close();
  });

  it('stops writing when another process took the lock over, and leaves that lock alone', async () => {
    const logger = quiet();
    const stats = new TrafficStats({ statsFile, logger });
    await stats.ready;
    record(stats, 4);
    await stats.flush();
    // What a second process does after finding this one's lock untouched for a minute (a suspended VM).
    const theirs = lockOf({ pid: process.ppid, token: 'the-new-holder' });
    await writeFile(lockFile, theirs);
    record(stats, 3);
    await stats.flush();
    expect(await requestsInFile(statsFile)).toBe(4);
    expect(stats.storageStatus().error).toMatch(/^legacy-tls-fallback: this process no longer holds the stats file .* another process took over its lock .*pid \d+ on host /);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(requestsIn(stats)).toBe(7);
    await stats.close();
    expect(await readFile(lockFile, 'utf8')).toBe(theirs);
    expect(await requestsInFile(statsFile)).toBe(4);
  });

  it('puts its lock back when someone deleted it, and keeps writing', async () => {
    const stats = new TrafficStats({ statsFile });
    await stats.ready;
    await rm(lockFile);
    record(stats, 2);
    await stats.flush();
    expect(JSON.parse(await readFile(lockFile, 'utf8')).pid).toBe(process.pid);
    expect(await requestsInFile(statsFile)).toBe(2);
    await stats.close();
    await expect(stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('releases the lock when the process exits without close()', async () => {
    const script = `
      import { TrafficStats } from ${JSON.stringify(path.join(import.meta.dirname, '../src/stats/traffic-stats.ts'))};
      const stats = new TrafficStats({ statsFile: ${JSON.stringify(statsFile)} });
      await stats.ready;
      process.exit(0);
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    await expect(stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('two real processes on one file: the second refuses and never writes; nothing the first counted is lost', async () => {
    const first = startWriter(statsFile);
    children.push(first.child);
    expect(await first.next((line) => !/^\d+$/.test(line))).toBe('ready');
    await first.next((line) => Number(line) >= 500);

    const second = startWriter(statsFile);
    children.push(second.child);
    expect(await second.next((line) => !/^\d+$/.test(line))).toBe('refused ERR_LEGACY_TLS_STATS_FILE_LOCKED');
    // The second keeps counting (in memory), across several of its flush intervals.
    await second.next((line) => Number(line) >= 1000);
    expect(second.stderr()).toContain(`the stats file ${statsFile} is in use by another process (pid ${first.child.pid} on host ${os.hostname()}`);

    const firstCounted = await first.stop();
    expect(await requestsInFile(statsFile)).toBe(firstCounted);
    // The file is free now, but the second still must not write it: its numbers never were in it.
    const secondCounted = await second.stop();
    expect(secondCounted).toBeGreaterThanOrEqual(1000);
    expect(await requestsInFile(statsFile)).toBe(firstCounted);
    expect(await readdir(dir)).toEqual(['stats.json']);

    // And the next run, after a kill -9 of its predecessor, takes the file back.
    const third = startWriter(statsFile);
    children.push(third.child);
    expect(await third.next((line) => !/^\d+$/.test(line))).toBe('ready');
    third.child.kill('SIGKILL');
    await new Promise((resolve) => third.child.once('exit', resolve));
    const fourth = new TrafficStats({ statsFile });
    await fourth.ready;
    expect(requestsIn(fourth)).toBeGreaterThanOrEqual(firstCounted);
    await fourth.close();
  }, 60_000);

  describe('the command line', () => {
    it('refuses to start a second proxy (or cluster) on the same stats file, with the holder and the fix, exit status 2', async () => {
      const args = ['--upstream', 'http://127.0.0.1:9', '--listen', '127.0.0.1:0', '--http-listen', 'off', '--state-dir', dir];
      const first = startCli(args);
      children.push(first.child);
      await first.waitFor((line) => line.msg === 'listening', 30_000);

      // The cluster's primary takes the same path (LONG_TESTS=1 checks it too: workers are slow to start).
      for (const extra of LONG ? [[], ['--workers', '2']] : [[]]) {
        const second = startCli([...args, ...extra]);
        children.push(second.child);
        expect(await second.exit()).toBe(2);
        const stderr = second.stderr.join('\n');
        expect(stderr).toContain(`the stats file ${path.join(dir, 'stats.json')} is in use by another process (pid ${first.child.pid} on host ${os.hostname()}`);
        expect(stderr).toContain(`delete ${path.join(dir, 'stats.json.lock')}`);
      }

      first.child.kill('SIGTERM');
      expect(await first.exit()).toBe(0);
      await expect(stat(path.join(dir, 'stats.json.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    }, 60_000);
  });
});

interface Writer {
  child: ChildProcess;
  next(predicate: (line: string) => boolean): Promise<string>;
  stderr(): string;
  /** SIGTERM, then what it had counted when it closed its stats. */
  stop(): Promise<number>;
}

function startWriter(statsFile: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/stats-writer.ts'), statsFile, '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let buffer = '';
  let errors = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const next = (predicate: (line: string) => boolean) =>
    new Promise<string>((resolve) => {
      const seen = lines.find(predicate);
      if (seen !== undefined) resolve(seen);
      else waiters.push({ predicate, resolve });
    });
  return {
    child,
    next,
    stderr: () => errors,
    async stop() {
      const closed = next((line) => line.startsWith('closed '));
      child.kill('SIGTERM');
      return Number((await closed).slice('closed '.length));
    },
  };
}
