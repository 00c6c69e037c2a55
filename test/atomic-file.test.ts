import { execFileSync } from 'node:child_process';
import { appendFile, chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileExclusive, FileTooLargeError, loadJsonFile, writeFileAtomic } from '../src/fs/atomic-file.js';
import { hasTool } from './helpers/tools.js';

interface Doc {
  version: number;
  visitors: number;
}

function validateDoc(value: unknown): Doc {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Doc).version !== 'number' ||
    typeof (value as Doc).visitors !== 'number'
  ) {
    throw new Error('not a Doc');
  }
  return value as Doc;
}

const CORRUPT_NAME = /^stats\.json\.corrupt-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;
// Any pid that cannot be running: Linux caps pids at 2^22.
const DEAD_PID = 99_999_999;

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomic-file-'));
  file = join(dir, 'stats.json');
});

afterEach(async () => {
  await chmod(dir, 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const tmpLeftovers = async (): Promise<string[]> => (await readdir(dir)).filter((name) => name.includes('.tmp-'));

describe('writeFileAtomic', () => {
  it('writes a file that loadJsonFile reads back', async () => {
    const doc: Doc = { version: 1, visitors: 42 };
    await writeFileAtomic(file, JSON.stringify(doc));
    expect(await readFile(file, 'utf8')).toBe(JSON.stringify(doc));
    expect(await loadJsonFile(file, validateDoc)).toEqual({ status: 'loaded', value: doc });
  });

  it('overwrites, keeping only the new content and no temp files', async () => {
    await writeFileAtomic(file, JSON.stringify({ version: 1, visitors: 1, padding: 'x'.repeat(10_000) }));
    await writeFileAtomic(file, JSON.stringify({ version: 2, visitors: 2 }));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 2, visitors: 2 });
    expect(await readdir(dir)).toEqual(['stats.json']);
  });

  it('writes non-ASCII content as UTF-8', async () => {
    await writeFileAtomic(file, '{"name":"Zoë 🦊"}');
    expect(await readFile(file, 'utf8')).toBe('{"name":"Zoë 🦊"}');
  });

  it('rejects with ENOENT when the target directory is missing', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'stats.json'), '{}')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes its temp file and keeps the old target when the rename fails', async () => {
    // A non-empty directory at the target makes the final rename fail after the temp file exists.
    await mkdir(file);
    await writeFile(join(file, 'keep'), 'x');
    await expect(writeFileAtomic(file, '{"version":1}')).rejects.toMatchObject({
      code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST|EPERM)$/),
    });
    expect(await tmpLeftovers()).toEqual([]);
    expect((await stat(file)).isDirectory()).toBe(true);
  });

  // Root ignores directory permissions, so this can only be checked as an ordinary user.
  it.skipIf(process.getuid?.() === 0)('rejects in a read-only directory without leaving a temp file', async () => {
    await chmod(dir, 0o555);
    await expect(writeFileAtomic(file, '{}')).rejects.toMatchObject({ code: 'EACCES' });
    await chmod(dir, 0o755);
    expect(await readdir(dir)).toEqual([]);
  });

  // The stats file holds the visitor salt: nobody but its owner may read it, from the first write on.
  it('creates the file 0600, and makes an existing 0644 file 0600 when it replaces it', async () => {
    await writeFileAtomic(file, '{"version":1,"visitors":1}');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await writeFile(join(dir, 'old.json'), '{}', { mode: 0o644 });
    await chmod(join(dir, 'old.json'), 0o644);
    await writeFileAtomic(join(dir, 'old.json'), '{"version":2,"visitors":2}');
    expect((await stat(join(dir, 'old.json'))).mode & 0o777).toBe(0o600);
  });

  it('20 concurrent writes leave exactly one complete document', async () => {
    const docs = Array.from({ length: 20 }, (_, i) => ({ version: i, visitors: i, padding: String(i).repeat(5_000) }));
    await Promise.all(docs.map((doc) => writeFileAtomic(file, JSON.stringify(doc))));
    const final: unknown = JSON.parse(await readFile(file, 'utf8'));
    expect(docs).toContainEqual(final);
    expect(await readdir(dir)).toEqual(['stats.json']);
  });
});

