/**
 * Extracts JA4 test vectors from FoxIO's own repository (https://github.com/FoxIO-LLC/ja4): the raw
 * ClientHello bytes of every TLS-over-TCP connection in its sample pcaps, with the JA4 its reference
 * implementations expect for that connection (Rust insta snapshots, Python test data, Zeek baselines).
 * Writes test/fixtures/ja4/foxio-vectors.json, which test/ja4.test.ts checks byte for byte.
 *
 *   npx tsx scripts/extract-ja4-vectors.ts <path to a clone (or bare mirror) of FoxIO-LLC/ja4> [commit]
 *
 * The pcap reader handles what those captures contain: pcap and pcapng; Ethernet, VLAN, BSD loopback,
 * Linux cooked and raw IP; IPv4 and IPv6; GRE, ERSPAN, VXLAN and Geneve tunnels. TCP payloads are put
 * back in sequence order per direction, and the ClientHello is read with the package's own reader.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { readClientHello } from '../src/tls/client-hello.js';

interface Expected {
  rust?: string;
  python?: { ja4: string; ja4_r?: string; ja4_o?: string; ja4_ro?: string };
  zeek?: string;
}

interface Vector {
  pcap: string;
  flow: string;
  /** The ClientHello's TLS records, as hex. */
  hello: string;
  expected: Expected;
}

