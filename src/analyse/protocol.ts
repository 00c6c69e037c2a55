import { normaliseTlsVersion } from '../tls/facts.js';
import type { LogProtocol } from './types.js';

// Spellings seen in logs beyond the ones normaliseTlsVersion knows (keys are lower-case, spaces and
// underscores removed). Kept here rather than in tls/facts.ts: a log may say SSLv3, a trusted header may not.
const EXTRA_SPELLINGS: ReadonlyMap<string, LogProtocol> = new Map([
  ['sslv3', 'SSLv3'],
  ['sslv3.0', 'SSLv3'],
  ['ssl3', 'SSLv3'],
  ['ssl3.0', 'SSLv3'],
  ['sslv2', 'SSLv2'],
  ['sslv2.0', 'SSLv2'],
  ['ssl2', 'SSLv2'],
  ['ssl2.0', 'SSLv2'],
  ['tlsv10', 'TLSv1'],
  ['tlsv11', 'TLSv1.1'],
  ['tlsv12', 'TLSv1.2'],
  ['tlsv13', 'TLSv1.3'],
  ['tls10', 'TLSv1'],
  ['tls11', 'TLSv1.1'],
  ['tls12', 'TLSv1.2'],
  ['tls13', 'TLSv1.3'],
  // Traefik's TLSVersion is the bare number.
  ['1.0', 'TLSv1'],
  ['1.1', 'TLSv1.1'],
  ['1.2', 'TLSv1.2'],
  ['1.3', 'TLSv1.3'],
  ['3.0', 'SSLv3'],
]);

// The wire version numbers (RFC 8446 §4.2.1 and its predecessors), as Caddy logs them (769) or in hex.
const WIRE_VERSIONS: ReadonlyMap<number, LogProtocol> = new Map([
  [0x0002, 'SSLv2'],
  [0x0300, 'SSLv3'],
  [0x0301, 'TLSv1'],
  [0x0302, 'TLSv1.1'],
  [0x0303, 'TLSv1.2'],
  [0x0304, 'TLSv1.3'],
]);

// What a log writes when there was no TLS or it could not tell: a known "no", not an unreadable line.
const NO_PROTOCOL = new Set(['', '-', 'none', 'unknown', 'null', 'n/a', 'na', '0']);

/**
 * The spellings that make up almost every line of a real log (OpenSSL's), read in place from
 * `text[start, end)` by character codes, without cutting the value out. `undefined`: not one of them.
 */
export function commonSpellingAt(text: string, start: number, end: number): LogProtocol | null | undefined {
  const length = end - start;
  if (length === 0 || (length === 1 && text.charCodeAt(start) === 45)) return null;
  if ((length !== 5 && length !== 7) || !text.startsWith('TLSv1', start)) return undefined;
  if (length === 5) return 'TLSv1';
  if (text.charCodeAt(start + 5) !== 46) return undefined;
  switch (text.charCodeAt(start + 6)) {
    case 49:
      return 'TLSv1.1';
    case 50:
      return 'TLSv1.2';
    case 51:
      return 'TLSv1.3';
    default:
      return undefined;
  }
}

const MAX_PROTOCOL_LENGTH = 32;

/**
 * Any spelling of a protocol version a log uses (`TLSv1`, `TLSv1.0`, `TLS 1.0`, `tls1.0`, `TLS1_2`,
 * `0x0301`, `769`, `1.2`, `SSLv3`…) as one name; `null` for no TLS (`-`, `none`, `unknown`) and for
 * anything it does not recognise.
 */
export function normaliseLogProtocol(value: string | null | undefined): LogProtocol | null {
  if (value == null) return null;
  const common = commonSpellingAt(value, 0, value.length);
  if (common !== undefined) return common;
  if (value.length > MAX_PROTOCOL_LENGTH) return null;
  const tls = normaliseTlsVersion(value);
  if (tls !== null) return tls;
  const key = value.trim().toLowerCase().replace(/[\s_]+/g, '');
  if (NO_PROTOCOL.has(key)) return null;
  const extra = EXTRA_SPELLINGS.get(key) ?? normaliseTlsVersion(key);
  if (extra) return extra;
  return wireVersion(key);
}

