/**
 * The aggregate operator (runtime/operators/aggregate.ts) against DuckDB.
 *
 * Randomised inputs (seeded): every aggregate over every type it takes, nulls, out-of-order event
 * times and late rows, 1 to 10k keys of several types (strings plain and dictionary-encoded, longs,
 * ints, bools, dates, doubles, decimals, composite and nullable), six batches with the watermark
 * advancing between them. The same rows, minus the late ones, go through DuckDB with the equivalent
 * SQL (windows by floor arithmetic, hopping by a join with the window offsets, sessions by
 * `lag`/`sum` over each key's rows). Every output mode is checked batch by batch: `append` emits a
 * window in the batch whose watermark first reaches its end; `update` emits the groups the batch
 * reached, with their values so far; `complete` emits all groups.
 *
 * Comparisons are exact (DuckDB's `sum(x ORDER BY idx)` adds doubles in arrival order, as the
 * operator does), except: `sum`/`avg` of arbitrary doubles under session windows, where merging
 * sessions changes the order of additions (relative error 1e-9), and `approx_count_distinct`,
 * compared with the exact distinct count (within 3%, or 2). Decimal `avg` is checked against the
 * exact sum and count from DuckDB, rounded half away from zero at scale + 4 (Spark; DuckDB gives a
 * double).
 */
import { describe, expect, it } from "vitest";

// ---- inputs, nodes, and a driver that plays batches as the engine does -------------------------------
import * as arrow from "apache-arrow";
import type { AggregateCall, DataType, Field, Schema, WindowSpec } from "../../runtime/plan.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { batchFromRows, batchToRows } from "../../runtime/columnar/batch-ops.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import { cellReader } from "../../runtime/columnar/read.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { Kernel, ValueKernel } from "../../runtime/kernel.ts";
import type { Operator, OperatorContext } from "../../runtime/operators/operator.ts";
import { type AggregateNode, createAggregateOperator } from "../../runtime/operators/aggregate.ts";
import { aggregateFunctions } from "../../stdlib/aggregate-functions.ts";
import { prng } from "../support/prng.ts";

export type Row = Record<string, CellValue>;

export const MINUTE = 60_000_000;
/** 2024-01-01T00:00:00Z */
export const T0 = 1_704_067_200_000_000;

export { prng } from "../support/prng.ts";

const f = (name: string, type: DataType, nullable = true): Field => ({ name, type, nullable });

/** The generated input: every type the aggregates take, keys of several types, nulls everywhere. */
export const INPUT: Schema = {
  fields: [
    f("ts", { kind: "timestamp" }, false),
    f("k_s", { kind: "string" }),
    f("k_l", { kind: "long" }),
    f("k_i", { kind: "int" }, false),
    f("k_b", { kind: "bool" }),
    f("k_d", { kind: "double" }),
    f("k_dt", { kind: "date" }),
    f("k_m", { kind: "decimal", precision: 10, scale: 2 }),
    f("x_i", { kind: "int" }),
    f("x_l", { kind: "long" }),
    f("x_d", { kind: "double" }),
    f("x_q", { kind: "double" }),
    f("x_m", { kind: "decimal", precision: 10, scale: 2 }),
    f("x_s", { kind: "string" }),
    f("x_b", { kind: "bool" }),
    f("x_dt", { kind: "date" }),
    f("x_t", { kind: "timestamp" }),
  ],
};

const STRINGS = ["a", "b", "B", "ab", "", "é", "straße", "～", "😀", "z", "Zz", "a\u0000b", "日本", "x".repeat(40)];

export interface GeneratorOptions {
  seed: number;
  batches: number;
  rowsPerBatch: number;
  keyCount: number;
  /** How far event time moves per batch, and how far a row may trail the frontier. */
  stepMicros: number;
  jitterMicros: number;
  lateRate: number;
  nullRate: number;
  /** Event times are multiples of this (coarse times make watermarks meet window ends exactly). */
  granularity?: number;
}

