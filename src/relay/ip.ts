/**
 * IP addresses as text and as bytes, strictly: the PROXY protocol carries them in both forms, and a
 * header is a claim about who the client is, so anything loose (leading zeros, zone ids, short forms
 * like `127.1`) is refused rather than guessed at.
 */

export type IpFamily = 'IPv4' | 'IPv6';

/** `a.b.c.d`, each part 0-255 in decimal without leading zeros; `null` for anything else. */
export function parseIPv4(text: string): Uint8Array | null {
  const bytes = new Uint8Array(4);
  return parseIPv4Into(text, 0, text.length, bytes, 0) ? bytes : null;
}

function parseIPv4Into(text: string, start: number, end: number, out: Uint8Array, offset: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // a leading zero: octal to some parsers
      value = value * 10 + (c - 0x30);
      if (value > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  return part === 4;
}

/**
 * An IPv6 address in any RFC 4291 text form (groups of 1-4 hex digits, one `::`, an optional dotted
 * IPv4 tail), as 16 bytes; `null` for anything else, zone ids (`%eth0`) included.
 */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const bytes = new Uint8Array(16);
  const groups: number[] = [];
  let gap = -1; // index in `groups` where `::` stands
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
    if (i === text.length) return bytes;
  } else if (text.charCodeAt(0) === 0x3a) {
    return null;
  }
  let tail: Uint8Array | null = null;
  while (i < text.length) {
    let j = i;
    let value = 0;
    while (j < text.length && j - i < 5) {
      const digit = hexDigit(text.charCodeAt(j));
      if (digit < 0) break;
      value = value * 16 + digit;
      j++;
    }
    if (j < text.length && text.charCodeAt(j) === 0x2e) {
      // The dotted tail: the last 32 bits, written as IPv4.
      tail = new Uint8Array(4);
      if (!parseIPv4Into(text, i, text.length, tail, 0)) return null;
      i = text.length;
      break;
    }
    if (j === i || j - i > 4) return null;
    groups.push(value);
    i = j;
    if (i === text.length) break;
    if (text.charCodeAt(i) !== 0x3a) return null;
    i++;
    if (i < text.length && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return null;
      gap = groups.length;
      i++;
      if (i === text.length) break;
    } else if (i === text.length) {
      return null; // a trailing single colon
    }
  }
  const total = groups.length + (tail ? 2 : 0);
  if (gap < 0 ? total !== 8 : total > 7) return null;
  const head = gap < 0 ? groups.length : gap;
  for (let g = 0; g < head; g++) writeGroup(bytes, g, groups[g]!);
  const after = groups.length - head;
  const firstAfter = 8 - (tail ? 2 : 0) - after;
  for (let g = 0; g < after; g++) writeGroup(bytes, firstAfter + g, groups[head + g]!);
  if (tail) bytes.set(tail, 12);
  return bytes;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function writeGroup(bytes: Uint8Array, group: number, value: number): void {
  bytes[2 * group] = value >> 8;
  bytes[2 * group + 1] = value & 0xff;
}

export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * The text form Node reports in `socket.remoteAddress` (inet_ntop's): RFC 5952 (lower case, longest run
 * of two or more zero groups as `::`, the first on a tie) and IPv4-mapped addresses as `::ffff:a.b.c.d`.
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  if (isV4Mapped(bytes, offset)) return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let g = 0; g < 8; ) {
    if (group(bytes, offset, g) !== 0) {
      g++;
      continue;
    }
    let end = g;
    while (end < 8 && group(bytes, offset, end) === 0) end++;
    if (end - g > bestLength) [bestStart, bestLength] = [g, end - g];
    g = end;
  }
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += g === 0 ? '::' : ':';
      g += bestLength - 1;
      continue;
    }
    text += group(bytes, offset, g).toString(16);
    if (g < 7) text += ':';
  }
  return text;
}

function group(bytes: Uint8Array, offset: number, g: number): number {
  return (bytes[offset + 2 * g]! << 8) | bytes[offset + 2 * g + 1]!;
}

/** `::ffff:a.b.c.d`: an IPv4 client as a dual-stack (`::`) listener sees it. */
export function isV4Mapped(bytes: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < 10; i++) if (bytes[offset + i] !== 0) return false;
  return bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff;
}
