import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError, LegacyTlsError } from '../errors.js';
import { startProxy } from '../proxy/app.js';
import { startCluster } from '../proxy/cluster.js';
import type { ProxyConfig, ProxyLogger, RunningProxy } from '../proxy/config.js';
import { checkUpstream } from '../proxy/upstream-check.js';
import { runAnalyse } from './analyse.js';
import { startDemoSite, type DemoSite } from './demo-site.js';
import { descriptorLimitWarning } from './limits.js';
import { createLogger } from './logger.js';
import { describeOptionError, helpText, parseCliArgs, PROGRAM, REPORT_TOKEN_ENV, UsageError } from './options.js';
import { runReportCommand } from './report-command.js';
import { prepareState, type PreparedState } from './state.js';
import { contactWarning, shellWord } from './warnings.js';
import { parseRouterConfigArgs, ROUTER_CONFIG_COMMAND, routerConfigHelp, routerConfigText } from './router-config.js';

export type CliSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/** Everything the CLI touches of the outside world; `bin.ts` builds it from `process`, tests from fakes. */
export interface CliIo {
  stdout: { write(s: string): void; isTTY?: boolean };
  /** `isTTY`: a terminal, where `analyse` draws its progress line (never into a pipe or a file). */
  stderr: { write(s: string): void; isTTY?: boolean };
  /** What `analyse -` reads. @default process.stdin */
  stdin?: AsyncIterable<Buffer | string>;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Subscribes to a signal; returns the unsubscribe function. */
  onSignal(signal: CliSignal, handler: () => void): () => void;
  /**
   * Whether this process is a `--workers` worker (node:cluster runs the same command line again in each):
   * it then serves quietly, the primary prints the banner. @default cluster.isWorker
   */
  isClusterWorker?: boolean;
  /** This process's soft limit on open file descriptors, null when unknown. @default not checked */
  openFilesLimit?: () => number | null;
  /** Starts the proxy; for tests and embedding. @default startCluster with --workers above 1, else startProxy */
  start?: (config: ProxyConfig, logger: ProxyLogger) => Promise<RunningProxy>;
}

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

const HELP_HINT = `Run ${PROGRAM} --help for the options.`;

