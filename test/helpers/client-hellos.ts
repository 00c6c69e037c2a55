/**
 * Builds ClientHello bytes for tests: messages from their parts, records of any size, the extensions the
 * reader decodes, and testssl.sh's server-name patch for replaying its recorded hellos.
 */
import { existsSync } from 'node:fs';
import { TESTSSL_CLIENT_DATA } from '../../scripts/testssl-clients.js';
import { hasTool } from './tools.js';

export type Extension = readonly [type: number, data: Uint8Array];

export interface HelloParts {
  /** `client_version`; default TLS 1.2. */
  version?: number;
  sessionId?: Uint8Array;
  ciphers: readonly number[];
  compression?: readonly number[];
  /** `null`: no extensions block at all, as SSLv3-era clients send. */
  extensions?: readonly Extension[] | null;
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

export function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const arrays = parts.map((part) => (part instanceof Uint8Array ? part : Uint8Array.from(part)));
  const out = new Uint8Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

/** A ClientHello handshake message: type, 24-bit length, body. */
export function clientHelloMessage(parts: HelloParts): Uint8Array {
  const sessionId = parts.sessionId ?? new Uint8Array(0);
  const compression = parts.compression ?? [0];
  const body = concat(
    u16(parts.version ?? 0x0303),
    new Uint8Array(32).fill(0x42),
    [sessionId.length],
    sessionId,
    u16(parts.ciphers.length * 2),
    parts.ciphers.flatMap(u16),
    [compression.length],
    compression,
    parts.extensions === null ? [] : extensionsBlock(parts.extensions ?? []),
  );
  return concat([1], u24(body.length), body);
}

function extensionsBlock(extensions: readonly Extension[]): Uint8Array {
  const encoded = concat(...extensions.map(([type, data]) => concat(u16(type), u16(data.length), data)));
  return concat(u16(encoded.length), encoded);
}

/** Wraps a handshake message in handshake records of at most `size` bytes of payload each. */
export function inRecords(message: Uint8Array, size = 1 << 14, recordVersion = 0x0301): Uint8Array {
  const records: Uint8Array[] = [];
  for (let offset = 0; offset < message.length; offset += size) {
    const fragment = message.subarray(offset, offset + size);
    records.push(concat([0x16], u16(recordVersion), u16(fragment.length), fragment));
  }
  return concat(...records);
}

/** An SSLv2-compatible ClientHello (RFC 5246 E.2): 3-byte cipher specs, no session id, a 16-byte challenge. */
export function sslv2Hello(version: number, specs: readonly number[], challenge = new Uint8Array(16).fill(7)): Uint8Array {
  const body = concat([1], u16(version), u16(specs.length * 3), u16(0), u16(challenge.length), specs.flatMap((s) => [(s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff]), challenge);
  return concat([0x80 | (body.length >> 8), body.length & 0xff], body);
}

/** A complete ClientHello in one record (two above 16 KiB). */
export function clientHello(parts: HelloParts): Uint8Array {
  return inRecords(clientHelloMessage(parts));
}

export const ext = {
  serverName: (name: string): Extension => {
    const host = new TextEncoder().encode(name);
    return [0x0000, concat(u16(host.length + 3), [0], u16(host.length), host)];
  },
  alpn: (...names: (string | Uint8Array)[]): Extension => {
    const list = concat(...names.map((n) => (typeof n === 'string' ? new TextEncoder().encode(n) : n)).map((n) => concat([n.length], n)));
    return [0x0010, concat(u16(list.length), list)];
  },
  supportedVersions: (...versions: number[]): Extension => [0x002b, concat([versions.length * 2], versions.flatMap(u16))],
  signatureAlgorithms: (...algorithms: number[]): Extension => [0x000d, concat(u16(algorithms.length * 2), algorithms.flatMap(u16))],
  supportedGroups: (...groups: number[]): Extension => [0x000a, concat(u16(groups.length * 2), groups.flatMap(u16))],
  ecPointFormats: (...formats: number[]): Extension => [0x000b, concat([formats.length], formats)],
  padding: (length: number): Extension => [0x0015, new Uint8Array(length)],
  empty: (type: number): Extension => [type, new Uint8Array(0)],
};

/**
 * Rebuilds a one-record TLS ClientHello with its extensions changed by `edit`, every length fixed up;
 * the result is cut into records of `recordSize`. Returns the hello unchanged when `edit` returns null.
 */
export function editExtensions(hello: Uint8Array, edit: (extensions: Extension[]) => Extension[] | null, recordSize = 1 << 14): Uint8Array {
  if (hello[0] !== 0x16) return hello;
  let p = 5 + 4 + 2 + 32;
  p += 1 + hello[p]!;
  p += 2 + ((hello[p]! << 8) | hello[p + 1]!);
  p += 1 + hello[p]!;
  const head = hello.subarray(5 + 4, p);
  const extensions: Extension[] = [];
  for (let q = p + 2; q < hello.length; ) {
    const length = (hello[q + 2]! << 8) | hello[q + 3]!;
    extensions.push([(hello[q]! << 8) | hello[q + 1]!, hello.subarray(q + 4, q + 4 + length)]);
    q += 4 + length;
  }
  const edited = edit(extensions);
  if (edited === null) return hello;
  const body = concat(head, extensionsBlock(edited));
  return inRecords(concat([1], u24(body.length), body), recordSize, (hello[1]! << 8) | hello[2]!);
}

/**
 * testssl.sh's `modify_clienthello`: a recorded hello that carries a server_name gets `name` instead (or
 * loses the extension when `name` is null), with every length fixed up. Hellos without one, and
 * SSLv2-compatible ones, go out as recorded.
 */
export function replaceServerName(hello: Uint8Array, name: string | null): Uint8Array {
  return editExtensions(hello, (extensions) => {
    if (!extensions.some(([type]) => type === 0)) return null;
    return extensions.flatMap((extension) => (extension[0] !== 0 ? [extension] : name === null ? [] : [ext.serverName(name)]));
  });
}

/**
 * testssl.sh's client data, installed with its package. Without testssl.sh the tests that need it are
 * skipped locally, and fail in CI (`CI=true`), as `hasTool` decides; a package without the file fails too.
 */
export function testsslClientData(): string | null {
  if (!hasTool('testssl')) return null;
  if (existsSync(TESTSSL_CLIENT_DATA)) return TESTSSL_CLIENT_DATA;
  if (process.env.CI) throw new Error(`${TESTSSL_CLIENT_DATA} is missing: .ci/run must install testssl.sh`);
  return null;
}
