/**
 * The runtime side of every aggregate function: vectorised accumulators that keep per-group state
 * in typed arrays. `aggregate-functions.ts` puts each one beside its signature.
 *
 * Contract:
 * - Groups are dense small integers chosen by the operator; `grow(capacity)` makes room for ids
 *   below `capacity` (state only grows). A group id's state is empty until rows reach it, and
 *   `clear` empties it again (a window closed, a session merged away), so ids can be reused.
 * - `update(groupIds, column, count, rows?, seqBase?)` adds `count` entries at once: entry `i`
 *   adds row `rows ? rows[i] : i` of `column` (an Arrow column, offset 0; undefined for `count()`)
 *   to group `groupIds[i]`; a negative group id skips the entry. Entries are applied in order,
 *   which is the arrival order `first`, `last` and `collect_list` follow. Nulls are skipped as in
 *   SQL (only `count()` counts rows).
 * - `finish(groupIds)` returns the result column, one row per requested group, typed as the
 *   call's result (`arrow-types.ts`); a group without values gives `count` 0, an empty
 *   `collect_list`, and null for the others.
 * - `snapshot(groupIds)` returns one column per entry of `fields` (the function's `stateFields`
 *   named after `options.name`, in the same order and types) and `restore(groupIds, columns)`
 *   puts such columns back into (empty) groups. With `options.ordered` (session windows, whose
 *   groups `merge`), `first`, `last` and `collect_list` also keep each value's arrival ordinal
 *   (`seqBase + row`), so that a merge keeps arrival order; their `fields` then end with
 *   `NAME.seq: double` (`first`, `last`) or `NAME.seqs: list<double>` (`collect_list`).
 * - `merge(into, from)` adds group `from`'s state to `into` (`from` is left as it was).
 *
 * Numbers: `sum`/`avg` of `int`/`long`/`decimal` are exact (a float64 per group while the running
 * sum stays within ±2^53, a bigint beyond); `sum` of `long` wraps around at 64 bits (Spark with
 * ANSI mode off), a decimal sum that outgrows its precision is null (Spark). `sum`/`avg` of
 * `double` add in arrival order. Decimal `avg` rounds half away from zero at its scale (Spark).
 * `min`/`max` of strings and bytes compare bytes (UTF-8 order = code point order, as Spark and
 * DuckDB). Long and timestamp values beyond ±2^53 keep their exact bits in `min`/`max`/`first`/
 * `last`, and count as distinct values exactly.
 */
import * as arrow from "apache-arrow";
import type { Data } from "apache-arrow";
import type { DataType, Field } from "../runtime/plan.ts";
import { arrowType } from "../runtime/columnar/arrow-types.ts";
import { columnBuilder } from "../runtime/columnar/builder.ts";
import { cellReader } from "../runtime/columnar/read.ts";
import { type CellValue, readInt128, readInt64, utf8Decoder, writeInt128, writeInt64 } from "../runtime/columnar/values.ts";
import { HLL_SEED_1, HLL_SEED_2, type Sketch, deserializeSketch, hashBytes, hashWord, hashWords2, hllIndex, hllRank, serializeSketch, sketchAdd, sketchBytes, sketchEstimate, sketchMerge } from "./hyperloglog.ts";

export interface AccumulatorOptions {
  /** The aggregate's output column: state fields are named after it (`stateFields(args, name)`). */
  name: string;
  /** Keep arrival ordinals so that `merge` keeps arrival order (session windows). */
  ordered: boolean;
}

export interface Accumulator {
  /** The snapshot's columns: the function's `stateFields`, then the arrival-order fields when ordered. */
  readonly fields: readonly Field[];
  grow(capacity: number): void;
  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array, seqBase?: number): void;
  merge(into: number, from: number): void;
  finish(groupIds: Int32Array): Data;
  clear(groupIds: Int32Array): void;
  snapshot(groupIds: Int32Array): Data[];
  restore(groupIds: Int32Array, columns: readonly Data[]): void;
  /** An estimate of the bytes the state holds. */
  memoryBytes(): number;
}

/** Builds an accumulator for one call: its argument fields, its result field and the state's name. */
export type AccumulatorFactory = (args: readonly Field[], result: Field, options: AccumulatorOptions) => Accumulator;

const SAFE = Number.MAX_SAFE_INTEGER;
const TWO_32 = 4294967296;

// ---- column access ---------------------------------------------------------------------------

/** The validity bitmap of an offset-0 column, or null when every row is valid. */
export function validityOf(data: Data): Uint8Array | null {
  const bits = data.nullBitmap;
  return !bits || bits.length === 0 || data.nullCount === 0 ? null : bits;
}

function isSet(bits: Uint8Array | null, row: number): boolean {
  return bits === null || ((bits[row >> 3]! >> (row & 7)) & 1) === 1;
}

