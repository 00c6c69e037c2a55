import net from 'node:net';

/**
 * Host names as decisions see them: a `Host` header, an SNI name, or the authority of an absolute-form
 * request target, reduced to one spelling. Host names compare case-insensitively and the port says
 * nothing about the site, so both go; everything else a server might read differently (a trailing dot,
 * which some routers strip and others keep) is reported, so that a decision can fail closed on it.
 */

/** A host as read from a request. */
export interface ParsedHost {
  /** Lower case, no port, no trailing dot; an IPv6 address in brackets (`[::1]`). */
  readonly name: string;
  /** It was written in a spelling servers disagree on (a trailing dot): decide on it strictly. */
  readonly odd: boolean;
}

/** Longest header value read; a longer one is malformed (a host name is at most 253 characters). */
export const MAX_HOST_LENGTH = 300;

// RFC 1123 labels, plus `_`, which real host names carry (`_dmarc`, some intranets) and routers accept.
const NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const WITH_PORT = /^([^:[\]]+)(?::(\d{1,5}))?$/;
const BRACKETED = /^\[([0-9A-Fa-f:.]{2,45})\](?::(\d{1,5}))?$/;

/**
 * Reads a `Host` header (or an SNI name, or an authority). `undefined` when there is none, `null` when it
 * is not a host name at all (junk, a user-info part, a second host after a comma, a bad port). Never throws.
 */
export function parseHost(value: unknown): ParsedHost | null | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > MAX_HOST_LENGTH) return null;
  const bracketed = BRACKETED.exec(value);
  if (bracketed) {
    if (!validPort(bracketed[2]) || net.isIPv6(bracketed[1] as string) === false) return null;
    return { name: `[${(bracketed[1] as string).toLowerCase()}]`, odd: false };
  }
  const match = WITH_PORT.exec(value);
  if (!match || !validPort(match[2])) return null;
  let name = (match[1] as string).toLowerCase();
  const odd = name.endsWith('.');
  if (odd) name = name.slice(0, -1);
  return NAME.test(name) ? { name, odd } : null;
}

function validPort(port: string | undefined): boolean {
  return port === undefined || Number(port) <= 65535;
}

/**
 * The host of an absolute-form request target (`GET https://other.example/x HTTP/1.1`), which RFC 9112
 * §3.2.2 says wins over the Host header; `undefined` for the usual origin form.
 */
export function absoluteFormHost(target: string | undefined): ParsedHost | null | undefined {
  if (target === undefined || target.charCodeAt(0) === 0x2f) return undefined;
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
  if (!match) return undefined;
  const authority = match[1] as string;
  return authority.includes('@') ? null : parseHost(authority);
}

/** A configured host name pattern (`www.example.com`, `*.example.com`: one label), normalised. */
export function normaliseHostPattern(pattern: string): string {
  return pattern.toLowerCase().replace(/\.$/, '');
}

/** `*.example.com` covers one label, as in a certificate; both sides already normalised. */
export function hostMatches(pattern: string, host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (!pattern.startsWith('*.')) return pattern === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot) === pattern.slice(1);
}
