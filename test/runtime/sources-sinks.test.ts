/**
 * Sources (generator, files), sinks (memory, console, files) and the dead letter: replayable
 * ranges, new files picked up, rejects positioned, files written once per batch and read back by
 * DuckDB as the rows that went in.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { batchFromRows, batchToRows } from "../../runtime/columnar/batch-ops.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import { countByReason, deadLetterSchema, lateRejects, rejectsToBatch } from "../../runtime/deadletter.ts";
import type { DataType, Field, Schema, SinkSpec, SourceSpec } from "../../runtime/plan.ts";
import { ConsoleSink, displayWidth } from "../../runtime/sinks/console.ts";
import { jsonEncoder } from "../../runtime/sinks/encode.ts";
import { encodeBatch, FilesSink, partFileName } from "../../runtime/sinks/files.ts";
import { createSink, deadLetterSink } from "../../runtime/sinks/index.ts";
import { MemorySink } from "../../runtime/sinks/memory.ts";
import { FilesSource } from "../../runtime/sources/files.ts";
import { GENERATOR_EPOCH_MICROS, GeneratorSource } from "../../runtime/sources/generator.ts";
import { createSource } from "../../runtime/sources/index.ts";
import type { Offset, Range, Source } from "../../runtime/sources/source.ts";
import { duckRows } from "../support/duckdb.ts";

// ---- helpers -------------------------------------------------------------------------------------

function field(name: string, type: DataType, nullable = false): Field {
  return { name, type, nullable };
}
const t = {
  bool: { kind: "bool" } as DataType,
  int: { kind: "int" } as DataType,
  long: { kind: "long" } as DataType,
  double: { kind: "double" } as DataType,
  string: { kind: "string" } as DataType,
  bytes: { kind: "bytes" } as DataType,
  date: { kind: "date" } as DataType,
  timestamp: { kind: "timestamp" } as DataType,
  decimal: (precision: number, scale: number): DataType => ({ kind: "decimal", precision, scale }),
  list: (element: DataType, nullable = false): DataType => ({ kind: "list", element: field("element", element, nullable) }),
  map: (value: DataType, nullable = false): DataType => ({ kind: "map", value: field("value", value, nullable) }),
  struct: (...fields: Field[]): DataType => ({ kind: "struct", fields }),
};

const everyType: Schema = {
  fields: [
    field("b", t.bool),
    field("i", t.int),
    field("l", t.long),
    field("d", t.double, true),
    field("m", t.decimal(10, 2)),
    field("s", t.string, true),
    field("raw", t.bytes),
    field("day", t.date),
    field("ts", t.timestamp),
    field("tags", t.list(t.string, true), true),
    field("attrs", t.map(t.int)),
    field("who", t.struct(field("id", t.long), field("name", t.string, true)), true),
  ],
};

function rows(batch: Batch): Record<string, CellValue>[] {
  return batchToRows(batch).map((r) => ({ ...r }));
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "streamc-io-"));
}

/** One trigger: latest, plan from `from`, read. */
async function nextBatch(source: Source, from: Offset | undefined, uncapped = false): Promise<{ range: Range; rows: Record<string, CellValue>[]; end: Offset } | undefined> {
  const latest = await source.latest();
  const range = source.plan(from, { latest, uncapped });
  if (range === undefined) return undefined;
  const { batch } = await source.read(range);
  return { range: JSON.parse(JSON.stringify(range)) as Range, rows: rows(batch), end: source.end(range) };
}


// ---- generator -----------------------------------------------------------------------------------

