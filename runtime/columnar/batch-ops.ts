/**
 * Whole-batch operations: build from rows (tests, generators), read back as rows (sinks, tests),
 * select rows, concatenate, and convert to and from Arrow tables.
 *
 * Contract: every function returns new batches of offset-0 columns; inputs are not modified.
 * `gather` keeps the dictionary of a dictionary-encoded column (only indices move), so filters
 * stay cheap on low-cardinality strings.
 */
import * as arrow from "apache-arrow";
import type { DataType, Schema } from "../plan.ts";
import { arrowSchema } from "./arrow-types.ts";
import type { Batch } from "./batch.ts";
import { columnBuilder } from "./builder.ts";
import { cellReader, isValid } from "./read.ts";
import type { CellValue } from "./values.ts";

export function batchFromRows(schema: Schema, rows: readonly Record<string, CellValue>[]): Batch {
  const builders = schema.fields.map((f) => columnBuilder(f, rows.length));
  for (const row of rows) schema.fields.forEach((f, i) => builders[i]!.append(row[f.name] ?? null));
  return { schema, length: rows.length, columns: builders.map((b) => b.finish()) };
}

export function batchToRows(batch: Batch): Record<string, CellValue>[] {
  const readers = batch.schema.fields.map((f, i) => cellReader(batch.columns[i]!, f.type));
  const rows: Record<string, CellValue>[] = [];
  for (let r = 0; r < batch.length; r++) {
    const row: Record<string, CellValue> = Object.create(null);
    batch.schema.fields.forEach((f, i) => (row[f.name] = readers[i]!(r)));
    rows.push(row);
  }
  return rows;
}

export function emptyBatch(schema: Schema): Batch {
  return batchFromRows(schema, []);
}

/** The rows at `indices` (any order, repeats allowed). */
export function gather(batch: Batch, indices: Int32Array): Batch {
  return { schema: batch.schema, length: indices.length, columns: batch.columns.map((c, i) => gatherColumn(c, batch.schema.fields[i]!.type, indices)) };
}

export function gatherColumn(data: arrow.Data, type: DataType, indices: Int32Array): arrow.Data {
  const n = indices.length;
  const { nullBitmap, nullCount } = gatherValidity(data, indices);
  const dictionary = (data as arrow.Data<arrow.Dictionary>).dictionary;
  if (dictionary || type.kind === "int" || type.kind === "date" || type.kind === "double") {
    const source = data.values as Int32Array | Float64Array;
    const out = new (source.constructor as typeof Int32Array)(n);
    for (let i = 0; i < n; i++) out[i] = source[indices[i]!]!;
    return arrow.makeData({ type: data.type as arrow.Int32, length: n, nullCount, nullBitmap, data: out, ...(dictionary ? { dictionary } : {}) } as never);
  }
  if (type.kind === "long" || type.kind === "timestamp") {
    const source = data.values as BigInt64Array;
    const words = new Int32Array(source.buffer, source.byteOffset, source.length * 2);
    const out = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const k = indices[i]!;
      out[2 * i] = words[2 * k]!;
      out[2 * i + 1] = words[2 * k + 1]!;
    }
    return arrow.makeData({ type: data.type as arrow.Int64, length: n, nullCount, nullBitmap, data: new BigInt64Array(out.buffer) });
  }
  if (type.kind === "bool") {
    const bits = data.values as Uint8Array;
    const out = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      const k = indices[i]!;
      if ((bits[k >> 3]! >> (k & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
    }
    return arrow.makeData({ type: data.type as arrow.Bool, length: n, nullCount, nullBitmap, data: out });
  }
  if (type.kind === "string" || type.kind === "bytes") {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const outOffsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const k = indices[i]!;
      total += offsets[k + 1]! - offsets[k]!;
      outOffsets[i + 1] = total;
    }
    const out = new Uint8Array(total);
    for (let i = 0; i < n; i++) {
      const k = indices[i]!;
      const start = offsets[k]!;
      const end = offsets[k + 1]!;
      let at = outOffsets[i]!;
      // Short strings are copied byte by byte: a subarray per row costs more than the copy.
      if (end - start <= 64) for (let b = start; b < end; b++) out[at++] = bytes[b]!;
      else out.set(bytes.subarray(start, end), at);
    }
    return arrow.makeData({ type: data.type as arrow.Utf8, length: n, nullCount, nullBitmap, valueOffsets: outOffsets, data: out });
  }
  // Nested and decimal columns: through values (rare on hot paths).
  const read = cellReader(data, type);
  const builder = columnBuilder({ name: "", type, nullable: true }, n);
  for (let i = 0; i < n; i++) builder.append(read(indices[i]!));
  return builder.finish();
}

