/**
 * `LONG_TESTS=1` runs the long variants: the full testssl.sh run, a soak of a minute, a million distinct
 * clients, 1 GiB through the proxy, every language in a browser, more property runs, more restarts.
 * `npm test` runs a short variant of each, so that it stays within five minutes on two shared cores.
 */
export const LONG = process.env.LONG_TESTS === '1';

/** Property-test runs: `full` with LONG_TESTS=1, a quarter of it (at least 50) otherwise. */
export function runs(full: number): number {
  return LONG ? full : Math.max(50, Math.ceil(full / 4));
}

/**
 * Polls `check` until it stops throwing (it holds its own expectations), then returns what it returned:
 * waiting for something that happens on a timer elsewhere (a worker's next delta) without sleeping a
 * guessed time. Fails with the last error after `timeoutMs`.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
