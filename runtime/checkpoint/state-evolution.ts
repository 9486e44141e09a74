/**
 * State evolution: an operator's snapshot taken under one state declaration, rewritten so that the
 * operator built from a newer declaration restores it.
 *
 * Contract: `evolveSnapshot(bytes, old, next)` is called only for operators whose compatibility
 * verdict (compat.ts) is `reuse` or `evolve`; for any other pair it throws. It returns `bytes`
 * unchanged when the two declarations are equal, and otherwise a new snapshot in the layout the
 * operator writes (runtime/operators/aggregate.ts `aggregate/1`, dedup.ts `dedup/1`, join.ts
 * `join/1`):
 * - aggregates: calls are matched by their state name (`StateAggregate.name`), so the snapshot's
 *   positional calls and `__aggI` columns are rewritten in the new order; a call that is new gets
 *   an empty accumulator's state for every group (it counts rows from the restore on); a dropped
 *   call's columns are removed; the `calls` metadata is rewritten (function and argument types).
 * - a widened column (key, aggregate state, stored join row, nested values) is cast value by value
 *   (`int -> long`, `int -> double`, `long -> double` for a sum's total, decimals rescaled);
 *   columns whose type did not change are copied as they are, bit for bit.
 * - rows keyed by a column that can no longer be null and hold a null there are dropped (the new
 *   program cannot make them): aggregate groups (their ids go back to the id allocator's free
 *   list), dedup keys, stored join rows of that side.
 * - join rows gain null for a new nullable column and lose a dropped column.
 * It never changes `bytes`. Not on a hot path: it runs once per operator when a changed program starts.
 */
import * as arrow from "apache-arrow";
import type { DataType, Field, Schema, StateAggregate, StateSchema, StateSemantics } from "../plan.ts";
import { arrowType } from "../columnar/arrow-types.ts";
import type { Batch } from "../columnar/batch.ts";
import { gather, gatherColumn } from "../columnar/batch-ops.ts";
import { columnBuilder } from "../columnar/builder.ts";
import { cellReader, isValid } from "../columnar/read.ts";
import type { CellValue } from "../columnar/values.ts";
import { formatField, sameType } from "../data-type.ts";
import { DEDUP_SNAPSHOT_TAG } from "../operators/dedup.ts";
import { JOIN_SNAPSHOT_TAG } from "../operators/join.ts";
import { AGGREGATE_SNAPSHOT_META, AGGREGATE_SNAPSHOT_TAG, type AggregateSnapshotMeta } from "../operators/aggregate.ts";
import { nullColumn, nullStructColumn, readStateIPC, STATE_TAG, writeStateIPC } from "../operators/state-ipc.ts";
import { aggregateFunctions } from "../../stdlib/aggregate-functions.ts";
import { stateTypeConvertible } from "./compat.ts";

const AGGREGATE_TAG = AGGREGATE_SNAPSHOT_TAG;
const AGGREGATE_META = AGGREGATE_SNAPSHOT_META;
const DEDUP_TAG = DEDUP_SNAPSHOT_TAG;
const JOIN_TAG = JOIN_SNAPSHOT_TAG;
const TIMESTAMP: DataType = { kind: "timestamp" };

export function evolveSnapshot(bytes: Uint8Array, old: StateSchema, next: StateSchema): Uint8Array {
  if (JSON.stringify(old) === JSON.stringify(next)) return bytes;
  const where = `${next.operatorId}: cannot evolve its state`;
  if ((old as Partial<StateSchema>).semantics === undefined) {
    // Declared before semantics were recorded: compat.ts lets it through only with the same layout.
    const same = JSON.stringify([old.operatorKind, old.version, old.key, old.value]) === JSON.stringify([next.operatorKind, next.version, next.key, next.value]);
    if (same) return bytes;
    throw new Error(`${where}: the checkpoint does not record what this state means, and its layout differs`);
  }
  if (old.operatorKind !== next.operatorKind || old.version !== next.version || old.semantics.kind !== next.semantics.kind) {
    throw new Error(`${where}: it was a ${old.operatorKind} v${old.version} and is now a ${next.operatorKind} v${next.version}`);
  }
  const semantics = next.semantics;
  switch (semantics.kind) {
    case "aggregate":
      return evolveAggregate(bytes, old, next, old.semantics as typeof semantics, semantics, where);
    case "dedup":
      return evolveDedup(bytes, old, next, old.semantics as typeof semantics, semantics, where);
    case "join":
      return evolveJoin(bytes, old, next, where);
    default:
      return unknownSemantics(semantics);
  }
}

function unknownSemantics(semantics: never): never {
  throw new Error(`no state evolution for state of kind ${(semantics as StateSemantics).kind}`);
}

