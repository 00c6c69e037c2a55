import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { loggerOption, warnerOf } from '../schema/common.js';
import { defineOptions } from '../schema/define.js';
import { assertKnownKeys } from '../schema/checks.js';
import { custom, string } from '../schema/option.js';
import { statsSourceOption } from '../stats/options.js';
import type { StatsSource } from '../stats/types.js';
import type { Logger } from '../types.js';

export interface LegacyTlsReportOptions {
  /** The numbers to show: the `TrafficStats` shared with the server and the middleware. */
  stats: StatsSource;
  /** Secret for the report (Bearer token, or Basic password). Without it only loopback clients are served. */
  token?: string;
  /** Path prefix of the report endpoints. */
  prefix?: string;
  /** prom-client registry to register the metrics in (e.g. your application's). */
  registry?: Registry;
  /** Where the start-up warning goes. */
  logger?: Logger;
  /** When a site is ready for its switch-off (see `ReadinessOptions`). */
  readiness?: Partial<ReadinessOptions>;
}

/**
 * A site is ready for the switch-off when its legacy share among browser visitors has stayed below
 * `threshold` on each of the last `days` days (today included) that had browser visitors.
 */
export interface ReadinessOptions {
  /** A fraction: 0.001 is 0.1 %. */
  threshold: number;
  days: number;
}

export const DEFAULT_READINESS: Readonly<ReadinessOptions> = Object.freeze({ threshold: 0.001, days: 14 });

/** `0.001`, or `0.1%` on the command line. */
function parseShare(text: string, name: string): unknown {
  const trimmed = text.trim();
  const percent = /^(\d{1,3}(?:\.\d{1,6})?)\s*%$/.exec(trimmed);
  if (percent) return Number(percent[1]) / 100;
  if (/^\d(?:\.\d{1,9})?$/.test(trimmed)) return Number(trimmed);
  throw new InvalidOptionError(name, text, "expected a share such as 0.001 or 0.1%");
}

function checkThreshold(value: unknown, name: string): number {
  if (typeof value === 'number' && value > 0 && value <= 1) return value;
  throw new InvalidOptionError(name, value, 'expected a share above 0 and at most 1, such as 0.001 (0.1 %)');
}

function checkDays(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 365) return value;
  throw new InvalidOptionError(name, value, 'expected a whole number of days from 1 to 365 (at most the stats retention, 90 days by default)');
}

function checkReadiness(value: unknown, name: string): ReadinessOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidOptionError(name, value, 'expected an object such as { threshold: 0.001, days: 14 }');
  const given = value as Record<string, unknown>;
  assertKnownKeys(given, ['threshold', 'days'], `${name}.`);
  return Object.freeze({
    threshold: given.threshold === undefined ? DEFAULT_READINESS.threshold : checkThreshold(given.threshold, `${name}.threshold`),
    days: given.days === undefined ? DEFAULT_READINESS.days : checkDays(given.days, `${name}.days`),
  });
}

export const MIN_REPORT_TOKEN_LENGTH = 16;

export const REPORT_OPTIONS = defineOptions({
  stats: statsSourceOption('The numbers to show: the `TrafficStats` shared with the server and the middleware.'),
  token: string({
    help: `Secret for the report (at least ${MIN_REPORT_TOKEN_LENGTH} characters): \`Authorization: Bearer <token>\`, or the password of any Basic user name. Without it only loopback clients are served.`,
    secret: true,
    maxLength: 1024,
    check: (token) => (token.length < MIN_REPORT_TOKEN_LENGTH || /\s/.test(token) ? `expected a string of ${MIN_REPORT_TOKEN_LENGTH} to 1024 characters without spaces, e.g. from \`openssl rand -hex 24\`` : undefined),
    cli: { group: 'Stats and report', flag: 'report-token', arg: 'TOKEN', env: 'LEGACY_TLS_REPORT_TOKEN' },
  }),
  prefix: string({
    default: '/_legacy-tls',
    help: 'Path prefix of the report: `PREFIX/` (dashboard), `PREFIX/report.json`, `PREFIX/metrics`, `PREFIX/health` (no token, for load balancers).',
    check: (prefix) => (/^\/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/-]*[^/]$/.test(prefix) ? undefined : "expected a path such as '/_legacy-tls' (starting with '/', not ending with '/')"),
    cli: { group: 'Stats and report', flag: 'report-prefix', arg: 'PATH' },
  }),
  registry: custom<Registry | undefined>({
    type: 'prom-client Registry',
    defaultText: 'a private one',
    help: "Registry to register the metrics in (your application's, to serve them from your own `/metrics`).",
    validate: (value, name) => {
      if (typeof (value as { metrics?: unknown } | null)?.metrics === 'function') return value as Registry;
      throw new InvalidOptionError(name, value, 'expected a prom-client Registry');
    },
  }),
  logger: loggerOption('Where the start-up warning goes (no token set).'),
  readiness: custom<ReadinessOptions>({
    type: '{ threshold: number, days: number }',
    default: DEFAULT_READINESS,
    defaultText: '{ threshold: 0.001, days: 14 }',
    help: 'When `report.json`, the dashboard and the metrics call a site (the whole site, a host, a group) ready for its switch-off: its daily legacy share among browser visitors has stayed below `threshold` (0.001 is 0.1 %) for `days` days in a row.',
    validate: checkReadiness,
    fields: {
      threshold: custom<number>({
        type: 'number',
        default: DEFAULT_READINESS.threshold,
        help: 'The legacy share among browser visitors below which a day counts as ready (0.001 or, on the command line, 0.1%).',
        validate: checkThreshold,
        arg: 'SHARE',
        parse: parseShare,
        cli: { group: 'Stats and report', flag: 'readiness-threshold' },
      }),
      days: custom<number>({
        type: 'number',
        default: DEFAULT_READINESS.days,
        help: 'Days in a row below the threshold before a site is called ready.',
        validate: checkDays,
        arg: 'N',
        parse: (text) => (/^\d{1,4}$/.test(text.trim()) ? Number(text.trim()) : text),
        cli: { group: 'Stats and report', flag: 'readiness-days' },
      }),
    },
  }),
});

export function resolveReportOptions(options: LegacyTlsReportOptions) {
  if (options === undefined) throw new InvalidOptionError('options', options, 'expected an object with at least `stats`, the TrafficStats to show');
  const { stats, token, prefix, registry, logger, readiness } = REPORT_OPTIONS.resolve(options);
  return { stats, token, prefix, registry, readiness, warn: warnerOf(logger) };
}
