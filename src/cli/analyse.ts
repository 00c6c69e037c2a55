/**
 * `legacy-tls-fallback analyse [files… | -]`: the logs a site already has, read into the live report's
 * numbers (`analyseLogs`). Its flags come from the option descriptions, as the proxy's do: the analysis'
 * own (`ANALYSE_OPTIONS`: --format, --log-format, --max-unreadable-shown, --span-days) and the command's
 * (`ANALYSE_CLI_OPTIONS`: where the output goes, --into). Exit status: 0 done, 1 an error (a stats file
 * in use), 2 a usage error (a flag, an input that cannot be opened, a format that cannot be told).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { analyseLogs, type AnalysisDocument } from '../analyse/analyse.js';
import { LogReadError } from '../analyse/errors.js';
import { ANALYSE_OPTIONS, type AnalyseOptions, type AnalyseProgress } from '../analyse/options.js';
import { basisNotes, formatSummary } from '../analyse/summary.js';
import { InvalidOptionError, StatsFileLockedError } from '../errors.js';
import { renderDashboardFile } from '../report/formats/html.js';
import { defaultText, defineOptions, type FlagEntry } from '../schema/define.js';
import { boolean, integer, string } from '../schema/option.js';
import { STATS_OPTIONS } from '../stats/options.js';
import { FileStore } from '../stats/stores/file.js';
import { PROGRAM } from './options.js';

/** What the command touches of the outside world: the part of main's `CliIo` it needs (main imports this file). */
export interface AnalyseIo {
  stdout: { write(s: string): void };
  /** `isTTY`: a terminal, where the progress line is drawn (never into a pipe or a file). */
  stderr: { write(s: string): void; isTTY?: boolean };
  cwd: string;
  /** What `-` reads. @default process.stdin */
  stdin?: AsyncIterable<Buffer | string>;
}

const checkPath = (file: string) => (file.trim() === '' || file.includes('\u0000') ? 'expected a file path' : undefined);

/** The command's own options, beside the analysis'. */
export const ANALYSE_CLI_OPTIONS = defineOptions({
  json: boolean({
    default: false,
    help: 'Print the report document (the report.json schema, with the log’s span and an `analysis` part) on stdout instead of the summary.',
    cli: { group: 'Analysis output' },
  }),
  html: string({
    maxLength: 4096,
    check: checkPath,
    help: 'Also write the dashboard to this file: self-contained (no script, no external resource), it opens from disk, with the last 24 h, 7 d, 30 d of the log and the whole log.',
    cli: { group: 'Analysis output', arg: 'FILE', path: true },
  }),
  into: string({
    maxLength: 4096,
    check: checkPath,
    help: 'Merge the counts into this stats file (the proxy’s or the middleware’s `statsFile`), so its dashboard starts with the log’s history. Refused while a live process holds the file. A log imported before (even grown or rotated since) is counted once: the file remembers what was imported.',
    cli: { group: 'Analysis output', arg: 'FILE', path: true },
  }),
  retentionDays: integer({
    default: STATS_OPTIONS.specs.retentionDays.default as number,
    min: 1,
    max: 3660,
    unit: 'days',
    help: 'With `into`: the retention of the live process that uses the stats file (its `retentionDays`); older hours are dropped.',
    cli: { group: 'Analysis output', arg: 'DAYS' },
  }),
});

/** Flags: an option's, its group and the text `--help` shows. */
interface Flag {
  name: string;
  entry: FlagEntry | null;
  owner: 'analysis' | 'cli' | 'none';
  boolean: boolean;
  help: string;
  arg: string | undefined;
  defaultText: string | undefined;
}

function fromEntry(owner: 'analysis' | 'cli') {
  return (entry: FlagEntry): Flag => ({
    name: entry.cli.flag,
    entry,
    owner,
    boolean: entry.option.type === 'boolean',
    help: entry.option.help,
    arg: entry.option.type === 'boolean' ? undefined : entry.cli.arg,
    defaultText: entry.option.type === 'boolean' ? undefined : defaultText(entry.option).replace(/^'(.*)'$/, '$1'),
  });
}

const FLAGS: readonly Flag[] = [
  ...ANALYSE_OPTIONS.flags().map(fromEntry('analysis')),
  ...ANALYSE_CLI_OPTIONS.flags().map(fromEntry('cli')),
  { name: 'help', entry: null, owner: 'none', boolean: true, help: 'Show this help and exit.', arg: undefined, defaultText: undefined },
];
const BY_NAME = new Map(FLAGS.map((flag) => [flag.name, flag]));

export class AnalyseUsageError extends Error {}

export interface ParsedAnalyse {
  help: boolean;
  inputs: string[];
  analysis: AnalyseOptions;
  json: boolean;
  html: string | undefined;
  into: string | undefined;
  retentionDays: number;
}

