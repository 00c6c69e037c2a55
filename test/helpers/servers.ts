import type { AddressInfo } from 'node:net';
import type { Server } from 'node:net';
import { generate } from 'selfsigned';
import { generateSelfSignedCertificate, type PemPair } from '../../src/tls/self-signed.js';

/** Listens on an ephemeral loopback port and returns it. */
export async function listenOn(server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every connection still open on it, so no test leaves sockets behind. */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closing = new Promise<void>((resolve) => server.close(() => resolve()));
  (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  await closing;
}

let certificate: Promise<PemPair> | undefined;

/** One RSA test certificate per test worker, made at run time: no key material lives in the repository. */
export function testCertificate(): Promise<PemPair> {
  certificate ??= generateSelfSignedCertificate(['localhost']);
  return certificate;
}

/** A certificate for localhost whose subject names `cn`, to tell two certificates apart (reloads). */
export async function certificateNamed(cn: string): Promise<{ cert: string; key: string }> {
  const pair = await generate([{ name: 'commonName', value: cn }], { keySize: 2048, extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }] });
  return { cert: pair.cert, key: pair.private };
}
