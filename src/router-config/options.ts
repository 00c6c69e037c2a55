import { InvalidOptionError } from '../errors.js';
import { parseHostPort, type HostPort } from '../relay/address.js';
import { assertKnownKeys, assertPlainObject } from '../validate.js';

export type RouterKind = 'nginx' | 'haproxy';
export const ROUTER_KINDS: readonly RouterKind[] = ['nginx', 'haproxy'];

/** What `legacy-tls-fallback router-config` needs to print a router's complete configuration. */
export interface RouterConfigOptions {
  /** The existing TLS server that keeps modern clients, e.g. `'127.0.0.1:8443'`. */
  modern: string | HostPort;
  /** legacy-tls-fallback's legacy-only listener, e.g. `'127.0.0.1:9443'`. */
  legacy: string | HostPort;
  /**
   * Where the router listens: one address or several (`['0.0.0.0:443', '[::]:443']`).
   * @default '0.0.0.0:443'
   */
  listen?: string | HostPort | readonly (string | HostPort)[];
  /**
   * Put a PROXY protocol header in front of legacy connections, so that legacy-tls-fallback counts
   * real client addresses (nginx sends v1, HAProxy v2; the listener reads both).
   * @default true
   */
  proxyProtocol?: boolean;
  /**
   * Put it in front of modern connections too; the modern server must then expect it (nginx:
   * `listen … ssl proxy_protocol;` and `real_ip_header proxy_protocol;`). With nginx as the router this
   * is also the cheaper set-up: nginx's stream `proxy_protocol` applies to a whole server block, so
   * sending it to the legacy side alone needs one more internal hop for modern connections.
   * @default false
   */
  modernProxyProtocol?: boolean;
  /**
   * nginx: the connection log file. HAProxy: a log target (`/dev/log`, `udp@127.0.0.1:514`,
   * `stdout` or `stderr`). One line per connection, in the format of `ROUTER_LOG_FORMAT`.
   * @default '/var/log/nginx/legacy-tls-router.log' (nginx), '/dev/log' (HAProxy)
   */
  log?: string;
  /** @default '/run/legacy-tls-router-nginx.pid' or '/run/legacy-tls-router-haproxy.pid' */
  pidFile?: string;
  /** nginx only: its error log. @default nginx's built-in default (stderr on Debian) */
  errorLog?: string;
  /**
   * nginx only: the stream module to load, or `null` when nginx has it built in.
   * @default '/usr/lib/nginx/modules/ngx_stream_module.so' (Debian's libnginx-mod-stream)
   */
  streamModule?: string | null;
  /**
   * nginx only: the unix socket of the internal hop that takes the PROXY header off modern connections
   * again (only with `proxyProtocol` and without `modernProxyProtocol`).
   * @default '/run/legacy-tls-router-modern.sock'
   */
  hopSocket?: string;
  /**
   * Seconds the router waits for a ClientHello; a connection without one by then goes to the legacy
   * side (which answers plain HTTP and counts the rest).
   * @default 5
   */
  helloTimeout?: number;
  /** Seconds a connection may stay idle both ways. @default 600 */
  idleTimeout?: number;
  /** Seconds to connect to either server. @default 5 */
  connectTimeout?: number;
  /** Most connections at once (nginx `worker_connections`, HAProxy `maxconn`). @default 4096 */
  maxConnections?: number;
}

export interface ResolvedRouterConfig {
  modern: HostPort;
  legacy: HostPort;
  listen: HostPort[];
  proxyProtocol: boolean;
  modernProxyProtocol: boolean;
  log: string;
  pidFile: string;
  errorLog: string | null;
  streamModule: string | null;
  hopSocket: string;
  helloTimeout: number;
  idleTimeout: number;
  connectTimeout: number;
  maxConnections: number;
}

const KNOWN = [
  'modern',
  'legacy',
  'listen',
  'proxyProtocol',
  'modernProxyProtocol',
  'log',
  'pidFile',
  'errorLog',
  'streamModule',
  'hopSocket',
  'helloTimeout',
  'idleTimeout',
  'connectTimeout',
  'maxConnections',
] as const;

