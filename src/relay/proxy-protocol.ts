/**
 * The PROXY protocol (HAProxy's spec, versions 1 and 2): the header a TCP router puts in front of a
 * connection to say whose it is. `readProxyHeader` is a pure, incremental and bounded reader for the
 * receiving side; `encodeProxyV2` (and `encodeProxyV1`) build the header for the sending side.
 *
 * Spec: https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt (also in Debian's haproxy package,
 * /usr/share/doc/haproxy/proxy-protocol.txt.gz).
 */
import { formatIPv4, formatIPv6, isV4Mapped, parseIPv4, parseIPv6, type IpFamily } from './ip.js';

/** The v2 signature: chosen by the spec to make HTTP, TLS, SMTP and others fail at once. */
export const PROXY_V2_SIGNATURE: Readonly<Uint8Array> = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
const V1_PREFIX = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, 0x20); // "PROXY "
/** Longest v1 line, CRLF included (spec section 2.1: "PROXY UNKNOWN" with two full IPv6 addresses). */
export const PROXY_V1_MAX_LENGTH = 107;
const V2_FIXED = 16;
/** The largest v2 header the spec allows (16 bytes and a 16-bit length). */
export const PROXY_V2_MAX_LENGTH = V2_FIXED + 0xffff;
/**
 * Default bound on a v2 header, TLVs included. Routers send 28 or 52 bytes plus a few TLVs (AWS's VPC
 * endpoint id, an ALPN, a unique id of up to 128 bytes): 4 KiB is far above any of them.
 */
export const PROXY_HEADER_DEFAULT_MAX = 4096;

export interface ProxyAddress {
  address: string;
  port: number;
  family: IpFamily;
}

export type ProxyHeader =
  /** A relayed TCP connection: `source` is the client. */
  | { version: 1 | 2; command: 'proxy'; source: ProxyAddress; destination: ProxyAddress }
  /**
   * v2 LOCAL (the router's own connection, e.g. a health check): use the socket's own endpoints.
   */
  | { version: 2; command: 'local' }
  /**
   * v1 `UNKNOWN`, or v2 PROXY over a family or transport this reader does not map (AF_UNSPEC, AF_UNIX,
   * UDP): the spec says to use the socket's own endpoints.
   */
  | { version: 1 | 2; command: 'unknown' };

/** Why a header was refused: a closed set, fit to be a metric label. */
export type ProxyRefusal =
  /** The first bytes are neither `PROXY ` nor the v2 signature (the sender does not speak the protocol). */
  | 'not-proxy'
  /** No CRLF within the 107 bytes a v1 line may take. */
  | 'v1-too-long'
  /** A lone CR or LF, or a v1 line that does not have exactly the six fields. */
  | 'v1-syntax'
  /** A v1 protocol other than TCP4, TCP6 and UNKNOWN. */
  | 'v1-protocol'
  /** A v1 address that is not canonical for its protocol (leading zeros, wrong family, zone id…). */
  | 'v1-address'
  /** A v1 port that is not 0-65535 in decimal without leading zeros. */
  | 'v1-port'
  /** v2 version nibble other than 2. */
  | 'v2-version'
  /** v2 command other than LOCAL (0) or PROXY (1). */
  | 'v2-command'
  /** v2 family or transport outside the spec's list. */
  | 'v2-family'
  /** v2 length shorter than the addresses its family needs. */
  | 'v2-address-length'
  /** v2 length above the configured bound. */
  | 'v2-too-long'
  /** A TLV that runs past the end of the header. */
  | 'v2-tlv';

export type ProxyHeaderRead =
  /** Not decided yet: at least `atLeast` more bytes are needed. */
  | { status: 'need-more'; atLeast: number }
  /** `length`: the header's bytes, from byte 0; what follows belongs to the proxied connection. */
  | { status: 'complete'; header: ProxyHeader; length: number }
  | { status: 'refused'; reason: ProxyRefusal };

/**
 * Reads a PROXY header (v1 or v2) from the bytes a connection has received so far, from its first byte.
 * Call again with more bytes while it answers `need-more`; every other answer is final. Refuses as soon as
 * the bytes seen allow it (a wrong first byte is refused at once), never throws and never reads past
 * `bytes` or past `maxLength` (the bound on a v2 header; v1 lines are bounded by the spec).
 */
export function readProxyHeader(bytes: Uint8Array, maxLength = PROXY_HEADER_DEFAULT_MAX): ProxyHeaderRead {
  if (bytes.length === 0) return { status: 'need-more', atLeast: 1 };
  if (bytes[0] === 0x50) return readV1(bytes);
  if (bytes[0] === 0x0d) return readV2(bytes, maxLength);
  return refused('not-proxy');
}

