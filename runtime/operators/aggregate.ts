/**
 * `aggregate` (plan node kind "aggregate"): grouped aggregation, windowed or not.
 *
 * Contract (the semantics, precisely):
 * - Batch N runs under watermark W (the value `onWatermark` gets). Its rows are buffered by
 *   `process` and aggregated at `onWatermark(W)` (or at `endOfBatch`, with the last watermark, if
 *   no watermark came), in arrival order, as dedup and join do:
 *   1. a windowed row is late when its window is closed (tumbling/hopping: the latest window
 *      holding it ends at or before W; session: its event time is before W; see window-assign.ts):
 *      it goes to `ctx.late` and is counted in `droppedByWatermark`. A hopping row that is not late
 *      skips only its closed windows. Late rows are rejected in every output mode.
 *   2. every other row is added to the groups of its key (the `keys` kernels; null is a key of its
 *      own) and window(s);
 *   3. then, in `append` and `update` modes, every window that ends at or before W is closed:
 *      `append` emits its rows and both drop its state. Rows come window by window (ascending
 *      starts), each window's groups in the order they were created (sessions: by group id).
 * - `endOfBatch`: `update` emits the groups that rows of this batch reached (ascending group id);
 *   `complete` emits every group, every batch, and never drops state (an empty batch when there
 *   is no group). A global aggregate (no keys, no window) has its one group from the start, so in
 *   `complete` mode it emits `count` 0 and null sums before any row (SQL). `append` needs a window.
 * - Output rows: `window_start`, `window_end` (windowed), the keys, then `outputs`, whose kernels
 *   run over a batch of (window columns, keys, `__agg0`, `__agg1`, ...) where `__aggI` is the
 *   result of `calls[I]`.
 * - Accumulators (stdlib/aggregate-accumulators.ts) are vectorised: one `update` per call per
 *   batch over the whole column, with group ids from the group table (aggregate-groups.ts).
 * - Snapshots are Arrow IPC, tagged `aggregate/1`, taken between batches: one row per group with
 *   `__group` (its id, kept so that a restored operator emits in the same order), `window_start`,
 *   `window_end` (windowed), the key columns, then each call's state fields named after `__aggI`
 *   (`stdlib/aggregate-functions.ts` `stateFields`, plus the arrival ordinals session windows keep).
 *   The schema metadata holds the watermark, the arrival counter, the late count, the id allocator
 *   and each call's function and argument types: restoring state of other calls throws, except that
 *   calls added at the end start empty and calls dropped from the end are ignored.
 */
import * as arrow from "apache-arrow";
import type { Data } from "apache-arrow";
import type { Field, NodeSpec, Schema } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import { arrowType } from "../columnar/arrow-types.ts";
import { writeInt64 } from "../columnar/values.ts";
import type { ValueKernel } from "../kernel.ts";
import type { Accumulator } from "../../stdlib/aggregate-accumulators.ts";
import { int64Words } from "../../stdlib/aggregate-accumulators.ts";
import { aggregateFunctions } from "../../stdlib/aggregate-functions.ts";
import { formatField } from "../data-type.ts";
import { STATE_TAG } from "./state-ipc.ts";
import type { Emit, Operator, OperatorContext, OperatorMetrics } from "./operator.ts";
import { GroupTable, IdAllocator, KeyCodec } from "./aggregate-groups.ts";
import { SessionWindows, assignSlidingWindows } from "./window-assign.ts";

export type AggregateNode = Extract<NodeSpec, { kind: "aggregate" }>;

/** An aggregate snapshot's layout tag, and the schema metadata key of its `AggregateSnapshotMeta`. */
export const AGGREGATE_SNAPSHOT_TAG = "aggregate/1";
export const AGGREGATE_SNAPSHOT_META = "streamc.aggregate";
const TAG = AGGREGATE_SNAPSHOT_TAG;
const META = AGGREGATE_SNAPSHOT_META;

