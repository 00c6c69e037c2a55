import net from 'node:net';

/**
 * The connection limit as bookkeeping only: which connection to let in, which to close to make room,
 * which to refuse. No sockets and no timers, so the policy is tested as plain calls; `connection-guard.ts`
 * applies its answers to real sockets.
 *
 * A full server closes the oldest connection whose handshake has not finished, because that one is the
 * likeliest to be a silent or stalled socket, and a slot held by it is worth less than one a new client
 * could use; but only once it has been at it for `evictAfterMs`. A younger one is most likely a real
 * client a round trip from done (a TLS 1.3 server even learns that its client is done one flight after
 * the client does): closing it would swap one client for another and waste the work. When there is no
 * such connection, the new one is refused. One
 * address (an IPv6 /64, which one host gets whole) may hold at most `maxHandshakesPerAddress` unfinished
 * handshakes, so a single peer can neither fill the server with silent sockets nor push other people's
 * handshakes out by opening new ones faster than they finish.
 */
export interface ConnectionLimits {
  /** Most connections open at once, finished handshakes or not. */
  maxConnections: number;
  /** Most unfinished handshakes from one address at once; 0 for no per-address cap. */
  maxHandshakesPerAddress: number;
  /** An unfinished handshake is closed for a new connection only once it is this old. */
  evictAfterMs: number;
}

export type Admission<T> =
  | { admitted: true; evicted: T | null }
  | { admitted: false; reason: 'connection-limit' | 'address-limit' };

export class ConnectionLimiter<T> {
  /** Unfinished handshakes, their address key and start time, oldest first (a Map keeps insertion order). */
  private readonly handshaking = new Map<T, { key: string; since: number }>();
  private readonly established = new Set<T>();
  private readonly handshakesByAddress = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {}

  /** Open connections, counted against `maxConnections`. */
  get size(): number {
    return this.handshaking.size + this.established.size;
  }

  /** Unfinished handshakes from `address`'s group. */
  handshakesFrom(address: string | null): number {
    return this.handshakesByAddress.get(addressKey(address)) ?? 0;
  }

  /**
   * A new connection from `address`. When it is admitted by closing another, that one (`evicted`) is no
   * longer tracked here: the caller closes it.
   */
  admit(connection: T, address: string | null, now: number): Admission<T> {
    const key = addressKey(address);
    const { maxConnections, maxHandshakesPerAddress, evictAfterMs } = this.limits;
    if (maxHandshakesPerAddress > 0 && (this.handshakesByAddress.get(key) ?? 0) >= maxHandshakesPerAddress) {
      return { admitted: false, reason: 'address-limit' };
    }
    let evicted: T | null = null;
    if (this.size >= maxConnections) {
      const oldest = this.handshaking.entries().next();
      if (oldest.done || now - oldest.value[1].since < evictAfterMs) return { admitted: false, reason: 'connection-limit' };
      evicted = oldest.value[0];
      this.forget(evicted);
    }
    this.handshaking.set(connection, { key, since: now });
    this.handshakesByAddress.set(key, (this.handshakesByAddress.get(key) ?? 0) + 1);
    return { admitted: true, evicted };
  }

  /** The connection finished its handshake: it still holds a slot, but is never evicted. */
  handshakeFinished(connection: T): void {
    if (!this.handshaking.has(connection)) return;
    this.forget(connection);
    this.established.add(connection);
  }

  /** The connection is gone, for whatever reason; unknown or already evicted connections are ignored. */
  closed(connection: T): void {
    this.forget(connection);
    this.established.delete(connection);
  }

  private forget(connection: T): void {
    const key = this.handshaking.get(connection)?.key;
    if (key === undefined) return;
    this.handshaking.delete(connection);
    const left = (this.handshakesByAddress.get(key) ?? 1) - 1;
    if (left > 0) this.handshakesByAddress.set(key, left);
    else this.handshakesByAddress.delete(key);
  }
}

/**
 * The group an address is limited in: an IPv4 address itself (also when dual-stack sockets report it as
 * `::ffff:a.b.c.d`), the /64 of an IPv6 address (a host gets a whole /64, so counting single IPv6
 * addresses would let it open 2^64 of them), `unknown` when the peer is gone before we could read it.
 */
export function addressKey(address: string | null | undefined): string {
  if (!address) return 'unknown';
  const plain = address.split('%')[0] ?? '';
  if (net.isIPv4(plain)) return plain;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(plain)?.[1];
  if (mapped !== undefined && net.isIPv4(mapped)) return mapped;
  const groups = net.isIPv6(plain) ? ipv6Groups(plain) : null;
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : plain;
}

/** The eight 16-bit groups of a valid IPv6 address, in lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] | null {
  let text = address.toLowerCase();
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(Math.max(0, zeros)).fill('0'), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16).toString(16));
}
