/**
 * Real nginx and HAProxy for tests: each in a temporary directory of its own (config, pid, logs), as
 * the current user, in the foreground, on loopback ports picked free just before start (neither can
 * report a `:0` port), retried if another process takes one in between. Readiness is read from
 * /proc/net/tcp*, not by connecting, so that a router's connection log holds only the test's connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Daemon {
  dir: string;
  /** The ports it was given, in the order the config asked for them. */
  ports: number[];
  /** What it wrote to stdout (HAProxy's `log stdout`) and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface DaemonSpec {
  name: 'nginx' | 'haproxy';
  /** How many loopback ports the config needs. */
  ports: number;
  /** The config text for these ports, in this directory. */
  config(dir: string, ports: number[]): string;
  /** Ports (of `ports`, by index) that must be listening before the daemon counts as started. */
  listening?: number[];
  host?: string;
}

async function listeningPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN.
      if (fields[3] === '0A') ports.add(Number.parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ltf-${spec.name}-`));
  let lastError = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const ports: number[] = [];
    while (ports.length < spec.ports) {
      const port = await freePort(spec.host);
      if (!ports.includes(port)) ports.push(port);
    }
    const conf = path.join(dir, `${spec.name}.conf`);
    await writeFile(conf, spec.config(dir, ports));
    const args = spec.name === 'nginx' ? ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'] : ['-db', '-f', conf];
    const child = spawn(spec.name, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const wanted = (spec.listening ?? ports.map((_, i) => i)).map((i) => ports[i]!);
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      const open = await listeningPorts();
      if (wanted.every((port) => open.has(port))) {
        ready = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (ready) return { dir, ports, output: () => output, stop: () => stop(child, dir) };
    await stop(child, null);
    const errorLog = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
    lastError = `${output}\n${errorLog}`.trim();
    if (!/Address already in use|cannot bind socket/i.test(lastError)) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`${spec.name} did not start:\n${lastError}`);
}

async function stop(child: ChildProcess, dir: string | null): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The whole process group: nginx's master and its worker, which this test started.
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    const force = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 3000);
    await exited;
    clearTimeout(force);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** nginx runs its worker as `nobody` when started as root; the temp directory is root's. */
export function nginxUserLine(): string {
  return process.getuid?.() === 0 ? `user ${os.userInfo().username};\n` : '';
}

export function hasStreamModule(): boolean {
  return existsSync(NGINX_STREAM_MODULE);
}