/** What an aggregate snapshot records besides its columns (JSON in the schema's metadata). */
export interface AggregateSnapshotMeta {
  watermark: number | null;
  rowsSeen: number;
  dropped: number;
  next: number;
  /** The group id allocator's free list, Int32 little-endian, base64. */
  free: string;
  /** Each call's function and argument types, by position. */
  calls: { fn: string; args: string[] }[];
}
const TWO_32 = 4294967296;
const TIMESTAMP_FIELD = (name: string): Field => ({ name, type: { kind: "timestamp" }, nullable: false });

export function createAggregateOperator(node: AggregateNode, ctx: OperatorContext): Operator {
  return new AggregateOperator(node, ctx);
}

function growI32(array: Int32Array<ArrayBuffer>, needed: number, fill = 0): Int32Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const grown = new Int32Array(Math.max(needed, array.length * 2));
  grown.set(array);
  if (fill !== 0) grown.fill(fill, array.length);
  return grown;
}

function growF64(array: Float64Array<ArrayBuffer>, needed: number): Float64Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const grown = new Float64Array(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

/** A timestamp column from event-time numbers. */
function timestampColumn(source: Float64Array, groups: Int32Array, offset: number): Data {
  const n = groups.length;
  const words = new Int32Array(2 * n);
  let last = NaN;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const v = source[groups[i]!]! + offset;
    if (v !== last) {
      // Rows of one window share their times: convert once per run of equal values.
      writeInt64(words, i, v);
      lo = words[2 * i]!;
      hi = words[2 * i + 1]!;
      last = v;
    } else {
      words[2 * i] = lo;
      words[2 * i + 1] = hi;
    }
  }
  return arrow.makeData({ type: arrowType({ kind: "timestamp" }), length: n, nullCount: 0, data: new BigInt64Array(words.buffer) } as never) as Data;
}

/** The row of each entry when every row has `perRow` consecutive entries. */
function rowsOfEntries(count: number, perRow: number): Int32Array {
  const rows = new Int32Array(count);
  for (let i = 0; i < count; i++) rows[i] = (i / perRow) | 0;
  return rows;
}

/** The smallest start among entries with a group. */
function earliestStart(ids: Int32Array, starts: Float64Array, count: number): number {
  let min = Infinity;
  for (let i = 0; i < count; i++) if (ids[i]! >= 0 && starts[i]! < min) min = starts[i]!;
  return min;
}

/** Live ids whose window end is at or before `watermark` (ascending), and the earliest end among the others. */
function closingWindows(live: Uint8Array, next: number, ends: Float64Array, offset: number, watermark: number): { closing: number[]; earliest: number } {
  const closing: number[] = [];
  let earliest = Infinity;
  for (let g = 0; g < next; g++) {
    if (live[g] !== 1) continue;
    const end = ends[g]! + offset;
    if (end <= watermark) closing.push(g);
    else if (end < earliest) earliest = end;
  }
  return { closing, earliest };
}

/** Event times of `column` (NaN for null), into `into` when it is long enough. */
function eventTimes(column: Data, n: number, into?: Float64Array): Float64Array {
  const words = int64Words(column);
  const out = into && into.length >= n ? into : new Float64Array(n);
  const bits = column.nullCount > 0 && column.nullBitmap && column.nullBitmap.length > 0 ? column.nullBitmap : null;
  for (let r = 0; r < n; r++) {
    out[r] = bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0 ? NaN : words[2 * r + 1]! * TWO_32 + (words[2 * r]! >>> 0);
  }
  return out;
}

