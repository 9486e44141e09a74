/**
 * `join` and `left join`: the event-time interval join of two watermarked streams, and the lookup
 * join against a bounded source.
 *
 * Contract, for both modes:
 * - Input 0 is the left side, input 1 the right side (each batch with its own schema; columns are
 *   found by name). The output has `node.schema`: the left columns, then the right columns in
 *   `node.rightColumns` order under their `as` names. `on` is evaluated over batches of exactly that
 *   schema (candidate pairs); a pair is joined when it selects the row (null counts as false).
 * - `node.equiKeys` only narrow the candidates by hashing: a pair whose sides are not comparable
 *   as keys (key-hash.ts `keyCompatible`) is left to `on` alone. A right key (and the right event
 *   time) names a right input column (a `from` of `rightColumns`, as compiler/physical/join-keys.ts
 *   writes it); an `as` name is accepted when no `from` matches. Without usable keys every
 *   row is a candidate (one bucket). A row with a null in a hashed key can match nothing.
 * - Rows are handled when the batch's watermark arrives (`onWatermark`, or `endOfBatch` if it did
 *   not come), so a batch's result does not depend on the order its inputs were delivered in.
 *
 * Interval join (`mode: "interval"`, W = `withinMicros`, event times `leftEventTime`,
 * `rightEventTime`), batch N running under watermark M (the value `onWatermark` gets):
 * - A row (either side) whose event time is `< M` (or null) is late: it goes to `ctx.late` and
 *   takes no part in the join.
 * - A pair (l, r) of on-time rows is emitted exactly once, in the batch where the later of the two
 *   arrives, when `on` holds and `|l.t - r.t| <= W`. Every such pair is found: when a row arrives
 *   on time its partner, if it arrived earlier, is still in state (see below).
 * - State: each side keeps its on-time rows; a row with event time t is dropped once the watermark
 *   passes `t + W` (`t + W < M`, checked at the start of the batch): no on-time row can match it
 *   any more.
 * - Left join: a left row that has matched nothing when it is dropped is emitted then, once, with
 *   null right columns (so in the first batch whose watermark is past `t + W`).
 * - Snapshots: Arrow IPC tagged `join/1`, columns `left: struct<left columns>?`,
 *   `right: struct<right input columns>?`, `matched: bool`, one record batch per side. Taken
 *   between batches.
 *
 * Lookup join (`mode: "lookup"`): every right row received is added to a lookup table, kept for
 * the operator's life (it is not snapshotted: the engine delivers the bounded source again, on input
 * 1, before or with the first batch after a start or restore). Left rows probe the table as it is at
 * the end of their batch (so right rows delivered in the same batch are seen); each left row gives
 * its matches in right arrival order, then the next left row; in a left join, a left row without a
 * match gives one row with null right columns, in its place. Rows are never late and never revisited
 * when more right rows arrive.
 */
import type * as arrow from "apache-arrow";
import type { DataType, Field, NodeSpec, Schema } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import { concatBatches, gather, gatherColumn } from "../columnar/batch-ops.ts";
import { columnBuilder } from "../columnar/builder.ts";
import type { PredicateKernel } from "../kernel.ts";
import type { Emit, Operator, OperatorContext, OperatorMetrics } from "./operator.ts";
import { eventTimes, splitByWatermark } from "./event-time.ts";
import { type Key, keyCompatible, keyReader } from "./key-hash.ts";
import { batchBytes, refRow, refSegment, rowRef, RowStore, type Segment } from "./row-store.ts";
import { nullColumn, nullStructColumn, readStateIPC, structColumn, structFields, writeStateIPC } from "./state-ipc.ts";
import { kernelAt } from "./stateless.ts";

type JoinNode = Extract<NodeSpec, { kind: "join" }>;

/** This operator's snapshot layout tag (state-ipc.ts). */
export const JOIN_SNAPSHOT_TAG = "join/1";
const TAG = JOIN_SNAPSHOT_TAG;
/** Candidate pairs evaluated by `on` at a time. */
const CHUNK = 65_536;

export function createJoinOperator(node: JoinNode, ctx: OperatorContext): Operator {
  return node.mode === "lookup" ? createLookupJoin(node, ctx) : createIntervalJoin(node, ctx);
}

