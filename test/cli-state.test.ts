import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError } from '../src/cli/options.js';
import { prepareState } from '../src/cli/state.js';
import { generateSelfSignedCertificate } from '../src/tls/self-signed.js';

function settings(...flags: string[]) {
  return parseCliArgs(['--upstream', 'http://127.0.0.1:3000', ...flags], {}, () => {
    throw new Error('no file reads expected');
  }).config;
}

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

async function fingerprint(file: string): Promise<string> {
  return new X509Certificate(await readFile(file, 'utf8')).fingerprint256;
}

describe('prepareState', () => {
  let cwd: string;

  beforeEach(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'ltf-state-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('creates the state dir (0700), a certificate and a token once, and reuses them', async () => {
    const first = await prepareState(settings(), { cwd });
    const stateDir = path.join(cwd, '.legacy-tls-fallback');
    expect(first.config.stateDir).toBe(stateDir);
    expect(await mode(stateDir)).toBe(0o700);

    expect(first.certificate).toBe('generated');
    expect(first.config.certificates).toEqual([{ certFile: path.join(stateDir, 'cert.pem'), keyFile: path.join(stateDir, 'key.pem') }]);
    expect(await mode(path.join(stateDir, 'key.pem'))).toBe(0o600);
    const x509 = new X509Certificate(await readFile(path.join(stateDir, 'cert.pem'), 'utf8'));
    expect(x509.subject).toContain('CN=localhost');

    expect(first.token).toBe('generated');
    expect(first.tokenFile).toBe(path.join(stateDir, 'report-token'));
    expect(first.config.reportToken).toMatch(/^[0-9a-f]{48}$/);
    expect(await mode(path.join(stateDir, 'report-token'))).toBe(0o600);
    expect((await readFile(path.join(stateDir, 'report-token'), 'utf8')).trim()).toBe(first.config.reportToken);

    const second = await prepareState(settings(), { cwd });
    expect(second.certificate).toBe('loaded');
    expect(second.token).toBe('loaded');
    expect(second.config.reportToken).toBe(first.config.reportToken);
    expect(await fingerprint(second.config.certificates[0]!.certFile)).toBe(x509.fingerprint256);
  });

  it('resolves relative paths against cwd', async () => {
    const { config } = await prepareState(settings('--state-dir', 'state/nested', '--stats-file', 'stats/counts.json'), { cwd });
    expect(config.stateDir).toBe(path.join(cwd, 'state/nested'));
    expect(config.statsFile).toBe(path.join(cwd, 'stats/counts.json'));
    expect(await mode(path.join(cwd, 'state/nested'))).toBe(0o700);
    const defaults = await prepareState(settings('--state-dir', 'other'), { cwd });
    expect(defaults.config.statsFile).toBe(path.join(cwd, 'other', 'stats.json'));
  });

  it('does not touch the mode of an existing state dir', async () => {
    await chmod(cwd, 0o755);
    const { config } = await prepareState(settings('--state-dir', '.', '--report-token', 'a-given-token-of-enough-length'), { cwd });
    expect(config.stateDir).toBe(cwd);
    expect(await mode(cwd)).toBe(0o755);
  });

  it('uses a given token as is and stores nothing', async () => {
    const prepared = await prepareState(settings('--report-token', 'a-given-token-of-enough-length'), { cwd });
    expect(prepared.token).toBe('given');
    expect(prepared.tokenFile).toBeUndefined();
    expect(prepared.config.reportToken).toBe('a-given-token-of-enough-length');
    await expect(stat(path.join(cwd, '.legacy-tls-fallback', 'report-token'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('uses given --cert/--key files as they are, and generates nothing', async () => {
    const { cert, key } = await generateSelfSignedCertificate(['example.test']);
    await writeFile(path.join(cwd, 'site.pem'), cert);
    await writeFile(path.join(cwd, 'site.key'), key);
    const before = await fingerprint(path.join(cwd, 'site.pem'));
    const prepared = await prepareState(settings('--cert', 'site.pem', '--key', 'site.key'), { cwd });
    expect(prepared.certificate).toBe('given');
    expect(prepared.config.certificates).toEqual([{ certFile: path.join(cwd, 'site.pem'), keyFile: path.join(cwd, 'site.key') }]);
    expect(await fingerprint(path.join(cwd, 'site.pem'))).toBe(before);
    await expect(stat(path.join(cwd, '.legacy-tls-fallback', 'cert.pem'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses given files that are missing, not PEM, or not a pair, naming the flag and the file', async () => {
    const missing = prepareState(settings('--cert', 'nope.pem', '--key', 'nope.key'), { cwd });
    await expect(missing).rejects.toBeInstanceOf(UsageError);
    await expect(missing).rejects.toThrow(/--cert ".*nope\.pem" cannot be read/);

    const a = await generateSelfSignedCertificate(['a.test']);
    const b = await generateSelfSignedCertificate(['b.test']);
    await writeFile(path.join(cwd, 'a.pem'), a.cert);
    await writeFile(path.join(cwd, 'b.key'), b.key);
    await writeFile(path.join(cwd, 'junk.pem'), 'not a certificate');
    const mismatch = prepareState(settings('--cert', 'a.pem', '--key', 'b.key'), { cwd });
    await expect(mismatch).rejects.toBeInstanceOf(UsageError);
    await expect(mismatch).rejects.toThrow(/--key ".*b\.key" does not belong to --cert ".*a\.pem"/);
    await expect(prepareState(settings('--cert', 'junk.pem', '--key', 'b.key'), { cwd })).rejects.toThrow(/--cert ".*junk\.pem" is not a PEM certificate/);
  });

  it('replaces a generated certificate that is about to expire', async () => {
    const stateDir = path.join(cwd, 'state');
    const first = await prepareState(settings('--state-dir', stateDir), { cwd });
    const expiring = await generateSelfSignedCertificate(['localhost'], 0);
    await writeFile(path.join(stateDir, 'cert.pem'), expiring.cert);
    await writeFile(path.join(stateDir, 'key.pem'), expiring.key);
    const second = await prepareState(settings('--state-dir', stateDir), { cwd });
    expect(second.certificate).toBe('renewed');
    const renewed = new X509Certificate(await readFile(path.join(stateDir, 'cert.pem'), 'utf8'));
    expect(Date.parse(renewed.validTo)).toBeGreaterThan(Date.now() + 30 * 24 * 3600 * 1000);
    expect(second.config.reportToken).toBe(first.config.reportToken);
  });

  it('refuses a damaged certificate or token in the state dir instead of overwriting it', async () => {
    const stateDir = path.join(cwd, 'state');
    await prepareState(settings('--state-dir', stateDir), { cwd });
    await writeFile(path.join(stateDir, 'report-token'), 'short\n');
    await expect(prepareState(settings('--state-dir', stateDir), { cwd })).rejects.toThrow(/report-token holds no usable report token/);
    await writeFile(path.join(stateDir, 'key.pem'), 'garbage');
    await expect(prepareState(settings('--state-dir', stateDir), { cwd })).rejects.toThrow(/delete both to have a new one generated/);
  });
});
