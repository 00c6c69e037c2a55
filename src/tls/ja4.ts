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
  return `${parts.a}_${parts.ciphers}_${parts.extensions}`;
}

/** `ja4_o`: JA4 over the lists in the client's order, SNI and ALPN included. */
export function ja4Original(hello: ClientHello): string {
  const parts = ja4Parts(hello, false);
  return `${parts.a}_${hash12(parts.ciphers)}_${hash12(parts.extensions)}`;
}

/** `ja4_ro`: `ja4_o` before hashing. */
export function ja4RawOriginal(hello: ClientHello): string {
  const parts = ja4Parts(hello, false);
  return `${parts.a}_${parts.ciphers}_${parts.extensions}`;
}

interface Ja4Parts {
  a: string;
  /** Comma-separated hex, or '' when there are none. */
  ciphers: string;
  /** Extensions, then `_` and the signature algorithms when there are any; '' when there are no extensions. */
  extensions: string;
}

function ja4Parts(hello: ClientHello, sorted: boolean): Ja4Parts {
  const ciphers = withoutGrease(hello.cipherSuites);
  // One pass over the extensions: the count and the SNI flag take them all, the sorted list drops SNI and ALPN.
  const extensions: number[] = [];
  let extensionCount = 0;
  let sni = false;
  for (const type of hello.extensions) {
    if (isGrease(type)) continue;
    extensionCount++;
    if (type === EXT_SERVER_NAME) sni = true;
    if (!sorted || (type !== EXT_SERVER_NAME && type !== EXT_ALPN)) extensions.push(type);
  }
  if (sorted) {
    ciphers.sort(byValue);
    extensions.sort(byValue);
  }
  const signatures = withoutGrease(hello.signatureAlgorithms);

  const a = 't' + versionCode(hello) + (sni ? 'd' : 'i') + count(ciphers.length) + count(extensionCount) + alpnCode(hello.alpn[0]);
  let extensionList = hexList(extensions);
  if (extensionList && signatures.length > 0) extensionList += `_${hexList(signatures)}`;
  return { a, ciphers: hexList(ciphers), extensions: extensionList };
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

function withoutGrease(values: readonly number[]): number[] {
  const kept: number[] = [];
  for (const value of values) if (!isGrease(value)) kept.push(value);
  return kept;
}

function byValue(x: number, y: number): number {
  return x - y;
}

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexList(values: readonly number[]): string {
  let text = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    text += (i ? ',' : '') + BYTE_HEX[value >> 8]! + BYTE_HEX[value & 0xff]!;
  }
  return text;
}

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per fingerprint.
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

function hash12(text: string): string {
  return text ? sha256Hex(text).slice(0, 12) : EMPTY_HASH;
}