/** The shapes both modes share: side schemas, key columns, the `on` kernel. */
interface JoinLayout {
  leftSchema: Schema;
  /** The right input's columns (their `from` names), in `rightColumns` order. */
  rightSchema: Schema;
  rightOutput: Field[];
  leftKeys: number[];
  rightKeys: number[];
  leftKeyTypes: DataType[];
  rightKeyTypes: DataType[];
  on: PredicateKernel;
}

function layout(node: JoinNode, ctx: OperatorContext): JoinLayout {
  const leftWidth = node.schema.fields.length - node.rightColumns.length;
  if (leftWidth < 0) throw new Error(`${node.id}: the output schema has fewer columns than rightColumns`);
  const leftSchema: Schema = { fields: node.schema.fields.slice(0, leftWidth) };
  const rightOutput = node.schema.fields.slice(leftWidth);
  const rightSchema: Schema = { fields: node.rightColumns.map((c, i) => ({ ...rightOutput[i]!, name: c.from })) };
  const leftKeys: number[] = [];
  const rightKeys: number[] = [];
  for (const pair of node.equiKeys) {
    const l = leftSchema.fields.findIndex((f) => f.name === pair.left);
    let r = node.rightColumns.findIndex((c) => c.from === pair.right);
    if (r < 0) r = node.rightColumns.findIndex((c) => c.as === pair.right);
    if (l < 0 || r < 0) continue;
    if (!keyCompatible(leftSchema.fields[l]!.type, rightSchema.fields[r]!.type)) continue;
    leftKeys.push(l);
    rightKeys.push(r);
  }
  return {
    leftSchema,
    rightSchema,
    rightOutput,
    leftKeys,
    rightKeys,
    leftKeyTypes: leftKeys.map((i) => leftSchema.fields[i]!.type),
    rightKeyTypes: rightKeys.map((i) => rightSchema.fields[i]!.type),
    on: kernelAt(ctx, node.on, node.id) as PredicateKernel,
  };
}

/** `batch`'s columns in `schema`'s order, found by name. */
function conform(batch: Batch, schema: Schema, nodeId: string): Batch {
  const same = batch.schema.fields.length === schema.fields.length && schema.fields.every((f, i) => batch.schema.fields[i]!.name === f.name);
  if (same) return { schema, length: batch.length, columns: batch.columns };
  const columns = schema.fields.map((f) => {
    const index = batch.schema.fields.findIndex((g) => g.name === f.name);
    if (index < 0) throw new Error(`${nodeId}: column ${f.name} is not in the input (${batch.schema.fields.map((g) => g.name).join(", ")})`);
    return batch.columns[index]!;
  });
  return { schema, length: batch.length, columns };
}

/** The index of the event-time column `name` in `schema`, or via a rename to its `from` name. */
function eventTimeIndex(node: JoinNode, schema: Schema, name: string | undefined, side: string): number {
  if (name === undefined) throw new Error(`${node.id}: an interval join needs the ${side} event-time column`);
  let index = schema.fields.findIndex((f) => f.name === name);
  if (index < 0 && side === "right") {
    const renamed = node.rightColumns.find((c) => c.as === name);
    if (renamed) index = schema.fields.findIndex((f) => f.name === renamed.from);
  }
  if (index < 0) throw new Error(`${node.id}: ${side} event-time column ${name} is not among the ${side} columns`);
  return index;
}

/** Growable pairs of row numbers: candidate (left, right) pairs. */
class Pairs {
  left = new Int32Array(256);
  right = new Int32Array(256);
  length = 0;
  push(l: number, r: number): void {
    if (this.length === this.left.length) {
      const left = new Int32Array(this.length * 2);
      left.set(this.left);
      this.left = left;
      const right = new Int32Array(this.length * 2);
      right.set(this.right);
      this.right = right;
    }
    this.left[this.length] = l;
    this.right[this.length++] = r;
  }
  clear(): void {
    this.length = 0;
  }
}

/** The joined batch of the rows `leftRows` of `left` beside the rows `rightRows` of `right`. */
function pairBatch(schema: Schema, left: Batch, leftRows: Int32Array, right: Batch, rightRows: Int32Array): Batch {
  const columns: arrow.Data[] = [];
  left.columns.forEach((c, i) => columns.push(gatherColumn(c, left.schema.fields[i]!.type, leftRows)));
  right.columns.forEach((c, i) => columns.push(gatherColumn(c, right.schema.fields[i]!.type, rightRows)));
  return { schema, length: leftRows.length, columns };
}

