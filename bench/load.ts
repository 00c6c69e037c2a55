/**
 * HTTP load against a URL for a fixed time: `wrk` when installed (one thread, far cheaper per request
 * than any Node client, which matters on two cores), otherwise autocannon in this process.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasCommand, runTracked } from './processes.js';

export interface LoadResult {
  /** Completed requests per second. */
  rps: number;
  /** Latency percentiles, milliseconds. */
  p50: number;
  p99: number;
  /** Connection, read, write errors and timeouts. */
  errors: number;
  /** Responses with an unexpected status (wrk: >= 400; autocannon: anything but 2xx). */
  non2xx: number;
  requests: number;
  seconds: number;
}

/** One modern desktop Chrome: the fast path of the user-agent parser. */
export const CHROME_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/**
 * Which user agent each request carries: the same Chrome every time, or a different one per request
 * from a stream of user-agent-shapes.ts: its templates in turn, `%d` replaced by a number unique to
 * the request (per run).
 */
export type UserAgentMode = 'fixed' | UserAgentStream;

export interface UserAgentStream {
  /** Names the stream in file names and logs. */
  id: string;
  /** Each with exactly one `%d`. */
  templates: readonly string[];
}

export interface LoadSpec {
  url: string;
  seconds: number;
  connections: number;
  userAgent: UserAgentMode;
  /** Highest TLS version the client offers (default: whatever the client prefers, TLS 1.3). */
  maxTls?: 'TLSv1.2';
}

export type LoadTool = 'wrk' | 'autocannon';

export async function pickLoadTool(preference: 'auto' | LoadTool): Promise<{ tool: LoadTool; version: string }> {
  if (preference !== 'autocannon' && (await hasCommand('wrk'))) {
    const done = await runTracked('wrk', ['-v'], { timeoutMs: 5000 });
    const version = /wrk\s+(\S+)/.exec(done.stdout + done.stderr)?.[1] ?? '?';
    return { tool: 'wrk', version };
  }
  if (preference === 'wrk') throw new Error('BENCH_LOAD=wrk but wrk is not installed');
  return { tool: 'autocannon', version: '8' };
}

export function runLoad(tool: LoadTool, spec: LoadSpec, tmpDir: string): Promise<LoadResult> {
  return tool === 'wrk' ? runWrk(spec, tmpDir) : runAutocannon(spec);
}

// ---------------------------------------------------------------------------------------------
// wrk

// done() prints one machine-readable line; latencies are in microseconds.
const WRK_REPORTER = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%.1f,"p99":%.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

// wrk has no TLS options; OpenSSL reads its system-wide defaults from the file OPENSSL_CONF names.
async function opensslMaxTlsConfig(tmpDir: string, maxTls: 'TLSv1.2'): Promise<string> {
  const file = path.join(tmpDir, `openssl-max-${maxTls}.cnf`);
  await writeFile(
    file,
    `openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = system_default_sect\n[system_default_sect]\nMaxProtocol = ${maxTls}\n`,
  );
  return file;
}

// Each wrk thread has its own Lua state: setup() numbers the threads so user agents never repeat.
function wrkUniqueUserAgent(stream: UserAgentStream): string {
  const parts = stream.templates.map((template) => {
    const [before, after] = template.split('%d');
    return `{${luaString(before ?? '')}, ${luaString(after ?? '')}}`;
  });
  return `
local nextThread = 1
setup = function(thread)
  thread:set("threadId", nextThread)
  nextThread = nextThread + 1
end
local templates = {${parts.join(',\n')}}
local count = #templates
local counter = 0
local base = 0
local headers = {}
init = function(args)
  base = (tonumber(threadId) or 1) * 100000000
  headers["Accept"] = "*/*"
end
request = function()
  local template = templates[(counter % count) + 1]
  counter = counter + 1
  headers["User-Agent"] = template[1] .. tostring(base + counter) .. template[2]
  return wrk.format(nil, nil, headers)
end
`;
}

/** A Lua string literal for printable ASCII (what the templates hold). */
function luaString(text: string): string {
  if (/[^\x20-\x7e]/.test(text)) throw new Error(`user-agent template outside printable ASCII: ${JSON.stringify(text)}`);
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p99: number;
}

async function runWrk(spec: LoadSpec, tmpDir: string): Promise<LoadResult> {
  const script = path.join(tmpDir, `wrk-${spec.userAgent === 'fixed' ? 'fixed' : spec.userAgent.id}.lua`);
  const body = spec.userAgent === 'fixed' ? WRK_REPORTER : wrkUniqueUserAgent(spec.userAgent) + WRK_REPORTER;
  await writeFile(script, body);
  const args = ['-t1', `-c${spec.connections}`, `-d${Math.max(1, Math.round(spec.seconds))}s`, '--timeout', '10s', '-s', script];
  if (spec.userAgent === 'fixed') args.push('-H', `User-Agent: ${CHROME_UA}`, '-H', 'Accept: */*');
  args.push(spec.url);
  const env = spec.maxTls ? { OPENSSL_CONF: await opensslMaxTlsConfig(tmpDir, spec.maxTls) } : {};
  const done = await runTracked('wrk', args, { timeoutMs: (spec.seconds + 20) * 1000, env });
  const line = done.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (done.code !== 0 || line === undefined) throw new Error(`wrk failed (${done.signal ?? done.code}):\n${done.stdout}\n${done.stderr}`);
  const r = JSON.parse(line.slice('BENCH_JSON '.length)) as WrkJson;
  const seconds = r.duration_us / 1e6;
  return {
    rps: r.requests / seconds,
    p50: r.p50 / 1000,
    p99: r.p99 / 1000,
    errors: r.connect + r.read + r.write + r.timeout,
    non2xx: r.status,
    requests: r.requests,
    seconds,
  };
}

// ---------------------------------------------------------------------------------------------
// autocannon (in this process: only when wrk is missing)

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon');
  let counter = 0;
  const templates = spec.userAgent === 'fixed' ? undefined : spec.userAgent.templates;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: Math.max(1, Math.round(spec.seconds)),
    timeout: 10,
    ...(spec.maxTls && { tlsOptions: { maxVersion: spec.maxTls } }),
    headers: { 'user-agent': CHROME_UA, accept: '*/*' },
    ...(templates !== undefined && {
      requests: [
        {
          method: 'GET',
          path: '/',
          setupRequest: (request) => {
            const template = templates[counter % templates.length] as string;
            return { ...request, headers: { ...request.headers, 'user-agent': template.replace('%d', String(100_000_000 + ++counter)) } };
          },
        },
      ],
    }),
  });
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
    seconds: result.duration,
  };
}
