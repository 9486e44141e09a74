/**
 * Reads the rows of a Delta table's live files as plain JS rows (see arrow-values.ts for the value
 * forms), with partition columns typed per the table schema.
 */
import fs from "node:fs";
import type { DataType } from "../plan.ts";
import { formatDecimal, readParquetTable, tableRows } from "./arrow-values.ts";
import { resolveDataPath, snapshot } from "./delta-log.ts";

export type Row = Record<string, unknown>;

/** A partition value (always a string in the log) typed as `type`; null for null or "" (non-string). */
export function parsePartitionValue(raw: string | null | undefined, type: DataType): unknown {
  if (raw === null || raw === undefined) return null;
  if (type.kind === "string") return raw;
  if (raw === "") return null;
  switch (type.kind) {
    case "int":
    case "double":
      return Number(raw);
    case "long": {
      const b = BigInt(raw);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    case "bool":
      return raw.toLowerCase() === "true";
    case "date":
      return Math.floor(Date.parse(`${raw}T00:00:00Z`) / 86_400_000);
    case "timestamp":
      return parseTimestampMicros(raw);
    case "decimal":
      return normalizeDecimal(raw, type.scale);
    case "bytes":
      return new TextEncoder().encode(raw);
    default:
      throw new Error(`partition column of type ${type.kind} is not supported`);
  }
}

/** "2021-01-01 00:00:00[.ffffff]" (UTC) or ISO-8601 with zone → epoch micros. */
export function parseTimestampMicros(raw: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(raw.trim());
  if (!m) throw new Error(`bad timestamp partition value ${raw}`);
  const zone = m[4] ?? "Z";
  const secondsMs = Date.parse(`${m[1]}T${m[2]}${zone}`);
  const frac = (m[3] ?? "").padEnd(6, "0").slice(0, 6);
  return secondsMs * 1000 + Number(frac);
}

/** A decimal string rewritten with exactly `scale` fraction digits. */
export function normalizeDecimal(raw: string, scale: number): string {
  const s = raw.trim();
  const neg = s.startsWith("-");
  const body = s.replace(/^[-+]/, "");
  const [intPart = "0", frac = ""] = body.split(".");
  const unscaled = BigInt((intPart || "0") + frac.padEnd(scale, "0").slice(0, scale));
  return formatDecimal(neg ? -unscaled : unscaled, scale);
}

/** The rows of the table at `version` (latest when omitted). */
export function readTable(tablePath: string, version?: number): Row[] {
  const snap = snapshot(tablePath, version);
  const fields = snap.metadata.schema.fields;
  const partitionCols = new Set(snap.metadata.partitionColumns);
  const rows: Row[] = [];
  for (const file of snap.files) {
    const bytes = new Uint8Array(fs.readFileSync(resolveDataPath(tablePath, file.path)));
    const dataRows = tableRows(readParquetTable(bytes));
    for (const dr of dataRows) {
      const row: Row = {};
      for (const f of fields) {
        if (partitionCols.has(f.name)) row[f.name] = parsePartitionValue(file.partitionValues?.[f.name], f.type);
        else row[f.name] = f.name in dr ? dr[f.name] : null;
      }
      rows.push(row);
    }
  }
  return rows;
}