/** Batches of rows; event times move forward with out-of-order jitter and a few very late rows. */
export function generate(o: GeneratorOptions): Row[][] {
  const rnd = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const maybe = <T>(v: () => T): T | null => (rnd() < o.nullRate ? null : v());
  const batches: Row[][] = [];
  for (let b = 0; b < o.batches; b++) {
    const frontier = T0 + (b + 1) * o.stepMicros;
    const rows: Row[] = [];
    for (let i = 0; i < o.rowsPerBatch; i++) {
      const late = b > 0 && rnd() < o.lateRate;
      const exact = late ? frontier - o.stepMicros * (2 + 3 * rnd()) : frontier - o.jitterMicros * rnd();
      const grain = o.granularity ?? 1;
      const ts = Math.floor(exact / grain) * grain;
      const key = Math.floor(rnd() ** 1.5 * o.keyCount);
      rows.push({
        ts,
        k_s: key % 97 === 3 ? null : `key-${key}`,
        k_l: key % 89 === 5 ? null : key * 1_000_003 - 7,
        k_i: key % 5,
        k_b: key % 7 === 0 ? null : key % 2 === 0,
        k_d: key % 83 === 1 ? null : key % 11 === 0 ? -0 : (key % 13) / 4,
        k_dt: key % 3 === 0 ? null : 19_700 + (key % 4),
        k_m: key % 79 === 2 ? null : BigInt(key % 17) * 125n - 1000n,
        x_i: maybe(() => Math.floor(rnd() * 2001) - 1000),
        x_l: maybe(() => (rnd() < 0.05 ? Math.floor(rnd() * 2 ** 25 - 2 ** 24) * 2 ** 30 : Math.floor(rnd() * 2e9) - 1e9)),
        x_d: maybe(() => rnd() * 1000 - 500),
        x_q: maybe(() => Math.floor(rnd() * 8e5 - 4e5) / 4),
        x_m: maybe(() => BigInt(Math.floor(rnd() * 2e9 - 1e9))),
        x_s: maybe(() => (rnd() < 0.7 ? pick(STRINGS) : `s${Math.floor(rnd() * 500)}`)),
        x_b: maybe(() => rnd() < 0.5),
        x_dt: maybe(() => 19_000 + Math.floor(rnd() * 1000)),
        x_t: maybe(() => T0 + Math.floor(rnd() * 1e12)),
      });
    }
    batches.push(rows);
  }
  return batches;
}

/** `batch` with string column `name` dictionary-encoded (entries in first-seen order, plus an unused one). */
export function dictionaryEncode(batch: Batch, name: string): Batch {
  const index = batch.schema.fields.findIndex((x) => x.name === name);
  const source = batch.columns[index]!;
  const read = cellReader(source, { kind: "string" });
  const entries = new Map<string, number>([["unused entry", 0]]);
  const indices = new Int32Array(batch.length);
  for (let r = 0; r < batch.length; r++) {
    const v = read(r);
    if (v === null) continue;
    if (!entries.has(v as string)) entries.set(v as string, entries.size);
    indices[r] = entries.get(v as string)!;
  }
  const builder = columnBuilder(f("d", { kind: "string" }, false), entries.size);
  for (const e of entries.keys()) builder.append(e);
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  const dictionary = arrow.makeVector(builder.finish());
  const data = arrow.makeData({ type, length: batch.length, nullCount: source.nullCount, nullBitmap: source.nullBitmap, data: indices, dictionary } as never);
  const columns = [...batch.columns];
  columns[index] = data as arrow.Data;
  return { ...batch, columns };
}

// ---- nodes ---------------------------------------------------------------------------------------

export interface CallSpec {
  fn: string;
  arg?: string;
}

export interface NodeOptions {
  keys: string[];
  window: WindowSpec | undefined;
  calls: CallSpec[];
}

/** An `aggregate` node over INPUT, its kernels (column references) and the output's columns. */
export function buildNode(o: NodeOptions): { node: AggregateNode; kernels: Kernel[] } {
  const kernels: Kernel[] = [];
  const add = (k: ValueKernel): number => kernels.push(k) - 1;
  const column = (name: string): number => {
    const i = INPUT.fields.findIndex((x) => x.name === name);
    if (i < 0) throw new Error(`no column ${name}`);
    return i;
  };
  const windowed = o.window !== undefined;
  const keyFields = o.keys.map((k) => INPUT.fields[column(k)]!);
  const calls: AggregateCall[] = o.calls.map((c) => {
    const args = c.arg ? [INPUT.fields[column(c.arg)]!] : [];
    const checked = aggregateFunctions.get(c.fn)!.check(args.map((a) => ({ type: a.type, nullable: a.nullable })));
    if (!checked.ok) throw new Error(`${c.fn}: ${JSON.stringify(checked)}`);
    return {
      fn: c.fn,
      args: c.arg ? [add((b) => b.columns[column(c.arg!)]!)] : [],
      argTypes: args,
      result: { name: "result", type: checked.type, nullable: checked.nullable },
    };
  });
  const prefix = (windowed ? 2 : 0) + o.keys.length;
  const outputs = calls.map((_c, i) => ({ name: `o${i}`, kernel: add((b) => b.columns[prefix + i]!) }));
  // One computed output: count() + 1, over the `__agg0` column.
  const plusOne = add((b) => {
    const read = cellReader(b.columns[prefix]!, { kind: "long" });
    const builder = columnBuilder(f("p", { kind: "long" }, false), b.length);
    for (let r = 0; r < b.length; r++) builder.append((read(r) as number) + 1);
    return builder.finish();
  });
  const schema: Schema = {
    fields: [
      ...(windowed ? [f("window_start", { kind: "timestamp" }, false), f("window_end", { kind: "timestamp" }, false)] : []),
      ...keyFields,
      ...calls.map((c, i) => ({ ...c.result, name: `o${i}` })),
      f("plus_one", { kind: "long" }, false),
    ],
  };
  const node: AggregateNode = {
    kind: "aggregate",
    id: "stream.aggregate",
    inputs: ["input"],
    schema,
    window: o.window,
    eventTime: windowed ? "ts" : undefined,
    keys: o.keys.map((k) => ({ name: k, kernel: add((b) => b.columns[column(k)]!) })),
    calls,
    outputs: [...outputs, { name: "plus_one", kernel: plusOne }],
  };
  return { node, kernels };
}

