/**
 * The `analyse` benchmark: the log reader against GoAccess on the same generated log, in the same run.
 *
 *   npx tsx bench/analyse.ts                                  # 1 M lines (about 250 MB), 3 reader runs
 *   BENCH_ANALYSE_SCALE=10 npx tsx bench/analyse.ts           # also 10 M lines: is throughput flat?
 *   BENCH_ANALYSE_LINES=200000 BENCH_ANALYSE_RUNS=1 npx tsx bench/analyse.ts   # a quick look
 *
 * The log is nginx `combined` + `"$ssl_protocol" "$ssl_cipher"` (bench/analyse-log.ts), GoAccess reads
 * it with a log-format that has the protocol (%K) and the cipher (%k), so it fills its TLS panel. The
 * reader runs alone (no classification) in a child process compiled by tsc; its records per second,
 * CPU seconds and peak RSS are reported, and GoAccess's lines per second (wall clock and CPU, from GNU
 * time when installed). Both read the same file from the page cache: the first reader run warms it.
 * Prints a Markdown table on stdout; progress on stderr.
 */
import { mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_LOG_FORMAT, GOACCESS_LOG_FORMAT, generateLog, type GeneratedLogTruth } from './analyse-log.js';
import type { ReaderResult, ReaderSpec } from './analyse-reader.js';
import { hasCommand, installExitHandlers, onExit, REPO_DIR, runTracked } from './processes.js';
import { median, mib } from './report.js';

export interface GoAccessResult {
  lines: number;
  seconds: number;
  cpuSeconds: number | null;
  maxRss: number | null;
  byProtocol: Record<string, number>;
  version: string;
}

export interface AnalyseBenchResult {
  lines: number;
  bytes: number;
  reader: ReaderResult[];
  /** The whole command (`analyse FILE --json`): what the target is about. */
  command: ReaderResult[];
  goaccess: GoAccessResult | null;
  scaled: { lines: number; bytes: number; reader: ReaderResult[]; command: ReaderResult[] } | null;
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return value;
}

async function goaccessVersion(): Promise<string> {
  const done = await runTracked('goaccess', ['--version'], { timeoutMs: 10_000 });
  return /GoAccess - (\d+(?:\.\d+)*)/.exec(done.stdout)?.[1] ?? 'unknown';
}

/** GoAccess over the whole file, JSON output; its TLS panel is read back to check it saw what we saw. */
async function runGoAccess(file: string, dir: string, log: (m: string) => void): Promise<GoAccessResult | null> {
  if (!(await hasCommand('goaccess'))) {
    log('goaccess is not installed: no comparison');
    return null;
  }
  const output = path.join(dir, 'goaccess.json');
  const args = [file, `--log-format=${GOACCESS_LOG_FORMAT}`, '--date-format=%d/%b/%Y', '--time-format=%T', '--no-progress', '-o', output];
  const timed = await hasCommand('/usr/bin/time');
  const done = timed
    ? await runTracked('/usr/bin/time', ['-f', 'ltf-time %U %S %M', 'goaccess', ...args], { timeoutMs: 60 * 60_000 })
    : await runTracked('goaccess', args, { timeoutMs: 60 * 60_000 });
  if (done.code !== 0) throw new Error(`goaccess failed (${done.code}): ${done.stderr.slice(-2000)}`);
  const time = /ltf-time ([\d.]+) ([\d.]+) (\d+)/.exec(done.stderr);
  const report = JSON.parse(await readFile(output, 'utf8')) as {
    general?: { valid_requests?: number; total_requests?: number };
    tls_type?: { data?: { data: string; hits: { count: number } }[] };
  };
  const byProtocol: Record<string, number> = {};
  for (const row of report.tls_type?.data ?? []) byProtocol[row.data] = row.hits.count;
  return {
    lines: report.general?.total_requests ?? 0,
    seconds: done.wallMs / 1000,
    cpuSeconds: time ? Number(time[1]) + Number(time[2]) : null,
    maxRss: time ? Number(time[3]) * 1024 : null,
    byProtocol,
    version: await goaccessVersion(),
  };
}

/**
 * Compiles the reader's child entry (and what it imports) with tsc into `dir`: plain JavaScript, as the
 * package is published. Into a directory of this run rather than node_modules/.cache, which worktrees
 * share through a symlinked node_modules (and where the symlink makes runAsChild miss its entry).
 */
