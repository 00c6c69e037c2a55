/**
 * The pure parts of the log reader: protocol spellings, timestamps, escapes, compiled log formats,
 * format detection and the handshake-failure reasons; properties checked with fast-check, and the
 * inputs an attacker would write into a log (which is anything a client can send).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { decodeBackslashEscapes, decodeByteEscapes } from '../src/analyse/escapes.js';
import { BUILT_IN_LAYOUTS, candidatesFor, detect } from '../src/analyse/formats.js';
import { compileHaproxyFormat, HaproxyParser, stripSyslogPrefix } from '../src/analyse/haproxy.js';
import { CloudflareParser } from '../src/analyse/json-formats.js';
import { handshakeReasonOf } from '../src/analyse/nginx-error.js';
import { cipherSuiteName, normaliseIisCryptProtocol, normaliseLogProtocol } from '../src/analyse/protocol.js';
import { originPathAt, pathOfRequestLine, pathOfTarget } from '../src/analyse/record.js';
import { compileApacheFormat, compileNginxFormat, Field, TemplateParser } from '../src/analyse/template.js';
import { ClfClock, epochToMillis, parseClfTime, parseIsoTime, parseNginxErrorTime, parseW3cTime } from '../src/analyse/time.js';
import type { LogRecord } from '../src/analyse/types.js';
import { W3cParser } from '../src/analyse/w3c.js';

describe('protocol spellings', () => {
  it.each([
    ['TLSv1', 'TLSv1'],
    ['TLSv1.0', 'TLSv1'],
    ['TLS 1.0', 'TLSv1'],
    ['tls1.0', 'TLSv1'],
    ['TLS1_2', 'TLSv1.2'],
    ['tlsv1.1', 'TLSv1.1'],
    ['TLSV1.3', 'TLSv1.3'],
    ['0x0301', 'TLSv1'],
    ['0x303', 'TLSv1.2'],
    ['0302', 'TLSv1.1'],
    ['769', 'TLSv1'],
    ['771', 'TLSv1.2'],
    ['772', 'TLSv1.3'],
    ['1.2', 'TLSv1.2'],
    ['SSLv3', 'SSLv3'],
    ['SSL 3.0', 'SSLv3'],
    ['768', 'SSLv3'],
    ['SSLv2', 'SSLv2'],
    [' TLSv1.2 ', 'TLSv1.2'],
  ])('%j is %s', (value, expected) => {
    expect(normaliseLogProtocol(value)).toBe(expected);
  });

  it.each(['-', '', 'none', 'NONE', 'unknown', 'TLSv1.4', 'TLSv2', '301', '0x0305', 'QUIC', 'constructor', '__proto__', 'x'.repeat(100)])('%j is null', (value) => {
    expect(normaliseLogProtocol(value)).toBeNull();
  });

  it('maps IIS crypt-protocol (Schannel SP_PROT_* flags, hexadecimal)', () => {
    expect(['40', '80', '100', '200', '400', '800', '1000', '2000', '10', '4', '0x400', '00000400'].map(normaliseIisCryptProtocol)).toEqual([
      'TLSv1', 'TLSv1', 'TLSv1.1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.2', 'TLSv1.3', 'TLSv1.3', 'SSLv3', 'SSLv2', 'TLSv1.2', 'TLSv1.2',
    ]);
    expect(['-', '', '771', 'zz', '3'].map(normaliseIisCryptProtocol)).toEqual([null, null, null, null, null]);
  });

  it('names the cipher suites Caddy logs as numbers, and shows the others in hex', () => {
    expect([4865, 49199, 0x1303, 0xc0ff, 0, -1, 70000, 1.5, '4865'].map(cipherSuiteName)).toEqual([
      'TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', '0xc0ff', null, null, null, null, null,
    ]);
  });
});

describe('timestamps', () => {
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  const instant = fc.record({
    ms: fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 11, 31) }),
    offset: fc.integer({ min: -14 * 60, max: 14 * 60 }),
  });
  /** What nginx writes for `$time_local` at `ms` in a zone `offset` minutes from UTC. */
  const clf = ({ ms, offset }: { ms: number; offset: number }) => {
    const d = new Date(ms + offset * 60_000);
    const sign = offset < 0 ? '-' : '+';
    const abs = Math.abs(offset);
    return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
  };

  it('reads any Common Log Format time back to its instant (to the second)', () => {
    fc.assert(
      fc.property(instant, (t) => {
        expect(parseClfTime(clf(t))).toBe(Math.floor(t.ms / 1000) * 1000);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers the same with the day remembered, in any order of lines', () => {
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 40 }), (times) => {
        const clock = new ClfClock();
        for (const t of times) expect(clock.read(clf(t))).toBe(parseClfTime(clf(t)));
      }),
    );
  });

  it('reads HAProxy times (milliseconds, no zone: local time)', () => {
    expect(parseClfTime('06/Feb/2009:12:14:14.655')).toBe(new Date(2009, 1, 6, 12, 14, 14, 655).getTime());
  });

  it.each(['', '10/Oct/2000:13:55:36', '10/Foo/2000:13:55:36 -0700', '32/Oct/2000:13:55:36 +0000', '10/Oct/2000:25:55:36 +0000', '10/Oct/2000:13:55:36 +07', '1x/Oct/2000:13:55:36 +0000', '10/Oct/2000:13:55:36 *0000'])(
    'refuses %j (no partial dates)',
    (text) => {
      // The 20-character form without a zone is valid (local time); everything else here is not a time.
      if (text === '10/Oct/2000:13:55:36') expect(parseClfTime(text)).toBe(new Date(2000, 9, 10, 13, 55, 36).getTime());
      else expect(parseClfTime(text)).toBeNaN();
      expect(new ClfClock().read(text)).toEqual(parseClfTime(text));
    },
  );

  it('reads ISO 8601 and refuses what Date.parse alone would take', () => {
    expect(parseIsoTime('2018-07-02T22:23:00.186641Z')).toBe(Date.UTC(2018, 6, 2, 22, 23, 0, 186));
    expect(parseIsoTime('2024-03-01T10:00:00+01:00')).toBe(Date.UTC(2024, 2, 1, 9));
    expect(parseIsoTime('2024-03-01 10:00:00Z')).toBe(Date.UTC(2024, 2, 1, 10));
    for (const junk of ['1', 'March 7, 2024 10:00:00', '2024-03-01', 'x'.repeat(50)]) expect(parseIsoTime(junk)).toBeNaN();
  });

  it('reads the W3C, nginx error log and epoch forms', () => {
    expect(parseW3cTime('2014-05-23', '01:13:11')).toBe(Date.UTC(2014, 4, 23, 1, 13, 11));
    expect(parseW3cTime('2014-05-23', '01:13:11.250')).toBe(Date.UTC(2014, 4, 23, 1, 13, 11, 250));
    expect(parseW3cTime('2014-13-23', '01:13:11')).toBeNaN();
    expect(parseNginxErrorTime('2026/11/28 15:27:56')).toBe(new Date(2026, 10, 28, 15, 27, 56).getTime());
    expect([1709283600, 1709283600123, 1709283600123456, Number('1709283600123456789')].map(epochToMillis)).toEqual([1709283600000, 1709283600123, 1709283600123, 1709283600123]);
    expect([-1, Number.NaN, Infinity].map(epochToMillis)).toEqual([Number.NaN, Number.NaN, Number.NaN]);
  });
});

