import type { HandshakeFailureReason } from '../types.js';
import type { LogProtocol, LogRecord, LogRecordKind } from './types.js';

/** Every record is built here, so all have one hidden class and the consumer's code stays monomorphic. */
export function makeRecord(
  kind: LogRecordKind,
  time: number,
  protocol: LogProtocol | null,
  cipher: string | null,
  userAgent: string | null,
  address: string | null,
  host: string | null,
  path: string | null,
  status: number | null,
  failureReason?: HandshakeFailureReason,
): LogRecord {
  return { kind, time, protocol, cipher, userAgent, address, host, path, status, failureReason };
}

/**
 * A string of its own with the same text. V8 keeps a substring as a view of its parent; concatenating
 * and slicing again makes it flatten the value into a new string (short strings are copied anyway).
 * Values in records are cut from their line, which is a string of its own (see InputLines), so they
 * keep at most that line alive; cached values are detached, since a cache outlives its lines.
 */
export function detach(value: string): string {
  return value.length < 13 ? value : ` ${value}`.slice(1);
}

/**
 * The last few distinct values of a field that repeats (cipher, host), handed out as one instance each:
 * an equality scan of a few entries, cheaper than hashing the slice into a map.
 */
export class RecentStrings {
  readonly #entries: string[] = [];
  readonly #capacity: number;
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(value: string): string {
    return this.getAt(value, 0, value.length);
  }

  /** The value at `text[start, end)`. */
  getAt(text: string, start: number, end: number): string {
    const entries = this.#entries;
    // A slice and === (a memcmp in V8) beat comparing character by character in place.
    const value = text.slice(start, end);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as string;
      if (entry === value) return entry;
    }
    const own = detach(value);
    if (entries.length < this.#capacity) entries.push(own);
    else {
      entries[this.#next] = own;
      this.#next = (this.#next + 1) % this.#capacity;
    }
    return own;
  }
}

/** `-` and the empty string are how every format writes "not logged". */
export function present(value: string): boolean {
  return value.length > 0 && value !== '-';
}

/** An HTTP status, or `null` for `-` and anything that is not three digits. */
export function parseStatus(value: string): number | null {
  return parseStatusAt(value, 0, value.length);
}

export function parseStatusAt(text: string, start: number, end: number): number | null {
  if (end - start !== 3) return null;
  const a = text.charCodeAt(start) - 48;
  const b = text.charCodeAt(start + 1) - 48;
  const c = text.charCodeAt(start + 2) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return null;
  return a * 100 + b * 10 + c;
}

/**
 * The path of the request line at `text[start, end)`, without its query, cut straight from `text`:
 * `GET /a?b HTTP/1.1` → `/a`. Origin-form targets only (what a server logs for nearly every request);
 * `undefined` for anything else, which the caller hands to pathOfRequestLine.
 */
export function originPathAt(text: string, start: number, end: number): string | undefined {
  const first = text.indexOf(' ', start);
  if (first === -1 || first >= end || text.charCodeAt(first + 1) !== 47) return undefined;
  let stop = text.lastIndexOf(' ', end - 1);
  if (stop <= first) stop = end;
  const query = text.indexOf('?', first + 1);
  if (query !== -1 && query < stop) stop = query;
  return text.slice(first + 1, stop);
}

/** The path of a request line (`GET /a?b HTTP/1.1`), without the query; `null` when the line has none. */
export function pathOfRequestLine(line: string): string | null {
  const first = line.indexOf(' ');
  if (first <= 0) return null;
  const last = line.lastIndexOf(' ');
  const target = last > first ? line.slice(first + 1, last) : line.slice(first + 1);
  return pathOfTarget(target);
}

/**
 * The path of a request target, without the query: `/a?b` → `/a`; an absolute URL (ALB logs them,
 * proxies receive them) gives its path; `*` and authority forms have none.
 */
export function pathOfTarget(target: string): string | null {
  let start = 0;
  if (target.charCodeAt(0) !== 47) {
    const scheme = target.indexOf('://');
    if (scheme <= 0 || scheme > 10) return null;
    start = target.indexOf('/', scheme + 3);
    if (start === -1) return '/';
  }
  const query = target.indexOf('?', start);
  return target.slice(start, query === -1 ? target.length : query);
}

/** The host of an address with a port: `1.2.3.4:80` → `1.2.3.4`, `[::1]:80` and `::1:80` → `::1`. */
export function hostOfHostPort(value: string): string {
  if (value.charCodeAt(0) === 91) {
    const close = value.indexOf(']');
    return close > 0 ? value.slice(1, close) : value;
  }
  const colon = value.lastIndexOf(':');
  if (colon <= 0) return value;
  // Digits after the last colon are the port; for a bare IPv6 address without a port they may be part of it.
  for (let i = colon + 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return value;
  }
  return value.slice(0, colon);
}
