/**
 * The aggregate accumulators (stdlib/aggregate-accumulators.ts) one by one: SQL null rules,
 * exactness at the edges (sums past 2^53 and 2^63, decimal overflow, byte order of strings,
 * timestamps past 2^53), arrival order, merges (session windows), clearing, snapshots, and the
 * HyperLogLog sketch's accuracy against exact counts.
 */
import type { Data } from "apache-arrow";
import { describe, expect, it } from "vitest";
import type { DataType, Field } from "../../runtime/plan.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import { cellReader } from "../../runtime/columnar/read.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { Accumulator } from "../../stdlib/aggregate-accumulators.ts";
import { aggregateFunctions } from "../../stdlib/aggregate-functions.ts";
import {
  HLL_SEED_1,
  HLL_SEED_2,
  deserializeSketch,
  hashWords2,
  hllIndex,
  hllRank,
  serializeSketch,
  sketchAdd,
  sketchEstimate,
  sketchMerge,
  type Sketch,
} from "../../stdlib/hyperloglog.ts";

const INT: DataType = { kind: "int" };
const LONG: DataType = { kind: "long" };
const DOUBLE: DataType = { kind: "double" };
const STRING: DataType = { kind: "string" };
const BYTES: DataType = { kind: "bytes" };
const BOOL: DataType = { kind: "bool" };
const DATE: DataType = { kind: "date" };
const TIMESTAMP: DataType = { kind: "timestamp" };
const DEC: DataType = { kind: "decimal", precision: 10, scale: 2 };

const field = (type: DataType, nullable = true, name = "x"): Field => ({ name, type, nullable });

function column(type: DataType, values: readonly CellValue[]): Data {
  const builder = columnBuilder(field(type), values.length);
  for (const v of values) builder.append(v);
  return builder.finish();
}

function cells(data: Data, type: DataType): CellValue[] {
  const read = cellReader(data, type);
  return Array.from({ length: data.length }, (_, i) => read(i));
}

/** An accumulator for `fn(x: type)` (or `count()` without a type), its result type, and a runner. */
function make(fn: string, type?: DataType, ordered = false) {
  const f = aggregateFunctions.get(fn)!;
  const args = type ? [field(type)] : [];
  const checked = f.check(args.map((a) => ({ type: a.type, nullable: a.nullable })));
  if (!checked.ok) throw new Error(JSON.stringify(checked));
  const result = field(checked.type, checked.nullable, "result");
  const acc = f.accumulator(args, result, { name: "agg", ordered });
  acc.grow(16);
  return {
    acc,
    result: result.type,
    /** Adds `values` to groups `groups` (one per value; -1 skips). */
    add(groups: number[], values: CellValue[] = groups.map(() => null), seqBase = 0) {
      acc.update(Int32Array.from(groups), type ? column(type, values) : undefined, groups.length, undefined, seqBase);
    },
    out(groups: number[]) {
      return cells(acc.finish(Int32Array.from(groups)), result.type);
    },
  };
}

function roundTrip(acc: Accumulator, fresh: Accumulator, groups: number[]): void {
  const ids = Int32Array.from(groups);
  const columns = acc.snapshot(ids);
  expect(columns.length).toBe(acc.fields.length);
  columns.forEach((c, i) => expect(c.length).toBe(groups.length));
  fresh.grow(16);
  fresh.restore(ids, columns);
}

describe("count", () => {
  it("counts rows, or non-null values, never null", () => {
    const all = make("count");
    all.add([0, 0, 1, -1]);
    expect(all.out([0, 1, 2])).toEqual([2, 1, 0]);
    const some = make("count", STRING);
    some.add([0, 0, 1, 1], ["a", null, null, null]);
    expect(some.out([0, 1])).toEqual([1, 0]);
  });

  it("counts nothing for the null literal", () => {
    const acc = make("count", { kind: "null" });
    acc.acc.update(Int32Array.of(0, 0), undefined, 2);
    expect(acc.out([0])).toEqual([0]);
  });
});

