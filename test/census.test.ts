/**
 * The ClientHello census on a real server: every connection's hello is read before the TLS layer and
 * put back, so real clients at every version still complete their handshakes (with resumption and SNI
 * callbacks), and what each one offered shows on its requests' facts, on its failure, and in the report.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKoaExample } from '../examples/koa-app.js';
import { buildReport } from '../src/report/document.js';
import { renderDashboard } from '../src/report/formats/html.js';
import { registerLegacyTlsMetrics } from '../src/report/formats/prometheus.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { clientHelloOf } from '../src/tls/census.js';
import { readClientHello } from '../src/tls/client-hello.js';
import { parentOf } from '../src/tls/connection-guard.js';
import { tlsFacts } from '../src/tls/facts.js';
import type { HandshakeFailure } from '../src/tls/handshake-failure.js';
import { ja4 } from '../src/tls/ja4.js';
import { knownClient } from '../src/tls/known-clients.js';
import { createLegacyTlsServer, type LegacyTlsServer } from '../src/tls/server.js';
import type { ClientHelloOutcome, TlsProtocol } from '../src/types.js';
import { readTestsslClients } from '../scripts/testssl-clients.js';
import { writeByteByByte } from './helpers/capture.js';
import { clientHello, clientHelloMessage, ext, replaceServerName, testsslClientData, type Extension } from './helpers/client-hellos.js';
import { replayClientHello, untilNoConnections } from './helpers/replay.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { readReferenceResults } from './helpers/testssl-reference.js';
import { TLS_VERSIONS } from './helpers/tls-client.js';
import { hasTool } from './helpers/tools.js';

const FLAG: Record<TlsProtocol, string> = { TLSv1: '1.0', 'TLSv1.1': '1.1', 'TLSv1.2': '1.2', 'TLSv1.3': '1.3' };
const OPENSSL_FLAG: Record<TlsProtocol, string> = { TLSv1: '-tls1', 'TLSv1.1': '-tls1_1', 'TLSv1.2': '-tls1_2', 'TLSv1.3': '-tls1_3' };
const WIRE: Record<number, ClientHelloOutcome> = { 0x0002: 'SSLv2', 0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' };
const CHROME_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const legacy = (version: TlsProtocol) => version === 'TLSv1' || version === 'TLSv1.1';

interface Echo {
  facts: ReturnType<typeof tlsFacts>;
  hello: { serverName: string | null; alpn: string[] } | null;
}

const tempDir = mkdtempSync(path.join(os.tmpdir(), 'ltf-census-'));
let caFiles = 0;
function caFile(cert: string): string {
  const file = path.join(tempDir, `ca-${caFiles++}.pem`);
  writeFileSync(file, cert);
  return file;
}
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

function curl(port: number, cert: string, extra: string[] = []): Promise<{ code: number; stdout: string }> {
  return execText('curl', ['-s', '--cacert', caFile(cert), '--resolve', `localhost:${port}:127.0.0.1`, ...extra, `https://localhost:${port}/`]);
}

function execText(command: string, args: string[], input?: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 15_000 }, (error, stdout) => resolve({ code: error ? 1 : 0, stdout }));
    child.stdin?.end(input ?? '');
  });
}

function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => (predicate() ? resolve() : Date.now() > deadline ? reject(new Error('condition not met in time')) : setTimeout(tick, 10));
    tick();
  });
}

describe('the census with real clients', () => {
  let server: LegacyTlsServer;
  let stats: TrafficStats;
  let port: number;
  let ca: string;
  const failures: HandshakeFailure[] = [];

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    ca = cert;
    stats = new TrafficStats();
    server = createLegacyTlsServer({ cert, key, stats, handshakeTimeout: 1_500, clientHelloTimeout: 500, logger: { warn: () => {} } }, (req, res) => {
      const hello = clientHelloOf(parentOf(req.socket as tls.TLSSocket));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ facts: tlsFacts(req), hello: hello && { serverName: hello.serverName, alpn: hello.alpn } }));
    });
    server.on('handshakeFailure', (f) => failures.push(f));
    port = await listenOn(server);
  });
  afterAll(async () => {
    await closeServer(server);
    await stats.close();
  });

  describe.runIf(hasTool('curl'))('curl', () => {
    it.each(TLS_VERSIONS)('pinned to %s: served, with the offered version, SNI and ALPN read from its hello', async (version) => {
      const result = await curl(port, ca, [`--tlsv${FLAG[version]}`, '--tls-max', FLAG[version], ...(legacy(version) ? ['--ciphers', 'DEFAULT:@SECLEVEL=0'] : [])]);
      expect(result.code).toBe(0);
      const echo = JSON.parse(result.stdout) as Echo;
      expect(echo.facts).toMatchObject({ protocol: version, servername: 'localhost', offered: { maxVersion: version } });
      expect(echo.facts.offered?.ja4.slice(0, 4)).toBe(`t${FLAG[version].replace('.', '')}d`);
      expect(echo.hello?.serverName).toBe('localhost');
      expect(echo.hello?.alpn).toContain('http/1.1');
    });
  });

  describe.runIf(hasTool('openssl'))('openssl s_client', () => {
    it.each(TLS_VERSIONS)('pinned to %s', async (version) => {
      const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-quiet', '-ign_eof', OPENSSL_FLAG[version], ...(legacy(version) ? ['-cipher', 'DEFAULT:@SECLEVEL=0'] : [])];
      const result = await execText('openssl', args, 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
      const body = result.stdout.slice(result.stdout.indexOf('{'));
      const echo = JSON.parse(body) as Echo;
      expect(echo.facts).toMatchObject({ protocol: version, offered: { maxVersion: version } });
      expect(echo.hello?.serverName).toBe('localhost');
    });
  });

  it('keeps session resumption working (TLS 1.2 session id, TLS 1.3 ticket)', async () => {
    for (const version of ['TLSv1', 'TLSv1.2', 'TLSv1.3'] as const) {
      const connect = (session?: Buffer) =>
        new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
          let saved: Buffer | undefined;
          const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, minVersion: version, maxVersion: version, ...(legacy(version) && { ciphers: 'DEFAULT:@SECLEVEL=0' }), ...(session && { session }) });
          socket.on('session', (s: Buffer) => (saved = s));
          let reused = false;
          socket.on('error', reject);
          socket.on('secureConnect', () => {
            reused = socket.isSessionReused();
            socket.end('GET / HTTP/1.0\r\n\r\n');
          });
          socket.resume();
          socket.on('close', () => resolve({ reused, session: saved }));
        });
      const first = await connect();
      expect(first.session).toBeDefined();
      const second = await connect(first.session);
      expect({ version, reused: second.reused }).toEqual({ version, reused: true });
    }
  });

  it('reports a hello cut short and abandoned as lost, and one left hanging as a timeout', async () => {
    const hello = Buffer.from(clientHello({ ciphers: [0x1301, 0xc02f], extensions: [ext.serverName('localhost'), ext.supportedVersions(0x0304, 0x0303)] }));
    const before = failures.length;
    const cut = net.connect({ host: '127.0.0.1', port });
    cut.on('error', () => {});
    await once(cut, 'connect');
    cut.end(hello.subarray(0, 20));
    await until(() => failures.length > before);
    expect(failures.at(-1)).toMatchObject({ reason: 'other', code: 'ECONNRESET', offered: null, remoteAddress: '127.0.0.1' });

    // One byte in time for the first-byte deadline, and then nothing: Node's handshake timeout never
    // started (the TLS layer has not seen the socket), so the census's own deadline closes it.
    const hanging = net.connect({ host: '127.0.0.1', port });
    hanging.on('error', () => {});
    await once(hanging, 'connect');
    const beforeHanging = failures.length;
    hanging.write(hello.subarray(0, 1));
    await until(() => failures.length > beforeHanging);
    expect(failures.at(-1)).toMatchObject({ reason: 'timeout', code: 'ERR_TLS_HANDSHAKE_TIMEOUT', offered: null });

    // Silent: the guard's first-byte deadline, as without the census.
    const beforeSilent = failures.length;
    const silent = net.connect({ host: '127.0.0.1', port });
    silent.on('error', () => {});
    await until(() => failures.length > beforeSilent);
    expect(failures.at(-1)).toMatchObject({ reason: 'timeout', code: 'ERR_LEGACY_TLS_CLIENT_HELLO_TIMEOUT' });
    // Each is counted as it closes, which may come after its failure was reported.
    const noHello = () => buildReport(stats.snapshot(), Date.now(), stats.storageStatus()).windows['24h'].offered.byVersion['no-hello'];
    await until(() => noHello() >= 3);
    expect(noHello()).toBe(3);
  });

  it('reads a hello sent one byte per TCP segment, and the handshake goes on', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    await once(socket, 'connect');
    const hello = replaceServerName(clientHello({ ciphers: [0x1301, 0x1302, 0xc02f], extensions: [ext.serverName('x'), ext.supportedGroups(0x001d, 0x0017), ext.signatureAlgorithms(0x0804, 0x0403), ext.supportedVersions(0x0304, 0x0303), [0x0033, keyShare()]] }), 'localhost');
    const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    const failure = once(server, 'handshakeFailure') as Promise<[HandshakeFailure]>;
    await writeByteByByte(socket, hello);
    const first = await answer;
    expect(first[0]).toBe(0x16); // the ServerHello, not an alert
    socket.destroy();
    const [event] = await failure;
    expect(event.offered).toEqual({ maxVersion: 'TLSv1.3', ja4: ja4((readClientHello(hello) as { hello: Parameters<typeof ja4>[0] }).hello) });
  });

  it('reads a 16 KiB hello with every extension over two records, and passes it on as it came', async () => {
    // A plain Node server is the reference: the census must change nothing about the answer.
    const plain = tls.createServer({ cert: ca, key: (await testCertificate()).key });
    const plainPort = await listenOn(plain);
    try {
      for (const hello of [helloWithEveryExtension(new Set([0x0015])), helloWithEveryExtension(OPENSSL_REJECTS)]) {
        expect(hello.length).toBeGreaterThan(16 * 1024 + 10);
        const failure = once(server, 'handshakeFailure') as Promise<[HandshakeFailure]>;
        const [answer, reference] = await Promise.all([replayClientHello(port, hello), replayClientHello(plainPort, hello)]);
        expect(answer).toEqual(reference);
        const [event] = await failure;
        expect(event.offered?.maxVersion).toBe('TLSv1.3');
      }
      // With the junk OpenSSL refuses left out, a real handshake starts.
      expect(await replayClientHello(port, helloWithEveryExtension(OPENSSL_REJECTS))).toMatchObject({ kind: 'server-hello', version: 0x0304 });
    } finally {
      await closeServer(plain);
    }
  });

  it('counts garbage and plain HTTP before any handshake as not-tls, and keeps serving', async () => {
    await untilNoConnections(server);
    const before = buildReport(stats.snapshot(), Date.now(), stats.storageStatus()).windows['24h'].offered.byVersion['not-tls'];
    for (const bytes of [Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), Buffer.from('\x00\x01\x02\x03 not a handshake at all'), Buffer.alloc(64 * 1024, 0x41)]) {
      const failure = once(server, 'handshakeFailure') as Promise<[HandshakeFailure]>;
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      socket.end(bytes);
      const [event] = await failure;
      expect(event).toMatchObject({ reason: 'not-tls', offered: null });
      socket.destroy();
    }
    await untilNoConnections(server);
    const after = buildReport(stats.snapshot(), Date.now(), stats.storageStatus()).windows['24h'].offered.byVersion['not-tls'];
    expect(after - before).toBe(3);
    const echo = await curl(port, ca);
    expect(echo.code).toBe(0);
  });

  it('leaves SNI callbacks working', async () => {
    const { cert, key } = await testCertificate();
    const names: string[] = [];
    const sni = createLegacyTlsServer({ SNICallback: (name, cb) => (names.push(name), cb(null, tls.createSecureContext({ cert, key }))) }, (req, res) => res.end(JSON.stringify(tlsFacts(req))));
    const sniPort = await listenOn(sni);
    try {
      const result = await curl(sniPort, cert);
      expect(JSON.parse(result.stdout)).toMatchObject({ servername: 'localhost', offered: { maxVersion: 'TLSv1.3' } });
      expect(names).toEqual(['localhost']);
    } finally {
      await closeServer(sni);
    }
  });
});

describe('the census switched off', () => {
  it('leaves offered out of the facts and counts no connection', async () => {
    const { cert, key } = await testCertificate();
    const stats = new TrafficStats();
    const server = createLegacyTlsServer({ cert, key, stats, clientHelloCensus: false }, (req, res) => res.end(JSON.stringify(tlsFacts(req))));
    const port = await listenOn(server);
    try {
      const result = await curl(port, cert);
      expect(JSON.parse(result.stdout)).not.toHaveProperty('offered');
      expect(buildReport(stats.snapshot(), Date.now(), stats.storageStatus()).windows['24h'].offered.connections).toBe(0);
    } finally {
      await closeServer(server);
      await stats.close();
    }
  });
});

describe('intercepted or spoofed: a current browser user agent on a TLS 1.0-only hello', () => {
  it('is served the fallback page, labelled and counted apart', async () => {
    const { cert, key } = await testCertificate();
    const stats = new TrafficStats();
    const { server } = createKoaExample({ cert, key, logger: { warn: () => {} } }, stats);
    const port = await listenOn(server);
    const get = (version: TlsProtocol, userAgent: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: cert, minVersion: version, maxVersion: version, ...(legacy(version) && { ciphers: 'DEFAULT:@SECLEVEL=0' }) });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('error', reject);
        socket.on('secureConnect', () => socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${userAgent}\r\nConnection: close\r\n\r\n`));
        socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])));
      });
    try {
      const intercepted = await get('TLSv1', CHROME_UA);
      const modern = await get('TLSv1.3', CHROME_UA);
      const ie8 = await get('TLSv1', 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)');
      // The page, as for any TLS 1.0 client: only the reason differs.
      expect(intercepted).toBe(302);
      expect(modern).toBe(200);
      expect(ie8).toBe(302);
      const report = buildReport(stats.snapshot(), Date.now(), stats.storageStatus());
      expect(report.windows['24h'].requests.byReason).toEqual({ 'tls-version': 2, 'user-agent': 1, 'intercepted-or-spoofed': 1 });
      expect(renderDashboard(report, '24h', '/r/')).toContain('intercepted (a TLS-inspecting middlebox');
    } finally {
      await closeServer(server);
      await stats.close();
    }
  });
});

/**
 * testssl.sh's 162 recorded ClientHellos, replayed byte for byte at once: the census reads each one's
 * offered version as the reference run says, and the report names the failed ones by fingerprint.
 */
