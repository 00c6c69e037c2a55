/**
 * Replays a recorded ClientHello over a plain TCP socket and reads what the server answers, as
 * testssl.sh's `client_simulation_sockets` does: the negotiated version and cipher from the ServerHello
 * (or HelloRetryRequest), or the alert, or nothing. The handshake is then abandoned.
 */
import net, { type Server } from 'node:net';
import { readFileSync } from 'node:fs';

export type ServerAnswer =
  | { kind: 'server-hello'; version: number; cipher: number; helloRetry: boolean }
  | { kind: 'alert'; level: number; description: number }
  | { kind: 'closed'; received: number };

/** The fixed random of a TLS 1.3 HelloRetryRequest (RFC 8446 section 4.1.3). */
const HELLO_RETRY_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');
/** Enough for any ServerHello; a server sending more without one has answered something else. */
const MAX_ANSWER = 64 * 1024;

export function replayClientHello(port: number, hello: Uint8Array): Promise<ServerAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: ServerAnswer) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(answer);
    };
    // A safety net for a hung server, not a measurement: a healthy one answers in milliseconds.
    socket.setTimeout(30_000, () => {
      settled = true;
      socket.destroy();
      reject(new Error(`no answer from 127.0.0.1:${port} in 30 s`));
    });
    socket.on('connect', () => socket.write(hello));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = decodeAnswer(received);
      if (answer) finish(answer);
      else if (received.length > MAX_ANSWER) finish({ kind: 'closed', received: received.length });
    });
    socket.on('error', () => finish({ kind: 'closed', received: received.length }));
    socket.on('close', () => finish({ kind: 'closed', received: received.length }));
  });
}

/** Decodes the server's first flight once it holds a ServerHello or an alert; `null` while incomplete. */
export function decodeAnswer(bytes: Uint8Array): ServerAnswer | null {
  if (bytes.length < 5) return null;
  if (bytes[0] === 0x15) return bytes.length >= 7 ? { kind: 'alert', level: bytes[5]!, description: bytes[6]! } : null;
  if (bytes[0] !== 0x16) return { kind: 'closed', received: bytes.length };
  // Handshake bytes, across as many records as the ServerHello spans.
  const handshake: number[] = [];
  for (let offset = 0; offset + 5 <= bytes.length && bytes[offset] === 0x16; ) {
    const length = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
    if (offset + 5 + length > bytes.length) break;
    for (let i = 0; i < length; i++) handshake.push(bytes[offset + 5 + i]!);
    offset += 5 + length;
  }
  if (handshake.length < 4) return null;
  const length = (handshake[1]! << 16) | (handshake[2]! << 8) | handshake[3]!;
  if (handshake.length < 4 + length) return null;
  if (handshake[0] !== 2) return { kind: 'closed', received: bytes.length };
  try {
    return readServerHello(Buffer.from(handshake.slice(4, 4 + length)));
  } catch {
    return { kind: 'closed', received: bytes.length }; // a ServerHello cut short: not an answer
  }
}

function readServerHello(body: Buffer): ServerAnswer {
  let p = 2 + 32;
  p += 1 + body[p]!;
  const cipher = body.readUInt16BE(p);
  p += 2 + 1;
  let version = body.readUInt16BE(0);
  if (p + 2 <= body.length) {
    const end = p + 2 + body.readUInt16BE(p);
    for (p += 2; p + 4 <= end; ) {
      const type = body.readUInt16BE(p);
      const size = body.readUInt16BE(p + 2);
      if (type === 0x002b && size === 2) version = body.readUInt16BE(p + 4);
      p += 4 + size;
    }
  }
  return { kind: 'server-hello', version, cipher, helloRetry: body.subarray(2, 34).equals(HELLO_RETRY_RANDOM) };
}

export const TESTSSL_CIPHER_MAPPING = '/etc/testssl/cipher-mapping.txt';

/** testssl.sh's cipher table: suite id -> OpenSSL name, the names its client simulation reports. */
export function readCipherNames(file = TESTSSL_CIPHER_MAPPING): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*0x([0-9A-Fa-f]{2}),0x([0-9A-Fa-f]{2})\s+-\s+(\S+)/.exec(line);
    if (match) names.set(Number.parseInt(match[1]! + match[2]!, 16), match[3]!);
  }
  return names;
}

/** testssl's spelling of a negotiated version in its findings. */
export function findingProtocol(version: number): string {
  const names: Record<number, string> = { 0x0300: 'SSLv3', 0x0301: 'TLSv1.0', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' };
  return names[version] ?? `0x${version.toString(16)}`;
}

/**
 * Waits until a server has no connection left: every abandoned handshake has then been reported (its
 * failure event comes before its socket closes).
 */
export async function untilNoConnections(server: Server): Promise<void> {
  for (;;) {
    const open = await new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    if (open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