/** nginx's default log escaping: `"`, `\` and every byte outside printable ASCII as \xHH. */
function nginxEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += byte === 0x22 || byte === 0x5c || byte < 0x20 || byte > 0x7e ? `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** Apache's ap_escape_logitem: `\"`, `\\`, the C escapes, other control bytes and non-ASCII as \xhh. */
function apacheEscape(value: string): string {
  const named: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v' };
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += named[byte] ?? (byte < 0x20 || byte > 0x7e ? `\\x${byte.toString(16).padStart(2, '0')}` : String.fromCharCode(byte));
  }
  return out;
}

/** HAProxy's header capture encoding: `"`, `#`, `{`, `|`, `}` and bytes outside printable ASCII as #XX. */
function haproxyEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += byte === 0x22 || byte === 0x23 || byte === 0x7b || byte === 0x7c || byte === 0x7d || byte < 0x20 || byte > 0x7e ? `#${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

const text = fc.string({ unit: 'grapheme', maxLength: 80 });

describe('escapes, undone exactly', () => {
  it('round-trips nginx, Apache, HAProxy and URL encodings of any text', () => {
    fc.assert(
      fc.property(text, (value) => {
        expect(decodeBackslashEscapes(nginxEscape(value))).toBe(value);
        expect(decodeBackslashEscapes(apacheEscape(value))).toBe(value);
        expect(decodeByteEscapes(haproxyEscape(value), '#')).toBe(value);
        expect(decodeByteEscapes(encodeURIComponent(value), '%')).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads nginx escape=json values', () => {
    expect(decodeBackslashEscapes('a\\"b\\\\c\\u00e9\\ud83d\\ude00\\n')).toBe('a"b\\cé😀\n');
  });

  it('leaves what is not an escape as it is', () => {
    for (const value of ['\\', 'a\\', '\\q', '\\x4', '\\xZZ', '\\u12', '%', '%4', '%G0', '#', '#1']) {
      expect(decodeBackslashEscapes(value)).toBe(value);
      expect(decodeByteEscapes(value, '%')).toBe(value);
      expect(decodeByteEscapes(value, '#')).toBe(value);
    }
  });

  it('returns the very same string when there is nothing to undo', () => {
    const value = 'Mozilla/5.0 (X11; Linux x86_64)';
    expect(decodeBackslashEscapes(value)).toBe(value);
  });
});

describe('request paths', () => {
  it('cuts the path of a request line or target, without the query', () => {
    expect(pathOfRequestLine('GET /a/b?c=1 HTTP/1.1')).toBe('/a/b');
    expect(pathOfRequestLine('GET /a')).toBe('/a');
    expect(pathOfRequestLine('GET https://example.com:443/x?y HTTP/1.1')).toBe('/x');
    expect(pathOfRequestLine('GET https://example.com HTTP/1.1')).toBe('/');
    expect(pathOfRequestLine('CONNECT example.com:443 HTTP/1.1')).toBeNull();
    expect(pathOfRequestLine('\\x16\\x03\\x01')).toBeNull();
    expect(pathOfRequestLine('-')).toBeNull();
    expect(pathOfTarget('*')).toBeNull();
  });

  it('gives the same path in place as by cutting the line out first', () => {
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'HEAD'), fc.webPath(), fc.option(fc.webQueryParameters()), fc.constantFrom(' HTTP/1.1', ' HTTP/2.0', ''), (method, pathPart, query, version) => {
        const target = `/${pathPart.replace(/^\//, '').replace(/ /g, '%20')}${query === null ? '' : `?${query}`}`;
        const request = `${method} ${target}${version}`;
        const line = `"${request}" 200`;
        expect(originPathAt(line, 1, 1 + request.length)).toBe(pathOfRequestLine(request));
      }),
    );
  });
});

