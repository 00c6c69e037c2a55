import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type https from 'node:https';
import { CertificateError, InvalidOptionError } from '../errors.js';
import { loggerOption, warnerOf } from '../schema/common.js';
import { defineOptions } from '../schema/define.js';
import { boolean, custom, integer, oneOf, string, type Option } from '../schema/option.js';
import { statsRecorderOption } from '../stats/options.js';
import type { StatsRecorder } from '../stats/types.js';
import { TLS_PROTOCOLS, type Logger, type TlsProtocol } from '../types.js';
import type { ConnectionLimits } from './connection-limiter.js';
import { cipherListFor, lowersSecurityLevel, MIN_TLS_VERSIONS, SIGNATURE_ALGORITHMS, type MinTlsVersion } from './profiles.js';

export type PemInput = string | Buffer;

/** `createLegacyTlsServer`'s options; every other `https.ServerOptions` key passes through to Node. */
export interface LegacyTlsServerOptions extends Omit<https.ServerOptions, 'minVersion' | 'cert' | 'key' | 'handshakeTimeout'> {
  /** Lowest TLS version completed. */
  minVersion?: MinTlsVersion;
  /** PEM certificate chain(s). Several, with `key` in the same order, serve RSA and ECDSA side by side. */
  cert?: PemInput | PemInput[];
  /** PEM private key(s), in the order of `cert`. */
  key?: PemInput | PemInput[];
  /** Where the one start-up warning goes (generated certificate). */
  logger?: Logger;
  /** Counts every completed and failed handshake (see `TrafficStats`). */
  stats?: StatsRecorder;
  /** Milliseconds from accept to a finished handshake. */
  handshakeTimeout?: number;
  /** Milliseconds from accept to the first byte of the ClientHello. */
  clientHelloTimeout?: number;
  /** Most connections open at once. */
  maxConnections?: number;
  /** Most unfinished handshakes from one address (an IPv6 /64) at once. */
  maxHandshakesPerAddress?: number;
  /** Read every ClientHello before the TLS layer: what each client offered (default `true`). */
  clientHelloCensus?: boolean;
}

/**
 * A full server closes an unfinished handshake for a new connection only once it is this old: real
 * handshakes take a few round trips, so one still going after a second is most likely stalled or silent.
 */
export const EVICT_AFTER_MS = 1_000;

const pem = (what: 'certificate' | 'private key'): Option<PemInput | PemInput[] | undefined> =>
  custom<PemInput | PemInput[] | undefined>({
    type: 'string | Buffer | (string | Buffer)[]',
    defaultText: what === 'certificate' ? 'a generated self-signed one for localhost' : 'the generated one',
    help:
      what === 'certificate'
        ? 'PEM certificate chain(s). Several, with `key` in the same order, serve RSA and ECDSA side by side; keep an RSA one (Android 2.3 and Java 6 know nothing else).'
        : 'PEM private key(s), one per `cert`, in the same order; checked against its certificate at start-up.',
    validate: (value, name) => {
      const items = Array.isArray(value) ? value : [value];
      items.forEach((item, i) => {
        if (typeof item !== 'string' && !Buffer.isBuffer(item)) throw new InvalidOptionError(Array.isArray(value) ? `${name}[${i}]` : name, item, 'expected PEM text as a string or Buffer');
      });
      return value as PemInput | PemInput[];
    },
  });

