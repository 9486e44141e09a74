/**
 * The aggregate operator's group table: grouping keys encoded as fixed-width 32-bit words, an
 * open-addressing hash table from (key words, window start) to a dense group id, and the id
 * allocator the accumulators' typed arrays are indexed by.
 *
 * Contract:
 * - `KeyCodec` turns a batch's key columns into `width` words per row (row-major) and a hash per
 *   row, without allocating per row. Fixed-width types are their own bits (`int`, `date`, `bool`:
 *   one word; `long`, `timestamp`, `double`: two, with -0 and NaN made canonical; `decimal`: four).
 *   Strings and bytes are interned (a byte-level hash table over one arena: a row's UTF-8 bytes are
 *   hashed and compared where they lie in the Arrow buffer; a dictionary-encoded column interns each
 *   dictionary entry once per batch) and stand as their interned id; other types (lists, structs)
 *   are interned by a canonical text. When a key may be null, word 0 holds one null bit per key
 *   column, so null is a group of its own (SQL `GROUP BY`). Interned values are reference-counted
 *   by the groups that hold them (`retain`/`release`) and forgotten when no group does; `sweep`
 *   forgets the ones a batch interned without making a group of them (late rows).
 * - `GroupTable.assign` maps entries to group ids, inserting new groups; ids come from an
 *   `IdAllocator` (freed ids are reused, last freed first) whose growth is reported so that
 *   per-group state can grow with it. `remove` frees a group (backward-shift deletion keeps the
 *   probe sequences intact). Equal keys and window start give the same id as long as the group lives.
 */
import * as arrow from "apache-arrow";
import type { Data } from "apache-arrow";
import type { DataType, Field } from "../plan.ts";
import { arrowType } from "../columnar/arrow-types.ts";
import { columnBuilder } from "../columnar/builder.ts";
import { cellReader } from "../columnar/read.ts";
import type { CellValue } from "../columnar/values.ts";
import { fmix32, hashBytes, hashWord, hashWords2, mix32 } from "../../stdlib/hyperloglog.ts";
import { int64Words, validityOf, variableColumn } from "../../stdlib/aggregate-accumulators.ts";

const TWO_32 = 4294967296;
const KEY_SEED = 0x5bd1e995;

