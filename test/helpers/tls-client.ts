import https from 'node:https';
import tls from 'node:tls';
import type { TlsProtocol } from '../../src/types.js';

export interface TlsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  protocol: string | null;
  cipher: string | null;
}

export interface TlsRequest {
  port: number;
  ca: string;
  version: TlsProtocol;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** OpenSSL cipher string the client offers. */
  ciphers?: string;
}

/**
 * An HTTPS request pinned to one TLS version, as a real old client would make it. Below TLS 1.2 the
 * client needs @SECLEVEL=0 too, or OpenSSL 3 on this side refuses to offer TLS 1.0 at all.
 */
export function tlsRequest(request: TlsRequest): Promise<TlsResponse> {
  const legacy = request.version === 'TLSv1' || request.version === 'TLSv1.1';
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: request.port,
        path: request.path ?? '/',
        method: request.method ?? 'GET',
        headers: request.headers,
        ca: request.ca,
        minVersion: request.version,
        maxVersion: request.version,
        ciphers: request.ciphers ?? (legacy ? 'DEFAULT:@SECLEVEL=0' : undefined),
        agent: false,
      },
      (res) => {
        const socket = res.socket as tls.TLSSocket;
        const protocol = socket.getProtocol();
        const cipher = socket.getCipher()?.name ?? null;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, protocol, cipher }));
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Completes only the handshake and reports what was negotiated (or the error). */
export function handshake(options: tls.ConnectionOptions & { port: number }): Promise<{ protocol: string | null; cipher: string | null; error?: string; certificateType?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ...options }, () => {
      const cert = socket.getPeerX509Certificate();
      resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher()?.name ?? null, certificateType: cert?.publicKey.asymmetricKeyType });
      socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ protocol: null, cipher: null, error: error.code ?? error.message }));
  });
}

export const TLS_VERSIONS: readonly TlsProtocol[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
export const LEGACY_VERSIONS: ReadonlySet<TlsProtocol> = new Set(['TLSv1', 'TLSv1.1']);
