/**
 * A data file's Delta statistics (`add.stats`), computed from its columnar batches.
 *
 * Contract: `fileStats(schema, batches)` is the JSON text
 * `{"numRecords":N,"minValues":{...},"maxValues":{...},"nullCount":{...}}` for the rows of
 * `batches` (all of `schema`, the file's own columns: partition columns are not in a data file and
 * have no statistics), as Spark writes it:
 * - `nullCount` for every top-level column except structs (Spark nests a struct's counts by field;
 *   we leave them out, which readers take as unknown);
 * - `minValues` / `maxValues` for int, long, double, decimal, string, date and timestamp columns
 *   with at least one value: numbers as JSON numbers (decimals exact, e.g. `12.50`), dates
 *   `YYYY-MM-DD`, timestamps ISO-8601 UTC truncated down to milliseconds
 *   (`2024-01-01T10:00:00.123Z`, the protocol's rule), strings compared as UTF-8 bytes. Booleans,
 *   bytes, lists, maps and structs get none (Spark collects none for them).
 * - Decisions: a double column holding NaN or an infinity gets no bounds (JSON cannot hold them);
 *   a long beyond ±2^53 gives no bounds (they would be rounded); a string minimum is cut to its
 *   first 32 characters (a prefix is still a lower bound); a string maximum longer than 32
 *   characters is left out rather than cut (a cut maximum would not be an upper bound), so the
 *   bounds that are written are exact and `tightBounds` is not written.
 *
 * Every loop runs over the Arrow buffers (typed arrays, validity bits); no row objects.
 */
import type * as arrow from "apache-arrow";
import { plainBatch } from "../columnar/batch-ops.ts";
import type { Batch } from "../columnar/batch.ts";
import { readInt128, readInt64, utf8Decoder } from "../columnar/values.ts";
import type { DataType, Schema } from "../plan.ts";
import { formatDateDays } from "../time.ts";
import { formatDecimal } from "./arrow-values.ts";

/** Longest string minimum kept, in characters (Spark's `dataSkippingStringPrefixLength`). */
export const STRING_STATS_PREFIX = 32;

/** The smallest and the largest value of a column, as JSON texts; either may be absent. */
interface Bounds {
  min: string | undefined;
  max: string | undefined;
}

export function fileStats(schema: Schema, batches: readonly Batch[]): string {
  const plain = batches.map(plainBatch);
  const numRecords = plain.reduce((n, b) => n + b.length, 0);
  const mins: string[] = [];
  const maxs: string[] = [];
  const nulls: string[] = [];
  schema.fields.forEach((field, c) => {
    const columns = plain.map((b) => b.columns[c]!);
    const key = JSON.stringify(field.name);
    if (field.type.kind !== "struct") nulls.push(`${key}:${columns.reduce((n, d) => n + nullsIn(d), 0)}`);
    const bounds = columnBounds(field.type, columns);
    if (bounds?.min !== undefined) mins.push(`${key}:${bounds.min}`);
    if (bounds?.max !== undefined) maxs.push(`${key}:${bounds.max}`);
  });
  return `{"numRecords":${numRecords},"minValues":{${mins.join(",")}},"maxValues":{${maxs.join(",")}},"nullCount":{${nulls.join(",")}}}`;
}

function nullsIn(data: arrow.Data): number {
  return data.nullBitmap && data.nullBitmap.length > 0 ? data.nullCount : 0;
}

/** The validity bitmap when the column has nulls, else undefined (every row valid). */
function validityOf(data: arrow.Data): Uint8Array | undefined {
  return nullsIn(data) > 0 ? data.nullBitmap! : undefined;
}

function columnBounds(type: DataType, columns: readonly arrow.Data[]): Bounds | undefined {
  switch (type.kind) {
    case "int":
      return numberBounds(columns, (n) => String(n));
    case "date":
      return numberBounds(columns, (n) => JSON.stringify(formatDateDays(n)));
    case "double":
      return numberBounds(columns, (n) => JSON.stringify(n));
    case "long":
      return int64Bounds(columns, (n) => String(n));
    case "timestamp":
      return int64Bounds(columns, (micros) => JSON.stringify(new Date(Math.floor(micros / 1000)).toISOString()));
    case "decimal":
      return decimalBounds(columns, type.scale);
    case "string":
      return stringBounds(columns);
    case "bool":
    case "bytes":
    case "list":
    case "map":
    case "struct":
      return undefined;
    case "duration":
    case "null":
      throw new Error(`a table column cannot be of type ${type.kind}`);
  }
}

