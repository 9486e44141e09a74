/**
 * The JavaScript value of one cell, as kernels, decoders and tests exchange it.
 *
 * Contract: null → `null` · bool → boolean · int, double → number · long → number (exact within
 * ±2^53) · decimal → bigint, the unscaled value (12.34 in decimal(10, 2) is 1234n) · string →
 * string · bytes → Uint8Array · date → number of days since 1970-01-01 · timestamp → number of
 * microseconds since the epoch, UTC · list → array · map → Map<string, value> · struct → plain
 * object keyed by field name.
 */
export type CellValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | CellValue[]
  | Map<string, CellValue>
  | { [field: string]: CellValue };

const TWO_32 = 4294967296;

/** Reads the int64 at `index` of an Int64 buffer seen as Int32 pairs (little-endian), as a number. */
export function readInt64(words: Int32Array, index: number): number {
  return words[2 * index + 1]! * TWO_32 + (words[2 * index]! >>> 0);
}

/** Writes `value` (an integer within ±2^53) as the int64 at `index` of an Int32 pair view. */
export function writeInt64(words: Int32Array, index: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  words[2 * index] = (value - high * TWO_32) | 0;
  words[2 * index + 1] = high;
}

/** A 128-bit two's-complement integer in four little-endian 32-bit words, as a bigint. */
export function readInt128(words: Uint32Array, index: number): bigint {
  const base = 4 * index;
  const unsigned =
    BigInt(words[base]!) | (BigInt(words[base + 1]!) << 32n) | (BigInt(words[base + 2]!) << 64n) | (BigInt(words[base + 3]!) << 96n);
  return words[base + 3]! & 0x80000000 ? unsigned - (1n << 128n) : unsigned;
}

export function writeInt128(words: Uint32Array, index: number, value: bigint): void {
  let v = value < 0n ? value + (1n << 128n) : value;
  const base = 4 * index;
  for (let k = 0; k < 4; k++) {
    words[base + k] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}

export const utf8Encoder = new TextEncoder();
export const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
