/**
 * The reader against logs written by real servers: nginx, Apache, Caddy and HAProxy, each configured with
 * the protocol in its log, driven by curl (and openssl) at TLS 1.0, 1.1, 1.2 and 1.3 with a set of real
 * user agents. What the reader finds must be exactly what was sent: per protocol and user agent, the
 * number of requests; per offered version, the connections; per reason, the failed handshakes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { readLogRecords, type LogRecord, type ReadLogOptions } from '../src/analyse/index.js';
import {
  apacheModules,
  curl,
  freePort,
  inBatches,
  nginxStreamModule,
  openForAppend,
  opensslClient,
  PROTOCOL_OF,
  startServer,
  USER_AGENTS,
  VERSIONS,
  waitForLines,
  workspace,
  type RunningServer,
  type Version,
  type Workspace,
} from './helpers/log-servers.js';
import { hasTool } from './helpers/tools.js';

const PATHS = ['/a?x=1', '/b'];
const isRoot = process.getuid?.() === 0;

async function readAll(file: string, options: ReadLogOptions = {}) {
  const reader = readLogRecords([file], options);
  const records: LogRecord[] = [];
  for await (const batch of reader) records.push(...batch);
  return { records, stats: reader.inputs[0] as NonNullable<(typeof reader.inputs)[0]> };
}

/** Requests per `protocol | user agent`, the way the analysis will count them. */
function tally(records: readonly LogRecord[], kind: LogRecord['kind'] = 'request'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) {
    if (record.kind !== kind) continue;
    const key = `${record.protocol} | ${record.userAgent}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

interface Sent {
  expected: Map<string, number>;
  refused: { version: Version; userAgent: string }[];
  from: number;
  to: number;
}

/** Every user agent at every version, `PATHS.length` requests per connection. */
async function sendAll(port: number, caFile: string, versions: readonly Version[] = VERSIONS): Promise<Sent> {
  const from = Date.now();
  const expected = new Map<string, number>();
  const refused: Sent['refused'] = [];
  const tasks = versions.flatMap((version) => USER_AGENTS.map((userAgent) => async () => ({ version, userAgent, result: await curl(port, version, userAgent, PATHS, caFile) })));
  for (const { version, userAgent, result } of await inBatches(tasks)) {
    if (result.code !== 0) {
      refused.push({ version, userAgent });
      continue;
    }
    const key = `${PROTOCOL_OF[version]} | ${userAgent}`;
    expected.set(key, (expected.get(key) ?? 0) + PATHS.length);
  }
  return { expected, refused, from, to: Date.now() };
}

function expectTimesWithin(records: readonly LogRecord[], sent: { from: number; to: number }): void {
  // Logs write whole seconds (HAProxy and Caddy milliseconds): allow the second around each end.
  for (const record of records) {
    expect(record.time).toBeGreaterThanOrEqual(sent.from - 1000);
    expect(record.time).toBeLessThanOrEqual(sent.to + 1000);
  }
}

function sum(map: Map<string, number>): number {
  return [...map.values()].reduce((a, b) => a + b, 0);
}

const NGINX_TLS_FORMAT = `'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$ssl_protocol" "$ssl_cipher"'`;
// A JSON log_format as people write them, given to the reader as the line from nginx.conf.
const NGINX_JSON_FORMAT = `log_format json escape=json '{"time":"$time_iso8601","addr":"$remote_addr","host":"$host",'\n    '"uri":"$request_uri","status":$status,"ua":"$http_user_agent","tls":"$ssl_protocol","cipher":"$ssl_cipher"}';`;
const STREAM_FORMAT = `'$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received $session_time "$ssl_preread_server_name" "$ssl_preread_protocol"'`;

describe.runIf(hasTool('nginx') && hasTool('curl') && hasTool('openssl'))('nginx: access log with $ssl_protocol, stream log with $ssl_preread_protocol, error log', () => {
  let ws: Workspace;
  let nginx: RunningServer;
  let sent: Sent;
  let streamSent: Map<string, number>;
  let modernSent: Sent;
  const failures = { 'protocol-too-old': 0, 'no-shared-cipher': 0 };
  const stream = nginxStreamModule();

  beforeAll(async () => {
    ws = await workspace('ltf-analyse-nginx-');
    const [legacyPort, modernPort, streamPort] = [await freePort(), await freePort(), await freePort()];
    const dir = ws.dir;
    const config = `${stream ? `load_module ${stream};\n` : ''}${isRoot ? `user ${os.userInfo().username};\n` : ''}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  log_format tls ${NGINX_TLS_FORMAT};
  ${NGINX_JSON_FORMAT}
  server {
    listen 127.0.0.1:${legacyPort} ssl;
    ssl_certificate ${ws.certFile}; ssl_certificate_key ${ws.keyFile};
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers DEFAULT:@SECLEVEL=0;
    access_log ${dir}/access.log tls;
    access_log ${dir}/access.json json;
    location / { return 200 "ok"; }
  }
  server {
    listen 127.0.0.1:${modernPort} ssl;
    ssl_certificate ${ws.certFile}; ssl_certificate_key ${ws.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE+AESGCM;
    access_log ${dir}/modern.log tls;
    location / { return 200 "ok"; }
  }
}
${
  stream
    ? `stream {
  log_format conn ${STREAM_FORMAT};
  server {
    listen 127.0.0.1:${streamPort};
    ssl_preread on;
    proxy_pass 127.0.0.1:${legacyPort};
    access_log ${dir}/stream.log conn;
  }
}`
    : ''
}
`;
    await writeFile(path.join(dir, 'nginx.conf'), config);
    nginx = await startServer('nginx', 'nginx', ['-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], stream ? [legacyPort, modernPort, streamPort] : [legacyPort, modernPort]);
    sent = await sendAll(legacyPort, ws.certFile);
    // Through the stream router: one connection per version, each logged by the router and by the server.
    streamSent = new Map();
    if (stream) {
      for (const version of VERSIONS) {
        const result = await curl(streamPort, version, 'stream-probe/1.0', ['/via-router'], ws.certFile);
        if (result.code === 0) streamSent.set(PROTOCOL_OF[version], 1);
      }
    }
    // The modern server refuses TLS 1.0/1.1 ("unsupported protocol") and a client offering only AES-CBC
    // with RSA key exchange ("no shared cipher"); TLS 1.2 and 1.3 get through.
    modernSent = await sendAll(modernPort, ws.certFile, ['1.2', '1.3']);
    for (const version of ['1.0', '1.1'] as const) {
      const result = await curl(modernPort, version, USER_AGENTS[2] as string, ['/'], ws.certFile);
      if (result.code !== 0) failures['protocol-too-old']++;
    }
    for (let i = 0; i < 2; i++) {
      if ((await opensslClient(modernPort, ['-tls1_2', '-cipher', 'AES128-SHA'])) !== 0) failures['no-shared-cipher']++;
    }
    await nginx.stop();
  }, 120_000);

  afterAll(async () => {
    await nginx?.stop();
    await ws?.remove();
  });

  it('sent every user agent at every version (nginx accepts TLS 1.0 with @SECLEVEL=0)', () => {
    expect(sent.refused).toEqual([]);
    expect(sent.expected.size).toBe(VERSIONS.length * USER_AGENTS.length);
  });

  it('detects the combined + "$ssl_protocol" "$ssl_cipher" layout and counts exactly what was sent', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'access.log'));
    expect(stats).toMatchObject({ format: 'nginx', formatSource: 'detected', unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(stats.layout).toBe('combined + "$ssl_protocol" "$ssl_cipher"');
    const counts = tally(records);
    for (const [protocol, count] of streamSent) counts.set(`${protocol} | stream-probe/1.0`, (counts.get(`${protocol} | stream-probe/1.0`) ?? 0) - count);
    expect(new Map([...counts].filter(([, n]) => n !== 0))).toEqual(sent.expected);
    expect(records.every((r) => r.address === '127.0.0.1' && r.status === 200 && r.cipher !== null)).toBe(true);
    expect(new Set(records.map((r) => r.path))).toEqual(new Set(['/a', '/b', ...(streamSent.size > 0 ? ['/via-router'] : [])]));
    expectTimesWithin(records, { from: sent.from, to: Date.now() });
  });

  it('reads an escape=json log_format given as the nginx.conf directive', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'access.json'), { format: 'nginx', logFormat: NGINX_JSON_FORMAT });
    expect(stats).toMatchObject({ format: 'nginx', formatSource: 'given', unreadable: 0, hasProtocol: true, hasUserAgent: true });
    const counts = tally(records.filter((r) => r.userAgent !== 'stream-probe/1.0'));
    expect(counts).toEqual(sent.expected);
    expect(records.every((r) => r.host === 'localhost')).toBe(true);
    expectTimesWithin(records, { from: sent.from, to: Date.now() });
  });

  it.runIf(stream !== null)('reads the stream log: one connection record per connection, by the highest version offered', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'stream.log'));
    expect(stats).toMatchObject({ format: 'nginx-stream', formatSource: 'detected', unreadable: 0, hasProtocol: true, hasUserAgent: false });
    // The test's own readiness probes (a TCP connect, no ClientHello) are connections without a protocol.
    const probes = records.filter((r) => r.protocol === null);
    expect(probes.every((r) => r.kind === 'connection' && r.host === null)).toBe(true);
    const tls = records.filter((r) => r.protocol !== null);
    expect(tls.filter((r) => !(r.kind === 'connection' && r.host === 'localhost' && r.userAgent === null))).toEqual([]);
    const offered = new Map<string, number>();
    for (const record of tls) offered.set(String(record.protocol), (offered.get(String(record.protocol)) ?? 0) + 1);
    expect(offered).toEqual(streamSent);
    expect(streamSent.size).toBe(4);
  });

  it('reads the error log: each refused handshake once, by reason, and nothing else', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'error.log'));
    expect(stats).toMatchObject({ format: 'nginx-error', formatSource: 'detected', unreadable: 0 });
    expect(stats.ignored).toBeGreaterThan(0);
    expect(failures).toEqual({ 'protocol-too-old': 2, 'no-shared-cipher': 2 });
    const reasons: Record<string, number> = {};
    for (const record of records) {
      expect(record.kind).toBe('handshake-failure');
      expect(record.address).toBe('127.0.0.1');
      reasons[String(record.failureReason)] = (reasons[String(record.failureReason)] ?? 0) + 1;
    }
    expect(reasons).toEqual(failures);
    expectTimesWithin(records, { from: sent.from, to: Date.now() });
  });

  it('reads the modern server\'s log: only TLS 1.2 and 1.3 arrived', async () => {
    const { records } = await readAll(path.join(ws.dir, 'modern.log'));
    expect(modernSent.refused).toEqual([]);
    expect(tally(records)).toEqual(modernSent.expected);
  });
});

describe.runIf(hasTool('apache2') && hasTool('curl') && apacheModules() !== null)('Apache (mod_ssl): combined + %{SSL_PROTOCOL}x %{SSL_CIPHER}x, and ssl_request_log', () => {
  let ws: Workspace;
  let apache: RunningServer;
  let sent: Sent;
  const modules = apacheModules() as string;

  beforeAll(async () => {
    ws = await workspace('ltf-analyse-apache-');
    const port = await freePort();
    const dir = ws.dir;
    await writeFile(path.join(dir, 'index.html'), 'ok\n');
    const config = `ServerRoot ${dir}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
LoadModule mpm_event_module ${modules}/mod_mpm_event.so
LoadModule authz_core_module ${modules}/mod_authz_core.so
LoadModule socache_shmcb_module ${modules}/mod_socache_shmcb.so
LoadModule ssl_module ${modules}/mod_ssl.so
${isRoot ? 'User #65534\nGroup #65534\n' : ''}Listen 127.0.0.1:${port} https
ServerName localhost
DocumentRoot ${dir}
Mutex file:${dir} default
SSLSessionCache none
<VirtualHost 127.0.0.1:${port}>
  SSLEngine on
  SSLCertificateFile ${ws.certFile}
  SSLCertificateKeyFile ${ws.keyFile}
  SSLProtocol -all +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3
  SSLCipherSuite DEFAULT:@SECLEVEL=0
  LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\" %{SSL_PROTOCOL}x %{SSL_CIPHER}x" combinedssl
  CustomLog ${dir}/access.log combinedssl
  CustomLog ${dir}/ssl_request.log "%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x \\"%r\\" %b"
</VirtualHost>
`;
    await writeFile(path.join(dir, 'httpd.conf'), config);
    apache = await startServer('apache2', 'apache2', ['-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], [port]);
    sent = await sendAll(port, ws.certFile);
    await apache.stop();
  }, 120_000);

  afterAll(async () => {
    await apache?.stop();
    await ws?.remove();
  });

  it('sent every user agent at every version', () => {
    expect(sent.refused).toEqual([]);
  });

  it('detects the access log and counts exactly what was sent, Apache\'s \\" and \\x escapes undone', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'access.log'));
    expect(stats).toMatchObject({ formatSource: 'detected', unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(tally(records)).toEqual(sent.expected);
    expectTimesWithin(records, sent);
  });

  it('reads the same log given its LogFormat line from httpd.conf', async () => {
    const logFormat = 'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\" %{SSL_PROTOCOL}x %{SSL_CIPHER}x" combinedssl';
    const { records, stats } = await readAll(path.join(ws.dir, 'access.log'), { format: 'apache', logFormat });
    expect(stats).toMatchObject({ format: 'apache', formatSource: 'given', unreadable: 0 });
    expect(tally(records)).toEqual(sent.expected);
  });

  it('detects ssl_request_log: protocols and ciphers, no user agent (analysed by protocol alone)', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'ssl_request.log'));
    expect(stats).toMatchObject({ format: 'apache', layout: expect.stringContaining('ssl_request_log'), unreadable: 0, hasProtocol: true, hasUserAgent: false });
    const byProtocol = new Map<string, number>();
    for (const record of records) byProtocol.set(String(record.protocol), (byProtocol.get(String(record.protocol)) ?? 0) + 1);
    const expected = new Map(VERSIONS.map((v) => [PROTOCOL_OF[v], USER_AGENTS.length * PATHS.length]));
    expect(byProtocol).toEqual(expected);
    expect(records.every((r) => r.userAgent === null && r.cipher !== null)).toBe(true);
  });
});

describe.runIf(hasTool('caddy') && hasTool('curl'))('Caddy: JSON access log', () => {
  let ws: Workspace;
  let caddy: RunningServer;
  let sent: Sent;

  beforeAll(async () => {
    ws = await workspace('ltf-analyse-caddy-');
    const port = await freePort();
    const dir = ws.dir;
    // Caddy's TLS stack (Go crypto/tls, as Caddy configures it) offers TLS 1.2 and 1.3 only.
    await writeFile(
      path.join(dir, 'Caddyfile'),
      `{
  admin off
  auto_https off
  storage file_system ${dir}/data
}
https://localhost:${port} {
  tls ${ws.certFile} ${ws.keyFile}
  log {
    output file ${dir}/access.log
    format json
  }
  respond "ok"
}
`,
    );
    const env = { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
    caddy = await startServer('caddy', 'caddy', ['run', '--config', path.join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], [port], { cwd: dir, env });
    sent = await sendAll(port, ws.certFile);
    await caddy.stop();
  }, 120_000);

  afterAll(async () => {
    await caddy?.stop();
    await ws?.remove();
  });

  it('refuses TLS 1.0 and 1.1 at the handshake (so they never reach its log), serves 1.2 and 1.3', () => {
    expect(new Set(sent.refused.map((r) => r.version))).toEqual(new Set(['1.0', '1.1']));
    expect(sent.refused).toHaveLength(2 * USER_AGENTS.length);
  });

  it('counts exactly what was served, from tls.version numbers', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'access.log'));
    expect(stats).toMatchObject({ format: 'caddy', formatSource: 'detected', unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(tally(records)).toEqual(sent.expected);
    expect(records.every((r) => r.host === 'localhost' && r.status === 200 && (r.path === '/a' || r.path === '/b'))).toBe(true);
    expectTimesWithin(records, sent);
  });
});

describe.runIf(hasTool('haproxy') && hasTool('curl'))('HAProxy: option httpslog, and a log-format with %sslv', () => {
  let ws: Workspace;
  let haproxy: RunningServer;
  let sent: Sent;
  let customSent: Sent;
  let refusedHandshakes = 0;
  const custom = '%ci:%cp [%tr] %ft %ST %{+Q}r %sslv %sslc %{+Q}[capture.req.hdr(0)]';

  beforeAll(async () => {
    ws = await workspace('ltf-analyse-haproxy-');
    const [port, customPort, modernPort] = [await freePort(), await freePort(), await freePort()];
    const dir = ws.dir;
    // HAProxy logs to syslog or to its own stdout/stderr: here each frontend to one of them, each a file.
    await writeFile(
      path.join(dir, 'haproxy.cfg'),
      `global
  ssl-default-bind-ciphers DEFAULT:@SECLEVEL=0
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend builtin
  log stdout format raw local0
  bind 127.0.0.1:${port} ssl crt ${ws.pemFile} ssl-min-ver TLSv1.0
  option httpslog
  capture request header User-Agent len 512
  capture request header Host len 64
  http-request return status 200 content-type text/plain string ok
