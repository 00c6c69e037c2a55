/**
 * The generated router configs, run: real nginx (Debian's libnginx-mod-stream) and real HAProxy on
 * loopback, as the current user, pid and logs in a temporary directory. curl and `openssl s_client` at
 * TLS 1.0, 1.1, 1.2 and 1.3 must land on the legacy stub (which must see a PROXY header naming them) or on
 * the modern stub, and the router's log must hold one line per connection with the right protocol. The
 * 162 recorded hellos of testssl.sh's clients check each router's reading of the offered version
 * against ours.
 */
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxyHeaderAcceptor } from '../src/relay/accept-proxy.js';
import type { ProxyHeader } from '../src/relay/proxy-protocol.js';
import { parseRouterLogLine, routerConfig, type RouterConfigOptions, type RouterKind, type RouterLogRecord } from '../src/router-config/index.js';
import { readClientHello, versionName } from '../src/tls/client-hello.js';
import { createLegacyTlsServer } from '../src/tls/server.js';
import { readTestsslClients } from '../scripts/testssl-clients.js';
import { testsslClientData } from './helpers/client-hellos.js';
import { hasStreamModule, startDaemon, type Daemon } from './helpers/daemons.js';
import { replayClientHello } from './helpers/replay.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { hasTool } from './helpers/tools.js';

type Side = 'legacy' | 'modern';
interface Landing {
  side: Side;
  protocol: string | null;
  /** The PROXY header the stub read, when it expects one. */
  header: ProxyHeader | null;
}

const VERSIONS = [
  { name: 'TLSv1', curl: '1.0', openssl: '-tls1', legacy: true },
  { name: 'TLSv1.1', curl: '1.1', openssl: '-tls1_1', legacy: true },
  { name: 'TLSv1.2', curl: '1.2', openssl: '-tls1_2', legacy: false },
  { name: 'TLSv1.3', curl: '1.3', openssl: '-tls1_3', legacy: false },
] as const;

function exec(command: string, args: string[], input = ''): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 20_000 }, (error, stdout) => resolve({ stdout, code: error ? ((error as { code?: number }).code ?? 1) : 0 }));
    child.stdin?.end(input);
  });
}

/**
 * The two stubs behind a router. Each answers every request with what it saw: its side, the TLS
 * version, and the PROXY header (read first when it expects one).
 */
async function stubs(dir: string, { modernExpectsProxy }: { modernExpectsProxy: boolean }) {
  const { cert, key } = await testCertificate();
  const headers = new WeakMap<object, ProxyHeader>();
  const landings: Landing[] = [];
  const answer = (side: Side) => (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as tls.TLSSocket;
    const landing: Landing = { side, protocol: socket.getProtocol(), header: headers.get((socket as unknown as { _parent: object })._parent) ?? null };
    landings.push(landing);
    res.end(JSON.stringify(landing));
  };
  const legacyTls = createLegacyTlsServer({ cert, key }, answer('legacy'));
  const modernTls = https.createServer({ cert, key, minVersion: 'TLSv1.2' }, answer('modern'));
  const listeners: net.Server[] = [];
  const front = async (server: net.Server & { emit(event: 'connection', socket: net.Socket): boolean }, withProxy: boolean) => {
    const accept = createProxyHeaderAcceptor();
    const listener = net.createServer((socket) => {
      if (!withProxy) return void server.emit('connection', socket);
      accept(socket, (socket, header) => {
        headers.set(socket, header);
        server.emit('connection', socket);
      });
    });
    listeners.push(listener);
    return listenOn(listener);
  };
  const legacyPort = await front(legacyTls, true);
  const modernPort = await front(modernTls, modernExpectsProxy);
  await writeFile(path.join(dir, 'cert.pem'), cert);
  return {
    legacyPort,
    modernPort,
    landings,
    close: async () => {
      for (const l of listeners) await closeServer(l);
      legacyTls.close();
      modernTls.close();
    },
  };
}

interface Router {
  kind: RouterKind;
  daemon: Daemon;
  port: number;
  /** The router's log lines so far, parsed (every line must parse). */
  log(): Promise<RouterLogRecord[]>;
}

