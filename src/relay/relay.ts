/**
 * The built-in pass-through: a TCP connection handler that reads each ClientHello and either relays the
 * connection byte for byte to the existing TLS server (clients offering TLS 1.2 or higher) or hands it to
 * the legacy-capable server here (everything older), which shows the fallback page.
 *
 * The relayed bytes are never parsed or changed: the existing server sees the client's own handshake
 * (SNI, ALPN, session tickets, HTTP/2), optionally after a PROXY protocol v2 header that names the
 * client. Back-pressure holds in both directions, a half-close is passed on as a half-close, a reset as a
 * reset, and an unreachable existing server gives the client a reset: a TLS client cannot be shown a page
 * before its handshake, and a reset is what it would have got from a server that is down.
 */
import net, { type Socket } from 'node:net';
import { ClientHelloReader, versionName, type ClientHello, type NotTlsReason } from '../tls/client-hello.js';
import { ja4 } from '../tls/ja4.js';
import { proxiedPeer } from './accept-proxy.js';
import { formatHostPort } from './address.js';
import { encodeProxyV2, encodeProxyV2Local } from './proxy-protocol.js';
import { resolveRelayOptions, type RelayOptions, type ResolvedRelayOptions } from './options.js';
import { routeFor, type RelayRoute } from './route.js';
import type { RelayEnding, RelayOutcome } from './types.js';

export type { RelayCensusRecord, RelayEnding, RelayOutcome, UpstreamErrorEvent } from './types.js';

/**
 * Options for the `net.Server` the relay handles connections of: half-open sockets so that a client's
 * FIN does not end the other direction, and no Nagle delay on what is relayed (nginx's stream proxy sets
 * TCP_NODELAY by default for the same reason).
 */
export const RELAY_SERVER_OPTIONS = { allowHalfOpen: true, noDelay: true } as const satisfies net.ServerOpts;

export interface RelayCounters {
  /** Connections handed to `handle`. */
  accepted: number;
  /** Connections finished, by outcome (a relayed connection counts when it closes). */
  outcomes: Record<RelayOutcome, number>;
}

export interface Relay {
  /** The `net.Server` connection listener: `net.createServer(RELAY_SERVER_OPTIONS, relay.handle)`. */
  readonly handle: (socket: Socket) => void;
  /** Running totals, for a status line or metrics. */
  readonly counters: Readonly<RelayCounters>;
  readonly options: ResolvedRelayOptions;
}

export function createRelay(options: RelayOptions): Relay {
  const resolved = resolveRelayOptions(options);
  const counters: RelayCounters = {
    accepted: 0,
    outcomes: { relayed: 0, terminated: 0, 'not-tls': 0, 'upstream-unavailable': 0, 'hello-timeout': 0, 'hello-incomplete': 0 },
  };
  const sweep = new IdleSweep(resolved.idleTimeout);
  const handle = (socket: Socket) => serve(socket, resolved, counters, sweep);
  return { handle, counters, options: resolved };
}

function ignore(): void {}

/**
 * Bytes read from the existing server go into a buffer of the connection's own, reused while every write
 * to the client goes out at once (no Buffer per read; 16 KiB holds a whole TLS record). A write that
 * has to wait keeps the buffer, and the connection takes a new one.
 */
const UPSTREAM_READ_BUFFER = 16 * 1024;

interface IdleLink {
  /** Set on every chunk either way; cleared by each sweep. */
  active: boolean;
  /** Sweeps in a row that found the link inactive. */
  quiet: number;
  expire(): void;
}

/**
 * Idle connections, found by one timer for all of them: a socket timeout would re-arm a timer on every
 * read and every write (a measurable part of what relaying a small response costs), where this costs one
 * store per chunk. A link is closed after `timeout` to `timeout` + a quarter of it without traffic.
 */
class IdleSweep {
  readonly #links = new Set<IdleLink>();
  readonly #period: number;
  readonly #sweeps: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(timeout: number) {
    this.#period = Math.max(250, Math.floor(timeout / 4));
    this.#sweeps = Math.ceil(timeout / this.#period);
  }

  add(link: IdleLink): void {
    this.#links.add(link);
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#sweep(), this.#period);
      this.#timer.unref();
    }
  }

  delete(link: IdleLink): void {
    this.#links.delete(link);
    if (this.#links.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #sweep(): void {
    for (const link of this.#links) {
      if (link.active) {
        link.active = false;
        link.quiet = 0;
      } else if (++link.quiet >= this.#sweeps) {
        this.delete(link);
        link.expire();
      }
    }
  }
}

