/** Path and query string of a request target (`req.url`), without parsing it into a URL object. */
export function splitTarget(target: string | undefined): { path: string; query: string } {
  const url = target ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}
