import { StatsFileLockedError } from '../../errors.js';
import { emptyState, isEmptyState, mergeState, prune, type StatsState } from '../model.js';
import { fromDocument, maxStatsFileBytes, toDocument } from '../serialize.js';
import type { StorageStatus } from '../types.js';
import { FileTooLargeError, loadJsonFile, writeFileAtomic } from '../../fs/atomic-file.js';
import { acquireLock, type FileLock, type LockHolder } from './lock-file.js';
import type { StatsStore, StoreContext } from './store.js';

/**
 * The numbers in one JSON file (mode 0600: it holds the visitor salt), written atomically: a reader
 * sees the old or the new file, never a torn one. Memory and file size are bounded whatever the traffic.
 *
 * One writer per file: the file is locked (`<file>.lock`) before it is read. When another process, or
 * another store in this one, holds it, this store never writes it: `open` rejects with a
 * `StatsFileLockedError`, counting goes on in memory, and `status()` says why.
 */
export class FileStore implements StatsStore {
  readonly kind = 'file';
  private state: StatsState = emptyState();
  private context: StoreContext | undefined;
  private salt: Buffer | undefined;
  private dirty = false;
  private closed = false;
  private lock: FileLock | null = null;
  /** Set when another writer holds the file: from then on this store never writes it. */
  private refusal: StatsFileLockedError | null = null;
  /** Whether the file's numbers are in memory: it is read once, right after the lock is taken. */
  private loaded = false;
  private writing: Promise<void> = Promise.resolve();
  private failing: string | null = null;
  private lastSavedAt: number | null = null;
  /** Whether `open` has answered with a salt: visitors are hashed with it from then on. */
  private saltGiven = false;

  constructor(readonly file: string) {}

  async open(context: StoreContext): Promise<Buffer> {
    this.context = context;
    this.salt = context.salt;
    if (await this.holdLock()) await this.load();
    this.saltGiven = true;
    if (this.refusal) throw this.refusal;
    return this.salt;
  }

  add(delta: StatsState): void {
    if (isEmptyState(delta)) return;
    mergeState(this.state, delta);
    this.dirty = true;
  }

  /** Writes the numbers (no-op when nothing changed, after close(), or when another writer holds the file). */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const context = this.context;
      if (!context || !this.dirty || this.refusal || this.closed) return;
      // Checked before every write, not only at start: a frozen process may have lost the lock meanwhile.
      if (!(await this.holdLock())) return;
      // Locked late (the directory was not writable at start), or the first read failed for want of resources.
      if (!this.loaded) await this.load();
      if (!this.loaded) return;
      const now = context.now();
      prune(this.state, now, context.retentionDays);
      this.dirty = false;
      try {
        await writeFileAtomic(this.file, JSON.stringify(toDocument(this.state, this.salt as Buffer, now)));
        this.lastSavedAt = now;
        if (this.failing) context.warn(`legacy-tls-fallback: stats file ${this.file} is written again; nothing was lost.`);
        this.failing = null;
      } catch (error) {
        this.dirty = true;
        this.cannotWrite(error);
      }
    });
    return this.writing;
  }

  read(): StatsState {
    if (this.context) prune(this.state, this.context.now(), this.context.retentionDays);
    return this.state;
  }

  status(): StorageStatus {
    return {
      store: this.kind,
      file: this.file,
      lastSavedAt: this.lastSavedAt === null ? null : new Date(this.lastSavedAt).toISOString(),
      error: this.failing,
    };
  }

  /** Writes, then releases the lock. Not taken again by a later flush: a lock is only released here or on exit. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    const lock = this.lock;
    this.lock = null;
    await lock?.release();
  }

  /**
   * Whether this store may write the file now: it holds the lock (taken here if need be) and nobody took
   * it over. An I/O error (no directory, no permission) is reported like a failed write, and the next
   * flush tries again; a lock held by another writer is final.
   */
  private async holdLock(): Promise<boolean> {
    if (this.refusal || this.closed) return false;
    const lockFile = `${this.file}.lock`;
    if (this.lock) {
      const check = await this.lock.check();
      if (!check.ok) this.refuse(new StatsFileLockedError(this.file, lockFile, check.holder ?? null, 'taken-over'));
      return check.ok;
    }
    try {
      const attempt = await acquireLock(lockFile);
      if (attempt.status === 'held') {
        this.refuse(new StatsFileLockedError(this.file, lockFile, attempt.holder, attempt.sameProcess ? 'same-process' : 'held'));
        return false;
      }
      this.lock = attempt.lock;
      this.lock.onLost = (holder: LockHolder | null) => this.refuse(new StatsFileLockedError(this.file, lockFile, holder, 'taken-over'));
      return true;
    } catch (error) {
      this.cannotWrite(error);
      return false;
    }
  }

  private refuse(error: StatsFileLockedError): void {
    if (this.refusal) return;
    this.refusal = error;
    this.failing = error.message;
    this.context?.warn(error.message);
  }

  /** Counting goes on in memory, and the next successful write carries everything: report once. */
  private cannotWrite(error: unknown): void {
    const message = `${(error as NodeJS.ErrnoException).code ?? 'error'}: ${(error as Error).message}`;
    if (this.failing === null) this.context?.warn(`legacy-tls-fallback: cannot write the stats file ${this.file} (${message}); counting continues in memory and will be saved when writing works again.`);
    this.failing = message;
  }

  private async load(): Promise<void> {
    const context = this.context as StoreContext;
    const maxBytes = maxStatsFileBytes(context.retentionDays);
    try {
      const result = await loadJsonFile(this.file, fromDocument, { maxBytes });
      this.loaded = true;
      if (result.status === 'loaded') {
        // Deltas added while the file was being read are kept: merge, don't replace.
        const added = this.state;
        this.state = result.value.state;
        // Read late (the lock came after open): visitors are already hashed with the fresh salt, which
        // this file keeps from now on; a visitor seen before and after counts twice, once.
        if (!this.saltGiven) this.salt = result.value.salt;
        mergeState(this.state, added);
      } else if (result.status === 'corrupt') {
        const moved = result.movedTo ? `it was moved to ${result.movedTo}` : 'it could not be moved aside';
        const { error } = result;
        if (error instanceof FileTooLargeError) {
          context.warn(`legacy-tls-fallback: the stats file ${this.file} is ${mebibytes(error.size)}, more than a stats file can reach with retentionDays ${context.retentionDays} (${mebibytes(maxBytes)}); it was not read, ${moved}, and counting starts afresh.`);
        } else {
          context.warn(`legacy-tls-fallback: the stats file ${this.file} could not be read (${error.message}); ${moved} and counting starts afresh.`);
        }
        this.dirty = true;
      }
    } catch (error) {
      // Out of descriptors or memory: the file is probably fine, so it is read again before the first write.
      context.warn(`legacy-tls-fallback: the stats file ${this.file} could not be read (${(error as Error).message}); counting goes on in memory, and the file will be read again before it is written.`);
    }
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
