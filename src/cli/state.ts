import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CertificateError, InvalidOptionError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-file.js';
import { MIN_REPORT_TOKEN_LENGTH } from '../report/options.js';
import { resolveServerOptions } from '../tls/options.js';
import { generateSelfSignedCertificate } from '../tls/self-signed.js';
import { PROGRAM, UsageError, unreadable, type CliSettings } from './options.js';

/** What `prepareState` needs from the outside world: paths in the settings are relative to `cwd`. */
export interface StateIo {
  cwd: string;
  /**
   * False in a `--workers` worker: the primary has read and checked the certificate files and hands the
   * pair over, so the worker only fills in their paths (a half-renewed pair on disk must not stop it).
   * @default true
   */
  readCertificates?: boolean;
}

export interface PreparedState {
  /** Final, absolute-path configuration for `startProxy`/`startCluster`, with the token and stats file filled in. */
  config: CliSettings & { reportToken: string; statsFile: string };
  /** `generated` and `renewed` mean a new self-signed certificate was written to the state dir. */
  certificate: 'given' | 'loaded' | 'generated' | 'renewed';
  /** `generated`: the token is new and should be shown once; it is stored in `tokenFile`. */
  token: 'given' | 'loaded' | 'generated';
  /** Where the token is kept (when not given by flag, config file or environment). */
  tokenFile: string | undefined;
}

export const CERT_FILE = 'cert.pem';
export const KEY_FILE = 'key.pem';
export const TOKEN_FILE = 'report-token';

/** A self-signed certificate this close to its end is replaced at start-up. */
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

/**
 * Creates the state dir (0700) and fills in what the settings left open: the self-signed certificate
 * (generated once, then reused, so browsers' exceptions and pinned fingerprints survive restarts) and the
 * report token (generated once into `report-token`, 0600). Given certificate files are checked, not copied.
 * Configuration mistakes throw `UsageError`; file system failures are thrown as they are.
 */
export async function prepareState(settings: CliSettings, io: StateIo): Promise<PreparedState> {
  if (settings.upstream === undefined) throw new Error('prepareState: settings.upstream must be set (main fills it in for demo)');
  const resolve = (p: string) => path.resolve(io.cwd, p);
  const stateDir = resolve(settings.stateDir);
  const created = await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // Only a directory we created is tightened: --state-dir may name an existing, shared directory.
  if (created !== undefined) await chmod(stateDir, 0o700);

  let certificates = settings.certificates.map((pair) => ({ certFile: resolve(pair.certFile), keyFile: resolve(pair.keyFile) }));
  let certificate: PreparedState['certificate'] = 'given';
  const readCertificates = io.readCertificates ?? true;
  if (certificates.length > 0) {
    if (readCertificates) await checkGivenCertificates(certificates);
  } else {
    const pair = { certFile: path.join(stateDir, CERT_FILE), keyFile: path.join(stateDir, KEY_FILE) };
    certificate = readCertificates ? await loadOrGenerateCertificate(pair.certFile, pair.keyFile) : 'loaded';
    certificates = [pair];
  }

  let reportToken = settings.reportToken;
  let token: PreparedState['token'] = 'given';
  let tokenFile: string | undefined;
  if (reportToken === undefined) {
    tokenFile = path.join(stateDir, TOKEN_FILE);
    ({ token: reportToken, status: token } = await loadOrGenerateToken(tokenFile));
  }

  return {
    config: {
      ...settings,
      upstream: settings.upstream,
      certificates,
      stateDir,
      statsFile: resolve(settings.statsFile ?? path.join(stateDir, 'stats.json')),
      fallbackPageFile: settings.fallbackPageFile === undefined ? undefined : resolve(settings.fallbackPageFile),
      reportToken,
    },
    certificate,
    token,
    tokenFile,
  };
}

async function checkGivenCertificates(pairs: { certFile: string; keyFile: string }[]): Promise<void> {
  const certs: string[] = [];
  const keys: string[] = [];
  for (const { certFile, keyFile } of pairs) {
    certs.push(await readConfigured(certFile, '--cert'));
    keys.push(await readConfigured(keyFile, '--key'));
  }
  try {
    resolveServerOptions({ cert: certs, key: keys, logger: { warn: () => undefined } });
  } catch (error) {
    if (!(error instanceof CertificateError || error instanceof InvalidOptionError)) throw error;
    // The library numbers the pairs (cert[0], key[1]); the user knows them by file name.
    const message = error.message
      .replace(/^legacy-tls-fallback: (option )?/, '')
      .replace(/`?\b(cert|key)\[(\d+)\]`?/g, (_, kind: 'cert' | 'key', i: string) => {
        const pair = pairs[Number(i)];
        return `--${kind} ${JSON.stringify(kind === 'cert' ? pair?.certFile : pair?.keyFile)}`;
      })
      .replace(/the contents of the .*? file, not its path/, 'a PEM file');
    throw new UsageError(`${PROGRAM}: ${message}`, error.message.includes('key[') ? '--key' : '--cert');
  }
}

async function readConfigured(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw unreadable(flag, file, error, 'a PEM file');
  }
}

async function loadOrGenerateCertificate(certFile: string, keyFile: string): Promise<'loaded' | 'generated' | 'renewed'> {
  const [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)]);
  if (cert !== undefined && key !== undefined) {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(cert);
      if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not belong to the certificate');
    } catch (cause) {
      throw new UsageError(
        `${PROGRAM}: the generated certificate in the state dir is not usable (${(cause as Error).message}): ${certFile}, ${keyFile}; delete both to have a new one generated, or give --cert and --key.`,
        '--state-dir',
      );
    }
    if (Date.parse(x509.validTo) - Date.now() > RENEW_BEFORE_MS) return 'loaded';
  }
  const renewing = cert !== undefined && key !== undefined;
  const pair = await generateSelfSignedCertificate(['localhost']);
  // Key first: a certificate file without its key is never left behind.
  await writeFileAtomic(keyFile, pair.key, { mode: 0o600 });
  await writeFileAtomic(certFile, pair.cert, { mode: 0o644 });
  return renewing ? 'renewed' : 'generated';
}

async function loadOrGenerateToken(file: string): Promise<{ token: string; status: 'loaded' | 'generated' }> {
  const stored = await readIfExists(file);
  if (stored !== undefined) {
    const token = stored.trim();
    if (token.length < MIN_REPORT_TOKEN_LENGTH || /\s/.test(token)) {
      throw new UsageError(
        `${PROGRAM}: ${file} holds no usable report token (expected at least ${MIN_REPORT_TOKEN_LENGTH} characters without spaces); delete it to have one generated, or give --report-token.`,
        '--state-dir',
      );
    }
    return { token, status: 'loaded' };
  }
  const token = randomBytes(24).toString('hex');
  await writeFileAtomic(file, `${token}\n`, { mode: 0o600 });
  return { token, status: 'generated' };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