function grownI32(array: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const grown = new Int32Array(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

function grownF64(array: Float64Array<ArrayBuffer>, needed: number): Float64Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const grown = new Float64Array(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

function grownU8(array: Uint8Array<ArrayBuffer>, needed: number): Uint8Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const grown = new Uint8Array(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

// ---- ids ---------------------------------------------------------------------------------------

/** Dense ids: the last freed is reused first; `capacity` only grows, reported through `onGrow`. */
export class IdAllocator {
  next = 0;
  count = 0;
  capacity = 0;
  live = new Uint8Array(0);
  private free = new Int32Array(16);
  private freeTop = 0;

  constructor(private readonly onGrow: (capacity: number) => void) {}

  allocate(): number {
    const id = this.freeTop > 0 ? this.free[--this.freeTop]! : this.next++;
    if (id >= this.capacity) this.grow(id + 1);
    this.live[id] = 1;
    this.count++;
    return id;
  }

  release(id: number): void {
    this.live[id] = 0;
    this.count--;
    this.free = grownI32(this.free, this.freeTop + 1);
    this.free[this.freeTop++] = id;
  }

  private grow(needed: number): void {
    const capacity = Math.max(needed, this.capacity * 2, 1024);
    this.live = grownU8(this.live, capacity);
    this.capacity = capacity;
    this.onGrow(capacity);
  }

  /** The free list, for snapshots (with `next`). */
  freeList(): Int32Array {
    return this.free.slice(0, this.freeTop);
  }

  /** Puts back the allocator a snapshot describes: `next`, the free list, and the live ids. */
  restore(next: number, free: Int32Array, liveIds: Int32Array): void {
    if (next > this.capacity) this.grow(next);
    this.next = next;
    this.live.fill(0);
    for (const id of liveIds) this.live[id] = 1;
    this.count = liveIds.length;
    this.free = grownI32(new Int32Array(16), free.length);
    this.free.set(free);
    this.freeTop = free.length;
  }

  /** Live ids in ascending order. */
  liveIds(): Int32Array {
    const out = new Int32Array(this.count);
    let k = 0;
    for (let id = 0; id < this.next; id++) if (this.live[id] === 1) out[k++] = id;
    return out;
  }
}

// ---- interning ---------------------------------------------------------------------------------

/** Byte strings to dense ids, reference-counted; bytes live in one arena, compacted now and then. */
class BytesInterner {
  private arena = new Uint8Array(1 << 16);
  private end = 0;
  private garbage = 0;
  private starts = new Int32Array(0);
  private lengths = new Int32Array(0);
  private hashes = new Int32Array(0);
  private refs = new Int32Array(0);
  private slots = new Int32Array(1024);
  private mask = 1023;
  private readonly ids: IdAllocator;
  private created: number[] = [];

  constructor() {
    this.ids = new IdAllocator((capacity) => {
      this.starts = grownI32(this.starts, capacity);
      this.lengths = grownI32(this.lengths, capacity);
      this.hashes = grownI32(this.hashes, capacity);
      this.refs = grownI32(this.refs, capacity);
    });
  }

  intern(bytes: Uint8Array, start: number, end: number, h: number): number {
    const length = end - start;
    const arena = this.arena;
    let slot = h & this.mask;
    for (;;) {
      const e = this.slots[slot]!;
      if (e === 0) break;
      const id = e - 1;
      if (this.hashes[id] === h && this.lengths[id] === length) {
        const at = this.starts[id]!;
        let k = 0;
        while (k < length && arena[at + k] === bytes[start + k]) k++;
        if (k === length) return id;
      }
      slot = (slot + 1) & this.mask;
    }
    const id = this.ids.allocate();
    if (this.end + length > this.arena.length) this.makeRoom(length);
    this.arena.set(bytes.subarray(start, end), this.end);
    this.starts[id] = this.end;
    this.lengths[id] = length;
    this.hashes[id] = h;
    this.refs[id] = 0;
    this.end += length;
    this.slots[slot] = id + 1;
    this.created.push(id);
    if (this.ids.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return id;
  }

  retain(id: number): void {
    this.refs[id]!++;
  }

  release(id: number): void {
    if (--this.refs[id]! === 0) this.forget(id);
  }

  sweep(): void {
    for (const id of this.created) if (this.ids.live[id] === 1 && this.refs[id] === 0) this.forget(id);
    this.created = [];
  }

  view(id: number): { bytes: Uint8Array; start: number; length: number } {
    return { bytes: this.arena, start: this.starts[id]!, length: this.lengths[id]! };
  }

  get arenaBytes(): Uint8Array {
    return this.arena;
  }

  start(id: number): number {
    return this.starts[id]!;
  }

  length(id: number): number {
    return this.lengths[id]!;
  }

  memoryBytes(): number {
    return this.arena.byteLength + this.slots.byteLength + 16 * this.ids.capacity;
  }

  private forget(id: number): void {
    removeFromSlots(this.slots, this.mask, id, this.hashes);
    this.garbage += this.lengths[id]!;
    this.ids.release(id);
  }

  private makeRoom(length: number): void {
    const liveBytes = this.end - this.garbage;
    if (this.garbage > liveBytes && liveBytes + length <= this.arena.length) {
      this.compact(this.arena.length);
      if (this.end + length <= this.arena.length) return;
    }
    this.compact(Math.max(2 * this.arena.length, 2 * (liveBytes + length)));
  }

  private compact(size: number): void {
    const arena = new Uint8Array(size);
    let end = 0;
    for (let id = 0; id < this.ids.next; id++) {
      if (this.ids.live[id] !== 1) continue;
      const start = this.starts[id]!;
      const length = this.lengths[id]!;
      arena.set(this.arena.subarray(start, start + length), end);
      this.starts[id] = end;
      end += length;
    }
    this.arena = arena;
    this.end = end;
    this.garbage = 0;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let id = 0; id < this.ids.next; id++) {
      if (this.ids.live[id] !== 1) continue;
      let slot = this.hashes[id]! & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = id + 1;
    }
  }
}

/**
 * Removes id `id` from a linear-probing table of `id + 1` entries whose home slot is
 * `hashes[id] & mask`, shifting later entries of the run back so that no probe sequence breaks.
 */
function removeFromSlots(slots: Int32Array, mask: number, id: number, hashes: Int32Array): void {
  let i = hashes[id]! & mask;
  while (slots[i] !== id + 1) i = (i + 1) & mask;
  slots[i] = 0;
  let j = i;
  for (;;) {
    j = (j + 1) & mask;
    const e = slots[j]!;
    if (e === 0) return;
    const home = hashes[e - 1]! & mask;
    // Leave the entry where it is if its home lies cyclically in (i, j].
    if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
    slots[i] = e;
    slots[j] = 0;
    i = j;
  }
}

/** Cell values (lists, structs) to dense ids by canonical text, reference-counted. */
class CellInterner {
  private readonly byText = new Map<string, number>();
  private values: CellValue[] = [];
  private texts: string[] = [];
  private refs = new Int32Array(0);
  private readonly ids: IdAllocator;
  private created: number[] = [];

  constructor() {
    this.ids = new IdAllocator((capacity) => (this.refs = grownI32(this.refs, capacity)));
  }

  intern(value: CellValue): number {
    const text = canonicalText(value);
    const found = this.byText.get(text);
    if (found !== undefined) return found;
    const id = this.ids.allocate();
    this.byText.set(text, id);
    this.values[id] = value;
    this.texts[id] = text;
    this.refs[id] = 0;
    this.created.push(id);
    return id;
  }

  value(id: number): CellValue {
    return this.values[id]!;
  }

  retain(id: number): void {
    this.refs[id]!++;
  }

  release(id: number): void {
    if (--this.refs[id]! === 0) this.forget(id);
  }

  sweep(): void {
    for (const id of this.created) if (this.ids.live[id] === 1 && this.refs[id] === 0) this.forget(id);
    this.created = [];
  }

  memoryBytes(): number {
    let bytes = 0;
    for (const t of this.byText.keys()) bytes += 2 * t.length + 64;
    return bytes;
  }

  private forget(id: number): void {
    this.byText.delete(this.texts[id]!);
    this.values[id] = null;
    this.texts[id] = "";
    this.ids.release(id);
  }
}

function canonicalText(value: CellValue): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return String(value);
  if (value instanceof Uint8Array) return `b${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  if (Array.isArray(value)) return `[${value.map(canonicalText).join(",")}]`;
  if (value instanceof Map) return `m{${[...value].map(([k, v]) => `${JSON.stringify(k)}:${canonicalText(v)}`).join(",")}}`;
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${canonicalText(v)}`).join(",")}}`;
}

// ---- key columns as words ------------------------------------------------------------------------

/** One key column's share of the key words. */
interface KeyPart {
  readonly width: number;
  /** Writes rows [0, n) at `out[r * stride + at ...]`; a null row gets zero words and `nullBit` set in word 0. */
  encode(data: Data, n: number, out: Int32Array, stride: number, at: number, nullBit: number): void;
  retain(words: Int32Array, base: number): void;
  release(words: Int32Array, base: number): void;
  sweep(): void;
  /** The column of `groups` whose words start at `words[g * stride + at]`; word 0's `nullBit` marks null. */
  build(words: Int32Array, stride: number, at: number, groups: Int32Array, nullBit: number): Data;
  memoryBytes(): number;
}

function makeKeyColumn(type: DataType, words: Int32Array, stride: number, groups: Int32Array, nullBit: number, props: Record<string, unknown>): Data {
  const n = groups.length;
  let nullBitmap = new Uint8Array(0);
  let nullCount = 0;
  if (nullBit !== 0) {
    const bits = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      if ((words[groups[i]! * stride]! & nullBit) === 0) bits[i >> 3]! |= 1 << (i & 7);
      else nullCount++;
    }
    if (nullCount > 0) nullBitmap = bits;
  }
  return arrow.makeData({ type: arrowType(type), length: n, nullCount, nullBitmap, ...props } as never) as Data;
}

class FixedPart implements KeyPart {
  readonly width: number;
  private readonly scratch = new Float64Array(1);
  private readonly scratchWords = new Int32Array(this.scratch.buffer);

  constructor(private readonly type: DataType) {
    switch (type.kind) {
      case "long":
      case "timestamp":
      case "double":
        this.width = 2;
        break;
      case "decimal":
        this.width = 4;
        break;
      default:
        this.width = 1;
    }
  }

  encode(data: Data, n: number, out: Int32Array, stride: number, at: number, nullBit: number): void {
    const bits = nullBit === 0 ? null : validityOf(data);
    const kind = this.type.kind;
    const width = this.width;
    let source: Int32Array;
    if (kind === "long" || kind === "timestamp") source = int64Words(data);
    else if (kind === "decimal") {
      const u = data.values as Uint32Array;
      source = new Int32Array(u.buffer, u.byteOffset, u.length);
    } else if (kind === "double") {
      const values = data.values as Float64Array;
      const scratch = this.scratch;
      const sw = this.scratchWords;
      for (let r = 0; r < n; r++) {
        const base = r * stride;
        if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) {
          out[base] = out[base]! | nullBit;
          out[base + at] = 0;
          out[base + at + 1] = 0;
          continue;
        }
        const v = values[r]!;
        scratch[0] = v === 0 ? 0 : v !== v ? NaN : v;
        out[base + at] = sw[0]!;
        out[base + at + 1] = sw[1]!;
      }
      return;
    } else if (kind === "bool") {
      const values = data.values as Uint8Array;
      for (let r = 0; r < n; r++) {
        const base = r * stride;
        if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) {
          out[base] = out[base]! | nullBit;
          out[base + at] = 0;
          continue;
        }
        out[base + at] = (values[r >> 3]! >> (r & 7)) & 1;
      }
      return;
    } else source = data.values as Int32Array;
    if (width === 1 && bits === null) {
      for (let r = 0; r < n; r++) out[r * stride + at] = source[r]!;
      return;
    }
    for (let r = 0; r < n; r++) {
      const base = r * stride;
      if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) {
        out[base] = out[base]! | nullBit;
        for (let k = 0; k < width; k++) out[base + at + k] = 0;
        continue;
      }
      for (let k = 0; k < width; k++) out[base + at + k] = source[r * width + k]!;
    }
  }

  retain(): void {}
  release(): void {}
  sweep(): void {}

  build(words: Int32Array, stride: number, at: number, groups: Int32Array, nullBit: number): Data {
    const n = groups.length;
    const width = this.width;
    const kind = this.type.kind;
    if (kind === "bool") {
      const out = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (words[groups[i]! * stride + at]) out[i >> 3]! |= 1 << (i & 7);
      return makeKeyColumn(this.type, words, stride, groups, nullBit, { data: out });
    }
    const out = new Int32Array(n * width);
    for (let i = 0; i < n; i++) {
      const base = groups[i]! * stride + at;
      for (let k = 0; k < width; k++) out[i * width + k] = words[base + k]!;
    }
    const data =
      kind === "long" || kind === "timestamp"
        ? new BigInt64Array(out.buffer)
        : kind === "double"
          ? new Float64Array(out.buffer)
          : kind === "decimal"
            ? new Uint32Array(out.buffer)
            : out;
    return makeKeyColumn(this.type, words, stride, groups, nullBit, { data });
  }

  memoryBytes(): number {
    return 0;
  }
}

/** string and bytes keys: interned ids. */
class BytesPart implements KeyPart {
  readonly width = 1;
  private readonly interner = new BytesInterner();
  private dictIds = new Int32Array(0);

  constructor(private readonly type: DataType) {}

  encode(data: Data, n: number, out: Int32Array, stride: number, at: number, nullBit: number): void {
    const bits = nullBit === 0 ? null : validityOf(data);
    const v = variableColumn(data);
    const offsets = v.offsets;
    const bytes = v.bytes;
    const interner = this.interner;
    if (v.index !== null) {
      if (this.dictIds.length < v.size) this.dictIds = new Int32Array(v.size);
      const dictIds = this.dictIds;
      dictIds.fill(-1, 0, v.size);
      const index = v.index;
      for (let r = 0; r < n; r++) {
        const base = r * stride;
        if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) {
          out[base] = out[base]! | nullBit;
          out[base + at] = 0;
          continue;
        }
        const p = index[r]!;
        let id = dictIds[p]!;
        if (id < 0) {
          const s = offsets[p]!;
          const e = offsets[p + 1]!;
          id = dictIds[p] = interner.intern(bytes, s, e, hashBytes(bytes, s, e, KEY_SEED));
        }
        out[base + at] = id;
      }
      return;
    }
    for (let r = 0; r < n; r++) {
      const base = r * stride;
      if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) {
        out[base] = out[base]! | nullBit;
        out[base + at] = 0;
        continue;
      }
      const s = offsets[r]!;
      const e = offsets[r + 1]!;
      out[base + at] = interner.intern(bytes, s, e, hashBytes(bytes, s, e, KEY_SEED));
    }
  }

  retain(words: Int32Array, base: number, at = 0, nullBit = 0): void {
    if (nullBit === 0 || (words[base]! & nullBit) === 0) this.interner.retain(words[base + at]!);
  }

  release(words: Int32Array, base: number, at = 0, nullBit = 0): void {
    if (nullBit === 0 || (words[base]! & nullBit) === 0) this.interner.release(words[base + at]!);
  }

  sweep(): void {
    this.interner.sweep();
  }

  build(words: Int32Array, stride: number, at: number, groups: Int32Array, nullBit: number): Data {
    const n = groups.length;
    const offsets = new Int32Array(n + 1);
    const interner = this.interner;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const base = groups[i]! * stride;
      if (nullBit === 0 || (words[base]! & nullBit) === 0) total += interner.length(words[base + at]!);
      offsets[i + 1] = total;
    }
    const out = new Uint8Array(total);
    const arena = interner.arenaBytes;
    for (let i = 0; i < n; i++) {
      const base = groups[i]! * stride;
      if (nullBit !== 0 && (words[base]! & nullBit) !== 0) continue;
      const id = words[base + at]!;
      const start = interner.start(id);
      out.set(arena.subarray(start, start + interner.length(id)), offsets[i]!);
    }
    return makeKeyColumn(this.type, words, stride, groups, nullBit, { valueOffsets: offsets, data: out });
  }

  memoryBytes(): number {
    return this.interner.memoryBytes();
  }
}

/** Any other key type (lists, structs): interned by canonical text. */
class CellPart implements KeyPart {
  readonly width = 1;
  private readonly interner = new CellInterner();

  constructor(private readonly field: Field) {}

  encode(data: Data, n: number, out: Int32Array, stride: number, at: number, nullBit: number): void {
    const read = cellReader(data, this.field.type);
    for (let r = 0; r < n; r++) {
      const base = r * stride;
      const value = read(r);
      if (value === null && nullBit !== 0) {
        out[base] = out[base]! | nullBit;
        out[base + at] = 0;
        continue;
      }
      out[base + at] = this.interner.intern(value);
    }
  }

  retain(words: Int32Array, base: number, at = 0, nullBit = 0): void {
    if (nullBit === 0 || (words[base]! & nullBit) === 0) this.interner.retain(words[base + at]!);
  }

  release(words: Int32Array, base: number, at = 0, nullBit = 0): void {
    if (nullBit === 0 || (words[base]! & nullBit) === 0) this.interner.release(words[base + at]!);
  }

  sweep(): void {
    this.interner.sweep();
  }

  build(words: Int32Array, stride: number, at: number, groups: Int32Array, nullBit: number): Data {
    const builder = columnBuilder(this.field, groups.length);
    for (const g of groups) {
      const base = g * stride;
      builder.append(nullBit !== 0 && (words[base]! & nullBit) !== 0 ? null : this.interner.value(words[base + at]!));
    }
    return builder.finish();
  }

  memoryBytes(): number {
    return this.interner.memoryBytes();
  }
}

function keyPart(field: Field): KeyPart {
  switch (field.type.kind) {
    case "int":
    case "date":
    case "bool":
    case "long":
    case "timestamp":
    case "double":
    case "decimal":
      return new FixedPart(field.type);
    case "string":
    case "bytes":
      return new BytesPart(field.type);
    default:
      return new CellPart(field);
  }
}

/** The key columns of a group, as words. */
export class KeyCodec {
  /** Words per key. */
  readonly width: number;
  private readonly parts: KeyPart[];
  /** Where each part's words start. */
  private readonly at: number[] = [];
  /** Each part's bit in word 0 (0 when the column cannot be null). */
  private readonly nullBits: number[] = [];
  private readonly hasNullWord: boolean;
  private interned: { part: BytesPart | CellPart; at: number; nullBit: number }[] = [];
  words = new Int32Array(0);
  hashes = new Int32Array(0);

  constructor(readonly fields: readonly Field[]) {
    this.parts = fields.map(keyPart);
    const nullable = fields.filter((f) => f.nullable).length;
    if (nullable > 31) throw new Error("an aggregate takes at most 31 nullable keys");
    this.hasNullWord = nullable > 0;
    let width = this.hasNullWord ? 1 : 0;
    let bit = 1;
    this.parts.forEach((part, i) => {
      this.at.push(width);
      width += part.width;
      this.nullBits.push(fields[i]!.nullable ? bit : 0);
      if (fields[i]!.nullable) bit <<= 1;
      if (part instanceof BytesPart || part instanceof CellPart) this.interned.push({ part, at: this.at[i]!, nullBit: this.nullBits[i]! });
    });
    this.width = width;
  }

  /** Encodes `n` rows of `columns` into `this.words` (row-major) and `this.hashes`. */
  encode(columns: readonly Data[], n: number): void {
    const stride = this.width;
    if (this.words.length < n * stride) this.words = new Int32Array(Math.max(n * stride, 2 * this.words.length));
    if (this.hashes.length < n) this.hashes = new Int32Array(Math.max(n, 2 * this.hashes.length));
    const words = this.words;
    if (this.hasNullWord) for (let r = 0; r < n; r++) words[r * stride] = 0;
    this.parts.forEach((part, i) => part.encode(columns[i]!, n, words, stride, this.at[i]!, this.nullBits[i]!));
    const hashes = this.hashes;
    if (stride === 0) hashes.fill(KEY_SEED, 0, n);
    else if (stride === 1) for (let r = 0; r < n; r++) hashes[r] = hashWord(words[r]!, KEY_SEED);
    else if (stride === 2) for (let r = 0; r < n; r++) hashes[r] = hashWords2(words[2 * r]!, words[2 * r + 1]!, KEY_SEED);
    else {
      for (let r = 0; r < n; r++) {
        let h = KEY_SEED;
        for (let k = 0; k < stride; k++) h = mix32(h, words[r * stride + k]!);
        hashes[r] = fmix32(h ^ stride);
      }
    }
  }

  get interns(): boolean {
    return this.interned.length > 0;
  }

  retain(words: Int32Array, base: number): void {
    for (const { part, at, nullBit } of this.interned) part.retain(words, base, at, nullBit);
  }

  release(words: Int32Array, base: number): void {
    for (const { part, at, nullBit } of this.interned) part.release(words, base, at, nullBit);
  }

  /** Forgets interned values that no group took (after a batch's groups were assigned). */
  sweep(): void {
    for (const { part } of this.interned) part.sweep();
  }

  /** The key columns of `groups`, whose words are at `words[g * width]`. */
  build(words: Int32Array, groups: Int32Array): Data[] {
    return this.parts.map((part, i) => part.build(words, this.width, this.at[i]!, groups, this.nullBits[i]!));
  }

  memoryBytes(): number {
    return this.parts.reduce((n, p) => n + p.memoryBytes(), 0) + this.words.byteLength + this.hashes.byteLength;
  }
}

// ---- the table -----------------------------------------------------------------------------------

/** The hash of a row's key hash and a window start. */
export function withStart(rowHash: number, start: number): number {
  return hashWords2(start >>> 0, Math.floor(start / TWO_32) | 0, rowHash);
}

export class GroupTable {
  readonly ids: IdAllocator;
  /** Key words per group: `keys[g * width ...]`. */
  keys = new Int32Array(0);
  hashes = new Int32Array(0);
  /** Window start per group (0 without a window). */
  starts = new Float64Array(0);
  private slots = new Int32Array(1024);
  private mask = 1023;

  constructor(
    readonly codec: KeyCodec,
    onGrow: (capacity: number) => void,
  ) {
    this.ids = new IdAllocator((capacity) => {
      this.keys = grownI32(this.keys, capacity * codec.width);
      this.hashes = grownI32(this.hashes, capacity);
      this.starts = grownF64(this.starts, capacity);
      onGrow(capacity);
    });
  }

  get size(): number {
    return this.ids.count;
  }

  /**
   * Group ids for `count` entries: entry `i` is row `perRow === 1 ? i : floor(i / perRow)` of the
   * codec's last `encode`, with window start `starts?.[i] ?? 0` and hash `hashes[i]`; entries whose
   * `ids[i]` is negative are skipped. New groups are inserted (and their interned keys retained).
   */
  assign(count: number, perRow: number, hashes: Int32Array, starts: Float64Array | null, ids: Int32Array): void {
    const width = this.codec.width;
    const words = this.codec.words;
    for (let i = 0; i < count; i++) {
      if (ids[i]! < 0) continue;
      const h = hashes[i]!;
      const start = starts === null ? 0 : starts[i]!;
      const base = (perRow === 1 ? i : (i / perRow) | 0) * width;
      const slots = this.slots;
      const mask = this.mask;
      const groupHashes = this.hashes;
      const groupStarts = this.starts;
      const keys = this.keys;
      let slot = h & mask;
      let found = -1;
      for (;;) {
        const e = slots[slot]!;
        if (e === 0) break;
        const g = e - 1;
        if (groupHashes[g] === h && groupStarts[g] === start) {
          let k = 0;
          const gb = g * width;
          while (k < width && keys[gb + k] === words[base + k]) k++;
          if (k === width) {
            found = g;
            break;
          }
        }
        slot = (slot + 1) & mask;
      }
      ids[i] = found >= 0 ? found : this.insert(slot, words, base, h, start);
    }
  }

  private insert(slot: number, words: Int32Array, base: number, h: number, start: number): number {
    const g = this.ids.allocate();
    const width = this.codec.width;
    for (let k = 0; k < width; k++) this.keys[g * width + k] = words[base + k]!;
    this.hashes[g] = h;
    this.starts[g] = start;
    this.slots[slot] = g + 1;
    if (this.codec.interns) this.codec.retain(this.keys, g * width);
    if (this.ids.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return g;
  }

  /** Restore: makes the (empty) table ready for `count` groups put back with `insertAt`. */
  reserve(count: number): void {
    let size = 1024;
    while (count * 2 > size) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Restore: puts group `g`, an id the allocator already holds, into the table (after `reserve`). */
  insertAt(g: number, words: Int32Array, base: number, h: number, start: number): void {
    const width = this.codec.width;
    for (let k = 0; k < width; k++) this.keys[g * width + k] = words[base + k]!;
    this.hashes[g] = h;
    this.starts[g] = start;
    let slot = h & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = g + 1;
    if (this.codec.interns) this.codec.retain(this.keys, g * width);
  }

  remove(g: number): void {
    removeFromSlots(this.slots, this.mask, g, this.hashes);
    if (this.codec.interns) this.codec.release(this.keys, g * this.codec.width);
    this.ids.release(g);
  }

  /** The key columns of `groups`. */
  keyColumns(groups: Int32Array): Data[] {
    return this.codec.build(this.keys, groups);
  }

  memoryBytes(): number {
    return this.keys.byteLength + this.hashes.byteLength + this.starts.byteLength + this.slots.byteLength + this.ids.capacity + this.codec.memoryBytes();
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let g = 0; g < this.ids.next; g++) {
      if (this.ids.live[g] !== 1) continue;
      let slot = this.hashes[g]! & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = g + 1;
    }
  }
}