const [repo, commit = 'HEAD'] = process.argv.slice(2);
if (!repo) {
  process.stderr.write('usage: npx tsx scripts/extract-ja4-vectors.ts <FoxIO-LLC/ja4 clone or git dir> [commit]\n');
  process.exit(2);
}
const gitDir = resolveGitDir(repo);
const git = (...args: string[]) => execFileSync('git', ['--git-dir', gitDir, ...args], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
const sha = git('rev-parse', commit).toString().trim();
const show = (file: string): Buffer | null => {
  try {
    return git('show', `${sha}:${file}`);
  } catch {
    return null;
  }
};

const pcaps = git('ls-tree', '--name-only', sha, 'pcap/')
  .toString()
  .trim()
  .split('\n')
  .filter((file) => /\.(pcap|pcapng|cap)$/.test(file));

const zeek = zeekExpectations();
const vectors: Vector[] = [];
const seen = new Map<string, number>();
const missing: string[] = [];
for (const file of pcaps) {
  const name = path.basename(file);
  const data = show(file);
  if (!data) continue;
  const rust = rustExpectations(show(`rust/ja4/src/snapshots/ja4__insta@${name}.snap`)?.toString('utf8') ?? '');
  const python = pythonExpectations(show(`python/test/testdata/${name}.json`)?.toString('utf8') ?? '[]');
  const streams = tcpStreams(data);
  for (const flow of new Set([...rust.keys(), ...python.keys()])) {
    if (!streams.has(flow) || !findClientHello(streams.get(flow)!)) missing.push(`${name} ${flow}`);
  }
  for (const [flow, stream] of streams) {
    const hello = findClientHello(stream);
    if (!hello) continue;
    const expected: Expected = {};
    if (rust.has(flow)) expected.rust = rust.get(flow)!;
    if (python.has(flow)) expected.python = python.get(flow)!;
    if (zeek.has(flow)) expected.zeek = zeek.get(flow)!;
    if (!expected.rust && !expected.python && !expected.zeek) continue;
    // The same client to many hosts adds little: keep at most three connections per fingerprint (Chrome
    // shuffles its extension order per connection, which ja4_o and ja4_ro then check).
    const key = JSON.stringify([expected.rust, expected.python?.ja4, expected.python?.ja4_r, expected.zeek]);
    const copies = seen.get(key) ?? 0;
    if (copies >= 3) continue;
    seen.set(key, copies + 1);
    vectors.push({ pcap: name, flow, hello: Buffer.from(hello).toString('hex'), expected });
  }
}

const out = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'test', 'fixtures', 'ja4', 'foxio-vectors.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      source: `https://github.com/FoxIO-LLC/ja4 at ${sha}: pcap/*, rust/ja4/src/snapshots/*.snap, python/test/testdata/*.json, zeek/tests/Traces/*`,
      license: 'JA4 is BSD-3-Clause (FoxIO-LLC/ja4 LICENSE-JA4); the captures are FoxIO sample data',
      generatedBy: 'npx tsx scripts/extract-ja4-vectors.ts <FoxIO-LLC/ja4 clone>',
      vectors,
    },
    null,
    1,
  )}\n`,
);
process.stdout.write(`${vectors.length} vectors from ${pcaps.length} captures -> ${path.relative(process.cwd(), out)}\n`);
// Every TCP connection the reference implementations fingerprint must have been found here.
if (missing.length > 0) process.stdout.write(`no ClientHello found for ${missing.length} expected connections:\n${missing.join('\n')}\n`);

function resolveGitDir(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--git-dir'], { encoding: 'utf8' }).trim().replace(/^(?!\/)/, `${dir}/`);
  } catch {
    return dir;
  }
}

// ---- expectations ----

function flowKey(src: string, srcPort: string | number, dst: string, dstPort: string | number): string {
  return `${src}:${srcPort} > ${dst}:${dstPort}`;
}

function rustExpectations(yaml: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const block of yaml.split(/\n- stream: /).slice(1)) {
    const field = (key: string) => new RegExp(`^  ${key}: (.+)$`, 'm').exec(block)?.[1]?.trim();
    const [transport, src, dst, sport, dport, ja4] = ['transport', 'src', 'dst', 'src_port', 'dst_port', 'ja4'].map(field);
    if (transport === 'tcp' && src && dst && sport && dport && ja4) map.set(flowKey(src, sport, dst, dport), ja4);
  }
  return map;
}

function pythonExpectations(json: string): Map<string, NonNullable<Expected['python']>> {
  const map = new Map<string, NonNullable<Expected['python']>>();
  for (const entry of JSON.parse(json) as Record<string, string>[]) {
    const ja4 = entry['JA4.1'];
    if (!ja4 || !ja4.startsWith('t')) continue;
    map.set(flowKey(entry.src!, entry.srcport!, entry.dst!, entry.dstport!), {
      ja4,
      ja4_r: entry['JA4_r.1'],
      ja4_o: entry['JA4_o.1'],
      ja4_ro: entry['JA4_ro.1'],
    });
  }
  return map;
}

function zeekExpectations(): Map<string, string> {
  const map = new Map<string, string>();
  const logs = git('ls-tree', '-r', '--name-only', sha, 'zeek/tests/Traces/').toString().trim().split('\n');
  for (const log of logs.filter((file) => file.endsWith('/ssl.log'))) {
    const text = show(log)?.toString('utf8') ?? '';
    const fields = /^#fields\t(.+)$/m.exec(text)?.[1]?.split('\t') ?? [];
    const at = (name: string) => fields.indexOf(name);
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const cols = line.split('\t');
      const ja4 = cols[at('ja4')];
      if (ja4?.startsWith('t')) map.set(flowKey(cols[at('id.orig_h')]!, cols[at('id.orig_p')]!, cols[at('id.resp_h')]!, cols[at('id.resp_p')]!), ja4);
    }
  }
  return map;
}

// ---- ClientHello location ----

// The hello opens the stream, or follows a proxy handshake (HTTP CONNECT, SOCKS): take the first place
// where a handshake record carrying a ClientHello starts and reads completely.
function findClientHello(stream: Uint8Array): Uint8Array | null {
  const limit = Math.min(stream.length, 8192);
  for (let i = 0; i + 6 <= limit; i++) {
    if (stream[i] !== 0x16 || stream[i + 1] !== 3 || stream[i + 5] !== 1) continue;
    const read = readClientHello(stream.subarray(i));
    if (read.status === 'complete') return stream.slice(i, i + read.length);
  }
  return null;
}

// ---- packets ----

interface Segment {
  seq: number;
  payload: Uint8Array;
}

function tcpStreams(file: Uint8Array): Map<string, Uint8Array> {
  const segments = new Map<string, Segment[]>();
  for (const { linkType, frame } of packets(file)) {
    const tcp = decodeLink(linkType, frame, 0);
    if (!tcp || tcp.payload.length === 0) continue;
    const list = segments.get(tcp.flow) ?? [];
    list.push({ seq: tcp.seq, payload: tcp.payload });
    segments.set(tcp.flow, list);
  }
  const streams = new Map<string, Uint8Array>();
  for (const [flow, list] of segments) streams.set(flow, reassemble(list));
  return streams;
}

// In sequence order from the lowest sequence number, skipping retransmitted bytes, up to the first gap.
function reassemble(list: Segment[]): Uint8Array {
  const base = list.reduce((min, s) => (((s.seq - min) | 0) < 0 ? s.seq : min), list[0]!.seq);
  const ordered = list.map((s) => ({ offset: (s.seq - base) >>> 0, payload: s.payload })).sort((a, b) => a.offset - b.offset);
  const chunks: Uint8Array[] = [];
  let next = 0;
  for (const { offset, payload } of ordered) {
    if (offset > next) break;
    const fresh = payload.subarray(next - offset);
    if (fresh.length === 0) continue;
    chunks.push(fresh);
    next += fresh.length;
  }
  return Buffer.concat(chunks);
}

function* packets(file: Uint8Array): Generator<{ linkType: number; frame: Uint8Array }> {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, false);
  if (magic === 0x0a0d0d0a) {
    let little = view.getUint32(8, true) === 0x1a2b3c4d;
    const linkTypes: number[] = [];
    for (let off = 0; off + 12 <= file.length; ) {
      const type = view.getUint32(off, little);
      if (type === 0x0a0d0d0a) {
        little = view.getUint32(off + 8, true) === 0x1a2b3c4d;
        linkTypes.length = 0;
      }
      const length = view.getUint32(off + 4, little);
      if (length < 12 || off + length > file.length) break;
      if (type === 1) linkTypes.push(view.getUint16(off + 8, little));
      if (type === 6) {
        const captured = view.getUint32(off + 20, little);
        yield { linkType: linkTypes[view.getUint32(off + 8, little)] ?? 1, frame: file.subarray(off + 28, off + 28 + captured) };
      }
      if (type === 3) yield { linkType: linkTypes[0] ?? 1, frame: file.subarray(off + 12, off + length - 4) };
      off += length;
    }
    return;
  }
  const little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  const linkType = view.getUint32(20, little);
  for (let off = 24; off + 16 <= file.length; ) {
    const captured = view.getUint32(off + 8, little);
    yield { linkType, frame: file.subarray(off + 16, off + 16 + captured) };
    off += 16 + captured;
  }
}

interface TcpPacket {
  flow: string;
  seq: number;
  payload: Uint8Array;
}

function decodeLink(linkType: number, frame: Uint8Array, depth: number): TcpPacket | null {
  switch (linkType) {
    case 1:
      return decodeEthernet(frame, depth);
    case 0: {
      const family = frame[0]! | (frame[1]! << 8) | (frame[2]! << 16) | (frame[3]! << 24);
      const swapped = (frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!;
      return decodeIp(frame.subarray(4), depth, family === 2 || swapped === 2 ? 4 : 6);
    }
    case 113:
      return decodeEtherType(((frame[14]! << 8) | frame[15]!) >>> 0, frame.subarray(16), depth);
    case 276:
      return decodeEtherType((frame[0]! << 8) | frame[1]!, frame.subarray(20), depth);
    case 101:
    case 12:
    case 14:
      return decodeIp(frame, depth, frame[0]! >> 4);
    default:
      return null;
  }
}

function decodeEthernet(frame: Uint8Array, depth: number): TcpPacket | null {
  if (frame.length < 14) return null;
  return decodeEtherType((frame[12]! << 8) | frame[13]!, frame.subarray(14), depth);
}

function decodeEtherType(type: number, data: Uint8Array, depth: number): TcpPacket | null {
  if (depth > 4) return null;
  if (type === 0x8100 || type === 0x88a8) return decodeEtherType((data[2]! << 8) | data[3]!, data.subarray(4), depth);
  if (type === 0x0800) return decodeIp(data, depth, 4);
  if (type === 0x86dd) return decodeIp(data, depth, 6);
  if (type === 0x6558) return decodeEthernet(data, depth + 1);
  if (type === 0x88be) return decodeEthernet(data.subarray(8), depth + 1); // ERSPAN type II
  if (type === 0x22eb) return decodeEthernet(data.subarray(12), depth + 1); // ERSPAN type III
  return null;
}

function decodeIp(data: Uint8Array, depth: number, version: number): TcpPacket | null {
  let protocol: number;
  let src: string;
  let dst: string;
  let body: Uint8Array;
  if (version === 4) {
    if (data.length < 20) return null;
    const headerLength = (data[0]! & 0x0f) * 4;
    const totalLength = (data[2]! << 8) | data[3]!;
    if ((((data[6]! << 8) | data[7]!) & 0x3fff) !== 0) return null; // fragments
    protocol = data[9]!;
    src = Array.from(data.subarray(12, 16)).join('.');
    dst = Array.from(data.subarray(16, 20)).join('.');
    body = data.subarray(headerLength, totalLength || data.length);
  } else if (version === 6) {
    if (data.length < 40) return null;
    protocol = data[6]!;
    src = ipv6(data.subarray(8, 24));
    dst = ipv6(data.subarray(24, 40));
    body = data.subarray(40, 40 + ((data[4]! << 8) | data[5]!));
    while (protocol === 0 || protocol === 43 || protocol === 60) {
      protocol = body[0]!;
      body = body.subarray((body[1]! + 1) * 8);
    }
  } else {
    return null;
  }
  if (protocol === 47) return decodeGre(body, depth + 1);
  if (protocol === 17) return decodeUdpTunnel(body, depth + 1);
  if (protocol !== 6 || body.length < 20) return null;
  const srcPort = (body[0]! << 8) | body[1]!;
  const dstPort = (body[2]! << 8) | body[3]!;
  const seq = ((body[4]! << 24) | (body[5]! << 16) | (body[6]! << 8) | body[7]!) >>> 0;
  const offset = (body[12]! >> 4) * 4;
  return { flow: flowKey(src, srcPort, dst, dstPort), seq, payload: body.subarray(offset) };
}

function decodeGre(data: Uint8Array, depth: number): TcpPacket | null {
  const flags = data[0]!;
  const type = (data[2]! << 8) | data[3]!;
  const offset = 4 + (flags & 0x80 ? 4 : 0) + (flags & 0x20 ? 4 : 0) + (flags & 0x10 ? 4 : 0);
  return decodeEtherType(type, data.subarray(offset), depth);
}

function decodeUdpTunnel(data: Uint8Array, depth: number): TcpPacket | null {
  const dstPort = (data[2]! << 8) | data[3]!;
  const payload = data.subarray(8);
  if (dstPort === 4789) return decodeEthernet(payload.subarray(8), depth);
  if (dstPort === 6081) {
    const optionsLength = (payload[0]! & 0x3f) * 4;
    return decodeEtherType((payload[2]! << 8) | payload[3]!, payload.subarray(8 + optionsLength), depth);
  }
  return null;
}

function ipv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes "::".
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}