class AggregateOperator implements Operator {
  private readonly windowKind: "none" | "sliding" | "session";
  private readonly size: number;
  private readonly slide: number;
  private readonly gap: number;
  private readonly windowed: boolean;
  private readonly global: boolean;
  private readonly keyFields: Field[];
  private readonly keyKernels: ValueKernel[];
  private readonly argKernels: (ValueKernel | undefined)[];
  private readonly outputKernels: ValueKernel[];
  private readonly aggSchema: Schema;
  private readonly snapshotSchema: Schema;
  private readonly codec: KeyCodec;
  /** Groups (no window, tumbling, hopping) or, for session windows, the keys. */
  private readonly table: GroupTable;
  private readonly accumulators: Accumulator[];
  /** The ids accumulators are indexed by: the table's, or the sessions'. */
  private readonly groups: IdAllocator;
  private readonly sessions: SessionWindows | undefined;
  private sessionStart = new Float64Array(0);
  private sessionEnd = new Float64Array(0);
  private sessionKey = new Int32Array(0);
  /** Session merged into another during the current batch (-1: none). */
  private alias = new Int32Array(0);
  private merged: number[] = [];

  /** Batch number (from 1) in which each group was last updated. */
  private stamp = new Int32Array(0);
  private epoch = 1;
  private dirty = new Int32Array(1024);
  private dirtyCount = 0;
  private closedUpdates: Batch[] = [];
  private pending: Batch[] = [];
  private watermark = -Infinity;
  /** Rows seen since the start: arrival ordinals for session merges. */
  private rowsSeen = 0;
  private dropped = 0;
  private lastUpdated = 0;
  private timeColumn: { schema: Schema; index: number } | undefined;
  /** Per-batch arrays, reused from batch to batch. */
  private scratch = { times: new Float64Array(0), starts: new Float64Array(0), ids: new Int32Array(0) };
  /** The smallest window end among live windows (a watermark below it closes nothing). */
  private earliestEnd = Infinity;

  constructor(
    readonly node: AggregateNode,
    private readonly ctx: OperatorContext,
  ) {
    const window = node.window;
    this.windowKind = window === undefined ? "none" : window.kind === "session" ? "session" : "sliding";
    this.windowed = window !== undefined;
    this.size = window?.kind === "tumbling" || window?.kind === "hopping" ? window.sizeMicros : 0;
    this.slide = window?.kind === "tumbling" ? window.sizeMicros : window?.kind === "hopping" ? window.slideMicros : 0;
    this.gap = window?.kind === "session" ? window.gapMicros : 0;
    if (this.windowKind === "sliding" && (!(this.slide > 0) || this.size % this.slide !== 0)) {
      throw new Error(`${node.id}: a hopping window's slide must divide its size`);
    }
    if (this.windowed && node.eventTime === undefined) throw new Error(`${node.id}: a windowed aggregate needs an event-time column`);
    if (!this.windowed && ctx.outputMode === "append") {
      throw new Error(`${node.id}: an aggregate without a window never finalises a row, so it cannot run in append mode (use update or complete)`);
    }
    this.global = !this.windowed && node.keys.length === 0;

    const prefix = this.windowed ? 2 : 0;
    const fields = node.schema.fields;
    if (fields.length !== prefix + node.keys.length + node.outputs.length) {
      throw new Error(`${node.id}: the schema has ${fields.length} columns, expected ${prefix + node.keys.length + node.outputs.length}`);
    }
    this.keyFields = fields.slice(prefix, prefix + node.keys.length);
    const kernel = (ref: number): ValueKernel => {
      const k = ctx.kernels[ref];
      if (typeof k !== "function") throw new Error(`${node.id}: kernel ${ref} is missing from the kernel module (${ctx.kernels.length} kernels)`);
      return k as ValueKernel;
    };
    this.keyKernels = node.keys.map((k) => kernel(k.kernel));
    this.argKernels = node.calls.map((c) => (c.args.length > 0 ? kernel(c.args[0]!) : undefined));
    this.outputKernels = node.outputs.map((o) => kernel(o.kernel));
    const callFields = node.calls.map((c, i): Field => ({ ...c.result, name: `__agg${i}` }));
    this.aggSchema = { fields: [...fields.slice(0, prefix + node.keys.length), ...callFields] };

    this.accumulators = node.calls.map((call, i) => {
      const fn = aggregateFunctions.get(call.fn);
      if (!fn) throw new Error(`${node.id}: unknown aggregate function ${call.fn}`);
      return fn.accumulator(call.argTypes, call.result, { name: `__agg${i}`, ordered: this.windowKind === "session" });
    });
    this.snapshotSchema = {
      fields: [
        { name: "__group", type: { kind: "int" }, nullable: false },
        ...(this.windowed ? [TIMESTAMP_FIELD("window_start"), TIMESTAMP_FIELD("window_end")] : []),
        ...this.keyFields,
        ...this.accumulators.flatMap((a) => a.fields),
      ],
    };

    const growGroups = (capacity: number): void => {
      for (const a of this.accumulators) a.grow(capacity);
      this.stamp = growI32(this.stamp, capacity);
    };
    this.codec = new KeyCodec(this.keyFields);
    if (this.windowKind === "session") {
      this.table = new GroupTable(this.codec, () => {});
      this.groups = new IdAllocator((capacity) => {
        growGroups(capacity);
        this.sessionStart = growF64(this.sessionStart, capacity);
        this.sessionEnd = growF64(this.sessionEnd, capacity);
        this.sessionKey = growI32(this.sessionKey, capacity);
        this.alias = growI32(this.alias, capacity, -1);
      });
      this.sessions = new SessionWindows(
        this.gap,
        () => ({ start: this.sessionStart, end: this.sessionEnd, keyOf: this.sessionKey }),
        () => this.groups.allocate(),
        (into, from) => {
          for (const a of this.accumulators) a.merge(into, from);
          this.alias[from] = into;
          this.merged.push(from);
        },
      );
    } else {
      this.table = new GroupTable(this.codec, growGroups);
      this.groups = this.table.ids;
      this.sessions = undefined;
    }
    if (this.global) this.groups.allocate();
  }

