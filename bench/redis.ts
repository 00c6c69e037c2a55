/**
 * The Redis store (issue 12) against the file store, and what it costs Redis:
 *
 *   npx tsx bench/redis.ts                                   # one run, about 2 minutes
 *   BENCH_RUNS=3 BENCH_DURATION=5 npx tsx bench/redis.ts     # interleaved repeats, medians
 *
 * 1. Throughput: Koa + legacyTlsFallback on createLegacyTlsServer, one server with
 *    `TrafficStats({ statsFile })`, one with `TrafficStats({ store: redisStore({ url }) })`, both flushing
 *    every second (so flushes fall inside every measurement), interleaved; scenario 1 one Chrome user
 *    agent, scenario 2 a new user agent per request. Target: Redis/file ≥ 0.97.
 * 2. One flush of a busy instance: the delta of one hour of distinct-visitor traffic at scenario 2's
 *    measured rate, timed by Redis itself (`INFO commandstats`, usec per EVALSHA/EVAL). Target < 50 ms.
 * 3. Redis memory per site per day of retention: a day of saturated hours (every label cap reached,
 *    every sketch register set) written through the store, then `MEMORY USAGE` of each key.
 *
 * Also a child entry: `redis.ts serve <file|redis> <stats file|redis url>` starts one server and prints
 * `{"port":…,"pid":…}`; it exits when its stdin closes.
 */
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import Koa from 'koa';
import { createLegacyTlsServer, generateSelfSignedCertificate, TrafficStats } from '../src/index.js';
import { legacyTlsFallback } from '../src/koa/index.js';
import { HOUR_MS, hourStart } from '../src/stats/model.js';
import { redisStore } from '../src/stats/stores/redis.js';
import { CLIENT_HELLO_OUTCOMES, type Verdict } from '../src/types.js';
import { readConfig } from './config.js';
import { pickLoadTool, runLoad, type LoadResult, type UserAgentMode } from './load.js';
import { compileForChildren, runIfMain, installExitHandlers, killAll, onExit, runTracked, spawnTracked, startNodeChild, stopProcess, treeCpuSeconds, type ServerChild } from './processes.js';
import { median } from './report.js';
import { userAgentShapes } from './user-agent-shapes.js';

// ---------------------------------------------------------------------------------------------------
// Child: one server

interface ServeInfo {
  port: number;
  pid: number;
}

