import type { HandshakeFailureReason, OfferedTls } from '../types.js';

/** A TLS handshake that did not complete: a client lost before HTTP, which the census must still see. */
export interface HandshakeFailure {
  reason: HandshakeFailureReason;
  /** OpenSSL/Node error code, e.g. `ERR_SSL_NO_SHARED_CIPHER`, kept for logs; not a metric label. */
  code: string | null;
  /** `null` only if the operating system could not tell the peer's address. */
  remoteAddress: string | null;
  at: Date;
  /** What the connection's ClientHello offered, when the census read one (`null`: none arrived, or no census). */
  offered: OfferedTls | null;
}

const REASONS_BY_CODE: Record<string, HandshakeFailureReason> = {
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'protocol-too-old',
  ERR_SSL_VERSION_TOO_LOW: 'protocol-too-old',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'protocol-too-old',
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: 'protocol-too-old',
  ERR_SSL_NO_SHARED_CIPHER: 'no-shared-cipher',
  ERR_SSL_NO_CIPHERS_AVAILABLE: 'no-shared-cipher',
  ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM: 'no-shared-cipher',
  ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS: 'no-shared-cipher',
  ERR_SSL_HTTP_REQUEST: 'not-tls',
  ERR_SSL_HTTPS_PROXY_REQUEST: 'not-tls',
  ERR_SSL_WRONG_VERSION_NUMBER: 'not-tls',
  ERR_SSL_UNKNOWN_PROTOCOL: 'not-tls',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'not-tls',
  ERR_SSL_RECORD_LENGTH_MISMATCH: 'not-tls',
  // Node's own `handshakeTimeout`; the connection guard reports its closures with the codes below.
  ERR_TLS_HANDSHAKE_TIMEOUT: 'timeout',
};

export function handshakeFailureReason(error: unknown): HandshakeFailureReason {
  const code = errorCode(error);
  return (code && REASONS_BY_CODE[code]) || 'other';
}

export function errorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}
