/**
 * The relay at the TCP level, against a plain TCP "existing server" of the test's that sees every byte:
 * byte-exactness (hello, PROXY header, data), half-close both ways, resets both ways, back-pressure both
 * ways, timeouts, an existing server that is down, hellos split into segments, garbage, and the 162
 * hellos of testssl.sh's clients each landing on the right side unchanged.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net, { type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProxyHeaderAcceptor } from '../src/relay/accept-proxy.js';
import { encodeProxyV2, readProxyHeader } from '../src/relay/proxy-protocol.js';
import { createRelay, RELAY_SERVER_OPTIONS, type RelayCensusRecord, type UpstreamErrorEvent } from '../src/relay/relay.js';
import type { RelayOptions } from '../src/relay/options.js';
import { readClientHello, TLS_1_0, type ClientHello, type NotTlsReason } from '../src/tls/client-hello.js';
import { readTestsslClients } from '../scripts/testssl-clients.js';
import { writeByteByByte } from './helpers/capture.js';
import { clientHello, ext, testsslClientData } from './helpers/client-hellos.js';
import { closeServer, listenOn } from './helpers/servers.js';
import { hasTool } from './helpers/tools.js';

const MODERN_HELLO = clientHello({
  version: 0x0303,
  ciphers: [0x1301, 0x1302, 0xc02f, 0xc030],
  extensions: [
    ext.serverName('relay.test'),
    ext.supportedGroups(0x001d, 0x0017),
    ext.signatureAlgorithms(0x0804, 0x0403),
    ext.alpn('h2', 'http/1.1'),
    ext.supportedVersions(0x0304, 0x0303),
  ],
});
const LEGACY_HELLO = clientHello({ version: TLS_1_0, ciphers: [0x002f, 0x0035], extensions: [ext.serverName('relay.test')] });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The existing server: a plain TCP server, half-open, handing each connection to the test. */
async function upstreamServer() {
  const sockets: Socket[] = [];
  const all: Socket[] = [];
  const waiting: ((socket: Socket) => void)[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    all.push(socket);
    socket.on('error', () => {});
    const next = waiting.shift();
    if (next) next(socket);
    else sockets.push(socket);
  });
  const port = await listenOn(server);
  cleanups.push(() => {
    for (const socket of all) socket.destroy();
    return closeServer(server);
  });
  return {
    port,
    /** The next connection the existing server accepts. */
    next: (): Promise<Socket> => new Promise((resolve) => (sockets.length > 0 ? resolve(sockets.shift()!) : waiting.push(resolve))),
  };
}

async function relayServer(options: Partial<RelayOptions> & Pick<RelayOptions, 'upstream'>, serverOptions: net.ServerOpts = RELAY_SERVER_OPTIONS) {
  const census: RelayCensusRecord[] = [];
  const terminated: { socket: Socket; hello: ClientHello | null }[] = [];
  const notTls: { socket: Socket; reason: NotTlsReason }[] = [];
  const upstreamErrors: UpstreamErrorEvent[] = [];
  const accepted: Socket[] = [];
  const relay = createRelay({
    onTerminate: (socket, hello) => terminated.push({ socket, hello }),
    onCensus: (record) => census.push(record),
    onUpstreamError: (event) => upstreamErrors.push(event),
    ...options,
  });
  const server = net.createServer(serverOptions, (socket) => {
    accepted.push(socket);
    relay.handle(socket);
  });
  const port = await listenOn(server);
  cleanups.push(async () => {
    for (const socket of [...accepted, ...terminated.map((t) => t.socket), ...notTls.map((n) => n.socket)]) socket.destroy();
    await closeServer(server);
  });
  return { port, relay, census, terminated, notTls, upstreamErrors, accepted };
}

async function connect(port: number): Promise<Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  socket.on('error', () => {});
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Everything a socket receives until its peer ends (or it closes), and how it ended. */
function collect(socket: Socket): Promise<{ data: Buffer; error: string | null }> {
  const chunks: Buffer[] = [];
  let error: string | null = null;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
  return new Promise((resolve) => {
    const done = () => resolve({ data: Buffer.concat(chunks), error });
    socket.once('end', done);
    socket.once('close', done);
  });
}

