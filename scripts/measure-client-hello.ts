/**
 * Cost of reading a ClientHello and fingerprinting it, per call: a current Chrome hello (testssl.sh's
 * recorded Chrome 101, 517 bytes) and a 16 KiB hello carrying every assigned extension (two records).
 *
 *   npx tsx scripts/measure-client-hello.ts
 *
 * Prints the median of 7 rounds, in CPU time of this process (user + system), so that other load on the
 * machine inflates the figures less than wall-clock time would.
 */
import { readClientHello, type ClientHello } from '../src/tls/client-hello.js';
import { ja4 } from '../src/tls/ja4.js';
import { knownClient } from '../src/tls/known-clients.js';
import { clientHello, ext, type Extension } from '../test/helpers/client-hellos.js';
import { readTestsslClients } from './testssl-clients.js';

const chrome = readTestsslClients().find((c) => c.id === 'chrome_101_win10')!.hello;

const assigned = [...Array.from({ length: 66 }, (_, i) => i), 0x3374, 0x4469, 0x44cd, 0xfd00, 0xfe0d, 0xff01].filter((t) => t !== 0x0015);
const decoded = new Map<number, Extension>([
  [0x0000, ext.serverName('every-extension.example')],
  [0x000a, ext.supportedGroups(0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x11ec)],
  [0x000b, ext.ecPointFormats(0, 1, 2)],
  [0x000d, ext.signatureAlgorithms(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201)],
  [0x0010, ext.alpn('h2', 'http/1.1')],
  [0x002b, ext.supportedVersions(0x0304, 0x0303)],
]);
const extensions = assigned.map((type) => decoded.get(type) ?? ([type, new Uint8Array(type % 7)] as const));
const ciphers = Array.from({ length: 120 }, (_, i) => 0xc000 + i);
const big = clientHello({ ciphers, extensions: [...extensions, ext.padding(16 * 1024)] });

function parsed(bytes: Uint8Array): ClientHello {
  const read = readClientHello(bytes);
  if (read.status !== 'complete') throw new Error(read.status);
  return read.hello;
}

function measure(name: string, fn: () => unknown, iterations: number): void {
  for (let i = 0; i < iterations; i++) fn(); // warm up
  const rounds: number[] = [];
  for (let round = 0; round < 7; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn();
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / iterations);
  }
  rounds.sort((a, b) => a - b);
  process.stdout.write(`${name.padEnd(46)} ${rounds[3]!.toFixed(2).padStart(8)} µs/call\n`);
}

const chromeHello = parsed(chrome);
const bigHello = parsed(big);
const fingerprint = ja4(chromeHello);
process.stdout.write(`Chrome 101: ${chrome.length} bytes; 16 KiB hello: ${big.length} bytes, ${bigHello.extensions.length} extensions\n`);
measure('readClientHello(Chrome 101)', () => readClientHello(chrome), 50_000);
measure('readClientHello(16 KiB, every extension)', () => readClientHello(big), 2_000);
measure('ja4(Chrome 101)', () => ja4(chromeHello), 50_000);
measure('ja4(16 KiB, every extension)', () => ja4(bigHello), 5_000);
measure('knownClient(ja4 of Chrome 101)', () => knownClient(fingerprint), 200_000);
measure('read + ja4 + knownClient (Chrome 101)', () => knownClient(ja4(parsed(chrome))), 30_000);
