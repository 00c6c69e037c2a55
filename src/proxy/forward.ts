import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardContext } from './headers.js';
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

// A site that declines an upgrade answers with a short page; anything longer is cut, not buffered.
const MAX_DECLINED_UPGRADE_BODY = 64 * 1024;

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

  /** Forwards a request to `path` (origin form, normalised by the caller: the path its decision was made on). */
  forward(req: IncomingMessage, res: ServerResponse, context: ForwardContext, path: string): void {
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const options: Dispatcher.DispatchOptions = {
      path: this.basePath + path,
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
      else this.fail(res, error, context.responseHeaders);
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
          const extra = context.responseHeaders;
          res.writeHead(statusCode, extra === undefined ? clientResponseHeaders(headers) : Object.assign(clientResponseHeaders(headers), extra));
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

  /**
   * Forwards an HTTP upgrade (WebSocket) to `path`. A 101 splices the two sockets together; any other
   * answer is the site's own (a 404, a 426, a redirect) and is passed on as it is, then the connection
   * closes. Only a failure to get an answer at all is a 502/504 of ours, and counted.
   */
  upgrade(req: IncomingMessage, clientSocket: Duplex, head: Buffer, context: ForwardContext, path: string): void {
    const { upstream } = this.options;
    const headers: Record<string, string | string[]> = upstreamRequestHeaders(req.headers, context);
    headers.connection = 'Upgrade';
    headers.upgrade = String(req.headers.upgrade ?? 'websocket');
    const request = (upstream.protocol === 'https:' ? https.request : http.request)({
      host: upstream.hostname.replace(/^\[|\]$/g, ''),
      port: upstream.port || (upstream.protocol === 'https:' ? 443 : 80),
      method: req.method ?? 'GET',
      path: this.basePath + path,
      headers,
      agent: false,
      ...(upstream.protocol === 'https:' && { rejectUnauthorized: !this.options.insecure, servername: upstream.hostname }),
    });
    let answered = false;
    const cut = () => {
      request.destroy();
      clientSocket.destroy();
    };
    clientSocket.on('error', cut);
    clientSocket.on('close', () => {
      if (!answered) request.destroy();
    });
    request.setTimeout(this.options.upstreamHeadersTimeout, () => request.destroy(Object.assign(new Error('upstream did not answer the upgrade in time'), { code: 'UND_ERR_HEADERS_TIMEOUT' })));
    request.on('upgrade', (response: IncomingMessage, upstreamSocket: Duplex, upstreamHead: Buffer) => {
      answered = true;
      request.setTimeout(0);
      clientSocket.write(responseHead(101, response));
      if (upstreamHead.length > 0) clientSocket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.on('error', cut);
      clientSocket.on('close', () => upstreamSocket.destroy());
      upstreamSocket.on('close', () => clientSocket.destroy());
      upstreamSocket.pipe(clientSocket);
      clientSocket.pipe(upstreamSocket);
    });
    request.on('response', (response: IncomingMessage) => {
      answered = true;
      request.setTimeout(0);
      // The site declined the upgrade: its answer is passed on, and this connection ends with it.
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_DECLINED_UPGRADE_BODY) return response.destroy();
        chunks.push(chunk);
      });
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const headers = { ...response.headers, 'content-length': String(body.length) };
        clientSocket.end(Buffer.concat([Buffer.from(responseHead(response.statusCode ?? 502, { statusMessage: response.statusMessage, headers }), 'latin1'), body]));
      });
      response.on('error', cut);
      response.on('close', () => {
        if (!response.complete) clientSocket.destroy();
      });
    });
    request.on('error', (error: Error) => {
      if (answered || clientSocket.destroyed) return clientSocket.destroy();
      const status = this.statusFor(error);
      const page = errorPage(status);
      clientSocket.end(`HTTP/1.1 ${status} ${page.reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(page.body)}\r\nConnection: close\r\n\r\n${page.body}`);
    });
    request.end();
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

  private fail(res: ServerResponse, error: unknown, extra?: Readonly<Record<string, string>>): void {
    // A client that left is not an upstream failure: nothing to answer, nothing to count.
    if (res.destroyed || (error as { name?: string }).name === 'AbortError' || (error as { code?: string }).code === 'UND_ERR_ABORTED') return;
    // Mid-body failure: the status line is gone, so the only honest signal left is a cut connection.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = this.statusFor(error);
    const page = errorPage(status);
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page.body), 'cache-control': 'no-store', ...extra });
    res.end(page.body);
  }
}

/** Status line and headers of an upstream answer, hop-by-hop headers left out except those of an upgrade. */
function responseHead(status: number, response: Pick<IncomingMessage, 'headers' | 'statusMessage'>): string {
  const lines = [`HTTP/1.1 ${status} ${response.statusMessage || http.STATUS_CODES[status] || ''}`];
  const headers = status === 101 ? response.headers : clientResponseHeaders(response.headers);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  if (status !== 101) lines.push('connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}
