/**
 * The standalone proxy with modern traffic kept off the Node path, end to end: `passThrough` in front of
 * a real nginx (TLS 1.2+ only, HTTP/2, `proxy_protocol` on its listener), and the legacy-only mode
 * behind a router (`acceptProxyProtocol`). What the relay does on its own (WebSocket, half-close,
 * resets, back-pressure) is tested in relay-*.test.ts; here: the wiring into the proxy, the census and
 * report of every connection, the page for TLS 1.0/1.1, addresses from the PROXY header.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProxyConfig, type RunningProxy } from '../src/proxy/index.js';
import { startProxy } from '../src/proxy/app.js';
import { censusOutcome } from '../src/proxy/front.js';
import { encodeProxyV1, encodeProxyV2 } from '../src/relay/proxy-protocol.js';
import type { ReportDocument } from '../src/report/document.js';
import type { TlsProtocol } from '../src/types.js';
import { nginxUserLine, startDaemon, type Daemon } from './helpers/daemons.js';
import { recordingUpstream, type SeenRequest } from './helpers/hostile-raw.js';
import { captureLogger, proxyConfig, REPORT_TOKEN } from './helpers/proxy.js';
import { closeServer, listenOn } from './helpers/servers.js';
import { hasTool } from './helpers/tools.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const legacy = (version: TlsProtocol) => version === 'TLSv1' || version === 'TLSv1.1';

/** One HTTP/1.1 request on a TLS connection pinned to `version`; the raw answer. */
function request(port: number, ca: string, version: TlsProtocol, target = '/', prefix?: Buffer, headers = ''): Promise<{ status: number; text: string; local: number }> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', reject);
    raw.once('connect', () => {
      if (prefix) raw.write(prefix);
      const socket = tls.connect({ socket: raw, servername: 'localhost', ca, minVersion: version, maxVersion: version, ...(legacy(version) && { ciphers: 'DEFAULT:@SECLEVEL=0' }) });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('secureConnect', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`));
      socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), text, local: raw.localPort! }));
    });
  });
}

/**
 * The report over TLS 1.1: with the pass-through every TLS 1.2+ connection goes to the existing server,
 * and only what is terminated here reaches the report (see the integration notes).
 */
async function report(proxy: RunningProxy, ca: string): Promise<ReportDocument> {
  const url = new URL(`${proxy.urls.report}report.json`);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(url.port), servername: 'localhost', ca, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }, () =>
      socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${REPORT_TOKEN}\r\nConnection: close\r\n\r\n`),
    );
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as ReportDocument));
  });
}

