/**
 * DuckDB as the test oracle: a query's rows in the runtime's `CellValue` conventions
 * (runtime/columnar/values.ts), so they compare directly with batches read back as rows.
 */
import type { CellValue } from "../../runtime/columnar/values.ts";

let duck: Promise<{ runAndReadAll(sql: string): Promise<{ getRows(): unknown[][]; columnNames(): string[] }> }> | undefined;

/** DuckDB as the oracle: rows of `sql` in the runtime's CellValue conventions. */
export async function duckRows(sql: string): Promise<Record<string, CellValue>[]> {
  duck ??= (async () => {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    return (await (await DuckDBInstance.create(":memory:")).connect()) as never;
  })();
  const result = await (await duck).runAndReadAll(sql);
  const names = result.columnNames();
  return result.getRows().map((row) => Object.fromEntries(names.map((n, i) => [n, duckCell(row[i])])));
}

export function duckCell(v: unknown): CellValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "object") return v as CellValue;
  const o = v as Record<string, unknown>;
  switch ((v as object).constructor.name) {
    case "DuckDBDecimalValue":
      return o["value"] as bigint;
    case "DuckDBDateValue":
      return o["days"] as number;
    case "DuckDBTimestampValue":
    case "DuckDBTimestampTZValue":
      return Number(o["micros"] as bigint);
    case "DuckDBListValue":
      return (o["items"] as unknown[]).map(duckCell);
    case "DuckDBStructValue":
      return Object.fromEntries(Object.entries(o["entries"] as object).map(([k, x]) => [k, duckCell(x)]));
    case "DuckDBMapValue":
      return new Map((o["entries"] as { key: unknown; value: unknown }[]).map((e) => [String(e.key), duckCell(e.value)]));
    case "DuckDBBlobValue":
      return new Uint8Array(o["bytes"] as Uint8Array);
    default:
      return String(v);
  }
}