/** An int64 (or timestamp) column's values as little-endian Int32 pairs. */
export function int64Words(data: Data): Int32Array {
  const values = data.values as BigInt64Array;
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** A string or bytes column's buffers; `index` maps a row to its dictionary entry when dictionary-encoded. */
export interface VariableColumn {
  offsets: Int32Array;
  bytes: Uint8Array;
  index: Int32Array | null;
  /** Dictionary entries (when `index` is set), else rows. */
  size: number;
}

export function variableColumn(data: Data): VariableColumn {
  const dictionary = (data as Data<arrow.Dictionary>).dictionary;
  if (dictionary) {
    const entries = dictionary.data[0]!;
    return { offsets: entries.valueOffsets as Int32Array, bytes: entries.values as Uint8Array, index: data.values as Int32Array, size: entries.length };
  }
  return { offsets: data.valueOffsets as Int32Array, bytes: data.values as Uint8Array, index: null, size: data.length };
}

/** Per-column buffers prepared once per `update`, read by the value stores. */
interface Access {
  readonly data: Data;
  readonly type: DataType;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
  readonly bits: Uint8Array;
  readonly variable: VariableColumn | undefined;
  cell(row: number): CellValue;
}

const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_U8 = new Uint8Array(0);

function access(data: Data, type: DataType): Access {
  let reader: ((row: number) => CellValue) | undefined;
  const kind = type.kind;
  const isVariable = kind === "string" || kind === "bytes";
  return {
    data,
    type,
    i32: kind === "int" || kind === "date" ? (data.values as Int32Array) : kind === "long" || kind === "timestamp" ? int64Words(data) : EMPTY_I32,
    f64: kind === "double" ? (data.values as Float64Array) : EMPTY_F64,
    u32: kind === "decimal" ? (data.values as Uint32Array) : EMPTY_U32,
    bits: kind === "bool" ? (data.values as Uint8Array) : EMPTY_U8,
    variable: isVariable ? variableColumn(data) : undefined,
    cell(row) {
      reader ??= cellReader(data, type);
      return reader(row);
    },
  };
}

// ---- building result columns -----------------------------------------------------------------

/** A validity bitmap built value by value; allocated at the first null only. */
class OutValidity {
  private bits: Uint8Array | undefined;
  private nulls = 0;
  constructor(private readonly length: number) {}
  set(index: number, valid: boolean): void {
    if (valid) {
      if (this.bits) this.bits[index >> 3]! |= 1 << (index & 7);
      return;
    }
    if (!this.bits) {
      // Every value before this one was valid.
      this.bits = new Uint8Array((this.length + 7) >> 3);
      for (let i = 0; i < index; i++) this.bits[i >> 3]! |= 1 << (i & 7);
    }
    this.nulls++;
  }
  finish(): { nullBitmap: Uint8Array; nullCount: number } {
    return this.bits ? { nullBitmap: this.bits, nullCount: this.nulls } : { nullBitmap: new Uint8Array(0), nullCount: 0 };
  }
}

function makeColumn(type: DataType, length: number, validity: OutValidity | undefined, props: Record<string, unknown>): Data {
  const { nullBitmap, nullCount } = validity ? validity.finish() : { nullBitmap: new Uint8Array(0), nullCount: 0 };
  return arrow.makeData({ type: arrowType(type), length, nullCount, nullBitmap, ...props } as never) as Data;
}

/** An Int64 (`long`) column of exact numbers. */
function longColumn(values: (index: number) => number, length: number): Data {
  const words = new Int32Array(2 * length);
  for (let i = 0; i < length; i++) writeInt64(words, i, values(i));
  return makeColumn({ kind: "long" }, length, undefined, { data: new BigInt64Array(words.buffer) });
}

function doubleColumn(values: (index: number) => number | null, length: number): Data {
  const out = new Float64Array(length);
  const validity = new OutValidity(length);
  for (let i = 0; i < length; i++) {
    const v = values(i);
    validity.set(i, v !== null);
    out[i] = v ?? 0;
  }
  return makeColumn({ kind: "double" }, length, validity, { data: out });
}

/** Writes a bigint as the int64 at `index` (two's complement, wrapping at 64 bits). */
function writeBigInt64(words: Int32Array, index: number, value: bigint): void {
  const wrapped = BigInt.asIntN(64, value);
  words[2 * index] = Number(BigInt.asIntN(32, wrapped));
  words[2 * index + 1] = Number(wrapped >> 32n);
}

function readBigInt64(words: Int32Array, index: number): bigint {
  return (BigInt(words[2 * index + 1]!) << 32n) | BigInt(words[2 * index]! >>> 0);
}

function columnFromCells(field: Field, values: readonly CellValue[]): Data {
  if (field.type.kind === "null") return arrow.makeData({ type: new arrow.Null(), length: values.length }) as Data;
  const builder = columnBuilder(field, values.length);
  for (const v of values) builder.append(v);
  return builder.finish();
}

function groupCount(groupIds: Int32Array | undefined, capacity: number): Int32Array {
  if (groupIds) return groupIds;
  const all = new Int32Array(capacity);
  for (let i = 0; i < capacity; i++) all[i] = i;
  return all;
}

function growF64(array: Float64Array<ArrayBuffer>, capacity: number): Float64Array<ArrayBuffer> {
  if (capacity <= array.length) return array;
  const grown = new Float64Array(Math.max(capacity, array.length * 2));
  grown.set(array);
  return grown;
}

function growU8(array: Uint8Array<ArrayBuffer>, capacity: number): Uint8Array<ArrayBuffer> {
  if (capacity <= array.length) return array;
  const grown = new Uint8Array(Math.max(capacity, array.length * 2));
  grown.set(array);
  return grown;
}

function growI32(array: Int32Array<ArrayBuffer>, capacity: number): Int32Array<ArrayBuffer> {
  if (capacity <= array.length) return array;
  const grown = new Int32Array(Math.max(capacity, array.length * 2));
  grown.set(array);
  return grown;
}

function growU32(array: Uint32Array<ArrayBuffer>, capacity: number): Uint32Array<ArrayBuffer> {
  if (capacity <= array.length) return array;
  const grown = new Uint32Array(Math.max(capacity, array.length * 2));
  grown.set(array);
  return grown;
}

// ---- count ---------------------------------------------------------------------------------------

/** `count()` (every row) and `count(x)` (rows where `x` is not null). */
class CountAccumulator implements Accumulator {
  private counts = new Float64Array(0);
  private capacity = 0;
  constructor(
    readonly fields: readonly Field[],
    private readonly rowsOnly: boolean,
    /** `count(null)`: nothing to count. */
    private readonly never: boolean,
  ) {}

  grow(capacity: number): void {
    this.counts = growF64(this.counts, capacity);
    this.capacity = Math.max(this.capacity, capacity);
  }

  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array): void {
    if (this.never) return;
    const counts = this.counts;
    const bits = this.rowsOnly || !column ? null : validityOf(column);
    if (bits === null) {
      for (let i = 0; i < count; i++) {
        const g = groupIds[i]!;
        if (g >= 0) counts[g]!++;
      }
      return;
    }
    for (let i = 0; i < count; i++) {
      const g = groupIds[i]!;
      if (g < 0) continue;
      const r = rows === undefined ? i : rows[i]!;
      if (((bits[r >> 3]! >> (r & 7)) & 1) === 1) counts[g]!++;
    }
  }

  merge(into: number, from: number): void {
    this.counts[into]! += this.counts[from]!;
  }

  finish(groupIds?: Int32Array): Data {
    const groups = groupCount(groupIds, this.capacity);
    return longColumn((i) => this.counts[groups[i]!]!, groups.length);
  }

  clear(groupIds: Int32Array): void {
    for (const g of groupIds) this.counts[g] = 0;
  }

  snapshot(groupIds: Int32Array): Data[] {
    return [this.finish(groupIds)];
  }

  restore(groupIds: Int32Array, columns: readonly Data[]): void {
    const words = int64Words(columns[0]!);
    groupIds.forEach((g, i) => (this.counts[g] = readInt64(words, i)));
  }

  memoryBytes(): number {
    return this.counts.byteLength;
  }
}

// ---- exact sums ----------------------------------------------------------------------------------

type SumInput = "int" | "long" | "decimal" | "double";

function sumInput(type: DataType): SumInput {
  switch (type.kind) {
    case "int":
    case "long":
    case "decimal":
    case "double":
      return type.kind;
    default:
      throw new Error(`cannot sum ${type.kind}`);
  }
}

/**
 * Per-group sums: `sums[g]` (exact while within ±2^53 for integers and decimals) plus `big[g]`,
 * the part that did not fit, as a bigint. Doubles only use `sums`.
 */
class Sums {
  sums = new Float64Array(0);
  big: (bigint | undefined)[] = [];
  /** Non-null values seen per group (Float64: exact to 2^53). */
  counts = new Float64Array(0);

  constructor(readonly input: SumInput) {}

  grow(capacity: number): void {
    this.sums = growF64(this.sums, capacity);
    this.counts = growF64(this.counts, capacity);
  }

  private spill(g: number, value: bigint): void {
    this.big[g] = (this.big[g] ?? 0n) + BigInt(this.sums[g]!) + value;
    this.sums[g] = 0;
  }

