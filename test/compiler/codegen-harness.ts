/**
 * Shared by the codegen tests: compile a program down to loaded kernels, build batches (plain or
 * dictionary-encoded), read kernel output back, and ask DuckDB the same question.
 */
import * as arrow from "apache-arrow";
import { kernelImports, loadKernelModule } from "../../compiler/bundle.ts";
import { generateKernelModule } from "../../compiler/codegen.ts";
import { checkProgram } from "../../compiler/front-end.ts";
import type { LogicalPlan } from "../../compiler/logical/plan.ts";
import { type KernelSource, physicalPlan } from "../../compiler/physical/plan.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import { cellReader } from "../../runtime/columnar/read.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { KernelModule } from "../../runtime/kernel.ts";
import type { DataType, NodeSpec, PhysicalPlan, Schema } from "../../runtime/plan.ts";

export interface Compiled {
  logical: LogicalPlan;
  plan: PhysicalPlan;
  kernels: KernelSource[];
  source: string;
  module: KernelModule;
}

export function plan(text: string, path?: string): { logical: LogicalPlan; plan: PhysicalPlan; kernels: KernelSource[] } {
  const checked = checkProgram(text, { path });
  if (!checked.plan) throw new Error(checked.diagnostics.map((d) => `${d.span.line}:${d.span.column} ${d.message} (${d.hint ?? ""})`).join("\n"));
  return { logical: checked.plan, ...physicalPlan(checked.plan) };
}

export async function compile(text: string, path?: string): Promise<Compiled> {
  const planned = plan(text, path);
  const source = generateKernelModule(planned.kernels, kernelImports(planned.logical.imports, path));
  const module = await loadKernelModule(source, { sourcePath: path });
  return { ...planned, source, module };
}

export function node(plan: PhysicalPlan, id: string): NodeSpec {
  const found = plan.nodes.find((n) => n.id === id);
  if (!found) throw new Error(`no node ${id}: ${plan.nodes.map((n) => n.id).join(", ")}`);
  return found;
}

/** The values of a column (any layout) of `type`. */
export function columnValues(data: arrow.Data, type: DataType, length = data.length): CellValue[] {
  const read = cellReader(data, type.kind === "duration" ? { kind: "long" } : type);
  return Array.from({ length }, (_, i) => read(i));
}

/** Runs the project node's kernels over `batch`: one array of values per output column. */
export function project(compiled: Compiled, nodeId: string, batch: Batch): CellValue[][] {
  const spec = node(compiled.plan, nodeId);
  if (spec.kind !== "project") throw new Error(`${nodeId} is a ${spec.kind}`);
  return spec.columns.map((column, i) => {
    const data = (compiled.module.kernels[column.kernel] as (b: Batch) => arrow.Data)(batch);
    if (data.length !== batch.length) throw new Error(`column ${column.name} has ${data.length} rows, not ${batch.length}`);
    return columnValues(data, spec.schema.fields[i]!.type, batch.length);
  });
}

export function select(compiled: Compiled, nodeId: string, batch: Batch): number[] {
  const spec = node(compiled.plan, nodeId);
  if (spec.kind !== "filter") throw new Error(`${nodeId} is a ${spec.kind}`);
  return [...(compiled.module.kernels[spec.predicate] as (b: Batch) => Int32Array)(batch)];
}

/** A `Dictionary<Utf8, Int32>` column holding `values` (entries in first-seen order, plus an unused one). */
export function dictionaryColumn(values: readonly (string | null)[]): arrow.Data {
  const entries: string[] = ["unused entry"];
  const index = new Map<string, number>();
  const indices = new Int32Array(values.length);
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) {
      nulls++;
      return;
    }
    bitmap[i >> 3]! |= 1 << (i & 7);
    let k = index.get(v);
    if (k === undefined) {
      k = entries.length;
      entries.push(v);
      index.set(v, k);
    }
    indices[i] = k;
  });
  const builder = columnBuilder({ name: "", type: { kind: "string" }, nullable: false }, entries.length);
  for (const e of entries) builder.append(e);
  return arrow.makeData({
    type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
    length: values.length,
    nullCount: nulls,
    nullBitmap: nulls ? bitmap : new Uint8Array(0),
    data: indices,
    dictionary: arrow.makeVector(builder.finish() as arrow.Data<arrow.Utf8>),
  });
}

/** `batch` with the named string columns dictionary-encoded. */
export function withDictionaries(schema: Schema, rows: readonly Record<string, CellValue>[], names: readonly string[]): Batch {
  const plain = batchFromRows(schema, rows);
  const columns = schema.fields.map((f, i) => (names.includes(f.name) ? dictionaryColumn(rows.map((r) => (r[f.name] ?? null) as string | null)) : plain.columns[i]!));
  return { schema, length: rows.length, columns };
}