describe("sum and avg", () => {
  it("adds ints and longs exactly, past 2^53, and wraps longs at 64 bits", () => {
    const ints = make("sum", INT);
    ints.add([0, 0, 1, 2, 2], [2147483647, 2147483647, null, -5, 3]);
    expect(ints.out([0, 1, 2])).toEqual([4294967294, null, -2]);
    const longs = make("sum", LONG);
    const big = 2 ** 52;
    longs.add([0, 0, 0, 0], [big, big, big, 3]);
    // 3 * 2^52 + 3 is past 2^53 (odd, so not even a double): exact through the bigint spill.
    const exact = 3n * 2n ** 52n + 3n;
    expect((longs.acc.finish(Int32Array.of(0)).values as BigInt64Array)[0]).toBe(exact);
    expect((longs.acc.snapshot(Int32Array.of(0))[0]!.values as BigInt64Array)[0]).toBe(exact);
    const wrap = make("sum", LONG);
    wrap.add([0, 0], [2 ** 62, 2 ** 62]);
    expect(wrap.out([0])).toEqual([-(2 ** 63)]);
  });

  it("sums decimals exactly, and gives null past the result's precision", () => {
    const dec = make("sum", DEC);
    expect(dec.result).toEqual({ kind: "decimal", precision: 20, scale: 2 });
    dec.add([0, 0, 0, 1], [9_999_999_999n, 9_999_999_999n, -1n, null]);
    expect(dec.out([0, 1])).toEqual([19_999_999_997n, null]);
    const narrow: Field = { name: "x", type: { kind: "decimal", precision: 38, scale: 0 }, nullable: false };
    const f = aggregateFunctions.get("sum")!;
    const acc = f.accumulator([narrow], { name: "r", type: narrow.type, nullable: true }, { name: "agg", ordered: false });
    acc.grow(1);
    const huge = 10n ** 37n * 6n;
    acc.update(Int32Array.of(0, 0), column(narrow.type, [huge, huge]), 2);
    expect(cells(acc.finish(Int32Array.of(0)), narrow.type)).toEqual([null]);
  });

  it("adds doubles in arrival order", () => {
    const d = make("sum", DOUBLE);
    d.add([0, 0, 0], [1e16, 1, 1]);
    expect(d.out([0])).toEqual([1e16 + 1 + 1]);
  });

  it("averages: double for numbers, an exact decimal rounded half away from zero for decimals", () => {
    const a = make("avg", INT);
    a.add([0, 0, 0, 1], [1, 2, null, null]);
    expect(a.out([0, 1])).toEqual([1.5, null]);
    const d = make("avg", DEC);
    expect(d.result).toEqual({ kind: "decimal", precision: 14, scale: 6 });
    // (0.01 + 0.02 + 0.02) / 3 = 0.016666... -> 0.016667; negated -> -0.016667
    d.add([0, 0, 0, 1, 1, 1], [1n, 2n, 2n, -1n, -2n, -2n]);
    expect(d.out([0, 1])).toEqual([16667n, -16667n]);
    // (0.01 + 0.02) / 2 = 0.015 exactly: 0.015000
    const e = make("avg", DEC);
    e.add([0, 0], [1n, 2n]);
    expect(e.out([0])).toEqual([15000n]);
  });
});

describe("min and max", () => {
  it("orders strings by bytes (UTF-8), not UTF-16 code units", () => {
    // U+FF5E (～) is EF BD 9E in UTF-8, 😀 is F0 9F 98 80: ～ < 😀 by bytes, the other way in UTF-16.
    const min = make("min", STRING);
    const max = make("max", STRING);
    const values = ["😀", "～", "b", null, "ab", ""];
    min.add([0, 0, 0, 0, 0, 0], values);
    max.add([0, 0, 0, 0, 0, 0], values);
    expect([min.out([0]), max.out([0])]).toEqual([[""], ["😀"]]);
  });

  it("keeps timestamps and longs exact past 2^53, and handles bools, dates, decimals", () => {
    const ts = make("max", TIMESTAMP);
    ts.add([0, 0], [2 ** 60, 2 ** 60 - 2 ** 10]);
    expect(ts.out([0])).toEqual([2 ** 60]);
    const lo = make("min", LONG);
    lo.add([0, 0, 0], [-(2 ** 60), 5, null]);
    expect(lo.out([0])).toEqual([-(2 ** 60)]);
    const b = make("max", BOOL);
    b.add([0, 0, 1], [false, true, false]);
    expect(b.out([0, 1, 2])).toEqual([true, false, null]);
    const d = make("min", DATE);
    d.add([0, 0], [-3, 19000]);
    expect(d.out([0])).toEqual([-3]);
    const m = make("min", DEC);
    m.add([0, 0, 0], [5n, -(2n ** 70n), 2n ** 80n]);
    expect(m.out([0])).toEqual([-(2n ** 70n)]);
  });
});

