import type { ClientHelloOutcome, FallbackAction, HandshakeFailureReason, OfferedTls, TlsProtocol, Verdict } from '../types.js';
import { clientLabel, osLabel, sampleKeys, siteCell, type PassThroughOutcome, type RequestLabels } from './labels.js';
import { emptyState, hourStart, recordClientHello, recordPassThrough, recordHandshake, recordHandshakeFailure, recordRequest, recordSite, recordUpstreamError, type StatsState } from './model.js';
import { SipHash24 } from './siphash.js';
import type { RequestRecord } from './types.js';

/** Labels as cached for a connection, with the requests counted on them but not yet in the state. */
export interface CachedLabels extends RequestLabels {
  pending: number;
}

/** What the counter keeps per connection: keep-alive requests repeat all of it. */
interface ConnectionEntry {
  address: string | undefined;
  userAgent: string | undefined;
  hash: Uint8Array;
  /** Hour in which this visitor was last put into the sketches. */
  hour: number;
  /** The verdict the labels below were built for (the engine reuses one per connection). */
  verdict: Verdict;
  labels: Partial<Record<FallbackAction, CachedLabels>>;
  /** Hour in which `sites` was started: the (host, group) pairs this browser visitor is in the sketches of. */
  siteHour: number;
  lastHost: string | undefined;
  lastGroup: string | undefined;
  sites: Set<string> | undefined;
  /** This connection's last site cell, counted by increments like the labels (see countRepeat). */
  sitePending: SitePending | undefined;
}

/** Requests of one (host, group, cell) in one hour, not yet in the state. */
interface SitePending {
  host: string;
  group: string;
  cell: number;
  hour: number;
  count: number;
}

// Label sets with pending counts before they are folded anyway: bounds the list between drains.
const MAX_PENDING_LABELS = 1024;

// (host, group) pairs remembered per connection for the site sketches.
const MAX_SITES_PER_CONNECTION = 64;

// Enough of a user agent to tell visitors apart; the rest only costs hashing time.
const MAX_HASHED_USER_AGENT = 512;

/**
 * The request path of the statistics: counts into a state of its own, in memory, and hands it over on
 * `drain()` (to a store, which keeps, merges or sends it). Nothing here waits on I/O.
 *
 * A connection's visitor hash and labels are computed once and reused while its address, user agent and
 * verdict stay the same; a request whose visitor is already in this hour's sketches is counted with one
 * increment on its cached labels, folded into the state before anything reads it.
 */
export class StatsCounter {
  private state: StatsState = emptyState();
  private keyed: SipHash24;
  private connections = new WeakMap<object, ConnectionEntry>();
  private pending: CachedLabels[] = [];
  private pendingHour = 0;
  private sitePending: SitePending[] = [];
  private sitePendingHour = 0;

  constructor(salt: Buffer, private readonly now: () => number) {
    this.keyed = new SipHash24(salt);
  }

  /** Hashes visitors with this salt from now on (a stored one, shared by a cluster or a fleet). */
  useSalt(salt: Buffer): void {
    this.keyed = new SipHash24(salt);
    // Every cached hash was made with the old salt.
    this.connections = new WeakMap();
  }

  /** Counts a request; returns its labels (the summary log reads them). */
  recordRequest({ verdict, action, remoteAddress, userAgent, connection, site }: RequestRecord): RequestLabels {
    const time = this.now();
    const hour = hourStart(time);
    let entry = connection === undefined ? undefined : this.connections.get(connection);
    if (entry === undefined || entry.address !== remoteAddress || entry.userAgent !== userAgent) {
      entry = { address: remoteAddress, userAgent, hash: this.visitorHash(remoteAddress, userAgent), hour: -1, verdict, labels: {}, siteHour: -1, lastHost: undefined, lastGroup: undefined, sites: undefined, sitePending: undefined };
      if (connection !== undefined) this.connections.set(connection, entry);
    } else if (entry.verdict !== verdict) {
      // Other labels (a trusted header that changed): the visitor goes into their sketches too.
      entry.verdict = verdict;
      entry.labels = {};
      entry.hour = -1;
      entry.siteHour = -1;
    }
    const labels = (entry.labels[action] ??= labelsOf(verdict, action));
    if (entry.hour === hour) this.countRepeat(labels, hour);
    else {
      entry.hour = hour;
      recordRequest(this.state, time, labels, entry.hash);
    }
    // The fallback page's own views are not the site's traffic (see recordRequest in model.ts).
    if (action !== 'page') this.countSite(entry, site?.host ?? '', site?.group ?? '', labels, time, hour);
    return labels;
  }