describe("the generator source", () => {
  it("is deterministic by seed and row: any range replays identically, in a new source too", async () => {
    const a = new GeneratorSource("g", everyType, { seed: 7 });
    await a.open(undefined);
    const whole = rows((await a.read({ start: 0, end: 50 })).batch);
    expect(rows((await a.read({ start: 0, end: 50 })).batch)).toEqual(whole);
    const b = new GeneratorSource("g", everyType, { seed: 7 });
    await b.open({ row: 20 });
    expect(rows((await b.read({ start: 20, end: 35 })).batch)).toEqual(whole.slice(20, 35));
  });

  it("gives different rows for different seeds", async () => {
    const read = async (seed: number) => rows((await new GeneratorSource("g", everyType, { seed }).read({ start: 0, end: 20 })).batch);
    const [zero, one, big] = [await read(0), await read(1), await read(2 ** 40)];
    expect(one).not.toEqual(zero);
    expect(big).not.toEqual(zero);
    // Event time is the row's, whatever the seed.
    expect(one.map((r) => r["ts"])).toEqual(zero.map((r) => r["ts"]));
  });

  it("makes rows that fit the schema: required fields never null, nullable ones sometimes", async () => {
    const generated = rows((await new GeneratorSource("g", everyType, { seed: 3 }).read({ start: 0, end: 500 })).batch);
    for (const r of generated) {
      for (const f of everyType.fields) if (!f.nullable) expect(r[f.name], f.name).not.toBeNull();
      expect(r["i"]).toBeGreaterThanOrEqual(0);
      expect(r["i"]).toBeLessThan(1000);
      expect((r["m"] as bigint) < 100000n).toBe(true);
      expect(r["s"] === null || /^s-\d{1,2}$/.test(r["s"] as string)).toBe(true);
      expect((r["raw"] as Uint8Array).length).toBe(8);
      expect((r["tags"] as CellValue[] | null)?.length ?? 0).toBeLessThan(4);
      for (const key of (r["attrs"] as Map<string, CellValue>).keys()) expect(key).toMatch(/^k[01]$/);
    }
    const nulls = generated.filter((r) => r["s"] === null).length;
    expect(nulls).toBeGreaterThan(20);
    expect(nulls).toBeLessThan(100);
    expect(new Set(generated.map((r) => r["s"])).size).toBeGreaterThan(50);
  });

  it("puts event time at a fixed epoch plus row / rate, and the date of that instant", async () => {
    const source = new GeneratorSource("g", { fields: [field("ts", t.timestamp), field("day", t.date)] }, { rate: 3 });
    const got = rows((await source.read({ start: 0, end: 4 })).batch);
    expect(got.map((r) => r["ts"]! as number - GENERATOR_EPOCH_MICROS)).toEqual([0, 333333, 666666, 1000000]);
    expect(got[0]!["day"]).toBe(19723);
    const unthrottled = rows((await new GeneratorSource("g", { fields: [field("ts", t.timestamp)] }).read({ start: 5, end: 6 })).batch);
    expect(unthrottled).toEqual([{ ts: GENERATOR_EPOCH_MICROS + 5000 }]);
  });

  it("offers rate × elapsed time from where it resumed, capped by rows; then it is exhausted", async () => {
    let now = 1_000_000;
    const source = new GeneratorSource("g", { fields: [field("x", t.int)] }, { rate: 10, rows: 25, clock: () => now });
    expect(source.bounded).toBe(true);
    await source.open({ row: 5 });
    expect(await source.latest()).toEqual({ row: 5 });
    expect(source.plan({ row: 5 }, { latest: await source.latest() })).toBeUndefined();
    now += 1500;
    expect(await source.latest()).toEqual({ row: 20 });
    const range = source.plan({ row: 5 }, { latest: { row: 20 } })!;
    expect(range).toEqual({ start: 5, end: 20 });
    expect(source.end(range)).toEqual({ row: 20 });
    expect(source.behind({ row: 5 }, { row: 20 })).toBe(15);
    now += 60_000;
    expect(await source.latest()).toEqual({ row: 25 });
    expect(source.plan({ row: 25 }, { latest: { row: 25 } })).toBeUndefined();
  });

  it("caps an unthrottled batch at maxRowsPerBatch unless uncapped and bounded", async () => {
    const unbounded = new GeneratorSource("g", { fields: [field("x", t.int)] }, { maxRowsPerBatch: 10 });
    await unbounded.open(undefined);
    expect(unbounded.bounded).toBe(false);
    expect(unbounded.plan(undefined, { latest: await unbounded.latest() })).toEqual({ start: 0, end: 10 });
    expect(unbounded.plan({ row: 10 }, { latest: await unbounded.latest(), uncapped: true })).toEqual({ start: 10, end: 20 });
    const bounded = new GeneratorSource("g", { fields: [field("x", t.int)] }, { rows: 35, maxRowsPerBatch: 10 });
    await bounded.open(undefined);
    expect(bounded.plan(undefined, { latest: await bounded.latest() })).toEqual({ start: 0, end: 10 });
    expect(bounded.plan(undefined, { latest: await bounded.latest(), uncapped: true })).toEqual({ start: 0, end: 35 });
  });
});