// ---- interval join ------------------------------------------------------------------------------

function createIntervalJoin(node: JoinNode, ctx: OperatorContext): Operator {
  const shape = layout(node, ctx);
  if (node.withinMicros === undefined) throw new Error(`${node.id}: an interval join needs withinMicros`);
  const within: number = node.withinMicros;
  const leftTime = eventTimeIndex(node, shape.leftSchema, node.leftEventTime, "left");
  const rightTime = eventTimeIndex(node, shape.rightSchema, node.rightEventTime, "right");
  const isLeftJoin = node.joinType === "left";
  const snapshotSchema: Schema = {
    fields: [
      { name: "left", type: { kind: "struct", fields: shape.leftSchema.fields }, nullable: true },
      { name: "right", type: { kind: "struct", fields: shape.rightSchema.fields }, nullable: true },
      { name: "matched", type: { kind: "bool" }, nullable: false },
    ],
  };

  let left = new RowStore(shape.leftSchema);
  let right = new RowStore(shape.rightSchema);
  let leftIndex = new Map<Key, number[]>();
  let rightIndex = new Map<Key, number[]>();
  let pendingLeft: Batch[] = [];
  let pendingRight: Batch[] = [];
  let watermark = -Infinity;
  let updated = 0;
  let lastUpdated = 0;
  let dropped = 0;

  function index(map: Map<Key, number[]>, key: Key | undefined, ref: number): void {
    if (key === undefined) return;
    const refs = map.get(key);
    if (refs) refs.push(ref);
    else map.set(key, [ref]);
  }

  function rebuildIndex(store: RowStore): Map<Key, number[]> {
    const map = new Map<Key, number[]>();
    store.forEachLive((s, r, key) => index(map, key, rowRef(s, r)));
    return map;
  }

  /** Keys of `batch`'s rows (undefined where a hashed key is null). */
  function keysOf(batch: Batch, keyColumns: number[], types: DataType[]): (Key | undefined)[] {
    const reader = keyReader(keyColumns.map((i) => batch.columns[i]!), types);
    const keys = new Array<Key | undefined>(batch.length);
    for (let r = 0; r < batch.length; r++) keys[r] = reader.hasNull(r) ? undefined : reader.key(r);
    return keys;
  }

  /** The on-time rows of the pending batches of one side, as one batch; late rows go to `ctx.late`. */
  function admit(batches: Batch[], schema: Schema, timeColumn: number): { batch: Batch; times: Float64Array } | undefined {
    const parts: Batch[] = [];
    const partTimes: Float64Array[] = [];
    for (const raw of batches) {
      const batch = conform(raw, schema, node.id);
      const times = eventTimes(batch, timeColumn);
      const { onTime, late } = splitByWatermark(times, watermark);
      if (late.length) {
        dropped += late.length;
        ctx.late.reject(node.id, raw, late);
      }
      if (onTime.length === 0) continue;
      if (onTime.length === batch.length) {
        parts.push(batch);
        partTimes.push(times);
      } else {
        const rows = onTime;
        parts.push(gather(batch, rows));
        partTimes.push(Float64Array.from(rows, (r) => times[r]!));
      }
    }
    if (parts.length === 0) return undefined;
    if (parts.length === 1) return { batch: parts[0]!, times: partTimes[0]! };
    const times = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let n = 0;
    for (const t of partTimes) {
      times.set(t, n);
      n += t.length;
    }
    return { batch: concatBatches(schema, parts), times };
  }

  /** Evaluates `on` over candidate pairs and emits the joined ones; returns the selected pair positions. */
  function evaluate(l: Batch, lRows: Int32Array, r: Batch, rRows: Int32Array, emit: Emit): Int32Array {
    const joined = pairBatch(node.schema, l, lRows, r, rRows);
    const selection = shape.on(joined);
    if (selection.length > 0) emit(selection.length === joined.length ? joined : gather(joined, selection));
    return selection;
  }

  function emitUnmatched(segment: Segment, rows: Int32Array, emit: Emit): void {
    if (!isLeftJoin || !segment.batch) return;
    let count = 0;
    const unmatched = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) if (!segment.flags[rows[i]!]) unmatched[count++] = rows[i]!;
    if (count === 0) return;
    const leftPart = gather(segment.batch, unmatched.subarray(0, count));
    const columns = [...leftPart.columns, ...shape.rightOutput.map((f) => nullColumn(f, count))];
    emit({ schema: node.schema, length: count, columns });
  }

  function run(emit: Emit): void {
    const newLeft = admit(pendingLeft, shape.leftSchema, leftTime);
    const newRight = admit(pendingRight, shape.rightSchema, rightTime);
    pendingLeft = [];
    pendingRight = [];

    // 1. The new left rows join the left state (so that new right rows find them in step 2).
    let leftSegment = -1;
    if (newLeft) {
      if (left.full) {
        left.compact();
        leftIndex = rebuildIndex(left);
      }
      const keys = keysOf(newLeft.batch, shape.leftKeys, shape.leftKeyTypes);
      leftSegment = left.add(newLeft.batch, newLeft.times, keys);
      for (let r = 0; r < keys.length; r++) index(leftIndex, keys[r], rowRef(leftSegment, r));
      updated += newLeft.batch.length;
    }

    // 2. New right rows probe the whole left state.
    let rightKeys: (Key | undefined)[] = [];
    if (newRight) {
      rightKeys = keysOf(newRight.batch, shape.rightKeys, shape.rightKeyTypes);
      const groups = new Map<number, Pairs>();
      const flushGroup = (s: number, pairs: Pairs) => {
        const segment = left.segments[s]!;
        const lRows = pairs.left.slice(0, pairs.length);
        const selected = evaluate(segment.batch!, lRows, newRight.batch, pairs.right.slice(0, pairs.length), emit);
        for (let i = 0; i < selected.length; i++) segment.flags[lRows[selected[i]!]!] = 1;
        pairs.clear();
      };
      for (let j = 0; j < newRight.batch.length; j++) {
        const key = rightKeys[j];
        if (key === undefined) continue;
        const refs = leftIndex.get(key);
        if (!refs) continue;
        const t = newRight.times[j]!;
        for (const ref of refs) {
          const s = refSegment(ref);
          const row = refRow(ref);
          const segment = left.segments[s]!;
          if (!segment.alive[row] || Math.abs(segment.times[row]! - t) > within) continue;
          let pairs = groups.get(s);
          if (!pairs) groups.set(s, (pairs = new Pairs()));
          pairs.push(row, j);
          if (pairs.length >= CHUNK) flushGroup(s, pairs);
        }
      }
      for (const [s, pairs] of groups) if (pairs.length) flushGroup(s, pairs);
    }

    // 3. New left rows probe the right state as it was before this batch.
    if (newLeft) {
      const segmentL = left.segments[leftSegment]!;
      const groups = new Map<number, Pairs>();
      const flushGroup = (s: number, pairs: Pairs) => {
        const lRows = pairs.left.slice(0, pairs.length);
        const selected = evaluate(newLeft.batch, lRows, right.segments[s]!.batch!, pairs.right.slice(0, pairs.length), emit);
        for (let i = 0; i < selected.length; i++) segmentL.flags[lRows[selected[i]!]!] = 1;
        pairs.clear();
      };
      for (let i = 0; i < newLeft.batch.length; i++) {
        const key = segmentL.keys[i];
        if (key === undefined) continue;
        const refs = rightIndex.get(key);
        if (!refs) continue;
        const t = newLeft.times[i]!;
        for (const ref of refs) {
          const s = refSegment(ref);
          const row = refRow(ref);
          const segment = right.segments[s]!;
          if (!segment.alive[row] || Math.abs(segment.times[row]! - t) > within) continue;
          let pairs = groups.get(s);
          if (!pairs) groups.set(s, (pairs = new Pairs()));
          pairs.push(i, row);
          if (pairs.length >= CHUNK) flushGroup(s, pairs);
        }
      }
      for (const [s, pairs] of groups) if (pairs.length) flushGroup(s, pairs);
    }

    // 4. The new right rows join the right state; those with a null key can never match and are not kept.
    if (newRight) {
      let batch = newRight.batch;
      let times = newRight.times;
      let keys = rightKeys;
      if (keys.includes(undefined)) {
        const rows = Int32Array.from(keys.flatMap((k, r) => (k === undefined ? [] : [r])));
        batch = gather(batch, rows);
        times = Float64Array.from(rows, (r) => newRight.times[r]!);
        keys = Array.from(rows, (r) => keys[r]);
      }
      if (batch.length > 0) {
        if (right.full) {
          right.compact();
          rightIndex = rebuildIndex(right);
        }
        const s = right.add(batch, times, keys);
        for (let r = 0; r < keys.length; r++) index(rightIndex, keys[r], rowRef(s, r));
        updated += batch.length;
      }
    }
  }

  return {
    node,
    process(batch: Batch, input: number, _emit: Emit): void {
      if (batch.length === 0) return;
      if (input === 0) pendingLeft.push(batch);
      else if (input === 1) pendingRight.push(batch);
      else throw new Error(`${node.id}: a join has two inputs, got input ${input}`);
    },
    onWatermark(watermarkMicros: number, emit: Emit): void {
      if (watermarkMicros > watermark) watermark = watermarkMicros;
      // Expire first: a row past `t + W` cannot match any on-time row of this batch.
      left.expire(watermark, within, (segment, rows) => emitUnmatched(segment, rows, emit));
      right.expire(watermark, within);
      run(emit);
    },
    endOfBatch(emit: Emit): void {
      if (pendingLeft.length || pendingRight.length) run(emit);
      lastUpdated = updated;
      updated = 0;
    },
    metrics(): OperatorMetrics {
      return {
        stateRows: left.liveRows + right.liveRows,
        stateRowsUpdated: lastUpdated,
        droppedByWatermark: dropped,
        memoryBytes: left.bytes + right.bytes + (leftIndex.size + rightIndex.size) * 64,
      };
    },
    snapshot(): Uint8Array {
      if (pendingLeft.length || pendingRight.length) throw new Error(`${node.id}: snapshot in the middle of a batch`);
      const l = left.liveSnapshot();
      const r = right.liveSnapshot();
      const flags = (values: Uint8Array | undefined, n: number) => {
        const builder = columnBuilder(snapshotSchema.fields[2]!, n);
        for (let i = 0; i < n; i++) builder.append(values ? values[i] === 1 : false);
        return builder.finish();
      };
      return writeStateIPC(TAG, snapshotSchema, [
        { schema: snapshotSchema, length: l.batch.length, columns: [structColumn(l.batch), nullStructColumn(shape.rightSchema.fields, l.batch.length), flags(l.flags, l.batch.length)] },
        { schema: snapshotSchema, length: r.batch.length, columns: [nullStructColumn(shape.leftSchema.fields, r.batch.length), structColumn(r.batch), flags(undefined, r.batch.length)] },
      ]);
    },
    restore(snapshot: Uint8Array): void {
      left = new RowStore(shape.leftSchema);
      right = new RowStore(shape.rightSchema);
      pendingLeft = [];
      pendingRight = [];
      for (const record of readStateIPC(TAG, snapshotSchema, snapshot)) {
        if (record.length === 0) continue;
        const isLeft = record.columns[0]!.nullCount < record.length;
        const schema = isLeft ? shape.leftSchema : shape.rightSchema;
        const batch = structFields(schema, record.columns[isLeft ? 0 : 1]!, record.length);
        const times = eventTimes(batch, isLeft ? leftTime : rightTime);
        const keys = isLeft ? keysOf(batch, shape.leftKeys, shape.leftKeyTypes) : keysOf(batch, shape.rightKeys, shape.rightKeyTypes);
        const bits = record.columns[2]!.values as Uint8Array;
        const flags = Uint8Array.from({ length: record.length }, (_, i) => (bits[i >> 3]! >> (i & 7)) & 1);
        const store = isLeft ? left : right;
        if (store.full) store.compact();
        store.add(batch, times, keys, flags);
      }
      leftIndex = rebuildIndex(left);
      rightIndex = rebuildIndex(right);
    },
  };
}

