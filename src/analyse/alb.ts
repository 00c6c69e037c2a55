/**
 * AWS Application Load Balancer access logs: space-separated, some fields in double quotes. The first
 * sixteen are fixed (`type time elb client:port target:port request_processing_time
 * target_processing_time response_processing_time elb_status_code target_status_code received_bytes
 * sent_bytes "request" "user_agent" ssl_cipher ssl_protocol`), then `target_group_arn "trace_id"
 * "domain_name" …`, and AWS appends new fields at the end over time, so extra fields are fine.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
 */
import { decodeBackslashEscapes } from './escapes.js';
import type { LineParser } from './parser.js';
import { normaliseLogProtocol } from './protocol.js';
import { hostOfHostPort, makeRecord, parseStatus, pathOfRequestLine, present, RecentStrings } from './record.js';
import { cachedTimeParser, parseIsoTime } from './time.js';
import type { LogRecord } from './types.js';

const TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);
const REQUIRED_FIELDS = 16;
const DOMAIN_NAME = 18;

export class AlbParser implements LineParser {
  readonly family = 'alb' as const;
  readonly layout = 'access log';
  hasProtocol = true;
  hasUserAgent = true;
  readonly #recent = new RecentStrings(32);
  readonly #parseTime = cachedTimeParser(parseIsoTime);

  

  parse(line: string): LogRecord | string {
    const fields = splitFields(line, DOMAIN_NAME + 1);
    if (fields === null) return 'unbalanced quotes';
    if (fields.length < REQUIRED_FIELDS) return `${fields.length} fields, an ALB entry has at least ${REQUIRED_FIELDS}`;
    const [type, timeText, , client, , , , , elbStatus, , , , request, agent, cipher, protocol] = fields as [string, string, string, string, string, string, string, string, string, string, string, string, string, string, string, string];
    if (!TYPES.has(type)) return `"${type.slice(0, 10)}" is not an ALB request type`;
    const time = this.#parseTime(timeText);
    if (Number.isNaN(time)) return 'the time is not readable';
    const domain = fields[DOMAIN_NAME];
    const host = domain !== undefined && present(domain) ? domain : hostOfUrl(request);
    return makeRecord(
      'request',
      time,
      normaliseLogProtocol(protocol),
      present(cipher) ? this.#recent.get(cipher) : null,
      present(agent) ? decodeBackslashEscapes(agent) : null,
      present(client) ? hostOfHostPort(client) : null,
      host === null ? null : this.#recent.get(host),
      present(request) ? pathOfRequestLine(request) : null,
      parseStatus(elbStatus),
    );
  }
}

/**
 * Splits on single spaces, a field in double quotes being one field without its quotes (a quote inside
 * is written `\"`). Stops after `limit` fields: the rest of the line is not needed.
 */
export function splitFields(line: string, limit: number): string[] | null {
  const fields: string[] = [];
  let at = 0;
  while (at <= line.length && fields.length < limit) {
    if (line.charCodeAt(at) === 34) {
      let end = line.indexOf('"', at + 1);
      while (end !== -1 && line.charCodeAt(end - 1) === 92) end = line.indexOf('"', end + 1);
      if (end === -1) return null;
      fields.push(line.slice(at + 1, end));
      at = end + 2;
    } else {
      let end = line.indexOf(' ', at);
      if (end === -1) end = line.length;
      fields.push(line.slice(at, end));
      at = end + 1;
    }
  }
  return fields;
}

/** `GET https://www.example.com:443/path HTTP/1.1` → `www.example.com`. */
function hostOfUrl(request: string): string | null {
  const scheme = request.indexOf('://');
  if (scheme === -1) return null;
  const end = request.slice(scheme + 3).search(/[/\s]/);
  const authority = end === -1 ? request.slice(scheme + 3) : request.slice(scheme + 3, scheme + 3 + end);
  return authority === '' ? null : hostOfHostPort(authority);
}
