import { randomBytes } from 'node:crypto';
import { StatsFileLockedError } from '../errors.js';
import { resolveTrafficStatsOptions, type ResolvedStatsOptions, type TrafficStatsOptions } from './options.js';
import type { RequestRecord, StatsRecorder, StatsSource, StorageStatus } from './types.js';
import type { FallbackAction, HandshakeFailureReason, TlsProtocol, Verdict } from '../types.js';
import { FileTooLargeError, loadJsonFile, writeFileAtomic } from './atomic-file.js';
import { acquireLock, type FileLock, type LockHolder } from './lock-file.js';
import {
  emptyState,
  mergeState,
  hourStart,
  prune,
  recordHandshake,
  recordHandshakeFailure,
  recordRequest,
  recordUpstreamError,
  sampleKeys,
  type RequestLabels,
  type StatsState,
} from './model.js';
import { fromDocument, maxStatsFileBytes, toDocument, type StatsDocument } from './serialize.js';
import { SipHash24 } from './siphash.js';
import { TrafficSummary } from './summary.js';

export type { RequestRecord, StatsRecorder, StatsSource, StorageStatus } from './types.js';

const LABELS = Symbol('legacy-tls-fallback.labels');

/** Labels as cached on a verdict, with the requests counted on them but not yet in the state. */
interface CachedLabels extends RequestLabels {
  pending: number;
}

// Label sets with pending counts before they are folded anyway: bounds the list between reads.
const MAX_PENDING_LABELS = 1024;

// Enough of a user agent to tell visitors apart; the rest only costs hashing time.
const MAX_HASHED_USER_AGENT = 512;

/**
 * The numbers: every request the middleware sees, every handshake the server completes or loses.
 * Counts in memory, flushes to `statsFile` atomically every `flushInterval` and on `close()`.
 * Memory and file size are bounded whatever the traffic (see README, "Limits").
 *
 * One writer per file: the file is locked (`<statsFile>.lock`) before it is read. When another
 * process, or another TrafficStats in this one, holds it, this instance never writes it: it counts in
 * memory, logs why once, shows it in `storageStatus().error`, and `ready` rejects with a
 * `StatsFileLockedError`.
 */
export class TrafficStats implements StatsSource, StatsRecorder {
  /**
   * Settles once the stats file has been read (or found missing, or moved aside as corrupt). Rejects
   * with a `StatsFileLockedError` when another writer holds the file; not awaiting it is safe (the
   * refusal is logged either way).
   */
  readonly ready: Promise<void>;
  /** The first attempt to lock and read the file; never rejects. */
  private readonly opened: Promise<void>;
  private state: StatsState = emptyState();
  private salt: Buffer = randomBytes(32);
  private keyed = new SipHash24(this.salt);
  private readonly options: ResolvedStatsOptions;
  private readonly summary: TrafficSummary;
  private dirty = false;
  private closing: Promise<void> | undefined;
  private released = false;
  private lock: FileLock | null = null;
  /** Set when another writer holds the file: from then on this instance never writes it. */
  private refusal: StatsFileLockedError | null = null;
  /** Whether the file's numbers are in memory: it is read once, right after the lock is taken. */
  private loaded = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private summaryTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failing: string | null = null;
  private pending: CachedLabels[] = [];
  private pendingHour = 0;
  private hashes = new WeakMap<object, { address: string | undefined; userAgent: string | undefined; hash: Uint8Array; hour: number }>();
  private lastSavedAt: number | null = null;

  constructor(options: TrafficStatsOptions = {}) {
    this.options = resolveTrafficStatsOptions(options);
    this.summary = new TrafficSummary(this.options.logger);
    this.opened = this.open();
    this.ready = this.opened.then(() => {
      if (this.refusal) throw this.refusal;
    });
    // Awaiting `ready` is optional: unhandled, the rejection would end the process. open() logged it.
    this.ready.catch(() => undefined);
    if (this.options.statsFile) {
      this.flushTimer = setInterval(() => void this.flush(), this.options.flushInterval);
      this.flushTimer.unref();
    }
    if (this.options.summaryInterval > 0 && this.options.logger) {
      this.summaryTimer = setInterval(() => this.summary.log(), this.options.summaryInterval);
      this.summaryTimer.unref();
    }
  }

