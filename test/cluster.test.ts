/**
 * `--workers`: the primary keeps the port served. Workers that die are replaced with a growing delay
 * instead of being given up on after ten; a half-renewed certificate pair on disk no longer makes every
 * replacement exit; and a primary that does give up exits non-zero so that `Restart=on-failure` acts.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo, type CliSignal } from '../src/cli/main.js';
import { startCluster } from '../src/proxy/cluster.js';
import type { RunningProxy } from '../src/proxy/config.js';
import { closeServer, listenOn, certificateNamed } from './helpers/servers.js';
import { startCli, type CliProcess } from './helpers/cli.js';
import { captureLogger, proxyConfig } from './helpers/proxy.js';
import { tlsRequest } from './helpers/tls-client.js';
import { LONG } from './helpers/long.js';

const TOKEN = 'cluster-test-token-0123456789abcdef';

describe('a --workers cluster under failing workers', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  let dir: string;
  const running: CliProcess[] = [];

  beforeAll(async () => {
    upstream = http.createServer((_req, res) => res.end('upstream'));
    upstreamUrl = `http://127.0.0.1:${await listenOn(upstream)}`;
  });
  afterAll(() => closeServer(upstream));
  afterEach(async () => {
    for (const cli of running.splice(0)) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(extra: string[]): Promise<{ cli: CliProcess; port: number }> {
    dir ??= await mkdtemp(path.join(os.tmpdir(), 'ltf-cluster-'));
    const cli = startCli(['--upstream', upstreamUrl, '--listen', '127.0.0.1:0', '--http-listen', 'off', '--state-dir', dir, '--shutdown-grace', '1000', '--workers', '2', ...extra], { LEGACY_TLS_REPORT_TOKEN: TOKEN });
    running.push(cli);
    const listening = await cli.waitFor((l) => l.msg === 'listening');
    return { cli, port: Number(new URL(String(listening.https)).port) };
  }

  const workerPids = (cli: CliProcess) => execFileSync('pgrep', ['-P', String(cli.child.pid), '-f', 'cli/bin']).toString().trim().split('\n').filter(Boolean).map(Number);
  /** Resolves once `message` has been logged `n` times in all. */
  const logged = (cli: CliProcess, message: string, n: number, timeoutMs = 20_000) => cli.waitFor(() => cli.lines.filter((l) => l.msg === message).length >= n, timeoutMs);

  /** Kills one worker and waits for its replacement to listen; returns the primary's decision line. */
  async function killAndAwaitReplacement(cli: CliProcess, pid: number, replacementsSoFar: number): Promise<Record<string, unknown>> {
    process.kill(pid, 'SIGKILL');
    const died = await cli.waitFor((l) => l.msg === 'worker died; starting a replacement' && l.pid === pid);
    await logged(cli, 'replacement worker listening', replacementsSoFar + 1);
    return died;
  }

  // LONG_TESTS=1: three deaths in a row with growing delays. npm test has one kill and replacement in the
  // test below and in cli.test.ts, and the delays in restart-policy.test.ts.
  it.runIf(LONG)('replaces a worker killed again and again, each time after a longer delay, and keeps serving', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-cluster-'));
    const { cli, port } = await start([]);
    const ca = await readFile(path.join(dir, 'cert.pem'), 'utf8');
    const decisions: Record<string, unknown>[] = [];
    // Three deaths show the delay growing.
    for (let round = 0; round < 3; round++) {
      const [victim] = workerPids(cli);
      decisions.push(await killAndAwaitReplacement(cli, victim!, round));
      expect((await tlsRequest({ port, ca, version: 'TLSv1.3' })).body).toBe('upstream');
    }
    // The workers had listened for seconds, not the minute that counts as healthy: three quick deaths in a row.
    expect(decisions.map((d) => [d.delayMs, d.failuresInARow])).toEqual([
      [0, 1],
      [1_000, 2],
      [2_000, 3],
    ]);
    expect(workerPids(cli)).toHaveLength(2);
    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
  }, 90_000);

  it('announces the port once every worker listens, so a worker dying then does not take the port with it', async () => {
    // The second worker starts 2 s late. Before, 'listening' came with the first worker alone on the
    // socket: killing it closed the port (node:cluster drops a shared socket with its last worker), and with
    // --listen :0 the late worker and the replacement bound another one. CI saw exactly that as ECONNREFUSED.
    const preload = path.join(import.meta.dirname, 'fixtures/slow-second-worker.mjs');
    const cli = startCli(['--upstream', upstreamUrl, '--listen', '127.0.0.1:0', '--http-listen', 'off', '--state-dir', (dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-cluster-'))), '--workers', '2'], {
      LEGACY_TLS_REPORT_TOKEN: TOKEN,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim(),
    });
    running.push(cli);
    const listening = await cli.waitFor((l) => l.msg === 'listening', 40_000);
    const port = Number(new URL(String(listening.https)).port);
    const ca = await readFile(path.join(dir, 'cert.pem'), 'utf8');
    const [first] = workerPids(cli);
    process.kill(first!, 'SIGKILL');
    await cli.waitFor((l) => l.msg === 'worker died; starting a replacement' && l.pid === first);
    // The late worker holds the socket: served at once, before any replacement.
    expect((await tlsRequest({ port, ca, version: 'TLSv1.3' })).body).toBe('upstream');
    await logged(cli, 'replacement worker listening', 1, 40_000);
    expect((await tlsRequest({ port, ca, version: 'TLSv1.3' })).body).toBe('upstream');
    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
  }, 90_000);

  it('starts replacement workers with the last good certificate while a half-renewed pair is on disk', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-cluster-'));
    const certFile = path.join(dir, 'site.crt');
    const keyFile = path.join(dir, 'site.key');
    const one = await certificateNamed('one.example');
    await writeFile(certFile, one.cert);
    await writeFile(keyFile, one.key);
    const { cli, port } = await start(['--cert', certFile, '--key', keyFile]);
    const subjects = async (connections = 6) => {
      const seen = new Set<string>();
      for (let i = 0; i < connections; i++) {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
        await new Promise((r) => socket.once('secureConnect', r));
        seen.add(/CN=([^\n,]+)/.exec(socket.getPeerX509Certificate()?.subject ?? '')?.[1] ?? '?');
        socket.destroy();
      }
      return [...seen];
    };
    expect(await subjects()).toEqual(['one.example']);

    // certbot got as far as the key: the pair on disk no longer matches.
    const two = await certificateNamed('two.example');
    await writeFile(keyFile, two.key);
    await cli.waitFor((l) => String(l.msg).includes('new certificates refused'), 15_000);

    // Every worker is replaced while the broken pair is on disk.
    const originals = workerPids(cli);
    for (const [i, pid] of originals.entries()) await killAndAwaitReplacement(cli, pid, i);
    expect(workerPids(cli).filter((pid) => originals.includes(pid))).toEqual([]);
    expect(await subjects()).toEqual(['one.example']);
    // Only the two workers killed here died: no replacement exited over the broken pair.
    expect(cli.lines.filter((l) => l.msg === 'worker died; starting a replacement').map((l) => l.signal)).toEqual(['SIGKILL', 'SIGKILL']);

    // The renewal completes: every worker, replacements included, takes the new pair.
    await writeFile(certFile, two.cert);
    await cli.waitFor((l) => l.msg === 'certificates reloaded', 15_000);
    expect(await subjects()).toEqual(['two.example']);

    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
  }, 90_000);
});

