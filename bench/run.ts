/**
 * `npm run bench`: measures every scenario group of scenarios.ts on loopback and prints one Markdown
 * table (stdout) with a header line naming the machine; progress goes to stderr. Also writes
 * bench/last-run.json with the raw measurements.
 *
 * Servers run in child processes, the load in another process (wrk, or the Node load generator), so
 * that on two cores the server under test has one core to itself. Every child process and nginx is
 * killed at the end, also on errors and Ctrl+C (processes.ts).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSelfSignedCertificate } from '../src/index.js';
import { readConfig } from './config.js';
import { pickLoadTool } from './load.js';
import { nginxAvailable, nginxVersion } from './nginx.js';
import { BENCH_DIR, compileForChildren, hasCommand, installExitHandlers, killAll, onExit, runTracked } from './processes.js';
import { applyBaselines, markdownTable, targetChecks, targetsTable, type Row } from './report.js';
import { relayTargetChecks } from './relay.js';
import { SCENARIO_GROUPS, type BenchContext } from './scenarios.js';

/** Last resort: whatever hangs, the run stops by itself. Every step also has its own timeout. */
const HARD_LIMIT_MS = 30 * 60 * 1000;

async function systemOpenssl(): Promise<string | null> {
  if (!(await hasCommand('openssl'))) return null;
  const done = await runTracked('openssl', ['version'], { timeoutMs: 5000 });
  return /OpenSSL\s+(\S+)/.exec(done.stdout)?.[1] ?? null;
}

async function main(): Promise<void> {
  installExitHandlers();
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${HARD_LIMIT_MS / 60000} minutes, giving up`);
    killAll();
    process.exit(2);
  }, HARD_LIMIT_MS);
  watchdog.unref();

  const startedAt = new Date();
  const started = performance.now();
  const config = readConfig();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bench-'));
  onExit(() => rmSync(tmpDir, { recursive: true, force: true }));
  const rows: Row[] = [];
  const failures: string[] = [];
  let machine = '';
  const profiles: BenchContext['profiles'] = [];
  try {
    const load = await pickLoadTool(config.load);
    const opensslCli = await systemOpenssl();
    const nginx = (await nginxAvailable()) ? await nginxVersion() : null;
    const cpus = os.cpus();
    const cpuModel = cpus[0]?.model.trim() ?? 'unknown CPU';
    machine =
      `Machine: ${cpuModel}, ${cpus.length} cores, ${os.platform()} ${os.release()}; Node ${process.version}, OpenSSL ${process.versions.openssl}` +
      `${opensslCli && opensslCli !== process.versions.openssl ? ` (openssl CLI ${opensslCli})` : ''}` +
      `; load: ${load.tool} ${load.version} (${load.tool === 'wrk' ? '1 thread, ' : ''}${config.connections} keep-alive connections)` +
      `${nginx ? `, nginx ${nginx}` : ''}; ${config.duration} s per measurement, ${config.runs === 1 ? '1 run' : `median of ${config.runs} runs`}` +
      `; load average at start ${os.loadavg()[0]?.toFixed(2)}`;
    log(machine);

    log('compiling src/ and bench/ with tsc: the servers run as plain JavaScript, as the published package does');
    await compileForChildren();
    log('generating a self-signed RSA-2048 certificate for 127.0.0.1/localhost');
    const pair = await generateSelfSignedCertificate(['localhost']);
    const certFile = path.join(tmpDir, 'cert.pem');
    const keyFile = path.join(tmpDir, 'key.pem');
    await writeFile(certFile, pair.cert);
    await writeFile(keyFile, pair.key, { mode: 0o600 });

    const profileDir = path.join(os.tmpdir(), `ltf-bench-profiles-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
    const ctx: BenchContext = { config, tmpDir, certFile, keyFile, loadTool: load.tool, log, profileDir, profiles };
    for (const group of SCENARIO_GROUPS) {
      if (config.only && !config.only.has(group.id)) continue;
      const skip = (await group.skipReason?.(ctx)) ?? null;
      if (skip !== null) {
        log(`\n== ${group.id}: skipped (${skip})`);
        rows.push({ id: `${group.id}-skipped`, group: group.id, scenario: `${group.title}`, note: `skipped: ${skip}` });
        continue;
      }
      log(`\n== ${group.id}: ${group.title}`);
      const groupStarted = performance.now();
      try {
        rows.push(...(await group.run(ctx)));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`  ${group.id} FAILED: ${message}`);
        failures.push(`${group.id}: ${message}`);
        rows.push({ id: `${group.id}-failed`, group: group.id, scenario: group.title, note: `FAILED: ${message.split('\n')[0]}` });
      }
      log(`  (${((performance.now() - groupStarted) / 1000).toFixed(0)} s)`);
    }
  } finally {
    killAll();
    await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
  }

  applyBaselines(rows);
  const seconds = (performance.now() - started) / 1000;
  const table = markdownTable(rows);
  const checks = [...targetChecks(rows), ...relayTargetChecks(rows)];
  process.stdout.write(
    `\n${machine}\n\n${table}\n\nRatio: req/s (or handshakes/s) over the baseline row's, measured in this same run; with several runs, the median of the per-run ratios (runs are interleaved, so each pair was measured seconds apart). Whole run: ${seconds.toFixed(0)} s.\n\n${targetsTable(checks)}\n`,
  );

  const output = path.join(BENCH_DIR, 'last-run.json');
  await writeFile(
    output,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), seconds, machine, config: { ...config, only: config.only && [...config.only], cpuProf: [...config.cpuProf] }, rows, checks, failures, profiles }, null, 2)}\n`,
  );
  log(`raw results: ${path.relative(process.cwd(), output)}`);
  for (const profile of profiles) log(`CPU profile of ${profile.role}: ${profile.file} (summary in ${path.relative(process.cwd(), output)})`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  killAll();
  process.exit(1);
});