  recordRequest({ verdict, action, remoteAddress, userAgent, connection }: RequestRecord): void {
    const labels = this.labelsFor(verdict, action);
    const time = this.options.now();
    const hour = hourStart(time);
    const { hash, seenThisHour } = this.visitor(remoteAddress, userAgent, connection, hour);
    if (seenThisHour) this.countRepeat(labels, hour);
    else recordRequest(this.state, time, labels, hash);
    this.summary.count(verdict.legacy, labels.client);
    this.dirty = true;
  }

  /**
   * A request whose visitor is already in this hour's sketches changes nothing but counters that its
   * labels alone decide: it is counted on the (cached, per-connection) labels object and the counts
   * are folded into the state in one go, before anything reads it, when the hour turns, or after
   * MAX_PENDING_LABELS label sets. That turns five map updates a keep-alive request into one increment.
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

  // Labels and keys depend only on the verdict and the action; verdicts are reused per connection, so
  // this turns most requests' label building into a lookup.
  private labelsFor(verdict: Verdict, action: FallbackAction): CachedLabels {
    // A symbol property on the verdict, not a WeakMap: with a new verdict per request (a new user agent
    // each time), a WeakMap's ephemeron bookkeeping costs the garbage collector more than it saves.
    const holder = verdict as Verdict & { [LABELS]?: Partial<Record<FallbackAction, CachedLabels>> };
    let byAction = holder[LABELS];
    if (!byAction) {
      byAction = {};
      Object.defineProperty(holder, LABELS, { value: byAction });
    }
    const cached = byAction[action];
    if (cached) return cached;
    const { tls, client, legacy, reasons } = verdict;
    const labels: CachedLabels = {
      pending: 0,
      protocol: tls.protocol ?? 'none',
      kind: client.kind,
      legacy,
      tlsLegacy: reasons.includes('tls-version'),
      uaLegacy: reasons.includes('user-agent'),
      action,
      client: legacy ? legacyClientLabel(client.browser, client.version, client.os) : null,
      os: client.os === null ? null : osFamily(client.os),
    };
    labels.keys = sampleKeys(labels);
    byAction[action] = labels;
    return labels;
  }

  recordHandshake(protocol: TlsProtocol | null, resumed: boolean): void {
    recordHandshake(this.state, this.options.now(), protocol ?? 'none', resumed);
    this.dirty = true;
  }

  recordHandshakeFailure(reason: HandshakeFailureReason): void {
    recordHandshakeFailure(this.state, this.options.now(), reason);
    this.dirty = true;
  }

  /** A 502/504 the proxy answered because the upstream failed or was too slow. */
  recordUpstreamError(status: 502 | 504): void {
    recordUpstreamError(this.state, this.options.now(), status);
    this.dirty = true;
  }

  /** Current state, for the report. Treat as read-only. */
  snapshot(): StatsState {
    this.foldPending();
    prune(this.state, this.options.now(), this.options.retentionDays);
    return this.state;
  }

  now(): number {
    return this.options.now();
  }

  storageStatus(): StorageStatus {
    return {
      file: this.options.statsFile ?? null,
      lastSavedAt: this.lastSavedAt === null ? null : new Date(this.lastSavedAt).toISOString(),
      error: this.failing,
    };
  }

  /**
   * Hands over everything counted since the last call and starts afresh: a cluster worker sends this to
   * the primary, whose single TrafficStats (the only writer of the file) merges it with `mergeDelta`.
   */
  takeDelta(): StatsDocument {
    this.foldPending();
    const document = toDocument(this.state, this.salt, this.options.now());
    this.state = emptyState();
    this.hashes = new WeakMap();
    this.dirty = false;
    return document;
  }

  mergeDelta(document: unknown): void {
    mergeState(this.state, fromDocument(document).state);
    this.dirty = true;
  }

