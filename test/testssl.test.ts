import { execFile } from 'node:child_process';
import https from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKoaExample } from '../examples/koa-app.js';
import type { HandshakeFailure, LegacyTlsServer } from '../src/index.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { hasTool } from './helpers/tools.js';

// Clients that offer only SSLv3, RC4 or 3DES: no Node server can ever complete their handshake.
const CANNOT_CONNECT = ['ie_6_xp', 'ie_8_xp', 'yandexbot_30'];

interface Finding {
  id: string;
  finding: string;
}

/**
 * testssl.sh replays the recorded ClientHellos of 162 real clients (browsers from IE 6 to today, Java,
 * Android, crawlers). The example server must connect all of them but the three above, give each modern
 * client the very protocol and cipher a default Node server gives it, and count every failure.
 */
describe.runIf(hasTool('testssl'))('testssl.sh client simulation (162 clients)', () => {
  let dir: string;
  let legacy: LegacyTlsServer;
  let modern: https.Server;
  const failures: HandshakeFailure[] = [];
  let ours: Map<string, string>;
  let baseline: Map<string, string>;

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-testssl-'));
    legacy = createKoaExample({ cert, key }).server;
    legacy.on('handshakeFailure', (f) => failures.push(f));
    modern = https.createServer({ cert, key }, (_req, res) => res.end('modern'));
    const [legacyPort, modernPort] = [await listenOn(legacy), await listenOn(modern)];
    [ours, baseline] = await Promise.all([simulate(legacyPort, dir, 'legacy'), simulate(modernPort, dir, 'modern')]);
  }, 400_000);
  afterAll(async () => {
    await Promise.all([legacy && closeServer(legacy), modern && closeServer(modern)]);
    await rm(dir, { recursive: true, force: true });
  });

  it('connects every simulated client except those that offer only SSLv3, RC4 or 3DES', () => {
    expect(ours.size).toBeGreaterThanOrEqual(160);
    const refused = [...ours].filter(([, finding]) => finding === 'No connection').map(([id]) => id);
    expect(refused.sort()).toEqual(CANNOT_CONNECT);
  });

  it('does at least as well as the reference run on TLS 1.0 and 1.1', () => {
    const count = (prefix: string) => [...ours.values()].filter((f) => f.startsWith(prefix)).length;
    expect(count('TLSv1.0 ')).toBeGreaterThanOrEqual(33);
    expect(count('TLSv1.1 ')).toBeGreaterThanOrEqual(5);
  });

  it('gives every client that a modern Node server accepts the same protocol and cipher', () => {
    const modernClients = [...baseline].filter(([, finding]) => /^TLSv1\.[23] /.test(finding));
    expect(modernClients.length).toBeGreaterThan(100);
    const differences = modernClients.filter(([id, finding]) => ours.get(id) !== finding).map(([id, finding]) => `${id}: ${finding} vs ${ours.get(id)}`);
    expect(differences).toEqual([]);
  });

  it('reports each refused client as a handshake failure with a reason', () => {
    const byReason = (reason: string) => failures.filter((f) => f.reason === reason).length;
    // IE 6 XP and YandexBot 3.0 speak SSLv3 at best; IE 8 XP offers TLS 1.0 with RC4/3DES only.
    expect(byReason('protocol-too-old')).toBeGreaterThanOrEqual(2);
    expect(byReason('no-shared-cipher')).toBeGreaterThanOrEqual(1);
    expect(failures.every((f) => f.remoteAddress === '127.0.0.1')).toBe(true);
  });
});

async function simulate(port: number, dir: string, name: string): Promise<Map<string, string>> {
  const jsonFile = path.join(dir, `${name}.json`);
  await new Promise<void>((resolve, reject) => {
    execFile(
      'testssl',
      ['-c', '--quiet', '--color', '0', '--warnings', 'off', '--jsonfile', jsonFile, `127.0.0.1:${port}`],
      { env: { ...process.env, ALL_CLIENTS: 'true' }, timeout: 380_000, maxBuffer: 16 * 1024 * 1024 },
      (error) => (error ? reject(error) : resolve()),
    );
  });
  const findings = JSON.parse(await readFile(jsonFile, 'utf8')) as Finding[];
  return new Map(
    findings.filter((f) => f.id.startsWith('clientsimulation-')).map((f) => [f.id.slice('clientsimulation-'.length), f.finding]),
  );
}
