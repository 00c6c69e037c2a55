import { isIP } from 'node:net';
import { Client } from 'undici';

export type UpstreamCheck =
  | { ok: true; status: number }
  | { ok: false; code: string; error: string; hint: string | undefined };

export interface UpstreamCheckOptions {
  /** Skip verification of an https upstream's certificate, as the forwarder does. */
  insecure: boolean;
  /** For connecting and for the response headers each. @default 5000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

// Certificate failures of an https upstream: the forwarder would answer every request with 502.
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * One `HEAD` of the upstream's base path with the forwarder's TLS settings, to tell at start-up whether
 * the site behind the proxy answers. Any HTTP status counts as an answer; a refused connection, an
 * unknown host, a certificate the forwarder would refuse or no answer within the timeout do not.
 * Never rejects.
 */
export async function checkUpstream(upstream: URL, options: UpstreamCheckOptions): Promise<UpstreamCheck> {
  const timeout = options.timeoutMs ?? 5_000;
  const host = upstream.hostname.replace(/^\[(.*)\]$/, '$1');
  // SNI carries host names only (RFC 6066): an address as servername is deprecated in Node.
  const tls = upstream.protocol === 'https:' ? { rejectUnauthorized: !options.insecure, ...(isIP(host) === 0 && { servername: host }) } : {};
  const client = new Client(upstream.origin, {
    connect: { timeout, ...tls },
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  try {
    const { statusCode, body } = await client.request({
      path: upstream.pathname,
      method: 'HEAD',
      headers: { host: upstream.host, 'user-agent': 'legacy-tls-fallback (start-up check)' },
      ...(options.signal && { signal: options.signal }),
    });
    await body.dump();
    return { ok: true, status: statusCode };
  } catch (error) {
    const code = errorCode(error);
    return { ok: false, code, error: errorMessage(error), hint: CERTIFICATE_CODES.has(code) ? 'give --upstream-insecure for a self-signed upstream you run yourself, or a certificate the proxy can verify' : undefined };
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; errors?: unknown[] } | undefined;
  if (typeof e?.code === 'string') return e.code;
  // A host name with several addresses fails as an AggregateError: the first cause says enough.
  const first = Array.isArray(e?.errors) ? (e.errors[0] as { code?: unknown } | undefined) : undefined;
  if (typeof first?.code === 'string') return first.code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== '') return error.message;
  const causes = (error as Error & { errors?: unknown[] }).errors;
  return Array.isArray(causes) ? causes.map((cause) => (cause instanceof Error ? cause.message : String(cause))).join('; ') : error.name;
}
