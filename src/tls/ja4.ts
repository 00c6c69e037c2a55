/**
 * JA4, FoxIO's TLS client fingerprint (https://github.com/FoxIO-LLC/ja4, technical_details/JA4.md; JA4 is
 * BSD-3-Clause): `t13d1516h2_8daaf6152771_e5627efa2ab1` =
 * protocol · version · SNI (d)omain or (i)p · cipher count · extension count · ALPN first+last char,
 * then the truncated SHA-256 of the sorted cipher list, then of the sorted extension list (without SNI
 * and ALPN) followed by the signature algorithms in the client's order. GREASE is ignored everywhere.
 */
import * as crypto from 'node:crypto';
import { EXT_ALPN, EXT_SERVER_NAME, isGrease, type ClientHello } from './client-hello.js';

/** What JA4 writes for an empty list, instead of the hash of nothing. */
const EMPTY_HASH = '000000000000';

const VERSION_CODES: Readonly<Record<number, string>> = {
  0x0304: '13',
  0x0303: '12',
  0x0302: '11',
  0x0301: '10',
  0x0300: 's3',
  0x0002: 's2',
};

/** The JA4 fingerprint of a ClientHello read over TCP. */
export function ja4(hello: ClientHello): string {
  const parts = ja4Parts(hello, true);
  return `${parts.a}_${hash12(parts.ciphers)}_${hash12(parts.extensions)}`;
}

/** `ja4_r`: JA4 before hashing (sorted lists), for debugging and for reading what a fingerprint means. */
export function ja4Raw(hello: ClientHello): string {
  const parts = ja4Parts(hello, true);
  return `${parts.a}_${parts.ciphers.toString('latin1')}_${parts.extensions.toString('latin1')}`;
}

/** `ja4_o`: JA4 over the lists in the client's order, SNI and ALPN included. */
export function ja4Original(hello: ClientHello): string {
  const parts = ja4Parts(hello, false);
  return `${parts.a}_${hash12(parts.ciphers)}_${hash12(parts.extensions)}`;
}

/** `ja4_ro`: `ja4_o` before hashing. */
export function ja4RawOriginal(hello: ClientHello): string {
  const parts = ja4Parts(hello, false);
  return `${parts.a}_${parts.ciphers.toString('latin1')}_${parts.extensions.toString('latin1')}`;
}

interface Ja4Parts {
  a: string;
  /** Comma-separated hex as ASCII bytes; empty when there are none. */
  ciphers: Buffer;
  /** Extensions, then `_` and the signature algorithms when there are any; empty when there are no extensions. */
  extensions: Buffer;
}

// The lists are built as ASCII bytes and hashed as such: a hostile hello may carry 16,000 suites, and
// sorting a typed array and writing bytes keeps that to a fraction of what strings and a comparator cost.
function ja4Parts(hello: ClientHello, sorted: boolean): Ja4Parts {
  const ciphers = withoutGrease(hello.cipherSuites);
  // One pass over the extensions: the count and the SNI flag take them all, the sorted list drops SNI and ALPN.
  const kept = new Uint16Array(hello.extensions.length);
  let length = 0;
  let extensionCount = 0;
  let sni = false;
  for (const type of hello.extensions) {
    if (isGrease(type)) continue;
    extensionCount++;
    if (type === EXT_SERVER_NAME) sni = true;
    if (!sorted || (type !== EXT_SERVER_NAME && type !== EXT_ALPN)) kept[length++] = type;
  }
  const extensions = kept.subarray(0, length);
  if (sorted) {
    sortU16(ciphers);
    sortU16(extensions);
  }
  const signatures = withoutGrease(hello.signatureAlgorithms);

  const a = 't' + versionCode(hello) + (sni ? 'd' : 'i') + count(ciphers.length) + count(extensionCount) + alpnCode(hello.alpn[0]);
  return { a, ciphers: hexList(ciphers, EMPTY), extensions: extensions.length > 0 ? hexList(extensions, signatures) : Buffer.alloc(0) };
}

