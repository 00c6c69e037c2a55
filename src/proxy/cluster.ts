import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { answerClusterStore, ClusterWorkerStore, type ClusterStoreMessage } from '../stats/stores/cluster.js';
import { TrafficStats } from '../stats/traffic-stats.js';
import { startProxy } from './app.js';
import { createProxyStats, statsOpened } from './stats.js';
import { loadCertificates, watchCertificateFiles, type CertificatePem } from './certificates.js';
import type { ProxyConfig, ProxyLogger, RunningProxy } from './config.js';
import { decideRestart, NO_FAILURES, RESTART_POLICY, type RestartPolicy } from './restart-policy.js';

/**
 * `--workers N`: one process per core with node:cluster. The primary owns the only `TrafficStats`
 * with a file or the Redis store (one writer); workers count locally and send deltas every second; a worker's report
 * asks the primary for the merged numbers, so every worker shows all workers' traffic. The primary
 * also makes the TLS session-ticket keys and the visitor salt, so a ticket issued by one worker
 * resumes on any other and a visitor served by two workers counts once.
 *
 * The primary alone reads the certificate files (at start, on SIGHUP, when they change) and hands each
 * worker the pair it last found good: a half-renewed pair on disk is refused once, with a log line,
 * instead of making every replacement worker fail. Dead workers are replaced with a back-off
 * (`restart-policy.ts`); when the primary gives up, `failed` settles and the CLI exits 1.
 */
export function startCluster(config: ProxyConfig, logger: ProxyLogger, workers: number, policy: RestartPolicy = RESTART_POLICY): Promise<RunningProxy> {
  return cluster.isWorker ? startWorker(config, logger) : startPrimary(config, logger, workers, policy);
}

type Message =
  | ClusterStoreMessage
  | { type: 'ltf:listening'; urls: RunningProxy['urls'] }
  | { type: 'ltf:certificates-request' }
  /** `id` 0 answers a worker's request at start; the others are reloads, answered with `certificates-applied`. */
  | { type: 'ltf:certificates'; id: number; pem: CertificatePem }
  | { type: 'ltf:certificates-applied'; id: number; ok: boolean }
  | { type: 'ltf:shutdown'; graceMs: number }
  | { type: 'ltf:cut' };

const DELTA_INTERVAL_MS = 1000;
/** A worker that does not confirm new certificates within this is counted as having failed to. */
const RELOAD_REPLY_MS = 10_000;

