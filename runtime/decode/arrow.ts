/**
 * Arrow tables (from Parquet files) decoded into batches of the declared schema, with the same
 * enforcement as JSON.
 *
 * Contract: `decodeArrowTable` matches the table's columns to the schema by name (columns the
 * schema does not name are ignored) and returns one batch per record batch plus the rejects, each
 * positioned at the file and its row (from 1, counted across the whole table). A column whose
 * Arrow layout already is the field's (arrow-types.ts), with no null where the field is required,
 * is passed on without copying; any other column is converted value by value through convert.ts,
 * so a Parquet `int64` column can feed an `int` field (values out of range are rejected), a
 * nanosecond timestamp a `timestamp`, a `float` a `double`, and so on.
 *
 * Decisions:
 * - Timestamps of any unit are converted to microseconds (nanoseconds rounded down); a timestamp
 *   without a time zone is taken as UTC, as the language has no local times.
 * - A rejected row's raw bytes are the row as a JSON object (there are no source bytes for one
 *   row of a Parquet file).
 * - Arrow types the language has no counterpart for (time of day, intervals, unions) are
 *   `type_mismatch` where a field reads them.
 */
import * as arrow from "apache-arrow";
import type { Batch } from "../columnar/batch.ts";
import { arrowType } from "../columnar/arrow-types.ts";
import type { CellValue } from "../columnar/values.ts";
import { formatDateDays, formatTimestampMicros } from "../time.ts";
import type { DataType, Field, Schema } from "../plan.ts";
import { Day, fieldConverter, type Input, Instant, JsonNumber, Opaque, scaledText, within } from "./convert.ts";
import { asFailure, type DecodeOptions, type DecodeResult, RowCollector } from "./rows.ts";

/** Decodes an Arrow table read from `file`. */
export function decodeArrowTable(schema: Schema, table: arrow.Table, file: string, options: DecodeOptions): { batches: Batch[]; rejects: DecodeResult["rejects"] } {
  const batches: Batch[] = [];
  const rejects: DecodeResult["rejects"] = [];
  let firstRow = 1;
  for (const recordBatch of table.batches) {
    const columns = schema.fields.map((f) => recordBatch.getChild(f.name)?.data);
    const direct = schema.fields.map((f, i) => directColumn(columns[i], f));
    if (direct.every((d) => d !== undefined)) {
      batches.push({ schema, length: recordBatch.numRows, columns: direct as arrow.Data[] });
    } else {
      const result = convertRows(schema, columns, recordBatch.numRows, file, firstRow, options);
      batches.push(result.batch);
      rejects.push(...result.rejects);
    }
    firstRow += recordBatch.numRows;
  }
  return { batches, rejects };
}

/** The column itself when its layout is the field's, retyped to exactly `arrowType(field)`; else undefined. */
function directColumn(chunks: readonly arrow.Data[] | undefined, field: Field): arrow.Data | undefined {
  if (!chunks || chunks.length !== 1) return undefined;
  const data = chunks[0]!;
  if (data.offset !== 0) return undefined;
  if (!field.nullable && data.nullCount > 0) return undefined;
  if (field.type.kind === "string" && arrow.DataType.isDictionary(data.type)) {
    const dictionary = data.type as arrow.Dictionary;
    return arrow.DataType.isUtf8(dictionary.dictionary) && dictionary.indices.bitWidth === 32 && dictionary.indices.isSigned ? data : undefined;
  }
  if (!sameLayout(data.type, field.type)) return undefined;
  return retype(data, arrowType(field.type));
}