// ---- driving the operator -----------------------------------------------------------------------

export interface Emitted {
  /** 0-based batch number. */
  batch: number;
  phase: "process" | "watermark" | "end";
  rows: Row[];
}

export interface Run {
  operator: Operator;
  emitted: Emitted[];
  /** Input row indices (global arrival index) rejected as late. */
  late: number[];
  /** Watermark each batch ran under. */
  watermarks: number[];
}

export function makeOperator(node: AggregateNode, kernels: Kernel[], mode: OperatorContext["outputMode"], late: number[], offsets: () => number): Operator {
  return createAggregateOperator(node, {
    kernels,
    outputMode: mode,
    late: {
      reject: (_id, _batch, rows) => {
        for (const r of rows) late.push(offsets() + r);
      },
    },
  });
}

/** The watermark of each batch: the largest event time of earlier batches minus `delay` (never back). */
export function watermarks(batches: readonly Row[][], delay: number): number[] {
  const out: number[] = [];
  let max = -Infinity;
  let wm = -Infinity;
  for (const rows of batches) {
    out.push(wm);
    for (const r of rows) max = Math.max(max, r.ts as number);
    wm = Math.max(wm, max - delay);
  }
  return out;
}

/**
 * Plays `batches` (from `from` to `to`) into `operator` as the engine does. `late` and the global
 * arrival index are shared with `makeOperator` through `state`.
 */
export function play(
  operator: Operator,
  inputs: readonly Batch[],
  wms: readonly number[],
  state: { emitted: Emitted[]; offset: number },
  from = 0,
  to = inputs.length,
): void {
  for (let b = from; b < to; b++) {
    const collect = (phase: Emitted["phase"]) => (batch: Batch) => state.emitted.push({ batch: b, phase, rows: batchToRows(batch) });
    operator.process(inputs[b]!, 0, collect("process"));
    operator.onWatermark(wms[b]!, collect("watermark"));
    operator.endOfBatch(collect("end"));
    state.offset += inputs[b]!.length;
  }
}

export function toBatches(rows: readonly Row[][], dictionary: string[] = []): Batch[] {
  return rows.map((r) => dictionary.reduce((b, name) => dictionaryEncode(b, name), batchFromRows(INPUT, r)));
}

// ---- the oracle ----------------------------------------------------------------------------------

type Duck = { run(sql: string): Promise<unknown>; runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }>; createAppender(table: string): Promise<DuckAppender> };
interface DuckAppender {
  appendBigInt(v: bigint): void;
  appendInteger(v: number): void;
  appendDouble(v: number): void;
  appendVarchar(v: string): void;
  appendBoolean(v: boolean): void;
  appendNull(): void;
  endRow(): void;
  closeSync(): void;
}

async function duckdb(): Promise<Duck> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const connection = await (await DuckDBInstance.create(":memory:")).connect();
  await connection.run("SET threads = 1");
  return connection as unknown as Duck;
}

/** DuckDB's stand-in for "no watermark yet". */
const NO_WM = -(2n ** 62n);

/** Loads the rows into table `t`, with their arrival index, batch and the watermark their batch ran under. */
async function load(c: Duck, batches: readonly Row[][], wms: readonly number[]): Promise<void> {
  const sqlType: Record<string, string> = { timestamp: "BIGINT", string: "VARCHAR", long: "BIGINT", int: "INTEGER", bool: "BOOLEAN", double: "DOUBLE", date: "INTEGER", decimal: "BIGINT" };
  await c.run(`CREATE OR REPLACE TABLE t (idx BIGINT, batch INTEGER, wm BIGINT, ${INPUT.fields.map((x) => `${x.name} ${sqlType[x.type.kind]}`).join(", ")})`);
  const a = await c.createAppender("t");
  let idx = 0;
  batches.forEach((rows, b) => {
    for (const row of rows) {
      a.appendBigInt(BigInt(idx++));
      a.appendInteger(b);
      a.appendBigInt(Number.isFinite(wms[b]!) ? BigInt(wms[b]!) : NO_WM);
      for (const x of INPUT.fields) {
        const v = row[x.name] ?? null;
        if (v === null) a.appendNull();
        else if (x.type.kind === "decimal") a.appendBigInt(v as bigint);
        else if (sqlType[x.type.kind] === "BIGINT") a.appendBigInt(BigInt(v as number));
        else if (sqlType[x.type.kind] === "INTEGER") a.appendInteger(v as number);
        else if (x.type.kind === "double") a.appendDouble(v as number);
        else if (x.type.kind === "bool") a.appendBoolean(v as boolean);
        else a.appendVarchar(v as string);
      }
      a.endRow();
    }
  });
  a.closeSync();
}

/** How an output column is compared with DuckDB's. */
type Compare = "exact" | "relative" | "approx";

