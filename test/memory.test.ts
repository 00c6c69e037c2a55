import { LONG } from './helpers/long.js';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { MemoryResult } from '../bench/memory.js';

const run = promisify(execFile);

/**
 * Resource attack: a flood of distinct user agents and addresses must not grow memory or the stats
 * file. `npm test` pushes 25 000, LONG_TESTS=1 the full million (`LTF_MEMORY_REQUESTS=N` any number).
 * Run in a child process with --expose-gc so RSS is measured after collection.
 */
const REQUESTS = Number(process.env.LTF_MEMORY_REQUESTS ?? (LONG ? 1_000_000 : 25_000));
const MiB = 1024 * 1024;

describe(`${REQUESTS} requests with ${REQUESTS} distinct user agents and addresses`, () => {
  it('stay within the stated memory ceiling and file size', async () => {
    const script = path.join(import.meta.dirname, '../bench/memory.ts');
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', script, JSON.stringify({ requests: REQUESTS })], {
      timeout: 600_000,
      maxBuffer: 1024 * 1024,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryResult;
    expect(result.requests).toBe(REQUESTS);
    expect(result.gc).toBe(true);
    // README states: < 100 MiB above the idle process, whatever the traffic.
    expect(result.rssAfter - result.rssBefore).toBeLessThan(100 * MiB);
    expect(result.uaCacheEntries).toBeLessThanOrEqual(2048);
    expect(result.fileBytes).toBeLessThan(256 * 1024);
  }, 620_000);
});
