import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const BIN = path.join(import.meta.dirname, '../../src/cli/bin.ts');

export interface CliProcess {
  child: ChildProcess;
  /** JSON log lines (and any other stdout lines as `{ raw }`). */
  lines: Record<string, unknown>[];
  stderr: string[];
  waitFor(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exit(): Promise<number | null>;
}

/** Runs the real command as a child process, JSON logs, so tests can wait for what it says. */
export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args, '--log-format', 'json'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiters: { predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const onLine = (text: string) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { raw: text };
    }
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    parts.filter(Boolean).forEach(onLine);
  });
  let errBuffer = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    errBuffer += chunk;
    const parts = errBuffer.split('\n');
    errBuffer = parts.pop() ?? '';
    for (const part of parts.filter(Boolean)) {
      stderr.push(part);
      onLine(part);
    }
  });
  return {
    child,
    lines,
    stderr,
    waitFor(predicate, timeoutMs = 20_000) {
      const found = lines.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; output so far:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
        waiters.push({ predicate, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        void exited.then((code) => reject(new Error(`exited with ${code} before the expected line; output:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)));
      });
    },
    exit: () => exited,
  };
}
