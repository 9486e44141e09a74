/**
 * Table maintenance: `optimize` (bin-packing small files, `compact_every`) and `vacuum` leave the
 * table's rows as they were (DuckDB reads them), keep the log valid, and never resurrect rows or
 * delete a file a version within the retention needs.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { Field, Schema } from "../../runtime/plan.ts";
import { TableSink, type TableSinkOptions } from "../../runtime/sinks/table.ts";
import { resolveDataPath, snapshot } from "../../runtime/table/delta-log.ts";
import { tableHistory } from "../../runtime/table/history.ts";
import { OptimizeConflictError, optimizeTable } from "../../runtime/table/optimize.ts";
import { DEFAULT_RETENTION_MS, vacuumTable } from "../../runtime/table/vacuum.ts";
import { validateDeltaLog } from "../support/delta-log-validator.ts";
import { canonicalRows, duckTableRows, statsProblems } from "../support/delta-table-oracle.ts";
import { allTypesSchema, randomRows } from "../support/table-data.ts";

type Row = Record<string, CellValue>;

const conformance = resolve(import.meta.dirname, "../../../shared/conformance/delta");

const schema: Schema = {
  fields: [
    ...allTypesSchema.fields.filter((f) => ["id", "label", "price", "at", "tags", "point"].includes(f.name)),
    { name: "region", type: { kind: "string" }, nullable: true },
  ],
};

const scratch = mkdtempSync(join(tmpdir(), "streamc-table-maintenance-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tempTable(): string {
  return join(mkdtempSync(join(scratch, "t-")), "table");
}

function sink(dir: string, options: Partial<TableSinkOptions> = {}, pipelineId = "pipeline"): TableSink {
  return new TableSink("out.table", schema, dir, { partitionBy: ["region"], targetFileSize: 128 * 1024 * 1024, compactEvery: undefined, ...options }, `${pipelineId}/out.table`);
}

function rowsOf(batch: number, n = 20): Row[] {
  return randomRows(schema, n, 500 + batch, batch * 1000).map((r, i) => ({ ...r, region: ["eu", "us", null][i % 3]! }));
}

/** A table of `batches` appends, each with a small file per region. */
async function smallFilesTable(batches: number): Promise<{ dir: string; rows: Row[] }> {
  const dir = tempTable();
  const out = sink(dir);
  const rows: Row[] = [];
  for (let b = 0; b < batches; b++) {
    const batch = rowsOf(b);
    rows.push(...batch);
    await out.write(b, batchFromRows(schema, batch), "append");
  }
  return { dir, rows };
}

async function expectRows(dir: string, fields: readonly Field[], rows: readonly Row[], options: { mayBeVacuumed?: boolean } = {}): Promise<void> {
  expect(validateDeltaLog(dir, options)).toEqual([]);
  expect(canonicalRows(await duckTableRows(dir), fields)).toEqual(canonicalRows(rows, fields));
}

