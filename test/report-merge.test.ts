/**
 * `legacy-tls-fallback report --merge a.json b.json …` (issue 12, fleets without Redis): the stats files
 * of several servers united offline. Counts add up exactly; visitors unite only when the files share a
 * salt, and the command says so when they do not; usage mistakes exit 2 naming what to fix.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import type { ReportDocument, Verdict } from '../src/index.js';
import { emptyState } from '../src/stats/model.js';
import { toDocument } from '../src/stats/serialize.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { cliHarness } from './helpers/cli-harness.js';
import { visitorTolerance } from './helpers/stats.js';

const UA = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';

function verdict(protocol: 'TLSv1' | 'TLSv1.3'): Verdict {
  const legacy = protocol === 'TLSv1';
  return {
    legacy,
    reasons: legacy ? ['tls-version'] : [],
    tls: { protocol, cipher: null, servername: null, source: 'socket' },
    client: { browser: 'IE', version: '8.0', os: 'Windows XP', bot: false, kind: 'browser' },
  };
}

/** A server's stats file: `count` requests on `protocol` from addresses `from` … `from + count - 1`, and one handshake. */
async function serverFile(file: string, count: number, protocol: 'TLSv1' | 'TLSv1.3', from: number): Promise<void> {
  const stats = new TrafficStats({ statsFile: file, flushInterval: 3_600_000 });
  await stats.ready;
  for (let i = from; i < from + count; i++) {
    stats.recordRequest({ verdict: verdict(protocol), action: protocol === 'TLSv1' ? 'redirected' : 'passed', remoteAddress: `198.51.100.${i}`, userAgent: UA });
  }
  stats.recordHandshake(protocol, false);
  await stats.close();
}

let dir: string;
/** Three servers: a and b share a salt (b started from a copy of a's file), c has its own. */
let a: string, b: string, c: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-merge-'));
  [a, b, c] = ['a.json', 'b.json', 'c.json'].map((name) => path.join(dir, name)) as [string, string, string];
  // Clients 0–99 on a, 50–129 on b: 130 distinct visitors, 50 seen by both.
  await serverFile(a, 100, 'TLSv1', 0);
  // b starts from a file that holds a's salt (as when an owner copies it before b first starts), no counts.
  const { salt } = JSON.parse(await readFile(a, 'utf8')) as { salt: string };
  await writeFile(b, JSON.stringify(toDocument(emptyState(), Buffer.from(salt, 'base64'), Date.now())));
  await serverFile(b, 80, 'TLSv1.3', 50);
  await serverFile(c, 30, 'TLSv1.3', 50);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function report(...args: string[]): Promise<{ code: number; out: string }> {
  const harness = cliHarness(dir);
  const code = await runCli(['report', ...args], harness.io);
  return { code, out: harness.output() };
}

describe('report --merge', () => {
  it('adds the counts of files that share a salt and unites their visitors', async () => {
    const { code, out } = await report('--merge', 'a.json', 'b.json', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(out) as ReportDocument;
    const day = doc.windows['24h'];
    expect(day.requests.total).toBe(180);
    expect(day.requests.byProtocol.TLSv1).toBe(100);
    expect(day.requests.byProtocol['TLSv1.3']).toBe(80);
    expect(day.handshakes.total).toBe(2);
    // 130 distinct clients, not 180: the 50 both servers saw count once.
    expect(Math.abs(day.visitors.total - 130)).toBeLessThanOrEqual(visitorTolerance(130));
    expect(doc.storage.instances?.map((row) => [row.name, row.requests])).toEqual([
      ['a.json', 100],
      ['b.json', 80],
    ]);
    expect(doc.storage.note).toBeUndefined();
  });

  it('says the visitor figure is an upper bound when the salts differ; counts stay exact', async () => {
    const { code, out } = await report('--merge', 'a.json', 'c.json');
    expect(code).toBe(0);
    expect(out).toContain('2 stats files merged');
    expect(out).toMatch(/24h\s+130 requests, 100 legacy/);
    expect(out).toContain('do not share a visitor salt');
    // 100 + 30 visitors counted apart although 30 of them are the same clients.
    const doc = JSON.parse((await report('--merge', 'a.json', 'c.json', '--json')).out) as ReportDocument;
    expect(Math.abs(doc.windows['24h'].visitors.total - 130)).toBeLessThanOrEqual(visitorTolerance(130));
  });

  it('writes the dashboard with the files as instances', async () => {
    const { code, out } = await report('--merge', 'a.json', 'b.json', 'c.json', '--html', 'fleet.html', '--window', '7d');
    expect(code).toBe(0);
    expect(out).toContain('Dashboard (7d) written to fleet.html');
    const html = await readFile(path.join(dir, 'fleet.html'), 'utf8');
    expect(html).toContain('<h2>Instances</h2>');
    expect(html).toContain('<td data-instance="2.requests">30</td>');
    expect(html).toContain('do not share a visitor salt');
  });

  it.each([
    [['--merge'], '--merge needs at least one stats file'],
    [['a.json'], 'give --merge'],
    [['--merge', 'a.json', '--window', '1y'], '--window "1y"'],
    [['--merge', 'a.json', '--bogus'], "Unknown option '--bogus'"],
    [['--merge', 'missing.json'], 'missing.json'],
  ])('exits 2 for %j', async (args, message) => {
    const { code, out } = await report(...args);
    expect(code).toBe(2);
    expect(out).toContain(message);
    expect(out).toContain('report --help');
  });

  it('exits 2 naming a file that is not a stats file', async () => {
    await writeFile(path.join(dir, 'junk.json'), '{"hello": "world"}');
    const { code, out } = await report('--merge', 'a.json', 'junk.json');
    expect(code).toBe(2);
    expect(out).toContain(`${path.join(dir, 'junk.json')} is not a stats file`);
  });

  it('prints its usage with --help', async () => {
    const { code, out } = await report('--help');
    expect(code).toBe(0);
    expect(out).toContain('report --merge FILE...');
  });
});
