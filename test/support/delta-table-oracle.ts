/**
 * Reading a Delta table with other readers than the runtime's, as test oracles.
 *
 * Contract:
 * - `duckTableRows(tablePath)`: the live files (from the runtime's log replay) read by DuckDB's
 *   `read_parquet`, one query per file, with the partition columns re-attached by DuckDB casting
 *   the log's partition value texts to the column types; a column a file lacks is null. Rows in
 *   the runtime's `CellValue` conventions (test/support/duckdb.ts).
 * - `parquetjsTableRows(tablePath)`: the same files read by parquetjs-lite, its values brought to
 *   `CellValue` (it yields timestamps as `Date`, so at millisecond precision: timestamps come back
 *   as micros truncated to the millisecond). It reads neither zstd nor RLE_DICTIONARY pages nor
 *   DECIMAL columns: use it on tables written with snappy, no dictionary, no decimals.
 * - `canonicalRows(rows, fields)`: sorted canonical texts of rows, for multiset comparison.
 * - `statsProblems(tablePath)`: every live file's `stats` checked against DuckDB's count, min,
 *   max and null count of the file (see runtime/table/file-stats.ts for the rules); empty: right.
 */
import { createRequire } from "node:module";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { DataType, Field } from "../../runtime/plan.ts";
import { resolveDataPath, snapshot } from "../../runtime/table/delta-log.ts";
import { duckRows } from "./duckdb.ts";

type Row = Record<string, CellValue>;

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The DuckDB type a partition column's text is cast to. */
function duckType(type: DataType): string {
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
    case "date":
      return "DATE";
    case "timestamp":
      return "TIMESTAMPTZ";
    default:
      throw new Error(`no partition column of type ${type.kind} in these tests`);
  }
}

export async function duckTableRows(tablePath: string): Promise<Row[]> {
  const snap = snapshot(tablePath);
  const fields = snap.metadata.schema.fields;
  const partitions = new Set(snap.metadata.partitionColumns);
  const out: Row[] = [];
  for (const file of snap.files) {
    const attached = [...partitions].map((c) => {
      const text = file.partitionValues[c];
      const type = duckType(fields.find((f) => f.name === c)!.type);
      return `CAST(${text === null || text === undefined ? "NULL" : sqlString(text)} AS ${type}) AS "${c}"`;
    });
    const rows = await duckRows(`SELECT *${attached.length ? ", " + attached.join(", ") : ""} FROM read_parquet(${sqlString(resolveDataPath(tablePath, file.path))})`);
    for (const row of rows) out.push(Object.fromEntries(fields.map((f) => [f.name, f.name in row ? row[f.name]! : null])));
  }
  return out;
}

const require = createRequire(import.meta.url);

interface ParquetjsReader {
  getCursor(): { next(): Promise<Record<string, unknown> | null> };
  close(): Promise<void>;
}

/** Opens and reads one file with parquetjs-lite (its records as it yields them). */
export async function parquetjsFileRecords(file: string): Promise<Record<string, unknown>[]> {
  const parquetjs = require("parquetjs-lite") as { ParquetReader: { openFile(path: string): Promise<ParquetjsReader> } };
  const reader = await parquetjs.ParquetReader.openFile(file);
  try {
    const cursor = reader.getCursor();
    const out: Record<string, unknown>[] = [];
    for (let record = await cursor.next(); record; record = await cursor.next()) out.push(record);
    return out;
  } finally {
    await reader.close();
  }
}

function fromParquetjs(value: unknown, type: DataType): CellValue {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case "bool":
    case "string":
      return value as CellValue;
    case "int":
    case "long":
    case "double":
      return Number(value);
    case "bytes":
      return new Uint8Array(value as Buffer);
    case "date":
      return Math.round((value as Date).getTime() / 86_400_000);
    case "timestamp":
      return (value as Date).getTime() * 1000;
    case "list":
      return ((value as { list?: { element?: unknown }[] }).list ?? []).map((e) => fromParquetjs(e.element, type.element.type));
    case "map":
      return new Map(((value as { entries?: { key: string; value?: unknown }[] }).entries ?? []).map((e) => [e.key, fromParquetjs(e.value, type.value.type)]));
    case "struct":
      return Object.fromEntries(type.fields.map((f) => [f.name, fromParquetjs((value as Record<string, unknown>)[f.name], f.type)]));
    default:
      throw new Error(`parquetjs-lite cannot give a ${type.kind} here`);
  }
}

export async function parquetjsTableRows(tablePath: string): Promise<Row[]> {
  const snap = snapshot(tablePath);
  const fields = snap.metadata.schema.fields;
  const partitions = new Set(snap.metadata.partitionColumns);
  const out: Row[] = [];
  for (const file of snap.files) {
    for (const record of await parquetjsFileRecords(resolveDataPath(tablePath, file.path))) {
      const row: Row = {};
      for (const f of fields) {
        // Partition values (texts in the log) are not in the file; these tests compare them as texts.
        row[f.name] = partitions.has(f.name) ? (file.partitionValues[f.name] ?? null) : fromParquetjs(record[f.name], f.type);
      }
      out.push(row);
    }
  }
  return out;
}

/** A value as a canonical JSON-able form: bigints, bytes, maps and non-finite numbers made comparable. */
function canonical(value: CellValue): unknown {
  if (value === null) return null;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : `num:${value}`;
  if (value instanceof Uint8Array) return `hex:${Buffer.from(value).toString("hex")}`;
  if (value instanceof Map) return [...value].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k, canonical(v)]);
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonical(v)]));
  return value;
}