// ---- lookup join --------------------------------------------------------------------------------

function createLookupJoin(node: JoinNode, ctx: OperatorContext): Operator {
  const shape = layout(node, ctx);
  const isLeftJoin = node.joinType === "left";
  const nullRow: Batch = { schema: shape.rightSchema, length: 1, columns: shape.rightSchema.fields.map((f) => nullColumn(f, 1)) };
  /** Right rows received since the table was last built. */
  let received: Batch[] = [];
  /** Row 0 is all nulls (the partner of an unmatched left row), then every right row, in arrival order. */
  let table: Batch = nullRow;
  let lookup = new Map<Key, number[]>();
  let everyRow = new Int32Array(0);
  let pending: Batch[] = [];

  /** Appends the received right rows to the table and indexes them. */
  function absorb(): void {
    if (received.length === 0) return;
    const first = table.length;
    table = concatBatches(shape.rightSchema, [table, ...received]);
    received = [];
    everyRow = Int32Array.from({ length: table.length - 1 }, (_, i) => i + 1);
    if (shape.rightKeys.length > 0) {
      const reader = keyReader(shape.rightKeys.map((i) => table.columns[i]!), shape.rightKeyTypes);
      for (let r = first; r < table.length; r++) {
        if (reader.hasNull(r)) continue;
        const key = reader.key(r);
        const rows = lookup.get(key);
        if (rows) rows.push(r);
        else lookup.set(key, [r]);
      }
    }
  }

  function probe(raw: Batch, emit: Emit): void {
    const batch = conform(raw, shape.leftSchema, node.id);
    const hashed = shape.leftKeys.length > 0;
    const reader = hashed ? keyReader(shape.leftKeys.map((i) => batch.columns[i]!), shape.leftKeyTypes) : undefined;
    const pairs = new Pairs();
    /** `starts[i - from]`: where left row i's candidates begin in `pairs`. */
    let starts: number[] = [];
    let from = 0;
    const flush = (to: number) => {
      const lRows = pairs.left.slice(0, pairs.length);
      const rRows = pairs.right.slice(0, pairs.length);
      const selection = pairs.length ? shape.on(pairBatch(node.schema, batch, lRows, table, rRows)) : new Int32Array(0);
      let outLeft: Int32Array;
      let outRight: Int32Array;
      if (!isLeftJoin) {
        outLeft = Int32Array.from(selection, (p) => lRows[p]!);
        outRight = Int32Array.from(selection, (p) => rRows[p]!);
      } else {
        const ol: number[] = [];
        const or: number[] = [];
        let s = 0;
        for (let i = from; i < to; i++) {
          const end = i + 1 < to ? starts[i + 1 - from]! : pairs.length;
          let any = false;
          while (s < selection.length && selection[s]! < end) {
            ol.push(i);
            or.push(rRows[selection[s]!]!);
            s++;
            any = true;
          }
          if (!any) {
            ol.push(i);
            or.push(0);
          }
        }
        outLeft = Int32Array.from(ol);
        outRight = Int32Array.from(or);
      }
      if (outLeft.length > 0) emit(pairBatch(node.schema, batch, outLeft, table, outRight));
      pairs.clear();
      starts = [];
      from = to;
    };
    for (let i = 0; i < batch.length; i++) {
      if (pairs.length >= CHUNK) flush(i);
      starts.push(pairs.length);
      const rows = !hashed ? everyRow : reader!.hasNull(i) ? undefined : lookup.get(reader!.key(i));
      if (rows) for (let k = 0; k < rows.length; k++) pairs.push(i, rows[k]!);
    }
    flush(batch.length);
  }

  function run(emit: Emit): void {
    absorb();
    const batches = pending;
    pending = [];
    for (const batch of batches) probe(batch, emit);
  }

  return {
    node,
    process(batch: Batch, input: number, _emit: Emit): void {
      if (batch.length === 0) return;
      if (input === 0) pending.push(batch);
      else if (input === 1) {
        received.push(conform(batch, shape.rightSchema, node.id));
      } else throw new Error(`${node.id}: a join has two inputs, got input ${input}`);
    },
    onWatermark(_watermarkMicros: number, emit: Emit): void {
      run(emit);
    },
    endOfBatch(emit: Emit): void {
      if (pending.length) run(emit);
    },
    metrics(): OperatorMetrics {
      return { stateRows: 0, stateRowsUpdated: 0, droppedByWatermark: 0, memoryBytes: batchBytes(table) + lookup.size * 64 };
    },
    snapshot: () => undefined,
    restore(): void {
      received = [];
      table = nullRow;
      lookup = new Map();
      everyRow = new Int32Array(0);
      pending = [];
    },
  };
}
