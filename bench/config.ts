/** Settings of one benchmark run, all from the environment (see bench/README.md). */

export interface BenchConfig {
  /** Seconds per measurement (`BENCH_DURATION`, default 5). */
  duration: number;
  /** Seconds of discarded load before the first measurement against each server (`BENCH_WARMUP`, default 1). */
  warmup: number;
  /** Measurements per scenario; the table shows medians (`BENCH_RUNS`, default 1). */
  runs: number;
  /** Concurrent keep-alive connections of the load generators (`BENCH_CONNECTIONS`, default 32). */
  connections: number;
  /** Scenario groups to run, `null` for all (`BENCH_ONLY=middleware,legacy-tls,...`). */
  only: Set<string> | null;
  /** Load generator: `wrk` when installed, else autocannon (`BENCH_LOAD=wrk|autocannon` forces one). */
  load: 'auto' | 'wrk' | 'autocannon';
  /** Server variants to run under `node --cpu-prof` (`BENCH_CPU_PROF=koa-fallback,...`). */
  cpuProf: Set<string>;
  /** Requests pushed through TrafficStats in the memory scenario (`BENCH_MEMORY_REQUESTS`, default 1 000 000). */
  memoryRequests: number;
  /** Client of the Node load generator: `undici` (default, cheaper) or `https` (node:https agents). */
  nodeClient: 'undici' | 'https';
  /** Parallel `openssl s_time` processes in the handshake scenario (`BENCH_HANDSHAKE_CLIENTS`, default 2). */
  handshakeClients: number;
}

function positiveNumber(name: string, fallback: number, integer: boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${name}=${raw}: expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

function list(name: string): Set<string> {
  return new Set((process.env[name] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
}

function oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw)) throw new Error(`${name}=${raw}: expected one of ${values.join(', ')}`);
  return raw as T;
}

export function readConfig(): BenchConfig {
  const only = list('BENCH_ONLY');
  return {
    duration: positiveNumber('BENCH_DURATION', 5, false),
    warmup: process.env.BENCH_WARMUP === '0' ? 0 : positiveNumber('BENCH_WARMUP', 1, false),
    runs: positiveNumber('BENCH_RUNS', 1, true),
    connections: positiveNumber('BENCH_CONNECTIONS', 32, true),
    only: only.size === 0 ? null : only,
    load: oneOf('BENCH_LOAD', ['auto', 'wrk', 'autocannon'] as const, 'auto'),
    cpuProf: list('BENCH_CPU_PROF'),
    memoryRequests: positiveNumber('BENCH_MEMORY_REQUESTS', 1_000_000, true),
    nodeClient: oneOf('BENCH_NODE_CLIENT', ['undici', 'https'] as const, 'undici'),
    handshakeClients: positiveNumber('BENCH_HANDSHAKE_CLIENTS', 2, true),
  };
}
