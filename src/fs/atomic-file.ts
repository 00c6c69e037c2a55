/**
 * Crash-safe persistence of a single JSON document: a reader sees either the old or the new
 * content, never a torn write, and a damaged file is set aside instead of silently discarded.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Directory-fsync failures that only mean "this platform/filesystem can't do that". */
const IGNORABLE_DIR_SYNC_CODES = new Set(['EISDIR', 'EINVAL', 'EPERM']);

/**
 * Read failures that say nothing about the file itself; moving a healthy file aside because the
 * process ran out of descriptors would throw away the data the caller is trying to load.
 */
const TRANSIENT_READ_CODES = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EINTR']);

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * A file above the size the caller allows: set aside unread, since reading and parsing it would cost
 * memory and time in proportion to whatever someone put there.
 */
export class FileTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`it is ${size} bytes, more than the ${limit} bytes allowed`);
    this.name = 'FileTooLargeError';
  }
}

/**
 * Absolute paths of this process's temp files that are being written right now. A pid alone can't
 * tell them from a crashed predecessor's leftovers: in containers every run tends to be pid 1.
 */
const inFlight = new Set<string>();

/**
 * Writes `data` (UTF-8) to `path` atomically: temp file in the same directory (so the rename
 * never crosses filesystems), fsync, rename over `path`, then fsync the directory so the rename
 * itself survives a power loss. On failure the temp file is removed and the original error is
 * rethrown; `path` keeps its previous content.
 *
 * The file is created with mode 0600 (less whatever the umask removes), and so is every later
 * version: the rename replaces the old file, mode included. The stats file holds the visitor salt.
 */
export async function writeFileAtomic(path: string, data: string, options: { mode?: number } = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  const tmp = tempName(path);
  const tmpKey = resolve(tmp);
  inFlight.add(tmpKey);
  try {
    // 'wx': never follow or clobber something already sitting at the temp name.
    const handle = await open(tmp, 'wx', mode);
    try {
      // Whatever the umask: a key or a salt must not end up readable by others, a certificate must be readable.
      await handle.chmod(mode);
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } catch (error) {
      // A failing close must not mask the write error that matters.
      await handle.close().catch(() => undefined);
      throw error;
    }
    await handle.close();
    await rename(tmp, path);
    await syncDirectory(dirname(path));
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  } finally {
    inFlight.delete(tmpKey);
  }
}

/** link(2) errors that mean "no hard links on this file system" rather than "something is there". */
const NO_HARD_LINK_CODES = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/**
 * Creates `path` holding `data` only if nothing is there (rejects with EEXIST otherwise), and never lets
 * anyone see it half-written: the data goes to a temp file that is hard-linked into place, so a `kill -9`
 * at any moment leaves either no file or the whole one (at worst a temp file, which {@link
 * removeStaleTempFiles} removes). Where the file system has no hard links: O_EXCL create, then write.
 */
export async function createFileExclusive(path: string, data: string, mode: number): Promise<void> {
  const tmp = tempName(path);
  const tmpKey = resolve(tmp);
  inFlight.add(tmpKey);
  let linked = false;
  try {
    await writeFile(tmp, data, { flag: 'wx', mode });
    try {
      await link(tmp, path);
      linked = true;
    } catch (error) {
      if (!NO_HARD_LINK_CODES.has(errorCode(error) ?? '')) throw error;
    }
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
    inFlight.delete(tmpKey);
  }
  if (linked) return;
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true }).catch(() => undefined);
    throw error;
  }
}

function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Windows cannot open directories, and some filesystems refuse fsync on them.
    if (!IGNORABLE_DIR_SYNC_CODES.has(errorCode(error) ?? '')) throw error;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export type LoadResult<T> =
  | { status: 'missing' }
  | { status: 'loaded'; value: T }
  | { status: 'corrupt'; movedTo: string | null; error: Error };