  /** Adopts a salt shared by a cluster, so one visitor on two workers is still one visitor. */
  useSalt(salt: Buffer): void {
    this.setSalt(Buffer.from(salt));
  }

  /** Every cached visitor hash was made with the old salt: they go too. */
  private setSalt(salt: Buffer): void {
    this.salt = salt;
    this.keyed = new SipHash24(salt);
    this.hashes = new WeakMap();
  }

  get visitorSalt(): Buffer {
    return this.salt;
  }

  /**
   * Writes the counts now (no-op without a stats file, when nothing changed, after close(), or when
   * another writer holds the file). Never rejects.
   */
  flush(): Promise<void> {
    const file = this.options.statsFile;
    if (!file) return Promise.resolve();
    this.writing = this.writing.then(async () => {
      await this.opened;
      if (!this.dirty || this.refusal) return;
      // Checked before every write, not only at start: a frozen process may have lost the lock meanwhile.
      if (!(await this.holdLock(file))) return;
      // Locked late (the directory was not writable at start), or the first read failed for want of resources.
      if (!this.loaded) await this.load(file);
      if (!this.loaded) return;
      const now = this.options.now();
      this.foldPending();
      prune(this.state, now, this.options.retentionDays);
      this.dirty = false;
      try {
        await writeFileAtomic(file, JSON.stringify(toDocument(this.state, this.salt, now)));
        this.lastSavedAt = now;
        if (this.failing) this.options.logger?.warn(`legacy-tls-fallback: stats file ${file} is written again; nothing was lost.`);
        this.failing = null;
      } catch (error) {
        this.dirty = true;
        this.cannotWrite(file, error);
      }
    });
    return this.writing;
  }

  /** Flushes, stops the timers and releases the file's lock. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.flushTimer);
      clearInterval(this.summaryTimer);
      await this.flush();
      // Not taken again by a later flush: a lock is only ever released here or on exit.
      this.released = true;
      const lock = this.lock;
      this.lock = null;
      await lock?.release();
    })();
    return this.closing;
  }

  private async open(): Promise<void> {
    const file = this.options.statsFile;
    if (!file) return;
    if (await this.holdLock(file)) await this.load(file);
  }

  /**
   * Whether this instance may write the file now: it holds the lock (taken here if need be) and nobody
   * took it over. An I/O error (no directory, no permission) is reported like a failed write, and the
   * next flush tries again; a lock held by another writer is final.
   */
  private async holdLock(file: string): Promise<boolean> {
    if (this.refusal || this.released) return false;
    const lockFile = `${file}.lock`;
    if (this.lock) {
      const check = await this.lock.check();
      if (!check.ok) this.refuse(new StatsFileLockedError(file, lockFile, check.holder ?? null, 'taken-over'));
      return check.ok;
    }
    try {
      const attempt = await acquireLock(lockFile);
      if (attempt.status === 'held') {
        this.refuse(new StatsFileLockedError(file, lockFile, attempt.holder, attempt.sameProcess ? 'same-process' : 'held'));
        return false;
      }
      this.lock = attempt.lock;
      this.lock.onLost = (holder: LockHolder | null) => this.refuse(new StatsFileLockedError(file, lockFile, holder, 'taken-over'));
      return true;
    } catch (error) {
      this.cannotWrite(file, error);
      return false;
    }
  }

  private refuse(error: StatsFileLockedError): void {
    if (this.refusal) return;
    this.refusal = error;
    this.failing = error.message;
    this.warn(error.message);
  }

  /** Counting goes on in memory, and the next successful write carries everything: report once. */
  private cannotWrite(file: string, error: unknown): void {
    const message = `${(error as NodeJS.ErrnoException).code ?? 'error'}: ${(error as Error).message}`;
    if (this.failing === null) this.warn(`legacy-tls-fallback: cannot write the stats file ${file} (${message}); counting continues in memory and will be saved when writing works again.`);
    this.failing = message;
  }

