/**
 * Reads the ClientHello from the first bytes of a connection, before the TLS layer consumes them: what
 * the client *offered* (highest version, SNI, ALPN, cipher suites, extensions), where the socket only
 * tells what was negotiated. Pure and bounded: it never throws on hostile input, never reads past the
 * bytes it is given, and answers "too large" long before a peer could make anyone buffer without end.
 */

/** Largest ClientHello message body read (RFC 8446 allows 2^24 - 1; OpenSSL caps it at 128 KiB). */
export const CLIENT_HELLO_MAX_LENGTH = 32 * 1024;
/** Most TLS records a ClientHello may be fragmented into (real clients use one, or two above 16 KiB). */
export const CLIENT_HELLO_MAX_RECORDS = 64;
/** The most bytes the reader ever needs before it answers: the largest message in the most records. */
export const CLIENT_HELLO_MAX_WIRE_BYTES = 4 + CLIENT_HELLO_MAX_LENGTH + 5 * CLIENT_HELLO_MAX_RECORDS;
/** ALPN protocol names kept (the list is bounded by the message anyway; nobody offers more than a few). */
export const CLIENT_HELLO_MAX_ALPN = 16;

const RECORD_HEADER = 5;
const RECORD_MAX_PAYLOAD = 1 << 14;
const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 1;
const SSL2_CLIENT_HELLO = 1;

export const EXT_SERVER_NAME = 0x0000;
export const EXT_SUPPORTED_GROUPS = 0x000a;
export const EXT_EC_POINT_FORMATS = 0x000b;
export const EXT_SIGNATURE_ALGORITHMS = 0x000d;
export const EXT_ALPN = 0x0010;
export const EXT_SUPPORTED_VERSIONS = 0x002b;

export const SSL_2_0 = 0x0002;
export const SSL_3_0 = 0x0300;
export const TLS_1_0 = 0x0301;
export const TLS_1_1 = 0x0302;
export const TLS_1_2 = 0x0303;
export const TLS_1_3 = 0x0304;

/** The facts of one ClientHello. Lists keep the client's order and its GREASE values (see `isGrease`). */
export interface ClientHello {
  /**
   * `'sslv2'`: an SSLv2-compatible ClientHello (two-byte record header with the high bit set), as IE 6 and
   * Java 6 send. It may offer SSLv3 or TLS 1.0 in `legacyVersion`, but has no extensions: no SNI, no ALPN,
   * and `cipherSuites` holds only its SSLv3/TLS suites (SSLv2-only cipher kinds are dropped).
   */
  format: 'tls' | 'sslv2';
  /** The record layer's version (`0x0002` for an SSLv2-compatible hello). Not an offer: clients put 0x0301 here. */
  recordVersion: number;
  /** `client_version` (TLS 1.2 and below), `legacy_version` in TLS 1.3 terms. */
  legacyVersion: number;
  /**
   * The highest version the client offers and a server could negotiate: the highest SSL/TLS version in
   * `supported_versions` when present, else `legacyVersion`. GREASE and TLS 1.3 drafts do not count.
   */
  maxVersion: number;
  /** Whether `supported_versions` names a pre-RFC TLS 1.3 draft (0x7fXX): Chrome 56-69, Firefox 52-62. */
  tls13Draft: boolean;
  /** The `host_name` in `server_name`, lower-cased; `null` when absent or not a plausible host name. */
  serverName: string | null;
  /** ALPN protocol names, as Latin-1 strings (one char per byte; escape before display), at most 16. */
  alpn: string[];
  cipherSuites: number[];
  extensions: number[];
  supportedVersions: number[];
  signatureAlgorithms: number[];
  supportedGroups: number[];
  ecPointFormats: number[];
}

export type NotTlsReason =
  /** Looks like a plain-HTTP request (an upper-case method and a space) sent to the TLS port. */
  | 'http'
  /** The first byte opens neither a handshake record nor an SSLv2-compatible hello. */
  | 'not-handshake'
  /** A handshake record whose version is not 3.x. */
  | 'record-version'
  /** A handshake record of length 0 or above 2^14. */
  | 'record-length';

/** Where a hello broke: a closed set, fit to be a metric label. */
export type MalformedReason =
  | 'not-client-hello'
  | 'interleaved-record'
  | 'record-version'
  | 'record-length'
  | 'short-hello'
  | 'session-id-length'
  | 'cipher-suites-length'
  | 'compression-length'
  | 'extensions-length'
  | 'extension-header'
  | 'extension-length'
  | 'server-name'
  | 'alpn'
  | 'supported-versions'
  | 'supported-groups'
  | 'signature-algorithms'
  | 'ec-point-formats'
  | 'cipher-specs-length'
  | 'challenge-length'
  | 'ssl2-length';

