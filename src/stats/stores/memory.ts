import { emptyState, mergeState, prune, type StatsState } from '../model.js';
import type { StorageStatus } from '../types.js';
import type { StatsStore, StoreContext } from './store.js';

/** Numbers in memory only, gone with the process: the store when no `statsFile` is given. */
export class MemoryStore implements StatsStore {
  readonly kind = 'memory';
  private readonly state: StatsState = emptyState();
  private context: StoreContext | undefined;

  async open(context: StoreContext): Promise<Buffer> {
    this.context = context;
    return context.salt;
  }

  add(delta: StatsState): void {
    mergeState(this.state, delta);
  }

  async flush(): Promise<void> {
    // Nothing to write.
  }

  read(): StatsState {
    if (this.context) prune(this.state, this.context.now(), this.context.retentionDays);
    return this.state;
  }

  status(): StorageStatus {
    return { store: this.kind, file: null, lastSavedAt: null, error: null };
  }

  async close(): Promise<void> {
    // Nothing held.
  }
}