function refused(reason: ProxyRefusal): ProxyHeaderRead {
  return { status: 'refused', reason };
}

function prefixMatches(bytes: Uint8Array, prefix: Readonly<Uint8Array>): boolean {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Version 1: "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"

function readV1(bytes: Uint8Array): ProxyHeaderRead {
  if (!prefixMatches(bytes, V1_PREFIX)) return refused('not-proxy');
  const scan = Math.min(bytes.length, PROXY_V1_MAX_LENGTH);
  for (let i = V1_PREFIX.length; i < scan; i++) {
    const c = bytes[i]!;
    if (c === 0x0a) return refused('v1-syntax'); // LF without CR
    if (c !== 0x0d) continue;
    if (i + 2 > PROXY_V1_MAX_LENGTH) return refused('v1-too-long'); // its LF would be byte 108
    if (i + 1 === bytes.length) return { status: 'need-more', atLeast: 1 };
    if (bytes[i + 1] !== 0x0a) return refused('v1-syntax'); // CR without LF
    return parseV1Line(bytes, i);
  }
  if (bytes.length >= PROXY_V1_MAX_LENGTH) return refused('v1-too-long');
  return { status: 'need-more', atLeast: 1 };
}

// `end` is the index of the CR.
function parseV1Line(bytes: Uint8Array, end: number): ProxyHeaderRead {
  const length = end + 2;
  const line = ascii(bytes, V1_PREFIX.length, end);
  if (line === null) return refused('v1-syntax');
  // UNKNOWN: "the receiver must ignore anything presented before the CRLF".
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) return { status: 'complete', header: { version: 1, command: 'unknown' }, length };
  const fields = line.split(' ');
  if (fields.length !== 5) return refused(fields[0] === 'TCP4' || fields[0] === 'TCP6' ? 'v1-syntax' : 'v1-protocol');
  const [protocol, sourceText, destinationText, sourcePort, destinationPort] = fields as [string, string, string, string, string];
  let family: IpFamily;
  if (protocol === 'TCP4') family = 'IPv4';
  else if (protocol === 'TCP6') family = 'IPv6';
  else return refused('v1-protocol');
  const source = canonicalAddress(sourceText, family);
  // nginx writes its own address in its own family even when realip gave the source another one
  // ("PROXY TCP6 2001:db8::7 127.0.0.1 …"): the source must match, the destination may be either.
  const other: IpFamily = family === 'IPv4' ? 'IPv6' : 'IPv4';
  let destinationFamily = family;
  let destination = canonicalAddress(destinationText, family);
  if (destination === null) {
    destination = canonicalAddress(destinationText, other);
    destinationFamily = other;
  }
  if (source === null || destination === null) return refused('v1-address');
  const sport = parsePort(sourcePort);
  const dport = parsePort(destinationPort);
  if (sport < 0 || dport < 0) return refused('v1-port');
  return {
    status: 'complete',
    header: {
      version: 1,
      command: 'proxy',
      source: { address: source, port: sport, family },
      destination: { address: destination, port: dport, family: destinationFamily },
    },
    length,
  };
}

// Printable US-ASCII only: a control or 8-bit byte in the line is not a PROXY header.
function ascii(bytes: Uint8Array, start: number, end: number): string | null {
  let text = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c < 0x20 || c > 0x7e) return null;
    text += String.fromCharCode(c);
  }
  return text;
}

/** The address in Node's own spelling (so it compares equal to `socket.remoteAddress`), or null. */
function canonicalAddress(text: string, family: IpFamily): string | null {
  if (family === 'IPv4') return parseIPv4(text) === null ? null : text;
  const bytes = parseIPv6(text);
  return bytes === null ? null : formatIPv6(bytes);
}

function parsePort(text: string): number {
  if (text.length === 0 || text.length > 5) return -1;
  if (text.length > 1 && text.charCodeAt(0) === 0x30) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value > 0xffff ? -1 : value;
}

// ---------------------------------------------------------------------------------------------------
// Version 2: signature, ver_cmd, fam, len (16 bytes), addresses, TLVs

const COMMAND_LOCAL = 0x0;
const COMMAND_PROXY = 0x1;
const FAMILY_TCP4 = 0x11;
const FAMILY_TCP6 = 0x21;
/** Address block length each family byte needs (spec section 2.2); families absent here are refused. */
const ADDRESS_LENGTH = new Map<number, number>([
  [0x00, 0], // UNSPEC
  [0x11, 12], // TCP over IPv4
  [0x12, 12], // UDP over IPv4
  [0x21, 36], // TCP over IPv6
  [0x22, 36], // UDP over IPv6
  [0x31, 216], // UNIX stream
  [0x32, 216], // UNIX datagram
]);

