/**
 * Hashing and HyperLogLog sketches for `approx_count_distinct`, and the 32-bit hash mixers the
 * aggregate operator's group table shares.
 *
 * Contract: every hash here is deterministic (no random seeds, the same across runs, processes and
 * versions: a sketch in a checkpoint keeps its meaning). A sketch has 2^14 registers (precision
 * 14, standard error about 0.8%); it starts sparse (an open-addressing table of the registers that
 * are set, `(index << 8) | rank` per slot, its last element the number in use) and turns dense (one byte per register) once that table
 * would outgrow an eighth of the dense size. The estimate is Ertl's improved estimator ("New
 * cardinality estimation algorithms for HyperLogLog sketches", 2017), which needs no bias tables and
 * is accurate from 0 to billions. Serialised form (the `bytes` state field): empty for an empty
 * sketch; `[1, p, u32 little-endian entries sorted by index...]` sparse; `[2, p, registers...]` dense.
 */

// ---- 32-bit hash mixing (MurmurHash3's steps) ----------------------------------------------------

/** Mixes the 32-bit word `k` into the running hash `h` (MurmurHash3's body step). */
export function mix32(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** MurmurHash3 (x86, 32-bit) of `bytes[start, end)`. */
export function hashBytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  let i = start;
  const body = end - ((end - start) & 3);
  for (; i < body; i += 4) h = mix32(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  const tail = end - i;
  if (tail > 0) {
    let k = bytes[i]!;
    if (tail > 1) k ^= bytes[i + 1]! << 8;
    if (tail > 2) k ^= bytes[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ (end - start));
}

/** The hash of one 32-bit word. */
export function hashWord(word: number, seed: number): number {
  return fmix32(mix32(seed | 0, word) ^ 4);
}

/** The hash of two 32-bit words (an int64, a double's bits). */
export function hashWords2(lo: number, hi: number, seed: number): number {
  return fmix32(mix32(mix32(seed | 0, lo), hi) ^ 8);
}

// ---- HyperLogLog ---------------------------------------------------------------------------------

export const HLL_PRECISION = 14;
const P = HLL_PRECISION;
const M = 1 << P;
/** Bits of the 64-bit hash left after the register index. */
const Q = 64 - P;
const LOW_MASK = (1 << (32 - P)) - 1;
/** Sparse tables grow up to this many slots, then the sketch turns dense. */
const SPARSE_MAX_SLOTS = M / 8 / 4;
const SPARSE_MIN_SLOTS = 8;
export const HLL_SEED_1 = 0x2f0b3c1d;
export const HLL_SEED_2 = 0x6a09e667;

/** A sketch: sparse (Int32Array of `(index << 8) | rank`, 0 = empty slot) or dense (registers). */
export type Sketch = Int32Array | Uint8Array;

/**
 * The register index and rank of a value whose 64-bit hash is `(h1, h2)`: the index is the top
 * `P` bits of `h1`; the rank is one more than the leading zeros of the remaining 50 bits.
 */
export function hllIndex(h1: number): number {
  return h1 >>> (32 - P);
}

export function hllRank(h1: number, h2: number): number {
  const low = h1 & LOW_MASK;
  if (low !== 0) return Math.clz32(low) - P + 1;
  return 32 - P + Math.clz32(h2) + 1;
}

/** Adds a register observation; returns the sketch (a new object when it grew or turned dense). */
export function sketchAdd(sketch: Sketch | undefined, index: number, rank: number): Sketch {
  if (sketch === undefined) sketch = new Int32Array(SPARSE_MIN_SLOTS + 1);
  if (sketch instanceof Uint8Array) {
    if (sketch[index]! < rank) sketch[index] = rank;
    return sketch;
  }
  return sparseAdd(sketch, index, rank);
}

/** A sparse table: `slots` (a power of two) entries, then the number of entries in use. */
function sparseAdd(table: Int32Array, index: number, rank: number): Sketch {
  const slots = table.length - 1;
  const mask = slots - 1;
  let slot = index & mask;
  for (;;) {
    const e = table[slot]!;
    if (e === 0) {
      table[slot] = (index << 8) | rank;
      const used = ++table[slots]!;
      if (used * 4 <= slots * 3) return table;
      return slots < SPARSE_MAX_SLOTS ? regrow(table, slots * 2) : toDense(table);
    }
    if (e >>> 8 === index) {
      if ((e & 0xff) < rank) table[slot] = (index << 8) | rank;
      return table;
    }
    slot = (slot + 1) & mask;
  }
}

function regrow(table: Int32Array, slots: number): Int32Array {
  const grown = new Int32Array(slots + 1);
  for (let i = 0; i < table.length - 1; i++) {
    const e = table[i]!;
    if (e !== 0) sparseAdd(grown, e >>> 8, e & 0xff);
  }
  return grown;
}

function toDense(table: Int32Array): Uint8Array {
  const dense = new Uint8Array(M);
  for (let i = 0; i < table.length - 1; i++) {
    const e = table[i]!;
    if (e !== 0 && dense[e >>> 8]! < (e & 0xff)) dense[e >>> 8] = e & 0xff;
  }
  return dense;
}

/** `into` ∪ `from`: the register-wise maximum. */
export function sketchMerge(into: Sketch | undefined, from: Sketch | undefined): Sketch | undefined {
  if (from === undefined) return into;
  if (from instanceof Uint8Array) {
    const dense = into === undefined ? new Uint8Array(M) : into instanceof Uint8Array ? into : toDense(into);
    for (let i = 0; i < M; i++) if (dense[i]! < from[i]!) dense[i] = from[i]!;
    return dense;
  }
  let out: Sketch | undefined = into;
  for (let i = 0; i < from.length - 1; i++) {
    const e = from[i]!;
    if (e !== 0) out = sketchAdd(out, e >>> 8, e & 0xff);
  }
  return out;
}

/** The estimated number of distinct values (Ertl's improved estimator). */
export function sketchEstimate(sketch: Sketch | undefined): number {
  if (sketch === undefined) return 0;
  const counts = new Float64Array(Q + 2);
  if (sketch instanceof Uint8Array) {
    for (let i = 0; i < M; i++) counts[sketch[i]!]!++;
  } else {
    for (let i = 0; i < sketch.length - 1; i++) {
      const e = sketch[i]!;
      if (e !== 0) counts[e & 0xff]!++;
    }
    counts[0] = M - sketch[sketch.length - 1]!;
  }
  if (counts[0] === M) return 0;
  let z = M * tau((M - counts[Q + 1]!) / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + counts[k]!);
  z += M * sigma(counts[0]! / M);
  return Math.round((M * M) / (2 * Math.LN2 * z));
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const previous = z;
    z += x * y;
    y += y;
    if (z === previous) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === previous) return z / 3;
  }
}