/** Reads exactly `n` bytes. */
function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < n) return;
      socket.off('data', onData);
      const all = Buffer.concat(chunks);
      if (all.length > n) socket.unshift(all.subarray(n));
      resolve(all.subarray(0, n));
    };
    socket.on('data', onData);
    socket.once('close', () => (length < n ? reject(new Error(`closed after ${length} of ${n} bytes`)) : undefined));
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('byte for byte', () => {
  it('relays the hello and 8 MB each way unchanged, and reports one census record with the hello facts and byte counts', async () => {
    const upstream = await upstreamServer();
    const { port, census } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` });
    const up = randomBytes(8 << 20);
    const down = randomBytes(8 << 20);
    const client = await connect(port);
    const clientGot = collect(client);
    client.write(MODERN_HELLO);
    for (let i = 0; i < up.length; i += 100_000) client.write(up.subarray(i, i + 100_000));
    client.end();
    const server = await upstream.next();
    const serverGot = collect(server);
    server.end(down);
    const [atServer, atClient] = await Promise.all([serverGot, clientGot]);
    expect(sha256(atServer.data)).toBe(sha256(Buffer.concat([MODERN_HELLO, up])));
    expect(sha256(atClient.data)).toBe(sha256(down));
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({
      outcome: 'relayed',
      maxVersion: 0x0304,
      offered: 'TLSv1.3',
      serverName: 'relay.test',
      alpn: ['h2', 'http/1.1'],
      fault: null,
      remoteAddress: '127.0.0.1',
      bytesFromClient: MODERN_HELLO.length + up.length,
      bytesToClient: down.length,
      ending: 'closed',
    });
    expect(census[0]!.ja4).toMatch(/^t13d0405h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
  });

  it('puts a PROXY v2 header naming the client before the hello, in the same write', async () => {
    const upstream = await upstreamServer();
    const { port } = await relayServer({ upstream: `127.0.0.1:${upstream.port}`, proxyProtocol: true });
    const client = await connect(port);
    client.write(MODERN_HELLO);
    const server = await upstream.next();
    const first = await readBytes(server, 28 + MODERN_HELLO.length);
    const read = readProxyHeader(first);
    expect(read).toEqual({
      status: 'complete',
      header: {
        version: 2,
        command: 'proxy',
        source: { address: '127.0.0.1', port: client.localPort, family: 'IPv4' },
        destination: { address: '127.0.0.1', port, family: 'IPv4' },
      },
      length: 28,
    });
    expect(first.subarray(28)).toEqual(Buffer.from(MODERN_HELLO));
    client.destroy();
  });

  it('behind a router, passes on the client its PROXY header named, in the header it sends and in the census', async () => {
    const upstream = await upstreamServer();
    const census: RelayCensusRecord[] = [];
    const relay = createRelay({ upstream: `127.0.0.1:${upstream.port}`, proxyProtocol: true, onTerminate: () => undefined, onCensus: (r) => census.push(r) });
    const accept = createProxyHeaderAcceptor();
    const accepted: Socket[] = [];
    const server = net.createServer(RELAY_SERVER_OPTIONS, (socket) => {
      accepted.push(socket);
      accept(socket, (socket) => relay.handle(socket));
    });
    const port = await listenOn(server);
    cleanups.push(() => {
      for (const socket of accepted) socket.destroy();
      return closeServer(server);
    });
    const client = await connect(port);
    client.write(Buffer.concat([encodeProxyV2({ address: '203.0.113.9', port: 40000 }, { address: '198.51.100.1', port: 443 })!, MODERN_HELLO]));
    const atServer = await upstream.next();
    const first = await readBytes(atServer, 28 + MODERN_HELLO.length);
    expect(readProxyHeader(first)).toMatchObject({ status: 'complete', header: { source: { address: '203.0.113.9', port: 40000 } } });
    expect(first.subarray(28)).toEqual(Buffer.from(MODERN_HELLO));
    client.end();
    atServer.end();
    await until(() => census.length === 1, 'the census record');
    expect(census[0]!.remoteAddress).toBe('203.0.113.9');
  });

  it('reassembles a hello sent one byte per segment and relays it unchanged', async () => {
    const upstream = await upstreamServer();
    const { port } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` });
    const client = await connect(port);
    await writeByteByByte(client, MODERN_HELLO);
    const server = await upstream.next();
    expect(await readBytes(server, MODERN_HELLO.length)).toEqual(Buffer.from(MODERN_HELLO));
    client.destroy();
  });

  it('hands a legacy hello sent one byte per segment to onTerminate, with every byte read put back', async () => {
    const { port, terminated, census } = await relayServer({ upstream: '127.0.0.1:1' });
    const client = await connect(port);
    await writeByteByByte(client, LEGACY_HELLO);
    client.write('after the hello');
    await until(() => terminated.length === 1, 'the hand-over');
    const { socket, hello } = terminated[0]!;
    expect(hello?.maxVersion).toBe(TLS_1_0);
    expect(socket.isPaused()).toBe(true);
    socket.resume();
    expect(await readBytes(socket, LEGACY_HELLO.length + 15)).toEqual(Buffer.concat([LEGACY_HELLO, Buffer.from('after the hello')]));
    expect(census).toMatchObject([{ outcome: 'terminated', offered: 'TLSv1', serverName: 'relay.test', bytesToClient: 0, ending: null }]);
    client.destroy();
  });

  it.runIf(testsslClientData() !== null)("sends each of testssl.sh's 162 recorded hellos to its side, unchanged", async () => {
    const clients = readTestsslClients();
    const upstream = await upstreamServer();
    // Each client sends its hello, then its index as 8 ASCII digits, then a FIN: the receiving side
    // (existing server or onTerminate) knows by the last 8 bytes whose bytes it got.
    const landed = new Map<number, { side: 'relayed' | 'terminated'; bytes: Buffer }>();
    const receive = async (socket: Socket, side: 'relayed' | 'terminated') => {
      const { data } = await collect(socket);
      landed.set(Number(data.subarray(-8).toString('latin1')), { side, bytes: data.subarray(0, -8) });
      socket.end();
    };
    const terminated: Socket[] = [];
    const { port, census } = await relayServer({
      upstream: `127.0.0.1:${upstream.port}`,
      onTerminate: (socket) => {
        terminated.push(socket);
        void receive(socket, 'terminated');
        socket.resume();
      },
    });
    let accepted = 0;
    const accepting = (async () => {
      while (accepted < clients.length) {
        const socket = await upstream.next();
        accepted++;
        void receive(socket, 'relayed');
      }
    })();
    await Promise.all(
      clients.map(async (c, i) => {
        const socket = await connect(port);
        socket.end(Buffer.concat([c.hello, Buffer.from(String(i).padStart(8, '0'))]));
        await collect(socket);
      }),
    );
    await until(() => landed.size === clients.length, 'every hello to land');
    void accepting;
    for (const [i, c] of clients.entries()) {
      const read = readClientHello(c.hello);
      const side = read.status === 'complete' && read.hello.maxVersion >= 0x0303 ? 'relayed' : 'terminated';
      expect(landed.get(i)?.side, c.name).toBe(side);
      expect(landed.get(i)?.bytes.equals(Buffer.from(c.hello)), c.name).toBe(true);
    }
    expect(terminated).toHaveLength(41);
    await until(() => census.length === clients.length, 'every census record');
    expect(census.filter((r) => r.outcome === 'relayed')).toHaveLength(121);
  });
});