export function canonicalRows(rows: readonly Row[], fields: readonly Field[]): string[] {
  return rows.map((row) => JSON.stringify(fields.map((f) => canonical(row[f.name] ?? null)))).sort();
}

/** The raw JSON texts of one section (`minValues`, ...) of a stats string, by column: exact, no number parsing. */
export function rawStatsSection(stats: string, section: "minValues" | "maxValues" | "nullCount"): Map<string, string> {
  const start = stats.indexOf(`"${section}":{`);
  const out = new Map<string, string>();
  if (start < 0) return out;
  const body = stats.slice(start + section.length + 4, stats.indexOf("}", start));
  for (const m of body.matchAll(/("(?:[^"\\]|\\.)*"):("(?:[^"\\]|\\.)*"|[^,]+)/g)) out.set(JSON.parse(m[1]!) as string, m[2]!);
  return out;
}

function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  if (scale > 0) digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${digits}` : digits;
}

export async function statsProblems(tablePath: string): Promise<string[]> {
  const snap = snapshot(tablePath);
  const partitions = new Set(snap.metadata.partitionColumns);
  const fields = snap.metadata.schema.fields.filter((f) => !partitions.has(f.name));
  const problems: string[] = [];
  for (const file of snap.files) {
    const path = resolveDataPath(tablePath, file.path);
    const stats = file.stats ?? "";
    const where = `${file.path}`;
    const parsed = JSON.parse(stats) as { numRecords: number };
    const [count] = await duckRows(`SELECT count(*) AS n FROM read_parquet(${sqlString(path)})`);
    if (parsed.numRecords !== count!["n"]) problems.push(`${where}: numRecords ${parsed.numRecords}, DuckDB counts ${String(count!["n"])}`);
    const mins = rawStatsSection(stats, "minValues");
    const maxs = rawStatsSection(stats, "maxValues");
    const nulls = rawStatsSection(stats, "nullCount");
    for (const f of fields) {
      const column = `"${f.name.replace(/"/g, '""')}"`;
      const [agg] = await duckRows(`SELECT min(${column}) AS lo, max(${column}) AS hi, count(*) - count(${column}) AS nulls FROM read_parquet(${sqlString(path)})`);
      const lo = agg!["lo"];
      const hi = agg!["hi"];
      if (f.type.kind !== "struct" && nulls.get(f.name) !== String(agg!["nulls"])) problems.push(`${where}: nullCount.${f.name} ${nulls.get(f.name)}, DuckDB ${String(agg!["nulls"])}`);
      const expect = (section: string, got: string | undefined, want: string | undefined): void => {
        if (got !== want) problems.push(`${where}: ${section}.${f.name} is ${got}, expected ${want}`);
      };
      switch (f.type.kind) {
        case "int":
        case "long":
          expect("minValues", mins.get(f.name), lo === null ? undefined : String(lo));
          expect("maxValues", maxs.get(f.name), hi === null ? undefined : String(hi));
          break;
        case "double": {
          const finite = lo !== null && Number.isFinite(lo as number) && Number.isFinite(hi as number);
          expect("minValues", mins.get(f.name) === undefined ? undefined : String(Number(mins.get(f.name))), finite ? String(lo) : undefined);
          expect("maxValues", maxs.get(f.name) === undefined ? undefined : String(Number(maxs.get(f.name))), finite ? String(hi) : undefined);
          break;
        }
        case "decimal":
          expect("minValues", mins.get(f.name), lo === null ? undefined : decimalText(lo as bigint, f.type.scale));
          expect("maxValues", maxs.get(f.name), hi === null ? undefined : decimalText(hi as bigint, f.type.scale));
          break;
        case "string": {
          const loChars = lo === null ? undefined : Array.from(lo as string);
          const hiChars = hi === null ? undefined : Array.from(hi as string);
          expect("minValues", mins.get(f.name), loChars && JSON.stringify(loChars.slice(0, 32).join("")));
          expect("maxValues", maxs.get(f.name), hiChars && hiChars.length <= 32 ? JSON.stringify(hi) : undefined);
          break;
        }
        case "date":
          expect("minValues", mins.get(f.name) && String(Date.parse(`${JSON.parse(mins.get(f.name)!)}T00:00:00Z`) / 86_400_000), lo === null ? undefined : String(lo));
          expect("maxValues", maxs.get(f.name) && String(Date.parse(`${JSON.parse(maxs.get(f.name)!)}T00:00:00Z`) / 86_400_000), hi === null ? undefined : String(hi));
          break;
        case "timestamp": {
          // Truncated down to the millisecond: stat * 1000 <= value < stat * 1000 + 1000.
          for (const [section, raw, value] of [["minValues", mins.get(f.name), lo], ["maxValues", maxs.get(f.name), hi]] as const) {
            if (value === null) {
              expect(section, raw, undefined);
              continue;
            }
            const ms = raw === undefined ? NaN : Date.parse(JSON.parse(raw) as string);
            if (!(ms * 1000 <= (value as number) && (value as number) < ms * 1000 + 1000)) problems.push(`${where}: ${section}.${f.name} is ${raw}, DuckDB has ${String(value)} micros`);
          }
          break;
        }
        default:
          expect("minValues", mins.get(f.name), undefined);
          expect("maxValues", maxs.get(f.name), undefined);
      }
    }
  }
  return problems;
}
