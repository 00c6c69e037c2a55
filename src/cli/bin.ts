#!/usr/bin/env node
// The only file that touches `process`: everything else gets its outside world through `CliIo`.
import { readOpenFilesLimit } from './limits.js';
import type { CliIo } from './main.js';

const io: CliIo = {
  stdout: {
    write: (s) => void process.stdout.write(s),
    isTTY: process.stdout.isTTY === true,
  },
  stderr: { write: (s) => void process.stderr.write(s), isTTY: process.stderr.isTTY === true },
  env: process.env,
  cwd: process.cwd(),
  onSignal(signal, handler) {
    process.on(signal, handler);
    return () => void process.off(signal, handler);
  },
  openFilesLimit: readOpenFilesLimit,
};

// If the event loop ever empties while the proxy should still be serving, that is a failure, not a clean
// stop: without this Node would exit 0 and `Restart=on-failure` would leave the port dead.
process.exitCode = 1;

const argv = process.argv.slice(2);
// `analyse` loads only its own modules: the proxy's would take memory that a big log needs.
const run =
  argv[0] === 'analyse' || argv[0] === 'analyze'
    ? import('./analyse.js').then(({ runAnalyse }) => runAnalyse(argv.slice(1), io))
    : import('./main.js').then(({ runCli }) => runCli(argv, io));

run.then(exit, (error: unknown) => {
  process.stderr.write(`legacy-tls-fallback: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  exit(1);
});

function exit(code: number): void {
  process.exitCode = code;
  // A failure, or a second signal while requests are still draining, exits at once.
  if (code !== 0) process.exit(code);
  // After a clean stop nothing should be left; if something still holds the event loop, do not hang.
  setTimeout(() => process.exit(code), 2_000).unref();
}
