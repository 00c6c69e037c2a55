import { normalisePath } from '../http/request-path.js';
import { MAX_CONTINUE_HREF_LENGTH } from './interstitial.js';

/**
 * The pure parts of the warning phase, before the switch-off date: the headers every response to a
 * legacy client carries, which requests get the one-time interstitial, the cookie its "continue" link
 * sets, and where that link may lead.
 */

/**
 * `Deprecation` (RFC 9745: a structured-field date, `@` and seconds since the epoch) and `Sunset`
 * (RFC 8594: an HTTP-date, IMF-fixdate form) for the switch-off day. Both name the same instant:
 * from then on this client is refused, which is what API clients and their logs need to see.
 */
export function deprecationHeaders(switchOff: number): Readonly<Record<string, string>> {
  return Object.freeze({ deprecation: `@${Math.floor(switchOff / 1000)}`, sunset: new Date(switchOff).toUTCString() });
}

/** The cookie the "continue to the site" link sets: the interstitial is not shown again that day. */
export const NOTICE_COOKIE = 'legacy_tls_notice';
const NOTICE_SECONDS = 24 * 60 * 60;

/**
 * The `Set-Cookie` value. `Expires` for IE 6-8, which ignore `Max-Age`; `HttpOnly`, since no script
 * needs it; `SameSite=Lax`, ignored by old browsers and harmless there; `Secure` when the request came
 * over TLS (a cookie marked so over plain HTTP would be dropped by modern browsers).
 */
export function noticeCookie(now: number, secure: boolean): string {
  const expires = new Date(now + NOTICE_SECONDS * 1000).toUTCString();
  return `${NOTICE_COOKIE}=1; Path=/; Expires=${expires}; Max-Age=${NOTICE_SECONDS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

// A Cookie header longer than this is not searched (browsers cap the whole header near 8 KiB).
const MAX_COOKIE_HEADER = 16 * 1024;

/** Whether the request carries the notice cookie. Linear, allocation-free, never throws. */
export function hasNoticeCookie(cookie: unknown): boolean {
  if (typeof cookie !== 'string' || cookie.length > MAX_COOKIE_HEADER) return false;
  let from = 0;
  for (;;) {
    const at = cookie.indexOf(NOTICE_COOKIE, from);
    if (at < 0) return false;
    const end = at + NOTICE_COOKIE.length;
    // A whole cookie name: at the start or after "; " (or ";"), and followed by "=".
    let before = at - 1;
    while (before >= 0 && cookie.charCodeAt(before) === 0x20) before--;
    if ((before < 0 || cookie.charCodeAt(before) === 0x3b) && cookie.charCodeAt(end) === 0x3d) return true;
    from = end;
  }
}

// File types a browser fetches as parts of a page, never navigates to: never answered with a page.
const ASSET_EXTENSIONS = new Set([
  'css', 'js', 'mjs', 'map', 'json', 'xml', 'txt', 'png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'svg', 'ico', 'bmp', 'woff', 'woff2', 'ttf', 'otf', 'eot',
  'mp3', 'mp4', 'webm', 'ogg', 'wav', 'pdf', 'zip', 'gz', 'csv', 'swf', 'cur', 'manifest', 'webmanifest',
]);

export interface NavigationHeaders {
  accept?: string | string[] | undefined;
  'x-requested-with'?: string | string[] | undefined;
  'sec-fetch-dest'?: string | string[] | undefined;
  'sec-fetch-mode'?: string | string[] | undefined;
}

/**
 * Whether a GET is a browser opening a page (so answering it with the interstitial shows the notice),
 * rather than fetching a part of one (an image, a script, an XHR), which an HTML answer would break.
 * Modern browsers say so (`Sec-Fetch-Dest: document`); old ones only through `Accept`: a page request
 * names `text/html`, except IE 6-8, which send their list of image and Office types ending in `*\/*`
 * for pages, and `*\/*` alone for most parts of a page too. For those, the path decides: a file name
 * with an asset extension is a part. The cost of a wrong guess is one broken image until the visitor
 * has seen the notice, which is why the interstitial is never the answer to XHRs or frames.
 */
export function isPageNavigation(headers: NavigationHeaders, path: string): boolean {
  const dest = headers['sec-fetch-dest'];
  if (dest !== undefined) return dest === 'document';
  if (headers['x-requested-with'] !== undefined) return false;
  const accept = headers.accept;
  if (typeof accept !== 'string') return false;
  const lower = accept.toLowerCase();
  if (lower.includes('text/html') || lower.includes('application/xhtml+xml')) return true;
  if (!lower.includes('*/*')) return false;
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return !(dot > slash && ASSET_EXTENSIONS.has(path.slice(dot + 1).toLowerCase()));
}

/** Where the interstitial's link leads: `continuePath?to=` the page asked for, or `/` when too long. */
export function continueHref(continuePath: string, path: string, query: string): string {
  const href = `${continuePath}?to=${encodeURIComponent(query === '' ? path : `${path}?${query}`)}`;
  if (href.length <= MAX_CONTINUE_HREF_LENGTH) return href;
  const withoutQuery = `${continuePath}?to=${encodeURIComponent(path)}`;
  return withoutQuery.length <= MAX_CONTINUE_HREF_LENGTH ? withoutQuery : `${continuePath}?to=%2F`;
}

/**
 * Where the continue path redirects: the `to` it was given if that is a path on this site, normalised
 * (`/a/../b` → `/b`), with a query of printable ASCII; `/` for anything else (another host, a scheme,
 * a backslash, control characters, an unreadable path). Its value ends up in a `Location` header.
 */
export function continueTarget(query: string): string {
  let to: string | null;
  try {
    to = new URLSearchParams(query).get('to');
  } catch {
    to = null;
  }
  if (to === null || to.length > MAX_CONTINUE_HREF_LENGTH || !to.startsWith('/') || to.startsWith('//') || to.includes('\\')) return '/';
  const hash = to.indexOf('#');
  const target = hash < 0 ? to : to.slice(0, hash);
  const mark = target.indexOf('?');
  const normalised = normalisePath(mark < 0 ? target : target.slice(0, mark));
  if (normalised === null) return '/';
  const targetQuery = mark < 0 ? '' : target.slice(mark + 1);
  // The normalised path is plain ASCII already; the query must be too, without spaces or controls.
  const cleanQuery = /^[\x21-\x7e]*$/.test(targetQuery) ? targetQuery : '';
  return cleanQuery === '' ? normalised.path : `${normalised.path}?${cleanQuery}`;
}