describe('createFileExclusive', () => {
  it('creates the file whole with its mode, and leaves no temp file', async () => {
    await createFileExclusive(file, 'holder\n', 0o644);
    expect(await readFile(file, 'utf8')).toBe('holder\n');
    expect((await stat(file)).mode & 0o777).toBe(0o644 & ~process.umask());
    expect(await readdir(dir)).toEqual(['stats.json']);
  });

  it('refuses with EEXIST whatever is there (a file, a dangling symlink) and leaves it alone', async () => {
    await writeFile(file, 'first');
    await expect(createFileExclusive(file, 'second', 0o644)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(file, 'utf8')).toBe('first');
    const link = join(dir, 'link');
    await symlink(join(dir, 'nowhere'), link);
    await expect(createFileExclusive(link, 'x', 0o644)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(stat(join(dir, 'nowhere'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await tmpLeftovers()).toEqual([]);
  });

  it('lets exactly one of many concurrent creators win', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => createFileExclusive(file, `creator ${i}`, 0o644)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toMatch(/^creator \d+$/);
    expect(await tmpLeftovers()).toEqual([]);
  });
});

describe('loadJsonFile', () => {
  it('reports a missing file', async () => {
    expect(await loadJsonFile(file, validateDoc)).toEqual({ status: 'missing' });
  });

  it('reports missing when even the directory is missing', async () => {
    expect(await loadJsonFile(join(dir, 'nope', 'stats.json'), validateDoc)).toEqual({ status: 'missing' });
  });

  it('moves a truncated file aside', async () => {
    await writeFile(file, '{"trunc');
    const result = await loadJsonFile(file, validateDoc);
    expect(result.status).toBe('corrupt');
    if (result.status !== 'corrupt') return;
    expect(result.error).toBeInstanceOf(SyntaxError);
    expect(result.movedTo).not.toBeNull();
    expect(result.movedTo?.startsWith(`${file}.corrupt-`)).toBe(true);
    const names = await readdir(dir);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(CORRUPT_NAME);
    expect(join(dir, names[0] ?? '')).toBe(result.movedTo);
    expect(await readFile(result.movedTo ?? '', 'utf8')).toBe('{"trunc');
    // The caller can now start fresh.
    expect(await loadJsonFile(file, validateDoc)).toEqual({ status: 'missing' });
  });

  it('treats a validate() throw as corruption', async () => {
    await writeFile(file, '{"version":"one"}');
    const result = await loadJsonFile(file, validateDoc);
    expect(result).toMatchObject({ status: 'corrupt', error: new Error('not a Doc') });
    expect((await readdir(dir)).filter((name) => CORRUPT_NAME.test(name))).toHaveLength(1);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('wraps a non-Error thrown by validate()', async () => {
    await writeFile(file, '{}');
    const result = await loadJsonFile(file, () => {
      throw 'nope';
    });
    expect(result).toMatchObject({ status: 'corrupt', error: new Error('nope') });
  });

  it('passes the validated value through', async () => {
    await writeFile(file, '[1,2,3]');
    const result = await loadJsonFile(file, (value) => (value as number[]).length);
    expect(result).toEqual({ status: 'loaded', value: 3 });
  });

  // Decision: a directory at the path is an unreadable state file like any other (EISDIR). It is
  // moved aside, so the next writeFileAtomic can succeed, and nothing inside it is deleted.
  it('treats a directory at the path as corrupt and moves it aside', async () => {
    await mkdir(file);
    await writeFile(join(file, 'inside'), 'kept');
    const result = await loadJsonFile(file, validateDoc);
    expect(result).toMatchObject({ status: 'corrupt', error: { code: 'EISDIR' } });
    if (result.status !== 'corrupt' || result.movedTo === null) throw new Error('expected a moved directory');
    expect(await readFile(join(result.movedTo, 'inside'), 'utf8')).toBe('kept');
    await writeFileAtomic(file, '{"version":1,"visitors":0}');
    expect(await loadJsonFile(file, validateDoc)).toMatchObject({ status: 'loaded' });
  });

  it('does not overwrite an earlier corrupt copy with the same timestamp', async () => {
    await writeFile(file, 'first');
    const first = await loadJsonFile(file, validateDoc);
    await writeFile(file, 'second');
    const second = await loadJsonFile(file, validateDoc);
    if (first.status !== 'corrupt' || second.status !== 'corrupt') throw new Error('expected corrupt');
    expect(second.movedTo).not.toBe(first.movedTo);
    expect(await readFile(first.movedTo ?? '', 'utf8')).toBe('first');
    expect(await readFile(second.movedTo ?? '', 'utf8')).toBe('second');
  });

  it('sets a file above maxBytes aside unread, naming its size and the bound', async () => {
    // Sparse: 200 MB that take no disk, and that JSON.parse would choke on if they were read.
    await writeFile(file, '');
    await truncate(file, 200_000_000);
    const result = await loadJsonFile(file, validateDoc, { maxBytes: 1_000_000 });
    expect(result).toMatchObject({ status: 'corrupt', error: { size: 200_000_000, limit: 1_000_000 } });
    if (result.status !== 'corrupt') return;
    expect(result.error).toBeInstanceOf(FileTooLargeError);
    expect(result.error.message).toBe('it is 200000000 bytes, more than the 1000000 bytes allowed');
    expect(result.movedTo).toMatch(/stats\.json\.corrupt-/);
    expect((await stat(result.movedTo!)).size).toBe(200_000_000);
    expect(await loadJsonFile(file, validateDoc)).toEqual({ status: 'missing' });
  });

  it('loads a file of exactly maxBytes and refuses one byte more', async () => {
    const text = JSON.stringify({ version: 1, visitors: 7 });
    await writeFile(file, text);
    expect(await loadJsonFile(file, validateDoc, { maxBytes: text.length })).toEqual({ status: 'loaded', value: { version: 1, visitors: 7 } });
    await appendFile(file, ' ');
    expect(await loadJsonFile(file, validateDoc, { maxBytes: text.length })).toMatchObject({ status: 'corrupt', error: { size: text.length + 1 } });
  });

  it.runIf(hasTool('mkfifo'))('sets a FIFO at the path aside instead of waiting for a writer', async () => {
    execFileSync('mkfifo', [file]);
    const result = await loadJsonFile(file, validateDoc);
    expect(result).toMatchObject({ status: 'corrupt', error: { message: 'it is not a regular file' } });
    expect(await loadJsonFile(file, validateDoc)).toEqual({ status: 'missing' });
  });

  it('cleans up stale temp files left by a crashed writer', async () => {
    await writeFileAtomic(file, '{"version":1,"visitors":5}');
    const stale = [`stats.json.tmp-${DEAD_PID}-abcdef123456`, 'stats.json.tmp-garbage'];
    // Our own pid but not in flight: a crashed earlier run that happened to get the same pid (pid 1 in containers).
    stale.push(`stats.json.tmp-${process.pid}-000000000000`);
    const unrelated = ['other.json.tmp-1-abc', 'stats.json.bak'];
    for (const name of [...stale, ...unrelated]) await writeFile(join(dir, name), '{"half');
    expect(await loadJsonFile(file, validateDoc)).toEqual({ status: 'loaded', value: { version: 1, visitors: 5 } });
    expect((await readdir(dir)).sort()).toEqual([...unrelated, 'stats.json'].sort());
  });

  it('spares temp files of a live writer process', async () => {
    // process.ppid is alive (it is running this test); its temp file might be a write in flight.
    const live = `stats.json.tmp-${process.ppid}-abcdef123456`;
    await writeFile(join(dir, live), '{"half');
    expect(await loadJsonFile(file, validateDoc)).toEqual({ status: 'missing' });
    expect(await readdir(dir)).toEqual([live]);
  });

  it('does not delete temp files of writes in flight in this process', async () => {
    const writes = Array.from({ length: 10 }, (_, i) => writeFileAtomic(file, JSON.stringify({ version: i, visitors: i })));
    const loads = Array.from({ length: 10 }, () => loadJsonFile(file, validateDoc));
    await Promise.all(writes);
    for (const result of await Promise.all(loads)) expect(result.status).not.toBe('corrupt');
    expect(await loadJsonFile(file, validateDoc)).toMatchObject({ status: 'loaded' });
  });
});
