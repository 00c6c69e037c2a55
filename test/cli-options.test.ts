import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FLAGS, helpText, parseCliArgs, UsageError, type ParseContext } from '../src/cli/options.js';

const HTML = '<!DOCTYPE html><html><head><title>Old browser</title></head><body><p>Call us.</p></body></html>';
const UPSTREAM = ['--upstream', 'http://127.0.0.1:3000'];

/** parseCliArgs with an in-memory file system: anything not in `files` does not exist. */
function parse(argv: string[], options: { env?: Record<string, string | undefined>; files?: Record<string, string>; context?: ParseContext } = {}) {
  const files = options.files ?? {};
  const readFile = (file: string): string => {
    const text = files[file];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
    return text;
  };
  return parseCliArgs(argv, options.env ?? {}, readFile, options.context ?? {});
}

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('ERR_USAGE');
    return error as UsageError;
  }
  throw new Error('expected a UsageError, got none');
}

describe('parseCliArgs: defaults', () => {
  it('needs only --upstream; everything else has a default', () => {
    const { command, config } = parse(UPSTREAM);
    expect(command).toBe('run');
    expect(config).toEqual({
      upstream: new URL('http://127.0.0.1:3000'),
      upstreamInsecure: false,
      changeOrigin: false,
      listen: { host: '0.0.0.0', port: 8443 },
      httpListen: { host: '0.0.0.0', port: 8080 },
      certificates: [],
      stateDir: '.legacy-tls-fallback',
      minTls: 'TLSv1',
      mode: 'redirect',
      fallbackUrl: undefined,
      serverNames: [],
      fallbackPageFile: undefined,
      page: {},
      exclude: [],
      switchOff: undefined,
      notice: 'interstitial',
      hosts: undefined,
      groups: undefined,
      readiness: { threshold: 0.001, days: 14 },
      statsFile: path.join('.legacy-tls-fallback', 'stats.json'),
      reportToken: undefined,
      reportPrefix: '/_legacy-tls',
      trustedHeader: undefined,
      trustedProxies: [],
      workers: 1,
      timeouts: { headers: 10_000, request: 60_000, keepAlive: 5_000, upstreamHeaders: 30_000, upstreamBody: 60_000, shutdownGrace: 10_000, handshake: 10_000, clientHello: 5_000 },
      maxConnections: 10_000,
      maxHandshakesPerAddress: 32,
      passThrough: null,
      proxyProtocol: false,
      acceptProxyProtocol: [],
      logFormat: 'json',
      demoPage: false,
    });
  });

  it('logs pretty on a terminal, json otherwise', () => {
    expect(parse(UPSTREAM, { context: { isTTY: true } }).config.logFormat).toBe('pretty');
    expect(parse(UPSTREAM, { context: { isTTY: false } }).config.logFormat).toBe('json');
    expect(parse([...UPSTREAM, '--log-format', 'json'], { context: { isTTY: true } }).config.logFormat).toBe('json');
  });

  it('demo needs no --upstream and refuses one', () => {
    const { command, config } = parse(['demo']);
    expect(command).toBe('demo');
    // A placeholder until the demo site listens: main puts its address in.
    expect(config.upstream.href).toBe('http://127.0.0.1/');
    expect(config.demoPage).toBe(true);
    expect(config.httpListen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(usageError(() => parse(['demo', ...UPSTREAM])).message).toMatch(/--upstream cannot be used with demo/);
  });

  it('run is the default command and may be named', () => {
    expect(parse(['run', ...UPSTREAM]).command).toBe('run');
    const error = usageError(() => parse([]));
    expect(error.source).toBe('--upstream');
    expect(error.message).toContain('--upstream is missing');
    expect(error.message).toContain('demo');
  });

  it('takes the state dir from LEGACY_TLS_FALLBACK_STATE_DIR, and the stats file lives in it', () => {
    const { config } = parse(UPSTREAM, { env: { LEGACY_TLS_FALLBACK_STATE_DIR: '/var/lib/ltf' } });
    expect(config.stateDir).toBe('/var/lib/ltf');
    expect(config.statsFile).toBe('/var/lib/ltf/stats.json');
    expect(parse([...UPSTREAM, '--state-dir', '/srv/s'], { env: { LEGACY_TLS_FALLBACK_STATE_DIR: '/var/lib/ltf' } }).config.statsFile).toBe('/srv/s/stats.json');
    expect(parse(UPSTREAM, { env: { LEGACY_TLS_FALLBACK_STATE_DIR: '' } }).config.stateDir).toBe('.legacy-tls-fallback');
  });
});

describe('parseCliArgs: every flag', () => {
  it('reads every flag into the settings', () => {
    const { command, config } = parse(
      [
        '--upstream', 'https://app.internal:8443/base',
        '--upstream-insecure',
        '--change-origin',
        '--listen', '127.0.0.1:9443',
        '--http-listen', '9080',
        '--cert', 'rsa.pem', '--key', 'rsa.key',
        '--cert', 'ecdsa.pem', '--key', 'ecdsa.key',
        '--min-tls', 'TLSv1.1',
        '--mode', 'render',
        '--fallback-page', 'page.html',
        '--server-name', 'www.example.com', '--server-name', '*.example.org',
        '--exclude', '/api', '--exclude', '/static/',
        '--switch-off', '2027-03-01',
        '--notice', 'headers',
        '--hosts', '{"api.example.com": {"switchOff": "2026-12-01"}}',
        '--groups', '/api=API,/shop=Shop',
        '--readiness-threshold', '0.5%',
        '--readiness-days', '7',
        '--state-dir', '/var/lib/ltf',
        '--stats-file', '/var/log/ltf.json',
        '--report-token', 'a-long-enough-secret-token',
        '--report-prefix', '/_stats',
        '--trusted-header', 'X-TLS-Protocol',
        '--trusted-proxies', '10.0.0.0/8,loopback',
        '--trusted-proxies', '192.168.1.1',
        '--workers', '4',
        '--headers-timeout', '5000',
        '--request-timeout', '30000',
        '--keep-alive-timeout', '2000',
        '--upstream-timeout', '15000',
        '--upstream-body-timeout', '20000',
        '--shutdown-grace', '0',
        '--max-connections', '500',
        '--handshake-timeout', '8000',
        '--client-hello-timeout', '3000',
        '--max-handshakes-per-address', '0',
        '--accept-proxy-protocol', '10.0.0.1,loopback',
        '--log-format', 'pretty',
      ],
      { files: { 'page.html': HTML } },
    );
    expect(command).toBe('run');
    expect(config).toEqual({
      upstream: new URL('https://app.internal:8443/base'),
      upstreamInsecure: true,
      changeOrigin: true,
      listen: { host: '127.0.0.1', port: 9443 },
      httpListen: { host: '127.0.0.1', port: 9080 },
      certificates: [
        { certFile: 'rsa.pem', keyFile: 'rsa.key' },
        { certFile: 'ecdsa.pem', keyFile: 'ecdsa.key' },
      ],
      stateDir: '/var/lib/ltf',
      minTls: 'TLSv1.1',
      mode: 'render',
      fallbackUrl: undefined,
      serverNames: ['www.example.com', '*.example.org'],
      fallbackPageFile: 'page.html',
      page: {},
      exclude: ['/api', '/static/'],
      switchOff: '2027-03-01',
      notice: 'headers',
      hosts: { 'api.example.com': { switchOff: '2026-12-01' } },
      groups: { '/api': 'API', '/shop': 'Shop' },
      readiness: { threshold: 0.005, days: 7 },
      statsFile: '/var/log/ltf.json',
      reportToken: 'a-long-enough-secret-token',
      reportPrefix: '/_stats',
      trustedHeader: 'X-TLS-Protocol',
      trustedProxies: ['10.0.0.0/8', 'loopback', '192.168.1.1'],
      workers: 4,
      timeouts: { headers: 5000, request: 30_000, keepAlive: 2000, upstreamHeaders: 15_000, upstreamBody: 20_000, shutdownGrace: 0, handshake: 8000, clientHello: 3000 },
      maxConnections: 500,
      maxHandshakesPerAddress: 0,
      passThrough: null,
      proxyProtocol: false,
      acceptProxyProtocol: ['10.0.0.1', 'loopback'],
      logFormat: 'pretty',
      demoPage: false,
    });
  });

  it('reads --pass-through and --proxy-protocol, and names the flag that is missing', () => {
    const { config } = parse([...UPSTREAM, '--pass-through', '127.0.0.1:8443', '--proxy-protocol']);
    expect(config).toMatchObject({ passThrough: { host: '127.0.0.1', port: 8443 }, proxyProtocol: true });
    const error = usageError(() => parse([...UPSTREAM, '--proxy-protocol']));
    expect(error.source).toBe('--proxy-protocol');
    expect(error.message).toContain('--pass-through');
    expect(usageError(() => parse([...UPSTREAM, '--pass-through', 'no-port'])).source).toBe('--pass-through');
  });

  it('reads the contact details of the built-in page, and --fallback-url', () => {
    const { config } = parse([
      ...UPSTREAM,
      '--organisation', 'Example Ltd',
      '--email', 'help@example.com',
      '--phone', '+44 20 7946 0000',
      '--address', '1 High Street\nLondon',
      '--hours', 'Mon-Fri 9-17',
      '--message', 'We are sorry.',
      '--lang', 'en-GB',
    ]);
    expect(config.page).toEqual({
      organisation: 'Example Ltd',
      email: 'help@example.com',
      phone: '+44 20 7946 0000',
      address: '1 High Street\nLondon',
      hours: 'Mon-Fri 9-17',
      message: 'We are sorry.',
      lang: 'en-GB',
    });
    expect(parse([...UPSTREAM, '--fallback-url=https://help.example.com/old']).config.fallbackUrl).toBe('https://help.example.com/old');
  });

  it('accepts --flag=value and -h', () => {
    expect(parse(['--upstream=http://x.test', '--listen=8000']).config.listen).toEqual({ host: '0.0.0.0', port: 8000 });
    expect(parse(['-h']).command).toBe('help');
  });

  it('--workers auto uses the available parallelism', () => {
    expect(parse([...UPSTREAM, '--workers', 'auto']).config.workers).toBe(os.availableParallelism());
  });

  it('takes the report token from LEGACY_TLS_REPORT_TOKEN; the flag wins', () => {
    const env = { LEGACY_TLS_REPORT_TOKEN: 'token-from-the-environment' };
    expect(parse(UPSTREAM, { env }).config.reportToken).toBe('token-from-the-environment');
    expect(parse([...UPSTREAM, '--report-token', 'token-from-the-command-line'], { env }).config.reportToken).toBe('token-from-the-command-line');
  });

  it('refuses a short token from the environment, naming the variable and not showing the token', () => {
    const error = usageError(() => parse(UPSTREAM, { env: { LEGACY_TLS_REPORT_TOKEN: 'tiny-secret' } }));
    expect(error.message).toContain('$LEGACY_TLS_REPORT_TOKEN');
    expect(error.message).toMatch(/\b16\b/);
    expect(error.message).not.toContain('tiny-secret');
  });

  it.each([
    ['[::1]:8443', { host: '::1', port: 8443 }, { host: '::1', port: 8080 }],
    ['[::]:443', { host: '::', port: 443 }, { host: '::', port: 80 }],
    ['localhost:8443', { host: 'localhost', port: 8443 }, { host: 'localhost', port: 8080 }],
    [':8443', { host: '0.0.0.0', port: 8443 }, { host: '0.0.0.0', port: 8080 }],
    ['0', { host: '0.0.0.0', port: 0 }, { host: '0.0.0.0', port: 0 }],
  ])('--listen %s', (value, listen, httpListen) => {
    const { config } = parse([...UPSTREAM, '--listen', value]);
    expect(config.listen).toEqual(listen);
    expect(config.httpListen).toEqual(httpListen);
  });

  it('--http-listen takes its own host, or off', () => {
    expect(parse([...UPSTREAM, '--http-listen', '[::1]:80']).config.httpListen).toEqual({ host: '::1', port: 80 });
    expect(parse([...UPSTREAM, '--http-listen', 'off']).config.httpListen).toBeNull();
    expect(parse([...UPSTREAM, '--listen', '0', '--http-listen', '0']).config.httpListen).toEqual({ host: '0.0.0.0', port: 0 });
  });
});

describe('parseCliArgs: the config file', () => {
  const file = '/etc/ltf/config.json';

  it('reads every kind of value; paths are relative to the file', () => {
    const { config } = parse(['--config', file], {
      files: {
        [file]: JSON.stringify({
          upstream: 'http://127.0.0.1:3000',
          'upstream-insecure': true,
          listen: 8443,
          'http-listen': false,
          cert: ['rsa.pem', '/abs/ecdsa.pem'],
          key: ['rsa.key', '/abs/ecdsa.key'],
          'fallback-page': 'page.html',
          exclude: '/api',
          'trusted-header': 'x-tls-protocol',
          'trusted-proxies': 'loopback,10.0.0.1',
          'headers-timeout': 2000,
          workers: 'auto',
        }),
        '/etc/ltf/page.html': HTML,
      },
    });
    expect(config.upstream?.href).toBe('http://127.0.0.1:3000/');
    expect(config.upstreamInsecure).toBe(true);
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(config.httpListen).toBeNull();
    expect(config.certificates).toEqual([
      { certFile: '/etc/ltf/rsa.pem', keyFile: '/etc/ltf/rsa.key' },
      { certFile: '/abs/ecdsa.pem', keyFile: '/abs/ecdsa.key' },
    ]);
    expect(config.exclude).toEqual(['/api']);
    expect(config.trustedProxies).toEqual(['loopback', '10.0.0.1']);
    expect(config.timeouts.headers).toBe(2000);
    expect(config.workers).toBe(os.availableParallelism());
    expect(config.fallbackPageFile).toBe('/etc/ltf/page.html');
  });

  it('accepts a single cert and key as strings', () => {
    const { config } = parse(['--config', file], { files: { [file]: JSON.stringify({ upstream: 'http://x.test', cert: 'c.pem', key: 'k.pem' }) } });
    expect(config.certificates).toEqual([{ certFile: '/etc/ltf/c.pem', keyFile: '/etc/ltf/k.pem' }]);
  });

  it('flags win over the file, the file over the environment', () => {
    const files = {
      [file]: JSON.stringify({ upstream: 'http://from-file.test', listen: '127.0.0.1:1111', exclude: ['/file'], 'report-token': 'token-from-the-config-file', 'state-dir': 'state' }),
    };
    const { config } = parse(['--config', file, '--listen', '2222', '--exclude', '/flag'], {
      files,
      env: { LEGACY_TLS_REPORT_TOKEN: 'token-from-the-environment', LEGACY_TLS_FALLBACK_STATE_DIR: '/env/state' },
    });
    expect(config.upstream?.host).toBe('from-file.test');
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 2222 });
    expect(config.exclude).toEqual(['/flag']);
    expect(config.reportToken).toBe('token-from-the-config-file');
    expect(config.stateDir).toBe('/etc/ltf/state');
  });

  it('refuses an unknown key with a suggestion', () => {
    const error = usageError(() => parse(['--config', file], { files: { [file]: JSON.stringify({ upstream: 'http://x.test', lisen: 8443 }) } }));
    expect(error.message).toContain('"lisen" in config.json is not an option; did you mean "listen"?');
    const camel = usageError(() => parse(['--config', file], { files: { [file]: JSON.stringify({ upstream: 'http://x.test', minTls: 'TLSv1.2' }) } }));
    expect(camel.message).toContain('did you mean "min-tls"?');
    const cliOnly = usageError(() => parse(['--config', file], { files: { [file]: JSON.stringify({ upstream: 'http://x.test', config: 'other.json' }) } }));
    expect(cliOnly.source).toBe('"config" in config.json');
  });

  it('reads the switch-off plan from the config file and names the flag or key of a bad value', () => {
    const plan = { upstream: 'http://x.test', 'switch-off': '2027-03-01', hosts: { 'api.example.com': { switchOff: false, mode: 'redirect' } }, groups: { '/api': 'API' }, 'readiness-threshold': 0.002, 'readiness-days': 7 };
    const { config } = parse(['--config', file], { files: { [file]: JSON.stringify(plan) } });
    expect(config).toMatchObject({ switchOff: '2027-03-01', hosts: plan.hosts, groups: plan.groups, readiness: { threshold: 0.002, days: 7 } });
    expect(usageError(() => parse([...UPSTREAM, '--switch-off', '2027-02-30'])).message).toMatch(/--switch-off.*2027-02-30.*YYYY-MM-DD/);
    expect(usageError(() => parse([...UPSTREAM, '--hosts', '{bad'])).message).toMatch(/--hosts.*expected JSON/);
    expect(usageError(() => parse([...UPSTREAM, '--hosts', '{"api.example.com": {"mode": "off"}}'])).message).toMatch(/--hosts.*mode/);
    expect(usageError(() => parse([...UPSTREAM, '--groups', '/=Root'])).message).toMatch(/--groups.*path prefix/);
    expect(usageError(() => parse([...UPSTREAM, '--readiness-threshold', '150%'])).message).toMatch(/--readiness-threshold/);
    expect(usageError(() => parse([...UPSTREAM, '--notice', 'banner'])).message).toMatch(/--notice.*interstitial/);
  });

  it('names the key when a value in the file is bad', () => {
    const error = usageError(() => parse(['--config', file], { files: { [file]: JSON.stringify({ upstream: 'http://x.test', email: 'bad' }) } }));
    expect(error.message).toContain('"email" in config.json is "bad"');
    const type = usageError(() => parse(['--config', file], { files: { [file]: JSON.stringify({ upstream: 'http://x.test', 'change-origin': 'yes' }) } }));
    expect(type.message).toContain('"change-origin" in config.json is "yes"; expected true or false');
  });

  it('refuses a missing file, invalid JSON and a non-object', () => {
    expect(usageError(() => parse(['--config', 'nope.json'])).message).toMatch(/--config "nope.json" cannot be read \(ENOENT/);
    expect(usageError(() => parse(['--config', file], { files: { [file]: '{"upstream": ' } })).message).toContain('is not valid JSON');
    expect(usageError(() => parse(['--config', file], { files: { [file]: '["--upstream"]' } })).message).toContain('must hold a JSON object');
  });
});

