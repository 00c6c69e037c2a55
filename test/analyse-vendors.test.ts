/**
 * Logs no test can make a real server write here (AWS, Cloudflare, Microsoft, a Traefik install): lines
 * built field by field from each vendor's documentation, cited at each block, including the vendors'
 * own example entries where they publish some.
 */
import { describe, expect, it } from 'vitest';
import { readLines } from './helpers/analyse.js';

describe('Caddy time formats', () => {
  // https://caddyserver.com/docs/caddyfile/directives/log#format-modifiers: `time_format` changes `ts`
  // from seconds since the epoch (the default, tested against a real Caddy in analyse-servers) to others.
  const entry = (ts: unknown) =>
    JSON.stringify({ level: 'info', ts, logger: 'http.log.access.log0', msg: 'handled request', request: { remote_ip: '192.0.2.1', proto: 'HTTP/1.1', method: 'GET', host: 'example.com', uri: '/x', headers: { 'User-Agent': ['curl/8.5.0'] }, tls: { version: 769, cipher_suite: 49171 } }, status: 200 });

  it.each([
    [1709283600.25, Date.UTC(2024, 2, 1, 9, 0, 0, 250)],
    [1709283600250, Date.UTC(2024, 2, 1, 9, 0, 0, 250)],
    ['2024-03-01T09:00:00.250Z', Date.UTC(2024, 2, 1, 9, 0, 0, 250)],
    ['01/Mar/2024:09:00:00 +0000', Date.UTC(2024, 2, 1, 9)],
    ['2024/03/01 09:00:00.250', new Date(2024, 2, 1, 9).getTime()],
  ])('reads ts %j', async (ts, time) => {
    const { records, stats } = await readLines([entry(ts)], { format: 'caddy' });
    expect(stats.unreadable).toBe(0);
    expect(records[0]).toMatchObject({ time, protocol: 'TLSv1', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', userAgent: 'curl/8.5.0' });
  });
});

describe('AWS Application Load Balancer access logs', () => {
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
  // "Access log entries" (field order) and "Example log entries" (the HTTP, HTTPS and HTTP/2 entries).
  const http =
    'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90';
  const https =
    'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90';
  const h2 =
    'h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 5 257 "GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" 1 2018-07-02T22:22:48.364000Z "redirect" "https://example.com:80/" "-" "10.0.0.66:9000" "200" "-" "-" TID_1234abcd5678ef90';
  // Same layout: an old client on TLS 1.0 with an IE 8 user agent, a path with a query, an IPv6 client.
  const legacy =
    'https 2024-03-01T09:00:00.500000Z app/my-loadbalancer/50dc6c495c0c9188 [2001:db8::7]:50123 10.0.0.1:80 0.001 0.003 0.000 404 404 120 300 "GET https://shop.example.com:443/old/page.asp?id=7 HTTP/1.1" "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)" ECDHE-RSA-AES128-SHA TLSv1 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-65e1a8b0-1111" "shop.example.com" "-" 1 2024-03-01T09:00:00.495000Z "forward" "-" "-" "10.0.0.1:80" "404" "-" "-" TID_0001';

  it('reads the documented example entries and a legacy one, detected from the lines', async () => {
    const { records, stats } = await readLines([http, https, h2, legacy]);
    expect(stats).toMatchObject({ format: 'alb', formatSource: 'detected', records: 4, unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(records[0]).toEqual({
      kind: 'request',
      time: Date.UTC(2018, 6, 2, 22, 23, 0, 186),
      protocol: null,
      cipher: null,
      userAgent: 'curl/7.46.0',
      address: '192.168.131.39',
      host: 'www.example.com',
      path: '/',
      status: 200,
      failureReason: undefined,
    });
    expect(records[1]).toMatchObject({ protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', host: 'www.example.com' });
    expect(records[2]).toMatchObject({ protocol: 'TLSv1.2', host: '10.0.2.105', address: '10.0.1.252' });
    expect(records[3]).toMatchObject({
      protocol: 'TLSv1',
      userAgent: 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)',
      address: '2001:db8::7',
      host: 'shop.example.com',
      path: '/old/page.asp',
      status: 404,
    });
  });

  it('takes entries written before AWS appended its later fields (sixteen and more)', async () => {
    const old = https.split(' "Root=')[0] as string;
    const { records, stats } = await readLines([old], { format: 'alb' });
    expect(stats.unreadable).toBe(0);
    expect(records[0]).toMatchObject({ protocol: 'TLSv1.2', host: 'www.example.com' });
  });

  it('counts a request the load balancer could not parse, without a path', async () => {
    const malformed = http.replace('"GET http://www.example.com:80/ HTTP/1.1"', '"- - - "').replace('"curl/7.46.0"', '"-"');
    const { records } = await readLines([malformed], { format: 'alb' });
    expect(records[0]).toMatchObject({ path: null, userAgent: null, status: 200 });
  });
});

describe('CloudFront standard logs', () => {
  // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
  // "Standard log file fields": tab-separated, after the #Version and #Fields lines; the user agent is
  // URL-encoded; x-host-header is the Host the viewer sent, cs(Host) the distribution's domain.
  const fields =
    '#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end';
  const row = (values: Record<string, string>) => {
    const names = fields.slice('#Fields: '.length).split(' ');
    return names.map((name) => values[name] ?? '-').join('\t');
  };
  const chrome = row({
    date: '2019-12-04',
    time: '21:02:31',
    'x-edge-location': 'LAX1',
    'sc-bytes': '392',
    'c-ip': '192.0.2.100',
    'cs-method': 'GET',
    'cs(Host)': 'd111111abcdef8.cloudfront.net',
    'cs-uri-stem': '/index.html',
    'sc-status': '200',
    'cs(User-Agent)': 'Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36',
    'x-edge-result-type': 'Hit',
    'x-edge-request-id': 'SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==',
    'x-host-header': 'www.example.com',
    'cs-protocol': 'https',
    'ssl-protocol': 'TLSv1.2',
    'ssl-cipher': 'ECDHE-RSA-AES128-GCM-SHA256',
    'cs-protocol-version': 'HTTP/2.0',
    'c-port': '11040',
  });
  const legacy = row({
    date: '2019-12-04',
    time: '21:02:32',
    'c-ip': '198.51.100.20',
    'cs(Host)': 'd111111abcdef8.cloudfront.net',
    'cs-uri-stem': '/contact',
    'sc-status': '200',
    'cs(User-Agent)': 'Mozilla/4.0%20(compatible;%20MSIE%208.0;%20Windows%20NT%205.1;%20Trident/4.0)',
    'cs-protocol': 'https',
    'ssl-protocol': 'TLSv1',
    'ssl-cipher': 'ECDHE-RSA-AES128-SHA',
  });
  const plain = row({ date: '2019-12-04', time: '21:02:33', 'c-ip': '192.0.2.7', 'cs-uri-stem': '/', 'sc-status': '301', 'cs(User-Agent)': 'curl/8.5.0', 'cs-protocol': 'http' });

  it('reads the header, decodes the user agents and tells TLS from plain HTTP', async () => {
    const { records, stats } = await readLines(['#Version: 1.0', fields, chrome, legacy, plain]);
    expect(stats).toMatchObject({ format: 'cloudfront', formatSource: 'detected', records: 3, ignored: 2, unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(records[0]).toEqual({
      kind: 'request',
      time: Date.UTC(2019, 11, 4, 21, 2, 31),
      protocol: 'TLSv1.2',
      cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36',
      address: '192.0.2.100',
      host: 'www.example.com',
      path: '/index.html',
      status: 200,
      failureReason: undefined,
    });
    expect(records[1]).toMatchObject({ protocol: 'TLSv1', userAgent: 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)', host: 'd111111abcdef8.cloudfront.net' });
    expect(records[2]).toMatchObject({ protocol: null, cipher: null, status: 301 });
  });

  it('reads concatenated files, each with its own header (older ones with fewer fields)', async () => {
    const older = '#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher';
    const olderRow = ['2014-05-23', '01:13:11', 'FRA2', '182', '192.0.2.10', 'GET', 'd111111abcdef8.cloudfront.net', '/view/my/file.html', '200', 'www.displaymyfiles.com', 'Mozilla/4.0%20(compatible;%20MSIE%205.0b1;%20Mac_PowerPC)', '-', 'zip=98101', 'RefreshHit', 'MRVMF7KydIvxMWfJIglgwHQwZsbG2IhRJ07sn9AkKUFSHS9EXAMPLE==', 'd111111abcdef8.cloudfront.net', 'https', '-', '0.001', '-', 'SSLv3', 'AES256-SHA'].join('\t');
    const { records, stats } = await readLines(['#Version: 1.0', older, olderRow, '#Version: 1.0', fields, chrome]);
    expect(stats).toMatchObject({ records: 2, unreadable: 0 });
    expect(records.map((r) => r.protocol)).toEqual(['SSLv3', 'TLSv1.2']);
    expect(records[0]?.userAgent).toBe('Mozilla/4.0 (compatible; MSIE 5.0b1; Mac_PowerPC)');
  });

  it('keeps a malformed escape as it is rather than failing the line', async () => {
    const odd = chrome.replace(/Mozilla[^\t]*/, 'Bot%2/1.0%ZZ%e2%82%ac');
    const { records } = await readLines(['#Version: 1.0', fields, odd], { format: 'cloudfront' });
    expect(records[0]?.userAgent).toBe('Bot%2/1.0%ZZ€');
  });
});

describe('IIS W3C logs with crypt-protocol', () => {
  // https://www.microsoft.com/en-us/security/blog/2017/09/07/new-iis-functionality-to-help-identify-weak-tls-usage/
  // The custom fields crypt-protocol (CRYPT_PROTOCOL), crypt-cipher, crypt-hash and crypt-keyexchange are
  // hexadecimal; "-" for plain HTTP. crypt-protocol is Schannel's SP_PROT_* flag (schannel.h:
  // SP_PROT_TLS1_0_SERVER 0x40, TLS1_1 0x100, TLS1_2 0x400, TLS1_3 0x1000, SSL3 0x10).
  // https://learn.microsoft.com/en-us/windows/win32/http/w3c-logging (fields; spaces in values become +)
  const header = [
    '#Software: Microsoft Internet Information Services 10.0',
    '#Version: 1.0',
    '#Date: 2024-03-01 00:00:00',
    '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken crypt-protocol crypt-cipher crypt-hash crypt-keyexchange',
  ];
  const lines = [
    '2024-03-01 09:00:01 10.0.0.4 GET /default.htm - 443 - 203.0.113.5 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64;+Trident/7.0;+rv:11.0)+like+Gecko - 200 0 0 15 400 660e 800d ae06',
    '2024-03-01 09:00:02 10.0.0.4 GET /default.htm - 443 - 203.0.113.6 Mozilla/4.0+(compatible;+MSIE+8.0;+Windows+NT+5.1;+Trident/4.0) - 200 0 0 31 40 6610 8004 a400',
    '2024-03-01 09:00:03 10.0.0.4 GET /api/x q=1 443 - 203.0.113.7 okhttp/4.9.0 - 200 0 0 3 1000 6610 800d ae06',
    '2024-03-01 09:00:04 10.0.0.4 GET / - 80 - 203.0.113.8 curl/8.5.0 - 302 0 0 1 - - - -',
    '2024-03-01 09:00:05 10.0.0.4 GET / - 443 - 203.0.113.9 Java/1.6.0_45 - 200 0 0 2 100 6801 8004 a400',
  ];

  it('maps crypt-protocol to versions and reads the +-for-space user agents', async () => {
    const { records, stats } = await readLines([...header, ...lines]);
    expect(stats).toMatchObject({ format: 'iis', formatSource: 'detected', records: 5, ignored: 4, unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(records.map((r) => r.protocol)).toEqual(['TLSv1.2', 'TLSv1', 'TLSv1.3', null, 'TLSv1.1']);
    expect(records.map((r) => r.cipher)).toEqual(['AES-128', 'AES-256', 'AES-256', null, 'RC4']);
    expect(records[1]).toEqual({
      kind: 'request',
      time: Date.UTC(2024, 2, 1, 9, 0, 2),
      protocol: 'TLSv1',
      cipher: 'AES-256',
      userAgent: 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)',
      address: '203.0.113.6',
      host: null,
      path: '/default.htm',
      status: 200,
      failureReason: undefined,
    });
  });

  it('follows a new #Fields: header in the middle of the file (IIS writes one when its settings change)', async () => {
    const withoutCrypt = '#Fields: date time c-ip cs-uri-stem sc-status cs(User-Agent)';
    const { records, stats } = await readLines([...header, lines[0] as string, withoutCrypt, '2024-03-01 10:00:00 203.0.113.5 /x 200 Mozilla/5.0+X']);
    expect(stats.unreadable).toBe(0);
    expect(records.map((r) => [r.protocol, r.userAgent])).toEqual([
      ['TLSv1.2', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko'],
      [null, 'Mozilla/5.0 X'],
    ]);
  });

  it('counts data lines before any #Fields: header as unreadable', async () => {
    const { stats } = await readLines([lines[0] as string, ...header, lines[1] as string], { format: 'iis' });
    expect(stats).toMatchObject({ records: 1, unreadable: 1 });
    expect(stats.unreadableSamples[0]).toMatchObject({ line: 1, reason: 'no #Fields: header before this line' });
  });
});

describe('Traefik JSON access logs', () => {
  // https://doc.traefik.io/traefik/observability/access-logs/ ("format: json", the list of fields, and
  // headers kept with `fields.headers.names.User-Agent: keep`, written as request_User-Agent).
  // TLSVersion is "1.0".."1.3" (pkg/tls GetVersion), TLSCipher the Go name of the suite.
  const entry = (fields: Record<string, unknown>) =>
    JSON.stringify({
      ClientAddr: '203.0.113.7:52000',
      ClientHost: '203.0.113.7',
      ClientPort: '52000',
      ClientUsername: '-',
      DownstreamContentSize: 2,
      DownstreamStatus: 200,
      Duration: 123456,
      OriginContentSize: 2,
      OriginDuration: 100000,
      OriginStatus: 200,
      Overhead: 23456,
      RequestAddr: 'example.com',
      RequestContentSize: 0,
      RequestCount: 1,
      RequestHost: 'example.com',
      RequestMethod: 'GET',
      RequestPath: '/a?b=1',
      RequestPort: '-',
      RequestProtocol: 'HTTP/2.0',
      RequestScheme: 'https',
      RetryAttempts: 0,
      RouterName: 'web@docker',
      ServiceAddr: '10.0.0.2:80',
      ServiceName: 'web@docker',
      StartLocal: '2024-03-01T10:00:00.123456789+01:00',
      StartUTC: '2024-03-01T09:00:00.123456789Z',
      entryPointName: 'websecure',
      level: 'info',
      msg: '',
      time: '2024-03-01T10:00:00+01:00',
      ...fields,
    });

  it('reads TLSVersion and the kept User-Agent header', async () => {
    const { records, stats } = await readLines([
      entry({ TLSVersion: '1.3', TLSCipher: 'TLS_AES_128_GCM_SHA256', 'request_User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' }),
      entry({ TLSVersion: '1.0', TLSCipher: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'request_User-Agent': 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)' }),
      entry({ RequestScheme: 'http', entryPointName: 'web', 'request_User-Agent': 'curl/8.5.0' }),
      entry({ TLSVersion: '1.2', TLSCipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'request_User-Agent': 'REDACTED' }),
    ]);
    expect(stats).toMatchObject({ format: 'traefik', formatSource: 'detected', records: 4, unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(records.map((r) => r.protocol)).toEqual(['TLSv1.3', 'TLSv1', null, 'TLSv1.2']);
    expect(records[3]?.userAgent).toBeNull();
    expect(records[0]).toMatchObject({ time: Date.UTC(2024, 2, 1, 9, 0, 0, 123), address: '203.0.113.7', host: 'example.com', path: '/a', status: 200 });
  });

  it('says so when the user agent was not kept (Traefik drops headers by default)', async () => {
    const { stats } = await readLines([entry({ TLSVersion: '1.3' }), entry({ TLSVersion: '1.2' })]);
    expect(stats).toMatchObject({ hasProtocol: true, hasUserAgent: false, records: 2 });
  });
});

describe('Cloudflare Logpush (http_requests)', () => {
  // https://developers.cloudflare.com/logs/reference/log-fields/zone/http_requests/ (field names and
  // types; ClientSSLProtocol "none" for plain HTTP) and .../logpush/ output options (EdgeStartTimestamp
  // in unixnano by default, or unix seconds, or RFC 3339).
  const entry = (fields: Record<string, unknown>) =>
    JSON.stringify({
      ClientIP: '198.51.100.9',
      ClientRequestHost: 'www.example.com',
      ClientRequestMethod: 'GET',
      ClientRequestURI: '/img/a.png?x=1',
      ClientRequestUserAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      ClientSSLCipher: 'AEAD-AES128-GCM-SHA256',
      ClientSSLProtocol: 'TLSv1.3',
      EdgeResponseStatus: 200,
      EdgeStartTimestamp: 1709283600123000000,
      RayID: '85d1f2a3b4c5d6e7',
      ...fields,
    });

  it('reads every timestamp format and "none" for plain HTTP', async () => {
    const { records, stats } = await readLines([
      entry({}),
      entry({ ClientSSLProtocol: 'TLSv1', ClientSSLCipher: 'ECDHE-RSA-AES128-SHA', ClientRequestUserAgent: 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)', EdgeStartTimestamp: 1709283601 }),
      entry({ ClientSSLProtocol: 'none', ClientSSLCipher: 'NONE', EdgeStartTimestamp: '2024-03-01T09:00:02Z' }),
    ]);
    expect(stats).toMatchObject({ format: 'cloudflare', formatSource: 'detected', records: 3, unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(records.map((r) => [r.protocol, r.cipher, r.time])).toEqual([
      ['TLSv1.3', 'AEAD-AES128-GCM-SHA256', Date.UTC(2024, 2, 1, 9, 0, 0, 123)],
      ['TLSv1', 'ECDHE-RSA-AES128-SHA', Date.UTC(2024, 2, 1, 9, 0, 1)],
      [null, null, Date.UTC(2024, 2, 1, 9, 0, 2)],
    ]);
    expect(records[0]).toMatchObject({ address: '198.51.100.9', host: 'www.example.com', path: '/img/a.png', status: 200 });
  });

  it('reads a job that pushed only some fields, and says which are missing', async () => {
    const { records, stats } = await readLines([JSON.stringify({ EdgeStartTimestamp: 1709283600, ClientSSLProtocol: 'TLSv1.1' })], { format: 'cloudflare' });
    expect(stats).toMatchObject({ hasProtocol: true, hasUserAgent: false, unreadable: 0 });
    expect(records[0]).toMatchObject({ protocol: 'TLSv1.1', userAgent: null, address: null, host: null, path: null, status: null });
  });
});
