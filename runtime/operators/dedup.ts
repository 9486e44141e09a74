/**
 * `dedup by KEY, ... [within D]`: keeps the first row of each key.
 *
 * Contract (the semantics, precisely):
 * - Keys are compared as `GROUP BY` does: null equals null (key-hash.ts). The schema is unchanged
 *   and kept rows leave in arrival order.
 * - Without `within`: a row is kept when no earlier row had its key; every key is remembered
 *   forever. Rows are handled as they arrive (`process`); the watermark plays no part.
 * - With `within` (event time column `node.eventTime`): batch N runs under watermark W (the value
 *   `onWatermark` gets). Its rows are handled at `onWatermark(W)`, in arrival order:
 *   1. first, every remembered key whose kept row's event time t has `t + within < W` is
 *      forgotten (the watermark has passed `t + within`);
 *   2. a row whose event time is `< W` (or null) is late: it goes to `ctx.late` and is neither
 *      kept nor remembered;
 *   3. any other row is kept, and its key remembered with its event time, unless its key is
 *      remembered; a duplicate does not extend how long the key is remembered.
 *   So a row is dropped as a duplicate exactly when an earlier kept row f of its key has
 *   `f.ts + within >= W` for the row's batch (Spark's `dropDuplicatesWithinWatermark`, with the
 *   watermark of the row's own batch). A kept row's key is never forgotten in its own batch,
 *   since `ts >= W`.
 * - State: the key columns (and the event time with `within`); snapshots are Arrow IPC with
 *   columns `key: struct<keys>` and, with `within`, `event_time: timestamp`, tagged `dedup/1`.
 *   Snapshots are taken between batches (after `endOfBatch`).
 */
import type { Field, NodeSpec, Schema } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import { gather } from "../columnar/batch-ops.ts";
import { columnBuilder } from "../columnar/builder.ts";
import type { Emit, Operator, OperatorContext, OperatorMetrics } from "./operator.ts";
import { columnIndex, eventTimes, splitByWatermark } from "./event-time.ts";
import { type Key, keyReader } from "./key-hash.ts";
import { RowStore } from "./row-store.ts";
import { readStateIPC, structColumn, structFields, writeStateIPC } from "./state-ipc.ts";

/** This operator's snapshot layout tag (state-ipc.ts). */
export const DEDUP_SNAPSHOT_TAG = "dedup/1";
const TAG = DEDUP_SNAPSHOT_TAG;
const TIMESTAMP = { kind: "timestamp" } as const;

export function createDedupOperator(node: Extract<NodeSpec, { kind: "dedup" }>, ctx: OperatorContext): Operator {
  const keyFields: Field[] = node.keys.map((name) => {
    const field = node.schema.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${node.id}: key column ${name} is not in the schema`);
    return field;
  });
  const keySchema: Schema = { fields: keyFields };
  const within = node.withinMicros;
  if (within !== undefined && node.eventTime === undefined) throw new Error(`${node.id}: dedup within needs an event-time column`);
  const snapshotSchema: Schema = {
    fields: [
      { name: "key", type: { kind: "struct", fields: keyFields }, nullable: false },
      ...(within !== undefined ? [{ name: "event_time", type: TIMESTAMP, nullable: false }] : []),
    ],
  };

  let seen = new Set<Key>();
  let store = new RowStore(keySchema);
  let pending: Batch[] = [];
  let watermark = -Infinity;
  let updated = 0;
  let lastUpdated = 0;
  let dropped = 0;

  /** Keeps the first row of each unseen key among `rows` (ascending) of `batch`; emits them. */
  function keepFirst(batch: Batch, rows: Int32Array | undefined, times: Float64Array | undefined, emit: Emit): void {
    const keyColumns = node.keys.map((name) => batch.columns[columnIndex(batch, name, node.id)]!);
    const reader = keyReader(keyColumns, keyFields.map((f) => f.type));
    const n = rows ? rows.length : batch.length;
    const kept = new Int32Array(n);
    const keys: Key[] = [];
    let count = 0;
    for (let i = 0; i < n; i++) {
      const r = rows ? rows[i]! : i;
      const key = reader.key(r);
      if (seen.has(key)) continue;
      seen.add(key);
      keys.push(key);
      kept[count++] = r;
    }
    if (count === 0) return;
    const selection = kept.subarray(0, count);
    const keyTimes = new Float64Array(count);
    if (times) for (let i = 0; i < count; i++) keyTimes[i] = times[selection[i]!]!;
    if (store.full) store.compact();
    store.add(gather({ schema: keySchema, length: batch.length, columns: keyColumns }, selection), keyTimes, keys);
    updated += count;
    const out = count === batch.length ? batch : gather(batch, selection);
    emit({ schema: node.schema, length: out.length, columns: out.columns });
  }

  function flush(emit: Emit): void {
    const batches = pending;
    pending = [];
    for (const batch of batches) {
      const times = eventTimes(batch, columnIndex(batch, node.eventTime!, node.id));
      const { onTime, late } = splitByWatermark(times, watermark);
      if (late.length) {
        dropped += late.length;
        ctx.late.reject(node.id, batch, late);
      }
      if (onTime.length > 0) keepFirst(batch, onTime.length === batch.length ? undefined : onTime, times, emit);
    }
  }

  return {
    node,
    process(batch: Batch, _input: number, emit: Emit): void {
      if (batch.length === 0) return;
      if (within === undefined) keepFirst(batch, undefined, undefined, emit);
      else pending.push(batch);
    },
    onWatermark(watermarkMicros: number, emit: Emit): void {
      if (watermarkMicros > watermark) watermark = watermarkMicros;
      if (within === undefined) return;
      store.expire(watermark, within, (segment, rows) => {
        for (let i = 0; i < rows.length; i++) seen.delete(segment.keys[rows[i]!] as Key);
      });
      flush(emit);
    },
    endOfBatch(emit: Emit): void {
      if (pending.length) flush(emit);
      lastUpdated = updated;
      updated = 0;
    },
    metrics(): OperatorMetrics {
      return { stateRows: store.liveRows, stateRowsUpdated: lastUpdated, droppedByWatermark: dropped, memoryBytes: store.bytes + seen.size * 48 };
    },
    snapshot(): Uint8Array {
      if (pending.length) throw new Error(`${node.id}: snapshot in the middle of a batch`);
      const live = store.liveSnapshot();
      const columns = [structColumn(live.batch)];
      if (within !== undefined) {
        const builder = columnBuilder(snapshotSchema.fields[1]!, live.batch.length);
        for (let r = 0; r < live.batch.length; r++) builder.append(live.times[r]!);
        columns.push(builder.finish());
      }
      return writeStateIPC(TAG, snapshotSchema, [{ schema: snapshotSchema, length: live.batch.length, columns }]);
    },
    restore(snapshot: Uint8Array): void {
      seen = new Set();
      store = new RowStore(keySchema);
      pending = [];
      for (const record of readStateIPC(TAG, snapshotSchema, snapshot)) {
        if (record.length === 0) continue;
        const keys = structFields(keySchema, record.columns[0]!, record.length);
        const times = within !== undefined ? eventTimes(record, 1) : new Float64Array(record.length);
        const reader = keyReader(keys.columns, keyFields.map((f) => f.type));
        const keyList: Key[] = [];
        for (let r = 0; r < record.length; r++) {
          const key = reader.key(r);
          keyList.push(key);
          seen.add(key);
        }
        if (store.full) store.compact();
        store.add(keys, times, keyList);
      }
    },
  };
}