/** The SQL of a call over the entries, and how its value is compared. */
function callSql(call: CallSpec, window: WindowSpec | undefined): { sql: string; compare: Compare } {
  const x = call.arg;
  const inexactOrder = window?.kind === "session" && (x === "x_d");
  switch (call.fn) {
    case "count":
      return { sql: x ? `count(${x})` : "count(*)", compare: "exact" };
    case "count_distinct":
      return { sql: `count(DISTINCT ${x})`, compare: "exact" };
    case "approx_count_distinct":
      return { sql: `count(DISTINCT ${x})`, compare: "approx" };
    case "sum":
      return { sql: `sum(${x} ORDER BY idx)`, compare: inexactOrder ? "relative" : "exact" };
    case "avg":
      return x === "x_m"
        ? { sql: `sum(${x})::VARCHAR || '/' || count(${x})::VARCHAR`, compare: "exact" }
        : { sql: `avg(${x} ORDER BY idx)`, compare: inexactOrder ? "relative" : "exact" };
    case "min":
    case "max":
      return { sql: `${call.fn}(${x})`, compare: "exact" };
    case "first":
      return { sql: `arg_min(${x}, idx) FILTER (WHERE ${x} IS NOT NULL)`, compare: "exact" };
    case "last":
      return { sql: `arg_max(${x}, idx) FILTER (WHERE ${x} IS NOT NULL)`, compare: "exact" };
    case "collect_list":
      return { sql: `list(${x} ORDER BY idx) FILTER (WHERE ${x} IS NOT NULL)`, compare: "exact" };
    default:
      throw new Error(call.fn);
  }
}

/** Non-late (row, window) entries of batches `<= upTo`, with `ws`/`we`: the operator's semantics in SQL. */
function entriesSql(o: NodeOptions, upTo: number): string {
  const w = o.window;
  const keys = o.keys.join(", ");
  if (w === undefined) return `SELECT t.*, 0::BIGINT AS ws, 0::BIGINT AS we FROM t WHERE batch <= ${upTo}`;
  if (w.kind === "session") {
    const partition = o.keys.length ? `PARTITION BY ${keys}` : "";
    return `WITH live AS (SELECT * FROM t WHERE batch <= ${upTo} AND ts >= wm),
      marked AS (SELECT *, CASE WHEN lag(ts) OVER w IS NULL OR ts - lag(ts) OVER w >= ${w.gapMicros} THEN 1 ELSE 0 END AS brk
                 FROM live WINDOW w AS (${partition} ORDER BY ts, idx)),
      numbered AS (SELECT *, sum(brk) OVER (${partition} ORDER BY ts, idx ROWS UNBOUNDED PRECEDING) AS sid FROM marked)
      SELECT *, min(ts) OVER (${partition}${o.keys.length ? ", sid" : "PARTITION BY sid"}) AS ws,
                max(ts) OVER (${partition}${o.keys.length ? ", sid" : "PARTITION BY sid"}) + ${w.gapMicros} AS we FROM numbered`;
  }
  const size = w.sizeMicros;
  const slide = w.kind === "hopping" ? w.slideMicros : size;
  const k = Math.round(size / slide);
  return `SELECT * FROM (
      SELECT t.*, (ts - (((ts % ${slide}) + ${slide}) % ${slide})) - j * ${slide} AS ws, ws + ${size} AS we
      FROM t, range(0, ${k}) r(j) WHERE batch <= ${upTo})
    WHERE we > wm`;
}

function lateSql(o: NodeOptions): string {
  const w = o.window;
  if (w === undefined) return "SELECT idx FROM t WHERE false";
  if (w.kind === "session") return "SELECT idx FROM t WHERE ts < wm ORDER BY idx";
  const size = w.sizeMicros;
  const slide = w.kind === "hopping" ? w.slideMicros : size;
  return `SELECT idx FROM t WHERE ts - (((ts % ${slide}) + ${slide}) % ${slide}) + ${size} <= wm ORDER BY idx`;
}

/** Expected groups over batches `<= upTo`; `touched` says whether an entry came from batch `upTo`. */
async function expectedGroups(c: Duck, o: NodeOptions, upTo: number): Promise<{ row: unknown[]; touched: boolean; end: number }[]> {
  const windowed = o.window !== undefined;
  const group = [...(windowed ? ["ws", "we"] : []), ...o.keys];
  const select = [...group, ...o.calls.map((call) => callSql(call, o.window).sql), `bool_or(batch = ${upTo})`, "max(we)"];
  const sql = `SELECT ${select.join(", ")} FROM (${entriesSql(o, upTo)}) e${group.length ? ` GROUP BY ${group.join(", ")}` : ""}`;
  const rows = (await c.runAndReadAll(sql)).getRows();
  return rows.map((r) => ({ row: r.slice(0, group.length + o.calls.length), touched: r[group.length + o.calls.length] === true, end: Number(r[group.length + o.calls.length + 1] ?? 0) }));
}

// ---- normalising both sides -----------------------------------------------------------------------

function normalize(value: unknown, type: DataType): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case "decimal":
      return String(value);
    case "list": {
      const items = Array.isArray(value) ? value : (value as { items: unknown[] }).items;
      return items.map((v) => normalize(v, (type as { element: Field }).element.type));
    }
    case "double":
      return Number(value) + 0;
    case "string":
    case "bool":
      return value;
    default:
      return Number(value);
  }
}