// ---- files source --------------------------------------------------------------------------------

describe("the files source", () => {
  const orders: Schema = { fields: [field("id", t.int), field("country", t.string, true), field("ts", t.timestamp)] };

  async function openFiles(dir: string, format: "json" | "csv" | "parquet", maxFilesPerBatch?: number, resume?: Offset): Promise<FilesSource> {
    const source = new FilesSource("orders", orders, dir, { format, maxFilesPerBatch, decode: { now: () => 7 } });
    await source.open(resume);
    return source;
  }

  it("picks up new files as they appear, in name order, skipping hidden and underscore files", async () => {
    const dir = tempDir();
    const source = await openFiles(dir, "json");
    expect(await nextBatch(source, undefined)).toBeUndefined();
    writeFileSync(join(dir, "b.json"), '{"id": 2, "ts": 0}\n');
    writeFileSync(join(dir, "a.json"), '{"id": 1, "ts": 0}\n');
    writeFileSync(join(dir, ".c.json.tmp"), '{"id": 99, "ts": 0}\n');
    writeFileSync(join(dir, "_SUCCESS"), "");
    mkdirSync(join(dir, "sub"));
    const first = (await nextBatch(source, undefined))!;
    expect(first.range).toEqual({
      files: [
        { name: "a.json", size: 19 },
        { name: "b.json", size: 19 },
      ],
    });
    expect(first.rows.map((r) => r["id"])).toEqual([1, 2]);
    expect(first.end).toEqual({ file: "b.json" });
    expect(await nextBatch(source, first.end)).toBeUndefined();
    writeFileSync(join(dir, "c.json"), '{"id": 3, "ts": 0}\n{"id": 4, "ts": 0}\n');
    const second = (await nextBatch(source, first.end))!;
    expect(second.rows.map((r) => r["id"])).toEqual([3, 4]);
    // A file named before the offset arrives late: it is not read (documented).
    writeFileSync(join(dir, "a2.json"), '{"id": 5, "ts": 0}\n');
    expect(await nextBatch(source, second.end)).toBeUndefined();
  });

  it("takes at most max_files_per_batch files a batch, unless uncapped", async () => {
    const dir = tempDir();
    for (const n of [1, 2, 3, 4, 5]) writeFileSync(join(dir, `part-${n}.json`), `{"id": ${n}, "ts": 0}\n`);
    const source = await openFiles(dir, "json", 2);
    const ids: number[][] = [];
    let from: Offset | undefined;
    for (let b = await nextBatch(source, from); b; b = await nextBatch(source, from)) {
      ids.push(b.rows.map((r) => r["id"] as number));
      from = b.end;
    }
    expect(ids).toEqual([[1, 2], [3, 4], [5]]);
    const again = await openFiles(dir, "json", 2);
    expect((await nextBatch(again, undefined, true))!.rows.length).toBe(5);
  });

  it("resumes after the offset it is opened with, and reports files behind", async () => {
    const dir = tempDir();
    for (const n of [1, 2, 3]) writeFileSync(join(dir, `${n}.json`), `{"id": ${n}, "ts": 0}\n`);
    const source = await openFiles(dir, "json", undefined, { file: "1.json" });
    const latest = await source.latest();
    expect(source.behind({ file: "1.json" }, latest)).toBe(2);
    expect((await nextBatch(source, { file: "1.json" }))!.rows.map((r) => r["id"])).toEqual([2, 3]);
  });

  it("replays a range with exactly the planned bytes, and refuses a file that shrank", async () => {
    const dir = tempDir();
    const file = join(dir, "a.json");
    writeFileSync(file, '{"id": 1, "ts": 0}\n');
    const source = await openFiles(dir, "json");
    const range = source.plan(undefined, { latest: await source.latest() })!;
    const first = rows((await source.read(range)).batch);
    appendFileSync(file, '{"id": 2, "ts": 0}\n');
    // A replay in a new process reads the same range from the offsets log.
    const replay = await openFiles(dir, "json");
    expect(rows((await replay.read(JSON.parse(JSON.stringify(range)) as Range)).batch)).toEqual(first);
    truncateSync(file, 5);
    await expect(replay.read(range)).rejects.toThrow(/has 5 bytes, the batch planned 19; it was truncated/);
  });

  it("refuses to start on a directory that does not exist", async () => {
    const source = new FilesSource("orders", orders, join(tempDir(), "nope"), { format: "json" });
    await expect(source.open(undefined)).rejects.toThrow(/directory .*nope does not exist/);
  });

  it("rejects each kind of bad record with its reason and file + line", async () => {
    const dir = tempDir();
    const lines = [
      '{"id": 1, "country": "de", "ts": "2024-01-01T00:00:00Z"}',
      '{"id": 2, "ts": 0',
      '{"country": "fr", "ts": 0}',
      '{"id": "3", "ts": 0}',
      '{"id": null, "ts": 0}',
      '{"id": 4000000000, "ts": 0}',
      '{"id": 5, "ts": "2024-13-01"}',
      `{"id": 6, "country": "${"x".repeat(200)}", "ts": 0}`,
      '{"id": 7, "ts": 1704067200000}',
    ];
    writeFileSync(join(dir, "orders.json"), lines.join("\n"));
    const source = new FilesSource("orders", orders, dir, { format: "json", decode: { now: () => 7, maxRecordBytes: 150 } });
    await source.open(undefined);
    const { batch, rejects } = await source.read(source.plan(undefined, { latest: await source.latest() })!);
    expect(rows(batch)).toEqual([
      { id: 1, country: "de", ts: 1704067200000000 },
      { id: 7, country: null, ts: 1704067200000000 },
    ]);
    const file = join(dir, "orders.json");
    expect(rejects.map((r) => [r.reason, r.position, r.source, r.time])).toEqual([
      ["malformed", { kind: "file", file, line: 2 }, "orders", 7],
      ["missing_field", { kind: "file", file, line: 3 }, "orders", 7],
      ["type_mismatch", { kind: "file", file, line: 4 }, "orders", 7],
      ["null_in_required", { kind: "file", file, line: 5 }, "orders", 7],
      ["out_of_range", { kind: "file", file, line: 6 }, "orders", 7],
      ["bad_timestamp", { kind: "file", file, line: 7 }, "orders", 7],
      ["too_large", { kind: "file", file, line: 8 }, "orders", 7],
    ]);
    expect(rejects.map((r) => new TextDecoder().decode(r.raw))).toEqual(lines.slice(1, 8));
    expect(countByReason(rejects)).toEqual({ malformed: 1, missing_field: 1, type_mismatch: 1, null_in_required: 1, out_of_range: 1, bad_timestamp: 1, too_large: 1 });
  });

  it("reads CSV and Parquet files too, with positions", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "1.csv"), "id,ts,country\n1,2024-01-01T00:00:00Z,de\nx,0,fr\n");
    const csv = await openFiles(dir, "csv");
    const got = await csv.read(csv.plan(undefined, { latest: await csv.latest() })!);
    expect(rows(got.batch)).toEqual([{ id: 1, country: "de", ts: 1704067200000000 }]);
    expect(got.rejects.map((r) => [r.reason, r.position])).toEqual([["type_mismatch", { kind: "file", file: join(dir, "1.csv"), line: 3 }]]);

    const pdir = tempDir();
    const input = [
      { id: 1, country: "de", ts: 1 },
      { id: 2, country: null, ts: 2 },
    ];
    writeFileSync(join(pdir, "1.parquet"), encodeBatch(batchFromRows(orders, input.slice(0, 1)), "parquet"));
    writeFileSync(join(pdir, "2.parquet"), encodeBatch(batchFromRows(orders, input.slice(1)), "parquet"));
    writeFileSync(join(pdir, "3.parquet"), "garbage");
    const pq = await openFiles(pdir, "parquet");
    const read = await pq.read(pq.plan(undefined, { latest: await pq.latest() })!);
    expect(rows(read.batch)).toEqual(input);
    expect(read.rejects.map((r) => [r.reason, r.position])).toEqual([["malformed", { kind: "file", file: join(pdir, "3.parquet"), line: 0 }]]);
  });

  it("as a bounded source (lookup joins) reads one snapshot of the directory", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.json"), '{"id": 1, "ts": 0}\n');
    const source = createSource(
      { id: "users", connector: "files", target: { kind: "literal", value: dir }, options: { format: { kind: "word", word: "json" } }, schema: orders },
      { cwd: "/", env: {}, bounded: true },
    );
    expect(source.bounded).toBe(true);
    await source.open(undefined);
    const latest = await source.latest();
    writeFileSync(join(dir, "b.json"), '{"id": 2, "ts": 0}\n');
    expect(await source.latest()).toEqual(latest);
    expect((await nextBatch(source, undefined))!.rows.map((r) => r["id"])).toEqual([1]);
  });

  it("is built from its plan entry with env() targets resolved against the working directory", async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, "in"));
    writeFileSync(join(cwd, "in", "a.csv"), "id,ts\n1,0\n");
    const spec: SourceSpec = {
      id: "orders",
      connector: "files",
      target: { kind: "env", variable: "ORDERS_DIR", fallback: "nowhere" },
      options: { format: { kind: "word", word: "csv" }, max_files_per_batch: { kind: "integer", value: 1 } },
      schema: orders,
    };
    const source = createSource(spec, { cwd, env: { ORDERS_DIR: "in" } });
    expect(source.description).toBe(`files[${join(cwd, "in")}]`);
    await source.open(undefined);
    expect((await nextBatch(source, undefined))!.rows).toEqual([{ id: 1, country: null, ts: 0 }]);
    const generator = createSource({ id: "g", connector: "generator", target: undefined, options: { seed: { kind: "integer", value: 5 }, rows: { kind: "integer", value: 3 } }, schema: orders }, { cwd, env: {} });
    await generator.open(undefined);
    expect((await nextBatch(generator, undefined))!.rows.length).toBe(3);
    expect(() => createSource({ ...spec, connector: "carrier-pigeon" }, { cwd, env: {} })).toThrow(/carrier-pigeon connector is not available/);
  });
});