async function startRouter(kind: RouterKind, options: Omit<RouterConfigOptions, 'listen' | 'log' | 'pidFile'>): Promise<Router> {
  const daemon = await startDaemon({
    name: kind,
    ports: 1,
    config: (d, [port]) => {
      // Started as root, nginx's worker runs as nobody: it must be able to reach the hop's socket here.
      chmodSync(d, 0o755);
      return routerConfig(kind, {
        ...options,
        listen: `127.0.0.1:${port}`,
        log: kind === 'nginx' ? path.join(d, 'router.log') : 'stdout',
        pidFile: path.join(d, `${kind}.pid`),
        ...(kind === 'nginx' && { hopSocket: path.join(d, 'modern.sock'), errorLog: path.join(d, 'error.log') }),
      });
    },
  });
  const log = async () => {
    const text = kind === 'nginx' ? await readFile(path.join(daemon.dir, 'router.log'), 'utf8').catch(() => '') : daemon.output();
    const lines = text.split('\n').filter((line) => line.includes('ltf-router/1'));
    return lines.map((line) => {
      const record = parseRouterLogLine(line);
      if (!record) throw new Error(`a router log line that does not parse: ${JSON.stringify(line)}`);
      return record;
    });
  };
  return { kind, daemon, port: daemon.ports[0]!, log };
}