function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const q = (2n * (negative ? -numerator : numerator) + denominator) / (2n * denominator);
  return negative ? -q : q;
}

/** A DuckDB row as the operator's output row: normalised cells in schema order. */
function fromDuck(node: AggregateNode, o: NodeOptions, row: unknown[]): unknown[] {
  const fields = node.schema.fields;
  const prefix = (o.window ? 2 : 0) + o.keys.length;
  const out = row.map((v, i) => {
    const field = fields[i]!;
    const call = o.calls[i - prefix];
    if (call?.fn === "avg" && call.arg === "x_m") {
      if (v === null) return null;
      const [sum, count] = (v as string).split("/").map((s) => BigInt(s));
      if (count === 0n) return null;
      return String(divideHalfUp(sum! * 10n ** 4n, count!));
    }
    if (call?.fn === "collect_list" && v === null) return [];
    return normalize(v, field.type);
  });
  out.push((out[prefix] as number) + 1);
  return out;
}

function fromOperator(node: AggregateNode, row: Row): unknown[] {
  return node.schema.fields.map((field) => normalize(row[field.name], field.type));
}

function groupKey(o: NodeOptions, row: unknown[]): string {
  return JSON.stringify(row.slice(0, (o.window ? 2 : 0) + o.keys.length));
}

/** Compares actual rows with expected ones, matched by window and keys (plain JS first: `expect` only on a difference). */
function compareRows(o: NodeOptions, node: AggregateNode, actual: unknown[][], expected: unknown[][], where: string): void {
  const prefix = (o.window ? 2 : 0) + o.keys.length;
  const compares = o.calls.map((call) => callSql(call, o.window).compare);
  const byKey = new Map(expected.map((r) => [groupKey(o, r), r]));
  expect(actual.length, `${where}: row count`).toBe(expected.length);
  const seen = new Set<string>();
  const text = (v: unknown) => JSON.stringify(v);
  for (const row of actual) {
    const key = groupKey(o, row);
    expect(seen.has(key), `${where}: group ${key} emitted twice`).toBe(false);
    seen.add(key);
    const want = byKey.get(key);
    if (!want) expect.fail(`${where}: unexpected group ${key}`);
    row.forEach((v, i) => {
      const compare = i >= prefix && i < prefix + compares.length ? compares[i - prefix]! : "exact";
      const w = want![i];
      const label = () => `${where}: group ${key}, column ${node.schema.fields[i]!.name}`;
      if (compare === "exact" || v === null || w === null) {
        if (v !== w && text(v) !== text(w)) expect(v, label()).toEqual(w);
      } else if (compare === "relative") {
        if (!(Math.abs((v as number) - (w as number)) <= 1e-9 * Math.max(1, Math.abs(w as number)))) expect(v, `${label()} (relative 1e-9)`).toBe(w);
      } else if (!(Math.abs((v as number) - (w as number)) <= Math.max(2, 0.03 * (w as number)))) {
        expect(v, `${label()} (approximate: within 3% or 2)`).toBe(w);
      }
    });
  }
}

/** Element-wise equality that reports the first difference only (a diff of thousands of rows is slow). */
function expectSameList(actual: readonly unknown[], expected: readonly unknown[], label: string): void {
  const text = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x));
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const i = actual.findIndex((a, k) => text(a) !== text(expected[k]));
  if (i >= 0) expect(actual[i], `${label}: element ${i}`).toEqual(expected[i]);
}

// ---- the scenarios --------------------------------------------------------------------------------

const ALL_CALLS: CallSpec[] = [
  { fn: "count" },
  { fn: "count", arg: "x_i" },
  { fn: "count_distinct", arg: "x_s" },
  { fn: "approx_count_distinct", arg: "x_s" },
  { fn: "count_distinct", arg: "x_l" },
  { fn: "approx_count_distinct", arg: "x_i" },
  { fn: "sum", arg: "x_i" },
  { fn: "sum", arg: "x_l" },
  { fn: "sum", arg: "x_d" },
  { fn: "sum", arg: "x_q" },
  { fn: "sum", arg: "x_m" },
  { fn: "avg", arg: "x_i" },
  { fn: "avg", arg: "x_d" },
  { fn: "avg", arg: "x_m" },
  { fn: "min", arg: "x_s" },
  { fn: "max", arg: "x_s" },
  { fn: "min", arg: "x_l" },
  { fn: "max", arg: "x_t" },
  { fn: "min", arg: "x_dt" },
  { fn: "max", arg: "x_b" },
  { fn: "min", arg: "x_d" },
  { fn: "max", arg: "x_m" },
  { fn: "first", arg: "x_s" },
  { fn: "last", arg: "x_l" },
  { fn: "first", arg: "x_m" },
  { fn: "last", arg: "x_b" },
  { fn: "last", arg: "x_dt" },
  { fn: "collect_list", arg: "x_i" },
  { fn: "collect_list", arg: "x_s" },
];

interface Scenario {
  name: string;
  keys: string[];
  window: WindowSpec | undefined;
  generator: Omit<GeneratorOptions, "seed">;
  dictionary?: string[];
  delay: number;
  modes: OperatorContext["outputMode"][];
}

