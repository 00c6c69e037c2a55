/**
 * Issue 10, Low: "A generated report token is written into the JSON log line". JSON logs are shipped
 * and kept where the token must not be: they say where it is stored; a terminal shows it once.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { cliHarness, type CliHarness } from './helpers/cli-harness.js';

const LISTEN = ['--listen', '127.0.0.1:0', '--http-listen', 'off'];

describe('the report token and the logs', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** Runs the command until it has said everything it says at start, then stops it. */
  async function run(args: string[], env: Record<string, string> = {}, isTTY = false): Promise<CliHarness> {
    dir ??= await mkdtemp(path.join(os.tmpdir(), 'ltf-token-'));
    const cli = cliHarness(dir, env, isTTY);
    const exit = runCli([...args, ...LISTEN], cli.io);
    // The last thing said at start: the upstream check's result (or, on a terminal, the banner).
    await cli.waitFor((l) => /upstream (answers|.* does not answer)/.test(String(l.msg ?? l.raw)));
    cli.signal('SIGTERM');
    expect(await exit).toBe(0);
    return cli;
  }

  const tokenFile = () => path.join(dir!, '.legacy-tls-fallback', 'report-token');
  const storedToken = async () => (await readFile(tokenFile(), 'utf8')).trim();

  it('JSON logs never carry a generated token; they say where it is and how to read it', async () => {
    const cli = await run(['--upstream', 'http://127.0.0.1:9', '--log-format', 'json']);
    const token = await storedToken();
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(cli.output()).not.toContain(token);
    expect(cli.lines.every((line) => !('raw' in line))).toBe(true);

    const told = cli.lines.find((l) => String(l.msg).startsWith('report token generated'));
    expect(told).toMatchObject({ level: 'info', tokenFile: tokenFile(), readToken: `cat ${tokenFile()}` });
    // The command it gives reads the token back.
    expect(execFileSync('sh', ['-c', String(told?.readToken)], { encoding: 'utf8' }).trim()).toBe(token);
    expect(String(told?.example)).toContain(`$(cat ${tokenFile()})`);

    // Next start: the token is loaded, nothing more is said about it.
    const again = await run(['--upstream', 'http://127.0.0.1:9', '--log-format', 'json']);
    expect(again.output()).not.toContain(token);
    expect(again.lines.some((l) => String(l.msg).includes('report token'))).toBe(false);
  }, 30_000);

  it('a terminal shows the generated token once, as before', async () => {
    const cli = await run(['--upstream', 'http://127.0.0.1:9'], {}, true);
    const token = await storedToken();
    expect(cli.output().split(token)).toHaveLength(3); // the token line and the curl example
    expect(cli.output()).toContain(`saved to ${tokenFile()} (shown only this once)`);
    const again = await run(['--upstream', 'http://127.0.0.1:9'], {}, true);
    expect(again.output()).not.toContain(token);
  }, 30_000);

  it('demo in JSON mode gives a report command that reads the token, and it works as logged', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-token-'));
    const cli = cliHarness(dir);
    const exit = runCli(['demo', '--log-format', 'json', ...LISTEN], cli.io);
    const demo = await cli.waitFor((l) => String(l.msg).startsWith('demo: try these'));
    const token = await storedToken();
    expect(demo.report).toContain(`Bearer $(cat ${tokenFile()})`);
    expect(demo.tokenFile).toBe(tokenFile());
    // The shell reads the token from the file; the report answers. (Not execFileSync: the proxy runs in
    // this process and must keep answering.)
    const { stdout } = await promisify(execFile)('sh', ['-c', `${String(demo.report)} --silent --show-error --fail --max-time 10`], { encoding: 'utf8' });
    const report = JSON.parse(stdout) as { schema: string };
    expect(report.schema).toBe('legacy-tls-fallback/report');
    await cli.waitFor((l) => l.msg === 'the upstream answers');
    cli.signal('SIGTERM');
    expect(await exit).toBe(0);
    expect(cli.output()).not.toContain(token);
  }, 30_000);

  it('demo with a token from the environment names the variable, not its value', async () => {
    const token = 'demo-token-from-the-environment-0123';
    const cli = await run(['demo', '--log-format', 'json'], { LEGACY_TLS_REPORT_TOKEN: token });
    expect(cli.output()).not.toContain(token);
    const demo = cli.lines.find((l) => String(l.msg).startsWith('demo: try these'));
    expect(demo?.report).toContain('Bearer $LEGACY_TLS_REPORT_TOKEN');
    expect(demo).not.toHaveProperty('tokenFile');
  }, 30_000);

  it('demo with --report-token says to use the token given', async () => {
    const token = 'demo-token-from-the-command-line-0123';
    const cli = await run(['demo', '--log-format', 'json', '--report-token', token]);
    expect(cli.output()).not.toContain(token);
    const demo = cli.lines.find((l) => String(l.msg).startsWith('demo: try these'));
    expect(demo?.report).toContain('<the --report-token you gave>');
  }, 30_000);
});
