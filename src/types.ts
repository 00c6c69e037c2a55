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
  /** Where the facts come from: this socket, a trusted proxy's header, or nowhere. */
  source: 'socket' | 'header' | 'none';
}

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

export type LegacyReason = 'tls-version' | 'user-agent';

export interface Verdict {
  legacy: boolean;
  /** Why the client is legacy; empty when it is not. Both reasons are kept when both apply. */
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
