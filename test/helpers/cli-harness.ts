import type { CliIo, CliSignal } from '../../src/cli/main.js';

export interface CliHarness {
  io: CliIo;
  /** Every line written to stdout or stderr: JSON log lines parsed, anything else as `{ raw }`. */
  lines: Record<string, unknown>[];
  /** Everything written, as written. */
  output(): string;
  signal(signal: CliSignal): void;
  waitFor(test: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** runCli's outside world for running the command in the test's own process; signals are sent by the test. */
export function cliHarness(cwd: string, env: Record<string, string> = {}, isTTY = false): CliHarness {
  const lines: Record<string, unknown>[] = [];
  const waiters: { test: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  const handlers = new Map<CliSignal, () => void>();
  let written = '';
  let buffered = '';
  const write = (chunk: string) => {
    written += chunk;
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const text of parts.filter(Boolean)) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { raw: text };
      }
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (!waiter.test(line)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  return {
    io: {
      stdout: { write, isTTY },
      stderr: { write },
      env,
      cwd,
      isClusterWorker: false,
      onSignal(signal, handler) {
        handlers.set(signal, handler);
        return () => handlers.delete(signal);
      },
    },
    lines,
    output: () => written,
    signal: (signal) => handlers.get(signal)?.(),
    waitFor(test) {
      const found = lines.find(test);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}