describe.runIf(hasTool('nginx'))('--pass-through in front of a real nginx', () => {
  let dir: string;
  let ca: string;
  let nginx: Daemon;
  let upstream: http.Server;
  const seen: SeenRequest[] = [];
  let proxy: RunningProxy;
  let port: number;
  let logger: ReturnType<typeof captureLogger>;

  beforeAll(async () => {
    upstream = recordingUpstream(seen);
    const upstreamPort = await listenOn(upstream);
    const config = await proxyConfig(`http://127.0.0.1:${upstreamPort}`);
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-pass-through-'));
    const { certFile, keyFile } = config.certificates[0]!;
    ca = (await import('node:fs')).readFileSync(certFile, 'utf8');
    // The site behind nginx hashes uploads.
    const site = http.createServer((req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => ((bytes += chunk.length), hash.update(chunk)));
      req.on('end', () => res.end(JSON.stringify({ sha256: hash.digest('hex'), bytes })));
    });
    const sitePort = await listenOn(site);
    upstream.on('close', () => site.close());
    nginx = await startDaemon({
      name: 'nginx',
      ports: 1,
      config: (d, [nginxPort]) => `${nginxUserLine()}worker_processes 1;
pid ${d}/nginx.pid;
events { worker_connections 512; }
http {
  access_log off;
  error_log ${d}/error.log info;
  client_body_temp_path ${d}/body;
  proxy_temp_path ${d}/proxy;
  fastcgi_temp_path ${d}/fastcgi;
  uwsgi_temp_path ${d}/uwsgi;
  scgi_temp_path ${d}/scgi;
  server {
    listen 127.0.0.1:${nginxPort} ssl http2 proxy_protocol;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 100m;
    add_header X-Proxy-Protocol-Addr $proxy_protocol_addr always;
    add_header X-Proxy-Protocol-Port $proxy_protocol_port always;
    add_header X-Server-Protocol $server_protocol always;
    location /upload { proxy_pass http://127.0.0.1:${sitePort}; proxy_request_buffering off; }
    location / { return 200 "modern site over $ssl_protocol"; }
  }
}
`,
    });
    logger = captureLogger();
    proxy = await startProxy({ ...config, passThrough: { host: '127.0.0.1', port: nginx.ports[0]! }, proxyProtocol: true }, logger);
    port = Number(new URL(proxy.urls.https).port);
  });

  afterAll(async () => {
    await proxy?.close(0);
    await nginx?.stop();
    if (upstream) await closeServer(upstream);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('negotiates HTTP/2 with nginx through the proxy port, the client address in the PROXY v2 header', async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: 'localhost' });
    await once(session, 'connect');
    expect(session.alpnProtocol).toBe('h2');
    const local = session.socket.localPort;
    const stream = session.request({ ':path': '/', ':authority': 'localhost' });
    const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    let body = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    await once(stream, 'end');
    session.close();
    expect(body).toBe('modern site over TLSv1.3');
    expect(headers['x-server-protocol']).toBe('HTTP/2.0');
    expect(headers['x-proxy-protocol-addr']).toBe('127.0.0.1');
    expect(headers['x-proxy-protocol-port']).toBe(String(local));
  });

  it.each(['TLSv1.2', 'TLSv1.3'] as const)('relays %s clients to nginx', async (version) => {
    const answer = await request(port, ca, version);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain(`modern site over ${version}`);
  });

  it.each(['TLSv1', 'TLSv1.1'] as const)('terminates %s here and sends it to the fallback page, as without the pass-through', async (version) => {
    const answer = await request(port, ca, version, '/account');
    expect(answer.status).toBe(302);
    expect(answer.text).toMatch(/location: \/legacy-browser/i);
    expect(seen.some((r) => r.url === '/account')).toBe(false);
  });

  it('relays an upload byte for byte', async () => {
    const body = randomBytes(LONG ? 50 * 1024 * 1024 : 4 * 1024 * 1024);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ALPNProtocols: ['http/1.1'] }, () => {
        socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
        socket.write(body);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(JSON.parse(/\{[^}]*\}/.exec(answer)![0])).toEqual({ sha256: sha256(body), bytes: body.length });
  }, 60_000);

  it('counts every connection in the census, relayed or not, and says which figures are per request', async () => {
    const before = (await report(proxy, ca)).windows['24h'];
    await request(port, ca, 'TLSv1.3');
    await request(port, ca, 'TLSv1');
    const after = (await report(proxy, ca)).windows['24h'];
    expect(after.offered.byVersion.TLSv1 - before.offered.byVersion.TLSv1).toBe(1);
    expect(after.offered.byVersion['TLSv1.3'] - before.offered.byVersion['TLSv1.3']).toBeGreaterThanOrEqual(1);
    // Terminated here: the TLS 1.0 request, and the TLS 1.1 connection that fetched this report.
    expect(after.offered.byVersion['TLSv1.1'] - before.offered.byVersion['TLSv1.1']).toBe(1);
    expect(after.passThrough.terminated - before.passThrough.terminated).toBe(2);
    expect(after.passThrough.relayed).toBeGreaterThan(before.passThrough.relayed);
    // Requests are counted for terminated connections only.
    expect(after.requests.byProtocol['TLSv1.3']).toBe(0);
    expect(after.requests.byProtocol.TLSv1).toBeGreaterThan(0);
  });

  it('resets clients when the existing server is down, and logs it with the count', async () => {
    const gone = net.createServer();
    const closed = await listenOn(gone);
    await closeServer(gone);
    const config = await proxyConfig('http://127.0.0.1:9');
    const downLogger = captureLogger();
    // A port nothing listens on any more.
    const down = await startProxy({ ...config, passThrough: { host: '127.0.0.1', port: closed } }, downLogger);
    try {
      const downPort = Number(new URL(down.urls.https).port);
      for (let i = 0; i < 3; i++) {
        const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
          const socket = tls.connect({ host: '127.0.0.1', port: downPort, servername: 'localhost', ca }, () => resolve(null));
          socket.on('error', resolve);
        });
        expect(error?.code).toBe('ECONNRESET');
      }
      const lines = downLogger.lines.filter((l) => l.message.startsWith('the existing TLS server could not be reached'));
      // The first at once, the rest held for the next minute's line: at most one line a minute.
      expect(lines).toHaveLength(1);
      expect(lines[0]!.fields).toMatchObject({ code: 'ECONNREFUSED', count: 1 });
      // A legacy client still gets its page: it never needed the existing server.
      expect((await request(downPort, ca, 'TLSv1')).status).toBe(302);
    } finally {
      await down.close(0);
    }
  });
});

