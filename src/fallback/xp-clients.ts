import type { ClientInfo } from '../types.js';

/**
 * Internet Explorer on Windows XP and Server 2003 (NT 5.1/5.2) uses the system's SChannel, which offers
 * only RC4 and 3DES: no Node server can ever finish its handshake. Firefox or Chrome on XP bring their
 * own TLS and connect fine, so only IE is matched.
 */
export function isHandshakeImpossible(client: ClientInfo): boolean {
  return client.browser === 'IE' && client.os === 'Windows XP';
}