  private async load(file: string): Promise<void> {
    const maxBytes = maxStatsFileBytes(this.options.retentionDays);
    try {
      const result = await loadJsonFile(file, fromDocument, { maxBytes });
      this.loaded = true;
      if (result.status === 'loaded') {
        // Requests counted while the file was being read are kept: merge, don't replace.
        this.foldPending();
        const counted = this.state;
        this.state = result.value.state;
        this.setSalt(result.value.salt);
        mergeState(this.state, counted);
      } else if (result.status === 'corrupt') {
        const moved = result.movedTo ? `it was moved to ${result.movedTo}` : 'it could not be moved aside';
        const { error } = result;
        if (error instanceof FileTooLargeError) {
          this.warn(`legacy-tls-fallback: the stats file ${file} is ${mebibytes(error.size)}, more than a stats file can reach with retentionDays ${this.options.retentionDays} (${mebibytes(maxBytes)}); it was not read, ${moved}, and counting starts afresh.`);
        } else {
          this.warn(`legacy-tls-fallback: the stats file ${file} could not be read (${error.message}); ${moved} and counting starts afresh.`);
        }
        this.dirty = true;
      }
    } catch (error) {
      // Out of descriptors or memory: the file is probably fine, so it is read again before the first write.
      this.warn(`legacy-tls-fallback: the stats file ${file} could not be read (${(error as Error).message}); counting goes on in memory, and the file will be read again before it is written.`);
    }
  }

  /**
   * The visitor's hash, and whether it is already in this hour's sketches. One hash per connection
   * rather than per request: keep-alive requests repeat address and user agent.
   */
  private visitor(address: string | undefined, userAgent: string | undefined, connection: object | undefined, hour: number): { hash: Uint8Array; seenThisHour: boolean } {
    const cached = connection && this.hashes.get(connection);
    if (cached && cached.address === address && cached.userAgent === userAgent) {
      const seenThisHour = cached.hour === hour;
      cached.hour = hour;
      return { hash: cached.hash, seenThisHour };
    }
    const hash = this.computeVisitorHash(address, userAgent);
    if (connection) this.hashes.set(connection, { address, userAgent, hash, hour });
    return { hash, seenThisHour: false };
  }

  // SipHash-2-4 keyed by the salt (see siphash.ts for why not node:crypto). Only sketch registers are
  // ever kept, and the salt never leaves the stats file: nobody can test a guess against them.
  private computeVisitorHash(address: string | undefined, userAgent: string | undefined): Uint8Array {
    const ua = userAgent === undefined ? '' : userAgent.length > MAX_HASHED_USER_AGENT ? userAgent.slice(0, MAX_HASHED_USER_AGENT) : userAgent;
    return this.keyed.hashStrings(address ?? '', ua);
  }

  private warn(message: string): void {
    if (this.options.logger) this.options.logger.warn(message);
    else console.warn(message);
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** `IE 8|Windows XP`: family and the part of the version that matters for TLS, and the OS family. */
export function legacyClientLabel(browser: string | null, version: string | null, os: string | null): string {
  const family = printable((browser ?? 'unknown').slice(0, 48));
  return `${family} ${version === null ? '?' : printable(significantVersion(version))}|${os === null ? '?' : osFamily(os)}`;
}

// Java and Android matter to the minor version (1.7 vs 1.8, 4.3 vs 4.4); browsers to the major.
function significantVersion(version: string): string {
  const parts = version.split(/[._]/);
  const keep = parts[0] === '1' || /^[2-4]$/.test(parts[0] ?? '') ? 2 : 1;
  return parts.slice(0, keep).join('.').slice(0, 16);
}

/** `Windows XP`, `iOS 6`, `Android 4.3`, `Mac OS 10.8`: few enough values to be a label. */
function osFamily(os: string): string {
  return printable(os.slice(0, 32));
}

// Labels come from user agents and end up in the file, the report and log lines: printable ASCII only,
// which also keeps each character to at most two bytes of JSON (see maxStatsFileBytes).
function printable(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : text.replace(/[^\x20-\x7e]/g, '?');
}