describe('half-close, resets and timeouts', () => {
  it.each([
    ['a server made with RELAY_SERVER_OPTIONS', RELAY_SERVER_OPTIONS],
    ['a plain net.createServer()', {}],
  ])("a client's FIN reaches the existing server as a FIN, and its answer still reaches the client (%s)", async (_name, serverOptions) => {
    const upstream = await upstreamServer();
    const { port, census } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` }, serverOptions);
    const client = await connect(port);
    const clientGot = collect(client);
    client.end(Buffer.concat([MODERN_HELLO, Buffer.from('request')]));
    const server = await upstream.next();
    const { data } = await collect(server);
    expect(data.subarray(MODERN_HELLO.length).toString()).toBe('request');
    // Only now, after the client's FIN, does the existing server answer.
    server.end('answer after your FIN');
    expect((await clientGot).data.toString()).toBe('answer after your FIN');
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({ outcome: 'relayed', ending: 'closed', bytesToClient: 21 });
  });

  it("the existing server's FIN reaches the client, which can still send", async () => {
    const upstream = await upstreamServer();
    const { port } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` });
    const client = await connect(port);
    const clientGot = collect(client);
    client.write(MODERN_HELLO);
    const server = await upstream.next();
    const serverGot = collect(server);
    server.end('goodbye');
    expect((await clientGot).data.toString()).toBe('goodbye');
    client.end('still talking');
    expect((await serverGot).data.subarray(MODERN_HELLO.length).toString()).toBe('still talking');
  });

  it("a client's reset is relayed as a reset", async () => {
    const upstream = await upstreamServer();
    const { port, census } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` });
    const client = await connect(port);
    client.write(MODERN_HELLO);
    const server = await upstream.next();
    const serverGot = collect(server);
    await readBytes(server, MODERN_HELLO.length);
    client.resetAndDestroy();
    expect((await serverGot).error).toBe('ECONNRESET');
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({ outcome: 'relayed', ending: 'client-reset' });
  });

  it("the existing server's reset is relayed as a reset", async () => {
    const upstream = await upstreamServer();
    const { port, census } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` });
    const client = await connect(port);
    const clientGot = collect(client);
    client.write(MODERN_HELLO);
    const server = await upstream.next();
    await readBytes(server, MODERN_HELLO.length);
    server.write('partial answer');
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.resetAndDestroy();
    const got = await clientGot;
    expect(got.error).toBe('ECONNRESET');
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({ outcome: 'relayed', ending: 'upstream-reset' });
  });

  it('an existing server that is down: the client gets a reset, the event says why and counts', async () => {
    // Port 1 (tcpmux): privileged and unused, so refused for as long as the test runs.
    const probe = net.connect({ host: '127.0.0.1', port: 1 });
    const refused = await new Promise<string>((resolve) => probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')).once('connect', () => resolve('connected')));
    probe.destroy();
    expect(refused).toBe('ECONNREFUSED');
    const { port, upstreamErrors, census, relay } = await relayServer({ upstream: '127.0.0.1:1' });
    for (let i = 1; i <= 2; i++) {
      const client = await connect(port);
      const got = collect(client);
      client.write(MODERN_HELLO);
      expect((await got).error).toBe('ECONNRESET');
    }
    expect(upstreamErrors).toEqual([
      { upstream: '127.0.0.1:1', code: 'ECONNREFUSED', count: 1 },
      { upstream: '127.0.0.1:1', code: 'ECONNREFUSED', count: 2 },
    ]);
    expect(census.map((r) => r.outcome)).toEqual(['upstream-unavailable', 'upstream-unavailable']);
    expect(relay.counters.outcomes['upstream-unavailable']).toBe(2);
  });

  it.runIf(hasTool('python3'))('an existing server that never answers the SYN: reset after connectTimeout', async () => {
    // A listener that never accepts, its one-place queue full: Linux drops further SYNs, as an
    // unreachable host would. Node always accepts, so the listener is a python3 one.
    const { port: silentPort, fillers } = await unansweredPort();
    const { port, upstreamErrors } = await relayServer({ upstream: `127.0.0.1:${silentPort}`, connectTimeout: 300 });
    void fillers;
    const client = await connect(port);
    const got = collect(client);
    client.write(MODERN_HELLO);
    expect((await got).error).toBe('ECONNRESET');
    expect(upstreamErrors).toMatchObject([{ code: 'ETIMEDOUT', count: 1 }]);
  });

  it('a silent client is closed at helloTimeout; one dribbling a hello cannot stretch it', async () => {
    const { port, census } = await relayServer({ upstream: '127.0.0.1:1', helloTimeout: 300 });
    const silent = await connect(port);
    await collect(silent);
    const dribbler = await connect(port);
    const dribbled = collect(dribbler);
    for (let i = 0; i < 30 && !dribbler.destroyed && dribbler.writable; i++) {
      dribbler.write(MODERN_HELLO.subarray(i, i + 1));
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await dribbled;
    await until(() => census.length === 2, 'two census records');
    expect(census.map((r) => [r.outcome, r.maxVersion])).toEqual([
      ['hello-timeout', null],
      ['hello-timeout', null],
    ]);
  });

  it('a relayed connection idle in both directions is closed at idleTimeout', async () => {
    const upstream = await upstreamServer();
    const { port, census } = await relayServer({ upstream: `127.0.0.1:${upstream.port}`, idleTimeout: 1000 });
    const client = await connect(port);
    const clientGot = collect(client);
    client.write(MODERN_HELLO);
    const server = await upstream.next();
    const serverGot = collect(server);
    await readBytes(server, MODERN_HELLO.length);
    await Promise.all([clientGot, serverGot]);
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({ outcome: 'relayed', ending: 'idle-timeout' });
  });

  it.each(['client to server', 'server to client'])('traffic in one direction only (%s) keeps a relayed connection open past idleTimeout', async (direction) => {
    const upstream = await upstreamServer();
    const { port, census } = await relayServer({ upstream: `127.0.0.1:${upstream.port}`, idleTimeout: 1000 });
    const client = await connect(port);
    const clientGot = collect(client);
    client.write(MODERN_HELLO);
    const server = await upstream.next();
    const serverGot = collect(server);
    await readBytes(server, MODERN_HELLO.length);
    const talker = direction === 'client to server' ? client : server;
    for (let i = 0; i < 12; i++) {
      talker.write('.');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // 2.4 s of trickle at 200 ms intervals against a 1 s idle timeout: still open.
    expect(census).toEqual([]);
    expect(client.destroyed || server.destroyed).toBe(false);
    await Promise.all([clientGot, serverGot]);
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({ outcome: 'relayed', ending: 'idle-timeout' });
  });

  it('a client gone before its hello is complete is counted apart', async () => {
    const { port, census } = await relayServer({ upstream: '127.0.0.1:1' });
    const client = await connect(port);
    client.end(MODERN_HELLO.subarray(0, 20));
    await collect(client);
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({ outcome: 'hello-incomplete', bytesFromClient: 20 });
  });
});

/** The sockets the relay opens toward `port` (and only those: the test's own clients go elsewhere). */
function captureConnections(port: number): Socket[] {
  const sockets: Socket[] = [];
  const original = net.connect;
  vi.spyOn(net, 'connect').mockImplementation(((...args: Parameters<typeof net.connect>) => {
    const socket = original(...args);
    const options = args[0];
    if (typeof options === 'object' && (options as net.TcpNetConnectOpts).port === port) sockets.push(socket);
    return socket;
  }) as typeof net.connect);
  return sockets;
}

/** A loopback port whose listener never accepts and whose accept queue is full. */
async function unansweredPort(): Promise<{ port: number; fillers: Socket[] }> {
  const child = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanups.push(() => {
    child.stdin!.end();
    child.kill();
  });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  const fillers: Socket[] = [];
  // listen(0) queues one connection; a few more make sure the queue is full whatever the kernel rounds it to.
  for (let i = 0; i < 3; i++) {
    const filler = net.connect({ host: '127.0.0.1', port });
    filler.on('error', () => {});
    fillers.push(filler);
  }
  cleanups.push(() => fillers.forEach((f) => f.destroy()));
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { port, fillers };
}

describe('not TLS, or not a usable hello', () => {
  it('plain HTTP goes to onNotTls, paused, with its bytes put back', async () => {
    const notTls: { socket: Socket; reason: NotTlsReason }[] = [];
    const { port, census } = await relayServer({ upstream: '127.0.0.1:1', onNotTls: (socket, reason) => notTls.push({ socket, reason }) });
    const client = await connect(port);
    const request = 'GET / HTTP/1.1\r\nHost: example\r\n\r\n';
    client.write(request);
    await until(() => notTls.length === 1, 'the hand-over');
    expect(notTls[0]!.reason).toBe('http');
    expect(notTls[0]!.socket.isPaused()).toBe(true);
    notTls[0]!.socket.resume();
    expect((await readBytes(notTls[0]!.socket, request.length)).toString()).toBe(request);
    expect(census).toMatchObject([{ outcome: 'not-tls', fault: 'http', maxVersion: null, ja4: null }]);
    notTls[0]!.socket.destroy();
    client.destroy();
  });

  it('without onNotTls, garbage is closed; random bytes never crash the relay', async () => {
    const upstream = await upstreamServer();
    const { port, census, relay } = await relayServer({ upstream: `127.0.0.1:${upstream.port}`, helloTimeout: 500 });
    const payloads = [Buffer.from([0x00, 0x01, 0x02]), Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), Buffer.from([0x16, 0x02, 0x00]), ...Array.from({ length: 40 }, () => randomBytes(1 + (randomBytes(1)[0]! % 64)))];
    await Promise.all(
      payloads.map(async (payload) => {
        const client = await connect(port);
        const got = collect(client);
        client.write(payload);
        await got;
      }),
    );
    await until(() => census.length === payloads.length, 'every census record');
    expect(relay.counters.accepted).toBe(payloads.length);
    expect(census.slice(0, 3).map((r) => r.outcome)).toEqual(['not-tls', 'not-tls', 'not-tls']);
  });

  it('a malformed hello is terminated here (its TLS layer answers and counts it), with the fault named', async () => {
    const { port, terminated, census } = await relayServer({ upstream: '127.0.0.1:1' });
    const client = await connect(port);
    // One byte short, record and handshake lengths fixed up: the extensions block claims a byte that is not there.
    const broken = Buffer.from(MODERN_HELLO.subarray(0, MODERN_HELLO.length - 1));
    broken.writeUInt16BE(broken.readUInt16BE(3) - 1, 3);
    broken.writeUIntBE(broken.readUIntBE(6, 3) - 1, 6, 3);
    client.write(broken);
    await until(() => terminated.length === 1, 'the hand-over');
    expect(terminated[0]!.hello).toBeNull();
    expect(census).toMatchObject([{ outcome: 'terminated', maxVersion: null, fault: 'extensions-length', bytesFromClient: broken.length }]);
    client.destroy();
  });
});

