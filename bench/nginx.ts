/**
 * nginx as a reference: a TLS server answering "hello" (handshake scenario) and a TLS-terminating
 * reverse proxy (proxy group). Runs from a temporary directory with a generated config, in the
 * foreground (`daemon off`), in its own process group so that master and worker are killed together.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { hasCommand, runTracked, spawnTracked, stopProcess } from './processes.js';

export interface NginxTls {
  certFile: string;
  keyFile: string;
}

function prelude(dir: string): string {
  // As root, nginx would switch its worker to `nobody`, which cannot write the temporary directory.
  const user = process.getuid?.() === 0 ? `user ${os.userInfo().username};\n` : '';
  return `${user}worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
`;
}

function httpPrelude(dir: string): string {
  return `  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
`;
}

function tlsLines(tls: NginxTls): string {
  return `    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers DEFAULT:@SECLEVEL=0;
`;
}

/** TLS server answering 200 "hello", accepting TLS 1.0 to 1.3 (tickets on, nginx's default). */
export function nginxHelloConfig(dir: string, port: number, tls: NginxTls): string {
  return `${prelude(dir)}http {
${httpPrelude(dir)}  server {
    listen 127.0.0.1:${port} ssl;
${tlsLines(tls)}    location / { return 200 "hello"; }
  }
}
`;
}

/**
 * TLS-terminating reverse proxy to a plain-HTTP upstream with a keep-alive pool, forwarding the
 * visitor's protocol the way README's "Behind nginx" section tells users to.
 */
export function nginxProxyConfig(dir: string, port: number, tls: NginxTls, upstream: { host: string; port: number }): string {
  return `${prelude(dir)}http {
${httpPrelude(dir)}  upstream app {
    server ${upstream.host}:${upstream.port};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} ssl;
${tlsLines(tls)}    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-TLS-Protocol $ssl_protocol;
    }
  }
}
`;
}

/**
 * nginx cannot report the port it got for `listen …:0`, so: ask the kernel for a free port, release
 * it, and give it to nginx (retried if someone takes it in between).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RunningNginx {
  port: number;
  /** Master process; its worker is its child. */
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

export async function nginxAvailable(): Promise<boolean> {
  return hasCommand('nginx');
}

export async function nginxVersion(): Promise<string> {
  const done = await runTracked('nginx', ['-v'], { timeoutMs: 5000 });
  return /nginx\/(\S+)/.exec(done.stderr + done.stdout)?.[1] ?? '?';
}

/** Starts nginx with `config(port)` in `dir` and waits until it accepts connections. */
export async function startNginx(dir: string, config: (port: number) => string): Promise<RunningNginx> {
  await mkdir(dir, { recursive: true });
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const confFile = path.join(dir, 'nginx.conf');
    await writeFile(confFile, config(port));
    // Through a small shell guard that stops nginx when its stdin (a pipe from this process) closes: so
    // nginx goes away even if the benchmark itself is killed with SIGKILL and cannot clean up.
    const guard = 'exec 3<&0; nginx -p "$1" -c "$2" -e "$3" & n=$!; (cat <&3 >/dev/null; kill -TERM $n 2>/dev/null) & wait $n';
    const child = spawnTracked('sh', ['-c', guard, 'nginx-guard', dir, confFile, path.join(dir, 'error.log')], {
      group: true,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      if (await canConnect(port)) {
        return { port, dir, pid: child.pid ?? 0, stop: () => stopProcess(child, 'SIGTERM', 5000) };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stopProcess(child, 'SIGKILL', 1000);
    const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
    lastError = `${stderr}\n${log}`.trim();
    if (!/Address already in use/.test(lastError)) break;
  }
  throw new Error(`nginx did not start:\n${lastError}`);
}
