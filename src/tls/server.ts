import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { resolveServerOptions, type LegacyTlsServerOptions } from './options.js';
import { guardConnections, parentOf } from './connection-guard.js';
import { errorCode, handshakeFailureReason, type HandshakeFailure } from './handshake-failure.js';
import { defaultSelfSignedCertificate } from './self-signed.js';
import { normaliseTlsVersion } from './facts.js';
import { installCensus, offeredOf, type Census } from './census.js';

/** A request listener. Node ignores what it returns: a promise (Koa's `app.callback()`) must answer its own errors. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

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
 * `handshakeFailure` event. Connections that send no ClientHello within `clientHelloTimeout` or finish no
 * handshake within `handshakeTimeout` are closed, and with `maxConnections` a full server closes its
 * oldest stalled handshake to let a new client in (see `connection-limiter.ts`); each is reported too.
 * Without `cert`/`key` it generates a self-signed RSA certificate for `localhost`; `listen()` then waits
 * for it, so callers use the server as any other.
 */
export function createLegacyTlsServer(options: LegacyTlsServerOptions = {}, handler?: RequestHandler): LegacyTlsServer {
  const resolved = resolveServerOptions(options);
  const server = https.createServer(resolved.tls, handler) as LegacyTlsServer;

  const reportFailure = (failure: HandshakeFailure) => {
    resolved.stats?.recordHandshakeFailure(failure.reason, failure.offered);
    server.emit(HANDSHAKE_FAILURE_EVENT, failure);
  };
  let census: Census | undefined;
  if (resolved.census) {
    census = installCensus(server, { helloTimeout: resolved.connections.handshakeTimeout }, {
      outcome: (_raw, outcome) => resolved.stats?.recordClientHello?.(outcome),
      // The TLS layer never had these connections, so it reports nothing: report what it would have.
      lost: (raw, code) => {
        if (guard.closedByGuard(raw)) return;
        reportFailure({ reason: handshakeFailureReason({ code }), code, remoteAddress: raw.remoteAddress ?? null, at: new Date(), offered: null });
      },
    });
  }
  const guard = guardConnections(server, resolved.connections, reportFailure, census);
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    socket.destroy();
    if (guard.closedByGuard(socket)) return;
    const raw = parentOf(socket);
    reportFailure({
      reason: handshakeFailureReason(error),
      code: errorCode(error),
      remoteAddress: socket.remoteAddress ?? raw?.remoteAddress ?? null,
      at: new Date(),
      offered: offeredOf(raw),
    });
  });
  // Connections still in their handshake are connections too: without this, close() would wait for them.
  const closeAllConnections = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAllConnections();
    guard.closeUnfinished();
  };

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