  /**
   * Counts a request for its host and group. A browser visitor goes into the sketches of each host and
   * group it is seen on, once an hour: a connection remembers its last pair, and the others in a set.
   */
  private countSite(entry: ConnectionEntry, host: string, group: string, labels: CachedLabels, time: number, hour: number): void {
    const browser = labels.kind === 'browser';
    let visitor: Uint8Array | null = null;
    if (browser) {
      if (entry.siteHour !== hour) {
        entry.siteHour = hour;
        entry.lastHost = undefined;
        entry.lastGroup = undefined;
        entry.sites = undefined;
      }
      if (entry.lastHost === undefined) {
        // The connection's first pair this hour: no set needed until it moves to another.
        visitor = entry.hash;
      } else if (entry.lastHost !== host || entry.lastGroup !== group) {
        const key = `${host}\u0000${group}`;
        entry.sites ??= new Set([`${entry.lastHost}\u0000${entry.lastGroup ?? ''}`]);
        if (!entry.sites.has(key)) {
          // Bounded: one connection's hosts and groups (a client sending a new Host per request starts over).
          if (entry.sites.size >= MAX_SITES_PER_CONNECTION) entry.sites.clear();
          entry.sites.add(key);
          visitor = entry.hash;
        }
      }
      entry.lastHost = host;
      entry.lastGroup = group;
    }
    const cell = siteCell(labels.legacy, browser);
    if (visitor !== null) {
      recordSite(this.state, time, host, group, cell, visitor, labels.legacy);
      return;
    }
    // Nothing for the sketches: one increment now, folded into the state with the labels' counts.
    let pending = entry.sitePending;
    if (pending === undefined || pending.hour !== hour || pending.cell !== cell || pending.host !== host || pending.group !== group) {
      pending = entry.sitePending = { host, group, cell, hour, count: 0 };
    }
    if (this.sitePending.length > 0 && (hour !== this.sitePendingHour || this.sitePending.length >= MAX_PENDING_LABELS)) this.foldSitePending();
    if (pending.count === 0) {
      if (this.sitePending.length === 0) this.sitePendingHour = hour;
      this.sitePending.push(pending);
    }
    pending.count += 1;
  }

  private foldSitePending(): void {
    for (const pending of this.sitePending) {
      recordSite(this.state, pending.hour, pending.host, pending.group, pending.cell, null, false, pending.count);
      pending.count = 0;
    }
    this.sitePending.length = 0;
  }

  recordHandshake(protocol: TlsProtocol | null, resumed: boolean): void {
    recordHandshake(this.state, this.now(), protocol ?? 'none', resumed);
  }

  recordHandshakeFailure(reason: HandshakeFailureReason, offered?: OfferedTls | null): void {
    recordHandshakeFailure(this.state, this.now(), reason, offered ?? null);
  }

  recordClientHello(outcome: ClientHelloOutcome): void {
    recordClientHello(this.state, this.now(), outcome);
  }

  recordPassThrough(outcome: PassThroughOutcome): void {
    recordPassThrough(this.state, this.now(), outcome);
  }

  recordUpstreamError(status: 502 | 504): void {
    recordUpstreamError(this.state, this.now(), status);
  }

  /**
   * Everything counted since the last drain; counting goes on into a new state. The visitors cached per
   * connection stay: they are in the drained sketches, which the store unites with the next ones.
   */
  drain(): StatsState {
    this.foldPending();
    this.foldSitePending();
    const drained = this.state;
    this.state = emptyState();
    return drained;
  }

  /**
   * A request whose visitor is already in this hour's sketches changes nothing but counters that its
   * labels alone decide: it is counted on the cached labels object, and the counts are folded into the
   * state in one go, on drain, when the hour turns, or after MAX_PENDING_LABELS label sets. That turns
   * five map updates a keep-alive request into one increment.
   */
  private countRepeat(labels: CachedLabels, hour: number): void {
    if (this.pending.length > 0 && (hour !== this.pendingHour || this.pending.length >= MAX_PENDING_LABELS)) this.foldPending();
    if (labels.pending === 0) {
      if (this.pending.length === 0) this.pendingHour = hour;
      this.pending.push(labels);
    }
    labels.pending += 1;
  }

  private foldPending(): void {
    for (const labels of this.pending) {
      recordRequest(this.state, this.pendingHour, labels, null, labels.pending);
      labels.pending = 0;
    }
    this.pending.length = 0;
  }

  // SipHash-2-4 keyed by the salt (see siphash.ts for why not node:crypto). Only sketch registers are
  // ever kept, and the salt never leaves the store: nobody can test a guess against them.
  private visitorHash(address: string | undefined, userAgent: string | undefined): Uint8Array {
    const ua = userAgent === undefined ? '' : userAgent.length > MAX_HASHED_USER_AGENT ? userAgent.slice(0, MAX_HASHED_USER_AGENT) : userAgent;
    return this.keyed.hashStrings(address ?? '', ua);
  }
}

/** The labels a request is counted under. Exported for `analyse`, which counts log lines under the same labels. */
export function labelsOf(verdict: Verdict, action: FallbackAction): CachedLabels {
  const { tls, client, legacy, reasons } = verdict;
  const labels: CachedLabels = {
    pending: 0,
    protocol: tls.protocol ?? 'none',
    kind: client.kind,
    legacy,
    tlsLegacy: reasons.includes('tls-version'),
    uaLegacy: reasons.includes('user-agent'),
    intercepted: reasons.includes('intercepted-or-spoofed'),
    action,
    client: legacy ? clientLabel(client.browser, client.version, client.os) : null,
    os: client.os === null ? null : osLabel(client.os),
  };
  labels.keys = sampleKeys(labels);
  return labels;
}
