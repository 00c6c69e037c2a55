/**
 * Connections that cost the server without ever finishing a TLS handshake (CWE-400, CWE-770): silent TCP
 * sockets, half-sent and dribbled ClientHellos, and floods that fill the connection limit. Before the
 * guard, Node held each for 120 s and a `maxConnections` full of them locked every real client out.
 * Real sockets on loopback; the ClientHellos are recorded from a real Node TLS client.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { buildReport } from '../src/report/document.js';
import { emptyState, recordHandshakeFailure } from '../src/stats/model.js';
import { fromDocument, toDocument } from '../src/stats/serialize.js';
import type { LegacyTlsServerOptions } from '../src/tls/options.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { EVICT_AFTER_MS } from '../src/tls/options.js';
import { createLegacyTlsServer, type LegacyTlsServer } from '../src/tls/server.js';
import type { HandshakeFailure } from '../src/tls/handshake-failure.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { accepted, openSilent, recordClientHello, type SilentSocket } from './helpers/raw-sockets.js';
import { handshake, tlsRequest } from './helpers/tls-client.js';

interface Started {
  server: LegacyTlsServer;
  port: number;
  ca: string;
  failures: HandshakeFailure[];
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start(options: LegacyTlsServerOptions): Promise<Started> {
  const { cert, key } = await testCertificate();
  const server = createLegacyTlsServer({ cert, key, ...options }, (_req, res) => res.end('served'));
  const failures: HandshakeFailure[] = [];
  server.on('handshakeFailure', (failure) => failures.push(failure));
  const port = await listenOn(server);
  cleanup.push(() => closeServer(server));
  return { server, port, ca: cert, failures };
}

async function silent(port: number, localAddress?: string): Promise<SilentSocket> {
  const s = await openSilent(port, localAddress);
  cleanup.push(() => s.socket.destroy());
  return s;
}

/**
 * An established TLS connection kept open, as a browser's keep-alive connection would be. Waits for the
 * server's side too: a TLS 1.3 client is done one flight before the server has read its Finished.
 */
async function established(server: LegacyTlsServer, port: number, ca: string): Promise<tls.TLSSocket> {
  const serverSide = new Promise((resolve) => server.once('secureConnection', resolve));
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
  socket.on('error', () => undefined);
  cleanup.push(() => socket.destroy());
  await new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('close', () => reject(new Error('closed before the handshake finished')));
  });
  await serverSide;
  return socket;
}

/** One request on an open connection; resolves with the status line. */
function requestOn(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      resolve(text.slice(0, text.indexOf('\r\n')));
    };
    socket.on('data', onData);
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  });
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets unfinished handshakes grow old enough to be closed for a new connection. */
function ageHandshakes(): Promise<void> {
  return new Promise((r) => setTimeout(r, EVICT_AFTER_MS + 100));
}

function byReason(failures: HandshakeFailure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of failures) counts[f.reason] = (counts[f.reason] ?? 0) + 1;
  return counts;
}

