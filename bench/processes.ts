/**
 * Every process the benchmark starts goes through here, so that all of them (server children, load
 * generators, nginx and its worker) are killed when the run ends, whether it ends normally, on an
 * error, on Ctrl+C or on an uncaught exception.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Tracked {
  child: ChildProcess;
  /** Started with `detached: true`: its whole process group is killed (nginx master + worker). */
  group: boolean;
}

const live = new Set<Tracked>();
let handlersInstalled = false;

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));

/** `--import <tsx loader>` for Node children that run TypeScript. */
export function tsxImportArgs(): string[] {
  const loader = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(loader).href];
}

/**
 * Where `compileForChildren` puts src/ and bench/ compiled by tsc. Inside node_modules so that the
 * compiled files resolve the same packages, and so that no linter or test runner looks at them. One
 * directory per checkout: git worktrees share node_modules (a symlink), and two benches at once must
 * not run each other's code.
 */
export const CHILD_BUILD_DIR = path.join(REPO_DIR, 'node_modules', '.cache', `legacy-tls-fallback-bench-${createHash('sha256').update(REPO_DIR).digest('hex').slice(0, 12)}`);
let childBuild: string | null = null;

/**
 * Compiles src/ and bench/ with tsc, once per run, so that every child runs plain JavaScript as users of
 * the package do. Under tsx, esbuild's keepNames wraps every closure in a `__name()` call that sets its
 * name: in per-request code (the proxy makes eight closures a request) that showed up as 3-4 % of the
 * profile, a cost the published package does not have.
 */
export async function compileForChildren(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const done = await runTracked(
    process.execPath,
    [tsc, '-p', path.join(BENCH_DIR, 'tsconfig.children.json'), '--outDir', CHILD_BUILD_DIR],
    { timeoutMs: 180_000 },
  );
  if (done.code !== 0) throw new Error(`tsc failed on bench/ and src/:\n${done.stdout}${done.stderr}`);
  // Node looks for the package scope no further up than node_modules/: say ESM here.
  await writeFile(path.join(CHILD_BUILD_DIR, 'package.json'), '{ "type": "module" }\n');
  childBuild = CHILD_BUILD_DIR;
}

/** The Node arguments that run a bench/ entry (`./servers.ts`): compiled JavaScript when built, else through tsx. */
function entryArgs(entry: string): string[] {
  if (childBuild !== null) return [path.join(childBuild, 'bench', entry.replace(/\.ts$/, '.js'))];
  return [...tsxImportArgs(), fileURLToPath(new URL(entry, import.meta.url))];
}

function killTracked(tracked: Tracked, signal: NodeJS.Signals): void {
  const { child } = tracked;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (tracked.group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Already gone.
  }
}

const exitCallbacks: (() => void)[] = [];

/** Synchronous clean-up (e.g. removing the temporary directory) run after the kill on any exit. */
export function onExit(callback: () => void): void {
  exitCallbacks.push(callback);
}

/** Synchronous, so it also works from an 'exit' handler. */
export function killAll(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const tracked of live) killTracked(tracked, signal);
  live.clear();
  for (const callback of exitCallbacks.splice(0)) {
    try {
      callback();
    } catch {
      // Best effort.
    }
  }
}

