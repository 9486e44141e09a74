/**
 * Builds Arrow columns value by value.
 *
 * Contract: `columnBuilder(field)` appends `CellValue`s (values.ts) of the field's type, or null,
 * and `finish()` returns an Arrow `Data` of offset 0 in the layout of arrow-types.ts, then starts
 * over empty. With `{ dictionary: true }` a string column that repeats its values comes out
 * dictionary-encoded (see `StringBuilder`); sources use it, so that expressions and grouping work
 * once per distinct value. Appending a value of the wrong JS type is a programming error (it throws); decoders
 * check types before they append.
 */
import * as arrow from "apache-arrow";
import type { DataType, Field } from "../plan.ts";
import { arrowType } from "./arrow-types.ts";
import { type CellValue, utf8Encoder, writeInt128, writeInt64 } from "./values.ts";

export interface ColumnBuilder {
  readonly field: Field;
  readonly length: number;
  append(value: CellValue): void;
  appendNull(): void;
  finish(): arrow.Data;
}

export function columnBuilder(field: Field, capacity = 1024, options: { dictionary?: boolean } = {}): ColumnBuilder {
  if (options.dictionary && field.type.kind === "string") return new StringBuilder(field, field.type);
  return makeBuilder(field.type, field, Math.max(16, capacity));
}

/** A validity bitmap that grows; all-valid bitmaps are dropped at `finish`. */
class Validity {
  bits = new Uint8Array(128);
  nulls = 0;

  set(index: number, valid: boolean): void {
    const byte = index >> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    if (valid) this.bits[byte]! |= 1 << (index & 7);
    else {
      this.bits[byte]! &= ~(1 << (index & 7));
      this.nulls++;
    }
  }

  finish(length: number): { nullBitmap: Uint8Array; nullCount: number } {
    const result = { nullBitmap: this.nulls > 0 ? this.bits.slice(0, (length + 7) >> 3) : new Uint8Array(0), nullCount: this.nulls };
    this.bits = new Uint8Array(128);
    this.nulls = 0;
    return result;
  }
}

function grow<T extends Int32Array | Float64Array | Uint8Array | Uint32Array>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const grown = new (array.constructor as new (n: number) => T)(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

abstract class BaseBuilder implements ColumnBuilder {
  length = 0;
  protected readonly validity = new Validity();
  protected readonly type: arrow.DataType;

  constructor(
    readonly field: Field,
    protected readonly dataType: DataType,
  ) {
    this.type = arrowType(dataType);
  }

  append(value: CellValue): void {
    if (value === null || value === undefined) return this.appendNull();
    this.validity.set(this.length, true);
    this.put(value);
    this.length++;
  }

  appendNull(): void {
    this.validity.set(this.length, false);
    this.putNull();
    this.length++;
  }

  finish(): arrow.Data {
    const length = this.length;
    const { nullBitmap, nullCount } = this.validity.finish(length);
    this.length = 0;
    return this.build(length, nullBitmap, nullCount);
  }

  protected abstract put(value: CellValue): void;
  protected abstract putNull(): void;
  protected abstract build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data;
}

class BoolBuilder extends BaseBuilder {
  private bits = new Uint8Array(128);
  protected put(value: CellValue): void {
    if (typeof value !== "boolean") throw new TypeError(`bool column ${this.field.name} got ${typeof value}`);
    this.bits = grow(this.bits, (this.length >> 3) + 1);
    if (value) this.bits[this.length >> 3]! |= 1 << (this.length & 7);
    else this.bits[this.length >> 3]! &= ~(1 << (this.length & 7));
  }
  protected putNull(): void {
    this.bits = grow(this.bits, (this.length >> 3) + 1);
    this.bits[this.length >> 3]! &= ~(1 << (this.length & 7));
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    const data = this.bits.slice(0, (length + 7) >> 3);
    this.bits = new Uint8Array(128);
    return arrow.makeData({ type: this.type as arrow.Bool, length, nullCount, nullBitmap, data });
  }
}

/** int, date (Int32 values), double (Float64). */
class NumberBuilder extends BaseBuilder {
  private values: Int32Array | Float64Array;
  constructor(field: Field, dataType: DataType, capacity: number) {
    super(field, dataType);
    this.values = dataType.kind === "double" ? new Float64Array(capacity) : new Int32Array(capacity);
  }
  protected put(value: CellValue): void {
    if (typeof value !== "number") throw new TypeError(`${this.dataType.kind} column ${this.field.name} got ${typeof value}`);
    this.values = grow(this.values, this.length + 1);
    this.values[this.length] = value;
  }
  protected putNull(): void {
    this.values = grow(this.values, this.length + 1);
    this.values[this.length] = 0;
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    const data = this.values.slice(0, length);
    this.values = new (this.values.constructor as typeof Int32Array)(this.values.length);
    return arrow.makeData({ type: this.type as arrow.Int32, length, nullCount, nullBitmap, data: data as Int32Array });
  }
}

/** long and timestamp: int64 values written through an Int32 pair view. */
class Int64Builder extends BaseBuilder {
  private words: Int32Array;
  constructor(field: Field, dataType: DataType, capacity: number) {
    super(field, dataType);
    this.words = new Int32Array(2 * capacity);
  }
  protected put(value: CellValue): void {
    if (typeof value !== "number") throw new TypeError(`${this.dataType.kind} column ${this.field.name} got ${typeof value}`);
    this.words = grow(this.words, 2 * this.length + 2);
    writeInt64(this.words, this.length, value);
  }
  protected putNull(): void {
    this.words = grow(this.words, 2 * this.length + 2);
    this.words[2 * this.length] = 0;
    this.words[2 * this.length + 1] = 0;
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    const data = new BigInt64Array(this.words.slice(0, 2 * length).buffer);
    this.words = new Int32Array(this.words.length);
    return arrow.makeData({ type: this.type as arrow.Int64, length, nullCount, nullBitmap, data });
  }
}

class DecimalBuilder extends BaseBuilder {
  private words = new Uint32Array(64);
  protected put(value: CellValue): void {
    if (typeof value !== "bigint") throw new TypeError(`decimal column ${this.field.name} got ${typeof value}`);
    this.words = grow(this.words, 4 * this.length + 4);
    writeInt128(this.words, this.length, value);
  }
  protected putNull(): void {
    this.words = grow(this.words, 4 * this.length + 4);
    this.words.fill(0, 4 * this.length, 4 * this.length + 4);
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    const data = this.words.slice(0, 4 * length);
    this.words = new Uint32Array(64);
    return arrow.makeData({ type: this.type as arrow.Decimal, length, nullCount, nullBitmap, data });
  }
}

/** string (UTF-8) and bytes: offsets into one growing byte buffer. */
/**
 * Writes `text` as UTF-8 into `bytes` at `at` (room for 3 bytes a UTF-16 unit is there) and
 * returns the end. Short ASCII text, what most columns hold, is copied unit by unit: no subarray
 * and no encoder call per value; anything else goes through `TextEncoder.encodeInto`.
 */
function writeUtf8(text: string, bytes: Uint8Array, at: number): number {
  const n = text.length;
  if (n <= 64) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      bytes[at + i] = c;
    }
    if (i === n) return at + n;
  }
  return at + utf8Encoder.encodeInto(text, bytes.subarray(at)).written;
}

