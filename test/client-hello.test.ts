import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_HELLO_MAX_LENGTH,
  CLIENT_HELLO_MAX_RECORDS,
  CLIENT_HELLO_MAX_WIRE_BYTES,
  ClientHelloReader,
  isGrease,
  readClientHello,
  versionName,
  type ClientHello,
  type ClientHelloRead,
} from '../src/tls/client-hello.js';
import { readTestsslClients } from '../scripts/testssl-clients.js';
import { clientHello, clientHelloMessage, concat, ext, inRecords, sslv2Hello, testsslClientData, type Extension } from './helpers/client-hellos.js';

function complete(read: ClientHelloRead): ClientHello & { length: number } {
  if (read.status !== 'complete') throw new Error(`expected a complete hello, got ${JSON.stringify(read)}`);
  return { ...read.hello, length: read.length };
}

const ascii = (text: string) => new TextEncoder().encode(text);

// A modern browser's hello: GREASE first, TLS 1.3 in supported_versions, SNI and ALPN.
const CHROME_LIKE = clientHello({
  version: 0x0303,
  sessionId: new Uint8Array(32).fill(9),
  ciphers: [0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
  extensions: [
    ext.empty(0x3a3a),
    ext.serverName('WWW.Example.COM'),
    ext.empty(0x0017),
    ext.empty(0xff01),
    ext.supportedGroups(0x8a8a, 0x001d, 0x0017, 0x0018),
    ext.ecPointFormats(0),
    ext.empty(0x0023),
    ext.alpn('h2', 'http/1.1'),
    ext.signatureAlgorithms(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601),
    ext.supportedVersions(0xdada, 0x0304, 0x0303),
    ext.padding(200),
  ],
});

/**
 * The largest hello this package promises to read: every extension type IANA has assigned, with real
 * contents where the reader decodes them, grown with padding past 16 KiB so that it needs two records.
 */
function helloWithEveryExtension(): Uint8Array {
  const assigned = [...Array.from({ length: 66 }, (_, i) => i), 0x3374, 0x4469, 0x44cd, 0xfd00, 0xfe0d, 0xff01];
  const decoded = new Map<number, Extension>([
    [0x0000, ext.serverName('every-extension.example')],
    [0x000a, ext.supportedGroups(0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x11ec)],
    [0x000b, ext.ecPointFormats(0, 1, 2)],
    [0x000d, ext.signatureAlgorithms(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201)],
    [0x0010, ext.alpn('h2', 'http/1.1', 'h3', 'spdy/3.1')],
    [0x002b, ext.supportedVersions(0x0304, 0x0303, 0x0302, 0x0301)],
  ]);
  const ciphers = Array.from({ length: 120 }, (_, i) => 0xc000 + i);
  const extensions = assigned.filter((t) => t !== 0x0015).map((type) => decoded.get(type) ?? ([type, new Uint8Array(type % 7).fill(type & 0xff)] as const));
  const base = clientHelloMessage({ ciphers, extensions }).length;
  const padding = ext.padding(16 * 1024 + 512 - base - 4);
  return clientHello({ ciphers, extensions: [...extensions, padding] });
}

describe('readClientHello: the facts of a hello', () => {
  it('reads what a modern browser offers', () => {
    const hello = complete(readClientHello(CHROME_LIKE));
    expect(hello.format).toBe('tls');
    expect(hello.length).toBe(CHROME_LIKE.length);
    expect(hello.recordVersion).toBe(0x0301);
    expect(hello.legacyVersion).toBe(0x0303);
    expect(hello.maxVersion).toBe(0x0304);
    expect(hello.tls13Draft).toBe(false);
    expect(hello.serverName).toBe('www.example.com');
    expect(hello.alpn).toEqual(['h2', 'http/1.1']);
    expect(hello.cipherSuites.slice(0, 3)).toEqual([0x2a2a, 0x1301, 0x1302]);
    expect(hello.extensions).toEqual([0x3a3a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010, 0x000d, 0x002b, 0x0015]);
    expect(hello.supportedGroups).toEqual([0x8a8a, 0x001d, 0x0017, 0x0018]);
    expect(hello.ecPointFormats).toEqual([0]);
    expect(hello.signatureAlgorithms).toHaveLength(8);
    expect(hello.supportedVersions).toEqual([0xdada, 0x0304, 0x0303]);
  });

  it('takes the highest version from supported_versions, ignoring GREASE and TLS 1.3 drafts', () => {
    const offered = (...versions: number[]) => complete(readClientHello(clientHello({ ciphers: [0x002f], extensions: [ext.supportedVersions(...versions)] })));
    expect(offered(0x7a7a, 0x0303, 0x0304).maxVersion).toBe(0x0304);
    // Chrome 65 offered draft 23 and TLS 1.2: only TLS 1.2 can be negotiated with a server today.
    const draft = offered(0x7a7a, 0x7f17, 0x0303, 0x0302, 0x0301);
    expect(draft.maxVersion).toBe(0x0303);
    expect(draft.tls13Draft).toBe(true);
  });

  it('takes the hello version when there is no supported_versions, and reads a hello with no extensions at all', () => {
    const sslv3 = complete(readClientHello(inRecords(clientHelloMessage({ version: 0x0300, ciphers: [0x000a, 0x0004], extensions: null }), 1 << 14, 0x0300)));
    expect(sslv3.maxVersion).toBe(0x0300);
    expect(sslv3.extensions).toEqual([]);
    expect(sslv3.recordVersion).toBe(0x0300);
  });

  it('keeps a server name that is not a plausible host name out of the facts, but lists the extension', () => {
    for (const name of ['testssl.sh:443', 'a b', 'évil.example', '<script>', 'x'.repeat(254)]) {
      const hello = complete(readClientHello(clientHello({ ciphers: [0x002f], extensions: [ext.serverName(name)] })));
      expect(hello.serverName).toBeNull();
      expect(hello.extensions).toEqual([0]);
    }
  });

  it('keeps at most 16 ALPN names, one char per byte', () => {
    const names = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const hello = complete(readClientHello(clientHello({ ciphers: [0x002f], extensions: [ext.alpn(...names, new Uint8Array([0xba, 0xad]))] })));
    expect(hello.alpn).toEqual(names.slice(0, 16));
    const binary = complete(readClientHello(clientHello({ ciphers: [0x002f], extensions: [ext.alpn(new Uint8Array([0xba, 0xad]))] })));
    expect(binary.alpn).toEqual(['\u00ba\u00ad']);
  });

  it('reads an SSLv2-compatible hello, keeping only the suites SSLv3/TLS can use', () => {
    const ie6 = complete(readClientHello(sslv2Hello(0x0300, [0x010080, 0x0700c0, 0x000004, 0x00000a, 0x000009])));
    expect(ie6).toMatchObject({ format: 'sslv2', recordVersion: 0x0002, legacyVersion: 0x0300, maxVersion: 0x0300, serverName: null, alpn: [], extensions: [] });
    expect(ie6.cipherSuites).toEqual([0x0004, 0x000a, 0x0009]);
    const sslv2Only = complete(readClientHello(sslv2Hello(0x0002, [0x010080])));
    expect(sslv2Only.maxVersion).toBe(0x0002);
    expect(versionName(sslv2Only.maxVersion)).toBe('SSLv2');
  });

  it('reads a 16 KiB hello with every extension, across two records', () => {
    const bytes = helloWithEveryExtension();
    expect(bytes.length).toBeGreaterThan(16 * 1024 + 10);
    const hello = complete(readClientHello(bytes));
    expect(hello.length).toBe(bytes.length);
    expect(hello.extensions).toHaveLength(72);
    expect(hello.cipherSuites).toHaveLength(120);
    expect(hello.serverName).toBe('every-extension.example');
    expect(hello.alpn).toEqual(['h2', 'http/1.1', 'h3', 'spdy/3.1']);
    expect(hello.maxVersion).toBe(0x0304);
  });

  it('marks GREASE values and names versions as OpenSSL does', () => {
    const grease = Array.from({ length: 16 }, (_, i) => ((i << 4) | 0x0a) * 0x101);
    expect(grease.every(isGrease)).toBe(true);
    expect([0x0a0b, 0x0b0a, 0x1a2a, 0x0303, 0x0000, 0xffff].some(isGrease)).toBe(false);
    expect([0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f17].map(versionName)).toEqual(['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', '0x7f17']);
  });
});

describe('readClientHello: incomplete input', () => {
  const cases: [string, Uint8Array][] = [
    ['one record', CHROME_LIKE],
    ['records of 7 bytes', inRecords(clientHelloMessage({ ciphers: [0x1301, 0x002f], extensions: [ext.serverName('a.example'), ext.alpn('h2')] }), 7)],
    ['the 16 KiB hello', helloWithEveryExtension()],
    ['an SSLv2-compatible hello', sslv2Hello(0x0301, [0x000004, 0x00000a])],
  ];

  it.each(cases)('answers need-more for every truncation of %s, with bounds that hold', (_name, bytes) => {
    const whole = complete(readClientHello(bytes));
    for (let length = 0; length < bytes.length; length++) {
      const read = readClientHello(bytes.subarray(0, length));
      if (read.status !== 'need-more') throw new Error(`prefix of ${length} bytes: ${JSON.stringify(read)}`);
      // atLeast never asks past the end of the hello, atMost never stops short of it.
      expect(read.atLeast).toBeGreaterThanOrEqual(1);
      expect(length + read.atLeast).toBeLessThanOrEqual(bytes.length);
      expect(length + read.atMost).toBeGreaterThanOrEqual(bytes.length);
      expect(length + read.atMost).toBeLessThanOrEqual(CLIENT_HELLO_MAX_WIRE_BYTES);
    }
    expect(whole.length).toBe(bytes.length);
  });

  it('reads the same facts however the hello is cut into records', () => {
    const message = clientHelloMessage({ ciphers: [0x1301, 0x1302, 0xc02f], extensions: [ext.serverName('split.example'), ext.alpn('h2'), ext.supportedVersions(0x0304, 0x0303), ext.padding(300)] });
    const reference = complete(readClientHello(inRecords(message)));
    fc.assert(
      fc.property(fc.integer({ min: Math.ceil(message.length / CLIENT_HELLO_MAX_RECORDS), max: message.length }), (size) => {
        const bytes = inRecords(message, size);
        expect(complete(readClientHello(bytes))).toEqual({ ...reference, length: bytes.length });
      }),
    );
  });

  it('stops at the end of the hello: bytes after it are not its business', () => {
    const withEarlyData = concat(CHROME_LIKE, [0x17, 0x03, 0x03, 0x00, 0x10], new Uint8Array(16));
    expect(complete(readClientHello(withEarlyData)).length).toBe(CHROME_LIKE.length);
  });
});

describe('readClientHello: not TLS', () => {
  it.each([
    ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'http'],
    ['POST /form HTTP/1.0\r\n', 'http'],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'http'],
    ['G', 'http'],
    ['GE', 'http'],
    ['SSH-2.0-OpenSSH_9.2\r\n', 'not-handshake'],
    ['hello', 'not-handshake'],
    ['\u0000\u0000\u0000', 'not-handshake'],
  ])('%j is %s', (text, reason) => {
    expect(readClientHello(ascii(text))).toEqual({ status: 'not-tls', reason });
  });

  it('decides on the first bytes that show it, without waiting for more', () => {
    expect(readClientHello(Uint8Array.from([0x16, 0x02]))).toEqual({ status: 'not-tls', reason: 'record-version' });
    expect(readClientHello(Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x00]))).toEqual({ status: 'not-tls', reason: 'record-length' });
    expect(readClientHello(Uint8Array.from([0x16, 0x03, 0x01, 0x40, 0x01]))).toEqual({ status: 'not-tls', reason: 'record-length' });
    expect(readClientHello(Uint8Array.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]))).toEqual({ status: 'not-tls', reason: 'not-handshake' });
    expect(readClientHello(Uint8Array.from([0x80, 0x2e, 0x02]))).toEqual({ status: 'not-tls', reason: 'not-handshake' });
    expect(readClientHello(Uint8Array.from([0x80, 0x2e, 0x01, 0x07]))).toEqual({ status: 'not-tls', reason: 'record-version' });
  });
});