function lastCommit(dir: string): Record<string, Record<string, unknown>>[] {
  const version = snapshot(dir).version;
  return readFileSync(join(dir, "_delta_log", `${String(version).padStart(20, "0")}.json`), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
}

describe("optimize", () => {
  it("bin-packs small files per partition in one commit of dataChange false removes and adds; the rows stay", async () => {
    const { dir, rows } = await smallFilesTable(8);
    const before = snapshot(dir);
    expect(before.files).toHaveLength(24);
    const result = await optimizeTable(dir, { targetFileSize: 1024 * 1024 });
    expect(result).toMatchObject({ version: 8, filesRemoved: 24, filesAdded: 3, partitionsOptimized: 3 });
    const after = snapshot(dir);
    expect(after.files).toHaveLength(3);
    expect(new Set(after.files.map((f) => JSON.stringify(f.partitionValues)))).toEqual(new Set(before.files.map((f) => JSON.stringify(f.partitionValues))));
    const actions = lastCommit(dir);
    expect(actions[0]!["commitInfo"]!["operation"]).toBe("OPTIMIZE");
    expect(actions.filter((a) => a["txn"])).toEqual([]);
    expect(actions.filter((a) => a["remove"]).map((a) => a["remove"]!["dataChange"])).toEqual(new Array(24).fill(false));
    expect(actions.filter((a) => a["add"]).map((a) => a["add"]!["dataChange"])).toEqual([false, false, false]);
    expect(after.txns).toEqual(before.txns);
    await expectRows(dir, schema.fields, rows);
    expect(await statsProblems(dir)).toEqual([]);
    // Nothing left to pack: no commit.
    expect(await optimizeTable(dir, { targetFileSize: 1024 * 1024 })).toMatchObject({ version: undefined, filesRemoved: 0 });
    expect(snapshot(dir).version).toBe(8);
  });

  it("packs into bins of at most the target size, and leaves files at or over it alone", async () => {
    const { dir, rows } = await smallFilesTable(12);
    const sizes = snapshot(dir).files.filter((f) => f.partitionValues["region"] === "eu").map((f) => f.size);
    // Bins of at most 4 times the largest file: at least 4 of the 12 files each, so 2 to 3 bins.
    await optimizeTable(dir, { targetFileSize: Math.max(...sizes) * 4 });
    const eu = snapshot(dir).files.filter((f) => f.partitionValues["region"] === "eu");
    expect(eu.length).toBeGreaterThanOrEqual(2);
    expect(eu.length).toBeLessThanOrEqual(3);
    await expectRows(dir, schema.fields, rows);
    // Every file is at or over a target of their smallest size: nothing to do.
    const version = snapshot(dir).version;
    const result = await optimizeTable(dir, { targetFileSize: Math.min(...snapshot(dir).files.map((f) => f.size)) });
    expect(result.version).toBeUndefined();
    expect(snapshot(dir).version).toBe(version);
  });

  it("aborts, deleting its files, when a commit removed one of its inputs meanwhile: no row comes back", async () => {
    const { dir } = await smallFilesTable(4);
    const other = sink(dir, {}, "rewriter");
    const replacement = rowsOf(99, 5);
    const filesBefore = readdirSync(join(dir, "region=eu")).length;
    const failure = await optimizeTable(dir, {
      targetFileSize: 1024 * 1024,
      beforeCommit: () => other.write(0, batchFromRows(schema, replacement), "complete"),
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OptimizeConflictError);
    expect((failure as Error).message).toMatch(
      new RegExp(`^table ${dir}: a commit after version 3 removed region=[a-z_]+/part-[^ ]+ while optimize was rewriting it; nothing was committed \\(the rewritten files were deleted\\): run optimize again$`),
    );
    expect(tableHistory(dir).map((e) => e.operation)).not.toContain("OPTIMIZE");
    // The files optimize wrote are gone: only the 4 appends' and the complete batch's remain.
    expect(readdirSync(join(dir, "region=eu")).length).toBe(filesBefore + 1);
    await expectRows(dir, schema.fields, replacement);
  });

  it("commits on top of a concurrent append, which keeps its rows", async () => {
    const { dir, rows } = await smallFilesTable(4);
    const extra = rowsOf(50, 6);
    const result = await optimizeTable(dir, {
      targetFileSize: 1024 * 1024,
      beforeCommit: () => sink(dir, {}, "appender").write(0, batchFromRows(schema, extra), "append"),
    });
    expect(result.version).toBe(5);
    expect(tableHistory(dir).map((e) => e.operation).slice(0, 2)).toEqual(["OPTIMIZE", "STREAMING UPDATE"]);
    await expectRows(dir, schema.fields, [...rows, ...extra]);
  });

  it("compact_every N: the sink optimizes after every N-th commit it makes", async () => {
    const dir = tempTable();
    const out = sink(dir, { compactEvery: 3 });
    const rows: Row[] = [];
    for (let b = 0; b < 7; b++) {
      const batch = rowsOf(b, 9);
      rows.push(...batch);
      await out.write(b, batchFromRows(schema, batch), "append");
    }
    expect(tableHistory(dir).map((e) => e.operation).reverse()).toEqual([
      "STREAMING UPDATE",
      "STREAMING UPDATE",
      "STREAMING UPDATE",
      "OPTIMIZE",
      "STREAMING UPDATE",
      "STREAMING UPDATE",
      "STREAMING UPDATE",
      "OPTIMIZE",
      "STREAMING UPDATE",
    ]);
    // After the second optimize each region had one file; batch 6 added one more per region.
    expect(snapshot(dir).files).toHaveLength(6);
    await expectRows(dir, schema.fields, rows);
  });

  it.skipIf(!existsSync(conformance))("refuses a table with column types streamc does not write", async () => {
    const dir = tempTable();
    cpSync(join(conformance, "golden/data-skipping-basic-stats-all-types/delta"), dir, { recursive: true });
    await expect(optimizeTable(dir, { targetFileSize: 1024 * 1024 })).rejects.toThrow(
      `table ${dir}: column as_byte is byte, a type streamc reads but does not write; optimize would change it, so it leaves this table alone: compact it with the engine that wrote it`,
    );
  });
});

describe("vacuum", () => {
  const day = 24 * 3600 * 1000;

  /** Makes a file look `ageMs` old. */
  function age(path: string, ageMs: number): void {
    const when = new Date(Date.now() - ageMs);
    utimesSync(path, when, when);
  }

  it("deletes the files only removed versions need once the retention has passed, keeps every live file, and never touches the log", async () => {
    const { dir, rows } = await smallFilesTable(5);
    await optimizeTable(dir, { targetFileSize: 1024 * 1024 });
    const removed = snapshot(dir).tombstones.map((t) => resolveDataPath(dir, t.path));
    const live = snapshot(dir).files.map((f) => resolveDataPath(dir, f.path));
    expect(removed).toHaveLength(15);
    const log = readdirSync(join(dir, "_delta_log")).sort();
    // An orphan (a crash before the log commit) and a crash's temporary file, both old.
    const orphan = join(dir, "region=eu", "part-00000-00000000-0000-0000-0000-000000000000-c000.zstd.parquet");
    const temp = join(dir, "region=eu", ".part-x.zstd.parquet.123-abcd.tmp");
    writeFileSync(orphan, "not referenced");
    writeFileSync(temp, "half");
    for (const path of [orphan, temp, ...removed, ...live]) age(path, 10 * day);

    // Within the retention of the removals (just now): nothing but the old orphans goes.
    const first = await vacuumTable(dir, { retentionMs: DEFAULT_RETENTION_MS, dryRun: false });
    expect(first.files.map((f) => f.path)).toEqual(["region=eu/.part-x.zstd.parquet.123-abcd.tmp", "region=eu/part-00000-00000000-0000-0000-0000-000000000000-c000.zstd.parquet"]);
    expect(removed.every((p) => existsSync(p))).toBe(true);

    // Eight days on, the tombstones are past the retention too.
    const later = Date.now() + 8 * day;
    const dry = await vacuumTable(dir, { retentionMs: DEFAULT_RETENTION_MS, dryRun: true, now: later });
    expect(dry.files.map((f) => resolveDataPath(dir, f.path)).sort()).toEqual([...removed].sort());
    expect(removed.every((p) => existsSync(p))).toBe(true);
    const done = await vacuumTable(dir, { retentionMs: DEFAULT_RETENTION_MS, dryRun: false, now: later });
    expect(done.files).toEqual(dry.files);
    expect(removed.some((p) => existsSync(p))).toBe(false);
    expect(live.every((p) => existsSync(p))).toBe(true);
    expect(readdirSync(join(dir, "_delta_log")).sort()).toEqual(log);
    await expectRows(dir, schema.fields, rows, { mayBeVacuumed: true });
  });

  it("keeps recent files the log does not reference (a writer's, not yet committed)", async () => {
    const { dir, rows } = await smallFilesTable(2);
    const fresh = join(dir, "region=us", "part-00000-11111111-1111-1111-1111-111111111111-c000.zstd.parquet");
    writeFileSync(fresh, "being committed");
    const result = await vacuumTable(dir, { retentionMs: DEFAULT_RETENTION_MS, dryRun: false });
    expect(result.files).toEqual([]);
    expect(existsSync(fresh)).toBe(true);
    expect(statSync(fresh).size).toBe(15);
    await expectRows(dir, schema.fields, rows);
  });

  it("with a zero retention, deletes every file the latest version does not read, and removes the directories it empties", async () => {
    const dir = tempTable();
    const out = sink(dir);
    await out.write(0, batchFromRows(schema, rowsOf(0, 6)), "complete");
    const last = rowsOf(1, 2);
    await out.write(1, batchFromRows(schema, last), "complete");
    const result = await vacuumTable(dir, { retentionMs: 0, dryRun: false, now: Date.now() + 1000 });
    expect(result.files).toHaveLength(3);
    expect(readdirSync(dir).sort()).toEqual(["_delta_log", "region=eu", "region=us"]);
    await expectRows(dir, schema.fields, last, { mayBeVacuumed: true });
  });
});
