import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKoaExample } from '../examples/koa-app.js';
import { createExpressExample } from '../examples/express-app.js';
import { tlsRequest } from './helpers/tls-client.js';
import type { LegacyTlsServer } from '../src/index.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { hasTool } from './helpers/tools.js';

const run = promisify(execFile);

// curl and openssl s_client are the clients people actually debug with: the README's commands must work.
describe('the Koa example with command-line TLS clients', () => {
  let server: LegacyTlsServer;
  let port: number;
  let dir: string;
  let caFile: string;

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-cli-'));
    caFile = path.join(dir, 'ca.pem');
    await writeFile(caFile, cert);
    server = createKoaExample({ cert, key }).server;
    port = await listenOn(server);
  });
  afterAll(async () => {
    await closeServer(server);
    await rm(dir, { recursive: true, force: true });
  });

  const curlCases = [
    { flags: ['--tlsv1.0', '--tls-max', '1.0', '--ciphers', 'DEFAULT:@SECLEVEL=0'], version: 'TLSv1', status: '302' },
    { flags: ['--tlsv1.1', '--tls-max', '1.1', '--ciphers', 'DEFAULT:@SECLEVEL=0'], version: 'TLSv1.1', status: '302' },
    { flags: ['--tlsv1.2', '--tls-max', '1.2'], version: 'TLSv1.2', status: '200' },
    { flags: ['--tlsv1.3', '--tls-max', '1.3'], version: 'TLSv1.3', status: '200' },
  ];

  it.runIf(hasTool('curl')).each(curlCases)('curl $version gets $status', async ({ flags, status }) => {
    const { stdout } = await run('curl', [
      ...flags, '--silent', '--show-error', '--cacert', caFile,
      '--resolve', `localhost:${port}:127.0.0.1`, '--output', '/dev/null',
      '--write-out', '%{http_code} %{redirect_url}', `https://localhost:${port}/account`,
    ]);
    const [code, location] = stdout.split(' ');
    expect(code).toBe(status);
    if (status === '302') expect(location).toBe(`https://localhost:${port}/legacy-browser`);
  });

  it.runIf(hasTool('curl'))('curl over TLS 1.0 follows the redirect to a contact page', async () => {
    const { stdout } = await run('curl', [
      '--tlsv1.0', '--tls-max', '1.0', '--ciphers', 'DEFAULT:@SECLEVEL=0', '--silent', '--location',
      '--cacert', caFile, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/`,
    ]);
    expect(stdout).toContain('mailto:help@example.com');
    expect(stdout).toContain('too old to connect securely');
  });

  it.runIf(hasTool('openssl')).each([
    { flag: '-tls1', version: 'TLSv1', status: '302 Found' },
    { flag: '-tls1_1', version: 'TLSv1.1', status: '302 Found' },
    { flag: '-tls1_2', version: 'TLSv1.2', status: '200 OK' },
    { flag: '-tls1_3', version: 'TLSv1.3', status: '200 OK' },
  ])('openssl s_client $flag negotiates $version and gets $status', async ({ flag, version, status }) => {
    const output = await sClient(port, caFile, [flag, ...(flag === '-tls1_3' ? [] : ['-cipher', 'DEFAULT:@SECLEVEL=0'])]);
    expect(output).toMatch(new RegExp(`Protocol\\s*: ${version.replace('.', '\\.')}\\b`));
    expect(output).toContain('Verify return code: 0 (ok)');
    expect(output).toContain(`HTTP/1.1 ${status}`);
  });
});

function sClient(port: number, caFile: string, flags: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', caFile, '-ign_eof', ...flags],
      { timeout: 10_000 },
      (error, stdout) => (error && !stdout ? reject(error) : resolve(stdout)),
    );
    child.stdin?.end('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });
}

describe('the Express example', () => {
  it('sends TLS 1.0 to the fallback page and TLS 1.3 to the site', async () => {
    const { cert, key } = await testCertificate();
    const { server } = createExpressExample({ cert, key });
    const port = await listenOn(server);
    try {
      const old = await tlsRequest({ port, ca: cert, version: 'TLSv1' });
      expect(old.status).toBe(302);
      expect(old.headers.location).toBe('/legacy-browser');
      const modern = await tlsRequest({ port, ca: cert, version: 'TLSv1.3' });
      expect(modern.body).toBe('Welcome to the site. You connected with TLSv1.3.\n');
    } finally {
      await closeServer(server);
    }
  });
});