const batchesOf = (rowsPerBatch: number, keyCount: number, extra: Partial<GeneratorOptions> = {}): Omit<GeneratorOptions, "seed"> => ({
  batches: 6,
  rowsPerBatch,
  keyCount,
  stepMicros: 10 * MINUTE,
  jitterMicros: 15 * MINUTE,
  lateRate: 0.04,
  nullRate: 0.15,
  ...extra,
});

const SCENARIOS: Scenario[] = [
  { name: "tumbling 10m by a string key", keys: ["k_s"], window: { kind: "tumbling", sizeMicros: 10 * MINUTE }, generator: batchesOf(1500, 40, { granularity: MINUTE }), delay: 9 * MINUTE, modes: ["append", "update", "complete"] },
  { name: "tumbling 10m by a dictionary-encoded string key (args dictionary-encoded too)", keys: ["k_s"], window: { kind: "tumbling", sizeMicros: 10 * MINUTE }, generator: batchesOf(1500, 300), dictionary: ["k_s", "x_s"], delay: 5 * MINUTE, modes: ["append", "update", "complete"] },
  { name: "tumbling 5m by a long key, 10k keys", keys: ["k_l"], window: { kind: "tumbling", sizeMicros: 5 * MINUTE }, generator: batchesOf(4000, 10_000), delay: 2 * MINUTE, modes: ["append", "update"] },
  { name: "hopping 30m every 10m by int, bool and date keys", keys: ["k_i", "k_b", "k_dt"], window: { kind: "hopping", sizeMicros: 30 * MINUTE, slideMicros: 10 * MINUTE }, generator: batchesOf(1500, 50, { granularity: MINUTE }), delay: 9 * MINUTE, modes: ["append", "update", "complete"] },
  { name: "hopping 10m every 5m by double and decimal keys", keys: ["k_d", "k_m"], window: { kind: "hopping", sizeMicros: 10 * MINUTE, slideMicros: 5 * MINUTE }, generator: batchesOf(1200, 200, { granularity: 30_000_000 }), delay: 4.5 * MINUTE, modes: ["append", "update"] },
  { name: "tumbling 10m without keys", keys: [], window: { kind: "tumbling", sizeMicros: 10 * MINUTE }, generator: batchesOf(800, 1), delay: 5 * MINUTE, modes: ["append", "update", "complete"] },
  { name: "session 2m by a string key", keys: ["k_s"], window: { kind: "session", gapMicros: 2 * MINUTE }, generator: batchesOf(1500, 300, { granularity: 15_000_000 }), delay: 3 * MINUTE, modes: ["append", "update", "complete"] },
  { name: "session 30s by a long and an int key, 10k keys", keys: ["k_l", "k_i"], window: { kind: "session", gapMicros: MINUTE / 2 }, generator: batchesOf(3000, 10_000, { jitterMicros: 3 * MINUTE, stepMicros: 2 * MINUTE }), delay: MINUTE, modes: ["append", "update"] },
  { name: "session 5m without keys", keys: [], window: { kind: "session", gapMicros: 5 * MINUTE }, generator: batchesOf(30, 1, { stepMicros: 12 * MINUTE, jitterMicros: 4 * MINUTE, granularity: MINUTE }), delay: MINUTE, modes: ["append", "update", "complete"] },
  { name: "no window, by a string key", keys: ["k_s"], window: undefined, generator: batchesOf(1500, 1000), delay: 0, modes: ["update", "complete"] },
  { name: "no window, by composite keys, 10k keys", keys: ["k_l", "k_b", "k_d"], window: undefined, generator: batchesOf(3000, 10_000), delay: 0, modes: ["update", "complete"] },
  { name: "a global aggregate", keys: [], window: undefined, generator: batchesOf(700, 1), delay: 0, modes: ["update", "complete"] },
];