class VariableBuilder extends BaseBuilder {
  private offsets = new Int32Array(129);
  private bytes = new Uint8Array(1024);
  private end = 0;
  protected put(value: CellValue): void {
    this.offsets = grow(this.offsets, this.length + 2);
    if (typeof value === "string") {
      // Each UTF-16 unit takes at most 3 UTF-8 bytes.
      this.bytes = grow(this.bytes, this.end + value.length * 3);
      this.end = writeUtf8(value, this.bytes, this.end);
    } else if (value instanceof Uint8Array) {
      this.bytes = grow(this.bytes, this.end + value.length);
      this.bytes.set(value, this.end);
      this.end += value.length;
    } else {
      throw new TypeError(`${this.dataType.kind} column ${this.field.name} got ${typeof value}`);
    }
    this.offsets[this.length + 1] = this.end;
  }
  protected putNull(): void {
    this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.end;
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    const valueOffsets = this.offsets.slice(0, length + 1);
    const data = this.bytes.slice(0, this.end);
    this.offsets = new Int32Array(129);
    this.bytes = new Uint8Array(1024);
    this.end = 0;
    return arrow.makeData({ type: this.type as arrow.Utf8, length, nullCount, nullBitmap, valueOffsets, data });
  }
}

/**
 * Strings, dictionary-encoded when they repeat: values are interned as they arrive, and a column
 * with at most half as many distinct values as rows (and at most `MAX_DICTIONARY` of them) comes
 * out as `Dictionary<Utf8, Int32>`; any other as plain Utf8. Interning stops early (after
 * `DICTIONARY_SAMPLE` rows) for a column whose values are mostly distinct so far: it comes out
 * plain.
 */
class StringBuilder extends BaseBuilder {
  private readonly plain: VariableBuilder;
  private interned: Map<string, number> | undefined = new Map();
  private indices = new Int32Array(128);

  constructor(field: Field, dataType: DataType) {
    super(field, dataType);
    this.plain = new VariableBuilder(field, dataType);
  }
  protected put(value: CellValue): void {
    if (typeof value !== "string") throw new TypeError(`string column ${this.field.name} got ${typeof value}`);
    this.plain.append(value);
    if (!this.interned) return;
    let index = this.interned.get(value);
    if (index === undefined) {
      // Give up as soon as the column cannot come out encoded: too many values, or, once it has
      // seen `DICTIONARY_SAMPLE` rows, more than half of them distinct (ids, free text), so that a
      // high-cardinality column does not pay for interning a whole batch.
      if (this.interned.size >= MAX_DICTIONARY || (this.length >= DICTIONARY_SAMPLE && (this.interned.size + 1) * 2 > this.length + 1)) {
        this.interned = undefined;
        return;
      }
      index = this.interned.size;
      this.interned.set(value, index);
    }
    this.indices = grow(this.indices, this.length + 1);
    this.indices[this.length] = index;
  }
  protected putNull(): void {
    this.plain.appendNull();
    if (!this.interned) return;
    this.indices = grow(this.indices, this.length + 1);
    this.indices[this.length] = 0;
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    const plain = this.plain.finish();
    const interned = this.interned;
    const indices = this.indices.slice(0, length);
    this.interned = new Map();
    this.indices = new Int32Array(128);
    if (!interned || interned.size === 0 || interned.size * 2 > length) return plain;
    const entries = new VariableBuilder({ name: this.field.name, type: this.dataType, nullable: false }, this.dataType);
    for (const value of interned.keys()) entries.append(value);
    const dictionary = arrow.makeVector(entries.finish());
    return arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), length, nullCount, nullBitmap, data: indices, dictionary } as never);
  }
}

