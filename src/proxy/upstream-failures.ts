import type { ProxyLogger } from './config.js';

/** Distinct error codes kept between two lines; the rest are summed under `other`. */
const MAX_CODES = 16;
const MAX_CODE_LENGTH = 64;

export interface UpstreamFailureCounts {
  total: number;
  byStatus: Map<string, number>;
  byCode: Map<string, number>;
}

const empty = (): UpstreamFailureCounts => ({ total: 0, byStatus: new Map(), byCode: new Map() });

/**
 * Logs the 502/504 answers the proxy makes itself because the upstream failed: never per request, at
 * most one line per `intervalMs` with the counts since the previous line, and a last one on `close()`.
 * The first failure after a quiet period opens the window; its line comes when the window ends.
 */
export class UpstreamFailureLog {
  private counts = empty();
  private windowStart = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: ProxyLogger,
    private readonly upstream: string,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  count(status: 502 | 504, code: string): void {
    const { counts } = this;
    if (counts.total === 0) {
      this.windowStart = this.now();
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
    counts.total += 1;
    add(counts.byStatus, String(status));
    const key = boundedCode(code);
    add(counts.byCode, counts.byCode.has(key) || counts.byCode.size < MAX_CODES ? key : 'other');
  }

  /** Writes the line for the counts since the last one, if there were any failures. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const counts = this.counts;
    if (counts.total === 0) return;
    this.counts = empty();
    const seconds = Math.max(1, Math.round((this.now() - this.windowStart) / 1000));
    this.logger.warn(describeFailures(counts, seconds), {
      upstream: this.upstream,
      failures: counts.total,
      byStatus: Object.fromEntries(counts.byStatus),
      byCode: Object.fromEntries(counts.byCode),
      seconds,
    });
  }

  close(): void {
    this.flush();
  }
}

/** `upstream failed: 6 requests answered 502 by the proxy itself in the last 60 s (502 ×6; ECONNREFUSED ×6)` */
export function describeFailures(counts: UpstreamFailureCounts, seconds: number): string {
  const list = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([key, n]) => `${key} ×${n}`)
      .join(', ');
  const statuses = [...counts.byStatus.keys()].sort().join('/');
  const requests = counts.total === 1 ? '1 request' : `${counts.total} requests`;
  return `upstream failed: ${requests} answered ${statuses} by the proxy itself in the last ${seconds} s (${list(counts.byStatus)}; ${list(counts.byCode)})`;
}

function add(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function boundedCode(code: string): string {
  const clean = code.replace(/[^\w.-]/g, '_');
  return clean === '' ? 'error' : clean.slice(0, MAX_CODE_LENGTH);
}