  process(batch: Batch, _input: number, _emit: Emit): void {
    if (batch.length > 0) this.pending.push(batch);
  }

  onWatermark(watermarkMicros: number, emit: Emit): void {
    if (watermarkMicros > this.watermark) this.watermark = watermarkMicros;
    this.flush();
    if (this.windowed && this.ctx.outputMode !== "complete") this.close(emit);
  }

  endOfBatch(emit: Emit): void {
    this.flush();
    const mode = this.ctx.outputMode;
    if (mode === "update") {
      for (const batch of this.closedUpdates) emit(batch);
      const live = this.groups.live;
      const dirty = this.dirty.subarray(0, this.dirtyCount).filter((g) => live[g] === 1).sort();
      if (dirty.length > 0) emit(this.output(dirty));
    } else if (mode === "complete") {
      emit(this.output(this.groups.liveIds()));
    }
    this.closedUpdates = [];
    this.lastUpdated = this.dirtyCount;
    this.dirtyCount = 0;
    this.epoch++;
  }

  metrics(): OperatorMetrics {
    let memory = this.table.memoryBytes() + this.stamp.byteLength + this.dirty.byteLength;
    for (const a of this.accumulators) memory += a.memoryBytes();
    if (this.sessions) memory += this.sessions.memoryBytes() + this.sessionStart.byteLength * 2 + this.sessionKey.byteLength * 2;
    return { stateRows: this.groups.count, stateRowsUpdated: this.lastUpdated, droppedByWatermark: this.dropped, memoryBytes: memory };
  }

  // ---- aggregation -------------------------------------------------------------------------------

  private flush(): void {
    const pending = this.pending;
    this.pending = [];
    for (const batch of pending) this.aggregate(batch);
  }

  private eventTimeIndex(batch: Batch): number {
    if (this.timeColumn?.schema !== batch.schema) {
      const index = batch.schema.fields.findIndex((f) => f.name === this.node.eventTime);
      if (index < 0) throw new Error(`${this.node.id}: event-time column ${this.node.eventTime} is not in the input`);
      this.timeColumn = { schema: batch.schema, index };
    }
    return this.timeColumn.index;
  }