async function compileReader(dir: string): Promise<string> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const entry = fileURLToPath(new URL('./analyse-reader.ts', import.meta.url));
  const options = ['--outDir', dir, '--rootDir', REPO_DIR, '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', '--skipLibCheck', '--strict'];
  const done = await runTracked(process.execPath, [tsc, ...options, entry], { timeoutMs: 180_000 });
  if (done.code !== 0) throw new Error(`tsc failed on ${entry}:\n${done.stdout}${done.stderr}`);
  await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  // The whole command imports the package's dependencies (ua-parser-js): found through a link.
  await symlink(await realpath(path.join(REPO_DIR, 'node_modules')), path.join(dir, 'node_modules'), 'dir');
  return path.join(dir, 'bench', 'analyse-reader.js');
}

async function runReader(child: string, file: string, mode: ReaderSpec['mode'] = 'reader'): Promise<ReaderResult> {
  const done = await runTracked(process.execPath, [child, JSON.stringify({ file, mode } satisfies ReaderSpec)], { timeoutMs: 60 * 60_000 });
  const last = done.stdout.trim().split('\n').pop() ?? '';
  if (done.code !== 0 || !last.startsWith('{')) throw new Error(`the reader child failed (${done.signal ?? done.code}):\n${done.stderr || done.stdout}`);
  return JSON.parse(last) as ReaderResult;
}