async function logLines(router: Router, count: number): Promise<RouterLogRecord[]> {
  for (let i = 0; i < 400; i++) {
    const records = await router.log();
    if (records.length >= count) return records;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return router.log();
}

async function curl(port: number, dir: string, version: (typeof VERSIONS)[number]) {
  const { stdout } = await exec('curl', [
    '-s',
    '--max-time',
    '10',
    '--cacert',
    path.join(dir, 'cert.pem'),
    '--resolve',
    `localhost:${port}:127.0.0.1`,
    `--tlsv${version.curl}`,
    '--tls-max',
    version.curl,
    ...(version.legacy ? ['--ciphers', 'DEFAULT@SECLEVEL=0'] : []),
    '-w',
    '\n%{local_port}',
    `https://localhost:${port}/`,
  ]);
  const [body = '', localPort = ''] = stdout.split('\n');
  if (!body.startsWith('{')) throw new Error(`curl ${version.name} on ${port}: ${JSON.stringify(stdout)}`);
  return { landing: JSON.parse(body) as Landing, localPort: Number(localPort) };
}

async function opensslClient(port: number, version: (typeof VERSIONS)[number]): Promise<Landing> {
  const { stdout } = await exec(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-quiet', '-ign_eof', version.openssl, ...(version.legacy ? ['-cipher', 'DEFAULT@SECLEVEL=0'] : [])],
    'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n',
  );
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as Landing;
}

const EXPECTED_OFFERED: Record<RouterKind, Record<string, string>> = {
  // nginx reads supported_versions; HAProxy only the hello's legacy_version (TLS 1.3 clients say 1.2).
  nginx: { TLSv1: 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' },
  haproxy: { TLSv1: 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2+', 'TLSv1.3': 'TLSv1.2+' },
};

const CAN_RUN: Record<RouterKind, boolean> = {
  nginx: hasTool('nginx') && hasStreamModule(),
  haproxy: hasTool('haproxy'),
};

describe.each([
  ['nginx', { proxyProtocol: true, modernProxyProtocol: false }],
  ['nginx', { proxyProtocol: true, modernProxyProtocol: true }],
  ['haproxy', { proxyProtocol: true, modernProxyProtocol: false }],
  ['haproxy', { proxyProtocol: true, modernProxyProtocol: true }],
] as const)('%s router, %j', (kind, variant) => {
  let dir: string;
  let stub: Awaited<ReturnType<typeof stubs>>;
  let router: Router;

  beforeAll(async () => {
    if (!CAN_RUN[kind] || !hasTool('curl') || !hasTool('openssl')) return;
    dir = await mkdtemp(path.join(os.tmpdir(), `ltf-router-${kind}-`));
    stub = await stubs(dir, { modernExpectsProxy: variant.modernProxyProtocol });
    router = await startRouter(kind, { modern: `127.0.0.1:${stub.modernPort}`, legacy: `127.0.0.1:${stub.legacyPort}`, ...variant });
  });
  afterAll(async () => {
    await router?.daemon.stop();
    await stub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.runIf(CAN_RUN[kind] && hasTool('curl') && hasTool('openssl'))(
    'curl and openssl at TLS 1.0, 1.1, 1.2, 1.3 land on the right side, with a PROXY header naming them, and one log line each',
    async () => {
      const before = (await router.log()).length;
      for (const version of VERSIONS) {
        const { landing, localPort } = await curl(router.port, dir, version);
        expect(landing.side, `curl ${version.name}`).toBe(version.legacy ? 'legacy' : 'modern');
        expect(landing.protocol).toBe(version.name);
        if (version.legacy || variant.modernProxyProtocol) {
          // nginx sends PROXY v1, HAProxy v2; either way the client's own address and port.
          expect(landing.header).toEqual({
            version: kind === 'nginx' ? 1 : 2,
            command: 'proxy',
            source: { address: '127.0.0.1', port: localPort, family: 'IPv4' },
            destination: { address: '127.0.0.1', port: router.port, family: 'IPv4' },
          });
        } else {
          expect(landing.header).toBeNull();
        }
        const viaOpenssl = await opensslClient(router.port, version);
        expect(viaOpenssl.side, `openssl ${version.name}`).toBe(version.legacy ? 'legacy' : 'modern');
        expect(viaOpenssl.protocol).toBe(version.name);
      }
      const records = (await logLines(router, before + 8)).slice(before);
      expect(records).toHaveLength(8);
      const expected = VERSIONS.flatMap((v) => [v, v]).map((v) => ({
        router: kind,
        client: '127.0.0.1',
        offered: EXPECTED_OFFERED[kind][v.name],
        serverName: 'localhost',
        route: v.legacy ? 'legacy' : 'modern',
      }));
      expect(records.map(({ router: r, client, offered, serverName, route }) => ({ router: r, client, offered, serverName, route }))).toEqual(expected);
      for (const record of records) {
        expect(record.bytesFromClient).toBeGreaterThan(100);
        expect(record.bytesToClient).toBeGreaterThan(100);
        expect(Math.abs(record.time - Date.now())).toBeLessThan(5 * 60_000);
      }
    },
    60_000,
  );

  it.runIf(CAN_RUN[kind])('plain HTTP and garbage go to the legacy side, logged without a protocol; a hostile server name is logged as "invalid"', async () => {
    const before = (await router.log()).length;
    for (const payload of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '\x00\x01garbage']) {
      const socket = net.connect({ host: '127.0.0.1', port: router.port });
      socket.on('error', () => {});
      socket.on('connect', () => socket.end(payload));
      socket.resume();
      await new Promise((resolve) => socket.on('close', resolve));
    }
    // A hello whose server name holds a space and a quote: the log must stay one token per field.
    await exec('openssl', ['s_client', '-connect', `127.0.0.1:${router.port}`, '-servername', 'a b"c', '-tls1_2'], 'Q\n');
    const records = (await logLines(router, before + 3)).slice(before);
    expect(records.map((r) => [r.offered, r.route])).toEqual([
      [null, 'legacy'],
      [null, 'legacy'],
      [kind === 'nginx' ? 'TLSv1.2' : 'TLSv1.2+', 'modern'],
    ]);
    expect(records[2]!.serverName).toBe('invalid');
  });

  it.runIf(CAN_RUN[kind] && !variant.modernProxyProtocol && testsslClientData() !== null)(
    "each of testssl.sh's 162 recorded hellos: the router's offered version and route against ours",
    async () => {
      const clients = readTestsslClients();
      const routes: string[] = [];
      const offered: string[] = [];
      const readsOtherwise: string[] = [];
      let count = (await router.log()).length;
      const unanswered: string[] = [];
      for (const client of clients) {
        const answer = await replayClientHello(router.port, client.hello);
        const records = await logLines(router, count + 1);
        const record = records[count];
        count = records.length;
        if (!record) throw new Error(`no log line for ${client.name}`);
        const read = readClientHello(client.hello);
        if (read.status !== 'complete') throw new Error(`${client.name}: ${read.status}`);
        const ours = read.hello.maxVersion;
        const ourRoute = ours >= 0x0303 ? 'modern' : 'legacy';
        // Every modern client gets a ServerHello from the modern stub: the route really leads there.
        if (ourRoute === 'modern' && answer.kind !== 'server-hello') unanswered.push(`${client.name}: ${JSON.stringify(answer)}`);
        if (record.route !== ourRoute) routes.push(`${client.name}: router → ${record.route}, ours → ${ourRoute}`);
        // nginx (ngx_stream_ssl_preread_module.c) sets TLSv1.3 on seeing a supported_versions extension,
        // whatever it lists; HAProxy reads legacy_version, 1.2 in every hello that offers more.
        const expected = kind === 'haproxy' ? (ours >= 0x0303 ? 'TLSv1.2+' : versionName(ours)) : read.hello.extensions.includes(0x002b) ? 'TLSv1.3' : versionName(ours);
        if (record.offered !== expected) offered.push(`${client.name}: router ${record.offered}, expected ${expected}`);
        if (record.offered !== (kind === 'haproxy' && ours >= 0x0303 ? 'TLSv1.2+' : versionName(ours))) readsOtherwise.push(client.name);
      }
      expect(unanswered).toEqual([]);
      expect(routes).toEqual([]);
      expect(offered).toEqual([]);
      // Where nginx's reading differs from ours: the TLS 1.3 drafts of Chrome 56-69 and Firefox 52-62,
      // whose hellos offer TLS 1.2 and a draft (none of them negotiates 1.3 with a server of today).
      expect(readsOtherwise).toEqual(kind === 'nginx' ? ['Chrome 57 Win 7', 'Chrome 65 Win 7', 'Firefox 53 Win 7', 'Firefox 59 Win 7', 'Firefox 62 Win 7'] : []);
    },
    120_000,
  );
});
