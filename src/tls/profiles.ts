
/** Lowest protocol a server built here may accept. TLS 1.3-only servers need nothing from this package. */
export type MinTlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';

export const MIN_TLS_VERSIONS: readonly MinTlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2'];

// Node's own default cipher list (Node 20, OpenSSL 3.0), expanded and written out in its exact order.
// Node servers honour their own cipher order, so only the same order gives a TLS 1.2/1.3 client exactly
// the cipher a default Node server would give it; `@SECLEVEL=0` below must change nothing for them.
// Left out: DHE-DSS suites (they need a DSA certificate, which nobody has any more).
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

// Forward-secret AEAD suites (and Node's SHA-2 CBC picks among them) come first.
const FORWARD_SECRET_SUITES = [
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'DHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'DHE-RSA-AES128-SHA256',
  'ECDHE-RSA-AES256-SHA384',
  'DHE-RSA-AES256-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES256-CCM8',
  'ECDHE-ECDSA-AES256-CCM',
  'DHE-RSA-AES256-CCM8',
  'DHE-RSA-AES256-CCM',
  'ECDHE-ECDSA-ARIA256-GCM-SHA384',
  'ECDHE-ARIA256-GCM-SHA384',
  'DHE-RSA-ARIA256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-CCM8',
  'ECDHE-ECDSA-AES128-CCM',
  'DHE-RSA-AES128-CCM8',
  'DHE-RSA-AES128-CCM',
  'ECDHE-ECDSA-ARIA128-GCM-SHA256',
  'ECDHE-ARIA128-GCM-SHA256',
  'DHE-RSA-ARIA128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-ECDSA-AES128-SHA256',
];

// CBC-SHA1 and static-RSA suites: all that TLS 1.0/1.1 clients speak. Plain `AES*-SHA` is the only thing
// Android 2.3 and Java 6 share with us. No 3DES or RC4: Node's OpenSSL has neither, which is why IE 6/8
// on Windows XP can never connect to any Node server.
const LEGACY_CAPABLE_SUITES = [
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'DHE-RSA-AES256-SHA',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'DHE-RSA-AES128-SHA',
  'AES256-GCM-SHA384',
  'AES256-CCM8',
  'AES256-CCM',
  'ARIA256-GCM-SHA384',
  'AES128-GCM-SHA256',
  'AES128-CCM8',
  'AES128-CCM',
  'ARIA128-GCM-SHA256',
  'AES256-SHA256',
  'AES128-SHA256',
  'AES256-SHA',
  'AES128-SHA',
];

/**
 * The cipher string for a server accepting `minVersion` and up.
 *
 * `@SECLEVEL=0` is appended only below TLS 1.2: OpenSSL 3 otherwise refuses TLS 1.0/1.1 handshakes with
 * ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM (they sign with MD5+SHA1, below security level 1). It always
 * goes with `SIGNATURE_ALGORITHMS`, which takes back what level 0 would also open at TLS 1.2.
 */
export function cipherListFor(minVersion: MinTlsVersion): string {
  const list = [...TLS13_SUITES, ...FORWARD_SECRET_SUITES, ...LEGACY_CAPABLE_SUITES];
  if (needsSecurityLevelZero(minVersion)) list.push('@SECLEVEL=0');
  return list.join(':');
}

/**
 * The signature algorithms a server with `@SECLEVEL=0` offers: OpenSSL 3.0's default list in its own order
 * (so a TLS 1.2/1.3 client is signed for exactly as by a default Node server), minus SHA-1, which level 1
 * filters out and level 0 would let a TLS 1.2 client choose, and minus DSA, which needs a DSA certificate.
 * OpenSSL applies this list from TLS 1.2 on only: TLS 1.0/1.1 sign with their fixed MD5+SHA1 (or SHA-1
 * for ECDSA) whatever it says, which is all level 0 is needed for (test/tls-server.test.ts checks both).
 */
export const SIGNATURE_ALGORITHMS = [
  'ECDSA+SHA256',
  'ECDSA+SHA384',
  'ECDSA+SHA512',
  'ed25519',
  'ed448',
  'rsa_pss_pss_sha256',
  'rsa_pss_pss_sha384',
  'rsa_pss_pss_sha512',
  'rsa_pss_rsae_sha256',
  'rsa_pss_rsae_sha384',
  'rsa_pss_rsae_sha512',
  'RSA+SHA256',
  'RSA+SHA384',
  'RSA+SHA512',
  'ECDSA+SHA224',
  'RSA+SHA224',
].join(':');

/** Whether an OpenSSL cipher string lowers the security level to 0 (ours below TLS 1.2, or a caller's). */
export function lowersSecurityLevel(ciphers: string): boolean {
  return /@SECLEVEL=0(?![0-9])/i.test(ciphers);
}

export function needsSecurityLevelZero(minVersion: MinTlsVersion): boolean {
  return minVersion === 'TLSv1' || minVersion === 'TLSv1.1';
}

