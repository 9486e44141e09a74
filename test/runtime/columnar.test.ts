import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as parquet from "parquet-wasm";
import { describe, expect, it } from "vitest";
import type { Schema } from "../../runtime/plan.ts";
import { batchFromRows, batchToRows, concatBatches, gather, toArrowTable } from "../../runtime/columnar/batch-ops.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";

const schema: Schema = {
  fields: [
    { name: "b", type: { kind: "bool" }, nullable: true },
    { name: "i", type: { kind: "int" }, nullable: true },
    { name: "l", type: { kind: "long" }, nullable: false },
    { name: "d", type: { kind: "double" }, nullable: true },
    { name: "m", type: { kind: "decimal", precision: 12, scale: 2 }, nullable: true },
    { name: "s", type: { kind: "string" }, nullable: true },
    { name: "day", type: { kind: "date" }, nullable: true },
    { name: "ts", type: { kind: "timestamp" }, nullable: false },
    { name: "tags", type: { kind: "list", element: { name: "element", type: { kind: "string" }, nullable: false } }, nullable: true },
    { name: "attrs", type: { kind: "map", value: { name: "value", type: { kind: "int" }, nullable: true } }, nullable: true },
    { name: "who", type: { kind: "struct", fields: [{ name: "id", type: { kind: "long" }, nullable: false }, { name: "name", type: { kind: "string" }, nullable: true }] }, nullable: true },
  ],
};

const rows: Record<string, CellValue>[] = [
  { b: true, i: 1, l: 9007199254740991, d: 1.5, m: 1234n, s: "straße", day: 19723, ts: 1704067200123456, tags: ["a", "b"], attrs: new Map([["x", 1]]), who: { id: 1, name: "ann" } },
  { b: null, i: null, l: -9007199254740991, d: null, m: -5n, s: null, day: null, ts: -1, tags: null, attrs: null, who: null },
  { b: false, i: -2147483648, l: 0, d: -0.25, m: null, s: "😀 e\u0301", day: -1, ts: 0, tags: [], attrs: new Map([["y", null]]), who: { id: -7, name: null } },
];

describe("columnar batches", () => {
  it("round-trips every type through builders and readers", () => {
    expect(batchToRows(batchFromRows(schema, rows))).toEqual(rows.map((r) => Object.assign(Object.create(null), r)));
  });

  it("gathers and concatenates rows", () => {
    const batch = batchFromRows(schema, rows);
    const picked = gather(batch, Int32Array.from([2, 0, 0]));
    expect(batchToRows(picked).map((r) => r["s"])).toEqual(["😀 e\u0301", "straße", "straße"]);
    const both = concatBatches(schema, [batch, picked]);
    expect(both.length).toBe(6);
    expect(batchToRows(both).map((r) => r["l"])).toEqual([9007199254740991, -9007199254740991, 0, 0, 9007199254740991, 9007199254740991]);
  });

  it("concatenates random batches of every type exactly as their rows concatenated", async () => {
    const { prng } = await import("../support/prng.ts");
    const { columnBuilder } = await import("../../runtime/columnar/builder.ts");
    const random = prng(11);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const randomRow = (): Record<string, CellValue> => {
      const base = pick(rows);
      // Each column from a random sample row, so nulls land in random places.
      return Object.fromEntries(schema.fields.map((f) => [f.name, (random() < 0.5 ? base : pick(rows))[f.name]!]));
    };
    for (let trial = 0; trial < 30; trial++) {
      const parts = Array.from({ length: 1 + Math.floor(random() * 5) }, () => batchFromRows(schema, Array.from({ length: Math.floor(random() * 40) }, randomRow)));
      const expected = parts.flatMap((b) => batchToRows(b));
      expect(batchToRows(concatBatches(schema, parts))).toEqual(expected);
    }
    // Dictionary-encoded strings: parts sharing one dictionary keep it; different ones are decoded.
    const field = { name: "c", type: { kind: "string" as const }, nullable: true };
    const oneSchema: Schema = { fields: [field] };
    const encoded = (values: (string | null)[]) => {
      const builder = columnBuilder(field, values.length, { dictionary: true });
      for (const v of values) builder.append(v);
      return { schema: oneSchema, length: values.length, columns: [builder.finish()] };
    };
    const a = encoded(["de", "fr", null, "de", "de", "fr", "de", "de"]);
    const shared = { schema: oneSchema, length: 3, columns: [gather(a, Int32Array.from([1, 2, 0])).columns[0]!] };
    const joined = concatBatches(oneSchema, [a, shared]);
    expect((joined.columns[0] as arrow.Data<arrow.Dictionary>).dictionary).toBe((a.columns[0] as arrow.Data<arrow.Dictionary>).dictionary);
    expect(batchToRows(joined).map((r) => r["c"])).toEqual(["de", "fr", null, "de", "de", "fr", "de", "de", "fr", null, "de"]);
    const b = encoded(["nl", "nl", "us", "nl", "nl", "nl"]);
    expect(batchToRows(concatBatches(oneSchema, [a, b])).map((r) => r["c"])).toEqual(["de", "fr", null, "de", "de", "fr", "de", "de", "nl", "nl", "us", "nl", "nl", "nl"]);
  });

  it("writes Parquet that DuckDB reads back with the same values", async () => {
    const batch = batchFromRows(schema, rows);
    const table = toArrowTable(schema, [batch]);
    const bytes = parquet.writeParquet(parquet.Table.fromIPCStream(arrow.tableToIPC(table, "stream")));
    const file = join(mkdtempSync(join(tmpdir(), "streamc-columnar-")), "rows.parquet");
    writeFileSync(file, bytes);
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const connection = await (await DuckDBInstance.create(":memory:")).connect();
    const result = await connection.runAndReadAll(
      `select b, i, l::varchar, d, m::varchar, s, day::varchar, epoch_us(ts)::varchar, tags, who.id, who.name from read_parquet('${file}')`,
    );
    expect(result.getRows().map((r) => r.map((v) => (v && typeof v === "object" && "items" in v ? (v as { items: unknown[] }).items : v)))).toEqual([
      [true, 1, "9007199254740991", 1.5, "12.34", "straße", "2024-01-01", "1704067200123456", ["a", "b"], 1n, "ann"],
      [null, null, "-9007199254740991", null, "-0.05", null, null, "-1", null, null, null],
      [false, -2147483648, "0", -0.25, null, "😀 e\u0301", "1969-12-31", "0", [], -7n, null],
    ]);
  });
});

