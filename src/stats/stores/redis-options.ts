import os from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import { InvalidOptionError } from '../../errors.js';
import { defineOptions, type Resolved } from '../../schema/define.js';
import { custom, integer, string } from '../../schema/option.js';

/** `redisStore()`'s options. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS. */
  url: string;
  /** Put before every key this store writes: one prefix per site keeps several sites apart on one Redis. @default 'ltf:' */
  keyPrefix?: string;
  /** This process's name in the report's instance table. @default `${hostname}:${pid}` */
  instance?: string;
  /** Milliseconds to connect (and authenticate) before Redis counts as unreachable. @default 2000 */
  connectTimeout?: number;
  /** Milliseconds a command may take before the connection is dropped and made again. @default 5000 */
  commandTimeout?: number;
  /** TLS options for `rediss://` (`ca` of a private CA, a client `cert`/`key`, `servername`). */
  tls?: ConnectionOptions;
}

export const REDIS_URL_ENV = 'LEGACY_TLS_REDIS_URL';

const URL_EXAMPLE = "such as 'redis://127.0.0.1:6379', 'redis://:password@redis.internal:6379/0' or 'rediss://user:password@redis.example.com:6380'";

/** The URL as it may be shown: the password never is. */
export function redactRedisUrl(text: string): string {
  return text.replace(/^([a-z]+:\/\/)([^/?#@]*)@/i, (_, scheme: string, credentials: string) => {
    const colon = credentials.indexOf(':');
    return `${scheme}${colon < 0 ? credentials : `${credentials.slice(0, colon)}:***`}@`;
  });
}

/** What the store connects with, read from the URL once. */
export interface RedisEndpoint {
  /** The URL as given, credentials included (not enumerable). */
  readonly url: string;
  tls: boolean;
  host: string;
  port: number;
  database: number;
  username: string | undefined;
  /** Not enumerable: a configuration logged as JSON never shows it. */
  readonly password?: string;
  /** Shown in logs and in the report: `redis://host:port/db`, without credentials. */
  display: string;
}

export function parseRedisUrl(value: unknown, name: string): RedisEndpoint {
  const shown = typeof value === 'string' ? redactRedisUrl(value) : value;
  if (typeof value !== 'string' || value.length > 2000 || /[\u0000-\u0020\u007f]/.test(value)) { // eslint-disable-line no-control-regex
    throw new InvalidOptionError(name, shown, `expected a redis:// or rediss:// URL ${URL_EXAMPLE}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidOptionError(name, shown, `expected a redis:// or rediss:// URL ${URL_EXAMPLE}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidOptionError(name, shown, `${url.protocol.slice(0, -1)} is not supported; expected a redis:// URL, or rediss:// for TLS, ${URL_EXAMPLE}`);
  }
  if (url.hostname === '') throw new InvalidOptionError(name, shown, `expected a host name in the URL, ${URL_EXAMPLE}`);
  if (url.search !== '' || url.hash !== '') throw new InvalidOptionError(name, shown, `expected no query or fragment; the database number goes in the path, ${URL_EXAMPLE}`);
  const db = url.pathname === '' || url.pathname === '/' ? '0' : url.pathname.slice(1);
  if (!/^\d{1,5}$/.test(db)) throw new InvalidOptionError(name, shown, `the path must be a database number (/0, /1, …), ${URL_EXAMPLE}`);
  const tls = url.protocol === 'rediss:';
  const port = url.port === '' ? 6379 : Number(url.port);
  const host = url.hostname;
  const endpoint: RedisEndpoint = {
    url: value,
    tls,
    host: host.startsWith('[') ? host.slice(1, -1) : host,
    port,
    database: Number(db),
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    display: `${url.protocol}//${host}:${port}/${Number(db)}`,
  };
  if (url.password !== '') Object.defineProperty(endpoint, 'password', { value: decodeURIComponent(url.password), enumerable: false });
  // The URL itself carries the password too: hidden the same way.
  Object.defineProperty(endpoint, 'url', { value, enumerable: false });
  return endpoint;
}

export const REDIS_STORE_OPTIONS = defineOptions({
  url: custom<RedisEndpoint | undefined>({
    type: 'string',
    defaultText: 'required',
    help: 'The Redis every server of the site shares: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. The password is never logged or shown.',
    validate: parseRedisUrl,
    arg: 'URL',
    cli: { group: 'Stats and report', flag: 'redis-url', env: REDIS_URL_ENV },
  }),
  keyPrefix: string({
    default: 'ltf:',
    help: 'Put before every Redis key the numbers are kept under: one prefix per site keeps several sites apart on one Redis (and lets an ACL rule name them: `~ltf:*`).',
    maxLength: 64,
    check: (prefix) => (/^[\x21-\x7e]{1,64}$/.test(prefix) ? undefined : "expected 1 to 64 printable characters without spaces, such as 'ltf:' or 'ltf:www.example.com:'"),
    cli: { group: 'Stats and report', flag: 'redis-prefix', arg: 'PREFIX' },
  }),
  instance: string({
    defaultText: 'host name:process id',
    help: "This server's name in the report's table of instances (when it was last seen, its requests), so an owner sees that every server reports.",
    maxLength: 100,
    check: (name) => (/^[\x21-\x7e](?:[\x20-\x7e]{0,98}[\x21-\x7e])?$/.test(name) ? undefined : "expected 1 to 100 printable characters, such as 'web-1'"),
    cli: { group: 'Stats and report', flag: 'instance-name', arg: 'NAME' },
  }),
  connectTimeout: integer({ default: 2_000, min: 100, max: 60_000, unit: 'milliseconds', help: 'Time to connect to Redis and log in; past it, Redis counts as unreachable (counting goes on in memory).' }),
  commandTimeout: integer({ default: 5_000, min: 100, max: 60_000, unit: 'milliseconds', help: 'Time a Redis command may take; past it, the connection is dropped and made again (a write is retried, never counted twice).' }),
  tls: custom<ConnectionOptions | undefined>({
    type: 'tls.ConnectionOptions',
    help: 'TLS options for a `rediss://` URL: `ca` (a private CA), `cert` and `key` (a client certificate), `servername`.',
    validate: (value, name) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as ConnectionOptions;
      throw new InvalidOptionError(name, value, 'expected an object of node:tls connection options, such as { ca }');
    },
  }),
});

export type ResolvedRedisStoreOptions = Resolved<typeof REDIS_STORE_OPTIONS.specs> & { url: RedisEndpoint; instance: string };

export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  const resolved = REDIS_STORE_OPTIONS.resolve(options);
  const { url } = resolved;
  // Optional in the schema so that the proxy can offer it as an option; the store cannot do without it.
  if (url === undefined) throw new InvalidOptionError('url', undefined, `expected a redis:// or rediss:// URL ${URL_EXAMPLE}`);
  if (resolved.tls !== undefined && !url.tls) {
    throw new InvalidOptionError('tls', '<object>', 'TLS options need a rediss:// {{url}}; with redis:// the connection is not encrypted');
  }
  return { ...resolved, url, instance: resolved.instance ?? `${os.hostname()}:${process.pid}` };
}