async function serveChild([kind, where]: string[]): Promise<void> {
  const certFile = process.env.BENCH_CERT_FILE;
  const keyFile = process.env.BENCH_KEY_FILE;
  if ((kind !== 'file' && kind !== 'redis') || !where || !certFile || !keyFile) throw new Error('usage: BENCH_CERT_FILE=… BENCH_KEY_FILE=… redis.ts serve <file|redis> <stats file|redis url>');
  // Every second, so that writes fall inside every measurement (the default is 10 s).
  const stats = kind === 'file' ? new TrafficStats({ statsFile: where, flushInterval: 1_000 }) : new TrafficStats({ store: redisStore({ url: where, instance: 'bench' }), flushInterval: 1_000 });
  await stats.ready;
  const app = new Koa();
  app.use(legacyTlsFallback({ stats }));
  app.use((ctx) => {
    ctx.body = 'hello';
  });
  const server = createLegacyTlsServer({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), logger: { warn: () => undefined } }, app.callback());
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => {
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    server.closeAllConnections();
    server.close(() => void stats.close().finally(() => process.exit(0)));
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  const info: ServeInfo = { port: (server.address() as net.AddressInfo).port, pid: process.pid };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Redis

interface BenchRedis {
  url: string;
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startRedis(dir: string): Promise<BenchRedis> {
  const port = await freePort();
  const child = spawnTracked('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', path.join(dir, 'redis.log')], { stdio: 'ignore' });
  const cli = async (...args: string[]) => {
    const done = await runTracked('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeoutMs: 30_000 });
    if (done.code !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${done.stderr}`);
    return done.stdout;
  };
  for (let i = 0; ; i++) {
    if ((await cli('PING').catch(() => '')).trim() === 'PONG') break;
    if (i > 100) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, cli, stop: () => stopProcess(child) };
}

// ---------------------------------------------------------------------------------------------------
// 2 and 3: deltas of saturated hours

const LEGACY_CLIENTS = 40;
const OSES = 30;

function verdict(i: number): Verdict {
  const legacy = i % 2 === 0;
  return {
    legacy,
    reasons: legacy ? ['tls-version'] : [],
    tls: { protocol: legacy ? (i % 4 === 0 ? 'TLSv1' : 'TLSv1.1') : i % 3 === 0 ? 'TLSv1.2' : 'TLSv1.3', cipher: null, servername: null, source: 'socket' },
    client: { browser: legacy ? `Browser${i % LEGACY_CLIENTS}` : 'Chrome', version: '1.0', os: `OS${i % OSES}`, bot: i % 7 === 0, kind: i % 7 === 0 ? 'bot' : 'browser' },
  };
}

/** `count` requests from distinct visitors (one address each): every label cap reached, every register set well before 200 000. */
function recordHour(stats: TrafficStats, count: number, offset: number): void {
  for (let i = 0; i < count; i++) {
    const n = offset + i;
    // Hosts, path groups and failed fingerprints past their caps (20, 64, 32), the census's every outcome.
    const site = { host: `host${i % 30}.example`, group: `group${i % 80}` };
    stats.recordRequest({ verdict: verdict(i), action: i % 2 === 0 ? 'redirected' : 'passed', remoteAddress: `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, userAgent: `ua-${i % 50}`, site });
    if (i % 10 === 0) stats.recordHandshake(verdict(i).tls.protocol, i % 20 === 0);
    stats.recordClientHello(CLIENT_HELLO_OUTCOMES[i % CLIENT_HELLO_OUTCOMES.length] ?? 'TLSv1');
    if (i % 10 === 5) stats.recordHandshakeFailure('protocol-too-old', { maxVersion: 'SSLv3', ja4: `t00d${String(i % 50).padStart(4, '0')}00_aaaaaaaaaaaa_bbbbbbbbbbbb` });
  }
}

function commandStats(info: string): { calls: number; usec: number } {
  let calls = 0;
  let usec = 0;
  for (const line of info.split('\n')) {
    const m = /^cmdstat_(evalsha|eval):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) {
      calls += Number(m[2]);
      usec += Number(m[3]);
    }
  }
  return { calls, usec };
}

/** Redis time of single flushes, each a whole saturated hour from a fresh instance (the biggest delta an hour makes). */
async function flushCost(redis: BenchRedis, requests: number, repeats: number): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let r = 0; r < repeats; r++) {
    const stats = new TrafficStats({ store: redisStore({ url: redis.url, keyPrefix: `flush${r}:`, instance: `busy-${r}` }), flushInterval: 3_600_000 });
    await stats.ready;
    // The first flush of an instance also writes the salt: out of the measurement.
    await stats.flush();
    recordHour(stats, requests, r * requests);
    await redis.cli('CONFIG', 'RESETSTAT');
    await stats.flush();
    // What the flush sent: the script call, less the INFO and CONFIG commands of redis-cli (a few bytes).
    bytes = Number(/total_net_input_bytes:(\d+)/.exec(await redis.cli('INFO', 'stats'))?.[1] ?? 0);
    const { calls, usec } = commandStats(await redis.cli('INFO', 'commandstats'));
    if (calls !== 1 && calls !== 2) throw new Error(`expected one script call, saw ${calls}`);
    ms.push(usec / 1000);
    await stats.close();
  }
  return { ms, bytes };
}

