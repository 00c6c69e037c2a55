import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { TrafficStats, type StatsSource, type StorageStatus } from '../stats/traffic-stats.js';
import { emptyState, type StatsState } from '../stats/model.js';
import { fromDocument, toDocument } from '../stats/serialize.js';
import { startProxy } from './app.js';
import type { ProxyConfig, ProxyLogger, RunningProxy } from './config.js';

/**
 * `--workers N`: one process per core with node:cluster. The primary owns the only `TrafficStats`
 * with a file (one writer); workers count locally and send deltas every second; a worker's report
 * asks the primary for the merged numbers, so every worker shows all workers' traffic. The primary
 * also makes the TLS session-ticket keys and the visitor salt, so a ticket issued by one worker
 * resumes on any other and a visitor served by two workers counts once.
 */
export function startCluster(config: ProxyConfig, logger: ProxyLogger, workers: number): Promise<RunningProxy> {
  return cluster.isWorker ? startWorker(config, logger) : startPrimary(config, logger, workers);
}

type Message =
  | { type: 'ltf:listening'; urls: RunningProxy['urls'] }
  | { type: 'ltf:delta'; delta: unknown }
  | { type: 'ltf:snapshot-request'; id: number }
  | { type: 'ltf:snapshot'; id: number; document: unknown; storage: StorageStatus }
  | { type: 'ltf:reload' }
  | { type: 'ltf:reloaded'; ok: boolean }
  | { type: 'ltf:shutdown'; graceMs: number };

const DELTA_INTERVAL_MS = 1000;
// A worker that keeps dying must not turn into a fork loop: past this many restarts a minute, stop.
const MAX_RESTARTS_PER_MINUTE = 10;

async function startPrimary(config: ProxyConfig, logger: ProxyLogger, count: number): Promise<RunningProxy> {
  const stats = new TrafficStats({ statsFile: config.statsFile, logger: { warn: (m) => logger.warn(m), info: (m) => logger.info(m) } });
  await stats.ready;
  const env = { LTF_TICKET_KEYS: randomBytes(48).toString('hex'), LTF_STATS_SALT: stats.visitorSalt.toString('hex') };
  let shuttingDown = false;
  const restarts: number[] = [];
  let firstUrls: RunningProxy['urls'] | undefined;
  let onFirstListening: (() => void) | undefined;
  const reloadReplies: ((ok: boolean) => void)[] = [];

  const fork = (): Worker => {
    const worker = cluster.fork(env);
    worker.on('message', (message: Message) => {
      if (message.type === 'ltf:delta') {
        try {
          stats.mergeDelta(message.delta);
        } catch (error) {
          logger.warn('a worker sent unreadable stats; ignored', { error: (error as Error).message });
        }
      } else if (message.type === 'ltf:snapshot-request') {
        const document = toDocument(stats.snapshot(), stats.visitorSalt, stats.now());
        worker.send({ type: 'ltf:snapshot', id: message.id, document, storage: stats.storageStatus() } satisfies Message);
      } else if (message.type === 'ltf:listening') {
        firstUrls ??= message.urls;
        onFirstListening?.();
      } else if (message.type === 'ltf:reloaded') {
        reloadReplies.shift()?.(message.ok);
      }
    });
    worker.on('exit', (code, signal) => {
      if (shuttingDown) return;
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
        logger.error('workers keep dying; not replacing this one', { pid: worker.process.pid, code, signal });
        return;
      }
      logger.warn('worker died; starting a replacement', { pid: worker.process.pid, code, signal });
      fork();
    });
    return worker;
  };

  for (let i = 0; i < count; i++) fork();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no worker started listening within 30 s')), 30_000);
    onFirstListening = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  logger.info('cluster started', { workers: count });

  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  let closing: Promise<void> | undefined;
  return {
    urls: firstUrls!,
    async reloadCertificates() {
      const workers = live();
      const replies = workers.map(() => new Promise<boolean>((resolve) => reloadReplies.push(resolve)));
      for (const worker of workers) worker.send({ type: 'ltf:reload' } satisfies Message);
      return (await Promise.all(replies)).every(Boolean);
    },
    close(graceMs = config.timeouts.shutdownGrace) {
      closing ??= (async () => {
        shuttingDown = true;
        await Promise.all(
          live().map(
            (worker) =>
              new Promise<void>((resolve) => {
                const kill = setTimeout(() => worker.kill('SIGKILL'), graceMs + 2_000);
                worker.once('exit', () => {
                  clearTimeout(kill);
                  resolve();
                });
                worker.send({ type: 'ltf:shutdown', graceMs } satisfies Message);
              }),
          ),
        );
        await stats.close();
      })();
      return closing;
    },
  };
}

/** The primary's merged numbers as seen from a worker; refreshed over IPC before each report. */
class PrimaryStats implements StatsSource {
  private state: StatsState = emptyState();
  private storage: StorageStatus = { file: null, lastSavedAt: null, error: null };
  private nextId = 1;
  private readonly pending = new Map<number, () => void>();

  constructor(private readonly worker: Worker, private readonly local: TrafficStats) {
    worker.on('message', (message: Message) => {
      if (message.type !== 'ltf:snapshot') return;
      try {
        this.state = fromDocument(message.document).state;
        this.storage = message.storage;
      } finally {
        this.pending.get(message.id)?.();
        this.pending.delete(message.id);
      }
    });
  }

  snapshot(): StatsState {
    return this.state;
  }

  now(): number {
    return Date.now();
  }

  storageStatus(): StorageStatus {
    return this.storage;
  }

  /** Sends this worker's latest counts first, so the report includes the request that asked for it. */
  refresh(): Promise<void> {
    sendDelta(this.worker, this.local);
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve();
      }, 2_000);
      this.pending.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.send({ type: 'ltf:snapshot-request', id } satisfies Message);
    });
  }
}

function sendDelta(worker: Worker, stats: TrafficStats): void {
  if (worker.isConnected()) worker.send({ type: 'ltf:delta', delta: stats.takeDelta() } satisfies Message);
}

async function startWorker(config: ProxyConfig, logger: ProxyLogger): Promise<RunningProxy> {
  const worker = cluster.worker!;
  // The primary hands the shared secrets to each fork through its environment.
  const { env } = process;
  const stats = new TrafficStats({ summaryInterval: 0 });
  if (env.LTF_STATS_SALT) stats.useSalt(Buffer.from(env.LTF_STATS_SALT, 'hex'));
  const ticketKeys = env.LTF_TICKET_KEYS ? Buffer.from(env.LTF_TICKET_KEYS, 'hex') : undefined;
  const running = await startProxy(config, logger, {
    stats,
    reportSource: new PrimaryStats(worker, stats),
    ...(ticketKeys && { ticketKeys }),
    ownsStats: false,
  });
  const timer = setInterval(() => sendDelta(worker, stats), DELTA_INTERVAL_MS);
  timer.unref();

  let closing: Promise<void> | undefined;
  const close = (graceMs?: number) => {
    closing ??= (async () => {
      await running.close(graceMs);
      clearInterval(timer);
      sendDelta(worker, stats);
      worker.disconnect();
    })();
    return closing;
  };
  worker.on('message', (message: Message) => {
    if (message.type === 'ltf:shutdown') void close(message.graceMs);
    else if (message.type === 'ltf:reload') {
      void running.reloadCertificates().then((ok) => worker.send({ type: 'ltf:reloaded', ok } satisfies Message));
    }
  });
  worker.send({ type: 'ltf:listening', urls: running.urls } satisfies Message);
  return { urls: running.urls, reloadCertificates: running.reloadCertificates, close };
}