describe("first, last and collect_list", () => {
  it("skip nulls and follow arrival order", () => {
    const first = make("first", STRING);
    const last = make("last", STRING);
    const list = make("collect_list", INT);
    first.add([0, 0, 0, 1], [null, "a", "b", null]);
    last.add([0, 0, 0, 1], ["a", "b", null, null]);
    list.add([0, 1, 0, 0], [3, null, null, 1]);
    expect(first.out([0, 1])).toEqual(["a", null]);
    expect(last.out([0, 1])).toEqual(["b", null]);
    expect(list.out([0, 1, 2])).toEqual([[3, 1], [], []]);
  });

  it("merge in arrival order when ordered (session windows)", () => {
    const first = make("first", STRING, true);
    const last = make("last", STRING, true);
    const list = make("collect_list", STRING, true);
    // Rows 0..5 arrive in this order; groups 0 and 1 are later merged.
    for (const a of [first, last, list]) a.add([1, 0, 1, 0, 1, 0], ["a", "b", "c", "d", null, "e"], 100);
    for (const a of [first, last, list]) a.acc.merge(0, 1);
    expect(first.out([0])).toEqual(["a"]);
    expect(last.out([0])).toEqual(["e"]);
    expect(list.out([0])).toEqual([["a", "b", "c", "d", "e"]]);
    expect(first.acc.fields.map((f) => f.name)).toEqual(["agg", "agg.seq"]);
    expect(list.acc.fields.map((f) => f.name)).toEqual(["agg", "agg.seqs"]);
    // The arrival ordinals survive a snapshot.
    const again = make("collect_list", STRING, true);
    roundTrip(list.acc, again.acc, [0]);
    again.add([2], ["z"], 0);
    again.acc.merge(2, 0);
    expect(again.out([2])).toEqual([["z", "a", "b", "c", "d", "e"]]);
  });

  it("takes values of any type (lists, structs)", () => {
    const type: DataType = { kind: "struct", fields: [{ name: "a", type: INT, nullable: true }] };
    const last = make("last", type);
    last.add([0, 0], [{ a: 1 }, { a: null }]);
    expect(last.out([0])).toEqual([{ a: null }]);
  });
});

describe("count_distinct", () => {
  it("counts distinct non-null values of every equatable type", () => {
    const cases: [DataType, CellValue[], number][] = [
      [DOUBLE, [0, -0, 1.5, 1.5, null], 2],
      [STRING, ["a", "a", "é", "e\u0301", null], 3],
      [DEC, [1n, 1n, 2n ** 100n], 2],
      [LONG, [2 ** 60, 2 ** 60, 2 ** 60 + 2 ** 10], 2],
      [BYTES, [Uint8Array.of(1, 2), Uint8Array.of(1, 2), Uint8Array.of(2)], 2],
      [{ kind: "list", element: { name: "element", type: INT, nullable: true } }, [[1, 2], [1, 2], [2, 1], []], 3],
      [BOOL, [true, false, true, null], 2],
    ];
    for (const [type, values, expected] of cases) {
      const acc = make("count_distinct", type);
      acc.add(values.map(() => 0), values);
      expect(acc.out([0]), JSON.stringify(type)).toEqual([expected]);
      const copy = make("count_distinct", type);
      roundTrip(acc.acc, copy.acc, [0]);
      expect(copy.out([0])).toEqual([expected]);
    }
  });
});

