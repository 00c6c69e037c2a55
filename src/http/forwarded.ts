import net from 'node:net';

/**
 * The visitor's address behind trusted proxies, from `X-Forwarded-For` or (without it) `Forwarded`
 * (RFC 7239), picked the way `proxy-addr` and Express's `trust proxy` pick it: walk from the socket's
 * peer towards the client, one hop at a time, and stop at the first address that is not a trusted proxy.
 * Every proxy appends the address it saw to the right, so everything left of the first untrusted hop was
 * written by that untrusted party and means nothing.
 *
 * Used for the visitor estimate only: an access decision is never made on it.
 *
 * Hostile input is bounded: only the last `MAX_HOPS` hops are looked at, each at most `MAX_HOP_LENGTH`
 * characters, and the header is scanned from its right end, so a 16 KiB header of junk costs no more than
 * a short one. A hop that is no address (junk, `unknown`, an obfuscated `_node`) ends the walk: the last
 * address that was one is the answer.
 */

/** Hops looked at, from the right: more proxies than this in front of one site is not a real chain. */
export const MAX_HOPS = 16;
/** The longest hop worth reading: `"[ffff:…:ffff%zone]:65535"` in quotes stays well below. */
const MAX_HOP_LENGTH = 100;

export interface ForwardedHeaders {
  'x-forwarded-for'?: string | string[] | undefined;
  forwarded?: string | string[] | undefined;
}

/**
 * The client address to count a visitor by: the socket's peer, unless the peer is trusted, in which case
 * the rightmost untrusted hop of the forwarding header (or the leftmost hop when all are trusted).
 * `isTrusted` gets normalised addresses (brackets, ports and `::ffff:` gone).
 */
export function forwardedClientAddress(peer: string | undefined, headers: ForwardedHeaders, isTrusted: (address: string) => boolean): string | undefined {
  if (peer === undefined || !isTrusted(peer)) return peer;
  const xff = joined(headers['x-forwarded-for']);
  const hops = xff !== undefined ? hopsFromRight(xff, forwardedForHop) : headers.forwarded !== undefined ? hopsFromRight(joined(headers.forwarded) ?? '', rfc7239Hop) : [];
  let address = normaliseAddress(peer) ?? peer;
  for (const hop of hops) {
    if (hop === null) return address;
    address = hop;
    if (!isTrusted(hop)) return hop;
  }
  return address;
}

/** `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`, `::ffff:1.2.3.4` → the plain address; anything else → null. */
export function normaliseAddress(text: string): string | null {
  let value = text.trim();
  if (value.length === 0 || value.length > MAX_HOP_LENGTH) return null;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return null;
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    value = value.slice(1, end);
    return net.isIPv6(value) ? unmap(value) : null;
  }
  if (net.isIPv6(value)) return unmap(value);
  // IPv4 with a port (Azure and some CDNs append one); an IPv6 address without brackets has no port.
  const colon = value.indexOf(':');
  if (colon >= 0) {
    if (!/^:\d{1,5}$/.test(value.slice(colon))) return null;
    value = value.slice(0, colon);
  }
  return net.isIPv4(value) ? value : null;
}

function unmap(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && net.isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}

/** Node joins repeated `X-Forwarded-For` (and unknown) headers with ", "; an array is joined the same way. */
function joined(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The last MAX_HOPS comma-separated elements of `header`, rightmost first, each read by `read` (null for
 * an element that names no address). Scans from the right end: the cost is bounded by what is read.
 */
function hopsFromRight(header: string, read: (element: string) => string | null): (string | null)[] {
  const hops: (string | null)[] = [];
  let end = header.length;
  while (hops.length < MAX_HOPS && end > 0) {
    const start = lastSeparator(header, end);
    const element = header.slice(start + 1, end);
    end = start;
    // An empty element (`a,,b`, a trailing comma) is skipped, as proxy-addr does.
    if (element.trim() === '') continue;
    hops.push(element.length > MAX_HOP_LENGTH * 2 ? null : read(element));
  }
  return hops;
}

/** The comma before `end`, outside a quoted string (RFC 7239 values may be quoted; commas in quotes are text). */
function lastSeparator(header: string, end: number): number {
  let quoted = false;
  // Bounded by the caller: an element longer than the cap is cut at MAX_HOP_LENGTH * 2 characters.
  const floor = Math.max(-1, end - MAX_HOP_LENGTH * 2 - 1);
  for (let i = end - 1; i > floor; i--) {
    const c = header.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x2c && !quoted) return i;
  }
  return floor;
}

function forwardedForHop(element: string): string | null {
  return normaliseAddress(element);
}

/** One RFC 7239 element (`for=192.0.2.60;proto=http;by=…`): its `for` address, null when none or obfuscated. */
function rfc7239Hop(element: string): string | null {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      if (!value.endsWith('"') || value.length < 2) return null;
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    // `unknown` and `_obfuscated` nodes name no address (RFC 7239 §6.2, §6.3).
    return normaliseAddress(value);
  }
  return null;
}