  add(groupIds: Int32Array, column: Data, count: number, rows: Int32Array | undefined): void {
    const bits = validityOf(column);
    const sums = this.sums;
    const counts = this.counts;
    switch (this.input) {
      case "double": {
        const values = column.values as Float64Array;
        for (let i = 0; i < count; i++) {
          const g = groupIds[i]!;
          if (g < 0) continue;
          const r = rows === undefined ? i : rows[i]!;
          if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
          sums[g]! += values[r]!;
          counts[g]!++;
        }
        return;
      }
      case "int": {
        const values = column.values as Int32Array;
        for (let i = 0; i < count; i++) {
          const g = groupIds[i]!;
          if (g < 0) continue;
          const r = rows === undefined ? i : rows[i]!;
          if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
          const s = sums[g]! + values[r]!;
          if (s > SAFE || s < -SAFE) this.spill(g, BigInt(values[r]!));
          else sums[g] = s;
          counts[g]!++;
        }
        return;
      }
      case "long": {
        const words = int64Words(column);
        for (let i = 0; i < count; i++) {
          const g = groupIds[i]!;
          if (g < 0) continue;
          const r = rows === undefined ? i : rows[i]!;
          if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
          const hi = words[2 * r + 1]!;
          counts[g]!++;
          if (hi >= -0x200000 && hi < 0x200000) {
            const s = sums[g]! + (hi * TWO_32 + (words[2 * r]! >>> 0));
            if (s <= SAFE && s >= -SAFE) {
              sums[g] = s;
              continue;
            }
          }
          this.spill(g, readBigInt64(words, r));
        }
        return;
      }
      case "decimal": {
        const u = column.values as Uint32Array;
        for (let i = 0; i < count; i++) {
          const g = groupIds[i]!;
          if (g < 0) continue;
          const r = rows === undefined ? i : rows[i]!;
          if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
          counts[g]!++;
          const w1 = u[4 * r + 1]!;
          const w2 = u[4 * r + 2]!;
          const w3 = u[4 * r + 3]!;
          let v = NaN;
          if (w2 === 0 && w3 === 0 && w1 < 0x200000) v = w1 * TWO_32 + u[4 * r]!;
          else if (w2 === 0xffffffff && w3 === 0xffffffff && w1 >= 0xffe00000) v = (w1 - TWO_32) * TWO_32 + u[4 * r]!;
          if (v === v) {
            const s = sums[g]! + v;
            if (s <= SAFE && s >= -SAFE) {
              sums[g] = s;
              continue;
            }
          }
          this.spill(g, readInt128(u, r));
        }
        return;
      }
    }
  }

  /** The exact sum (integers and decimals). */
  exact(g: number): bigint {
    const big = this.big[g];
    return big === undefined ? BigInt(this.sums[g]!) : big + BigInt(this.sums[g]!);
  }

  /** The sum as a number (exact while it is within ±2^53). */
  number(g: number): number {
    const big = this.big[g];
    return big === undefined ? this.sums[g]! : Number(big + BigInt(this.sums[g]!));
  }

  setExact(g: number, value: bigint): void {
    if (value <= BigInt(SAFE) && value >= -BigInt(SAFE)) {
      this.sums[g] = Number(value);
      this.big[g] = undefined;
    } else {
      this.sums[g] = 0;
      this.big[g] = value;
    }
  }

  merge(into: number, from: number): void {
    this.counts[into]! += this.counts[from]!;
    if (this.input === "double") {
      this.sums[into]! += this.sums[from]!;
      return;
    }
    this.setExact(into, this.exact(into) + this.exact(from));
  }

  clear(g: number): void {
    this.sums[g] = 0;
    this.counts[g] = 0;
    if (this.big[g] !== undefined) this.big[g] = undefined;
  }

  memoryBytes(): number {
    let bigs = 0;
    for (const b of this.big) if (b !== undefined) bigs += 32;
    return this.sums.byteLength + this.counts.byteLength + bigs;
  }
}

/** A decimal column of exact unscaled values; null where `value` gives null. */
function decimalColumn(type: DataType, length: number, value: (index: number) => bigint | null): Data {
  const words = new Uint32Array(4 * length);
  const validity = new OutValidity(length);
  for (let i = 0; i < length; i++) {
    const v = value(i);
    validity.set(i, v !== null);
    if (v !== null) writeInt128(words, i, v);
  }
  return makeColumn(type, length, validity, { data: words });
}

function readDecimal(data: Data): (row: number) => bigint {
  const words = data.values as Uint32Array;
  return (row) => readInt128(words, row);
}

class SumAccumulator implements Accumulator {
  private readonly sums: Sums;
  private capacity = 0;
  private readonly limit: bigint;

  constructor(
    readonly fields: readonly Field[],
    argType: DataType,
    private readonly result: Field,
  ) {
    this.sums = new Sums(sumInput(argType));
    this.limit = result.type.kind === "decimal" ? 10n ** BigInt(result.type.precision) : 0n;
  }

  grow(capacity: number): void {
    this.sums.grow(capacity);
    this.capacity = Math.max(this.capacity, capacity);
  }

  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array): void {
    if (column) this.sums.add(groupIds, column, count, rows);
  }

  merge(into: number, from: number): void {
    this.sums.merge(into, from);
  }

  finish(groupIds?: Int32Array): Data {
    return this.column(groupCount(groupIds, this.capacity), true);
  }

  private column(groups: Int32Array, checkPrecision: boolean): Data {
    const s = this.sums;
    const n = groups.length;
    switch (s.input) {
      case "double":
        return doubleColumn((i) => (s.counts[groups[i]!]! > 0 ? s.sums[groups[i]!]! : null), n);
      case "decimal":
        return decimalColumn(this.result.type, n, (i) => {
          const g = groups[i]!;
          if (s.counts[g] === 0) return null;
          const v = s.exact(g);
          return checkPrecision && (v >= this.limit || v <= -this.limit) ? null : v;
        });
      default: {
        const words = new Int32Array(2 * n);
        const validity = new OutValidity(n);
        for (let i = 0; i < n; i++) {
          const g = groups[i]!;
          validity.set(i, s.counts[g]! > 0);
          if (s.big[g] === undefined) writeInt64(words, i, s.sums[g]!);
          else writeBigInt64(words, i, s.exact(g));
        }
        return makeColumn({ kind: "long" }, n, validity, { data: new BigInt64Array(words.buffer) });
      }
    }
  }

  clear(groupIds: Int32Array): void {
    for (const g of groupIds) this.sums.clear(g);
  }

  snapshot(groupIds: Int32Array): Data[] {
    return [this.column(groupIds, false)];
  }

  restore(groupIds: Int32Array, columns: readonly Data[]): void {
    const column = columns[0]!;
    const bits = validityOf(column);
    const s = this.sums;
    const read =
      s.input === "double"
        ? (row: number) => (column.values as Float64Array)[row]!
        : s.input === "decimal"
          ? readDecimal(column)
          : ((words: Int32Array) => (row: number) => readBigInt64(words, row))(int64Words(column));
    groupIds.forEach((g, i) => {
      if (!isSet(bits, i)) return;
      s.counts[g] = 1;
      const v = read(i);
      if (typeof v === "number") s.sums[g] = v;
      else s.setExact(g, v);
    });
  }

  memoryBytes(): number {
    return this.sums.memoryBytes();
  }
}

class AvgAccumulator implements Accumulator {
  private readonly sums: Sums;
  private capacity = 0;
  /** decimal: 10^(result scale - argument scale) */
  private readonly scaleUp: bigint;

  constructor(
    readonly fields: readonly Field[],
    private readonly argType: DataType,
    private readonly result: Field,
  ) {
    this.sums = new Sums(sumInput(argType));
    this.scaleUp = argType.kind === "decimal" && result.type.kind === "decimal" ? 10n ** BigInt(result.type.scale - argType.scale) : 1n;
  }

