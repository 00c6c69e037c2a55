/**
 * Child-process entry (run with --expose-gc): pushes N requests with N distinct user agents and N
 * distinct addresses through the same code the middleware runs per request — `classifyClient` (which
 * calls `parseUserAgent`: fast path, LRU cache, ua-parser-js) and `TrafficStats.recordRequest`
 * (HMAC, HyperLogLog sketches, capped label maps) — and reports RSS growth and the stats file size.
 *
 *   node --expose-gc --import tsx bench/memory.ts '{"requests":1000000}'
 *
 * In-process on purpose: over HTTP, 1 000 000 requests would take minutes and measure the network
 * stack, not what the package keeps in memory.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runAsChild } from './processes.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Koa from 'koa';
import { buildPolicy, classifyClient, TrafficStats, type TlsFacts } from '../src/index.js';
import { legacyTlsFallback } from '../src/koa/index.js';
import { userAgentCacheSize } from '../src/classify/user-agent.js';

export interface MemorySpec {
  requests: number;
  /** Requests pushed before the "before" measurement (JIT, caches, buckets, sketches). */
  warmup?: number;
}

export interface MemoryResult {
  requests: number;
  seconds: number;
  rssBefore: number;
  rssAfter: number;
  heapBefore: number;
  heapAfter: number;
  /** Peak RSS of the whole process (bytes). */
  maxRss: number;
  fileBytes: number;
  uaCacheEntries: number;
  legacy: number;
  gc: boolean;
}

const TLS13: TlsFacts = Object.freeze({ protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', servername: 'localhost', source: 'socket' });
const TLS10: TlsFacts = Object.freeze({ protocol: 'TLSv1', cipher: 'ECDHE-RSA-AES256-SHA', servername: 'localhost', source: 'socket' });

/**
 * The i-th user agent: all distinct. A mix of the parser's fast path (modern Chrome, varying build),
 * unknown tokens (full parse, cache miss), and legacy IE and Android browsers (full parse, legacy
 * client labels in the stats).
 */
export function userAgentNumber(i: number): string {
  switch (i % 4) {
    case 0:
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.${i}.0 Safari/537.36`;
    case 1:
      return `Mozilla/5.0 (X11; Linux) Foo/${i}`;
    case 2:
      return `Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; .NET CLR 2.0.${i})`;
    default:
      return `Mozilla/5.0 (Linux; U; Android 4.${(i >>> 2) % 4}; en-us; GT-I${i} Build/JSS15J) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30`;
  }
}

function addressNumber(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

async function gcAndSettle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function measureMemory(spec: MemorySpec): Promise<MemoryResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bench-memory-'));
  const statsFile = path.join(dir, 'stats.json');
  try {
    const stats = new TrafficStats({ statsFile, summaryInterval: 0 });
    // The app a real deployment would have around these stats (built, not driven: see the header).
    const app = new Koa();
    app.use(legacyTlsFallback({ stats }));
    app.use((ctx) => {
      ctx.body = 'hello';
    });
    app.callback();
    await stats.ready;
    const policy = buildPolicy({});

    let legacy = 0;
    let next = 0;
    const push = async (count: number): Promise<void> => {
      const end = next + count;
      while (next < end) {
        const batchEnd = Math.min(end, next + 10_000);
        for (; next < batchEnd; next++) {
          const userAgent = userAgentNumber(next);
          // One request in five on TLS 1.0, the rest on TLS 1.3.
          const verdict = classifyClient(next % 5 === 0 ? TLS10 : TLS13, userAgent, policy);
          if (verdict.legacy) legacy++;
          stats.recordRequest({ verdict, action: verdict.legacy ? 'redirected' : 'passed', remoteAddress: addressNumber(next), userAgent });
        }
        // Let the flush timer run, as it would in a server.
        await yieldToEventLoop();
      }
    };

    await push(spec.warmup ?? 50_000);
    legacy = 0;
    await gcAndSettle();
    const before = process.memoryUsage();
    const started = performance.now();
    await push(spec.requests);
    const seconds = (performance.now() - started) / 1000;
    await gcAndSettle();
    const after = process.memoryUsage();
    await stats.close();
    const fileBytes = (await stat(statsFile)).size;
    return {
      requests: spec.requests,
      seconds,
      rssBefore: before.rss,
      rssAfter: after.rss,
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      maxRss: process.resourceUsage().maxRSS * 1024,
      fileBytes,
      uaCacheEntries: userAgentCacheSize(),
      legacy,
      gc: typeof (globalThis as { gc?: unknown }).gc === 'function',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

runAsChild(import.meta.url, measureMemory);
