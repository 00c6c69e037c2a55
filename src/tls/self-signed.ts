import { generate } from 'selfsigned';

export interface PemPair {
  cert: string;
  key: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A self-signed RSA-2048 certificate for `localhost`. RSA, not ECDSA, because Android 2.3 and Java 6 know
 * only RSA key exchange: an ECDSA default would lock out exactly the clients this package is for.
 */
export async function generateSelfSignedCertificate(hostnames: readonly string[] = ['localhost'], days = 825): Promise<PemPair> {
  const now = Date.now();
  const altNames = [
    ...hostnames.map((value) => ({ type: 2 as const, value })),
    { type: 7 as const, ip: '127.0.0.1' },
    { type: 7 as const, ip: '::1' },
  ];
  const result = await generate([{ name: 'commonName', value: hostnames[0] ?? 'localhost' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + days * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: result.cert, key: result.private };
}

let processDefault: Promise<PemPair> | undefined;

/** One generated certificate per process: key generation costs about half a second. */
export function defaultSelfSignedCertificate(): Promise<PemPair> {
  processDefault ??= generateSelfSignedCertificate();
  return processDefault;
}
