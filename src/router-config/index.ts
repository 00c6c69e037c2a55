/**
 * `routerConfig('nginx' | 'haproxy', options)`: the complete configuration of a TCP router that sends
 * modern clients to the existing TLS server and legacy ones to legacy-tls-fallback. Pure: options in,
 * text out, validated once.
 */
import { haproxyRouterConfig } from './haproxy.js';
import { nginxRouterConfig } from './nginx.js';
import { resolveRouterConfig, ROUTER_KINDS, type RouterConfigOptions, type RouterKind } from './options.js';
import { InvalidOptionError } from '../errors.js';

export function routerConfig(kind: RouterKind, options: RouterConfigOptions): string {
  if (!ROUTER_KINDS.includes(kind)) throw new InvalidOptionError('router', kind, `expected one of ${ROUTER_KINDS.map((k) => `'${k}'`).join(', ')}`);
  const router = kind;
  const resolved = resolveRouterConfig(router, options);
  return router === 'nginx' ? nginxRouterConfig(resolved) : haproxyRouterConfig(resolved);
}

export { ROUTER_KINDS, DEBIAN_STREAM_MODULE, resolveRouterConfig, type RouterConfigOptions, type RouterKind, type ResolvedRouterConfig } from './options.js';
export { parseRouterLogLine, ROUTER_LOG_TAG, ROUTER_LOG_MAX_LINE, type RouterLogRecord, type RouterOffered } from './log.js';
