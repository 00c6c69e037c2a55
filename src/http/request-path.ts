/**
 * Request paths as an access decision must see them.
 *
 * A decision made on the raw path can be walked around: `/legacy-browser/../admin`,
 * `/legacy-browser/%2e%2e/admin`, `/legacy-browser\..\admin` or `/legacy-browser/..;/admin` all start
 * with an allowed prefix, and the servers behind us read every one of them as `/admin`. So a path is
 * normalised once (RFC 3986 §6.2.2: percent-decoding of unreserved characters, upper-case
 * percent-encodings, dot-segment removal per §5.2.4) plus what real servers do on top (backslashes as
 * slashes, repeated slashes merged), and anything that cannot be normalised is refused.
 *
 * Servers also disagree on the rest: some decode `%2F` into a slash, Tomcat and Jetty drop `;params`
 * from every segment, some decode twice. A path counts as inside an allowed prefix only when every one
 * of those readings is inside it (see {@link isWithin}), and as touching a prefix this package owns
 * when any reading touches it (see {@link touches}). Both fail closed.
 */

/** A request path after normalisation, in the two readings decisions are made on. */
export interface NormalisedPath {
  /** The canonical path: what is forwarded, and what the report routes on. */
  readonly path: string;
  /**
   * The path as the most lenient server would read it: every percent-encoding decoded (repeatedly,
   * bounded), `;params` dropped from every segment, then normalised again.
   */
  readonly lenient: string;
}

/** Longest path normalised; longer ones are refused (Node's own header limit is 16 KiB anyway). */
export const MAX_PATH_LENGTH = 8192;

// Rounds of decoding for the lenient reading: a server that decodes twice is rare, three times unheard of.
const MAX_DECODE_ROUNDS = 3;

/**
 * Normalises the path of a request target (`req.url` up to `?`). Returns `null` for what cannot be
 * normalised: not origin-form (no leading `/`), a bad percent-encoding (`%zz`, a lone `%`), an encoded
 * or raw control character (`%00`, `%0a`), or a path over {@link MAX_PATH_LENGTH}.
 */
export function normalisePath(raw: string): NormalisedPath | null {
  if (raw.length === 0 || raw.length > MAX_PATH_LENGTH || raw.charCodeAt(0) !== SLASH) return null;
  const path = canonical(raw);
  if (path === null) return null;
  return { path, lenient: lenient(path) };
}

/**
 * Whether a path is `prefix` itself or below it, in every reading (segment-wise: `/api` covers `/api`
 * and `/api/x`, not `/apix`). For exemptions: a path some server would read as outside is outside.
 * `prefix` is normalised too (see {@link normalisePrefix}), so each reading is compared with its own.
 */
export function isWithin(path: NormalisedPath, prefix: NormalisedPath): boolean {
  return below(path.path, prefix.path) && below(path.lenient, prefix.lenient);
}

/** Whether a path is exactly `target` (or `target/`) in every reading: the fallback page itself. */
export function isExactly(path: NormalisedPath, target: NormalisedPath): boolean {
  return same(path.path, target.path) && same(path.lenient, target.lenient);
}

/**
 * Whether any reading of a path is `prefix` or below it, compared case-insensitively
 * (`/_Legacy-TLS/report.json` is the report to a case-insensitive file system). For the paths this
 * package owns: none of them is ever forwarded, whatever spelling asks for it.
 */
export function touches(path: NormalisedPath, prefix: NormalisedPath): boolean {
  return below(path.path.toLowerCase(), prefix.path.toLowerCase()) || below(path.lenient.toLowerCase(), prefix.lenient.toLowerCase());
}

/** A configured path prefix in both readings, or `null` when it is not a path (options validate with it). */
export function normalisePrefix(prefix: string): NormalisedPath | null {
  const normalised = normalisePath(prefix);
  if (normalised === null) return null;
  return { path: withoutTrailingSlash(normalised.path), lenient: withoutTrailingSlash(normalised.lenient) };
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function below(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === SLASH);
}

