import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { Verdict } from '../types.js';

// RFC 9110 §7.6.1 hop-by-hop fields, plus ones undici refuses to send (`expect`, `transfer-encoding`:
// it frames the body itself) and legacy proxy headers that must not leak through.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'expect', 'http2-settings',
]);

/** Headers only this proxy may set: whatever a client sends under these names is removed first, always. */
export const PROXY_SET_HEADERS = ['x-tls-protocol', 'x-tls-cipher', 'x-legacy-client'] as const;

// Passed on only from a trusted peer: each names the client's address, scheme, host, path prefix or TLS
// to the site, so from anyone else it is a claim that could fool the upstream (an address allow-list, a
// "secure" flag, or, for X-Original-URL and X-Rewrite-URL, the very path IIS and Symfony route on).
const FORWARDING_HEADERS = [
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded', 'x-real-ip',
  'x-forwarded-ssl', 'x-forwarded-scheme', 'x-forwarded-protocol', 'x-forwarded-server', 'x-forwarded-prefix',
  'x-forwarded-path', 'x-url-scheme', 'front-end-https', 'x-original-url', 'x-rewrite-url', 'x-original-host',
  'true-client-ip', 'x-client-ip', 'cf-connecting-ip', 'fastly-client-ip', 'x-cluster-client-ip',
  'cloudfront-viewer-tls', 'x-amzn-tls-version', 'x-amzn-tls-cipher-suite',
];

export interface ForwardContext {
  verdict: Verdict;
  /** Address of the peer that connected to us. */
  peerAddress: string | undefined;
  /** Whether that peer is a trusted proxy whose forwarding headers we extend rather than replace. */
  peerTrusted: boolean;
  proto: 'https' | 'http';
  /** The configured trusted TLS header: from an untrusted peer it is a forged claim and is dropped. */
  trustedHeader?: string | undefined;
  /** Host header to send upstream (the client's, unless --change-origin). */
  host: string | undefined;
  /** The Authorization header carries the report token: it never travels to the site. */
  dropAuthorization?: boolean;
  /** Added to the answer the client gets (the switch-off warning for a legacy client). */
  responseHeaders?: Readonly<Record<string, string>> | undefined;
}

// What to do with a request header by name, in one lookup (this runs for every header of every request).
const DROP = 1;
const FORWARDING = 2;
const REQUEST_HEADER_RULES: ReadonlyMap<string, typeof DROP | typeof FORWARDING> = new Map([
  ...[...HOP_BY_HOP, ...PROXY_SET_HEADERS, 'host'].map((name) => [name, DROP] as const),
  ...FORWARDING_HEADERS.map((name) => [name, FORWARDING] as const),
]);

/** The request headers sent upstream. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, context: ForwardContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connectionTokens = listedInConnection(incoming.connection);
  const { peerTrusted, trustedHeader } = context;
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined) continue;
    // Several servers (nginx's $http_*, CGI, PHP) read `X_Forwarded_For` as X-Forwarded-For: the same rule.
    const as = name.includes('_') ? name.replace(/_/g, '-') : name;
    const rule = REQUEST_HEADER_RULES.get(as);
    if (rule === DROP || (!peerTrusted && (rule === FORWARDING || as === trustedHeader))) continue;
    if (connectionTokens !== null && (connectionTokens.has(name) || connectionTokens.has(as))) continue;
    if (as === 'authorization' && context.dropAuthorization) continue;
    out[name] = value;
  }
  if (context.host) out.host = context.host;

  const peer = context.peerAddress ?? 'unknown';
  const clientHost = incoming.host ?? '';
  // From a trusted proxy the chain grows; from anyone else a claimed chain is a spoof and is replaced.
  const priorFor = context.peerTrusted ? joined(incoming['x-forwarded-for']) : '';
  out['x-forwarded-for'] = priorFor ? `${priorFor}, ${peer}` : peer;
  out['x-forwarded-proto'] = context.peerTrusted && incoming['x-forwarded-proto'] ? joined(incoming['x-forwarded-proto']) : context.proto;
  out['x-forwarded-host'] = context.peerTrusted && incoming['x-forwarded-host'] ? joined(incoming['x-forwarded-host']) : clientHost;
  const element = `for=${forwardedNode(peer)};host=${quoteIfNeeded(clientHost)};proto=${context.proto}`;
  const priorForwarded = context.peerTrusted ? joined(incoming.forwarded) : '';
  out.forwarded = priorForwarded ? `${priorForwarded}, ${element}` : element;

  const { tls, legacy } = context.verdict;
  if (tls.protocol) out['x-tls-protocol'] = tls.protocol;
  if (tls.cipher) out['x-tls-cipher'] = tls.cipher;
  if (legacy) out['x-legacy-client'] = '1';
  return out;
}

/**
 * The origin form (`/path?query`) of a request target. An absolute-form target (`GET http://other.example/x`)
 * makes the upstream ignore Host and use that authority (RFC 9112 §3.2.2), so the proxy and the site would
 * disagree on which site was asked for. Anything else (`/path`, `*`) is returned as it came.
 */
export function originForm(target: string | undefined): string {
  if (target === undefined) return '/';
  const rest = target.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, '');
  if (rest === target) return target;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** The response headers sent to the client: the upstream's, minus hop-by-hop ones. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = listedInConnection(upstream.connection);
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || (connectionTokens !== null && connectionTokens.has(name))) continue;
    out[name] = value;
  }
  return out;
}

/** Header names a Connection header lists (RFC 9110 §7.6.1), or null when it lists none but its own options. */
function listedInConnection(value: string | string[] | undefined): Set<string> | null {
  // The common values name no header: skip the split and the Set.
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === '') return null;
  const tokens = new Set(joined(value).split(',').map((token) => token.trim().toLowerCase()).filter(Boolean));
  return tokens.size === 0 ? null : tokens;
}

function joined(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : value;
}

// Peers are few and come back on every request of their connections: remember their node strings.
const forwardedNodes = new Map<string, string>();

// RFC 7239: IPv6 nodes are quoted and bracketed.
function forwardedNode(address: string): string {
  let node = forwardedNodes.get(address);
  if (node === undefined) {
    const plain = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    node = net.isIPv6(plain) ? `"[${plain}]"` : plain;
    if (forwardedNodes.size >= 4096) forwardedNodes.clear();
    forwardedNodes.set(address, node);
  }
  return node;
}

function quoteIfNeeded(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
