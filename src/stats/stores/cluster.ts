import { emptyState, isEmptyState, mergeState, type StatsState } from '../model.js';
import { fromDocument, toDocument, type StatsDocument } from '../serialize.js';
import type { StorageStatus } from '../types.js';
import type { StatsStore, StoreContext } from './store.js';

/** The messages between a worker's store and its primary, over the cluster's IPC channel. */
export type ClusterStoreMessage =
  | { type: 'ltf:delta'; delta: StatsDocument }
  | { type: 'ltf:snapshot-request'; id: number }
  | { type: 'ltf:snapshot'; id: number; document: StatsDocument; storage: StorageStatus };

/** A node:cluster worker's (or the primary's view of a worker's) message channel. */
export interface ClusterChannel {
  /** `callback`: a failed send (the other side went away) is handed to it instead of an 'error' event. */
  send(message: ClusterStoreMessage, callback?: (error: Error | null) => void): unknown;
  on(event: 'message', listener: (message: { type?: unknown }) => void): unknown;
  isConnected(): boolean;
}

// A report waits this long for the primary's numbers, then shows the last it had.
const SNAPSHOT_TIMEOUT_MS = 2_000;

/**
 * A cluster worker's store: the primary keeps the numbers (one writer of the file). `flush` sends the
 * worker's deltas over IPC; `read` asks the primary for everyone's numbers, so every worker's report
 * shows all workers' traffic. The salt is the primary's, so a visitor served by two workers counts once.
 */
export class ClusterWorkerStore implements StatsStore {
  readonly kind = 'cluster';
  private pending: StatsState = emptyState();
  private pendingEmpty = true;
  private context: StoreContext | undefined;
  private last: StatsState = emptyState();
  private storage: StorageStatus = { store: this.kind, file: null, lastSavedAt: null, error: null };
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();

  constructor(private readonly channel: ClusterChannel, private salt: Buffer) {
    channel.on('message', (message) => {
      if (message.type !== 'ltf:snapshot') return;
      const { id, document, storage } = message as Extract<ClusterStoreMessage, { type: 'ltf:snapshot' }>;
      try {
        const { state, salt } = fromDocument(document);
        this.last = state;
        this.storage = storage;
        // The primary took the fleet's salt from Redis after this worker was forked (Redis was down at start).
        if (!salt.equals(this.salt)) {
          this.salt = salt;
          this.context?.adoptSalt?.(salt);
        }
      } finally {
        this.waiting.get(id)?.();
        this.waiting.delete(id);
      }
    });
  }

  async open(context: StoreContext): Promise<Buffer> {
    this.context = context;
    return this.salt;
  }

  add(delta: StatsState): void {
    if (isEmptyState(delta)) return;
    mergeState(this.pending, delta);
    this.pendingEmpty = false;
  }

  async flush(): Promise<void> {
    if (this.pendingEmpty || !this.channel.isConnected()) return;
    const delta = this.pending;
    this.pending = emptyState();
    this.pendingEmpty = true;
    this.channel.send({ type: 'ltf:delta', delta: toDocument(delta, this.salt, this.context?.now() ?? Date.now()) });
  }

  /** Sends this worker's latest counts first (the channel keeps order), so the report includes them. */
  async read(): Promise<StatsState> {
    await this.flush();
    if (!this.channel.isConnected()) return this.last;
    const id = this.nextId++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve();
      }, SNAPSHOT_TIMEOUT_MS);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.channel.send({ type: 'ltf:snapshot-request', id });
    });
    return this.last;
  }

  status(): StorageStatus {
    return this.storage;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/** What the primary side needs of its stats: a `TrafficStats`. */
export interface PrimaryStats {
  mergeDelta(document: unknown): void;
  snapshot(): StatsState;
  /** Brings `snapshot()` up to date first, when the numbers live elsewhere (Redis). */
  refresh?(): Promise<void>;
  storageStatus(): StorageStatus;
  now(): number;
  readonly visitorSalt: Buffer;
}

/**
 * The primary's side: merges a worker's deltas into its stats and answers its snapshot requests.
 * Returns false for messages that are not the store's.
 */
export function answerClusterStore(stats: PrimaryStats, channel: Pick<ClusterChannel, 'send'> & Partial<Pick<ClusterChannel, 'isConnected'>>, message: { type?: unknown }, onBadDelta: (error: Error) => void): boolean {
  if (message.type === 'ltf:delta') {
    try {
      stats.mergeDelta((message as Extract<ClusterStoreMessage, { type: 'ltf:delta' }>).delta);
    } catch (error) {
      onBadDelta(error as Error);
    }
    return true;
  }
  if (message.type === 'ltf:snapshot-request') {
    const { id } = message as Extract<ClusterStoreMessage, { type: 'ltf:snapshot-request' }>;
    const answer = () => {
      // The worker went away while Redis was read: a send now would be an 'error' event on the worker.
      if (channel.isConnected?.() === false) return;
      try {
        // The worker may go between the check above and the write (EPIPE): without a callback, that is an
        // 'error' event on the Worker, which nothing listens to, and the primary would exit.
        channel.send({ type: 'ltf:snapshot', id, document: toDocument(stats.snapshot(), stats.visitorSalt, stats.now()), storage: stats.storageStatus() }, () => undefined);
      } catch {
        // The worker went away meanwhile: nobody is waiting for the answer.
      }
    };
    // A fleet's numbers are read from Redis first; a failed read still answers with the last ones.
    if (stats.refresh) void stats.refresh().then(answer, answer);
    else answer();
    return true;
  }
  return false;
}
