import { describe, expect, it } from 'vitest';
import { SipHash24 } from '../src/stats/siphash.js';

// The reference vectors of the SipHash paper (key 00..0f, message 00..len-1, len 0..63), as printed
// by `openssl mac -macopt hexkey:000102030405060708090a0b0c0d0e0f -macopt size:8 SIPHASH`.
const REFERENCE = [
  '310e0edd47db6f72',
  'fd67dc93c539f874',
  '5a4fa9d909806c0d',
  '2d7efbd796666785',
  'b7877127e09427cf',
  '8da699cd64557618',
  'cee3fe586e46c9cb',
  '37d1018bf50002ab',
  '6224939a79f5f593',
  'b0e4a90bdf82009e',
  'f3b9dd94c5bb5d7a',
  'a7ad6b22462fb3f4',
  'fbe50e86bc8f1e75',
  '903d84c02756ea14',
  'eef27a8e90ca23f7',
  'e545be4961ca29a1',
  'db9bc2577fcc2a3f',
  '9447be2cf5e99a69',
  '9cd38d96f0b3c14b',
  'bd6179a71dc96dbb',
  '98eea21af25cd6be',
  'c7673b2eb0cbf2d0',
  '883ea3e395675393',
  'c8ce5ccd8c030ca8',
  '94af49f6c650adb8',
  'eab8858ade92e1bc',
  'f315bb5bb835d817',
  'adcf6b0763612e2f',
  'a5c91da7acaa4dde',
  '716595876650a2a6',
  '28ef495c53a387ad',
  '42c341d8fa92d832',
  'ce7cf2722f512771',
  'e37859f94623f3a7',
  '381205bb1ab0e012',
  'ae97a10fd434e015',
  'b4a31508beff4d31',
  '81396229f0907902',
  '4d0cf49ee5d4dcca',
  '5c73336a76d8bf9a',
  'd0a704536ba93e0e',
  '925958fcd6420cad',
  'a915c29bc8067318',
  '952b79f3bc0aa6d4',
  'f21df2e41d4535f9',
  '87577519048f53a9',
  '10a56cf5dfcd9adb',
  'eb75095ccd986cd0',
  '51a9cb9ecba312e6',
  '96afadfc2ce666c7',
  '72fe52975a4364ee',
  '5a1645b276d592a1',
  'b274cb8ebf87870a',
  '6f9bb4203de7b381',
  'eaecb2a30b22a87f',
  '9924a43cc1315724',
  'bd838d3aafbf8db7',
  '0b1a2a3265d51aea',
  '135079a3231ce660',
  '932b2846e4d70666',
  'e1915f5cb1eca46c',
  'f325965ca16d629f',
  '575ff28e60381be5',
  '724506eb4c328a95',
];

const bytes = (n: number, f: (i: number) => number = (i) => i) => Uint8Array.from({ length: n }, (_, i) => f(i));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('SipHash24', () => {
  const reference = new SipHash24(bytes(16));

  it.each(REFERENCE.map((expected, length) => [length, expected] as const))('gives the reference output for %i bytes', (length, expected) => {
    expect(hex(reference.hashBytes(bytes(length)))).toBe(expected);
  });

  it('agrees with OpenSSL on a long input under another key', () => {
    const key = bytes(16, (i) => (i * 37 + 11) % 256);
    expect(hex(new SipHash24(key).hashBytes(bytes(1000, (i) => (i * 131 + 7) % 256)))).toBe('ae2c030de6d48ccb');
  });

  it('hashes strings as Latin-1 bytes joined by a 0 byte', () => {
    const key = bytes(16, (i) => (i * 37 + 11) % 256);
    // The same bytes through OpenSSL: '::ffff:203.0.113.9' NUL 'Mozilla/5.0 (Windows NT 10.0) Foo/1 ' 0xe9.
    expect(hex(new SipHash24(key).hashStrings('::ffff:203.0.113.9', 'Mozilla/5.0 (Windows NT 10.0) Foo/1 \u00e9'))).toBe('6061c741d1032465');
  });

  it('keeps string boundaries and characters above U+00FF apart', () => {
    const h = new SipHash24(bytes(16, (i) => 255 - i));
    expect(hex(h.hashStrings('a', 'bc'))).not.toBe(hex(h.hashStrings('ab', 'c')));
    expect(hex(h.hashStrings('\u0141'))).not.toBe(hex(h.hashStrings('A')));
    expect(hex(h.hashStrings('x'.repeat(10_000)))).toHaveLength(16);
  });

  it('depends on the key', () => {
    expect(hex(new SipHash24(bytes(16, () => 1)).hashStrings('same'))).not.toBe(hex(new SipHash24(bytes(16, () => 2)).hashStrings('same')));
  });

  it('refuses a short key', () => {
    expect(() => new SipHash24(bytes(8))).toThrow(/16-byte key/);
  });
});