describe('parseCliArgs: handshake limits', () => {
  it('shortens the ClientHello timeout to a shorter handshake timeout, and reads both from the config file', () => {
    expect(parse([...UPSTREAM, '--handshake-timeout', '2000']).config.timeouts).toMatchObject({ handshake: 2000, clientHello: 2000 });
    const files = { 'ltf.json': JSON.stringify({ upstream: 'http://127.0.0.1:3000', 'handshake-timeout': 7000, 'client-hello-timeout': 1000, 'max-handshakes-per-address': 8 }) };
    const { config } = parse(['--config', 'ltf.json'], { files });
    expect(config.timeouts).toMatchObject({ handshake: 7000, clientHello: 1000 });
    expect(config.maxHandshakesPerAddress).toBe(8);
  });
});

describe('parseCliArgs: mistakes', () => {
  it('refuses an unknown flag with a suggestion', () => {
    const error = usageError(() => parse([...UPSTREAM, '--lisen', '8443']));
    expect(error.message).toContain('unknown option --lisen; did you mean --listen?');
    expect(error.source).toBe('--lisen');
    expect(usageError(() => parse([...UPSTREAM, '--minTls', 'TLSv1'])).message).toContain('did you mean --min-tls?');
    expect(usageError(() => parse([...UPSTREAM, '--zzzzzzzzzz'])).message).toContain('see --help');
  });

  it('refuses an unknown command with a suggestion', () => {
    expect(usageError(() => parse(['dmeo'])).message).toContain('did you mean demo?');
    expect(usageError(() => parse(['demo', 'extra'])).message).toContain('unexpected argument "extra"');
  });

  it.each([
    { argv: ['--listen', '70000'], flag: '--listen', says: 'port 70000 is out of range' },
    { argv: ['--listen', 'abc'], flag: '--listen', says: 'expected [host:]port' },
    { argv: ['--listen', '::1:8443'], flag: '--listen', says: 'put an IPv6 address in brackets' },
    { argv: ['--listen', '[fe80::zz]:8443'], flag: '--listen', says: 'is not an IPv6 address' },
    { argv: ['--listen', '999.1.1.1:8443'], flag: '--listen', says: 'is not an IPv4 address or a host name' },
    { argv: ['--listen', 'bad_host:8443'], flag: '--listen', says: 'is not an IPv4 address or a host name' },
    { argv: ['--http-listen', '8443'], flag: '--http-listen', says: 'is the same port as --listen' },
    { argv: ['--http-listen', 'of'], flag: '--http-listen', says: 'or off' },
    { argv: ['--min-tls', 'SSLv3'], flag: '--min-tls', says: "expected one of 'TLSv1', 'TLSv1.1', 'TLSv1.2'" },
    { argv: ['--mode', 'x'], flag: '--mode', says: "expected one of 'redirect', 'render', 'observe'" },
    { argv: ['--workers', '0'], flag: '--workers', says: 'from 1 to 256' },
    { argv: ['--workers', 'many'], flag: '--workers', says: 'whole number of worker processes' },
    { argv: ['--headers-timeout', '10s'], flag: '--headers-timeout', says: 'without a unit' },
    { argv: ['--request-timeout', '-1'], flag: '--request-timeout', says: 'ambiguous' },
    { argv: ['--max-connections', '1.5'], flag: '--max-connections', says: 'whole number' },
    { argv: ['--headers-timeout', '90000'], flag: '--headers-timeout', says: 'so make it at most --request-timeout (60000 ms)' },
    { argv: ['--handshake-timeout', '0'], flag: '--handshake-timeout', says: 'from 100 to 600000' },
    { argv: ['--client-hello-timeout', '6000', '--handshake-timeout', '4000'], flag: '--client-hello-timeout', says: 'so make it at most --handshake-timeout (4000 ms)' },
    { argv: ['--max-handshakes-per-address', 'lots'], flag: '--max-handshakes-per-address', says: 'or 0 for no per-address cap' },
    { argv: ['--email', 'bad'], flag: '--email', says: "expected an e-mail address such as 'help@example.com'" },
    { argv: ['--phone', 'call me'], flag: '--phone', says: 'expected a phone number' },
    { argv: ['--lang', 'english!'], flag: '--lang', says: 'BCP 47' },
    { argv: ['--exclude', 'api'], flag: '--exclude', says: "expected a path prefix starting with '/'" },
    { argv: ['--fallback-url', '/relative'], flag: '--fallback-url', says: 'expected an absolute http(s) URL' },
    { argv: ['--trusted-header', 'x-tls-protocol'], flag: '--trusted-proxies', says: '--trusted-proxies is missing' },
    { argv: ['--trusted-header', 'x tls', '--trusted-proxies', 'loopback'], flag: '--trusted-header', says: 'expected an HTTP header name' },
    { argv: ['--trusted-header', 'x-tls', '--trusted-proxies', '10.0.0.0/33'], flag: '--trusted-proxies', says: 'prefix length' },
    { argv: ['--report-prefix', 'stats/'], flag: '--report-prefix', says: "expected a path such as '/_legacy-tls'" },
    { argv: ['--report-token', 'short'], flag: '--report-token', says: '16' },
    { argv: ['--cert', 'a.pem'], flag: '--key', says: 'give one --key per --cert' },
    { argv: ['--key', 'a.key'], flag: '--cert', says: 'give one --key per --cert' },
    { argv: ['--log-format', 'text'], flag: '--log-format', says: "expected one of 'json', 'pretty'" },
    { argv: ['--stats-file', 'dir/'], flag: '--stats-file', says: 'expected a file path' },
    { argv: ['--listen', '1', '--listen', '2'], flag: '--listen', says: 'is given 2 times' },
    { argv: ['--change-origin=yes'], flag: '--change-origin', says: 'does not take an argument' },
    { argv: ['--fallback-url', 'https://help.example.com', '--email', 'a@b.c'], flag: '--email', says: 'which --fallback-url replaces' },
  ])('$argv → $flag', ({ argv, flag, says }) => {
    const error = usageError(() => parse([...UPSTREAM, ...argv]));
    expect(error.message).toContain(flag);
    expect(error.message).toContain(says);
    expect(error.message).toMatch(/^legacy-tls-fallback: /);
    expect(error.source).toBe(flag);
  });

  it('refuses a missing value', () => {
    expect(usageError(() => parse(['--upstream'])).message).toContain("Option '--upstream <value>' argument missing");
  });

  it.each([
    ['ftp://x', 'ftp is not supported'],
    ['not a url', 'expected an absolute http:// or https:// URL'],
    ['http://x.test/?a=1', 'without query or fragment'],
    ['http://x.test/#top', 'without query or fragment'],
    ['http://x.test/\nevil', 'expected an absolute'],
  ])('--upstream %j is refused', (value, says) => {
    const error = usageError(() => parse(['--upstream', value]));
    expect(error.source).toBe('--upstream');
    expect(error.message).toContain(says);
  });

  it('refuses credentials in --upstream without echoing the password', () => {
    const error = usageError(() => parse(['--upstream', 'http://admin:s3cr3t-pa55@x.test/']));
    expect(error.message).toContain('--upstream');
    expect(error.message).toContain('credentials');
    expect(error.message).not.toContain('s3cr3t-pa55');
    expect(error.message).not.toContain('admin');
  });

  it('checks --fallback-page through the injected reader: exists, HTML, at most 256 KiB', () => {
    expect(usageError(() => parse([...UPSTREAM, '--fallback-page', 'missing.html'])).message).toMatch(/--fallback-page "missing.html" cannot be read \(ENOENT/);
    expect(usageError(() => parse([...UPSTREAM, '--fallback-page', 'page.txt'], { files: { 'page.txt': 'just text' } })).message).toContain('does not look like an HTML page');
    const big = `<html><body>${'x'.repeat(256 * 1024)}</body></html>`;
    expect(usageError(() => parse([...UPSTREAM, '--fallback-page', 'big.html'], { files: { 'big.html': big } })).message).toContain('keep the page under 256 KiB');
    expect(parse([...UPSTREAM, '--fallback-page', 'ok.html'], { files: { 'ok.html': HTML } }).config.fallbackPageFile).toBe('ok.html');
  });

  it('refuses --fallback-page with --fallback-url, or with contact details it would ignore', () => {
    const files = { 'p.html': HTML };
    expect(usageError(() => parse([...UPSTREAM, '--fallback-page', 'p.html', '--fallback-url', 'https://x.test/'], { files })).message).toContain('exclude each other');
    expect(usageError(() => parse([...UPSTREAM, '--fallback-page', 'p.html', '--phone', '123456'], { files })).source).toBe('--phone');
  });
});

describe('help and version', () => {
  it('--help, -h and help win over everything else, even mistakes', () => {
    expect(parse(['--help']).command).toBe('help');
    expect(parse(['--bogus', '--listen', '70000', '--help']).command).toBe('help');
    expect(parse(['help']).command).toBe('help');
    expect(parse(['--version']).command).toBe('version');
    expect(parse(['version']).command).toBe('version');
  });

  const DOCUMENTED_FLAGS = [
    'upstream', 'upstream-insecure', 'change-origin', 'listen', 'http-listen', 'cert', 'key', 'min-tls', 'mode',
    'fallback-url', 'server-name', 'fallback-page', 'organisation', 'email', 'phone', 'address', 'hours', 'message', 'lang',
    'exclude', 'stats-file', 'state-dir', 'report-token', 'report-prefix', 'trusted-header', 'trusted-proxies',
    'workers', 'headers-timeout', 'request-timeout', 'keep-alive-timeout', 'upstream-timeout',
    'upstream-body-timeout', 'shutdown-grace', 'max-connections', 'log-format', 'config', 'help', 'version',
    'handshake-timeout', 'client-hello-timeout', 'max-handshakes-per-address',
    'redis-url', 'redis-prefix', 'instance-name',
    'switch-off', 'notice', 'hosts', 'groups', 'readiness-threshold', 'readiness-days',
    'pass-through', 'proxy-protocol', 'accept-proxy-protocol',
  ];

  it('lists every flag', () => {
    const text = helpText();
    expect([...CLI_FLAGS].sort()).toEqual([...DOCUMENTED_FLAGS].sort());
    for (const flag of CLI_FLAGS) expect(text).toMatch(new RegExp(`--${flag}\\b`));
  });

  it('shows the defaults, grouped, with examples', () => {
    const text = helpText();
    for (const group of ['Upstream:', 'Listening:', 'TLS:', 'Fallback page:', 'Stats and report:', 'Proxy trust:', 'Limits and timeouts:', 'Process:', 'Logging:', 'Examples:']) {
      expect(text).toContain(`\n${group}\n`);
    }
    const lineOf = (flag: string) => text.split('\n').find((line) => line.trimStart().startsWith(`--${flag} `) || line.trimStart().startsWith(`--${flag}\t`)) ?? '';
    expect(lineOf('listen')).toContain('[default: 0.0.0.0:8443]');
    expect(lineOf('http-listen')).toContain('8080');
    expect(lineOf('min-tls')).toContain('[default: TLSv1]');
    expect(lineOf('mode')).toContain('[default: redirect]');
    expect(lineOf('report-prefix')).toContain('[default: /_legacy-tls]');
    expect(lineOf('state-dir')).toContain('$LEGACY_TLS_FALLBACK_STATE_DIR');
    expect(lineOf('stats-file')).toContain('<state-dir>/stats.json');
    expect(lineOf('report-token')).toContain('[env: $LEGACY_TLS_REPORT_TOKEN]');
    expect(lineOf('headers-timeout')).toContain('[default: 10000]');
    expect(lineOf('request-timeout')).toContain('[default: 60000]');
    expect(lineOf('keep-alive-timeout')).toContain('[default: 5000]');
    expect(lineOf('upstream-timeout')).toContain('[default: 30000]');
    expect(lineOf('upstream-body-timeout')).toContain('[default: 60000]');
    expect(lineOf('shutdown-grace')).toContain('[default: 10000]');
    expect(lineOf('max-connections')).toContain('[default: 10000]');
    expect(lineOf('handshake-timeout')).toContain('[default: 10000]');
    expect(lineOf('client-hello-timeout')).toContain('At most --handshake-timeout. [default: 5000]');
    expect(lineOf('max-handshakes-per-address')).toContain('[default: 32]');
    expect(lineOf('workers')).toContain('[default: 1]');
    expect(lineOf('log-format')).toContain('pretty on a terminal, else json');
    expect(lineOf('redis-url')).toContain('[env: $LEGACY_TLS_REDIS_URL]');
    expect(lineOf('redis-prefix')).toContain('[default: ltf:]');
    expect(text).toContain('legacy-tls-fallback demo');
  });
});