/** Generates the log(s), measures the reader `runs` times and GoAccess once, interleaved. */
export async function runAnalyseBench(options: { lines: number; runs: number; scale: number; log: (message: string) => void }): Promise<AnalyseBenchResult> {
  const { lines, runs, scale, log } = options;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bench-analyse-'));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  try {
    log('compiling the reader with tsc: it runs as plain JavaScript, as the published package does');
    const child = await compileReader(path.join(dir, 'build'));
    const file = path.join(dir, 'access.log');
    log(`generating ${lines.toLocaleString('en')} lines of ${GENERATED_LOG_FORMAT}`);
    const truth = await generateLog(file, lines);
    log(`  ${mib(truth.bytes)} MiB, ${truth.distinctUserAgents.toLocaleString('en')} distinct user agents`);
    const reader: ReaderResult[] = [];
    const command: ReaderResult[] = [];
    let goaccess: GoAccessResult | null = null;
    for (let run = 0; run < runs; run++) {
      log(`reader run ${run + 1}/${runs}`);
      reader.push(checked(await runReader(child, file), truth));
      log(`analyse command run ${run + 1}/${runs}`);
      command.push(checked(await runReader(child, file, 'command'), truth));
      if (run === 0) {
        log('goaccess (the same file)');
        goaccess = await runGoAccess(file, dir, log);
      }
    }
    let scaled: AnalyseBenchResult['scaled'] = null;
    if (scale > 1) {
      const big = path.join(dir, 'access-scaled.log');
      await rm(file, { force: true });
      log(`generating ${(lines * scale).toLocaleString('en')} lines (scale ${scale})`);
      const bigTruth = await generateLog(big, lines * scale);
      log(`  ${mib(bigTruth.bytes)} MiB, ${bigTruth.distinctUserAgents.toLocaleString('en')} distinct user agents`);
      const runsScaled: ReaderResult[] = [];
      const commandScaled: ReaderResult[] = [];
      for (let run = 0; run < runs; run++) {
        log(`reader run ${run + 1}/${runs} on ${bigTruth.lines.toLocaleString('en')} lines`);
        runsScaled.push(checked(await runReader(child, big), bigTruth));
        log(`analyse command run ${run + 1}/${runs} on ${bigTruth.lines.toLocaleString('en')} lines`);
        commandScaled.push(checked(await runReader(child, big, 'command'), bigTruth));
      }
      scaled = { lines: bigTruth.lines, bytes: bigTruth.bytes, reader: runsScaled, command: commandScaled };
    }
    return { lines, bytes: truth.bytes, reader, command, goaccess, scaled };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A run that lost records measures nothing: compare with what the generator wrote. */
function checked(result: ReaderResult, truth: GeneratedLogTruth): ReaderResult {
  if (result.records !== truth.lines || result.unreadable !== 0) throw new Error(`reader read ${result.records} records (${result.unreadable} unreadable) of ${truth.lines}`);
  for (const [protocol, count] of Object.entries(truth.byProtocol)) {
    if (result.byProtocol[protocol === '-' ? '-' : protocol] !== count) throw new Error(`reader counted ${result.byProtocol[protocol]} ${protocol}, the log has ${count}`);
  }
  return result;
}

function rate(lines: number, seconds: number | null): number | null {
  return seconds === null || seconds <= 0 ? null : lines / seconds;
}

function fmt(value: number | null, digits = 0): string {
  return value === null ? '–' : value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** One measured program's row: medians of its runs, against GoAccess (and, for a scaled run, against the 1 M rate). */
function measuredRow(title: string, lines: number, runs: readonly ReaderResult[], against: { wall: number | null; cpu: number | null }, target: string, ofOneMillion = false): string {
  const wall = rate(lines, median(runs.map((r) => r.seconds)));
  const cpu = rate(lines, median(runs.map((r) => r.cpuSeconds)));
  const rss = Math.max(...runs.map((r) => r.maxRss));
  const ratio = (a: number | null, b: number | null) => fmt(a !== null && b !== null ? a / b : null, ofOneMillion ? 2 : 1);
  const suffix = ofOneMillion ? ' of 1 M' : '';
  return `| ${title} (median of ${runs.length}) | ${fmt(lines)} | ${fmt(wall)} | ${fmt(cpu)} | ${mib(rss)} | ${ratio(wall, against.wall)}${suffix} | ${ratio(cpu, against.cpu)}${suffix} | ${target} |`;
}

/** Lines per second, wall and CPU, medians of the runs. */
export function rates(lines: number, runs: readonly ReaderResult[]): { wall: number | null; cpu: number | null } {
  return { wall: rate(lines, median(runs.map((r) => r.seconds))), cpu: rate(lines, median(runs.map((r) => r.cpuSeconds))) };
}

export function analyseTable(result: AnalyseBenchResult): string {
  const ga = result.goaccess;
  const goaccess = ga ? { wall: rate(ga.lines, ga.seconds), cpu: rate(ga.lines, ga.cpuSeconds) } : { wall: null, cpu: null };
  const rows = [
    '| analyse | lines | lines/s (wall) | lines/s (CPU) | peak RSS MiB | ratio (wall) | ratio (CPU) | target |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    measuredRow('`analyse FILE --json`: the whole command', result.lines, result.command, goaccess, '≥ 10 × GoAccess; RSS < 200 MiB'),
    measuredRow('readLogRecords alone', result.lines, result.reader, goaccess, 'the reader\'s share'),
  ];
  if (ga) rows.push(`| GoAccess ${ga.version} (%K %k log-format) | ${fmt(ga.lines)} | ${fmt(goaccess.wall)} | ${fmt(goaccess.cpu)} | ${ga.maxRss === null ? '–' : mib(ga.maxRss)} | 1.0 | 1.0 | baseline |`);
  if (result.scaled) {
    const s = result.scaled;
    rows.push(measuredRow(`\`analyse\`, ${fmt(s.lines)} lines`, s.lines, s.command, rates(result.lines, result.command), 'flat: ≥ 0.80 of the 1 M rate', true));
    rows.push(measuredRow(`readLogRecords, ${fmt(s.lines)} lines`, s.lines, s.reader, rates(result.lines, result.reader), 'flat: ≥ 0.80 of the 1 M rate', true));
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  installExitHandlers();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const lines = envNumber('BENCH_ANALYSE_LINES', 1_000_000);
  const runs = envNumber('BENCH_ANALYSE_RUNS', 3);
  const scale = envNumber('BENCH_ANALYSE_SCALE', 1);
  const cpus = os.cpus();
  const result = await runAnalyseBench({ lines, runs, scale, log });
  console.log(
    `Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores; Node ${process.version}; load average at end ${os.loadavg()[0]?.toFixed(2)}\n`,
  );
  console.log(analyseTable(result));
  if (result.goaccess && JSON.stringify(sorted(result.goaccess.byProtocol)) !== JSON.stringify(sorted(withoutNone(result.reader[0]?.byProtocol ?? {})))) {
    log(`note: GoAccess's TLS panel ${JSON.stringify(result.goaccess.byProtocol)} differs from the reader's ${JSON.stringify(result.reader[0]?.byProtocol)}`);
  }
}

function sorted(record: Record<string, number>): [string, number][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

/** GoAccess's TLS panel leaves out requests without TLS. */
function withoutNone(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => key !== '-'));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
