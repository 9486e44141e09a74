/**
 * The runtime benchmarks' input: one deterministic event log, generated once in memory and handed
 * to every contestant in the form it reads best.
 *
 * The log (`BENCH_ROWS` rows, default 2^20; `BENCH_KEYS` keys, default 100,000), one row per event:
 * - `event_id: string`: `e<n>`, unique per event; a retried delivery repeats it;
 * - `key: string`: `key-NNNNNN`, uniform over the key space (so nearly every key occurs);
 * - `user: long`: uniform in 1..1,000,000;
 * - `amount: double`: exponential with mean 20, in steps of 1/8, so that every sum in the
 *   benchmarks is exact whatever the order of additions (results are compared exactly);
 * - `ts: timestamp`: event time, spread evenly over four hours from 2024-01-01T00:00:00Z in
 *   arrival order, mostly in order: 90% of rows lag their arrival slot by up to 1 s, 10% by up to
 *   60 s; 5% of rows are retries that repeat an earlier delivery (up to 90 s of arrivals back, of
 *   an original event) whole, its event time included. So no row ever trails the newest event time
 *   by more than 4 minutes, and a watermark delay of 5 minutes never makes a row late.
 *
 * Forms: Arrow batches of `BENCH_BATCH` rows (default 65,536) with `key` plain UTF-8 and, as a second
 * variant, dictionary-encoded with one dictionary per batch (as a Parquet row group or an IPC
 * batch would carry it); row objects per batch for the row-at-a-time baselines (`rowObjects`, built
 * from the batches when a baseline runs and dropped after: a million live objects would make every
 * full garbage collection of the process slower, streamc's included); a Parquet file with an extra
 * `idx` (arrival order) column for DuckDB; newline-delimited JSON files for the end-to-end
 * benchmark, one per batch.
 */
import * as arrow from "apache-arrow";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import { cellReader } from "../../runtime/columnar/read.ts";
import type { Schema } from "../../runtime/plan.ts";
import { formatTimestampMicros } from "../../runtime/time.ts";
import { prng } from "../../test/support/prng.ts";

/** 2024-01-01T00:00:00Z in microseconds. */
export const T0 = 1_704_067_200_000_000;
export const SECOND = 1_000_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const SPAN = 4 * HOUR;

/** The schema of the benchmarks' source, in the order the programs declare it. */
export const EVENT_SCHEMA: Schema = {
  fields: [
    { name: "event_id", type: { kind: "string" }, nullable: false },
    { name: "key", type: { kind: "string" }, nullable: false },
    { name: "user", type: { kind: "long" }, nullable: false },
    { name: "amount", type: { kind: "double" }, nullable: false },
    { name: "ts", type: { kind: "timestamp" }, nullable: false },
  ],
};

/** The `.stream` declaration of EVENT_SCHEMA. */
export const EVENT_SCHEMA_TEXT = "schema Event { event_id: string, key: string, user: long, amount: double, ts: timestamp }";

/** One event as the row-at-a-time baselines see it (times in microseconds). */
export interface EventRow {
  event_id: string;
  key: string;
  user: number;
  amount: number;
  ts: number;
}

export interface EventLog {
  rows: number;
  keys: number;
  batchRows: number;
  /** Distinct keys that actually occur. */
  distinctKeys: number;
  distinctEvents: number;
  retries: number;
  minTs: number;
  maxTs: number;
  /** Columnar, `key` plain UTF-8. */
  plain: Batch[];
  /** The same rows, `key` dictionary-encoded per batch. */
  dictionary: Batch[];
}

export { prng } from "../../test/support/prng.ts";

export function keyName(k: number): string {
  return `key-${String(k).padStart(6, "0")}`;
}

/** The number inside a key name (`key-000123` → 123); checksums weigh rows by it. */
export function keyNumber(key: string): number {
  return Number(key.slice(4));
}

/** The number inside an event id (`e123` → 123). */
export function eventNumber(id: string): number {
  return Number(id.slice(1));
}