/** Lines in nginx's combined + "$ssl_protocol" "$ssl_cipher" layout from arbitrary values, escaped as nginx does. */
const requestValues = fc.record({
  address: fc.ipV4(),
  ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2050, 0, 1) }),
  path: fc.webPath().map((p) => `/${p.replace(/^\//, '')}`),
  status: fc.integer({ min: 100, max: 599 }),
  referer: text,
  userAgent: fc.option(text.filter((t) => t !== '' && t !== '-'), { nil: null }),
  protocol: fc.constantFrom('TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', null),
  cipher: fc.constantFrom('ECDHE-RSA-AES128-GCM-SHA256', 'TLS_AES_256_GCM_SHA384', 'AES128-SHA'),
});

function clfOf(ms: number): string {
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

describe('compiled log formats', () => {
  const nginx = new TemplateParser(compileNginxFormat(`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$ssl_protocol" "$ssl_cipher"`), 'nginx', 'x');
  const apache = new TemplateParser(compileApacheFormat('%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\" %{SSL_PROTOCOL}x %{SSL_CIPHER}x'), 'apache', 'y');

  it('reads back any values nginx writes', () => {
    fc.assert(
      fc.property(requestValues, (v) => {
        const line = `${v.address} - - [${clfOf(v.ms)}] "GET ${nginxEscape(v.path)}?q=1 HTTP/1.1" ${v.status} 10 "${nginxEscape(v.referer) || '-'}" "${v.userAgent === null ? '-' : nginxEscape(v.userAgent)}" "${v.protocol ?? '-'}" "${v.protocol === null ? '-' : v.cipher}"`;
        expect(nginx.parse(line)).toEqual({
          kind: 'request',
          time: Math.floor(v.ms / 1000) * 1000,
          protocol: v.protocol,
          cipher: v.protocol === null ? null : v.cipher,
          userAgent: v.userAgent,
          address: v.address,
          host: null,
          path: v.path,
          status: v.status,
          failureReason: undefined,
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('reads back any values Apache writes, with its \\" inside quoted fields', () => {
    fc.assert(
      fc.property(requestValues, (v) => {
        const line = `${v.address} - - [${clfOf(v.ms)}] "GET ${apacheEscape(v.path)} HTTP/1.1" ${v.status} 10 "${apacheEscape(v.referer)}" "${v.userAgent === null ? '-' : apacheEscape(v.userAgent)}" ${v.protocol ?? '-'} ${v.protocol === null ? '-' : v.cipher}`;
        const record = apache.parse(line) as LogRecord;
        expect(record).toMatchObject({ userAgent: v.userAgent, protocol: v.protocol, path: v.path, status: v.status, address: v.address });
      }),
      { numRuns: 1000 },
    );
  });

  it('knows which fields a format has', () => {
    const template = compileNginxFormat(`log_format main escape=json '{"t":"$msec","h":"$ssl_server_name","x":"$host"}';`);
    expect(template.fields).toEqual([Field.TimeEpochSeconds, Field.Sni, Field.Host]);
    expect(template).toMatchObject({ hasProtocol: false, hasUserAgent: false, kind: 'request', head: '{"t":"' });
    const parser = new TemplateParser(template, 'nginx', 'z');
    // The SNI wins over the Host header: it names the site the TLS connection was for.
    expect(parser.parse('{"t":"1709283600.123","h":"a.example","x":"b.example"}')).toMatchObject({ time: 1709283600123, host: 'a.example' });
    expect(parser.parse('{"t":"1709283600.123","h":"","x":"b.example"}')).toMatchObject({ host: 'b.example' });
  });

  it('throws InvalidOptionError naming logFormat for formats it cannot read', () => {
    for (const bad of ['no fields here', '$remote_addr', '$time_local$status', "'$time_local"]) {
      expect(() => compileNginxFormat(bad)).toThrow(InvalidOptionError);
      expect(() => compileNginxFormat(bad)).toThrow(/`logFormat`/);
    }
  });

  it('tells every built-in layout from the others by its own lines', () => {
    const sample: Record<number, string> = {
      [Field.Address]: '203.0.113.9',
      [Field.TimeClf]: '01/Mar/2024:09:00:00 +0000',
      [Field.RequestLine]: 'GET /x HTTP/1.1',
      [Field.Status]: '200',
      [Field.UserAgent]: 'Mozilla/5.0 (X11; Linux x86_64)',
      [Field.Protocol]: 'TLSv1.2',
      [Field.OfferedProtocol]: 'TLSv1.3',
      [Field.Cipher]: 'ECDHE-RSA-AES128-GCM-SHA256',
      [Field.Sni]: 'example.com',
      [Field.ServerName]: 'example.com',
    };
    const candidates = candidatesFor(undefined, undefined);
    for (const layout of BUILT_IN_LAYOUTS) {
      const { head, fields, literals, names } = layout.template;
      const line = head + fields.map((field, i) => (sample[field] ?? (names[i] === '$http_x_forwarded_for' ? '198.51.100.1' : names[i] === '$protocol' ? 'TCP' : '12')) + literals[i]).join('');
      const detected = detect([line, line, line], candidates, 'sample');
      expect([layout.name, detected.candidate.layout]).toEqual([layout.name, layout.description]);
    }
  });
});

describe('HAProxy formats', () => {
  it('reads IPv6 clients, rsyslog prefixes and the captured user agent', () => {
    const parser = new HaproxyParser(compileHaproxyFormat('%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r'), 'httplog');
    const lines = [
      '::1:55160 [28/Nov/2026:15:29:12.263] fe be/srv1 0/0/1/2/3 200 73 - - ---- 1/1/0/0/0 0/0 {Mozilla/5.0 (X11; Linux x86_64)|example.com} "GET /p?x=1 HTTP/1.1"',
      'Nov 28 15:29:12 lb1 haproxy[812]: 192.0.2.1:4000 [28/Nov/2026:15:29:12.300] fe be/srv1 0/0/1/2/3 404 73 - - ---- 1/1/0/0/0 0/0 {curl/8.5.0|example.com} "GET /q HTTP/1.1"',
    ];
    parser.learn(lines);
    expect(parser.hasUserAgent).toBe(true);
    expect(parser.parse(lines[0] as string)).toMatchObject({ address: '::1', path: '/p', status: 200, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' });
    expect(parser.parse(lines[1] as string)).toMatchObject({ address: '192.0.2.1', path: '/q', status: 404, userAgent: 'curl/8.5.0' });
  });

  it('finds no user agent where the captures hold none', () => {
    const parser = new HaproxyParser(compileHaproxyFormat('%ci:%cp [%tr] %ST %hr'), 'x');
    parser.learn(['192.0.2.1:1 [28/Nov/2026:15:29:12.300] 200 {example.com|12}']);
    expect(parser.hasUserAgent).toBe(false);
  });

  it('cuts the syslog prefixes rsyslog and RFC 5424 write, and nothing else', () => {
    expect(stripSyslogPrefix('Nov  3 09:00:00 host haproxy[12]: rest')).toBe('rest');
    expect(stripSyslogPrefix('<134>Nov 28 15:29:12 haproxy[12]: rest')).toBe('rest');
    expect(stripSyslogPrefix('2024-03-01T09:00:00.123+01:00 host nginx: rest')).toBe('rest');
    expect(stripSyslogPrefix('<134>1 2024-03-01T09:00:00.123Z host haproxy 12 - - rest')).toBe('rest');
    expect(stripSyslogPrefix('203.0.113.9 - - [01/Mar/2024:09:00:00 +0000] "GET / HTTP/1.1"')).toBeNull();
  });
});

describe('handshake failure reasons, from OpenSSL 1.0, 1.1 and 3 messages', () => {
  it.each([
    ['(SSL: error:0A000102:SSL routines::unsupported protocol)', 'protocol-too-old'],
    ['(SSL: error:1425F102:SSL routines:ssl_choose_client_version:unsupported protocol)', 'protocol-too-old'],
    ['(SSL: error:14209102:SSL routines:tls_early_post_process_client_hello:unsupported protocol)', 'protocol-too-old'],
    ['(SSL: error:0A00018C:SSL routines::version too low)', 'protocol-too-old'],
    ['(SSL: error:0A00042E:SSL routines::tlsv1 alert protocol version:SSL alert number 70)', 'protocol-too-old'],
    ['(SSL: error:0A0000C1:SSL routines::no shared cipher)', 'no-shared-cipher'],
    ['(SSL: error:1408A0C1:SSL routines:ssl3_get_client_hello:no shared cipher)', 'no-shared-cipher'],
    ['(SSL: error:0A000076:SSL routines::no suitable signature algorithm)', 'no-shared-cipher'],
    ['(SSL: error:0A00010B:SSL routines::wrong version number)', 'not-tls'],
    ['(SSL: error:0A00009C:SSL routines::http request)', 'not-tls'],
    ['(SSL: error:0A0000F4:SSL routines::unexpected message)', 'other'],
    ['(SSL: something else)', 'other'],
  ])('%s is %s', (message, reason) => {
    expect(handshakeReasonOf(message)).toBe(reason);
  });
});

describe('what an attacker can write into a log', () => {
  // Every field a client controls (path, user agent, referer, host) ends up in the line.
  it('takes linear time on a line made to make a HAProxy pattern backtrack', () => {
    const parser = new HaproxyParser(compileHaproxyFormat('%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc %ST %{+Q}[capture.req.hdr(0)] %{+Q}r'), 'x');
    for (const filler of ['1:', '/', ':1/', ' ', '{', '"']) {
      const line = `1:1 [28/Nov/2026:15:29:12.263] ${filler.repeat(100_000)}`;
      expect(typeof parser.parse(line)).toBe('string');
    }
  });

  it('takes linear time on a combined line full of quote-space-quote sequences', () => {
    const parser = new TemplateParser(compileNginxFormat(`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`), 'nginx', 'x');
    const result = parser.parse(`1.2.3.4 - - [01/Mar/2024:09:00:00 +0000] "GET / HTTP/1.1" 200 1 "${'" "'.repeat(80_000)}" "ua"`);
    expect(typeof result).toBe('string');
  });

  it('survives JSON nested past the parser stack, and does not let __proto__ reach Object.prototype', () => {
    const parser = new CloudflareParser();
    expect(parser.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)).toBe('not a JSON object');
    expect(parser.parse(`{"a":${'['.repeat(200_000)}}`)).toMatch(/not valid JSON|not a JSON object/);
    const record = parser.parse('{"__proto__":{"polluted":1},"EdgeStartTimestamp":1709283600,"ClientRequestUserAgent":{"toString":1}}');
    expect(record).toMatchObject({ userAgent: null });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads a #Fields: header of 100 000 names without trouble', () => {
    const parser = new W3cParser(null);
    const names = Array.from({ length: 100_000 }, (_, i) => `x-field-${i}`);
    expect(parser.parse(`#Fields: date time ${names.join(' ')}`)).toBeNull();
    expect(parser.parse('2024-03-01 09:00:00 a')).toMatch(/fields where #Fields: names/);
  });
});
