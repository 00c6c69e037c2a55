/**
 * A generated access log for the `analyse` benchmark and the 10-million-line test: nginx `combined` +
 * `"$ssl_protocol" "$ssl_cipher"`, with a realistic mix (browsers of many versions and platforms, bots,
 * HTTP libraries, old clients on TLS 1.0/1.1, plain HTTP) and many distinct user agents (see `distinct`).
 * Deterministic: the same seed gives the same file, so runs compare.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const GENERATED_LOG_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$ssl_protocol" "$ssl_cipher"';

/** The same layout for GoAccess: %K is the TLS version, %k the cipher (its man page, "log-format"). */
export const GOACCESS_LOG_FORMAT = '%h %^[%d:%t %^] "%r" %s %b "%R" "%u" "%K" "%k"';

export interface GeneratedLogTruth {
  lines: number;
  bytes: number;
  byProtocol: Record<string, number>;
  distinctUserAgents: number;
}

/** mulberry32: small, fast, and the same everywhere. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLATFORMS = [
  'Windows NT 10.0; Win64; x64',
  'Windows NT 6.1; Win64; x64',
  'Macintosh; Intel Mac OS X 10_15_7',
  'X11; Linux x86_64',
  'Linux; Android 13; Pixel 7',
  'Linux; Android 10; K',
];

/** A user agent from a family, made distinct by `n` (a build number a real population varies in too). */
function userAgent(family: number, n: number): string {
  const platform = PLATFORMS[n % PLATFORMS.length];
  const build = 1000 + (n % 9000);
  const patch = Math.floor(n / 9000) % 200;
  switch (family) {
    case 0:
      return `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${100 + (n % 31)}.0.${build}.${patch} Safari/537.36`;
    case 1:
      return `Mozilla/5.0 (${platform}; rv:${100 + (n % 30)}.0) Gecko/20100101 Firefox/${100 + (n % 30)}.${patch}`;
    case 2:
      return `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${n % 6} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${n % 6} Mobile/15E${build} Safari/604.1`;
    case 3:
      return `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.${build}.${patch} Safari/537.36 Edg/120.0.${build}.${patch}`;
    case 4:
      return `Mozilla/4.0 (compatible; MSIE ${6 + (n % 3)}.0; Windows NT 5.1; Trident/4.0; .NET CLR 2.0.${build})`;
    case 5:
      return `Mozilla/5.0 (Linux; U; Android 2.3.${n % 7}; en-us; GT-I${build} Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1`;
    case 6:
      return `Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) crawler-${build}.${patch}`;
    case 7:
      return `python-requests/2.${n % 32}.${patch}`;
    case 8:
      return `Java/1.${6 + (n % 3)}.0_${build % 400}`;
    default:
      return `curl/7.${n % 90}.${patch}`;
  }
}

// Families by share of traffic: modern browsers, then bots and libraries, then the legacy tail.
const FAMILY_WEIGHTS = [0.42, 0.14, 0.14, 0.1, 0.02, 0.01, 0.07, 0.05, 0.01, 0.04];
const PROTOCOLS = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256', 0.6],
  ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256', 0.33],
  ['TLSv1.1', 'ECDHE-RSA-AES128-SHA', 0.01],
  ['TLSv1', 'ECDHE-RSA-AES128-SHA', 0.04],
  ['-', '-', 0.02],
] as const;
const PATHS = ['/', '/index.html', '/assets/app.js', '/assets/app.css', '/api/items', '/favicon.ico', '/blog/2024/10/some-article', '/img/logo.png'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pick(weights: readonly number[], r: number): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i] as number;
    if (r < sum) return i;
  }
  return weights.length - 1;
}

function clfTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** Writes `lines` lines to `file`; returns what a reader must find in it. */
export async function generateLog(file: string, lines: number, seed = 13): Promise<GeneratedLogTruth> {
  const next = random(seed);
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const byProtocol: Record<string, number> = {};
  // Per family: at 10 M lines about 1.4 million distinct user agents in all (the stress case),
  // at 1 M about 150 000.
  const distinct = Math.max(1, Math.floor(lines / 40));
  const seen = new Set<string>();
  // A steady 1 M lines per 3 days (about 4 a second), ending at a fixed date: a bigger log is a longer
  // one, not a denser one, so 1 M and 10 M lines compare (10 M spans 30 days: every report window).
  const end = Date.UTC(2026, 10, 1);
  const step = (3 * 24 * 3600 * 1000) / 1_000_000;
  let bytes = 0;
  let buffer = '';
  for (let i = 0; i < lines; i++) {
    const family = pick(FAMILY_WEIGHTS, next());
    const uaIndex = Math.floor(next() * distinct);
    const agent = userAgent(family, uaIndex);
    seen.add(agent);
    const legacy = family === 4 || family === 5 || family === 8;
    const [protocol, cipher] = legacy ? (next() < 0.8 ? PROTOCOLS[3] : PROTOCOLS[2]) : PROTOCOLS[pick(PROTOCOLS.map((p) => p[2]), next())] ?? PROTOCOLS[0];
    byProtocol[protocol] = (byProtocol[protocol] ?? 0) + 1;
    const address = `${10 + Math.floor(next() * 200)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${1 + Math.floor(next() * 254)}`;
    const path = PATHS[Math.floor(next() * PATHS.length)];
    const status = next() < 0.9 ? 200 : next() < 0.5 ? 304 : 404;
    const size = status === 304 ? 0 : 200 + Math.floor(next() * 40000);
    const referer = next() < 0.5 ? '-' : `https://www.example.org${path}`;
    const line = `${address} - - [${clfTime(end - (lines - i) * step)}] "GET ${path}?v=${i % 97} HTTP/1.1" ${status} ${size} "${referer}" "${agent}" "${protocol}" "${cipher}"\n`;
    buffer += line;
    if (buffer.length > 1 << 20) {
      bytes += Buffer.byteLength(buffer);
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  bytes += Buffer.byteLength(buffer);
  out.end(buffer);
  await once(out, 'finish');
  return { lines, bytes, byProtocol, distinctUserAgents: seen.size };
}
