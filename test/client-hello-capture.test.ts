/**
 * The ClientHello reader against real clients on real sockets: curl, `openssl s_client` and Node's TLS
 * client pinned to each version, a hello arriving one byte per TCP segment, a 16 KiB hello, and
 * garbage where a hello should be.
 */
import net from 'node:net';
import { once } from 'node:events';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyTlsServer, type HandshakeFailure, type LegacyTlsServer } from '../src/index.js';
import { ClientHelloReader, readClientHello, type ClientHello, type ClientHelloRead } from '../src/tls/client-hello.js';
import { ja4 } from '../src/tls/ja4.js';
import type { TlsProtocol } from '../src/types.js';
import { captureClientHello, run, writeByteByByte } from './helpers/capture.js';
import { editExtensions, ext } from './helpers/client-hellos.js';
import { replayClientHello, untilNoConnections } from './helpers/replay.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { TLS_VERSIONS } from './helpers/tls-client.js';
import { hasTool } from './helpers/tools.js';

const WIRE_VERSION: Record<TlsProtocol, number> = { TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 };
const JA4_VERSION: Record<TlsProtocol, string> = { TLSv1: '10', 'TLSv1.1': '11', 'TLSv1.2': '12', 'TLSv1.3': '13' };
const legacy = (version: TlsProtocol) => version === 'TLSv1' || version === 'TLSv1.1';

function complete(read: ClientHelloRead): ClientHello {
  if (read.status !== 'complete') throw new Error(`expected a complete hello, got ${JSON.stringify(read)}`);
  return read.hello;
}

function nodeClient(version: TlsProtocol, alpn = ['http/1.1']) {
  return (port: number) =>
    new Promise<void>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        minVersion: version,
        maxVersion: version,
        ciphers: legacy(version) ? 'DEFAULT:@SECLEVEL=0' : undefined,
        ALPNProtocols: alpn,
        rejectUnauthorized: false,
      });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
}

