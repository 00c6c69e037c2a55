import { describe, expect, it } from 'vitest';
import { normaliseTlsVersion, parseTrustedTlsHeader } from '../src/tls/facts.js';
import { compileTrustedProxies, trustedProxyEntryError } from '../src/tls/trusted-proxies.js';
import { InvalidOptionError } from '../src/errors.js';
import { resolveFallbackOptions } from '../src/fallback/options.js';

describe('normaliseTlsVersion', () => {
  it.each([
    ['TLSv1', 'TLSv1'], ['TLSv1.0', 'TLSv1'], ['tlsv1.1', 'TLSv1.1'], [' TLSv1.2 ', 'TLSv1.2'], ['TLS1.3', 'TLSv1.3'],
    ['none', null], ['SSLv3', null], ['TLSv2', null], ['', null], ['TLSv1.2\u0000', null], ['x'.repeat(10_000), null],
  ])('%j → %j', (input, expected) => {
    expect(normaliseTlsVersion(input)).toBe(expected);
  });
});

describe('parseTrustedTlsHeader', () => {
  it('reads CloudFront-Viewer-TLS, keeping the cipher', () => {
    expect(parseTrustedTlsHeader('TLSv1.3:TLS_AES_128_GCM_SHA256:fullHandshake')).toEqual({ protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
    expect(parseTrustedTlsHeader('TLSv1:ECDHE-RSA-AES128-SHA:sessionResumed')).toEqual({ protocol: 'TLSv1', cipher: 'ECDHE-RSA-AES128-SHA' });
  });

  it('accepts repeated values that agree and refuses ones that disagree', () => {
    expect(parseTrustedTlsHeader('TLSv1, TLSv1')).toEqual({ protocol: 'TLSv1', cipher: null });
    expect(parseTrustedTlsHeader(['TLSv1.3', 'TLSv1'])).toEqual({ protocol: null, cipher: null });
    expect(parseTrustedTlsHeader('TLSv1.3, TLSv1')).toEqual({ protocol: null, cipher: null });
  });

  // A proxy that appends instead of replacing must not let a client bury its real version in copies.
  it('knows nothing from more values than any proxy chain adds', () => {
    expect(parseTrustedTlsHeader('TLSv1.3, TLSv1.3, TLSv1.3, TLSv1.3, TLSv1')).toEqual({ protocol: null, cipher: null });
  });

  it('never trusts a cipher that is not a cipher name', () => {
    expect(parseTrustedTlsHeader('TLSv1.2:<script>:x')).toEqual({ protocol: 'TLSv1.2', cipher: null });
  });
});

describe('trusted proxies', () => {
  const proxies = compileTrustedProxies(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', 'loopback']);

  it.each([
    ['10.1.2.3', true], ['::ffff:10.1.2.3', true], ['192.0.2.7', true], ['192.0.2.8', false], ['2001:db8::1', true],
    ['2001:db9::1', false], ['127.0.0.1', true], ['::1', true], ['11.0.0.1', false], [undefined, false], ['not-an-ip', false],
  ])('%s → %s', (address, trusted) => {
    expect(proxies.has(address)).toBe(trusted);
  });

  it('explains what is wrong with an entry', () => {
    expect(trustedProxyEntryError('10.0.0.0/33')).toMatch(/prefix length outside 0-32/);
    expect(trustedProxyEntryError('example.com')).toMatch(/not an IP address/);
    expect(trustedProxyEntryError('private')).toBeNull();
    expect(compileTrustedProxies([]).has('127.0.0.1')).toBe(false);
  });
});

describe('trustedProxies entries named like Object members', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('refuses %j with an InvalidOptionError naming the entry, not a TypeError', (entry) => {
    expect(() => resolveFallbackOptions({ trustedHeader: 'x-tls-protocol', trustedProxies: [entry] })).toThrow(InvalidOptionError);
    expect(() => resolveFallbackOptions({ trustedHeader: 'x-tls-protocol', trustedProxies: [entry] })).toThrow(/trustedProxies\[0\]/);
  });
});