describe('silent connections', () => {
  it('50 silent sockets on a 50-connection server do not lock out a real client, and each is closed and counted once', async () => {
    const stats = new TrafficStats();
    cleanup.push(() => stats.close());
    // One address holds all 50 here, so the per-address cap is off: this is about the connection limit.
    const { server, port, ca, failures } = await start({ maxConnections: 50, maxHandshakesPerAddress: 0, clientHelloTimeout: 4000, handshakeTimeout: 5000, stats });
    const all = accepted(server, 50);
    const sockets = await Promise.all(Array.from({ length: 50 }, () => silent(port)));
    await all;
    await ageHandshakes();

    const response = await tlsRequest({ port, ca, version: 'TLSv1.3' });
    expect(response.status).toBe(200);
    expect(response.body).toBe('served');

    await Promise.all(sockets.map((s) => s.closed));
    // A full request round trip after the last close: a late ECONNRESET from the TLS layer would show by now.
    expect((await tlsRequest({ port, ca, version: 'TLSv1.2' })).status).toBe(200);
    expect(failures).toHaveLength(50);
    // The real client took the slot of the oldest silent socket; the rest ran out of time.
    expect(byReason(failures)).toEqual({ timeout: 49, evicted: 1 });
    expect(failures.filter((f) => f.reason === 'timeout').every((f) => f.code === 'ERR_LEGACY_TLS_CLIENT_HELLO_TIMEOUT' && f.remoteAddress === '127.0.0.1')).toBe(true);
    expect(Object.fromEntries(stats.snapshot().totals.failures)).toEqual({ timeout: 49, evicted: 1 });
  }, 30_000);

  it('closes a silent socket after clientHelloTimeout even without a connection limit', async () => {
    const { port, failures } = await start({ clientHelloTimeout: 300, handshakeTimeout: 60_000 });
    const s = await silent(port);
    await s.closed;
    await until(() => failures.length > 0);
    expect(failures).toEqual([expect.objectContaining({ reason: 'timeout', code: 'ERR_LEGACY_TLS_CLIENT_HELLO_TIMEOUT', remoteAddress: '127.0.0.1' })]);
  });
});

describe('slow handshakes', () => {
  it('closes a client that sends half a ClientHello and stalls, by handshakeTimeout', async () => {
    const hello = await recordClientHello();
    const { port, failures } = await start({ clientHelloTimeout: 300, handshakeTimeout: 1000 });
    const s = await silent(port);
    s.socket.write(hello.subarray(0, Math.floor(hello.length / 2)));
    await s.closed;
    await until(() => failures.length > 0);
    expect(failures).toEqual([expect.objectContaining({ reason: 'timeout', code: 'ERR_TLS_HANDSHAKE_TIMEOUT', remoteAddress: '127.0.0.1' })]);
  });

  it('closes a client that dribbles its ClientHello a byte at a time: the deadline is from accept, not from the last byte', async () => {
    const hello = await recordClientHello();
    const { port, failures } = await start({ clientHelloTimeout: 300, handshakeTimeout: 1000 });
    const s = await silent(port);
    let sent = 0;
    const dribble = setInterval(() => {
      if (s.isClosed() || sent >= hello.length) return clearInterval(dribble);
      s.socket.write(hello.subarray(sent, ++sent));
    }, 50);
    cleanup.push(() => clearInterval(dribble));
    await s.closed;
    // The whole ClientHello would take longer than the test: it was cut, not completed.
    expect(sent).toBeLessThan(hello.length);
    await until(() => failures.length > 0);
    expect(failures).toEqual([expect.objectContaining({ reason: 'timeout', code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })]);
  });

  it('lets a client that sends its ClientHello late, but within clientHelloTimeout, finish its handshake', async () => {
    const { port, ca, failures } = await start({ clientHelloTimeout: 2000, handshakeTimeout: 4000 });
    const raw = await silent(port);
    await new Promise((r) => setTimeout(r, 200));
    const socket = tls.connect({ socket: raw.socket, servername: 'localhost', ca });
    cleanup.push(() => socket.destroy());
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    expect(await requestOn(socket)).toBe('HTTP/1.1 200 OK');
    expect(failures).toEqual([]);
  });
});