type Phase = 'hello' | 'connecting' | 'relaying' | 'finished';

function serve(client: Socket, options: ResolvedRelayOptions, counters: RelayCounters, sweep: IdleSweep): void {
  counters.accepted++;
  const { onCensus } = options;
  // Read now: once the socket is gone its address is too.
  const remoteAddress = onCensus ? (proxiedPeer(client)?.address ?? client.remoteAddress ?? null) : null;
  // Dropped once the hello is read: the closures that outlive it must not keep its buffer alive.
  let reader: ClientHelloReader | null = new ClientHelloReader();
  const chunks: Buffer[] = [];
  let phase: Phase = 'hello';
  let hello: ClientHello | null = null;
  let fault: string | null = null;
  let upstream: Socket | null = null;
  let ending: RelayEnding | null = null;

  /** Counts the connection's outcome and reports its census record, exactly once. */
  const finish = (outcome: RelayOutcome, toClient: number) => {
    if (phase === 'finished') return;
    phase = 'finished';
    sweep.delete(link);
    counters.outcomes[outcome]++;
    if (!onCensus) return;
    onCensus({
      outcome,
      maxVersion: hello?.maxVersion ?? null,
      offered: hello ? versionName(hello.maxVersion) : null,
      serverName: hello?.serverName ?? null,
      alpn: hello?.alpn ?? [],
      ja4: hello ? ja4(hello) : null,
      fault,
      remoteAddress,
      bytesFromClient: client.bytesRead,
      bytesToClient: toClient,
      ending: outcome === 'relayed' ? ending ?? 'closed' : null,
    });
  };

  // ---- Phase 1: the ClientHello, within an absolute deadline (a dribbling client cannot extend it).

  const helloTimer = setTimeout(() => {
    endHelloPhase();
    client.on('error', ignore);
    client.destroy();
    finish('hello-timeout', 0);
  }, options.helloTimeout);

  const onHelloData = (chunk: Buffer) => {
    chunks.push(chunk);
    const read = reader!.push(chunk);
    if (read.status === 'need-more') return;
    reader = null;
    endHelloPhase();
    if (read.status === 'complete') hello = read.hello;
    else fault = read.status === 'too-large' ? `too-large-${read.reason}` : read.reason;
    const route: RelayRoute = routeFor(read, options.relayFrom);
    if (route === 'relay') return connectUpstream();
    client.pause();
    client.unshift(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    // Whatever the new owner does, an error on this socket must not become an uncaught exception.
    client.on('error', ignore);
    if (route === 'terminate') {
      finish('terminated', 0);
      options.onTerminate(client, hello);
    } else {
      finish('not-tls', 0);
      if (options.onNotTls) options.onNotTls(client, read.status === 'not-tls' ? read.reason : ('not-handshake' satisfies NotTlsReason));
      else client.destroy();
    }
  };

  const onHelloGone = () => {
    endHelloPhase();
    client.on('error', ignore);
    client.destroy();
    finish('hello-incomplete', 0);
  };

  const endHelloPhase = () => {
    clearTimeout(helloTimer);
    client.off('data', onHelloData);
    client.off('end', onHelloGone);
    client.off('error', onHelloGone);
    client.off('close', onHelloGone);
  };

  client.on('data', onHelloData);
  client.on('end', onHelloGone);
  client.on('error', onHelloGone);
  client.on('close', onHelloGone);
  // A socket may come paused (a PROXY acceptor before this, or a server with pauseOnConnect).
  client.resume();

  // ---- Phase 2: connect to the existing server. Everything is wired at once: a client's FIN or more
  // bytes may arrive while connecting, and net.Socket queues writes until it is connected.

  const connectUpstream = () => {
    phase = 'connecting';
    // A FIN from the client must reach the existing server as a FIN, not end this side too; and what is
    // relayed leaves at once (both free when the server was made with RELAY_SERVER_OPTIONS).
    client.allowHalfOpen = true;
    client.setNoDelay(true);
    const { host, port } = options.upstream;
    const up = net.connect({ host, port, noDelay: true, allowHalfOpen: true, onread: { buffer: nextReadBuffer, callback: onUpstreamRead } });
    upstream = up;
    up.setTimeout(options.connectTimeout);
    up.once('timeout', onConnectTimeout);
    up.once('connect', onUpstreamConnect);
    up.on('error', onUpstreamError);
    // The header and the hello leave in one writev once connected, before anything the client sends next.
    up.cork();
    if (options.proxyProtocol) up.write(proxyHeader(client));
    for (const chunk of chunks) up.write(chunk);
    chunks.length = 0;
    up.uncork();

    client.on('data', onClientData);
    up.on('drain', onUpstreamDrain);
    client.on('drain', onClientDrain);
    client.on('end', onClientEnd);
    up.on('end', onUpstreamEnd);
    up.on('close', onUpstreamClose);
    client.on('error', onClientError);
    client.on('close', onClientClose);
    sweep.add(link);
  };

  const onConnectTimeout = () => {
    upstream!.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
  };

  const onUpstreamConnect = () => {
    const up = upstream!;
    up.setTimeout(0);
    up.off('timeout', onConnectTimeout);
    if (phase === 'connecting') phase = 'relaying';
  };

  // ---- Phase 3: both directions, with back-pressure. No allocation of ours per chunk.

  const link: IdleLink = {
    active: true,
    quiet: 0,
    expire: () => {
      ending ??= 'idle-timeout';
      client.destroy();
      upstream?.destroy();
    },
  };
  let readBuffer: Buffer | null = null;
  const nextReadBuffer = () => (readBuffer ??= Buffer.allocUnsafe(UPSTREAM_READ_BUFFER));

  const onClientData = (chunk: Buffer) => {
    link.active = true;
    if (!upstream!.write(chunk)) client.pause();
  };
  const onUpstreamDrain = () => {
    link.active = true;
    client.resume();
  };
  // Returning false stops reading until the client has drained.
  const onUpstreamRead = (length: number, buffer: Uint8Array): boolean => {
    link.active = true;
    const flushed = client.write(buffer.subarray(0, length));
    // Still queued: the write holds this buffer, the next read takes a new one.
    if (client.writableLength > 0) readBuffer = null;
    return flushed;
  };
  const onClientDrain = () => {
    link.active = true;
    upstream!.resume();
  };
  const onClientEnd = () => upstream!.end();
  const onUpstreamEnd = () => client.end();

  const onClientError = () => {
    // A reset (or any failure) of the client is passed on as a reset: the existing server must not
    // take a broken connection for a completed one.
    ending ??= 'client-reset';
    reset(upstream!);
  };

  const onUpstreamError = (error: NodeJS.ErrnoException) => {
    if (phase === 'connecting') {
      // Never connected: the existing server is down or unreachable.
      reset(client);
      finish('upstream-unavailable', 0);
      options.onUpstreamError?.({ upstream: formatHostPort(options.upstream), code: error.code ?? 'ERROR', count: counters.outcomes['upstream-unavailable'] });
      return;
    }
    ending ??= 'upstream-reset';
    reset(client);
  };

  const onClientClose = () => {
    const up = upstream!;
    // A client gone without completing both directions (destroyed elsewhere, say at shutdown, or while
    // the existing server was being connected): the existing server must learn it too. After a clean
    // close both directions are done, and the other socket closes by itself once it has flushed.
    if (!up.destroyed && !(client.readableEnded && client.writableFinished)) {
      ending ??= 'client-reset';
      reset(up);
    }
    finish('relayed', client.bytesWritten);
  };

  const onUpstreamClose = () => {
    // The existing server went away without its side being done: the client must not wait for it.
    if (!client.destroyed && !(upstream!.readableEnded && upstream!.writableFinished)) {
      ending ??= 'upstream-reset';
      reset(client);
    }
  };
}

function reset(socket: Socket): void {
  if (socket.destroyed) return;
  socket.on('error', ignore);
  // A socket still connecting has nothing to reset; resetAndDestroy would wait for the connection.
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

function proxyHeader(client: Socket): Buffer {
  const peer = proxiedPeer(client);
  const source = peer ?? { address: client.remoteAddress ?? '', port: client.remotePort ?? -1 };
  return encodeProxyV2(source, { address: client.localAddress ?? '', port: client.localPort ?? -1 }) ?? encodeProxyV2Local();
}
