/**
 * A table's data files: one Parquet file from columnar batches, written whole or not at all, and
 * read back into batches of the table's columns (for `optimize`).
 *
 * Contract:
 * - `encodeDataFile(schema, batches, format)` is one Parquet file (parquet-wasm) holding the rows
 *   of `batches` in the layout of arrow-types.ts: timestamps INT64 microseconds with
 *   `isAdjustedToUTC = true`, decimals as Parquet DECIMAL, lists, maps and structs nested; page
 *   statistics; dictionary encoding unless `format.dictionary` is false; compressed with
 *   `format.compression`.
 * - `dataFileFormat(configuration)`: the compression a table asks for in
 *   `delta.parquet.compression.codec` (the protocol's table property; zstd when absent, or when it
 *   names a codec parquet-wasm does not write), dictionary encoding on.
 * - `writeDataFile(path, bytes)` creates the file's directory, writes the bytes under a hidden
 *   temporary name, fsyncs and renames it into place; `crashPoint("table.parquet-write")` is
 *   reached with half of the bytes on disk. Data file names are unique (a UUID), so the rename
 *   never replaces a file.
 * - `readDataFile(bytes, schema)` is the file's rows as batches of `schema`: a column the file
 *   lacks (added to the table after the file was written) is all null; a column stored in another
 *   Arrow layout (a timestamp in another unit, a string dictionary, a wider offset type) is
 *   converted. Extra columns in the file are ignored.
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import * as arrow from "apache-arrow";
import * as parquet from "parquet-wasm";
import { arrowType } from "../columnar/arrow-types.ts";
import { toArrowTable } from "../columnar/batch-ops.ts";
import type { Batch } from "../columnar/batch.ts";
import { columnBuilder } from "../columnar/builder.ts";
import type { CellValue } from "../columnar/values.ts";
import type { DataType, Schema } from "../plan.ts";
import { writeFileAtomically } from "../storage/durable-file.ts";
import { readParquetTable, valueAt } from "./arrow-values.ts";

export type ParquetCompression = "zstd" | "snappy" | "gzip" | "lz4_raw" | "uncompressed";

export interface DataFileFormat {
  compression: ParquetCompression;
  dictionary: boolean;
}

const CODECS: Record<ParquetCompression, parquet.Compression> = {
  zstd: parquet.Compression.ZSTD,
  snappy: parquet.Compression.SNAPPY,
  gzip: parquet.Compression.GZIP,
  lz4_raw: parquet.Compression.LZ4_RAW,
  uncompressed: parquet.Compression.UNCOMPRESSED,
};

export function dataFileFormat(configuration: Readonly<Record<string, string>> | undefined): DataFileFormat {
  const asked = configuration?.["delta.parquet.compression.codec"]?.toLowerCase();
  const compression: ParquetCompression = asked === "none" ? "uncompressed" : asked !== undefined && asked in CODECS ? (asked as ParquetCompression) : "zstd";
  return { compression, dictionary: true };
}

/** The part of a data file's name that says its codec, as Spark names them: `.zstd.parquet`, `.parquet`. */
export function dataFileExtension(format: DataFileFormat): string {
  return format.compression === "uncompressed" ? ".parquet" : `.${format.compression}.parquet`;
}

export function encodeDataFile(schema: Schema, batches: readonly Batch[], format: DataFileFormat): Uint8Array {
  const ipc = arrow.tableToIPC(toArrowTable(schema, batches), "stream");
  const properties = new parquet.WriterPropertiesBuilder()
    .setCompression(CODECS[format.compression])
    .setDictionaryEnabled(format.dictionary)
    .setStatisticsEnabled(parquet.EnabledStatistics.Page)
    .build();
  return parquet.writeParquet(parquet.Table.fromIPCStream(ipc), properties);
}

export async function writeDataFile(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomically(path, bytes, { midwayCrashPoint: "table.parquet-write" });
}

export function readDataFile(bytes: Uint8Array, schema: Schema): Batch[] {
  const table = readParquetTable(bytes);
  return table.batches.map((recordBatch) => ({
    schema,
    length: recordBatch.numRows,
    columns: schema.fields.map((field) => conformColumn(recordBatch.getChild(field.name), field.type, recordBatch.numRows)),
  }));
}

/** A file's column as the `Data` a batch of `type` holds (offset 0, the layout of arrow-types.ts). */
function conformColumn(vector: arrow.Vector | null, type: DataType, length: number): arrow.Data {
  const builder = columnBuilder({ name: "", type, nullable: true }, length);
  if (vector === null) {
    for (let i = 0; i < length; i++) builder.appendNull();
    return builder.finish();
  }
  const data = vector.data.length === 1 ? vector.data[0]! : undefined;
  if (data && data.offset === 0 && arrow.util.compareTypes(data.type, arrowType(type))) return data;
  const stored = vector.type as arrow.DataType;
  if (data && data.offset === 0 && type.kind === "timestamp" && arrow.DataType.isTimestamp(stored) && stored.unit === arrow.TimeUnit.MICROSECOND) {
    return arrow.makeData({ type: arrowType(type) as arrow.TimestampMicrosecond, length, nullCount: data.nullCount, nullBitmap: data.nullBitmap, data: data.values as BigInt64Array });
  }
  // Another layout: value by value (maintenance only, never on the streaming path).
  for (let i = 0; i < length; i++) builder.append(toCell(valueAt(vector, i), type));
  return builder.finish();
}

/** A value in arrow-values.ts's normal form as the `CellValue` of `type`. */
function toCell(value: unknown, type: DataType): CellValue {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case "decimal": {
      const text = String(value);
      const negative = text.startsWith("-");
      const [whole = "0", fraction = ""] = text.replace(/^[-+]/, "").split(".");
      const unscaled = BigInt(whole + fraction.padEnd(type.scale, "0").slice(0, type.scale));
      return negative ? -unscaled : unscaled;
    }
    case "long":
    case "int":
    case "double":
    case "timestamp":
    case "date":
      return Number(value);
    case "list":
      return (value as unknown[]).map((element) => toCell(element, type.element.type));
    case "map":
      return new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toCell(v, type.value.type)]));
    case "struct": {
      const out: { [field: string]: CellValue } = {};
      for (const f of type.fields) out[f.name] = toCell((value as Record<string, unknown>)[f.name], f.type);
      return out;
    }
    case "bool":
    case "string":
    case "bytes":
      return value as CellValue;
    case "duration":
    case "null":
      throw new Error(`a table column cannot be of type ${type.kind}`);
  }
}