describe('readClientHello: malformed and oversized hellos', () => {
  const body = (mutate: (bytes: Uint8Array) => void) => {
    const bytes = clientHello({ ciphers: [0x1301, 0x002f], extensions: [ext.serverName('a.example'), ext.supportedVersions(0x0304)] }).slice();
    mutate(bytes);
    return readClientHello(bytes);
  };
  // Offsets into that hello: record 0-4, handshake header 5-8, version 9-10, random 11-42, session id 43,
  // cipher list 44-49, compression 50-51, extensions length 52-53, server_name type 54-55, length 56-57, list 58-.
  it.each([
    ['a handshake that is not a ClientHello', (b: Uint8Array) => (b[5] = 2), 'not-client-hello'],
    ['a session id longer than 32', (b: Uint8Array) => (b[43] = 33), 'session-id-length'],
    ['an odd cipher list', (b: Uint8Array) => (b[45] = 3), 'cipher-suites-length'],
    ['an extensions block longer than the message', (b: Uint8Array) => (b[53] = b[53]! + 1), 'extensions-length'],
    ['an extension longer than its block', (b: Uint8Array) => (b[56] = 0xff), 'extension-length'],
    ['a server_name list that overruns', (b: Uint8Array) => (b[59] = 0x20), 'server-name'],
  ])('names %s', (_name, mutate, reason) => {
    expect(body(mutate)).toEqual({ status: 'malformed', reason });
  });

  it('refuses a record of another type inside the hello', () => {
    const split = inRecords(clientHelloMessage({ ciphers: [0x002f], extensions: [ext.padding(40)] }), 20);
    const interleaved = split.slice();
    interleaved[25] = 0x17;
    expect(readClientHello(interleaved)).toEqual({ status: 'malformed', reason: 'interleaved-record' });
  });

  it('refuses a message over the bound as soon as its length is known', () => {
    const header = Uint8Array.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x80, 0x01]);
    expect(readClientHello(header)).toEqual({ status: 'too-large', reason: 'message', limit: CLIENT_HELLO_MAX_LENGTH });
    const justUnder = Uint8Array.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x80, 0x00]);
    expect(readClientHello(justUnder).status).toBe('need-more');
  });

  it('refuses a hello cut into more records than allowed, within the wire bound', () => {
    const bytes = inRecords(clientHelloMessage({ ciphers: [0x002f], extensions: [ext.padding(200)] }), 1);
    const read = readClientHello(bytes.subarray(0, CLIENT_HELLO_MAX_WIRE_BYTES));
    expect(read).toEqual({ status: 'too-large', reason: 'records', limit: CLIENT_HELLO_MAX_RECORDS });
    // 64 records are fine.
    const allowed = inRecords(clientHelloMessage({ ciphers: [0x002f], extensions: [ext.padding(200)] }), Math.ceil(clientHelloMessage({ ciphers: [0x002f], extensions: [ext.padding(200)] }).length / 64));
    expect(readClientHello(allowed).status).toBe('complete');
  });

  it('an SSLv2-compatible hello that does not add up is malformed', () => {
    const hello = sslv2Hello(0x0301, [0x000004, 0x00000a]).slice();
    hello[6] = 5; // cipher spec length not a multiple of 3
    expect(readClientHello(hello)).toEqual({ status: 'malformed', reason: 'cipher-specs-length' });
  });
});

