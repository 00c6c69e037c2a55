import http from 'node:http';
import { eventually } from './helpers/long.js';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../src/cli/main.js';
import { closeServer, listenOn, certificateNamed } from './helpers/servers.js';
import { startCli, type CliProcess } from './helpers/cli.js';
import { tlsRequest } from './helpers/tls-client.js';

const TOKEN = 'cli-test-token-0123456789abcdef';

function memoryIo(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: { write: (s: string) => void (io.out += s) },
    stderr: { write: (s: string) => void (io.err += s) },
    env: {},
    cwd: os.tmpdir(),
    onSignal: () => () => {},
  };
  return io;
}

describe('runCli(argv, io)', () => {
  it('prints the help and exits 0', async () => {
    const io = memoryIo();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out).toContain('--upstream');
    expect(io.out).toContain('--workers');
  });

  it('exits 2 with what to fix on a usage error', async () => {
    const io = memoryIo();
    expect(await runCli(['--upstream', 'ftp://example.com'], io)).toBe(2);
    expect(io.err).toMatch(/--upstream/);
    expect(io.err).toMatch(/--help/);
    const io2 = memoryIo();
    expect(await runCli(['--upstream', 'http://127.0.0.1:1', '--min-tls', 'SSLv3'], io2)).toBe(2);
    expect(io2.err).toMatch(/--min-tls/);
  });
});

