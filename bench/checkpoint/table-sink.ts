/**
 * Benchmark (g): the `table` sink's write throughput, against parquet-wasm writing the same
 * batches directly.
 *
 * Input (`tableSinkBatches`): deterministic Arrow batches of `TABLE_SCHEMA`: `id: long` (the row
 * number), `country: string` (one of 40 ISO codes, skewed as real traffic is), `amount: double`
 * (exponential, in steps of 1/8 so every sum is exact), `ts: timestamp` (rising), `note: string?`
 * (null in about one row in ten, else `note-N`).
 *
 * Contract:
 * - `writeThroughTableSink(dir, batches, partitionBy)` writes every batch with
 *   `TableSink.write(batchId, batch, "append")` into a fresh table at `DIR/table` (the sink's
 *   defaults: 128 MB target file size, zstd, no compaction), one commit per batch, log
 *   checkpoints included; returns the Parquet and log bytes it wrote.
 * - `writeDirectly(dir, batches)` is the reference: per batch, the same Arrow → IPC →
 *   parquet-wasm path with the writer properties of runtime/table/parquet-file.ts (zstd,
 *   dictionary encoding on, page statistics), the bytes written with `fs.writeFileSync` to
 *   `DIR/direct/part-NNNNN.parquet`; no temporary file, no fsync, no log, no statistics.
 * - Checks: the input's exact checksum (`tableChecksum`) must equal the table read back by
 *   `readTable` (the log's live files), DuckDB's `read_parquet` over the same live files, and
 *   DuckDB over the reference's files.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as parquet from "parquet-wasm";
import { arrowType } from "../../runtime/columnar/arrow-types.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import type { Schema } from "../../runtime/plan.ts";
import { DEFAULT_TARGET_FILE_SIZE, TableSink } from "../../runtime/sinks/table.ts";
import { resolveDataPath, snapshot } from "../../runtime/table/delta-log.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { prng } from "../../test/support/prng.ts";
import { type Checksum, checksumOfRows, checksumSql, rowsOfBatches, type Term } from "../runtime/checksum.ts";
import { type Duck, directoryBytes, quote } from "./support.ts";

const T0 = 1_704_067_200_000_000;

export const TABLE_SCHEMA: Schema = {
  fields: [
    { name: "id", type: { kind: "long" }, nullable: false },
    { name: "country", type: { kind: "string" }, nullable: false },
    { name: "amount", type: { kind: "double" }, nullable: false },
    { name: "ts", type: { kind: "timestamp" }, nullable: false },
    { name: "note", type: { kind: "string" }, nullable: true },
  ],
};

const COUNTRIES = [
  "US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "IT", "ES", "NL", "AU", "MX", "KR", "SE", "PL", "CH", "BE", "AT", "NO",
  "DK", "FI", "IE", "PT", "CZ", "GR", "RO", "HU", "TR", "ZA", "AR", "CL", "CO", "NZ", "SG", "HK", "TW", "IL", "AE", "ID",
];

export function tableSinkBatches(rows: number, batchRows: number, seed = 20240102): Batch[] {
  const random = prng(seed);
  const batches: Batch[] = [];
  for (let start = 0; start < rows; start += batchRows) {
    const n = Math.min(batchRows, rows - start);
    const [id, country, amount, ts, note] = TABLE_SCHEMA.fields.map((f) => columnBuilder(f, n));
    for (let i = start; i < start + n; i++) {
      id!.append(i);
      // Skewed: the first countries are far more frequent (about Zipf).
      country!.append(COUNTRIES[Math.min(COUNTRIES.length - 1, Math.floor(COUNTRIES.length * random() ** 2.5))]!);
      amount!.append(Math.min(8000, Math.floor(-Math.log(1 - random()) * 30 * 8)) / 8);
      ts!.append(T0 + i * 13_733 + Math.floor(random() * 1_000_000));
      if (random() < 0.1) note!.appendNull();
      else note!.append(`note-${Math.floor(random() * 100_000)}`);
    }
    batches.push({ schema: TABLE_SCHEMA, length: n, columns: [id!.finish(), country!.finish(), amount!.finish(), ts!.finish(), note!.finish()] });
  }
  return batches;
}

/** The Arrow buffers' bytes of the batches (the input's size in memory). */
export function arrowBytes(batches: readonly Batch[]): number {
  return batches.reduce((n, b) => n + b.columns.reduce((m, c) => m + c.byteLength, 0), 0);
}

const countryCode = (c: string) => c.charCodeAt(0) * 256 + c.charCodeAt(1);
const COUNTRY_SQL = "(ascii(country) * 256 + ascii(substr(country, 2, 1)))";
const num = (row: Record<string, unknown>, name: string) => row[name] as number;

