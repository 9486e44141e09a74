/**
 * Reads cells out of Arrow columns.
 *
 * Contract: `cellReader(data, type)` returns a function from a row index to the cell's
 * `CellValue` (values.ts), null for a null cell; it accepts both plain and dictionary-encoded
 * strings. It is for edges (sinks, tests, nested values); hot paths read the buffers directly.
 */
import type * as arrow from "apache-arrow";
import type { DataType } from "../plan.ts";
import { type CellValue, readInt128, readInt64, utf8Decoder } from "./values.ts";

/** Whether row `index` of `data` holds a value (offset-0 data). */
export function isValid(data: arrow.Data, index: number): boolean {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return true;
  return ((bitmap[index >> 3]! >> (index & 7)) & 1) === 1;
}

export function cellReader(data: arrow.Data, type: DataType): (index: number) => CellValue {
  const read = valueReader(data, type);
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return read;
  return (index) => (((bitmap[index >> 3]! >> (index & 7)) & 1) === 1 ? read(index) : null);
}

function valueReader(data: arrow.Data, type: DataType): (index: number) => CellValue {
  const dictionary = (data as arrow.Data<arrow.Dictionary>).dictionary;
  if (dictionary) {
    const entries = dictionary.data[0]!;
    const readEntry = valueReader(entries, type);
    const indices = data.values as Int32Array;
    return (index) => readEntry(indices[index]!);
  }
  switch (type.kind) {
    case "bool": {
      const bits = data.values as Uint8Array;
      return (index) => ((bits[index >> 3]! >> (index & 7)) & 1) === 1;
    }
    case "int":
    case "date":
    case "double": {
      const values = data.values as Int32Array | Float64Array;
      return (index) => values[index]!;
    }
    case "long":
    case "timestamp": {
      const values = data.values as BigInt64Array;
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      return (index) => readInt64(words, index);
    }
    case "decimal": {
      const words = data.values as Uint32Array;
      return (index) => readInt128(words, index);
    }
    case "string": {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      return (index) => utf8Decoder.decode(bytes.subarray(offsets[index]!, offsets[index + 1]!));
    }
    case "bytes": {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      return (index) => bytes.slice(offsets[index]!, offsets[index + 1]!);
    }
    case "list": {
      const offsets = data.valueOffsets as Int32Array;
      const element = cellReader(data.children[0]!, type.element.type);
      return (index) => {
        const out: CellValue[] = [];
        for (let k = offsets[index]!; k < offsets[index + 1]!; k++) out.push(element(k));
        return out;
      };
    }
    case "map": {
      const offsets = data.valueOffsets as Int32Array;
      const entries = data.children[0]!;
      const key = cellReader(entries.children[0]!, { kind: "string" });
      const value = cellReader(entries.children[1]!, type.value.type);
      return (index) => {
        const out = new Map<string, CellValue>();
        for (let k = offsets[index]!; k < offsets[index + 1]!; k++) out.set(key(k) as string, value(k));
        return out;
      };
    }
    case "struct": {
      const fields = type.fields.map((f, i) => ({ name: f.name, read: cellReader(data.children[i]!, f.type) }));
      return (index) => {
        const out: { [field: string]: CellValue } = {};
        for (const f of fields) out[f.name] = f.read(index);
        return out;
      };
    }
    case "duration":
    case "null":
      throw new Error(`a column cannot be of type ${type.kind}`);
  }
}
