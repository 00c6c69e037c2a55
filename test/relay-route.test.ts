/**
 * The relay's decision, a pure function of the ClientHello read, checked against testssl.sh's 162
 * recorded hellos and what each of those clients negotiated against a server offering every version;
 * and the relay's options, refused at creation with the option named.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { createRelay } from '../src/relay/relay.js';
import type { RelayOptions } from '../src/relay/options.js';
import { routeFor, RELAY_CUTS } from '../src/relay/route.js';
import { readClientHello, TLS_1_0, TLS_1_1, TLS_1_2, TLS_1_3, type ClientHelloRead } from '../src/tls/client-hello.js';
import { readTestsslClients } from '../scripts/testssl-clients.js';
import { clientHello, ext, sslv2Hello, testsslClientData } from './helpers/client-hellos.js';
import { readReferenceResults } from './helpers/testssl-reference.js';

type Decided = Exclude<ClientHelloRead, { status: 'need-more' }>;

function decided(bytes: Uint8Array): Decided {
  const read = readClientHello(bytes);
  if (read.status === 'need-more') throw new Error('expected a decided read');
  return read;
}

const offering = (...versions: number[]) =>
  decided(clientHello({ version: Math.min(TLS_1_2, Math.max(...versions)), ciphers: [0x002f], extensions: versions.length > 1 ? [ext.supportedVersions(...versions)] : [] }));

describe('routeFor', () => {
  it('relays a client that offers TLS 1.2 or 1.3, terminates one that offers nothing above 1.1', () => {
    expect(routeFor(offering(TLS_1_3, TLS_1_2))).toBe('relay');
    expect(routeFor(offering(TLS_1_2))).toBe('relay');
    expect(routeFor(offering(TLS_1_1))).toBe('terminate');
    expect(routeFor(offering(TLS_1_0))).toBe('terminate');
    expect(routeFor(decided(sslv2Hello(TLS_1_0, [0x00002f, 0x010080])))).toBe('terminate');
  });

  it('goes by supported_versions, not by the legacy_version every TLS 1.3 client sets to 1.2', () => {
    // A TLS 1.3-only client: legacy_version 1.2, supported_versions 1.3 alone.
    expect(routeFor(decided(clientHello({ version: TLS_1_2, ciphers: [0x1301], extensions: [ext.supportedVersions(TLS_1_3)] })), RELAY_CUTS['TLSv1.3'])).toBe('relay');
    // A client claiming 1.2 in legacy_version but listing only 1.1 and 1.0 in supported_versions.
    expect(routeFor(decided(clientHello({ version: TLS_1_2, ciphers: [0x002f], extensions: [ext.supportedVersions(TLS_1_1, TLS_1_0)] })))).toBe('terminate');
  });

  it('with the cut at TLS 1.3, terminates TLS 1.2 clients too', () => {
    expect(routeFor(offering(TLS_1_2), RELAY_CUTS['TLSv1.3'])).toBe('terminate');
    expect(routeFor(offering(TLS_1_3, TLS_1_2), RELAY_CUTS['TLSv1.3'])).toBe('relay');
  });

  it('does not take a version from outside TLS (0xffff, DTLS 0xfefd) for a newer one', () => {
    expect(routeFor(decided(clientHello({ version: 0xffff, ciphers: [0x002f] })))).toBe('terminate');
    expect(routeFor(decided(clientHello({ version: 0xfefd, ciphers: [0x002f] })))).toBe('terminate');
    expect(routeFor(decided(clientHello({ version: 0x0305, ciphers: [0x002f] })))).toBe('relay');
  });

  it('terminates a broken or oversized hello here (counted by this TLS server), and sets other protocols apart', () => {
    expect(routeFor({ status: 'malformed', reason: 'extensions-length' })).toBe('terminate');
    expect(routeFor({ status: 'too-large', reason: 'message', limit: 32768 })).toBe('terminate');
    expect(routeFor(decided(new TextEncoder().encode('GET / HTTP/1.1\r\n')))).toBe('not-tls');
    expect(routeFor({ status: 'not-tls', reason: 'not-handshake' })).toBe('not-tls');
  });

  describe.runIf(testsslClientData() !== null)("testssl.sh's 162 recorded clients", () => {
    it('each is relayed exactly when it negotiated TLS 1.2 or 1.3 with a server offering every version', () => {
      const reference = readReferenceResults();
      const clients = readTestsslClients();
      expect(clients).toHaveLength(162);
      const counts = { relay: 0, terminate: 0, 'not-tls': 0 };
      for (const client of clients) {
        const route = routeFor(decided(client.hello));
        counts[route]++;
        const expected = reference.get(client.id);
        if (!expected) throw new Error(`no reference result for ${client.id}`);
        const negotiated = /^TLSv1\.([23])\b/.test(expected.finding) ? 'relay' : /^(TLSv1\.[01]|SSLv3)\b/.test(expected.finding) ? 'terminate' : null;
        // The three that never connected (IE 6 and 8 on XP, YandexBot 3.0) go by what testssl says they offer.
        const want = negotiated ?? (expected.highestOffered >= TLS_1_2 ? 'relay' : 'terminate');
        expect(route, `${client.name}: ${expected.finding}`).toBe(want);
      }
      // The reference: 33 on TLS 1.0 and 5 on TLS 1.1, 91 on 1.2 and 30 on 1.3, 3 never connected.
      expect(counts).toEqual({ relay: 121, terminate: 41, 'not-tls': 0 });
    });
  });
});

describe('relay options', () => {
  const base: RelayOptions = { upstream: '127.0.0.1:8443', onTerminate: () => undefined };

  it('resolves the defaults once', () => {
    expect(createRelay(base).options).toMatchObject({
      upstream: { host: '127.0.0.1', port: 8443 },
      proxyProtocol: false,
      relayFrom: TLS_1_2,
      helloTimeout: 10_000,
      idleTimeout: 600_000,
      connectTimeout: 5000,
    });
    expect(createRelay({ ...base, upstream: '[::1]:443', relayFrom: 'TLSv1.3' }).options).toMatchObject({ upstream: { host: '::1', port: 443 }, relayFrom: TLS_1_3 });
    expect(createRelay({ ...base, upstream: { host: 'localhost', port: 8443 } }).options.upstream).toEqual({ host: 'localhost', port: 8443 });
  });

  it.each<[string, Partial<Record<keyof RelayOptions | 'upstreem', unknown>>, RegExp]>([
    ['no upstream', { upstream: undefined }, /`upstream` is missing; expected the existing TLS server's address/],
    ['a URL as upstream', { upstream: 'https://127.0.0.1:8443' }, /`upstream` is "https:\/\/127\.0\.0\.1:8443"; expected host:port without a scheme/],
    ['a bare IPv6 upstream', { upstream: '::1:8443' }, /put an IPv6 address in brackets/],
    ['port 0', { upstream: '127.0.0.1:0' }, /the port must be an integer from 1 to 65535/],
    ['port 70000', { upstream: '127.0.0.1:70000' }, /the port must be an integer from 1 to 65535/],
    ['a host with a space', { upstream: { host: 'a b', port: 1 } }, /"a b" is not an IP address or a host name/],
    ['a host that would end an nginx directive', { upstream: 'x;y:1' }, /"x;y" is not an IP address or a host name/],
    ['proxyProtocol as a string', { proxyProtocol: 'v2' }, /`proxyProtocol` is "v2"; expected true or false/],
    ['relayFrom TLSv1.1', { relayFrom: 'TLSv1.1' }, /`relayFrom` is "TLSv1.1"; expected one of 'TLSv1.2', 'TLSv1.3'/],
    ['helloTimeout 0', { helloTimeout: 0 }, /`helloTimeout` is 0; expected a whole number of milliseconds/],
    ['idleTimeout in seconds as a string', { idleTimeout: '600s' }, /`idleTimeout` is "600s"/],
    ['connectTimeout Infinity', { connectTimeout: Infinity }, /`connectTimeout`/],
    ['no onTerminate', { onTerminate: undefined }, /`onTerminate` is missing; expected a function that hands legacy connections/],
    ['onCensus not a function', { onCensus: true }, /`onCensus` is true; expected a function/],
    ['a typo', { upstreem: '127.0.0.1:1' }, /`upstreem` is not an option here; did you mean `upstream`\?/],
  ])('refuses %s, naming the option and the fix', (_name, change, message) => {
    const options = { ...base, ...change } as RelayOptions;
    expect(() => createRelay(options)).toThrow(InvalidOptionError);
    expect(() => createRelay(options)).toThrow(message);
  });
});
