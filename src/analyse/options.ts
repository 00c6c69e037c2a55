import { InvalidOptionError } from '../errors.js';
import type { UserAgentPolicyOverrides } from '../classify/policy.js';
import { FALLBACK_OPTIONS } from '../fallback/options.js';
import { defineOptions, type Resolved } from '../schema/define.js';
import { custom, fn, integer, oneOf, string } from '../schema/option.js';
import { STATS_OPTIONS } from '../stats/options.js';
import type { StatsStore } from '../stats/stores/store.js';
import type { TlsProtocol } from '../types.js';
import type { LogProgress } from './reader.js';
import { LOG_FORMAT_NAMES, type LogFormatName } from './types.js';

/** What `onProgress` is told after every batch of lines. */
export interface AnalyseProgress extends LogProgress {
  /** Index of the input being read (in the order given). */
  input: number;
}

export interface AnalyseOptions {
  /** Format family of every input; detected from each input's first lines when absent. */
  format?: LogFormatName;
  /** nginx `log_format`, Apache `LogFormat` or HAProxy `log-format` string (or a built-in layout's name, or the config line itself). */
  logFormat?: string;
  /** Unreadable lines kept as examples, per input. */
  unreadableSamples?: number;
  /** Negotiated protocols that make a request legacy (as the middleware's option). */
  legacyProtocols?: TlsProtocol[];
  /** Per-browser overrides of the minimum-version table, or `false` to ignore user agents (as the middleware's option). */
  userAgents?: UserAgentPolicyOverrides | false;
  /** Days of the log, back from its last line, counted hour by hour for the report. */
  spanDays?: number;
  /** A store to merge the counts into (a stats file's, a fleet's): opened, added to, flushed and closed. */
  into?: StatsStore;
  /** The retention of the store given as `into`: the same as the live process's. */
  retentionDays?: number;
  /** What `-` reads. */
  stdin?: AsyncIterable<Buffer | string>;
  /** Called after every batch of lines read (about every megabyte). */
  onProgress?: (progress: AnalyseProgress) => void;
}

export const ANALYSE_OPTIONS = defineOptions({
  format: oneOf<LogFormatName>(LOG_FORMAT_NAMES, {
    defaultText: 'detected from each input’s first lines',
    help: 'The log format family of every input. Without it each input’s format is told from its first lines.',
    cli: { group: 'Log input', arg: 'NAME' },
  }),
  logFormat: string({
    maxLength: 4096,
    defaultText: 'the built-in layouts (combined, combined + $ssl_protocol, main, ssl_request, httpslog…)',
    help: 'The nginx `log_format`, Apache `LogFormat` or HAProxy `log-format` the log was written with (the string, or the config line as written), or a built-in layout’s name.',
    example: `'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$ssl_protocol"'`,
    cli: { group: 'Log input', arg: 'FORMAT' },
  }),
  unreadableSamples: integer({
    default: 5,
    min: 0,
    max: 1000,
    unit: 'lines',
    help: 'Lines that cannot be read are counted; this many per input are kept to be shown, with file and line number.',
    cli: { group: 'Analysis output', flag: 'max-unreadable-shown' },
  }),
  legacyProtocols: FALLBACK_OPTIONS.specs.legacyProtocols,
  userAgents: FALLBACK_OPTIONS.specs.userAgents,
  spanDays: integer({
    default: 400,
    min: 1,
    max: 3660,
    unit: 'days',
    help: 'Days of the log, back from its last line, counted hour by hour for the report and the whole-log window; older lines count in the all-time totals only. Memory grows with it (about 150 KiB a day), not with the number of lines.',
    cli: { group: 'Analysis output', arg: 'DAYS' },
  }),
  into: custom<StatsStore | undefined>({
    type: 'StatsStore',
    help: 'A store to merge the counts into: a stats file’s, or a fleet’s. It is opened (a file locked by a live process is refused), added to, flushed and closed; logs already imported into it are counted once.',
    validate: (value, name) => {
      const store = value as Record<string, unknown> | null;
      if (['open', 'add', 'flush', 'read', 'status', 'close'].every((method) => typeof store?.[method] === 'function')) return value as StatsStore;
      throw new InvalidOptionError(name, value, 'expected a StatsStore, such as new FileStore(file)');
    },
  }),
  retentionDays: STATS_OPTIONS.specs.retentionDays,
  stdin: custom<AsyncIterable<Buffer | string> | undefined>({
    type: 'AsyncIterable<Buffer | string>',
    defaultText: '`process.stdin`',
    help: 'What the input `-` reads.',
    validate: (value, name) => {
      if (value !== null && typeof value === 'object' && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return value as AsyncIterable<Buffer | string>;
      throw new InvalidOptionError(name, value, 'expected a readable stream (anything async-iterable of Buffers or strings)');
    },
  }),
  onProgress: fn<(progress: AnalyseProgress) => void>({ type: '(progress) => void', help: 'Called after every batch of lines read (about every megabyte): bytes read of the total, lines, records.' }),
});

export type ResolvedAnalyseOptions = Resolved<typeof ANALYSE_OPTIONS.specs>;
