/**
 * Row keys for hashing: dedup keys, join keys.
 *
 * Contract: `keyReader(columns, types)` returns, for a row, a value usable as a `Map`/`Set` key such
 * that two rows get the same key exactly when their key cells are equal: nulls equal each other
 * (SQL's `is not distinct from`, as `GROUP BY` and Spark's `dropDuplicates`), `-0` equals `0`,
 * and NaN equals NaN. A single column gives a number or a string (null for a null cell); several
 * columns give one string built from each cell's encoding, with lengths so that it cannot be
 * ambiguous. `int` and `long` cells of the same value get the same key (a join may equate them);
 * other types are only comparable with themselves. No object is allocated per row on the paths for
 * numbers, timestamps, dates and strings.
 */
import type * as arrow from "apache-arrow";
import type { DataType } from "../plan.ts";
import { cellReader } from "../columnar/read.ts";
import { type CellValue, readInt128, utf8Decoder } from "../columnar/values.ts";

export type Key = number | string | null;

export interface KeyReader {
  key(row: number): Key;
  /** Whether any key cell of `row` is null (an equi-join key that can never match). */
  hasNull(row: number): boolean;
}

const TWO_32 = 4294967296;
/** Int64 high words within this bound keep the value inside ±2^53, exact as a number. */
const SAFE_HIGH = 0x200000;

export function keyReader(columns: readonly arrow.Data[], types: readonly DataType[]): KeyReader {
  const readers = columns.map((c, i) => valueKey(c, types[i]!));
  const validity = columns.map(validityTest);
  const hasNull = (row: number): boolean => {
    for (let i = 0; i < validity.length; i++) if (!validity[i]!(row)) return true;
    return false;
  };
  if (columns.length === 0) return { key: () => 0, hasNull: () => false };
  if (columns.length === 1) {
    const read = readers[0]!;
    const valid = validity[0]!;
    return { key: (row) => (valid(row) ? read(row) : null), hasNull };
  }
  return {
    key(row) {
      let text = "";
      for (let i = 0; i < readers.length; i++) {
        if (!validity[i]!(row)) {
          text += "\u0000";
          continue;
        }
        const v = readers[i]!(row);
        text += typeof v === "number" ? `\u0001${v === 0 ? 0 : v};` : `\u0002${v.length}:${v}`;
      }
      return text;
    },
    hasNull,
  };
}

/** Whether `type` values of kind `a` and `b` may share keys (an equi-join pair can use hashing). */
export function keyCompatible(a: DataType, b: DataType): boolean {
  const integral = (t: DataType) => t.kind === "int" || t.kind === "long";
  if (integral(a) && integral(b)) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === "decimal" && b.kind === "decimal") return a.scale === b.scale;
  if (a.kind === "list" || a.kind === "struct" || a.kind === "map") return JSON.stringify(a) === JSON.stringify(b);
  return true;
}

function validityTest(data: arrow.Data): (row: number) => boolean {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return () => true;
  return (row) => ((bitmap[row >> 3]! >> (row & 7)) & 1) === 1;
}

/** The key of a valid cell: a number (Map keys compare numbers with SameValueZero) or a string. */
function valueKey(data: arrow.Data, type: DataType): (row: number) => number | string {
  const dictionary = (data as arrow.Data<arrow.Dictionary>).dictionary;
  if (dictionary) {
    const entries = dictionary.data[0]!;
    const read = valueKey(entries, type);
    const decoded = new Array<number | string | undefined>(entries.length);
    const indices = data.values as Int32Array;
    return (row) => {
      const k = indices[row]!;
      return (decoded[k] ??= read(k));
    };
  }
  switch (type.kind) {
    case "int":
    case "date":
    case "double": {
      const values = data.values as Int32Array | Float64Array;
      return (row) => values[row]!;
    }
    case "bool": {
      const bits = data.values as Uint8Array;
      return (row) => (bits[row >> 3]! >> (row & 7)) & 1;
    }
    case "long":
    case "timestamp": {
      const values = data.values as BigInt64Array;
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      return (row) => {
        const high = words[2 * row + 1]!;
        if (high < SAFE_HIGH && high >= -SAFE_HIGH) return high * TWO_32 + (words[2 * row]! >>> 0);
        return values[row]!.toString();
      };
    }
    case "decimal": {
      const words = data.values as Uint32Array;
      return (row) => readInt128(words, row).toString();
    }
    case "string": {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      return (row) => utf8Decoder.decode(bytes.subarray(offsets[row]!, offsets[row + 1]!));
    }
    case "bytes": {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      return (row) => latin1(bytes, offsets[row]!, offsets[row + 1]!);
    }
    default: {
      const read = cellReader(data, type);
      return (row) => stableText(read(row));
    }
  }
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i += 4096) text += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 4096)));
  return text;
}

/** An unambiguous text of a nested value (lists, structs), for keys only. */
function stableText(value: CellValue): string {
  if (value === null) return "n";
  if (typeof value === "number") return `d${value === 0 ? 0 : value};`;
  if (typeof value === "boolean") return value ? "t" : "f";
  if (typeof value === "bigint") return `i${value};`;
  if (typeof value === "string") return `s${value.length}:${value}`;
  if (value instanceof Uint8Array) return `b${value.length}:${latin1(value, 0, value.length)}`;
  if (Array.isArray(value)) return `[${value.map(stableText).join("")}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => stableText(k) + stableText(v)).join("")}}`;
  return `(${Object.values(value).map(stableText).join("")})`;
}
