/**
 * What the end-to-end tests share: compile a program, rewrite its plan so that it runs without
 * Kafka or tables (sources → `files`, sinks and the dead letter → `memory`), run it with
 * `runPipeline`, canonical rows for comparing with DuckDB, and a multiset diff.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadKernelModule } from "../../compiler/bundle.ts";
import { compileProgram } from "../../compiler/compile-program.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import { runPipeline, type RunSummary, type Trigger } from "../../runtime/engine/pipeline.ts";
import type { KernelModule } from "../../runtime/kernel.ts";
import { createOperator } from "../../runtime/operators/registry.ts";
import type { DataType, PhysicalPlan, Schema, Settings, SinkSpec, SourceSpec } from "../../runtime/plan.ts";
import { sinkFactories } from "../../runtime/sinks/index.ts";
import type { MemorySink, Row } from "../../runtime/sinks/memory.ts";

export type { Row };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Compiled {
  plan: PhysicalPlan;
  kernelSource: string;
  kernels: KernelModule;
}

/** Compiles a `.stream` file (absolute, or relative to the repository root) and loads its kernels. */
export async function compileFile(file: string): Promise<Compiled> {
  const path = resolve(ROOT, file);
  const { diagnostics, compiled } = compileProgram(readFileSync(path, "utf8"), path);
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (!compiled || errors.length) throw new Error(`${file} does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return { plan: compiled.plan, kernelSource: compiled.kernelSource, kernels: await loadKernelModule(compiled.kernelSource, { sourcePath: path }) };
}

const literal = (value: string) => ({ kind: "literal" as const, value });

/**
 * The plan with every source reading a `files` directory and every sink, and the dead letter,
 * writing to `memory` (modes kept), and no checkpoint. `dirs[source id]` (absolute) replaces a source's directory; a
 * source without one must already be a `files` source and keeps its target and options. A Kafka
 * source becomes a files source with its `format`. `maxFilesPerBatch` sets `max_files_per_batch`
 * on every source.
 */
export function rewritePlan(plan: PhysicalPlan, dirs: Record<string, string>, maxFilesPerBatch?: number): PhysicalPlan {
  const sources = plan.sources.map((s): SourceSpec => {
    const dir = dirs[s.id];
    if (s.connector !== "files" && dir === undefined) throw new Error(`source ${s.id} (${s.connector}) needs a directory`);
    const options: Settings =
      s.connector === "files" ? { ...s.options } : { format: s.options["format"] ?? { kind: "word", word: "json" } };
    if (maxFilesPerBatch !== undefined) options["max_files_per_batch"] = { kind: "integer", value: maxFilesPerBatch };
    return { ...s, connector: "files", target: dir !== undefined ? literal(dir) : s.target, options };
  });
  const sinks = plan.sinks.map((s): SinkSpec => ({ ...s, connector: "memory", target: undefined, options: {}, key: undefined }));
  const options: Settings = { ...plan.pipeline.options };
  // Memory sinks keep nothing between runs, so neither may the checkpoint: every run starts fresh.
  delete options["checkpoint"];
  if (options["deadletter"]) options["deadletter"] = { kind: "connector", connector: "memory", target: literal("") };
  return { ...plan, sources, sinks, pipeline: { ...plan.pipeline, options } };
}

export interface RunResult {
  summary: RunSummary;
  /** Each sink's kept rows, by sink id, each with the id of the batch that wrote it. */
  sinks: Map<string, { batch: number; row: Row }[]>;
  /** The dead letter's rows (empty when the plan has none). */
  deadLetter: Row[];
  log: string[];
}

/**
 * Runs `plan` with `runPipeline`, from the repository root. The engine builds its sinks itself and
 * gives no handle on them, so the memory sinks are caught through the sink registry.
 */
export async function runPlan(plan: PhysicalPlan, kernels: KernelModule, trigger: Trigger = { kind: "available_now" }): Promise<RunResult> {
  const created = new Map<string, MemorySink>();
  const memory = sinkFactories.get("memory")!;
  sinkFactories.set("memory", (spec, context) => {
    const sink = memory(spec, context) as MemorySink;
    created.set(spec.id, sink);
    return sink;
  });
  const log: string[] = [];
  try {
    const summary = await runPipeline({ plan, kernels, createOperator, trigger, cwd: ROOT, env: {}, log: (line) => log.push(line) });
    const sinks = new Map<string, { batch: number; row: Row }[]>();
    for (const spec of plan.sinks) {
      const sink = created.get(spec.id)!;
      sinks.set(spec.id, sink.batchIds().flatMap((batch) => sink.batch(batch)!.map((row) => ({ batch, row }))));
    }
    return { summary, sinks, deadLetter: created.get("deadletter")?.rows() ?? [], log };
  } finally {
    sinkFactories.set("memory", memory);
  }
}

// ---- canonical values --------------------------------------------------------------------------------
//
// Both sides are turned into plain JSON values before comparing: timestamps are microseconds, dates
// days since 1970-01-01, decimals their text with the column's scale, longs numbers (exact: every
// long here is within 2^53), lists arrays. Doubles stay numbers and are compared exactly.

export type Canon = null | boolean | number | string | Canon[] | { [k: string]: Canon };

export function canonCell(type: DataType, value: CellValue): Canon {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case "decimal": {
      const v = value as bigint;
      const digits = (v < 0n ? -v : v).toString().padStart(type.scale + 1, "0");
      const text = type.scale ? `${digits.slice(0, -type.scale)}.${digits.slice(-type.scale)}` : digits;
      return (v < 0n ? "-" : "") + text;
    }
    case "list":
      return (value as CellValue[]).map((v) => canonCell(type.element.type, v));
    case "map":
      return Object.fromEntries([...(value as Map<string, CellValue>)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonCell(type.value.type, v)]));
    case "struct":
      return Object.fromEntries(type.fields.map((f) => [f.name, canonCell(f.type, (value as Record<string, CellValue>)[f.name] ?? null)]));
    case "bytes":
      return Buffer.from(value as Uint8Array).toString("base64");
    default:
      return typeof value === "bigint" ? Number(value) : (value as Canon);
  }
}

/** A value read back from a Delta table (runtime/table/read-table.ts), in the same canonical form as `canonCell`. */
export function canonTableCell(type: DataType, value: unknown): Canon {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case "decimal":
      return String(value);
    case "bytes":
      return Buffer.from(value as Uint8Array).toString("base64");
    case "list":
      return (value as unknown[]).map((v) => canonTableCell(type.element.type, v));
    case "map": {
      const entries = value instanceof Map ? [...value] : Object.entries(value as object);
      return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonTableCell(type.value.type, v)]));
    }
    case "struct":
      return Object.fromEntries(type.fields.map((f) => [f.name, canonTableCell(f.type, (value as Record<string, unknown>)[f.name])]));
    default:
      return typeof value === "bigint" ? Number(value) : (value as Canon);
  }
}

/** A runtime row as an array in schema order. */
export function canonRow(schema: Schema, row: Row): Canon[] {
  return schema.fields.map((f) => canonCell(f.type, row[f.name] ?? null));
}

/** A DuckDB value (as `getRows` gives it) as a plain value: BIGINT → number, LIST → array. */
export function canonDuck(value: unknown): Canon {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`DuckDB value ${value} is beyond 2^53`);
    return Number(value);
  }
  if (typeof value === "object" && "items" in (value as object)) return (value as { items: unknown[] }).items.map(canonDuck);
  if (typeof value === "object") throw new Error(`convert ${value.constructor.name} in SQL (cast it) before comparing`);
  return value as Canon;
}

/**
 * Compares two multisets of rows exactly; returns undefined when equal, else a diff naming the rows
 * missing from `actual` and the rows it has that `expected` does not.
 */
export function diffRows(columns: string[], actual: Canon[][], expected: Canon[][]): string | undefined {
  const counts = new Map<string, { row: Canon[]; n: number }>();
  for (const row of expected) {
    const k = JSON.stringify(row);
    counts.set(k, { row, n: (counts.get(k)?.n ?? 0) + 1 });
  }
  const unexpected: Canon[][] = [];
  for (const row of actual) {
    const entry = counts.get(JSON.stringify(row));
    if (entry && entry.n > 0) entry.n--;
    else unexpected.push(row);
  }
  const missing = [...counts.values()].flatMap(({ row, n }) => Array<Canon[]>(n).fill(row));
  if (missing.length === 0 && unexpected.length === 0) return undefined;
  const show = (rows: Canon[][], sign: string) =>
    rows.slice(0, 15).map((r) => `  ${sign} ${JSON.stringify(r)}`).concat(rows.length > 15 ? [`  ${sign} ... ${rows.length - 15} more`] : []);
  return [
    `${actual.length} rows produced, ${expected.length} expected; columns: ${columns.join(", ")}`,
    ...show(missing, "- (expected, not produced)"),
    ...show(unexpected, "+ (produced, not expected)"),
  ].join("\n");
}

// ---- DuckDB --------------------------------------------------------------------------------------------

export interface Duck {
  run(sql: string): Promise<void>;
  rows(sql: string): Promise<Canon[][]>;
  close(): void;
}

export async function duck(): Promise<Duck> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    async run(sql) {
      await connection.run(sql);
    },
    async rows(sql) {
      return (await connection.runAndReadAll(sql)).getRows().map((r) => r.map(canonDuck));
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** A SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
