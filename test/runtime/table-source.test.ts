/**
 * The `table` source against real Delta tables (/work/shared/conformance/delta), with DuckDB as the
 * oracle: reading each table's expected Parquet for snapshots, and the data files a commit adds
 * (found by reading the commit's JSON here, not through the reader) for followed commits.
 *
 * - bounded and followed reads of plain, partitioned, checkpointed and nested tables;
 * - a table copied into a temporary directory version by version: each new commit read once, in
 *   order; a replayed range reads the same rows; compaction commits skipped; a commit that removes
 *   data, a schema that stops fitting, a vacuumed or replaced file: the documented errors;
 * - schema enforcement (rejects at the data file and row) and the errors at open;
 * - end to end: `streamc run` of a program with a lookup join and a select over a table source.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { batchToRows } from "../../runtime/columnar/batch-ops.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { DataType, Schema } from "../../runtime/plan.ts";
import { createSource } from "../../runtime/sources/index.ts";
import type { Offset, Range, RejectedRecord, Source } from "../../runtime/sources/source.ts";
import { TableSource, type TableRange } from "../../runtime/sources/table.ts";
import { snapshot, UnsupportedFeatureError } from "../../runtime/table/delta-log.ts";
import { duckRows } from "../support/duckdb.ts";

const ROOT = resolve(import.meta.dirname, "../../../shared/conformance/delta");
const exists = existsSync(ROOT);
const temps: string[] = [];

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "streamc-table-source-"));
  temps.push(dir);
  return dir;
}

type Row = Record<string, CellValue>;

/** The table's own schema, as a program would declare it. */
function tableSchema(tablePath: string): Schema {
  return { fields: snapshot(tablePath).metadata.schema.fields.map(({ name, type, nullable }) => ({ name, type, nullable })) };
}

interface Read {
  range: TableRange;
  rows: Row[];
  rejects: RejectedRecord[];
  end: Offset;
}

/** Every range the source plans from `from` up to one `latest()`, read. */
async function drain(source: Source, from: Offset | undefined, uncapped = false): Promise<Read[]> {
  const latest = await source.latest();
  const reads: Read[] = [];
  for (let range = source.plan(from, { latest, uncapped }); range !== undefined; range = source.plan(from, { latest, uncapped })) {
    const { batch, rejects } = await source.read(range);
    from = source.end(range);
    reads.push({ range: range as unknown as TableRange, rows: batchToRows(batch), rejects, end: from });
  }
  return reads;
}

async function opened(tablePath: string, options: ConstructorParameters<typeof TableSource>[3] = {}, schema = tableSchema(tablePath), resume?: Offset): Promise<TableSource> {
  const source = new TableSource("t", schema, tablePath, { decode: { now: () => 7 }, ...options });
  await source.open(resume);
  return source;
}

// ---- the oracle --------------------------------------------------------------------------------

const DUCK_TYPES: Partial<Record<DataType["kind"], string>> = {
  bool: "BOOLEAN",
  int: "INTEGER",
  long: "BIGINT",
  double: "DOUBLE",
  string: "VARCHAR",
  bytes: "BLOB",
  date: "DATE",
};

/** DuckDB's rows of Parquet `files`, each top-level column cast to the schema's type (expected files keep partition values as strings). */
async function duckParquet(files: string[], schema: Schema): Promise<Row[]> {
  if (files.length === 0) return [];
  const columns = schema.fields.map((f) => {
    const name = `"${f.name.replace(/"/g, '""')}"`;
    const type = f.type.kind === "decimal" ? `DECIMAL(${f.type.precision}, ${f.type.scale})` : DUCK_TYPES[f.type.kind];
    return type ? `CAST(${name} AS ${type}) AS ${name}` : name;
  });
  const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(", ");
  return duckRows(`SELECT ${columns.join(", ")} FROM read_parquet([${list}], union_by_name = true)`);
}

function parquetFiles(dir: string): string[] {
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".parquet"))
    .sort()
    .map((n) => join(dir, n));
}

