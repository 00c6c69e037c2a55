import { describe, expect, it } from 'vitest';
import { addressKey, ConnectionLimiter } from '../src/tls/connection-limiter.js';

/**
 * Connections are plain labels here: the limiter never touches a socket. Unless a test is about the age
 * of a handshake, every handshake is old enough to be closed for a new connection.
 */
class Limiter extends ConnectionLimiter<string> {
  override admit(connection: string, address: string | null, now = 0) {
    return super.admit(connection, address, now);
  }
}

function limiter(maxConnections: number, maxHandshakesPerAddress = 0, evictAfterMs = 0): Limiter {
  return new Limiter({ maxConnections, maxHandshakesPerAddress, evictAfterMs });
}

describe('ConnectionLimiter', () => {
  it('admits up to the limit, then closes the oldest unfinished handshake for each new connection', () => {
    const l = limiter(3);
    expect(l.admit('a', '10.0.0.1')).toEqual({ admitted: true, evicted: null });
    expect(l.admit('b', '10.0.0.2')).toEqual({ admitted: true, evicted: null });
    expect(l.admit('c', '10.0.0.3')).toEqual({ admitted: true, evicted: null });
    expect(l.admit('d', '10.0.0.4')).toEqual({ admitted: true, evicted: 'a' });
    expect(l.admit('e', '10.0.0.5')).toEqual({ admitted: true, evicted: 'b' });
    expect(l.size).toBe(3);
  });

  it('never evicts a connection whose handshake finished; refuses when all have', () => {
    const l = limiter(3);
    l.admit('client', '10.0.0.1');
    l.handshakeFinished('client');
    l.admit('silent-1', '10.0.0.2');
    l.admit('silent-2', '10.0.0.3');
    // 'client' is the oldest connection, but it is serving: the oldest *unfinished* one goes.
    expect(l.admit('new-1', '10.0.0.4')).toEqual({ admitted: true, evicted: 'silent-1' });
    l.handshakeFinished('silent-2');
    l.handshakeFinished('new-1');
    expect(l.admit('new-2', '10.0.0.5')).toEqual({ admitted: false, reason: 'connection-limit' });
    expect(l.size).toBe(3);
  });

  it('frees the slot of a closed connection, and ignores a second close and unknown connections', () => {
    const l = limiter(2);
    l.admit('a', '10.0.0.1');
    l.admit('b', '10.0.0.1');
    l.handshakeFinished('a');
    l.handshakeFinished('b');
    l.closed('a');
    l.closed('a');
    l.closed('never-seen');
    expect(l.size).toBe(1);
    expect(l.admit('c', '10.0.0.1')).toEqual({ admitted: true, evicted: null });
    // An evicted connection's own close comes later: it must not free a second slot.
    expect(l.admit('d', '10.0.0.1')).toEqual({ admitted: true, evicted: 'c' });
    l.closed('c');
    expect(l.size).toBe(2);
  });

  it('refuses an address holding maxHandshakesPerAddress unfinished handshakes, and only that address', () => {
    const l = limiter(100, 2);
    expect(l.admit('a1', '203.0.113.7').admitted).toBe(true);
    expect(l.admit('a2', '203.0.113.7').admitted).toBe(true);
    expect(l.admit('a3', '203.0.113.7')).toEqual({ admitted: false, reason: 'address-limit' });
    expect(l.admit('b1', '203.0.113.8').admitted).toBe(true);
    // A finished handshake no longer counts against its address.
    l.handshakeFinished('a1');
    expect(l.handshakesFrom('203.0.113.7')).toBe(1);
    expect(l.admit('a4', '203.0.113.7').admitted).toBe(true);
    l.closed('a2');
    expect(l.admit('a5', '203.0.113.7').admitted).toBe(true);
    expect(l.admit('a6', '203.0.113.7')).toEqual({ admitted: false, reason: 'address-limit' });
  });

  it('checks the address cap before evicting: one peer over its cap never pushes out anyone else', () => {
    const l = limiter(2, 1);
    l.admit('victim', '198.51.100.1');
    l.admit('attacker', '198.51.100.2');
    expect(l.admit('attacker-again', '198.51.100.2')).toEqual({ admitted: false, reason: 'address-limit' });
    expect(l.size).toBe(2);
    expect(l.handshakesFrom('198.51.100.1')).toBe(1);
  });

  it('an evicted handshake no longer counts against its address', () => {
    const l = limiter(1, 1);
    l.admit('old', '192.0.2.1');
    expect(l.admit('new', '192.0.2.2')).toEqual({ admitted: true, evicted: 'old' });
    expect(l.handshakesFrom('192.0.2.1')).toBe(0);
    expect(l.admit('newer', '192.0.2.1')).toEqual({ admitted: true, evicted: 'new' });
  });

  it('closes an unfinished handshake for a new connection only once it is evictAfterMs old', () => {
    const l = limiter(2, 0, 1000);
    l.admit('a', '10.0.0.1', 0);
    l.admit('b', '10.0.0.2', 600);
    // 'a' is 999 ms into its handshake: likely a real client about to finish. The newcomer waits.
    expect(l.admit('c', '10.0.0.3', 999)).toEqual({ admitted: false, reason: 'connection-limit' });
    expect(l.admit('d', '10.0.0.4', 1000)).toEqual({ admitted: true, evicted: 'a' });
    // Now 'b' is the oldest, 1000 ms after its start only at 1600.
    expect(l.admit('e', '10.0.0.5', 1599)).toEqual({ admitted: false, reason: 'connection-limit' });
    expect(l.admit('f', '10.0.0.6', 1600)).toEqual({ admitted: true, evicted: 'b' });
  });

  it('counts IPv4-mapped, IPv6 /64 neighbours and unknown peers as one address each', () => {
    const l = limiter(100, 2);
    l.admit('v4', '192.0.2.9');
    l.admit('mapped', '::ffff:192.0.2.9');
    expect(l.admit('mapped-again', '::FFFF:192.0.2.9')).toEqual({ admitted: false, reason: 'address-limit' });
    l.admit('v6-a', '2001:db8:1:2::1');
    l.admit('v6-b', '2001:db8:1:2:ffff:ffff:ffff:ffff');
    expect(l.admit('v6-c', '2001:0db8:0001:0002:abcd::9')).toEqual({ admitted: false, reason: 'address-limit' });
    expect(l.admit('v6-other-64', '2001:db8:1:3::1').admitted).toBe(true);
    l.admit('gone-1', null);
    l.admit('gone-2', null);
    expect(l.admit('gone-3', null)).toEqual({ admitted: false, reason: 'address-limit' });
  });
});

describe('addressKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::1', '0:0:0:0::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:DB8:0:0:1::', '2001:db8:0:0::/64'],
    ['2001:db8:aa:bb:cc:dd:ee:ff', '2001:db8:aa:bb::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    [null, 'unknown'],
    ['', 'unknown'],
  ])('%s -> %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it('keeps anything that is not an IP address as it is, so it is still limited on its own', () => {
    expect(addressKey('not-an-address')).toBe('not-an-address');
    expect(addressKey('2001:db8::1::2')).toBe('2001:db8::1::2');
  });
});