// ---- aggregates -----------------------------------------------------------------------------------------

type AggregateMeta = AggregateSnapshotMeta;

type AggregateSemantics = Extract<StateSemantics, { kind: "aggregate" }>;

/** The snapshot columns of call `index` (`__aggI...`), as the operator's accumulator names them. */
function callFields(call: StateAggregate, index: number, ordered: boolean, where: string): readonly Field[] {
  return accumulatorOf(call, index, ordered, where).fields;
}

function accumulatorOf(call: StateAggregate, index: number, ordered: boolean, where: string) {
  const fn = aggregateFunctions.get(call.fn);
  if (!fn) throw new Error(`${where}: unknown aggregate function ${call.fn}`);
  return fn.accumulator(call.argTypes, call.result, { name: `__agg${index}`, ordered });
}

function evolveAggregate(bytes: Uint8Array, old: StateSchema, next: StateSchema, oldSemantics: AggregateSemantics, semantics: AggregateSemantics, where: string): Uint8Array {
  if (oldSemantics.window !== semantics.window) throw new Error(`${where}: the window changed`);
  const table = arrow.tableFromIPC(bytes);
  const tag = table.schema.metadata.get(STATE_TAG);
  if (tag !== AGGREGATE_TAG) throw new Error(`${where}: the snapshot is ${tag ?? "untagged"}, expected ${AGGREGATE_TAG}`);
  const meta = JSON.parse(table.schema.metadata.get(AGGREGATE_META) ?? "null") as AggregateMeta | null;
  if (!meta || !Array.isArray(meta.calls)) throw new Error(`${where}: the snapshot has no ${AGGREGATE_META} metadata`);
  if (meta.calls.length !== oldSemantics.aggregates.length) {
    throw new Error(`${where}: the snapshot holds ${meta.calls.length} aggregate calls, but its declaration ${oldSemantics.aggregates.length}`);
  }
  oldSemantics.aggregates.forEach((call, i) => {
    const saved = meta.calls[i];
    if (saved?.fn !== call.fn) throw new Error(`${where}: the snapshot's aggregate ${i + 1} is ${saved?.fn ?? "missing"}, but its declaration says ${call.fn}`);
  });
  const ordered = semantics.window?.startsWith("session ") ?? false;

  // Key columns (window bounds and `by` keys) keep their names; a key that can no longer be null drops the groups where it is.
  const oldKeys = new Map(old.key.fields.map((f) => [f.name, f]));
  const keyFields = next.key.fields.map((field) => {
    const before = oldKeys.get(field.name);
    if (!before) throw new Error(`${where}: key column ${field.name} is not in the snapshot's declaration`);
    if (!stateTypeConvertible(before.type, field.type)) throw new Error(`${where}: key column ${field.name} cannot change from ${formatField(before)} to ${formatField(field)}`);
    return { before, field };
  });
  const requiredKeys = keyFields.filter((k) => k.before.nullable && !k.field.nullable).map((k) => k.field.name);

  const oldIndex = new Map(oldSemantics.aggregates.map((call, i) => [call.name, i]));
  const calls = semantics.aggregates.map((call, i) => {
    const j = oldIndex.get(call.name);
    const fields = callFields(call, i, ordered, where);
    if (j === undefined) return { call, index: i, fields, from: undefined };
    const before = oldSemantics.aggregates[j]!;
    if (before.fn !== call.fn) throw new Error(`${where}: ${call.name} changed from ${before.fn} to ${call.fn}`);
    const oldFields = callFields(before, j, ordered, where);
    if (oldFields.length !== fields.length || oldFields.some((f, k) => !stateTypeConvertible(f.type, fields[k]!.type))) {
      throw new Error(`${where}: the state of ${call.name} cannot be converted`);
    }
    return { call, index: i, fields, from: { index: j, fields: oldFields } };
  });

  const snapshotFields: Field[] = [{ name: "__group", type: { kind: "int" }, nullable: false }, ...keyFields.map((k) => k.field), ...calls.flatMap((c) => c.fields)];
  const freed: number[] = [];
  const records = table.batches.map((record) => {
    const column = (name: string): arrow.Data => {
      const child = record.getChild(name);
      if (!child) throw new Error(`${where}: the snapshot has no column ${name}`);
      return child.data[0]!;
    };
    const n = record.numRows;
    const groups = column("__group");
    const keep = rowsWithValues(n, requiredKeys.map(column));
    const pick = (data: arrow.Data, type: DataType) => (keep ? gatherColumn(data, type, keep) : data);
    const length = keep ? keep.length : n;
    if (keep) {
      const kept = new Set(keep);
      const ids = groups.values as Int32Array;
      for (let r = 0; r < n; r++) if (!kept.has(r)) freed.push(ids[r]!);
    }
    const keptGroups = pick(groups, { kind: "int" });
    const columns: arrow.Data[] = [keptGroups];
    for (const { before, field } of keyFields) columns.push(convertColumn(pick(column(field.name), before.type), before.type, field.type, length));
    const groupIds = (keptGroups.values as Int32Array).subarray(0, length);
    for (const { call, index, fields, from } of calls) {
      if (from) {
        fields.forEach((field, k) => {
          const source = from.fields[k]!;
          columns.push(convertColumn(pick(column(source.name), source.type), source.type, field.type, length));
        });
      } else {
        // A new call: what a fresh accumulator holds for groups no row has reached.
        const empty = accumulatorOf(call, index, ordered, where);
        empty.grow(Math.max(meta.next, 1));
        columns.push(...(empty.snapshot(Int32Array.from(groupIds)) as arrow.Data[]));
      }
    }
    return { length, columns };
  });

  const free = decodeInt32(meta.free);
  const evolvedMeta: AggregateMeta = {
    ...meta,
    free: encodeInt32(Int32Array.from([...free, ...freed])),
    calls: semantics.aggregates.map((call) => ({ fn: call.fn, args: call.argTypes.map(formatField) })),
  };
  const schema = new arrow.Schema(
    snapshotFields.map((f) => new arrow.Field(f.name, arrowType(f.type), f.nullable)),
    new Map([
      [STATE_TAG, AGGREGATE_TAG],
      [AGGREGATE_META, JSON.stringify(evolvedMeta)],
    ]),
  );
  const batches = records.map(({ length, columns }) => {
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length, nullCount: 0, children: columns });
    return new arrow.RecordBatch(schema, struct);
  });
  return arrow.tableToIPC(new arrow.Table(schema, batches), "stream");
}