describe("every accumulator", () => {
  const calls: [string, DataType | undefined, CellValue[]][] = [
    ["count", undefined, [null, null, null]],
    ["count", STRING, ["a", null, "b"]],
    ["count_distinct", STRING, ["a", "a", "b"]],
    ["approx_count_distinct", LONG, [1, 2, 2]],
    ["sum", LONG, [1, null, 2 ** 60]],
    ["sum", DEC, [1n, 2n, null]],
    ["avg", DOUBLE, [1.5, null, 2.5]],
    ["avg", DEC, [1n, 2n, 4n]],
    ["min", STRING, ["b", "a", null]],
    ["max", TIMESTAMP, [1, null, 3]],
    ["first", BYTES, [null, Uint8Array.of(7), Uint8Array.of(8)]],
    ["last", DATE, [1, 2, null]],
    ["collect_list", DOUBLE, [1, null, 2]],
  ];

  it.each(calls)("%s(%j): snapshot columns match stateFields, and restore gives the same results", (fn, type, values) => {
    for (const ordered of [false, true]) {
      const a = make(fn, type, ordered);
      a.add([0, 1, 0], values);
      const f = aggregateFunctions.get(fn)!;
      const stateFields = f.stateFields(type ? [{ type, nullable: true }] : [], "agg");
      expect(a.acc.fields.slice(0, stateFields.length)).toEqual(stateFields);
      const columns = a.acc.snapshot(Int32Array.of(0, 1, 2));
      a.acc.fields.forEach((field, i) => expect(columns[i]!.type.toString(), field.name).toBe(column(field.type, []).type.toString()));
      const b = make(fn, type, ordered);
      roundTrip(a.acc, b.acc, [0, 1, 2]);
      expect(b.out([0, 1, 2])).toEqual(a.out([0, 1, 2]));
    }
  });

  it.each(calls)("%s(%j): clear empties a group for reuse; entries with negative ids and the rows indirection", (fn, type, values) => {
    const a = make(fn, type);
    const empty = make(fn, type).out([5]);
    a.add([3, 3, 3], values);
    a.acc.clear(Int32Array.of(3));
    expect(a.out([3])).toEqual(empty);
    // Entry i adds row rows[i]: rows in reverse, one skipped.
    const b = make(fn, type);
    b.acc.update(Int32Array.of(0, -1, 0), type ? column(type, values) : undefined, 3, Int32Array.of(2, 1, 0));
    const c = make(fn, type);
    c.add([0, 0], [values[2]!, values[0]!]);
    expect(b.out([0])).toEqual(c.out([0]));
  });

  it("gives a null column for the null literal's aggregates", () => {
    for (const fn of ["sum", "avg", "min", "max", "first", "last"]) {
      const a = make(fn, { kind: "null" });
      expect(a.result.kind).toBe("null");
      a.acc.update(Int32Array.of(0), undefined, 1);
      const out = a.acc.finish(Int32Array.of(0, 1));
      expect(out.length).toBe(2);
      expect(out.nullCount).toBe(2);
    }
  });
});

describe("approx_count_distinct (HyperLogLog, precision 14)", () => {
  function sketchOf(values: Iterable<number>): Sketch | undefined {
    let sketch: Sketch | undefined;
    for (const v of values) {
      const h1 = hashWords2(v | 0, Math.floor(v / 4294967296), HLL_SEED_1);
      const h2 = hashWords2(v | 0, Math.floor(v / 4294967296), HLL_SEED_2);
      sketch = sketchAdd(sketch, hllIndex(h1), hllRank(h1, h2));
    }
    return sketch;
  }

  it("estimates within 2% of the exact count, from 0 to a million (through the accumulator)", () => {
    const acc = make("approx_count_distinct", STRING);
    const exact = make("count_distinct", STRING);
    const sizes = [0, 1, 2, 5, 10, 50, 100, 384, 385, 1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000];
    let errors = 0;
    sizes.forEach((size, g) => {
      // Each value three times, in chunks, so that the updates see repeats.
      for (let from = 0; from < size; from += 50_000) {
        const values = Array.from({ length: Math.min(50_000, size - from) }, (_, i) => `user-${g}-${from + i}`);
        const all = [...values, ...values, ...values];
        acc.add(all.map(() => g), all);
        if (size <= 30_000) exact.add(all.map(() => g), all);
      }
    });
    const estimates = acc.out(sizes.map((_, g) => g)) as number[];
    const exacts = exact.out(sizes.map((_, g) => g)) as number[];
    sizes.forEach((size, g) => {
      if (size <= 30_000) expect(exacts[g]).toBe(size);
      const error = Math.abs(estimates[g]! - size) / Math.max(1, size);
      errors += error;
      expect(error, `${size} distinct values, estimated ${estimates[g]}`).toBeLessThanOrEqual(size < 100 ? 0 : 0.02);
    });
    expect(errors / sizes.length).toBeLessThan(0.01);
  });

  it("merges as the union, survives serialisation, and turns dense past the sparse limit", () => {
    const a = sketchOf(Array.from({ length: 3000 }, (_, i) => i));
    const b = sketchOf(Array.from({ length: 3000 }, (_, i) => i + 1500));
    const union = sketchOf(Array.from({ length: 4500 }, (_, i) => i));
    const merged = sketchMerge(sketchMerge(undefined, a), b);
    expect(sketchEstimate(merged)).toBe(sketchEstimate(union));
    expect(a).toBeInstanceOf(Uint8Array);
    const small = sketchOf([1, 2, 3]);
    expect(small).toBeInstanceOf(Int32Array);
    for (const s of [a, small, undefined]) expect(sketchEstimate(deserializeSketch(serializeSketch(s)))).toBe(sketchEstimate(s));
    expect(serializeSketch(undefined).length).toBe(0);
    expect(serializeSketch(small).length).toBe(2 + 4 * 3);
  });
});