describe("the aggregate operator against DuckDB", () => {
  for (const [s, scenario] of SCENARIOS.entries()) {
    it(scenario.name, async () => {
      const o: NodeOptions = { keys: scenario.keys, window: scenario.window, calls: ALL_CALLS };
      const { node, kernels } = buildNode(o);
      const rows = generate({ seed: 1000 + s, ...scenario.generator });
      const inputs = toBatches(rows, scenario.dictionary);
      const wms = watermarks(rows, scenario.delay);
      const c = await duckdb();
      await load(c, rows, wms);
      const expectedLate = (await c.runAndReadAll(lateSql(o))).getRows().map((r) => Number(r[0]));
      if (scenario.window) expect(expectedLate.length, "the scenario has late rows").toBeGreaterThan(0);

      for (const mode of scenario.modes) {
        const state = { emitted: [] as Emitted[], offset: 0 };
        const late: number[] = [];
        const operator = makeOperator(node, kernels, mode, late, () => state.offset);
        play(operator, inputs, wms, state);
        expect(state.emitted.length, `${mode}: emits`).toBeGreaterThan(0);
        expect(late, `${mode}: late rows`).toEqual(expectedLate);
        expect(operator.metrics().droppedByWatermark).toBe(expectedLate.length);
        const emitted = (b: number, phase: Emitted["phase"]) =>
          state.emitted.filter((e) => e.batch === b && e.phase === phase).flatMap((e) => e.rows.map((r) => fromOperator(node, r)));
        expect(state.emitted.filter((e) => e.phase === "process"), "nothing is emitted by process").toEqual([]);

        if (mode === "append") {
          const all = await expectedGroups(c, o, inputs.length - 1);
          for (let b = 0; b < inputs.length; b++) {
            // A window is emitted by the first watermark at or past its end.
            const due = all.filter((g) => g.end <= wms[b]! && (b === 0 || g.end > wms[b - 1]!)).map((g) => fromDuck(node, o, g.row));
            compareRows(o, node, emitted(b, "watermark"), due, `append, batch ${b}`);
            expect(emitted(b, "end")).toEqual([]);
          }
          const open = all.filter((g) => g.end > wms[wms.length - 1]!).length;
          expect(operator.metrics().stateRows).toBe(open);
        } else {
          for (let b = 0; b < inputs.length; b++) {
            const groups = await expectedGroups(c, o, b);
            const live = mode === "complete" ? groups : groups.filter((g) => g.touched);
            compareRows(o, node, emitted(b, "end"), live.map((g) => fromDuck(node, o, g.row)), `${mode}, batch ${b}`);
            expect(emitted(b, "watermark")).toEqual([]);
          }
        }
      }
    });
  }
});

describe("the aggregate operator's snapshots", () => {
  for (const [s, scenario] of SCENARIOS.entries()) {
    it(`restores and continues exactly as uninterrupted: ${scenario.name}`, () => {
      const o: NodeOptions = { keys: scenario.keys, window: scenario.window, calls: ALL_CALLS };
      const { node, kernels } = buildNode(o);
      const rows = generate({ seed: 2000 + s, ...scenario.generator });
      const inputs = toBatches(rows, scenario.dictionary);
      const wms = watermarks(rows, scenario.delay);
      for (const mode of scenario.modes) {
        const whole = { emitted: [] as Emitted[], offset: 0 };
        const wholeLate: number[] = [];
        const uninterrupted = makeOperator(node, kernels, mode, wholeLate, () => whole.offset);
        play(uninterrupted, inputs, wms, whole);

        for (const cut of [1, 3]) {
          const parts = { emitted: [] as Emitted[], offset: 0 };
          const partsLate: number[] = [];
          const first = makeOperator(node, kernels, mode, partsLate, () => parts.offset);
          play(first, inputs, wms, parts, 0, cut);
          const bytes = first.snapshot()!;
          const second = makeOperator(node, kernels, mode, partsLate, () => parts.offset);
          second.restore(bytes);
          expect(second.metrics().stateRows).toBe(first.metrics().stateRows);
          // A snapshot of the restored state is the same snapshot.
          expect(Buffer.from(second.snapshot()!).equals(Buffer.from(bytes))).toBe(true);
          play(second, inputs, wms, parts, cut);
          expectSameList(parts.emitted, whole.emitted, `${mode}, cut after batch ${cut}`);
          expect(partsLate).toEqual(wholeLate);
          expect(second.metrics().droppedByWatermark).toBe(uninterrupted.metrics().droppedByWatermark);
          expect(second.metrics().stateRows).toBe(uninterrupted.metrics().stateRows);
        }
      }
    });
  }
});