describe('a primary whose workers keep dying', () => {
  let upstream: http.Server;
  beforeAll(async () => {
    upstream = http.createServer((_req, res) => res.end('upstream'));
    await listenOn(upstream);
  });
  afterAll(() => closeServer(upstream));

  // The real primary with a short policy, and workers that die 200 ms after listening: the glue between
  // worker exits, the restart policy, the log and RunningProxy.failed.
  it('replaces them with growing delays, then gives up once, saying so, and forks nothing more', async () => {
    const config = await proxyConfig('http://127.0.0.1:9', { httpListen: null, workers: 1 });
    process.env.LTF_TEST_CONFIG = JSON.stringify({ ...config, upstream: config.upstream.href });
    cluster.setupPrimary({ exec: path.join(import.meta.dirname, 'fixtures/dying-worker.ts'), execArgv: ['--import', 'tsx'] });
    const logger = captureLogger();
    const running = await startCluster(config, logger, 1, { baseDelayMs: 100, maxDelayMs: 400, stableAfterMs: 60_000, giveUpAfterMs: 2_000 });
    try {
      const error = await running.failed!;
      expect(error.message).toMatch(/workers kept dying/);
      const errors = logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toMatch(/^workers have kept dying for \d+ s \(\d+ in a row\) with none listening; giving up so that the service manager can restart the proxy$/);
      const delays = logger.lines.filter((l) => l.message === 'worker died; starting a replacement').map((l) => l.fields?.delayMs);
      // Each worker takes longer to start than this policy's two seconds: at least one replacement, then the end.
      expect(delays.length).toBeGreaterThanOrEqual(1);
      expect(delays).toEqual([0, 100, 200, 400, 400, 400].slice(0, delays.length));
      // Nothing is started after giving up, and no worker is left.
      await new Promise((r) => setTimeout(r, 600));
      expect(Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead())).toEqual([]);
    } finally {
      await running.close(100);
      delete process.env.LTF_TEST_CONFIG;
    }
  }, 60_000);
});