/** The most distinct values a dictionary-encoded string column holds. */
export const MAX_DICTIONARY = 65_536;

/** Rows a string column is interned for before it may give up for having mostly distinct values. */
export const DICTIONARY_SAMPLE = 1024;

class ListBuilder extends BaseBuilder {
  private offsets = new Int32Array(129);
  private readonly child: ColumnBuilder;
  constructor(field: Field, dataType: Extract<DataType, { kind: "list" }>, capacity: number) {
    super(field, dataType);
    this.child = makeBuilder(dataType.element.type, dataType.element, capacity);
  }
  protected put(value: CellValue): void {
    if (!Array.isArray(value)) throw new TypeError(`list column ${this.field.name} got ${typeof value}`);
    for (const element of value) this.child.append(element);
    this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.child.length;
  }
  protected putNull(): void {
    this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.child.length;
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    const valueOffsets = this.offsets.slice(0, length + 1);
    this.offsets = new Int32Array(129);
    const child = this.child.finish();
    return arrow.makeData({ type: this.type as arrow.List, length, nullCount, nullBitmap, valueOffsets, child });
  }
}

class MapBuilder extends BaseBuilder {
  private offsets = new Int32Array(129);
  private readonly keys: ColumnBuilder;
  private readonly values: ColumnBuilder;
  constructor(field: Field, dataType: Extract<DataType, { kind: "map" }>, capacity: number) {
    super(field, dataType);
    this.keys = makeBuilder({ kind: "string" }, { name: "key", type: { kind: "string" }, nullable: false }, capacity);
    this.values = makeBuilder(dataType.value.type, { ...dataType.value, name: "value" }, capacity);
  }
  protected put(value: CellValue): void {
    if (!(value instanceof Map)) throw new TypeError(`map column ${this.field.name} got ${typeof value}`);
    for (const [k, v] of value) {
      this.keys.append(k);
      this.values.append(v);
    }
    this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.keys.length;
  }
  protected putNull(): void {
    this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.keys.length;
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    const valueOffsets = this.offsets.slice(0, length + 1);
    this.offsets = new Int32Array(129);
    const keys = this.keys.finish();
    const values = this.values.finish();
    const mapType = this.type as arrow.Map_;
    const entries = arrow.makeData({ type: mapType.children[0]!.type as arrow.Struct, length: keys.length, nullCount: 0, children: [keys, values] });
    return arrow.makeData({ type: mapType, length, nullCount, nullBitmap, valueOffsets, child: entries });
  }
}

class StructBuilder extends BaseBuilder {
  private readonly children: ColumnBuilder[];
  constructor(field: Field, private readonly structType: Extract<DataType, { kind: "struct" }>, capacity: number) {
    super(field, structType);
    this.children = structType.fields.map((f) => makeBuilder(f.type, f, capacity));
  }
  protected put(value: CellValue): void {
    if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Map || value instanceof Uint8Array) {
      throw new TypeError(`struct column ${this.field.name} got ${typeof value}`);
    }
    const record = value as { [field: string]: CellValue };
    this.structType.fields.forEach((f, i) => this.children[i]!.append(record[f.name] ?? null));
  }
  protected putNull(): void {
    for (const child of this.children) child.appendNull();
  }
  protected build(length: number, nullBitmap: Uint8Array, nullCount: number): arrow.Data {
    return arrow.makeData({ type: this.type as arrow.Struct, length, nullCount, nullBitmap, children: this.children.map((c) => c.finish()) });
  }
}

function makeBuilder(type: DataType, field: Field, capacity: number): ColumnBuilder {
  switch (type.kind) {
    case "bool":
      return new BoolBuilder(field, type);
    case "int":
    case "date":
    case "double":
      return new NumberBuilder(field, type, capacity);
    case "long":
    case "timestamp":
      return new Int64Builder(field, type, capacity);
    case "decimal":
      return new DecimalBuilder(field, type);
    case "string":
    case "bytes":
      return new VariableBuilder(field, type);
    case "list":
      return new ListBuilder(field, type, capacity);
    case "map":
      return new MapBuilder(field, type, capacity);
    case "struct":
      return new StructBuilder(field, type, capacity);
    case "duration":
    case "null":
      throw new Error(`a column cannot be of type ${type.kind}`);
  }
}