  grow(capacity: number): void {
    this.sums.grow(capacity);
    this.capacity = Math.max(this.capacity, capacity);
  }

  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array): void {
    if (column) this.sums.add(groupIds, column, count, rows);
  }

  merge(into: number, from: number): void {
    this.sums.merge(into, from);
  }

  finish(groupIds?: Int32Array): Data {
    const groups = groupCount(groupIds, this.capacity);
    const s = this.sums;
    if (this.argType.kind === "decimal") {
      return decimalColumn(this.result.type, groups.length, (i) => {
        const g = groups[i]!;
        const n = s.counts[g]!;
        return n === 0 ? null : divideHalfUp(s.exact(g) * this.scaleUp, BigInt(n));
      });
    }
    return doubleColumn((i) => {
      const g = groups[i]!;
      const n = s.counts[g]!;
      return n === 0 ? null : s.number(g) / n;
    }, groups.length);
  }

  clear(groupIds: Int32Array): void {
    for (const g of groupIds) this.sums.clear(g);
  }

  snapshot(groupIds: Int32Array): Data[] {
    const s = this.sums;
    const n = groupIds.length;
    const sum =
      this.argType.kind === "decimal"
        ? decimalColumn(this.fields[0]!.type, n, (i) => s.exact(groupIds[i]!))
        : doubleColumn((i) => s.number(groupIds[i]!), n);
    return [sum, longColumn((i) => s.counts[groupIds[i]!]!, n)];
  }

  restore(groupIds: Int32Array, columns: readonly Data[]): void {
    const s = this.sums;
    const countWords = int64Words(columns[1]!);
    const readSum = this.argType.kind === "decimal" ? readDecimal(columns[0]!) : undefined;
    const doubles = columns[0]!.values as Float64Array;
    groupIds.forEach((g, i) => {
      s.counts[g] = readInt64(countWords, i);
      if (readSum) s.setExact(g, readSum(i));
      else if (s.input === "double" || !Number.isInteger(doubles[i]!)) s.sums[g] = doubles[i]!;
      else s.setExact(g, BigInt(doubles[i]!));
    });
  }

  memoryBytes(): number {
    return this.sums.memoryBytes();
  }
}

/** `numerator / denominator` rounded half away from zero (denominator > 0). */
function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const q = (2n * magnitude + denominator) / (2n * denominator);
  return negative ? -q : q;
}

// ---- value stores (min, max, first, last) -----------------------------------------------------

/** One value per group, typed-array backed where the type allows. */
interface ValueStore {
  /** 1 where the group holds a value. */
  has: Uint8Array;
  grow(capacity: number): void;
  put(g: number, a: Access, row: number): void;
  /** The group's value compared with the row's: negative when the group's is smaller. */
  compare(g: number, a: Access, row: number): number;
  copy(into: number, from: number): void;
  clear(g: number): void;
  build(groups: Int32Array): Data;
  memoryBytes(): number;
}

abstract class BaseStore {
  has = new Uint8Array(0);
  constructor(protected readonly type: DataType) {}
  grow(capacity: number): void {
    this.has = growU8(this.has, capacity);
  }
  protected validity(groups: Int32Array): OutValidity {
    const v = new OutValidity(groups.length);
    for (let i = 0; i < groups.length; i++) v.set(i, this.has[groups[i]!] === 1);
    return v;
  }
}

/** int and date (Int32) values. */
class Int32Store extends BaseStore implements ValueStore {
  values = new Int32Array(0);
  override grow(capacity: number): void {
    super.grow(capacity);
    this.values = growI32(this.values, capacity);
  }
  put(g: number, a: Access, row: number): void {
    this.values[g] = a.i32[row]!;
    this.has[g] = 1;
  }
  compare(g: number, a: Access, row: number): number {
    return this.values[g]! - a.i32[row]!;
  }
  copy(into: number, from: number): void {
    this.values[into] = this.values[from]!;
    this.has[into] = this.has[from]!;
  }
  clear(g: number): void {
    this.has[g] = 0;
  }
  build(groups: Int32Array): Data {
    const out = new Int32Array(groups.length);
    for (let i = 0; i < groups.length; i++) if (this.has[groups[i]!]) out[i] = this.values[groups[i]!]!;
    return makeColumn(this.type, groups.length, this.validity(groups), { data: out });
  }
  memoryBytes(): number {
    return this.values.byteLength + this.has.byteLength;
  }
}

class Float64Store extends BaseStore implements ValueStore {
  values = new Float64Array(0);
  override grow(capacity: number): void {
    super.grow(capacity);
    this.values = growF64(this.values, capacity);
  }
  put(g: number, a: Access, row: number): void {
    this.values[g] = a.f64[row]!;
    this.has[g] = 1;
  }
  compare(g: number, a: Access, row: number): number {
    const v = this.values[g]!;
    const w = a.f64[row]!;
    return v < w ? -1 : v > w ? 1 : 0;
  }
  copy(into: number, from: number): void {
    this.values[into] = this.values[from]!;
    this.has[into] = this.has[from]!;
  }
  clear(g: number): void {
    this.has[g] = 0;
  }
  build(groups: Int32Array): Data {
    const out = new Float64Array(groups.length);
    for (let i = 0; i < groups.length; i++) if (this.has[groups[i]!]) out[i] = this.values[groups[i]!]!;
    return makeColumn(this.type, groups.length, this.validity(groups), { data: out });
  }
  memoryBytes(): number {
    return this.values.byteLength + this.has.byteLength;
  }
}

/** long and timestamp: exact int64 words. */
class Int64Store extends BaseStore implements ValueStore {
  words = new Int32Array(0);
  override grow(capacity: number): void {
    super.grow(capacity);
    this.words = growI32(this.words, 2 * capacity);
  }
  put(g: number, a: Access, row: number): void {
    this.words[2 * g] = a.i32[2 * row]!;
    this.words[2 * g + 1] = a.i32[2 * row + 1]!;
    this.has[g] = 1;
  }
  compare(g: number, a: Access, row: number): number {
    const hi = this.words[2 * g + 1]! - a.i32[2 * row + 1]!;
    if (hi !== 0) return hi;
    return (this.words[2 * g]! >>> 0) - (a.i32[2 * row]! >>> 0);
  }
  copy(into: number, from: number): void {
    this.words[2 * into] = this.words[2 * from]!;
    this.words[2 * into + 1] = this.words[2 * from + 1]!;
    this.has[into] = this.has[from]!;
  }
  clear(g: number): void {
    this.has[g] = 0;
  }
  build(groups: Int32Array): Data {
    const out = new Int32Array(2 * groups.length);
    for (let i = 0; i < groups.length; i++) {
      if (!this.has[groups[i]!]) continue;
      out[2 * i] = this.words[2 * groups[i]!]!;
      out[2 * i + 1] = this.words[2 * groups[i]! + 1]!;
    }
    return makeColumn(this.type, groups.length, this.validity(groups), { data: new BigInt64Array(out.buffer) });
  }
  memoryBytes(): number {
    return this.words.byteLength + this.has.byteLength;
  }
}

class BoolStore extends BaseStore implements ValueStore {
  values = new Uint8Array(0);
  override grow(capacity: number): void {
    super.grow(capacity);
    this.values = growU8(this.values, capacity);
  }
  put(g: number, a: Access, row: number): void {
    this.values[g] = (a.bits[row >> 3]! >> (row & 7)) & 1;
    this.has[g] = 1;
  }
  compare(g: number, a: Access, row: number): number {
    return this.values[g]! - ((a.bits[row >> 3]! >> (row & 7)) & 1);
  }
  copy(into: number, from: number): void {
    this.values[into] = this.values[from]!;
    this.has[into] = this.has[from]!;
  }
  clear(g: number): void {
    this.has[g] = 0;
  }
  build(groups: Int32Array): Data {
    const out = new Uint8Array((groups.length + 7) >> 3);
    for (let i = 0; i < groups.length; i++) if (this.has[groups[i]!] && this.values[groups[i]!]) out[i >> 3]! |= 1 << (i & 7);
    return makeColumn(this.type, groups.length, this.validity(groups), { data: out });
  }
  memoryBytes(): number {
    return this.values.byteLength + this.has.byteLength;
  }
}

