import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { TlsFacts, TlsProtocol } from '../types.js';
import type { TrustedProxies } from './trusted-proxies.js';
import { offeredOf } from './census.js';
import { parentOf } from './connection-guard.js';

const NO_FACTS: TlsFacts = Object.freeze({ protocol: null, cipher: null, servername: null, source: 'none' });

/** TLS facts of the connection a request (or socket) arrived on. Plain-HTTP sockets give `source: 'none'`. */
export function tlsFacts(reqOrSocket: IncomingMessage | Socket): TlsFacts {
  const socket = isIncomingMessage(reqOrSocket) ? reqOrSocket.socket : reqOrSocket;
  if (!(socket instanceof TLSSocket) || !socket.encrypted) return NO_FACTS;
  const protocol = normaliseTlsVersion(socket.getProtocol());
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  const facts: TlsFacts = {
    protocol,
    // getCipher().version is the cipher's *minimum* protocol, never the negotiated one: use only the name.
    cipher: socket.getCipher()?.name ?? null,
    servername: typeof servername === 'string' && servername !== '' ? servername : null,
    source: 'socket',
  };
  const offered = offeredOf(parentOf(socket));
  if (offered) facts.offered = offered;
  return facts;
}

function isIncomingMessage(value: IncomingMessage | Socket): value is IncomingMessage {
  return 'headers' in value;
}

// Longest value worth reading: CloudFront's `TLSv1.3:TLS_CHACHA20_POLY1305_SHA256:sessionResumed` is 51.
const MAX_TRUSTED_HEADER_LENGTH = 128;
const MAX_TRUSTED_HEADER_VALUES = 4;

const VERSION_SPELLINGS: Record<string, TlsProtocol> = {
  tlsv1: 'TLSv1',
  'tlsv1.0': 'TLSv1',
  'tlsv1.1': 'TLSv1.1',
  'tlsv1.2': 'TLSv1.2',
  'tlsv1.3': 'TLSv1.3',
  // Some proxies and log formats drop the "v".
  tls1: 'TLSv1',
  'tls1.0': 'TLSv1',
  'tls1.1': 'TLSv1.1',
  'tls1.2': 'TLSv1.2',
  'tls1.3': 'TLSv1.3',
};

/** Any spelling a proxy or Node uses for a TLS version, or `null` for anything else (`none`, SSLv3, junk). */
export function normaliseTlsVersion(value: string | null | undefined): TlsProtocol | null {
  if (typeof value !== 'string' || value.length > MAX_TRUSTED_HEADER_LENGTH) return null;
  const key = value.trim().toLowerCase();
  // Own keys only: `constructor` or `__proto__` must not answer with Object's prototype members.
  return Object.hasOwn(VERSION_SPELLINGS, key) ? (VERSION_SPELLINGS[key] ?? null) : null;
}

/**
 * Parses one trusted header value. CloudFront's `CloudFront-Viewer-TLS` carries
 * `version:cipher:handshake`; everyone else sends just the version. `protocol: null` means the value
 * names no version we know, or several that disagree: callers treat that as legacy, never as modern.
 */
export function parseTrustedTlsHeader(value: string | readonly string[] | undefined): Pick<TlsFacts, 'protocol' | 'cipher'> {
  if (value === undefined) return { protocol: null, cipher: null };
  // Node joins repeated custom headers with ", ". Two proxies that disagree mean we know nothing, and so
  // do more values than any real chain of proxies adds: a client must not bury the real one in copies.
  const values = typeof value === 'string' ? value.split(',') : value.flatMap((v) => v.split(','));
  if (values.length > MAX_TRUSTED_HEADER_VALUES) return { protocol: null, cipher: null };
  let result: Pick<TlsFacts, 'protocol' | 'cipher'> | undefined;
  for (const one of values) {
    if (one.length > MAX_TRUSTED_HEADER_LENGTH) return { protocol: null, cipher: null };
    const [version, cipher] = one.trim().split(':');
    const parsed = { protocol: normaliseTlsVersion(version), cipher: cipher && /^[A-Za-z0-9_-]{1,64}$/.test(cipher) ? cipher : null };
    if (result && result.protocol !== parsed.protocol) return { protocol: null, cipher: null };
    result = result ?? parsed;
  }
  return result ?? { protocol: null, cipher: null };
}

export interface TlsFactsReaderOptions {
  /** Lower-case header name a TLS-terminating proxy sets to the visitor's TLS version. */
  trustedHeader?: string | undefined;
  /** Peers whose `trustedHeader` is believed. */
  trustedProxies: TrustedProxies;
  /** Told of a trusted peer's header that names no version we know (its raw value, and the peer). */
  onUnreadable?: ((value: string, peer: string | undefined) => void) | undefined;
}

/**
 * Builds the per-request facts reader once. The header is read only from a trusted peer: from anyone
 * else it is a claim an attacker can make, so it is ignored and the socket's own facts are used.
 */
export function createTlsFactsReader(options: TlsFactsReaderOptions): (req: IncomingMessage) => TlsFacts {
  const { trustedHeader, trustedProxies, onUnreadable } = options;
  if (!trustedHeader) return (req) => tlsFacts(req.socket);
  return (req) => {
    const socketFacts = tlsFacts(req.socket);
    const raw = req.headers[trustedHeader];
    if (raw === undefined || !trustedProxies.has(req.socket.remoteAddress)) return socketFacts;
    // `protocol: null` with `source: 'header'` is what classification reads as "unreadable: legacy".
    const { protocol, cipher } = parseTrustedTlsHeader(raw);
    if (protocol === null) onUnreadable?.(Array.isArray(raw) ? raw.join(', ') : String(raw), req.socket.remoteAddress);
    // What this socket's hello offered is the proxy's, not the visitor's: it does not go with the header.
    return { protocol, cipher, servername: socketFacts.servername, source: 'header' };
  };
}