/** Int32 and Float64 columns. */
function numberBounds(columns: readonly arrow.Data[], format: (n: number) => string): Bounds | undefined {
  let min = Infinity;
  let max = -Infinity;
  let seen = false;
  for (const data of columns) {
    const values = data.values as Int32Array | Float64Array;
    const valid = validityOf(data);
    for (let i = 0; i < data.length; i++) {
      if (valid && ((valid[i >> 3]! >> (i & 7)) & 1) === 0) continue;
      const v = values[i]!;
      if (!Number.isFinite(v)) return undefined;
      seen = true;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return seen ? { min: format(min), max: format(max) } : undefined;
}

/** Int64 columns (long, timestamp), read as pairs of 32-bit words. */
function int64Bounds(columns: readonly arrow.Data[], format: (n: number) => string): Bounds | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const data of columns) {
    const values = data.values as BigInt64Array;
    const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    const valid = validityOf(data);
    for (let i = 0; i < data.length; i++) {
      if (valid && ((valid[i >> 3]! >> (i & 7)) & 1) === 0) continue;
      const v = readInt64(words, i);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (min === Infinity) return undefined;
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) return undefined;
  return { min: format(min), max: format(max) };
}

/** Signed comparison of two 128-bit little-endian two's-complement values in 32-bit words. */
function compareInt128(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  const ah = a[4 * ai + 3]! | 0;
  const bh = b[4 * bi + 3]! | 0;
  if (ah !== bh) return ah < bh ? -1 : 1;
  for (let k = 2; k >= 0; k--) {
    const x = a[4 * ai + k]!;
    const y = b[4 * bi + k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function decimalBounds(columns: readonly arrow.Data[], scale: number): Bounds | undefined {
  let minAt: [Uint32Array, number] | undefined;
  let maxAt: [Uint32Array, number] | undefined;
  for (const data of columns) {
    const words = data.values as Uint32Array;
    const valid = validityOf(data);
    for (let i = 0; i < data.length; i++) {
      if (valid && ((valid[i >> 3]! >> (i & 7)) & 1) === 0) continue;
      if (!minAt || compareInt128(words, i, minAt[0], minAt[1]) < 0) minAt = [words, i];
      if (!maxAt || compareInt128(words, i, maxAt[0], maxAt[1]) > 0) maxAt = [words, i];
    }
  }
  if (!minAt || !maxAt) return undefined;
  return { min: formatDecimal(readInt128(minAt[0], minAt[1]), scale), max: formatDecimal(readInt128(maxAt[0], maxAt[1]), scale) };
}

/** Compares two byte ranges as unsigned bytes (UTF-8 order is code point order). */
function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < n; k++) {
    const x = a[aStart + k]!;
    const y = b[bStart + k]!;
    if (x !== y) return x - y;
  }
  return aEnd - aStart - (bEnd - bStart);
}

function stringBounds(columns: readonly arrow.Data[]): Bounds | undefined {
  let min: { bytes: Uint8Array; start: number; end: number } | undefined;
  let max: { bytes: Uint8Array; start: number; end: number } | undefined;
  for (const data of columns) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const valid = validityOf(data);
    for (let i = 0; i < data.length; i++) {
      if (valid && ((valid[i >> 3]! >> (i & 7)) & 1) === 0) continue;
      const start = offsets[i]!;
      const end = offsets[i + 1]!;
      if (!min || compareBytes(bytes, start, end, min.bytes, min.start, min.end) < 0) min = { bytes, start, end };
      if (!max || compareBytes(bytes, start, end, max.bytes, max.start, max.end) > 0) max = { bytes, start, end };
    }
  }
  if (!min || !max) return undefined;
  const minChars = Array.from(utf8Decoder.decode(min.bytes.subarray(min.start, min.end)));
  const maxText = utf8Decoder.decode(max.bytes.subarray(max.start, max.end));
  return {
    min: JSON.stringify(minChars.slice(0, STRING_STATS_PREFIX).join("")),
    max: Array.from(maxText).length <= STRING_STATS_PREFIX ? JSON.stringify(maxText) : undefined,
  };
}
