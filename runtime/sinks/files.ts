/**
 * The `files` sink: one file per batch in a directory, exactly once.
 *
 * Contract: batch N's rows go to `DIR/part-0000000N.EXT` (the id zero-padded to 8 digits, more
 * when it needs more; `EXT` is `json`, `csv` or `parquet`). The file is written whole or not at
 * all: to a hidden temporary name in DIR (`.part-....tmp`, which readers and the files source
 * skip), fsynced, then renamed over the final name, and the directory fsynced. A replayed batch
 * writes the same name again, so it replaces the earlier attempt and never duplicates it. DIR is
 * created when missing.
 *
 * Formats:
 * - `json`: one JSON object per line (encode.ts: ISO-8601 UTC timestamps, exact decimals, base64
 *   bytes, nulls written).
 * - `csv`: a header row, then one line per row (encode.ts).
 * - `parquet`: parquet-wasm, zstd, dictionary encoding and page statistics; timestamps INT64
 *   microseconds, adjusted to UTC; decimals as Decimal128.
 *
 * Decision: a batch with no rows writes no file (and removes a file an earlier attempt of that
 * batch left), as Spark's file sink writes no empty files.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as parquet from "parquet-wasm";
import { toArrowTable } from "../columnar/batch-ops.ts";
import type { Batch } from "../columnar/batch.ts";
import type { Schema } from "../plan.ts";
import { writeFileAtomically } from "../storage/durable-file.ts";
import { batchToCsv, batchToJsonLines } from "./encode.ts";
import type { OutputMode, Sink } from "./sink.ts";

export type FileFormat = "json" | "csv" | "parquet";

export function partFileName(batchId: number, format: FileFormat): string {
  return `part-${String(batchId).padStart(8, "0")}.${format}`;
}

export class FilesSink implements Sink {
  private made = false;

  constructor(
    readonly id: string,
    readonly schema: Schema,
    /** The directory, already resolved against the working directory. */
    readonly dir: string,
    readonly format: FileFormat,
  ) {}

  async write(batchId: number, batch: Batch, _mode: OutputMode): Promise<void> {
    const path = join(this.dir, partFileName(batchId, this.format));
    if (batch.length === 0) {
      await rm(path, { force: true });
      return;
    }
    if (!this.made) {
      await mkdir(this.dir, { recursive: true });
      this.made = true;
    }
    await writeFileAtomically(path, encodeBatch(batch, this.format));
  }

  async close(): Promise<void> {}
}

export function encodeBatch(batch: Batch, format: FileFormat): Uint8Array {
  switch (format) {
    case "json": {
      const lines = batchToJsonLines(batch);
      return new TextEncoder().encode(lines.length ? lines.join("\n") + "\n" : "");
    }
    case "csv":
      return new TextEncoder().encode(batchToCsv(batch));
    case "parquet":
      return encodeParquet(batch.schema, [batch]);
  }
}

export function encodeParquet(schema: Schema, batches: readonly Batch[]): Uint8Array {
  const ipc = arrow.tableToIPC(toArrowTable(schema, batches), "stream");
  const properties = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.ZSTD)
    .setDictionaryEnabled(true)
    .setStatisticsEnabled(parquet.EnabledStatistics.Page)
    .build();
  return parquet.writeParquet(parquet.Table.fromIPCStream(ipc), properties);
}
