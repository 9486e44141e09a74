/**
 * What the operator tests share: a seeded PRNG, hand-written kernels, a driver that plays batches and
 * watermarks into an operator as the engine does, and DuckDB as the oracle.
 */
import * as arrow from "apache-arrow";
import { expect } from "vitest";
import type { DataType, Field, Schema } from "../../runtime/plan.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { batchToRows, gather } from "../../runtime/columnar/batch-ops.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import { cellReader } from "../../runtime/columnar/read.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { Kernel, PredicateKernel, ValueKernel } from "../../runtime/kernel.ts";
import type { Operator, OperatorContext } from "../../runtime/operators/operator.ts";

export type Row = Record<string, CellValue>;

/** 2024-01-01T00:00:00Z in microseconds. */
export const T0 = 1_704_067_200_000_000;
export const SECOND = 1_000_000;
/** The watermark before any: no row is late. */
export const NO_WATERMARK = Number.MIN_SAFE_INTEGER;

export { prng } from "../support/prng.ts";

export function field(name: string, type: DataType, nullable = true): Field {
  return { name, type, nullable };
}

export const INT: DataType = { kind: "int" };
export const LONG: DataType = { kind: "long" };
export const DOUBLE: DataType = { kind: "double" };
export const STRING: DataType = { kind: "string" };
export const TIMESTAMP: DataType = { kind: "timestamp" };
export const STRING_LIST: DataType = { kind: "list", element: { name: "element", type: STRING, nullable: true } };

/** A predicate kernel from a function of a row (true keeps it; null and false drop it). */
export function predicate(test: (row: Row) => boolean | null): PredicateKernel {
  return (batch) => {
    const rows = batchToRows(batch);
    const out: number[] = [];
    rows.forEach((row, i) => {
      if (test(row) === true) out.push(i);
    });
    return Int32Array.from(out);
  };
}

/** A value kernel computing a column of `type` from a function of a row. */
export function valueKernel(type: DataType, compute: (row: Row) => CellValue): ValueKernel {
  return (batch) => {
    const builder = columnBuilder({ name: "value", type, nullable: true }, batch.length);
    for (const row of batchToRows(batch)) builder.append(compute(row));
    return builder.finish();
  };
}

/** A value kernel that returns an input column as is. */
export function columnKernel(index: number): ValueKernel {
  return (batch) => batch.columns[index]!;
}

/** `batch` with its string column `name` dictionary-encoded. */
export function dictionaryEncode(batch: Batch, name: string): Batch {
  const index = batch.schema.fields.findIndex((f) => f.name === name);
  const source = batch.columns[index]!;
  const read = cellReader(source, STRING);
  const entries = new Map<string, number>();
  const dictionary = columnBuilder(field("d", STRING, false));
  const indices = new Int32Array(batch.length);
  for (let r = 0; r < batch.length; r++) {
    const value = read(r);
    if (value === null) continue;
    let code = entries.get(value as string);
    if (code === undefined) {
      code = entries.size;
      entries.set(value as string, code);
      dictionary.append(value);
    }
    indices[r] = code;
  }
  const data = arrow.makeData({
    type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
    length: batch.length,
    nullCount: source.nullCount,
    nullBitmap: source.nullBitmap,
    data: indices,
    dictionary: arrow.makeVector(dictionary.finish() as arrow.Data<arrow.Utf8>),
  });
  const columns = batch.columns.slice();
  columns[index] = data;
  return { schema: batch.schema, length: batch.length, columns };
}

/** One micro-batch as the engine runs it: its input batches, then the watermark it runs under. */
export interface Step {
  inputs: [input: number, batch: Batch][];
  watermark: number;
}

