import net from 'node:net';
import { InvalidOptionError } from '../errors.js';

/** A TCP endpoint given as an option: `127.0.0.1:8443`, `localhost:8443`, `[::1]:8443`. */
export interface HostPort {
  host: string;
  port: number;
}

const EXAMPLE = 'such as 127.0.0.1:8443, localhost:8443 or [::1]:8443';

/**
 * Parses `host:port` (IPv6 in brackets) or `{ host, port }`. Host names are letters, digits, `-` and `.`
 * only, so that the value can go into a generated nginx or HAProxy config as it is: nothing in it can
 * end a directive or open a block.
 */
export function parseHostPort(value: unknown, option: string, { allowPortZero = false } = {}): HostPort {
  const expected = `expected host:port ${EXAMPLE}`;
  let host: unknown;
  let port: unknown;
  if (typeof value === 'string') {
    const text = value.trim();
    const bracketed = /^\[([^\]]*)\]:(\d{1,5})$/.exec(text);
    const plain = /^([^:[\]]*):(\d{1,5})$/.exec(text);
    const match = bracketed ?? plain;
    if (!match) {
      const hint = text.includes('://')
        ? `expected host:port without a scheme or path, ${EXAMPLE}`
        : text.split(':').length > 2 && !text.startsWith('[')
          ? 'put an IPv6 address in brackets, such as [::1]:8443'
          : expected;
      throw new InvalidOptionError(option, value, hint);
    }
    host = match[1];
    port = Number(match[2]);
    if (bracketed && !net.isIPv6(String(host))) throw new InvalidOptionError(option, value, `${JSON.stringify(host)} is not an IPv6 address; ${expected}`);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    host = (value as Record<string, unknown>).host;
    port = (value as Record<string, unknown>).port;
  } else {
    throw new InvalidOptionError(option, value, expected);
  }
  if (typeof host !== 'string' || !isHost(host)) throw new InvalidOptionError(option, value, `${JSON.stringify(host)} is not an IP address or a host name; ${expected}`);
  const low = allowPortZero ? 0 : 1;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < low || port > 65535) {
    throw new InvalidOptionError(option, value, `the port must be an integer from ${low} to 65535; ${expected}`);
  }
  return { host, port };
}

function isHost(host: string): boolean {
  if (net.isIPv4(host)) return true;
  if (net.isIPv6(host)) return !host.includes('%');
  if (/^[\d.]+$/.test(host)) return false; // 999.1.1.1, 10.0.0: an IPv4 typo, not a name
  return host.length <= 253 && /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host);
}

/** `host:port` with an IPv6 host in brackets, as nginx, HAProxy and URLs write it. */
export function formatHostPort({ host, port }: HostPort): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