/** Whether `actual` stores values exactly as `arrowType(expected)` does, with nulls only where allowed. */
function sameLayout(actual: arrow.DataType, expected: DataType): boolean {
  const T = arrow.DataType;
  switch (expected.kind) {
    case "bool":
      return T.isBool(actual);
    case "int":
      return T.isInt(actual) && actual.bitWidth === 32 && actual.isSigned;
    case "long":
      return T.isInt(actual) && actual.bitWidth === 64 && actual.isSigned;
    case "double":
      return T.isFloat(actual) && actual.precision === arrow.Precision.DOUBLE;
    case "decimal":
      return T.isDecimal(actual) && actual.scale === expected.scale && actual.precision === expected.precision && actual.bitWidth === 128;
    case "string":
      return T.isUtf8(actual);
    case "bytes":
      return T.isBinary(actual);
    case "date":
      return T.isDate(actual) && actual.unit === arrow.DateUnit.DAY;
    case "timestamp":
      return T.isTimestamp(actual) && actual.unit === arrow.TimeUnit.MICROSECOND;
    case "list":
      return T.isList(actual) && childFits(actual.children[0]!, expected.element);
    case "map": {
      if (!T.isMap(actual)) return false;
      const entries = actual.children[0]!.type as arrow.Struct;
      return entries.children.length === 2 && T.isUtf8(entries.children[0]!.type) && childFits(entries.children[1]!, expected.value);
    }
    case "struct":
      return (
        T.isStruct(actual) &&
        actual.children.length === expected.fields.length &&
        expected.fields.every((f, i) => actual.children[i]!.name === f.name && childFits(actual.children[i]!, f))
      );
    default:
      return false;
  }
}

function childFits(actual: arrow.Field, expected: Field): boolean {
  return (expected.nullable || !actual.nullable) && sameLayout(actual.type, expected.type);
}

/** The same buffers under `type` (same layout), children retyped too, so names and time zones are ours. */
function retype(data: arrow.Data, type: arrow.DataType): arrow.Data {
  const children = data.children.map((child, i) => retype(child, type.children[i]!.type));
  return data.clone(type, data.offset, data.length, data.nullCount, data as never, children);
}

function convertRows(
  schema: Schema,
  columns: (readonly arrow.Data[] | undefined)[],
  length: number,
  file: string,
  firstRow: number,
  options: DecodeOptions,
): DecodeResult {
  const rows = new RowCollector(schema, options);
  const readers = columns.map((chunks) => (chunks ? chunkedReader(chunks) : () => undefined));
  const converters = schema.fields.map(fieldConverter);
  const values = new Array<CellValue>(schema.fields.length);
  for (let row = 0; row < length; row++) {
    try {
      for (let i = 0; i < values.length; i++) {
        try {
          values[i] = converters[i]!(readers[i]!(row));
        } catch (e) {
          throw within(e, schema.fields[i]!.name);
        }
      }
      rows.accept(values);
    } catch (e) {
      const failure = asFailure(e);
      const record = new Map<string, Input>();
      schema.fields.forEach((f, i) => {
        const value = readers[i]!(row);
        if (value !== undefined) record.set(f.name, value);
      });
      rows.rejectFailure(failure, new TextEncoder().encode(inputToJson(record)), { kind: "file", file, line: firstRow + row });
    }
  }
  return rows.finish();
}

function chunkedReader(chunks: readonly arrow.Data[]): (row: number) => Input | undefined {
  if (chunks.length === 1) return inputReader(chunks[0]!);
  const readers = chunks.map(inputReader);
  const starts: number[] = [];
  let at = 0;
  for (const c of chunks) {
    starts.push(at);
    at += c.length;
  }
  return (row) => {
    let k = starts.length - 1;
    while (starts[k]! > row) k--;
    return readers[k]!(row - starts[k]!);
  };
}

