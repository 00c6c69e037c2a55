/**
 * The router config generator as a pure function: options validated once (nothing a user types can
 * break out of a directive), each variant accepted by the real `nginx -t` and `haproxy -c`, and the
 * connection log's reader. The configs' behaviour is in router-config-interop.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { parseRouterLogLine, resolveRouterConfig, routerConfig, type RouterConfigOptions, type RouterKind } from '../src/router-config/index.js';
import { hasStreamModule } from './helpers/daemons.js';
import { hasTool } from './helpers/tools.js';

const BASE: RouterConfigOptions = { modern: '127.0.0.1:8443', legacy: '127.0.0.1:9443' };

function check(command: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => resolve({ ok: !error, output: `${stdout}${stderr}` })));
}

describe('options', () => {
  it('resolves the defaults once', () => {
    expect(resolveRouterConfig('nginx', BASE)).toEqual({
      modern: { host: '127.0.0.1', port: 8443 },
      legacy: { host: '127.0.0.1', port: 9443 },
      listen: [{ host: '0.0.0.0', port: 443 }],
      proxyProtocol: true,
      modernProxyProtocol: false,
      log: '/var/log/nginx/legacy-tls-router.log',
      pidFile: '/run/legacy-tls-router-nginx.pid',
      errorLog: null,
      streamModule: '/usr/lib/nginx/modules/ngx_stream_module.so',
      hopSocket: '/run/legacy-tls-router-modern.sock',
      helloTimeout: 5,
      idleTimeout: 600,
      connectTimeout: 5,
      maxConnections: 4096,
    });
    expect(resolveRouterConfig('haproxy', BASE)).toMatchObject({ log: '/dev/log', pidFile: '/run/legacy-tls-router-haproxy.pid' });
  });

  it.each<[string, RouterKind, Record<string, unknown>, RegExp]>([
    ['no modern server', 'nginx', { modern: undefined }, /`modern` is missing; expected the existing TLS server that keeps modern clients/],
    ['no legacy listener', 'haproxy', { legacy: undefined }, /`legacy` is missing; expected legacy-tls-fallback's legacy-only listener/],
    ['a scheme', 'nginx', { modern: 'https://127.0.0.1:8443' }, /`modern` is "https:\/\/127\.0\.0\.1:8443"; expected host:port without a scheme/],
    ['a directive smuggled into a host', 'nginx', { modern: '127.0.0.1:8443;}include /etc/passwd' }, /`modern` is .*expected host:port/],
    ['a host with a space', 'haproxy', { legacy: { host: 'a b', port: 9443 } }, /"a b" is not an IP address or a host name/],
    ['a router that sends to itself', 'nginx', { listen: '127.0.0.1:8443' }, /`listen` is "127\.0\.0\.1:8443"; it is also where modern connections go/],
    ['the same server twice', 'nginx', { legacy: '127.0.0.1:8443' }, /`legacy` is "127\.0\.0\.1:8443"; it must differ from `modern`/],
    ['no listen address', 'nginx', { listen: [] }, /`listen` is \[\]; expected one to eight addresses/],
    ['a log path with a semicolon', 'nginx', { log: '/var/log/x.log; error_log /tmp/y' }, /`log` is .*expected an absolute path/],
    ['a relative log path', 'nginx', { log: 'router.log' }, /`log` is "router\.log"; expected an absolute path/],
    ['a log path climbing out', 'nginx', { log: '/var/log/../../etc/passwd' }, /`log` is .*expected an absolute path/],
    ['a quote in the pid file', 'haproxy', { pidFile: '/run/x"y.pid' }, /`pidFile` is .*expected an absolute path/],
    ['a HAProxy log target with a space', 'haproxy', { log: '/dev/log local7' }, /`log` is "\/dev\/log local7"; expected an HAProxy log target/],
    ['PROXY to modern only', 'nginx', { proxyProtocol: false, modernProxyProtocol: true }, /`proxyProtocol` is false; with `modernProxyProtocol` it must be true too/],
    ['proxyProtocol as a string', 'haproxy', { proxyProtocol: 'v2' }, /`proxyProtocol` is "v2"; expected true or false/],
    ['a hello timeout in milliseconds', 'nginx', { helloTimeout: 5000 }, /`helloTimeout` is 5000; expected a whole number of seconds from 1 to 60/],
    ['a stream module path with a brace', 'nginx', { streamModule: '/usr/lib/{x}.so' }, /`streamModule`/],
    ['a typo', 'nginx', { proxyProtocl: true }, /`proxyProtocl` is not an option here; did you mean `proxyProtocol`\?/],
  ])('refuses %s, naming the option and the fix', (_name, kind, change, message) => {
    const options = { ...BASE, ...change } as RouterConfigOptions;
    expect(() => routerConfig(kind, options)).toThrow(InvalidOptionError);
    expect(() => routerConfig(kind, options)).toThrow(message);
  });

  it('refuses a router it does not know', () => {
    expect(() => routerConfig('caddy' as RouterKind, BASE)).toThrow(/`router` is "caddy"; expected one of 'nginx', 'haproxy'/);
  });
});

describe('the generated text', () => {
  it('nginx: routes "", SSLv2, SSLv3, TLSv1 and TLSv1.1 to legacy and the rest to modern, PROXY header on', () => {
    const text = routerConfig('nginx', BASE);
    const map = /map \$ssl_preread_protocol \$ltf_route \{([^}]*)\}/.exec(text)?.[1] ?? '';
    const entries = map
      .trim()
      .split('\n')
      .map((line) => line.trim().replace(/;$/, '').split(/\s+/));
    expect(entries).toEqual([['""', 'legacy'], ['"SSLv2"', 'legacy'], ['"SSLv3"', 'legacy'], ['"TLSv1"', 'legacy'], ['"TLSv1.1"', 'legacy'], ['default', 'modern']]);
    expect(text).toMatch(/^\s+ssl_preread on;$/m);
    expect(text).toMatch(/^\s+proxy_protocol on;$/m);
    expect(text).toContain('upstream ltf_legacy { server 127.0.0.1:9443; }');
    // PROXY to the legacy side only: modern connections pass a hop that takes the header off again.
    expect(text).toContain('upstream ltf_modern { server unix:/run/legacy-tls-router-modern.sock; }');
    expect(text).toMatch(/listen unix:\/run\/legacy-tls-router-modern\.sock proxy_protocol;\n\s+proxy_pass 127\.0\.0\.1:8443;/);
  });

  it('nginx: no hop when the modern server takes the PROXY header too, nor without any PROXY header', () => {
    const both = routerConfig('nginx', { ...BASE, modernProxyProtocol: true });
    expect(both).toContain('upstream ltf_modern { server 127.0.0.1:8443; }');
    expect(both).not.toContain('unix:');
    const none = routerConfig('nginx', { ...BASE, proxyProtocol: false });
    expect(none).not.toContain('proxy_protocol');
    expect(none).not.toContain('unix:');
  });

  it('HAProxy: send-proxy-v2 on the legacy server line only, unless asked for both', () => {
    const text = routerConfig('haproxy', BASE);
    expect(text).toMatch(/^\s+server legacy 127\.0\.0\.1:9443 send-proxy-v2$/m);
    expect(text).toMatch(/^\s+server modern 127\.0\.0\.1:8443$/m);
    expect(text).toMatch(/^\s+use_backend ltf_modern if ltf_hello \{ req\.ssl_ver ge 3\.3 \}$/m);
    expect(text).toMatch(/^\s+default_backend ltf_legacy$/m);
    expect(routerConfig('haproxy', { ...BASE, modernProxyProtocol: true })).toMatch(/^\s+server modern 127\.0\.0\.1:8443 send-proxy-v2$/m);
    expect(routerConfig('haproxy', { ...BASE, proxyProtocol: false })).not.toContain('send-proxy');
  });

  it('puts IPv6 addresses in brackets, and every listen address in', () => {
    const options = { ...BASE, listen: ['0.0.0.0:443', '[::]:443'], modern: '[::1]:8443' };
    expect(routerConfig('nginx', options)).toMatch(/listen 0\.0\.0\.0:443;\n\s+listen \[::\]:443;/);
    expect(routerConfig('haproxy', options)).toMatch(/bind 0\.0\.0\.0:443\n\s+bind \[::\]:443/);
    expect(routerConfig('haproxy', options)).toContain('server modern [::1]:8443');
  });
});

const VARIANTS: [string, Partial<RouterConfigOptions>][] = [
  ['defaults', {}],
  ['PROXY to both', { modernProxyProtocol: true }],
  ['no PROXY', { proxyProtocol: false }],
  ['IPv4 and IPv6, other timeouts', { listen: ['127.0.0.1:10443', '[::1]:10443'], helloTimeout: 2, idleTimeout: 60, connectTimeout: 2, maxConnections: 100 }],
];

describe('accepted by the real programs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-router-check-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.runIf(hasTool('nginx') && hasStreamModule()).each(VARIANTS)('nginx -t: %s', async (_name, change) => {
    const file = path.join(dir, `nginx-${_name.replace(/\W+/g, '-')}.conf`);
    await writeFile(file, routerConfig('nginx', { ...BASE, ...change, log: path.join(dir, 'router.log'), pidFile: path.join(dir, 'nginx.pid'), hopSocket: path.join(dir, 'hop.sock'), errorLog: path.join(dir, 'error.log') }));
    const result = await check('nginx', ['-t', '-p', dir, '-c', file, '-e', path.join(dir, 'error.log')]);
    expect(result.output).toContain('syntax is ok');
    expect(result.ok, result.output).toBe(true);
  });

  it.runIf(hasTool('haproxy')).each(VARIANTS)('haproxy -c: %s', async (_name, change) => {
    const file = path.join(dir, `haproxy-${_name.replace(/\W+/g, '-')}.cfg`);
    await writeFile(file, routerConfig('haproxy', { ...BASE, ...change, pidFile: path.join(dir, 'haproxy.pid') }));
    const result = await check('haproxy', ['-c', '-f', file]);
    expect(result.output, result.output).toMatch(/Configuration file is valid/);
    expect(result.output).not.toMatch(/\[WARNING\]|\[ALERT\]/);
  });
});

describe('parseRouterLogLine', () => {
  it('reads a line of each router, and one behind a syslog prefix', () => {
    expect(parseRouterLogLine('ltf-router/1 nginx 2026-11-28T16:45:00+01:00 203.0.113.9 TLSv1 www.example.com legacy 517 4109')).toEqual({
      router: 'nginx',
      time: Date.UTC(2026, 10, 28, 15, 45, 0),
      client: '203.0.113.9',
      offered: 'TLSv1',
      serverName: 'www.example.com',
      route: 'legacy',
      bytesFromClient: 517,
      bytesToClient: 4109,
    });
    expect(parseRouterLogLine('Nov 28 16:45:00 host haproxy[123]: ltf-router/1 haproxy 2026-11-28T15:45:00+00:00 2001:db8::1 TLSv1.2+ - modern 1800 52000')).toMatchObject({
      router: 'haproxy',
      client: '2001:db8::1',
      offered: 'TLSv1.2+',
      serverName: null,
      route: 'modern',
    });
    expect(parseRouterLogLine('ltf-router/1 nginx 2026-11-28T16:45:00+00:00 127.0.0.1 - - legacy 0 0')).toMatchObject({ offered: null, serverName: null });
  });

  it.each([
    ['another format', '127.0.0.1 - - [28/Nov/2026:16:45:00 +0000] "GET / HTTP/1.1" 200 12'],
    ['a field missing', 'ltf-router/1 nginx 2026-11-28T16:45:00+00:00 127.0.0.1 TLSv1 - legacy 0'],
    ['a field too many', 'ltf-router/1 nginx 2026-11-28T16:45:00+00:00 127.0.0.1 TLSv1 a b legacy 0 0'],
    ['an unknown router', 'ltf-router/1 caddy 2026-11-28T16:45:00+00:00 127.0.0.1 TLSv1 - legacy 0 0'],
    ['an unknown version', 'ltf-router/1 nginx 2026-11-28T16:45:00+00:00 127.0.0.1 TLSv1.4 - legacy 0 0'],
    ['a bad time', 'ltf-router/1 nginx 28/Nov/2026 127.0.0.1 TLSv1 - legacy 0 0'],
    ['a quote in the name', 'ltf-router/1 nginx 2026-11-28T16:45:00+00:00 127.0.0.1 TLSv1 a"b legacy 0 0'],
    ['a host name as client', 'ltf-router/1 nginx 2026-11-28T16:45:00+00:00 example.com TLSv1 - legacy 0 0'],
    ['a negative count', 'ltf-router/1 nginx 2026-11-28T16:45:00+00:00 127.0.0.1 TLSv1 - legacy -1 0'],
    ['an unknown route', 'ltf-router/1 nginx 2026-11-28T16:45:00+00:00 127.0.0.1 TLSv1 - other 0 0'],
    ['a line past the bound', `ltf-router/1 nginx 2026-11-28T16:45:00+00:00 127.0.0.1 TLSv1 ${'a'.repeat(1100)} legacy 0 0`],
  ])('refuses %s', (_name, line) => {
    expect(parseRouterLogLine(line)).toBeNull();
  });

  it('never throws, whatever the line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.constantFrom('', 'ltf-router/1 ', 'ltf-router/1 nginx ', 'ltf-router/1 haproxy 2026-11-28T16:45:00+00:00 '), (tail, prefix) => {
        const record = parseRouterLogLine(prefix + tail);
        if (record) expect(['nginx', 'haproxy']).toContain(record.router);
      }),
      { numRuns: 3000 },
    );
  });
});
