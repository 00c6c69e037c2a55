/**
 * SipHash-2-4 (Aumasson & Bernstein, 2012): a keyed 64-bit hash built for short inputs, here the
 * visitor key (address + user agent) under the stats file's secret salt.
 *
 * Written out in 32-bit halves because it runs on every request whose user agent is new to its
 * connection, the path an attacker drives: `crypto.createHash(...).copy()` costs a native object and
 * two crossings per call (measured in bench/README.md, notes), this costs no allocation but the 8
 * output bytes.
 */

const MAX_INPUT_BYTES = 4096;
// One scratch buffer: inputs are encoded into it, then read as little-endian 32-bit words.
const scratch = new Uint8Array(MAX_INPUT_BYTES + 8);
const scratchView = new DataView(scratch.buffer);

export class SipHash24 {
  readonly #k0hi: number;
  readonly #k0lo: number;
  readonly #k1hi: number;
  readonly #k1lo: number;

  /** `key`: at least 16 bytes; the first 16 are used (k0, k1 little-endian, as in the reference). */
  constructor(key: Uint8Array) {
    if (key.byteLength < 16) throw new RangeError(`SipHash needs a 16-byte key, got ${key.byteLength} bytes`);
    const view = new DataView(key.buffer, key.byteOffset, 16);
    this.#k0lo = view.getInt32(0, true);
    this.#k0hi = view.getInt32(4, true);
    this.#k1lo = view.getInt32(8, true);
    this.#k1hi = view.getInt32(12, true);
  }

  /** The hash of `bytes`, as the reference's 8 output bytes (the 64-bit result, little-endian). */
  hashBytes(bytes: Uint8Array): Uint8Array {
    if (bytes.byteLength > MAX_INPUT_BYTES) throw new RangeError(`SipHash input is limited to ${MAX_INPUT_BYTES} bytes here`);
    scratch.set(bytes);
    return this.#hash(bytes.byteLength);
  }

  /**
   * The hash of the strings' characters, one byte per character (Latin-1, which is how Node hands
   * over header values), a character above U+00FF as its two bytes, and a 0 byte after every string
   * but the last, so that ('a', 'bc') and ('ab', 'c') differ. Input beyond 4 KiB is cut.
   */
  hashStrings(...parts: readonly string[]): Uint8Array {
    let n = 0;
    for (let p = 0; p < parts.length; p++) {
      if (p > 0 && n < MAX_INPUT_BYTES) scratch[n++] = 0;
      const text = parts[p] as string;
      for (let i = 0; i < text.length && n < MAX_INPUT_BYTES - 1; i++) {
        const code = text.charCodeAt(i);
        if (code > 0xff) scratch[n++] = code >>> 8;
        scratch[n++] = code & 0xff;
      }
    }
    return this.#hash(n);
  }

  #hash(length: number): Uint8Array {
    // v0..v3 as (hi, lo) pairs of signed 32-bit integers: `| 0` keeps them small integers to V8
    // (an unsigned value above 2^31 would be a heap number); carries compare them as unsigned.
    let v0h = (this.#k0hi ^ 0x736f6d65) | 0;
    let v0l = (this.#k0lo ^ 0x70736575) | 0;
    let v1h = (this.#k1hi ^ 0x646f7261) | 0;
    let v1l = (this.#k1lo ^ 0x6e646f6d) | 0;
    let v2h = (this.#k0hi ^ 0x6c796765) | 0;
    let v2l = (this.#k0lo ^ 0x6e657261) | 0;
    let v3h = (this.#k1hi ^ 0x74656462) | 0;
    let v3l = (this.#k1lo ^ 0x79746573) | 0;

    // The last block: the remaining bytes, zero-padded, with the length's low byte on top.
    const full = length - (length % 8);
    scratch.fill(0, length, full + 8);
    scratch[full + 7] = length & 0xff;

    let t: number;
    let ml = 0;
    let mh = 0;
    // Every block with 2 SipRounds (c = 2), then the finalisation's 4 (d = 4) with the same code.
    for (let offset = 0; offset <= full + 8; offset += 8) {
      const finalising = offset > full;
      if (finalising) v2l = (v2l ^ 0xff) | 0;
      else {
        ml = scratchView.getInt32(offset, true);
        mh = scratchView.getInt32(offset + 4, true);
        v3l = (v3l ^ ml) | 0;
        v3h = (v3h ^ mh) | 0;
      }
      for (let round = finalising ? 4 : 2; round > 0; round--) {
        // SipRound: each 64-bit add as two 32-bit adds with a carry, each rotation as two shifts.
        t = (v0l + v1l) | 0; v0h = (v0h + v1h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
        t = ((v1h << 13) | (v1l >>> 19)) | 0; v1l = ((v1l << 13) | (v1h >>> 19)) | 0; v1h = t;
        v1h = (v1h ^ v0h) | 0; v1l = (v1l ^ v0l) | 0;
        t = v0h; v0h = v0l; v0l = t;
        t = (v2l + v3l) | 0; v2h = (v2h + v3h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
        t = ((v3h << 16) | (v3l >>> 16)) | 0; v3l = ((v3l << 16) | (v3h >>> 16)) | 0; v3h = t;
        v3h = (v3h ^ v2h) | 0; v3l = (v3l ^ v2l) | 0;
        t = (v0l + v3l) | 0; v0h = (v0h + v3h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
        t = ((v3h << 21) | (v3l >>> 11)) | 0; v3l = ((v3l << 21) | (v3h >>> 11)) | 0; v3h = t;
        v3h = (v3h ^ v0h) | 0; v3l = (v3l ^ v0l) | 0;
        t = (v2l + v1l) | 0; v2h = (v2h + v1h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
        t = ((v1h << 17) | (v1l >>> 15)) | 0; v1l = ((v1l << 17) | (v1h >>> 15)) | 0; v1h = t;
        v1h = (v1h ^ v2h) | 0; v1l = (v1l ^ v2l) | 0;
        t = v2h; v2h = v2l; v2l = t;
      }
      if (!finalising) {
        v0l = (v0l ^ ml) | 0;
        v0h = (v0h ^ mh) | 0;
      }
    }
    const lo = (v0l ^ v1l ^ v2l ^ v3l) | 0;
    const hi = (v0h ^ v1h ^ v2h ^ v3h) | 0;
    // Byte by byte: a DataView per call costs more than the whole hash of a short input.
    const out = new Uint8Array(8);
    out[0] = lo;
    out[1] = lo >>> 8;
    out[2] = lo >>> 16;
    out[3] = lo >>> 24;
    out[4] = hi;
    out[5] = hi >>> 8;
    out[6] = hi >>> 16;
    out[7] = hi >>> 24;
    return out;
  }
}
