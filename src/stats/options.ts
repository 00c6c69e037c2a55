import { InvalidOptionError } from '../errors.js';
import { loggerOption } from '../schema/common.js';
import { defineOptions, type Resolved } from '../schema/define.js';
import { custom, fn, integer, string, type Option } from '../schema/option.js';
import type { Logger } from '../types.js';
import type { StatsStore } from './stores/store.js';
import type { StatsRecorder, StatsSource } from './types.js';

export interface TrafficStatsOptions {
  /** JSON file the counts are kept in across restarts. Without it, counts live in memory only. */
  statsFile?: string;
  /** Milliseconds between two writes of `statsFile`: the most a crash can lose. */
  flushInterval?: number;
  /** Days of hourly counts (and daily visitor sketches) kept. */
  retentionDays?: number;
  /** pino-compatible logger for the periodic summary and storage problems. */
  logger?: Logger;
  /** Milliseconds between two summary log lines (only with a `logger`); `0` turns them off. */
  summaryInterval?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Where the numbers are kept instead of `statsFile` (a store shared by a fleet of servers). */
  store?: StatsStore;
}

export const STATS_OPTIONS = defineOptions({
  statsFile: string({
    help: 'JSON file the counts are kept in across restarts (created 0600, locked against a second writer). Without it, counts live in memory only.',
    maxLength: 4096,
    example: "'./legacy-tls-stats.json'",
    check: (file) => (file.trim() === '' || file.endsWith('/') ? "expected a file path such as './legacy-tls-stats.json'" : undefined),
    cli: { group: 'Stats and report', arg: 'FILE', path: true },
  }),
  flushInterval: integer({ help: 'Milliseconds between two writes of `statsFile`: the most a crash can lose.', default: 10_000, min: 100, max: 3_600_000, unit: 'milliseconds' }),
  retentionDays: integer({ help: 'Days of hourly counts (and daily visitor sketches) kept.', default: 90, min: 1, max: 3660, unit: 'days' }),
  logger: loggerOption('Where the periodic summary and storage problems go; without it, warnings go to `console` and no summary is logged.'),
  summaryInterval: integer({ help: 'Milliseconds between two summary log lines (only with a `logger`); `0` turns them off.', default: 300_000, min: 0, max: 86_400_000, unit: 'milliseconds', also: ', or 0 to turn summaries off' }),
  store: custom<StatsStore | undefined>({
    type: 'StatsStore',
    defaultText: 'the `statsFile`, else memory',
    help: 'Where the numbers are kept: a store shared by several servers (see docs/report.md). Excludes `statsFile`.',
    validate: (value, name) => {
      const store = value as Partial<StatsStore> | null;
      if (['open', 'add', 'flush', 'read', 'status', 'close'].every((method) => typeof (store as Record<string, unknown> | null)?.[method] === 'function')) return value as StatsStore;
      throw new InvalidOptionError(name, value, 'expected a StatsStore, such as redisStore({ url })');
    },
  }),
  now: fn<() => number>({ type: '() => number', help: 'Clock, in milliseconds since the epoch; for tests.', default: Date.now, defaultText: '`Date.now`' }),
});

export type ResolvedStatsOptions = Resolved<typeof STATS_OPTIONS.specs>;

export function resolveTrafficStatsOptions(options: TrafficStatsOptions): ResolvedStatsOptions {
  const resolved = STATS_OPTIONS.resolve(options);
  if (resolved.store !== undefined && resolved.statsFile !== undefined) {
    throw new InvalidOptionError('statsFile', resolved.statsFile, '{{statsFile}} and {{store}} exclude each other: the numbers are kept in one place; drop one');
  }
  // A summary every few milliseconds is a flood, not a summary: 0 or at least a second.
  if (resolved.summaryInterval > 0 && resolved.summaryInterval < 1000) {
    throw new InvalidOptionError('summaryInterval', resolved.summaryInterval, 'expected a whole number of milliseconds from 1000 to 86400000, or 0 to turn summaries off');
  }
  return resolved;
}

/** The `stats` option of the server and the middleware: the one `TrafficStats` they share. */
export function statsRecorderOption(help: string): Option<StatsRecorder | undefined> {
  return custom<StatsRecorder | undefined>({
    type: 'TrafficStats',
    help,
    validate: (value, name) => {
      // Duck-typed: a second copy of this package (or a test double) must work as well as an instanceof.
      const stats = value as Partial<StatsRecorder> | null;
      if (typeof stats?.recordRequest === 'function' && typeof stats.recordHandshake === 'function') return value as StatsRecorder;
      throw new InvalidOptionError(name, value, 'expected a TrafficStats instance, `new TrafficStats({ statsFile })`, shared by the server, the middleware and the report');
    },
  });
}

/** The `stats` option of the report: what it reads. */
export function statsSourceOption(help: string): Option<StatsSource> {
  return custom<StatsSource>({
    type: 'TrafficStats',
    help,
    defaultText: 'required',
    required: true,
    validate: (value, name) => {
      const stats = value as Partial<StatsSource> | null;
      if (typeof stats?.snapshot === 'function' && typeof stats.storageStatus === 'function' && typeof stats.now === 'function') return value as StatsSource;
      throw new InvalidOptionError(name, value, 'expected the TrafficStats instance shared by the server and the middleware, `new TrafficStats({ statsFile })`');
    },
  });
}