describe('maxConnections', () => {
  it('closes the oldest unfinished handshake for each new connection, never a finished one', async () => {
    const { server, port, ca, failures } = await start({ maxConnections: 3, maxHandshakesPerAddress: 0, clientHelloTimeout: 8000, handshakeTimeout: 10_000 });
    const serving = await established(server, port, ca);
    const open = async () => {
      const accept = accepted(server, 1);
      const s = await silent(port);
      await accept;
      return s;
    };
    const a = await open();
    const b = await open();
    await ageHandshakes();
    const c = await open();
    await a.closed;
    expect([b.isClosed(), c.isClosed()]).toEqual([false, false]);
    const d = await open();
    await b.closed;
    expect([c.isClosed(), d.isClosed()]).toEqual([false, false]);
    expect(await requestOn(serving)).toBe('HTTP/1.1 200 OK');
    expect(failures.map((f) => [f.reason, f.code])).toEqual([
      ['evicted', 'ERR_LEGACY_TLS_EVICTED'],
      ['evicted', 'ERR_LEGACY_TLS_EVICTED'],
    ]);
  });

  it('refuses a new connection rather than close a handshake younger than a second, which is likely a real client', async () => {
    const { server, port, failures } = await start({ maxConnections: 1, clientHelloTimeout: 8000, handshakeTimeout: 10_000 });
    const accept = accepted(server, 1);
    const first = await silent(port);
    await accept;
    const second = await silent(port);
    await second.closed;
    expect(first.isClosed()).toBe(false);
    await ageHandshakes();
    const third = await silent(port);
    await first.closed;
    expect(third.isClosed()).toBe(false);
    expect(failures.map((f) => [f.reason, f.code])).toEqual([
      ['connection-limit', 'ERR_LEGACY_TLS_CONNECTION_LIMIT'],
      ['evicted', 'ERR_LEGACY_TLS_EVICTED'],
    ]);
  });

  it('refuses a new connection when every open one has finished its handshake', async () => {
    const { server, port, ca, failures } = await start({ maxConnections: 2 });
    const first = await established(server, port, ca);
    const second = await established(server, port, ca);
    const third = await handshake({ port, ca, rejectUnauthorized: true });
    expect(third.protocol).toBeNull();
    await until(() => failures.length > 0);
    expect(failures).toEqual([expect.objectContaining({ reason: 'connection-limit', code: 'ERR_LEGACY_TLS_CONNECTION_LIMIT', remoteAddress: '127.0.0.1' })]);
    expect(await requestOn(first)).toBe('HTTP/1.1 200 OK');
    expect(await requestOn(second)).toBe('HTTP/1.1 200 OK');
  });

  it('gives the slot of a closed connection back: many short connections through a 2-connection server', async () => {
    const { port, ca, failures } = await start({ maxConnections: 2 });
    for (let i = 0; i < 12; i++) expect((await tlsRequest({ port, ca, version: i % 2 ? 'TLSv1' : 'TLSv1.3' })).status).toBe(200);
    expect(failures).toEqual([]);
  });

  it('caps unfinished handshakes per address: one peer cannot fill the server, others still get in', async () => {
    const { server, port, ca, failures } = await start({ maxConnections: 100, maxHandshakesPerAddress: 3, clientHelloTimeout: 1500, handshakeTimeout: 3000 });
    const three = accepted(server, 3);
    const held = await Promise.all([silent(port), silent(port), silent(port)]);
    await three;

    const fourth = await silent(port);
    await fourth.closed;
    expect(held.some((s) => s.isClosed())).toBe(false);
    await until(() => failures.length > 0);
    expect(failures[0]).toMatchObject({ reason: 'connection-limit', code: 'ERR_LEGACY_TLS_ADDRESS_LIMIT', remoteAddress: '127.0.0.1' });
    // The same address is refused even for a real handshake; another address is not.
    expect((await handshake({ port, ca })).protocol).toBeNull();
    const elsewhere = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    expect((await handshake({ port, ca, socket: elsewhere })).protocol).toBe('TLSv1.3');

    // Once its silent sockets time out, the address may handshake again.
    await Promise.all(held.map((s) => s.closed));
    expect((await handshake({ port, ca })).protocol).toBe('TLSv1.3');
    expect(byReason(failures)).toEqual({ 'connection-limit': 2, timeout: 3 });
  });
});