class DecimalStore extends BaseStore implements ValueStore {
  words = new Uint32Array(0);
  override grow(capacity: number): void {
    super.grow(capacity);
    this.words = growU32(this.words, 4 * capacity);
  }
  put(g: number, a: Access, row: number): void {
    for (let k = 0; k < 4; k++) this.words[4 * g + k] = a.u32[4 * row + k]!;
    this.has[g] = 1;
  }
  compare(g: number, a: Access, row: number): number {
    const top = (this.words[4 * g + 3]! | 0) - (a.u32[4 * row + 3]! | 0);
    if (top !== 0) return top;
    for (let k = 2; k >= 0; k--) {
      const d = this.words[4 * g + k]! - a.u32[4 * row + k]!;
      if (d !== 0) return d;
    }
    return 0;
  }
  copy(into: number, from: number): void {
    for (let k = 0; k < 4; k++) this.words[4 * into + k] = this.words[4 * from + k]!;
    this.has[into] = this.has[from]!;
  }
  clear(g: number): void {
    this.has[g] = 0;
  }
  build(groups: Int32Array): Data {
    const out = new Uint32Array(4 * groups.length);
    for (let i = 0; i < groups.length; i++) if (this.has[groups[i]!]) for (let k = 0; k < 4; k++) out[4 * i + k] = this.words[4 * groups[i]! + k]!;
    return makeColumn(this.type, groups.length, this.validity(groups), { data: out });
  }
  memoryBytes(): number {
    return this.words.byteLength + this.has.byteLength;
  }
}

/** string and bytes: one byte array per group. */
class BytesStore extends BaseStore implements ValueStore {
  values: (Uint8Array | undefined)[] = [];
  private bytes = 0;
  put(g: number, a: Access, row: number): void {
    const v = a.variable!;
    const p = v.index === null ? row : v.index[row]!;
    const old = this.values[g];
    if (old) this.bytes -= old.length;
    const copy = v.bytes.slice(v.offsets[p]!, v.offsets[p + 1]!);
    this.bytes += copy.length;
    this.values[g] = copy;
    this.has[g] = 1;
  }
  compare(g: number, a: Access, row: number): number {
    const stored = this.values[g]!;
    const v = a.variable!;
    const p = v.index === null ? row : v.index[row]!;
    return compareBytes(stored, 0, stored.length, v.bytes, v.offsets[p]!, v.offsets[p + 1]!);
  }
  copy(into: number, from: number): void {
    const old = this.values[into];
    if (old) this.bytes -= old.length;
    this.values[into] = this.values[from];
    if (this.values[from]) this.bytes += this.values[from]!.length;
    this.has[into] = this.has[from]!;
  }
  clear(g: number): void {
    const old = this.values[g];
    if (old) {
      this.bytes -= old.length;
      this.values[g] = undefined;
    }
    this.has[g] = 0;
  }
  build(groups: Int32Array): Data {
    const n = groups.length;
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const g = groups[i]!;
      if (this.has[g]) total += this.values[g]!.length;
      offsets[i + 1] = total;
    }
    const out = new Uint8Array(total);
    for (let i = 0; i < n; i++) {
      const g = groups[i]!;
      if (this.has[g]) out.set(this.values[g]!, offsets[i]!);
    }
    return makeColumn(this.type, n, this.validity(groups), { valueOffsets: offsets, data: out });
  }
  memoryBytes(): number {
    return this.has.byteLength + this.bytes + 48 * this.values.length;
  }
}

/** Byte-wise comparison of `a[aStart, aEnd)` with `b[bStart, bEnd)`. */
export function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < n; k++) {
    const d = a[aStart + k]! - b[bStart + k]!;
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/** Any other type (lists, structs, maps): cell values. Not ordered. */
class CellStore extends BaseStore implements ValueStore {
  values: CellValue[] = [];
  constructor(
    type: DataType,
    private readonly field: Field,
  ) {
    super(type);
  }
  put(g: number, a: Access, row: number): void {
    this.values[g] = a.cell(row);
    this.has[g] = 1;
  }
  compare(): number {
    throw new Error(`${this.type.kind} values have no order`);
  }
  copy(into: number, from: number): void {
    this.values[into] = this.values[from]!;
    this.has[into] = this.has[from]!;
  }
  clear(g: number): void {
    this.values[g] = null;
    this.has[g] = 0;
  }
  build(groups: Int32Array): Data {
    return columnFromCells(
      this.field,
      Array.from(groups, (g) => (this.has[g] ? this.values[g]! : null)),
    );
  }
  memoryBytes(): number {
    return this.has.byteLength + 64 * this.values.length;
  }
}

function valueStore(field: Field): ValueStore {
  const type = field.type;
  switch (type.kind) {
    case "int":
    case "date":
      return new Int32Store(type);
    case "double":
      return new Float64Store(type);
    case "long":
    case "timestamp":
      return new Int64Store(type);
    case "bool":
      return new BoolStore(type);
    case "decimal":
      return new DecimalStore(type);
    case "string":
    case "bytes":
      return new BytesStore(type);
    default:
      return new CellStore(type, field);
  }
}

/** `min` (sign -1) and `max` (sign 1). */
class MinMaxAccumulator implements Accumulator {
  private readonly store: ValueStore;
  private capacity = 0;
  constructor(
    readonly fields: readonly Field[],
    private readonly argType: DataType,
    result: Field,
    private readonly sign: 1 | -1,
  ) {
    this.store = valueStore({ ...result, type: argType });
  }

  grow(capacity: number): void {
    this.store.grow(capacity);
    this.capacity = Math.max(this.capacity, capacity);
  }

  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array): void {
    if (!column || this.argType.kind === "null") return;
    const bits = validityOf(column);
    const store = this.store;
    const has = store.has;
    const sign = this.sign;
    if (store instanceof Float64Store || store instanceof Int32Store) {
      // The common numeric case, without calls per row.
      const values = store.values;
      const input = column.values as Float64Array | Int32Array;
      for (let i = 0; i < count; i++) {
        const g = groupIds[i]!;
        if (g < 0) continue;
        const r = rows === undefined ? i : rows[i]!;
        if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
        const v = input[r]!;
        if (has[g] === 0 || (sign > 0 ? v > values[g]! : v < values[g]!)) {
          values[g] = v;
          has[g] = 1;
        }
      }
      return;
    }
    const a = access(column, this.argType);
    for (let i = 0; i < count; i++) {
      const g = groupIds[i]!;
      if (g < 0) continue;
      const r = rows === undefined ? i : rows[i]!;
      if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
      if (has[g] === 0 || sign * store.compare(g, a, r) < 0) store.put(g, a, r);
    }
  }

  merge(into: number, from: number): void {
    const s = this.store;
    if (!s.has[from]) return;
    if (!s.has[into]) return s.copy(into, from);
    // Compare through a one-row view of the group's value.
    const probe = s.build(Int32Array.of(from));
    const a = access(probe, this.argType);
    if (this.sign * s.compare(into, a, 0) < 0) s.put(into, a, 0);
  }

  finish(groupIds?: Int32Array): Data {
    return this.store.build(groupCount(groupIds, this.capacity));
  }

  clear(groupIds: Int32Array): void {
    for (const g of groupIds) this.store.clear(g);
  }

  snapshot(groupIds: Int32Array): Data[] {
    return [this.store.build(groupIds)];
  }

  restore(groupIds: Int32Array, columns: readonly Data[]): void {
    restoreStore(this.store, groupIds, columns[0]!, this.argType);
  }

  memoryBytes(): number {
    return this.store.memoryBytes();
  }
}