export const DEBIAN_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export function resolveRouterConfig(kind: RouterKind, options: RouterConfigOptions): ResolvedRouterConfig {
  const raw: unknown = options;
  assertPlainObject(raw, 'router-config options');
  assertKnownKeys(raw, KNOWN, '');
  if (raw.modern === undefined) throw new InvalidOptionError('modern', undefined, "expected the existing TLS server's address, such as '127.0.0.1:8443'");
  if (raw.legacy === undefined) throw new InvalidOptionError('legacy', undefined, "expected legacy-tls-fallback's legacy-only listener, such as '127.0.0.1:9443'");
  const modern = parseHostPort(raw.modern, 'modern');
  const legacy = parseHostPort(raw.legacy, 'legacy');
  const listenRaw = raw.listen ?? '0.0.0.0:443';
  const listenList = Array.isArray(listenRaw) ? listenRaw : [listenRaw];
  if (listenList.length === 0 || listenList.length > 8) throw new InvalidOptionError('listen', raw.listen, 'expected one to eight addresses, such as 0.0.0.0:443');
  const listen = listenList.map((entry) => parseHostPort(entry, 'listen'));
  for (const target of [modern, legacy]) {
    if (listen.some((l) => l.host === target.host && l.port === target.port)) {
      throw new InvalidOptionError('listen', raw.listen, `it is also where ${target === modern ? 'modern' : 'legacy'} connections go: the router would loop to itself`);
    }
  }
  if (modern.host === legacy.host && modern.port === legacy.port) throw new InvalidOptionError('legacy', raw.legacy, 'it must differ from `modern`');
  const proxyProtocol = flag(raw.proxyProtocol, 'proxyProtocol', true);
  const modernProxyProtocol = flag(raw.modernProxyProtocol, 'modernProxyProtocol', false);
  if (modernProxyProtocol && !proxyProtocol) {
    throw new InvalidOptionError('proxyProtocol', raw.proxyProtocol, 'with `modernProxyProtocol` it must be true too: the legacy side needs the client address at least as much');
  }
  const isNginx = kind === 'nginx';
  const streamModule = raw.streamModule === null ? null : path(raw.streamModule, 'streamModule', DEBIAN_STREAM_MODULE);
  return {
    modern,
    legacy,
    listen,
    proxyProtocol,
    modernProxyProtocol,
    log: isNginx ? path(raw.log, 'log', '/var/log/nginx/legacy-tls-router.log') : logTarget(raw.log),
    pidFile: path(raw.pidFile, 'pidFile', `/run/legacy-tls-router-${kind}.pid`),
    errorLog: raw.errorLog === undefined ? null : path(raw.errorLog, 'errorLog', ''),
    streamModule,
    hopSocket: path(raw.hopSocket, 'hopSocket', '/run/legacy-tls-router-modern.sock'),
    helloTimeout: seconds(raw.helloTimeout, 'helloTimeout', 5, 1, 60),
    idleTimeout: seconds(raw.idleTimeout, 'idleTimeout', 600, 1, 86_400),
    connectTimeout: seconds(raw.connectTimeout, 'connectTimeout', 5, 1, 120),
    maxConnections: seconds(raw.maxConnections, 'maxConnections', 4096, 16, 1_000_000, 'an integer from 16 to 1000000'),
  };
}

function flag(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, value, 'expected true or false');
  return value;
}

function seconds(value: unknown, option: string, fallback: number, min: number, max: number, expected = `seconds, an integer from ${min} to ${max}`): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new InvalidOptionError(option, value, `expected ${expected}`);
  return value;
}

// Nothing in a path may end a directive, open a block, quote, comment or escape, in nginx's syntax or HAProxy's.
const SAFE_PATH = /^\/[A-Za-z0-9._\-/@+=,:]*$/;

function path(value: unknown, option: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !SAFE_PATH.test(value) || value.length > 1024 || value.includes('/../')) {
    throw new InvalidOptionError(option, value, 'expected an absolute path of letters, digits and . _ - / @ + = , : only (no spaces, quotes, ; { } # or \\)');
  }
  return value;
}

/** HAProxy `log` targets: a unix socket path, an address, or the process's own output. */
function logTarget(value: unknown): string {
  if (value === undefined) return '/dev/log';
  if (value === 'stdout' || value === 'stderr') return value;
  if (typeof value === 'string' && /^(?:udp@|tcp@)?(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(value)) return value;
  if (typeof value === 'string' && SAFE_PATH.test(value)) return value;
  throw new InvalidOptionError('log', value, "expected an HAProxy log target: a unix socket such as /dev/log, an address such as udp@127.0.0.1:514, or 'stdout'");
}