function readV2(bytes: Uint8Array, maxLength: number): ProxyHeaderRead {
  if (!prefixMatches(bytes, PROXY_V2_SIGNATURE)) return refused('not-proxy');
  if (bytes.length > 12 && bytes[12]! >> 4 !== 2) return refused('v2-version');
  if (bytes.length > 12 && (bytes[12]! & 0x0f) > COMMAND_PROXY) return refused('v2-command');
  if (bytes.length > 13 && !ADDRESS_LENGTH.has(bytes[13]!)) return refused('v2-family');
  if (bytes.length < V2_FIXED) return { status: 'need-more', atLeast: V2_FIXED - bytes.length };

  const command = bytes[12]! & 0x0f;
  const family = bytes[13]!;
  const length = V2_FIXED + ((bytes[14]! << 8) | bytes[15]!);
  if (length > Math.min(maxLength, PROXY_V2_MAX_LENGTH)) return refused('v2-too-long');
  // The family's addresses must fit, even under LOCAL, whose addresses are then skipped.
  const addressLength = ADDRESS_LENGTH.get(family)!;
  if (length - V2_FIXED < addressLength) return refused('v2-address-length');
  if (bytes.length < length) return { status: 'need-more', atLeast: length - bytes.length };
  // Under AF_UNSPEC the spec lets "address information" be present in no set layout: nothing to check.
  if (family !== 0x00 && !tlvsFit(bytes, V2_FIXED + addressLength, length)) return refused('v2-tlv');

  if (command === COMMAND_LOCAL) return { status: 'complete', header: { version: 2, command: 'local' }, length };
  if (family === FAMILY_TCP4) {
    const p = V2_FIXED;
    return {
      status: 'complete',
      header: {
        version: 2,
        command: 'proxy',
        source: { address: formatIPv4(bytes, p), port: u16(bytes, p + 8), family: 'IPv4' },
        destination: { address: formatIPv4(bytes, p + 4), port: u16(bytes, p + 10), family: 'IPv4' },
      },
      length,
    };
  }
  if (family === FAMILY_TCP6) {
    const p = V2_FIXED;
    return {
      status: 'complete',
      header: {
        version: 2,
        command: 'proxy',
        source: { address: formatIPv6(bytes, p), port: u16(bytes, p + 32), family: 'IPv6' },
        destination: { address: formatIPv6(bytes, p + 16), port: u16(bytes, p + 34), family: 'IPv6' },
      },
      length,
    };
  }
  return { status: 'complete', header: { version: 2, command: 'unknown' }, length };
}

function u16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

