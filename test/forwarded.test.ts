/**
 * The visitor's address behind a trusted proxy (issue 12): X-Forwarded-For / Forwarded, picked like
 * proxy-addr (rightmost untrusted hop), read only from a trusted peer, bounded whatever the header holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { forwardedClientAddress, MAX_HOPS, normaliseAddress } from '../src/http/forwarded.js';
import { compileTrustedProxies } from '../src/tls/trusted-proxies.js';

const loopbackAndPrivate = compileTrustedProxies(['loopback', '10.0.0.0/8']);
const trusted = (address: string) => loopbackAndPrivate.has(address);
const pick = (peer: string | undefined, headers: Record<string, string | string[]>) => forwardedClientAddress(peer, headers, trusted);

describe('forwardedClientAddress', () => {
  it("never reads an untrusted peer's headers", () => {
    expect(pick('203.0.113.9', { 'x-forwarded-for': '198.51.100.1' })).toBe('203.0.113.9');
    expect(pick('203.0.113.9', { forwarded: 'for=198.51.100.1' })).toBe('203.0.113.9');
    expect(pick(undefined, { 'x-forwarded-for': '198.51.100.1' })).toBeUndefined();
  });

  it('takes the rightmost untrusted hop: what a client put on the left is ignored', () => {
    expect(pick('127.0.0.1', { 'x-forwarded-for': '198.51.100.1' })).toBe('198.51.100.1');
    // The client sent "X-Forwarded-For: 1.1.1.1"; the load balancer appended the address it saw.
    expect(pick('127.0.0.1', { 'x-forwarded-for': '1.1.1.1, 198.51.100.1' })).toBe('198.51.100.1');
    // Two trusted proxies in a row: the first untrusted one from the right.
    expect(pick('::1', { 'x-forwarded-for': '1.1.1.1, 198.51.100.1, 10.0.0.7' })).toBe('198.51.100.1');
    // All trusted: the leftmost, as proxy-addr answers.
    expect(pick('127.0.0.1', { 'x-forwarded-for': '10.0.0.1, 10.0.0.2' })).toBe('10.0.0.1');
    // No header from a trusted peer: the peer.
    expect(pick('127.0.0.1', {})).toBe('127.0.0.1');
  });

  it('reads IPv6 in brackets, ports, IPv4-mapped addresses; repeated headers as one list', () => {
    expect(pick('127.0.0.1', { 'x-forwarded-for': '[2001:db8::1]:4711' })).toBe('2001:db8::1');
    expect(pick('127.0.0.1', { 'x-forwarded-for': '2001:DB8::2' })).toBe('2001:db8::2');
    expect(pick('127.0.0.1', { 'x-forwarded-for': '198.51.100.1:61234' })).toBe('198.51.100.1');
    expect(pick('::ffff:127.0.0.1', { 'x-forwarded-for': '::ffff:198.51.100.3' })).toBe('198.51.100.3');
    expect(pick('127.0.0.1', { 'x-forwarded-for': ['1.1.1.1', '198.51.100.4'] })).toBe('198.51.100.4');
    expect(pick('127.0.0.1', { 'x-forwarded-for': '198.51.100.5,, ' })).toBe('198.51.100.5');
  });

  it('stops at a hop that is no address: the last real one answers', () => {
    expect(pick('127.0.0.1', { 'x-forwarded-for': 'junk' })).toBe('127.0.0.1');
    expect(pick('127.0.0.1', { 'x-forwarded-for': '198.51.100.1, <script>, 10.0.0.3' })).toBe('10.0.0.3');
    expect(pick('127.0.0.1', { 'x-forwarded-for': '[::1' })).toBe('127.0.0.1');
    expect(pick('127.0.0.1', { 'x-forwarded-for': '1.2.3.4:99999999' })).toBe('127.0.0.1');
    expect(pick('127.0.0.1', { 'x-forwarded-for': '999.1.1.1' })).toBe('127.0.0.1');
  });

  it('reads RFC 7239 Forwarded, quoted IPv6 with a port, and refuses obfuscated or unknown nodes', () => {
    expect(pick('127.0.0.1', { forwarded: 'for=192.0.2.60;proto=http;by=203.0.113.43' })).toBe('192.0.2.60');
    expect(pick('127.0.0.1', { forwarded: 'for=1.1.1.1, For="[2001:db8:cafe::17]:4711"' })).toBe('2001:db8:cafe::17');
    expect(pick('127.0.0.1', { forwarded: 'for=_hidden' })).toBe('127.0.0.1');
    expect(pick('127.0.0.1', { forwarded: 'for=unknown' })).toBe('127.0.0.1');
    expect(pick('127.0.0.1', { forwarded: 'proto=https' })).toBe('127.0.0.1');
    // A comma inside a quoted value is text, not a new element.
    expect(pick('127.0.0.1', { forwarded: 'for=198.51.100.9;x="a,b"' })).toBe('198.51.100.9');
  });

  it('prefers X-Forwarded-For, which every common proxy appends to', () => {
    expect(pick('127.0.0.1', { 'x-forwarded-for': '198.51.100.1', forwarded: 'for=198.51.100.2' })).toBe('198.51.100.1');
  });

  it('looks at no more than the last MAX_HOPS hops, however many are sent', () => {
    const hops = Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    // Every hop trusted: the walk stops after MAX_HOPS, at the leftmost of those it read.
    expect(pick('127.0.0.1', { 'x-forwarded-for': hops.join(', ') })).toBe(hops[hops.length - MAX_HOPS]);
    // A client address buried further left than that is never reached.
    expect(pick('127.0.0.1', { 'x-forwarded-for': ['198.51.100.1', ...hops.slice(0, MAX_HOPS)].join(',') })).toBe(hops[0]);
    // A 64 KiB value with no comma: junk, bounded.
    expect(pick('127.0.0.1', { 'x-forwarded-for': `${'9'.repeat(65_536)}1.2.3.4` })).toBe('127.0.0.1');
    expect(pick('127.0.0.1', { forwarded: `for="${'"'.repeat(65_536)}` })).toBe('127.0.0.1');
  });

  it('answers the peer or a valid address for any header (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 })), { maxLength: 40 }).map((a) => a.join(', '))), fc.boolean(), (value, rfc) => {
        const result = pick('127.0.0.1', rfc ? { forwarded: value } : { 'x-forwarded-for': value });
        expect(result === '127.0.0.1' || net.isIP(result ?? '') !== 0).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('normaliseAddress', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4 ', '1.2.3.4'],
    ['1.2.3.4:80', '1.2.3.4'],
    ['[::1]:80', '::1'],
    ['[::1]', '::1'],
    ['::FFFF:1.2.3.4', '1.2.3.4'],
    ['1.2.3.4:', null],
    ['[::1]x', null],
    ['::1:80:', null],
    ['unknown', null],
    ['', null],
  ])('%j → %j', (text, expected) => expect(normaliseAddress(text)).toBe(expected));
});
