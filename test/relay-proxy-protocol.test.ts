/**
 * The PROXY protocol reader and encoder against HAProxy's spec (proxy-protocol.txt, 2020/03/05): its
 * examples and limits, every truncation, hostile lengths and garbage, and the address forms Node uses.
 */
import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv6, parseIPv4, parseIPv6 } from '../src/relay/ip.js';
import {
  encodeProxyV1,
  encodeProxyV2,
  encodeProxyV2Local,
  PROXY_HEADER_DEFAULT_MAX,
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
  ProxyHeaderReader,
  readProxyHeader,
  type ProxyHeaderRead,
} from '../src/relay/proxy-protocol.js';
import { closeServer, listenOn } from './helpers/servers.js';

const ascii = (text: string) => Buffer.from(text, 'latin1');
const concat = (...parts: (Uint8Array | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));

/** A v2 header from its parts: version/command byte, family byte, then the body (addresses and TLVs). */
function v2(verCmd: number, family: number, body: Uint8Array | number[], length = body.length): Buffer {
  return concat(PROXY_V2_SIGNATURE, [verCmd, family, length >> 8, length & 0xff], body);
}
const tlv = (type: number, value: Uint8Array | number[]) => concat([type, value.length >> 8, value.length & 0xff], value);
const v4Body = [192, 168, 0, 1, 192, 168, 0, 11, 0xdc, 0x04, 0x01, 0xbb]; // 192.168.0.1:56324 -> 192.168.0.11:443

function complete(read: ProxyHeaderRead) {
  if (read.status !== 'complete') throw new Error(`expected a complete header, got ${JSON.stringify(read)}`);
  return read;
}

const SPEC_V1_TCP4 = 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n';
const REQUEST = 'GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n';

