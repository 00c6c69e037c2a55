/**
 * JSON-lines access logs: Caddy, Traefik and Cloudflare Logpush. One JSON.parse per line; the keys are
 * the vendors' own, cited at each parser.
 */
import type { LineParser } from './parser.js';
import { cipherSuiteName, normaliseLogProtocol } from './protocol.js';
import { makeRecord, pathOfTarget, present, RecentStrings } from './record.js';
import { epochToMillis, parseClfTime, parseIsoTime, parseNginxErrorTime } from './time.js';
import type { LogRecord } from './types.js';

type Json = Record<string, unknown>;

function parseObject(line: string): Json | string {
  if (line.charCodeAt(0) !== 123) return 'not a JSON object';
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : 'not a JSON object';
  } catch {
    return 'not valid JSON';
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' && present(value) ? value : null;
}

function object(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

/** Epoch numbers in any unit, ISO 8601, and Caddy's other `time_format`s (`wall`, `common_log`). */
function timeOf(value: unknown): number {
  if (typeof value === 'number') return epochToMillis(value);
  if (typeof value !== 'string') return Number.NaN;
  if (/^\d+(\.\d+)?$/.test(value)) return epochToMillis(Number(value));
  const iso = parseIsoTime(value);
  if (!Number.isNaN(iso)) return iso;
  const wall = parseNginxErrorTime(value.length > 19 ? value.slice(0, 19) : value);
  return Number.isNaN(wall) ? parseClfTime(value) : wall;
}

function statusOf(value: unknown): number | null {
  const status = typeof value === 'string' ? Number(value) : value;
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 999 ? status : null;
}

/**
 * Caddy's JSON access log (`log { format json }`, the `http.log.access` logger): `ts` is seconds since the
 * epoch (or a string with another `time_format`), `request.tls.version` the wire number (771 = TLS 1.2),
 * `request.tls.cipher_suite` the IANA number, `request.headers` the headers as arrays.
 * https://caddyserver.com/docs/caddyfile/directives/log
 */
export class CaddyParser implements LineParser {
  readonly family = 'caddy' as const;
  readonly layout = 'JSON access log';
  hasProtocol = true;
  hasUserAgent = true;
  readonly #recent = new RecentStrings(32);


  parse(line: string): LogRecord | string | null {
    const entry = parseObject(line);
    if (typeof entry === 'string') return entry;
    const request = object(entry.request);
    if (request === null) {
      // Caddy's other loggers (startup, TLS) may share the file: valid lines, no request.
      return typeof entry.logger === 'string' || typeof entry.ts === 'number' ? null : 'no "request" object';
    }
    const time = timeOf(entry.ts);
    if (Number.isNaN(time)) return 'the time ("ts") is not readable';
    const tls = object(request.tls);
    const headers = object(request.headers);
    const agents = headers?.['User-Agent'];
    const agent = Array.isArray(agents) ? text(agents[0]) : null;
    const uri = text(request.uri);
    const host = text(tls?.server_name) ?? text(request.host);
    return makeRecord(
      'request',
      time,
      typeof tls?.version === 'number' ? normaliseLogProtocol(String(tls.version)) : null,
      cipherSuiteName(tls?.cipher_suite),
      agent,
      text(request.client_ip) ?? text(request.remote_ip) ?? text(request.remote_addr),
      host === null ? null : this.#recent.get(host),
      uri === null ? null : pathOfTarget(uri),
      statusOf(entry.status),
    );
  }
}

/**
 * Traefik's JSON access log (`accessLog.format: json`): `StartUTC`, `ClientHost`, `RequestHost`,
 * `RequestPath`, `DownstreamStatus`, `TLSVersion` (`"1.2"`) and `TLSCipher`; the user agent is
 * `request_User-Agent`, present only when headers are kept (`fields.headers.names.User-Agent: keep`).
 * https://doc.traefik.io/traefik/observability/access-logs/
 */
export class TraefikParser implements LineParser {
  readonly family = 'traefik' as const;
  readonly layout = 'JSON access log';
  hasProtocol = false;
  hasUserAgent = false;
  readonly #recent = new RecentStrings(32);


  parse(line: string): LogRecord | string | null {
    const entry = parseObject(line);
    if (typeof entry === 'string') return entry;
    if (!('RequestPath' in entry) && !('DownstreamStatus' in entry) && !('ClientHost' in entry)) {
      return typeof entry.msg === 'string' || typeof entry.level === 'string' ? null : 'not a Traefik access log entry';
    }
    const time = timeOf(entry.StartUTC ?? entry.StartLocal ?? entry.time);
    if (Number.isNaN(time)) return 'the time ("StartUTC") is not readable';
    if ('TLSVersion' in entry) this.hasProtocol = true;
    let agent: string | null = null;
    if ('request_User-Agent' in entry) {
      this.hasUserAgent = true;
      const value = text(entry['request_User-Agent']);
      // Traefik writes this when the header is set to `redact`.
      agent = value === 'REDACTED' ? null : value;
    }
    const host = text(entry.RequestHost);
    const path = text(entry.RequestPath);
    const cipher = text(entry.TLSCipher);
    return makeRecord(
      'request',
      time,
      normaliseLogProtocol(text(entry.TLSVersion)),
      cipher === null ? null : this.#recent.get(cipher),
      agent,
      text(entry.ClientHost),
      host === null ? null : this.#recent.get(host),
      path === null ? null : pathOfTarget(path),
      statusOf(entry.DownstreamStatus),
    );
  }
}

/**
 * Cloudflare Logpush, `http_requests` dataset, NDJSON: `EdgeStartTimestamp` (unix nanoseconds by default,
 * or seconds, or RFC 3339, per the job's timestamp format), `ClientSSLProtocol` (`TLSv1.2`, `none`),
 * `ClientSSLCipher`, `ClientRequestUserAgent`, `ClientIP`, `ClientRequestHost`, `ClientRequestURI`,
 * `EdgeResponseStatus`. Jobs choose their fields, so each is optional.
 * https://developers.cloudflare.com/logs/reference/log-fields/zone/http_requests/
 */
export class CloudflareParser implements LineParser {
  readonly family = 'cloudflare' as const;
  readonly layout = 'Logpush http_requests';
  hasProtocol = false;
  hasUserAgent = false;
  readonly #recent = new RecentStrings(32);


  parse(line: string): LogRecord | string | null {
    const entry = parseObject(line);
    if (typeof entry === 'string') return entry;
    const time = timeOf(entry.EdgeStartTimestamp ?? entry.EdgeEndTimestamp);
    if (Number.isNaN(time)) return 'no readable EdgeStartTimestamp';
    if ('ClientSSLProtocol' in entry) this.hasProtocol = true;
    if ('ClientRequestUserAgent' in entry) this.hasUserAgent = true;
    const agent = text(entry.ClientRequestUserAgent);
    const host = text(entry.ClientRequestHost);
    const target = text(entry.ClientRequestPath) ?? text(entry.ClientRequestURI);
    const cipher = text(entry.ClientSSLCipher);
    return makeRecord(
      'request',
      time,
      normaliseLogProtocol(text(entry.ClientSSLProtocol)),
      cipher === null || cipher === 'NONE' ? null : this.#recent.get(cipher),
      agent,
      text(entry.ClientIP),
      host === null ? null : this.#recent.get(host),
      target === null ? null : pathOfTarget(target),
      statusOf(entry.EdgeResponseStatus),
    );
  }
}