/** Redis time of one flush after an outage: `hours` saturated hours sent as one delta. */
async function backlogCost(redis: BenchRedis, hours: number, perHour: number): Promise<{ ms: number; bytes: number; calls: number; longestMs: number }> {
  let clock = hourStart(Date.now()) - (hours - 1) * HOUR_MS;
  const stats = new TrafficStats({ store: redisStore({ url: redis.url, keyPrefix: `backlog${hours}:`, instance: 'backlog' }), flushInterval: 3_600_000, now: () => clock });
  await stats.ready;
  await stats.flush();
  for (let h = 0; h < hours; h++) {
    // Kept in memory, as while Redis is away; written at once below.
    recordHour(stats, perHour, h * perHour);
    clock += HOUR_MS;
  }
  clock -= HOUR_MS;
  await redis.cli('CONFIG', 'RESETSTAT');
  // Every command logged, the script's own redis.call()s too (Redis 7): room for all of them.
  await redis.cli('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
  await redis.cli('CONFIG', 'SET', 'slowlog-max-len', '1000000');
  await redis.cli('SLOWLOG', 'RESET');
  await stats.flush();
  await redis.cli('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  const bytes = Number(/total_net_input_bytes:(\d+)/.exec(await redis.cli('INFO', 'stats'))?.[1] ?? 0);
  const { calls, usec } = commandStats(await redis.cli('INFO', 'commandstats'));
  const longestMs = await slowest(redis);
  await stats.close();
  return { ms: usec / 1000, bytes, calls, longestMs };
}

/** The longest script call SLOWLOG kept since it was reset (the threshold is set to 0 around the flush), in ms. */
async function slowest(redis: BenchRedis): Promise<number> {
  const client = createClient({ url: redis.url, RESP: 2 });
  await client.connect();
  try {
    const entries = (await client.sendCommand(['SLOWLOG', 'GET', '-1'])) as [number, number, number, string[]][];
    const scripts = entries.filter((entry) => /^eval/i.test(String(entry[3]?.[0] ?? '')));
    return Math.max(0, ...scripts.map((entry) => Number(entry[2]))) / 1000;
  } finally {
    await client.close();
  }
}

/** A day of saturated hours under one prefix; the bytes of each kind of key. */
async function memoryPerDay(redis: BenchRedis, perHour: number): Promise<Record<string, { keys: number; bytes: number }>> {
  const prefix = 'site:';
  let clock = hourStart(Date.now()) - 23 * HOUR_MS;
  const stats = new TrafficStats({ store: redisStore({ url: redis.url, keyPrefix: prefix, instance: 'mem' }), flushInterval: 3_600_000, now: () => clock });
  await stats.ready;
  for (let h = 0; h < 24; h++) {
    recordHour(stats, perHour, h * perHour);
    await stats.flush();
    clock += HOUR_MS;
  }
  await stats.close();
  const keys = (await redis.cli('--scan', '--pattern', `${prefix}*`)).trim().split('\n').filter(Boolean);
  const kinds: Record<string, { keys: number; bytes: number }> = {};
  for (const key of keys) {
    const kind = key.slice(prefix.length).replace(/:.*$/, '');
    const bytes = Number((await redis.cli('MEMORY', 'USAGE', key, 'SAMPLES', '0')).trim());
    const entry = (kinds[kind] ??= { keys: 0, bytes: 0 });
    entry.keys += 1;
    entry.bytes += bytes;
  }
  return kinds;
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  installExitHandlers();
  const config = readConfig();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bench-redis-'));
  onExit(() => rmSync(tmpDir, { recursive: true, force: true }));
  const load = await pickLoadTool(config.load);
  const cpus = os.cpus();
  const version = (await runTracked('redis-server', ['--version'], { timeoutMs: 5000 })).stdout.trim().split(' ').find((w) => w.startsWith('v='))?.slice(2) ?? '?';
  const machine = `Machine: ${cpus[0]?.model.trim() ?? '?'}, ${cpus.length} cores; Node ${process.version}; Redis ${version}; load: ${load.tool} ${load.version} (${config.connections} connections); ${config.duration} s per measurement, ${config.runs} run(s), interleaved; load average at start ${os.loadavg()[0]?.toFixed(2)}`;
  log(machine);
  log('compiling src/ and bench/ with tsc for the child processes');
  await compileForChildren();
  const pair = await generateSelfSignedCertificate(['localhost']);
  const certFile = path.join(tmpDir, 'cert.pem');
  const keyFile = path.join(tmpDir, 'key.pem');
  await writeFile(certFile, pair.cert);
  await writeFile(keyFile, pair.key, { mode: 0o600 });
  const redisDir = path.join(tmpDir, 'redis');
  await mkdir(redisDir);
  const redis = await startRedis(redisDir);
  const servers: ServerChild<ServeInfo>[] = [];
  try {
    const env = { BENCH_CERT_FILE: certFile, BENCH_KEY_FILE: keyFile };
    const start = async (kind: 'file' | 'redis', where: string) => {
      const server = await startNodeChild<ServeInfo>('./redis.ts', ['serve', kind, where], { env, label: kind });
      servers.push(server);
      return server.info;
    };
    const shape = userAgentShapes()[0]!;
    const targets = {
      'file, one UA': { server: await start('file', path.join(tmpDir, 'stats-1.json')), ua: 'fixed' as UserAgentMode },
      'redis, one UA': { server: await start('redis', `${redis.url}/0`), ua: 'fixed' as UserAgentMode },
      [`file, new UA (${shape.id})`]: { server: await start('file', path.join(tmpDir, 'stats-2.json')), ua: shape as UserAgentMode },
      [`redis, new UA (${shape.id})`]: { server: await start('redis', `${redis.url}/1`), ua: shape as UserAgentMode },
    };
    const spec = (port: number, seconds: number, userAgent: UserAgentMode) => ({ url: `https://127.0.0.1:${port}/`, seconds, connections: config.connections, userAgent });
    for (const { server, ua } of Object.values(targets)) if (config.warmup > 0) await runLoad(load.tool, spec(server.port, config.warmup, ua), tmpDir);
    const results: Record<string, (LoadResult & { cpuUs: number })[]> = {};
    for (let run = 1; run <= config.runs; run++) {
      for (const [name, { server, ua }] of Object.entries(targets)) {
        const before = await treeCpuSeconds([server.pid]);
        const result = await runLoad(load.tool, spec(server.port, config.duration, ua), tmpDir);
        const after = await treeCpuSeconds([server.pid]);
        // The server's own CPU per request: on a shared machine far steadier than req/s, which other jobs' load moves.
        const cpuUs = before === null || after === null || result.requests === 0 ? NaN : ((after - before) * 1e6) / result.requests;
        (results[name] ??= []).push({ ...result, cpuUs });
        log(`  run ${run}/${config.runs} ${name}: ${Math.round(result.rps)} req/s, server CPU ${cpuUs.toFixed(0)} µs/req, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors, ${result.non2xx} bad`);
      }
    }
    for (const server of servers.splice(0)) await server.stop();
    const rps = (name: string) => median((results[name] ?? []).map((r) => r.rps));
    // Ratios per run (run k of both measured seconds apart), then their median.
    const ratio = (a: string, b: string) => median((results[a] ?? []).map((r, i) => r.rps / (results[b]?.[i]?.rps ?? NaN)));
    const cpu = (name: string) => median((results[name] ?? []).map((r) => r.cpuUs));
    // Requests per CPU-second, Redis over file: the throughput ratio a server with a core to itself would see.
    const cpuRatio = (a: string, b: string) => median((results[a] ?? []).map((r, i) => (results[b]?.[i]?.cpuUs ?? NaN) / r.cpuUs));
    const names = Object.keys(targets);
    const lines = [
      '| Scenario | req/s (median) | Redis / file (req/s) | server CPU µs/req (median) | Redis / file (req per CPU-second) |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...names.map((name, i) =>
        i % 2 === 1
          ? `| ${name} | ${Math.round(rps(name)).toLocaleString('en-US')} | ${ratio(name, names[i - 1]!).toFixed(3)} | ${cpu(name).toFixed(0)} | ${cpuRatio(name, names[i - 1]!).toFixed(3)} (target ≥ 0.97) |`
          : `| ${name} | ${Math.round(rps(name)).toLocaleString('en-US')} | | ${cpu(name).toFixed(0)} | |`,
      ),
    ];

    // 2. One hour at scenario 2's rate; every sketch saturates long before, so the delta is as big as an hour's can be.
    const hourRequests = Math.round(rps(names[3]!) * 3600);
    const simulated = Math.min(hourRequests, 400_000);
    log(`flush cost: ${simulated.toLocaleString('en-US')} distinct-visitor requests per delta (an hour at ${Math.round(rps(names[3]!))} req/s is ${hourRequests.toLocaleString('en-US')}; the delta's size stops growing once every register and label cap is reached)`);
    const flush = await flushCost(redis, simulated, 5);
    lines.push(
      '',
      `One flush of a busy instance's delta (${simulated.toLocaleString('en-US')} distinct visitors, every label cap reached; ${(flush.bytes / 1024).toFixed(0)} KiB sent): Redis time per script call ${median(flush.ms).toFixed(2)} ms (median of ${flush.ms.length}: ${flush.ms.map((v) => v.toFixed(2)).join(' / ')}; target < 50 ms).`,
    );

    const backlog = await backlogCost(redis, 24, 30_000);
    lines.push(
      `After a day without Redis, the backlog (24 saturated hours, ${(backlog.bytes / 1024).toFixed(0)} KiB) goes out in ${backlog.calls} script calls, ${backlog.ms.toFixed(1)} ms of Redis time in all, the longest call ${backlog.longestMs.toFixed(1)} ms (SLOWLOG).`,
    );

    // 3. Memory per site per day of retention.
    const kinds = await memoryPerDay(redis, 30_000);
    // What a report costs: every hour and day key of the 31 days a report can show, read and decoded.
    const reader = new TrafficStats({ store: redisStore({ url: redis.url, keyPrefix: 'site:', instance: 'reader' }), flushInterval: 3_600_000 });
    await reader.ready;
    const reads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await reader.refresh();
      reads.push(performance.now() - t0);
    }
    await reader.close();
    lines.push(`A report's read of the same site (a day of saturated hours among the 31 days a report covers, ~900 pipelined HGETALLs, decoded): ${median(reads).toFixed(0)} ms wall in the reading process (median of ${reads.length}).`);
    // The 24 hours may straddle two dates: a day of retention holds 24 `h` keys and one `d` and one `dv`.
    const each = (kind: string) => (kinds[kind]?.bytes ?? 0) / Math.max(1, kinds[kind]?.keys ?? 1);
    const perDay = 24 * each('h') + each('d') + each('dv');
    const fixed = Object.entries(kinds).filter(([k]) => !['h', 'd', 'dv'].includes(k));
    lines.push(
      '',
      '| Keys (one site, one day of saturated hours) | keys | bytes (MEMORY USAGE) |',
      '| --- | ---: | ---: |',
      ...Object.entries(kinds).map(([kind, { keys, bytes }]) => `| \`${kind}\` | ${keys} | ${bytes.toLocaleString('en-US')} |`),
      '',
      `Per site, per day of retention (24 \`h\`, one \`d\` and one \`dv\`): ${(perDay / 1024).toFixed(0)} KiB; plus, whatever the retention, the 48 h of hourly sketches (\`hv\`, ${((each('hv') * 49) / 1024).toFixed(0)} KiB when full) and ${fixed.filter(([k]) => k !== 'hv').reduce((n, [, v]) => n + v.bytes, 0).toLocaleString('en-US')} bytes of totals, salt and instance keys. 90 days: ${((perDay * 90) / 1024 / 1024).toFixed(1)} MiB.`,
    );
    process.stdout.write(`\n${machine}\n\n${lines.join('\n')}\n`);
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await redis.stop();
    killAll();
    await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

runIfMain(import.meta.url, { main, serve: serveChild });