/** argv (after `analyse`) → what to do; throws AnalyseUsageError. Pure. */
export function parseAnalyseArgs(argv: readonly string[]): ParsedAnalyse {
  const options = Object.fromEntries(FLAGS.map((flag) => [flag.name, { type: flag.boolean ? ('boolean' as const) : ('string' as const), ...(flag.name === 'help' && { short: 'h' }) }]));
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true; strict: true; tokens: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    const unknown = /Unknown option '(--?[\w-]+)'/.exec((error as Error).message)?.[1];
    if (unknown !== undefined) {
      const hint = unknown === '--stats-file' ? ' (to merge into a stats file, use --into FILE)' : '';
      throw new AnalyseUsageError(`${PROGRAM} analyse: unknown option ${unknown}${hint}; see ${PROGRAM} analyse --help.`);
    }
    throw new AnalyseUsageError(`${PROGRAM} analyse: ${(error as Error).message}.`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (parsed.tokens.filter((t) => t.kind === 'option' && t.name === token.name).length > 1) throw new AnalyseUsageError(`${PROGRAM} analyse: --${token.name} is given more than once; give it once.`);
  }
  const help = values.help === true;
  const analysisInput: Record<string, unknown> = {};
  const cliInput: Record<string, unknown> = {};
  try {
    for (const [name, value] of Object.entries(values)) {
      const flag = BY_NAME.get(name);
      if (!flag?.entry || value === undefined) continue;
      const parsedValue = typeof value === 'string' ? flag.entry.cli.parse(value, flag.entry.path) : value;
      (flag.owner === 'analysis' ? analysisInput : cliInput)[flag.entry.path] = parsedValue;
    }
    const analysis = ANALYSE_OPTIONS.resolve(analysisInput);
    const cli = ANALYSE_CLI_OPTIONS.resolve(cliInput);
    const inputs = parsed.positionals;
    if (!help && inputs.length === 0) throw new AnalyseUsageError(`${PROGRAM} analyse: no log given; name the log files (plain or .gz), or - to read standard input, e.g. ${PROGRAM} analyse /var/log/nginx/access.log*`);
    if (!help && cli.into === undefined && values['retention-days'] !== undefined) throw new AnalyseUsageError(`${PROGRAM} analyse: --retention-days only matters with --into FILE; drop it, or add --into.`);
    return {
      help,
      inputs,
      analysis: { ...(analysis.format !== undefined && { format: analysis.format }), ...(analysis.logFormat !== undefined && { logFormat: analysis.logFormat }), unreadableSamples: analysis.unreadableSamples, spanDays: analysis.spanDays },
      json: cli.json,
      html: cli.html,
      into: cli.into,
      retentionDays: cli.retentionDays,
    };
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      const flagOf = (option: string) => `--${FLAGS.find((flag) => flag.entry?.path === option)?.name ?? option}`;
      throw new AnalyseUsageError(`${PROGRAM} analyse: ${error.describe(flagOf)}`);
    }
    throw error;
  }
}