/**
 * The whole command line: parses, prepares the state dir, starts the proxy (and the demo site), prints
 * where it listens, then runs until SIGTERM/SIGINT. Resolves with the exit code: 0 after a clean stop
 * (and for --help/--version), 2 for a usage or configuration error, 1 for anything else, including a
 * proxy that gave up serving on its own (`RunningProxy.failed`).
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // Offline commands with options of their own: they start nothing of the proxy.
  if (argv[0] === 'report') return runReportCommand(argv.slice(1), io);
  if (argv[0] === 'analyse' || argv[0] === 'analyze') return runAnalyse(argv.slice(1), io);
  if (argv[0] === ROUTER_CONFIG_COMMAND) return runRouterConfig(argv.slice(1), io);
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv, io.env, (file) => readFileSync(path.resolve(io.cwd, file), 'utf8'), { isTTY: io.stdout.isTTY === true });
  } catch (error) {
    return fail(error, io, undefined);
  }
  if (parsed.command === 'help') {
    io.stdout.write(helpText());
    return EXIT_OK;
  }
  if (parsed.command === 'version') {
    io.stdout.write(`${readVersion()}\n`);
    return EXIT_OK;
  }

  const format = parsed.config.logFormat;
  const logger = createLogger(format, (line) => io.stdout.write(`${line}\n`), (line) => io.stderr.write(`${line}\n`));
  const worker = io.isClusterWorker ?? cluster.isWorker;
  let demo: DemoSite | undefined;
  let running: RunningProxy;
  let state: PreparedState;
  try {
    let settings = parsed.config;
    if (parsed.command === 'demo') {
      // With --workers, each worker runs this again and proxies to a demo site of its own.
      demo = await startDemoSite();
      settings = { ...settings, upstream: new URL(demo.url) };
      if (!worker) logger.info('demo site started', { url: demo.url });
    }
    // In a worker the primary has already generated what was missing, and hands over the certificates.
    state = await prepareState(settings, { cwd: io.cwd, readCertificates: !worker });
    if (!worker) reportCertificate(state, logger);
    const { config } = state;
    if (!worker) warnIfTooFewDescriptors(config, io, logger);
    const start = io.start ?? ((c: ProxyConfig, l: ProxyLogger) => (c.workers > 1 ? startCluster(c, l, c.workers) : startProxy(c, l)));
    running = await start(config, logger);
  } catch (error) {
    await demo?.close().catch(() => undefined);
    // A stack trace reads better as plain text than inside a pretty log line.
    return fail(error, io, format === 'json' ? logger : undefined);
  }

  const pretty = format === 'pretty';
  if (!worker) {
    announce(running, state, pretty, io, logger);
    if (parsed.command === 'demo') announceDemo(running, state, pretty, io, logger, io.env);
    else announceToken(running, state, pretty, io, logger);
    const contact = contactWarning(state.config);
    if (contact) logger.warn(contact);
    running = withUpstreamCheck(running, state.config, logger);
  }
  return untilStopped(running, state.config, demo, io, worker ? quietLogger(logger) : logger);
}

// ---------------------------------------------------------------------------------------------------

/** `router-config`: prints the router's configuration on stdout and exits; nothing is started. */
function runRouterConfig(argv: string[], io: CliIo): number {
  try {
    const command = parseRouterConfigArgs(argv);
    io.stdout.write(command.help ? routerConfigHelp() : routerConfigText(command));
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\nRun ${PROGRAM} ${ROUTER_CONFIG_COMMAND} --help for the options.\n`);
      return EXIT_USAGE;
    }
    return fail(error, io, undefined);
  }
}

function fail(error: unknown, io: CliIo, logger: ProxyLogger | undefined): number {
  const usage = usageMessage(error);
  if (usage !== undefined) {
    io.stderr.write(`${usage}\n${HELP_HINT}\n`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (logger) logger.error(`${PROGRAM} failed`, { error: error instanceof Error ? error.message : String(error), ...(error instanceof Error && { stack: error.stack }) });
  else io.stderr.write(`${PROGRAM}: ${message}\n`);
  return EXIT_ERROR;
}

/** The message for errors the user fixes in the configuration (exit code 2), or undefined. */
function usageMessage(error: unknown): string | undefined {
  if (error instanceof UsageError) return error.message;
  if (error instanceof InvalidOptionError) return describeOptionError(error);
  // The library validates again at start-up (certificates, options): same kind of mistake.
  if (error instanceof LegacyTlsError) return error.message;
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.syscall === 'listen' || e?.syscall === 'bind') {
    const where = e.address === undefined ? '' : ` on ${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port ?? ''}`;
    const why: Record<string, string> = {
      EADDRINUSE: 'the port is in use by another program',
      EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE',
      EADDRNOTAVAIL: 'the address is not one of this machine',
    };
    const reason = e.code === undefined ? undefined : why[e.code];
    if (reason) return `${PROGRAM}: cannot listen${where} (${e.code}: ${reason}); choose another address with --listen or --http-listen.`;
  }
  return undefined;
}

/** Past the descriptor limit every new client gets a reset: say so at start, not at the first flood. */
function warnIfTooFewDescriptors(config: ProxyConfig, io: CliIo, logger: ProxyLogger): void {
  const warning = descriptorLimitWarning(config.maxConnections, io.openFilesLimit?.() ?? null);
  if (warning) logger.warn(warning.message, warning.fields);
}

function reportCertificate(state: PreparedState, logger: ProxyLogger): void {
  if (state.certificate === 'given') return;
  const what = {
    generated: 'generated a self-signed certificate for localhost; it is kept and reused',
    renewed: 'the self-signed certificate was about to expire; generated a new one',
    loaded: 'using the self-signed certificate from the state dir',
  }[state.certificate];
  logger.info(`${what} (give --cert and --key for a real one)`, { certFile: state.config.certificates[0]?.certFile });
}

function announce(running: RunningProxy, state: PreparedState, pretty: boolean, io: CliIo, logger: ProxyLogger): void {
  const { urls } = running;
  const { config } = state;
  logger.info('listening', { https: urls.https, http: urls.http, report: urls.report, upstream: config.upstream.href, mode: config.mode, workers: config.workers });
  if (!pretty) return;
  io.stdout.write(
    [
      '',
      `  ${PROGRAM} is running${config.workers > 1 ? ` with ${config.workers} workers` : ''} in front of ${config.upstream.href}`,
      `  HTTPS    ${urls.https}`,
      `  HTTP     ${urls.http ?? 'off'}`,
      `  Report   ${urls.report}`,
      '  SIGHUP reloads the certificates; Ctrl-C stops.',
      '',
      '',
    ].join('\n'),
  );
}

/**
 * Warns, without holding up the start, when the upstream does not answer: otherwise the first sign is
 * a visitor's 502. The check is abandoned when the proxy stops.
 */
function withUpstreamCheck(running: RunningProxy, config: ProxyConfig, logger: ProxyLogger): RunningProxy {
  const abort = new AbortController();
  const upstream = config.upstream.href;
  void checkUpstream(config.upstream, { insecure: config.upstreamInsecure, signal: abort.signal }).then((result) => {
    if (abort.signal.aborted) return;
    if (!result.ok) {
      logger.warn(
        `the upstream ${upstream} does not answer (${result.code}: ${result.error})${result.hint ? `; ${result.hint}` : ''}. Serving anyway: legacy clients get the fallback page, the others 502 until it answers`,
        { upstream, code: result.code },
      );
    } else if (result.status >= 500) {
      logger.warn(`the upstream ${upstream} answers HEAD ${config.upstream.pathname} with ${result.status}`, { upstream, status: result.status });
    } else {
      logger.info('the upstream answers', { upstream, status: result.status });
    }
  });
  return {
    ...running,
    close(graceMs) {
      abort.abort();
      return running.close(graceMs);
    },
  };
}

/**
 * The generated report token, once, on a terminal. Never in a JSON log: logs are collected, shipped and
 * kept where the token must not be, so they say where it is stored instead.
 */
function announceToken(running: RunningProxy, state: PreparedState, pretty: boolean, io: CliIo, logger: ProxyLogger): void {
  if (state.token !== 'generated') return;
  const dashboard = running.urls.report;
  const token = state.config.reportToken;
  if (!pretty) {
    const tokenFile = state.tokenFile ?? '';
    logger.info('report token generated and stored in the token file (it is never logged); read it with the command in readToken', {
      tokenFile,
      readToken: `cat ${shellWord(tokenFile)}`,
      dashboard,
      example: `curl -k -H "Authorization: Bearer $(cat ${shellWord(tokenFile)})" ${dashboard}report.json`,
    });
    return;
  }
  io.stdout.write(
    [
      `  A report token was generated and saved to ${state.tokenFile} (shown only this once):`,
      `    ${token}`,
      `  Dashboard: ${dashboard}  (any user name, the token as password)`,
      `    curl -k -H 'Authorization: Bearer ${token}' ${dashboard}report.json`,
      '',
      '',
    ].join('\n'),
  );
}

/**
 * Copy-paste commands for the demo. On a terminal the token is shown whether generated or not (it is a
 * demo); a JSON log gets a command that reads it instead.
 */
function announceDemo(running: RunningProxy, state: PreparedState, pretty: boolean, io: CliIo, logger: ProxyLogger, env: CliIo['env']): void {
  const { urls } = running;
  const port = new URL(urls.https).port;
  const base = `https://${clientHost(urls.https)}${port === '' ? '' : `:${port}`}/`;
  const token = state.config.reportToken;
  const commands = {
    legacy: `curl -k --tlsv1.0 --tls-max 1.0 --ciphers 'DEFAULT:@SECLEVEL=0' -i ${base}`,
    modern: `curl -k --tlsv1.3 -i ${base}`,
    echo: `curl -k --tlsv1.3 ${base}api/echo`,
    report: `curl -k -H 'Authorization: Bearer ${token}' ${urls.report}report.json`,
  };
  if (!pretty) {
    // Where the token comes from, as a shell expression: the token file, the variable, or the flag's value.
    const tokenExpression =
      state.tokenFile !== undefined ? `$(cat ${shellWord(state.tokenFile)})` : env[REPORT_TOKEN_ENV] === token ? `$${REPORT_TOKEN_ENV}` : '<the --report-token you gave>';
    logger.info('demo: try these (the report token is never logged)', {
      ...commands,
      report: `curl -k -H "Authorization: Bearer ${tokenExpression}" ${urls.report}report.json`,
      dashboard: urls.report,
      ...(state.tokenFile !== undefined && { tokenFile: state.tokenFile }),
    });
    return;
  }
  io.stdout.write(
    [
      '  Try it:',
      '  # a TLS 1.0 client is sent to the fallback page (302):',
      `  ${commands.legacy}`,
      '  # a TLS 1.3 client reaches the demo site (200):',
      `  ${commands.modern}`,
      '  # the headers the demo site received through the proxy:',
      `  ${commands.echo}`,
      '',
      `  Dashboard: ${urls.report}  (any user name, the token as password)`,
      `  Report token: ${token}${state.tokenFile === undefined ? '' : ` (kept in ${state.tokenFile})`}`,
      `  ${commands.report}`,
      '',
      '',
    ].join('\n'),
  );
}

/**
 * A terminal's Ctrl-C reaches the primary and every worker: the workers stop as told but leave the
 * "stopping"/"stopped" lines to the primary. Problems are still logged.
 */
function quietLogger(logger: ProxyLogger): ProxyLogger {
  return { info: () => undefined, warn: logger.warn, error: logger.error };
}

/** `localhost` for wildcard and loopback listeners (the generated certificate's name), else the host as bound. */
function clientHost(url: string): string {
  const host = new URL(url).hostname;
  return ['0.0.0.0', '[::]', '127.0.0.1', '[::1]', 'localhost'].includes(host) ? 'localhost' : host;
}

function untilStopped(running: RunningProxy, config: ProxyConfig, demo: DemoSite | undefined, io: CliIo, logger: ProxyLogger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    let closing: Promise<void> | undefined;
    let finished = false;
    const unsubscribe: (() => void)[] = [];
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      for (const off of unsubscribe) off();
      resolve(code);
    };
    const stop = (signal: CliSignal) => {
      if (stopping) {
        // Cut, not abandoned: the stats are still saved (tsx and `npm run` may deliver one stop twice).
        logger.warn('second signal: requests in flight are cut; the counts are still saved', { signal });
        running.cut?.();
        void closing?.then(() => finish(EXIT_ERROR), () => finish(EXIT_ERROR));
        return;
      }
      stopping = true;
      logger.info('stopping', { signal, graceMs: config.timeouts.shutdownGrace });
      closing = running.close(config.timeouts.shutdownGrace);
      closing
        .then(() => demo?.close())
        .then(
          () => {
            logger.info('stopped');
            finish(EXIT_OK);
          },
          (error: unknown) => {
            logger.error('stop failed', { error: error instanceof Error ? error.message : String(error) });
            finish(EXIT_ERROR);
          },
        );
    };
    const reload = () => {
      if (stopping) return;
      running.reloadCertificates().then(
        (ok) => {
          if (ok) logger.info('SIGHUP: the certificate files were read again and are in use', { files: config.certificates.map((c) => c.certFile) });
          else logger.warn('SIGHUP: the certificate files are not usable; still serving the old ones', { files: config.certificates.map((c) => c.certFile) });
        },
        (error: unknown) => logger.error('SIGHUP: certificate reload failed; still serving the old ones', { error: error instanceof Error ? error.message : String(error) }),
      );
    };
    unsubscribe.push(
      io.onSignal('SIGTERM', () => stop('SIGTERM')),
      io.onSignal('SIGINT', () => stop('SIGINT')),
      io.onSignal('SIGHUP', reload),
    );
    // The proxy gave up on its own (and said why): stop what is left, flush, and exit 1 so that
    // systemd's Restart=on-failure starts it again.
    void running.failed?.then(() => {
      if (stopping) return;
      stopping = true;
      running
        .close(config.timeouts.shutdownGrace)
        .then(() => demo?.close())
        .catch((error: unknown) => logger.error('stop failed', { error: error instanceof Error ? error.message : String(error) }))
        .finally(() => finish(EXIT_ERROR));
    });
  });
}

/** The package version, from the package.json above this file (src/cli or dist/cli). */
export function readVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PROGRAM && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here; look one directory up
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}