/** Exact checksum terms; products with `id` catch a value that lands in another row. */
export const TABLE_TERMS: Term[] = [
  { name: "rows", sql: "1", value: () => 1 },
  { name: "id", sql: "id", value: (r) => num(r, "id") },
  { name: "country", sql: COUNTRY_SQL, value: (r) => countryCode(r["country"] as string) },
  { name: "country_x_id", sql: `${COUNTRY_SQL} * id`, value: (r) => countryCode(r["country"] as string) * num(r, "id") },
  { name: "amount_x8", sql: "CAST(amount * 8 AS BIGINT)", value: (r) => num(r, "amount") * 8 },
  { name: "amount_x8_x_id", sql: "CAST(amount * 8 AS BIGINT) * id", value: (r) => num(r, "amount") * 8 * num(r, "id") },
  { name: "ts_us", sql: `epoch_us(ts) - ${T0}`, value: (r) => num(r, "ts") - T0 },
  { name: "notes", sql: "CASE WHEN note IS NULL THEN 0 ELSE 1 END", value: (r) => (r["note"] === null ? 0 : 1) },
  { name: "note_x_id", sql: "coalesce(CAST(substr(note, 6) AS BIGINT), 0) * id", value: (r) => (r["note"] === null ? 0 : Number((r["note"] as string).slice(5)) * num(r, "id")) },
];

export function inputChecksum(batches: readonly Batch[]): Checksum {
  return checksumOfRows(TABLE_TERMS, rowsOfBatches(batches));
}

export interface WriteResult {
  files: number;
  parquetBytes: number;
  /** `_delta_log` (commits and checkpoints); 0 for the reference. */
  logBytes: number;
}

export function tableDir(dir: string): string {
  return join(dir, "table");
}

export function directDir(dir: string): string {
  return join(dir, "direct");
}

export function resetTableSink(dir: string): void {
  rmSync(tableDir(dir), { recursive: true, force: true });
  rmSync(directDir(dir), { recursive: true, force: true });
}

export async function writeThroughTableSink(dir: string, batches: readonly Batch[], partitionBy: readonly string[]): Promise<WriteResult> {
  const sink = new TableSink("events", TABLE_SCHEMA, tableDir(dir), { partitionBy, targetFileSize: DEFAULT_TARGET_FILE_SIZE, compactEvery: undefined }, "bench/events");
  for (let b = 0; b < batches.length; b++) await sink.write(b, batches[b]!, "append");
  await sink.close();
  const snap = snapshot(tableDir(dir));
  return { files: snap.files.length, parquetBytes: snap.files.reduce((n, f) => n + f.size, 0), logBytes: directoryBytes(join(tableDir(dir), "_delta_log")) };
}

export function writeDirectly(dir: string, batches: readonly Batch[]): WriteResult {
  const out = directDir(dir);
  mkdirSync(out, { recursive: true });
  const schema = new arrow.Schema(TABLE_SCHEMA.fields.map((f) => new arrow.Field(f.name, arrowType(f.type), f.nullable)));
  let parquetBytes = 0;
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!;
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: batch.length, nullCount: 0, children: batch.columns as arrow.Data[] });
    const ipc = arrow.tableToIPC(new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]), "stream");
    // runtime/table/parquet-file.ts `encodeDataFile` with the default `dataFileFormat`.
    const properties = new parquet.WriterPropertiesBuilder()
      .setCompression(parquet.Compression.ZSTD)
      .setDictionaryEnabled(true)
      .setStatisticsEnabled(parquet.EnabledStatistics.Page)
      .build();
    const bytes = parquet.writeParquet(parquet.Table.fromIPCStream(ipc), properties);
    writeFileSync(join(out, `part-${String(b).padStart(5, "0")}.parquet`), bytes);
    parquetBytes += bytes.length;
  }
  return { files: batches.length, parquetBytes, logBytes: 0 };
}

async function duckChecksum(duck: Duck, from: string): Promise<Checksum> {
  const [row] = (await duck.runAndReadAll(checksumSql(TABLE_TERMS, from))).getRowObjectsJS();
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, String(v)]));
}

function expectEqual(what: string, got: Checksum, expected: Checksum): void {
  const wrong = Object.keys(expected).filter((k) => got[k] !== expected[k]);
  if (wrong.length > 0) throw new Error(`table sink benchmark: ${what} differs from the input: ${wrong.map((k) => `${k} ${got[k]} vs ${expected[k]}`).join(", ")}`);
}

/** Checks the table against the input, by `readTable` and by DuckDB over its live files. */
export async function checkTable(duck: Duck, dir: string, expected: Checksum, partitioned: boolean): Promise<string> {
  expectEqual("the table read back by readTable", checksumOfRows(TABLE_TERMS, readTable(tableDir(dir))), expected);
  const files = snapshot(tableDir(dir)).files.map((f) => quote(resolveDataPath(tableDir(dir), f.path)));
  expectEqual("DuckDB's read_parquet over the table's live files", await duckChecksum(duck, `read_parquet([${files.join(", ")}]${partitioned ? ", hive_partitioning = true" : ""})`), expected);
  return `readTable = DuckDB over the ${files.length} live files = input (${expected["rows"]} rows, checksum equal)`;
}

export async function checkDirect(duck: Duck, dir: string, expected: Checksum): Promise<string> {
  expectEqual("the reference's files", await duckChecksum(duck, `read_parquet(${quote(join(directDir(dir), "*.parquet"))})`), expected);
  return `DuckDB over the files = input (${expected["rows"]} rows, checksum equal)`;
}
