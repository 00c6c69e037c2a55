import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveProxyConfig, type ProxyConfig, type ProxyLogger } from '../../src/proxy/config.js';
import { testCertificate } from './servers.js';

export const REPORT_TOKEN = 'proxy-test-token-0123456789';

/**
 * A proxy config on loopback with ephemeral ports and certificate files in a fresh temp dir, built by
 * `resolveProxyConfig` (so with the proxy's own defaults); `overrides` replace resolved fields as they are.
 */
/** Resolved fields to replace; `timeouts` only those given. */
export type ProxyOverrides = Omit<Partial<ProxyConfig>, 'timeouts'> & { timeouts?: Partial<ProxyConfig['timeouts']> };

export async function proxyConfig(upstream: string, overrides: ProxyOverrides = {}): Promise<ProxyConfig> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-proxy-'));
  const { cert, key } = await testCertificate();
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await writeFile(certFile, cert);
  await writeFile(keyFile, key, { mode: 0o600 });
  const config = resolveProxyConfig({
    upstream,
    listen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
    cert: [certFile],
    key: [keyFile],
    page: { organisation: 'Proxy Test Ltd', email: 'help@example.com' },
    statsFile: path.join(dir, 'stats.json'),
    reportToken: REPORT_TOKEN,
    headersTimeout: 5000,
    keepAliveTimeout: 5000,
    upstreamTimeout: 5000,
    upstreamBodyTimeout: 10_000,
    shutdownGrace: 5000,
    maxConnections: 1000,
  });
  return { ...config, ...overrides, timeouts: { ...config.timeouts, ...overrides.timeouts } };
}

export function captureLogger(): ProxyLogger & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields && { fields }) });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}