/** Records what an operator emits and rejects as late. */
export class Recorder {
  outputs: Batch[] = [];
  late: { operatorId: string; rows: Row[] }[] = [];
  readonly emit = (batch: Batch): void => {
    if (batch.length > 0) this.outputs.push(batch);
  };
  context(kernels: Kernel[], outputMode: OperatorContext["outputMode"] = "append"): OperatorContext {
    return {
      kernels,
      late: { reject: (operatorId, batch, rows) => this.late.push({ operatorId, rows: batchToRows(gather(batch, rows)) }) },
      outputMode,
    };
  }
  rows(schema: Schema): CellValue[][] {
    return this.outputs.flatMap((b) => {
      expect(b.schema.fields.map((f) => f.name)).toEqual(schema.fields.map((f) => f.name));
      return asArrays(b);
    });
  }
  lateRows(): Row[] {
    return this.late.flatMap((l) => l.rows);
  }
}

/** Plays `steps` into `operator` (process every input batch, then onWatermark, then endOfBatch). */
export function play(operator: Operator, steps: readonly Step[], recorder: Recorder, after?: (step: number) => void): void {
  steps.forEach((step, n) => {
    for (const [input, batch] of step.inputs) operator.process(batch, input, recorder.emit);
    operator.onWatermark(step.watermark, recorder.emit);
    operator.endOfBatch(recorder.emit);
    after?.(n);
  });
}

export function asArrays(batch: Batch): CellValue[][] {
  return batchToRows(batch).map((row) => batch.schema.fields.map((f) => row[f.name]!));
}

/** Rows as a sorted list of their JSON texts: a multiset comparison. */
export function multiset(rows: readonly unknown[][]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}

// ---- DuckDB -------------------------------------------------------------------------------------

export interface Duck {
  run(sql: string): Promise<void>;
  rows(sql: string): Promise<unknown[][]>;
}

export async function duck(): Promise<Duck> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const connection = await (await DuckDBInstance.create(":memory:")).connect();
  return {
    async run(sql) {
      await connection.run(sql);
    },
    async rows(sql) {
      return (await connection.runAndReadAll(sql)).getRows().map((r) => r.map(normalize));
    },
  };
}

function normalize(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value && typeof value === "object" && "items" in value) return (value as { items: unknown[] }).items.map(normalize);
  return value;
}

function sqlType(type: DataType): string {
  switch (type.kind) {
    case "int":
      return "INTEGER";
    case "long":
      return "BIGINT";
    case "double":
      return "DOUBLE";
    case "string":
      return "VARCHAR";
    case "bool":
      return "BOOLEAN";
    case "timestamp":
      return "TIMESTAMP";
    case "list":
      return `${sqlType(type.element.type)}[]`;
    default:
      throw new Error(`no SQL type for ${type.kind} in these tests`);
  }
}

function sqlLiteral(value: CellValue, type: DataType): string {
  if (value === null || value === undefined) return "NULL";
  switch (type.kind) {
    case "string":
      return `'${String(value).replace(/'/g, "''")}'`;
    case "timestamp":
      return `make_timestamp(${value}::BIGINT)`;
    case "double":
      return `${value}::DOUBLE`;
    case "list":
      return `[${(value as CellValue[]).map((v) => sqlLiteral(v, type.element.type)).join(", ")}]::${sqlType(type)}`;
    case "bool":
      return value ? "TRUE" : "FALSE";
    default:
      return `${value}::${sqlType(type)}`;
  }
}

/** Creates table `name` with `fields` and inserts `rows`. */
export async function load(db: Duck, name: string, fields: readonly Field[], rows: readonly Row[]): Promise<void> {
  await db.run(`create or replace table ${name} (${fields.map((f) => `${f.name} ${sqlType(f.type)}`).join(", ")})`);
  for (let i = 0; i < rows.length; i += 500) {
    const values = rows.slice(i, i + 500).map((row) => `(${fields.map((f) => sqlLiteral(row[f.name] ?? null, f.type)).join(", ")})`);
    await db.run(`insert into ${name} values ${values.join(", ")}`);
  }
}