/** Bytes a sketch holds in memory. */
export function sketchBytes(sketch: Sketch | undefined): number {
  return sketch === undefined ? 0 : sketch.byteLength;
}

export function serializeSketch(sketch: Sketch | undefined): Uint8Array {
  if (sketch === undefined) return new Uint8Array(0);
  if (sketch instanceof Uint8Array) {
    const out = new Uint8Array(2 + M);
    out[0] = 2;
    out[1] = P;
    out.set(sketch, 2);
    return out;
  }
  const entries = Array.from(sketch.subarray(0, sketch.length - 1)).filter((e) => e !== 0).sort((a, b) => (a >>> 8) - (b >>> 8));
  const out = new Uint8Array(2 + 4 * entries.length);
  out[0] = 1;
  out[1] = P;
  const view = new DataView(out.buffer);
  entries.forEach((e, i) => view.setUint32(2 + 4 * i, e, true));
  return out;
}

export function deserializeSketch(bytes: Uint8Array): Sketch | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[1] !== P) throw new Error(`HyperLogLog precision ${bytes[1]} is not ${P}`);
  if (bytes[0] === 2) return bytes.slice(2, 2 + M);
  if (bytes[0] !== 1) throw new Error(`unknown HyperLogLog format ${bytes[0]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sketch: Sketch | undefined;
  for (let at = 2; at + 4 <= bytes.length; at += 4) {
    const e = view.getUint32(at, true);
    sketch = sketchAdd(sketch, e >>> 8, e & 0xff);
  }
  return sketch;
}
