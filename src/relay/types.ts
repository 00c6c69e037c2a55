/** The relay's records and events, apart so that its options can name them without an import cycle. */

/** What happened to a connection, one per connection. */
export type RelayOutcome =
  /** Relayed to the existing server (the handshake may still fail there). */
  | 'relayed'
  /** Handed to `onTerminate` (the legacy-capable server here). */
  | 'terminated'
  /** Not TLS: handed to `onNotTls`, or destroyed. */
  | 'not-tls'
  /** Due to be relayed, but the existing server could not be reached: the client got a reset. */
  | 'upstream-unavailable'
  /** No complete ClientHello within `helloTimeout`: destroyed. */
  | 'hello-timeout'
  /** The client closed or reset before its ClientHello was complete (port scanners, health checks). */
  | 'hello-incomplete';

/** How a relayed connection ended. */
export type RelayEnding = 'closed' | 'client-reset' | 'upstream-reset' | 'idle-timeout';

/** The census of one connection: what the client offered and what became of it. */
export interface RelayCensusRecord {
  outcome: RelayOutcome;
  /** Highest version offered (wire number, `0x0303` = TLS 1.2); null without a complete hello. */
  maxVersion: number | null;
  /** `maxVersion` in OpenSSL's spelling (`TLSv1.2`); null without a complete hello. */
  offered: string | null;
  serverName: string | null;
  alpn: readonly string[];
  /** FoxIO's JA4 fingerprint of the hello; null without a complete hello. */
  ja4: string | null;
  /**
   * Why no hello could be used: the reader's reason for `not-tls` (`http`, `not-handshake`…) or
   * `malformed` (`extensions-length`…), or `too-large-message` / `too-large-records`.
   */
  fault: string | null;
  /** The client: the PROXY header's source when the connection came through a router, else the peer. */
  remoteAddress: string | null;
  /** Bytes received from the client (hello included); for a terminated connection, those read before the hand-over. */
  bytesFromClient: number;
  /** Bytes sent to the client (relayed connections; 0 for the others, whose answers this relay does not see). */
  bytesToClient: number;
  /** How a relayed connection ended; null for the other outcomes. */
  ending: RelayEnding | null;
}

export interface UpstreamErrorEvent {
  /** `host:port` of the existing server. */
  upstream: string;
  /** `ECONNREFUSED`, `ETIMEDOUT` (connect timeout), `EHOSTUNREACH`… */
  code: string;
  /** Connections reset because the existing server could not be reached, since the relay was created. */
  count: number;
}
