/**
 * The aggregate operator's groups: grouping keys encoded as fixed-width 32-bit words, one
 * open-addressing table of groups per window start, and the id allocator the accumulators'
 * typed arrays are indexed by.
 *
 * Contract:
 * - `KeyCodec` turns a batch's key columns into `width` words per row (row-major) and a hash per
 *   row, without allocating per row. Fixed-width types are their own bits (`int`, `date`, `bool`:
 *   one word; `long`, `timestamp`, `double`: two, with -0 and NaN made canonical; `decimal`: four).
 *   Strings and bytes take four words: the length and the bytes themselves when there are at most
 *   12 (read where they lie in the Arrow buffer; a dictionary-encoded column is read once per
 *   entry per batch), else the first bytes and an interned id (a byte-level hash table over one
 *   arena); other types (lists, structs) are interned by a canonical text. When a key may be null,
 *   word 0 holds one null bit per nullable key column, so null is a group of its own (SQL
 *   `GROUP BY`). Interned values are reference-counted by the groups that hold them
 *   (`retain`/`release`) and forgotten in bulk once unused ones pile up; `sweep` counts the ones a
 *   batch interned without making a group of them (late rows).
 * - `GroupTable.assign` maps entries (a row and a window start) to group ids, inserting new
 *   groups; each window start has its own table, whose slots hold the key words (a probe reads one
 *   place) and whose group list keeps creation order. A closing window is dropped whole
 *   (`dropWindow`), its groups freed in creation order. Ids come from an `IdAllocator` (freed ids are
 *   reused, last freed first) whose growth is reported so that per-group state can grow with it.
 *   Equal keys and window start give the same id as long as the group lives; which ids are given
 *   depends only on the sequence of inserts and drops, so a restored table (`insertAt` in
 *   `groupsInOrder` order, with the allocator's state) continues exactly as the original.
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

const KEY_SEED = 0x5bd1e995;
const LITTLE_ENDIAN = new Uint8Array(Int32Array.of(1).buffer)[0] === 1;

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

/**
 * Open addressing with linear probing over slots of `stride` words: `[id + 1 (0: empty), hash,
 * payload...]`. The payload lets a probe decide without reading anything else.
 */
function slotTable(size: number, stride: number): Int32Array<ArrayBuffer> {
  return new Int32Array(size * stride);
}

/** The same entries in a table twice as large. */
function grownSlots(old: Int32Array, stride: number): Int32Array<ArrayBuffer> {
  const size = (2 * old.length) / stride;
  const slots = new Int32Array(size * stride);
  const mask = size - 1;
  for (let p = 0; p < old.length; p += stride) {
    if (old[p] === 0) continue;
    let q = (old[p + 1]! & mask) * stride;
    while (slots[q] !== 0) q = q === (size - 1) * stride ? 0 : q + stride;
    for (let k = 0; k < stride; k++) slots[q + k] = old[p + k]!;
  }
  return slots;
}

/** Takes `id` (hash `h`) out, shifting later entries of its run back (backward-shift deletion). */
function removeFromSlots(slots: Int32Array, stride: number, id: number, h: number): void {
  const mask = slots.length / stride - 1;
  let i = h & mask;
  while (slots[i * stride] !== id + 1) i = (i + 1) & mask;
  let j = i;
  for (;;) {
    j = (j + 1) & mask;
    const e = slots[j * stride]!;
    if (e === 0) break;
    const home = slots[j * stride + 1]! & mask;
    // Leave the entry where it is if its home lies cyclically in (i, j].
    if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
    for (let k = 0; k < stride; k++) slots[i * stride + k] = slots[j * stride + k]!;
    i = j;
  }
  for (let k = 0; k < stride; k++) slots[i * stride + k] = 0;
}

/**
 * Byte strings to dense ids, reference-counted. Bytes live in one arena (compacted now and then);
 * a slot is `[id + 1, hash, arena start, length]`.
 */
class BytesInterner {
  private arena = new Uint8Array(1 << 16);
  private end = 0;
  private garbage = 0;
  /** Per id: the start of its bytes in the arena, then their length (as in its slot). */
  private meta = new Int32Array(0);
  private hashes = new Int32Array(0);
  private refs = new Int32Array(0);
  private slots = slotTable(1024, 4);
  private readonly ids: IdAllocator;
  private created: number[] = [];
  /** Releases to zero since the last bulk forget. */
  private zeroes = 0;

  constructor() {
    this.ids = new IdAllocator((capacity) => {
      this.meta = grownI32(this.meta, 2 * capacity);
      this.hashes = grownI32(this.hashes, capacity);
      this.refs = grownI32(this.refs, capacity);
    });
  }

