import type { HandshakeFailure } from '../tls/handshake-failure.js';
import type { HandshakeFailureReason } from '../types.js';

/** Connections the server closed itself before their handshake finished; the other failures are the clients' doing. */
export const CLOSED_BY_SERVER = ['timeout', 'evicted', 'connection-limit'] as const satisfies readonly HandshakeFailureReason[];

type ClosedReason = (typeof CLOSED_BY_SERVER)[number];

export const CLOSED_LOG_INTERVAL_MS = 60_000;

/**
 * Turns the connections the server closes (timeouts, evictions, refusals) into at most one log line a
 * minute with the counts since the previous line: a flood of silent sockets must show in the log
 * without writing one line per socket. The first closed connection after a quiet spell opens a window;
 * its end writes the line. The counts themselves are in the stats, by reason.
 */
export class ClosedConnectionLog {
  private readonly counts = new Map<ClosedReason, number>();
  private windowStart = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (message: string, fields: Record<string, number>) => void,
    private readonly intervalMs = CLOSED_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  record(failure: Pick<HandshakeFailure, 'reason'>): void {
    const reason = failure.reason as ClosedReason;
    if (!CLOSED_BY_SERVER.includes(reason)) return;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (this.timer !== undefined) return;
    this.windowStart = this.now();
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
    // A pending line never keeps a stopping process alive; `flush()` on close writes it.
    this.timer.unref();
  }

  /** Writes the pending counts now, if any (at the end of a window, and on close). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.counts.size === 0) return;
    const seconds = Math.max(1, Math.round((this.now() - this.windowStart) / 1000));
    const fields: Record<string, number> = { closed: 0, seconds };
    const parts: string[] = [];
    for (const reason of CLOSED_BY_SERVER) {
      const n = this.counts.get(reason) ?? 0;
      fields[reason] = n;
      fields.closed! += n;
      if (n > 0) parts.push(`${n} ${reason}`);
    }
    this.counts.clear();
    const total = fields.closed!;
    this.write(`${total} ${total === 1 ? 'connection' : 'connections'} closed before finishing the TLS handshake in the last ${seconds} s: ${parts.join(', ')}`, fields);
  }
}
