import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { clientResponseHeaders, originForm, upstreamRequestHeaders, type ForwardContext } from './headers.js';
import { errorPage } from './pages.js';

export interface ForwarderOptions {
  upstream: URL;
  insecure: boolean;
  changeOrigin: boolean;
  upstreamHeadersTimeout: number;
  upstreamBodyTimeout: number;
  /** Called for every 502/504 this proxy answers itself, so they can be counted. */
  onUpstreamError?: (status: 502 | 504, code: string) => void;
}

export type UpstreamFailure = 502 | 504;

// undici codes meaning "the upstream did not answer in time" rather than "it answered badly".
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/**
 * Forwards requests to one upstream over a keep-alive undici pool, streaming bodies both ways with
 * back-pressure (the upstream body is piped into the client response: no buffering, flat memory).
 */
export class Forwarder {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: ForwarderOptions) {
    const { upstream } = options;
    this.basePath = upstream.pathname === '/' ? '' : upstream.pathname.replace(/\/$/, '');
    this.pool = new Pool(upstream.origin, {
      connections: 128,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      headersTimeout: options.upstreamHeadersTimeout,
      bodyTimeout: options.upstreamBodyTimeout,
      connect: upstream.protocol === 'https:' ? { rejectUnauthorized: !options.insecure, servername: upstream.hostname } : {},
    });
  }

  forward(req: IncomingMessage, res: ServerResponse, context: ForwardContext): void {
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const options: Dispatcher.DispatchOptions = {
      path: this.basePath + originForm(req.url),
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: upstreamRequestHeaders(req.headers, context),
      body: hasBody ? req : null,
    };
    // `dispatch` with our own handler: the lowest-cost way through undici (no intermediate Readable),
    // with back-pressure by pausing the upstream while the client's socket is full. Not `pool.stream`:
    // when the upstream fails mid-response while the client is still sending its body, undici 7's stream
    // handler calls its callback twice, the second time as null, from an event handler: an uncaught
    // TypeError that ends the process (test/hostile.test.ts keeps that case covered).
    let upstream: Dispatcher.DispatchController | undefined;
    let settled = false;
    const resume = () => upstream?.resume();
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      res.off('drain', resume);
      if (error === undefined) res.end();
      else this.fail(res, error);
    };
    res.on('drain', resume);
    // The client went away before the response was done: stop the upstream work too.
    res.once('close', () => {
      if (!res.writableFinished) upstream?.abort(new Error('client went away'));
    });
    this.pool.dispatch(options, {
      onRequestStart: (controller) => {
        upstream = controller;
        if (res.destroyed) controller.abort(new Error('client went away'));
      },
      onResponseStart: (controller, statusCode, headers) => {
        try {
          res.writeHead(statusCode, clientResponseHeaders(headers));
        } catch (invalid) {
          controller.abort(invalid as Error);
        }
      },
      onResponseData: (controller, chunk) => {
        if (res.destroyed) controller.abort(new Error('client went away'));
        else if (!res.write(chunk)) controller.pause();
      },
      onResponseEnd: () => settle(),
      onResponseError: (_controller, error) => settle(error),
    });
  }

  /** Forwards an HTTP upgrade (WebSocket) and splices the two sockets together. */
  upgrade(req: IncomingMessage, clientSocket: Duplex, head: Buffer, context: ForwardContext): void {
    clientSocket.on('error', () => clientSocket.destroy());
    this.pool
      .upgrade({
        path: this.basePath + originForm(req.url),
        method: req.method ?? 'GET',
        // undici writes `Connection: upgrade` and `Upgrade: <protocol>` itself.
        headers: upstreamRequestHeaders(req.headers, context),
        protocol: String(req.headers.upgrade ?? 'websocket'),
      })
      .then(({ headers, socket: upstreamSocket }) => {
        const lines = ['HTTP/1.1 101 Switching Protocols'];
        for (const [name, value] of Object.entries(headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
        }
        clientSocket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length > 0) upstreamSocket.write(head);
        upstreamSocket.on('error', () => clientSocket.destroy());
        clientSocket.on('close', () => upstreamSocket.destroy());
        upstreamSocket.on('close', () => clientSocket.destroy());
        upstreamSocket.pipe(clientSocket);
        clientSocket.pipe(upstreamSocket);
      })
      .catch((error: unknown) => {
        const status = this.statusFor(error);
        const page = errorPage(status);
        clientSocket.end(`HTTP/1.1 ${status} ${page.reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(page.body)}\r\nConnection: close\r\n\r\n${page.body}`);
      });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** The Host header to send upstream: the client's, or the upstream's own with `changeOrigin`. */
  hostFor(req: IncomingMessage): string | undefined {
    return this.options.changeOrigin ? this.options.upstream.host : req.headers.host;
  }

  private statusFor(error: unknown): UpstreamFailure {
    const code = (error as { code?: string }).code ?? 'error';
    const status: UpstreamFailure = TIMEOUT_CODES.has(code) ? 504 : 502;
    this.options.onUpstreamError?.(status, code);
    return status;
  }

  private fail(res: ServerResponse, error: unknown): void {
    // A client that left is not an upstream failure: nothing to answer, nothing to count.
    if (res.destroyed || (error as { name?: string }).name === 'AbortError' || (error as { code?: string }).code === 'UND_ERR_ABORTED') return;
    // Mid-body failure: the status line is gone, so the only honest signal left is a cut connection.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = this.statusFor(error);
    const page = errorPage(status);
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page.body), 'cache-control': 'no-store' });
    res.end(page.body);
  }
}

