import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { TlsProtocol } from '../../src/types.js';

/** What came back on one raw connection. */
export interface RawExchange {
  /** Every byte the server sent, as received. */
  bytes: Buffer;
  /** The same bytes as latin1 text (one character per byte). */
  text: string;
  /** True when the server (or the network) ended the connection before `maxMs` ran out. */
  closed: boolean;
  /** Milliseconds from connect to close (or to giving up). */
  ms: number;
  /** Error code or message, when the socket failed. */
  error?: string;
  /** Whether the TLS handshake completed (always true for plain TCP once connected). */
  connected: boolean;
}

export type Writer = (socket: net.Socket) => Promise<void>;

export interface RawOptions {
  /** Give up (and destroy the socket) after this long. */
  maxMs?: number;
  /** TLS version pinned on the client; legacy versions get @SECLEVEL=0. */
  version?: TlsProtocol;
  ciphers?: string;
}

/**
 * Opens a TLS connection and writes `payload` as raw bytes (or lets `payload` write at its own pace),
 * so malformed HTTP really reaches the server's parser. Resolves when the server closes, or at `maxMs`.
 */
export function rawTls(port: number, ca: string, payload: string | Buffer | Writer, options: RawOptions = {}): Promise<RawExchange> {
  const version = options.version ?? 'TLSv1.3';
  const legacy = version === 'TLSv1' || version === 'TLSv1.1';
  return exchange(
    () => tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, minVersion: version, maxVersion: version, ciphers: options.ciphers ?? (legacy ? 'DEFAULT:@SECLEVEL=0' : undefined) }),
    'secureConnect',
    payload,
    options.maxMs ?? 5_000,
  );
}

/** The same over plain TCP (the proxy's plain-HTTP listener, or anything that must not be TLS). */
export function rawTcp(port: number, payload: string | Buffer | Writer, options: RawOptions = {}): Promise<RawExchange> {
  return exchange(() => net.connect(port, '127.0.0.1'), 'connect', payload, options.maxMs ?? 5_000);
}

function exchange(open: () => net.Socket, ready: 'connect' | 'secureConnect', payload: string | Buffer | Writer, maxMs: number): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let connected = false;
    let error: string | undefined;
    let settled = false;
    const socket = open();
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const bytes = Buffer.concat(chunks);
      resolve({ bytes, text: bytes.toString('latin1'), closed, ms: Date.now() - started, connected, ...(error !== undefined && { error }) });
      socket.destroy();
    };
    const timer = setTimeout(() => finish(false), maxMs);
    socket.on(ready, () => {
      connected = true;
      if (typeof payload === 'function') {
        payload(socket).catch(() => undefined);
      } else {
        socket.write(payload);
      }
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => finish(true));
  });
}

/** Writes `text` one byte every `intervalMs` until the socket closes (a slowloris client). */
export function tricklingWriter(text: string | Buffer, intervalMs: number, first = ''): Writer {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  return async (socket) => {
    if (first) socket.write(first);
    for (const byte of bytes) {
      if (socket.destroyed || !socket.writable) return;
      socket.write(Buffer.from([byte]));
      await sleep(intervalMs);
    }
  };
}

export interface ParsedResponse {
  status: number;
  /** Lower-case names; repeated headers keep every value. */
  headers: Map<string, string[]>;
  /** Raw header block (status line excluded), latin1. */
  head: string;
  body: Buffer;
  /** False when the body is shorter than its framing announced (cut connection). */
  complete: boolean;
  /** Framing the response used. */
  framing: 'content-length' | 'chunked' | 'close' | 'none';
  declaredLength?: number;
}

/** Splits the bytes of a connection into HTTP/1.1 responses, following their framing. */
export function parseResponses(bytes: Buffer, requestMethods: string[] = []): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', offset, 'latin1');
    if (end < 0) break;
    const headText = bytes.subarray(offset, end).toString('latin1');
    const [statusLine = '', ...lines] = headText.split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) break;
    const status = Number(match[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    let cursor = end + 4;
    const method = requestMethods[out.length] ?? 'GET';
    const noBody = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    const te = headers.get('transfer-encoding')?.join(',').toLowerCase() ?? '';
    const cl = headers.get('content-length')?.[0];
    if (noBody) {
      out.push({ status, headers, head: lines.join('\r\n'), body: Buffer.alloc(0), complete: true, framing: 'none' });
    } else if (te.includes('chunked')) {
      const chunks: Buffer[] = [];
      let complete = false;
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', cursor, 'latin1');
        if (lineEnd < 0) break;
        const size = parseInt(bytes.subarray(cursor, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          const trailerEnd = bytes.indexOf('\r\n\r\n', lineEnd, 'latin1');
          const plainEnd = bytes.subarray(lineEnd, lineEnd + 4).toString('latin1') === '\r\n\r\n';
          if (plainEnd || trailerEnd >= 0) {
            complete = true;
            cursor = plainEnd ? lineEnd + 4 : trailerEnd + 4;
          }
          break;
        }
        if (lineEnd + 2 + size + 2 > bytes.length) {
          chunks.push(bytes.subarray(lineEnd + 2, Math.min(bytes.length, lineEnd + 2 + size)));
          cursor = bytes.length;
          break;
        }
        chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
        cursor = lineEnd + 2 + size + 2;
      }
      out.push({ status, headers, head: lines.join('\r\n'), body: Buffer.concat(chunks), complete, framing: 'chunked' });
      if (!complete) break;
    } else if (cl !== undefined) {
      const length = Number(cl);
      const body = bytes.subarray(cursor, Math.min(bytes.length, cursor + length));
      out.push({ status, headers, head: lines.join('\r\n'), body, complete: body.length === length, framing: 'content-length', declaredLength: length });
      cursor += body.length;
      if (body.length < length) break;
    } else {
      out.push({ status, headers, head: lines.join('\r\n'), body: bytes.subarray(cursor), complete: true, framing: 'close' });
      cursor = bytes.length;
    }
    offset = cursor;
  }
  return out;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Raw header lines exactly as received (names keep their case, repeats kept). */
  rawHeaders: string[];
  body: string;
  /** False when the request body never finished (aborted). */
  complete: boolean;
}

/**
 * A plain-HTTP upstream that records every request the moment it arrives (so even aborted ones are
 * seen) and answers with a small JSON document that never echoes request headers.
 */
export function recordingUpstream(seen: SeenRequest[]): http.Server {
  // A larger header limit than Node's default: the proxy adds forwarding headers to near-limit requests.
  return http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const record: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: '', complete: false };
    seen.push(record);
    req.setEncoding('latin1');
    req.on('data', (c: string) => (record.body += c));
    req.on('error', () => undefined);
    req.on('end', () => {
      record.complete = true;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: req.url, bytes: record.body.length }));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sockets (TCP and TLS) currently keeping this process busy. */
export function openSocketCount(): number {
  return process.getActiveResourcesInfo().filter((name) => /^(TCPSocketWrap|TLSWrap|TLSSocketWrap|PipeWrap)$/.test(name)).length;
}