// ---- sinks ---------------------------------------------------------------------------------------

describe("the memory sink", () => {
  const schema: Schema = { fields: [field("k", t.string), field("n", t.long)] };
  const batch = (...pairs: [string, number][]) => batchFromRows(schema, pairs.map(([k, n]) => ({ k, n })));

  it("accumulates append and update batches, replaces on complete, and replaces a replayed batch", async () => {
    const sink = new MemorySink("s.memory", schema);
    await sink.write(0, batch(["a", 1]), "append");
    await sink.write(1, batch(["b", 2]), "append");
    await sink.write(1, batch(["b", 2]), "append");
    expect(sink.rows()).toEqual([
      { k: "a", n: 1 },
      { k: "b", n: 2 },
    ]);
    await sink.write(2, batch(["a", 3]), "update");
    expect(sink.rows().length).toBe(3);
    await sink.write(3, batch(["a", 3], ["b", 2]), "complete");
    await sink.write(3, batch(["a", 3], ["b", 2]), "complete");
    expect(sink.batchIds()).toEqual([3]);
    expect(sink.rows()).toEqual([
      { k: "a", n: 3 },
      { k: "b", n: 2 },
    ]);
  });
});

describe("the console sink", () => {
  const schema: Schema = { fields: [field("country", t.string, true), field("n", t.long), field("ts", t.timestamp), field("tags", t.list(t.string), true)] };

  it("prints an aligned table with the batch id and mode, like Spark", async () => {
    let out = "";
    const sink = new ConsoleSink("s.console", schema, 2, { write: (s: string) => (out += s) });
    const batch = batchFromRows(schema, [
      { country: "DE", n: 2, ts: 1704067200000000, tags: ["a", "b"] },
      { country: null, n: 10, ts: 1704067200500000, tags: null },
      { country: "FR", n: 1, ts: 0, tags: [] },
    ]);
    await sink.write(3, batch, "update");
    expect(out).toBe(
      [
        "-------------------------------------------",
        "Batch: 3 (update)",
        "-------------------------------------------",
        "+-------+---+----------------------+------+",
        "|country|  n|                    ts|  tags|",
        "+-------+---+----------------------+------+",
        "|     DE|  2|  2024-01-01T00:00:00Z|[a, b]|",
        "|   null| 10|2024-01-01T00:00:00.5Z|  null|",
        "+-------+---+----------------------+------+",
        "only showing top 2 rows",
        "",
        "",
      ].join("\n"),
    );
  });

  it("prints empty batches, cuts long text, and measures wide characters", async () => {
    let out = "";
    const s: Schema = { fields: [field("s", t.string)] };
    const sink = new ConsoleSink("s.console", s, 20, { write: (x: string) => (out += x) });
    await sink.write(0, batchFromRows(s, []), "append");
    expect(out).toContain("Batch: 0 (append)\n-------------------------------------------\n+---+\n|  s|\n+---+\n+---+\n");
    out = "";
    await sink.write(1, batchFromRows(s, [{ s: "a very long text that goes on" }, { s: "日本" }, { s: "two\nlines" }]), "append");
    expect(out.split("\n").slice(3, 9)).toEqual(["+--------------------+", "|                   s|", "+--------------------+", "|a very long text ...|", "|                日本|", "|          two\\nlines|"]);
    expect(displayWidth("日本😀e\u0301")).toBe(7);
  });
});

