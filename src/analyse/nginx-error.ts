/**
 * nginx's error log, for its TLS handshake failures: clients that already cannot connect.
 *
 *   2026/11/28 15:27:56 [info] 22593#22593: *13 SSL_do_handshake() failed (SSL: error:0A000102:SSL
 *   routines::unsupported protocol) while SSL handshaking, client: 127.0.0.1, server: 127.0.0.1:8443
 *
 * nginx logs these at `info` (`crit` for some), so `error_log … info;` is needed to have them. The
 * OpenSSL reason is the fourth field of `error:code:library:function:reason` (OpenSSL 3 leaves the
 * function empty); reasons map as src/tls/handshake-failure.ts maps Node's error codes. Other lines
 * of the error log are valid and carry no record.
 */
import type { HandshakeFailureReason } from '../types.js';
import type { LineParser } from './parser.js';
import { makeRecord, RecentStrings } from './record.js';
import { cachedTimeParser, parseNginxErrorTime } from './time.js';
import type { LogRecord } from './types.js';

const LINE = /^(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) \[(debug|info|notice|warn|error|crit|alert|emerg)\] \d+#\d+: /;
const HANDSHAKE = 'SSL_do_handshake() failed';

const REASONS: ReadonlyMap<string, HandshakeFailureReason> = new Map([
  ['unsupported protocol', 'protocol-too-old'],
  ['version too low', 'protocol-too-old'],
  ['tlsv1 alert protocol version', 'protocol-too-old'],
  ['no protocols available', 'protocol-too-old'],
  ['no shared cipher', 'no-shared-cipher'],
  ['no ciphers available', 'no-shared-cipher'],
  ['no suitable signature algorithm', 'no-shared-cipher'],
  ['no shared signature algorithms', 'no-shared-cipher'],
  ['http request', 'not-tls'],
  ['https proxy request', 'not-tls'],
  ['wrong version number', 'not-tls'],
  ['unknown protocol', 'not-tls'],
  ['packet length too long', 'not-tls'],
  ['record length mismatch', 'not-tls'],
]);

export function handshakeReasonOf(openssl: string): HandshakeFailureReason {
  const first = /error:[0-9A-Fa-f]+:([^)]*)/.exec(openssl);
  if (!first) return 'other';
  const reason = (first[1] ?? '').split(':')[2]?.trim().toLowerCase() ?? '';
  return REASONS.get(reason) ?? 'other';
}

export class NginxErrorParser implements LineParser {
  readonly family = 'nginx-error' as const;
  readonly layout = 'error log (SSL_do_handshake failures)';
  hasProtocol = false;
  hasUserAgent = false;
  readonly #recent = new RecentStrings(32);
  readonly #parseTime = cachedTimeParser(parseNginxErrorTime);

  parse(line: string): LogRecord | string | null {
    const head = LINE.exec(line.length > 80 ? line.slice(0, 80) : line);
    if (!head) return 'not an nginx error log line';
    const message = line.indexOf(HANDSHAKE, head[0].length);
    if (message === -1) return null;
    const time = this.#parseTime(head[1] as string);
    if (Number.isNaN(time)) return 'the time is not readable';
    const open = line.indexOf('(SSL:', message);
    const close = open === -1 ? -1 : line.indexOf(')', open);
    const reason = open === -1 ? 'other' : handshakeReasonOf(line.slice(open, close === -1 ? undefined : close));
    const client = /, client: ([^,\s]+)/.exec(line.slice(message));
    const address = client ? this.#recent.get(client[1] as string) : null;
    return makeRecord('handshake-failure', time, null, null, null, address, null, null, null, reason);
  }
}