function canon(value: CellValue | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : value;
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString("hex")}`;
  if (Array.isArray(value)) return value.map(canon);
  if (value instanceof Map) return Object.fromEntries([...value].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canon(v)]));
  if (typeof value === "object") return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canon((value as Record<string, CellValue>)[k])]));
  return value;
}

/** Rows as sorted canonical strings over `schema`'s columns: a multiset. */
function multiset(rows: Row[], schema: Schema): string[] {
  return rows.map((r) => JSON.stringify(schema.fields.map((f) => canon(r[f.name])))).sort();
}

/** The data files commit `version` adds with `dataChange`, read from its JSON here (independently of the reader). */
function commitAdds(tablePath: string, version: number): string[] {
  const text = readFileSync(join(tablePath, "_delta_log", `${String(version).padStart(20, "0")}.json`), "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { add?: { path: string; dataChange: boolean } })
    .flatMap((a) => (a.add?.dataChange ? [join(tablePath, decodeURIComponent(a.add.path))] : []));
}

/** The live data files at `version`, replaying the JSON commits 0..version here. */
function liveFiles(tablePath: string, version: number): string[] {
  const live = new Set<string>();
  for (let v = 0; v <= version; v++) {
    const text = readFileSync(join(tablePath, "_delta_log", `${String(v).padStart(20, "0")}.json`), "utf8");
    for (const line of text.split("\n").filter((l) => l.trim())) {
      const a = JSON.parse(line) as { add?: { path: string }; remove?: { path: string } };
      if (a.add) live.add(decodeURIComponent(a.add.path));
      if (a.remove) live.delete(decodeURIComponent(a.remove.path));
    }
  }
  return [...live].map((p) => join(tablePath, p));
}

/** A copy of `source`'s data files (not its log) in a temporary directory. */
function copyData(source: string): string {
  const dir = join(tempDir(), "table");
  cpSync(source, dir, { recursive: true, filter: (p) => !p.includes("_delta_log") });
  mkdirSync(join(dir, "_delta_log"), { recursive: true });
  return dir;
}

/** Copies log entries (`00..07.json`, `00..10.checkpoint.parquet`, `_last_checkpoint`) from `source` into `dir`. */
function copyLog(source: string, dir: string, names: string[]): void {
  for (const name of names) copyFileSync(join(source, "_delta_log", name), join(dir, "_delta_log", name));
}

const commitName = (v: number) => `${String(v).padStart(20, "0")}.json`;

// ---- reference tables --------------------------------------------------------------------------

/** Tables with expected rows: [name, table, expected Parquet (file or folder)]. */
const REFERENCE: [string, string, string][] = [
  ...["basic_append", "basic_partitioned", "multi_partitioned", "with_schema_change"].map(
    (n): [string, string, string] => [`dat/${n}`, join("dat", n, "delta"), join("dat", n, "expected", "latest", "table_content.parquet")],
  ),
  ...[
    "basic-with-inserts-deletes-checkpoint",
    "multi-part-checkpoint",
    "only-checkpoint-files",
    "basic-decimal-table",
    "data-reader-primitives",
    "data-reader-nested-struct",
    "data-reader-array-primitives",
    "data-reader-map",
    "data-reader-date-types-utc",
    "kernel-timestamp-int96",
    "kernel-timestamp-timestamp_micros",
    "snapshot-repartitioned",
    "snapshot-vacuumed",
    "time-travel-partition-changes-b",
    "log-replay-special-characters",
  ].map((n): [string, string, string] => [`golden/${n}`, join("golden", n, "delta"), join("golden", n, "expected")]),
];

describe.skipIf(!exists && process.env.CI !== "true")("the table source on reference tables", () => {
  it("has the reference tables", () => {
    expect(exists).toBe(true);
  });

  for (const [name, table, expected] of REFERENCE) {
    it(`${name}: a bounded read and a followed start give DuckDB's rows of the latest snapshot`, { timeout: 60_000 }, async () => {
      const tablePath = join(ROOT, table);
      const schema = tableSchema(tablePath);
      const oracle = multiset(await duckParquet(parquetFiles(join(ROOT, expected)), schema), schema);

      const bounded = await opened(tablePath, { bounded: true, maxFilesPerBatch: 1 });
      expect(bounded.bounded).toBe(true);
      const whole = await drain(bounded, undefined);
      // A bounded read is one range, whatever the cap, and nothing more comes.
      expect(whole.length).toBe(oracle.length === 0 ? 0 : 1);
      expect(whole.flatMap((r) => r.rejects)).toEqual([]);
      expect(multiset(whole.flatMap((r) => r.rows), schema)).toEqual(oracle);
      expect(await drain(bounded, whole.at(-1)?.end)).toEqual([]);

      // Followed, two files a batch: the snapshot in parts, each file once.
      const followed = await opened(tablePath, { maxFilesPerBatch: 2 });
      const reads = await drain(followed, undefined);
      const version = snapshot(tablePath).version;
      for (const r of reads) {
        expect(r.range.kind).toBe("snapshot");
        expect(r.range.files.length).toBeLessThanOrEqual(2);
      }
      expect(reads.flatMap((r) => r.rows).length).toBe(oracle.length);
      expect(multiset(reads.flatMap((r) => r.rows), schema)).toEqual(oracle);
      const paths = reads.flatMap((r) => r.range.files.map((f) => f.path));
      expect(new Set(paths).size).toBe(paths.length);
      if (reads.length) expect(reads.at(-1)!.end).toEqual({ version });
      expect(followed.behind(reads.at(-1)?.end, await followed.latest())).toBe(0);
    });
  }

  it("reads partition values typed per the table schema, null partitions included", async () => {
    const tablePath = join(ROOT, "dat", "multi_partitioned", "delta");
    const rows = (await drain(await opened(tablePath, { bounded: true }), undefined)).flatMap((r) => r.rows);
    expect(rows.map((r) => [r["letter"], r["date"], Buffer.from(r["data"] as Uint8Array).toString()]).sort()).toEqual(
      (await duckRows(`SELECT letter, date, decode(data) AS data FROM read_parquet('${join(ROOT, "dat", "multi_partitioned", "expected", "latest", "table_content.parquet")}')`))
        .map((r) => [r["letter"], r["date"], r["data"]])
        .sort(),
    );
    const v1 = join(ROOT, "dat", "basic_partitioned", "delta");
    const letters = (await drain(await opened(v1, { bounded: true }), undefined)).flatMap((r) => r.rows.map((x) => x["letter"]));
    expect(letters.filter((l) => l === null).length).toBe(1);
  });

  it("enforces a narrower declared schema: columns by name, unnamed ones unread, rejects at the data file and row", async () => {
    const tablePath = join(ROOT, "dat", "basic_partitioned", "delta");
    const schema: Schema = {
      fields: [
        { name: "number", type: { kind: "int" }, nullable: false },
        { name: "letter", type: { kind: "string" }, nullable: false },
      ],
    };
    const reads = await drain(await opened(tablePath, { bounded: true }, schema), undefined);
    const rows = reads.flatMap((r) => r.rows);
    const rejects = reads.flatMap((r) => r.rejects);
    const oracle = await duckRows(`SELECT CAST(number AS INTEGER) AS number, letter FROM read_parquet('${join(ROOT, "dat", "basic_partitioned", "expected", "latest", "table_content.parquet")}') WHERE letter IS NOT NULL`);
    expect(multiset(rows, schema)).toEqual(multiset(oracle, schema));
    expect(Object.keys(rows[0]!)).toEqual(["number", "letter"]);
    // The one row of the null partition: null in a required column, positioned at its data file, row 1.
    const nullFile = readdirSync(join(tablePath, "letter=__HIVE_DEFAULT_PARTITION__")).find((n) => n.endsWith(".parquet"))!;
    expect(rejects.map((r) => [r.reason, r.position, r.source, r.time])).toEqual([
      ["null_in_required", { kind: "file", file: join(tablePath, "letter=__HIVE_DEFAULT_PARTITION__", nullFile), line: 1 }, "t", 7],
    ]);
    expect(JSON.parse(new TextDecoder().decode(rejects[0]!.raw))).toEqual({ number: 6, letter: null });
  });

  it("refuses at open: a path that is not a table, a declared column the table lacks or cannot hold, an unsupported feature", async () => {
    const notTable = tempDir();
    await expect(opened(notTable, {}, { fields: [] })).rejects.toThrow(`table source t: no Delta log at ${join(notTable, "_delta_log")}: not a Delta table; the table must exist`);
    await expect(opened(join(notTable, "missing"), {}, { fields: [] })).rejects.toThrow(/not a Delta table/);

    const basic = join(ROOT, "dat", "basic_append", "delta");
    const declare = (name: string, type: DataType) => ({ fields: [{ name, type, nullable: true }] });
    await expect(opened(basic, {}, declare("Letter", { kind: "string" }))).rejects.toThrow(
      `table source t: table ${basic} has no column Letter (its columns: letter, number, a_float); names are case-sensitive: did you mean letter?`,
    );
    await expect(opened(basic, {}, declare("price", { kind: "double" }))).rejects.toThrow(/has no column price .*remove it from the source's schema/);
    await expect(opened(basic, {}, declare("letter", { kind: "int" }))).rejects.toThrow(
      `table source t: column letter of table ${basic} is string?, which the declared int? cannot hold; declare it as string`,
    );
    // Numbers convert (row by row): a long column read as an int, a double as a decimal.
    await expect(opened(basic, {}, declare("number", { kind: "int" }))).resolves.toBeInstanceOf(TableSource);

    const nested = join(ROOT, "golden", "data-reader-nested-struct", "delta");
    const struct = tableSchema(nested).fields.find((f) => f.type.kind === "struct")!;
    await expect(opened(nested, {}, { fields: [{ ...struct, type: { kind: "struct", fields: [{ name: "nope", type: { kind: "int" }, nullable: true }] } }] })).rejects.toThrow(
      new RegExp(`has no field ${struct.name}\\.nope \\(the fields of ${struct.name}: `),
    );

    for (const [table, feature] of [
      ["dv-with-columnmapping", "deletionVectors"],
      ["table-with-columnmapping-mode-name", "columnMapping"],
    ]) {
      const path = join(ROOT, "golden", table!, "delta");
      const error = await opened(path, {}, { fields: [] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect((error as Error).message).toBe(`unsupported table feature ${feature} in ${path}`);
    }
  });

  it("is built from its plan entry: path resolved against the working directory, bounded when asked", async () => {
    const cwd = join(ROOT, "dat");
    const spec = { id: "letters", connector: "table", target: { kind: "env" as const, variable: "T", fallback: "nowhere" }, options: {}, schema: tableSchema(join(ROOT, "dat", "basic_append", "delta")) };
    const source = createSource(spec, { cwd, env: { T: "basic_append/delta" }, bounded: true });
    expect(source).toBeInstanceOf(TableSource);
    expect(source.bounded).toBe(true);
    expect(source.description).toBe(`table[${join(cwd, "basic_append", "delta")}]`);
    await source.open(undefined);
    expect((await drain(source, undefined)).flatMap((r) => r.rows).length).toBe(5);
    expect(() => createSource({ ...spec, target: undefined }, { cwd, env: {} })).toThrow(/table source letters has no path/);
  });
});

// ---- following a table as it grows -------------------------------------------------------------

describe.skipIf(!exists && process.env.CI !== "true")("a followed table source, version by version", () => {
  const DELETES = join(ROOT, "golden", "basic-with-inserts-deletes-checkpoint", "delta");
  const idSchema: Schema = { fields: [{ name: "id", type: { kind: "long" }, nullable: true }] };

  it("reads the snapshot, then each new commit once and in order; a replayed range reads the same rows; a commit that removes data stops it", async () => {
    const dir = copyData(DELETES);
    copyLog(DELETES, dir, [0, 1, 2].map(commitName));
    const source = await opened(dir, { maxFilesPerBatch: 1 }, idSchema);

    // First: the snapshot at version 2 (one file a batch).
    const first = await drain(source, undefined);
    expect(first.map((r) => r.range.kind)).toEqual(["snapshot", "snapshot", "snapshot"]);
    expect(first.at(-1)!.end).toEqual({ version: 2 });
    expect(multiset(first.flatMap((r) => r.rows), idSchema)).toEqual(multiset(await duckParquet(liveFiles(DELETES, 2), idSchema), idSchema));
    expect(await drain(source, first.at(-1)!.end)).toEqual([]);

    // Versions 3 and 4 arrive: one commit a batch, in version order, each DuckDB's rows of the files it adds.
    copyLog(DELETES, dir, [3, 4].map(commitName));
    let from = first.at(-1)!.end;
    expect(source.behind(from, await source.latest())).toBe(2);
    const next = await drain(source, from);
    expect(next.map((r) => [r.range.kind, (r.range as { from: number }).from, (r.range as { to: number }).to])).toEqual([
      ["commits", 2, 3],
      ["commits", 3, 4],
    ]);
    for (const [i, v] of [3, 4].entries()) {
      expect(next[i]!.rows).toEqual(await duckParquet(commitAdds(DELETES, v), idSchema));
      expect(next[i]!.range.files.map((f) => f.version)).toEqual([v]);
    }
    from = next.at(-1)!.end;
    expect(from).toEqual({ version: 4 });
    expect(await drain(source, from)).toEqual([]);

    // A replay of a range (from the offsets log, in a new process) reads the same rows.
    const replay = await opened(dir, {}, idSchema, { version: 4 });
    const again = await replay.read(JSON.parse(JSON.stringify(next[0]!.range)) as Range);
    expect(batchToRows(again.batch)).toEqual(next[0]!.rows);
    // Resuming at version 4 reads nothing old.
    expect(await drain(replay, { version: 4 })).toEqual([]);

    // Version 5 deletes rows (a remove with dataChange): the pipeline stops, naming the table and version.
    copyLog(DELETES, dir, [commitName(5)]);
    await source.latest();
    expect(() => source.plan(from, { latest: { version: 5 } })).toThrow(
      new RegExp(`^table source t: version 5 of ${dir} removes data \\(DELETE, 1 file removed with dataChange\\); a followed table is read for its appends.*start the pipeline with a new checkpoint`),
    );
    // The commits before it are still read: resumed at version 3, a batch reads 4 and stops there.
    copyLog(DELETES, dir, [commitName(6)]);
    const resumed = await opened(dir, {}, idSchema, { version: 3 });
    const latest = await resumed.latest();
    expect(latest).toEqual({ version: 6 });
    const range = resumed.plan({ version: 3 }, { latest })!;
    expect(range).toMatchObject({ kind: "commits", from: 3, to: 4 });
    expect(batchToRows((await resumed.read(range)).batch)).toEqual(next[1]!.rows);
    expect(() => resumed.plan({ version: 4 }, { latest })).toThrow(/version 5 of .* removes data/);
  });

  it("starts from a checkpoint when the log before it is cleaned up, then follows the commits after it", async () => {
    const dir = copyData(DELETES);
    copyLog(DELETES, dir, ["00000000000000000010.checkpoint.parquet", "_last_checkpoint", commitName(10)]);
    const source = await opened(dir, {}, idSchema);
    const first = await drain(source, undefined);
    expect(first.map((r) => [r.range.kind, r.end])).toEqual([["snapshot", { version: 10 }]]);
    // The oracle replays the original JSON commits 0..10, which this copy does not have.
    expect(multiset(first[0]!.rows, idSchema)).toEqual(multiset(await duckParquet(liveFiles(DELETES, 10), idSchema), idSchema));

    copyLog(DELETES, dir, [11, 12].map(commitName));
    const next = await drain(source, first[0]!.end);
    // Uncapped by the default cap of 1000 files: both commits in one batch, in order.
    expect(next.map((r) => [(r.range as { from: number }).from, (r.range as { to: number }).to])).toEqual([[10, 12]]);
    expect(next[0]!.rows).toEqual([...(await duckParquet(commitAdds(DELETES, 11), idSchema)), ...(await duckParquet(commitAdds(DELETES, 12), idSchema))]);
  });

  it("skips compaction commits (dataChange false) and reads the appends after them", async () => {
    const BASIC = join(ROOT, "dat", "basic_append", "delta");
    const dir = copyData(BASIC);
    copyLog(BASIC, dir, [0, 1].map(commitName));
    const schema = tableSchema(BASIC);
    const source = await opened(dir, {}, schema);
    const first = await drain(source, undefined);
    expect(first.flatMap((r) => r.rows).length).toBe(5);

    // Version 2 compacts file A into A' (both dataChange false); version 3 appends a new file.
    const [a, b] = liveFiles(dir, 1).map((p) => p.slice(dir.length + 1));
    copyFileSync(join(dir, a!), join(dir, "compacted.parquet"));
    copyFileSync(join(dir, b!), join(dir, "appended.parquet"));
    const add = (path: string, dataChange: boolean) =>
      JSON.stringify({ add: { path, partitionValues: {}, size: statSync(join(dir, path)).size, modificationTime: 1, dataChange } });
    writeFileSync(join(dir, "_delta_log", commitName(2)), [JSON.stringify({ remove: { path: a, deletionTimestamp: 1, dataChange: false } }), add("compacted.parquet", false)].join("\n") + "\n");
    expect(await drain(source, first.at(-1)!.end)).toEqual([]);
    expect(source.behind(first.at(-1)!.end, await source.latest())).toBe(0);
    writeFileSync(join(dir, "_delta_log", commitName(3)), add("appended.parquet", true) + "\n");
    const next = await drain(source, first.at(-1)!.end);
    expect(next.map((r) => [(r.range as { from: number }).from, (r.range as { to: number }).to, r.range.files.map((f) => f.path)])).toEqual([[1, 3, ["appended.parquet"]]]);
    expect(next[0]!.rows).toEqual(await duckParquet([join(dir, "appended.parquet")], schema));

    // A bounded read of version 3 sees the compacted file in place of A.
    const bounded = (await drain(await opened(dir, { bounded: true }, schema), undefined)).flatMap((r) => r.rows);
    expect(multiset(bounded, schema)).toEqual(multiset(await duckParquet(liveFiles(dir, 3), schema), schema));

    // Version 4 drops a declared column from the schema: the pipeline stops there.
    const meta = JSON.parse(readFileSync(join(BASIC, "_delta_log", commitName(0)), "utf8").split("\n").find((l) => l.includes("metaData"))!) as { metaData: { schemaString: string } };
    const fields = (JSON.parse(meta.metaData.schemaString) as { fields: { name: string }[] }).fields.filter((f) => f.name !== "a_float");
    meta.metaData.schemaString = JSON.stringify({ type: "struct", fields });
    writeFileSync(join(dir, "_delta_log", commitName(4)), JSON.stringify(meta) + "\n");
    await source.latest();
    expect(() => source.plan(next[0]!.end, { latest: { version: 4 } })).toThrow(
      `table source t: version 4 of ${dir} changes the table's schema: table ${dir} has no column a_float (its columns: letter, number)`,
    );
  });

  it("fails to replay a range whose file was vacuumed or replaced, naming the file", async () => {
    const dir = copyData(DELETES);
    copyLog(DELETES, dir, [0, 1, 2].map(commitName));
    const source = await opened(dir, {}, idSchema);
    const latest = await source.latest();
    const range = source.plan(undefined, { latest }) as unknown as TableRange;
    await source.read(range as unknown as Range);
    const [first, second] = range.files;
    rmSync(join(dir, first!.path));
    await expect(source.read(range as unknown as Range)).rejects.toThrow(
      `table source t: data file ${join(dir, first!.path)} of table ${dir} is gone (vacuumed or deleted), so the batch cannot be replayed`,
    );
    writeFileSync(join(dir, second!.path), "not the same file");
    await expect(source.read({ ...range, files: [second!] } as unknown as Range)).rejects.toThrow(/has 17 bytes, the log says \d+; it was replaced/);

    // The reference table whose old files were vacuumed: following it from version 1 cannot read them.
    const VACUUMED = join(ROOT, "golden", "snapshot-vacuumed", "delta");
    const old = copyData(VACUUMED);
    copyLog(VACUUMED, old, [0, 1].map(commitName));
    const stale = await opened(old, {}, tableSchema(VACUUMED));
    const stalePlan = stale.plan(undefined, { latest: await stale.latest() })!;
    await expect(stale.read(stalePlan)).rejects.toThrow(/is gone \(vacuumed or deleted\)/);
  });
});

// ---- end to end --------------------------------------------------------------------------------

describe.skipIf(!exists && process.env.CI !== "true")("a program reading a table", () => {
  it("streamc run: a lookup join against a table and a select from a table, written to files as DuckDB computes them", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const TABLE = join(ROOT, "dat", "basic_partitioned", "delta");
    const EXPECTED = join(ROOT, "dat", "basic_partitioned", "expected", "latest", "table_content.parquet");
    mkdirSync(join(dir, "orders"));
    writeFileSync(join(dir, "orders", "1.json"), ['{"id":1,"letter":"a"}', '{"id":2,"letter":"b"}', '{"id":3,"letter":"z"}', '{"id":4,"letter":null}', '{"id":5,"letter":"e"}'].join("\n") + "\n");
    const program = join(dir, "p.stream");
    writeFileSync(
      program,
      `pipeline p {
  trigger = available_now
}
schema Order {
  id: int
  letter: string?
}
schema Letter {
  letter: string?
  number: long?
  a_float: double?
}
source orders: Order = files "${join(dir, "orders")}" { format = json }
source letters: Letter = table "${TABLE}"
source letters_followed: Letter = table "${TABLE}"
stream joined = orders | left join letters on letter == letters.letter | select id, number, a_float
stream big = letters_followed | where number > 2 | select letter, number
sink joined -> files "${join(dir, "joined")}" { format = json }
sink big -> files "${join(dir, "big")}" { format = json }
`,
    );
    const out: string[] = [];
    const code = await main(["run", program, "--trigger", "available_now"], { out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(out.join(""), out.join("")).toMatch(/p: \d+ batch/);
    expect(code).toBe(0);
    const joinedSchema: Schema = {
      fields: [
        { name: "id", type: { kind: "int" }, nullable: false },
        { name: "number", type: { kind: "long" }, nullable: true },
        { name: "a_float", type: { kind: "double" }, nullable: true },
      ],
    };
    const joined = await duckRows(`SELECT id, number, a_float FROM read_json('${join(dir, "joined")}/*.json', columns = {id: 'INTEGER', number: 'BIGINT', a_float: 'DOUBLE'})`);
    const joinedOracle = await duckRows(
      `SELECT o.id, t.number, t.a_float FROM read_json('${join(dir, "orders")}/*.json', columns = {id: 'INTEGER', letter: 'VARCHAR'}) o LEFT JOIN read_parquet('${EXPECTED}') t ON o.letter = t.letter`,
    );
    expect(joined.length).toBe(6);
    expect(multiset(joined, joinedSchema)).toEqual(multiset(joinedOracle, joinedSchema));

    const bigSchema: Schema = { fields: [{ name: "letter", type: { kind: "string" }, nullable: true }, { name: "number", type: { kind: "long" }, nullable: true }] };
    const big = await duckRows(`SELECT letter, number FROM read_json('${join(dir, "big")}/*.json', columns = {letter: 'VARCHAR', number: 'BIGINT'})`);
    const bigOracle = await duckRows(`SELECT letter, number FROM read_parquet('${EXPECTED}') WHERE number > 2`);
    expect(big.length).toBeGreaterThan(0);
    expect(multiset(big, bigSchema)).toEqual(multiset(bigOracle, bigSchema));
  });
});
