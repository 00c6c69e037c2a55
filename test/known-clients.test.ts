import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readClientHello } from '../src/tls/client-hello.js';
import { ja4 } from '../src/tls/ja4.js';
import { knownClient, knownClients } from '../src/tls/known-clients.js';
import { KNOWN_CLIENTS_FILE, readKnownClients, renderKnownClients, testsslVersion } from '../scripts/generate-known-clients.js';
import { readTestsslClients } from '../scripts/testssl-clients.js';
import { replaceServerName, testsslClientData } from './helpers/client-hellos.js';
import { readReferenceResults } from './helpers/testssl-reference.js';

function fingerprint(bytes: Uint8Array): string {
  const read = readClientHello(bytes);
  if (read.status !== 'complete') throw new Error(JSON.stringify(read));
  return ja4(read.hello);
}

describe('knownClient', () => {
  it('finds nothing for strings that are not known fingerprints, whatever they are', () => {
    for (const input of ['', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x'.repeat(100_000), 't13d9999h2_000000000000_000000000000']) {
      expect(knownClient(input)).toBeUndefined();
    }
  });

  it('labels a fingerprint by all its clients, shortened past three', () => {
    const all = knownClients();
    expect(all.length).toBeGreaterThan(50);
    for (const known of all) {
      const names = known.clients.map((c) => c.name);
      expect(names.length).toBeGreaterThan(0);
      if (names.length <= 3) expect(known.label).toBe(names.join(', '));
      else expect(known.label).toBe(`${names[0]}, ${names[1]} and ${names.length - 2} more`);
      expect(knownClient(known.ja4)?.clients.filter((c) => c.match === 'exact')).toEqual(known.clients);
    }
    expect(new Set(all.map((k) => k.ja4)).size).toBe(all.length);
  });
});

describe.runIf(testsslClientData())("the known-clients table and testssl.sh's client data", () => {
  const dataFile = testsslClientData()!;
  const clients = readTestsslClients(dataFile);

  it('is what the generator makes from the installed data (regenerate it when testssl.sh changes)', () => {
    const executable = execFileSync('sh', ['-c', 'command -v testssl || command -v testssl.sh'], { encoding: 'utf8' }).trim();
    const expected = renderKnownClients({ data: readFileSync(dataFile, 'utf8'), testsslVersion: testsslVersion(executable) });
    expect(readFileSync(KNOWN_CLIENTS_FILE, 'utf8')).toBe(expected);
  });

  it("names every client by the JA4 of its recorded hello, with the version it offers", () => {
    expect(clients).toHaveLength(162);
    for (const client of clients) {
      const known = knownClient(fingerprint(client.hello));
      expect(known?.clients).toContainEqual({ id: client.id, name: client.name, maxVersion: expect.any(Number), match: 'exact' });
    }
  });

  it('offers the versions of the reference run, but for the TLS 1.3 drafts, which negotiated TLS 1.2 there', () => {
    const reference = readReferenceResults();
    const generated = readKnownClients(readFileSync(dataFile, 'utf8'));
    expect(generated.map((c) => c.id).sort()).toEqual([...reference.keys()].sort());
    const differing = generated.filter((c) => c.maxVersion !== reference.get(c.id)!.highestOffered);
    // Exactly the draft clients differ, and the reference run itself shows they could not get TLS 1.3.
    expect(differing.map((c) => c.id)).toEqual(generated.filter((c) => c.tls13Draft).map((c) => c.id));
    expect(differing.length).toBeGreaterThan(0);
    for (const client of differing) {
      expect(client.maxVersion).toBe(0x0303);
      expect(reference.get(client.id)).toMatchObject({ highestOffered: 0x0304, finding: expect.stringMatching(/^TLSv1\.2 /) });
    }
  });

  it('still names a client that sends no server name (reached by address), as differing by SNI', () => {
    let checked = 0;
    for (const client of clients) {
      const stripped = replaceServerName(client.hello, null);
      if (stripped === client.hello) continue; // recorded without the extension
      const known = knownClient(fingerprint(stripped));
      expect(known?.clients).toContainEqual(expect.objectContaining({ id: client.id, match: 'sni-differs' }));
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('lists exact matches first, then those that differ by SNI', () => {
    // Yahoo Slurp Jun 2014 sends no SNI; Jan 2015 sends the same hello plus SNI.
    const withoutSni = clients.find((c) => !c.sendsSni && knownClient(fingerprint(c.hello))!.clients.some((e) => e.match === 'sni-differs'));
    expect(withoutSni).toBeDefined();
    const matches = knownClient(fingerprint(withoutSni!.hello))!.clients.map((c) => c.match);
    expect(matches[0]).toBe('exact');
    expect(matches).toEqual([...matches].sort());
  });
});
