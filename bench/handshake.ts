/**
 * TLS handshakes per second with `openssl s_time`: `-new` makes a full handshake per connection,
 * `-reuse` resumes the first connection's session (a session ticket on TLS 1.2) every time.
 *
 * s_time's own "connections/user sec" divides by the *client's user CPU time*, and its "N real
 * seconds" is rounded to whole seconds, so neither is a rate: we count its connections and divide by
 * the wall-clock time of the process. Each s_time is sequential (one connection at a time), so
 * `clients` run in parallel to load the server; the figure is their sum.
 */
import { runTracked } from './processes.js';

export type HandshakeMode = 'new' | 'reuse';

export interface HandshakeResult {
  /** Handshakes per second (all clients together). */
  rate: number;
  connections: number;
  /** Connections s_time reports as resumed ('r' in its progress line). */
  resumed: number;
  seconds: number;
}

/** Pinned so Node and nginx do exactly the same work: ECDHE (X25519) + RSA-2048 signature + AES-GCM. */
export const HANDSHAKE_CIPHER = 'ECDHE-RSA-AES128-GCM-SHA256';

export async function measureHandshakes(port: number, mode: HandshakeMode, seconds: number, clients: number): Promise<HandshakeResult> {
  const time = Math.max(1, Math.round(seconds));
  const args = ['s_time', '-connect', `127.0.0.1:${port}`, `-${mode}`, '-time', String(time), '-tls1_2', '-cipher', HANDSHAKE_CIPHER, '-no-CAfile', '-no-CApath', '-no-CAstore'];
  const runs = await Promise.all(Array.from({ length: clients }, () => runTracked('openssl', args, { timeoutMs: (time + 20) * 1000 })));
  let connections = 0;
  let resumed = 0;
  let wallMs = 0;
  for (const done of runs) {
    const match = /(\d+) connections in [\d.]+s;/.exec(done.stdout);
    if (done.code !== 0 || !match) throw new Error(`openssl s_time -${mode} failed (${done.signal ?? done.code}):\n${done.stdout.slice(-2000)}\n${done.stderr}`);
    // With -reuse, s_time first makes one full handshake, then prints one progress mark per connection.
    const progress = done.stdout.split('\n').filter((line) => /^[*rt123s]+$/.test(line.trim())).join('');
    connections += Number(match[1]);
    resumed += [...progress].filter((c) => c === 'r').length;
    wallMs = Math.max(wallMs, done.wallMs);
  }
  return { rate: connections / (wallMs / 1000), connections, resumed, seconds: wallMs / 1000 };
}
