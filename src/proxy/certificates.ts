import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolveServerOptions } from '../tls/options.js';
import type { ProxyConfig } from './config.js';

/** The PEM text of the configured certificate pairs, in order; empty lists when none is configured. */
export interface CertificatePem {
  cert: string[];
  key: string[];
}

/** Reads the certificate files as they are on disk, checked or not. */
export async function readCertificateFiles(config: Pick<ProxyConfig, 'certificates'>): Promise<CertificatePem> {
  const cert = await Promise.all(config.certificates.map((c) => readFile(c.certFile, 'utf8')));
  const key = await Promise.all(config.certificates.map((c) => readFile(c.keyFile, 'utf8')));
  return { cert, key };
}

/**
 * Reads the certificate files and checks them (PEM, key matches certificate) the way the TLS server will:
 * throws rather than return a pair the server would refuse, such as a half-renewed one.
 */
export async function loadCertificates(config: Pick<ProxyConfig, 'certificates'>): Promise<CertificatePem> {
  const pem = await readCertificateFiles(config);
  if (pem.cert.length > 0) resolveServerOptions({ ...pem, logger: { warn: () => undefined } });
  return pem;
}

/**
 * Calls `onChange` once the certificate files have changed and settled: certbot replaces the certificate
 * and the key one after the other, so a change waits `settleMs` for its partner. Returns the unwatch.
 */
export function watchCertificateFiles(config: Pick<ProxyConfig, 'certificates'>, onChange: () => Promise<unknown>, settleMs = 300): () => void {
  let pending: Promise<unknown> | undefined;
  const changed = () => {
    pending ??= new Promise<void>((resolve) => setTimeout(resolve, settleMs)).then(onChange).catch(() => undefined).finally(() => (pending = undefined));
  };
  const files = config.certificates.flatMap(({ certFile, keyFile }) => [certFile, keyFile]);
  for (const file of files) watchFile(file, { interval: 1000, persistent: false }, changed);
  return () => {
    for (const file of files) unwatchFile(file, changed);
  };
}
