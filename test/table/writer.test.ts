/**
 * The table sink and its Delta log writer: what it writes reads back, through DuckDB and
 * parquetjs-lite, as the rows it was given; the log keeps the protocol's rules
 * (test/support/delta-log-validator.ts) through replays, crashes, concurrent writers, complete
 * mode, partitions, schema evolution and checkpoints.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import { deadLetterSchema, type RejectedRecord, rejectsToBatch } from "../../runtime/deadletter.ts";
import type { Field, Schema } from "../../runtime/plan.ts";
import { deadLetterSink } from "../../runtime/sinks/index.ts";
import { TableSink, type TableSinkOptions } from "../../runtime/sinks/table.ts";
import { snapshot } from "../../runtime/table/delta-log.ts";
import { tableHistory } from "../../runtime/table/history.ts";
import { commitInfo, putCommit } from "../../runtime/table/log-writer.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { validateDeltaLog } from "../support/delta-log-validator.ts";
import { canonicalRows, duckTableRows, parquetjsFileRecords, parquetjsTableRows, statsProblems } from "../support/delta-table-oracle.ts";
import { duckRows } from "../support/duckdb.ts";
import { allTypesSchema, randomRows } from "../support/table-data.ts";
import { batchRows, type WriterJob, writerSchema } from "../support/table-writer-process.ts";

type Row = Record<string, CellValue>;

const root = resolve(import.meta.dirname, "../..");
const conformance = resolve(root, "../shared/conformance/delta");
const writerScript = join(root, "test/support/table-writer-process.ts");

const scratch = mkdtempSync(join(tmpdir(), "streamc-table-writer-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tempTable(): string {
  return join(mkdtempSync(join(scratch, "t-")), "table");
}

function sink(dir: string, schema: Schema, options: Partial<TableSinkOptions> = {}, pipelineId = "pipeline"): TableSink {
  return new TableSink("out.table", schema, dir, { partitionBy: [], targetFileSize: 128 * 1024 * 1024, compactEvery: undefined, ...options }, `${pipelineId}/out.table`);
}

async function expectTable(dir: string, fields: readonly Field[], rows: readonly Row[]): Promise<void> {
  expect(validateDeltaLog(dir)).toEqual([]);
  expect(canonicalRows(await duckTableRows(dir), fields)).toEqual(canonicalRows(rows, fields));
}

function logNames(dir: string): string[] {
  return readdirSync(join(dir, "_delta_log")).filter((n) => !n.startsWith(".")).sort();
}

function commitLines(dir: string, version: number): Record<string, Record<string, unknown>>[] {
  return readFileSync(join(dir, "_delta_log", `${String(version).padStart(20, "0")}.json`), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
}

/** Runs the writer process to the end (or its crash). */
function runWriter(job: WriterJob, env: Record<string, string> = {}): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", writerScript, JSON.stringify(job)], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function startWriter(job: WriterJob): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", writerScript, JSON.stringify(job)], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => done({ code, stderr }));
  });
}

