import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../fs/atomic-file.js';
import { buildReport, WINDOWS, type ReportDocument, type WindowName } from '../report/document.js';
import { renderDashboard } from '../report/formats/html.js';
import { emptyState, mergeState } from '../stats/model.js';
import { fromDocument, maxStatsFileBytes } from '../stats/serialize.js';
import type { InstanceStatus } from '../stats/types.js';
import { PROGRAM, UsageError, unreadable } from './options.js';

/** What the command touches: `runCli`'s io. */
export interface ReportIo {
  stdout: { write(s: string): void };
  stderr: { write(s: string): void };
  cwd: string;
}

const EXIT_OK = 0;
const EXIT_USAGE = 2;
/** Stats files read at most: one per server of a fleet; more is a mistake (a glob gone wrong). */
const MAX_FILES = 1000;
/** The largest file a stats file can be with the longest retention (3660 days). */
const MAX_FILE_BYTES = maxStatsFileBytes(3660);

export const REPORT_USAGE = `Usage:
  ${PROGRAM} report --merge FILE... [--html OUT.html] [--json] [--window 24h|7d|30d]

Unites the stats files of several servers (each server's --stats-file, or <state-dir>/stats.json) into
one report, offline: request and handshake counts add up; visitors unite when the files share a visitor
salt (copy one server's stats file to the others before they first start, or use --redis-url).
The report is as of the latest file's save time.

  --merge          the files to unite (at least one)
  --html OUT.html  write the dashboard to OUT.html
  --json           print the report document (as report.json) instead of the summary
  --window W       the dashboard's period: 24h (default), 7d or 30d
  -h, --help       show this help
`;

interface MergedFiles {
  report: ReportDocument;
  sharedSalt: boolean;
}

/**
 * `report --merge a.json b.json …`: one report from the stats files of several servers, for fleets
 * without Redis. Exit 0, or 2 for a usage mistake or a file that is not a stats file (named).
 */
export async function runReportCommand(argv: string[], io: ReportIo): Promise<number> {
  try {
    const options = parseReportArgs(argv);
    if (options === 'help') {
      io.stdout.write(REPORT_USAGE);
      return EXIT_OK;
    }
    const { report, sharedSalt } = await mergeFiles(options.files.map((file) => path.resolve(io.cwd, file)));
    if (options.html !== undefined) {
      const out = path.resolve(io.cwd, options.html);
      await writeFileAtomic(out, renderDashboard(report, options.window, './'), { mode: 0o644 }).catch((error: unknown) => {
        throw new UsageError(`${PROGRAM}: --html ${JSON.stringify(options.html)} cannot be written (${(error as Error).message}).`, '--html');
      });
    }
    if (options.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else io.stdout.write(summary(report, options.window, sharedSalt, options.html));
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`${error.message}\nRun ${PROGRAM} report --help for the options.\n`);
    return EXIT_USAGE;
  }
}

function parseReportArgs(argv: string[]): 'help' | { files: string[]; html: string | undefined; json: boolean; window: WindowName } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { merge: { type: 'boolean' }, html: { type: 'string' }, json: { type: 'boolean' }, window: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError(`${PROGRAM} report: ${(error as Error).message}.`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (!values.merge) throw new UsageError(`${PROGRAM} report: give --merge and the stats files to unite, e.g. ${PROGRAM} report --merge web1.json web2.json.`, 'report');
  if (positionals.length === 0) throw new UsageError(`${PROGRAM} report: --merge needs at least one stats file.`, '--merge');
  if (positionals.length > MAX_FILES) throw new UsageError(`${PROGRAM} report: ${positionals.length} files; at most ${MAX_FILES}.`, '--merge');
  const window = values.window ?? '24h';
  if (!(WINDOWS as readonly string[]).includes(window)) throw new UsageError(`${PROGRAM} report: --window ${JSON.stringify(window)}; expected one of ${WINDOWS.join(', ')}.`, '--window');
  return { files: positionals, html: values.html, json: values.json === true, window: window as WindowName };
}

/** Reads and unites the files; the first that is not a stats file stops the command, named. */
export async function mergeFiles(files: string[]): Promise<MergedFiles> {
  const state = emptyState();
  const instances: InstanceStatus[] = [];
  let salt: Buffer | undefined;
  let sharedSalt = true;
  let latest = 0;
  for (const file of files) {
    let text: string;
    try {
      const { size } = await stat(file);
      if (size > MAX_FILE_BYTES) throw new UsageError(`${PROGRAM} report: ${file} is ${size} bytes, larger than any stats file; is it one?`, file);
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw unreadable('--merge', file, error, 'a stats file');
    }
    let loaded: ReturnType<typeof fromDocument>;
    let savedAt: number;
    try {
      const json = JSON.parse(text) as { savedAt?: unknown };
      loaded = fromDocument(json);
      savedAt = typeof json.savedAt === 'string' ? Date.parse(json.savedAt) : NaN;
    } catch (error) {
      throw new UsageError(`${PROGRAM} report: ${file} is not a stats file (${(error as Error).message.slice(0, 200)}).`, file);
    }
    if (salt === undefined) salt = loaded.salt;
    else if (!salt.equals(loaded.salt)) sharedSalt = false;
    let requests = 0;
    loaded.state.totals.requests.forEach((n) => (requests += n));
    if (Number.isFinite(savedAt)) latest = Math.max(latest, savedAt);
    instances.push({ name: path.basename(file), lastSeen: Number.isFinite(savedAt) ? new Date(savedAt).toISOString() : 'unknown', requests });
    mergeState(state, loaded.state);
  }
  const now = latest || Date.now();
  const note = sharedSalt
    ? undefined
    : 'These stats files do not share a visitor salt, so a visitor seen by several servers is counted once per server: the visitor figures are an upper bound. Request and handshake counts are exact.';
  const report = buildReport(state, now, {
    store: 'merged files',
    file: null,
    lastSavedAt: latest ? new Date(latest).toISOString() : null,
    error: null,
    instances,
    ...(note !== undefined && { note }),
  });
  return { report, sharedSalt };
}

function summary(report: ReportDocument, window: WindowName, sharedSalt: boolean, html: string | undefined): string {
  const lines = [`${report.storage.instances?.length ?? 0} stats files merged, as of ${report.generatedAt}.`];
  for (const name of WINDOWS) {
    const w = report.windows[name];
    lines.push(`  ${name.padEnd(4)} ${w.requests.total} requests, ${w.requests.legacy} legacy (${(w.legacyShare * 100).toFixed(2)}%), about ${w.visitors.total} visitors (${w.visitors.legacy} on legacy clients)`);
  }
  for (const file of report.storage.instances ?? []) lines.push(`  ${file.name}: ${file.requests} requests, saved ${file.lastSeen}`);
  if (!sharedSalt) lines.push(`Note: ${report.storage.note ?? ''}`);
  if (html !== undefined) lines.push(`Dashboard (${window}) written to ${html}.`);
  return `${lines.join('\n')}\n`;
}