function restoreStore(store: ValueStore, groupIds: Int32Array, column: Data, type: DataType): void {
  if (type.kind === "null") return;
  const bits = validityOf(column);
  const a = access(column, type);
  groupIds.forEach((g, i) => {
    if (isSet(bits, i)) store.put(g, a, i);
    else store.clear(g);
  });
}

/** `first` and `last`: the first / last non-null value in arrival order. */
class FirstLastAccumulator implements Accumulator {
  private readonly store: ValueStore;
  private capacity = 0;
  /** Arrival ordinal of each group's value (ordered mode). */
  private seqs = new Float64Array(0);
  /** Scratch for `last`: the winning row per group in the current update, -1 when none. */
  private pick = new Int32Array(0);

  constructor(
    readonly fields: readonly Field[],
    private readonly argType: DataType,
    result: Field,
    private readonly isLast: boolean,
    private readonly ordered: boolean,
  ) {
    this.store = valueStore({ ...result, type: argType });
  }

  grow(capacity: number): void {
    this.store.grow(capacity);
    if (this.ordered) this.seqs = growF64(this.seqs, capacity);
    if (capacity > this.pick.length) {
      const old = this.pick.length;
      this.pick = growI32(this.pick, capacity);
      this.pick.fill(-1, old);
    }
    this.capacity = Math.max(this.capacity, capacity);
  }

  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array, seqBase = 0): void {
    if (!column || this.argType.kind === "null") return;
    const bits = validityOf(column);
    const store = this.store;
    const has = store.has;
    const a = access(column, this.argType);
    if (!this.isLast) {
      for (let i = 0; i < count; i++) {
        const g = groupIds[i]!;
        if (g < 0 || has[g] === 1) continue;
        const r = rows === undefined ? i : rows[i]!;
        if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
        store.put(g, a, r);
        if (this.ordered) this.seqs[g] = seqBase + r;
      }
      return;
    }
    // last: find each group's last row in this update, then store once per group.
    const pick = this.pick;
    const touched: number[] = [];
    for (let i = 0; i < count; i++) {
      const g = groupIds[i]!;
      if (g < 0) continue;
      const r = rows === undefined ? i : rows[i]!;
      if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
      if (pick[g] === -1) touched.push(g);
      pick[g] = r;
    }
    for (const g of touched) {
      const r = pick[g]!;
      store.put(g, a, r);
      if (this.ordered) this.seqs[g] = seqBase + r;
      pick[g] = -1;
    }
  }

  merge(into: number, from: number): void {
    const s = this.store;
    if (!s.has[from]) return;
    const takeFrom = !s.has[into] || (this.isLast ? this.seqs[from]! > this.seqs[into]! : this.seqs[from]! < this.seqs[into]!);
    if (!takeFrom) return;
    s.copy(into, from);
    if (this.ordered) this.seqs[into] = this.seqs[from]!;
  }

  finish(groupIds?: Int32Array): Data {
    return this.store.build(groupCount(groupIds, this.capacity));
  }

  clear(groupIds: Int32Array): void {
    for (const g of groupIds) this.store.clear(g);
  }

  snapshot(groupIds: Int32Array): Data[] {
    const value = this.store.build(groupIds);
    if (!this.ordered) return [value];
    return [value, doubleColumn((i) => this.seqs[groupIds[i]!]!, groupIds.length)];
  }

  restore(groupIds: Int32Array, columns: readonly Data[]): void {
    restoreStore(this.store, groupIds, columns[0]!, this.argType);
    if (this.ordered && columns[1]) {
      const seqs = columns[1].values as Float64Array;
      groupIds.forEach((g, i) => (this.seqs[g] = seqs[i]!));
    }
  }

  memoryBytes(): number {
    return this.store.memoryBytes() + this.seqs.byteLength + this.pick.byteLength;
  }
}

// ---- collect_list --------------------------------------------------------------------------------

class CollectListAccumulator implements Accumulator {
  private lists: (CellValue[] | undefined)[] = [];
  private seqs: (number[] | undefined)[] = [];
  private capacity = 0;
  private elements = 0;

  constructor(
    readonly fields: readonly Field[],
    private readonly argType: DataType,
    private readonly result: Field,
    private readonly ordered: boolean,
  ) {}

  grow(capacity: number): void {
    this.capacity = Math.max(this.capacity, capacity);
  }

  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array, seqBase = 0): void {
    if (!column || this.argType.kind === "null") return;
    const bits = validityOf(column);
    const read = cellReader(column, this.argType);
    for (let i = 0; i < count; i++) {
      const g = groupIds[i]!;
      if (g < 0) continue;
      const r = rows === undefined ? i : rows[i]!;
      if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
      (this.lists[g] ??= []).push(read(r));
      if (this.ordered) (this.seqs[g] ??= []).push(seqBase + r);
      this.elements++;
    }
  }

  merge(into: number, from: number): void {
    const a = this.lists[into];
    const b = this.lists[from];
    if (!b || b.length === 0) return;
    this.elements += b.length;
    if (!a || a.length === 0) {
      this.lists[into] = b.slice();
      if (this.ordered) this.seqs[into] = this.seqs[from]!.slice();
      return;
    }
    if (!this.ordered) {
      this.lists[into] = a.concat(b);
      return;
    }
    const sa = this.seqs[into]!;
    const sb = this.seqs[from]!;
    const values: CellValue[] = [];
    const seqs: number[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && sa[i]! <= sb[j]!)) {
        values.push(a[i]!);
        seqs.push(sa[i++]!);
      } else {
        values.push(b[j]!);
        seqs.push(sb[j++]!);
      }
    }
    this.lists[into] = values;
    this.seqs[into] = seqs;
  }

  finish(groupIds?: Int32Array): Data {
    const groups = groupCount(groupIds, this.capacity);
    return columnFromCells(
      this.result,
      Array.from(groups, (g) => this.lists[g] ?? []),
    );
  }

  clear(groupIds: Int32Array): void {
    for (const g of groupIds) {
      const list = this.lists[g];
      if (list) {
        this.elements -= list.length;
        this.lists[g] = undefined;
        if (this.ordered) this.seqs[g] = undefined;
      }
    }
  }

  snapshot(groupIds: Int32Array): Data[] {
    const values = this.finish(groupIds);
    if (!this.ordered) return [values];
    return [values, columnFromCells(this.fields[1]!, Array.from(groupIds, (g) => this.seqs[g] ?? []))];
  }

  restore(groupIds: Int32Array, columns: readonly Data[]): void {
    const read = cellReader(columns[0]!, this.result.type);
    const readSeqs = this.ordered && columns[1] ? cellReader(columns[1], this.fields[1]!.type) : undefined;
    groupIds.forEach((g, i) => {
      const list = read(i) as CellValue[] | null;
      if (!list || list.length === 0) return;
      this.lists[g] = list;
      this.elements += list.length;
      if (readSeqs) this.seqs[g] = readSeqs(i) as number[];
    });
  }

  memoryBytes(): number {
    return 16 * this.capacity + (this.ordered ? 40 : 32) * this.elements;
  }
}

// ---- distinct values -------------------------------------------------------------------------------

