/**
 * Benchmark (e): newline-delimited JSON files on disk → 10-minute tumbling count + sum by key →
 * JSON files, through `runPipeline` with `trigger: available_now`, one input file per batch; and
 * its ceiling: reading the same files in the same process with `JSON.parse` per line and filling
 * the columns with the runtime's column builders (the least any JSON reader must do).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import { runPipeline, type RunSummary } from "../../runtime/engine/pipeline.ts";
import type { KernelModule } from "../../runtime/kernel.ts";
import { createOperator } from "../../runtime/operators/registry.ts";
import type { PhysicalPlan } from "../../runtime/plan.ts";
import { parseTimestampMicros } from "../../runtime/time.ts";
import { EVENT_SCHEMA, EVENT_SCHEMA_TEXT } from "./data.ts";
import type { Row } from "./checksum.ts";
import { TUMBLING_STREAM } from "./cases.ts";

export const END_TO_END_PROGRAM = [
  "pipeline bench_end_to_end { trigger = available_now }",
  EVENT_SCHEMA_TEXT,
  'source events: Event = files "in" { format = json, max_files_per_batch = 1 }',
  "stream out = events",
  TUMBLING_STREAM,
  'sink out -> files "out" { format = json }',
  "",
].join("\n");

/** Writes the NDJSON texts to `DIR/in/part-NNNNN.json`; returns the file names in order. */
export function writeInputFiles(dir: string, texts: readonly string[]): string[] {
  const inDir = join(dir, "in");
  mkdirSync(inDir, { recursive: true });
  return texts.map((text, i) => {
    const name = `part-${String(i).padStart(5, "0")}.json`;
    writeFileSync(join(inDir, name), text);
    return name;
  });
}

/** One run of the pipeline in `dir` (reads `in/`, writes `out/`, which is emptied first). */
export async function runEndToEnd(plan: PhysicalPlan, kernels: KernelModule, dir: string): Promise<RunSummary> {
  rmSync(join(dir, "out"), { recursive: true, force: true });
  return runPipeline({
    plan,
    kernels,
    createOperator,
    trigger: { kind: "available_now" },
    cwd: dir,
    env: {},
    log: (line) => {
      throw new Error(`the end-to-end pipeline logged: ${line}`);
    },
  });
}

export function removeOutput(dir: string): void {
  rmSync(join(dir, "out"), { recursive: true, force: true });
}

/** The ceiling: every file read, each line `JSON.parse`d, its five fields appended to column builders (timestamps parsed as the decoder does). */
export async function jsonCeiling(dir: string, files: readonly string[]): Promise<{ rows: number; batches: Batch[] }> {
  const decoder = new TextDecoder();
  const batches: Batch[] = [];
  let rows = 0;
  for (const name of files) {
    const text = decoder.decode(await readFile(join(dir, "in", name)));
    const [eventId, key, user, amount, ts] = EVENT_SCHEMA.fields.map((f) => columnBuilder(f, 65_536));
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      if (end > start) {
        const record = JSON.parse(text.slice(start, end)) as { event_id: string; key: string; user: number; amount: number; ts: string };
        eventId!.append(record.event_id);
        key!.append(record.key);
        user!.append(record.user);
        amount!.append(record.amount);
        ts!.append(parseTimestampMicros(record.ts) ?? null);
      }
      start = end + 1;
    }
    const length = eventId!.length;
    rows += length;
    batches.push({ schema: EVENT_SCHEMA, length, columns: [eventId!.finish(), key!.finish(), user!.finish(), amount!.finish(), ts!.finish()] });
  }
  return { rows, batches };
}

/** The rows the pipeline wrote to `DIR/out`, window times as microseconds. */
export function readOutput(dir: string): { rows: Row[]; files: number } {
  const outDir = join(dir, "out");
  const names = readdirSync(outDir).filter((n) => !n.startsWith(".")).sort();
  const rows: Row[] = [];
  for (const name of names) {
    for (const line of readFileSync(join(outDir, name), "utf8").split("\n")) {
      if (line === "") continue;
      const row = JSON.parse(line) as Row;
      row["window_start"] = parseTimestampMicros(row["window_start"] as string);
      row["window_end"] = parseTimestampMicros(row["window_end"] as string);
      rows.push(row);
    }
  }
  return { rows, files: names.length };
}