// TLVs are skipped, but their framing must hold: type (1), length (2), value, exactly up to the end.
function tlvsFit(bytes: Uint8Array, start: number, end: number): boolean {
  let p = start;
  while (p < end) {
    if (end - p < 3) return false;
    p += 3 + u16(bytes, p + 1);
  }
  return p === end;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/** One endpoint of a connection, as Node reports it (`socket.remoteAddress`, `socket.remotePort`). */
export interface Endpoint {
  address: string;
  port: number;
}

/**
 * A v2 PROXY header for a TCP connection from `source` to `destination`. Two IPv4 addresses (or
 * IPv4-mapped IPv6 ones, as a dual-stack listener reports IPv4 clients) give TCP4, 28 bytes; anything
 * else TCP6, 52 bytes, with an IPv4 address written as IPv4-mapped. Returns null when an address is not
 * an IP address or a port is out of range: the caller then sends `encodeProxyV2Local()` or nothing.
 */
export function encodeProxyV2(source: Endpoint, destination: Endpoint): Buffer | null {
  if (!validPort(source.port) || !validPort(destination.port)) return null;
  const src = addressBytes(source.address);
  const dst = addressBytes(destination.address);
  if (src === null || dst === null) return null;
  const v4 = src.length === 4 || isV4Mapped(src);
  const bothV4 = v4 && (dst.length === 4 || isV4Mapped(dst));
  const addresses = bothV4 ? 12 : 36;
  const header = Buffer.allocUnsafe(V2_FIXED + addresses);
  header.set(PROXY_V2_SIGNATURE, 0);
  header[12] = 0x20 | COMMAND_PROXY;
  header[13] = bothV4 ? FAMILY_TCP4 : FAMILY_TCP6;
  header.writeUInt16BE(addresses, 14);
  if (bothV4) {
    header.set(src.length === 4 ? src : src.subarray(12), 16);
    header.set(dst.length === 4 ? dst : dst.subarray(12), 20);
    header.writeUInt16BE(source.port, 24);
    header.writeUInt16BE(destination.port, 26);
  } else {
    header.set(asIPv6(src), 16);
    header.set(asIPv6(dst), 32);
    header.writeUInt16BE(source.port, 48);
    header.writeUInt16BE(destination.port, 50);
  }
  return header;
}

/** A v2 LOCAL header (no addresses): what to send when the client's address is not known. */
export function encodeProxyV2Local(): Buffer {
  const header = Buffer.alloc(V2_FIXED);
  header.set(PROXY_V2_SIGNATURE, 0);
  header[12] = 0x20 | COMMAND_LOCAL;
  return header;
}

/** A v1 line (`PROXY TCP4 …\r\n`), for receivers that only read v1; null on a bad address or port. */
export function encodeProxyV1(source: Endpoint, destination: Endpoint): Buffer | null {
  if (!validPort(source.port) || !validPort(destination.port)) return null;
  const src = addressBytes(source.address);
  const dst = addressBytes(destination.address);
  if (src === null || dst === null) return null;
  const bothV4 = (src.length === 4 || isV4Mapped(src)) && (dst.length === 4 || isV4Mapped(dst));
  const text = (bytes: Uint8Array) => (bothV4 ? formatIPv4(bytes, bytes.length - 4) : formatIPv6(asIPv6(bytes)));
  return Buffer.from(`PROXY ${bothV4 ? 'TCP4' : 'TCP6'} ${text(src)} ${text(dst)} ${source.port} ${destination.port}\r\n`, 'latin1');
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 0xffff;
}

function addressBytes(address: string): Uint8Array | null {
  return parseIPv4(address) ?? parseIPv6(address);
}

function asIPv6(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 16) return bytes;
  const mapped = new Uint8Array(16);
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  mapped.set(bytes, 12);
  return mapped;
}

// ---------------------------------------------------------------------------------------------------
// Incremental reading from a socket's chunks

/**
 * Collects a connection's first chunks and reads the PROXY header from them: one chunk (the usual case:
 * routers send the header at once, often with the first bytes of the connection) is read in place;
 * otherwise chunks are copied into one buffer that never grows past the bound. `rest()` then gives the
 * bytes after the header, which belong to the proxied connection.
 */
export class ProxyHeaderReader {
  readonly #maxLength: number;
  #buffer: Uint8Array | null = null;
  #length = 0;
  #single: Uint8Array | null = null;
  /** The chunks copied so far, kept whole so that `rest()` can hand on what follows the header. */
  #chunks: Uint8Array[] = [];
  #result: ProxyHeaderRead = { status: 'need-more', atLeast: 1 };

  constructor(maxLength = PROXY_HEADER_DEFAULT_MAX) {
    this.#maxLength = maxLength;
  }

  get result(): ProxyHeaderRead {
    return this.#result;
  }

  push(chunk: Uint8Array): ProxyHeaderRead {
    if (this.#result.status !== 'need-more' || chunk.length === 0) return this.#result;
    if (this.#buffer === null && this.#single === null) {
      const read = readProxyHeader(chunk, this.#maxLength);
      if (read.status !== 'need-more') {
        this.#single = chunk;
        return (this.#result = read);
      }
    }
    // A v2 header is at most maxLength bytes and a v1 line 107: nothing past that is ever needed.
    const bound = Math.max(this.#maxLength, PROXY_V1_MAX_LENGTH);
    const take = Math.min(chunk.length, bound - this.#length);
    if (this.#buffer === null) this.#buffer = new Uint8Array(Math.min(bound, Math.max(256, take)));
    if (this.#buffer.length < this.#length + take) {
      const grown = new Uint8Array(Math.min(bound, Math.max(this.#length + take, this.#buffer.length * 2)));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(chunk.subarray(0, take), this.#length);
    this.#length += take;
    this.#chunks.push(chunk);
    return (this.#result = readProxyHeader(this.#buffer.subarray(0, this.#length), this.#maxLength));
  }

  /** The bytes received after a complete header (empty otherwise), as one Buffer. */
  rest(): Buffer {
    if (this.#result.status !== 'complete') return Buffer.alloc(0);
    const { length } = this.#result;
    if (this.#single) return Buffer.from(this.#single.buffer, this.#single.byteOffset + length, this.#single.length - length);
    return Buffer.concat(this.#chunks).subarray(length);
  }
}
