import type { HandshakeFailureReason, TlsProtocol } from '../types.js';

/** A protocol as logs spell it once normalised. SSL 3 and 2 appear in old logs and must not read as TLS 1.0. */
export type LogProtocol = TlsProtocol | 'SSLv3' | 'SSLv2';

export type LogRecordKind = 'request' | 'connection' | 'handshake-failure';

/**
 * One line of a log, reduced to what the analysis needs. Every record has every key (one object shape),
 * `null` where the log does not say. Its strings share memory with their own line at most (never with
 * the chunk the line was read in), so keeping one, as a cache key say, keeps at most that line alive;
 * copy a short cut of a long value before caching it.
 */
export interface LogRecord {
  kind: LogRecordKind;
  /** Milliseconds since the epoch, from the log's own timestamp. */
  time: number;
  /** Negotiated protocol (request), highest version offered (connection: nginx stream `$ssl_preread_protocol`). */
  protocol: LogProtocol | null;
  cipher: string | null;
  /** Decoded: log escapes (`\x22`, `#22`, `%20`) are undone. */
  userAgent: string | null;
  /** Client address when logged, for the visitor estimate. */
  address: string | null;
  /** SNI or Host when logged. */
  host: string | null;
  /** Request path without the query. */
  path: string | null;
  status: number | null;
  /** Set on `handshake-failure` records only (nginx error log). */
  failureReason?: HandshakeFailureReason | undefined;
}

/** The families `format` names. Each is detected from an input's first lines when `format` is not given. */
export type LogFormatName =
  | 'nginx'
  | 'apache'
  | 'nginx-stream'
  | 'nginx-error'
  | 'haproxy'
  | 'caddy'
  | 'traefik'
  | 'cloudflare'
  | 'alb'
  | 'cloudfront'
  | 'iis';

export const LOG_FORMAT_NAMES: readonly LogFormatName[] = [
  'nginx',
  'apache',
  'nginx-stream',
  'nginx-error',
  'haproxy',
  'caddy',
  'traefik',
  'cloudflare',
  'alb',
  'cloudfront',
  'iis',
];

/** A line that could not be read, kept as an example for the summary. `text` is cut and safe to print. */
export interface UnreadableLine {
  input: string;
  /** 1-based line number within its input. */
  line: number;
  reason: string;
  text: string;
}

/** Counters of one input, updated while it is read. */
export interface LogInputStats {
  /** The path as given, or `-` for stdin. */
  input: string;
  /** Family of the format used, `null` until the input is opened. */
  format: LogFormatName | null;
  /** Which layout of that family, e.g. `combined + "$ssl_protocol"`; for the summary. */
  layout: string | null;
  formatSource: 'given' | 'detected' | null;
  /** Whether the input was gzip (detected by its magic bytes, not its name). */
  compressed: boolean;
  /** Size on disk in bytes (compressed size for gzip), `null` for stdin. */
  bytesTotal: number | null;
  /** Bytes read from the file or stdin so far (compressed bytes for gzip). */
  bytesRead: number;
  lines: number;
  records: number;
  /** Lines that are valid but carry no record: comments, `#Fields:` headers, blank lines, other error-log lines. */
  ignored: number;
  unreadable: number;
  unreadableSamples: UnreadableLine[];
  /** Whether the format carries a protocol field at all (for JSON formats: whether any line had one). */
  hasProtocol: boolean;
  /** Whether the format carries a user-agent field at all (for JSON formats: whether any line had one). */
  hasUserAgent: boolean;
  /** Set when the input ended early: a gzip stream cut short, a read error. What was read before counts. */
  error: string | null;
}

export interface ReadLogOptions {
  /** Format family of every input. Detected from each input's first lines when absent. */
  format?: LogFormatName | undefined;
  /**
   * nginx `log_format`, Apache `LogFormat` or HAProxy `log-format` string, or the nickname of a built-in
   * layout (`combined`, `main`, `common`, `vhost_combined`, `ssl_request`, `httplog`, `httpslog`…).
   * Pasting the config line itself works too.
   */
  logFormat?: string | undefined;
  /** What `-` reads. @default process.stdin */
  stdin?: AsyncIterable<Buffer | string> | undefined;
  /** Unreadable lines kept as examples per input. @default 5 */
  unreadableSamples?: number | undefined;
}
