/**
 * The sink contract: where a stream's rows leave the pipeline.
 *
 * Contract:
 * - The engine calls `write(batchId, batch, mode)` once per micro-batch for each sink, after the
 *   batch's offsets are in the offsets log and before its commit, with every row the sink's
 *   input produced in that batch, in one `Batch` of the sink's schema (possibly empty), and the
 *   sink's output mode (`SinkSpec.mode`): `append` (new final rows), `update` (the rows that
 *   changed in this batch) or `complete` (the whole result).
 * - `write` is idempotent per `batchId`: when the engine replays batch N after a failure, the
 *   sink's output afterwards is as if N had been written once (files are replaced, a memory
 *   sink's batch N is replaced, a table skips a version it has). Sinks without a guarantee
 *   (`console`) say so.
 * - `write` resolves once the output is durable as far as the sink can make it (files: written,
 *   fsynced and renamed into place). It rejects on an I/O failure; the engine stops and a
 *   restart replays the batch.
 * - `close` releases resources; no `write` follows it.
 */
import type { Batch } from "../columnar/batch.ts";

export type OutputMode = "append" | "update" | "complete";

export interface Sink {
  /** The sink's id (`STREAM.CONNECTOR`), for progress and errors. */
  readonly id: string;
  write(batchId: number, batch: Batch, mode: OutputMode): Promise<void>;
  close(): Promise<void>;
}
