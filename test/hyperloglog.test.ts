import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HLL_PRECISION, HyperLogLog } from '../src/stats/hyperloglog.js';

const hash = (value: string | number): Buffer => createHash('sha256').update(String(value)).digest();

// Several tests reuse the same numbered hashes; hashing 200 000 values once is enough.
const numbered: Buffer[] = [];
const hashOf = (i: number): Buffer => (numbered[i] ??= hash(i));

function sketchOf(from: number, to: number, precision?: number): HyperLogLog {
  const sketch = new HyperLogLog(precision);
  for (let i = from; i < to; i++) sketch.add(hashOf(i));
  return sketch;
}

const relativeError = (estimate: number, actual: number): number => Math.abs(estimate - actual) / actual;

/** Register contents via the dense serialisation, so the tests need no access to internals. */
function registersOf(sketch: HyperLogLog): Buffer {
  const registers = Buffer.alloc(1 << sketch.precision);
  const text = sketch.toString();
  if (text.startsWith('d:')) return Buffer.from(text.slice(2), 'base64');
  const sparse = Buffer.from(text.slice(2), 'base64');
  for (let offset = 0; offset < sparse.length; offset += 3) {
    registers[sparse.readUInt16BE(offset)] = sparse.readUInt8(offset + 2);
  }
  return registers;
}

const STANDARD_ERROR = 1.04 / Math.sqrt(1 << HLL_PRECISION);

describe('HyperLogLog construction', () => {
  it('defaults to HLL_PRECISION = 11', () => {
    expect(HLL_PRECISION).toBe(11);
    expect(new HyperLogLog().precision).toBe(11);
  });

  it('accepts precisions 4..16 and rejects others with RangeError', () => {
    expect(new HyperLogLog(4).precision).toBe(4);
    expect(new HyperLogLog(16).precision).toBe(16);
    for (const bad of [3, 17, 0, -1, 10.5, Number.NaN]) {
      expect(() => new HyperLogLog(bad)).toThrow(RangeError);
    }
  });

  it('rejects hashes shorter than 8 bytes', () => {
    expect(() => new HyperLogLog().add(new Uint8Array(7))).toThrow(RangeError);
  });
});

describe('HyperLogLog counting', () => {
  it('counts 0 when empty', () => {
    const sketch = new HyperLogLog();
    expect(sketch.count()).toBe(0);
    expect(sketch.isEmpty()).toBe(true);
  });

  it.each([1, 10, 100])('is (nearly) exact for %i distinct hashes', (n) => {
    const sketch = sketchOf(0, n);
    expect(sketch.isEmpty()).toBe(false);
    expect(Math.abs(sketch.count() - n)).toBeLessThanOrEqual(Math.max(1, n * 0.02));
  });

  it.each([10_000, 200_000])('estimates %i distinct hashes within 3 standard errors', (n) => {
    const estimate = sketchOf(0, n).count();
    const error = relativeError(estimate, n);
    console.log(`HLL p=${HLL_PRECISION} n=${n}: estimate ${estimate}, relative error ${(error * 100).toFixed(2)} %`);
    expect(error).toBeLessThan(3 * STANDARD_ERROR);
  });

  it('stays within 3 standard errors across the linear-counting/raw-estimate transition', () => {
    // The textbook estimator switches at 2.5·m ≈ 5120 and is biased just above that point.
    for (const n of [2_000, 4_000, 5_200, 6_000, 8_000]) {
      expect(relativeError(sketchOf(1_000_000, 1_000_000 + n).count(), n)).toBeLessThan(3 * STANDARD_ERROR);
    }
  });

  it('ignores repeated hashes', () => {
    const sketch = sketchOf(0, 50);
    const before = sketch.count();
    const registers = registersOf(sketch);
    for (let round = 0; round < 1_000; round++) sketch.add(hash(round % 50));
    expect(sketch.count()).toBe(before);
    expect(registersOf(sketch)).toEqual(registers);
  });

  it('uses only the first 8 bytes of the hash and accepts plain Uint8Array views', () => {
    const full = hash('visitor');
    const a = new HyperLogLog();
    a.add(full);
    const b = new HyperLogLog();
    const padded = new Uint8Array(20);
    padded.set(full.subarray(0, 8), 4);
    b.add(padded.subarray(4, 12));
    expect(a.toString()).toBe(b.toString());
  });

  it('handles all-zero and all-one hashes (extreme register values)', () => {
    const sketch = new HyperLogLog();
    sketch.add(new Uint8Array(8));
    sketch.add(new Uint8Array(8).fill(0xff));
    expect(sketch.count()).toBe(2);
    expect(HyperLogLog.fromString(sketch.toString()).toString()).toBe(sketch.toString());
  });
});