/** A canonical text for a value of any type: equal values, equal texts. */
function canonical(value: CellValue): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value instanceof Uint8Array) return `b${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value instanceof Map) return `m{${[...value].map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

/**
 * How `count_distinct` keys a value: primitive keys (a JS `Set` per group, the value recovered
 * from the key) for numbers, strings, booleans and decimals; canonical texts mapped to values
 * otherwise.
 */
type DistinctKey = (a: Access, row: number) => unknown;

function distinctKey(type: DataType, stringCache: (string | undefined)[]): { key: DistinctKey; primitive: boolean; value?: (key: unknown) => CellValue } {
  switch (type.kind) {
    case "int":
    case "date":
      return { key: (a, r) => a.i32[r], primitive: true };
    case "double":
      return { key: (a, r) => a.f64[r]! + 0, primitive: true };
    case "bool":
      return { key: (a, r) => ((a.bits[r >> 3]! >> (r & 7)) & 1) === 1, primitive: true };
    case "long":
    case "timestamp":
      return {
        key: (a, r) => {
          const hi = a.i32[2 * r + 1]!;
          return hi >= -0x200000 && hi < 0x200000 ? hi * TWO_32 + (a.i32[2 * r]! >>> 0) : readBigInt64(a.i32, r);
        },
        primitive: true,
        value: (key) => (typeof key === "bigint" ? Number(key) : (key as number)),
      };
    case "decimal":
      return { key: (a, r) => readInt128(a.u32, r), primitive: true };
    case "string":
      return {
        key: (a, r) => {
          const v = a.variable!;
          if (v.index === null) return utf8Decoder.decode(v.bytes.subarray(v.offsets[r]!, v.offsets[r + 1]!));
          const p = v.index[r]!;
          return (stringCache[p] ??= utf8Decoder.decode(v.bytes.subarray(v.offsets[p]!, v.offsets[p + 1]!)));
        },
        primitive: true,
      };
    default:
      return { key: (a, r) => canonical(a.cell(r)), primitive: false };
  }
}

class CountDistinctAccumulator implements Accumulator {
  /** Primitive types: a set of values. Others: canonical text → value. */
  private sets: (Set<unknown> | Map<string, CellValue> | undefined)[] = [];
  private capacity = 0;
  private elements = 0;
  private readonly primitive: boolean;

  constructor(
    readonly fields: readonly Field[],
    private readonly argType: DataType,
  ) {
    this.primitive = argType.kind === "null" ? true : distinctKey(argType, []).primitive;
  }

  grow(capacity: number): void {
    this.capacity = Math.max(this.capacity, capacity);
  }

  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array): void {
    if (!column || this.argType.kind === "null") return;
    const bits = validityOf(column);
    const a = access(column, this.argType);
    const { key } = distinctKey(this.argType, []);
    for (let i = 0; i < count; i++) {
      const g = groupIds[i]!;
      if (g < 0) continue;
      const r = rows === undefined ? i : rows[i]!;
      if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) continue;
      const k = key(a, r);
      if (this.primitive) {
        const set = (this.sets[g] ??= new Set()) as Set<unknown>;
        const before = set.size;
        set.add(k);
        this.elements += set.size - before;
      } else {
        const map = (this.sets[g] ??= new Map()) as Map<string, CellValue>;
        if (!map.has(k as string)) {
          map.set(k as string, a.cell(r));
          this.elements++;
        }
      }
    }
  }

  merge(into: number, from: number): void {
    const source = this.sets[from];
    if (!source || source.size === 0) return;
    const target = this.sets[into];
    if (!target) {
      this.sets[into] = this.primitive ? new Set(source as Set<unknown>) : new Map(source as Map<string, CellValue>);
      this.elements += source.size;
      return;
    }
    const before = target.size;
    if (this.primitive) for (const k of source as Set<unknown>) (target as Set<unknown>).add(k);
    else for (const [k, v] of source as Map<string, CellValue>) if (!(target as Map<string, CellValue>).has(k)) (target as Map<string, CellValue>).set(k, v);
    this.elements += target.size - before;
  }

  finish(groupIds?: Int32Array): Data {
    const groups = groupCount(groupIds, this.capacity);
    return longColumn((i) => this.sets[groups[i]!]?.size ?? 0, groups.length);
  }

  clear(groupIds: Int32Array): void {
    for (const g of groupIds) {
      const set = this.sets[g];
      if (set) {
        this.elements -= set.size;
        this.sets[g] = undefined;
      }
    }
  }

  private values(g: number): CellValue[] {
    const set = this.sets[g];
    if (!set) return [];
    if (!this.primitive) return [...(set as Map<string, CellValue>).values()];
    const toValue = distinctKey(this.argType, []).value;
    return toValue ? Array.from(set as Set<unknown>, toValue) : ([...(set as Set<unknown>)] as CellValue[]);
  }

  snapshot(groupIds: Int32Array): Data[] {
    return [columnFromCells(this.fields[0]!, Array.from(groupIds, (g) => this.values(g)))];
  }

  restore(groupIds: Int32Array, columns: readonly Data[]): void {
    const list = columns[0]!;
    const offsets = list.valueOffsets as Int32Array;
    const child = list.children[0]!;
    if (this.argType.kind === "null") return;
    const a = access(child, this.argType);
    const { key } = distinctKey(this.argType, []);
    groupIds.forEach((g, i) => {
      for (let k = offsets[i]!; k < offsets[i + 1]!; k++) {
        const keyValue = key(a, k);
        if (this.primitive) {
          const set = (this.sets[g] ??= new Set()) as Set<unknown>;
          const before = set.size;
          set.add(keyValue);
          this.elements += set.size - before;
        } else {
          const map = (this.sets[g] ??= new Map()) as Map<string, CellValue>;
          if (!map.has(keyValue as string)) {
            map.set(keyValue as string, a.cell(k));
            this.elements++;
          }
        }
      }
    });
  }

  memoryBytes(): number {
    return 16 * this.capacity + 48 * this.elements;
  }
}

// ---- approx_count_distinct -----------------------------------------------------------------------

