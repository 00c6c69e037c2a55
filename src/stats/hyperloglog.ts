/**
 * HyperLogLog cardinality sketch: approximate distinct counts (unique visitors) in bounded memory.
 *
 * The caller supplies an already-computed hash (e.g. a keyed SipHash of the visitor
 * key), so the sketch never sees — and cannot leak — the raw identifier. 64 bits of it are used,
 * which makes the classic large-range correction for 32-bit hashes unnecessary.
 *
 * The estimate uses Otmar Ertl's "improved raw estimator" (arXiv:1702.01284). It behaves like
 * linear counting while many registers are still zero and like the raw HyperLogLog estimate
 * afterwards, but switches smoothly: the textbook "linear counting below 2.5·m" rule has a
 * visible bias bump (≈ +2 % at p = 11) just above the switch point, and removing that normally
 * needs the empirical bias tables of HyperLogLog++.
 */

/** Default precision: 2^11 = 2048 one-byte registers, standard error ≈ 1.04 / √2048 ≈ 2.3 %. */
export const HLL_PRECISION = 11;

const MIN_PRECISION = 4;
const MAX_PRECISION = 16;
const HASH_BITS = 64;
const SPARSE_PREFIX = 's:';
const DENSE_PREFIX = 'd:';
/** Sparse entry: 16-bit big-endian register index, then the 1-byte register value. */
const SPARSE_ENTRY_BYTES = 3;
const ALPHA_INF = 1 / (2 * Math.LN2);

function checkPrecision(precision: number): number {
  if (!Number.isInteger(precision) || precision < MIN_PRECISION || precision > MAX_PRECISION) {
    throw new RangeError(
      `HyperLogLog precision must be an integer from ${MIN_PRECISION} to ${MAX_PRECISION}, got ${String(precision)}`,
    );
  }
  return precision;
}

/** Ertl's σ(x) series, the linear-counting-like contribution of empty registers. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

/** Ertl's τ(x) series, the contribution of saturated registers (practically always 0 with 64-bit hashes). */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (z !== previous);
  return z / 3;
}

// Buffer.from(text, 'base64') silently skips junk, so re-encoding is the only strict check.
function decodeBase64Strict(text: string, what: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new Error(`Malformed HyperLogLog string: ${what} payload is not canonical base64`);
  }
  return bytes;
}

export class HyperLogLog {
  readonly precision: number;
  // Allocated on the first add/merge so that the many empty sketches a time-bucketed store keeps
  // (one per bucket and dimension) cost nothing.
  #registers: Uint8Array | null = null;

  constructor(precision: number = HLL_PRECISION) {
    this.precision = checkPrecision(precision);
  }