// ---- DuckDB ---------------------------------------------------------------------------------------

export interface Oracle {
  rows(sql: string): Promise<unknown[][]>;
  run(sql: string): Promise<void>;
}

export async function duckdb(): Promise<Oracle> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const connection = await (await DuckDBInstance.create(":memory:")).connect();
  return {
    rows: async (sql) => (await connection.runAndReadAll(sql)).getRows() as unknown[][],
    run: async (sql) => {
      await connection.run(sql);
    },
  };
}

/** A SQL literal of a value of `type`. */
export function sqlLiteral(value: CellValue, type: DataType): string {
  if (value === null) return "NULL";
  switch (type.kind) {
    case "bool":
      return value ? "TRUE" : "FALSE";
    case "int":
      return `${value}::INTEGER`;
    case "long":
      return `${value}::BIGINT`;
    case "double":
      return `${value}::DOUBLE`;
    case "decimal": {
      const v = value as bigint;
      const negative = v < 0n;
      const digits = (negative ? -v : v).toString().padStart(type.scale + 1, "0");
      const text = type.scale ? `${digits.slice(0, -type.scale)}.${digits.slice(-type.scale)}` : digits;
      return `${negative ? "-" : ""}${text}::DECIMAL(${type.precision}, ${type.scale})`;
    }
    case "string":
      return `'${(value as string).replace(/'/g, "''")}'`;
    case "timestamp":
      return `make_timestamp(${value}::BIGINT)`;
    case "date":
      return `(DATE '1970-01-01' + ${value}::INTEGER)`;
    default:
      throw new Error(`no SQL literal for ${type.kind}`);
  }
}

export function sqlType(type: DataType): string {
  switch (type.kind) {
    case "bool":
      return "BOOLEAN";
    case "int":
      return "INTEGER";
    case "long":
      return "BIGINT";
    case "double":
      return "DOUBLE";
    case "decimal":
      return `DECIMAL(${type.precision}, ${type.scale})`;
    case "string":
      return "VARCHAR";
    case "timestamp":
      return "TIMESTAMP";
    case "date":
      return "DATE";
    default:
      throw new Error(`no SQL type for ${type.kind}`);
  }
}

/** Creates table `name` with a `rid` column and the rows. */
export async function createTable(oracle: Oracle, name: string, schema: Schema, rows: readonly Record<string, CellValue>[]): Promise<void> {
  await oracle.run(`CREATE TABLE ${name} (rid INTEGER, ${schema.fields.map((f) => `"${f.name}" ${sqlType(f.type)}`).join(", ")})`);
  for (let start = 0; start < rows.length; start += 100) {
    const values = rows.slice(start, start + 100).map((row, k) => `(${start + k}, ${schema.fields.map((f) => sqlLiteral(row[f.name] ?? null, f.type)).join(", ")})`);
    await oracle.run(`INSERT INTO ${name} VALUES ${values.join(", ")}`);
  }
}

/** A decimal's text without trailing zeros: equal numbers, equal text, whatever the scale. */
function canonicalDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  if (scale > 0) digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`.replace(/\.?0+$/, "");
  return (negative && digits !== "0" ? "-" : "") + digits;
}

/** Our value of `type`, in a form comparable with `fromDuckdb`. */
export function fromKernel(value: CellValue, type: DataType): unknown {
  if (value === null) return null;
  if (type.kind === "decimal") return `dec:${canonicalDecimal(value as bigint, type.scale)}`;
  if (typeof value === "number") return value === 0 ? 0 : value;
  return value;
}

export function fromDuckdb(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number") return value === 0 ? 0 : value;
  if (typeof value === "object") {
    const v = value as Record<string, unknown>;
    if ("scale" in v && "value" in v) return `dec:${canonicalDecimal(v.value as bigint, v.scale as number)}`;
    if ("micros" in v && !("days" in v)) return Number(v.micros as bigint);
    if ("days" in v && !("micros" in v)) return v.days as number;
  }
  return value;
}

/** Whether two normalised values agree (doubles to 1e-12 relative). */
export function agree(ours: unknown, theirs: unknown): boolean {
  if (typeof ours === "number" && typeof theirs === "number") {
    if (Number.isNaN(ours) || Number.isNaN(theirs)) return Number.isNaN(ours) && Number.isNaN(theirs);
    return ours === theirs || Math.abs(ours - theirs) <= 1e-12 * Math.max(Math.abs(ours), Math.abs(theirs));
  }
  return ours === theirs;
}

export { prng as random } from "../support/prng.ts";