export function generateEventLog(rows: number, keys: number, batchRows: number, seed = 20240101): EventLog {
  const random = prng(seed);
  const eventId: string[] = new Array(rows);
  const key: string[] = new Array(rows);
  const user = new Float64Array(rows);
  const amount = new Float64Array(rows);
  const ts = new Float64Array(rows);
  /** Whether row i is an original delivery (not a retry). */
  const original = new Uint8Array(rows);
  const retryWindow = Math.max(1, Math.floor((rows * 90 * SECOND) / SPAN));
  let events = 0;
  let retries = 0;
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (let i = 0; i < rows; i++) {
    const arrival = T0 + Math.floor((i * SPAN) / rows);
    if (i > 0 && random() < 0.05) {
      // A retry of an original delivery up to 90 s of arrivals back (the nearest original at or before the pick).
      let j = Math.max(0, i - 1 - Math.floor(random() * retryWindow));
      while (j > 0 && original[j] === 0) j--;
      eventId[i] = eventId[j]!;
      key[i] = key[j]!;
      user[i] = user[j]!;
      amount[i] = amount[j]!;
      ts[i] = ts[j]!;
      retries++;
    } else {
      original[i] = 1;
      eventId[i] = `e${events++}`;
      key[i] = keyName(Math.floor(random() * keys));
      user[i] = 1 + Math.floor(random() * 1_000_000);
      amount[i] = Math.min(8000, Math.floor(-Math.log(1 - random()) * 20 * 8)) / 8;
      const lag = random() < 0.9 ? Math.floor(random() * SECOND) : Math.floor(random() * 60 * SECOND);
      ts[i] = arrival - lag;
    }
    if (ts[i]! < minTs) minTs = ts[i]!;
    if (ts[i]! > maxTs) maxTs = ts[i]!;
  }

  const plain: Batch[] = [];
  const dictionary: Batch[] = [];
  for (let start = 0; start < rows; start += batchRows) {
    const end = Math.min(rows, start + batchRows);
    const n = end - start;
    const builders = EVENT_SCHEMA.fields.map((f) => columnBuilder(f, n));
    for (let i = start; i < end; i++) {
      builders[0]!.append(eventId[i]!);
      builders[1]!.append(key[i]!);
      builders[2]!.append(user[i]!);
      builders[3]!.append(amount[i]!);
      builders[4]!.append(ts[i]!);
    }
    const columns = builders.map((b) => b.finish());
    plain.push({ schema: EVENT_SCHEMA, length: n, columns });
    dictionary.push({ schema: EVENT_SCHEMA, length: n, columns: [columns[0]!, dictionaryEncode(key, start, end), ...columns.slice(2)] });
  }
  return {
    rows,
    keys,
    batchRows,
    distinctKeys: new Set(key).size,
    distinctEvents: events,
    retries,
    minTs,
    maxTs,
    plain,
    dictionary,
  };
}

/** The log's rows as objects, per batch (built from the plain batches). */
export function rowObjects(log: EventLog): EventRow[][] {
  return log.plain.map((batch) => {
    const [eventId, key, user, amount, ts] = EVENT_SCHEMA.fields.map((f, i) => cellReader(batch.columns[i]!, f.type));
    const rows: EventRow[] = new Array(batch.length);
    for (let r = 0; r < batch.length; r++) {
      rows[r] = { event_id: eventId!(r) as string, key: key!(r) as string, user: user!(r) as number, amount: amount!(r) as number, ts: ts!(r) as number };
    }
    return rows;
  });
}

/** `values[start..end)` as a `Dictionary<Utf8, Int32>` column whose dictionary holds the batch's distinct values in order of first appearance. */
function dictionaryEncode(values: readonly string[], start: number, end: number): arrow.Data {
  const codes = new Map<string, number>();
  const entries = columnBuilder({ name: "key", type: { kind: "string" }, nullable: false });
  const indices = new Int32Array(end - start);
  for (let i = start; i < end; i++) {
    const value = values[i]!;
    let code = codes.get(value);
    if (code === undefined) {
      code = codes.size;
      codes.set(value, code);
      entries.append(value);
    }
    indices[i - start] = code;
  }
  return arrow.makeData({
    type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
    length: end - start,
    nullCount: 0,
    data: indices,
    dictionary: arrow.makeVector(entries.finish() as arrow.Data<arrow.Utf8>),
  });
}

/** The schema DuckDB loads: the events with their arrival index. */
export const DUCKDB_SCHEMA: Schema = { fields: [{ name: "idx", type: { kind: "long" }, nullable: false }, ...EVENT_SCHEMA.fields] };

/** The plain batches with an `idx` column first (arrival order), for the Parquet file DuckDB reads. */
export function withArrivalIndex(log: EventLog): Batch[] {
  let next = 0;
  return log.plain.map((batch) => {
    const idx = columnBuilder(DUCKDB_SCHEMA.fields[0]!, batch.length);
    for (let r = 0; r < batch.length; r++) idx.append(next++);
    return { schema: DUCKDB_SCHEMA, length: batch.length, columns: [idx.finish(), ...batch.columns] };
  });
}

/** One NDJSON text per batch: `{"event_id":..,"key":..,"user":..,"amount":..,"ts":"ISO-8601"}`. */
export function ndjsonFiles(log: EventLog): string[] {
  return rowObjects(log).map((rows) => {
    const lines = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      lines[i] = JSON.stringify({ event_id: r.event_id, key: r.key, user: r.user, amount: r.amount, ts: formatTimestampMicros(r.ts) });
    }
    return lines.join("\n") + "\n";
  });
}