// The highest non-GREASE value of supported_versions, else the hello's version. A TLS 1.3 draft
// (0x7fXX) is the highest value when present, and has no code: JA4 writes "00" for it.
function versionCode(hello: ClientHello): string {
  let version = -1;
  for (const value of hello.supportedVersions) if (!isGrease(value) && value > version) version = value;
  if (version < 0) version = hello.legacyVersion;
  return VERSION_CODES[version] ?? '00';
}

function count(n: number): string {
  return n > 99 ? '99' : n < 10 ? `0${n}` : `${n}`;
}

/**
 * First and last character of the first ALPN value; "00" when there is none or it is empty. When either
 * end is not an ASCII letter or digit, the first and last hex digits of the value stand in for them.
 */
export function alpnCode(first: string | undefined): string {
  if (!first) return '00';
  const head = first.charCodeAt(0);
  const tail = first.charCodeAt(first.length - 1);
  if (isAlphanumeric(head) && isAlphanumeric(tail)) return first[0]! + first[first.length - 1]!;
  return (head >> 4).toString(16) + (tail & 0x0f).toString(16);
}

function isAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const EMPTY = new Uint16Array(0);

function withoutGrease(values: readonly number[]): Uint16Array {
  const kept = new Uint16Array(values.length);
  let length = 0;
  for (const value of values) if (!isGrease(value)) kept[length++] = value;
  return kept.subarray(0, length);
}

/**
 * Sorts in place: insertion sort for the few values a real client sends, a two-pass radix sort beyond
 * (TypedArray#sort takes over a millisecond for the 16,000 suites a hostile hello can carry).
 */
function sortU16(values: Uint16Array): void {
  const n = values.length;
  if (n <= 64) {
    for (let i = 1; i < n; i++) {
      const value = values[i]!;
      let j = i - 1;
      while (j >= 0 && values[j]! > value) {
        values[j + 1] = values[j]!;
        j--;
      }
      values[j + 1] = value;
    }
    return;
  }
  const scratch = new Uint16Array(n);
  radixPass(values, scratch, 0);
  radixPass(scratch, values, 8);
}

function radixPass(from: Uint16Array, to: Uint16Array, shift: number): void {
  const counts = new Uint32Array(257);
  for (let i = 0; i < from.length; i++) counts[((from[i]! >> shift) & 0xff) + 1]!++;
  for (let b = 1; b < 257; b++) counts[b]! += counts[b - 1]!;
  for (let i = 0; i < from.length; i++) to[counts[(from[i]! >> shift) & 0xff]!++] = from[i]!;
}

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const COMMA = 0x2c;
const UNDERSCORE = 0x5f;

/** `list` as comma-separated 4-digit hex, then `_` and `after` the same way when `after` is not empty. */
function hexList(list: Uint16Array, after: Uint16Array): Buffer {
  const size = (n: number) => (n > 0 ? 5 * n - 1 : 0);
  const out = Buffer.allocUnsafe(size(list.length) + (after.length > 0 ? 1 + size(after.length) : 0));
  let p = writeHex(out, 0, list);
  if (after.length > 0) {
    out[p++] = UNDERSCORE;
    p = writeHex(out, p, after);
  }
  return out;
}

function writeHex(out: Buffer, start: number, values: Uint16Array): number {
  let p = start;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (i > 0) out[p++] = COMMA;
    out[p++] = HEX[value >> 12]!;
    out[p++] = HEX[(value >> 8) & 0xf]!;
    out[p++] = HEX[(value >> 4) & 0xf]!;
    out[p++] = HEX[value & 0xf]!;
  }
  return p;
}

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per fingerprint.
const sha256Hex: (bytes: Buffer) => string =
  typeof crypto.hash === 'function' ? (bytes) => crypto.hash('sha256', bytes, 'hex') : (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

function hash12(bytes: Buffer): string {
  return bytes.length > 0 ? sha256Hex(bytes).slice(0, 12) : EMPTY_HASH;
}