export function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => killAll());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping every child process`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    console.error('bench: uncaught exception', error);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    console.error('bench: unhandled rejection', error);
    killAll();
    process.exit(1);
  });
}

export interface SpawnTrackedOptions extends SpawnOptions {
  /** Kill the whole process group at the end (use for programs that fork, like nginx). */
  group?: boolean;
}

export function spawnTracked(command: string, args: readonly string[], options: SpawnTrackedOptions = {}): ChildProcess {
  const { group = false, ...rest } = options;
  const child = spawn(command, args, { ...rest, detached: group });
  const tracked: Tracked = { child, group };
  live.add(tracked);
  child.once('exit', () => {
    // A group leader's exit does not mean its workers are gone: keep nginx tracked until stopped.
    if (!group) live.delete(tracked);
  });
  child.once('error', () => live.delete(tracked));
  (child as ChildProcess & { benchTracked?: Tracked }).benchTracked = tracked;
  return child;
}

/** Stops one tracked process: `signal`, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  const tracked = (child as ChildProcess & { benchTracked?: Tracked }).benchTracked ?? { child, group: false };
  const exited = child.exitCode !== null || child.signalCode !== null;
  if (!exited) {
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killTracked(tracked, signal);
    const timer = setTimeout(() => killTracked(tracked, 'SIGKILL'), graceMs);
    await done;
    clearTimeout(timer);
  }
  // Leftover workers of a process group (nginx) die with the group.
  if (tracked.group && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Nothing left.
    }
  }
  live.delete(tracked);
}

export interface ServerChild<Info> {
  child: ChildProcess;
  info: Info;
  stop(): Promise<void>;
}

/**
 * Starts a Node child running a TypeScript entry of bench/ and waits for the first line of its stdout,
 * which must be JSON (e.g. `{"port": 43123}`). The child's stdin stays open: children exit when it
 * closes, so they die with the parent even if the parent is killed with SIGKILL.
 */
export async function startNodeChild<Info>(
  entry: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; execArgv?: readonly string[]; timeoutMs?: number; label?: string } = {},
): Promise<ServerChild<Info>> {
  const label = options.label ?? entry;
  const child = spawnTracked(
    process.execPath,
    [...(options.execArgv ?? []), ...entryArgs(entry), ...args],
    { cwd: REPO_DIR, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const info = await new Promise<Info>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error(`${label}: no start-up line after ${options.timeoutMs ?? 30_000} ms`)), options.timeoutMs ?? 30_000);
    function fail(error: Error): void {
      clearTimeout(timer);
      lines.close();
      reject(new Error(`${error.message}${stderr ? `\n--- stderr of ${label} ---\n${stderr}` : ''}`));
    }
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as Info);
      } catch {
        fail(new Error(`${label}: start-up line is not JSON: ${line}`));
        return;
      }
      // Keep draining stdout so the child can never block on a full pipe.
      lines.on('line', (more) => process.stderr.write(`[${label}] ${more}\n`));
    });
    child.once('exit', (code, signal) => fail(new Error(`${label} exited (${signal ?? code}) before it was ready`)));
    child.once('error', (error) => fail(error));
  });
  return {
    child,
    info,
    stop: async () => {
      child.stdin?.end();
      await stopProcess(child, 'SIGTERM', 5000);
    },
  };
}

export interface Completed {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  wallMs: number;
}

/** Runs a command to completion, killing it after `timeoutMs`. */
export function runTracked(command: string, args: readonly string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<Completed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnTracked(command, args, { cwd: options.cwd ?? REPO_DIR, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/** Runs a Node child (TypeScript entry of bench/) to completion and parses the last JSON line of its stdout. */
export async function runNodeJson<Result>(
  entry: string,
  args: readonly string[],
  options: { timeoutMs: number; execArgv?: readonly string[]; env?: NodeJS.ProcessEnv },
): Promise<Result> {
  const done = await runTracked(
    process.execPath,
    [...(options.execArgv ?? []), ...entryArgs(entry), ...args],
    { timeoutMs: options.timeoutMs, env: options.env },
  );
  const last = done.stdout.trim().split('\n').pop() ?? '';
  if (done.code !== 0 || !last.startsWith('{')) {
    throw new Error(`${entry} failed (${done.signal ?? done.code}):\n${done.stderr || done.stdout}`);
  }
  return JSON.parse(last) as Result;
}

/**
 * For bench/ entries run by `runNodeJson`: when `moduleUrl` is the process's entry point, runs `main` on
 * the JSON spec in argv[2], prints its result as one JSON line and exits. A module imported elsewhere
 * (test/memory.test.ts imports memory.ts) does nothing.
 */
export function runAsChild<Spec, Result>(moduleUrl: string, main: (spec: Spec) => Promise<Result>): void {
  const [, entry, arg] = process.argv;
  // Real paths on both sides: in a git worktree node_modules is a symlink, and tsx reports the module by
  // its real path while argv keeps the path it was started with (or the other way round).
  if (entry === undefined || arg === undefined || realPath(path.resolve(entry)) !== realPath(fileURLToPath(moduleUrl))) return;
  main(JSON.parse(arg) as Spec).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** True when `command` is on the PATH. */
export async function hasCommand(command: string): Promise<boolean> {
  try {
    const done = await runTracked('sh', ['-c', `command -v ${command}`], { timeoutMs: 5000 });
    return done.code === 0;
  } catch {
    return false;
  }
}

let clockTicks: number | undefined;

async function ticksPerSecond(): Promise<number> {
  if (clockTicks === undefined) {
    const done = await runTracked('getconf', ['CLK_TCK'], { timeoutMs: 5000 }).catch(() => null);
    const value = Number(done?.stdout.trim());
    clockTicks = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return clockTicks;
}

/** utime + stime (ticks) and parent pid of every process, from /proc (Linux). */
async function procTable(): Promise<Map<number, { ppid: number; ticks: number }>> {
  const table = new Map<number, { ppid: number; ticks: number }>();
  const entries = await readdir('/proc');
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        try {
          const stat = await readFile(`/proc/${name}/stat`, 'utf8');
          // The command name may hold spaces and parentheses: fields start after the last ')'.
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          table.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
        } catch {
          // The process ended meanwhile.
        }
      }),
  );
  return table;
}

/**
 * CPU seconds (user + system, all threads) used so far by these processes and all their descendants
 * (nginx's workers), or `null` where /proc is not available. Server CPU per request is the figure that
 * survives a busy machine or a load generator that saturates before the server does.
 */
export async function treeCpuSeconds(pids: readonly number[]): Promise<number | null> {
  let table: Map<number, { ppid: number; ticks: number }>;
  try {
    table = await procTable();
  } catch {
    return null;
  }
  const wanted = new Set(pids);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid }] of table) {
      if (!wanted.has(pid) && wanted.has(ppid)) {
        wanted.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of wanted) ticks += table.get(pid)?.ticks ?? 0;
  return ticks / (await ticksPerSecond());
}

/**
 * Runs a bench file's `main()` when it is the script node was started with, or its child role for
 * `<file> serve …`; nothing when a test or another bench imports it. A failure kills every tracked child
 * and exits 1. Real paths: node_modules (where the compiled children live) may be a symlink.
 */
export function runIfMain(moduleUrl: string, roles: { main: () => Promise<void>; serve: (args: string[]) => Promise<void> }): void {
  const entry = process.argv[1] ? realpathSync(path.resolve(process.argv[1])) : '';
  if (entry !== realpathSync(fileURLToPath(moduleUrl))) return;
  const run = process.argv[2] === 'serve' ? roles.serve(process.argv.slice(3)) : roles.main();
  run.catch((error: unknown) => {
    console.error(error);
    killAll();
    process.exit(1);
  });
}
