/**
 * The receiving side of the PROXY protocol on a socket: read the header before anything else, drop it,
 * put back what followed it, and remember whose connection it is. For the legacy-only listener behind a
 * TCP router (nginx `proxy_protocol on`, HAProxy `send-proxy`/`send-proxy-v2`).
 *
 * The spec (section 2) forbids guessing: a listener configured for the PROXY protocol refuses every
 * connection without a valid header, since otherwise any client could claim any address.
 */
import type { Socket } from 'node:net';
import { defineOptions } from '../schema/define.js';
import { fn, integer } from '../schema/option.js';
import { PROXY_HEADER_DEFAULT_MAX, PROXY_V2_MAX_LENGTH, ProxyHeaderReader, type ProxyAddress, type ProxyHeader, type ProxyRefusal } from './proxy-protocol.js';

export interface ProxyHeaderAcceptorOptions {
  /**
   * Milliseconds the whole header may take from accept. The spec asks for at least 3 s (a TCP
   * retransmission); routers send it with their first packet.
   * @default 5000
   */
  timeout?: number;
  /**
   * Largest v2 header accepted, TLVs included (v1 lines are 107 bytes at most by the spec).
   * @default 4096
   */
  maxHeaderBytes?: number;
  /** Called for every connection refused, after it has been destroyed: for a counter or a log line. */
  onRefused?: (refusal: ProxyHeaderRefusal) => void;
}

export interface ProxyHeaderRefusal {
  reason: ProxyRefusal | 'timeout' | 'closed';
  /** The router's address (the socket's peer), not a client's. */
  remoteAddress: string | null;
}

/**
 * `accept(socket, next)`: reads the PROXY header, then calls `next(socket, header)` with the header
 * dropped and the bytes after it put back on the socket (`unshift`), the socket paused. The client's
 * address is then `proxiedPeer(socket)`. A connection without a valid header is destroyed, and
 * `onRefused` told why; `next` is never called for it.
 */
export type ProxyHeaderAcceptor = (socket: Socket, next: (socket: Socket, header: ProxyHeader) => void) => void;

/** The acceptor's options, described once. */
export const PROXY_HEADER_OPTIONS = defineOptions({
  timeout: integer({
    default: 5000,
    min: 100,
    max: 600_000,
    unit: 'milliseconds',
    also: ' (the PROXY protocol spec advises at least 3000)',
    help: 'Milliseconds the whole header may take from accept; routers send it with their first packet.',
  }),
  maxHeaderBytes: integer({
    default: PROXY_HEADER_DEFAULT_MAX,
    min: 232,
    max: PROXY_V2_MAX_LENGTH,
    unit: 'bytes',
    also: ' (232 holds a v2 header with UNIX addresses)',
    help: 'Largest v2 header accepted, TLVs included (v1 lines are 107 bytes at most by the spec).',
  }),
  onRefused: fn<((refusal: ProxyHeaderRefusal) => void) | undefined>({ type: '(refusal) => void', help: 'Called for every connection refused, after it has been destroyed: for a counter or a log line.' }),
});

export function createProxyHeaderAcceptor(options: ProxyHeaderAcceptorOptions = {}): ProxyHeaderAcceptor {
  const { timeout, maxHeaderBytes, onRefused } = PROXY_HEADER_OPTIONS.resolve(options);

  return function acceptProxyHeader(socket, next) {
    const reader = new ProxyHeaderReader(maxHeaderBytes);
    // An absolute deadline, not an idle timeout: a sender dribbling one byte at a time must not extend it.
    const timer = setTimeout(() => refuse('timeout'), timeout);
    const onData = (chunk: Buffer) => {
      const read = reader.push(chunk);
      if (read.status === 'need-more') return;
      if (read.status === 'refused') return refuse(read.reason);
      detach();
      socket.pause();
      const rest = reader.rest();
      if (rest.length > 0) socket.unshift(rest);
      if (read.header.command === 'proxy') PEERS.set(socket, read.header.source);
      next(socket, read.header);
    };
    const onEnd = () => refuse('closed');
    const onError = () => refuse('closed');
    const detach = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const refuse = (reason: ProxyHeaderRefusal['reason']) => {
      detach();
      const remoteAddress = socket.remoteAddress ?? null;
      // Nothing the sender sent is answered: whatever it is, it is not a router we trust to speak first.
      socket.on('error', ignore);
      socket.destroy();
      onRefused?.({ reason, remoteAddress });
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  };
}

function ignore(): void {}

const PEERS = new WeakMap<object, ProxyAddress>();

/**
 * The client a PROXY header named for this connection: pass the raw socket, or the TLS socket (or
 * `req.socket`) a TLS server made of it. `undefined` when the header was LOCAL or UNKNOWN (use the
 * socket's own address then) or when the connection had no header.
 */
export function proxiedPeer(socket: object): ProxyAddress | undefined {
  const direct = PEERS.get(socket);
  if (direct !== undefined) return direct;
  // A TLS server's socket wraps the accepted one, which Node keeps as `_parent`.
  const parent = (socket as { _parent?: unknown })._parent;
  return typeof parent === 'object' && parent !== null ? PEERS.get(parent) : undefined;
}

/** Records the client a PROXY header named, for connections read by other means than the acceptor. */
export function setProxiedPeer(socket: Socket, peer: ProxyAddress): void {
  PEERS.set(socket, peer);
}
