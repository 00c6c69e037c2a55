import { execFile } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'selfsigned';
import { createLegacyTlsServer, type LegacyTlsServer } from '../src/tls/server.js';
import { tlsFacts } from '../src/tls/facts.js';
import { cipherListFor, SIGNATURE_ALGORITHMS } from '../src/tls/profiles.js';
import { resolveServerOptions } from '../src/tls/options.js';
import type { HandshakeFailure } from '../src/tls/handshake-failure.js';
import { CertificateError, InvalidOptionError } from '../src/errors.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { handshake, tlsRequest, TLS_VERSIONS } from './helpers/tls-client.js';
import { hasTool } from './helpers/tools.js';

const quiet = { warn: () => {} };

describe('createLegacyTlsServer', () => {
  let server: LegacyTlsServer;
  let port: number;
  let ca: string;
  const failures: HandshakeFailure[] = [];

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    ca = cert;
    server = createLegacyTlsServer({ cert, key }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(tlsFacts(req)));
    });
    server.on('handshakeFailure', (failure) => failures.push(failure));
    port = await listenOn(server);
  });
  afterAll(() => closeServer(server));

  it.each(TLS_VERSIONS)('completes a %s handshake and exposes its facts', async (version) => {
    const response = await tlsRequest({ port, ca, version });
    expect(response.status).toBe(200);
    const facts = JSON.parse(response.body);
    // The census read the hello: a client pinned to one version offers that version at most.
    const ja4Version = { TLSv1: '10', 'TLSv1.1': '11', 'TLSv1.2': '12', 'TLSv1.3': '13' }[version];
    expect(facts).toEqual({ protocol: version, cipher: response.cipher, servername: 'localhost', source: 'socket', offered: { maxVersion: version, ja4: expect.stringMatching(new RegExp(`^t${ja4Version}d`)) } });
  });

  it('reports a plain-HTTP request on the TLS port as a not-tls handshake failure', async () => {
    const before = failures.length;
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
      socket.resume();
      socket.on('close', () => resolve());
    });
    await until(() => failures.length > before);
    expect(failures.at(-1)).toMatchObject({ reason: 'not-tls', code: 'ERR_SSL_HTTP_REQUEST', remoteAddress: '127.0.0.1' });
  });

  it('reports a client with no cipher in common as no-shared-cipher', async () => {
    const before = failures.length;
    // ECDSA-only suites against an RSA certificate: nothing to agree on.
    const result = await handshake({ port, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    expect(result.error).toBeDefined();
    await until(() => failures.length > before);
    expect(failures.at(-1)).toMatchObject({ reason: 'no-shared-cipher', remoteAddress: '127.0.0.1' });
  });

  it('gives plain-HTTP sockets source none', () => {
    expect(tlsFacts(new net.Socket())).toEqual({ protocol: null, cipher: null, servername: null, source: 'none' });
  });
});