describe("the files sink", () => {
  const input = [
    {
      b: true,
      i: 1,
      l: 9007199254740991,
      d: 1.5,
      m: 1234n,
      s: 'straße, "quoted"',
      raw: Uint8Array.of(1, 2, 255),
      day: 19723,
      ts: 1704067200123456,
      tags: ["a", null],
      attrs: new Map([["k", 1]]),
      who: { id: 1, name: "ann" },
    },
    { b: false, i: -2, l: -1, d: null, m: -5n, s: null, raw: new Uint8Array(0), day: -1, ts: 0, tags: null, attrs: new Map(), who: null },
    { b: true, i: 0, l: 0, d: -0.25, m: 0n, s: "", raw: Uint8Array.of(0), day: 0, ts: -1, tags: [], attrs: new Map([["x", 2]]), who: { id: 2, name: null } },
  ];

  it("writes one file per batch, named by batch, that DuckDB reads back as the rows written (json, csv, parquet)", async () => {
    for (const format of ["json", "csv", "parquet"] as const) {
      const dir = join(tempDir(), "out");
      const sink = new FilesSink("s.files", everyType, dir, format);
      await sink.write(7, batchFromRows(everyType, input), "append");
      expect(readdirSync(dir)).toEqual([partFileName(7, format)]);
      expect(partFileName(7, format)).toBe(`part-00000007.${format}`);
      const path = join(dir, partFileName(7, format));
      const columns =
        "{b: 'BOOLEAN', i: 'INTEGER', l: 'BIGINT', d: 'DOUBLE', m: 'DECIMAL(10,2)', s: 'VARCHAR', raw: 'VARCHAR', day: 'DATE', ts: 'TIMESTAMPTZ', tags: 'VARCHAR[]', attrs: 'MAP(VARCHAR, INTEGER)', who: 'STRUCT(id BIGINT, name VARCHAR)'}";
      const read =
        format === "parquet"
          ? `select * from read_parquet('${path}')`
          : format === "json"
            ? `select * replace (from_base64(raw) as raw) from read_json('${path}', format = 'newline_delimited', columns = ${columns})`
            : `select * replace (from_base64(raw) as raw) from read_csv('${path}', header = true, allow_quoted_nulls = false, columns = ${columns.replace(/'VARCHAR\[\]'|'MAP\(VARCHAR, INTEGER\)'|'STRUCT\(id BIGINT, name VARCHAR\)'/g, "'VARCHAR'")})`;
      const back = await duckRows(read);
      if (format === "csv") {
        // CSV has no nested values: lists, maps and structs are written as their JSON text.
        const asJson = (r: Record<string, CellValue>) =>
          Object.fromEntries(everyType.fields.map((f) => [f.name, ["list", "map", "struct"].includes(f.type.kind) && r[f.name] !== null ? jsonEncoder(f.type)(r[f.name]!) : r[f.name]]));
        expect(back).toEqual(input.map(asJson));
      } else expect(back, format).toEqual(input);
    }
  });

  it("writes JSON that a files source reads back into the same rows", async () => {
    const dir = tempDir();
    await new FilesSink("s.files", everyType, dir, "json").write(0, batchFromRows(everyType, input), "append");
    expect(readFileSync(join(dir, "part-00000000.json"), "utf8").split("\n")[1]).toBe(
      '{"b":false,"i":-2,"l":-1,"d":null,"m":-0.05,"s":null,"raw":"","day":"1969-12-31","ts":"1970-01-01T00:00:00Z","tags":null,"attrs":{},"who":null}',
    );
    for (const format of ["json", "csv", "parquet"] as const) {
      const out = tempDir();
      await new FilesSink("s.files", everyType, out, format).write(0, batchFromRows(everyType, input), "append");
      const source = new FilesSource("again", everyType, out, { format });
      await source.open(undefined);
      const got = await source.read(source.plan(undefined, { latest: await source.latest() })!);
      expect(got.rejects, format).toEqual([]);
      expect(rows(got.batch), format).toEqual(input);
    }
  });

  it("replaces a replayed batch's file instead of adding one, leaves no temporary files, and writes nothing for an empty batch", async () => {
    const dir = tempDir();
    const schema: Schema = { fields: [field("n", t.int)] };
    const sink = new FilesSink("s.files", schema, dir, "json");
    await sink.write(1, batchFromRows(schema, [{ n: 1 }]), "append");
    await sink.write(2, batchFromRows(schema, [{ n: 2 }]), "append");
    await sink.write(2, batchFromRows(schema, [{ n: 2 }]), "append");
    await sink.write(3, batchFromRows(schema, []), "append");
    expect(readdirSync(dir).sort()).toEqual(["part-00000001.json", "part-00000002.json"]);
    expect(await duckRows(`select n from read_json('${dir}/*.json') order by n`)).toEqual([{ n: 1 }, { n: 2 }]);
    // An earlier attempt of an empty batch left a file: the replay removes it.
    writeFileSync(join(dir, "part-00000003.json"), '{"n": 9}\n');
    await sink.write(3, batchFromRows(schema, []), "append");
    expect(readdirSync(dir).sort()).toEqual(["part-00000001.json", "part-00000002.json"]);
  });

  it("is built from its plan entry", async () => {
    const cwd = tempDir();
    const spec: SinkSpec = {
      id: "paid.files",
      input: "paid",
      connector: "files",
      target: { kind: "literal", value: "out/paid" },
      mode: "append",
      options: { format: { kind: "word", word: "csv" } },
      key: undefined,
      schema: { fields: [field("n", t.int)] },
    };
    await createSink(spec, { cwd, env: {}, pipelineId: "test" }).write(4, batchFromRows(spec.schema, [{ n: 4 }]), "append");
    expect(readFileSync(join(cwd, "out/paid/part-00000004.csv"), "utf8")).toBe("n\n4\n");
    let printed = "";
    await createSink({ ...spec, connector: "console", options: { rows: { kind: "integer", value: 5 } } }, { cwd, env: {}, pipelineId: "test", stdout: { write: (s: string) => (printed += s) } }).write(
      0,
      batchFromRows(spec.schema, [{ n: 1 }]),
      "append",
    );
    expect(printed).toContain("|  1|");
  });
});