function decodeInt32(base64: string): Int32Array {
  const bytes = Buffer.from(base64, "base64");
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function encodeInt32(values: Int32Array): string {
  return Buffer.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).toString("base64");
}

// ---- dedup ------------------------------------------------------------------------------------------------

type DedupSemantics = Extract<StateSemantics, { kind: "dedup" }>;

function evolveDedup(bytes: Uint8Array, old: StateSchema, next: StateSchema, oldSemantics: DedupSemantics, semantics: DedupSemantics, where: string): Uint8Array {
  if (oldSemantics.keys.join("\u0000") !== semantics.keys.join("\u0000") || oldSemantics.within !== semantics.within) {
    throw new Error(`${where}: the dedup key or \`within\` changed`);
  }
  const within = semantics.within !== undefined;
  const snapshotSchema = (keys: Field[]): Schema => ({
    fields: [
      { name: "key", type: { kind: "struct", fields: keys }, nullable: false },
      ...(within ? [{ name: "event_time", type: TIMESTAMP, nullable: false }] : []),
    ],
  });
  const oldSchema = snapshotSchema(old.key.fields);
  const nextSchema = snapshotSchema(next.key.fields);
  const batches = readStateIPC(DEDUP_TAG, oldSchema, bytes).map((record): Batch => {
    const keys = evolveStruct(record.columns[0]!, old.key.fields, next.key.fields, record.length, where);
    const batch: Batch = { schema: nextSchema, length: record.length, columns: [keys.data, ...record.columns.slice(1)] };
    return keys.keep ? gather(batch, keys.keep) : batch;
  });
  return writeStateIPC(DEDUP_TAG, nextSchema, batches);
}

// ---- joins ------------------------------------------------------------------------------------------------

function evolveJoin(bytes: Uint8Array, old: StateSchema, next: StateSchema, where: string): Uint8Array {
  const side = (state: StateSchema, name: string): Field[] => {
    const field = state.value.fields.find((f) => f.name === name);
    if (field?.type.kind !== "struct") throw new Error(`${where}: the declaration has no ${name} rows`);
    return field.type.fields;
  };
  const schemaOf = (left: Field[], right: Field[]): Schema => ({
    fields: [
      { name: "left", type: { kind: "struct", fields: left }, nullable: true },
      { name: "right", type: { kind: "struct", fields: right }, nullable: true },
      { name: "matched", type: { kind: "bool" }, nullable: false },
    ],
  });
  const oldLeft = side(old, "left");
  const oldRight = side(old, "right");
  const nextLeft = side(next, "left");
  const nextRight = side(next, "right");
  const nextSchema = schemaOf(nextLeft, nextRight);
  const batches = readStateIPC(JOIN_TAG, schemaOf(oldLeft, oldRight), bytes).map((record): Batch => {
    const n = record.length;
    // Each record batch holds one side's rows, the other side's struct all null (join.ts `snapshot`).
    const isLeft = n > 0 && record.columns[0]!.nullCount < n;
    const stored = isLeft
      ? evolveStruct(record.columns[0]!, oldLeft, nextLeft, n, where)
      : evolveStruct(record.columns[1]!, oldRight, nextRight, n, where);
    const other = nullStructColumn(isLeft ? nextRight : nextLeft, n);
    const columns = isLeft ? [stored.data, other, record.columns[2]!] : [other, stored.data, record.columns[2]!];
    const batch: Batch = { schema: nextSchema, length: n, columns };
    return stored.keep ? gather(batch, stored.keep) : batch;
  });
  return writeStateIPC(JOIN_TAG, nextSchema, batches);
}

