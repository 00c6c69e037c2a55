import type { ClientHelloOutcome, FallbackAction, FallbackMode, HandshakeFailureReason, OfferedTls, TlsProtocol, Verdict } from '../types.js';
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
  /** The host and path group it is counted under (see `SiteLabels`); absent: no host, no group. */
  site?: SiteLabels;
}

/** Where a request went: its host (normalised, `''` for none) and path group (`''` for none). */
export interface SiteLabels {
  readonly host: string;
  readonly group: string;
}

/** One site of the switch-off plan, as configured: the global options (`name` `''`), a host or a group. */
export interface PlannedSite {
  name: string;
  mode: FallbackMode;
  /** The switch-off day (`YYYY-MM-DD`), `null` for none. */
  switchOff: string | null;
}

/** What the report needs of the middleware's configuration: the dates and modes, globally and per site. */
export interface SitesPlan {
  site: PlannedSite;
  hosts: PlannedSite[];
  groups: (PlannedSite & { prefixes: string[] })[];
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
  /** Told once by the middleware: its switch-off plan, for the report to show. */
  useSitesPlan?(plan: SitesPlan): void;
}

/** Health of the storage, shown in the report so a failing disk (or store) is visible where people look. */
export interface StorageStatus {
  /** Which store keeps the numbers: `memory`, `file`, `cluster`, `redis`. */
  store: string;
  /** The stats file, for the file store. */
  file: string | null;
  lastSavedAt: string | null;
  error: string | null;
  /** Where a shared store is (`redis://host:6379/0`, password left out) and its key prefix. */
  location?: string;
  /** This process's name in a shared store's instance table. */
  instance?: string;
  /** Every process writing to a shared store (or every file of a merged report), most recently seen first. */
  instances?: InstanceStatus[];
  /** Something the reader must know to read the numbers right (files merged without a shared salt). */
  note?: string;
}

/** One process that writes to a shared store: an owner checks here that every server reports. */
export interface InstanceStatus {
  name: string;
  /** When its last delta (or heartbeat) arrived, by the store's clock. */
  lastSeen: string;
  /** Requests it has counted (since it was first seen, within the retention). */
  requests: number;
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
  /** The switch-off plan the middleware gave (`useSitesPlan`), if any. */
  sitesPlan?(): SitesPlan | undefined;
}
