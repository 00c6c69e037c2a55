import type { ClientHelloOutcome, FallbackAction, HandshakeFailureReason, OfferedTls, TlsProtocol, Verdict } from '../types.js';
import type { StatsState } from './model.js';

/** One request, as the request path hands it to the counter. */
export interface RequestRecord {
  verdict: Verdict;
  action: FallbackAction;
  /** Peer address: hashed with the user agent for the visitor estimate, never stored. */
  remoteAddress: string | undefined;
  userAgent: string | undefined;
  /** The request's connection (socket): its visitor hash is reused while address and user agent match. */
  connection?: object;
}

/** What the server, the middleware and the proxy count through. `TrafficStats` is one. */
export interface StatsRecorder {
  recordRequest(record: RequestRecord): void;
  recordHandshake(protocol: TlsProtocol | null, resumed: boolean): void;
  /** `offered`: what the failed connection's ClientHello offered, when it was read. */
  recordHandshakeFailure(reason: HandshakeFailureReason, offered?: OfferedTls | null): void;
  /**
   * One connection of the ClientHello census: what its first bytes were. Optional so that recorders
   * written before the census still type-check; `TrafficStats` counts them.
   */
  recordClientHello?(outcome: ClientHelloOutcome): void;
  recordUpstreamError(status: 502 | 504): void;
}

/** Health of the storage, shown in the report so a failing disk (or store) is visible where people look. */
export interface StorageStatus {
  /** Which store keeps the numbers: `memory`, `file`, `cluster`, `redis`. */
  store: string;
  /** The stats file, for the file store. */
  file: string | null;
  lastSavedAt: string | null;
  error: string | null;
}

/** What the report reads. `TrafficStats` is one; a cluster worker's view of the primary's stats is another. */
export interface StatsSource {
  snapshot(): StatsState;
  now(): number;
  storageStatus(): StorageStatus;
  /** Brings `snapshot()` up to date before a report is built, when the numbers live elsewhere. */
  refresh?(): Promise<void>;
  /**
   * Settles when the stored numbers have been read: a report waits for it, so that it never shows an
   * empty store for a moment after a restart. A rejection only means the numbers are in memory only.
   */
  ready?: PromiseLike<unknown>;
}