const LONG = process.env.LONG_TESTS === '1';

describe('legacy-only behind a router: --accept-proxy-protocol', () => {
  let upstream: http.Server;
  const seen: SeenRequest[] = [];
  let proxy: RunningProxy;
  let port: number;
  let ca: string;
  let logger: ReturnType<typeof captureLogger>;

  beforeAll(async () => {
    upstream = recordingUpstream(seen);
    const config = await proxyConfig(`http://127.0.0.1:${await listenOn(upstream)}`);
    ca = (await import('node:fs')).readFileSync(config.certificates[0]!.certFile, 'utf8');
    logger = captureLogger();
    proxy = await startProxy({ ...config, acceptProxyProtocol: ['loopback'] }, logger);
    port = Number(new URL(proxy.urls.https).port);
  });
  afterAll(async () => {
    await proxy?.close(0);
    await closeServer(upstream);
  });

  it('takes the visitor address from a PROXY v1 or v2 header of a configured router', async () => {
    const v1 = await request(port, ca, 'TLSv1.2', '/v1', encodeProxyV1({ address: '203.0.113.7', port: 40001 }, { address: '127.0.0.1', port })!);
    expect(v1.status).toBe(200);
    const v2 = await request(port, ca, 'TLSv1.3', '/v2', encodeProxyV2({ address: '2001:db8::9', port: 40002 }, { address: '::1', port })!);
    expect(v2.status).toBe(200);
    expect(seen.find((r) => r.url === '/v1')?.headers['x-forwarded-for']).toBe('203.0.113.7');
    expect(seen.find((r) => r.url === '/v2')?.headers['x-forwarded-for']).toBe('2001:db8::9');
    const page = await request(port, ca, 'TLSv1', '/old', encodeProxyV2({ address: '198.51.100.1', port: 40003 }, { address: '127.0.0.1', port })!);
    expect(page.status).toBe(302);
  });

  it('refuses a connection without a header, and one from an address that is no router', async () => {
    await expect(request(port, ca, 'TLSv1.3')).rejects.toThrow();
    const config = await proxyConfig('http://127.0.0.1:9');
    const strict = await startProxy({ ...config, acceptProxyProtocol: ['10.9.9.9'] }, captureLogger());
    try {
      const strictPort = Number(new URL(strict.urls.https).port);
      await expect(request(strictPort, ca, 'TLSv1.3', '/', encodeProxyV1({ address: '203.0.113.7', port: 1 }, { address: '127.0.0.1', port: strictPort })!)).rejects.toThrow();
    } finally {
      await strict.close(0);
    }
    expect(logger.lines.some((l) => l.message.startsWith('connections refused'))).toBe(true);
  });
});

describe('pass-through options', () => {
  it('refuses a PROXY header without a server to send it to, and workers with the pass-through', () => {
    expect(() => resolveProxyConfig({ upstream: 'http://127.0.0.1:3000', proxyProtocol: true })).toThrow(/passThrough/);
    expect(() => resolveProxyConfig({ upstream: 'http://127.0.0.1:3000', passThrough: '127.0.0.1:8443', workers: 2 })).toThrow(/workers/);
    expect(() => resolveProxyConfig({ upstream: 'http://127.0.0.1:3000', passThrough: 'nowhere' })).toThrow(/passThrough/);
    expect(() => resolveProxyConfig({ upstream: 'http://127.0.0.1:3000', acceptProxyProtocol: ['not an address'] })).toThrow(/acceptProxyProtocol/);
    expect(resolveProxyConfig({ upstream: 'http://127.0.0.1:3000', passThrough: '127.0.0.1:8443', proxyProtocol: true })).toMatchObject({ passThrough: { host: '127.0.0.1', port: 8443 }, proxyProtocol: true });
  });

  it('labels relay records as the census does', () => {
    expect(censusOutcome({ outcome: 'relayed', maxVersion: 0x0304, fault: null })).toBe('TLSv1.3');
    expect(censusOutcome({ outcome: 'terminated', maxVersion: 0x0301, fault: null })).toBe('TLSv1');
    expect(censusOutcome({ outcome: 'terminated', maxVersion: null, fault: 'too-large-message' })).toBe('unreadable');
    expect(censusOutcome({ outcome: 'not-tls', maxVersion: null, fault: 'http' })).toBe('not-tls');
    expect(censusOutcome({ outcome: 'hello-timeout', maxVersion: null, fault: null })).toBe('no-hello');
  });
});

