/**
 * The pass-through and router deployments against nginx reached directly, in one run:
 *
 *   npx tsx bench/relay.ts                                  # one run, about 2 minutes
 *   BENCH_RUNS=5 BENCH_DURATION=5 npx tsx bench/relay.ts    # what bench/README.md's rows come from
 *   BENCH_CPU_PROF=relay npx tsx bench/relay.ts             # the relay under --cpu-prof
 *
 * nginx (one worker) serves a 1 KiB static file over TLS 1.2 keep-alive (wrk, `MaxProtocol = TLSv1.2`
 * through OPENSSL_CONF, as the proxy group does). Measured, interleaved: nginx directly; through nginx's
 * own stream/ssl_preread router from `routerConfig('nginx')` (three PROXY set-ups); through the relay
 * (`createRelay`, census on); through a naive `socket.pipe()` relay. Then new TLS 1.2 connections per
 * second (`openssl s_time -new`) directly, through the relay and through the router.
 *
 * Also a child entry: `relay.ts serve <variant> <upstream port> [proxy]` starts one relay and prints
 * `{"port":…,"pid":…}`; it exits when its stdin closes. `relayGroup` is the same measurement as a
 * scenario group of scenarios.ts.
 */
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateSelfSignedCertificate } from '../src/index.js';
import { createRelay, RELAY_SERVER_OPTIONS } from '../src/relay/index.js';
import { routerConfig } from '../src/router-config/index.js';
import { readConfig } from './config.js';
import { measureHandshakes, type HandshakeResult } from './handshake.js';
import { pickLoadTool, runLoad, type LoadResult, type LoadTool } from './load.js';
import { freePort, nginxAvailable, nginxVersion, startNginx, type RunningNginx } from './nginx.js';
import { formatSummary, summarizeProfile } from './profile-summary.js';
import { compileForChildren, runIfMain, hasCommand, installExitHandlers, killAll, onExit, startNodeChild, treeCpuSeconds, type ServerChild } from './processes.js';
import { applyBaselines, markdownTable, median, targetsTable, type Row, type TargetCheck } from './report.js';
import type { BenchConfig } from './config.js';

/**
 * What this group needs of scenarios.ts's BenchContext, declared here so that scenarios.ts can import
 * `relayGroup` without an import cycle (scenarios.ts → relay.ts → scenarios.ts).
 */
export interface RelayBenchContext {
  config: BenchConfig;
  tmpDir: string;
  certFile: string;
  keyFile: string;
  loadTool: LoadTool;
  log(message: string): void;
  profileDir: string;
  profiles: { role: string; file: string; summary: string }[];
}

// ---------------------------------------------------------------------------------------------------
// Child: one relay

export const RELAY_VARIANTS = ['relay', 'pipe', 'manual', 'manual-timeout', 'onread', 'proxy-pass-through'] as const;
export type RelayVariant = (typeof RELAY_VARIANTS)[number];

export interface RelayInfo {
  port: number;
  pid: number;
}

