/**
 * Runs a program's `test` blocks: no sources, no sinks, just the dataflow fed from the test's rows.
 *
 * Contract: each test runs on a fresh dataflow. `input S [rows]` runs one micro-batch with those
 * rows on source S; `advance watermark to T` sets the watermark to T and runs one micro-batch
 * without rows, so windows up to T close; `expect S [rows]` compares the stream's result so far
 * with the rows, as a multiset. A stream's result is every row it has emitted, except for an
 * updating stream (an aggregate without a window), whose result is its latest complete state.
 * Expected rows may leave out nullable columns (they are null).
 */
import type { Batch } from "../columnar/batch.ts";
import { batchFromRows, batchToRows } from "../columnar/batch-ops.ts";
import type { CellValue } from "../columnar/values.ts";
import type { KernelModule } from "../kernel.ts";
import type { OperatorFactory } from "../operators/operator.ts";
import type { Field, PhysicalPlan, Schema, TestSpec, TestValue } from "../plan.ts";
import { formatTimestampMicros, formatDateDays } from "../time.ts";
import { Dataflow, aggregateOutputModes } from "./dataflow.ts";

export interface TestResult {
  name: string;
  passed: boolean;
  /** A readable account of the first failed expectation. */
  failure: string | undefined;
}

export function runTests(plan: PhysicalPlan, kernels: KernelModule, createOperator: OperatorFactory): TestResult[] {
  return plan.tests.map((test) => runTest(plan, kernels, createOperator, test));
}

function runTest(plan: PhysicalPlan, kernels: KernelModule, createOperator: OperatorFactory, test: TestSpec): TestResult {
  const streams = new Map(plan.streams.map((s) => [s.output, s]));
  const schemaOf = (id: string): Schema =>
    plan.nodes.find((n) => n.id === id)?.schema ?? plan.sources.find((s) => s.id === id)?.schema ?? { fields: [] };
  // Updating streams are expected as their whole result: their aggregates emit complete results.
  const wanted = plan.streams.map((s) => [s.output, s.updating ? "complete" : "append"] as const);
  const dataflow = new Dataflow(plan, kernels, createOperator, { reject: () => {} }, aggregateOutputModes(plan, wanted));
  const results = new Map<string, Record<string, CellValue>[]>();
  const collect = (outputs: Map<string, Batch[]>): void => {
    for (const [id, batches] of outputs) {
      const updating = streams.get(id)?.updating ?? false;
      const rows = batches.flatMap(batchToRows);
      if (updating) {
        if (batches.length > 0) results.set(id, batchToRows(batches[batches.length - 1]!));
      } else {
        results.set(id, [...(results.get(id) ?? []), ...rows]);
      }
    }
  };
  try {
    for (const step of test.steps) {
      switch (step.kind) {
        case "input": {
          const source = plan.sources.find((s) => s.id === step.source)!;
          const batch = batchFromRows(source.schema, step.rows.map((row) => toCells(source.schema, row)));
          collect(dataflow.runBatch(new Map([[source.id, [batch]]])).outputs);
          dataflow.advanceWatermark();
          break;
        }
        case "advanceWatermark":
          dataflow.setWatermark(step.micros);
          collect(dataflow.runBatch(new Map()).outputs);
          break;
        case "expect": {
          const schema = schemaOf(step.stream);
          const expected = step.rows.map((row) => toCells(schema, row));
          const actual = results.get(step.stream) ?? [];
          const failure = compareRows(step.streamName, schema, expected, actual);
          if (failure) return { name: test.name, passed: false, failure };
          break;
        }
      }
    }
  } catch (error) {
    return { name: test.name, passed: false, failure: `the test failed to run: ${(error as Error).message}` };
  }
  return { name: test.name, passed: true, failure: undefined };
}

/** A test row as cells of `schema`: absent nullable columns are null. */
function toCells(schema: Schema, row: Record<string, TestValue>): Record<string, CellValue> {
  const cells: Record<string, CellValue> = Object.create(null);
  for (const field of schema.fields) cells[field.name] = toCell(field, row[field.name] ?? null);
  return cells;
}

function toCell(field: Field, value: TestValue): CellValue {
  if (value === null || typeof value !== "object") {
    if (field.type.kind === "decimal" && typeof value === "number") return decimalFromText(String(value), field.type.scale);
    return value;
  }
  if ("timestamp" in value) return value.timestamp;
  if ("date" in value) return value.date;
  return decimalFromText(value.decimal, field.type.kind === "decimal" ? field.type.scale : 0);
}

function decimalFromText(text: string, scale: number): bigint {
  const negative = text.startsWith("-");
  const [integer = "0", fraction = ""] = text.replace(/^-/, "").split(".");
  const unscaled = BigInt(integer + fraction.padEnd(scale, "0").slice(0, scale));
  return negative ? -unscaled : unscaled;
}

/** Multiset comparison; on a difference, the rows missing and the rows not expected, as a diff. */
function compareRows(stream: string, schema: Schema, expected: Record<string, CellValue>[], actual: Record<string, CellValue>[]): string | undefined {
  const key = (row: Record<string, CellValue>) => schema.fields.map((f) => formatCell(f, row[f.name] ?? null)).join(", ");
  const remaining = new Map<string, number>();
  for (const row of actual) remaining.set(key(row), (remaining.get(key(row)) ?? 0) + 1);
  const missing: string[] = [];
  for (const row of expected) {
    const k = key(row);
    const n = remaining.get(k) ?? 0;
    if (n > 0) remaining.set(k, n - 1);
    else missing.push(k);
  }
  const unexpected = [...remaining].flatMap(([k, n]) => Array<string>(n).fill(k));
  if (missing.length === 0 && unexpected.length === 0) return undefined;
  const header = schema.fields.map((f) => f.name).join(", ");
  return [
    `expect ${stream}: ${expected.length} row${expected.length === 1 ? "" : "s"} expected, ${actual.length} produced`,
    `  columns: ${header}`,
    ...missing.map((row) => `  - { ${row} }   (expected, not produced)`),
    ...unexpected.map((row) => `  + { ${row} }   (produced, not expected)`),
  ].join("\n");
}

function formatCell(field: Field, value: CellValue): string {
  if (value === null) return "null";
  switch (field.type.kind) {
    case "timestamp":
      return `timestamp "${formatTimestampMicros(value as number)}"`;
    case "date":
      return `date "${formatDateDays(value as number)}"`;
    case "decimal": {
      const scale = field.type.scale;
      const v = value as bigint;
      const digits = (v < 0n ? -v : v).toString().padStart(scale + 1, "0");
      return `${v < 0n ? "-" : ""}${scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits}`;
    }
    case "string":
      return JSON.stringify(value);
    case "double":
      return Number.isInteger(value) ? (value as number).toFixed(1) : String(value);
    default:
      return typeof value === "object" ? JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v)) : String(value);
  }
}