/** The two 32-bit halves of a value's 64-bit hash, by type, written into `h1`/`h2` for rows. */
function hashColumn(a: Access, count: number, rows: Int32Array | undefined, h1: Int32Array, h2: Int32Array, valid: Uint8Array): void {
  const bits = validityOf(a.data);
  const kind = a.type.kind;
  const scratch = new Float64Array(1);
  const scratchWords = new Int32Array(scratch.buffer);
  let dictHashes: Int32Array | undefined;
  for (let i = 0; i < count; i++) {
    const r = rows === undefined ? i : rows[i]!;
    if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) {
      valid[i] = 0;
      continue;
    }
    valid[i] = 1;
    switch (kind) {
      case "int":
      case "date":
        h1[i] = hashWord(a.i32[r]!, HLL_SEED_1);
        h2[i] = hashWord(a.i32[r]!, HLL_SEED_2);
        break;
      case "bool": {
        const b = (a.bits[r >> 3]! >> (r & 7)) & 1;
        h1[i] = hashWord(b, HLL_SEED_1);
        h2[i] = hashWord(b, HLL_SEED_2);
        break;
      }
      case "long":
      case "timestamp":
        h1[i] = hashWords2(a.i32[2 * r]!, a.i32[2 * r + 1]!, HLL_SEED_1);
        h2[i] = hashWords2(a.i32[2 * r]!, a.i32[2 * r + 1]!, HLL_SEED_2);
        break;
      case "double":
        scratch[0] = a.f64[r]! + 0; // -0 hashes as 0
        h1[i] = hashWords2(scratchWords[0]!, scratchWords[1]!, HLL_SEED_1);
        h2[i] = hashWords2(scratchWords[0]!, scratchWords[1]!, HLL_SEED_2);
        break;
      case "decimal": {
        const u = a.u32;
        h1[i] = hashWords2(hashWords2(u[4 * r]!, u[4 * r + 1]!, HLL_SEED_1), hashWords2(u[4 * r + 2]!, u[4 * r + 3]!, HLL_SEED_1), HLL_SEED_1);
        h2[i] = hashWords2(hashWords2(u[4 * r]!, u[4 * r + 1]!, HLL_SEED_2), hashWords2(u[4 * r + 2]!, u[4 * r + 3]!, HLL_SEED_2), HLL_SEED_2);
        break;
      }
      case "string":
      case "bytes": {
        const v = a.variable!;
        if (v.index !== null) {
          const p = v.index[r]!;
          if (!dictHashes) {
            dictHashes = new Int32Array(2 * v.size);
            for (let e = 0; e < v.size; e++) {
              dictHashes[2 * e] = hashBytes(v.bytes, v.offsets[e]!, v.offsets[e + 1]!, HLL_SEED_1);
              dictHashes[2 * e + 1] = hashBytes(v.bytes, v.offsets[e]!, v.offsets[e + 1]!, HLL_SEED_2);
            }
          }
          h1[i] = dictHashes[2 * p]!;
          h2[i] = dictHashes[2 * p + 1]!;
        } else {
          h1[i] = hashBytes(v.bytes, v.offsets[r]!, v.offsets[r + 1]!, HLL_SEED_1);
          h2[i] = hashBytes(v.bytes, v.offsets[r]!, v.offsets[r + 1]!, HLL_SEED_2);
        }
        break;
      }
      default: {
        const text = new TextEncoder().encode(canonical(a.cell(r)));
        h1[i] = hashBytes(text, 0, text.length, HLL_SEED_1);
        h2[i] = hashBytes(text, 0, text.length, HLL_SEED_2);
      }
    }
  }
}

class ApproxCountDistinctAccumulator implements Accumulator {
  private sketches: (Sketch | undefined)[] = [];
  private capacity = 0;

  constructor(
    readonly fields: readonly Field[],
    private readonly argType: DataType,
  ) {}

  grow(capacity: number): void {
    this.capacity = Math.max(this.capacity, capacity);
  }

  update(groupIds: Int32Array, column: Data | undefined, count: number, rows?: Int32Array): void {
    if (!column || this.argType.kind === "null") return;
    const h1 = new Int32Array(count);
    const h2 = new Int32Array(count);
    const valid = new Uint8Array(count);
    hashColumn(access(column, this.argType), count, rows, h1, h2, valid);
    const sketches = this.sketches;
    for (let i = 0; i < count; i++) {
      const g = groupIds[i]!;
      if (g < 0 || valid[i] === 0) continue;
      const sketch = sketches[g];
      const next = sketchAdd(sketch, hllIndex(h1[i]!), hllRank(h1[i]!, h2[i]!));
      if (next !== sketch) sketches[g] = next;
    }
  }

  merge(into: number, from: number): void {
    this.sketches[into] = sketchMerge(this.sketches[into], this.sketches[from]);
  }

  finish(groupIds?: Int32Array): Data {
    const groups = groupCount(groupIds, this.capacity);
    return longColumn((i) => sketchEstimate(this.sketches[groups[i]!]), groups.length);
  }

  clear(groupIds: Int32Array): void {
    for (const g of groupIds) this.sketches[g] = undefined;
  }

  snapshot(groupIds: Int32Array): Data[] {
    return [columnFromCells(this.fields[0]!, Array.from(groupIds, (g) => serializeSketch(this.sketches[g])))];
  }

  restore(groupIds: Int32Array, columns: readonly Data[]): void {
    const read = cellReader(columns[0]!, { kind: "bytes" });
    groupIds.forEach((g, i) => (this.sketches[g] = deserializeSketch((read(i) as Uint8Array | null) ?? new Uint8Array(0))));
  }

  memoryBytes(): number {
    let bytes = 16 * this.capacity;
    for (const s of this.sketches) bytes += sketchBytes(s);
    return bytes;
  }
}

// ---- the `null` literal as the argument ---------------------------------------------------------------

/** `sum(null)` and the like: the result's type is `null`; every value is null and no state is kept. */
class NullAccumulator implements Accumulator {
  private capacity = 0;
  constructor(readonly fields: readonly Field[]) {}
  grow(capacity: number): void {
    this.capacity = Math.max(this.capacity, capacity);
  }
  update(): void {}
  merge(): void {}
  finish(groupIds?: Int32Array): Data {
    return arrow.makeData({ type: new arrow.Null(), length: groupCount(groupIds, this.capacity).length }) as Data;
  }
  clear(): void {}
  snapshot(groupIds: Int32Array): Data[] {
    return this.fields.map((f) => columnFromCells(f, Array.from(groupIds, () => (f.type.kind === "long" ? 0 : null))));
  }
  restore(): void {}
  memoryBytes(): number {
    return 0;
  }
}

function nullable(make: (fields: Field[], args: readonly Field[], result: Field, options: AccumulatorOptions) => Accumulator) {
  return (fields: Field[], args: readonly Field[], result: Field, options: AccumulatorOptions): Accumulator =>
    result.type.kind === "null" ? new NullAccumulator(fields) : make(fields, args, result, options);
}

// ---- the factories the function table uses ---------------------------------------------------------

export type StateFieldsOf = (args: readonly Field[], name: string) => Field[];

function argOf(args: readonly Field[]): Field {
  return args[0] ?? { name: "x", type: { kind: "null" }, nullable: true };
}

const seqField = (name: string): Field => ({ name: `${name}.seq`, type: { kind: "double" }, nullable: false });
const seqsField = (name: string): Field => ({
  name: `${name}.seqs`,
  type: { kind: "list", element: { name: "element", type: { kind: "double" }, nullable: false } },
  nullable: false,
});

/**
 * Accumulator factories by function name. `fields` is the function's `stateFields` for the call;
 * the table in aggregate-functions.ts passes it in so that state and snapshot columns cannot
 * drift apart.
 */
export const accumulatorFactories: Record<string, (fields: Field[], args: readonly Field[], result: Field, options: AccumulatorOptions) => Accumulator> = {
  count: (fields, args) => new CountAccumulator(fields, args.length === 0, args.length > 0 && args[0]!.type.kind === "null"),
  count_distinct: (fields, args) => new CountDistinctAccumulator(fields, argOf(args).type),
  approx_count_distinct: (fields, args) => new ApproxCountDistinctAccumulator(fields, argOf(args).type),
  sum: nullable((fields, args, result) => new SumAccumulator(fields, argOf(args).type, result)),
  avg: nullable((fields, args, result) => new AvgAccumulator(fields, argOf(args).type, result)),
  min: nullable((fields, args, result) => new MinMaxAccumulator(fields, argOf(args).type, result, -1)),
  max: nullable((fields, args, result) => new MinMaxAccumulator(fields, argOf(args).type, result, 1)),
  first: nullable((fields, args, result, o) => new FirstLastAccumulator(o.ordered ? [...fields, seqField(o.name)] : fields, argOf(args).type, result, false, o.ordered)),
  last: nullable((fields, args, result, o) => new FirstLastAccumulator(o.ordered ? [...fields, seqField(o.name)] : fields, argOf(args).type, result, true, o.ordered)),
  collect_list: (fields, args, result, o) => new CollectListAccumulator(o.ordered ? [...fields, seqsField(o.name)] : fields, argOf(args).type, result, o.ordered),
};
