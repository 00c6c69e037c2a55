import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface RedisServer {
  port: number;
  /** The TLS port, when started with `tls`. */
  tlsPort?: number;
  /** `redis://[:password@]127.0.0.1:port` */
  url: string;
  dir: string;
  /** Runs redis-cli against it; returns stdout (raw, binary-safe as latin1). */
  cli(...args: string[]): string;
  /** SIGKILL: no shutdown save, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (with the same persistence). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Append-only file, fsync always: a killed server loses nothing it acknowledged. */
  aof?: boolean;
  password?: string;
  /** Extra `redis-server` arguments. */
  args?: string[];
  /** The port to listen on. @default a free one */
  port?: number;
  /** Also listen with TLS (on `tlsPort`) with this certificate; clients are not asked for one. */
  tls?: { cert: string; key: string };
}

/** A free loopback port: listen on 0, read it, close. Redis binds it right after (a race tests live with). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real redis-server on a free loopback port, as the current user, in a temp dir; stop() removes it all. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-redis-'));
  const port = options.port ?? (await freePort());
  const tlsPort = options.tls ? await freePort() : undefined;
  const tlsArgs: string[] = [];
  if (options.tls) {
    await writeFile(path.join(dir, 'tls.crt'), options.tls.cert);
    await writeFile(path.join(dir, 'tls.key'), options.tls.key, { mode: 0o600 });
    tlsArgs.push('--tls-port', String(tlsPort), '--tls-cert-file', path.join(dir, 'tls.crt'), '--tls-key-file', path.join(dir, 'tls.key'), '--tls-auth-clients', 'no');
  }
  const args = [
    ...tlsArgs,
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', options.aof ? 'yes' : 'no',
    ...(options.aof ? ['--appendfsync', 'always'] : []),
    ...(options.password ? ['--requirepass', options.password] : []),
    '--daemonize', 'no',
    '--logfile', path.join(dir, 'redis.log'),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  const cliArgs = ['-h', '127.0.0.1', '-p', String(port), ...(options.password ? ['--no-auth-warning', '-a', options.password] : [])];
  const cli = (...command: string[]) => {
    const result = spawnSync('redis-cli', [...cliArgs, ...command], { encoding: 'latin1' });
    if (result.status !== 0) throw new Error(`redis-cli ${command.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const launch = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ping = spawnSync('redis-cli', [...cliArgs, 'PING'], { encoding: 'utf8' });
      if (ping.stdout.trim() === 'PONG') return;
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await delay(50);
    }
  };
  const exit = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await launch();
  return {
    port,
    ...(tlsPort !== undefined && { tlsPort }),
    url: `redis://${options.password ? `:${encodeURIComponent(options.password)}@` : ''}127.0.0.1:${port}`,
    dir,
    cli,
    kill: () => exit('SIGKILL'),
    restart: launch,
    async stop() {
      await exit('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP relay between a client and Redis that can be told to drop the connection right after it has
 * forwarded a matching command and before Redis's reply reaches the client: the reply is lost, the
 * write happened.
 */
export interface Relay {
  port: number;
  /** The next command whose bytes contain `marker` is forwarded, then every connection is cut before the reply. */
  dropReplyAfter(marker: string): Promise<void>;
  /** Connections relayed so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startRelay(target: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let armed: { marker: string; done: () => void } | undefined;
  let connections = 0;
  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    // Set once a trapped command went through: whatever Redis answers next is dropped with the connection.
    let trapped: (() => void) | undefined;
    client.on('data', (chunk: Buffer) => {
      const trap = armed;
      if (trap && chunk.includes(trap.marker)) {
        armed = undefined;
        trapped = trap.done;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!trapped) {
        client.write(chunk);
        return;
      }
      const done = trapped;
      trapped = undefined;
      client.destroy();
      upstream.destroy();
      done();
    });
    const end = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    dropReplyAfter: (marker) => new Promise<void>((resolve) => (armed = { marker, done: resolve })),
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
