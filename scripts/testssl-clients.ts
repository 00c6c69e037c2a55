/**
 * Reads testssl.sh's client-simulation data (`etc/client-simulation.txt`): a bash file of parallel
 * arrays, one block per client, with each client's recorded ClientHello as hex (`handshakebytes`).
 * Used by the known-clients generator and by the 162-client replay test.
 */
import { readFileSync } from 'node:fs';

/** Where Debian's testssl.sh package installs its data. */
export const TESTSSL_CLIENT_DATA = '/etc/testssl/client-simulation.txt';

export interface TestsslClient {
  /** testssl's display name, e.g. `IE 8 XP`. */
  name: string;
  /** testssl's id, e.g. `ie_8_xp` (the `clientsimulation-<id>` of its JSON output). */
  id: string;
  /** The recorded ClientHello as sent on the wire (record header included). */
  hello: Uint8Array;
  /** Whether testssl patches the server name into the hello (`sni+=("$SNI")`) or strips it. */
  sendsSni: boolean;
  /** testssl's bounds on the version the client accepts, e.g. 0x0300 and 0x0301. */
  lowestProtocol: number;
  highestProtocol: number;
  /** Clients testssl runs without ALL_CLIENTS=true. */
  current: boolean;
}

export function readTestsslClients(file = TESTSSL_CLIENT_DATA): TestsslClient[] {
  return parseTestsslClients(readFileSync(file, 'utf8'));
}

export function parseTestsslClients(text: string): TestsslClient[] {
  const clients: TestsslClient[] = [];
  let fields: Map<string, string> | null = null;
  const flush = () => {
    if (fields) clients.push(toClient(fields));
    fields = null;
  };
  for (const line of text.split('\n')) {
    const match = /^\s*([a-zA-Z_]+)\+=\((.*)\)\s*$/.exec(line);
    if (!match) continue;
    const [, key, raw] = match as unknown as [string, string, string];
    if (key === 'names') {
      flush();
      fields = new Map();
    }
    fields?.set(key, raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw);
  }
  flush();
  return clients;
}

function toClient(fields: Map<string, string>): TestsslClient {
  const get = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`client-simulation data: ${fields.get('names') ?? '?'} has no ${key}`);
    return value;
  };
  const hex = get('handshakebytes');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new Error(`client-simulation data: ${get('names')} has no hello bytes`);
  return {
    name: get('names'),
    id: get('short'),
    hello: Uint8Array.from(Buffer.from(hex, 'hex')),
    sendsSni: get('sni') !== '',
    lowestProtocol: Number.parseInt(get('lowest_protocol'), 16),
    highestProtocol: Number.parseInt(get('highest_protocol'), 16),
    current: get('current') === 'true',
  };
}