describe('readClientHello: hostile input', () => {
  const statuses = new Set(['need-more', 'not-tls', 'malformed', 'too-large', 'complete']);

  it('never throws on random bytes, and never claims more bytes than it was given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const read = readClientHello(bytes);
        expect(statuses.has(read.status)).toBe(true);
        if (read.status === 'complete') expect(read.length).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on a real hello with bytes changed, cut or repeated', () => {
    const base = helloWithEveryExtension().subarray(0, 4096);
    const real = concat(CHROME_LIKE);
    fc.assert(
      fc.property(
        fc.constantFrom(real, base),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (source, edits, cut) => {
          const bytes = source.slice(0, 1 + (cut % source.length));
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          const read = readClientHello(bytes);
          expect(statuses.has(read.status)).toBe(true);
          if (read.status === 'complete') expect(read.length).toBeLessThanOrEqual(bytes.length);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('ClientHelloReader', () => {
  it('gives the same answer one byte at a time as in one piece', () => {
    for (const bytes of [CHROME_LIKE, helloWithEveryExtension(), sslv2Hello(0x0301, [0x00002f])]) {
      const reader = new ClientHelloReader();
      let read: ClientHelloRead = reader.result;
      for (let i = 0; i < bytes.length; i++) {
        expect(read.status).toBe('need-more');
        read = reader.push(bytes.subarray(i, i + 1));
      }
      expect(read).toEqual(readClientHello(bytes));
      expect(reader.buffered).toBe(bytes.length);
    }
  });

  it('answers from the first chunk when it holds the whole hello, and keeps its answer after', () => {
    const reader = new ClientHelloReader();
    const first = reader.push(CHROME_LIKE);
    expect(first.status).toBe('complete');
    expect(reader.buffered).toBe(0); // parsed in place, nothing copied
    expect(reader.push(ascii('more'))).toBe(first);
    expect(reader.result).toBe(first);
  });

  it('buffers no more than the wire bound, whatever a peer sends', () => {
    const reader = new ClientHelloReader();
    reader.push(Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x7f, 0xff]));
    for (let i = 0; i < 40_000 && reader.result.status === 'need-more'; i++) reader.push(Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x00]));
    expect(reader.result).toEqual({ status: 'too-large', reason: 'records', limit: CLIENT_HELLO_MAX_RECORDS });
    expect(reader.buffered).toBeLessThanOrEqual(CLIENT_HELLO_MAX_WIRE_BYTES);
  });
});

describe.runIf(testsslClientData())("testssl.sh's recorded hellos", () => {
  it('reads every one completely, to its last byte', () => {
    const clients = readTestsslClients(testsslClientData()!);
    expect(clients).toHaveLength(162);
    for (const client of clients) {
      const hello = complete(readClientHello(client.hello));
      expect({ id: client.id, length: hello.length }).toEqual({ id: client.id, length: client.hello.length });
    }
  });
});
