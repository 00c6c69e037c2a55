import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { resolveServerOptions, type LegacyTlsServerOptions } from '../options.js';
import { errorCode, handshakeFailureReason, type HandshakeFailure } from './handshake-failure.js';
import { defaultSelfSignedCertificate } from './self-signed.js';
import { normaliseTlsVersion } from './facts.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Emitted for every handshake that fails, so no lost client goes uncounted. */
export const HANDSHAKE_FAILURE_EVENT = 'handshakeFailure';

export interface LegacyTlsServer extends https.Server {
  on(event: typeof HANDSHAKE_FAILURE_EVENT, listener: (failure: HandshakeFailure) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
  once(event: typeof HANDSHAKE_FAILURE_EVENT, listener: (failure: HandshakeFailure) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * An `https.Server` that also completes TLS 1.0 and 1.1 handshakes, and reports every failed one as a
 * `handshakeFailure` event. Without `cert`/`key` it generates a self-signed RSA certificate for
 * `localhost`; `listen()` then waits for it, so callers use the server as any other.
 */
export function createLegacyTlsServer(options: LegacyTlsServerOptions = {}, handler?: RequestHandler): LegacyTlsServer {
  const resolved = resolveServerOptions(options);
  const server = https.createServer(resolved.tls, handler) as LegacyTlsServer;

  // Reading the address once at connection time caches it on the TCP socket, which the TLS socket keeps
  // as `_parent`: a peer that resets mid-handshake is then still reported with its address.
  server.prependListener('connection', (raw: Socket) => void raw.remoteAddress);
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    const failure: HandshakeFailure = {
      reason: handshakeFailureReason(error),
      code: errorCode(error),
      remoteAddress: socket.remoteAddress ?? peerAddressOf(socket),
      at: new Date(),
    };
    socket.destroy();
    resolved.stats?.recordHandshakeFailure(failure.reason);
    server.emit(HANDSHAKE_FAILURE_EVENT, failure);
  });

  const { stats } = resolved;
  if (stats) {
    server.on('secureConnection', (socket: TLSSocket) => {
      stats.recordHandshake(normaliseTlsVersion(socket.getProtocol()), socket.isSessionReused());
    });
  }

  if (resolved.needsGeneratedCertificate) {
    resolved.warn(
      'legacy-tls-fallback: no cert/key given, serving a generated self-signed certificate for localhost; pass cert and key in production.',
    );
    deferListenUntilCertificate(server, resolved.tls);
  }
  return server;
}

// A TLS socket whose handshake failed may already have lost its handle; its parent TCP socket kept the address.
function peerAddressOf(socket: TLSSocket): string | null {
  const parent = (socket as TLSSocket & { _parent?: { remoteAddress?: string } })._parent;
  return parent?.remoteAddress ?? null;
}

function deferListenUntilCertificate(server: https.Server, tlsOptions: https.ServerOptions): void {
  const listen = server.listen.bind(server) as (...args: unknown[]) => https.Server;
  const ready = defaultSelfSignedCertificate().then((pair) => {
    server.setSecureContext({ ...tlsOptions, cert: pair.cert, key: pair.key });
  });
  server.listen = ((...args: unknown[]) => {
    ready.then(
      () => listen(...args),
      (error: unknown) => server.emit('error', error),
    );
    return server;
  }) as https.Server['listen'];
}