describe('minVersion', () => {
  it('refuses TLS 1.0 at TLSv1.2 and reports protocol-too-old', async () => {
    const { cert, key } = await testCertificate();
    const server = createLegacyTlsServer({ cert, key, minVersion: 'TLSv1.2' });
    const failures: HandshakeFailure[] = [];
    server.on('handshakeFailure', (f) => failures.push(f));
    const port = await listenOn(server);
    try {
      const old = await handshake({ port, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
      expect(old.protocol).toBeNull();
      await until(() => failures.length > 0);
      expect(failures[0]?.reason).toBe('protocol-too-old');
      expect((await handshake({ port, maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2');
    } finally {
      await closeServer(server);
    }
  });

  it('accepts TLS 1.1 but not TLS 1.0 at TLSv1.1', async () => {
    const { cert, key } = await testCertificate();
    const server = createLegacyTlsServer({ cert, key, minVersion: 'TLSv1.1' });
    const port = await listenOn(server);
    try {
      const legacy = { ciphers: 'DEFAULT:@SECLEVEL=0' };
      expect((await handshake({ port, minVersion: 'TLSv1', maxVersion: 'TLSv1', ...legacy })).protocol).toBeNull();
      expect((await handshake({ port, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ...legacy })).protocol).toBe('TLSv1.1');
    } finally {
      await closeServer(server);
    }
  });

  it('adds @SECLEVEL=0 only below TLS 1.2', () => {
    expect(cipherListFor('TLSv1')).toMatch(/:@SECLEVEL=0$/);
    expect(cipherListFor('TLSv1.1')).toMatch(/:@SECLEVEL=0$/);
    expect(cipherListFor('TLSv1.2')).not.toContain('SECLEVEL');
    // Strong AEAD suites lead the list; CBC suites for old clients come after them.
    const list = cipherListFor('TLSv1').split(':');
    expect(list.indexOf('ECDHE-RSA-AES128-GCM-SHA256')).toBeLessThan(list.indexOf('ECDHE-RSA-AES128-SHA'));
  });

  it('rejects an unknown minVersion, naming the option', () => {
    expect(() => createLegacyTlsServer({ minVersion: 'TLSv1.3' as never })).toThrow(InvalidOptionError);
    expect(() => createLegacyTlsServer({ minVersion: 'SSLv3' as never })).toThrow(/`minVersion` is "SSLv3"; expected one of 'TLSv1', 'TLSv1.1', 'TLSv1.2'/);
  });
});

// A modern client must not notice that the server also speaks TLS 1.0: same cipher as Node's defaults.
describe('cipher choice for modern clients', () => {
  const offers: Record<string, { maxVersion: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string }> = {
    'Node default, TLS 1.3': { maxVersion: 'TLSv1.3' },
    'Node default, TLS 1.2': { maxVersion: 'TLSv1.2' },
    'OpenSSL DEFAULT order, TLS 1.2': { maxVersion: 'TLSv1.2', ciphers: 'DEFAULT' },
    'OpenSSL ALL order, TLS 1.2': { maxVersion: 'TLSv1.2', ciphers: 'ALL' },
    'ChaCha first (mobile), TLS 1.2': { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256' },
    'AES-256 first, TLS 1.2': { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' },
    'Java 8 order (CBC-SHA384 first), TLS 1.2': { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA:AES256-SHA256:AES128-SHA' },
    'CBC only, TLS 1.2': { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA' },
  };

  it.each(Object.keys(offers))('%s', async (name) => {
    const { cert, key } = await testCertificate();
    const legacy = createLegacyTlsServer({ cert, key });
    const modern = https.createServer({ cert, key });
    const [legacyPort, modernPort] = [await listenOn(legacy), await listenOn(modern)];
    try {
      const offer = offers[name]!;
      const fromModern = await handshake({ port: modernPort, ...offer });
      const fromLegacy = await handshake({ port: legacyPort, ...offer });
      expect(fromModern.protocol).toBe(offer.maxVersion);
      expect(fromLegacy).toEqual(fromModern);
    } finally {
      await Promise.all([closeServer(legacy), closeServer(modern)]);
    }
  });
});

// @SECLEVEL=0 is there for the MD5+SHA1 signatures of TLS 1.0/1.1; it must not also let a TLS 1.2 client
// (which is let through to the site as modern) sign with SHA-1, which a default Node server refuses.
describe('signature algorithms at @SECLEVEL=0', () => {
  /** A default Node server and ours side by side, with the server-side error codes of each. */
  async function pair() {
    const { cert, key } = await testCertificate();
    const legacy = createLegacyTlsServer({ cert, key });
    const modern = https.createServer({ cert, key });
    const codes = { legacy: [] as (string | null)[], modern: [] as (string | null)[] };
    legacy.on('handshakeFailure', (f) => codes.legacy.push(f.code));
    modern.on('tlsClientError', (e: NodeJS.ErrnoException) => codes.modern.push(e.code ?? null));
    const ports = { legacy: await listenOn(legacy), modern: await listenOn(modern) };
    return { ports, codes, close: () => Promise.all([closeServer(legacy), closeServer(modern)]) };
  }

  it.each(['RSA+SHA1', 'RSA+SHA1:ECDSA+SHA1'])('refuses a TLS 1.2 client offering only %s exactly as a default Node server does', async (sigalgs) => {
    const { ports, codes, close } = await pair();
    try {
      // The client itself needs level 0 to offer SHA-1 at all.
      const offer = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', sigalgs, ciphers: 'DEFAULT:@SECLEVEL=0' } as const;
      const fromModern = await handshake({ port: ports.modern, ...offer });
      const fromLegacy = await handshake({ port: ports.legacy, ...offer });
      expect(fromModern.protocol).toBeNull();
      expect(fromLegacy).toEqual(fromModern);
      await until(() => codes.legacy.length > 0 && codes.modern.length > 0);
      expect(codes.legacy).toEqual(codes.modern);
      expect(codes.legacy).toEqual(['ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS']);
    } finally {
      await close();
    }
  });

  it.runIf(hasTool('openssl'))('refuses `openssl s_client -tls1_2 -sigalgs RSA+SHA1` as a default Node server does', async () => {
    const { ports, close } = await pair();
    const sClient = (port: number) =>
      new Promise<{ exit: number; cipher: string | undefined }>((resolve) => {
        const child = execFile(
          'openssl',
          ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-tls1_2', '-sigalgs', 'RSA+SHA1', '-cipher', 'DEFAULT:@SECLEVEL=0'],
          { timeout: 10_000 },
          (error, stdout) => resolve({ exit: error ? Number(error.code ?? 1) : 0, cipher: /Cipher is (\S+)/.exec(String(stdout))?.[1] }),
        );
        child.stdin?.end();
      });
    try {
      const [modern, legacy] = [await sClient(ports.modern), await sClient(ports.legacy)];
      expect(modern).toEqual({ exit: 1, cipher: '(NONE)' });
      expect(legacy).toEqual(modern);
    } finally {
      await close();
    }
  });

  it('still completes TLS 1.0 and 1.1 with an ECDSA certificate, which signs with SHA-1 there', async () => {
    const rsa = await testCertificate();
    const ec = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    const server = createLegacyTlsServer({ cert: [rsa.cert, ec.cert], key: [rsa.key, ec.private] });
    const port = await listenOn(server);
    try {
      for (const version of ['TLSv1', 'TLSv1.1'] as const) {
        const result = await handshake({ port, minVersion: version, maxVersion: version, ciphers: 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' });
        expect(result).toMatchObject({ protocol: version, cipher: 'ECDHE-ECDSA-AES128-SHA', certificateType: 'ec' });
      }
    } finally {
      await closeServer(server);
    }
  });

  it('goes with every cipher string at level 0, and leaves level 1 and a caller\'s own list alone', () => {
    const quietLogger = { warn: () => undefined };
    expect(resolveServerOptions({ logger: quietLogger }).tls.sigalgs).toBe(SIGNATURE_ALGORITHMS);
    expect(resolveServerOptions({ minVersion: 'TLSv1.2', logger: quietLogger }).tls.sigalgs).toBeUndefined();
    expect(resolveServerOptions({ minVersion: 'TLSv1.2', ciphers: 'DEFAULT:@SECLEVEL=0', logger: quietLogger }).tls.sigalgs).toBe(SIGNATURE_ALGORITHMS);
    expect(resolveServerOptions({ ciphers: 'AES128-SHA', logger: quietLogger }).tls.sigalgs).toBe(SIGNATURE_ALGORITHMS);
    expect(resolveServerOptions({ ciphers: 'DEFAULT:@SECLEVEL=1', logger: quietLogger }).tls.sigalgs).toBeUndefined();
    expect(resolveServerOptions({ sigalgs: 'RSA+SHA256', logger: quietLogger }).tls.sigalgs).toBe('RSA+SHA256');
    expect(SIGNATURE_ALGORITHMS).not.toMatch(/SHA1|sha1/);
  });
});

describe('certificates', () => {
  it('serves an ECDSA certificate next to the RSA one to clients that prefer it', async () => {
    const rsa = await testCertificate();
    const ec = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    const server = createLegacyTlsServer({ cert: [rsa.cert, ec.cert], key: [rsa.key, ec.private] });
    const port = await listenOn(server);
    try {
      const ecdsa = await handshake({ port, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
      expect(ecdsa).toMatchObject({ protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256', certificateType: 'ec' });
      // Android 2.3 / Java 6 style: plain RSA key exchange on TLS 1.0 still gets the RSA certificate.
      const old = await handshake({ port, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' });
      expect(old).toMatchObject({ protocol: 'TLSv1', cipher: 'AES128-SHA', certificateType: 'rsa' });
    } finally {
      await closeServer(server);
    }
  });

  it('generates a self-signed RSA certificate for localhost when none is given, and says so once', async () => {
    const warnings: string[] = [];
    const server = createLegacyTlsServer({ logger: { warn: (m) => warnings.push(m) } });
    const port = await listenOn(server);
    try {
      const result = await handshake({ port, maxVersion: 'TLSv1.3' });
      expect(result).toMatchObject({ protocol: 'TLSv1.3', certificateType: 'rsa' });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/self-signed certificate for localhost/);
      expect(warnings[0]).not.toContain('\n');
    } finally {
      await closeServer(server);
    }
  });

  it('refuses a cert without a key, a key of another certificate, and text that is not PEM', async () => {
    const a = await testCertificate();
    const b = await generate([{ name: 'commonName', value: 'other' }], { keySize: 2048 });
    expect(() => createLegacyTlsServer({ cert: a.cert, logger: quiet })).toThrow(/`key` is missing; `cert` and `key` go together/);
    expect(() => createLegacyTlsServer({ cert: a.cert, key: b.private })).toThrow(CertificateError);
    expect(() => createLegacyTlsServer({ cert: a.cert, key: b.private })).toThrow(/key\[0\] does not belong to cert\[0\]/);
    expect(() => createLegacyTlsServer({ cert: '/etc/ssl/cert.pem', key: a.key })).toThrow(/cert\[0\] is not a PEM certificate .*not its path/);
    expect(() => createLegacyTlsServer({ cert: [a.cert, a.cert], key: [a.key] })).toThrow(/one key per certificate/);
  });
});

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('session resumption', () => {
  // Tickets let a returning client skip the full handshake: a large share of the cost for old clients.
  it.each(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const)('resumes a %s session from a ticket', async (version) => {
    const { cert, key } = await testCertificate();
    const server = createLegacyTlsServer({ cert, key }, (_req, res) => res.end('ok'));
    const port = await listenOn(server);
    const legacy = version === 'TLSv1' || version === 'TLSv1.1' ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {};
    try {
      const first = await new Promise<Buffer>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: cert, minVersion: version, maxVersion: version, ...legacy });
        // TLS 1.3 sends its ticket after the handshake, as a 'session' event; earlier versions have it at once.
        socket.once('session', (session: Buffer) => {
          resolve(session);
          socket.end();
        });
        socket.on('error', reject);
      });
      const reused = await new Promise<boolean>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: cert, minVersion: version, maxVersion: version, session: first, ...legacy }, () => {
          resolve(socket.isSessionReused());
          socket.end();
        });
        socket.on('error', reject);
      });
      expect(reused).toBe(true);
    } finally {
      await closeServer(server);
    }
  });
});
