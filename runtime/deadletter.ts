/**
 * Rejected records and the dead letter they are written to.
 *
 * Contract: a source's `read` returns the records it could not pass on as `RejectedRecord`s, and a
 * stateful operator reports rows behind the watermark the same way (reason `late`). The engine
 * turns one batch's rejects into a `Batch` of `deadLetterSchema` with `rejectsToBatch` and hands
 * it to an ordinary sink (`files` or `table`) as that batch's output, so the dead letter
 * is exactly once wherever the sink is. A rejected record never also produces a row.
 *
 * The dead letter's columns (every row is one rejected record):
 *
 * | column | type | meaning |
 * |---|---|---|
 * | `batch_id` | `long` | the micro-batch that read the record |
 * | `time` | `timestamp` | when it was rejected (wall clock; a replayed batch gets new times) |
 * | `source` | `string` | the source's name, or the operator's id for `late` |
 * | `reason` | `string` | one of `RejectReason` |
 * | `detail` | `string` | which field and why, e.g. `field "amount": 1.5 is not an integer` |
 * | `file` | `string?` | file sources: the file's path |
 * | `line` | `long?` | file sources: the line the record starts on (from 1); Parquet: the row (from 1) |
 * | `partition` | `int?` | Kafka: the partition |
 * | `offset` | `long?` | Kafka: the record's offset |
 * | `raw` | `bytes` | the record as read (a `late` row: the row as a JSON object); `too_large` keeps only the first `RAW_LIMIT_TOO_LARGE` bytes |
 *
 * Decisions:
 * - `time` is wall-clock, so it is the one column a replay does not reproduce; a replayed batch
 *   still replaces the earlier attempt's dead letter (the sink is idempotent by batch id).
 * - A record too large to decode is not copied whole into the dead letter: its first 64 KiB are,
 *   and `detail` gives its full size.
 */
import { batchFromRows } from "./columnar/batch-ops.ts";
import type { Batch } from "./columnar/batch.ts";
import type { CellValue } from "./columnar/values.ts";
import type { Schema } from "./plan.ts";
import { batchToJsonLines } from "./sinks/encode.ts";
import { formatTimestampMicros } from "./time.ts";

/** Why a record was rejected. */
export type RejectReason =
  /** not decodable: bad JSON, bad CSV quoting, a wrong number of CSV fields, invalid UTF-8, an unreadable Parquet file */
  | "malformed"
  /** a required field is absent */
  | "missing_field"
  /** a value of the wrong kind: a string where a number is expected, `1.5` for an `int` */
  | "type_mismatch"
  /** a required field (or element, or map value) is present but null */
  | "null_in_required"
  /** a number that does not fit its type: `3000000000` for an `int`, `1.005` for `decimal(5, 2)` */
  | "out_of_range"
  /** a `timestamp` or `date` text that does not parse */
  | "bad_timestamp"
  /** a record larger than the decoder's limit */
  | "too_large"
  /** a row behind the watermark at a stateful operator */
  | "late";

export const rejectReasons: readonly RejectReason[] = [
  "malformed",
  "missing_field",
  "type_mismatch",
  "null_in_required",
  "out_of_range",
  "bad_timestamp",
  "too_large",
  "late",
];

/** Where a rejected record was read. */
export type RecordPosition =
  /** A file source: `line` is where the record starts (from 1); for Parquet, the row (from 1); 0 for a whole unreadable file. */
  | { kind: "file"; file: string; line: number }
  /** A Kafka source. */
  | { kind: "partition"; partition: number; offset: number }
  /** A late row: no position in a source. */
  | { kind: "none" };

export interface RejectedRecord {
  reason: RejectReason;
  /** The source's name (or, for `late`, the operator's id). */
  source: string;
  position: RecordPosition;
  /** The record's bytes as read. */
  raw: Uint8Array;
  /** Which field and why. */
  detail: string;
  /** When it was rejected: microseconds since the epoch, UTC. */
  time: number;
}

/** How many bytes of a `too_large` record the dead letter keeps. */
export const RAW_LIMIT_TOO_LARGE = 64 * 1024;

export const deadLetterSchema: Schema = {
  fields: [
    { name: "batch_id", type: { kind: "long" }, nullable: false },
    { name: "time", type: { kind: "timestamp" }, nullable: false },
    { name: "source", type: { kind: "string" }, nullable: false },
    { name: "reason", type: { kind: "string" }, nullable: false },
    { name: "detail", type: { kind: "string" }, nullable: false },
    { name: "file", type: { kind: "string" }, nullable: true },
    { name: "line", type: { kind: "long" }, nullable: true },
    { name: "partition", type: { kind: "int" }, nullable: true },
    { name: "offset", type: { kind: "long" }, nullable: true },
    { name: "raw", type: { kind: "bytes" }, nullable: false },
  ],
};

/** One batch's rejects as a batch of `deadLetterSchema`, in the order given. */
export function rejectsToBatch(batchId: number, rejects: readonly RejectedRecord[]): Batch {
  return batchFromRows(
    deadLetterSchema,
    rejects.map((r): Record<string, CellValue> => {
      const p = r.position;
      return {
        batch_id: batchId,
        time: r.time,
        source: r.source,
        reason: r.reason,
        detail: r.detail,
        file: p.kind === "file" ? p.file : null,
        line: p.kind === "file" ? p.line : null,
        partition: p.kind === "partition" ? p.partition : null,
        offset: p.kind === "partition" ? p.offset : null,
        raw: r.raw,
      };
    }),
  );
}

/** Counts by reason, for progress (`deadLetters`). */
export function countByReason(rejects: readonly RejectedRecord[]): Partial<Record<RejectReason, number>> {
  const counts: Partial<Record<RejectReason, number>> = {};
  for (const r of rejects) counts[r.reason] = (counts[r.reason] ?? 0) + 1;
  return counts;
}

/**
 * Rows `rows` of `batch` that reached operator `operatorId` behind the watermark, as `late`
 * rejects: no position, the row as a JSON object (sinks/encode.ts) as raw bytes.
 */
export function lateRejects(operatorId: string, batch: Batch, rows: Iterable<number>, time: number, watermarkMicros?: number): RejectedRecord[] {
  const encoder = new TextEncoder();
  const detail = watermarkMicros === undefined ? "behind the watermark" : `behind the watermark ${formatTimestampMicros(watermarkMicros)}`;
  return batchToJsonLines(batch, rows).map((json) => ({
    reason: "late" as const,
    source: operatorId,
    position: { kind: "none" as const },
    raw: encoder.encode(json),
    detail,
    time,
  }));
}