export const TLS_OPTIONS = defineOptions({
  minVersion: oneOf<MinTlsVersion>(MIN_TLS_VERSIONS, {
    default: 'TLSv1',
    help: 'Lowest protocol completed. `@SECLEVEL=0` is added to the cipher list only below TLSv1.2.',
    cli: { group: 'TLS', flag: 'min-tls', arg: 'VERSION' },
  }),
  cert: pem('certificate'),
  key: pem('private key'),
  ciphers: string({
    help: 'Your own OpenSSL cipher string; `@SECLEVEL=0` is appended below TLSv1.2 when it has no `@SECLEVEL`.',
    defaultText: "Node's own list, written out (see `cipherListFor`)",
    check: (value) => (value.trim() === '' ? 'expected an OpenSSL cipher string' : undefined),
  }),
  logger: loggerOption('Where the single start-up warning goes (a generated certificate).'),
  stats: statsRecorderOption('Counts every completed handshake (protocol, resumed) and every failed one (reason).'),
  handshakeTimeout: integer({
    help: "Milliseconds from accept to a finished handshake; slower connections are closed and counted as `'timeout'` (Node's own default is 120000).",
    default: 10_000,
    min: 100,
    max: 600_000,
    unit: 'milliseconds',
    cli: { group: 'Limits and timeouts', arg: 'MS' },
  }),
  clientHelloTimeout: integer({
    help: "Milliseconds from accept to the first byte of the ClientHello; silent connections are closed (`'timeout'`). At most `handshakeTimeout`.",
    default: 5_000,
    min: 100,
    max: 600_000,
    unit: 'milliseconds',
    cli: { group: 'Limits and timeouts', arg: 'MS' },
  }),
  maxConnections: integer({
    help: "Connections open at once. When full, the oldest connection in its handshake for over a second is closed (`'evicted'`) to let the new one in; otherwise the new one is refused (`'connection-limit'`).",
    defaultText: 'no limit',
    min: 1,
    max: 1_000_000,
    unit: 'connections',
    cli: { group: 'Limits and timeouts' },
  }),
  maxHandshakesPerAddress: integer({
    help: "Unfinished handshakes from one address (an IPv6 /64) at once; more are refused (`'connection-limit'`). `0`: no cap, e.g. behind a TCP load balancer that hides client addresses.",
    // A browser opens at most 6 connections to a site at once, and a real handshake lasts a few round
    // trips: 32 leave room for several browsers behind one NAT, while one peer holds at most 32 sockets.
    default: 32,
    min: 0,
    max: 1_000_000,
    unit: 'handshakes',
    also: ', or 0 for no per-address cap',
    cli: { group: 'Limits and timeouts' },
  }),
  clientHelloCensus: boolean({
    help: "Read every connection's ClientHello before the TLS layer does: the highest version offered, SNI, ALPN and JA4 of every client, also of those whose handshake fails (`offered` on `tlsFacts(req)` and on `handshakeFailure`; the report's census). `false` leaves the handshake to Node alone.",
    default: true,
  }),
});

export interface ConnectionGuardSettings {
  /** Passed to Node as its own `handshakeTimeout`: from accept to a finished handshake. */
  handshakeTimeout: number;
  /** From accept to the first byte of the ClientHello. */
  clientHelloTimeout: number;
  /** `null` when neither `maxConnections` nor `maxHandshakesPerAddress` was given: no limit. */
  limits: ConnectionLimits | null;
}

export interface ResolvedServerOptions {
  tls: https.ServerOptions;
  needsGeneratedCertificate: boolean;
  warn: (message: string) => void;
  stats: StatsRecorder | undefined;
  connections: ConnectionGuardSettings;
  census: boolean;
}

