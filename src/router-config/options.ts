import { InvalidOptionError } from '../errors.js';
import { parseHostPort, type HostPort } from '../relay/address.js';
import { defineOptions } from '../schema/define.js';
import { boolean, custom, integer } from '../schema/option.js';

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

export const DEBIAN_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

const address = (what: string, example: string) =>
  custom<HostPort>({
    type: 'string | { host, port }',
    required: true,
    help: `${what}, such as '${example}'.`,
    validate: (value, name) => {
      if (value === undefined) throw new InvalidOptionError(name, undefined, `expected ${what[0]!.toLowerCase() + what.slice(1)}, such as '${example}'`);
      return parseHostPort(value as string | HostPort, name);
    },
  });

const pathOption = (help: string, defaultText?: string) =>
  custom<string | undefined>({ type: 'string', help, ...(defaultText !== undefined && { defaultText }), validate: (value, name) => path(value, name) });

const seconds = (help: string, fallback: number, min: number, max: number) => integer({ default: fallback, min, max, unit: 'seconds', help });

/** The router configuration's options, described once; `routerConfig` validates them at each call. */
export const ROUTER_CONFIG_OPTIONS = defineOptions({
  modern: address("The existing TLS server that keeps modern clients", '127.0.0.1:8443'),
  legacy: address("legacy-tls-fallback's legacy-only listener", '127.0.0.1:9443'),
  listen: custom<HostPort[]>({
    type: 'string | { host, port } | (string | { host, port })[]',
    default: [{ host: '0.0.0.0', port: 443 }],
    defaultText: "'0.0.0.0:443'",
    help: "Where the router listens: one address or up to eight (`['0.0.0.0:443', '[::]:443']`).",
    validate: (value, name) => {
      const list = Array.isArray(value) ? (value as unknown[]) : [value];
      if (list.length === 0 || list.length > 8) throw new InvalidOptionError(name, value, 'expected one to eight addresses, such as 0.0.0.0:443');
      return list.map((entry) => parseHostPort(entry as string | HostPort, name));
    },
  }),
  proxyProtocol: boolean({ default: true, help: 'Put a PROXY protocol header in front of legacy connections, so that legacy-tls-fallback counts real client addresses.' }),
  modernProxyProtocol: boolean({
    default: false,
    help: "Put it in front of modern connections too; the modern server must then expect it (nginx: `listen … ssl proxy_protocol;`). With nginx this saves an internal hop.",
  }),
  log: custom<string | undefined>({
    type: 'string',
    defaultText: "'/var/log/nginx/legacy-tls-router.log' (nginx), '/dev/log' (HAProxy)",
    help: 'nginx: the connection log file. HAProxy: a log target (`/dev/log`, `udp@127.0.0.1:514`, `stdout`). One line per connection.',
    validate: (value) => value as string,
  }),
  pidFile: pathOption('The router\'s pid file.', "'/run/legacy-tls-router-<router>.pid'"),
  errorLog: pathOption("nginx only: its error log.", "nginx's built-in default"),
  streamModule: custom<string | null>({
    type: 'string | null',
    default: DEBIAN_STREAM_MODULE,
    help: 'nginx only: the stream module to load, or `null` when nginx has it built in.',
    validate: (value, name) => (value === null ? null : path(value, name)),
  }),
  hopSocket: custom<string>({
    type: 'string',
    default: '/run/legacy-tls-router-modern.sock',
    help: 'nginx only: the unix socket of the internal hop that takes the PROXY header off modern connections again.',
    validate: (value, name) => path(value, name),
  }),
  helloTimeout: seconds('Seconds the router waits for a ClientHello; a connection without one goes to the legacy side.', 5, 1, 60),
  idleTimeout: seconds('Seconds a connection may stay idle both ways.', 600, 1, 86_400),
  connectTimeout: seconds('Seconds to connect to either server.', 5, 1, 120),
  maxConnections: integer({ default: 4096, min: 16, max: 1_000_000, unit: 'connections', help: 'Most connections at once (nginx `worker_connections`, HAProxy `maxconn`).' }),
});

export function resolveRouterConfig(kind: RouterKind, options: RouterConfigOptions): ResolvedRouterConfig {
  const o = ROUTER_CONFIG_OPTIONS.resolve(options);
  for (const target of [o.modern, o.legacy]) {
    if (o.listen.some((l) => l.host === target.host && l.port === target.port)) {
      throw new InvalidOptionError('listen', options.listen, `it is also where ${target === o.modern ? 'modern' : 'legacy'} connections go: the router would loop to itself`);
    }
  }
  if (o.modern.host === o.legacy.host && o.modern.port === o.legacy.port) throw new InvalidOptionError('legacy', options.legacy, 'it must differ from `modern`');
  if (o.modernProxyProtocol && !o.proxyProtocol) {
    throw new InvalidOptionError('proxyProtocol', options.proxyProtocol, 'with `modernProxyProtocol` it must be true too: the legacy side needs the client address at least as much');
  }
  const isNginx = kind === 'nginx';
  return {
    ...o,
    log: isNginx ? (o.log === undefined ? '/var/log/nginx/legacy-tls-router.log' : path(o.log, 'log')) : logTarget(o.log),
    pidFile: o.pidFile ?? `/run/legacy-tls-router-${kind}.pid`,
    errorLog: o.errorLog ?? null,
  };
}

// Nothing in a path may end a directive, open a block, quote, comment or escape, in nginx's syntax or HAProxy's.
const SAFE_PATH = /^\/[A-Za-z0-9._\-/@+=,:]*$/;

function path(value: unknown, option: string): string {
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
