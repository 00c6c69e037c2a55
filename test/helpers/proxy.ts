import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ProxyConfig, ProxyLogger } from '../../src/proxy/config.js';
import { testCertificate } from './servers.js';

export const REPORT_TOKEN = 'proxy-test-token-0123456789';

/** A complete proxy config on loopback, ephemeral ports, certificate files in a fresh temp dir. */
export async function proxyConfig(upstream: string, overrides: Partial<ProxyConfig> = {}): Promise<ProxyConfig> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-proxy-'));
  const { cert, key } = await testCertificate();
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await writeFile(certFile, cert);
  await writeFile(keyFile, key, { mode: 0o600 });
  return {
    upstream: new URL(upstream),
    upstreamInsecure: false,
    changeOrigin: false,
    listen: { host: '127.0.0.1', port: 0 },
    httpListen: { host: '127.0.0.1', port: 0 },
    certificates: [{ certFile, keyFile }],
    stateDir: dir,
    minTls: 'TLSv1',
    mode: 'redirect',
    fallbackUrl: undefined,
    serverNames: [],
    fallbackPageFile: undefined,
    page: { organisation: 'Proxy Test Ltd', email: 'help@example.com' },
    exclude: [],
    statsFile: path.join(dir, 'stats.json'),
    reportToken: REPORT_TOKEN,
    reportPrefix: '/_legacy-tls',
    trustedHeader: undefined,
    trustedProxies: [],
    workers: 1,
    timeouts: { headers: 5000, request: 60_000, keepAlive: 5000, upstreamHeaders: 5000, upstreamBody: 10_000, shutdownGrace: 5000 },
    maxConnections: 1000,
    logFormat: 'json',
    ...overrides,
  };
}

export function captureLogger(): ProxyLogger & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields && { fields }) });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}
