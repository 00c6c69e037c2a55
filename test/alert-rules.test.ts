/**
 * Issue 15: the shipped Prometheus alerting rules (alerts/legacy-tls.rules.yml) are valid, fire as their
 * unit tests say (promtool test rules), and only name metrics this package exports; the exposition
 * itself passes `promtool check metrics`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { registerLegacyTlsMetrics } from '../src/report/formats/prometheus.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { hasTool } from './helpers/tools.js';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ALERTS = path.join(ROOT, 'alerts');
const promtool = hasTool('promtool');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A scrape of a stats file that has been saved, with a switch-off plan: every metric present. */
async function scrape(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-alerts-'));
  const stats = new TrafficStats({ statsFile: path.join(dir, 'stats.json'), summaryInterval: 0 });
  cleanups.push(async () => {
    await stats.close();
    await rm(dir, { recursive: true, force: true });
  });
  await stats.ready;
  stats.useSitesPlan({ site: { name: '', mode: 'redirect', switchOff: '2027-03-01' }, hosts: [], groups: [{ name: 'API', mode: 'redirect', switchOff: '2026-12-01', prefixes: ['/api'] }] });
  // Something to save: an empty state is not written.
  stats.recordHandshake('TLSv1.3', false);
  await stats.flush();
  return registerLegacyTlsMetrics(stats, new Registry()).metrics();
}

describe('alerts/legacy-tls.rules.yml', () => {
  it.skipIf(!promtool)('passes promtool check rules', () => {
    const out = execFileSync('promtool', ['check', 'rules', path.join(ALERTS, 'legacy-tls.rules.yml')], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS: 4 rules found');
  });

  it.skipIf(!promtool)('fires as its unit tests say (promtool test rules)', () => {
    const run = spawnSync('promtool', ['test', 'rules', 'legacy-tls.rules.test.yml'], { cwd: ALERTS, encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('names only metrics the package exports', async () => {
    const text = await scrape();
    const exported = new Set([...text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]));
    const rules = await readFile(path.join(ALERTS, 'legacy-tls.rules.yml'), 'utf8');
    const named = new Set([...rules.matchAll(/\b(legacy_tls_\w+)\b/g)].map((m) => m[1]));
    expect(named.size).toBeGreaterThanOrEqual(4);
    for (const name of named) expect(exported, name).toContain(name);
    // Present with values, not only declared: a saved file store, a date, a readiness gauge.
    expect(text).toMatch(/^legacy_tls_storage_error\{store="file"\} 0$/m);
    expect(text).toMatch(/^legacy_tls_storage_last_saved_timestamp_seconds\{store="file"\} \d+(\.\d+)?$/m);
    expect(text).toContain(`legacy_tls_switch_off_timestamp_seconds{scope="site",site=""} ${Date.UTC(2027, 2, 1) / 1000}`);
    expect(text).toContain(`legacy_tls_switch_off_timestamp_seconds{scope="group",site="API"} ${Date.UTC(2026, 11, 1) / 1000}`);
    expect(text).toMatch(/^legacy_tls_site_ready\{scope="group",site="API"\} 0$/m);
  });

  it.skipIf(!promtool)('exports metrics that pass promtool check metrics', async () => {
    const run = spawnSync('promtool', ['check', 'metrics'], { input: await scrape(), encoding: 'utf8' });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('is in the npm package', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('alerts');
  });
});