export function analyseHelpText(): string {
  const usage = (flag: Flag) => `--${flag.name}${flag.arg === undefined ? '' : ` ${flag.arg}`}`;
  const width = Math.max(...FLAGS.map((flag) => usage(flag).length)) + 2;
  const lines = [
    `${PROGRAM} analyse: read the access logs a site already has and answer "what do I lose if I switch`,
    'TLS 1.0/1.1 off, and who is it?" with the same classification and report as the live middleware.',
    '',
    'Usage:',
    `  ${PROGRAM} analyse [options] FILE... | -`,
    '',
    'Logs: nginx and Apache (combined + protocol layouts built in, or give --log-format), nginx stream and',
    'error logs, HAProxy, Caddy, Traefik, Cloudflare, AWS ALB, CloudFront, IIS; plain or gzip; - is stdin.',
  ];
  for (const group of ['Log input', 'Analysis output'] as const) {
    lines.push('', `${group}:`);
    for (const flag of FLAGS.filter((f) => f.entry?.cli.group === group || (group === 'Analysis output' && f.entry === null))) {
      const help = flag.help.replace(/`([a-z][A-Za-z]*)`/g, (match, name: string) => {
        const other = FLAGS.find((f) => f.entry?.path === name);
        return other ? `--${other.name}` : match.replace(/`/g, '');
      });
      lines.push(`  ${usage(flag).padEnd(width)}${help.replace(/`/g, '')}${flag.defaultText && flag.defaultText !== 'none' ? ` [default: ${flag.defaultText.replace(/`/g, '')}]` : ''}`);
    }
  }
  lines.push(
    '',
    'Examples:',
    `  ${PROGRAM} analyse /var/log/nginx/access.log /var/log/nginx/access.log.*.gz`,
    `  ${PROGRAM} analyse --html report.html --json access.log > report.json`,
    `  ${PROGRAM} analyse --into .legacy-tls-fallback/stats.json /var/log/nginx/access.log*`,
    '',
    'Exit status: 0 done, 1 an error (such as a stats file in use), 2 a usage error (a flag, a log that cannot be opened or whose format cannot be told).',
    '',
  );
  return lines.join('\n');
}

function grouped(value: number): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A progress line on a terminal: bytes read of the total, lines/s. Redrawn at most 4 times a second. */
function progressLine(io: AnalyseIo, now: () => number): { update(progress: AnalyseProgress): void; clear(): void } {
  const start = now();
  let last = 0;
  let shown = false;
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MiB`;
  return {
    update(progress) {
      const t = now();
      if (t - last < 250) return;
      last = t;
      const seconds = Math.max(0.001, (t - start) / 1000);
      const rate = `${grouped(progress.lines / seconds)} lines/s`;
      let bar = '';
      if (progress.bytesTotal !== null && progress.bytesTotal > 0) {
        const fraction = Math.min(1, progress.bytesRead / progress.bytesTotal);
        const filled = Math.round(fraction * 30);
        bar = `[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${(fraction * 100).toFixed(0).padStart(3)} % ${mib(progress.bytesRead)} of ${mib(progress.bytesTotal)}`;
      } else {
        bar = `${mib(progress.bytesRead)} read`;
      }
      io.stderr.write(`\r\x1b[K${bar} · ${grouped(progress.lines)} lines · ${rate}`);
      shown = true;
    },
    clear() {
      if (shown) io.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** `analyse` as a command: resolves with the exit code. */
export async function runAnalyse(argv: readonly string[], io: AnalyseIo): Promise<number> {
  let parsed: ParsedAnalyse;
  try {
    parsed = parseAnalyseArgs(argv);
  } catch (error) {
    if (!(error instanceof AnalyseUsageError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (parsed.help) {
    io.stdout.write(analyseHelpText());
    return 0;
  }
  const inputs = parsed.inputs.map((input) => (input === '-' ? input : path.resolve(io.cwd, input)));
  const progress = io.stderr.isTTY === true ? progressLine(io, Date.now) : null;
  const into = parsed.into === undefined ? undefined : new FileStore(path.resolve(io.cwd, parsed.into));
  let report: AnalysisDocument;
  try {
    const result = await analyseLogs(inputs, {
      ...parsed.analysis,
      ...(into && { into, retentionDays: parsed.retentionDays }),
      ...(io.stdin && { stdin: io.stdin }),
      ...(progress && { onProgress: (p: AnalyseProgress) => progress.update(p) }),
    });
    report = result.report;
  } catch (error) {
    progress?.clear();
    if (error instanceof LogReadError) {
      // The messages name the input; paths are shown as the user gave them.
      io.stderr.write(`${asGiven(error.message, inputs, parsed.inputs)}\n`);
      return 2;
    }
    if (error instanceof StatsFileLockedError) {
      const who = error.holder ? `pid ${error.holder.pid} on host ${error.holder.host}, since ${error.holder.since}` : `its lock file ${error.lockFile} is being written`;
      io.stderr.write(
        `${PROGRAM} analyse: cannot import into ${parsed.into ?? error.file}: a live process holds it (${who}), and two writers would overwrite each other's counts. Stop that process, run analyse --into again, then start it: it reads the imported history. Nothing was imported (if no such process runs, delete ${error.lockFile}).\n`,
      );
      return 1;
    }
    io.stderr.write(`${PROGRAM} analyse: ${error instanceof Error ? error.message.replace(/^legacy-tls-fallback: /, '') : String(error)}\n`);
    return 1;
  }
  progress?.clear();
  // Paths in the output as the user gave them (relative stays relative).
  report.analysis.inputs.forEach((input, i) => {
    const given = parsed.inputs[i] ?? input.input;
    input.input = given;
    for (const sample of input.unreadableSamples) sample.input = given;
  });
  if (parsed.html !== undefined) {
    const file = path.resolve(io.cwd, parsed.html);
    try {
      await writeFile(file, renderDashboardFile(report, basisNotes(report.analysis)));
    } catch (error) {
      io.stderr.write(`${PROGRAM} analyse: cannot write --html ${JSON.stringify(parsed.html)} (${(error as Error).message}).\n`);
      return 1;
    }
  }
  io.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatSummary(report));
  return 0;
}

function asGiven(message: string, resolved: readonly string[], given: readonly string[]): string {
  let out = message;
  resolved.forEach((input, i) => {
    if (input !== given[i]) out = out.split(input).join(given[i] as string);
  });
  return out;
}