describe('runCli and a proxy that gives up', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function io(overrides: Partial<CliIo>): CliIo & { err: string; signals: Map<CliSignal, () => void> } {
    const signals = new Map<CliSignal, () => void>();
    const result = {
      err: '',
      signals,
      stdout: { write: () => undefined },
      stderr: { write: (s: string) => void (result.err += s) },
      env: { LEGACY_TLS_REPORT_TOKEN: TOKEN },
      cwd: dir,
      onSignal: (signal: CliSignal, handler: () => void) => {
        signals.set(signal, handler);
        return () => signals.delete(signal);
      },
      ...overrides,
    };
    return result;
  }

  function fakeProxy(): { proxy: RunningProxy; giveUp: (error: Error) => void; closed: () => boolean } {
    let giveUp: (error: Error) => void = () => undefined;
    let closed = false;
    const proxy: RunningProxy = {
      urls: { https: 'https://127.0.0.1:8443', http: null, report: 'https://127.0.0.1:8443/_legacy-tls/' },
      reloadCertificates: async () => true,
      close: async () => void (closed = true),
      failed: new Promise<Error>((resolve) => (giveUp = resolve)),
    };
    return { proxy, giveUp, closed: () => closed };
  }

  const ARGS = ['--upstream', 'http://127.0.0.1:9', '--http-listen', 'off', '--log-format', 'json'];

  it('exits 1 after closing what is left when the proxy gives up, and 0 after a signal', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-giveup-'));
    const failing = fakeProxy();
    const exit = runCli([...ARGS, '--state-dir', dir], io({ start: async () => failing.proxy }));
    failing.giveUp(new Error('workers kept dying for 5 min'));
    expect(await exit).toBe(1);
    expect(failing.closed()).toBe(true);

    const healthy = fakeProxy();
    const stopped = io({ start: async () => healthy.proxy });
    const exitAfterSignal = runCli([...ARGS, '--state-dir', dir], stopped);
    await until(() => stopped.signals.has('SIGTERM'));
    stopped.signals.get('SIGTERM')!();
    expect(await exitAfterSignal).toBe(0);
    // Giving up after a clean stop changes nothing.
    healthy.giveUp(new Error('late'));
    expect(healthy.closed()).toBe(true);
  }, 30_000);

  it('warns at start when --max-connections needs more descriptors than the process may open, naming LimitNOFILE', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-nofile-'));
    const runWith = async (limit: number | null, maxConnections: string) => {
      const { proxy, giveUp } = fakeProxy();
      const test = io({ start: async () => proxy, openFilesLimit: () => limit });
      const exit = runCli([...ARGS, '--state-dir', dir, '--max-connections', maxConnections], test);
      await until(() => test.signals.has('SIGTERM'));
      giveUp(new Error('end of test'));
      await exit;
      return test.err.split('\n').filter((line) => line.includes('LimitNOFILE')).map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    const [warning, ...more] = await runWith(1024, '10000');
    expect(more).toEqual([]);
    expect(warning).toMatchObject({ level: 'warn', maxConnections: 10_000, needed: 20_100, limit: 1024 });
    expect(String(warning!.msg)).toContain('LimitNOFILE=65536');
    expect(await runWith(65_536, '10000')).toEqual([]);
    expect(await runWith(1024, '400')).toEqual([]);
    // Where the limit cannot be read (not Linux), nothing is guessed.
    expect(await runWith(null, '10000')).toEqual([]);
  }, 30_000);
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