/** Reads row `i` of an Arrow column as an `Input` (exact: integers and decimals as text, timestamps in micros). */
export function inputReader(data: arrow.Data): (i: number) => Input {
  const type = data.type;
  const T = arrow.DataType;
  const valid = (i: number): boolean => data.nullCount === 0 || data.getValid(i);
  const leaf = <V>(read: (value: V) => Input): ((i: number) => Input) => {
    const vector = arrow.makeVector(data) as arrow.Vector;
    return (i) => (valid(i) ? read(vector.get(i) as V) : null);
  };
  if (T.isDictionary(type)) {
    const dictionary = inputReader(data.dictionary!.data[0]!);
    const indices = arrow.makeVector(data.clone(type.indices)) as arrow.Vector;
    return (i) => (valid(i) ? dictionary(Number(indices.get(i))) : null);
  }
  if (T.isNull(type)) return () => null;
  if (T.isBool(type)) return leaf<boolean>((v) => v);
  if (T.isInt(type)) return leaf<number | bigint>((v) => new JsonNumber(String(v)));
  if (T.isFloat(type)) return leaf<number>(floatInput);
  if (T.isDecimal(type)) {
    const scale = type.scale;
    return leaf<unknown>((v) => new JsonNumber(scaledText(arrow.util.bigNumToBigInt(v as never), scale)));
  }
  if (T.isUtf8(type) || T.isLargeUtf8(type) || T.isUtf8View(type)) return leaf<string>((v) => v);
  if (T.isBinary(type) || T.isLargeBinary(type) || T.isFixedSizeBinary(type) || T.isBinaryView(type)) return leaf<Uint8Array>((v) => v);
  if (T.isDate(type)) return leaf<number>((ms) => new Day(Math.floor(ms / 86_400_000)));
  if (T.isTimestamp(type)) {
    const values = data.values as BigInt64Array;
    const perMicro = { [arrow.TimeUnit.SECOND]: -1_000_000n, [arrow.TimeUnit.MILLISECOND]: -1000n, [arrow.TimeUnit.MICROSECOND]: 1n, [arrow.TimeUnit.NANOSECOND]: 1000n }[type.unit];
    return (i) => {
      if (!valid(i)) return null;
      const raw = values[data.offset + i]!;
      let micros: bigint;
      if (perMicro < 0n) micros = raw * -perMicro;
      else {
        micros = raw / perMicro;
        if (micros * perMicro > raw) micros -= 1n;
      }
      const n = Number(micros);
      return Number.isSafeInteger(n) ? new Instant(n) : new Opaque(`a timestamp out of range (${raw} ${arrow.TimeUnit[type.unit]})`);
    };
  }
  if (T.isList(type) || T.isLargeList(type) || T.isFixedSizeList(type)) {
    const child = inputReader(data.children[0]!);
    const offsets = data.valueOffsets as Int32Array | BigInt64Array | undefined;
    const size = T.isFixedSizeList(type) ? type.listSize : 0;
    return (i) => {
      if (!valid(i)) return null;
      const begin = offsets ? Number(offsets[i]) : (data.offset + i) * size;
      const end = offsets ? Number(offsets[i + 1]) : begin + size;
      const out: Input[] = [];
      for (let k = begin; k < end; k++) out.push(child(k));
      return out;
    };
  }
  if (T.isMap(type)) {
    const entries = data.children[0]!;
    const key = inputReader(entries.children[0]!);
    const value = inputReader(entries.children[1]!);
    const offsets = data.valueOffsets as Int32Array;
    return (i) => {
      if (!valid(i)) return null;
      const out = new Map<string, Input>();
      for (let k = offsets[i]!; k < offsets[i + 1]!; k++) {
        const name = key(k);
        out.set(typeof name === "string" ? name : name instanceof JsonNumber ? name.text : String(name), value(k));
      }
      return out;
    };
  }
  if (T.isStruct(type)) {
    const fields = type.children.map((f, k) => ({ name: f.name, read: inputReader(data.children[k]!) }));
    return (i) => {
      if (!valid(i)) return null;
      const out = new Map<string, Input>();
      for (const f of fields) out.set(f.name, f.read(i));
      return out;
    };
  }
  const what = new Opaque(`an Arrow ${String(type)} value`);
  return (i) => (valid(i) ? what : null);
}

function floatInput(v: number): Input {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "Infinity";
  if (v === Number.NEGATIVE_INFINITY) return "-Infinity";
  return new JsonNumber(String(v));
}

/** An `Input` record as JSON text (for the raw bytes of a rejected row). */
export function inputToJson(input: Input | undefined): string {
  if (input === undefined || input === null) return "null";
  if (typeof input === "boolean") return String(input);
  if (typeof input === "string") return JSON.stringify(input);
  if (input instanceof JsonNumber) return input.text;
  if (Array.isArray(input)) return `[${input.map(inputToJson).join(",")}]`;
  if (input instanceof Map) return `{${[...input].map(([k, v]) => `${JSON.stringify(k)}:${inputToJson(v)}`).join(",")}}`;
  if (input instanceof Uint8Array) return JSON.stringify(Buffer.from(input).toString("base64"));
  if (input instanceof Instant) return JSON.stringify(formatTimestampMicros(input.micros));
  if (input instanceof Day) return JSON.stringify(formatDateDays(input.days));
  return JSON.stringify(input.what);
}
