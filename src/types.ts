/** TLS protocol names as Node's `getProtocol()` and OpenSSL spell them. */
export type TlsProtocol = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export const TLS_PROTOCOLS: readonly TlsProtocol[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** What the connection told us about its TLS, before any HTTP is looked at. */
export interface TlsFacts {
  /**
   * Negotiated protocol; `null` when unknown: plain HTTP (`source: 'none'`), or a trusted header that
   * names no TLS version we know (`source: 'header'`), which classification treats as legacy.
   */
  protocol: TlsProtocol | null;
  /** OpenSSL name of the negotiated cipher, when known. */
  cipher: string | null;
  /** SNI host name the client sent, when any. */
  servername: string | null;
  /**
   * Where the facts come from: this socket, a trusted proxy's header, nowhere, or a line of a server's
   * access log (`analyse`: `protocol` is what the log says was negotiated, `null` for no TLS).
   */
  source: 'socket' | 'header' | 'none' | 'log';
  /**
   * What the client's ClientHello *offered*, read by the server's census before the TLS layer saw it;
   * absent when the hello was not read here (plain HTTP, a trusted header, a server without the census).
   */
  offered?: OfferedTls;
}

/** The highest version a ClientHello offers (`supported_versions`, else `client_version`). */
export type OfferedVersion = 'SSLv2' | 'SSLv3' | TlsProtocol;

export const OFFERED_VERSIONS: readonly OfferedVersion[] = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** What a connection's ClientHello offered. */
export interface OfferedTls {
  maxVersion: OfferedVersion;
  /** FoxIO's JA4 fingerprint of the hello (e.g. `t10d180000_...`). */
  ja4: string;
}

/**
 * What the first bytes of a connection were, one per connection: the version a ClientHello offered,
 * `not-tls` (plain HTTP, junk), `unreadable` (a TLS record that is no ClientHello the reader accepts, or
 * one over its size bounds), or `no-hello` (closed or timed out before a whole hello arrived).
 */
export type ClientHelloOutcome = OfferedVersion | 'not-tls' | 'unreadable' | 'no-hello';

export const CLIENT_HELLO_OUTCOMES: readonly ClientHelloOutcome[] = [...OFFERED_VERSIONS, 'not-tls', 'unreadable', 'no-hello'];

export type ClientKind = 'browser' | 'bot' | 'library' | 'unknown';

/** What the user agent says the client is. A hint, never the fact. */
export interface ClientInfo {
  /** Normalised family (`'IE'`, `'Chrome'`, `'Safari'`, `'Mobile Safari'`, `'Java'`…), `null` when unknown. */
  browser: string | null;
  /** Version as the client reports it (`'10.0'`, `'1.7.0_25'`), `null` when unknown. */
  version: string | null;
  /** Operating system family and version, e.g. `'Windows XP'`, `'iOS 6.1'`, `null` when unknown. */
  os: string | null;
  bot: boolean;
  kind: ClientKind;
}

/**
 * Why a client is legacy. `intercepted-or-spoofed` comes with `tls-version`: a user agent naming a
 * current browser on a connection whose ClientHello offers nothing above TLS 1.0, which no current
 * browser sends by itself (a TLS-inspecting middlebox, old antivirus, or a bot lying about itself).
 * The request gets what its other reasons decide (with the default policy, the fallback page); this
 * reason is there for the owner's answer to those people, which is about their network, not their browser.
 */
export type LegacyReason = 'tls-version' | 'user-agent' | 'intercepted-or-spoofed';

export interface Verdict {
  legacy: boolean;
  /**
   * Why the client is legacy; every reason that applies is kept. `intercepted-or-spoofed` describes the
   * connection and never makes it legacy by itself, so it may be the one reason of a request that is not.
   */
  reasons: LegacyReason[];
  tls: TlsFacts;
  client: ClientInfo;
}

export type FallbackMode = 'redirect' | 'render' | 'observe';

/**
 * What the middleware did with a request; the analytics count these. `rejected`: answered 400 because
 * its path cannot be normalised, so nothing could be decided on it. Before a switch-off date, a legacy
 * request is `warned` (served, with `Deprecation` and `Sunset` headers) or answered with the one-time
 * `interstitial`. `page`: the fallback page's own traffic (the page, its assets, its continue link),
 * counted apart from the site's.
 */
export type FallbackAction = 'redirected' | 'rendered' | 'refused' | 'observed' | 'passed' | 'excluded' | 'rejected' | 'warned' | 'interstitial' | 'page';

/**
 * Normalised reason a TLS handshake failed. The last three are connections the server closed itself:
 * no ClientHello or no finished handshake in time (`timeout`), closed to make room for a newer one at the
 * connection limit (`evicted`), or refused at the limit (`connection-limit`).
 */
export type HandshakeFailureReason = 'protocol-too-old' | 'no-shared-cipher' | 'not-tls' | 'other' | 'timeout' | 'evicted' | 'connection-limit';

/** What the package logs through: any pino-compatible logger, or `console`. */
export interface Logger {
  warn(message: string): void;
  info?(message: string): void;
}
