/**
 * Arrow → plain JS values, shared by the Delta log reader (checkpoints) and the row reader.
 *
 * Normal forms: integers as numbers (64-bit beyond 2^53 stay bigint), timestamps as epoch
 * microseconds (number), dates as days since the epoch, decimals as strings with exactly `scale`
 * fraction digits, binary as Uint8Array, lists as arrays, structs and maps as plain objects.
 */
import * as arrow from "apache-arrow";
import * as parquet from "parquet-wasm";

/** Reads a whole Parquet file into an Arrow table. */
export function readParquetTable(bytes: Uint8Array): arrow.Table {
  return arrow.tableFromIPC(parquet.readParquet(bytes).intoIPCStream());
}

export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return neg ? `-${digits}` : digits;
}

function normInt64(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** The raw stored value (e.g. BigInt64 for timestamps) of row `i` of a vector. */
function rawAt(vector: arrow.Vector, i: number): unknown {
  let idx = i;
  for (const d of vector.data) {
    if (idx < d.length) return (d.values as unknown as ArrayLike<unknown>)[d.offset + idx];
    idx -= d.length;
  }
  return undefined;
}

function timestampToMicros(raw: bigint | number, unit: arrow.TimeUnit): number | bigint {
  const v = BigInt(raw);
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return normInt64(v * 1_000_000n);
    case arrow.TimeUnit.MILLISECOND:
      return normInt64(v * 1000n);
    case arrow.TimeUnit.MICROSECOND:
      return normInt64(v);
    default: {
      // nanoseconds: floor to micros
      const q = v / 1000n;
      return normInt64(v < 0n && q * 1000n !== v ? q - 1n : q);
    }
  }
}

/** Converts an already-fetched value (from `get`) of the given type; used inside lists and maps. */
function convertValue(type: arrow.DataType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (arrow.DataType.isInt(type)) return typeof v === "bigint" ? normInt64(v) : v;
  if (arrow.DataType.isTimestamp(type)) {
    // `get` yields milliseconds; nested timestamps lose sub-millisecond precision here.
    return Math.round((v as number) * 1000);
  }
  if (arrow.DataType.isDate(type)) return Math.floor((v as number) / 86_400_000);
  if (arrow.DataType.isDecimal(type)) return formatDecimal(BigInt(String(v)), type.scale);
  if (arrow.DataType.isList(type) || arrow.DataType.isFixedSizeList(type)) {
    const child = (type.children[0] as arrow.Field).type;
    const out: unknown[] = [];
    for (const e of v as Iterable<unknown>) out.push(convertValue(child, e));
    return out;
  }
  if (arrow.DataType.isStruct(type)) {
    const row = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of type.children) out[f.name] = convertValue(f.type, row[f.name]);
    return out;
  }
  if (arrow.DataType.isMap(type)) {
    const entry = type.children[0]!.type as arrow.Struct;
    const valueType = entry.children[1]!.type;
    const out: Record<string, unknown> = {};
    for (const [k, val] of v as Iterable<[unknown, unknown]>) out[String(k)] = convertValue(valueType, val);
    return out;
  }
  if (typeof v === "bigint") return normInt64(v);
  return v;
}

/** Converts row `i` of `vector` into its normal form. */
export function valueAt(vector: arrow.Vector, i: number): unknown {
  if (!vector.isValid(i)) return null;
  const type = vector.type as arrow.DataType;
  if (arrow.DataType.isTimestamp(type)) return timestampToMicros(rawAt(vector, i) as bigint, type.unit);
  if (arrow.DataType.isStruct(type)) {
    const out: Record<string, unknown> = {};
    type.children.forEach((f: arrow.Field, k: number) => {
      out[f.name] = valueAt(vector.getChildAt(k)!, i);
    });
    return out;
  }
  return convertValue(type, vector.get(i));
}

/** All values of a vector in their normal form (column-wise; faster than `valueAt` per cell). */
export function columnValues(vector: arrow.Vector): unknown[] {
  const type = vector.type as arrow.DataType;
  const out: unknown[] = new Array(vector.length);
  if (arrow.DataType.isTimestamp(type)) {
    let i = 0;
    for (const d of vector.data) {
      const values = d.values as unknown as ArrayLike<bigint | number>;
      for (let j = 0; j < d.length; j++, i++) out[i] = d.getValid(j) ? timestampToMicros(values[d.offset + j]!, type.unit) : null;
    }
    return out;
  }
  if (arrow.DataType.isDecimal(type) && (type.bitWidth === 128 || type.bitWidth === 64)) {
    // Raw little-endian words: far faster than going through the BigNum objects `get` returns.
    const words = type.bitWidth / 64;
    let i = 0;
    for (const d of vector.data) {
      const raw = d.values as unknown as Uint32Array;
      const w = new BigInt64Array(raw.buffer, raw.byteOffset, raw.length / 2);
      for (let j = 0; j < d.length; j++, i++) {
        if (!d.getValid(j)) {
          out[i] = null;
          continue;
        }
        const base = (d.offset + j) * words;
        const lo = w[base]!;
        let v: bigint;
        if (words === 1) v = lo;
        else {
          const hi = w[base + 1]!;
          v = (hi === 0n && lo >= 0n) || (hi === -1n && lo < 0n) ? lo : (hi << 64n) | BigInt.asUintN(64, lo);
        }
        out[i] = formatDecimal(v, type.scale);
      }
    }
    return out;
  }
  if (arrow.DataType.isStruct(type)) {
    const children = type.children.map((f: arrow.Field, k: number) => [f.name, columnValues(vector.getChildAt(k)!)] as const);
    for (let i = 0; i < out.length; i++) {
      if (!vector.isValid(i)) {
        out[i] = null;
        continue;
      }
      const row: Record<string, unknown> = {};
      for (const [name, values] of children) row[name] = values[i];
      out[i] = row;
    }
    return out;
  }
  const simple = arrow.DataType.isInt(type) || arrow.DataType.isFloat(type) || arrow.DataType.isUtf8(type) || arrow.DataType.isBool(type);
  let i = 0;
  for (const v of vector) {
    out[i++] = v === null || v === undefined ? null : simple && typeof v !== "bigint" ? v : convertValue(type, v);
  }
  return out;
}

/** All rows of an Arrow table as plain objects keyed by column name. */
export function tableRows(table: arrow.Table): Record<string, unknown>[] {
  const cols = table.schema.fields.map((f, k) => [f.name, columnValues(table.getChildAt(k)!)] as const);
  const rows: Record<string, unknown>[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (const [name, values] of cols) row[name] = values[i];
    rows[i] = row;
  }
  return rows;
}