describe('the legacy-tls-fallback command', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  /** Requests for /slow the upstream has received: one is in flight from then on. */
  let slowSeen = 0;
  let dir: string;
  const running: CliProcess[] = [];

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      if (req.url === '/slow') {
        slowSeen++;
        return void setTimeout(() => res.end('slow done'), 800);
      }
      res.end(`upstream saw ${req.headers['x-tls-protocol']}`);
    });
    upstreamUrl = `http://127.0.0.1:${await listenOn(upstream)}`;
  });
  afterAll(() => closeServer(upstream));
  afterEach(async () => {
    for (const cli of running.splice(0)) {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(extra: string[] = []): Promise<{ cli: CliProcess; port: number; ca: string }> {
    dir ??= await mkdtemp(path.join(os.tmpdir(), 'ltf-cli-'));
    const cli = startCli(['--upstream', upstreamUrl, '--listen', '127.0.0.1:0', '--http-listen', 'off', '--state-dir', dir, '--shutdown-grace', '3000', ...extra], { LEGACY_TLS_REPORT_TOKEN: TOKEN });
    running.push(cli);
    const listening = await cli.waitFor((l) => l.msg === 'listening');
    const port = Number(new URL(String(listening.https)).port);
    const certArgIndex = extra.indexOf('--cert');
    const ca = await readFile(certArgIndex >= 0 ? extra[certArgIndex + 1]! : path.join(dir, 'cert.pem'), 'utf8');
    return { cli, port, ca };
  }

  it('works with nothing but --upstream, keeps its certificate across restarts, and stops cleanly on SIGTERM', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-cli-'));
    const first = await start();
    expect((await tlsRequest({ port: first.port, ca: first.ca, version: 'TLSv1.3' })).body).toBe('upstream saw TLSv1.3');
    const legacy = await tlsRequest({ port: first.port, ca: first.ca, version: 'TLSv1' });
    expect(legacy.status).toBe(302);
    first.cli.child.kill('SIGTERM');
    expect(await first.cli.exit()).toBe(0);

    const second = await start();
    expect(new X509Certificate(second.ca).fingerprint256).toBe(new X509Certificate(first.ca).fingerprint256);
    const report = await tlsRequest({ port: second.port, ca: second.ca, version: 'TLSv1.3', path: '/_legacy-tls/report.json', headers: { authorization: `Bearer ${TOKEN}` } });
    // The first run's counts were flushed on SIGTERM and loaded by the second.
    expect(JSON.parse(report.body).windows['24h'].requests.total).toBe(2);
    second.cli.child.kill('SIGTERM');
    expect(await second.cli.exit()).toBe(0);
  }, 60_000);

  it('lets a request in flight finish on SIGTERM; a second signal exits at once', async () => {
    const { cli, port, ca } = await start();
    const seenBefore = slowSeen;
    const inFlight = tlsRequest({ port, ca, version: 'TLSv1.3', path: '/slow' });
    await eventually(() => expect(slowSeen).toBe(seenBefore + 1), 10_000, 10);
    cli.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.body).toBe('slow done');
    expect(await cli.exit()).toBe(0);

    const again = await start();
    const hanging = tlsRequest({ port: again.port, ca: again.ca, version: 'TLSv1.3', path: '/slow' }).catch(() => null);
    await eventually(() => expect(slowSeen).toBe(seenBefore + 2), 10_000, 10);
    again.cli.child.kill('SIGTERM');
    await again.cli.waitFor((l) => l.msg === 'stopping');
    again.cli.child.kill('SIGTERM');
    expect(await again.cli.exit()).toBe(1);
    await hanging;
  }, 60_000);

  it('reloads certificates when the files change, and keeps the old ones when the new ones are bad', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-cli-'));
    const certFile = path.join(dir, 'site.crt');
    const keyFile = path.join(dir, 'site.key');
    const one = await certificateNamed('one.example');
    await writeFile(certFile, one.cert);
    await writeFile(keyFile, one.key);
    const { cli, port } = await start(['--cert', certFile, '--key', keyFile]);
    const subject = async () => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
      await new Promise((r) => socket.once('secureConnect', r));
      const cn = socket.getPeerX509Certificate()?.subject;
      socket.destroy();
      return cn;
    };
    expect(await subject()).toContain('one.example');

    const two = await certificateNamed('two.example');
    await writeFile(keyFile, two.key);
    await writeFile(certFile, two.cert);
    await cli.waitFor((l) => l.msg === 'certificates reloaded', 10_000);
    expect(await subject()).toContain('two.example');

    await writeFile(certFile, 'not a certificate');
    cli.child.kill('SIGHUP');
    await cli.waitFor((l) => String(l.msg).includes('new certificates refused'), 10_000);
    expect(await subject()).toContain('two.example');
    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
  }, 60_000);

  it('runs two workers with one merged report, shared session tickets, and replaces a worker that dies', async () => {
    const { cli, port, ca } = await start(['--workers', '2']);
    // New connections are spread over the workers by the primary.
    for (let i = 0; i < 20; i++) await tlsRequest({ port, ca, version: i % 2 ? 'TLSv1.3' : 'TLSv1' });
    const report = () => tlsRequest({ port, ca, version: 'TLSv1.3', path: '/_legacy-tls/report.json', headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => JSON.parse(r.body).windows['24h']);
    // Each worker sends its counts every second: every worker's report shows all of them once they have.
    const w = await eventually(async () => {
      const window = await report();
      expect(window.requests.total).toBe(20);
      return window;
    });
    expect(w.requests.byProtocol).toMatchObject({ TLSv1: 10, 'TLSv1.3': 10 });

    // A TLS 1.2 session ticket from one worker resumes on whichever worker takes the next connection.
    let session: Buffer | undefined;
    let resumed = 0;
    for (let i = 0; i < 8; i++) {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, maxVersion: 'TLSv1.2', ...(session && { session }) });
      await new Promise((r) => socket.once('secureConnect', r));
      if (socket.isSessionReused()) resumed++;
      session = socket.getSession() ?? session;
      socket.destroy();
    }
    expect(resumed).toBe(7);

    const workerPids = () => execFileSync('pgrep', ['-P', String(cli.child.pid), '-f', 'cli/bin']).toString().trim().split('\n').filter(Boolean).map(Number);
    const before = workerPids();
    expect(before).toHaveLength(2);
    process.kill(before[0]!, 'SIGKILL');
    await cli.waitFor((l) => String(l.msg).includes('worker died'));
    await cli.waitFor((l) => l.msg === 'replacement worker listening');
    const after = workerPids();
    expect(after).toHaveLength(2);
    expect(after).not.toContain(before[0]);
    expect((await tlsRequest({ port, ca, version: 'TLSv1.3' })).status).toBe(200);
    // The dead worker's counts (sent before it died) are kept; the new request is added.
    await eventually(async () => expect((await report()).requests.total).toBe(21));

    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
  }, 90_000);
});