export type ClientHelloRead =
  /** Not decided yet: at least `atLeast` more bytes are needed, and never more than `atMost`. */
  | { status: 'need-more'; atLeast: number; atMost: number }
  | { status: 'not-tls'; reason: NotTlsReason }
  /** TLS framing, but not a well-formed ClientHello; `reason` names the first fault found. */
  | { status: 'malformed'; reason: MalformedReason }
  /** Over a bound: `limit` is the bound that was hit (message bytes, or records). */
  | { status: 'too-large'; reason: 'message' | 'records'; limit: number }
  /** `length`: the bytes of the connection the hello occupies (records and headers), from byte 0. */
  | { status: 'complete'; hello: ClientHello; length: number };

/** GREASE values (RFC 8701) are 0x?A?A with both bytes equal: noise a client adds to keep servers tolerant. */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

/** OpenSSL's spelling of a protocol version (`TLSv1` … `TLSv1.3`), or its hex for anything else. */
export function versionName(version: number): string {
  switch (version) {
    case SSL_2_0:
      return 'SSLv2';
    case SSL_3_0:
      return 'SSLv3';
    case TLS_1_0:
      return 'TLSv1';
    case TLS_1_1:
      return 'TLSv1.1';
    case TLS_1_2:
      return 'TLSv1.2';
    case TLS_1_3:
      return 'TLSv1.3';
    default:
      return `0x${version.toString(16).padStart(4, '0')}`;
  }
}

/**
 * Reads a ClientHello from the bytes a connection has received so far (from its first byte). Call again
 * with more bytes while it answers `need-more`; every other answer is final. Handles a hello fragmented
 * across TLS records and any TCP segmentation; never throws and never reads past `bytes`.
 */
export function readClientHello(bytes: Uint8Array): ClientHelloRead {
  if (bytes.length === 0) return needMore(1, CLIENT_HELLO_MAX_WIRE_BYTES);
  const first = bytes[0]!;
  if (first === CONTENT_HANDSHAKE) return readRecords(bytes);
  if (first & 0x80) return readSsl2(bytes);
  return { status: 'not-tls', reason: looksLikeHttp(bytes) ? 'http' : 'not-handshake' };
}

// An HTTP/1.x request line starts with a method token of upper-case letters and a space ("GET /", "PRI *").
function looksLikeHttp(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8);
  let i = 0;
  while (i < end && bytes[i]! >= 0x41 && bytes[i]! <= 0x5a) i++;
  return i > 0 && (i === bytes.length || (i < end && bytes[i] === 0x20));
}

function needMore(atLeast: number, atMost: number): ClientHelloRead {
  return { status: 'need-more', atLeast, atMost: Math.max(atLeast, atMost) };
}

function malformed(reason: MalformedReason): ClientHelloRead {
  return { status: 'malformed', reason };
}

/**
 * Walks the handshake records that carry the ClientHello. Only record headers are read until the whole
 * message is there; the record count is capped so that a peer sending tiny records cannot make each call
 * walk thousands of headers.
 */
function readRecords(bytes: Uint8Array): ClientHelloRead {
  const total = bytes.length;
  let offset = 0;
  let records = 0;
  let payload = 0; // handshake bytes seen so far, across records
  let messageEnd = -1; // 4 + body length, once the handshake header is known
  let header = 0; // the first four payload bytes (type and length), gathered across records if need be

  for (;;) {
    const available = total - offset;
    // Only reached while the message is unfinished: one more record than allowed is refused at its first byte.
    if (records === CLIENT_HELLO_MAX_RECORDS && available > 0) {
      return { status: 'too-large', reason: 'records', limit: CLIENT_HELLO_MAX_RECORDS };
    }
    const bad = offset === 0 ? checkFirstHeader(bytes) : checkNextHeader(bytes, offset);
    if (bad) return bad;
    if (available < RECORD_HEADER) {
      return needMore(RECORD_HEADER - available, remaining(payload, messageEnd, records) - available);
    }
    records++;
    const recordLength = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
    const start = offset + RECORD_HEADER;
    const got = Math.min(recordLength, total - start);

    for (let i = 0; payload + i < 4 && i < got; i++) header = header * 256 + bytes[start + i]!;
    const before = payload;
    payload += got;
    if (messageEnd < 0 && payload >= 4) {
      if (header >>> 24 !== HANDSHAKE_CLIENT_HELLO) return malformed('not-client-hello');
      const length = header & 0xffffff;
      if (length > CLIENT_HELLO_MAX_LENGTH) return { status: 'too-large', reason: 'message', limit: CLIENT_HELLO_MAX_LENGTH };
      messageEnd = 4 + length;
    }
    if (messageEnd >= 0 && payload >= messageEnd) {
      const end = start + (messageEnd - before);
      const recordVersion = (bytes[1]! << 8) | bytes[2]!;
      const parsed = records === 1 ? parseTls(bytes, start + 4, end, recordVersion) : parseFragmented(bytes, end, messageEnd, recordVersion);
      return typeof parsed === 'string' ? malformed(parsed) : { status: 'complete', hello: parsed, length: end };
    }
    if (got < recordLength) {
      const untilDecided = messageEnd >= 0 ? messageEnd - payload : 4 - payload;
      return needMore(Math.min(recordLength - got, untilDecided), remaining(payload, messageEnd, records));
    }
    offset = start + recordLength;
  }
}

