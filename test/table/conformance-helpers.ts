/** Helpers for the Delta conformance test: reading expected rows and comparing row multisets. */
import fs from "node:fs";
import path from "node:path";
import type { DataType } from "../../runtime/plan.ts";
import { readParquetTable, tableRows } from "../../runtime/table/arrow-values.ts";
import type { SparkField } from "../../runtime/table/spark-schema.ts";
import { normalizeDecimal, parsePartitionValue, type Row } from "../../runtime/table/read-table.ts";

/** Parquet files of an expected folder (or the file itself). */
export function expectedFiles(p: string): string[] {
  if (fs.statSync(p).isFile()) return [p];
  return fs
    .readdirSync(p)
    .filter((n) => n.endsWith(".parquet") && !n.startsWith("."))
    .sort()
    .map((n) => path.join(p, n));
}

export function readExpectedRows(p: string): Row[] {
  return expectedFiles(p).flatMap((f) => tableRows(readParquetTable(new Uint8Array(fs.readFileSync(f)))));
}

/** Brings a value to the schema type's normal form: strings (partition values) are parsed, etc. */
function normalize(v: unknown, type: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" && type.kind !== "string" && type.kind !== "decimal") return parsePartitionValue(v, type);
  switch (type.kind) {
    case "decimal":
      return normalizeDecimal(String(v), type.scale);
    case "double":
    case "int":
      return typeof v === "bigint" ? Number(v) : v;
    case "long":
      return typeof v === "bigint" ? v.toString() : typeof v === "number" ? String(v) : v;
    case "bytes":
      return v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v;
    case "list":
      return (v as unknown[]).map((e) => normalize(e, type.element.type));
    case "map": {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) o[k] = normalize((v as Record<string, unknown>)[k], type.value.type);
      return o;
    }
    case "struct": {
      const o: Record<string, unknown> = {};
      for (const f of type.fields) o[f.name] = normalize((v as Record<string, unknown>)[f.name], f.type);
      return o;
    }
    default:
      return v;
  }
}

function stringify(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : typeof x === "number" && !Number.isFinite(x) ? `num:${x}` : x));
}

/** Sorted canonical keys of rows, in schema order, for multiset comparison. */
export function canonicalRows(rows: Row[], fields: SparkField[]): string[] {
  return rows
    .map((r) => stringify(fields.map((f) => normalize(r[f.name], f.type))))
    .sort();
}
