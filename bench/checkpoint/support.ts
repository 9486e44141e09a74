/**
 * Small shared pieces of the checkpoint benchmark: the DuckDB connection that checks results
 * (one in-memory instance, UTC), SQL string quoting, and the bytes a directory holds.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export interface Duck {
  run(sql: string): Promise<unknown>;
  runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }>;
}

export async function openDuck(): Promise<{ duck: Duck; version: string }> {
  const duckdb = await import("@duckdb/node-api");
  const duck = (await (await duckdb.DuckDBInstance.create(":memory:")).connect()) as unknown as Duck;
  await duck.run("SET TimeZone = 'UTC'");
  return { duck, version: duckdb.version() };
}

/** A path as a SQL string literal. */
export function quote(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}

/** Bytes of the files under `dir`, recursively. */
export function directoryBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    bytes += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return bytes;
}
