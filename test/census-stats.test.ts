/**
 * The census's counts and labels as plain calls: bounded whatever the traffic, kept in the stats file
 * (old files still load), merged across workers, and the intercepted-or-spoofed rule.
 */
import { describe, expect, it } from 'vitest';
import { classifyClient } from '../src/classify/classify.js';
import { buildPolicy } from '../src/classify/policy.js';
import { buildReport } from '../src/report/document.js';
import { OTHER } from '../src/stats/labels.js';
import { emptyState, hourStart, HOUR_MS, MAX_FINGERPRINTS_PER_HOUR, mergeState, recordClientHello, recordHandshakeFailure } from '../src/stats/model.js';
import { fromDocument, toDocument } from '../src/stats/serialize.js';
import type { OfferedTls, TlsFacts } from '../src/types.js';

const NOW = Date.UTC(2026, 10, 28, 12, 30);
const SALT = Buffer.alloc(32, 1);
const storage = { store: 'memory', file: null, lastSavedAt: null, error: null };
const fingerprint = (i: number): OfferedTls => ({ maxVersion: 'TLSv1', ja4: `t10d${String(i).padStart(6, '0')}_aaaaaaaaaaaa_bbbbbbbbbbbb` });

describe('census counts', () => {
  it('keeps at most MAX_FINGERPRINTS_PER_HOUR fingerprints an hour, the heaviest exact, the rest in other', () => {
    const state = emptyState();
    for (let i = 0; i < 5; i++) for (let n = 0; n < 100; n++) recordHandshakeFailure(state, NOW, 'no-shared-cipher', fingerprint(i));
    // A scanner minting a new fingerprint on every connection.
    for (let i = 1_000; i < 21_000; i++) recordHandshakeFailure(state, NOW, 'other', fingerprint(i));
    const hour = state.hours.get(hourStart(NOW))!;
    expect(hour.failedFingerprints.size).toBeLessThanOrEqual(MAX_FINGERPRINTS_PER_HOUR + 1);
    for (let i = 0; i < 5; i++) expect(hour.failedFingerprints.get(`TLSv1|${fingerprint(i).ja4}`)).toBe(100);
    const total = [...hour.failedFingerprints.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(20_500);
    expect(hour.failedFingerprints.get(OTHER)).toBeGreaterThan(19_000);
    // `other` names nobody in the report; the named rows are the heavy ones.
    const rows = buildReport(state, NOW, storage).windows['24h'].namedFailures;
    expect(rows.slice(0, 5).map((r) => r.connections)).toEqual([100, 100, 100, 100, 100]);
    expect(rows.every((r) => r.ja4 !== OTHER)).toBe(true);
  });

  it('survives the stats file, and merges like every other count', () => {
    const state = emptyState();
    recordClientHello(state, NOW, 'TLSv1');
    recordClientHello(state, NOW, 'not-tls');
    recordHandshakeFailure(state, NOW, 'no-shared-cipher', fingerprint(1));
    const loaded = fromDocument(JSON.parse(JSON.stringify(toDocument(state, SALT, NOW)))).state;
    expect(buildReport(loaded, NOW, storage)).toEqual(buildReport(state, NOW, storage));
    mergeState(loaded, state);
    const w = buildReport(loaded, NOW, storage).windows['24h'];
    expect(w.offered.byVersion).toMatchObject({ TLSv1: 2, 'not-tls': 2 });
    expect(w.namedFailures[0]).toMatchObject({ ja4: fingerprint(1).ja4, connections: 2, name: null });
    expect(w.whatIf[0]).toMatchObject({ connections: 2, connectionShare: 1 });
  });

  it('loads a stats file written before the census', () => {
    const state = emptyState();
    recordHandshakeFailure(state, NOW, 'protocol-too-old');
    const old = JSON.parse(JSON.stringify(toDocument(state, SALT, NOW))) as { hours: Record<string, unknown>[] };
    for (const hour of old.hours) {
      delete hour.offered;
      delete hour.failedFingerprints;
    }
    const w = buildReport(fromDocument(old).state, NOW, storage).windows['24h'];
    expect(w.handshakeFailures.byReason['protocol-too-old']).toBe(1);
    expect(w.offered.connections).toBe(0);
  });

  it('refuses a file with an unknown census label or more fingerprints than were ever kept', () => {
    const state = emptyState();
    recordClientHello(state, NOW, 'TLSv1');
    const doc = JSON.parse(JSON.stringify(toDocument(state, SALT, NOW))) as { hours: { offered: Record<string, number>; failedFingerprints?: Record<string, number> }[] };
    doc.hours[0]!.offered.__proto__x = 1;
    expect(() => fromDocument(doc)).toThrow(/offered/);
    delete doc.hours[0]!.offered.__proto__x;
    doc.hours[0]!.failedFingerprints = Object.fromEntries(Array.from({ length: MAX_FINGERPRINTS_PER_HOUR + 2 }, (_, i) => [`TLSv1|${fingerprint(i).ja4}`, 1]));
    expect(() => fromDocument(doc)).toThrow(/failedFingerprints/);
  });

  it('counts the what-if per connection over the census window only', () => {
    const state = emptyState();
    recordClientHello(state, NOW - 2 * 24 * HOUR_MS, 'TLSv1');
    recordClientHello(state, NOW, 'TLSv1.2');
    recordClientHello(state, NOW, 'TLSv1.1');
    recordClientHello(state, NOW, 'no-hello');
    const report = buildReport(state, NOW, storage);
    expect(report.windows['24h'].whatIf.map((r) => [r.connections, r.connectionShare])).toEqual([
      [1, 0.5],
      [2, 1],
    ]);
    expect(report.windows['7d'].whatIf[0]!.connections).toBe(2);
    expect(report.totals.offered).toMatchObject({ TLSv1: 1, 'TLSv1.1': 1, 'TLSv1.2': 1, 'no-hello': 1 });
  });
});

describe('intercepted-or-spoofed', () => {
  const policy = buildPolicy();
  const facts = (maxVersion: OfferedTls['maxVersion'], protocol: TlsFacts['protocol'] = 'TLSv1'): TlsFacts => ({ protocol, cipher: null, servername: null, source: 'socket', offered: { maxVersion, ja4: 't10d000000_000000000000_000000000000' } });
  const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
  const EDGE = `${CHROME} Edg/120.0.0.0`;
  const FIREFOX_26 = 'Mozilla/5.0 (Windows NT 6.1; rv:26.0) Gecko/20100101 Firefox/26.0';
  const IE8 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';
  const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

  it('labels a current browser on a hello offering nothing above TLS 1.0, alongside tls-version', () => {
    for (const ua of [CHROME, EDGE]) {
      const verdict = classifyClient(facts('TLSv1'), ua, policy);
      expect({ ua, legacy: verdict.legacy, reasons: verdict.reasons }).toEqual({ ua, legacy: true, reasons: ['tls-version', 'intercepted-or-spoofed'] });
    }
    expect(classifyClient(facts('SSLv3', null), CHROME, policy).reasons).toContain('intercepted-or-spoofed');
  });

  it('leaves out old browsers, bots, TLS 1.1 and higher offers, and facts without a read hello', () => {
    expect(classifyClient(facts('TLSv1'), IE8, policy).reasons).toEqual(['tls-version', 'user-agent']);
    expect(classifyClient(facts('TLSv1'), FIREFOX_26, policy).reasons).toEqual(['tls-version', 'user-agent']);
    expect(classifyClient(facts('TLSv1'), GOOGLEBOT, policy).reasons).toEqual(['tls-version']);
    expect(classifyClient(facts('TLSv1.1', 'TLSv1.1'), CHROME, policy).reasons).toEqual(['tls-version']);
    expect(classifyClient(facts('TLSv1.3', 'TLSv1.3'), CHROME, policy)).toMatchObject({ legacy: false, reasons: [] });
    expect(classifyClient({ protocol: 'TLSv1', cipher: null, servername: null, source: 'socket' }, CHROME, policy).reasons).toEqual(['tls-version']);
  });

  it('never makes a request legacy by itself: the policy decides the answer', () => {
    const lenient = buildPolicy({ legacyProtocols: [] });
    const verdict = classifyClient(facts('TLSv1'), CHROME, lenient);
    expect(verdict).toMatchObject({ legacy: false, reasons: ['intercepted-or-spoofed'] });
  });
});
