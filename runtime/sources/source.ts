/**
 * The source contract: how the engine reads a source one micro-batch at a time, replayably.
 *
 * Contract (docs/architecture.md, "The micro-batch loop and exactly-once"):
 * 1. `open(resume)` once, with the offset reading resumes from: `end(range)` of the last batch
 *    the checkpoint committed, or undefined for a new checkpoint (the source then starts where its
 *    options say: the first file, row 0, Kafka's `start`).
 * 2. Each trigger: `latest()` says what is available now; `plan(from, { latest })` turns it into
 *    the range batch N will read, starting at `from` (the end of batch N-1's range, or undefined
 *    for the first batch), capped by the source's own per-batch option (`max_files_per_batch`,
 *    `max_per_batch`) unless `uncapped`. Undefined means nothing new. `plan` is pure: the same
 *    arguments give the same range.
 * 3. The engine writes the range into `offsets/N` (it is plain JSON), then `read(range)`.
 *    `read` is deterministic for a range: reading it again (a replay after a crash, possibly in
 *    another process) gives the same rows in the same order and the same rejects (but for their
 *    `time`). A range that can no longer be read whole (a file deleted, a Kafka offset expired)
 *    makes `read` reject with an error that says so; it never reads something else instead.
 * 4. `end(range)` is the offset the next batch starts from.
 * 5. `close()` at the end.
 *
 * `bounded` sources have an end: once `plan` returns undefined for the end of what was read,
 * nothing will ever come (a generator with `rows`; a table or directory snapshot read whole for
 * a lookup join). Unbounded sources may always have more later.
 *
 * Offsets and ranges are JSON values whose shape belongs to the connector (each file documents
 * its own); the engine stores and passes them back unchanged and never looks inside.
 */
import type { Batch } from "../columnar/batch.ts";
import type { RejectedRecord } from "../deadletter.ts";
import type { Schema } from "../plan.ts";

export type { RecordPosition, RejectedRecord, RejectReason } from "../deadletter.ts";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Where a source is: the position after the last record read. Connector-specific JSON. */
export type Offset = JsonValue;

/** What one batch reads from a source: connector-specific JSON, written to the offsets log. */
export type Range = JsonValue;

export interface PlanLimits {
  /** What `latest()` returned for this trigger: a range never goes past it. */
  latest: Offset;
  /**
   * Ignore the source's per-batch cap and take everything up to `latest` (`trigger = once`, as
   * Spark's `Trigger.Once`; `available_now` keeps the caps and runs several batches).
   */
  uncapped?: boolean;
}

export interface ReadResult {
  /** The rows that passed schema enforcement, in the declared schema. */
  batch: Batch;
  /** The records that did not, in the order read. */
  rejects: RejectedRecord[];
  /**
   * Where the batch's rows came from, when the source has partitions (Kafka): consecutive runs of
   * rows, in order, each named by its partition. The engine tracks each partition's newest event
   * time with it (`streamc status --explain-time`).
   */
  segments?: { partition: string; rows: number }[];
}

export interface Source {
  /** The source's name in the program. */
  readonly id: string;
  readonly schema: Schema;
  /** True when the source has an end (see above). */
  readonly bounded: boolean;
  /** For progress (`sources[].description`): `files[data/in]`, `generator[seed=0]`. */
  readonly description: string;
  open(resume: Offset | undefined): Promise<void>;
  latest(): Promise<Offset>;
  plan(from: Offset | undefined, limits: PlanLimits): Range | undefined;
  /** The offset after `range`: where the next batch starts. */
  end(range: Range): Offset;
  /** How many records (or files) lie between `from` and `latest`, for progress (`offsetsBehindLatest`). */
  behind(from: Offset | undefined, latest: Offset): number;
  read(range: Range): Promise<ReadResult>;
  close(): Promise<void>;
}
