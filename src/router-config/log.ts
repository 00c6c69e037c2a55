/**
 * The connection log both generated router configs write: one line per connection, the same fields in
 * the same order from nginx and from HAProxy, so that one reader (`analyse`) takes either.
 *
 *   ltf-router/1 <router> <time> <client> <offered> <sni> <route> <bytes-from-client> <bytes-to-client>
 *
 * - `router`: `nginx` or `haproxy`.
 * - `time`: ISO 8601 with offset, when the connection ended (nginx `$time_iso8601`; HAProxy in UTC).
 * - `client`: the client's IP address.
 * - `offered`: the highest version the ClientHello offers, OpenSSL's spelling. nginx reads
 *   supported_versions and writes `SSLv2`, `SSLv3`, `TLSv1`, `TLSv1.1`, `TLSv1.2` or `TLSv1.3`. HAProxy
 *   only sees the hello's legacy_version, which every TLS 1.3 client sets to 1.2: it writes `TLSv1.2+`
 *   for "1.2 or higher". `-`: no ClientHello (not TLS, or none within the hello timeout).
 * - `sni`: the server name as sent (letters, digits, `-`, `_`, `.`), `-` when none, `invalid` when the
 *   client sent something else (never written as is: the log stays one token per field).
 * - `route`: `legacy` or `modern`.
 * - byte counts of the connection, each way.
 *
 * Lines may carry a prefix of the log system's own (syslog's date and tag): the reader starts at
 * `ltf-router/1`.
 */

export const ROUTER_LOG_TAG = 'ltf-router/1';

export type RouterOffered = 'SSLv2' | 'SSLv3' | 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' | 'TLSv1.2+';
const OFFERED: ReadonlySet<string> = new Set<RouterOffered>(['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'TLSv1.2+']);

export interface RouterLogRecord {
  router: 'nginx' | 'haproxy';
  /** Milliseconds since the epoch. */
  time: number;
  client: string;
  /** null: `-`, no ClientHello. */
  offered: RouterOffered | null;
  /** null: `-`, no server name; `'invalid'`: one that was not a plausible host name. */
  serverName: string | null;
  route: 'legacy' | 'modern';
  bytesFromClient: number;
  bytesToClient: number;
}

/** Longest line read; anything longer is not one of ours. */
export const ROUTER_LOG_MAX_LINE = 1024;

/** Reads one log line; null for any line that is not exactly a router line (never throws). */
export function parseRouterLogLine(line: string): RouterLogRecord | null {
  if (line.length > ROUTER_LOG_MAX_LINE) return null;
  const start = line.indexOf(`${ROUTER_LOG_TAG} `);
  if (start < 0) return null;
  const fields = line.slice(start).trimEnd().split(' ');
  if (fields.length !== 9) return null;
  const [, router, time, client, offered, sni, route, fromClient, toClient] = fields as [string, string, string, string, string, string, string, string, string];
  if (router !== 'nginx' && router !== 'haproxy') return null;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)$/.test(time)) return null;
  const at = Date.parse(time);
  if (Number.isNaN(at)) return null;
  if (!/^[0-9A-Fa-f.:]{2,45}$/.test(client)) return null;
  if (offered !== '-' && !OFFERED.has(offered)) return null;
  if (!/^[A-Za-z0-9._-]{1,253}$/.test(sni)) return null;
  if (route !== 'legacy' && route !== 'modern') return null;
  if (!/^\d{1,15}$/.test(fromClient) || !/^\d{1,15}$/.test(toClient)) return null;
  return {
    router,
    time: at,
    client,
    offered: offered === '-' ? null : (offered as RouterOffered),
    serverName: sni === '-' ? null : sni,
    route,
    bytesFromClient: Number(fromClient),
    bytesToClient: Number(toClient),
  };
}
