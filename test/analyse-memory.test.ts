/**
 * A big log does not make `analyse` big: memory is bounded by the log's span (hour buckets, daily
 * sketches) and fixed tables (the user-agent table starts over when full), not by its lines or its
 * distinct user agents. `npm test` runs 200 000 lines with 50 000 distinct user agents; LONG_TESTS=1
 * runs 10 million lines with a million distinct user agents. Each in a fresh child process (the log is
 * written by another one first, so that its memory is not counted).
 *
 * The ceiling stated in the docs: the analysis adds less than 192 MiB to the process for a log of up to
 * 30 days, whatever its lines and user agents (measured: 134 MiB at 1 M lines with 250 000 agents, 166 MiB
 * at 10 M lines with 1 M agents, under tsx); a longer span adds about 150 KiB a day (--span-days).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LONG } from './helpers/long.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const LINES = LONG ? 10_000_000 : 200_000;
const AGENTS = LONG ? 1_000_000 : 50_000;
const SCRIPT = path.join(import.meta.dirname, 'fixtures/analyse-memory.ts');

describe(`analyse: ${LINES} lines with ${AGENTS} distinct user agents`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-analyse-memory-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts every line and stays under the memory ceiling', async () => {
    const file = path.join(dir, 'big.log');
    const generated = await run(process.execPath, ['--import', 'tsx', SCRIPT, 'generate', file, JSON.stringify({ lines: LINES, agents: AGENTS })], { timeout: 3_600_000 });
    const truth = JSON.parse(generated.stdout.trim().split('\n').at(-1)!) as { TLSv1: number; 'TLSv1.2': number; ieRequests: number };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', SCRIPT, 'analyse', file], { timeout: 3_600_000, maxBuffer: 1024 * 1024 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      code: number;
      requests: number;
      byProtocol: Record<string, number>;
      legacy: number;
      classification: { classified: number; profiles: number; resets: number };
      rssBefore: number;
      maxRss: number;
    };
    expect(result.code).toBe(0);
    expect(result.requests).toBe(LINES);
    expect(result.byProtocol).toMatchObject({ TLSv1: truth.TLSv1, 'TLSv1.2': truth['TLSv1.2'] });
    // Every IE 8 line is legacy, and only those: each distinct user agent was classified right.
    expect(result.legacy).toBe(truth.ieRequests);
    // Each distinct user agent classified once (plus "no user agent"), unless the table had to start over.
    if (result.classification.resets === 0) expect(result.classification.classified).toBe(AGENTS + 1);
    // Thousands of user agents, a few dozen profiles: the counting labels are per profile.
    expect(result.classification.profiles).toBeLessThan(100);
    expect(result.maxRss - result.rssBefore).toBeLessThan(192 * MiB);
  }, 3_700_000);
});