// ---- dead letter ---------------------------------------------------------------------------------

describe("the dead letter", () => {
  it("turns rejects into a batch that a files sink writes and DuckDB reads", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "in.json"), '{"id": 1}\n{"id": "x"}\n');
    const source = new FilesSource("orders", { fields: [field("id", t.int)] }, dir, { format: "json", decode: { now: () => 1704067200000000 } });
    await source.open(undefined);
    const { rejects } = await source.read(source.plan(undefined, { latest: await source.latest() })!);
    const late = lateRejects("revenue.aggregate", batchFromRows({ fields: [field("ts", t.timestamp)] }, [{ ts: 0 }, { ts: 5 }]), [1], 1704067200000001, 60_000_000);
    const batch = rejectsToBatch(12, [...rejects, ...late, { reason: "malformed", source: "events", position: { kind: "partition", partition: 3, offset: 99 }, raw: Uint8Array.of(0xff), detail: "invalid UTF-8", time: 2 }]);
    expect(batch.schema).toBe(deadLetterSchema);
    const out = join(tempDir(), "rejects");
    const sink = deadLetterSink({ kind: "connector", connector: "files", target: { kind: "literal", value: out } }, { cwd: "/", env: {}, pipelineId: "test" })!;
    await sink.write(12, batch, "append");
    expect(await duckRows(`select * replace (from_base64(raw) as raw) from read_json('${out}/part-00000012.json', columns = {batch_id: 'BIGINT', time: 'TIMESTAMPTZ', source: 'VARCHAR', reason: 'VARCHAR', detail: 'VARCHAR', file: 'VARCHAR', line: 'BIGINT', partition: 'INTEGER', "offset": 'BIGINT', raw: 'VARCHAR'})`)).toEqual([
      {
        batch_id: 12,
        time: 1704067200000000,
        source: "orders",
        reason: "type_mismatch",
        detail: 'field "id": expected int, got the string "x"',
        file: join(dir, "in.json"),
        line: 2,
        partition: null,
        offset: null,
        raw: new TextEncoder().encode('{"id": "x"}'),
      },
      {
        batch_id: 12,
        time: 1704067200000001,
        source: "revenue.aggregate",
        reason: "late",
        detail: "behind the watermark 1970-01-01T00:01:00Z",
        file: null,
        line: null,
        partition: null,
        offset: null,
        raw: new TextEncoder().encode('{"ts":"1970-01-01T00:00:00.000005Z"}'),
      },
      { batch_id: 12, time: 2, source: "events", reason: "malformed", detail: "invalid UTF-8", file: null, line: null, partition: 3, offset: 99, raw: Uint8Array.of(0xff) },
    ]);
  });
});
