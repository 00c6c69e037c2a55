/**
 * The scenario list. Each group starts the servers it needs (each in its own child process), measures
 * every scenario `runs` times, interleaved (A B C, A B C, …) so that drift hits all of them alike,
 * and returns table rows with medians. Ratios are computed against a baseline row of the same run.
 *
 * To add a scenario: add a row to a group below, or a new `ScenarioGroup` to `SCENARIO_GROUPS`.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { analyseTable, envNumber, rates, runAnalyseBench } from './analyse.js';
import type { ReaderResult } from './analyse-reader.js';
import type { BenchConfig } from './config.js';
import { HANDSHAKE_CIPHER, measureHandshakes, type HandshakeMode, type HandshakeResult } from './handshake.js';
import { runLoad, type LoadResult, type LoadTool, type UserAgentMode } from './load.js';
import type { MemoryResult, MemorySpec } from './memory.js';
import { nginxAvailable, nginxHelloConfig, nginxProxyConfig, startNginx, type RunningNginx } from './nginx.js';
import type { NodeLoadResult, NodeLoadSpec } from './node-load.js';
import { formatSummary, summarizeProfile } from './profile-summary.js';
import { userAgentShapes } from './user-agent-shapes.js';
import { relayGroup } from './relay.js';
import { hasCommand, runNodeJson, startNodeChild, treeCpuSeconds, type ServerChild } from './processes.js';
import { median, mib, type Row } from './report.js';
import type { ServerInfo, ServerVariant } from './servers.js';

export interface BenchContext {
  config: BenchConfig;
  /** Temporary directory of this run (removed at the end). */
  tmpDir: string;
  certFile: string;
  keyFile: string;
  loadTool: LoadTool;
  log(message: string): void;
  /** Where servers started under `--cpu-prof` write their profiles (kept after the run). */
  profileDir: string;
  /** Profiles written by servers started under `--cpu-prof`, with their summaries. */
  profiles: { role: string; file: string; summary: string }[];
}

export interface ScenarioGroup {
  id: string;
  title: string;
  /** Why the group cannot run here, or null. */
  skipReason?(ctx: BenchContext): Promise<string | null>;
  run(ctx: BenchContext): Promise<Row[]>;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Servers started by a group; all stopped (and their profiles collected) by `stopAll`. */
class Servers {
  private readonly started: { role: string; server: ServerChild<ServerInfo>; profileDir: string | null }[] = [];
  private readonly nginxes: RunningNginx[] = [];

  constructor(private readonly ctx: BenchContext) {}