function wireVersion(key: string): LogProtocol | null {
  let number: number;
  if (/^0x[0-9a-f]{1,4}$/.test(key)) number = Number.parseInt(key.slice(2), 16);
  // `0301` is hex written without its prefix (decimal 301 is no version).
  else if (/^0[0-9a-f]{3}$/.test(key)) number = Number.parseInt(key, 16);
  else if (/^[0-9]{3,5}$/.test(key)) number = Number.parseInt(key, 10);
  else return null;
  return WIRE_VERSIONS.get(number) ?? null;
}

/**
 * IIS `crypt-protocol` (the `CRYPT_PROTOCOL` server variable): Schannel's `SP_PROT_*` flag for the
 * connection, logged in hexadecimal without a prefix (`400` is `SP_PROT_TLS1_2_SERVER`). Values from
 * schannel.h as Microsoft documents them (SecPkgContext_ConnectionInfo.dwProtocol); server and client
 * flags both map, since a log line names one connection whichever side it was.
 */
const IIS_PROTOCOLS: ReadonlyMap<number, LogProtocol> = new Map([
  [0x0004, 'SSLv2'],
  [0x0008, 'SSLv2'],
  [0x0010, 'SSLv3'],
  [0x0020, 'SSLv3'],
  [0x0040, 'TLSv1'],
  [0x0080, 'TLSv1'],
  [0x0100, 'TLSv1.1'],
  [0x0200, 'TLSv1.1'],
  [0x0400, 'TLSv1.2'],
  [0x0800, 'TLSv1.2'],
  [0x1000, 'TLSv1.3'],
  [0x2000, 'TLSv1.3'],
]);

export function normaliseIisCryptProtocol(value: string | null | undefined): LogProtocol | null {
  if (value == null) return null;
  const key = value.trim().toLowerCase();
  const hex = key.startsWith('0x') ? key.slice(2) : key;
  if (!/^[0-9a-f]{1,8}$/.test(hex)) return null;
  return IIS_PROTOCOLS.get(Number.parseInt(hex, 16)) ?? null;
}

/** IIS `crypt-cipher` (`CRYPT_CIPHER_ALG_ID`): the CryptoAPI ALG_ID of the bulk cipher, hex. */
const IIS_CIPHERS: ReadonlyMap<number, string> = new Map([
  [0x6601, 'DES'],
  [0x6602, 'RC2'],
  [0x6603, '3DES'],
  [0x6609, '3DES-112'],
  [0x660e, 'AES-128'],
  [0x660f, 'AES-192'],
  [0x6610, 'AES-256'],
  [0x6611, 'AES'],
  [0x6801, 'RC4'],
]);

export function iisCipherName(value: string | null | undefined): string | null {
  if (value == null) return null;
  const key = value.trim().toLowerCase();
  const hex = key.startsWith('0x') ? key.slice(2) : key;
  if (!/^[0-9a-f]{1,8}$/.test(hex)) return null;
  return IIS_CIPHERS.get(Number.parseInt(hex, 16)) ?? `ALG_ID 0x${hex}`;
}

/**
 * Caddy logs `request.tls.cipher_suite` as the IANA number. The suites a Go server negotiates, by their
 * IANA names (crypto/tls CipherSuiteName); others are shown as hex, which is still a stable label.
 */
const CIPHER_SUITES: ReadonlyMap<number, string> = new Map([
  [0x0005, 'TLS_RSA_WITH_RC4_128_SHA'],
  [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384'],
  [0xc007, 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA'],
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA'],
  [0xc011, 'TLS_ECDHE_RSA_WITH_RC4_128_SHA'],
  [0xc012, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0x1301, 'TLS_AES_128_GCM_SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
]);

export function cipherSuiteName(value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 0xffff) return null;
  return CIPHER_SUITES.get(value) ?? `0x${value.toString(16).padStart(4, '0')}`;
}
