import type { Socket } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import type { ClientHello, NotTlsReason } from '../tls/client-hello.js';
import { defineOptions } from '../schema/define.js';
import { boolean, custom, fn, integer, oneOf } from '../schema/option.js';
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

type Hook<F> = F | undefined;

/** The relay's options, described once (validated at `createRelay`, documented in docs/deployment.md). */
export const RELAY_OPTIONS = defineOptions({
  upstream: custom<HostPort>({
    type: "string | { host, port }",
    required: true,
    help: "The existing TLS server that keeps modern clients: `'127.0.0.1:8443'` or `{ host, port }`. An IP address avoids a DNS lookup per connection.",
    validate: (value, name) => {
      if (value === undefined) throw new InvalidOptionError(name, undefined, "expected the existing TLS server's address, such as '127.0.0.1:8443'");
      return parseHostPort(value as string | HostPort, name);
    },
  }),
  proxyProtocol: boolean({
    default: false,
    help: 'Send a PROXY protocol v2 header (the client\'s address and port) before the relayed bytes; the existing server must expect it (nginx: `listen … ssl proxy_protocol`).',
  }),
  relayFrom: oneOf<RelayCut>(Object.keys(RELAY_CUTS) as RelayCut[], {
    default: 'TLSv1.2',
    help: 'Relay clients that offer at least this version; terminate the others here.',
  }),
  helloTimeout: integer({ default: 10_000, min: 100, max: 120_000, unit: 'milliseconds', help: 'Milliseconds from accept within which the whole ClientHello must have arrived.' }),
  idleTimeout: integer({ default: 600_000, min: 1000, max: 86_400_000, unit: 'milliseconds', help: "Milliseconds a relayed connection may pass without a byte in either direction (nginx's `proxy_timeout`)." }),
  connectTimeout: integer({ default: 5000, min: 100, max: 120_000, unit: 'milliseconds', help: 'Milliseconds to connect to the existing server before the client is reset.' }),
  onTerminate: custom<ResolvedRelayOptions['onTerminate']>({
    type: '(socket, hello) => void',
    required: true,
    help: "Gets every connection to complete here, paused, bytes put back: hand it to the legacy-capable TLS server with `server.emit('connection', socket)`.",
    validate: (value, name) => {
      if (typeof value === 'function') return value as ResolvedRelayOptions['onTerminate'];
      throw new InvalidOptionError(name, value, "expected a function that hands legacy connections to the legacy TLS server, such as (socket) => server.emit('connection', socket)");
    },
  }),
  onNotTls: fn<Hook<ResolvedRelayOptions['onNotTls']>>({ type: '(socket, reason) => void', defaultText: 'the connection is destroyed', help: 'Gets every connection that does not start with a TLS handshake, paused, bytes put back.' }),
  onCensus: fn<Hook<ResolvedRelayOptions['onCensus']>>({ type: '(record) => void', help: 'One record per connection, when it is finished (relayed ones when they close).' }),
  onUpstreamError: fn<Hook<ResolvedRelayOptions['onUpstreamError']>>({ type: '(event) => void', help: 'The existing server could not be reached and a client got a reset: log it, with the count.' }),
});

export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  const resolved = RELAY_OPTIONS.resolve(options);
  return { ...resolved, relayFrom: RELAY_CUTS[resolved.relayFrom] };
}
