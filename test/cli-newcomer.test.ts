/**
 * What a newcomer tripped over on a clean clone (issue 10, "What a newcomer tripped over"): the
 * plain-HTTP port, the error messages, and the demo's contact details.
 */
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { locateJsonError } from '../src/cli/json-error.js';
import { defaultHttpPort } from '../src/proxy/config.js';
import { DEMO_PAGE, helpText, parseCliArgs, UsageError, unreadable } from '../src/cli/options.js';
import { runCli } from '../src/cli/main.js';
import { prepareState } from '../src/cli/state.js';
import { contactWarning, shellWord } from '../src/cli/warnings.js';
import { cliHarness } from './helpers/cli-harness.js';
import { testCertificate } from './helpers/servers.js';
import { tlsRequest } from './helpers/tls-client.js';

const BIN = path.join(import.meta.dirname, '../src/cli/bin.ts');
const NOBODY = 65534;

const UPSTREAM = ['--upstream', 'http://127.0.0.1:3000'];

function parse(argv: string[], files: Record<string, string | NodeJS.ErrnoException> = {}) {
  const readFile = (file: string): string => {
    const entry = files[file];
    if (entry === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
    if (typeof entry !== 'string') throw entry;
    return entry;
  };
  return parseCliArgs(argv, {}, readFile, {});
}

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError, got none');
}

