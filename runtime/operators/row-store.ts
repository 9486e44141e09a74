/**
 * The rows a stateful operator keeps (dedup keys, join sides), columnar.
 *
 * Contract: rows are added a batch at a time and live in segments: a segment is one columnar
 * `Batch` with, per row, an event time, a hash key, an alive bit and an operator-defined flag.
 * A row is named by a ref (`rowRef`), valid until `compact()`, which rewrites every live row into one
 * segment (the owner then rebuilds whatever index it keeps over refs). Rows die by `expire`
 * (event time + horizon < watermark) and are never revived. The store holds no per-row objects
 * besides the keys themselves.
 */
import type * as arrow from "apache-arrow";
import type { Schema } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import { concatBatches, emptyBatch, gather } from "../columnar/batch-ops.ts";
import type { Key } from "./key-hash.ts";

/** At most this many segments; a ref packs the segment index into its low bits. */
const SEGMENT_SLOTS = 64;

export interface Segment {
  /** Undefined once every row is dead (the memory is released before the next compaction). */
  batch: Batch | undefined;
  times: Float64Array;
  /** The row's hash key; undefined for a row that is kept but not indexed (a null join key). */
  keys: (Key | undefined)[];
  alive: Uint8Array;
  flags: Uint8Array;
  live: number;
  /** At most the smallest event time of the live rows. */
  minTime: number;
  bytes: number;
}

export function rowRef(segment: number, row: number): number {
  return row * SEGMENT_SLOTS + segment;
}
export function refSegment(ref: number): number {
  return ref % SEGMENT_SLOTS;
}
export function refRow(ref: number): number {
  return Math.floor(ref / SEGMENT_SLOTS);
}

export class RowStore {
  segments: Segment[] = [];
  liveRows = 0;
  deadRows = 0;
  bytes = 0;

  constructor(readonly schema: Schema) {}

  /** Adds the rows of `batch` (all of them); returns the new segment's index. Compact first when `full`. */
  add(batch: Batch, times: Float64Array, keys: (Key | undefined)[], flags?: Uint8Array): number {
    if (this.segments.length >= SEGMENT_SLOTS) throw new Error("row store: compact before adding more segments");
    let minTime = Infinity;
    for (let r = 0; r < times.length; r++) if (times[r]! < minTime) minTime = times[r]!;
    const bytes = batchBytes(batch) + batch.length * 24;
    this.segments.push({ batch, times, keys, alive: new Uint8Array(batch.length).fill(1), flags: flags ?? new Uint8Array(batch.length), live: batch.length, minTime, bytes });
    this.liveRows += batch.length;
    this.bytes += bytes;
    return this.segments.length - 1;
  }

  /** Whether `compact()` is due: too many segments, or more dead rows than live ones. */
  get full(): boolean {
    return this.segments.length >= SEGMENT_SLOTS - 1 || (this.deadRows > 4096 && this.deadRows > this.liveRows);
  }

  /**
   * Kills the live rows whose event time + `horizon` is below `watermark`; `visit` sees each
   * segment's newly dead rows (ascending) before they are released. Returns how many died.
   */
  expire(watermark: number, horizon: number, visit?: (segment: Segment, rows: Int32Array) => void): number {
    let total = 0;
    for (const segment of this.segments) {
      if (segment.live === 0 || !(segment.minTime + horizon < watermark)) continue;
      const dead: number[] = [];
      let minTime = Infinity;
      for (let r = 0; r < segment.times.length; r++) {
        if (!segment.alive[r]) continue;
        const t = segment.times[r]!;
        if (t + horizon < watermark) {
          segment.alive[r] = 0;
          dead.push(r);
        } else if (t < minTime) minTime = t;
      }
      segment.minTime = minTime;
      if (dead.length === 0) continue;
      if (visit) visit(segment, Int32Array.from(dead));
      segment.live -= dead.length;
      total += dead.length;
      if (segment.live === 0) {
        this.bytes -= segment.bytes;
        segment.batch = undefined;
        segment.keys = [];
        this.deadRows -= segment.times.length - dead.length;
      } else this.deadRows += dead.length;
    }
    this.liveRows -= total;
    return total;
  }

  /** Rewrites the live rows into one segment (refs change). */
  compact(): void {
    const live = this.liveSnapshot();
    this.segments = [];
    this.liveRows = 0;
    this.deadRows = 0;
    this.bytes = 0;
    if (live.batch.length > 0) this.add(live.batch, live.times, live.keys, live.flags);
  }

  /** Every live row, in segment order, as one batch with its times, keys and flags. */
  liveSnapshot(): { batch: Batch; times: Float64Array; keys: (Key | undefined)[]; flags: Uint8Array } {
    const parts: Batch[] = [];
    const times = new Float64Array(this.liveRows);
    const flags = new Uint8Array(this.liveRows);
    const keys: (Key | undefined)[] = [];
    let n = 0;
    for (const segment of this.segments) {
      if (segment.live === 0 || !segment.batch) continue;
      if (segment.live === segment.times.length) {
        parts.push(segment.batch);
        times.set(segment.times, n);
        flags.set(segment.flags, n);
        for (const k of segment.keys) keys.push(k);
        n += segment.live;
        continue;
      }
      const rows = new Int32Array(segment.live);
      let i = 0;
      for (let r = 0; r < segment.times.length; r++) {
        if (!segment.alive[r]) continue;
        rows[i++] = r;
        times[n] = segment.times[r]!;
        flags[n] = segment.flags[r]!;
        keys.push(segment.keys[r]);
        n++;
      }
      parts.push(gather(segment.batch, rows));
    }
    return { batch: parts.length ? concatBatches(this.schema, parts) : emptyBatch(this.schema), times, keys, flags };
  }

  /** Calls `visit` for each live row. */
  forEachLive(visit: (segment: number, row: number, key: Key | undefined) => void): void {
    this.segments.forEach((segment, s) => {
      if (segment.live === 0) return;
      for (let r = 0; r < segment.times.length; r++) if (segment.alive[r]) visit(s, r, segment.keys[r]);
    });
  }
}

/** An estimate of the bytes the columns of `batch` hold. */
export function batchBytes(batch: Batch): number {
  let total = 0;
  for (const column of batch.columns) total += dataBytes(column);
  return total;
}

function dataBytes(data: arrow.Data): number {
  let total = (data.values?.byteLength ?? 0) + (data.valueOffsets?.byteLength ?? 0) + (data.nullBitmap?.byteLength ?? 0);
  for (const child of data.children) total += dataBytes(child);
  return total;
}