/**
 * Loads and validates a JSON document written by {@link writeFileAtomic}.
 *
 * - no file → `missing`;
 * - unreadable (including a directory at `path`: EISDIR), invalid JSON, or `validate` throws →
 *   `corrupt`: the entry is renamed to `${path}.corrupt-<ISO time with - for : and .>` (a
 *   `-<n>` suffix is appended if that name is already taken) so the caller can start fresh
 *   without losing evidence; `movedTo` is null if even that rename failed;
 * - larger than `maxBytes`, or not a regular file (a FIFO, a device) → `corrupt` as well, decided
 *   before reading anything (`FileTooLargeError` for the size);
 * - transient resource errors while reading (EMFILE, ENFILE, ENOMEM, EAGAIN, EINTR) are rethrown
 *   rather than reported as corruption, because the file itself is probably fine.
 *
 * Also removes `${basename}.tmp-*` leftovers of crashed writers (best effort). Writes in flight
 * are spared: this process's own pending temp files, and those named after another live pid.
 */
export async function loadJsonFile<T>(path: string, validate: (value: unknown) => T, options: { maxBytes?: number } = {}): Promise<LoadResult<T>> {
  await removeStaleTempFiles(path);

  let text: string;
  try {
    text = await readBounded(path, options.maxBytes ?? Number.MAX_SAFE_INTEGER);
  } catch (error) {
    const code = errorCode(error);
    // ENOTDIR: a parent is a file, so there is no stats file to read (writing will report the problem).
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing' };
    if (TRANSIENT_READ_CODES.has(code ?? '')) throw error;
    return corrupt(path, error);
  }

  let value: T;
  try {
    value = validate(JSON.parse(text));
  } catch (error) {
    return corrupt(path, error);
  }
  return { status: 'loaded', value };
}

/** The file's text, refusing (FileTooLargeError) to read more than `maxBytes`, even of a file that grows. */
async function readBounded(path: string, maxBytes: number): Promise<string> {
  // O_NONBLOCK: opening a FIFO left at the path must not wait for a writer that never comes.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile() && !stats.isDirectory()) throw new Error('it is not a regular file');
    if (stats.size > maxBytes) throw new FileTooLargeError(stats.size, maxBytes);
    // A directory fails here, on the first read, with EISDIR.
    const bytes = await readUpTo(handle, Math.min(stats.size, maxBytes) + 1, maxBytes);
    return bytes.toString('utf8');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function readUpTo(handle: FileHandle, firstChunk: number, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (let size = firstChunk; ; size = Math.min(64 * 1024, maxBytes + 1 - total)) {
    const chunk = Buffer.allocUnsafe(size);
    const { bytesRead } = await handle.read(chunk, 0, size, null);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) throw new FileTooLargeError(total, maxBytes);
  }
  return Buffer.concat(chunks, total);
}

async function corrupt(path: string, cause: unknown): Promise<LoadResult<never>> {
  const error = toError(cause);
  let movedTo: string | null = null;
  try {
    const target = await freeCorruptName(path);
    await rename(path, target);
    movedTo = target;
  } catch {
    movedTo = null;
  }
  return { status: 'corrupt', movedTo, error };
}

async function freeCorruptName(path: string): Promise<string> {
  // ISO-8601 without ':' and '.', which are awkward or invalid in file names on some systems.
  const base = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (let attempt = 1; ; attempt++) {
    const candidate = attempt === 1 ? base : `${base}-${attempt}`;
    try {
      await lstat(candidate);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return candidate;
      throw error;
    }
  }
}

/**
 * Removes `${basename(path)}.tmp-*` leftovers of crashed writers (best effort). Writes in flight are
 * spared: this process's own pending temp files, and those named after another live pid.
 */
export async function removeStaleTempFiles(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix))
      .map((name) => join(dir, name))
      .filter((file) => isStale(file, prefix))
      .map((file) => rm(file, { force: true }).catch(() => undefined)),
  );
}

/** Temp names end in `${pid}-${random}`; a file is stale unless its writer may still be at work. */
function isStale(file: string, prefix: string): boolean {
  const match = /^(\d+)-/.exec(basename(file).slice(prefix.length));
  const pid = match?.[1] === undefined ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return !inFlight.has(resolve(file));
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) !== 'EPERM';
  }
}
