/**
 * Undoing the escapes servers apply to logged values. Each function returns its input unchanged (the
 * same string) when there is nothing to undo, so the common case costs one indexOf. Escaped bytes are
 * gathered and decoded as UTF-8, which is what the escaped bytes were; malformed escapes stay as text.
 */

/**
 * Backslash escapes: nginx's default `\xHH` (it escapes `"`, `\` and bytes outside printable ASCII),
 * Apache's `\"`, `\\`, `\n`, `\t`… and `\xhh`, and nginx `escape=json`'s `\uXXXX`. One decoder serves all
 * three because none writes a sequence another gives a different meaning.
 */
export function decodeBackslashEscapes(value: string): string {
  let at = value.indexOf('\\');
  if (at === -1) return value;
  let out = '';
  let from = 0;
  let bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length > 0) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
  };
  while (at !== -1) {
    const next = value.charCodeAt(at + 1);
    let consumed = 0;
    let text: string | null = null;
    if ((next === 120 || next === 88) && isHex(value, at + 2, 2)) {
      // \xHH
      if (at > from) {
        flushBytes();
        out += value.slice(from, at);
      }
      bytes.push(Number.parseInt(value.slice(at + 2, at + 4), 16));
      from = at + 4;
      at = value.indexOf('\\', from);
      continue;
    }
    if (next === 117 && isHex(value, at + 2, 4)) {
      text = String.fromCharCode(Number.parseInt(value.slice(at + 2, at + 6), 16));
      consumed = 6;
    } else {
      const simple = SIMPLE_ESCAPES.get(next);
      if (simple !== undefined) {
        text = simple;
        consumed = 2;
      }
    }
    if (text === null) {
      at = value.indexOf('\\', at + 1);
      continue;
    }
    flushBytes();
    out += value.slice(from, at) + text;
    from = at + consumed;
    at = value.indexOf('\\', from);
  }
  if (from < value.length) {
    flushBytes();
    out += value.slice(from);
  }
  flushBytes();
  return out;
}

const SIMPLE_ESCAPES: ReadonlyMap<number, string> = new Map([
  [34, '"'],
  [92, '\\'],
  [47, '/'],
  [110, '\n'],
  [114, '\r'],
  [116, '\t'],
  [98, '\b'],
  [102, '\f'],
  [118, '\v'],
]);

/** `%XX` (CloudFront's URL-encoded fields) or `#XX` (HAProxy's captured headers and request line). */
export function decodeByteEscapes(value: string, marker: '%' | '#'): string {
  let at = value.indexOf(marker);
  if (at === -1) return value;
  let out = '';
  let from = 0;
  while (at !== -1) {
    if (!isHex(value, at + 1, 2)) {
      at = value.indexOf(marker, at + 1);
      continue;
    }
    out += value.slice(from, at);
    const bytes: number[] = [];
    while (value.charCodeAt(at) === marker.charCodeAt(0) && isHex(value, at + 1, 2)) {
      bytes.push(Number.parseInt(value.slice(at + 1, at + 3), 16));
      at += 3;
    }
    out += Buffer.from(bytes).toString('utf8');
    from = at;
    at = value.indexOf(marker, from);
  }
  return out + value.slice(from);
}

function isHex(value: string, at: number, count: number): boolean {
  if (at + count > value.length) return false;
  for (let i = at; i < at + count; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
