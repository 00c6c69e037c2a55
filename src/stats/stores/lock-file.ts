/**
 * One writer per stats file. Two processes flushing the same file each replace the other's whole
 * state, so the second one must know it is second, and say so. The lock is a file beside the stats
 * file, put there whole only if there is none (see createLock) and naming its holder: pid, host, boot, a
 * random token and since when. The holder touches it every LOCK_REFRESH_MS and checks it is still its
 * own before each write.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, readSync, unlinkSync } from 'node:fs';
import { open, unlink, utimes } from 'node:fs/promises';
import os from 'node:os';
import { createFileExclusive, removeStaleTempFiles } from '../../fs/atomic-file.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** Linux boot id (null elsewhere): a pid of an earlier boot names nobody. */
  boot: string | null;
  /** Random per lock: tells this process's lock from a predecessor's with the same pid (pid 1 in containers). */
  token: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** How often the holder touches its lock. */
export const LOCK_REFRESH_MS = 10_000;
/** A lock nobody touched for this long is abandoned, whoever it names: its holder is gone or frozen. */
export const LOCK_ABANDONED_MS = 60_000;
/** A lock file without a readable holder: one being written where there are no hard links, or one put there by hand. */
const HALF_WRITTEN_GRACE_MS = 5_000;
const MAX_LOCK_BYTES = 4096;

export type LockVerdict = 'held' | 'held-here' | 'stale';

export interface LockSelf {
  pid: number;
  host: string;
  boot: string | null;
  /** Tokens of the locks this process holds. */
  tokens: ReadonlySet<string>;
}

/**
 * Whether a lock found on disk still stands. Stale only on proof that its holder is gone: a dead pid
 * on this host and boot, an earlier boot, our own pid without our token, or no touch for
 * LOCK_ABANDONED_MS. Everything else counts as held, including a holder on another host, whose pid
 * cannot be checked from here.
 */
export function judgeLock(holder: LockHolder | null, ageMs: number, self: LockSelf, isAlive: (pid: number) => boolean): LockVerdict {
  if (holder === null) return ageMs > HALF_WRITTEN_GRACE_MS ? 'stale' : 'held';
  if (self.tokens.has(holder.token)) return 'held-here';
  if (ageMs > LOCK_ABANDONED_MS) return 'stale';
  if (holder.host !== self.host) return 'held';
  if (holder.boot !== null && self.boot !== null && holder.boot !== self.boot) return 'stale';
  // Our pid but not our token: an earlier run that got the same pid, as every run does as pid 1 in a container.
  if (holder.pid === self.pid) return 'stale';
  return isAlive(holder.pid) ? 'held' : 'stale';
}

export type LockAttempt =
  | { status: 'acquired'; lock: FileLock }
  /** `holder` is null when the lock file could not be read (being written, or unreadable). */
  | { status: 'held'; holder: LockHolder | null; sameProcess: boolean };