describe('hellos of real clients, captured on loopback', () => {
  it.each(TLS_VERSIONS)("Node's TLS client pinned to %s", async (version) => {
    const capture = await captureClientHello(nodeClient(version));
    const hello = complete(capture.read);
    expect(hello.maxVersion).toBe(WIRE_VERSION[version]);
    expect(hello.serverName).toBe('localhost');
    expect(hello.alpn).toEqual(['http/1.1']);
    expect(ja4(hello)).toMatch(new RegExp(`^t${JA4_VERSION[version]}d\\d{4}h1_[0-9a-f]{12}_[0-9a-f]{12}$`));
  });

  describe.runIf(hasTool('curl'))('curl', () => {
    it.each(TLS_VERSIONS)('pinned to %s', async (version) => {
      const flag = { TLSv1: '1.0', 'TLSv1.1': '1.1', 'TLSv1.2': '1.2', 'TLSv1.3': '1.3' }[version];
      const capture = await captureClientHello((port) =>
        run('curl', [
          '-sk',
          '--max-time',
          '10',
          '--resolve',
          `localhost:${port}:127.0.0.1`,
          `--tlsv${flag}`,
          '--tls-max',
          flag,
          ...(legacy(version) ? ['--ciphers', 'DEFAULT@SECLEVEL=0'] : []),
          `https://localhost:${port}/`,
        ]),
      );
      const hello = complete(capture.read);
      expect(hello.maxVersion).toBe(WIRE_VERSION[version]);
      expect(hello.serverName).toBe('localhost');
      expect(hello.alpn).toContain('http/1.1');
      expect(ja4(hello).slice(0, 4)).toBe(`t${JA4_VERSION[version]}d`);
    });
  });

  describe.runIf(hasTool('openssl'))('openssl s_client', () => {
    it.each(TLS_VERSIONS)('pinned to %s', async (version) => {
      const flag = { TLSv1: '-tls1', 'TLSv1.1': '-tls1_1', 'TLSv1.2': '-tls1_2', 'TLSv1.3': '-tls1_3' }[version];
      const capture = await captureClientHello((port) =>
        run('openssl', [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          'localhost',
          '-alpn',
          'h2',
          flag,
          ...(legacy(version) ? ['-cipher', 'DEFAULT@SECLEVEL=0'] : []),
        ]),
      );
      const hello = complete(capture.read);
      expect(hello.maxVersion).toBe(WIRE_VERSION[version]);
      expect(hello.serverName).toBe('localhost');
      expect(hello.alpn).toEqual(['h2']);
      expect(ja4(hello)).toMatch(new RegExp(`^t${JA4_VERSION[version]}d\\d{4}h2_`));
    });

    it('without a server name', async () => {
      const capture = await captureClientHello((port) => run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-noservername']));
      const hello = complete(capture.read);
      expect(hello.serverName).toBeNull();
      expect(hello.extensions).not.toContain(0);
      expect(ja4(hello)).toMatch(/^t13i/);
    });
  });
});

describe('hellos the legacy server must still answer', () => {
  let server: LegacyTlsServer;
  let port: number;
  let nodeHello: Uint8Array;

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    server = createLegacyTlsServer({ cert, key }, (_req, res) => res.end('ok'));
    port = await listenOn(server);
    // A real, current hello to work with: Node's own, offering TLS 1.2 and 1.3.
    nodeHello = (await captureClientHello(async (p) => {
      const socket = tls.connect({ host: '127.0.0.1', port: p, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] });
      socket.on('error', () => {});
      await once(socket, 'close');
    })).bytes;
  });
  afterAll(async () => {
    if (server) await closeServer(server);
  });

  it('reads a hello that arrives one byte per TCP segment, and so does the server', async () => {
    const whole = complete(readClientHello(nodeHello));
    const dribble = () =>
      captureClientHello(async (p) => {
        const socket = net.connect({ host: '127.0.0.1', port: p });
        socket.on('error', () => {});
        await once(socket, 'connect');
        await writeByteByByte(socket, nodeHello).catch(() => undefined);
        socket.destroy();
      });
    // On a busy machine the kernel may hand all the bytes over in one read; try again until it did not.
    let capture = await dribble();
    for (let attempt = 0; attempt < 4 && capture.chunks === 1; attempt++) capture = await dribble();
    expect(capture.chunks).toBeGreaterThan(1);
    expect(complete(capture.read)).toEqual(whole);
    expect(ja4(complete(capture.read))).toBe(ja4(whole));

    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    await writeByteByByte(socket, nodeHello);
    const first = await answer;
    socket.destroy();
    expect(first[0]).toBe(0x16); // a handshake record: the ServerHello, not an alert
    expect(first[5]).toBe(0x02);
  });

  it('reads a 16 KiB hello spread over two records, and the server answers it', async () => {
    const big = editExtensions(nodeHello, (extensions) => [...extensions.filter(([type]) => type !== 0x0015), ext.padding(16 * 1024)]);
    expect(big.length).toBeGreaterThan(16 * 1024 + 10);
    expect(big[5 + (1 << 14)]).toBe(0x16); // a second record
    const hello = complete(readClientHello(big));
    expect(hello.extensions.at(-1)).toBe(0x0015);
    expect(hello.serverName).toBe('localhost');
    const answer = await replayClientHello(port, big);
    expect(answer).toMatchObject({ kind: 'server-hello', version: 0x0304 });
  });

  it('calls garbage and plain HTTP not TLS, as the server does, and keeps serving', async () => {
    // Earlier tests abandoned handshakes on this server: let their failures be counted first.
    await untilNoConnections(server);
    for (const bytes of [Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), Buffer.from('\x00\x01\x02\x03 not a handshake at all')]) {
      expect(readClientHello(bytes).status).toBe('not-tls');
      const failure = once(server, 'handshakeFailure') as Promise<[HandshakeFailure]>;
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      socket.end(bytes);
      const [event] = await failure;
      expect(event.reason).toBe('not-tls');
      socket.destroy();
    }
    expect(await replayClientHello(port, nodeHello)).toMatchObject({ kind: 'server-hello' });
  });

  it('a reader fed a truncated hello waits for the rest', () => {
    const reader = new ClientHelloReader();
    const read = reader.push(nodeHello.subarray(0, nodeHello.length - 1));
    expect(read).toMatchObject({ status: 'need-more', atLeast: 1 });
    expect(reader.push(nodeHello.subarray(nodeHello.length - 1)).status).toBe('complete');
  });
});