// Upper bound on further bytes: the rest of the message, plus a header for every record still allowed.
function remaining(payload: number, messageEnd: number, records: number): number {
  const rest = (messageEnd >= 0 ? messageEnd : 4 + CLIENT_HELLO_MAX_LENGTH) - payload;
  return rest + RECORD_HEADER * (CLIENT_HELLO_MAX_RECORDS - records);
}

// The first record decides "TLS or not": judged on as many of its header bytes as have arrived.
function checkFirstHeader(bytes: Uint8Array): ClientHelloRead | null {
  if (bytes.length > 1 && bytes[1] !== 3) return { status: 'not-tls', reason: 'record-version' };
  if (bytes.length >= RECORD_HEADER) {
    const length = (bytes[3]! << 8) | bytes[4]!;
    if (length === 0 || length > RECORD_MAX_PAYLOAD) return { status: 'not-tls', reason: 'record-length' };
  }
  return null;
}

// Once a hello has begun, a bad record after it is a broken hello, not another protocol.
function checkNextHeader(bytes: Uint8Array, offset: number): ClientHelloRead | null {
  const available = bytes.length - offset;
  if (available > 0 && bytes[offset] !== CONTENT_HANDSHAKE) return malformed('interleaved-record');
  if (available > 1 && bytes[offset + 1] !== 3) return malformed('record-version');
  if (available >= RECORD_HEADER) {
    const length = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
    if (length === 0 || length > RECORD_MAX_PAYLOAD) return malformed('record-length');
  }
  return null;
}

// A hello spread over several records: copy its payload out once, then parse it as if it had come whole.
function parseFragmented(bytes: Uint8Array, end: number, messageEnd: number, recordVersion: number): ClientHello | MalformedReason {
  const message = new Uint8Array(messageEnd);
  let offset = 0;
  let filled = 0;
  while (filled < messageEnd) {
    const length = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
    const start = offset + RECORD_HEADER;
    const take = Math.min(length, messageEnd - filled, end - start);
    message.set(bytes.subarray(start, start + take), filled);
    filled += take;
    offset = start + length;
  }
  return parseTls(message, 4, messageEnd, recordVersion);
}

function emptyHello(format: ClientHello['format'], recordVersion: number, legacyVersion: number): ClientHello {
  return {
    format,
    recordVersion,
    legacyVersion,
    maxVersion: legacyVersion,
    tls13Draft: false,
    serverName: null,
    alpn: [],
    cipherSuites: [],
    extensions: [],
    supportedVersions: [],
    signatureAlgorithms: [],
    supportedGroups: [],
    ecPointFormats: [],
  };
}