/** Validates the options once, at creation, and computes what the server needs. */
export function resolveServerOptions(options: LegacyTlsServerOptions): ResolvedServerOptions {
  const { options: o, rest } = TLS_OPTIONS.resolveWithRest(options);
  const given = options as Record<string, unknown>;
  if (rest.maxVersion !== undefined && TLS_PROTOCOLS.indexOf(rest.maxVersion as TlsProtocol) < TLS_PROTOCOLS.indexOf(o.minVersion)) {
    throw new InvalidOptionError('maxVersion', rest.maxVersion, `it must not be below {{minVersion}} '${o.minVersion}'`);
  }
  // The ClientHello is part of the handshake: its default follows a shorter handshake timeout.
  const clientHelloTimeout = given.clientHelloTimeout === undefined ? Math.min(o.clientHelloTimeout, o.handshakeTimeout) : o.clientHelloTimeout;
  if (clientHelloTimeout > o.handshakeTimeout) {
    throw new InvalidOptionError('clientHelloTimeout', clientHelloTimeout, `the ClientHello is part of the handshake, so make it at most {{handshakeTimeout}} (${o.handshakeTimeout} ms)`);
  }
  const limited = given.maxConnections !== undefined || given.maxHandshakesPerAddress !== undefined;
  const pairs = resolveCertificatePairs(o.cert, o.key, rest.passphrase as string | undefined);
  const ciphers = o.ciphers === undefined ? cipherListFor(o.minVersion) : withSecurityLevel(o.ciphers, o.minVersion);
  return {
    tls: {
      ...rest,
      minVersion: o.minVersion,
      handshakeTimeout: o.handshakeTimeout,
      ciphers,
      // Level 0 is for TLS 1.0/1.1's signatures; without this a TLS 1.2 client could sign with SHA-1.
      ...(rest.sigalgs === undefined && lowersSecurityLevel(ciphers) && { sigalgs: SIGNATURE_ALGORITHMS }),
      ...(pairs && { cert: pairs.map((p) => p.cert), key: pairs.map((p) => p.key) }),
    },
    needsGeneratedCertificate: pairs === undefined && rest.pfx === undefined && rest.SNICallback === undefined,
    warn: warnerOf(o.logger),
    stats: o.stats,
    census: o.clientHelloCensus,
    connections: {
      handshakeTimeout: o.handshakeTimeout,
      clientHelloTimeout,
      limits: limited ? { maxConnections: o.maxConnections ?? Infinity, maxHandshakesPerAddress: o.maxHandshakesPerAddress, evictAfterMs: EVICT_AFTER_MS } : null,
    },
  };
}

// A custom cipher list without @SECLEVEL=0 silently breaks every TLS 1.0/1.1 handshake on OpenSSL 3.
function withSecurityLevel(ciphers: string, minVersion: MinTlsVersion): string {
  if (minVersion === 'TLSv1.2' || /@SECLEVEL=/i.test(ciphers)) return ciphers;
  return `${ciphers}:@SECLEVEL=0`;
}

function resolveCertificatePairs(cert: PemInput | PemInput[] | undefined, key: PemInput | PemInput[] | undefined, passphrase: string | undefined): { cert: string; key: string }[] | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    const missing = cert === undefined ? 'cert' : 'key';
    throw new InvalidOptionError(missing, undefined, '{{cert}} and {{key}} go together: pass both, or neither for a generated self-signed certificate');
  }
  const certs = Array.isArray(cert) ? cert : [cert];
  const keys = Array.isArray(key) ? key : [key];
  if (certs.length === 0 || certs.length !== keys.length) {
    throw new InvalidOptionError('key', `${keys.length} key(s)`, `pass one key per certificate, in the same order (got ${certs.length} certificate(s))`);
  }
  return certs.map((c, i) => {
    const pemCert = pemText(c);
    const pemKey = pemText(keys[i] as PemInput);
    let x509: X509Certificate;
    let privateKey: KeyObject;
    try {
      x509 = new X509Certificate(pemCert);
    } catch (cause) {
      throw new CertificateError(`cert[${i}] is not a PEM certificate (${(cause as Error).message}); pass the contents of the .pem/.crt file, not its path`, { cause });
    }
    try {
      privateKey = createPrivateKey({ key: pemKey, ...(passphrase !== undefined && { passphrase }) });
    } catch (cause) {
      throw new CertificateError(`key[${i}] is not a PEM private key (${(cause as Error).message}); pass the contents of the key file, not its path`, { cause });
    }
    if (!x509.checkPrivateKey(privateKey)) {
      throw new CertificateError(`key[${i}] does not belong to cert[${i}] (subject ${x509.subject.replace(/\n/g, ', ')}); check the order of cert and key`);
    }
    return { cert: pemCert, key: pemKey };
  });
}

function pemText(value: PemInput): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}