frontend modern
  log stdout format raw local0
  bind 127.0.0.1:${modernPort} ssl crt ${ws.pemFile} ssl-min-ver TLSv1.2
  option httpslog
  http-request return status 200 content-type text/plain string ok
frontend custom
  log stderr format raw local0
  bind 127.0.0.1:${customPort} ssl crt ${ws.pemFile} ssl-min-ver TLSv1.0
  log-format "${custom}"
  # req.fhdr: req.hdr would cut the user agent at its last comma ("KHTML, like Gecko").
  http-request capture req.fhdr(User-Agent) len 512
  http-request return status 200 content-type text/plain string ok
`,
    );
    const out = await openForAppend(path.join(dir, 'httpslog.log'));
    const err = await openForAppend(path.join(dir, 'custom.log'));
    haproxy = await startServer('haproxy', 'haproxy', ['-f', path.join(dir, 'haproxy.cfg'), '-db'], [port, customPort, modernPort], { stdout: out.fd, stderr: err.fd });
    sent = await sendAll(port, ws.certFile);
    customSent = await sendAll(customPort, ws.certFile);
    for (const version of ['1.0', '1.1'] as const) {
      if ((await curl(modernPort, version, USER_AGENTS[2] as string, ['/'], ws.certFile)).code !== 0) refusedHandshakes++;
    }
    await haproxy.stop();
    await out.close();
    await err.close();
  }, 120_000);

  afterAll(async () => {
    await haproxy?.stop();
    await ws?.remove();
  });

  it('sent every user agent at every version', () => {
    expect(sent.refused).toEqual([]);
    expect(customSent.refused).toEqual([]);
  });

  it('detects httpslog and finds the user agent among the captured headers', async () => {
    await waitForLines(path.join(ws.dir, 'httpslog.log'), sum(sent.expected));
    const { records, stats } = await readAll(path.join(ws.dir, 'httpslog.log'));
    expect(stats).toMatchObject({ format: 'haproxy', layout: 'httpslog', formatSource: 'detected', unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(tally(records)).toEqual(sent.expected);
    const requests = records.filter((r) => r.kind === 'request');
    expect(requests.every((r) => r.host === 'localhost' && r.status === 200 && r.address === '127.0.0.1')).toBe(true);
    expectTimesWithin(requests, sent);
  });

  it('counts the handshakes HAProxy refused (it does not log why) and skips the readiness probes', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'httpslog.log'));
    expect(refusedHandshakes).toBe(2);
    const failures = records.filter((r) => r.kind === 'handshake-failure');
    expect(failures).toHaveLength(refusedHandshakes);
    expect(failures.every((r) => r.failureReason === 'other' && r.address === '127.0.0.1')).toBe(true);
    // The readiness probes of the two ports logging here closed mid-handshake: valid lines, no record.
    expect(stats.ignored).toBe(2);
    expect(stats.unreadable).toBe(0);
  });

  it('reads a log-format with %sslv given as written in haproxy.cfg', async () => {
    const { records, stats } = await readAll(path.join(ws.dir, 'custom.log'), { format: 'haproxy', logFormat: `log-format "${custom}"` });
    expect(stats).toMatchObject({ format: 'haproxy', formatSource: 'given', unreadable: 0, hasProtocol: true, hasUserAgent: true });
    expect(tally(records)).toEqual(customSent.expected);
    expectTimesWithin(records, customSent);
  });
});
