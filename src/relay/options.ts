import type { Socket } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import type { ClientHello, NotTlsReason } from '../tls/client-hello.js';
import { assertKnownKeys, assertPlainObject, oneOf, optionalFunction } from '../validate.js';
import { parseHostPort, type HostPort } from './address.js';
import type { RelayCensusRecord, UpstreamErrorEvent } from './types.js';
import { RELAY_CUTS, type RelayCut } from './route.js';

export interface RelayOptions {
  /** The existing TLS server that keeps modern clients: `'127.0.0.1:8443'` or `{ host, port }`. An IP address avoids a DNS lookup per connection. */
  upstream: string | HostPort;
  /**
   * Send a PROXY protocol v2 header (the client's address and port) before the relayed bytes. The
   * existing server must then expect it (nginx: `listen … ssl proxy_protocol`).
   * @default false
   */
  proxyProtocol?: boolean;
  /**
   * Relay clients that offer at least this version; terminate the others here.
   * @default 'TLSv1.2'
   */
  relayFrom?: RelayCut;
  /**
   * Milliseconds from accept within which the whole ClientHello must have arrived.
   * @default 10000
   */
  helloTimeout?: number;
  /**
   * Milliseconds a relayed connection may pass without a byte in either direction.
   * @default 600000 (nginx's `proxy_timeout`)
   */
  idleTimeout?: number;
  /**
   * Milliseconds to connect to the existing server before the client is reset.
   * @default 5000
   */
  connectTimeout?: number;
  /**
   * Gets every connection to complete here, paused, with the bytes already read put back: hand it to
   * the legacy-capable TLS server with `server.emit('connection', socket)`. `hello` is null when the
   * hello was malformed or too large (that server's TLS layer then refuses it and counts the failure).
   */
  onTerminate: (socket: Socket, hello: ClientHello | null) => void;
  /**
   * Gets every connection that does not start with a TLS handshake, paused, bytes put back.
   * @default the connection is destroyed
   */
  onNotTls?: (socket: Socket, reason: NotTlsReason) => void;
  /** One record per connection, when it is finished (relayed ones when they close). */
  onCensus?: (record: RelayCensusRecord) => void;
  /** The existing server could not be reached and a client got a reset: log it, with the count. */
  onUpstreamError?: (event: UpstreamErrorEvent) => void;
}

export interface ResolvedRelayOptions {
  upstream: HostPort;
  proxyProtocol: boolean;
  relayFrom: number;
  helloTimeout: number;
  idleTimeout: number;
  connectTimeout: number;
  onTerminate: (socket: Socket, hello: ClientHello | null) => void;
  onNotTls: ((socket: Socket, reason: NotTlsReason) => void) | undefined;
  onCensus: ((record: RelayCensusRecord) => void) | undefined;
  onUpstreamError: ((event: UpstreamErrorEvent) => void) | undefined;
}

const KNOWN = ['upstream', 'proxyProtocol', 'relayFrom', 'helloTimeout', 'idleTimeout', 'connectTimeout', 'onTerminate', 'onNotTls', 'onCensus', 'onUpstreamError'] as const;

export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  assertPlainObject(options, 'relay options');
  assertKnownKeys(options as unknown as Record<string, unknown>, KNOWN, '');
  if (options.upstream === undefined) throw new InvalidOptionError('upstream', undefined, "expected the existing TLS server's address, such as '127.0.0.1:8443'");
  const upstream = parseHostPort(options.upstream, 'upstream');
  const proxyProtocol = options.proxyProtocol ?? false;
  if (typeof proxyProtocol !== 'boolean') throw new InvalidOptionError('proxyProtocol', options.proxyProtocol, 'expected true or false');
  const relayFrom = RELAY_CUTS[oneOf(options.relayFrom ?? 'TLSv1.2', Object.keys(RELAY_CUTS) as RelayCut[], 'relayFrom')];
  const onTerminate = optionalFunction<ResolvedRelayOptions['onTerminate']>(options.onTerminate, 'onTerminate');
  if (!onTerminate) {
    throw new InvalidOptionError('onTerminate', undefined, "expected a function that hands legacy connections to the legacy TLS server, such as (socket) => server.emit('connection', socket)");
  }
  return {
    upstream,
    proxyProtocol,
    relayFrom,
    helloTimeout: milliseconds(options.helloTimeout, 'helloTimeout', 10_000, 100, 120_000),
    idleTimeout: milliseconds(options.idleTimeout, 'idleTimeout', 600_000, 1000, 86_400_000),
    connectTimeout: milliseconds(options.connectTimeout, 'connectTimeout', 5000, 100, 120_000),
    onTerminate,
    onNotTls: optionalFunction(options.onNotTls, 'onNotTls'),
    onCensus: optionalFunction(options.onCensus, 'onCensus'),
    onUpstreamError: optionalFunction(options.onUpstreamError, 'onUpstreamError'),
  };
}

function milliseconds(value: unknown, option: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, value, `expected milliseconds, an integer from ${min} to ${max}`);
  }
  return value;
}