/** Parses a ClientHello body `bytes[start, end)`; returns the fault as a string when it is malformed. */
function parseTls(bytes: Uint8Array, start: number, end: number, recordVersion: number): ClientHello | MalformedReason {
  let p = start;
  if (end - p < 2 + 32 + 1) return 'short-hello';
  const hello = emptyHello('tls', recordVersion, (bytes[p]! << 8) | bytes[p + 1]!);
  p += 2 + 32;

  const sessionId = bytes[p]!;
  if (sessionId > 32) return 'session-id-length';
  p += 1 + sessionId;

  if (end - p < 2) return 'short-hello';
  const suites = (bytes[p]! << 8) | bytes[p + 1]!;
  p += 2;
  if (suites & 1 || end - p < suites) return 'cipher-suites-length';
  hello.cipherSuites = readU16List(bytes, p, suites);
  p += suites;

  if (end - p < 1) return 'short-hello';
  const compression = bytes[p]!;
  p += 1;
  if (end - p < compression) return 'compression-length';
  p += compression;

  // SSLv3-era clients may stop here: no extensions at all.
  if (p === end) return hello;
  if (end - p < 2) return 'extensions-length';
  const extensionsLength = (bytes[p]! << 8) | bytes[p + 1]!;
  p += 2;
  if (extensionsLength !== end - p) return 'extensions-length';

  const extensions: number[] = [];
  while (p < end) {
    if (end - p < 4) return 'extension-header';
    const type = (bytes[p]! << 8) | bytes[p + 1]!;
    const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    p += 4;
    if (end - p < length) return 'extension-length';
    extensions.push(type);
    const fault = readExtension(hello, type, bytes, p, p + length);
    if (fault) return fault;
    p += length;
  }
  hello.extensions = extensions;
  hello.maxVersion = highestVersion(hello);
  return hello;
}

// Only the first occurrence of an extension sets a fact; a duplicate is still listed in `extensions`.
function readExtension(hello: ClientHello, type: number, bytes: Uint8Array, start: number, end: number): MalformedReason | null {
  switch (type) {
    case EXT_SERVER_NAME:
      return hello.serverName === null ? readServerName(hello, bytes, start, end) : null;
    case EXT_ALPN:
      return hello.alpn.length === 0 ? readAlpn(hello, bytes, start, end) : null;
    case EXT_SUPPORTED_VERSIONS: {
      const length = bytes[start];
      if (length === undefined || length & 1 || length !== end - start - 1) return 'supported-versions';
      if (hello.supportedVersions.length === 0) hello.supportedVersions = readU16List(bytes, start + 1, length);
      return null;
    }
    case EXT_SIGNATURE_ALGORITHMS:
    case EXT_SUPPORTED_GROUPS: {
      const length = end - start >= 2 ? (bytes[start]! << 8) | bytes[start + 1]! : -1;
      if (length < 0 || length & 1 || length !== end - start - 2) return type === EXT_SUPPORTED_GROUPS ? 'supported-groups' : 'signature-algorithms';
      const list = readU16List(bytes, start + 2, length);
      if (type === EXT_SUPPORTED_GROUPS) {
        if (hello.supportedGroups.length === 0) hello.supportedGroups = list;
      } else if (hello.signatureAlgorithms.length === 0) {
        hello.signatureAlgorithms = list;
      }
      return null;
    }
    case EXT_EC_POINT_FORMATS: {
      const length = bytes[start];
      if (length === undefined || length !== end - start - 1) return 'ec-point-formats';
      if (hello.ecPointFormats.length === 0) hello.ecPointFormats = Array.from(bytes.subarray(start + 1, end));
      return null;
    }
    default:
      return null;
  }
}

function readServerName(hello: ClientHello, bytes: Uint8Array, start: number, end: number): MalformedReason | null {
  // An empty server_name extension is what servers send back; a client may echo it on resumption.
  if (start === end) return null;
  if (end - start < 2 || ((bytes[start]! << 8) | bytes[start + 1]!) !== end - start - 2) return 'server-name';
  let p = start + 2;
  while (p < end) {
    if (end - p < 3) return 'server-name';
    const nameType = bytes[p]!;
    const length = (bytes[p + 1]! << 8) | bytes[p + 2]!;
    p += 3;
    if (end - p < length) return 'server-name';
    if (nameType === 0 && hello.serverName === null) hello.serverName = hostName(bytes, p, p + length);
    p += length;
  }
  return null;
}

// Only letters, digits, '-', '_' and '.', at most 253 bytes: anything else is kept out of reports entirely.
function hostName(bytes: Uint8Array, start: number, end: number): string | null {
  if (end === start || end - start > 253) return null;
  let name = '';
  for (let i = start; i < end; i++) {
    let c = bytes[i]!;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f)) return null;
    name += String.fromCharCode(c);
  }
  return name;
}