  private aggregate(batch: Batch): void {
    const n = batch.length;
    const keyColumns = this.keyKernels.map((k) => k(batch));
    const scratch = this.scratch;
    if (scratch.times.length < n) scratch.times = new Float64Array(Math.max(n, 2 * scratch.times.length));
    const times = this.windowed ? eventTimes(batch.columns[this.eventTimeIndex(batch)]!, n, scratch.times) : undefined;
    if (!this.global) this.codec.encode(keyColumns, n);

    let count = n;
    let ids: Int32Array;
    let rows: Int32Array | undefined;
    let late: Int32Array | undefined;
    if (this.global) {
      ids = new Int32Array(n);
    } else if (this.windowKind === "none") {
      ids = new Int32Array(n);
      this.table.assign(n, 1, null, ids);
    } else if (this.windowKind === "sliding") {
      const needed = n * Math.round(this.size / this.slide);
      if (scratch.ids.length < needed) {
        scratch.ids = new Int32Array(Math.max(needed, 2 * scratch.ids.length));
        scratch.starts = new Float64Array(scratch.ids.length);
      }
      const entries = assignSlidingWindows(times!, n, this.size, this.slide, this.watermark, scratch);
      count = entries.count;
      ids = entries.ids;
      late = entries.late;
      const perRow = entries.perRow;
      const starts = entries.starts;
      this.table.assign(count, perRow, starts, ids);
      if (perRow > 1) rows = rowsOfEntries(count, perRow);
      this.earliestEnd = Math.min(this.earliestEnd, earliestStart(ids, starts, count) + this.size);
    } else {
      ({ ids, late } = this.assignSessions(times!, n));
    }
    if (this.codec.interns) this.codec.sweep();
    if (late && late.length > 0) {
      this.dropped += late.length;
      this.ctx.late.reject(this.node.id, batch, late);
    }

    const columns = new Map<ValueKernel, Data>();
    this.accumulators.forEach((acc, i) => {
      const kernel = this.argKernels[i];
      let column: Data | undefined;
      if (kernel) {
        column = columns.get(kernel);
        if (!column) columns.set(kernel, (column = kernel(batch)));
      }
      acc.update(ids, column, count, rows, this.rowsSeen);
    });
    this.markDirty(ids, count);
    if (this.merged.length > 0) this.releaseMerged();
    this.rowsSeen += n;
  }

  private markDirty(ids: Int32Array, count: number): void {
    const stamp = this.stamp;
    const epoch = this.epoch;
    for (let i = 0; i < count; i++) {
      const g = ids[i]!;
      if (g < 0 || stamp[g] === epoch) continue;
      stamp[g] = epoch;
      if (this.dirtyCount === this.dirty.length) this.dirty = growI32(this.dirty, this.dirtyCount + 1);
      this.dirty[this.dirtyCount++] = g;
    }
  }

  private assignSessions(times: Float64Array, n: number): { ids: Int32Array; late: Int32Array } {
    const watermark = this.watermark;
    const keys = new Int32Array(n);
    const lateRows: number[] = [];
    for (let r = 0; r < n; r++) {
      const t = times[r]!;
      if (!(t >= watermark)) {
        keys[r] = -1;
        lateRows.push(r);
      }
    }
    this.table.assign(n, 1, null, keys);
    const ids = new Int32Array(n);
    const sessions = this.sessions!;
    for (let r = 0; r < n; r++) ids[r] = keys[r]! < 0 ? -1 : sessions.assign(keys[r]!, times[r]!);
    if (this.merged.length > 0) {
      const alias = this.alias;
      for (let r = 0; r < n; r++) {
        let g = ids[r]!;
        if (g < 0 || alias[g] === -1) continue;
        while (alias[g] !== -1) g = alias[g]!;
        ids[r] = g;
      }
    }
    for (let r = 0; r < n; r++) {
      const g = ids[r]!;
      if (g >= 0 && this.sessionEnd[g]! < this.earliestEnd) this.earliestEnd = this.sessionEnd[g]!;
    }
    return { ids, late: Int32Array.from(lateRows) };
  }