/** Takes the lock at `path`, removing a stale one. Rejects only on I/O errors (no directory, no permission). */
export async function acquireLock(path: string): Promise<LockAttempt> {
  // A few rounds: another process may remove or take a stale lock between our steps.
  for (let round = 0; round < 4; round++) {
    const holder = newHolder();
    try {
      await createLock(path, holder);
      // The temp files of holders killed while they took the lock.
      await removeStaleTempFiles(path);
      return { status: 'acquired', lock: new FileLock(path, holder) };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    let found: FoundLock | null;
    try {
      found = await readLock(path);
    } catch {
      return { status: 'held', holder: null, sameProcess: false };
    }
    if (found === null) continue;
    const verdict = judgeLock(found.holder, Date.now() - found.mtimeMs, self(), processAlive);
    if (verdict !== 'stale') return { status: 'held', holder: found.holder, sameProcess: verdict === 'held-here' };
    // Remove the very lock judged stale, not one another process put there since.
    const again = await readLock(path).catch(() => null);
    if (again?.text === found.text) await unlink(path).catch(() => undefined);
  }
  return { status: 'held', holder: null, sameProcess: false };
}

/** A lock this process holds. */
export class FileLock {
  /** Called once when a periodic check finds that another process has the lock now. */
  onLost: ((holder: LockHolder | null) => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Released by us, or found in someone else's hands: either way never touched or created again. */
  private ended: 'released' | 'lost' | null = null;

  constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {
    held.set(holder.token, path);
    installExitHook();
    this.timer = setInterval(() => {
      void this.check().then((result) => {
        if (!result.ok && result.holder !== undefined) this.onLost?.(result.holder);
      });
    }, LOCK_REFRESH_MS);
    this.timer.unref();
  }

  /**
   * Whether the lock is still ours; touches it if so, so that others see its holder is alive. A lock
   * file someone deleted is created again unless another process got there first. I/O errors count as
   * still ours: no other holder was seen, and the write that follows reports them. `holder` is set
   * (possibly to null, if unreadable) the one time the lock is found lost.
   */
  async check(): Promise<{ ok: true } | { ok: false; holder?: LockHolder | null }> {
    if (this.ended) return { ok: false };
    let found: FoundLock | null;
    try {
      found = await readLock(this.path);
      if (found === null) {
        try {
          await createLock(this.path, this.holder);
          found = { holder: this.holder, text: '', mtimeMs: Date.now() };
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') return { ok: true };
          found = await readLock(this.path);
        }
      }
    } catch {
      return { ok: true };
    }
    if (this.ended) return { ok: false };
    if (found?.holder?.token !== this.holder.token) {
      this.end('lost');
      return { ok: false, holder: found?.holder ?? null };
    }
    const now = new Date();
    await utimes(this.path, now, now).catch(() => undefined);
    return { ok: true };
  }

  /** Stops the refresh and removes the lock file if it is still ours. Safe to call twice. */
  async release(): Promise<void> {
    if (this.ended) return;
    this.end('released');
    const found = await readLock(this.path).catch(() => null);
    if (found?.holder?.token === this.holder.token) await unlink(this.path).catch(() => undefined);
  }

  private end(how: 'released' | 'lost'): void {
    this.ended = how;
    clearInterval(this.timer);
    held.delete(this.holder.token);
  }
}

// ---------------------------------------------------------------------------------------------------

/** Token → lock path of every lock this process holds. */
const held = new Map<string, string>();

let exitHookInstalled = false;

/** On exit (process.exit, end of the event loop) the locks go too; after a kill they are found stale. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [token, path] of held) {
      try {
        if (parseHolder(readLockSync(path))?.token === token) unlinkSync(path);
      } catch {
        // Nothing more can be done while exiting.
      }
    }
  });
}

let bootId: string | null | undefined;

function self(): LockSelf {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootId = null;
    }
  }
  return { pid: process.pid, host: os.hostname(), boot: bootId, tokens: new Set(held.keys()) };
}

function newHolder(): LockHolder {
  const { pid, host, boot } = self();
  return { pid, host, boot, token: randomBytes(16).toString('hex'), since: new Date().toISOString() };
}

/** The lock at `path`, whole, if there is none (EEXIST otherwise): a kill while taking it never leaves an empty one. */
async function createLock(path: string, holder: LockHolder): Promise<void> {
  // 0644: whoever starts a second writer, under any account, should be able to read who holds the file.
  await createFileExclusive(path, `${JSON.stringify(holder)}\n`, 0o644);
}

interface FoundLock {
  holder: LockHolder | null;
  text: string;
  mtimeMs: number;
}

/** The lock at `path`, or null if there is none. Reads at most MAX_LOCK_BYTES: anyone can put a file there. */
async function readLock(path: string): Promise<FoundLock | null> {
  let handle;
  try {
    handle = await open(path, READ_NONBLOCK);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  try {
    const { mtimeMs } = await handle.stat();
    const buffer = Buffer.alloc(MAX_LOCK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    return { holder: parseHolder(text), text, mtimeMs };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

// O_NONBLOCK: a FIFO put where the lock goes must not hang the check (or the exit) waiting for a writer.
const READ_NONBLOCK = constants.O_RDONLY | constants.O_NONBLOCK;

function readLockSync(path: string): string {
  const fd = openSync(path, READ_NONBLOCK);
  try {
    const buffer = Buffer.alloc(MAX_LOCK_BYTES);
    return buffer.subarray(0, readSync(fd, buffer, 0, MAX_LOCK_BYTES, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function parseHolder(text: string): LockHolder | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { pid, host, boot, token, since } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  if (typeof host !== 'string' || typeof token !== 'string' || typeof since !== 'string') return null;
  if (boot !== null && typeof boot !== 'string') return null;
  return { pid, host: printable(host, 255), boot, token, since: printable(since, 64) };
}

// Host and time end up in log lines and error messages: no control characters from a file anyone can write.
function printable(text: string, max: number): string {
  let out = '';
  for (const char of text.slice(0, max)) {
    const code = char.charCodeAt(0);
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? '?' : char;
  }
  return out;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, under another account.
    return errorCode(error) !== 'ESRCH';
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
