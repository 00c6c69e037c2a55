/**
 * The listener in front of the legacy-capable TLS server, when modern traffic is kept off the Node path:
 * the built-in pass-through (`passThrough`: read each ClientHello, relay TLS 1.2+ byte for byte to the
 * existing server, terminate the rest here) and the legacy-only mode behind a TCP router
 * (`acceptProxyProtocol`: every connection comes from a router and starts with a PROXY header naming the
 * visitor). Either way the TLS server does not listen itself: it gets its connections from here.
 */
import net, { type Server, type Socket } from 'node:net';
import type tls from 'node:tls';
import { createProxyHeaderAcceptor, proxiedPeer, type ProxyHeaderRefusal } from '../relay/accept-proxy.js';
import { formatHostPort } from '../relay/address.js';
import type { ProxyAddress } from '../relay/proxy-protocol.js';
import { createRelay, RELAY_SERVER_OPTIONS, type Relay, type RelayCensusRecord, type UpstreamErrorEvent } from '../relay/relay.js';
import type { TrafficStats } from '../stats/traffic-stats.js';
import { clientHelloFacts, rememberClientHello } from '../tls/census.js';
import { compileTrustedProxies } from '../tls/trusted-proxies.js';
import type { ClientHelloOutcome, OfferedVersion } from '../types.js';
import type { ProxyConfig, ProxyLogger } from './config.js';

/** At most one log line a minute about each kind of trouble, with the count since the last one. */
export const FRONT_LOG_INTERVAL_MS = 60_000;

export interface Front {
  server: Server;
  relay: Relay | null;
}

/** The front listener, or null when the TLS server listens itself (no pass-through, no router). */
export function createFront(config: ProxyConfig, tlsServer: tls.Server, stats: TrafficStats, logger: ProxyLogger): Front | null {
  if (config.passThrough === null && config.acceptProxyProtocol.length === 0) return null;
  const handOver = (socket: Socket) => tlsServer.emit('connection', socket);

  let relay: Relay | null = null;
  let next: (socket: Socket) => void = handOver;
  if (config.passThrough !== null) {
    const upstreamDown = new RateLimitedLog(logger, 'the existing TLS server could not be reached: clients were reset (a TLS client cannot be shown a page before its handshake)');
    relay = createRelay({
      upstream: config.passThrough,
      proxyProtocol: config.proxyProtocol,
      helloTimeout: config.timeouts.handshake,
      onTerminate: (socket, hello) => {
        rememberClientHello(socket, hello && clientHelloFacts(hello));
        handOver(socket);
      },
      // Plain HTTP or junk on the TLS port: the TLS layer answers and counts it (`not-tls`), as without the relay.
      onNotTls: (socket) => {
        rememberClientHello(socket, null);
        handOver(socket);
      },
      onCensus: (record) => {
        stats.recordClientHello(censusOutcome(record));
        if (record.outcome === 'relayed' || record.outcome === 'terminated' || record.outcome === 'upstream-unavailable') stats.recordPassThrough(record.outcome);
      },
      onUpstreamError: (event: UpstreamErrorEvent) => upstreamDown.add({ upstream: event.upstream, code: event.code, total: event.count }),
    });
    next = relay.handle;
  }

  let accept = next;
  if (config.acceptProxyProtocol.length > 0) {
    const routers = compileTrustedProxies(config.acceptProxyProtocol);
    const refused = new RateLimitedLog(logger, 'connections refused: not from a configured router (acceptProxyProtocol), or without a valid PROXY protocol header');
    const acceptor = createProxyHeaderAcceptor({ timeout: config.timeouts.clientHello, onRefused: (refusal: ProxyHeaderRefusal) => refused.add({ reason: refusal.reason, from: refusal.remoteAddress }) });
    accept = (socket) => {
      // Fail closed: only a router may say whose connection this is, and a router always says it.
      if (!routers.has(socket.remoteAddress)) {
        refused.add({ reason: 'not-a-router', from: socket.remoteAddress ?? null });
        socket.on('error', () => undefined);
        socket.destroy();
        return;
      }
      acceptor(socket, (accepted) => {
        const peer = proxiedPeer(accepted);
        if (peer) adoptPeer(accepted, peer);
        next(accepted);
      });
    };
    // The TLS socket made of an accepted one answers with the visitor's address too (logs, stats, the
    // report's loopback rule, X-Forwarded-For): set before Node's own listener builds the HTTP connection.
    tlsServer.prependListener('secureConnection', (socket: tls.TLSSocket) => {
      const peer = proxiedPeer(socket);
      if (peer) adoptPeer(socket, peer);
    });
  }

  const server = net.createServer(relay ? RELAY_SERVER_OPTIONS : { pauseOnConnect: false }, accept);
  return { server, relay };
}

/**
 * Makes a socket report the visitor a PROXY header named, as an own property over net.Socket's getters:
 * every reader (the connection guard's per-address limit, handshake failures, the request path) then
 * sees the visitor, not the router.
 */
function adoptPeer(socket: Socket, peer: ProxyAddress): void {
  Object.defineProperty(socket, 'remoteAddress', { value: peer.address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: peer.port, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: net.isIPv6(peer.address) ? 'IPv6' : 'IPv4', configurable: true });
}

const WIRE_VERSIONS: Record<number, OfferedVersion> = { 0x0002: 'SSLv2', 0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' };

/** The census label of a relay record: the census's own labels for the same facts. */
export function censusOutcome(record: Pick<RelayCensusRecord, 'outcome' | 'maxVersion' | 'fault'>): ClientHelloOutcome {
  if (record.outcome === 'not-tls') return 'not-tls';
  if (record.outcome === 'hello-timeout' || record.outcome === 'hello-incomplete') return 'no-hello';
  if (record.maxVersion === null) return 'unreadable';
  return WIRE_VERSIONS[record.maxVersion] ?? (record.maxVersion > 0x0304 ? 'TLSv1.3' : 'unreadable');
}

/** A warning logged at once, then at most once per FRONT_LOG_INTERVAL_MS with the count in between. */
class RateLimitedLog {
  #last = -Infinity;
  #pending = 0;
  #fields: Record<string, unknown> = {};
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: ProxyLogger,
    private readonly message: string,
  ) {}

  add(fields: Record<string, unknown>): void {
    this.#pending++;
    this.#fields = fields;
    const wait = this.#last + FRONT_LOG_INTERVAL_MS - Date.now();
    if (wait <= 0) this.#flush();
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#flush(), wait);
      this.#timer.unref();
    }
  }

  #flush(): void {
    this.#timer = null;
    if (this.#pending === 0) return;
    this.logger.warn(this.message, { ...this.#fields, count: this.#pending });
    this.#pending = 0;
    this.#last = Date.now();
  }
}

export function describeFront(config: ProxyConfig): string | null {
  if (config.passThrough) return `pass-through to ${formatHostPort(config.passThrough)}${config.proxyProtocol ? ' with PROXY protocol v2' : ''}`;
  if (config.acceptProxyProtocol.length > 0) return `legacy-only behind a router (PROXY protocol from ${config.acceptProxyProtocol.join(', ')})`;
  return null;
}
