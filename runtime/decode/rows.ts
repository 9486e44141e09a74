/**
 * What every decoder shares: the options, the result, and the collector that appends accepted rows
 * to column builders and keeps the rejects.
 *
 * Contract: a decoder converts a whole record first and only then `accept`s it, so a rejected
 * record never leaves a partial row in the batch. `finish` returns the batch (columns of the
 * declared schema, offset 0) and the rejects in the order the records were read, then starts over.
 */
import type { Batch } from "../columnar/batch.ts";
import { columnBuilder, type ColumnBuilder } from "../columnar/builder.ts";
import type { CellValue } from "../columnar/values.ts";
import { RAW_LIMIT_TOO_LARGE, type RecordPosition, type RejectedRecord, type RejectReason } from "../deadletter.ts";
import type { Schema } from "../plan.ts";
import { DecodeFailure } from "./convert.ts";

export interface DecodeOptions {
  /** The source's name, for rejects. */
  source: string;
  /** A record (a line, a CSV record, a message) above this many bytes is `too_large`. Default `DEFAULT_MAX_RECORD_BYTES`. */
  maxRecordBytes?: number;
  /** The time rejects are stamped with, in epoch micros. Default: the wall clock. */
  now?: () => number;
}

/** 8 MiB: larger than Kafka's default message limit (1 MB), small enough to keep one bad line from exhausting memory. */
export const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;

export interface DecodeResult {
  batch: Batch;
  rejects: RejectedRecord[];
}

export function wallClockMicros(): number {
  return Date.now() * 1000;
}

export class RowCollector {
  private readonly builders: ColumnBuilder[];
  private rejects: RejectedRecord[] = [];
  private length = 0;

  /** Rows accepted since the last `finish`. */
  get accepted(): number {
    return this.length;
  }
  readonly maxRecordBytes: number;
  private readonly now: () => number;
  readonly source: string;

  constructor(
    readonly schema: Schema,
    options: DecodeOptions,
  ) {
    this.builders = schema.fields.map((f) => columnBuilder(f, 1024, { dictionary: true }));
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.now = options.now ?? wallClockMicros;
    this.source = options.source;
  }

  /** A fully converted row: one value per schema field, in order. */
  accept(values: readonly CellValue[]): void {
    for (let i = 0; i < values.length; i++) this.builders[i]!.append(values[i]!);
    this.length++;
  }

  reject(reason: RejectReason, detail: string, raw: Uint8Array, position: RecordPosition): void {
    this.rejects.push({ reason, source: this.source, position, raw, detail, time: this.now() });
  }

  rejectFailure(failure: DecodeFailure, raw: Uint8Array, position: RecordPosition): void {
    this.reject(failure.reason, failure.detail(), raw, position);
  }

  /** Rejects `raw` as too large when it is; true when it was. */
  rejectIfTooLarge(raw: Uint8Array, position: RecordPosition): boolean {
    if (raw.length <= this.maxRecordBytes) return false;
    this.reject(
      "too_large",
      `the record is ${raw.length} bytes, above the limit of ${this.maxRecordBytes}; the dead letter keeps its first ${RAW_LIMIT_TOO_LARGE} bytes`,
      raw.slice(0, RAW_LIMIT_TOO_LARGE),
      position,
    );
    return true;
  }

  finish(): DecodeResult {
    const batch: Batch = { schema: this.schema, length: this.length, columns: this.builders.map((b) => b.finish()) };
    const rejects = this.rejects;
    this.rejects = [];
    this.length = 0;
    return { batch, rejects };
  }
}

/** Rethrows anything that is not a `DecodeFailure` (a bug must not become a dead letter). */
export function asFailure(error: unknown): DecodeFailure {
  if (error instanceof DecodeFailure) return error;
  throw error;
}