/** What fs.readFileSync throws for a file the process may not read. */
function errno(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: permission denied, open '${file}'`), { code, errno: -13, syscall: 'open', path: file });
}

describe('the plain-HTTP port follows --listen', () => {
  it.each([
    [443, 80],
    [8443, 8080],
    [9443, 9080],
    [10443, 10080],
    [0, 0],
    [3000, 8080],
    [8444, 8080],
  ])('HTTPS %i → HTTP %i', (https, http) => {
    expect(defaultHttpPort(https)).toBe(http);
    expect(parse([...UPSTREAM, '--listen', String(https)]).config.httpListen).toEqual({ host: '0.0.0.0', port: http });
  });

  it('two instances on the usual ports do not collide on 8080', () => {
    const a = parse([...UPSTREAM, '--listen', '8443']).config.httpListen;
    const b = parse([...UPSTREAM, '--listen', '9443']).config.httpListen;
    expect(a?.port).not.toBe(b?.port);
  });

  it('refuses --listen 8080 alone, which would collide with its own plain-HTTP default, and says what to give', () => {
    const error = usageError(() => parse([...UPSTREAM, '--listen', '8080']));
    expect(error.source).toBe('--listen');
    expect(error.message).toContain('--http-listen');
    expect(error.message).toContain('off');
    expect(parse([...UPSTREAM, '--listen', '8080', '--http-listen', 'off']).config.httpListen).toBeNull();
    expect(parse([...UPSTREAM, '--listen', '8080', '--http-listen', '8081']).config.httpListen).toEqual({ host: '0.0.0.0', port: 8081 });
  });

  it('--help states the rule', () => {
    const line = helpText().split('\n').find((l) => l.trimStart().startsWith('--http-listen ')) ?? '';
    expect(line).toContain('port 80 for --listen 443');
    expect(line).toContain('N080 for N443 (8443 gives 8080)');
    expect(line).toContain('any free port for 0');
  });
});

describe('error messages', () => {
  it('a certificate, page or config file the process may not read is a permission problem, with the user and the fix', () => {
    for (const code of ['EACCES', 'EPERM']) {
      const error = unreadable('--key', '/etc/letsencrypt/live/x/privkey.pem', errno(code, '/etc/letsencrypt/live/x/privkey.pem'), 'a PEM file');
      expect(error.message).toContain('--key "/etc/letsencrypt/live/x/privkey.pem" cannot be read: permission denied');
      expect(error.message).toContain(code);
      expect(error.message).toMatch(/user "[^"]+" \(uid \d+\)|uid \d+/);
      expect(error.message).toContain('read access');
      expect(error.message).not.toContain('give the path of');
      expect(error.source).toBe('--key');
    }
    const page = usageError(() => parse([...UPSTREAM, '--fallback-page', 'page.html'], { 'page.html': errno('EACCES', 'page.html') }));
    expect(page.message).toContain('--fallback-page "page.html" cannot be read: permission denied (EACCES)');
    const config = usageError(() => parse(['--config', 'ltf.json'], { 'ltf.json': errno('EACCES', 'ltf.json') }));
    expect(config.message).toContain('--config "ltf.json" cannot be read: permission denied (EACCES)');
  });

  it('a --key the process really may not read says so, naming the user', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-eacces-'));
    try {
      await chmod(dir, 0o755);
      const { cert, key } = await testCertificate();
      const certFile = path.join(dir, 'cert.pem');
      const keyFile = path.join(dir, 'key.pem');
      await writeFile(certFile, cert, { mode: 0o644 });
      await writeFile(keyFile, key, { mode: 0o600 });
      const stateDir = path.join(dir, 'state');
      await mkdir(stateDir);
      const args = ['--upstream', 'http://127.0.0.1:9', '--cert', certFile, '--key', keyFile, '--state-dir', stateDir];
      if (process.getuid?.() === 0) {
        // Root reads any file: run the command as nobody, as a service account would run it.
        await chown(stateDir, NOBODY, NOBODY);
        const run = spawnSync(process.execPath, ['--import', 'tsx', BIN, ...args, '--log-format', 'json'], { uid: NOBODY, gid: NOBODY, cwd: path.dirname(import.meta.dirname), encoding: 'utf8', timeout: 30_000 });
        expect(run.status).toBe(2);
        expect(run.stderr).toContain(`--key ${JSON.stringify(keyFile)} cannot be read: permission denied (EACCES)`);
        expect(run.stderr).toContain(`uid ${NOBODY}`);
        expect(run.stderr).not.toContain('give the path of a PEM file');
      } else {
        await chmod(keyFile, 0o000);
        const settings = parseCliArgs(args, {}, () => '', {}).config;
        await expect(prepareState(settings, { cwd: dir })).rejects.toThrow(/--key ".*key\.pem" cannot be read: permission denied \(EACCES\)/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);

  it('a missing file or a directory still gets "give the path of …"', () => {
    expect(unreadable('--cert', '/nope.pem', Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }), 'a PEM file').message).toContain('give the path of a PEM file');
    expect(unreadable('--cert', '/etc', Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR' }), 'a PEM file').message).toBe(
      'legacy-tls-fallback: --cert "/etc" is a directory; give the path of a PEM file.',
    );
  });

  it('"workers": "two" and --workers 0 mention auto', () => {
    const fromFile = usageError(() => parse(['--config', 'ltf.json'], { 'ltf.json': JSON.stringify({ upstream: 'http://127.0.0.1:3000', workers: 'two' }) }));
    expect(fromFile.message).toContain('"workers" in ltf.json is "two"');
    expect(fromFile.message).toContain('or auto');
    expect(usageError(() => parse([...UPSTREAM, '--workers', '0'])).message).toContain('or auto');
    expect(parse([...UPSTREAM, '--workers', 'AUTO'], {}).config.workers).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['{\n  "upstream": "http://127.0.0.1:3000"\n  "listen": 8443\n}', 3, 3, "expected ',' between two properties"],
    ['{\n  "upstream": "http://127.0.0.1:3000",\n}\n', 3, 1, 'no trailing comma'],
    ['{\n  "upstream": ', 2, 15, "a '}' is missing"],
    ['{\n  // the site\n  "upstream": "x"\n}', 2, 3, 'comments are not allowed'],
    ["{\n  'upstream': 'x'\n}", 2, 3, 'double quotes'],
    ['{\n  "cert": "C:\\certs\\site.pem"\n}', 2, 14, 'a backslash in a string is written \\\\'],
    ['{\n  "listen": 8443,\n  "mode": observe\n}', 3, 11, 'a bare word is not a JSON value'],
    ['{\r\n  "listen": 8443,\r\n  "mode": "observe",\r\n  ]', 4, 3, 'expected a property name'],
    ['{ "organisation": "Café Zoë", "listen": 8443 x }', 1, 46, "expected ',' or '}'"],
    ['', 1, 1, 'the file is empty'],
    ['{\n  "workers": 2,,\n}', 2, 16, 'a comma too many'],
    ['{"exclude": ["/api",, "/static"]}', 1, 21, 'a comma too many'],
  ])('JSON config error %j: line %i, column %i', (text, line, column, reason) => {
    const error = usageError(() => parse(['--config', 'ltf.json'], { 'ltf.json': text }));
    expect(error.message).toContain(`--config "ltf.json" is not valid JSON: line ${line}, column ${column}: `);
    expect(error.message).toContain(reason);
  });

  it('never quotes the config file back: an unquoted token stays out of the message', () => {
    const secret = 'a3f9c1d2e4b5a6978812345678901234';
    const error = usageError(() => parse(['--config', 'ltf.json'], { 'ltf.json': `{"report-token": ${secret}}` }));
    expect(error.message).toContain('line 1, column 18');
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain(secret.slice(1));
  });

  it('the JSON locator agrees with JSON.parse on what is valid, for any text', () => {
    const jsonish = fc.stringMatching(/^[\s{}[\]",:0-9.eE+\-tfrueanlsx\\/'a-z]{0,40}$/);
    const mutated = fc
      .tuple(fc.jsonValue(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', '/', ' ', '\\', '\n', "'", 'x', '\t', '\v', '\f', '\u00a0', '\u2028', '\ufeff', '\u0000', '-', '.', 'e', '0'), fc.boolean())
      .map(([value, at, insert, remove]) => {
        const text = JSON.stringify(value, null, 2) ?? 'null';
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(remove ? i + 1 : i);
      });
    fc.assert(
      fc.property(fc.oneof(jsonish, mutated, fc.string({ unit: 'binary' })), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const located = locateJsonError(text);
        expect(located === undefined).toBe(valid);
        if (located) expect(located.offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('a config nested deeper than the call stack allows is still located, not a crash', () => {
    const deep = `${'['.repeat(200_000)}1${']'.repeat(199_999)}`;
    expect(locateJsonError(deep)).toMatchObject({ line: 1, column: 400_001, reason: "the file ends inside an array: a ']' is missing" });
  });
});

describe('contact details on the fallback page', () => {
  it('the demo page carries a contact detail (example.com) unless the user gives their own', () => {
    const demo = parse(['demo']).config;
    expect(demo.page).toMatchObject({ email: 'help@example.com', phone: DEMO_PAGE.phone });
    expect((demo.page as { email?: string }).email).toMatch(/@example\.com$/);
    expect(contactWarning({ ...demo, fallbackUrl: undefined, fallbackPageFile: undefined })).toBeUndefined();
    expect(parse(['demo', '--email', 'me@example.org']).config.page).toEqual({ email: 'me@example.org' });
    expect(parse(['demo', '--organisation', 'Mine']).config.page).toEqual({ organisation: 'Mine', email: DEMO_PAGE.email, phone: DEMO_PAGE.phone });
    expect(parse(['demo', '--fallback-url', 'https://help.example.com/']).config.page).toEqual({});
  });

  it('a TLS 1.0 visitor of the demo sees a page with an address to write to', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-demo-'));
    try {
      const cli = cliHarness(dir);
      const exit = runCli(['demo', '--listen', '127.0.0.1:0', '--http-listen', 'off', '--log-format', 'json'], cli.io);
      const listening = await cli.waitFor((l) => l.msg === 'listening');
      const port = Number(new URL(String(listening.https)).port);
      const ca = await readFile(path.join(dir, '.legacy-tls-fallback', 'cert.pem'), 'utf8');
      const redirect = await tlsRequest({ port, ca, version: 'TLSv1' });
      const page = await tlsRequest({ port, ca, version: 'TLSv1', path: String(redirect.headers.location) });
      expect(page.status).toBe(200);
      expect(page.body).toContain('mailto:help@example.com');
      await cli.waitFor((l) => l.msg === 'the upstream answers');
      cli.signal('SIGTERM');
      expect(await exit).toBe(0);
      expect(cli.output()).not.toContain('no way to reach you');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('warns, naming the flags, when the built-in page has no e-mail, phone or address', () => {
    const bare = parse(UPSTREAM).config;
    const warning = contactWarning(bare);
    expect(warning).toContain('--email, --phone, --address');
    expect(warning).toContain('--fallback-page');
    expect(contactWarning(parse([...UPSTREAM, '--organisation', 'Example Ltd', '--hours', '9-5']).config)).toBeDefined();
    for (const flag of [['--email', 'a@example.com'], ['--phone', '+44 20 7946 0000'], ['--address', '1 Example Street']]) {
      expect(contactWarning(parse([...UPSTREAM, ...flag]).config)).toBeUndefined();
    }
    expect(contactWarning(parse([...UPSTREAM, '--fallback-url', 'https://help.example.com/']).config)).toBeUndefined();
    expect(contactWarning({ ...bare, fallbackPageFile: '/srv/old-browser.html' })).toBeUndefined();
  });
});

describe('shellWord', () => {
  it.each([
    ['/var/lib/ltf/report-token', '/var/lib/ltf/report-token'],
    ['/home/a b/report-token', "'/home/a b/report-token'"],
    ["/it's/here", "'/it'\\''s/here'"],
    ['$(rm -rf ~)', "'$(rm -rf ~)'"],
  ])('%j → %s', (text, word) => {
    expect(shellWord(text)).toBe(word);
  });
});