  /** Frees the sessions merged into others during the batch (after the batch's rows were added). */
  private releaseMerged(): void {
    const merged = Int32Array.from(this.merged);
    for (const a of this.accumulators) a.clear(merged);
    for (const g of merged) {
      this.alias[g] = -1;
      this.groups.release(g);
    }
    this.merged = [];
  }

  // ---- closing windows ---------------------------------------------------------------------------

  private close(emit: Emit): void {
    const watermark = this.watermark;
    if (watermark < this.earliestEnd) return;
    if (this.sessions) return this.closeSessions(emit);
    let earliest = Infinity;
    for (const start of this.table.windowStarts()) {
      if (start + this.size > watermark) {
        earliest = Math.min(earliest, start + this.size);
        continue;
      }
      const groups = this.table.windowGroups(start);
      this.finalise(groups, emit);
      this.table.dropWindow(start);
    }
    this.earliestEnd = earliest;
  }

  /** Emits (append) or keeps for `endOfBatch` (update, when updated in this batch) closing groups, and clears their state. */
  private finalise(groups: Int32Array, emit: Emit): void {
    if (groups.length === 0) return;
    if (this.ctx.outputMode === "append") emit(this.output(groups));
    else {
      const dirty = groups.filter((g) => this.stamp[g] === this.epoch);
      if (dirty.length > 0) this.closedUpdates.push(this.output(dirty));
    }
    for (const a of this.accumulators) a.clear(groups);
  }

  private closeSessions(emit: Emit): void {
    const { closing, earliest } = closingWindows(this.groups.live, this.groups.next, this.sessionEnd, 0, this.watermark);
    this.earliestEnd = earliest;
    if (closing.length === 0) return;
    const groups = Int32Array.from(closing);
    this.finalise(groups, emit);
    for (const g of groups) {
      const key = this.sessionKey[g]!;
      this.groups.release(g);
      if (this.sessions!.remove(key, g)) this.table.remove(key);
    }
  }

  // ---- output ------------------------------------------------------------------------------------

  /** Window and key columns of `groups`. */
  private groupColumns(groups: Int32Array): Data[] {
    const columns: Data[] = [];
    if (this.sessions) {
      columns.push(timestampColumn(this.sessionStart, groups, 0));
      columns.push(timestampColumn(this.sessionEnd, groups, 0));
    } else if (this.windowed) {
      columns.push(timestampColumn(this.table.starts, groups, 0));
      columns.push(timestampColumn(this.table.starts, groups, this.size));
    }
    if (this.sessions) {
      const keys = Int32Array.from(groups, (g) => this.sessionKey[g]!);
      columns.push(...this.table.keyColumns(keys));
    } else if (this.keyFields.length > 0) {
      columns.push(...this.table.keyColumns(groups));
    }
    return columns;
  }

  private output(groups: Int32Array): Batch {
    const n = groups.length;
    const prefix = this.groupColumns(groups);
    const aggBatch: Batch = { schema: this.aggSchema, length: n, columns: [...prefix, ...this.accumulators.map((a) => a.finish(groups))] };
    return { schema: this.node.schema, length: n, columns: [...prefix, ...this.outputKernels.map((k) => k(aggBatch))] };
  }

  // ---- snapshots ---------------------------------------------------------------------------------