describe('HyperLogLog merge / clone / union', () => {
  it('merging disjoint sets gives about the sum', () => {
    const a = sketchOf(0, 20_000);
    const b = sketchOf(20_000, 50_000);
    a.merge(b);
    expect(relativeError(a.count(), 50_000)).toBeLessThan(3 * STANDARD_ERROR);
    expect(a.count()).toBe(sketchOf(0, 50_000).count());
    expect(b.count()).toBe(sketchOf(20_000, 50_000).count());
  });

  it('merging identical sets changes nothing', () => {
    const a = sketchOf(0, 5_000);
    const before = a.count();
    a.merge(sketchOf(0, 5_000));
    a.merge(a);
    expect(a.count()).toBe(before);
  });

  it('merging into or from an empty sketch works', () => {
    const empty = new HyperLogLog();
    const full = sketchOf(0, 300);
    empty.merge(full);
    expect(empty.count()).toBe(full.count());
    full.merge(new HyperLogLog());
    expect(full.count()).toBe(empty.count());
  });

  it('throws on precision mismatch', () => {
    expect(() => new HyperLogLog(11).merge(new HyperLogLog(12))).toThrow(/precision/);
  });

  it('clone is independent of the original', () => {
    const original = sketchOf(0, 100);
    const copy = original.clone();
    expect(copy.count()).toBe(original.count());
    copy.add(hash('extra-1'));
    copy.add(hash('extra-2'));
    expect(copy.count()).toBeGreaterThan(original.count());
    expect(new HyperLogLog().clone().isEmpty()).toBe(true);
  });

  it('union combines several sketches without modifying them', () => {
    const parts = [sketchOf(0, 1_000), sketchOf(500, 3_000), sketchOf(2_500, 4_000)];
    const before = parts.map((part) => part.toString());
    const union = HyperLogLog.union(parts);
    expect(union.toString()).toBe(sketchOf(0, 4_000).toString());
    expect(parts.map((part) => part.toString())).toEqual(before);
  });

  it('union of nothing is empty; precision defaults to the first sketch, a mismatch throws', () => {
    expect(HyperLogLog.union([]).count()).toBe(0);
    expect(HyperLogLog.union([]).precision).toBe(HLL_PRECISION);
    expect(HyperLogLog.union([], 14).precision).toBe(14);
    expect(HyperLogLog.union([sketchOf(0, 10, 9)]).precision).toBe(9);
    expect(() => HyperLogLog.union([sketchOf(0, 10, 9)], 11)).toThrow(/precision/);
  });
});

describe('HyperLogLog serialisation', () => {
  it('round-trips an empty sketch', () => {
    const text = new HyperLogLog().toString();
    expect(text).toBe('s:');
    expect(HyperLogLog.fromString(text).isEmpty()).toBe(true);
  });

  it('round-trips a sparse sketch, and 5 entries stay small', () => {
    const sketch = sketchOf(0, 5);
    const text = sketch.toString();
    console.log(`HLL with 5 entries serialises to ${text.length} chars: ${text}`);
    expect(text.startsWith('s:')).toBe(true);
    expect(text.length).toBeLessThan(100);
    const back = HyperLogLog.fromString(text);
    expect(back.count()).toBe(sketch.count());
    expect(registersOf(back)).toEqual(registersOf(sketch));
  });

  it('round-trips a dense sketch, at most base64(2048 bytes) + prefix long', () => {
    const sketch = sketchOf(0, 200_000);
    const text = sketch.toString();
    console.log(`HLL with 200000 entries serialises to ${text.length} chars`);
    expect(text.startsWith('d:')).toBe(true);
    expect(text.length).toBeLessThanOrEqual(2 + Buffer.alloc(2048).toString('base64').length);
    const back = HyperLogLog.fromString(text);
    expect(back.count()).toBe(sketch.count());
    expect(registersOf(back)).toEqual(registersOf(sketch));
  });

  it('picks whichever form is shorter', () => {
    for (const n of [50, 400, 600, 700, 1_000, 3_000]) {
      const sketch = sketchOf(0, n);
      const registers = registersOf(sketch);
      const used = registers.filter((value) => value !== 0).length;
      const sparseLength = 2 + Buffer.alloc(used * 3).toString('base64').length;
      const denseLength = 2 + registers.toString('base64').length;
      expect(sketch.toString().length).toBe(Math.min(sparseLength, denseLength));
      expect(HyperLogLog.fromString(sketch.toString()).toString()).toBe(sketch.toString());
    }
  });

  it('round-trips other precisions when told the precision', () => {
    for (const precision of [4, 14, 16]) {
      const sketch = sketchOf(0, 3_000, precision);
      const back = HyperLogLog.fromString(sketch.toString(), precision);
      expect(back.precision).toBe(precision);
      expect(back.count()).toBe(sketch.count());
    }
  });

  it('rejects malformed strings with a clear Error', () => {
    const dense = sketchOf(0, 20_000).toString();
    const badIndex = Buffer.from([0x08, 0x00, 0x01]).toString('base64'); // index 2048 at p = 11
    const cases = [
      '',
      'x:abc',
      's',
      'd:' + Buffer.alloc(2047).toString('base64'),
      'd:' + Buffer.alloc(2049).toString('base64'),
      dense + 'AAAA',
      'd:' + Buffer.alloc(2048, 60).toString('base64'), // register above 64 - 11 + 1 = 54
      's:' + badIndex,
      's:' + Buffer.from([0x00, 0x01, 0x01, 0x00, 0x01, 0x02]).toString('base64'), // duplicate index
      's:' + Buffer.from([0x00, 0x02, 0x01, 0x00, 0x01, 0x02]).toString('base64'), // decreasing
      's:' + Buffer.from([0x00, 0x01, 0x00]).toString('base64'), // zero value stored
      's:' + Buffer.from([0x00, 0x01]).toString('base64'), // truncated entry
      's:AAE!',
      's:AAE=' + ' ',
    ];
    for (const text of cases) {
      expect(() => HyperLogLog.fromString(text), JSON.stringify(text)).toThrow(/Malformed HyperLogLog string/);
    }
    // Index 2048 is fine at p = 12.
    expect(HyperLogLog.fromString('s:' + badIndex, 12).count()).toBe(1);
    // A dense string is only valid for the precision it was written with.
    expect(() => HyperLogLog.fromString(dense, 12)).toThrow(/expected 4096/);
  });
});
