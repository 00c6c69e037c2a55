import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
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
  if (census) answerClientErrorsGracefully(server);
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

const CLIENT_ERROR_RESPONSES: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
};
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
// Long enough for a peer that reads to get the answer; a peer that does not read holds the socket no longer.
const CLIENT_ERROR_LINGER_MS = 2_000;

/**
 * Node's own answer to a request it cannot parse (400, 431, 413, 408), with `end()` where Node calls
 * `destroy()` right after the write. On a TLS 1.3 connection whose hello the census put back, the write
 * can still be queued behind the session tickets when `destroy()` comes, and the answer is lost (seen on
 * Node 20: the client gets a bare close); `end()` sends it first. Only while no one else listens for
 * `clientError`: a listener of the application's answers in our place, as with Node.
 */
function answerClientErrorsGracefully(server: https.Server): void {
  const onClientError = (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (server.listenerCount('clientError') > 1) return;
    const pending = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(CLIENT_ERROR_RESPONSES[error.code ?? ''] ?? BAD_REQUEST);
    setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
  };
  server.on('clientError', onClientError);
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