describe('attacks', () => {
  it('a hello announcing 16 MB is decided from its first bytes and terminated here, not buffered', async () => {
    const { port, terminated, census } = await relayServer({ upstream: '127.0.0.1:1' });
    const client = await connect(port);
    // A record header and a handshake header claiming a 16 MB ClientHello.
    client.write(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff]));
    await until(() => terminated.length === 1, 'the hand-over');
    expect(census).toMatchObject([{ outcome: 'terminated', fault: 'too-large-message', bytesFromClient: 9 }]);
    client.destroy();
  });

  it('a hello in more records than any client uses (64) is decided at the 65th', async () => {
    const { port, terminated, census } = await relayServer({ upstream: '127.0.0.1:1' });
    const client = await connect(port);
    // A 32 KiB ClientHello announced, then fed one byte per record.
    const records = [Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x80, 0x00])];
    for (let i = 0; i < 70; i++) records.push(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x03]));
    client.write(Buffer.concat(records));
    await until(() => terminated.length === 1, 'the hand-over');
    expect(census[0]).toMatchObject({ outcome: 'terminated', fault: 'too-large-records' });
    client.destroy();
  });

  it.runIf(hasTool('python3'))('a client flooding while the existing server is slow to accept is paused, not buffered; then reset', async () => {
    const { port: silentPort } = await unansweredPort();
    const upstreamSockets = captureConnections(silentPort);
    const { port, accepted, census } = await relayServer({ upstream: `127.0.0.1:${silentPort}`, connectTimeout: 1500 });
    const client = await connect(port);
    const got = collect(client);
    client.write(MODERN_HELLO);
    client.write(randomBytes(8 << 20));
    await until(() => upstreamSockets.length === 1 && accepted[0]!.isPaused(), 'the relay to pause the client');
    const connecting = upstreamSockets[0]!;
    expect(connecting.connecting).toBe(true);
    // Queued: the chunk that carried the hello (up to one 64 KiB read), and the one that crossed the
    // high-water mark. Bounded whatever the client sends.
    expect(connecting.writableLength).toBeLessThanOrEqual(connecting.writableHighWaterMark + 2 * 65536);
    expect((await got).error).toBe('ECONNRESET');
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({ outcome: 'upstream-unavailable' });
    expect(connecting.destroyed).toBe(true);
  });

  it.runIf(hasTool('python3'))('a client resetting while the existing server is being connected leaves nothing behind', async () => {
    const { port: silentPort } = await unansweredPort();
    const upstreamSockets = captureConnections(silentPort);
    const { port, census, upstreamErrors } = await relayServer({ upstream: `127.0.0.1:${silentPort}`, connectTimeout: 60_000 });
    const client = await connect(port);
    client.write(MODERN_HELLO);
    await until(() => upstreamSockets.length === 1, 'the connect');
    client.resetAndDestroy();
    await until(() => census.length === 1, 'the census record');
    expect(census[0]).toMatchObject({ outcome: 'relayed', ending: 'client-reset', bytesToClient: 0 });
    expect(upstreamSockets[0]!.destroyed).toBe(true);
    expect(upstreamErrors).toEqual([]);
  });
});

