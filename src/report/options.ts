import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { loggerOption, warnerOf } from '../schema/common.js';
import { defineOptions } from '../schema/define.js';
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
});

export function resolveReportOptions(options: LegacyTlsReportOptions) {
  if (options === undefined) throw new InvalidOptionError('options', options, 'expected an object with at least `stats`, the TrafficStats to show');
  const { stats, token, prefix, registry, logger } = REPORT_OPTIONS.resolve(options);
  return { stats, token, prefix, registry, warn: warnerOf(logger) };
}
