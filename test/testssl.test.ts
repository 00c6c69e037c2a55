import { execFile } from 'node:child_process';
import { once } from 'node:events';
import https from 'node:https';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKoaExample } from '../examples/koa-app.js';
import type { HandshakeFailure, LegacyTlsServer } from '../src/index.js';
import { readClientHello, type ClientHello } from '../src/tls/client-hello.js';
import { ja4 } from '../src/tls/ja4.js';
import { knownClient } from '../src/tls/known-clients.js';
import { readTestsslClients, type TestsslClient } from '../scripts/testssl-clients.js';
import { replaceServerName, testsslClientData } from './helpers/client-hellos.js';
import { findingProtocol, readCipherNames, replayClientHello, TESTSSL_CIPHER_MAPPING, untilNoConnections, type ServerAnswer } from './helpers/replay.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { readReferenceResults } from './helpers/testssl-reference.js';
import { hasTool } from './helpers/tools.js';

// Clients that offer only SSLv3, RC4 or 3DES: no Node server can ever complete their handshake.
const CANNOT_CONNECT = ['ie_6_xp', 'ie_8_xp', 'yandexbot_30'];
const REASONS: Record<string, HandshakeFailure['reason']> = {
  ie_6_xp: 'protocol-too-old', // SSLv2-compatible hello offering SSLv3 at best
  yandexbot_30: 'protocol-too-old', // SSLv3
  ie_8_xp: 'no-shared-cipher', // TLS 1.0 with RC4 and 3DES only
};

interface Replayed {
  client: TestsslClient;
  /** The bytes sent: the recorded hello with the server name patched in, as testssl.sh does. */
  sent: Uint8Array;
  hello: ClientHello;
  ours: string;
  baseline: string;
}

/**
 * The 162 clients of testssl.sh's client simulation (browsers from IE 6 to today, Java, Android,
 * crawlers), replayed byte for byte from its recorded ClientHellos, all at once, against the example
 * server and a default Node server. This is what `testssl -c` does through its sockets code, in seconds
 * instead of minutes (the full run is below, behind LONG_TESTS=1). The example server must connect all
 * of them but the three above, give each modern client the very protocol and cipher a default Node
 * server gives it, and count every failure.
 */
describe.runIf(testsslClientData() && existsSync(TESTSSL_CIPHER_MAPPING))('the 162 testssl.sh clients, replayed', () => {
  let legacy: LegacyTlsServer;
  let modern: https.Server;
  let legacyPort: number;
  const failures: HandshakeFailure[] = [];
  let replayed: Replayed[];

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    legacy = createKoaExample({ cert, key }).server;
    legacy.on('handshakeFailure', (f) => failures.push(f));
    modern = https.createServer({ cert, key }, (_req, res) => res.end('modern'));
    legacyPort = await listenOn(legacy);
    const modernPort = await listenOn(modern);

    const ciphers = readCipherNames();
    const clients = readTestsslClients(testsslClientData()!);
    replayed = await Promise.all(
      clients.map(async (client) => {
        const sent = replaceServerName(client.hello, 'localhost');
        const read = readClientHello(sent);
        if (read.status !== 'complete') throw new Error(`${client.id}: ${JSON.stringify(read)}`);
        const [ours, baseline] = await Promise.all([replayClientHello(legacyPort, sent), replayClientHello(modernPort, sent)]);
        return { client, sent, hello: read.hello, ours: finding(ours, client, ciphers), baseline: finding(baseline, client, ciphers) };
      }),
    );
    // Every abandoned handshake ends as a failure event before its connection closes.
    await untilNoConnections(legacy);
  });
  afterAll(async () => {
    await Promise.all([legacy && closeServer(legacy), modern && closeServer(modern)]);
  });

  const sentBy = (id: string) => replayed.find((r) => r.client.id === id)!.sent;

  it('connects every client except those that offer only SSLv3, RC4 or 3DES', () => {
    expect(replayed).toHaveLength(162);
    const refused = replayed.filter((r) => r.ours === 'No connection').map((r) => r.client.id);
    expect(refused.sort()).toEqual(CANNOT_CONNECT);
  });

  it('negotiates the protocol of the reference run with every client: at least 33 on TLS 1.0, 5 on TLS 1.1', () => {
    const count = (prefix: string) => replayed.filter((r) => r.ours.startsWith(prefix)).length;
    expect(count('TLSv1.0 ')).toBeGreaterThanOrEqual(33);
    expect(count('TLSv1.1 ')).toBeGreaterThanOrEqual(5);
    // Ciphers may differ from the reference (its DEFAULT:@SECLEVEL=0 order is not Node's); protocols may not.
    const reference = readReferenceResults();
    const protocol = (finding: string) => finding.split(' ')[0];
    const differing = replayed
      .filter((r) => protocol(r.ours) !== protocol(reference.get(r.client.id)!.finding))
      .map((r) => `${r.client.id}: ${r.ours} vs reference ${reference.get(r.client.id)!.finding}`);
    expect(differing).toEqual([]);
  });

  it('gives every client that a default Node server accepts the same protocol and cipher', () => {
    const modernClients = replayed.filter((r) => /^TLSv1\.[23] /.test(r.baseline));
    expect(modernClients.length).toBeGreaterThan(100);
    const differences = modernClients.filter((r) => r.ours !== r.baseline).map((r) => `${r.client.id}: ${r.baseline} vs ${r.ours}`);
    expect(differences).toEqual([]);
    // testssl also refuses a DHE key outside a client's limits; no server here offers DHE, so that rule
    // (which this replay does not check) cannot apply.
    expect(replayed.filter((r) => / (DHE|EDH)-/.test(r.ours))).toEqual([]);
  });

  it('counts every failed handshake, by the right reason, with the peer address', async () => {
    // The refused three failed for their reasons; every other client abandoned its handshake after the
    // ServerHello, as the replay does.
    const byReason = (reason: string) => failures.filter((f) => f.reason === reason).length;
    expect(byReason('protocol-too-old')).toBe(2);
    expect(byReason('no-shared-cipher')).toBe(1);
    expect(failures).toHaveLength(162);
    expect(failures.every((f) => f.remoteAddress === '127.0.0.1')).toBe(true);

    // One at a time, so that each failure is tied to its client.
    for (const id of CANNOT_CONNECT) {
      const failure = once(legacy, 'handshakeFailure') as Promise<[HandshakeFailure]>;
      const answer = await replayClientHello(legacyPort, sentBy(id));
      expect(answer.kind).not.toBe('server-hello');
      const [event] = await failure;
      expect({ id, reason: event.reason, remoteAddress: event.remoteAddress }).toEqual({ id, reason: REASONS[id], remoteAddress: '127.0.0.1' });
    }
  });

  it('reads every replayed hello, with the version the reference run says it offers', () => {
    const reference = readReferenceResults();
    for (const { client, hello } of replayed) {
      const expected = reference.get(client.id)!;
      if (hello.tls13Draft) {
        // A TLS 1.3 draft: testssl lists it as TLS 1.3, yet the reference server (Node, TLS 1.3 on)
        // negotiated TLS 1.2 with it: TLS 1.2 is the most it can get.
        expect({ id: client.id, max: hello.maxVersion, ref: expected.highestOffered, finding: expected.finding.split(' ')[0] }).toEqual({
          id: client.id,
          max: 0x0303,
          ref: 0x0304,
          finding: 'TLSv1.2',
        });
      } else {
        expect({ id: client.id, max: hello.maxVersion }).toEqual({ id: client.id, max: expected.highestOffered });
      }
    }
    expect(replayed.filter((r) => r.hello.tls13Draft).length).toBeLessThanOrEqual(5);
  });

  it('names every replayed client by its JA4 in the known-clients table', () => {
    const unnamed = replayed
      .filter(({ client, hello }) => !knownClient(ja4(hello))?.clients.some((c) => c.id === client.id && c.match === 'exact'))
      .map((r) => r.client.id);
    expect(unnamed).toEqual([]);
  });
});