  get #size(): number {
    return 1 << this.precision;
  }

  /** Largest value a register can hold: leading zeros of the (64 − p)-bit remainder, plus one. */
  get #maxRank(): number {
    return HASH_BITS - this.precision + 1;
  }

  #ensureRegisters(): Uint8Array {
    this.#registers ??= new Uint8Array(this.#size);
    return this.#registers;
  }

  /** Adds one element, given as a uniformly distributed hash of at least 8 bytes (only the first 8 are used). */
  add(hash: Buffer | Uint8Array): void {
    if (hash.byteLength < 8) {
      throw new RangeError(`HyperLogLog.add needs a hash of at least 8 bytes, got ${hash.byteLength}`);
    }
    // Two big-endian 32-bit halves instead of a BigInt, read byte by byte: this runs for every new
    // visitor, and a DataView per call would cost more than the rest of it (bench/README.md, notes).
    const hi = ((hash[0] as number) << 24) | ((hash[1] as number) << 16) | ((hash[2] as number) << 8) | (hash[3] as number);
    const lo = ((hash[4] as number) << 24) | ((hash[5] as number) << 16) | ((hash[6] as number) << 8) | (hash[7] as number);
    const p = this.precision;
    const index = hi >>> (32 - p);
    const rest = (hi << p) >>> 0;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - p + Math.clz32(lo) + 1;
    const registers = this.#ensureRegisters();
    if (rank > (registers[index] ?? 0)) registers[index] = rank;
  }

  /** Estimated number of distinct hashes added (rounded); exactly 0 when nothing was added. */
  count(): number {
    const registers = this.#registers;
    if (registers === null) return 0;
    const m = registers.length;
    const maxRank = this.#maxRank;
    const histogram = new Float64Array(maxRank + 1);
    for (const value of registers) histogram[value] = (histogram[value] ?? 0) + 1;
    const empty = histogram[0] ?? 0;
    if (empty === m) return 0;
    let z = m * tau(1 - (histogram[maxRank] ?? 0) / m);
    for (let k = maxRank - 1; k >= 1; k--) z = 0.5 * (z + (histogram[k] ?? 0));
    z += m * sigma(empty / m);
    return Math.round((ALPHA_INF * m * m) / z);
  }

  /** Folds `other` into this sketch (register-wise maximum), i.e. this becomes the union. */
  merge(other: HyperLogLog): void {
    if (other.precision !== this.precision) {
      throw new RangeError(
        `Cannot merge HyperLogLog sketches of different precision (${this.precision} and ${other.precision})`,
      );
    }
    const source = other.#registers;
    if (source === null || source === this.#registers) return;
    const target = this.#ensureRegisters();
    for (let i = 0; i < target.length; i++) {
      const value = source[i] ?? 0;
      if (value > (target[i] ?? 0)) target[i] = value;
    }
  }

  clone(): HyperLogLog {
    const copy = new HyperLogLog(this.precision);
    if (this.#registers !== null) copy.#registers = this.#registers.slice();
    return copy;
  }

  isEmpty(): boolean {
    return this.#registers === null || this.#registers.every((value) => value === 0);
  }

  /**
   * The registers, one byte each (2^p of them), or null when nothing was added. Read-only: for a store
   * that unites sketches itself (the Redis store's script takes the register-wise maximum).
   */
  registers(): Readonly<Uint8Array> | null {
    return this.#registers;
  }

  /** A sketch from {@link registers} bytes, checked like {@link fromString}'s dense form. */
  static fromRegisters(bytes: Uint8Array, precision: number = HLL_PRECISION): HyperLogLog {
    const sketch = new HyperLogLog(precision);
    if (bytes.length !== sketch.#size) throw new Error(`Malformed HyperLogLog registers: ${bytes.length} bytes, expected ${sketch.#size} for precision ${precision}`);
    const maxRank = sketch.#maxRank;
    const registers = new Uint8Array(bytes);
    const bad = registers.findIndex((value) => value > maxRank);
    if (bad !== -1) throw new Error(`Malformed HyperLogLog registers: register ${bad} holds ${registers[bad]}, maximum is ${maxRank}`);
    sketch.#registers = registers;
    return sketch;
  }

  /**
   * Compact text form: `s:` + base64 of (uint16 BE index, uint8 value) triples for the non-zero
   * registers in index order, or `d:` + base64 of all 2^p registers — whichever is shorter.
   * An empty sketch is `s:`. The precision is not encoded; pass it to {@link fromString}.
   */
  toString(): string {
    const registers = this.#registers;
    if (registers === null) return SPARSE_PREFIX;
    let used = 0;
    for (const value of registers) if (value !== 0) used++;
    if (used * SPARSE_ENTRY_BYTES >= registers.length) {
      return DENSE_PREFIX + Buffer.from(registers.buffer, registers.byteOffset, registers.byteLength).toString('base64');
    }
    const sparse = Buffer.alloc(used * SPARSE_ENTRY_BYTES);
    let offset = 0;
    registers.forEach((value, index) => {
      if (value === 0) return;
      sparse.writeUInt16BE(index, offset);
      sparse.writeUInt8(value, offset + 2);
      offset += SPARSE_ENTRY_BYTES;
    });
    return SPARSE_PREFIX + sparse.toString('base64');
  }

  /** Parses {@link toString} output. `precision` must match the one the sketch was written with. */
  static fromString(text: string, precision: number = HLL_PRECISION): HyperLogLog {
    const sketch = new HyperLogLog(precision);
    if (typeof text !== 'string') throw new Error('Malformed HyperLogLog string: expected a string');
    const prefix = text.slice(0, 2);
    const payload = text.slice(2);
    const size = sketch.#size;
    const maxRank = sketch.#maxRank;

    if (prefix === DENSE_PREFIX) {
      const bytes = decodeBase64Strict(payload, 'dense');
      if (bytes.length !== size) {
        throw new Error(
          `Malformed HyperLogLog string: dense form has ${bytes.length} registers, expected ${size} for precision ${precision}`,
        );
      }
      const registers = new Uint8Array(bytes);
      const bad = registers.findIndex((value) => value > maxRank);
      if (bad !== -1) {
        throw new Error(`Malformed HyperLogLog string: register ${bad} holds ${registers[bad]}, maximum is ${maxRank}`);
      }
      sketch.#registers = registers;
      return sketch;
    }

    if (prefix === SPARSE_PREFIX) {
      const bytes = Buffer.from(decodeBase64Strict(payload, 'sparse'));
      if (bytes.length % SPARSE_ENTRY_BYTES !== 0) {
        throw new Error(
          `Malformed HyperLogLog string: sparse payload of ${bytes.length} bytes is not a whole number of ${SPARSE_ENTRY_BYTES}-byte entries`,
        );
      }
      if (bytes.length === 0) return sketch;
      const registers = new Uint8Array(size);
      let previous = -1;
      for (let offset = 0; offset < bytes.length; offset += SPARSE_ENTRY_BYTES) {
        const index = bytes.readUInt16BE(offset);
        const value = bytes.readUInt8(offset + 2);
        if (index >= size) {
          throw new Error(
            `Malformed HyperLogLog string: register index ${index} out of range for precision ${precision} (${size} registers)`,
          );
        }
        // Strictly increasing indexes also rule out duplicates, so each string has one meaning.
        if (index <= previous) {
          throw new Error('Malformed HyperLogLog string: sparse register indexes are not strictly increasing');
        }
        if (value < 1 || value > maxRank) {
          throw new Error(`Malformed HyperLogLog string: register ${index} holds ${value}, expected 1..${maxRank}`);
        }
        registers[index] = value;
        previous = index;
      }
      sketch.#registers = registers;
      return sketch;
    }

    const shown = text.length > 20 ? `${text.slice(0, 20)}…` : text;
    throw new Error(`Malformed HyperLogLog string: expected an "s:" or "d:" prefix, got ${JSON.stringify(shown)}`);
  }

  /**
   * A new sketch holding the union of `sketches` (inputs are not modified). Without `precision`,
   * the first sketch's precision is used (HLL_PRECISION if there are none); a mismatch throws.
   */
  static union(sketches: Iterable<HyperLogLog>, precision?: number): HyperLogLog {
    let result: HyperLogLog | null = precision === undefined ? null : new HyperLogLog(precision);
    for (const sketch of sketches) {
      result ??= new HyperLogLog(sketch.precision);
      result.merge(sketch);
    }
    return result ?? new HyperLogLog();
  }
}