function startRelayServer(variant: RelayVariant, upstreamPort: number, proxyProtocol: boolean): net.Server {
  if (variant === 'pipe') {
    // The naive relay the issue measured: no hello read, pipe() both ways.
    return net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort });
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }
  if (variant === 'manual' || variant === 'manual-timeout') {
    // Forwarding alone, by hand: data → write, pause on a full buffer, resume on drain.
    return net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
      if (variant === 'manual-timeout') client.setTimeout(600_000, () => client.destroy());
      const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true, allowHalfOpen: true });
      client.on('data', (chunk: Buffer) => {
        if (!upstream.write(chunk)) client.pause();
      });
      upstream.on('drain', () => client.resume());
      upstream.on('data', (chunk: Buffer) => {
        if (!client.write(chunk)) upstream.pause();
      });
      client.on('drain', () => upstream.resume());
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }
  if (variant === 'onread') {
    // Forwarding alone, the upstream read into one reused buffer (net's `onread`): no Buffer per read.
    // The buffer is reused only when the write to the client went out at once; otherwise a new one.
    return net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
      let buffer = Buffer.allocUnsafe(65536);
      const upstream = net.connect({
        host: '127.0.0.1',
        port: upstreamPort,
        noDelay: true,
        allowHalfOpen: true,
        onread: {
          buffer: () => buffer,
          callback: (n: number, buf: Uint8Array) => {
            const flushed = client.write(buf.subarray(0, n));
            if (client.writableLength > 0) buffer = Buffer.allocUnsafe(65536);
            if (!flushed) {
              client.once('drain', () => upstream.resume());
              return false;
            }
            return true;
          },
        },
      });
      client.on('data', (chunk: Buffer) => {
        if (!upstream.write(chunk)) client.pause();
      });
      upstream.on('drain', () => client.resume());
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }
  // The census callback does what a real one must at least do: touch the record.
  let census = 0;
  const relay = createRelay({
    upstream: { host: '127.0.0.1', port: upstreamPort },
    proxyProtocol,
    onTerminate: (socket) => socket.destroy(),
    onCensus: (record) => {
      census += record.bytesFromClient > 0 ? 1 : 0;
    },
  });
  const server = net.createServer(RELAY_SERVER_OPTIONS, relay.handle);
  server.on('close', () => void census);
  return server;
}

/**
 * The integrated mode: the package's proxy with `passThrough`, as `legacy-tls-fallback --pass-through`
 * runs it (census, stats and the legacy-capable server behind the relay, all on).
 */
async function startPassThroughProxy(upstreamPort: number, proxyProtocol: boolean, certFile: string, keyFile: string): Promise<{ port: number; close(): Promise<void> }> {
  const { resolveProxyConfig } = await import('../src/proxy/config.js');
  const { startProxy } = await import('../src/proxy/app.js');
  const config = resolveProxyConfig({ upstream: 'http://127.0.0.1:9', listen: '127.0.0.1:0', httpListen: 'off', cert: [certFile], key: [keyFile], passThrough: `127.0.0.1:${upstreamPort}`, proxyProtocol });
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const running = await startProxy(config, quiet);
  return { port: Number(new URL(running.urls.https).port), close: () => running.close(0) };
}