describe("the aggregate operator, case by case", () => {
  it("emits one row for a global aggregate in complete mode before any input (count 0, null sums)", () => {
    const o: NodeOptions = { keys: [], window: undefined, calls: ALL_CALLS };
    const { node, kernels } = buildNode(o);
    const state = { emitted: [] as Emitted[], offset: 0 };
    const operator = makeOperator(node, kernels, "complete", [], () => state.offset);
    play(operator, [batchFromRows(INPUT, [])], [-Infinity], state);
    expect(state.emitted.map((e) => e.rows)).toEqual([
      [
        Object.assign(
          Object.create(null),
          Object.fromEntries(
            node.schema.fields.map((field, i) => {
              const call = ALL_CALLS[i];
              if (field.name === "plus_one") return [field.name, 1];
              if (call?.fn.startsWith("count") || call?.fn === "approx_count_distinct") return [field.name, 0];
              return [field.name, call?.fn === "collect_list" ? [] : null];
            }),
          ),
        ),
      ],
    ]);
    // In update mode nothing changed, so nothing is emitted.
    const update = { emitted: [] as Emitted[], offset: 0 };
    play(makeOperator(node, kernels, "update", [], () => 0), [batchFromRows(INPUT, [])], [-Infinity], update);
    expect(update.emitted).toEqual([]);
  });

  it("refuses append mode without a window", () => {
    const { node, kernels } = buildNode({ keys: ["k_s"], window: undefined, calls: [{ fn: "count" }] });
    expect(() => makeOperator(node, kernels, "append", [], () => 0)).toThrow(/append/);
  });

  it("emits a window once the watermark passes its end (the language reference's test)", () => {
    const { node, kernels } = buildNode({ keys: ["k_s"], window: { kind: "tumbling", sizeMicros: 10 * MINUTE }, calls: [{ fn: "count" }, { fn: "sum", arg: "x_d" }, { fn: "count_distinct", arg: "x_s" }] });
    const state = { emitted: [] as Emitted[], offset: 0 };
    const late: number[] = [];
    const operator = makeOperator(node, kernels, "append", late, () => state.offset);
    const row = (ts: number, extra: Row = {}): Row => ({ ts, k_s: "DE", k_i: 0, x_d: 5, x_s: "u1", ...extra });
    const inputs = [batchFromRows(INPUT, [row(T0 + MINUTE)]), batchFromRows(INPUT, []), batchFromRows(INPUT, [row(T0 + 2 * MINUTE), row(T0 + 61 * MINUTE)])];
    play(operator, inputs, [-Infinity, T0 + 60 * MINUTE, T0 + 60 * MINUTE], state);
    expect(state.emitted.map((e) => [e.batch, e.phase, e.rows])).toEqual([
      [1, "watermark", [Object.assign(Object.create(null), { window_start: T0, window_end: T0 + 10 * MINUTE, k_s: "DE", o0: 1, o1: 5, o2: 1, plus_one: 2 })]],
    ]);
    // The row at 00:02 arrived after its window closed: late. The one at 01:01 is on time.
    expect(late).toEqual([1]);
    expect(operator.metrics()).toMatchObject({ stateRows: 1, stateRowsUpdated: 1, droppedByWatermark: 1 });
    expect(operator.metrics().memoryBytes).toBeGreaterThan(0);
  });

  it("merges sessions that a row bridges, and keeps first, last and collect_list in arrival order", () => {
    const calls: CallSpec[] = [{ fn: "count" }, { fn: "first", arg: "x_s" }, { fn: "last", arg: "x_s" }, { fn: "collect_list", arg: "x_s" }];
    const { node, kernels } = buildNode({ keys: ["k_s"], window: { kind: "session", gapMicros: 10 * MINUTE }, calls });
    const state = { emitted: [] as Emitted[], offset: 0 };
    const operator = makeOperator(node, kernels, "update", [], () => state.offset);
    const row = (minute: number, x: string | null): Row => ({ ts: T0 + minute * MINUTE, k_s: "k", k_i: 0, x_s: x });
    const inputs = [
      batchFromRows(INPUT, [row(22, "c"), row(0, "a"), row(23, null), row(5, "b")]),
      batchFromRows(INPUT, [row(13, "d"), row(50, "e")]),
    ];
    play(operator, inputs, [-Infinity, -Infinity], state);
    const at = (b: number) => state.emitted.filter((e) => e.batch === b).flatMap((e) => e.rows.map((r) => [r["window_start"], r["window_end"], r["o0"], r["o1"], r["o2"], r["o3"]]));
    expect(at(0)).toEqual([
      [T0 + 22 * MINUTE, T0 + 33 * MINUTE, 2, "c", "c", ["c"]],
      [T0, T0 + 15 * MINUTE, 2, "a", "b", ["a", "b"]],
    ]);
    // 00:13 bridges [00:00, 00:15) and [00:22, 00:33): one session; 00:50 starts another.
    expect(at(1)).toEqual([
      [T0, T0 + 33 * MINUTE, 5, "c", "d", ["c", "a", "b", "d"]],
      [T0 + 50 * MINUTE, T0 + 60 * MINUTE, 1, "e", "e", ["e"]],
    ]);
    expect(operator.metrics().stateRows).toBe(2);
  });

  it("restores state of other aggregates only where they match, and starts aggregates added at the end empty", () => {
    const before = buildNode({ keys: ["k_s"], window: undefined, calls: [{ fn: "count" }, { fn: "sum", arg: "x_i" }] });
    const state = { emitted: [] as Emitted[], offset: 0 };
    const operator = makeOperator(before.node, before.kernels, "complete", [], () => 0);
    play(operator, [batchFromRows(INPUT, [{ ts: T0, k_s: "a", k_i: 0, x_i: 4 }])], [-Infinity], state);
    const bytes = operator.snapshot()!;

    const added = buildNode({ keys: ["k_s"], window: undefined, calls: [{ fn: "count" }, { fn: "sum", arg: "x_i" }, { fn: "max", arg: "x_i" }] });
    const grown = makeOperator(added.node, added.kernels, "complete", [], () => 0);
    grown.restore(bytes);
    const out = { emitted: [] as Emitted[], offset: 0 };
    play(grown, [batchFromRows(INPUT, [{ ts: T0, k_s: "a", k_i: 0, x_i: 1 }])], [-Infinity], out);
    expect(out.emitted[0]!.rows.map((r) => [r["k_s"], r["o0"], r["o1"], r["o2"]])).toEqual([["a", 2, 5, 1]]);

    const changed = buildNode({ keys: ["k_s"], window: undefined, calls: [{ fn: "count" }, { fn: "min", arg: "x_i" }] });
    expect(() => makeOperator(changed.node, changed.kernels, "complete", [], () => 0).restore(bytes)).toThrow(/sum/);
  });
});
