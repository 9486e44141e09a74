/**
 * The `table` sink: a Delta-protocol table, written exactly once.
 *
 * Contract: `write(batchId, batch, mode)` commits the batch's rows to the table at `tablePath`
 * with the transaction id `{appId: "<pipeline id>/<sink id>", version: batchId}` and skips a
 * batch whose version the table already has (runtime/table/table-writer.ts), so a replayed batch
 * never duplicates rows, and a crash anywhere leaves either the whole batch in the table or none
 * of it. Modes: `append` adds the rows; `complete` replaces every row of the table with the
 * batch's (one commit removing every live file and adding the new ones). `update` is not a table
 * mode (the compiler refuses it); it throws here. `write` resolves once the commit is in the log.
 *
 * Options (compiler defaults applied): `partition_by` (columns), `target_file_size` (bytes),
 * `compact_every` (N: optimize the table after every N commits this sink makes).
 *
 * Decision (`compact_every`): the sink counts its own commits since it started (a restart starts
 * again from zero); after every N-th it runs `optimize` with the sink's target file size, as a
 * separate commit without a txn, in the same process before `write` resolves. A compaction that
 * loses to a concurrent writer removing its inputs is skipped (the next one retries); any other
 * failure fails the write, after the batch itself is committed, so a replay skips the batch.
 */
import type { Batch } from "../columnar/batch.ts";
import type { Schema, Settings } from "../plan.ts";
import { OptimizeConflictError, optimizeTable } from "../table/optimize.ts";
import type { DataFileFormat } from "../table/parquet-file.ts";
import { type BatchWriteOutcome, type TableTarget, validateTarget, writeBatchToTable } from "../table/table-writer.ts";
import type { OutputMode, Sink } from "./sink.ts";

export interface TableSinkOptions {
  partitionBy: readonly string[];
  targetFileSize: number;
  /** Optimize after every this many commits; undefined: never. */
  compactEvery: number | undefined;
  /** Overrides the data file format (tests: a codec other readers know). */
  dataFileFormat?: DataFileFormat;
}

/** `target_file_size`'s default (compiler/connectors.ts has the same). */
export const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;

export class TableSink implements Sink {
  private readonly target: TableTarget;
  private commitsSinceCompaction = 0;
  /** What the last `write` did, for tests and progress. */
  lastOutcome: BatchWriteOutcome | undefined;

  constructor(
    readonly id: string,
    readonly schema: Schema,
    /** The table's directory, already resolved against the working directory. */
    readonly tablePath: string,
    readonly options: TableSinkOptions,
    /** The txn application id: `<pipeline id>/<sink id>`. */
    readonly appId: string,
  ) {
    this.target = {
      tablePath,
      schema,
      partitionBy: options.partitionBy,
      targetFileSize: options.targetFileSize,
      ...(options.dataFileFormat ? { dataFileFormat: options.dataFileFormat } : {}),
    };
    validateTarget(this.target);
  }

  async write(batchId: number, batch: Batch, mode: OutputMode): Promise<void> {
    if (mode === "update") throw new Error(`sink ${this.id}: a table takes mode append or complete, not update`);
    const outcome = await writeBatchToTable(this.target, { appId: this.appId, batchId, batch, mode });
    this.lastOutcome = outcome;
    if (outcome.kind !== "committed" || this.options.compactEvery === undefined) return;
    this.commitsSinceCompaction++;
    if (this.commitsSinceCompaction < this.options.compactEvery) return;
    this.commitsSinceCompaction = 0;
    try {
      await optimizeTable(this.tablePath, { targetFileSize: this.options.targetFileSize, ...(this.options.dataFileFormat ? { dataFileFormat: this.options.dataFileFormat } : {}) });
    } catch (error) {
      if (!(error instanceof OptimizeConflictError)) throw error;
    }
  }

  async close(): Promise<void> {}
}

/** The sink's options as the plan holds them. */
export function tableSinkOptions(settings: Settings): TableSinkOptions {
  const partitionBy = settings["partition_by"];
  const size = settings["target_file_size"];
  const every = settings["compact_every"];
  if (partitionBy !== undefined && partitionBy.kind !== "columns") throw new Error(`option partition_by: expected columns, the plan has ${partitionBy.kind}`);
  if (size !== undefined && size.kind !== "size") throw new Error(`option target_file_size: expected size, the plan has ${size.kind}`);
  if (every !== undefined && every.kind !== "integer") throw new Error(`option compact_every: expected integer, the plan has ${every.kind}`);
  return {
    partitionBy: partitionBy?.columns ?? [],
    targetFileSize: size?.bytes ?? DEFAULT_TARGET_FILE_SIZE,
    compactEvery: every?.value,
  };
}
