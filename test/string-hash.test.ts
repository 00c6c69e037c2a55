/**
 * The analyse command's user-agent hash (StringHash in src/analyse/agents.ts) is SipHash-1-3 computed on
 * the characters in place, 32 bits at a time. Checked here against a plain BigInt SipHash written from
 * the paper, on the bytes the characters stand for: Latin-1 text as one byte a character, anything else
 * as UTF-16LE under a key told apart by v1 ^ 0xee; a tweak is XORed into k0.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StringHash } from '../src/analyse/agents.js';

const MASK = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & MASK;

function sipHash(key: Buffer, message: Buffer, c: number, d: number, v1Xor = 0n): bigint {
  const k0 = key.readBigUInt64LE(0);
  const k1 = key.readBigUInt64LE(8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn ^ v1Xor;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & MASK; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & MASK; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & MASK; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const padded = Buffer.alloc(Math.floor(message.length / 8) * 8 + 8);
  message.copy(padded);
  padded[padded.length - 1] = message.length & 0xff;
  for (let at = 0; at < padded.length; at += 8) {
    const m = padded.readBigUInt64LE(at);
    v3 ^= m;
    for (let i = 0; i < c; i++) round();
    v0 ^= m;
  }
  v2 ^= 0xffn;
  for (let i = 0; i < d; i++) round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK;
}

function expected(key: Buffer, text: string, tweak = 0n): bigint {
  const k = Buffer.from(key);
  k.writeBigUInt64LE(k.readBigUInt64LE(0) ^ tweak, 0);
  const latin1 = [...text].every((ch) => ch.charCodeAt(0) <= 0xff) && text.length === [...text].length;
  return latin1 ? sipHash(k, Buffer.from(text, 'latin1'), 1, 3) : sipHash(k, Buffer.from(text, 'utf16le'), 1, 3, 0xeen);
}

function actual(hash: StringHash, text: string, tweak = 0n): bigint {
  hash.hash(text, text.length, Number((tweak >> 32n) & 0xffffffffn) | 0, Number(tweak & 0xffffffffn) | 0);
  return ((BigInt(hash.hi >>> 0) << 32n) | BigInt(hash.lo >>> 0)) & MASK;
}

const randomText = (length: number, alphabet: number) => String.fromCharCode(...Array.from({ length }, () => Math.floor(Math.random() * alphabet)));

describe('StringHash (analyse)', () => {
  it('has a reference that gives the SipHash-2-4 vector of the paper', () => {
    // Key 00..0f, message 00..0e: the 16th vector of the paper (openssl mac … SIPHASH prints the same).
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const message = Buffer.from([...Array(15).keys()]);
    expect(sipHash(key, message, 2, 4)).toBe(Buffer.from('e545be4961ca29a1', 'hex').readBigUInt64LE(0));
  });

  it('equals SipHash-1-3 on Latin-1 and on wider text, at every length around the block edges, with and without a tweak', () => {
    const key = randomBytes(16);
    const hash = new StringHash(key);
    for (let length = 0; length <= 40; length++) {
      for (const alphabet of [0x80, 0x100, 0x10000]) {
        const text = randomText(length, alphabet);
        expect(actual(hash, text), `${alphabet} ${length}`).toBe(expected(key, text));
        const tweak = randomBytes(8).readBigUInt64LE(0);
        expect(actual(hash, text, tweak), `${alphabet} ${length} tweaked`).toBe(expected(key, text, tweak));
      }
    }
    // A real user agent, and one with a single character above U+00FF at the very end.
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    expect(actual(hash, ua)).toBe(expected(key, ua));
    expect(actual(hash, `${ua}\u20ac`)).toBe(expected(key, `${ua}\u20ac`));
  });
});