describe.runIf(testsslClientData())('the census of the 162 testssl.sh clients', () => {
  let server: LegacyTlsServer;
  let stats: TrafficStats;
  const failures: HandshakeFailure[] = [];
  const clients = testsslClientData() ? readTestsslClients(testsslClientData()!) : [];
  const sent = clients.map((client) => ({ client, bytes: replaceServerName(client.hello, 'localhost') }));

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    stats = new TrafficStats();
    server = createLegacyTlsServer({ cert, key, stats });
    server.on('handshakeFailure', (f) => failures.push(f));
    const port = await listenOn(server);
    await Promise.all(sent.map(({ bytes }) => replayClientHello(port, bytes)));
    await untilNoConnections(server);
  });
  afterAll(async () => {
    await closeServer(server);
    await stats.close();
  });

  it('reports every connection with the version and JA4 its hello offered', () => {
    const reference = readReferenceResults();
    // Every replay abandons its handshake after the server's answer (or gets refused): one failure each.
    expect(failures).toHaveLength(162);
    const expected = sent.map(({ client, bytes }) => {
      const read = readClientHello(bytes);
      if (read.status !== 'complete') throw new Error(client.id);
      // testssl counts a TLS 1.3 draft as TLS 1.3; no server negotiates one, so the census says TLS 1.2.
      const version = read.hello.tls13Draft ? 0x0303 : reference.get(client.id)!.highestOffered;
      return `${WIRE[version]} ${ja4(read.hello)}`;
    });
    const seen = failures.map((f) => `${f.offered?.maxVersion} ${f.offered?.ja4}`);
    expect(seen.sort()).toEqual(expected.sort());
  });

  it('counts them by offered version in the report, with the what-if per connection', () => {
    const report = buildReport(stats.snapshot(), Date.now(), stats.storageStatus());
    const w = report.windows['24h'];
    const byVersion = new Map<string, number>();
    for (const f of failures) byVersion.set(f.offered!.maxVersion, (byVersion.get(f.offered!.maxVersion) ?? 0) + 1);
    for (const [version, n] of byVersion) expect({ version, n: w.offered.byVersion[version as ClientHelloOutcome] }).toEqual({ version, n });
    expect(w.offered.connections).toBe(162);
    const belowTls12 = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1'].reduce((sum, v) => sum + (byVersion.get(v) ?? 0), 0);
    expect(w.whatIf[0]).toMatchObject({ minimum: 'TLSv1.2', connections: belowTls12 });
    expect(w.whatIf[1]).toMatchObject({ minimum: 'TLSv1.3', connections: belowTls12 + (byVersion.get('TLSv1.2') ?? 0) });
    expect(report.totals.offered['TLSv1.3']).toBe(byVersion.get('TLSv1.3'));
  });

  it('names each failed fingerprint it keeps from the known-clients table', () => {
    const w = buildReport(stats.snapshot(), Date.now(), stats.storageStatus()).windows['24h'];
    expect(w.namedFailures.length).toBe(10);
    for (const row of w.namedFailures) {
      const senders = sent.filter(({ bytes }) => ja4((readClientHello(bytes) as { hello: Parameters<typeof ja4>[0] }).hello) === row.ja4).map(({ client }) => client.name);
      expect(senders.length).toBe(row.connections);
      expect(row.name).toBe(knownClient(row.ja4)!.label);
      expect(knownClient(row.ja4)!.clients.map((c) => c.name)).toEqual(expect.arrayContaining(senders));
    }
  });

  it('names "IE 8 XP" with its connections, in the report and on the dashboard', async () => {
    const ie8 = sent.find(({ client }) => client.id === 'ie_8_xp')!;
    const port = (server.address() as net.AddressInfo).port;
    for (let i = 0; i < 12; i++) await replayClientHello(port, ie8.bytes);
    await untilNoConnections(server);
    const report = buildReport(stats.snapshot(), Date.now(), stats.storageStatus());
    const row = report.windows['30d'].namedFailures[0]!;
    // 12, or 13 when the first replay's fingerprint kept its slot among the hour's 32.
    expect(row).toMatchObject({ name: 'IE 8 XP', offered: 'TLSv1', last24h: row.connections });
    expect(row.connections).toBeGreaterThanOrEqual(12);
    expect(renderDashboard(report, '30d', '/r/')).toMatch(/IE 8 XP<\/span><\/td><td><span[^>]*>TLSv1<\/span>/);
    const metrics = await registerLegacyTlsMetrics(stats).metrics();
    expect(metrics).toMatch(/legacy_tls_client_hellos_total\{offered="TLSv1"\} \d+/);
  });
});

