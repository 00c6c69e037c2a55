/**
 * When the cluster primary replaces a dead worker, and when it gives up. Pure: the primary feeds it each
 * worker exit and applies the decision, so the sequence is tested without processes or clocks.
 *
 * A worker that dies after serving a while is replaced at once. Workers that die soon after starting are
 * replaced after a delay that doubles each time up to a cap, so a crash loop neither burns the CPU nor
 * stops. The primary gives up only when workers have kept dying for `giveUpAfterMs` with none listening
 * meanwhile: then the port is dead, and exiting non-zero lets the service manager restart everything.
 */
export interface RestartPolicy {
  /** Delay before the second replacement in a row; it doubles from there. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A worker that listened this long was healthy: its death starts the count again. */
  stableAfterMs: number;
  /** Workers failing this long, none listening: give up. */
  giveUpAfterMs: number;
}

export const RESTART_POLICY: RestartPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
  giveUpAfterMs: 5 * 60_000,
};

export interface RestartHistory {
  /** Workers that died in a row without having stayed up `stableAfterMs`, this exit included. */
  failures: number;
  /** When the first of them died; null before any. */
  failingSince: number | null;
}

export const NO_FAILURES: RestartHistory = { failures: 0, failingSince: null };

export interface WorkerExit {
  now: number;
  /** How long the worker had been listening; null if it never was. */
  listenedMs: number | null;
  /** Other workers listening right now. */
  othersListening: number;
}

export type RestartDecision = { action: 'restart'; delayMs: number } | { action: 'give-up'; failingForMs: number };

export function decideRestart(history: RestartHistory, exit: WorkerExit, policy: RestartPolicy = RESTART_POLICY): { history: RestartHistory; decision: RestartDecision } {
  const stable = exit.listenedMs !== null && exit.listenedMs >= policy.stableAfterMs;
  const before = stable ? NO_FAILURES : history;
  const next: RestartHistory = { failures: before.failures + 1, failingSince: before.failingSince ?? exit.now };
  const failingForMs = exit.now - (next.failingSince ?? exit.now);
  if (exit.othersListening === 0 && failingForMs >= policy.giveUpAfterMs) {
    return { history: next, decision: { action: 'give-up', failingForMs } };
  }
  return { history: next, decision: { action: 'restart', delayMs: restartDelay(next.failures, policy) } };
}

/** 0 for the first failure in a row, then `baseDelayMs`, doubling, at most `maxDelayMs`. */
export function restartDelay(failures: number, policy: RestartPolicy = RESTART_POLICY): number {
  if (failures <= 1) return 0;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(failures - 2, 30));
}
