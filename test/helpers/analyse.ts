import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { readLogRecords, type LogInputStats, type LogRecord, type ReadLogOptions } from '../../src/analyse/index.js';

export interface ReadResult {
  records: LogRecord[];
  inputs: readonly LogInputStats[];
  /** The first input's counters. */
  stats: LogInputStats;
  batches: number;
}

/** Reads every record of `inputs` (paths, `-`). */
export async function readAll(inputs: readonly string[], options: ReadLogOptions = {}): Promise<ReadResult> {
  const reader = readLogRecords(inputs, options);
  const records: LogRecord[] = [];
  let batches = 0;
  for await (const batch of reader) {
    batches++;
    records.push(...batch);
  }
  return { records, inputs: reader.inputs, stats: reader.inputs[0] as LogInputStats, batches };
}

let dir: Promise<string> | undefined;

// Registered when a test file imports this helper (hooks must be declared while the file is collected,
// not from inside a test, where the scratch directory is first asked for).
afterAll(async () => {
  if (dir !== undefined) await rm(await dir, { recursive: true, force: true });
  dir = undefined;
});

/** A temporary directory for this test file, removed after it. */
export function scratch(): Promise<string> {
  dir ??= mkdtemp(path.join(os.tmpdir(), 'ltf-analyse-'));
  return dir;
}

let counter = 0;

/** Writes `content` to a new file of the scratch directory and returns its path. */
export async function logFile(content: string | Buffer, name = `log-${++counter}.log`): Promise<string> {
  const file = path.join(await scratch(), name);
  await writeFile(file, content);
  return file;
}

/** Writes the lines to a file and reads it. */
export async function readLines(lines: readonly string[], options: ReadLogOptions = {}): Promise<ReadResult> {
  return readAll([await logFile(`${lines.join('\n')}\n`)], options);
}