describe("what the table sink writes reads back", () => {
  it("every type, with nulls and extremes, through DuckDB, with statistics DuckDB agrees with", async () => {
    const dir = tempTable();
    const out = sink(dir, allTypesSchema);
    const written: Row[] = [];
    for (let b = 0; b < 3; b++) {
      const rows = randomRows(allTypesSchema, 300, 100 + b, b * 1000);
      written.push(...rows);
      await out.write(b, batchFromRows(allTypesSchema, rows), "append");
    }
    await expectTable(dir, allTypesSchema.fields, written);
    expect(await statsProblems(dir)).toEqual([]);
    expect(snapshot(dir).metadata.schemaString).toBe(
      JSON.stringify({
        type: "struct",
        fields: [
          { name: "id", type: "long", nullable: false, metadata: {} },
          { name: "flag", type: "boolean", nullable: true, metadata: {} },
          { name: "small", type: "integer", nullable: true, metadata: {} },
          { name: "big", type: "long", nullable: true, metadata: {} },
          { name: "ratio", type: "double", nullable: true, metadata: {} },
          { name: "price", type: "decimal(18,4)", nullable: true, metadata: {} },
          { name: "huge", type: "decimal(38,10)", nullable: true, metadata: {} },
          { name: "label", type: "string", nullable: true, metadata: {} },
          { name: "blob", type: "binary", nullable: true, metadata: {} },
          { name: "day", type: "date", nullable: true, metadata: {} },
          { name: "at", type: "timestamp", nullable: true, metadata: {} },
          { name: "tags", type: { type: "array", elementType: "integer", containsNull: true }, nullable: true, metadata: {} },
          { name: "attrs", type: { type: "map", keyType: "string", valueType: "string", valueContainsNull: true }, nullable: true, metadata: {} },
          {
            name: "point",
            type: { type: "struct", fields: [{ name: "x", type: "double", nullable: true, metadata: {} }, { name: "name", type: "string", nullable: true, metadata: {} }] },
            nullable: true,
            metadata: {},
          },
        ],
      }),
    );
  });

  it("writes Parquet that says what it holds: zstd, INT64 microsecond timestamps adjusted to UTC, named part-NNNNN-<uuid>-c000.zstd.parquet", async () => {
    const dir = tempTable();
    await sink(dir, allTypesSchema).write(0, batchFromRows(allTypesSchema, randomRows(allTypesSchema, 50, 7)), "append");
    const [file] = snapshot(dir).files;
    expect(file!.path).toMatch(/^part-00000-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-c000\.zstd\.parquet$/);
    const path = join(dir, file!.path);
    const at = await duckRows(`SELECT type, logical_type FROM parquet_schema('${path}') WHERE name = 'at'`);
    expect(at).toEqual([{ type: "INT64", logical_type: "TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))" }]);
    const described = await duckRows(`DESCRIBE SELECT "at", day, price FROM read_parquet('${path}')`);
    expect(described.map((r) => [r["column_name"], r["column_type"]])).toEqual([
      ["at", "TIMESTAMP WITH TIME ZONE"],
      ["day", "DATE"],
      ["price", "DECIMAL(18,4)"],
    ]);
    const codecs = await duckRows(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
    expect(codecs).toEqual([{ compression: "ZSTD" }]);
  });

  it("parquetjs-lite reads neither zstd nor dictionary pages nor decimals: the default files are unreadable to it", async () => {
    const dir = tempTable();
    const schema: Schema = { fields: allTypesSchema.fields.filter((f) => f.type.kind !== "decimal") };
    await sink(dir, schema).write(0, batchFromRows(schema, randomRows(schema, 20, 8)), "append");
    await expect(parquetjsFileRecords(join(dir, snapshot(dir).files[0]!.path))).rejects.toBe("invalid compression method: ZSTD");

    const plain = tempTable();
    const decimals: Schema = { fields: allTypesSchema.fields.filter((f) => f.type.kind === "decimal" || f.name === "id") };
    await sink(plain, decimals, { dataFileFormat: { compression: "snappy", dictionary: false } }).write(0, batchFromRows(decimals, randomRows(decimals, 5, 9)), "append");
    await expect(parquetjsFileRecords(join(plain, snapshot(plain).files[0]!.path))).rejects.toThrow("invalid parquet type: DECIMAL");
  });

  it("written with snappy and no dictionary, every type but decimal reads back through parquetjs-lite (timestamps to the millisecond)", async () => {
    const dir = tempTable();
    const schema: Schema = { fields: allTypesSchema.fields.filter((f) => f.type.kind !== "decimal") };
    const out = sink(dir, schema, { dataFileFormat: { compression: "snappy", dictionary: false } });
    const written: Row[] = [];
    for (let b = 0; b < 2; b++) {
      const rows = randomRows(schema, 200, 300 + b, b * 1000);
      written.push(...rows);
      await out.write(b, batchFromRows(schema, rows), "append");
    }
    expect(snapshot(dir).files.every((f) => f.path.endsWith(".snappy.parquet"))).toBe(true);
    // parquetjs-lite turns TIMESTAMP_MICROS into a Date: compare at millisecond precision.
    const toMillis = (rows: readonly Row[]): Row[] => rows.map((r) => ({ ...r, at: r["at"] === null ? null : Math.trunc((r["at"] as number) / 1000) * 1000 }));
    expect(canonicalRows(toMillis(await parquetjsTableRows(dir)), schema.fields)).toEqual(canonicalRows(toMillis(written), schema.fields));
    await expectTable(dir, schema.fields, written);
  });

  it("follows the table's delta.parquet.compression.codec", async () => {
    const dir = tempTable();
    const schema: Schema = { fields: [{ name: "n", type: { kind: "long" }, nullable: false }] };
    await putCommit(dir, 0, [
      { commitInfo: commitInfo("CREATE TABLE", {}, true) },
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      {
        metaData: {
          id: "made-by-hand",
          name: null,
          description: null,
          format: { provider: "parquet", options: {} },
          schemaString: JSON.stringify({ type: "struct", fields: [{ name: "n", type: "long", nullable: false, metadata: {} }] }),
          partitionColumns: [],
          configuration: { "delta.parquet.compression.codec": "snappy" },
          createdTime: 0,
        },
      },
    ]);
    await sink(dir, schema).write(0, batchFromRows(schema, [{ n: 1 }, { n: 2 }]), "append");
    const [file] = snapshot(dir).files;
    expect(file!.path).toMatch(/\.snappy\.parquet$/);
    expect(await duckRows(`SELECT DISTINCT compression FROM parquet_metadata('${join(dir, file!.path)}')`)).toEqual([{ compression: "SNAPPY" }]);
    await expectTable(dir, schema.fields, [{ n: 1 }, { n: 2 }]);
  });

  it("writes the dead letter's bytes and timestamps to a table", async () => {
    const dir = tempTable();
    const deadLetter = deadLetterSink({ kind: "connector", connector: "table", target: { kind: "literal", value: dir } }, { cwd: "/", env: {}, pipelineId: "dl" })!;
    const rejects: RejectedRecord[] = [
      { reason: "malformed", source: "orders", detail: "not JSON", position: { kind: "file", file: "in/a.json", line: 3 }, raw: new Uint8Array([123, 0, 255]), time: 1_700_000_000_123_456 },
      { reason: "late", source: "w.window-aggregate", detail: "behind the watermark", position: { kind: "none" }, raw: new TextEncoder().encode('{"a":1}'), time: 1_700_000_001_000_001 },
    ];
    const batch = rejectsToBatch(4, rejects);
    await deadLetter.write(4, batch, "append");
    const [commit] = tableHistory(dir);
    expect(commit!.txns).toEqual([{ appId: "dl/deadletter", version: 4 }]);
    const { batchToRows } = await import("../../runtime/columnar/batch-ops.ts");
    await expectTable(dir, deadLetterSchema.fields, batchToRows(batch));
  });
});

describe("exactly once", () => {
  const schema: Schema = { fields: [{ name: "n", type: { kind: "int" }, nullable: false }] };

  it("writes a replayed batch once: the table's txn for the sink says it is there", async () => {
    const dir = tempTable();
    const out = sink(dir, schema);
    await out.write(0, batchFromRows(schema, [{ n: 1 }]), "append");
    await out.write(1, batchFromRows(schema, [{ n: 2 }]), "append");
    // A restart replays batch 1 (its log commit landed, the checkpoint's commits/1 did not).
    const restarted = sink(dir, schema);
    await restarted.write(1, batchFromRows(schema, [{ n: 2 }]), "append");
    expect(restarted.lastOutcome).toEqual({ kind: "skipped", reason: "already-committed" });
    await restarted.write(2, batchFromRows(schema, [{ n: 3 }]), "append");
    expect(logNames(dir)).toEqual(["00000000000000000000.json", "00000000000000000001.json", "00000000000000000002.json"]);
    expect(commitLines(dir, 1).map((a) => a["txn"]).filter(Boolean)).toEqual([{ appId: "pipeline/out.table", version: 1, lastUpdated: expect.any(Number) }]);
    await expectTable(dir, schema.fields, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("commits nothing for an empty append batch, and a replay of it adds nothing", async () => {
    const dir = tempTable();
    const out = sink(dir, schema);
    await out.write(0, batchFromRows(schema, [{ n: 1 }]), "append");
    await out.write(1, batchFromRows(schema, []), "append");
    expect(out.lastOutcome).toEqual({ kind: "skipped", reason: "nothing-to-write" });
    await out.write(1, batchFromRows(schema, []), "append");
    expect(snapshot(dir).version).toBe(0);
    await expectTable(dir, schema.fields, [{ n: 1 }]);
  });

  for (const point of ["table.parquet-write", "table.before-log", "storage.before-link"]) {
    it(`loses and duplicates nothing when the process dies at ${point}`, () => {
      const dir = tempTable();
      const job: WriterJob = { table: dir, pipelineId: "crashy", from: 0, to: 4, rows: 7 };
      // Dies while writing batch 2 (the point's third hit: batches 0 and 1 pass it first).
      const hitsPerBatch = point === "table.parquet-write" ? 3 : 1; // three partitions, one file each
      const crashed = runWriter(job, { STREAMC_CRASH_AT: `${point}@${2 * hitsPerBatch + 1}` });
      expect(crashed.signal).toBe("SIGKILL");
      expect(tableHistory(dir).map((e) => e.txns)).toEqual([[{ appId: "crashy/out.table", version: 1 }], [{ appId: "crashy/out.table", version: 0 }]]);
      expect(validateDeltaLog(dir)).toEqual([]);
      // The restart replays batch 2 (the engine would), then goes on.
      const restarted = runWriter({ ...job, from: 2 });
      expect(restarted.status).toBe(0);
      expect(restarted.stdout.split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { outcome: { kind: string } }).outcome.kind)).toEqual(["committed", "committed"]);
      return expectTable(dir, writerSchema.fields, [0, 1, 2, 3].flatMap((b) => batchRows("crashy", b, 7)));
    });
  }

  it("replaying a batch that is already committed, after a crash past the log commit, skips it", () => {
    const dir = tempTable();
    const job: WriterJob = { table: dir, pipelineId: "late", from: 0, to: 3, rows: 5 };
    expect(runWriter(job).status).toBe(0);
    const replay = runWriter({ ...job, from: 2 });
    expect(replay.stdout.trim()).toBe(JSON.stringify({ batchId: 2, outcome: { kind: "skipped", reason: "already-committed" } }));
    return expectTable(dir, writerSchema.fields, [0, 1, 2].flatMap((b) => batchRows("late", b, 5)));
  });
});

describe("concurrent writers", () => {
  it("two sinks appending at once in one process: a valid log, every row once", async () => {
    const dir = tempTable();
    const a = sink(dir, writerSchema, { partitionBy: ["part"] }, "a");
    const b = sink(dir, writerSchema, { partitionBy: ["part"] }, "b");
    const write = async (s: TableSink, name: string): Promise<void> => {
      for (let batch = 0; batch < 15; batch++) await s.write(batch, batchFromRows(writerSchema, batchRows(name, batch, 4)), "append");
    };
    await Promise.all([write(a, "a"), write(b, "b")]);
    expect(snapshot(dir).version).toBe(29);
    expect(snapshot(dir).txns).toEqual(new Map([["a/out.table", 14], ["b/out.table", 14]]));
    await expectTable(dir, writerSchema.fields, ["a", "b"].flatMap((w) => Array.from({ length: 15 }, (_, batch) => batchRows(w, batch, 4)).flat()));
  });

  it("two processes appending at once: a valid log, every row once", async () => {
    const dir = tempTable();
    const results = await Promise.all(["p", "q"].map((pipelineId) => startWriter({ table: dir, pipelineId, from: 0, to: 12, rows: 5 })));
    expect(results).toEqual([{ code: 0, stderr: "" }, { code: 0, stderr: "" }]);
    expect(snapshot(dir).version).toBe(23);
    await expectTable(dir, writerSchema.fields, ["p", "q"].flatMap((w) => Array.from({ length: 12 }, (_, batch) => batchRows(w, batch, 5)).flat()));
  });

  it("two processes of one pipeline writing the same batches (a zombie and its replacement): each batch once", async () => {
    const dir = tempTable();
    const results = await Promise.all([0, 1].map(() => startWriter({ table: dir, pipelineId: "same", from: 0, to: 10, rows: 3 })));
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(snapshot(dir).version).toBe(9);
    await expectTable(dir, writerSchema.fields, Array.from({ length: 10 }, (_, batch) => batchRows("same", batch, 3)).flat());
  });
});

describe("complete mode", () => {
  const schema: Schema = { fields: [{ name: "word", type: { kind: "string" }, nullable: false }, { name: "n", type: { kind: "long" }, nullable: false }] };

  it("replaces the table's rows with each batch's: one commit removing every live file and adding the new ones", async () => {
    const dir = tempTable();
    const out = sink(dir, schema);
    await out.write(0, batchFromRows(schema, [{ word: "a", n: 1 }]), "complete");
    await out.write(1, batchFromRows(schema, [{ word: "a", n: 2 }, { word: "b", n: 1 }]), "complete");
    await out.write(2, batchFromRows(schema, [{ word: "a", n: 3 }, { word: "b", n: 1 }]), "complete");
    await out.write(2, batchFromRows(schema, [{ word: "a", n: 3 }, { word: "b", n: 1 }]), "complete");
    const history = tableHistory(dir);
    expect(history.map((e) => [e.version, e.operation, e.filesAdded, e.filesRemoved])).toEqual([
      [2, "STREAMING UPDATE", 1, 1],
      [1, "STREAMING UPDATE", 1, 1],
      [0, "STREAMING UPDATE", 1, 0],
    ]);
    const removes = commitLines(dir, 2).flatMap((a) => (a["remove"] ? [a["remove"]] : []));
    expect(removes).toEqual([
      {
        path: commitLines(dir, 1).find((a) => a["add"])!["add"]!["path"],
        deletionTimestamp: expect.any(Number),
        dataChange: true,
        extendedFileMetadata: true,
        partitionValues: {},
        size: expect.any(Number),
      },
    ]);
    await expectTable(dir, schema.fields, [{ word: "a", n: 3 }, { word: "b", n: 1 }]);
  });

  it("an empty complete batch empties the table", async () => {
    const dir = tempTable();
    const out = sink(dir, schema);
    await out.write(0, batchFromRows(schema, [{ word: "a", n: 1 }]), "complete");
    await out.write(1, batchFromRows(schema, []), "complete");
    expect(tableHistory(dir)[0]).toMatchObject({ version: 1, filesAdded: 0, filesRemoved: 1 });
    await expectTable(dir, schema.fields, []);
  });
});

describe("partition_by", () => {
  const schema: Schema = {
    fields: [
      { name: "region", type: { kind: "string" }, nullable: true },
      { name: "year", type: { kind: "int" }, nullable: true },
      { name: "amount", type: { kind: "decimal", precision: 10, scale: 2 }, nullable: true },
      { name: "at", type: { kind: "timestamp" }, nullable: true },
    ],
  };
  const regions = [null, "", "DE", "a b", "x/y", "日本", "a=b", "50%", "?*:#"];

  it("writes one directory per partition value (escaped as Spark does, null as __HIVE_DEFAULT_PARTITION__), not the partition columns in the files", async () => {
    const dir = tempTable();
    const rows: Row[] = regions.flatMap((region, i) => [
      { region, year: 2024, amount: BigInt(i * 100 + 1), at: 1_700_000_000_000_000 + i },
      { region, year: i % 2 === 0 ? null : 2023, amount: null, at: null },
    ]);
    await sink(dir, schema, { partitionBy: ["region", "year"] }).write(0, batchFromRows(schema, rows), "append");
    expect(readdirSync(dir).sort()).toEqual(
      ["_delta_log", "region=__HIVE_DEFAULT_PARTITION__", "region=DE", "region=a b", "region=x%2Fy", "region=日本", "region=a%3Db", "region=50%25", "region=%3F%2A%3A%23"].sort(),
    );
    expect(readdirSync(join(dir, "region=x%2Fy")).sort()).toEqual(["year=2024", "year=__HIVE_DEFAULT_PARTITION__"]);
    expect(readdirSync(join(dir, "region=a b")).sort()).toEqual(["year=2023", "year=2024"]);
    expect(readdirSync(join(dir, "region=DE")).sort()).toEqual(["year=2024", "year=__HIVE_DEFAULT_PARTITION__"]);
    const add = commitLines(dir, 0).find((a) => a["add"] && (a["add"]["partitionValues"] as Record<string, unknown>)["region"] === "x/y" && (a["add"]["partitionValues"] as Record<string, unknown>)["year"] === "2024")!["add"]!;
    expect(add["path"]).toMatch(/^region=x%252Fy\/year=2024\/part-\d{5}-[0-9a-f-]{36}-c000\.zstd\.parquet$/);
    const file = snapshot(dir).files[0]!;
    expect((await duckRows(`SELECT name FROM parquet_schema('${join(dir, decodeURIComponent(file.path))}') WHERE name IN ('region', 'year', 'amount', 'at')`)).map((r) => r["name"])).toEqual(["amount", "at"]);
    // The empty string is a null partition value in Delta (and Spark): it reads back as null.
    await expectTable(dir, schema.fields, rows.map((r) => ({ ...r, region: r["region"] === "" ? null : r["region"]! })));
    expect(readTable(dir).filter((r) => r["region"] === "日本")).toHaveLength(2);
  });

  it("partitions by a date, a timestamp and a decimal, read back by DuckDB casting the log's texts", async () => {
    const dir = tempTable();
    const typed: Schema = {
      fields: [
        { name: "d", type: { kind: "date" }, nullable: true },
        { name: "t", type: { kind: "timestamp" }, nullable: true },
        { name: "m", type: { kind: "decimal", precision: 10, scale: 2 }, nullable: true },
        { name: "b", type: { kind: "bool" }, nullable: true },
        { name: "v", type: { kind: "double" }, nullable: true },
      ],
    };
    const rows: Row[] = [
      { d: 19_723, t: 1_704_067_200_000_000, m: 1250n, b: true, v: 1.5 },
      { d: -1, t: 1_704_067_200_500_001, m: -5n, b: false, v: 2 },
      { d: null, t: null, m: null, b: null, v: null },
    ];
    await sink(dir, typed, { partitionBy: ["d", "t", "m", "b"] }).write(0, batchFromRows(typed, rows), "append");
    expect(snapshot(dir).files.map((f) => f.partitionValues).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
      { d: "1969-12-31", t: "2024-01-01T00:00:00.500001Z", m: "-0.05", b: "false" },
      { d: "2024-01-01", t: "2024-01-01T00:00:00Z", m: "12.50", b: "true" },
      { d: null, t: null, m: null, b: null },
    ]);
    await expectTable(dir, typed.fields, rows);
  });
});

describe("schema evolution", () => {
  const v1: Schema = { fields: [{ name: "id", type: { kind: "long" }, nullable: false }, { name: "name", type: { kind: "string" }, nullable: true }] };

  async function tableOf(schema: Schema, options: Partial<TableSinkOptions> = {}): Promise<string> {
    const dir = tempTable();
    await sink(dir, schema, options).write(0, batchFromRows(schema, [{ id: 1, name: "one" }]), "append");
    return dir;
  }

  it("adds a nullable column in the same commit as the data, with the same table id; old rows read it as null", async () => {
    const dir = await tableOf(v1);
    const v2: Schema = { fields: [...v1.fields, { name: "score", type: { kind: "double" }, nullable: true }] };
    await sink(dir, v2, {}, "other").write(0, batchFromRows(v2, [{ id: 2, name: "two", score: 0.5 }]), "append");
    const actions = commitLines(dir, 1);
    const metaData = actions.filter((a) => a["metaData"]).map((a) => a["metaData"]!);
    expect(metaData).toHaveLength(1);
    expect(metaData[0]!["id"]).toBe(snapshot(dir, 0).metadata.id);
    expect(JSON.parse(metaData[0]!["schemaString"] as string).fields.map((f: { name: string }) => f.name)).toEqual(["id", "name", "score"]);
    expect(actions.some((a) => a["add"])).toBe(true);
    await expectTable(dir, v2.fields, [{ id: 1, name: "one", score: null }, { id: 2, name: "two", score: 0.5 }]);
  });

  it("writes rows without a nullable table column: they read as null", async () => {
    const dir = await tableOf(v1);
    const narrow: Schema = { fields: [v1.fields[0]!] };
    await sink(dir, narrow, {}, "narrow").write(0, batchFromRows(narrow, [{ id: 3 }]), "append");
    await expectTable(dir, v1.fields, [{ id: 1, name: "one" }, { id: 3, name: null }]);
  });

  const refusals: [string, Schema, Partial<TableSinkOptions>, Row[], (dir: string) => string][] = [
    [
      "a column's type change",
      { fields: [{ name: "id", type: { kind: "int" }, nullable: false }, v1.fields[1]!] },
      {},
      [{ id: 2, name: "x" }],
      (dir) => `table ${dir}: column id is long in the table but integer in the sink's schema; a column's type cannot change: write to a new table path`,
    ],
    [
      "a new non-nullable column",
      { fields: [...v1.fields, { name: "extra", type: { kind: "bool" }, nullable: false }] },
      {},
      [{ id: 2, name: "x", extra: true }],
      (dir) => `table ${dir}: column extra is not in the table and is not nullable; a column added to an existing table must be nullable: make it nullable, or write to a new table path`,
    ],
    [
      "a partition column change",
      v1,
      { partitionBy: ["name"] },
      [{ id: 2, name: "x" }],
      (dir) => `table ${dir}: it is partitioned by [] but the sink's partition_by is [name]; partition columns cannot change: set partition_by = [], or write to a new table path`,
    ],
    [
      "a missing non-nullable table column",
      { fields: [v1.fields[1]!] },
      {},
      [{ name: "x" }],
      (dir) => `table ${dir}: column id is not nullable in the table but the sink's schema has no such column; add it to the stream, or write to a new table path`,
    ],
    [
      "a column differing only in case",
      { fields: [...v1.fields, { name: "NAME", type: { kind: "string" }, nullable: true }] },
      {},
      [{ id: 2, name: "x", NAME: "y" }],
      (dir) => `table ${dir}: column NAME differs from the table's column name only in case; Delta column names ignore case: rename the column to name, or write to a new table path`,
    ],
    [
      "nulls in a non-nullable table column",
      { fields: [{ name: "id", type: { kind: "long" }, nullable: true }, v1.fields[1]!] },
      {},
      [{ id: null, name: "x" }],
      (dir) => `table ${dir}: column id is not nullable in the table but batch 5 has nulls in it; nothing was written: keep nulls out of the column (coalesce), or write to a new table path`,
    ],
  ];
  for (const [what, schema, options, rows, message] of refusals) {
    it(`refuses ${what}, writing nothing`, async () => {
      const dir = await tableOf(v1);
      const before = logNames(dir);
      const files = readdirSync(dir).sort();
      await expect(sink(dir, schema, options, "changed").write(5, batchFromRows(schema, rows), "append")).rejects.toThrow(message(dir));
      expect(logNames(dir)).toEqual(before);
      expect(readdirSync(dir).sort()).toEqual(files);
      await expectTable(dir, v1.fields, [{ id: 1, name: "one" }]);
    });
  }
});

describe("tables written by others", () => {
  it.skipIf(!existsSync(conformance))("appends to a table Spark wrote, keeping its rows", async () => {
    const dir = tempTable();
    cpSync(join(conformance, "dat/basic_append/delta"), dir, { recursive: true });
    const schema: Schema = {
      fields: [
        { name: "letter", type: { kind: "string" }, nullable: true },
        { name: "number", type: { kind: "long" }, nullable: true },
        { name: "a_float", type: { kind: "double" }, nullable: true },
      ],
    };
    const before = await duckTableRows(dir);
    expect(before).toHaveLength(5);
    await sink(dir, schema).write(0, batchFromRows(schema, [{ letter: "z", number: 26, a_float: 26.5 }]), "append");
    expect(snapshot(dir).version).toBe(2);
    expect(canonicalRows(await duckTableRows(dir), schema.fields)).toEqual(canonicalRows([...before, { letter: "z", number: 26, a_float: 26.5 }], schema.fields));
  });

  it.skipIf(!existsSync(conformance))("writes a table with reader and writer features it honours (vacuumProtocolCheck, appendOnly, invariants unused), and checkpoints it", async () => {
    const dir = tempTable();
    cpSync(join(conformance, "golden/basic-with-vacuum-protocol-check-feature/delta"), dir, { recursive: true });
    const schema: Schema = { fields: [{ name: "id", type: { kind: "int" }, nullable: true }, { name: "str", type: { kind: "string" }, nullable: true }] };
    const before = await duckTableRows(dir);
    const out = sink(dir, schema);
    const added: Row[] = [];
    for (let b = 0; b < 9; b++) {
      added.push({ id: 1000 + b, str: `s${b}` });
      await out.write(b, batchFromRows(schema, [added[b]!]), "append");
    }
    expect(snapshot(dir).version).toBe(10);
    expect(existsSync(join(dir, "_delta_log", "00000000000000000010.checkpoint.parquet"))).toBe(true);
    expect(snapshot(dir).protocol).toEqual({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["vacuumProtocolCheck"], writerFeatures: ["appendOnly", "invariants", "vacuumProtocolCheck"] });
    expect(canonicalRows(await duckTableRows(dir), schema.fields)).toEqual(canonicalRows([...before, ...added], schema.fields));
  });

  it.skipIf(!existsSync(conformance))("refuses a table with a feature the reader does not support, writing nothing", async () => {
    const dir = tempTable();
    cpSync(join(conformance, "golden/dv-partitioned-with-checkpoint/delta"), dir, { recursive: true });
    const before = readdirSync(join(dir, "_delta_log")).sort();
    const schema: Schema = { fields: [{ name: "value", type: { kind: "int" }, nullable: true }] };
    await expect(sink(dir, schema).write(0, batchFromRows(schema, [{ value: 1 }]), "append")).rejects.toThrow(`unsupported table feature deletionVectors in ${dir}`);
    expect(readdirSync(join(dir, "_delta_log")).sort()).toEqual(before);
  });

  const writerRefusals: [string, Record<string, unknown>, Record<string, string>, Record<string, unknown>, string][] = [
    ["a writer feature it does not know", { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ["domainMetadata"] }, {}, {}, "domainMetadata"],
    ["a writer version above 7", { minReaderVersion: 1, minWriterVersion: 8 }, {}, {}, "writerVersion8"],
    ["CHECK constraints", { minReaderVersion: 1, minWriterVersion: 3 }, { "delta.constraints.positive": "n > 0" }, {}, "checkConstraints"],
    ["column invariants", { minReaderVersion: 1, minWriterVersion: 2 }, {}, { "delta.invariants": '{"expression":{"expression":"n > 0"}}' }, "invariants"],
    ["generated columns", { minReaderVersion: 1, minWriterVersion: 4 }, {}, { "delta.generationExpression": "1" }, "generatedColumns"],
    ["identity columns", { minReaderVersion: 1, minWriterVersion: 6 }, {}, { "delta.identity.start": 1 }, "identityColumns"],
    ["change data feed", { minReaderVersion: 1, minWriterVersion: 4 }, { "delta.enableChangeDataFeed": "true" }, {}, "changeDataFeed"],
  ];
  for (const [what, protocol, configuration, columnMetadata, feature] of writerRefusals) {
    it(`refuses a table with ${what}: "unsupported table feature ${feature}", writing nothing`, async () => {
      const dir = tempTable();
      await putCommit(dir, 0, [
        { commitInfo: commitInfo("CREATE TABLE", {}, true) },
        { protocol: protocol as never },
        {
          metaData: {
            id: "t",
            name: null,
            description: null,
            format: { provider: "parquet", options: {} },
            schemaString: JSON.stringify({ type: "struct", fields: [{ name: "n", type: "long", nullable: true, metadata: columnMetadata }] }),
            partitionColumns: [],
            configuration,
            createdTime: 0,
          },
        },
      ]);
      const schema: Schema = { fields: [{ name: "n", type: { kind: "long" }, nullable: true }] };
      await expect(sink(dir, schema).write(0, batchFromRows(schema, [{ n: 1 }]), "append")).rejects.toThrow(
        `unsupported table feature ${feature} in ${dir}: streamc does not write tables that use it; write to a new table path`,
      );
      expect(logNames(dir)).toEqual(["00000000000000000000.json"]);
      expect(readdirSync(dir)).toEqual(["_delta_log"]);
    });
  }

  it("refuses complete mode on an append-only table", async () => {
    const dir = tempTable();
    const schema: Schema = { fields: [{ name: "n", type: { kind: "long" }, nullable: true }] };
    await putCommit(dir, 0, [
      { commitInfo: commitInfo("CREATE TABLE", {}, true) },
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      {
        metaData: {
          id: "t",
          name: null,
          description: null,
          format: { provider: "parquet", options: {} },
          schemaString: JSON.stringify({ type: "struct", fields: [{ name: "n", type: "long", nullable: true, metadata: {} }] }),
          partitionColumns: [],
          configuration: { "delta.appendOnly": "true" },
          createdTime: 0,
        },
      },
    ]);
    await sink(dir, schema).write(0, batchFromRows(schema, [{ n: 1 }]), "append");
    await expect(sink(dir, schema, {}, "other").write(0, batchFromRows(schema, [{ n: 2 }]), "complete")).rejects.toThrow(
      `table ${dir} is append-only (delta.appendOnly = true): mode = complete would remove its files; use mode = append, or write to a new table path`,
    );
    await expectTable(dir, schema.fields, [{ n: 1 }]);
  });
});

describe("checkpoints", () => {
  it("writes one every 10 commits that the reader starts from, also when the earlier commits are gone", async () => {
    const dir = tempTable();
    const schema: Schema = { fields: [{ name: "n", type: { kind: "long" }, nullable: false }, { name: "part", type: { kind: "string" }, nullable: true }] };
    const out = sink(dir, schema, { partitionBy: ["part"] });
    const rows: Row[] = [];
    for (let b = 0; b < 25; b++) {
      const batch = [{ n: b, part: b % 2 ? "odd" : null }, { n: 100 + b, part: "x y" }];
      rows.push(...batch);
      await out.write(b, batchFromRows(schema, batch), b === 12 ? "complete" : "append");
      if (b === 12) rows.splice(0, rows.length - 2);
    }
    const names = logNames(dir);
    expect(names.filter((n) => n.includes("checkpoint"))).toEqual(["00000000000000000010.checkpoint.parquet", "00000000000000000020.checkpoint.parquet", "_last_checkpoint"]);
    expect(JSON.parse(readFileSync(join(dir, "_delta_log", "_last_checkpoint"), "utf8"))).toEqual({
      version: 20,
      size: 2 + 1 + snapshot(dir, 20).files.length + snapshot(dir, 20).tombstones.length,
      sizeInBytes: statSync(join(dir, "_delta_log", "00000000000000000020.checkpoint.parquet")).size,
      numOfAddFiles: snapshot(dir, 20).files.length,
    });
    await expectTable(dir, schema.fields, rows);

    // A copy without the commits the checkpoint folds in: the reader must start from it.
    const copy = tempTable();
    cpSync(dir, copy, { recursive: true });
    for (let v = 0; v <= 20; v++) rmSync(join(copy, "_delta_log", `${String(v).padStart(20, "0")}.json`));
    const snap = snapshot(copy);
    expect(snap.version).toBe(24);
    expect(snap.txns).toEqual(new Map([["pipeline/out.table", 24]]));
    expect(snap.metadata.id).toBe(snapshot(dir).metadata.id);
    expect(snap.files.map((f) => f.path).sort()).toEqual(snapshot(dir).files.map((f) => f.path).sort());
    expect(canonicalRows(await duckTableRows(copy), schema.fields)).toEqual(canonicalRows(rows, schema.fields));
    // The tombstones of the complete batch 12 are in checkpoint 20, for vacuum.
    expect(snap.tombstones.length).toBe(snapshot(dir).tombstones.length);
    // Writing on from the checkpoint alone goes on at version 25.
    await sink(copy, schema, { partitionBy: ["part"] }).write(25, batchFromRows(schema, [{ n: 999, part: null }]), "append");
    expect(snapshot(copy).version).toBe(25);
    expect(readTable(copy)).toHaveLength(rows.length + 1);
  });
});

describe("target_file_size", () => {
  it("cuts a batch into several files of about the target size, every row once", async () => {
    const dir = tempTable();
    const schema: Schema = { fields: allTypesSchema.fields.filter((f) => ["id", "label", "ratio", "at"].includes(f.name)) };
    const rows = randomRows(schema, 3000, 42);
    const target = 4 * 1024;
    await sink(dir, schema, { targetFileSize: target }).write(0, batchFromRows(schema, rows), "append");
    const sizes = snapshot(dir).files.map((f) => f.size);
    expect(sizes.length).toBeGreaterThan(3);
    // At most about the target: the first file is cut by the Arrow size per row (smaller), the
    // rest by the Parquet size per row of the files before.
    expect(Math.max(...sizes)).toBeLessThan(1.5 * target);
    expect(sizes.reduce((a, b) => a + b, 0) / sizes.length).toBeGreaterThan(target / 4);
    await expectTable(dir, schema.fields, rows);
    expect(await statsProblems(dir)).toEqual([]);
  });
});

describe("a program's table sink, end to end", () => {
  const orderFields: Field[] = [
    { name: "id", type: { kind: "long" }, nullable: false },
    { name: "country", type: { kind: "string" }, nullable: true },
    { name: "amount", type: { kind: "decimal", precision: 10, scale: 2 }, nullable: false },
    { name: "at", type: { kind: "timestamp" }, nullable: false },
  ];

  function writeOrders(file: string, first: number, n: number): void {
    const countries = ["DE", "FR", null, "日本", "a b"];
    const lines = Array.from({ length: n }, (_, i) => {
      const id = first + i;
      return JSON.stringify({ id, country: countries[id % countries.length], amount: `${(id * 37) % 1000}.${String(id % 100).padStart(2, "0")}`, at: new Date(1_704_067_200_000 + id * 61_001).toISOString() });
    });
    writeFileSync(file, lines.join("\n") + "\n");
  }

  function program(dir: string): string {
    const file = join(dir, "orders.stream");
    writeFileSync(
      file,
      `pipeline orders_to_table {
  checkpoint = "${join(dir, "checkpoint")}"
  trigger = available_now
}

schema Order {
  id: long
  country: string?
  amount: decimal(10, 2)
  at: timestamp
}

source orders: Order = files "${join(dir, "in")}" {
  format = json
  max_files_per_batch = 1
}

stream big = orders | where amount > 100.00

sink big -> table "${join(dir, "out")}" {
  partition_by = [country]
}
`,
    );
    return file;
  }

  async function expected(dir: string): Promise<Row[]> {
    return duckRows(
      `SELECT id, country, amount, "at" FROM read_json('${join(dir, "in")}/*.json', columns = {'id': 'BIGINT', 'country': 'VARCHAR', 'amount': 'DECIMAL(10,2)', 'at': 'TIMESTAMPTZ'}) WHERE amount > 100.00`,
    );
  }

  function runCli(file: string, env: Record<string, string> = {}): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "bin/streamc.ts"), "run", file], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" });
    return { status: r.status, signal: r.signal, stderr: r.stderr };
  }

  it("runs into a table that DuckDB reads as the query's answer, and a later run adds only the new input", async () => {
    const dir = mkdtempSync(join(scratch, "e2e-"));
    mkdirSync(join(dir, "in"));
    writeOrders(join(dir, "in", "a.json"), 0, 40);
    writeOrders(join(dir, "in", "b.json"), 40, 40);
    const file = program(dir);
    const io = { out: () => {}, err: () => {} };
    expect(await main(["run", file], io)).toBe(0);
    await expectTable(join(dir, "out"), orderFields, await expected(dir));
    expect(tableHistory(join(dir, "out")).map((e) => e.txns[0]!.version)).toEqual([1, 0]);

    writeOrders(join(dir, "in", "c.json"), 80, 40);
    expect(await main(["run", file], io)).toBe(0);
    await expectTable(join(dir, "out"), orderFields, await expected(dir));
    expect(tableHistory(join(dir, "out")).map((e) => e.txns[0]!.version)).toEqual([2, 1, 0]);
  });

  for (const point of ["table.parquet-write", "table.before-log", "engine.before-commit"]) {
    it(`a run killed at ${point} and run again writes every row once`, async () => {
      const dir = mkdtempSync(join(scratch, "e2e-"));
      mkdirSync(join(dir, "in"));
      for (const [k, name] of ["a", "b", "c"].entries()) writeOrders(join(dir, "in", `${name}.json`), k * 30, 30);
      const file = program(dir);
      // Dies in the second batch (the first point hit of it: partitions make one file each).
      const crashed = runCli(file, { STREAMC_CRASH_AT: `${point}@${point === "table.parquet-write" ? 6 : 2}` });
      expect(crashed.signal).toBe("SIGKILL");
      const rerun = runCli(file);
      expect(rerun.status).toBe(0);
      expect(rerun.stderr).toMatch(/^orders_to_table: \d+ batch(es)?, \d+ rows in, \d+ rows out\n$/);
      await expectTable(join(dir, "out"), orderFields, await expected(dir));
      // One commit per batch: the replayed batch was written once (or skipped, when it was in).
      expect(tableHistory(join(dir, "out")).map((e) => e.txns.map((t) => t.version))).toEqual([[2], [1], [0]]);
    });
  }
});