// testssl's verdict for one client, in its JSON findings' words.
function finding(answer: ServerAnswer, client: TestsslClient, ciphers: Map<number, string>): string {
  if (answer.kind !== 'server-hello') return 'No connection';
  // testssl's own rule: a version outside the client's range is no connection either.
  if (answer.version < client.lowestProtocol || answer.version > client.highestProtocol) return 'No connection';
  return `${findingProtocol(answer.version)} ${ciphers.get(answer.cipher) ?? `0x${answer.cipher.toString(16)}`}`;
}

interface Finding {
  id: string;
  finding: string;
}

/**
 * The full `testssl -c` run with ALL_CLIENTS=true, as before the replay above existed: 100 to 400 s on
 * this 2-core machine, so it runs only with LONG_TESTS=1. It checks the replay against testssl itself.
 */
describe.runIf(process.env.LONG_TESTS === '1' && hasTool('testssl'))('testssl.sh client simulation, full run (LONG_TESTS=1)', () => {
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
    const refused = [...ours].filter(([, f]) => f === 'No connection').map(([id]) => id);
    expect(refused.sort()).toEqual(CANNOT_CONNECT);
  });

  it('does at least as well as the reference run on TLS 1.0 and 1.1', () => {
    const count = (prefix: string) => [...ours.values()].filter((f) => f.startsWith(prefix)).length;
    expect(count('TLSv1.0 ')).toBeGreaterThanOrEqual(33);
    expect(count('TLSv1.1 ')).toBeGreaterThanOrEqual(5);
  });

  it('gives every client that a modern Node server accepts the same protocol and cipher', () => {
    const modernClients = [...baseline].filter(([, f]) => /^TLSv1\.[23] /.test(f));
    expect(modernClients.length).toBeGreaterThan(100);
    const differences = modernClients.filter(([id, f]) => ours.get(id) !== f).map(([id, f]) => `${id}: ${f} vs ${ours.get(id)}`);
    expect(differences).toEqual([]);
  });

  it('reports each refused client as a handshake failure with a reason', () => {
    const byReason = (reason: string) => failures.filter((f) => f.reason === reason).length;
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
  return new Map(findings.filter((f) => f.id.startsWith('clientsimulation-')).map((f) => [f.id.slice('clientsimulation-'.length), f.finding.trim()]));
}
