/**
 * The PROXY header acceptor on real sockets, in front of the legacy-capable TLS server as the legacy-only
 * mode uses it: the header dropped, the TLS handshake after it intact, the client's address readable from
 * the request; and the attacks on it (silence, a dribble, garbage, a header that never ends).
 */
import net from 'node:net';
import { once } from 'node:events';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { createProxyHeaderAcceptor, proxiedPeer, type ProxyHeaderAcceptorOptions, type ProxyHeaderRefusal } from '../src/relay/accept-proxy.js';
import { encodeProxyV1, encodeProxyV2, encodeProxyV2Local, type ProxyHeader } from '../src/relay/proxy-protocol.js';
import { createLegacyTlsServer } from '../src/tls/server.js';
import { writeByteByByte } from './helpers/capture.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The legacy-only listener: PROXY acceptor in front of a legacy-capable TLS server whose handler answers
 * with the client address it can see and the TLS version.
 */
async function legacyOnly(options: ProxyHeaderAcceptorOptions = {}) {
  const { cert, key } = await testCertificate();
  const refusals: ProxyHeaderRefusal[] = [];
  const headers: ProxyHeader[] = [];
  const tlsServer = createLegacyTlsServer({ cert, key }, (req, res) => {
    res.end(JSON.stringify({ client: proxiedPeer(req.socket)?.address ?? null, protocol: (req.socket as tls.TLSSocket).getProtocol() }));
  });
  const accept = createProxyHeaderAcceptor({ onRefused: (r) => refusals.push(r), ...options });
  const listener = net.createServer((socket) =>
    accept(socket, (socket, header) => {
      headers.push(header);
      tlsServer.emit('connection', socket);
    }),
  );
  const port = await listenOn(listener);
  cleanups.push(async () => {
    await closeServer(listener);
    tlsServer.close();
  });
  return { port, refusals, headers };
}

/** Sends `header` (all at once, or one byte per segment), then speaks HTTPS over the same connection. */
async function requestThrough(port: number, header: Uint8Array, version: tls.SecureVersion, { dribble = false } = {}): Promise<{ client: string | null; protocol: string }> {
  const raw = net.connect({ host: '127.0.0.1', port });
  await once(raw, 'connect');
  if (dribble) await writeByteByByte(raw, header);
  else raw.write(header);
  const legacy = version === 'TLSv1' || version === 'TLSv1.1';
  const socket = tls.connect({ socket: raw, servername: 'localhost', rejectUnauthorized: false, minVersion: version, maxVersion: version, ciphers: legacy ? 'DEFAULT:@SECLEVEL=0' : undefined });
  await once(socket, 'secureConnect');
  socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  await once(socket, 'end');
  socket.destroy();
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { client: string | null; protocol: string };
}

async function closedBy(port: number, send: (socket: net.Socket) => Promise<void> | void): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const closed = new Promise((resolve) => socket.on('close', resolve));
  await send(socket);
  await closed;
}

const CLIENT = { address: '198.51.100.23', port: 51515 };
const ROUTER = { address: '127.0.0.1', port: 443 };

describe('in front of the legacy TLS server', () => {
  it.each(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const)('a %s client behind a v2 header: handshake intact, client address on the request', async (version) => {
    const { port, headers } = await legacyOnly();
    const answer = await requestThrough(port, encodeProxyV2(CLIENT, ROUTER)!, version);
    expect(answer).toEqual({ client: CLIENT.address, protocol: version });
    expect(headers).toEqual([{ version: 2, command: 'proxy', source: { ...CLIENT, family: 'IPv4' }, destination: { ...ROUTER, family: 'IPv4' } }]);
  });

  it('a v1 header arriving one byte per segment (nginx sends v1)', async () => {
    const { port } = await legacyOnly();
    expect(await requestThrough(port, encodeProxyV1(CLIENT, ROUTER)!, 'TLSv1', { dribble: true })).toEqual({ client: CLIENT.address, protocol: 'TLSv1' });
  });

  it("LOCAL (a router's health check): served, with no proxied client", async () => {
    const { port } = await legacyOnly();
    expect(await requestThrough(port, encodeProxyV2Local(), 'TLSv1.2')).toEqual({ client: null, protocol: 'TLSv1.2' });
  });
});

describe('attacks on the acceptor', () => {
  it('a direct client without a header (a TLS hello) is refused and never reaches the TLS server', async () => {
    const { port, refusals, headers } = await legacyOnly();
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    const error = await once(socket, 'error').then(([e]) => e as NodeJS.ErrnoException);
    expect(error.code).toMatch(/ECONNRESET|EPIPE|ERR_SSL|socket disconnected/i);
    expect(refusals.map((r) => r.reason)).toEqual(['not-proxy']);
    expect(headers).toEqual([]);
  });

  it('a silent client is refused at the deadline', async () => {
    const { port, refusals } = await legacyOnly({ timeout: 200 });
    await closedBy(port, () => undefined);
    expect(refusals.map((r) => r.reason)).toEqual(['timeout']);
  });

  it('a client dribbling a valid header cannot stretch the deadline: it is absolute, not idle', async () => {
    const { port, refusals } = await legacyOnly({ timeout: 200 });
    const header = encodeProxyV1({ address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 }, { address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 })!;
    await closedBy(port, async (socket) => {
      for (const byte of header) {
        if (socket.destroyed) break;
        socket.write(Uint8Array.of(byte));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    expect(refusals.map((r) => r.reason)).toEqual(['timeout']);
  });

  it('a client that hangs up mid-header is counted as closed', async () => {
    const { port, refusals } = await legacyOnly();
    await closedBy(port, (socket) => void socket.end('PROXY TCP4 1.2.3.4'));
    expect(refusals.map((r) => r.reason)).toEqual(['closed']);
  });

  it('a v2 header announcing 64 KiB is refused at its 16th byte', async () => {
    const { port, refusals } = await legacyOnly();
    const header = encodeProxyV2(CLIENT, ROUTER)!;
    header.writeUInt16BE(0xffff, 14);
    await closedBy(port, (socket) => void socket.write(header.subarray(0, 16)));
    expect(refusals.map((r) => r.reason)).toEqual(['v2-too-long']);
  });

  it('a v1 line that never ends is refused after 107 bytes, however much follows', async () => {
    const { port, refusals } = await legacyOnly();
    await closedBy(port, (socket) => void socket.write(`PROXY UNKNOWN ${'x'.repeat(1 << 20)}`));
    expect(refusals.map((r) => r.reason)).toEqual(['v1-too-long']);
  });
});

describe('options', () => {
  it.each([
    [{ timeout: 0 }, 'timeout'],
    [{ timeout: '5s' }, 'timeout'],
    [{ maxHeaderBytes: 16 }, 'maxHeaderBytes'],
    [{ maxHeaderBytes: 1e6 }, 'maxHeaderBytes'],
    [{ onRefused: 'log' }, 'onRefused'],
    [{ timout: 5000 }, 'timout'],
  ])('%j is refused, naming the option', (options, option) => {
    expect(() => createProxyHeaderAcceptor(options as ProxyHeaderAcceptorOptions)).toThrow(InvalidOptionError);
    expect(() => createProxyHeaderAcceptor(options as ProxyHeaderAcceptorOptions)).toThrow(option);
  });
});
