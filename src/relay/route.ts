import { TLS_1_2, TLS_1_3, type ClientHelloRead } from '../tls/client-hello.js';

/**
 * Where a connection goes once its first bytes are read:
 * - `relay`: it offers the cut-off version or higher; the existing TLS server gets it byte for byte.
 * - `terminate`: it offers nothing that high (or its hello is broken); the legacy-capable server here
 *   completes it, shows the page, and counts a failed handshake like any other.
 * - `not-tls`: it does not start with a TLS handshake at all (plain HTTP on the TLS port, a scanner).
 */
export type RelayRoute = 'relay' | 'terminate' | 'not-tls';

/** The versions the cut may be set at: relay clients that offer at least this. */
export const RELAY_CUTS = { 'TLSv1.2': TLS_1_2, 'TLSv1.3': TLS_1_3 } as const;
export type RelayCut = keyof typeof RELAY_CUTS;

/**
 * Decides a connection from its ClientHello read. Pure. A malformed or oversized hello is terminated
 * here rather than relayed: nothing in it says it is modern, and this server's TLS layer refuses it with
 * an alert and counts it, where relaying would hide it in the existing server's logs.
 */
export function routeFor(read: Exclude<ClientHelloRead, { status: 'need-more' }>, cut: number = TLS_1_2): RelayRoute {
  switch (read.status) {
    case 'complete':
      // Major 3 only: a hostile legacy_version such as 0xffff is not "newer than TLS 1.3".
      return read.hello.maxVersion >= cut && read.hello.maxVersion >> 8 === 3 ? 'relay' : 'terminate';
    case 'not-tls':
      return 'not-tls';
    case 'malformed':
    case 'too-large':
      return 'terminate';
  }
}
