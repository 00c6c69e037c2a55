/**
 * Child-process entry of the analyse benchmark. `reader`: reads one log with `readLogRecords` and
 * nothing else (no classification, no stats). `command`: the whole `legacy-tls-fallback analyse FILE
 * --json` (reading, classification, counting, the report document and its JSON). Reports records per
 * second, CPU time and peak RSS.
 *
 *   node --import tsx bench/analyse-reader.ts '{"file":"/tmp/access.log","mode":"command"}'
 *
 * In a child of its own so that its peak RSS is the reader's, not the benchmark's.
 */
import { readLogRecords } from '../src/analyse/index.js';
import type { AnalysisDocument } from '../src/analyse/analyse.js';
import { runAnalyse } from '../src/cli/analyse.js';
import { runAsChild } from './processes.js';

export interface ReaderSpec {
  file: string;
  /** @default 'reader' */
  mode?: 'reader' | 'command';
}

export interface ReaderResult {
  records: number;
  lines: number;
  unreadable: number;
  seconds: number;
  cpuSeconds: number;
  /** Peak resident set size of the child, bytes. */
  maxRss: number;
  byProtocol: Record<string, number>;
  format: string | null;
  layout: string | null;
}

export async function measureReader(spec: ReaderSpec): Promise<ReaderResult> {
  if (spec.mode === 'command') return measureCommand(spec);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const reader = readLogRecords([spec.file]);
  const byProtocol: Record<string, number> = {};
  // Counting by protocol touches every record, as any consumer will: the records are not optimised away.
  for await (const batch of reader) {
    for (const record of batch) {
      const key = record.protocol ?? '-';
      byProtocol[key] = (byProtocol[key] ?? 0) + 1;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const stats = reader.inputs[0];
  return {
    records: stats?.records ?? 0,
    lines: stats?.lines ?? 0,
    unreadable: stats?.unreadable ?? 0,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    maxRss: process.resourceUsage().maxRSS * 1024,
    byProtocol,
    format: stats?.format ?? null,
    layout: stats?.layout ?? null,
  };
}

async function measureCommand(spec: ReaderSpec): Promise<ReaderResult> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let out = '';
  const code = await runAnalyse([spec.file, '--json'], { stdout: { write: (s) => void (out += s) }, stderr: { write: (s) => void process.stderr.write(s) }, cwd: process.cwd() });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (code !== 0) throw new Error(`analyse exited with ${code}`);
  const doc = JSON.parse(out) as AnalysisDocument;
  const input = doc.analysis.inputs[0];
  const byProtocol: Record<string, number> = {};
  for (const [protocol, count] of Object.entries(doc.analysis.requests.byLoggedProtocol)) if (count > 0) byProtocol[protocol === 'none' ? '-' : protocol] = count;
  return {
    records: input?.records ?? 0,
    lines: input?.lines ?? 0,
    unreadable: input?.unreadable ?? 0,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    maxRss: process.resourceUsage().maxRSS * 1024,
    byProtocol,
    format: input?.format ?? null,
    layout: input?.layout ?? null,
  };
}

runAsChild(import.meta.url, measureReader);
