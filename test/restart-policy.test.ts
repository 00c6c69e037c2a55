import { describe, expect, it } from 'vitest';
import { decideRestart, NO_FAILURES, RESTART_POLICY, restartDelay, type RestartDecision, type RestartHistory, type WorkerExit } from '../src/proxy/restart-policy.js';

const MINUTE = 60_000;

/** Feeds exits one after the other, as the cluster primary does, and returns every decision. */
function run(exits: WorkerExit[], history: RestartHistory = NO_FAILURES): { decisions: RestartDecision[]; history: RestartHistory } {
  const decisions: RestartDecision[] = [];
  for (const exit of exits) {
    const result = decideRestart(history, exit);
    history = result.history;
    decisions.push(result.decision);
  }
  return { decisions, history };
}

/**
 * A crash loop: every replacement dies `lifeMs` after it is started, which happens the decided delay
 * after the previous death. Returns the decisions up to the first give-up (or `max` of them).
 */
function crashLoop(options: { lifeMs: number; listens: boolean; othersListening?: number; max?: number }): RestartDecision[] {
  const decisions: RestartDecision[] = [];
  let history = NO_FAILURES;
  let now = 0;
  for (let i = 0; i < (options.max ?? 1000); i++) {
    now += options.lifeMs;
    const { history: next, decision } = decideRestart(history, { now, listenedMs: options.listens ? options.lifeMs : null, othersListening: options.othersListening ?? 0 });
    history = next;
    decisions.push(decision);
    if (decision.action === 'give-up') break;
    now += decision.delayMs;
  }
  return decisions;
}

describe('restart back-off of the cluster primary', () => {
  it('replaces a worker that dies after serving a while at once', () => {
    expect(decideRestart(NO_FAILURES, { now: 10 * MINUTE, listenedMs: 10 * MINUTE, othersListening: 1 }).decision).toEqual({ action: 'restart', delayMs: 0 });
  });

  it('replaces workers that keep dying with growing delays, capped, and does not stop replacing them', () => {
    const delays = crashLoop({ lifeMs: 200, listens: false, othersListening: 1, max: 12 }).map((d) => (d.action === 'restart' ? d.delayMs : d.action));
    expect(delays).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('keeps replacing for as long as another worker is listening, however long that is', () => {
    const decisions = crashLoop({ lifeMs: 1_000, listens: true, othersListening: 1, max: 500 });
    expect(decisions).toHaveLength(500);
    expect(decisions.every((d) => d.action === 'restart')).toBe(true);
  });

  it('starts counting again after a worker stayed up for stableAfterMs', () => {
    const quick = (now: number): WorkerExit => ({ now, listenedMs: 100, othersListening: 1 });
    const { decisions, history } = run([quick(1_000), quick(2_000), quick(4_000), { now: 10 * MINUTE, listenedMs: RESTART_POLICY.stableAfterMs, othersListening: 1 }, quick(10 * MINUTE + 200)]);
    expect(decisions.map((d) => (d.action === 'restart' ? d.delayMs : -1))).toEqual([0, 1_000, 2_000, 0, 1_000]);
    expect(history).toEqual({ failures: 2, failingSince: 10 * MINUTE });
  });

  it('gives up when workers have kept dying for giveUpAfterMs with none listening', () => {
    const decisions = crashLoop({ lifeMs: 500, listens: false });
    const last = decisions.at(-1)!;
    expect(last.action).toBe('give-up');
    expect(decisions.slice(0, -1).every((d) => d.action === 'restart')).toBe(true);
    // 0 + 1 + 2 + 4 + 8 + 16 + 30 s … past 5 minutes, with a replacement tried every 30 s at the end.
    expect(decisions.length).toBeGreaterThan(8);
    if (last.action === 'give-up') expect(last.failingForMs).toBeGreaterThanOrEqual(RESTART_POLICY.giveUpAfterMs);
  });

  it('also gives up on workers that listen but never stay up (a crash on the first request)', () => {
    const decisions = crashLoop({ lifeMs: 5_000, listens: true });
    expect(decisions.at(-1)?.action).toBe('give-up');
  });

  it('does not give up before giveUpAfterMs, nor while another worker listens', () => {
    const history: RestartHistory = { failures: 9, failingSince: 0 };
    const justBefore = decideRestart(history, { now: RESTART_POLICY.giveUpAfterMs - 1, listenedMs: null, othersListening: 0 });
    expect(justBefore.decision).toEqual({ action: 'restart', delayMs: 30_000 });
    const othersUp = decideRestart(history, { now: RESTART_POLICY.giveUpAfterMs, listenedMs: null, othersListening: 1 });
    expect(othersUp.decision.action).toBe('restart');
    const alone = decideRestart(history, { now: RESTART_POLICY.giveUpAfterMs, listenedMs: null, othersListening: 0 });
    expect(alone.decision).toEqual({ action: 'give-up', failingForMs: RESTART_POLICY.giveUpAfterMs });
  });

  it('restartDelay stays finite for any number of failures', () => {
    expect(restartDelay(1)).toBe(0);
    expect(restartDelay(2)).toBe(RESTART_POLICY.baseDelayMs);
    expect(restartDelay(10_000)).toBe(RESTART_POLICY.maxDelayMs);
  });
});
