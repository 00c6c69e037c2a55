import type { StatsState } from '../model.js';
import type { StorageStatus } from '../types.js';

/** What a store is given when `TrafficStats` opens it. */
export interface StoreContext {
  /** A fresh random salt, used for visitor hashes when the store holds none yet. */
  salt: Buffer;
  /** The clock (`TrafficStats`'s `now`). */
  now: () => number;
  /** Days of hourly counts and daily sketches kept; older ones are pruned. */
  retentionDays: number;
  /** Where the store says what went wrong (once) and when it works again. */
  warn: (message: string) => void;
  /**
   * Hashes visitors with `salt` from now on: a shared store that could not be read at `open` (Redis down
   * at start) hands over the shared salt once it can.
   */
  adoptSalt?: (salt: Buffer) => void;
}

/**
 * Where the numbers are kept. `TrafficStats` counts in memory on the request path and hands the store a
 * delta every `flushInterval` (and on close); nothing on the request path ever waits for a store.
 * Built in: memory, file, a cluster worker's view of its primary, and Redis (a fleet's shared store).
 */
export interface StatsStore {
  /** What the report's storage line calls it: `memory`, `file`, `cluster`, `redis`. */
  readonly kind: string;
  /**
   * Reads what the store holds, and resolves with the visitor salt to use: the stored one, so that a
   * restart (and every process sharing the store) hashes visitors alike, or `context.salt` when there is
   * none yet. Rejects when this process may never write the store (a stats file another process
   * holds): counting then goes on in memory only, and the report says why.
   */
  open(context: StoreContext): Promise<Buffer>;
  /** Takes over a delta (what was counted since the last call). Never waits on I/O. */
  add(delta: StatsState): void;
  /** Writes what was added since the last successful write. Never rejects: failures show in `status()` and are retried. */
  flush(): Promise<void>;
  /** What the report shows: this store's numbers (a shared store: everyone's). */
  read(): StatsState | Promise<StatsState>;
  status(): StorageStatus;
  /** Flushes, and lets go of what it holds (a file's lock, a connection). */
  close(): Promise<void>;
}