describe('options', () => {
  it('refuses bad timeouts and limits, naming the option', () => {
    const bad: [LegacyTlsServerOptions, RegExp][] = [
      [{ handshakeTimeout: 0 }, /`handshakeTimeout` is 0; expected a whole number of milliseconds from 100 to 600000/],
      [{ handshakeTimeout: '10s' as never }, /`handshakeTimeout` is "10s"/],
      [{ clientHelloTimeout: 1.5 }, /`clientHelloTimeout` is 1\.5/],
      [{ handshakeTimeout: 2000, clientHelloTimeout: 3000 }, /`clientHelloTimeout` is 3000; the ClientHello is part of the handshake, so make it at most `handshakeTimeout` \(2000 ms\)/],
      [{ maxConnections: 0 }, /`maxConnections` is 0; expected a whole number of connections from 1/],
      [{ maxConnections: 10, maxHandshakesPerAddress: -1 }, /`maxHandshakesPerAddress` is -1; expected a whole number of handshakes from 0 to 1000000, or 0 for no per-address cap/],
    ];
    for (const [options, message] of bad) {
      expect(() => createLegacyTlsServer({ ...options, logger: { warn: () => undefined } })).toThrow(InvalidOptionError);
      expect(() => createLegacyTlsServer({ ...options, logger: { warn: () => undefined } })).toThrow(message);
    }
  });
});

describe('closing the server', () => {
  it('closeAllConnections also closes connections still in their handshake, without counting them as failures', async () => {
    // Timeouts far beyond the test's: if close() waited for the handshake, the test would time out.
    const { server, port, failures } = await start({ clientHelloTimeout: 600_000, handshakeTimeout: 600_000 });
    const hello = await recordClientHello();
    const accept = accepted(server, 2);
    const quiet = await silent(port);
    const half = await silent(port);
    half.socket.write(hello.subarray(0, 10));
    await accept;
    await closeServer(server);
    await Promise.all([quiet.closed, half.closed]);
    expect(failures).toEqual([]);
  });
});

describe('the TCP socket under the TLS layer', () => {
  // The ClientHello timeout rests on these two facts about Node's TLS server; if a Node release changes
  // them, this says so before the guard silently stops working.
  it('counts the bytes the TLS layer read in the TCP socket, and links the TLS socket to it', async () => {
    const { server, port } = await start({ clientHelloTimeout: 60_000, handshakeTimeout: 60_000 });
    const raws: net.Socket[] = [];
    server.on('connection', (raw: net.Socket) => raws.push(raw));
    const hello = await recordClientHello();
    const s = await silent(port);
    s.socket.write(hello.subarray(0, 7));
    await until(() => raws[0]?.bytesRead === 7);
    const secured = new Promise<tls.TLSSocket>((resolve) => server.once('secureConnection', resolve));
    const client = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
    cleanup.push(() => client.destroy());
    const socket = await secured;
    expect((socket as tls.TLSSocket & { _parent?: net.Socket })._parent).toBe(raws[1]);
  });
});

describe('counting the closed connections', () => {
  it('loads a stats file written before the new reasons existed, and keeps them from then on', () => {
    const now = Date.UTC(2025, 0, 15, 12);
    const salt = Buffer.alloc(16, 7);
    const before = emptyState();
    recordHandshakeFailure(before, now, 'not-tls');
    // What the previous version wrote: no key for a reason it did not know.
    const oldFile = JSON.parse(JSON.stringify(toDocument(before, salt, now))) as unknown;
    expect(JSON.stringify(oldFile)).not.toMatch(/timeout|evicted|connection-limit/);

    const loaded = fromDocument(oldFile).state;
    recordHandshakeFailure(loaded, now, 'timeout');
    recordHandshakeFailure(loaded, now, 'evicted');
    recordHandshakeFailure(loaded, now, 'connection-limit');
    const again = fromDocument(JSON.parse(JSON.stringify(toDocument(loaded, salt, now)))).state;
    expect(Object.fromEntries(again.totals.failures)).toEqual({ 'not-tls': 1, timeout: 1, evicted: 1, 'connection-limit': 1 });
    const w = buildReport(again, now, { store: 'memory', file: null, lastSavedAt: null, error: null }).windows['24h'];
    expect(w.handshakeFailures).toEqual({ total: 4, byReason: { 'protocol-too-old': 0, 'no-shared-cipher': 0, 'not-tls': 1, other: 0, timeout: 1, evicted: 1, 'connection-limit': 1 } });
  });
});