async function startPrimary(config: ProxyConfig, logger: ProxyLogger, count: number, policy: RestartPolicy): Promise<RunningProxy> {
  // Checked before any worker exists: a bad pair at start is a configuration error, as without --workers.
  let certificates = await loadCertificates(config);
  const stats = createProxyStats(config, { warn: (m) => logger.warn(m), info: (m) => logger.info(m) });
  try {
    await statsOpened(stats, config);
  } catch (error) {
    await stats.close();
    throw error;
  }
  const env = { LTF_TICKET_KEYS: randomBytes(48).toString('hex'), LTF_STATS_SALT: stats.visitorSalt.toString('hex') };
  let shuttingDown = false;
  let gaveUp = false;
  let history = NO_FAILURES;
  const listeningSince = new Map<Worker, number>();
  /** Workers that asked for their certificates: later changes are sent to them, the others ask later. */
  const ready = new Set<Worker>();
  const replacements = new WeakSet<Worker>();
  const pendingForks = new Set<NodeJS.Timeout>();
  let firstUrls: RunningProxy['urls'] | undefined;
  let startup: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let nextReloadId = 1;
  const reloadReplies = new Map<number, (ok: boolean) => void>();
  let reportFailure: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));

  const fork = (): Worker => {
    const worker = cluster.fork(env);
    worker.on('message', (message: Message) => {
      if (answerClusterStore(stats, worker, message, (error) => logger.warn('a worker sent unreadable stats; ignored', { error: error.message }))) {
        // The worker's numbers: merged, or answered with everyone's.
      } else if (message.type === 'ltf:certificates-request') {
        ready.add(worker);
        worker.send({ type: 'ltf:certificates', id: 0, pem: certificates } satisfies Message);
      } else if (message.type === 'ltf:listening') {
        listeningSince.set(worker, Date.now());
        if (replacements.has(worker)) logger.info('replacement worker listening', { pid: worker.process.pid });
        firstUrls ??= message.urls;
        // Started once every worker listens: node:cluster closes the shared socket when the last worker
        // on it dies, so a worker killed while the others still load would take the port with it (and
        // with `--listen :0` its replacement would bind another port than the one announced).
        if (listeningSince.size >= count) startup?.resolve();
      } else if (message.type === 'ltf:certificates-applied') {
        reloadReplies.get(message.id)?.(message.ok);
      }
    });
    // A send to a worker that has just died fails asynchronously with an 'error' on the Worker; with no
    // listener node would throw it and the primary (and with it the port) would go.
    worker.on('error', (error) => logger.warn('could not reach a worker', { pid: worker.process.pid, error: error.message }));
    worker.on('exit', (code, signal) => {
      const since = listeningSince.get(worker);
      listeningSince.delete(worker);
      ready.delete(worker);
      if (shuttingDown || gaveUp) return;
      if (startup) {
        // At start a dying worker is a configuration or environment problem (its error is logged above):
        // retrying would only hide it.
        startup.reject(new Error(`a worker exited (${signal ?? `code ${code}`}) ${since === undefined ? 'before listening' : 'while the others were starting'}; see its error above`));
        return;
      }
      const now = Date.now();
      const { history: next, decision } = decideRestart(history, { now, listenedMs: since === undefined ? null : now - since, othersListening: listeningSince.size }, policy);
      history = next;
      if (decision.action === 'give-up') {
        gaveUp = true;
        const ms = decision.failingForMs;
        const span = ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
        logger.error(`workers have kept dying for ${span} (${next.failures} in a row) with none listening; giving up so that the service manager can restart the proxy`, {
          pid: worker.process.pid,
          code,
          signal,
          failures: next.failures,
        });
        reportFailure(new Error(`workers kept dying for ${span}`));
        return;
      }
      logger.warn('worker died; starting a replacement', { pid: worker.process.pid, code, signal, delayMs: decision.delayMs, failuresInARow: next.failures });
      const timer = setTimeout(() => {
        pendingForks.delete(timer);
        if (!shuttingDown && !gaveUp) replacements.add(fork());
      }, decision.delayMs);
      pendingForks.add(timer);
    });
    return worker;
  };

  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  for (let i = 0; i < count; i++) fork();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${listeningSince.size} of ${count} workers were listening after 30 s`)), 30_000);
      startup = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
    });
  } catch (error) {
    shuttingDown = true;
    for (const worker of live()) worker.kill();
    await stats.close();
    throw error;
  } finally {
    startup = undefined;
  }
  logger.info('cluster started', { workers: count });

  const sendCertificates = (worker: Worker): Promise<boolean> => {
    const id = nextReloadId++;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => settle(false), RELOAD_REPLY_MS);
      const settle = (ok: boolean) => {
        clearTimeout(timer);
        reloadReplies.delete(id);
        worker.off('exit', onExit);
        resolve(ok);
      };
      // A worker that dies meanwhile is replaced, and its replacement asks for the new pair itself.
      const onExit = () => settle(true);
      worker.once('exit', onExit);
      reloadReplies.set(id, settle);
      worker.send({ type: 'ltf:certificates', id, pem: certificates } satisfies Message);
    });
  };
  const reloadCertificates = async (): Promise<boolean> => {
    try {
      certificates = await loadCertificates(config);
    } catch (error) {
      logger.error('new certificates refused, the previous ones stay in use', { error: (error as Error).message });
      return false;
    }
    const ok = (await Promise.all([...ready].map(sendCertificates))).every(Boolean);
    if (ok) logger.info('certificates reloaded', { files: config.certificates.map((c) => c.certFile) });
    else logger.error('a worker did not take the new certificates; it serves the previous ones', { files: config.certificates.map((c) => c.certFile) });
    return ok;
  };
  const unwatchCertificates = watchCertificateFiles(config, reloadCertificates);

  let closing: Promise<void> | undefined;
  return {
    urls: firstUrls!,
    reloadCertificates,
    failed,
    cut() {
      for (const worker of live()) if (worker.isConnected()) worker.send({ type: 'ltf:cut' } satisfies Message);
    },
    close(graceMs = config.timeouts.shutdownGrace) {
      closing ??= (async () => {
        shuttingDown = true;
        unwatchCertificates();
        for (const timer of pendingForks) clearTimeout(timer);
        pendingForks.clear();
        await Promise.all(
          live().map(
            (worker) =>
              new Promise<void>((resolve) => {
                const kill = setTimeout(() => worker.kill('SIGKILL'), graceMs + 2_000);
                worker.once('exit', () => {
                  clearTimeout(kill);
                  resolve();
                });
                if (worker.isConnected()) worker.send({ type: 'ltf:shutdown', graceMs } satisfies Message);
                else worker.kill();
              }),
          ),
        );
        await stats.close();
      })();
      return closing;
    },
  };
}

async function startWorker(config: ProxyConfig, logger: ProxyLogger): Promise<RunningProxy> {
  const worker = cluster.worker!;
  // The primary hands the shared secrets to each fork through its environment.
  const { env } = process;
  // The primary keeps the numbers; this worker sends it deltas every second and asks it for reports.
  const salt = env.LTF_STATS_SALT ? Buffer.from(env.LTF_STATS_SALT, 'hex') : randomBytes(32);
  const stats = new TrafficStats({ summaryInterval: 0, flushInterval: DELTA_INTERVAL_MS, store: new ClusterWorkerStore(worker, salt) });
  const ticketKeys = env.LTF_TICKET_KEYS ? Buffer.from(env.LTF_TICKET_KEYS, 'hex') : undefined;

  // The certificates come from the primary (over IPC: a private key has no place in the environment).
  // Reloads that arrive while the proxy is still starting are applied once it runs.
  let certificates: CertificatePem | undefined;
  let received: () => void = () => undefined;
  const firstCertificates = new Promise<void>((resolve) => (received = resolve));
  let started: (proxy: RunningProxy) => void = () => undefined;
  const running = new Promise<RunningProxy>((resolve) => (started = resolve));
  worker.on('message', (message: Message) => {
    if (message.type !== 'ltf:certificates') return;
    certificates = message.pem;
    received();
    if (message.id === 0) return;
    const { id } = message;
    void running
      .then((proxy) => proxy.reloadCertificates())
      .then((ok) => {
        if (worker.isConnected()) worker.send({ type: 'ltf:certificates-applied', id, ok } satisfies Message);
      });
  });
  worker.send({ type: 'ltf:certificates-request' } satisfies Message);
  await firstCertificates;

  const proxy = await startProxy(config, logger, {
    stats,
    reportSource: stats,
    ...(ticketKeys && { ticketKeys }),
    ownsStats: false,
    certificates: () => certificates!,
  });
  started(proxy);

  let closing: Promise<void> | undefined;
  const close = (graceMs?: number) => {
    closing ??= (async () => {
      await proxy.close(graceMs);
      await stats.close();
      worker.disconnect();
    })();
    return closing;
  };
  worker.on('message', (message: Message) => {
    if (message.type === 'ltf:shutdown') void close(message.graceMs);
    else if (message.type === 'ltf:cut') proxy.cut?.();
  });
  worker.send({ type: 'ltf:listening', urls: proxy.urls } satisfies Message);
  return { urls: proxy.urls, reloadCertificates: proxy.reloadCertificates, close };
}