// ---- columns ----------------------------------------------------------------------------------------------

/**
 * A non-null struct column of rows (dedup keys, a join side's rows) rebuilt with `next`'s fields,
 * matched by name: converted, added as nulls (nullable only), or dropped. `keep` lists the rows
 * to keep when a field that can no longer be null holds nulls.
 */
function evolveStruct(data: arrow.Data, old: Field[], next: Field[], length: number, where: string): { data: arrow.Data; keep: Int32Array | undefined } {
  const oldIndex = new Map(old.map((f, i) => [f.name, i]));
  const required: arrow.Data[] = [];
  const children = next.map((field) => {
    const i = oldIndex.get(field.name);
    if (i === undefined) {
      if (!field.nullable) throw new Error(`${where}: the new column ${field.name} cannot be null, and the rows in state have no value for it`);
      return nullColumn(field, length);
    }
    const before = old[i]!;
    if (!stateTypeConvertible(before.type, field.type)) throw new Error(`${where}: column ${field.name} cannot change from ${formatField(before)} to ${formatField(field)}`);
    const child = data.children[i]!;
    if (before.nullable && !field.nullable) required.push(child);
    return convertColumn(child, before.type, field.type, length);
  });
  const struct = arrow.makeData({
    type: arrowType({ kind: "struct", fields: next }) as arrow.Struct,
    length,
    nullCount: data.nullCount,
    nullBitmap: data.nullBitmap,
    children,
  });
  return { data: struct, keep: rowsWithValues(length, required) };
}

/** The rows where every column of `columns` holds a value; undefined when that is every row. */
function rowsWithValues(length: number, columns: arrow.Data[]): Int32Array | undefined {
  if (!columns.some((c) => c.nullCount > 0)) return undefined;
  const keep: number[] = [];
  for (let r = 0; r < length; r++) if (columns.every((c) => isValid(c, r))) keep.push(r);
  return Int32Array.from(keep);
}

/** `data` (of type `from`) as a column of type `to`; the same `data` when the type did not change. */
export function convertColumn(data: arrow.Data, from: DataType, to: DataType, length: number): arrow.Data {
  if (sameType(from, to)) return data;
  if (from.kind === "struct" && to.kind === "struct") {
    const children = to.fields.map((field, i) => convertColumn(data.children[i]!, from.fields[i]!.type, field.type, length));
    return arrow.makeData({ type: arrowType(to) as arrow.Struct, length, nullCount: data.nullCount, nullBitmap: data.nullBitmap, children });
  }
  const read = cellReader(data, from);
  const builder = columnBuilder({ name: "value", type: to, nullable: true }, length);
  for (let r = 0; r < length; r++) {
    const value = read(r);
    if (value === null) builder.appendNull();
    else builder.append(convertCell(value, from, to));
  }
  return builder.finish();
}

function convertCell(value: CellValue, from: DataType, to: DataType): CellValue {
  if (value === null) return null;
  switch (to.kind) {
    case "long":
    case "double":
      return typeof value === "bigint" ? Number(value) : value;
    case "decimal": {
      if (from.kind !== "decimal") throw new Error(`cannot convert ${from.kind} to decimal`);
      return (value as bigint) * 10n ** BigInt(to.scale - from.scale);
    }
    case "list": {
      if (from.kind !== "list") throw new Error(`cannot convert ${from.kind} to a list`);
      return (value as CellValue[]).map((element) => convertCell(element, from.element.type, to.element.type));
    }
    case "map": {
      if (from.kind !== "map") throw new Error(`cannot convert ${from.kind} to a map`);
      return new Map([...(value as Map<string, CellValue>)].map(([k, v]) => [k, convertCell(v, from.value.type, to.value.type)]));
    }
    case "struct": {
      if (from.kind !== "struct") throw new Error(`cannot convert ${from.kind} to a struct`);
      const record = value as Record<string, CellValue>;
      return Object.fromEntries(to.fields.map((field, i) => [field.name, convertCell(record[from.fields[i]!.name] ?? null, from.fields[i]!.type, field.type)]));
    }
    default:
      return value;
  }
}
