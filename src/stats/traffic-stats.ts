import { randomBytes } from 'node:crypto';
import type { ClientHelloOutcome, HandshakeFailureReason, OfferedTls, TlsProtocol } from '../types.js';
import { StatsCounter } from './counter.js';
import type { PassThroughOutcome } from './labels.js';
import { emptyState, type StatsState } from './model.js';
import { resolveTrafficStatsOptions, type ResolvedStatsOptions, type TrafficStatsOptions } from './options.js';
import { fromDocument } from './serialize.js';
import { FileStore } from './stores/file.js';
import { MemoryStore } from './stores/memory.js';
import type { StatsStore } from './stores/store.js';
import { TrafficSummary } from './summary.js';
import type { RequestRecord, SitesPlan, StatsRecorder, StatsSource, StorageStatus } from './types.js';

export type { InstanceStatus, RequestRecord, SiteLabels, SitesPlan, PlannedSite, StatsRecorder, StatsSource, StorageStatus } from './types.js';

/**
 * The numbers: every request the middleware sees, every handshake the server completes or loses.
 * Counting happens in memory on the request path (a `StatsCounter`); every `flushInterval`, and on
 * `close()`, what was counted goes to the store (`store`, else the `statsFile`, else memory), which
 * keeps it across restarts. The request path never waits for the store.
 */
export class TrafficStats implements StatsSource, StatsRecorder {
  /**
   * Settles once the store has been read (the file read, or found missing, or moved aside as corrupt).
   * Rejects when this process may never write the store (a `StatsFileLockedError`: another process
   * holds the file); awaiting it is optional, the refusal is logged either way.
   */
  readonly ready: Promise<void>;
  /** The store's open, settled either way: flushes wait for it. */
  private readonly opened: Promise<void>;
  private readonly options: ResolvedStatsOptions;
  private readonly counter: StatsCounter;
  private readonly store: StatsStore;
  private readonly summary: TrafficSummary;
  private salt: Buffer = randomBytes(32);
  /** What a store that answers asynchronously (a fleet's) last said; refreshed before each report. */
  private view: StatsState | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private summaryTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private plan: SitesPlan | undefined;

  constructor(options: TrafficStatsOptions = {}) {
    this.options = resolveTrafficStatsOptions(options);
    const { statsFile, logger, now } = this.options;
    this.store = this.options.store ?? (statsFile === undefined ? new MemoryStore() : new FileStore(statsFile));
    this.counter = new StatsCounter(this.salt, now);
    this.summary = new TrafficSummary(logger, now);
    const context = { salt: this.salt, now, retentionDays: this.options.retentionDays, warn: (message: string) => this.warn(message), adoptSalt: (salt: Buffer) => this.useSalt(salt) };
    this.ready = this.store.open(context).then((salt) => {
      if (!salt.equals(this.salt)) this.useSalt(salt);
    });
    this.opened = this.ready.catch(() => undefined);
    this.flushTimer = setInterval(() => void this.flush(), this.options.flushInterval);
    this.flushTimer.unref();
    if (this.options.summaryInterval > 0 && logger) {
      this.summaryTimer = setInterval(() => this.summary.log(), this.options.summaryInterval);
      this.summaryTimer.unref();
    }
  }

  recordRequest(record: RequestRecord): void {
    const labels = this.counter.recordRequest(record);
    this.summary.count(record.verdict.legacy, labels.client);
  }

  recordHandshake(protocol: TlsProtocol | null, resumed: boolean): void {
    this.counter.recordHandshake(protocol, resumed);
  }

  recordHandshakeFailure(reason: HandshakeFailureReason, offered?: OfferedTls | null): void {
    this.counter.recordHandshakeFailure(reason, offered);
  }

  /** One connection of the built-in pass-through: relayed, terminated here, or reset (existing server down). */
  recordPassThrough(outcome: PassThroughOutcome): void {
    this.counter.recordPassThrough(outcome);
  }

  /** One connection of the ClientHello census (see `clientHelloCensus`). */
  recordClientHello(outcome: ClientHelloOutcome): void {
    this.counter.recordClientHello(outcome);
  }

  /** A 502/504 the proxy answered because the upstream failed or was too slow. */
  recordUpstreamError(status: 502 | 504): void {
    this.counter.recordUpstreamError(status);
  }

  /** The numbers as the report shows them: the store's, with everything counted here. Treat as read-only. */
  snapshot(): StatsState {
    this.store.add(this.counter.drain());
    const read = this.store.read();
    if (!(read instanceof Promise)) return read;
    void read.then((state) => (this.view = state), () => undefined);
    return this.view ?? emptyState();
  }

  /** Brings `snapshot()` up to date with a store that answers asynchronously (a fleet's). */
  async refresh(): Promise<void> {
    this.store.add(this.counter.drain());
    const read = this.store.read();
    if (read instanceof Promise) this.view = await read;
  }

  now(): number {
    return this.options.now();
  }

  storageStatus(): StorageStatus {
    return this.store.status();
  }

  /** The middleware's switch-off plan (its dates and modes), for the report. */
  useSitesPlan(plan: SitesPlan): void {
    this.plan = plan;
  }

  sitesPlan(): SitesPlan | undefined {
    return this.plan;
  }

  /** Adds numbers counted elsewhere (a cluster worker's, in the stats document form). */
  mergeDelta(document: unknown): void {
    this.store.add(fromDocument(document).state);
  }

  /** Adopts a salt shared by a cluster or a fleet, so one visitor on two processes is still one visitor. */
  useSalt(salt: Buffer): void {
    this.salt = Buffer.from(salt);
    this.counter.useSalt(this.salt);
  }

  get visitorSalt(): Buffer {
    return this.salt;
  }

  /** Hands what was counted to the store and writes it. Never rejects. */
  async flush(): Promise<void> {
    await this.opened;
    this.store.add(this.counter.drain());
    await this.store.flush();
  }

  /** Flushes, stops the timers and lets go of the store (the file's lock). Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.flushTimer);
      clearInterval(this.summaryTimer);
      await this.opened;
      this.store.add(this.counter.drain());
      await this.store.close();
    })();
    return this.closing;
  }

  private warn(message: string): void {
    if (this.options.logger) this.options.logger.warn(message);
    else console.warn(message);
  }
}

