/**
 * Real web servers writing real logs for the analyse tests: nginx (access, stream and error logs),
 * Apache (mod_ssl), Caddy and HAProxy, each started in the foreground from a generated config in a
 * temporary directory, on a loopback port, as the current user, and stopped by its own process id.
 * Clients are curl and openssl pinned to one TLS version.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testCertificate } from './servers.js';

export type Version = '1.0' | '1.1' | '1.2' | '1.3';
export const VERSIONS: readonly Version[] = ['1.0', '1.1', '1.2', '1.3'];
export const PROTOCOL_OF: Readonly<Record<Version, string>> = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

/**
 * Real user agents (from browsers, a crawler, an HTTP library), two legacy ones among them, and one
 * with the characters every log format has to escape: a quote, a backslash, a non-ASCII letter.
 */
export const USER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)',
  'Mozilla/5.0 (Linux; U; Android 2.3.6; en-us; GT-S5830 Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'python-requests/2.31.0',
  'Mozilla/5.0 (compatible; "Quoted\\Bot"/1.0; café)',
];

export interface Workspace {
  dir: string;
  certFile: string;
  keyFile: string;
  /** certificate and key in one file, as HAProxy wants them. */
  pemFile: string;
  remove(): Promise<void>;
}

/** A temporary directory the servers (which may drop to another user) can read, with the test certificate. */
export async function workspace(prefix: string): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  const { cert, key } = await testCertificate();
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const pemFile = path.join(dir, 'both.pem');
  // PEM files end with a newline; HAProxy reads certificate and key from one file, one after the other.
  await writeFile(certFile, `${cert.trimEnd()}\n`);
  await writeFile(keyFile, `${key.trimEnd()}\n`, { mode: 0o644 });
  await writeFile(pemFile, `${cert.trimEnd()}\n${key.trimEnd()}\n`);
  return { dir, certFile, keyFile, pemFile, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A port that was free a moment ago: nginx, Apache, Caddy and HAProxy cannot report a port 0. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RunningServer {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** stderr and stdout so far, for failure messages. */
  output(): string;
}

/**
 * Starts `command` in its own process group and waits until every port accepts a connection. `stop`
 * ends that group (the server and the workers it forked) and nothing else.
 */
export async function startServer(
  name: string,
  command: string,
  args: readonly string[],
  ports: readonly number[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdout?: number; stderr?: number } = {},
): Promise<RunningServer> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', options.stdout ?? 'pipe', options.stderr ?? 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-10_000)));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-10_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    for (const port of ports) await waitForPort(port, child, () => output);
  } catch (error) {
    await stop();
    throw new Error(`${name} did not start: ${(error as Error).message}\n${output}`);
  }
  return { name, child, stop, output: () => output };
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`port ${port} never opened`);
}

export interface CurlResult {
  code: number;
  stderr: string;
}

/**
 * curl over exactly one TLS version (`--tlsvX --tls-max X`; below 1.2 OpenSSL 3 needs @SECLEVEL=0 to
 * offer it at all), trusting the test certificate for `localhost`. Several paths are fetched over one
 * connection, so each line they log shares the connection's protocol.
 */
export function curl(port: number, version: Version, userAgent: string, paths: readonly string[], caFile: string): Promise<CurlResult> {
  const args = [
    '--silent',
    '--show-error',
    '--output',
    '/dev/null',
    `--tlsv${version}`,
    '--tls-max',
    version,
    '--ciphers',
    'DEFAULT:@SECLEVEL=0',
    '--cacert',
    caFile,
    '--resolve',
    `localhost:${port}:127.0.0.1`,
    '--user-agent',
    userAgent,
    ...paths.map((p) => `https://localhost:${port}${p}`),
  ];
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 15_000 }, (error, _stdout, stderr) => {
      const code: unknown = error?.code;
      resolve({ code: error === null ? 0 : typeof code === 'number' ? code : 1, stderr });
    });
  });
}

/** `openssl s_client` with the given extra arguments, closing at once; the exit code only. */
export function opensslClient(port: number, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], { timeout: 15_000 }, (error) => {
      resolve(error ? 1 : 0);
    });
    child.stdin?.end();
  });
}

/** Runs `tasks` with at most `limit` at a time (the machine has two cores and other tests). */
export async function inBatches<T>(tasks: readonly (() => Promise<T>)[], limit = 4): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Waits until `file` has at least `lines` lines (servers write their logs after the response). */
export async function waitForLines(file: string, lines: number, match: (line: string) => boolean = () => true): Promise<string[]> {
  let found: string[] = [];
  for (let attempt = 0; attempt < 200; attempt++) {
    if (existsSync(file) && (await stat(file)).size > 0) {
      found = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '' && match(line));
      if (found.length >= lines) return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${file} has ${found.length} matching lines, expected ${lines}`);
}

/** The stream-module path of this nginx, or null when it has none. */
export function nginxStreamModule(): string | null {
  for (const candidate of ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so', '/usr/lib64/nginx/modules/ngx_stream_module.so']) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** The directory of Apache's modules, or null. */
export function apacheModules(): string | null {
  for (const candidate of ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules']) {
    if (existsSync(path.join(candidate, 'mod_ssl.so'))) return candidate;
  }
  return null;
}

/** A file descriptor for a server's stdout (HAProxy's `log stdout`), closed by the caller. */
export async function openForAppend(file: string): Promise<{ fd: number; close(): Promise<void> }> {
  const handle = await open(file, 'a');
  return { fd: handle.fd, close: () => handle.close() };
}