describe("dictionary-encoded strings", () => {
  const field = { name: "country", type: { kind: "string" as const }, nullable: true };

  it("come out of a dictionary builder when values repeat, and read back the same", async () => {
    const { columnBuilder } = await import("../../runtime/columnar/builder.ts");
    const { cellReader } = await import("../../runtime/columnar/read.ts");
    const values = ["de", "fr", null, "de", "de", "fr", "de", null];
    const builder = columnBuilder(field, 8, { dictionary: true });
    for (const v of values) builder.append(v);
    const data = builder.finish();
    expect(data.type).toBeInstanceOf(arrow.Dictionary);
    expect((data as arrow.Data<arrow.Dictionary>).dictionary!.toArray()).toEqual(["de", "fr"]);
    const read = cellReader(data, field.type);
    expect(values.map((_, i) => read(i))).toEqual(values);
  });

  it("stay plain when most values differ", async () => {
    const { columnBuilder } = await import("../../runtime/columnar/builder.ts");
    const builder = columnBuilder(field, 8, { dictionary: true });
    for (const v of ["a", "b", "c", "a"]) builder.append(v);
    expect(builder.finish().type).toBeInstanceOf(arrow.Utf8);
  });

  it("are what the JSON decoder produces for a low-cardinality column, and sinks write them plain", async () => {
    const { decodeJsonLines } = await import("../../runtime/decode/json.ts");
    const decodeSchema: Schema = { fields: [field, { name: "n", type: { kind: "int" }, nullable: false }] };
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ country: ["de", "fr", "it"][i % 3], n: i })).join("\n");
    const { batch } = decodeJsonLines(decodeSchema, new TextEncoder().encode(lines), "lines.json", { source: "t" });
    expect(batch.columns[0]!.type).toBeInstanceOf(arrow.Dictionary);
    const table = toArrowTable(decodeSchema, [batch]);
    expect(table.schema.fields[0]!.type).toBeInstanceOf(arrow.Utf8);
    expect(table.getChild("country")!.toArray().slice(0, 4)).toEqual(["de", "fr", "it", "de"]);
  });
});
