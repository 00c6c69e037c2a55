import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type tls from 'node:tls';
import { offeredOf, type Census } from './census.js';
import type { HandshakeFailureReason } from '../types.js';
import { ConnectionLimiter } from './connection-limiter.js';
import type { ConnectionGuardSettings } from './options.js';
import type { HandshakeFailure } from './handshake-failure.js';

/**
 * Bounds what a connection may cost before its TLS handshake is done. Node alone holds a socket that
 * never sends a byte for 120 s, so about a thousand silent sockets use up a 1024-descriptor limit, and a
 * connection limit full of them locks every real client out.
 */

/** The `code` of the failures the guard causes itself (Node's own timeout is `ERR_TLS_HANDSHAKE_TIMEOUT`). */
export const GUARD_CODES = {
  clientHelloTimeout: 'ERR_LEGACY_TLS_CLIENT_HELLO_TIMEOUT',
  evicted: 'ERR_LEGACY_TLS_EVICTED',
  connectionLimit: 'ERR_LEGACY_TLS_CONNECTION_LIMIT',
  addressLimit: 'ERR_LEGACY_TLS_ADDRESS_LIMIT',
} as const;

export interface ConnectionGuard {
  /** Whether the guard closed this connection (a TLS socket's, or the TCP socket) itself, and reported it. */
  closedByGuard(socket: tls.TLSSocket | Socket): boolean;
  /** Closes every connection still in its handshake, unreported: nothing was asked on them yet. */
  closeUnfinished(): void;
}

/**
 * Watches every connection of `server` from accept to the end of its handshake: closes it when no byte
 * of a ClientHello arrived within `clientHelloTimeout` (Node's `handshakeTimeout` covers the rest), and
 * applies the connection limit. Each connection it closes is passed to `report` once.
 */
export function guardConnections(
  server: tls.Server,
  settings: ConnectionGuardSettings,
  report: (failure: HandshakeFailure) => void,
  census?: Pick<Census, 'started'>,
): ConnectionGuard {
  const limiter = settings.limits && new ConnectionLimiter<Socket>(settings.limits);
  const closed = new WeakSet<Socket>();
  const unfinished = new Map<Socket, NodeJS.Timeout>();

  const forget = (raw: Socket) => {
    clearTimeout(unfinished.get(raw));
    unfinished.delete(raw);
  };
  const close = (raw: Socket, reason: HandshakeFailureReason | null, code: string) => {
    if (closed.has(raw)) return;
    closed.add(raw);
    forget(raw);
    // Destroying the TCP socket makes the TLS layer report ECONNRESET later: `closedByGuard` hides it.
    raw.destroy();
    if (reason) report({ reason, code, remoteAddress: raw.remoteAddress ?? null, at: new Date(), offered: offeredOf(raw) });
  };

  // First listener, before the TLS layer wraps the socket. Reading the address here also caches it on the
  // TCP socket, so a peer that resets mid-handshake is still reported with its address.
  server.prependListener('connection', (raw: Socket) => {
    const address = raw.remoteAddress ?? null;
    if (limiter) {
      const admission = limiter.admit(raw, address, Date.now());
      if (!admission.admitted) {
        close(raw, 'connection-limit', admission.reason === 'address-limit' ? GUARD_CODES.addressLimit : GUARD_CODES.connectionLimit);
        return;
      }
      if (admission.evicted) close(admission.evicted, 'evicted', GUARD_CODES.evicted);
    }
    // Without the census the TLS layer reads the TCP handle itself, so no 'data' event tells us a
    // ClientHello began; the handle's byte count does. With it, the census knows.
    const timer = setTimeout(() => {
      if (census ? !census.started(raw) : raw.bytesRead === 0) close(raw, 'timeout', GUARD_CODES.clientHelloTimeout);
    }, settings.clientHelloTimeout);
    unfinished.set(raw, timer);
    raw.once('close', () => {
      forget(raw);
      limiter?.closed(raw);
    });
  });

  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const raw = parentOf(socket);
    if (!raw) return;
    forget(raw);
    limiter?.handshakeFinished(raw);
  });

  return {
    closedByGuard: (socket) => {
      const raw = socket instanceof TLSSocket ? parentOf(socket) : socket;
      return raw !== undefined && closed.has(raw);
    },
    closeUnfinished: () => {
      for (const raw of [...unfinished.keys()]) close(raw, null, '');
    },
  };
}

/** The TCP socket under a server-side TLS socket, which Node keeps as `_parent`. */
export function parentOf(socket: tls.TLSSocket): Socket | undefined {
  return (socket as tls.TLSSocket & { _parent?: Socket })._parent;
}