describe('back-pressure', () => {
  it.runIf(hasTool('python3'))('small chunks to a congested client arrive intact: a queued write keeps its bytes while reading goes on', async () => {
    const upstream = await upstreamServer();
    const { port } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` });
    // A client with a 4 KiB receive buffer that reads nothing until told (a line on stdin), then all.
    const reader = spawn(
      'python3',
      [
        '-c',
        [
          'import socket,sys,hashlib',
          's=socket.socket()',
          's.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,4096)',
          `s.connect(("127.0.0.1",${port}))`,
          `s.sendall(bytes.fromhex("${Buffer.from(MODERN_HELLO).toString('hex')}"))`,
          'sys.stdin.readline()',
          'h=hashlib.sha256()',
          'while True:',
          '  d=s.recv(65536)',
          '  if not d: break',
          '  h.update(d)',
          'print(h.hexdigest(),flush=True)',
        ].join('\n'),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    cleanups.push(() => void reader.kill());
    const digest = new Promise<string>((resolve) => {
      let out = '';
      reader.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      reader.on('close', () => resolve(out.trim()));
    });
    const server = await upstream.next();
    await readBytes(server, MODERN_HELLO.length);
    // 8 KB writes, one a millisecond, until the existing server is held back: each is read on its own,
    // and once the kernel's buffers toward the client are full, a write to it waits while staying under
    // the high-water mark, so reading goes on. Reusing that read buffer would overwrite the waiting
    // bytes (Node does not copy them): the digest would differ.
    const sent: Buffer[] = [];
    let stalled = 0;
    for (let i = 0; i < 2000 && stalled < 50; i++) {
      const chunk = randomBytes(8000);
      sent.push(chunk);
      if (!server.write(chunk)) stalled++;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    server.end();
    reader.stdin!.end('go\n');
    expect(await digest).toBe(sha256(Buffer.concat(sent)));
  }, 60_000);

  it('an existing server that stops reading stops the client, without the relay buffering what the client sends', async () => {
    const upstream = await upstreamServer();
    const upstreamSockets = captureConnections(upstream.port);
    const { port, accepted } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` });
    const client = await connect(port);
    const payload = randomBytes(48 << 20);
    client.write(MODERN_HELLO);
    const server = await upstream.next();
    server.pause();
    let offered = 0;
    const offer = () => {
      while (offered < payload.length) {
        const chunk = payload.subarray(offered, offered + 65536);
        offered += chunk.length;
        if (!client.write(chunk)) return void client.once('drain', offer);
      }
      client.end();
    };
    offer();
    const relayUp = upstreamSockets[0]!;
    const relayClient = accepted[0]!;
    await until(() => relayClient.isPaused() && relayUp.writableLength > 0, 'back-pressure to engage');
    let most = 0;
    for (let i = 0; i < 20; i++) {
      most = Math.max(most, relayUp.writableLength);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // What the relay holds is its write buffer's high-water mark plus the chunk that crossed it.
    expect(most).toBeLessThanOrEqual(relayUp.writableHighWaterMark + 65536);
    expect(offered).toBeLessThan(payload.length);
    const hash = createHash('sha256');
    server.on('data', (chunk: Buffer) => hash.update(chunk));
    const ended = new Promise((resolve) => server.once('end', resolve));
    server.resume();
    await ended;
    expect(hash.digest('hex')).toBe(sha256(Buffer.concat([MODERN_HELLO, payload])));
    server.end();
  });

  it('a client that stops reading stops the existing server, without the relay buffering what it sends', async () => {
    const upstream = await upstreamServer();
    const { port, accepted } = await relayServer({ upstream: `127.0.0.1:${upstream.port}` });
    const client = await connect(port);
    client.pause();
    client.write(MODERN_HELLO);
    const server = await upstream.next();
    await readBytes(server, MODERN_HELLO.length);
    const payload = randomBytes(48 << 20);
    let offered = 0;
    const offer = () => {
      while (offered < payload.length) {
        const chunk = payload.subarray(offered, offered + 65536);
        offered += chunk.length;
        if (!server.write(chunk)) return void server.once('drain', offer);
      }
      server.end();
    };
    offer();
    const relayClient = accepted[0]!;
    await until(() => relayClient.writableLength > 0 && offered < payload.length, 'back-pressure to engage');
    let most = 0;
    for (let i = 0; i < 20; i++) {
      most = Math.max(most, relayClient.writableLength);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(most).toBeLessThanOrEqual(relayClient.writableHighWaterMark + 65536);
    expect(offered).toBeLessThan(payload.length);
    const got = collect(client);
    client.resume();
    expect(sha256((await got).data)).toBe(sha256(payload));
    client.end();
  });
});