async function serveChild(args: string[]): Promise<void> {
  const [variant, port, proxy, certFile, keyFile] = args as [RelayVariant, string, string | undefined, string | undefined, string | undefined];
  if (!RELAY_VARIANTS.includes(variant)) throw new Error(`usage: relay.ts serve <${RELAY_VARIANTS.join('|')}> <upstream port> [proxy|noproxy [cert key]]`);
  if (variant === 'proxy-pass-through') {
    if (!certFile || !keyFile) throw new Error('proxy-pass-through needs the certificate and key files');
    const running = await startPassThroughProxy(Number(port), proxy === 'proxy', certFile, keyFile);
    const stop = () => {
      setTimeout(() => process.exit(0), 2000).unref();
      void running.close().then(() => process.exit(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
    process.stdout.write(`${JSON.stringify({ port: running.port, pid: process.pid } satisfies RelayInfo)}\n`);
    return;
  }
  const server = startRelayServer(variant, Number(port), proxy === 'proxy');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => {
    const force = setTimeout(() => process.exit(0), 2000);
    force.unref();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  const info: RelayInfo = { port: (server.address() as net.AddressInfo).port, pid: process.pid };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

// ---------------------------------------------------------------------------------------------------
// nginx: the site (1 KiB static file, TLS 1.2+) and the router

const FILE_BYTES = 1024;

function prelude(dir: string): string {
  // As root, nginx would run its worker as nobody, which cannot reach files in the temporary directory.
  const user = process.getuid?.() === 0 ? `user ${os.userInfo().username};\n` : '';
  return `${user}worker_processes 1;\ndaemon off;\nmaster_process on;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\n`;
}

function siteConfig(dir: string, port: number, proxyPort: number, certFile: string, keyFile: string): string {
  return `${prelude(dir)}events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:${port} ssl;
    listen 127.0.0.1:${proxyPort} ssl proxy_protocol;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${dir}/www;
    location / { try_files /1k.txt =404; }
  }
}
`;
}

/** The generated router config, run the way the bench runs nginx: foreground, one worker, files in `dir`. */
function routerNginxConfig(dir: string, port: number, modernPort: number, mode: RouterMode): string {
  const text = routerConfig('nginx', {
    modern: `127.0.0.1:${modernPort}`,
    // Only TLS 1.2 clients here: the legacy side is never reached, but must be a valid address.
    legacy: '127.0.0.1:9',
    listen: `127.0.0.1:${port}`,
    proxyProtocol: mode !== 'none',
    modernProxyProtocol: mode === 'both',
    log: `${dir}/router.log`,
    pidFile: `${dir}/nginx.pid`,
    errorLog: `${dir}/error.log`,
    hopSocket: `${dir}/modern.sock`,
  });
  // Comparable with the site's nginx and with the relay: one worker process, in the foreground.
  return `${prelude(dir)}${text.replace(/^worker_processes auto;\n/m, '').replace(/^pid .*\n/m, '').replace(/^error_log .*\n/m, '')}`;
}

/** PROXY header: none; to the legacy side only (modern connections take the internal hop); to both. */
type RouterMode = 'none' | 'legacy' | 'both';

// ---------------------------------------------------------------------------------------------------
// The measurement

interface Measured<R> {
  result: R;
  /** Server CPU per request: the site and whatever stands in front of it. */
  cpuUs?: number;
  /** The share of what stands in front (router or relay) alone. */
  frontUs?: number;
}

async function withCpu<R>(pids: number[], count: (r: R) => number, measure: () => Promise<R>): Promise<Measured<R>> {
  const front = pids.slice(1);
  const [before, frontBefore] = await Promise.all([treeCpuSeconds(pids), front.length ? treeCpuSeconds(front) : null]);
  const result = await measure();
  const [after, frontAfter] = await Promise.all([treeCpuSeconds(pids), front.length ? treeCpuSeconds(front) : null]);
  const n = count(result);
  const per = (a: number | null, b: number | null) => (a === null || b === null || n === 0 ? undefined : ((b - a) * 1e6) / n);
  return { result, cpuUs: per(before, after), frontUs: per(frontBefore, frontAfter) };
}

function spreadNote(values: number[]): string {
  if (values.length < 2) return '';
  const mid = median(values);
  return `runs ${values.map((v) => Math.round(v).toLocaleString('en-US')).join(' / ')} (±${(((Math.max(...values) - Math.min(...values)) / 2 / mid) * 100).toFixed(0)} %)`;
}

export async function runRelayBench(ctx: RelayBenchContext): Promise<Row[]> {
  const c = ctx.config;
  // BENCH_RELAY_TARGETS=relay,pipe,…: measure only these (and direct), for exploring.
  const onlyList = (process.env.BENCH_RELAY_TARGETS ?? '').split(',').filter(Boolean);
  const only = onlyList.length > 0 ? new Set(onlyList) : null;
  const stops: (() => Promise<void>)[] = [];
  const profiled: { role: string; dir: string }[] = [];
  try {
    const siteDir = path.join(ctx.tmpDir, 'relay-site');
    const proxyPort = await freePort();
    await startDir(siteDir);
    const site = await startNginx(siteDir, (port) => siteConfig(siteDir, port, proxyPort, ctx.certFile, ctx.keyFile));
    stops.push(() => site.stop());
    ctx.log(`  site: nginx on 127.0.0.1:${site.port} (and :${proxyPort} with proxy_protocol)`);

    const routers: Record<RouterMode, RunningNginx> = {} as Record<RouterMode, RunningNginx>;
    for (const mode of ['none', 'legacy', 'both'] as const) {
      const dir = path.join(ctx.tmpDir, `relay-router-${mode}`);
      await startDir(dir);
      const router = await startNginx(dir, (port) => routerNginxConfig(dir, port, mode === 'both' ? proxyPort : site.port, mode));
      routers[mode] = router;
      stops.push(() => router.stop());
      ctx.log(`  router (PROXY ${mode}): nginx stream on 127.0.0.1:${router.port}`);
    }

    const relays: Record<string, ServerChild<RelayInfo>> = {};
    const children: [string, RelayVariant, number, boolean][] = [
      ['relay', 'relay', site.port, false],
      ['relay-proxy', 'relay', proxyPort, true],
      ['pipe', 'pipe', site.port, false],
      ['pass-through', 'proxy-pass-through', site.port, false],
    ];
    // Forwarding strategies alone, for comparison (BENCH_RELAY_TARGETS=manual,onread,…).
    if (only?.has('manual')) children.push(['manual', 'manual', site.port, false]);
    if (only?.has('manual-timeout')) children.push(['manual-timeout', 'manual-timeout', site.port, false]);
    if (only?.has('onread')) children.push(['onread', 'onread', site.port, false]);
    for (const [role, variant, upstream, proxy] of children) {
      if (only && !only.has(role)) continue;
      const profileDir = c.cpuProf.has(role) ? path.join(ctx.profileDir, role) : null;
      if (profileDir) profiled.push({ role, dir: profileDir });
      const extra = variant === 'proxy-pass-through' ? [proxy ? 'proxy' : 'noproxy', ctx.certFile, ctx.keyFile] : proxy ? ['proxy'] : [];
      const child = await startNodeChild<RelayInfo>('./relay.ts', ['serve', variant, String(upstream), ...extra], {
        label: role,
        execArgv: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      });
      relays[role] = child;
      stops.push(() => child.stop());
      ctx.log(`  ${role}: ${variant} relay on 127.0.0.1:${child.info.port} → :${upstream}${profileDir ? ', under --cpu-prof' : ''}`);
    }

    const targets: Record<string, { port: number; pids: number[] }> = { direct: { port: site.port, pids: [site.pid] } };
    for (const mode of ['none', 'legacy', 'both'] as const) targets[`router-${mode}`] = { port: routers[mode].port, pids: [site.pid, routers[mode].pid] };
    for (const [role, child] of Object.entries(relays)) targets[role] = { port: child.info.port, pids: [site.pid, child.info.pid] };
    for (const key of Object.keys(targets)) if (only && key !== 'direct' && !only.has(key)) delete targets[key];
    const spec = (port: number, seconds: number) => ({ url: `https://127.0.0.1:${port}/`, seconds, connections: c.connections, userAgent: 'fixed' as const, maxTls: 'TLSv1.2' as const });
    for (const target of Object.values(targets)) {
      if (c.warmup > 0) await runLoad(ctx.loadTool, spec(target.port, c.warmup), ctx.tmpDir);
    }
    // New connections twice: with enough parallel s_time clients to keep the servers busy (capacity,
    // what the target is about), and with the handshake group's few sequential clients, where each
    // connection waits for the last and the figure measures the latency a relay adds.
    const capacityClients = Math.max(8, c.handshakeClients);
    const handshakeRuns: [key: string, target: { port: number; pids: number[] }, clients: number][] = [];
    for (const key of ['direct', 'relay', 'relay-proxy', 'router-legacy', 'pass-through']) if (targets[key]) handshakeRuns.push([key, targets[key]!, capacityClients]);
    for (const key of ['direct', 'relay']) if (targets[key]) handshakeRuns.push([`${key}-sequential`, targets[key]!, c.handshakeClients]);
    const haveOpenssl = (await hasCommand('openssl')) && process.env.BENCH_RELAY_HANDSHAKES !== '0';

    const load: Record<string, Measured<LoadResult>[]> = {};
    const handshakes: Record<string, Measured<HandshakeResult>[]> = {};
    for (let run = 1; run <= c.runs; run++) {
      for (const [key, target] of Object.entries(targets)) {
        const m = await withCpu(target.pids, (r: LoadResult) => r.requests, () => runLoad(ctx.loadTool, spec(target.port, c.duration), ctx.tmpDir));
        (load[key] ??= []).push(m);
        ctx.log(`  [relay] run ${run}/${c.runs} ${key}: ${Math.round(m.result.rps).toLocaleString('en-US')} req/s, p50 ${m.result.p50.toFixed(2)} ms, p99 ${m.result.p99.toFixed(2)} ms${m.cpuUs === undefined ? '' : `, server CPU ${m.cpuUs.toFixed(1)} µs/req`}${m.frontUs === undefined ? '' : ` (front ${m.frontUs.toFixed(1)})`}${m.result.errors ? `, ${m.result.errors} errors` : ''}`);
      }
      if (!haveOpenssl) continue;
      for (const [key, target, clients] of handshakeRuns) {
        const m = await withCpu(target.pids, (r: HandshakeResult) => r.connections, () => measureHandshakes(target.port, 'new', c.duration, clients));
        (handshakes[key] ??= []).push(m);
        ctx.log(`  [relay] run ${run}/${c.runs} new connections ${key}: ${Math.round(m.result.rate)}/s${m.cpuUs === undefined ? '' : `, server CPU ${m.cpuUs.toFixed(0)} µs each`}${m.frontUs === undefined ? '' : ` (front ${m.frontUs.toFixed(0)})`}`);
      }
    }

    const g = 'relay';
    const loadRow = (key: string, id: string, scenario: string): Row => {
      const results = load[key] ?? [];
      const errors = results.reduce((n, m) => n + m.result.errors + m.result.non2xx, 0);
      return {
        id,
        group: g,
        scenario,
        rps: median(results.map((m) => m.result.rps)),
        p50: median(results.map((m) => m.result.p50)),
        p99: median(results.map((m) => m.result.p99)),
        cpuUs: median(results.map((m) => m.cpuUs ?? NaN)),
        baseline: 'relay-direct',
        raw: results.map((m) => ({ ...m.result, cpuUs: m.cpuUs })),
        note: [
          key === 'direct' ? '' : `front ${median(results.map((m) => m.frontUs ?? NaN)).toFixed(1)} µs/req`,
          errors ? `${errors} errors` : '',
          spreadNote(results.map((m) => m.result.rps)),
        ]
          .filter(Boolean)
          .join('; '),
      };
    };
    const rows: Row[] = [];
    for (const [key, id, scenario, target] of [
      ['direct', 'relay-direct', 'R. nginx directly, TLS 1.2 keep-alive, 1 KiB static file (baseline)', undefined],
      ['router-none', 'relay-router-none', 'R. through nginx stream/ssl_preread router (routerConfig, no PROXY header)', 0.75],
      ['router-legacy', 'relay-router-legacy', 'R. through the router, PROXY to legacy only (modern via the internal hop): the generated default', undefined],
      ['router-both', 'relay-router-both', 'R. through the router, PROXY to both (site listens with proxy_protocol)', undefined],
      ['relay', 'relay-ours', 'R. through createRelay (census on)', undefined],
      ['pass-through', 'relay-pass-through', 'R. through the proxy with --pass-through (relay + census + stats + legacy server): the integrated mode', 0.7],
      ['relay-proxy', 'relay-ours-proxy', 'R. through createRelay with a PROXY v2 header (site listens with proxy_protocol)', undefined],
      ['pipe', 'relay-pipe', 'R. through a naive socket.pipe() relay', undefined],
      ['manual', 'relay-manual', 'R. forwarding alone: data/write/pause/resume', undefined],
      ['manual-timeout', 'relay-manual-timeout', 'R. forwarding alone: data/write/pause/resume, socket.setTimeout on the client', undefined],
      ['onread', 'relay-onread', 'R. forwarding alone: upstream read into a reused buffer (onread)', undefined],
    ] as const) {
      if (load[key]) rows.push({ ...loadRow(key, id, scenario), ...(target !== undefined && { target }) });
    }
    for (const [key, id, scenario, baseline, clients] of [
      ['direct', 'relay-hs-direct', `R. new TLS 1.2 connections/s, nginx directly, ${capacityClients} clients (baseline)`, 'relay-hs-direct', capacityClients],
      ['relay', 'relay-hs-ours', `R. new TLS 1.2 connections/s through createRelay, ${capacityClients} clients`, 'relay-hs-direct', capacityClients],
      ['pass-through', 'relay-hs-pass-through', `R. new TLS 1.2 connections/s through the proxy with --pass-through, ${capacityClients} clients`, 'relay-hs-direct', capacityClients],
      ['relay-proxy', 'relay-hs-ours-proxy', `R. new TLS 1.2 connections/s through createRelay with a PROXY v2 header, ${capacityClients} clients`, 'relay-hs-direct', capacityClients],
      ['router-legacy', 'relay-hs-router', `R. new TLS 1.2 connections/s through the router (generated default), ${capacityClients} clients`, 'relay-hs-direct', capacityClients],
      ['direct-sequential', 'relay-hs-direct-seq', `R. new TLS 1.2 connections/s, nginx directly, ${c.handshakeClients} clients (latency-bound)`, 'relay-hs-direct-seq', c.handshakeClients],
      ['relay-sequential', 'relay-hs-ours-seq', `R. new TLS 1.2 connections/s through createRelay, ${c.handshakeClients} clients (latency-bound)`, 'relay-hs-direct-seq', c.handshakeClients],
    ] as const) {
      const results = handshakes[key];
      if (!results) continue;
      rows.push({
        id,
        group: g,
        scenario,
        rps: median(results.map((m) => m.result.rate)),
        cpuUs: median(results.map((m) => m.cpuUs ?? NaN)),
        baseline,
        ...(key === 'pass-through' && { target: 0.8 }),
        raw: results.map((m) => ({ ...m.result, cpuUs: m.cpuUs })),
        note: [
          `${clients} parallel s_time -new`,
          key.startsWith('direct') ? '' : `front ${median(results.map((m) => m.frontUs ?? NaN)).toFixed(0)} µs each`,
          spreadNote(results.map((m) => m.result.rate)),
        ]
          .filter(Boolean)
          .join('; '),
      });
    }
    return rows;
  } finally {
    await Promise.allSettled(stops.map((stop) => stop()));
    for (const { role, dir } of profiled) {
      const { readdir } = await import('node:fs/promises');
      for (const f of (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.cpuprofile'))) {
        const file = path.join(dir, f);
        const summary = formatSummary(await summarizeProfile(file, 25));
        ctx.profiles.push({ role, file, summary });
        ctx.log(`  CPU profile of ${role}: ${file}\n${summary.replace(/^/gm, '    ')}`);
      }
    }
  }
}

async function startDir(dir: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.join(dir, 'www'), { recursive: true });
  await writeFile(path.join(dir, 'www', '1k.txt'), 'x'.repeat(FILE_BYTES));
  // The worker (nobody, when started as root) must reach the hop's unix socket and the file.
  await chmod(dir, 0o755);
}

/** The targets of the issue, from this run's rows. */
export function relayTargetChecks(rows: readonly Row[]): TargetCheck[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const ratio = (id: string) => byId.get(id)?.ratio ?? null;
  const p99 = (id = 'relay-ours') => {
    const a = byId.get(id)?.p99;
    const b = byId.get('relay-direct')?.p99;
    return a === undefined || b === undefined || !(b > 0) ? null : a / b;
  };
  const check = (target: string, value: number | null, kind: 'min' | 'max', limit: number): TargetCheck =>
    value === null || !Number.isFinite(value)
      ? { target, measured: 'not measured in this run', met: null }
      : { target, measured: `${value.toFixed(3)}×`, met: kind === 'min' ? value >= limit : value <= limit };
  return [
    check('router (nginx stream, no PROXY): ≥ 0.75 of direct', ratio('relay-router-none'), 'min', 0.75),
    check('router as generated (PROXY to legacy only): ≥ 0.75 of direct', ratio('relay-router-legacy'), 'min', 0.75),
    check('router, PROXY to both: ≥ 0.75 of direct', ratio('relay-router-both'), 'min', 0.75),
    check('pass-through (proxy --pass-through, integrated): ≥ 0.70 of direct', ratio('relay-pass-through'), 'min', 0.7),
    check("pass-through (integrated): p99 ≤ 1.5× direct's", p99('relay-pass-through'), 'max', 1.5),
    check('pass-through (integrated): new connections/s ≥ 0.8 of direct (8+ parallel clients)', ratio('relay-hs-pass-through'), 'min', 0.8),
    check('relay alone (createRelay): ≥ 0.70 of direct', ratio('relay-ours'), 'min', 0.7),
    check("relay alone: p99 ≤ 1.5× direct's", p99(), 'max', 1.5),
    check('relay alone: new connections/s ≥ 0.8 of direct (8+ parallel clients)', ratio('relay-hs-ours'), 'min', 0.8),
    check('pass-through: new connections/s ≥ 0.8 of direct (2 sequential clients, latency-bound)', ratio('relay-hs-ours-seq'), 'min', 0.8),
  ];
}

/** The same measurement as a group of scenarios.ts (its ScenarioGroup shape): add it to SCENARIO_GROUPS. */
export const relayGroup = {
  id: 'relay',
  title: 'Pass-through relay and TCP router vs nginx directly (TLS 1.2 keep-alive, 1 KiB static file)',
  skipReason: async () => ((await nginxAvailable()) ? null : 'nginx is not installed'),
  run: runRelayBench,
} satisfies { id: string; title: string; skipReason(ctx: RelayBenchContext): Promise<string | null>; run(ctx: RelayBenchContext): Promise<Row[]> };

// ---------------------------------------------------------------------------------------------------
// Standalone

async function main(): Promise<void> {
  installExitHandlers();
  const config = readConfig();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  if (!(await nginxAvailable())) throw new Error('nginx is not installed');
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bench-relay-'));
  onExit(() => rmSync(tmpDir, { recursive: true, force: true }));
  const load = await pickLoadTool(config.load);
  const cpus = os.cpus();
  const machine = `Machine: ${cpus[0]?.model.trim() ?? '?'}, ${cpus.length} cores; Node ${process.version}; nginx ${await nginxVersion()}; load: ${load.tool} ${load.version} (${config.connections} connections); ${config.duration} s per measurement, ${config.runs} run(s), interleaved; load average at start ${os.loadavg()[0]?.toFixed(2)}`;
  log(machine);
  log('compiling src/ and bench/ with tsc for the child processes');
  await compileForChildren();
  const pair = await generateSelfSignedCertificate(['localhost']);
  const certFile = path.join(tmpDir, 'cert.pem');
  const keyFile = path.join(tmpDir, 'key.pem');
  await writeFile(certFile, pair.cert);
  await writeFile(keyFile, pair.key, { mode: 0o600 });
  const profiles: RelayBenchContext['profiles'] = [];
  const ctx: RelayBenchContext = { config, tmpDir, certFile, keyFile, loadTool: load.tool, log, profileDir: path.join(os.tmpdir(), `ltf-bench-profiles-relay-${Date.now()}`), profiles };
  try {
    const rows = await runRelayBench(ctx);
    applyBaselines(rows);
    process.stdout.write(`\n${machine}\n\n${markdownTable(rows)}\n\n${targetsTable(relayTargetChecks(rows))}\n`);
  } finally {
    killAll();
    await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

runIfMain(import.meta.url, { main, serve: serveChild });