  /**
   * Starts `variant` in a child process. `role` names this server in logs and in BENCH_CPU_PROF, so
   * that two servers of the same variant (e.g. fixed and unique user agents) can be profiled apart.
   */
  async start(role: string, variant: ServerVariant, env: NodeJS.ProcessEnv = {}): Promise<ServerInfo> {
    const { ctx } = this;
    const profile = ctx.config.cpuProf.has(role) || ctx.config.cpuProf.has(variant);
    const profileDir = profile ? path.join(ctx.profileDir, role) : null;
    const server = await startNodeChild<ServerInfo>('./servers.ts', [variant], {
      label: role,
      env: { BENCH_CERT_FILE: ctx.certFile, BENCH_KEY_FILE: ctx.keyFile, ...env },
      execArgv: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
    this.started.push({ role, server, profileDir });
    ctx.log(`  ${role}: ${variant} on 127.0.0.1:${server.info.port} (pid ${server.info.pid})${profileDir ? ', under --cpu-prof' : ''}`);
    return server.info;
  }

  async nginx(role: string, config: (dir: string, port: number) => string): Promise<RunningNginx> {
    const dir = path.join(this.ctx.tmpDir, `nginx-${role}`);
    const nginx = await startNginx(dir, (port) => config(dir, port));
    this.nginxes.push(nginx);
    this.ctx.log(`  ${role}: nginx on 127.0.0.1:${nginx.port}`);
    return nginx;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.started.map((s) => s.server.stop()), ...this.nginxes.map((n) => n.stop())]);
    for (const { role, profileDir } of this.started) {
      if (!profileDir) continue;
      const files = (await readdir(profileDir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
      for (const f of files) {
        const file = path.join(profileDir, f);
        const summary = formatSummary(await summarizeProfile(file, 20));
        this.ctx.profiles.push({ role, file, summary });
        this.ctx.log(`  CPU profile of ${role}: ${file}\n${summary.replace(/^/gm, '    ')}`);
      }
    }
  }
}

type Measure<R> = () => Promise<R>;
type WithCpu<R> = R & { cpuUs?: number };

/** Wraps a measurement with the CPU time the server processes (`pids` and their children) spent in it. */
function withCpu<R>(pids: readonly number[], count: (r: R) => number, measure: Measure<R>): Measure<WithCpu<R>> {
  return async () => {
    const before = await treeCpuSeconds(pids);
    const result = await measure();
    const after = await treeCpuSeconds(pids);
    const n = count(result);
    const cpuUs = before === null || after === null || n === 0 ? undefined : ((after - before) * 1e6) / n;
    return { ...result, cpuUs };
  };
}

function medianCpu(results: readonly { cpuUs?: number }[]): number | undefined {
  const values = results.map((r) => r.cpuUs).filter((v): v is number => v !== undefined);
  return values.length === 0 ? undefined : median(values);
}

/** Runs every measurement `runs` times, interleaved, and returns all results per key. */
async function interleaved<R>(ctx: BenchContext, group: string, measures: Record<string, Measure<R>>, describe: (r: R) => string): Promise<Record<string, R[]>> {
  const results: Record<string, R[]> = {};
  for (let run = 1; run <= ctx.config.runs; run++) {
    for (const [key, measure] of Object.entries(measures)) {
      const result = await measure();
      (results[key] ??= []).push(result);
      ctx.log(`  [${group}] run ${run}/${ctx.config.runs} ${key}: ${describe(result)}`);
    }
  }
  return results;
}

function describeLoad(r: { rps: number; p50: number; p99: number; cpuUs?: number }): string {
  return `${Math.round(r.rps).toLocaleString('en-US')} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${r.cpuUs === undefined ? '' : `, server CPU ${r.cpuUs.toFixed(0)} µs/req`}`;
}

/** `spread ±x %` of the runs around their median, when there are several. */
export function spread(values: readonly number[]): string {
  if (values.length < 2) return '';
  const mid = median(values);
  const half = (Math.max(...values) - Math.min(...values)) / 2;
  return `runs ${values.map((v) => Math.round(v).toLocaleString('en-US')).join(' / ')} (±${((half / mid) * 100).toFixed(0)} %)`;
}

function loadRow(id: string, group: string, scenario: string, results: readonly WithCpu<LoadResult>[], extra: Partial<Row> = {}): Row {
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const bad = results.reduce((n, r) => n + r.non2xx, 0);
  const problems = [errors > 0 ? `${errors} socket errors/timeouts` : '', bad > 0 ? `${bad} error responses` : ''].filter(Boolean).join(', ');
  return {
    id,
    group,
    scenario,
    ...medians(results),
    ...extra,
    note: [extra.note, problems, spread(results.map((r) => r.rps))].filter(Boolean).join('; '),
  };
}

/** The figures of a row from its runs: medians of req/s, latencies and server CPU, and the raw runs. */
function medians(results: readonly WithCpu<{ rps: number; p50: number; p99: number }>[]): Pick<Row, 'rps' | 'p50' | 'p99' | 'cpuUs' | 'raw'> {
  return {
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    cpuUs: medianCpu(results),
    raw: results,
  };
}

function url(port: number, scheme: 'https' | 'http' = 'https'): string {
  return `${scheme}://127.0.0.1:${port}/`;
}

async function warm(ctx: BenchContext, target: string, userAgent: UserAgentMode = 'fixed'): Promise<void> {
  if (ctx.config.warmup > 0) {
    await runLoad(ctx.loadTool, { url: target, seconds: ctx.config.warmup, connections: ctx.config.connections, userAgent }, ctx.tmpDir);
  }
}

async function withServers(ctx: BenchContext, body: (servers: Servers) => Promise<Row[]>): Promise<Row[]> {
  const servers = new Servers(ctx);
  try {
    return await body(servers);
  } finally {
    await servers.stopAll();
  }
}

// ---------------------------------------------------------------------------------------------
// 1 + 2. Middleware overhead, with one user agent and with a different one on every request

const middleware: ScenarioGroup = {
  id: 'middleware',
  title: 'Koa middleware overhead (keep-alive, TLS 1.3)',
  run: (ctx) =>
    withServers(ctx, async (servers) => {
      const bare = await servers.start('bare', 'koa-bare');
      const noop = await servers.start('noop', 'koa-noop');
      const fallback = await servers.start('fallback', 'koa-fallback');
      // A server of its own, so its LRU cache and profile are those of the new-user-agent streams only.
      const unique = await servers.start('fallback-unique-ua', 'koa-fallback');
      const shapes = userAgentShapes();
      const c = ctx.config;
      const load = (server: ServerInfo, userAgent: UserAgentMode) =>
        withCpu([server.pid], (r: LoadResult) => r.requests, () =>
          runLoad(ctx.loadTool, { url: url(server.port), seconds: c.duration, connections: c.connections, userAgent }, ctx.tmpDir),
        );
      await warm(ctx, url(bare.port));
      await warm(ctx, url(fallback.port));
      await warm(ctx, url(noop.port));
      for (const shape of shapes) {
        await warm(ctx, url(unique.port), shape);
        await warm(ctx, url(bare.port), shape);
      }
      const measures: Record<string, Measure<WithCpu<LoadResult>>> = {
        bare: load(bare, 'fixed'),
        fallback: load(fallback, 'fixed'),
        // Control: a middleware that only calls next(), to tell what any middleware costs here.
        noop: load(noop, 'fixed'),
      };
      for (const shape of shapes) {
        // Each stream against bare Koa too, which never reads the user agent: the package is measured
        // against the same stream, and what bare Koa loses to the fixed user agent is the stream's
        // own cost (wrk's Lua, new header strings, longer headers).
        measures[`fallback ${shape.id}`] = load(unique, shape);
        measures[`bare ${shape.id}`] = load(bare, shape);
      }
      const r = await interleaved(ctx, 'middleware', measures, describeLoad);
      const g = 'middleware';
      const rows = [
        loadRow('koa-bare', g, '1. Koa on createLegacyTlsServer, one Chrome UA (baseline)', r.bare ?? [], { baseline: 'koa-bare' }),
        loadRow('koa-fallback', g, '1. + legacyTlsFallback({ stats })', r.fallback ?? [], { baseline: 'koa-bare', target: 0.97 }),
        loadRow('koa-noop', g, '1. control: + a middleware that only calls next()', r.noop ?? [], { baseline: 'koa-bare' }),
      ];
      for (const shape of shapes) {
        const bareId = `koa-bare-unique-${shape.id}`;
        const stream = { shape: shape.id, modern: shape.modern };
        rows.push(
          loadRow(`koa-fallback-unique-${shape.id}`, g, `2. + a new UA per request: ${shape.title}`, r[`fallback ${shape.id}`] ?? [], {
            baseline: bareId,
            target: 0.6,
            stream,
            note: 'ratio to the next row: bare Koa under the same stream',
          }),
          loadRow(bareId, g, `2. control: bare Koa under the ${shape.id} stream (what the stream costs without the package)`, r[`bare ${shape.id}`] ?? [], {
            baseline: 'koa-bare',
          }),
        );
      }
      return rows;
    }),
};

// ---------------------------------------------------------------------------------------------
// 3. TLS 1.0 clients sent to the fallback page, against TLS 1.3 clients of the bare app

const legacyTls: ScenarioGroup = {
  id: 'legacy-tls',
  title: 'TLS 1.0 clients redirected to the fallback page (Node load generator)',
  run: (ctx) =>
    withServers(ctx, async (servers) => {
      const bare = await servers.start('bare-tls13', 'koa-bare');
      const fallback = await servers.start('fallback-tls10', 'koa-fallback');
      const c = ctx.config;
      // The client's warm-up is inside node-load (a fresh process each run), so the server's CPU is
      // counted over warm-up + measurement: scale by the requests of both.
      const load = (server: ServerInfo, tls: NodeLoadSpec['tls']) =>
        withCpu([server.pid], (r: NodeLoadResult) => r.requests * ((c.duration + c.warmup) / c.duration), () =>
          runNodeJson<NodeLoadResult>(
            './node-load.ts',
            [JSON.stringify({ url: url(server.port), tls, connections: c.connections, seconds: c.duration, warmup: c.warmup, client: c.nodeClient } satisfies NodeLoadSpec)],
            { timeoutMs: (c.duration + c.warmup + 30) * 1000 },
          ),
        );
      const r = await interleaved(ctx, 'legacy-tls', { tls13: load(bare, 'TLSv1.3'), tls10: load(fallback, 'TLSv1') }, (x) => `${describeLoad(x)}, ${JSON.stringify(x.statuses)}`);
      const row = (id: string, scenario: string, results: WithCpu<NodeLoadResult>[], expected: string, extra: Partial<Row>): Row => {
        const statuses: Record<string, number> = {};
        for (const result of results) for (const [s, n] of Object.entries(result.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
        const unexpected = Object.entries(statuses).filter(([s]) => s !== expected);
        const errors = results.reduce((n, x) => n + x.errors, 0);
        return {
          id,
          group: 'legacy-tls',
          scenario,
          ...medians(results),
          ...extra,
          note: [
            extra.note,
            `${c.nodeClient} client`,
            unexpected.length > 0 ? `UNEXPECTED statuses ${JSON.stringify(Object.fromEntries(unexpected))}` : `all ${expected}`,
            errors > 0 ? `${errors} errors` : '',
            spread(results.map((x) => x.rps)),
          ]
            .filter(Boolean)
            .join('; '),
        };
      };
      return [
        row('node-tls13-bare', '3. Node client, TLS 1.3 → bare Koa (baseline)', r.tls13 ?? [], '200', { baseline: 'node-tls13-bare' }),
        row('node-tls10-fallback', '3. Node client, TLS 1.0 → legacyTlsFallback (302 to the page)', r.tls10 ?? [], '302', { baseline: 'node-tls13-bare' }),
      ];
    }),
};

// ---------------------------------------------------------------------------------------------
// 5. Handshakes per second, Node vs nginx

const handshakes: ScenarioGroup = {
  id: 'handshakes',
  title: 'TLS 1.2 handshakes per second (openssl s_time), Node vs nginx',
  skipReason: async () => ((await hasCommand('openssl')) ? null : 'openssl is not installed (needed for s_time)'),
  run: (ctx) =>
    withServers(ctx, async (servers) => {
      const node = await servers.start('handshake-node', 'koa-fallback-server-stats');
      const noCensus = await servers.start('handshake-node-no-census', 'koa-fallback-server-stats-no-census');
      const plain = await servers.start('handshake-node-https', 'https-bare');
      const haveNginx = await nginxAvailable();
      const nginx = haveNginx ? await servers.nginx('handshake-nginx', (dir, port) => nginxHelloConfig(dir, port, { certFile: ctx.certFile, keyFile: ctx.keyFile })) : null;
      const c = ctx.config;
      const measure = (pid: number, port: number, mode: HandshakeMode) =>
        withCpu([pid], (x: HandshakeResult) => x.connections, () => measureHandshakes(port, mode, c.duration, c.handshakeClients));
      if (c.warmup > 0) {
        await measureHandshakes(node.port, 'new', 1, c.handshakeClients);
        await measureHandshakes(noCensus.port, 'new', 1, c.handshakeClients);
        await measureHandshakes(plain.port, 'new', 1, c.handshakeClients);
        if (nginx) await measureHandshakes(nginx.port, 'new', 1, c.handshakeClients);
      }
      const measures: Record<string, Measure<WithCpu<HandshakeResult>>> = {};
      if (nginx) measures['nginx-new'] = measure(nginx.pid, nginx.port, 'new');
      measures['node-new'] = measure(node.pid, node.port, 'new');
      measures['node-no-census-new'] = measure(noCensus.pid, noCensus.port, 'new');
      measures['https-new'] = measure(plain.pid, plain.port, 'new');
      if (nginx) measures['nginx-reuse'] = measure(nginx.pid, nginx.port, 'reuse');
      measures['node-reuse'] = measure(node.pid, node.port, 'reuse');
      measures['https-reuse'] = measure(plain.pid, plain.port, 'reuse');
      const r = await interleaved(
        ctx,
        'handshakes',
        measures,
        (x) => `${Math.round(x.rate)} handshakes/s (${x.resumed}/${x.connections} resumed)${x.cpuUs === undefined ? '' : `, server CPU ${x.cpuUs.toFixed(0)} µs each`}`,
      );
      const clients = c.handshakeClients;
      const row = (id: string, scenario: string, results: WithCpu<HandshakeResult>[] | undefined, extra: Partial<Row>): Row | null => {
        if (!results) return null;
        const rate = median(results.map((x) => x.rate));
        const resumed = results.reduce((n, x) => n + x.resumed, 0) / Math.max(1, results.reduce((n, x) => n + x.connections, 0));
        return {
          id,
          group: 'handshakes',
          scenario,
          rps: rate,
          cpuUs: medianCpu(results),
          raw: results,
          ...extra,
          note: [
            extra.note,
            `handshakes/s; ${clients} sequential s_time client${clients > 1 ? 's' : ''}, mean ${((clients / rate) * 1000).toFixed(2)} ms each`,
            id.endsWith('reuse') ? `${(resumed * 100).toFixed(1)} % resumed` : '',
            spread(results.map((x) => x.rate)),
          ]
            .filter(Boolean)
            .join('; '),
        };
      };
      const noNginx = nginx ? '' : 'nginx not installed: no ratio';
      return [
        row('hs-nginx-new', '5. TLS 1.2 full handshakes, nginx (baseline)', r['nginx-new'], { baseline: 'hs-nginx-new', note: `${HANDSHAKE_CIPHER}, RSA-2048` }),
        row('hs-node-new', '5. TLS 1.2 full handshakes, createLegacyTlsServer + Koa + stats (Node/nginx)', r['node-new'], { baseline: nginx ? 'hs-nginx-new' : undefined, note: noNginx }),
        row('hs-https-new', '5. TLS 1.2 full handshakes, plain https.createServer, for reference (Node/nginx)', r['https-new'], { baseline: nginx ? 'hs-nginx-new' : undefined, note: noNginx }),
        row('hs-node-no-census-new', '5. TLS 1.2 full handshakes, createLegacyTlsServer + Koa + stats, ClientHello census off (baseline)', r['node-no-census-new'], { baseline: 'hs-node-no-census-new' }),
        row('hs-node-census-new', '5. TLS 1.2 full handshakes, census on / census off (target ≥ 0.95)', r['node-new'], { baseline: 'hs-node-no-census-new' }),
        row('hs-nginx-reuse', '5. TLS 1.2 resumed handshakes (session ticket), nginx (baseline)', r['nginx-reuse'], { baseline: 'hs-nginx-reuse' }),
        row('hs-node-reuse', '5. TLS 1.2 resumed handshakes (session ticket), createLegacyTlsServer + Koa + stats (Node/nginx)', r['node-reuse'], {
          baseline: nginx ? 'hs-nginx-reuse' : undefined,
          note: noNginx,
        }),
        row('hs-https-reuse', '5. TLS 1.2 resumed handshakes (session ticket), plain https.createServer, for reference (Node/nginx)', r['https-reuse'], {
          baseline: nginx ? 'hs-nginx-reuse' : undefined,
          note: noNginx,
        }),
      ].filter((x): x is Row => x !== null);
    }),
};

// ---------------------------------------------------------------------------------------------
// M. Memory and stats file size after 1 000 000 distinct clients

const memory: ScenarioGroup = {
  id: 'memory',
  title: 'Memory: TrafficStats after 1 000 000 distinct user agents and addresses',
  run: async (ctx) => {
    const n = ctx.config.memoryRequests;
    const result = await runNodeJson<MemoryResult>('./memory.ts', [JSON.stringify({ requests: n } satisfies MemorySpec)], {
      execArgv: ['--expose-gc'],
      // About 60 µs per request on a slow core, mostly ua-parser-js: generous, still bounded.
      timeoutMs: 60_000 + n * 0.25,
    });
    ctx.log(`  [memory] ${JSON.stringify(result)}`);
    const count = n.toLocaleString('en-US');
    return [
      {
        id: 'memory-rss',
        group: 'memory',
        scenario: `M. classifyClient + TrafficStats.recordRequest, ${count} distinct UAs and addresses (in-process)`,
        rps: result.requests / result.seconds,
        raw: result,
        note: `RSS growth ${mib(result.rssAfter - result.rssBefore)} MiB (${mib(result.rssBefore)} → ${mib(result.rssAfter)} MiB${result.gc ? ', after gc()' : ', no --expose-gc'}; peak ${mib(result.maxRss)} MiB); heap ${mib(result.heapBefore)} → ${mib(result.heapAfter)} MiB; UA cache ${result.uaCacheEntries} entries`,
      },
      {
        id: 'memory-file',
        group: 'memory',
        scenario: `M. Stats file after close(), ${count} distinct clients`,
        raw: { fileBytes: result.fileBytes },
        note: `${(result.fileBytes / 1024).toFixed(1)} KiB`,
      },
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// 4. Reverse proxy: the package's proxy vs upstream direct vs http-proxy vs undici alone vs nginx

const proxy: ScenarioGroup = {
  id: 'proxy',
  title: 'Reverse proxy, TLS 1.2 keep-alive front, 1 KiB responses: src/proxy vs http-proxy vs undici alone vs nginx',
  run: (ctx) =>
    withServers(ctx, async (servers) => {
      const c = ctx.config;
      const upstream = await servers.start('upstream', 'upstream');
      const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
      const env = { BENCH_UPSTREAM: upstreamUrl };
      // Server CPU of a proxied request = proxy + upstream, so that "direct" compares like for like.
      const targets: Record<string, { url: string; pids: number[] }> = { direct: { url: url(upstream.port, 'http'), pids: [upstream.pid] } };
      const add = async (key: string, role: string, variant: ServerVariant) => {
        const info = await servers.start(role, variant, env);
        targets[key] = { url: url(info.port), pids: [info.pid, upstream.pid] };
      };
      await add('ours', 'proxy-ours', 'proxy-ours');
      await add('workers', 'proxy-ours-workers', 'proxy-ours-workers');
      await add('http-proxy', 'http-proxy', 'http-proxy');
      await add('undici', 'undici-minimal', 'undici-minimal');
      if (await nginxAvailable()) {
        const nginx = await servers.nginx('proxy-nginx', (dir, port) =>
          nginxProxyConfig(dir, port, { certFile: ctx.certFile, keyFile: ctx.keyFile }, { host: '127.0.0.1', port: upstream.port }),
        );
        targets.nginx = { url: url(nginx.port), pids: [nginx.pid, upstream.pid] };
      }
      const spec = (target: string) => ({ url: target, seconds: c.duration, connections: c.connections, userAgent: 'fixed' as const, maxTls: 'TLSv1.2' as const });
      for (const target of Object.values(targets)) {
        if (c.warmup > 0) await runLoad(ctx.loadTool, { ...spec(target.url), seconds: c.warmup }, ctx.tmpDir);
      }
      const measures = Object.fromEntries(
        Object.entries(targets).map(([key, target]) => [key, withCpu(target.pids, (r: LoadResult) => r.requests, () => runLoad(ctx.loadTool, spec(target.url), ctx.tmpDir))]),
      );
      const r = await interleaved(ctx, 'proxy', measures, describeLoad);
      const g = 'proxy';
      // The issue's targets are against nginx with one worker; without nginx, against upstream direct.
      const base = r.nginx ? 'proxy-nginx' : 'proxy-direct';
      const rows: Row[] = [loadRow('proxy-direct', g, '4. Upstream direct, plain HTTP, 1 KiB (no proxy, for reference)', r.direct ?? [], { baseline: base })];
      if (r.nginx) rows.push(loadRow('proxy-nginx', g, '4. nginx proxy, 1 worker, upstream keep-alive (baseline)', r.nginx, { baseline: base }));
      else rows.push({ id: 'proxy-nginx', group: g, scenario: '4. nginx proxy', note: 'skipped: nginx is not installed; ratios are against upstream direct' });
      rows.push(loadRow('proxy-ours', g, '4. src/proxy, 1 process', r.ours ?? [], { baseline: base, ...(r.nginx && { target: 0.5 }) }));
      rows.push(loadRow('proxy-ours-workers', g, '4. src/proxy --workers 2', r.workers ?? [], { baseline: base, ...(r.nginx && { target: 0.5 }) }));
      rows.push(loadRow('proxy-http-proxy', g, '4. minimal proxy on http-proxy', r['http-proxy'] ?? [], { baseline: base }));
      rows.push(loadRow('proxy-undici-minimal', g, '4. minimal proxy on undici alone: no classification, stats or header rules (Node floor)', r.undici ?? [], { baseline: base }));
      return rows;
    }),
};

// ---------------------------------------------------------------------------------------------
// 6. `analyse`: the whole command against GoAccess on the same generated log (bench/analyse.ts)

const analyse: ScenarioGroup = {
  id: 'analyse',
  title: '`legacy-tls-fallback analyse` vs GoAccess on one generated combined + protocol log (BENCH_ANALYSE_LINES, _RUNS, _SCALE)',
  run: async (ctx) => {
    const lines = envNumber('BENCH_ANALYSE_LINES', 1_000_000);
    const result = await runAnalyseBench({ lines, runs: envNumber('BENCH_ANALYSE_RUNS', Math.max(2, ctx.config.runs)), scale: envNumber('BENCH_ANALYSE_SCALE', 1), log: (m) => ctx.log(`  ${m}`) });
    const g = 'analyse';
    const ga = result.goaccess;
    const gaRate = ga ? rates(ga.lines, [{ seconds: ga.seconds, cpuSeconds: ga.cpuSeconds ?? Number.NaN } as ReaderResult]) : null;
    const row = (id: string, scenario: string, n: number, runs: readonly ReaderResult[], baseline: { wall: number | null; cpu: number | null } | null, target?: number): Row => {
      const r = rates(n, runs);
      const cpu = median(runs.map((x) => x.cpuSeconds));
      return {
        id,
        group: g,
        scenario,
        ...(r.wall !== null && { rps: r.wall }),
        ...(cpu !== null && { cpuUs: (cpu * 1e6) / n }),
        ...(baseline?.wall && r.wall !== null && { ratio: r.wall / baseline.wall }),
        ...(baseline?.cpu && r.cpu !== null && { cpuRatio: r.cpu / baseline.cpu }),
        ...(target !== undefined && { target }),
        note: `lines/s; peak RSS ${mib(Math.max(...runs.map((x) => x.maxRss)))} MiB (target < 200)`,
        raw: runs,
      };
    };
    const rows: Row[] = [
      row('analyse-command', `6. analyse FILE --json, ${lines.toLocaleString('en')} lines (whole command)`, lines, result.command, gaRate, ga ? 10 : undefined),
      row('analyse-reader', `6. readLogRecords alone, ${lines.toLocaleString('en')} lines`, lines, result.reader, gaRate),
    ];
    if (ga && gaRate) rows.push({ id: 'analyse-goaccess', group: g, scenario: `6. GoAccess ${ga.version}, same file (baseline)`, ...(gaRate.wall !== null && { rps: gaRate.wall }), ...(ga.cpuSeconds !== null && { cpuUs: (ga.cpuSeconds * 1e6) / ga.lines }), ratio: 1, note: 'lines/s', raw: ga });
    else rows.push({ id: 'analyse-goaccess', group: g, scenario: '6. GoAccess', note: 'skipped: goaccess is not installed' });
    if (result.scaled) rows.push(row('analyse-command-scaled', `6. analyse, ${result.scaled.lines.toLocaleString('en')} lines: rate against 1 M (flat: ≥ 0.8)`, result.scaled.lines, result.scaled.command, rates(lines, result.command), 0.8));
    ctx.log(analyseTable(result));
    return rows;
  },
};

export const SCENARIO_GROUPS: readonly ScenarioGroup[] = [middleware, legacyTls, proxy, handshakes, relayGroup, memory, analyse];