// A real X25519 key share is not needed for a ServerHello: any 32 bytes do.
function keyShare(): Uint8Array {
  const share = new Uint8Array(2 + 2 + 2 + 32);
  share.set([0, 36, 0x00, 0x1d, 0, 32]);
  share.fill(0x11, 6);
  return share;
}

// Extension types whose made-up contents OpenSSL answers with a decode alert rather than ignores.
const OPENSSL_REJECTS = new Set([0x0015, 0x0005, 0x0009, 0x000e, 0x0012, 0x0016, 0x0017, 0x001b, 0x001c, 0x0023, 0x0029, 0x002a, 0x002c, 0x002d, 0x002f, 0x0030, 0x0031, 0x0032, 0xff01, 0x0039, 0x0013, 0x0014, 0x0018, 0x0019, 0x000f, 0x0001, 0x0007, 0x0008]);

/** Every extension type IANA has assigned but `skip`, real contents where they matter, padded past 16 KiB. */
function helloWithEveryExtension(skip: ReadonlySet<number>): Uint8Array {
  const assigned = [...Array.from({ length: 66 }, (_, i) => i), 0x3374, 0x4469, 0x44cd, 0xfd00, 0xfe0d, 0xff01];
  const real = new Map<number, Extension>([
    [0x0000, ext.serverName('localhost')],
    [0x000a, ext.supportedGroups(0x001d, 0x0017, 0x0018)],
    [0x000b, ext.ecPointFormats(0)],
    [0x000d, ext.signatureAlgorithms(0x0804, 0x0403, 0x0401)],
    [0x0010, ext.alpn('h2', 'http/1.1')],
    [0x002b, ext.supportedVersions(0x0304, 0x0303, 0x0302, 0x0301)],
    [0x0033, [0x0033, keyShare()]],
  ]);
  const extensions = assigned.filter((t) => !skip.has(t)).map((type) => real.get(type) ?? ([type, new Uint8Array(type % 7).fill(type & 0xff)] as const));
  const ciphers = [0x1301, 0x1302, 0xc02f, ...Array.from({ length: 100 }, (_, i) => 0xc100 + i)];
  const base = clientHelloMessage({ ciphers, extensions }).length;
  return clientHello({ ciphers, extensions: [...extensions, ext.padding(16 * 1024 + 512 - base - 4)] });
}