function gatherValidity(data: arrow.Data, indices: Int32Array): { nullBitmap: Uint8Array; nullCount: number } {
  if (!data.nullBitmap || data.nullBitmap.length === 0 || data.nullCount === 0) return { nullBitmap: new Uint8Array(0), nullCount: 0 };
  const n = indices.length;
  const out = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (isValid(data, indices[i]!)) out[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return { nullBitmap: nulls ? out : new Uint8Array(0), nullCount: nulls };
}

/** One batch holding the rows of `batches` in order (all of `schema`). */
export function concatBatches(schema: Schema, batches: readonly Batch[]): Batch {
  const nonEmpty = batches.filter((b) => b.length > 0);
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  if (nonEmpty.length === 0) return emptyBatch(schema);
  const length = nonEmpty.reduce((n, b) => n + b.length, 0);
  const columns = schema.fields.map((field, i) => concatColumn(field.type, nonEmpty.map((b) => b.columns[i]!), length));
  return { schema, length, columns };
}

/**
 * One column of `length` rows holding `parts` in order. Flat types are copied buffer by buffer
 * (values with `set`, validity bit by bit); dictionary-encoded parts that share one dictionary
 * keep it; anything else (nested types, parts with different dictionaries) goes value by value.
 */
export function concatColumn(type: DataType, parts: readonly arrow.Data[], length: number): arrow.Data {
  const dictionaries = parts.map((p) => (p as arrow.Data<arrow.Dictionary>).dictionary);
  const dictionary = dictionaries[0];
  const sameDictionary = dictionaries.every((d) => d === dictionary);
  if (sameDictionary && (dictionary || ["int", "long", "double", "date", "timestamp", "decimal", "bool", "string", "bytes"].includes(type.kind))) {
    const { nullBitmap, nullCount } = concatValidity(parts, length);
    const first = parts[0]!;
    if (type.kind === "bool" && !dictionary) {
      const out = new Uint8Array((length + 7) >> 3);
      let at = 0;
      for (const part of parts) {
        const bits = part.values as Uint8Array;
        for (let r = 0; r < part.length; r++, at++) if ((bits[r >> 3]! >> (r & 7)) & 1) out[at >> 3]! |= 1 << (at & 7);
      }
      return arrow.makeData({ type: first.type as arrow.Bool, length, nullCount, nullBitmap, data: out });
    }
    if ((type.kind === "string" || type.kind === "bytes") && !dictionary) {
      const offsets = new Int32Array(length + 1);
      let total = 0;
      for (const part of parts) total += (part.valueOffsets as Int32Array)[part.length]!;
      const bytes = new Uint8Array(total);
      let row = 0;
      let base = 0;
      for (const part of parts) {
        const partOffsets = part.valueOffsets as Int32Array;
        for (let r = 1; r <= part.length; r++) offsets[row + r] = base + partOffsets[r]!;
        const size = partOffsets[part.length]!;
        bytes.set((part.values as Uint8Array).subarray(0, size), base);
        row += part.length;
        base += size;
      }
      return arrow.makeData({ type: first.type as arrow.Utf8, length, nullCount, nullBitmap, valueOffsets: offsets, data: bytes });
    }
    // Fixed width: int32, float64, int64 (BigInt64Array), dates, decimals (4 words a value), dictionary indices.
    const stride = first.stride;
    const source = first.values as Int32Array;
    const out = new (source.constructor as typeof Int32Array)(length * stride);
    let at = 0;
    for (const part of parts) {
      out.set((part.values as Int32Array).subarray(0, part.length * stride), at);
      at += part.length * stride;
    }
    return arrow.makeData({ type: first.type as arrow.Int32, length, nullCount, nullBitmap, data: out, ...(dictionary ? { dictionary } : {}) } as never);
  }
  const builder = columnBuilder({ name: "", type, nullable: true }, length);
  for (const part of parts) {
    const read = cellReader(part, type);
    for (let r = 0; r < part.length; r++) builder.append(read(r));
  }
  return builder.finish();
}

function concatValidity(parts: readonly arrow.Data[], length: number): { nullBitmap: Uint8Array; nullCount: number } {
  const nullCount = parts.reduce((n, p) => n + (p.nullBitmap && p.nullBitmap.length > 0 ? p.nullCount : 0), 0);
  if (nullCount === 0) return { nullBitmap: new Uint8Array(0), nullCount: 0 };
  const out = new Uint8Array((length + 7) >> 3);
  let at = 0;
  for (const part of parts) {
    const bits = part.nullBitmap;
    if (!bits || bits.length === 0 || part.nullCount === 0) {
      for (let r = 0; r < part.length; r++, at++) out[at >> 3]! |= 1 << (at & 7);
    } else {
      for (let r = 0; r < part.length; r++, at++) if ((bits[r >> 3]! >> (r & 7)) & 1) out[at >> 3]! |= 1 << (at & 7);
    }
  }
  return { nullBitmap: out, nullCount };
}

/** `batch` with dictionary-encoded columns decoded, so that its columns match `arrowType` exactly. */
export function plainBatch(batch: Batch): Batch {
  if (!batch.columns.some((c) => (c as arrow.Data<arrow.Dictionary>).dictionary)) return batch;
  const columns = batch.columns.map((column, i) => {
    if (!(column as arrow.Data<arrow.Dictionary>).dictionary) return column;
    const field = batch.schema.fields[i]!;
    const read = cellReader(column, field.type);
    const builder = columnBuilder(field, batch.length);
    for (let r = 0; r < batch.length; r++) builder.append(read(r));
    return builder.finish();
  });
  return { schema: batch.schema, length: batch.length, columns };
}

/** An Arrow record batch in the declared layout (dictionary-encoded columns decoded). */
export function toRecordBatch(batch: Batch): arrow.RecordBatch {
  const schema = arrowSchema(batch.schema);
  const plain = plainBatch(batch);
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: plain.length, nullCount: 0, children: plain.columns as arrow.Data[] });
  return new arrow.RecordBatch(schema, struct);
}

export function toArrowTable(schema: Schema, batches: readonly Batch[]): arrow.Table {
  return batches.length ? new arrow.Table(batches.map(toRecordBatch)) : new arrow.Table(arrowSchema(schema));
}

/** Batches of `schema` from an Arrow table whose columns match by name (extra columns are ignored). */
export function fromArrowTable(schema: Schema, table: arrow.Table): Batch[] {
  return table.batches.map((recordBatch) => {
    const columns = schema.fields.map((field) => {
      const child = recordBatch.getChild(field.name);
      if (!child) throw new Error(`column ${field.name} is missing`);
      if (child.data.length !== 1 || child.data[0]!.offset !== 0) throw new Error(`column ${field.name} is not one contiguous chunk`);
      return child.data[0]!;
    });
    return { schema, length: recordBatch.numRows, columns };
  });
}
