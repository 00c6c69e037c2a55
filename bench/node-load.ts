/**
 * Child-process entry: a small Node HTTPS load generator whose TLS version can be pinned, which wrk and
 * autocannon cannot do. N keep-alive connections each send one request after the other for
 * `seconds`; prints one JSON line: requests/s, latency percentiles, status counts.
 *
 *   node --import tsx bench/node-load.ts '{"url":"https://127.0.0.1:4430/","tls":"TLSv1","connections":32,"seconds":5}'
 *
 * `client: 'undici'` (default) uses one undici Pool with N connections; `client: 'https'` uses N
 * node:https keep-alive agents (one socket each), as a legacy Node client would.
 */
import https from 'node:https';
import type { SecureVersion } from 'node:tls';
import { Pool } from 'undici';
import { CHROME_UA } from './load.js';
import { runAsChild } from './processes.js';

export interface NodeLoadSpec {
  url: string;
  /** Pinned protocol (min = max). */
  tls: SecureVersion;
  connections: number;
  seconds: number;
  /** Seconds of load before counting starts. */
  warmup?: number;
  client?: 'undici' | 'https';
  userAgent?: string;
}

export interface NodeLoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  seconds: number;
  errors: number;
  statuses: Record<string, number>;
  /** Protocol the server actually negotiated (from the first response's socket, https client only). */
  client: string;
}

type Send = () => Promise<number>;

function tlsOptions(spec: NodeLoadSpec) {
  return {
    minVersion: spec.tls,
    maxVersion: spec.tls,
    // TLS 1.0/1.1 need security level 0 on OpenSSL 3, in the client as in the server.
    ciphers: spec.tls === 'TLSv1' || spec.tls === 'TLSv1.1' ? 'DEFAULT:@SECLEVEL=0' : undefined,
    rejectUnauthorized: false,
  };
}

function undiciSender(spec: NodeLoadSpec, headers: Record<string, string>): { send: Send; close: () => Promise<void> } {
  const url = new URL(spec.url);
  const pool = new Pool(url.origin, { connections: spec.connections, pipelining: 1, connect: tlsOptions(spec) });
  const send: Send = async () => {
    const response = await pool.request({ method: 'GET', path: url.pathname + url.search, headers });
    await response.body.dump();
    return response.statusCode;
  };
  return { send, close: () => pool.close() };
}

function httpsSenders(spec: NodeLoadSpec, headers: Record<string, string>): { senders: Send[]; close: () => Promise<void> } {
  const agents = Array.from({ length: spec.connections }, () => new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsOptions(spec) }));
  const senders = agents.map(
    (agent): Send =>
      () =>
        new Promise<number>((resolve, reject) => {
          const req = https.get(spec.url, { agent, headers }, (res) => {
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
            res.resume();
          });
          req.on('error', reject);
        }),
  );
  return { senders, close: async () => agents.forEach((a) => a.destroy()) };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function nodeLoad(spec: NodeLoadSpec): Promise<NodeLoadResult> {
  const headers = { 'user-agent': spec.userAgent ?? CHROME_UA, accept: '*/*' };
  const clientName = spec.client ?? 'undici';
  let senders: Send[];
  let close: () => Promise<void>;
  if (clientName === 'https') {
    ({ senders, close } = httpsSenders(spec, headers));
  } else {
    const u = undiciSender(spec, headers);
    senders = Array.from({ length: spec.connections }, () => u.send);
    close = u.close;
  }

  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  const statuses: Record<string, number> = {};
  let measuring = false;
  let stopped = false;

  const loop = async (send: Send): Promise<void> => {
    while (!stopped) {
      const started = performance.now();
      try {
        const status = await send();
        if (!measuring || stopped) continue;
        const elapsed = performance.now() - started;
        if (count === latencies.length) {
          const bigger = new Float64Array(latencies.length * 2);
          bigger.set(latencies);
          latencies = bigger;
        }
        latencies[count++] = elapsed;
        statuses[status] = (statuses[status] ?? 0) + 1;
      } catch {
        if (measuring && !stopped) errors++;
        // A refused connection must not spin: back off a little.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };

  const loops = senders.map((send) => loop(send));
  await new Promise((resolve) => setTimeout(resolve, (spec.warmup ?? 0) * 1000));
  measuring = true;
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, spec.seconds * 1000));
  stopped = true;
  const seconds = (performance.now() - startedAt) / 1000;
  const measured = count;
  await Promise.race([Promise.all(loops), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  await close().catch(() => undefined);

  const sorted = latencies.subarray(0, measured).sort();
  return {
    rps: measured / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    requests: measured,
    seconds,
    errors,
    statuses,
    client: clientName,
  };
}

runAsChild(import.meta.url, nodeLoad);
