import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';

/**
 * Checks `Authorization: Bearer <token>` or HTTP Basic with the token as password (any user name),
 * in constant time: both sides are hashed first so neither length nor content leaks through timing.
 */
export function createTokenCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    if (!authorization || authorization.length > 4096) return false;
    const space = authorization.indexOf(' ');
    if (space < 0) return false;
    const scheme = authorization.slice(0, space).toLowerCase();
    const credentials = authorization.slice(space + 1).trim();
    let presented: string | undefined;
    if (scheme === 'bearer') presented = credentials;
    else if (scheme === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      presented = colon < 0 ? undefined : decoded.slice(colon + 1);
    }
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (net.isIPv4(plain)) return plain.startsWith('127.');
  return plain === '::1';
}