function readAlpn(hello: ClientHello, bytes: Uint8Array, start: number, end: number): MalformedReason | null {
  if (end - start < 2 || ((bytes[start]! << 8) | bytes[start + 1]!) !== end - start - 2) return 'alpn';
  const names: string[] = [];
  let p = start + 2;
  while (p < end) {
    const length = bytes[p]!;
    p += 1;
    if (end - p < length) return 'alpn';
    if (names.length < CLIENT_HELLO_MAX_ALPN) names.push(latin1(bytes, p, p + length));
    p += length;
  }
  hello.alpn = names;
  return null;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

function readU16List(bytes: Uint8Array, start: number, length: number): number[] {
  const list = new Array<number>(length >> 1);
  for (let i = 0; i < list.length; i++) list[i] = (bytes[start + 2 * i]! << 8) | bytes[start + 2 * i + 1]!;
  return list;
}

function highestVersion(hello: ClientHello): number {
  let highest = -1;
  for (const version of hello.supportedVersions) {
    if (version >> 8 === 0x7f) hello.tls13Draft = true;
    else if (version >> 8 === 3 && version > highest) highest = version;
  }
  return highest < 0 ? hello.legacyVersion : highest;
}

/**
 * An SSLv2-compatible ClientHello (RFC 5246 appendix E.2): a two-byte header with the high bit set, then
 * msg_type 1, the version offered, the three list lengths, and 3-byte cipher specs.
 */
function readSsl2(bytes: Uint8Array): ClientHelloRead {
  const total = bytes.length;
  if (total >= 3 && bytes[2] !== SSL2_CLIENT_HELLO) return { status: 'not-tls', reason: 'not-handshake' };
  if (total >= 4 && bytes[3] !== 0 && bytes[3] !== 3) return { status: 'not-tls', reason: 'record-version' };
  if (total < 2) return needMore(2 - total, 2 + 0x7fff - total);
  const length = ((bytes[0]! & 0x7f) << 8) | bytes[1]!;
  if (length > CLIENT_HELLO_MAX_LENGTH) return { status: 'too-large', reason: 'message', limit: CLIENT_HELLO_MAX_LENGTH };
  const end = 2 + length;
  if (total < end) return needMore(end - total, end - total);

  if (length < 9) return malformed('short-hello');
  const version = (bytes[3]! << 8) | bytes[4]!;
  const specs = (bytes[5]! << 8) | bytes[6]!;
  const sessionId = (bytes[7]! << 8) | bytes[8]!;
  const challenge = (bytes[9]! << 8) | bytes[10]!;
  if (specs === 0 || specs % 3 !== 0) return malformed('cipher-specs-length');
  if (sessionId > 32) return malformed('session-id-length');
  if (challenge < 16 || challenge > 32) return malformed('challenge-length');
  if (11 + specs + sessionId + challenge !== end) return malformed('ssl2-length');

  const hello = emptyHello('sslv2', SSL_2_0, version);
  for (let p = 11; p < 11 + specs; p += 3) {
    // A spec with a zero first byte is an SSLv3/TLS suite; the others exist only in SSLv2.
    if (bytes[p] === 0) hello.cipherSuites.push((bytes[p + 1]! << 8) | bytes[p + 2]!);
  }
  return { status: 'complete', hello, length: end };
}

/**
 * Collects a connection's first bytes chunk by chunk and reads the ClientHello from them. A hello that
 * arrives in one chunk is parsed in place; otherwise the chunks are copied into one growing buffer
 * (amortised, capped at `CLIENT_HELLO_MAX_WIRE_BYTES`), so a peer dribbling one byte per segment costs
 * linear work. The caller keeps its own chunks to hand on to TLS.
 */
export class ClientHelloReader {
  #buffer: Uint8Array | null = null;
  #length = 0;
  #result: ClientHelloRead | null = null;

  /** The answer so far; `need-more` until the bytes decide. */
  get result(): ClientHelloRead {
    return this.#result ?? needMore(1, CLIENT_HELLO_MAX_WIRE_BYTES);
  }

  /** Bytes copied into the reader's own buffer (none when the first chunk decided); at most the wire bound. */
  get buffered(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): ClientHelloRead {
    if (this.#result && this.#result.status !== 'need-more') return this.#result;
    if (chunk.length === 0) return this.result;
    if (this.#buffer === null) {
      const read = readClientHello(chunk);
      if (read.status !== 'need-more') return (this.#result = read);
    }
    this.#append(chunk);
    return (this.#result = readClientHello(this.#buffer!.subarray(0, this.#length)));
  }

  #append(chunk: Uint8Array): void {
    const take = Math.min(chunk.length, CLIENT_HELLO_MAX_WIRE_BYTES - this.#length);
    if (take <= 0) return;
    const needed = this.#length + take;
    if (!this.#buffer || this.#buffer.length < needed) {
      const grown = new Uint8Array(Math.min(CLIENT_HELLO_MAX_WIRE_BYTES, Math.max(needed, 2 * (this.#buffer?.length ?? 0), 1024)));
      if (this.#buffer) grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(chunk.subarray(0, take), this.#length);
    this.#length = needed;
  }
}