describe('version 1', () => {
  it("reads the spec's example line and says where the proxied bytes start", () => {
    const bytes = ascii(SPEC_V1_TCP4 + REQUEST);
    const read = complete(readProxyHeader(bytes));
    expect(read.length).toBe(SPEC_V1_TCP4.length);
    expect(read.header).toEqual({
      version: 1,
      command: 'proxy',
      source: { address: '192.168.0.1', port: 56324, family: 'IPv4' },
      destination: { address: '192.168.0.11', port: 443, family: 'IPv4' },
    });
    expect(bytes.subarray(read.length).toString('latin1')).toBe(REQUEST);
  });

  it('reads the longest lines the spec lists (56, 104 and 107 characters)', () => {
    const tcp4 = 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n';
    const full6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const tcp6 = `PROXY TCP6 ${full6} ${full6} 65535 65535\r\n`;
    const unknown = `PROXY UNKNOWN ${full6} ${full6} 65535 65535\r\n`;
    expect([tcp4.length, tcp6.length, unknown.length]).toEqual([56, 104, PROXY_V1_MAX_LENGTH]);
    expect(complete(readProxyHeader(ascii(tcp4))).header).toMatchObject({ source: { address: '255.255.255.255', port: 65535 } });
    expect(complete(readProxyHeader(ascii(tcp6))).header).toMatchObject({ source: { address: full6, family: 'IPv6' } });
    expect(complete(readProxyHeader(ascii(unknown)))).toEqual({ status: 'complete', header: { version: 1, command: 'unknown' }, length: 107 });
  });

  it('reads UNKNOWN in its short form, ignoring the rest of the line', () => {
    expect(complete(readProxyHeader(ascii('PROXY UNKNOWN\r\nabc')))).toEqual({ status: 'complete', header: { version: 1, command: 'unknown' }, length: 15 });
    expect(complete(readProxyHeader(ascii('PROXY UNKNOWN whatever a router put here\r\n'))).header.command).toBe('unknown');
  });

  it('gives IPv6 addresses in the spelling Node uses for remoteAddress', () => {
    const read = complete(readProxyHeader(ascii('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::FFFF:10.0.0.1 1 2\r\n')));
    expect(read.header).toMatchObject({ source: { address: '2001:db8::1', port: 1 }, destination: { address: '::ffff:10.0.0.1', port: 2 } });
  });

  it('refuses a line with no CRLF in the first 107 bytes, at the 107th byte, whatever follows', () => {
    const long = ascii(`PROXY UNKNOWN ${'x'.repeat(200)}\r\n`);
    expect(readProxyHeader(long.subarray(0, 106))).toEqual({ status: 'need-more', atLeast: 1 });
    expect(readProxyHeader(long.subarray(0, 107))).toEqual({ status: 'refused', reason: 'v1-too-long' });
    expect(readProxyHeader(long)).toEqual({ status: 'refused', reason: 'v1-too-long' });
    // A CR as the 107th byte needs its LF as the 108th: still too long.
    expect(readProxyHeader(ascii(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`))).toEqual({ status: 'refused', reason: 'v1-too-long' });
  });

  it.each([
    ['lone LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', 'v1-syntax'],
    ['lone CR', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX', 'v1-syntax'],
    ['double space', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', 'v1-syntax'],
    ['trailing space', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n', 'v1-syntax'],
    ['missing port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'v1-syntax'],
    ['a tab', 'PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n', 'v1-syntax'],
    ['UDP4', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', 'v1-protocol'],
    ['lower case', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n', 'v1-protocol'],
    ['empty', 'PROXY \r\n', 'v1-protocol'],
    ['port 65536', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', 'v1-port'],
    ['leading zero port', 'PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n', 'v1-port'],
    ['negative port', 'PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n', 'v1-port'],
    ['hex port', 'PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n', 'v1-port'],
    ['six-digit port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 000443\r\n', 'v1-port'],
    ['octet 256', 'PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n', 'v1-address'],
    ['leading zero octet', 'PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n', 'v1-address'],
    ['three octets', 'PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n', 'v1-address'],
    ['five octets', 'PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n', 'v1-address'],
    ['an IPv4 source under TCP6', 'PROXY TCP6 1.2.3.4 ::1 1 2\r\n', 'v1-address'],
    ['an IPv6 source under TCP4', 'PROXY TCP4 ::1 1.2.3.4 1 2\r\n', 'v1-address'],
    ['a destination that is no address', 'PROXY TCP6 ::1 1.2.3 1 2\r\n', 'v1-address'],
    ['zone id', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'v1-address'],
    ['two ::', 'PROXY TCP6 1::2::3 ::1 1 2\r\n', 'v1-address'],
    ['nine groups', 'PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n', 'v1-address'],
    ['a host name', 'PROXY TCP4 localhost 5.6.7.8 1 2\r\n', 'v1-address'],
  ])('refuses %s', (_name, line, reason) => {
    expect(readProxyHeader(ascii(line))).toEqual({ status: 'refused', reason });
  });

  it("takes nginx's destination in the other family, as nginx writes it when realip changed the source", () => {
    const read = complete(readProxyHeader(ascii('PROXY TCP6 2001:db8::7 127.0.0.1 40001 443\r\n')));
    expect(read.header).toEqual({
      version: 1,
      command: 'proxy',
      source: { address: '2001:db8::7', port: 40001, family: 'IPv6' },
      destination: { address: '127.0.0.1', port: 443, family: 'IPv4' },
    });
  });

  it('refuses 8-bit and control bytes in the line', () => {
    expect(readProxyHeader(concat(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2'), [0xff], ascii('\r\n')))).toEqual({ status: 'refused', reason: 'v1-syntax' });
    expect(readProxyHeader(concat(ascii('PROXY UNKNOWN '), [0x00], ascii('\r\n')))).toEqual({ status: 'refused', reason: 'v1-syntax' });
  });
});

describe('version 2', () => {
  it('reads TCP over IPv4, as the spec lays it out', () => {
    const header = v2(0x21, 0x11, v4Body);
    const read = complete(readProxyHeader(concat(header, ascii(REQUEST))));
    expect(read.length).toBe(28);
    expect(read.header).toEqual({
      version: 2,
      command: 'proxy',
      source: { address: '192.168.0.1', port: 56324, family: 'IPv4' },
      destination: { address: '192.168.0.11', port: 443, family: 'IPv4' },
    });
  });

  it('reads TCP over IPv6', () => {
    const src = parseIPv6('2001:db8::1')!;
    const dst = parseIPv6('::ffff:192.0.2.7')!;
    const read = complete(readProxyHeader(v2(0x21, 0x21, concat(src, dst, [0x30, 0x39, 0x01, 0xbb]))));
    expect(read.length).toBe(52);
    expect(read.header).toEqual({
      version: 2,
      command: 'proxy',
      source: { address: '2001:db8::1', port: 12345, family: 'IPv6' },
      destination: { address: '::ffff:192.0.2.7', port: 443, family: 'IPv6' },
    });
  });

  it('reads LOCAL, skipping whatever addresses it carries', () => {
    expect(complete(readProxyHeader(v2(0x20, 0x00, [])))).toEqual({ status: 'complete', header: { version: 2, command: 'local' }, length: 16 });
    expect(complete(readProxyHeader(v2(0x20, 0x11, v4Body)))).toEqual({ status: 'complete', header: { version: 2, command: 'local' }, length: 28 });
  });

  it('answers "unknown" for the families it does not map (UNSPEC, UDP, UNIX), skipping them whole', () => {
    expect(complete(readProxyHeader(v2(0x21, 0x00, [1, 2, 3])))).toEqual({ status: 'complete', header: { version: 2, command: 'unknown' }, length: 19 });
    expect(complete(readProxyHeader(v2(0x21, 0x12, v4Body))).header.command).toBe('unknown');
    expect(complete(readProxyHeader(v2(0x21, 0x22, new Uint8Array(36)))).header.command).toBe('unknown');
    expect(complete(readProxyHeader(v2(0x21, 0x31, new Uint8Array(216)))).length).toBe(232);
  });

  it('skips TLVs (ALPN, authority, unique id, an AWS-style custom one) and ends at the declared length', () => {
    const tlvs = concat(tlv(0x01, ascii('h2')), tlv(0x02, ascii('example.com')), tlv(0x05, new Uint8Array(128).fill(7)), tlv(0xea, concat([1], ascii('vpce-0123'))), tlv(0x04, []));
    const header = v2(0x21, 0x11, concat(v4Body, tlvs));
    const read = complete(readProxyHeader(concat(header, [0x16, 0x03, 0x01])));
    expect(read.length).toBe(header.length);
    expect(read.header).toMatchObject({ command: 'proxy', source: { address: '192.168.0.1' } });
  });

  it.each([
    ['version 1 in the version nibble', v2(0x11, 0x11, v4Body), 'v2-version'],
    ['version 3', v2(0x31, 0x11, v4Body), 'v2-version'],
    ['command 2', v2(0x22, 0x11, v4Body), 'v2-command'],
    ['command 15', v2(0x2f, 0x11, v4Body), 'v2-command'],
    ['family 4', v2(0x21, 0x41, v4Body), 'v2-family'],
    ['transport 3', v2(0x21, 0x13, v4Body), 'v2-family'],
    ['IPv4 addresses cut short', v2(0x21, 0x11, v4Body.slice(0, 11)), 'v2-address-length'],
    ['IPv6 length for IPv4 addresses', v2(0x21, 0x21, v4Body), 'v2-address-length'],
    ['a TLV longer than the header', v2(0x21, 0x11, concat(v4Body, [0x01, 0x00, 0x10], ascii('h2'))), 'v2-tlv'],
    ['a TLV header cut short', v2(0x21, 0x11, concat(v4Body, [0x01, 0x00])), 'v2-tlv'],
    ['a TLV claiming 65535 bytes', v2(0x21, 0x11, concat(v4Body, [0xe0, 0xff, 0xff], new Uint8Array(100))), 'v2-tlv'],
  ])('refuses %s', (_name, header, reason) => {
    expect(readProxyHeader(header)).toEqual({ status: 'refused', reason });
  });

  it('refuses a declared length above the bound from the 16 fixed bytes alone, without waiting for the rest', () => {
    const huge = v2(0x21, 0x11, v4Body, 0xffff).subarray(0, 16);
    expect(readProxyHeader(huge)).toEqual({ status: 'refused', reason: 'v2-too-long' });
    const justOver = v2(0x21, 0x11, v4Body, PROXY_HEADER_DEFAULT_MAX - 16 + 1).subarray(0, 16);
    expect(readProxyHeader(justOver)).toEqual({ status: 'refused', reason: 'v2-too-long' });
    // A raised bound takes the spec's maximum, TLV padding and all.
    const padded = v2(0x21, 0x11, concat(v4Body, tlv(0x04, new Uint8Array(0xffff - 12 - 3))));
    expect(padded.length).toBe(16 + 0xffff);
    expect(complete(readProxyHeader(padded, 16 + 0xffff)).length).toBe(16 + 0xffff);
    expect(readProxyHeader(padded)).toEqual({ status: 'refused', reason: 'v2-too-long' });
  });

  it('refuses a wrong version or command from byte 13, before the length is known', () => {
    expect(readProxyHeader(v2(0x11, 0x11, v4Body).subarray(0, 13))).toEqual({ status: 'refused', reason: 'v2-version' });
    expect(readProxyHeader(v2(0x23, 0x11, v4Body).subarray(0, 13))).toEqual({ status: 'refused', reason: 'v2-command' });
    expect(readProxyHeader(v2(0x21, 0x99, v4Body).subarray(0, 14))).toEqual({ status: 'refused', reason: 'v2-family' });
  });
});

describe('truncation and garbage', () => {
  const valid: [string, Buffer][] = [
    ['v1 TCP4', ascii(SPEC_V1_TCP4)],
    ['v1 TCP6', ascii('PROXY TCP6 2001:db8::1 ::1 65535 443\r\n')],
    ['v1 UNKNOWN', ascii('PROXY UNKNOWN\r\n')],
    ['v2 TCP4', v2(0x21, 0x11, v4Body)],
    ['v2 TCP6 with a TLV', v2(0x21, 0x21, concat(new Uint8Array(32).fill(1), [0, 80, 1, 187], tlv(0x01, ascii('h2'))))],
    ['v2 LOCAL', v2(0x20, 0x00, [])],
  ];

  it.each(valid)('%s: every proper prefix needs more, never a verdict', (_name, header) => {
    for (let n = 0; n < header.length; n++) {
      const read = readProxyHeader(header.subarray(0, n));
      expect(read.status, `prefix of ${n} bytes`).toBe('need-more');
    }
    expect(complete(readProxyHeader(header)).length).toBe(header.length);
  });

  it.each(valid)('%s: one byte per chunk gives the same header, and the bytes after it come back whole', (_name, header) => {
    const after = Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00);
    const whole = readProxyHeader(header);
    const reader = new ProxyHeaderReader();
    const stream = concat(header, after);
    let read: ProxyHeaderRead = reader.result;
    for (let i = 0; i < stream.length && read.status === 'need-more'; i++) read = reader.push(stream.subarray(i, i + 1));
    expect(read).toEqual(whole);
    // Only the byte that completed the header was pushed last; what follows it is still unread.
    const consumed = header.length;
    expect(reader.rest()).toEqual(Buffer.alloc(0));
    const chunked = new ProxyHeaderReader();
    chunked.push(stream.subarray(0, 3));
    chunked.push(stream.subarray(3, consumed + 2));
    expect(chunked.result).toEqual(whole);
    expect(chunked.rest()).toEqual(Buffer.from(after.subarray(0, 2)));
  });

  it('refuses what is not a PROXY header at the first byte that says so', () => {
    expect(readProxyHeader(Uint8Array.of(0x16, 0x03, 0x01))).toEqual({ status: 'refused', reason: 'not-proxy' });
    expect(readProxyHeader(ascii('GET / HTTP/1.1\r\n'))).toEqual({ status: 'refused', reason: 'not-proxy' });
    expect(readProxyHeader(ascii('PROXX'))).toEqual({ status: 'refused', reason: 'not-proxy' });
    expect(readProxyHeader(ascii('P'))).toEqual({ status: 'need-more', atLeast: 1 });
    expect(readProxyHeader(Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0b))).toEqual({ status: 'refused', reason: 'not-proxy' });
    // HTTP/1 and a TLS hello both fail on the v2 signature too (the spec's reason for choosing it).
    expect(readProxyHeader(ascii('\r\nGET /'))).toEqual({ status: 'refused', reason: 'not-proxy' });
  });

  it('never throws, never claims more bytes than it was given, and decides within its bound (random bytes)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 232, max: 70_000 }), (bytes, bound) => {
        const read = readProxyHeader(bytes, bound);
        if (read.status === 'complete') expect(read.length).toBeLessThanOrEqual(bytes.length);
        if (read.status === 'need-more') expect(bytes.length).toBeLessThan(Math.max(bound, PROXY_V1_MAX_LENGTH));
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on random bytes after a valid prefix (signature or "PROXY ")', () => {
    fc.assert(
      fc.property(fc.constantFrom(Buffer.from(PROXY_V2_SIGNATURE), ascii('PROXY '), ascii('PROXY TCP4 '), ascii('PROXY TCP6 ')), fc.uint8Array({ maxLength: 300 }), (prefix, tail) => {
        const bytes = concat(prefix, tail);
        const read = readProxyHeader(bytes);
        expect(['need-more', 'complete', 'refused']).toContain(read.status);
        if (read.status === 'complete') expect(read.length).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('holds no more than its bound while a peer dribbles a never-ending header', () => {
    const reader = new ProxyHeaderReader(4096);
    reader.push(concat(PROXY_V2_SIGNATURE, [0x21, 0x11, 0x0f, 0xf0])); // 4080 bytes announced: within the bound
    let read = reader.result;
    let pushed = 16;
    while (read.status === 'need-more') {
      read = reader.push(new Uint8Array(1000));
      pushed += 1000;
    }
    // The addresses are zeros and the "TLVs" after them are type 0, length 0: framing that holds.
    expect(read.status).toBe('complete');
    expect(pushed).toBeLessThanOrEqual(4096 + 1000);
    expect(reader.rest().length).toBe(pushed - 4096);
  });
});

describe('encoding', () => {
  it('encodes TCP4 as the spec lays it out (28 bytes) and reads back', () => {
    const header = encodeProxyV2({ address: '192.168.0.1', port: 56324 }, { address: '192.168.0.11', port: 443 })!;
    expect(header).toEqual(v2(0x21, 0x11, v4Body));
  });

  it('encodes two IPv4-mapped addresses (a dual-stack listener) as TCP4, and mixed families as TCP6', () => {
    const mapped = encodeProxyV2({ address: '::ffff:10.1.2.3', port: 1 }, { address: '::ffff:127.0.0.1', port: 443 })!;
    expect(mapped.length).toBe(28);
    expect(complete(readProxyHeader(mapped)).header).toMatchObject({ source: { address: '10.1.2.3', family: 'IPv4' } });
    const mixed = encodeProxyV2({ address: '10.1.2.3', port: 1 }, { address: '2001:db8::2', port: 443 })!;
    expect(mixed.length).toBe(52);
    expect(complete(readProxyHeader(mixed)).header).toMatchObject({ source: { address: '::ffff:10.1.2.3', family: 'IPv6' }, destination: { address: '2001:db8::2' } });
  });

  it('refuses to encode what is not an address and port, so that nothing invented goes on the wire', () => {
    expect(encodeProxyV2({ address: 'localhost', port: 1 }, { address: '127.0.0.1', port: 2 })).toBeNull();
    expect(encodeProxyV2({ address: '127.0.0.1', port: 70000 }, { address: '127.0.0.1', port: 2 })).toBeNull();
    expect(encodeProxyV2({ address: '', port: -1 }, { address: '127.0.0.1', port: 2 })).toBeNull();
    expect(complete(readProxyHeader(encodeProxyV2Local()))).toEqual({ status: 'complete', header: { version: 2, command: 'local' }, length: 16 });
  });

  it('round-trips any address pair and ports through v2 and v1', () => {
    const address = fc.oneof(
      fc.ipV4(),
      fc.ipV6().filter((a) => !a.includes('%')),
    );
    fc.assert(
      fc.property(address, address, fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (src, dst, sport, dport) => {
        for (const encode of [encodeProxyV2, encodeProxyV1]) {
          const header = encode({ address: src, port: sport }, { address: dst, port: dport });
          expect(header).not.toBeNull();
          const read = complete(readProxyHeader(header!));
          expect(read.length).toBe(header!.length);
          if (read.header.command !== 'proxy') throw new Error('expected a proxy header');
          expect(sameAddress(read.header.source.address, src)).toBe(true);
          expect(sameAddress(read.header.destination.address, dst)).toBe(true);
          expect([read.header.source.port, read.header.destination.port]).toEqual([sport, dport]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

/** Same 16 bytes, reading IPv4 as IPv4-mapped. */
function sameAddress(a: string, b: string): boolean {
  const bytes = (text: string) => {
    const v4 = parseIPv4(text);
    return v4 ? Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]) : parseIPv6(text);
  };
  return Buffer.from(bytes(a)!).equals(Buffer.from(bytes(b)!));
}

describe('IPv6 text', () => {
  it("formats 16 bytes as WHATWG URL's canonical form (RFC 5952), and as ::ffff:a.b.c.d when IPv4-mapped", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIPv6(bytes);
        expect(net.isIPv6(text)).toBe(true);
        expect(Buffer.from(parseIPv6(text)!).equals(Buffer.from(bytes))).toBe(true);
        const isMapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
        if (!isMapped) expect(text).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 3000 },
    );
    // Runs of zeros: the longest wins, the first on a tie, never a single group.
    expect(formatIPv6(parseIPv6('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
    expect(formatIPv6(parseIPv6('1:0:0:2:0:0:3:4')!)).toBe('1::2:0:0:3:4');
    expect(formatIPv6(parseIPv6('1:0:2:3:4:5:6:7')!)).toBe('1:0:2:3:4:5:6:7');
    expect(formatIPv6(new Uint8Array(16))).toBe('::');
  });

  it.each(['', ':', ':::', '1:2', '::1::', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '::1.2.3', '::1.2.3.04', '1:2:3:4:5:6:7:1.2.3.4', '::1 ', 'fe80::1%1', '1:'])(
    'refuses %j',
    (text) => {
      expect(parseIPv6(text)).toBeNull();
    },
  );

  it("matches Node's own remoteAddress for an IPv4 client of a dual-stack listener and for ::1", async () => {
    const seen: string[] = [];
    const server = net.createServer((socket) => {
      seen.push(socket.remoteAddress!);
      socket.destroy();
    });
    const port = await listenOn(server, '::');
    try {
      for (const host of ['127.0.0.1', '::1']) {
        const socket = net.connect({ host, port });
        socket.on('error', () => {});
        await new Promise((resolve) => socket.on('close', resolve));
      }
    } finally {
      await closeServer(server);
    }
    expect(seen).toEqual(['::ffff:127.0.0.1', '::1']);
    for (const address of seen) expect(formatIPv6(parseIPv6(address)!)).toBe(address);
  });
});