  snapshot(): Uint8Array {
    if (this.pending.length > 0) throw new Error(`${this.node.id}: a snapshot is taken between batches, not with rows pending`);
    const groups = this.sessions || this.global ? this.groups.liveIds() : this.table.groupsInOrder();
    const n = groups.length;
    const columns: Data[] = [
      arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: 0, data: groups }) as Data,
      ...this.groupColumns(groups),
      ...this.accumulators.flatMap((a) => a.snapshot(groups)),
    ];
    const meta = {
      watermark: Number.isFinite(this.watermark) ? this.watermark : null,
      rowsSeen: this.rowsSeen,
      dropped: this.dropped,
      next: this.groups.next,
      free: Buffer.from(new Uint8Array(this.groups.freeList().buffer)).toString("base64"),
      calls: this.node.calls.map((c) => ({ fn: c.fn, args: c.argTypes.map(formatField) })),
    };
    const schema = new arrow.Schema(
      this.snapshotSchema.fields.map((f) => new arrow.Field(f.name, arrowType(f.type), f.nullable)),
      new Map([
        [STATE_TAG, TAG],
        [META, JSON.stringify(meta)],
      ]),
    );
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children: columns as arrow.Data[] });
    return arrow.tableToIPC(new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]), "stream");
  }

  restore(bytes: Uint8Array): void {
    const table = arrow.tableFromIPC(bytes);
    const tag = table.schema.metadata.get(STATE_TAG);
    if (tag !== TAG) throw new Error(`${this.node.id}: state snapshot is ${tag ?? "untagged"}, expected ${TAG}`);
    const meta = JSON.parse(table.schema.metadata.get(META) ?? "{}") as AggregateSnapshotMeta;
    // Which of this node's calls the snapshot holds state for.
    const restored = this.node.calls.map((call, i) => {
      const saved = meta.calls[i];
      if (!saved) return false;
      const args = call.argTypes.map(formatField);
      if (saved.fn !== call.fn || saved.args.join(",") !== args.join(",")) {
        throw new Error(`${this.node.id}: the snapshot's aggregate ${i + 1} is ${saved.fn}(${saved.args.join(", ")}), not ${call.fn}(${args.join(", ")})`);
      }
      return true;
    });
    const freeBytes = Buffer.from(meta.free, "base64");
    const free = new Int32Array(freeBytes.buffer.slice(freeBytes.byteOffset, freeBytes.byteOffset + freeBytes.byteLength));
    const batches = table.batches.filter((b) => b.numRows > 0);
    const column = (record: arrow.RecordBatch, name: string): Data => {
      const child = record.getChild(name);
      if (!child) throw new Error(`${this.node.id}: state snapshot column ${name} is missing`);
      return child.data[0]! as Data;
    };
    const all = batches.map((record) => (column(record, "__group").values as Int32Array).subarray(0, record.numRows));
    const liveIds = new Int32Array(all.reduce((k, a) => k + a.length, 0));
    let at = 0;
    for (const ids of all) {
      liveIds.set(ids, at);
      at += ids.length;
    }
    this.groups.restore(meta.next, free, liveIds);
    this.watermark = meta.watermark ?? -Infinity;
    this.rowsSeen = meta.rowsSeen;
    this.dropped = meta.dropped;
    this.earliestEnd = -Infinity;

    batches.forEach((record, b) => {
      const n = record.numRows;
      const groups = all[b]!;
      const keyColumns = this.keyFields.map((f) => column(record, f.name));
      if (!this.global) this.codec.encode(keyColumns, n);
      const starts = this.windowed ? eventTimes(column(record, "window_start"), n) : undefined;
      if (this.sessions) {
        const ends = eventTimes(column(record, "window_end"), n);
        const keys = new Int32Array(n);
        this.table.assign(n, 1, null, keys);
        for (let i = 0; i < n; i++) {
          const g = groups[i]!;
          this.sessionStart[g] = starts![i]!;
          this.sessionEnd[g] = ends[i]!;
          this.sessionKey[g] = keys[i]!;
          this.sessions.insert(keys[i]!, g);
        }
      } else if (!this.global) {
        for (let i = 0; i < n; i++) this.table.insertAt(groups[i]!, i, starts ? starts[i]! : 0);
      }
      this.accumulators.forEach((acc, i) => {
        if (!restored[i]) return;
        acc.restore(
          groups,
          acc.fields.map((f) => column(record, f.name)),
        );
      });
    });
    if (this.codec.interns) this.codec.sweep();
  }
}
