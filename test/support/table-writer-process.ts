/**
 * A separate process that writes batches to a table through the table sink, for the tests of
 * concurrent writers and crashes (run with `node --import tsx`).
 *
 * Contract: `node --import tsx table-writer-process.ts JSON` where JSON is `{table, pipelineId,
 * from, to, rows, mode?}` writes batches `from..to-1` of `writerSchema`, each the rows
 * `batchRows(pipelineId, batchId, rows)` (the same rows every time, so a replay writes what the
 * first attempt wrote), with the table sink of id `out.table` and pipeline id `pipelineId`. It
 * prints one JSON line per batch (`{batchId, outcome}`). `STREAMC_CRASH_AT` makes it die where the
 * crash point says (runtime/fault.ts).
 */
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { Schema } from "../../runtime/plan.ts";
import { TableSink } from "../../runtime/sinks/table.ts";

export const writerSchema: Schema = {
  fields: [
    { name: "writer", type: { kind: "string" }, nullable: false },
    { name: "batch", type: { kind: "long" }, nullable: false },
    { name: "n", type: { kind: "int" }, nullable: false },
    { name: "part", type: { kind: "string" }, nullable: true },
  ],
};

export function batchRows(writer: string, batchId: number, rows: number): Record<string, CellValue>[] {
  return Array.from({ length: rows }, (_, n) => ({ writer, batch: batchId, n, part: n % 3 === 0 ? null : `p${n % 3}` }));
}

export interface WriterJob {
  table: string;
  pipelineId: string;
  from: number;
  to: number;
  rows: number;
  mode?: "append" | "complete";
}

const job = process.argv[2];
if (job !== undefined && /table-writer-process\.ts$/.test(process.argv[1] ?? "")) {
  const { table, pipelineId, from, to, rows, mode = "append" } = JSON.parse(job) as WriterJob;
  const sink = new TableSink("out.table", writerSchema, table, { partitionBy: ["part"], targetFileSize: 128 * 1024 * 1024, compactEvery: undefined }, `${pipelineId}/out.table`);
  for (let batchId = from; batchId < to; batchId++) {
    await sink.write(batchId, batchFromRows(writerSchema, batchRows(pipelineId, batchId, rows)), mode);
    process.stdout.write(JSON.stringify({ batchId, outcome: sink.lastOutcome }) + "\n");
  }
}
