import net from 'node:net';

/**
 * A compiled allow-list of proxy addresses. Built once at start-up; `has()` is on the request path.
 * `net.BlockList` does the CIDR maths so we do not hand-roll prefix matching.
 */
export interface TrustedProxies {
  has(address: string | undefined): boolean;
}

/** Shorthand entries, because "trust the proxy on this box" is the most common case. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Returns the problem with one entry, or `null` when it is a valid IP, CIDR or named range. */
export function trustedProxyEntryError(entry: unknown): string | null {
  if (typeof entry !== 'string' || entry.trim() === '') return 'must be a non-empty string';
  // Own keys only: 'constructor' or '__proto__' are not named ranges.
  if (Object.hasOwn(NAMED_RANGES, entry)) return null;
  const [address, prefix, ...rest] = entry.trim().split('/');
  const family = net.isIP(address ?? '');
  if (family === 0 || rest.length > 0) return 'is not an IP address or CIDR range';
  if (prefix === undefined) return null;
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || bits > max) return `has a prefix length outside 0-${max}`;
  return null;
}

export function compileTrustedProxies(entries: readonly string[]): TrustedProxies {
  if (entries.length === 0) return { has: () => false };
  const list = new net.BlockList();
  for (const raw of entries.flatMap((entry) => (Object.hasOwn(NAMED_RANGES, entry) ? (NAMED_RANGES[entry] as string[]) : [entry.trim()]))) {
    const [address = '', prefix] = raw.split('/');
    const type = net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return {
    has(address) {
      if (!address) return false;
      const plain = unmapIpv4(address);
      const family = net.isIP(plain);
      if (family === 0) return false;
      return list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** Dual-stack sockets report IPv4 peers as `::ffff:a.b.c.d`; match them against IPv4 ranges. */
function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
