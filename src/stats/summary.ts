import type { Logger } from '../types.js';
import { describeClient } from './labels.js';

const MAX_TRACKED = 64;

/**
 * The library never logs per request. This keeps a few numbers between two summary lines and logs
 * one line per interval, plus the first sighting of each legacy client per hour: bounded either way.
 */
export class TrafficSummary {
  private requests = 0;
  private legacy = 0;
  private readonly clients = new Map<string, number>();
  private seenHour = -1;
  private readonly seen = new Set<string>();

  constructor(private readonly logger: Logger | undefined, private readonly now: () => number = Date.now) {}

  count(legacy: boolean, client: string | null): void {
    this.requests += 1;
    if (!legacy) return;
    this.legacy += 1;
    if (client === null) return;
    const count = this.clients.get(client);
    if (count === undefined && this.clients.size >= MAX_TRACKED) this.evictLightest();
    this.clients.set(client, (count ?? 0) + 1);
    this.firstSighting(client);
  }

  log(): void {
    if (!this.logger || this.requests === 0) return;
    const share = ((this.legacy / this.requests) * 100).toFixed(1);
    const top = [...this.clients].sort((a, b) => b[1] - a[1])[0];
    const topText = top ? `; top legacy client ${describeClient(top[0])} (${top[1]})` : '';
    (this.logger.info ?? this.logger.warn).call(this.logger, `legacy-tls-fallback: ${this.requests} requests, ${share}% legacy${topText}`);
    this.requests = 0;
    this.legacy = 0;
    this.clients.clear();
  }

  // Keep the heaviest, as the stats' own bounded labels do: made-up user agents must not hide real clients.
  private evictLightest(): void {
    let lightest: string | undefined;
    let min = Infinity;
    for (const [client, count] of this.clients) {
      if (count < min) [lightest, min] = [client, count];
    }
    if (lightest !== undefined) this.clients.delete(lightest);
  }

  private firstSighting(client: string): void {
    const hour = Math.floor(this.now() / 3_600_000);
    if (hour !== this.seenHour) {
      this.seenHour = hour;
      this.seen.clear();
    }
    if (this.seen.has(client) || this.seen.size >= MAX_TRACKED) return;
    this.seen.add(client);
    (this.logger?.info ?? this.logger?.warn)?.call(this.logger, `legacy-tls-fallback: first legacy client this hour: ${describeClient(client)}`);
  }
}