function same(path: string, target: string): boolean {
  return path === target || (path.length === target.length + 1 && path.startsWith(target) && path.endsWith('/'));
}

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const DOT = 0x2e;
const HEX = '0123456789ABCDEF';

// RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~" are the same byte encoded or not.
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  UNRESERVED[c] = /[A-Za-z0-9\-._~]/.test(ch) ? 1 : 0;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Canonical form, or null. Never throws, linear in the length. */
function canonical(raw: string): string | null {
  // The common path ("/", "/shop/item-42") is already canonical: no copy, no segment walk.
  if (isPlain(raw)) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === PERCENT) {
      const high = hexValue(raw.charCodeAt(i + 1));
      const low = hexValue(raw.charCodeAt(i + 2));
      if (high < 0 || low < 0) return null;
      const byte = high * 16 + low;
      if (byte < 0x20 || byte === 0x7f) return null;
      out += byte < 128 && UNRESERVED[byte] === 1 ? String.fromCharCode(byte) : `%${HEX[high]}${HEX[low]}`;
      i += 2;
    } else if (code < 0x20 || code === 0x7f || code === 0x20) {
      return null;
    } else if (code === BACKSLASH) {
      out += '/';
    } else if (code > 0x7e) {
      // Node hands raw bytes over as latin1 characters; say them in the one spelling every server reads.
      if (code > 0xff) return null;
      out += `%${HEX[code >> 4]}${HEX[code & 15]}`;
    } else {
      out += raw[i];
    }
  }
  return removeDotSegments(out);
}

/** Printable ASCII without `%` or `\\`, and no empty or dot segment: nothing to decode, merge or remove. */
function isPlain(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || code === PERCENT || code === BACKSLASH) return false;
    if (code === SLASH) {
      const next = raw.charCodeAt(i + 1);
      if (next === SLASH || next === DOT) return false;
    }
  }
  return true;
}

/** RFC 3986 §5.2.4 on '/'-separated segments, with empty segments (repeated slashes) merged. */
function removeDotSegments(path: string): string {
  const input = path.split('/');
  const output: string[] = [];
  // input[0] is the empty string before the leading slash.
  for (let i = 1; i < input.length; i++) {
    const segment = input[i] as string;
    const last = i === input.length - 1;
    if (segment === '..') {
      output.pop();
      if (last) output.push('');
    } else if (segment === '.') {
      if (last) output.push('');
    } else if (segment === '') {
      if (last) output.push('');
    } else {
      output.push(segment);
    }
  }
  // An empty segment is only ever kept last: `/a/` and `/a/..` end in one; `/..` is nothing but it.
  return output.length === 1 && output[0] === '' ? '/' : `/${output.join('/')}`;
}

function lenient(path: string): string {
  // Nothing left to decode or drop: a canonical path is already its own lenient reading.
  if (!path.includes('%') && !path.includes(';')) return path;
  let current = path;
  for (let round = 0; round < MAX_DECODE_ROUNDS && current.includes('%'); round++) {
    current = decodeAll(current);
  }
  // Drop `;params` per segment (Tomcat reads `/..;x/` as `/../`), then normalise what is left.
  const segments = current.split('/').map((segment) => {
    const semicolon = segment.indexOf(';');
    return semicolon < 0 ? segment : segment.slice(0, semicolon);
  });
  return removeDotSegments(segments.join('/').replace(/\\/g, '/'));
}

/** Decodes every valid `%XX` (as bytes, not UTF-8: only slashes, dots and backslashes matter here). */
function decodeAll(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === PERCENT) {
      const high = hexValue(path.charCodeAt(i + 1));
      const low = hexValue(path.charCodeAt(i + 2));
      if (high >= 0 && low >= 0) {
        out += String.fromCharCode(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}