  intern(bytes: Uint8Array, start: number, end: number, h: number): number {
    const length = end - start;
    const arena = this.arena;
    const slots = this.slots;
    const mask = (slots.length >> 2) - 1;
    let slot = h & mask;
    for (;;) {
      const p = slot << 2;
      const e = slots[p]!;
      if (e === 0) break;
      if (slots[p + 1] === h && slots[p + 3] === length) {
        const at = slots[p + 2]!;
        let k = 0;
        while (k < length && arena[at + k] === bytes[start + k]) k++;
        if (k === length) return e - 1;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.ids.allocate();
    if (this.end + length > this.arena.length) this.makeRoom(length);
    const target = this.arena;
    const at = this.end;
    for (let k = 0; k < length; k++) target[at + k] = bytes[start + k]!;
    this.end = at + length;
    this.meta[2 * id] = at;
    this.meta[2 * id + 1] = length;
    this.hashes[id] = h;
    this.refs[id] = 0;
    const p = slot << 2;
    slots[p] = id + 1;
    slots[p + 1] = h;
    slots[p + 2] = at;
    slots[p + 3] = length;
    this.created.push(id);
    if (this.ids.count * 8 > slots.length) this.slots = grownSlots(slots, 4);
    return id;
  }

  retain(id: number): void {
    this.refs[id]!++;
  }

  /**
   * A value that no group holds any more is not forgotten at once: keys tend to come back (the
   * next window of the same key). Values are forgotten in bulk, after as many releases to zero as
   * half the values interned (so a scan is amortised, and memory stays within a small multiple of
   * what the groups hold).
   */
  release(id: number): void {
    if (--this.refs[id]! === 0) this.released();
  }

  /** Counts the values the current batch interned without a group taking them (late rows). */
  sweep(): void {
    for (const id of this.created) if (this.ids.live[id] === 1 && this.refs[id] === 0) this.released();
    this.created = [];
  }

  private released(): void {
    if (++this.zeroes > 1024 && this.zeroes * 2 > this.ids.count) {
      const live = this.ids.live;
      for (let id = 0; id < this.ids.next; id++) if (live[id] === 1 && this.refs[id] === 0) this.forget(id);
      this.zeroes = 0;
    }
  }

  get arenaBytes(): Uint8Array {
    return this.arena;
  }

  start(id: number): number {
    return this.meta[2 * id]!;
  }

  length(id: number): number {
    return this.meta[2 * id + 1]!;
  }

  memoryBytes(): number {
    return this.arena.byteLength + this.slots.byteLength + 16 * this.ids.capacity;
  }

  private forget(id: number): void {
    removeFromSlots(this.slots, 4, id, this.hashes[id]!);
    this.garbage += this.meta[2 * id + 1]!;
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

  /** Copies the live bytes, slot by slot, to the front of an arena of `size` bytes. */
  private compact(size: number): void {
    const arena = new Uint8Array(size);
    const slots = this.slots;
    let end = 0;
    for (let p = 0; p < slots.length; p += 4) {
      const e = slots[p]!;
      if (e === 0) continue;
      const start = slots[p + 2]!;
      const length = slots[p + 3]!;
      for (let k = 0; k < length; k++) arena[end + k] = this.arena[start + k]!;
      slots[p + 2] = end;
      this.meta[2 * (e - 1)] = end;
      end += length;
    }
    this.arena = arena;
    this.end = end;
    this.garbage = 0;
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

/**
 * string and bytes keys, as four words: the length, then the bytes themselves when there are at
 * most 12 (zero-padded), or else the first four bytes, the interned id and -1 (the length tells
 * which). Equal values give equal words either way, and short keys (the usual ids and names) need
 * no interning at all.
 */
class BytesPart implements KeyPart {
  readonly width = 4;
  private readonly interner = new BytesInterner();
  private dictWords = new Int32Array(0);
  private dictDone = new Uint8Array(0);

  constructor(private readonly type: DataType) {}

  /** The four words of `bytes[start, end)` at `out[at...]`. */
  private words(bytes: Uint8Array, start: number, end: number, out: Int32Array, at: number): void {
    const length = end - start;
    out[at] = length;
    if (length <= 12) {
      let w0 = 0;
      let w1 = 0;
      let w2 = 0;
      for (let k = 0; k < length; k++) {
        const b = bytes[start + k]! << ((k & 3) << 3);
        if (k < 4) w0 |= b;
        else if (k < 8) w1 |= b;
        else w2 |= b;
      }
      out[at + 1] = w0;
      out[at + 2] = w1;
      out[at + 3] = w2;
      return;
    }
    out[at + 1] = bytes[start]! | (bytes[start + 1]! << 8) | (bytes[start + 2]! << 16) | (bytes[start + 3]! << 24);
    out[at + 2] = this.interner.intern(bytes, start, end, hashBytes(bytes, start, end, KEY_SEED));
    out[at + 3] = -1;
  }

  encode(data: Data, n: number, out: Int32Array, stride: number, at: number, nullBit: number): void {
    const bits = nullBit === 0 ? null : validityOf(data);
    const v = variableColumn(data);
    const offsets = v.offsets;
    const bytes = v.bytes;
    if (v.index !== null) {
      // Dictionary-encoded: each entry's words once per batch, then copies.
      if (this.dictDone.length < v.size) {
        this.dictDone = new Uint8Array(v.size);
        this.dictWords = new Int32Array(4 * v.size);
      } else this.dictDone.fill(0, 0, v.size);
      const dictWords = this.dictWords;
      const done = this.dictDone;
      const index = v.index;
      for (let r = 0; r < n; r++) {
        const base = r * stride + at;
        if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) {
          out[r * stride] = out[r * stride]! | nullBit;
          out[base] = out[base + 1] = out[base + 2] = out[base + 3] = 0;
          continue;
        }
        const p = index[r]!;
        if (done[p] === 0) {
          this.words(bytes, offsets[p]!, offsets[p + 1]!, dictWords, 4 * p);
          done[p] = 1;
        }
        out[base] = dictWords[4 * p]!;
        out[base + 1] = dictWords[4 * p + 1]!;
        out[base + 2] = dictWords[4 * p + 2]!;
        out[base + 3] = dictWords[4 * p + 3]!;
      }
      return;
    }
    for (let r = 0; r < n; r++) {
      const base = r * stride + at;
      if (bits !== null && ((bits[r >> 3]! >> (r & 7)) & 1) === 0) {
        out[r * stride] = out[r * stride]! | nullBit;
        out[base] = out[base + 1] = out[base + 2] = out[base + 3] = 0;
        continue;
      }
      this.words(bytes, offsets[r]!, offsets[r + 1]!, out, base);
    }
  }

  /** Whether the key at `words[base]` (word 0: null bits) holds an interned id. */
  private interned(words: Int32Array, base: number, at: number, nullBit: number): boolean {
    return (nullBit === 0 || (words[base]! & nullBit) === 0) && words[base + at]! > 12;
  }

  retain(words: Int32Array, base: number, at = 0, nullBit = 0): void {
    if (this.interned(words, base, at, nullBit)) this.interner.retain(words[base + at + 2]!);
  }

  release(words: Int32Array, base: number, at = 0, nullBit = 0): void {
    if (this.interned(words, base, at, nullBit)) this.interner.release(words[base + at + 2]!);
  }

  sweep(): void {
    this.interner.sweep();
  }

  build(words: Int32Array, stride: number, at: number, groups: Int32Array, nullBit: number): Data {
    const n = groups.length;
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const base = groups[i]! * stride;
      if (nullBit === 0 || (words[base]! & nullBit) === 0) total += words[base + at]!;
      offsets[i + 1] = total;
    }
    const out = new Uint8Array(total);
    const interner = this.interner;
    // On little-endian machines the words hold the bytes in order: copy them as bytes.
    const bytes = LITTLE_ENDIAN ? new Uint8Array(words.buffer, words.byteOffset, words.length * 4) : undefined;
    for (let i = 0; i < n; i++) {
      let to = offsets[i]!;
      const length = offsets[i + 1]! - to;
      if (length === 0) continue;
      const base = groups[i]! * stride + at;
      if (length <= 12) {
        if (bytes) {
          const from = (base + 1) * 4;
          for (let k = 0; k < length; k++) out[to++] = bytes[from + k]!;
        } else {
          for (let k = 0; k < length; k++) out[to++] = (words[base + 1 + (k >> 2)]! >>> ((k & 3) << 3)) & 0xff;
        }
      } else {
        const arena = interner.arenaBytes;
        const from = interner.start(words[base + 2]!);
        for (let k = 0; k < length; k++) out[to++] = arena[from + k]!;
      }
    }
    return makeKeyColumn(this.type, words, stride, groups, nullBit, { valueOffsets: offsets, data: out });
  }

  memoryBytes(): number {
    return this.interner.memoryBytes() + this.dictWords.byteLength;
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

/**
 * One window's groups: an open-addressing table (at most 3/4 full) whose slots hold the group id,
 * the key's hash and the key words themselves (`[g + 1, hash, words...]`), so that a probe reads
 * one place; and the window's group ids in insertion order.
 */
class WindowGroups {
  slots: Int32Array<ArrayBuffer>;
  mask: number;
  count = 0;
  groups: Int32Array<ArrayBuffer>;

  /** `expected`: about how many groups the window will hold (the table starts big enough). */
  constructor(
    readonly stride: number,
    expected: number,
  ) {
    let size = 64;
    while (size * 3 < 4 * expected) size *= 2;
    this.slots = new Int32Array(size * stride);
    this.mask = size - 1;
    this.groups = new Int32Array(Math.max(64, expected));
  }

  /** Appends `g` to the window's list; returns its position there. */
  add(g: number): number {
    if (this.count === this.groups.length) this.groups = grownI32(this.groups, this.count + 1);
    this.groups[this.count] = g;
    return this.count++;
  }

  grow(): void {
    this.slots = grownSlots(this.slots, this.stride);
    this.mask = this.slots.length / this.stride - 1;
  }

  /** Puts `g` (hash `h`, key at `words[base...]`) in a free slot (restore); returns its list position. */
  place(g: number, h: number, words: Int32Array, base: number): number {
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const stride = this.stride;
    let slot = h & this.mask;
    while (this.slots[slot * stride] !== 0) slot = (slot + 1) & this.mask;
    const p = slot * stride;
    this.slots[p] = g + 1;
    this.slots[p + 1] = h;
    for (let k = 2; k < stride; k++) this.slots[p + k] = words[base + k - 2]!;
    return this.add(g);
  }

  /** Takes `g` (hash `h`, at `position` in the list) out; the last group of the list takes its place, and is returned (-1: none moved). */
  remove(g: number, h: number, position: number): number {
    removeFromSlots(this.slots, this.stride, g, h);
    const last = this.groups[--this.count]!;
    if (last === g) return -1;
    this.groups[position] = last;
    return last;
  }
}

/**
 * Groups by (key, window start): one `WindowGroups` table per window start (one in all without a
 * window), so that a closing window goes as a whole, without touching the others.
 */
export class GroupTable {
  readonly ids: IdAllocator;
  /** Key words per group: `keys[g * width ...]`. */
  keys = new Int32Array(0);
  /** Window start per group (0 without a window). */
  starts = new Float64Array(0);
  private hashes = new Int32Array(0);
  /** Each group's position in its window's list. */
  private positions = new Int32Array(0);
  private readonly windows = new Map<number, WindowGroups>();
  private lastStart = NaN;
  private lastWindow: WindowGroups | undefined;
  /** Dropped windows' (cleared) tables, for new windows. */
  private spares: WindowGroups[] = [];
  /** The most groups a window has held: new windows start with room for as many. */
  private largest = 0;

  constructor(
    readonly codec: KeyCodec,
    onGrow: (capacity: number) => void,
  ) {
    const width = codec.width;
    this.ids = new IdAllocator((capacity) => {
      this.keys = grownI32(this.keys, capacity * width);
      this.starts = grownF64(this.starts, capacity);
      this.hashes = grownI32(this.hashes, capacity);
      this.positions = grownI32(this.positions, capacity);
      onGrow(capacity);
    });
  }

  get size(): number {
    return this.ids.count;
  }

  private window(start: number): WindowGroups {
    if (start === this.lastStart) return this.lastWindow!;
    let window = this.windows.get(start);
    if (!window) {
      const spare = this.spares.pop();
      if (spare) {
        window = spare;
        window.count = 0;
      } else {
        // A new window tends to hold about as many groups as the others did.
        for (const other of this.windows.values()) if (other.count > this.largest) this.largest = other.count;
        window = new WindowGroups(this.codec.width + 2, this.largest);
      }
      this.windows.set(start, window);
    }
    this.lastStart = start;
    this.lastWindow = window;
    return window;
  }

  /**
   * Group ids for `count` entries: entry `i` is row `perRow === 1 ? i : floor(i / perRow)` of the
   * codec's last `encode`, with window start `starts?.[i] ?? 0`; entries whose `ids[i]` is
   * negative are skipped. New groups are inserted (and their interned keys retained).
   */
  assign(count: number, perRow: number, starts: Float64Array | null, ids: Int32Array): void {
    const width = this.codec.width;
    const stride = width + 2;
    const words = this.codec.words;
    const rowHashes = this.codec.hashes;
    let start = NaN;
    let window: WindowGroups | undefined;
    for (let i = 0; i < count; i++) {
      if (ids[i]! < 0) continue;
      const entryStart = starts === null ? 0 : starts[i]!;
      if (entryStart !== start || window === undefined) {
        start = entryStart;
        window = this.window(start);
      }
      const row = perRow === 1 ? i : (i / perRow) | 0;
      const base = row * width;
      const h = rowHashes[row]!;
      const slots = window.slots;
      const mask = window.mask;
      let slot = h & mask;
      let found = -1;
      for (;;) {
        const p = slot * stride;
        const e = slots[p]!;
        if (e === 0) break;
        if (slots[p + 1] === h) {
          let k = 0;
          while (k < width && slots[p + 2 + k] === words[base + k]) k++;
          if (k === width) {
            found = e - 1;
            break;
          }
        }
        slot = (slot + 1) & mask;
      }
      if (found < 0) {
        found = this.ids.allocate();
        this.fill(found, words, base, h, start);
        const p = slot * stride;
        slots[p] = found + 1;
        slots[p + 1] = h;
        for (let k = 0; k < width; k++) slots[p + 2 + k] = words[base + k]!;
        this.positions[found] = window.add(found);
        if (window.count * 4 > (window.mask + 1) * 3) window.grow();
      }
      ids[i] = found;
    }
  }

  private fill(g: number, words: Int32Array, base: number, h: number, start: number): void {
    const width = this.codec.width;
    for (let k = 0; k < width; k++) this.keys[g * width + k] = words[base + k]!;
    this.hashes[g] = h;
    this.starts[g] = start;
    if (this.codec.interns) this.codec.retain(this.keys, g * width);
  }

  /** Restore: puts group `g` (an id the allocator holds) with the key of row `row` of the codec's last `encode`. */
  insertAt(g: number, row: number, start: number): void {
    const base = row * this.codec.width;
    const h = this.codec.hashes[row]!;
    this.fill(g, this.codec.words, base, h, start);
    this.positions[g] = this.window(start).place(g, h, this.codec.words, base);
  }

  /** Window starts that hold groups, ascending. */
  windowStarts(): number[] {
    return [...this.windows.keys()].sort((a, b) => a - b);
  }

  /** The groups of the window at `start`, in the order they were inserted (a view, valid until the window is dropped). */
  windowGroups(start: number): Int32Array {
    const window = this.windows.get(start);
    return window ? window.groups.subarray(0, window.count) : new Int32Array(0);
  }

  /**
   * Every group: window by window (ascending starts), each in insertion order. Snapshots list
   * groups in this order, so that a restored table has the same insertion order (which decides the
   * order of output rows and of the free list when a window closes).
   */
  groupsInOrder(): Int32Array {
    const out = new Int32Array(this.ids.count);
    let at = 0;
    for (const start of this.windowStarts()) {
      const window = this.windows.get(start)!;
      out.set(window.groups.subarray(0, window.count), at);
      at += window.count;
    }
    return out;
  }

  /** Drops the window at `start` and frees its groups (in insertion order). */
  dropWindow(start: number): void {
    const window = this.windows.get(start);
    if (!window) return;
    const groups = window.groups;
    for (let i = 0; i < window.count; i++) this.forget(groups[i]!);
    this.windows.delete(start);
    if (this.lastWindow === window) {
      this.lastWindow = undefined;
      this.lastStart = NaN;
    }
    if (window.count > this.largest) this.largest = window.count;
    // New windows reuse the table (cleared), which spares allocating and faulting in pages.
    if (this.spares.length === 0) {
      window.slots.fill(0);
      this.spares.push(window);
    }
  }

  /** Frees one group (its window's list then no longer follows insertion order). */
  remove(g: number): void {
    const moved = this.window(this.starts[g]!).remove(g, this.hashes[g]!, this.positions[g]!);
    if (moved >= 0) this.positions[moved] = this.positions[g]!;
    this.forget(g);
  }

  private forget(g: number): void {
    if (this.codec.interns) this.codec.release(this.keys, g * this.codec.width);
    this.ids.release(g);
  }

  /** The key columns of `groups`. */
  keyColumns(groups: Int32Array): Data[] {
    return this.codec.build(this.keys, groups);
  }

  memoryBytes(): number {
    let bytes = this.keys.byteLength + this.starts.byteLength + this.hashes.byteLength + this.ids.capacity + this.codec.memoryBytes();
    for (const w of this.windows.values()) bytes += w.slots.byteLength + w.groups.byteLength;
    return bytes;
  }
}
