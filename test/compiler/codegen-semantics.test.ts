// What the DuckDB comparison does not reach: nested values, overflow, NaN, bare nulls, durations,
// the kernels of aggregates, joins and sinks, and imported functions' null handling.
import { describe, expect, it } from "vitest";
import * as arrow from "apache-arrow";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { Schema } from "../../runtime/plan.ts";
import { columnValues, compile, node, project, select } from "./codegen-harness.ts";

describe("nested values", () => {
  it("reads struct fields (null when the struct is), list elements and map values", async () => {
    const compiled = await compile(`
source t: {
  s: struct { a: int?, inner: struct { b: string }? }?,
  tags: list<string>?, nums: list<int?>, attrs: map<string, string>?, i: int?, k: string
} = files "d"
stream out = t | select
  a = s.a, b = s.inner.b, same = s.inner.b == "x", or_none = s.inner.b ?? "none", inner = s.inner,
  first = tags[0], at = tags[i], n1 = nums[1], v = attrs["k"], vk = attrs[k], n = size(tags),
  second_word = split(k, ",")[1], picked = if(i > 0, s, s).inner.b
stream words = t | explode w = split(k, ",")
sink out -> console
sink words -> console
`);
    const schema = compiled.plan.sources[0]!.schema;
    const rows = [
      { s: { a: 1, inner: { b: "x" } }, tags: ["p", "q"], nums: [1, null, 3], attrs: new Map([["k", "v1"], ["z,w", "zz"]]), i: 1, k: "z,w" },
      { s: { a: null, inner: null }, tags: [], nums: [], attrs: new Map(), i: -1, k: "k" },
      { s: null, tags: null, nums: [5, 6], attrs: null, i: 5, k: "" },
    ];
    const out = project(compiled, "out/1", batchFromRows(schema, rows));
    expect(out).toEqual([
      [1, null, null],
      ["x", null, null],
      [true, null, null],
      ["x", "none", "none"],
      [{ b: "x" }, null, null],
      ["p", null, null],
      ["q", null, null],
      [null, null, 6],
      ["v1", null, null],
      ["zz", null, null],
      [2, 0, null],
      ["w", null, null],
      ["x", null, null],
    ]);
    const explode = node(compiled.plan, "words/1");
    if (explode.kind !== "explode") throw new Error("not an explode");
    const lists = compiled.module.kernels[explode.list] as (b: Batch) => arrow.Data;
    expect(columnValues(lists(batchFromRows(schema, rows)), { kind: "list", element: { name: "element", type: { kind: "string" }, nullable: false } })).toEqual([["z", "w"], ["k"], [""]]);
  });
});

describe("text, bytes and casts to text", () => {
  it("formats values as text, compares bytes, and matches patterns on computed strings", async () => {
    const compiled = await compile(`
source t: { ts: timestamp, d: date, tags: list<string>, raw: bytes, other: bytes, s: string } = files "d"
stream out = t | select
  ts_text = cast(ts as string), d_text = cast(d as string), tags_text = cast(tags as string),
  raw_text = cast(raw as string), to_bytes = cast(s as bytes), same = raw == other, before = raw < other,
  shout = upper(s) like "AB%", picky = upper(s) in ("AB", "CD", "EF", "GH", "IJ", "KL"), nums = cast(split(s, ",") as list<int>)
sink out -> console
`);
    const schema = compiled.plan.sources[0]!.schema;
    const bytes = (text: string) => new TextEncoder().encode(text);
    const out = project(compiled, "out/1", batchFromRows(schema, [
      { ts: 1_704_067_200_500_000, d: 19_723, tags: ["a", "b"], raw: bytes("hé"), other: bytes("hé"), s: "ab,1" },
      { ts: 0, d: 0, tags: [], raw: bytes("a"), other: bytes("b"), s: "kl" },
    ]));
    expect(out).toEqual([
      ["2024-01-01T00:00:00.5Z", "1970-01-01T00:00:00Z"],
      ["2024-01-01", "1970-01-01"],
      ["[a, b]", "[]"],
      ["hé", "a"],
      [bytes("ab,1"), bytes("kl")],
      [true, false],
      [false, true],
      [true, false],
      [false, true],
      [[null, 1], [null]],
    ]);
  });
});

describe("edge values", () => {
  it("gives null for integer and decimal overflow, and for a zero divisor", async () => {
    const compiled = await compile(`
source t: { a: int, b: int, l: long, p: decimal(38, 0), x: double } = files "d"
stream out = t | select m = a * b, neg = -a, sum = a + b, lm = l * l, lneg = -l, pp = p * p, padd = p + p,
  d = a / 0, r = a % 0, xd = x / 0, pr = p % 0, narrow = cast(l as int), wide = cast(p as long)
sink out -> console
`);
    const schema = compiled.plan.sources[0]!.schema;
    const big = 10n ** 37n;
    const out = project(compiled, "out/1", batchFromRows(schema, [
      { a: 1 << 30, b: 4, l: 2 ** 40, p: big, x: 1 },
      { a: -2147483648, b: -1, l: 3, p: 5n, x: 0 },
    ]));
    expect(out).toEqual([
      [null, null],
      [-(1 << 30), null],
      [(1 << 30) + 4, null],
      [null, 9],
      [-(2 ** 40), -3],
      [null, 25n],
      [2n * big, 10n],
      [null, null],
      [null, null],
      [null, null],
      [null, null],
      [null, 3],
      [null, 5],
    ]);
  });

  it("treats NaN as equal to itself and above every number, and -0 as 0", async () => {
    const compiled = await compile(`
source t: { x: double, y: double } = files "d"
stream out = t | select eq = x == y, lt = x < y, gt = x > y, g = greatest(x, y), l = least(x, y), inlist = x in (1.0, y)
sink out -> console
`);
    const schema = compiled.plan.sources[0]!.schema;
    const out = project(compiled, "out/1", batchFromRows(schema, [{ x: NaN, y: NaN }, { x: NaN, y: 1 }, { x: -0, y: 0 }, { x: 2, y: NaN }]));
    expect(out[0]).toEqual([true, false, true, false]);
    expect(out[1]).toEqual([false, false, false, true]);
    expect(out[2]).toEqual([false, true, false, false]);
    expect(out[3]).toEqual([NaN, NaN, -0, NaN]);
    expect(out[4]).toEqual([NaN, 1, -0, 2]);
    expect(out[5]).toEqual([true, false, true, false]);
  });

  it("writes a bare null as a null string column, and null-typed arithmetic as null", async () => {
    const compiled = await compile(`
source t: { a: int } = files "d"
stream out = t | select n = null, s = null + 1, c = case when a > 100 then 1 end, z = coalesce(null, a)
sink out -> console
`);
    const spec = node(compiled.plan, "out/1");
    expect(spec.schema.fields.map((f) => f.type.kind)).toEqual(["string", "int", "int", "int"]);
    const out = project(compiled, "out/1", batchFromRows(compiled.plan.sources[0]!.schema, [{ a: 1 }, { a: 200 }]));
    expect(out).toEqual([
      [null, null],
      [null, null],
      [null, 1],
      [1, 200],
    ]);
  });

  it("computes with durations in micros and gets no rows wrong on an empty batch", async () => {
    const compiled = await compile(`
source t: { started: timestamp, ended: timestamp, n: long } = files "d"
stream out = t | select long_run = ended - started > 90m, half = started + (ended - started) / 2, later = started + n * 1s, back = ended - -(1h)
stream slow = t | where ended - started >= 2h
sink out -> console
sink slow -> console
`);
    const schema = compiled.plan.sources[0]!.schema;
    const h = 3_600_000_000;
    const rows = [{ started: 0, ended: 2 * h, n: 3 }, { started: 10, ended: 11, n: -1 }];
    expect(project(compiled, "out/1", batchFromRows(schema, rows))).toEqual([
      [true, false],
      [h, 10],
      [3_000_000, 10 - 1_000_000],
      [3 * h, 11 + h],
    ]);
    expect(select(compiled, "slow/1", batchFromRows(schema, rows))).toEqual([0]);
    expect(project(compiled, "out/1", batchFromRows(schema, []))).toEqual([[], [], [], []]);
  });
});

describe("kernels of aggregates, joins and sinks", () => {
  it("evaluates aggregate arguments over the input and outputs over window, keys and call results", async () => {
    const compiled = await compile(`
source t: { k: string, x: double?, started: timestamp, ended: timestamp } = files "d"
stream out = t
  | watermark started delay 1m
  | window tumbling 1h
  | aggregate n = count(), mean = sum(x) / count(), key = upper(k), slowest = max(ended - started) > 1h by k
sink out -> console
`);
    const spec = node(compiled.plan, "out.aggregate");
    if (spec.kind !== "aggregate") throw new Error("not an aggregate");
    expect(spec.calls.map((c) => [c.fn, c.args.length, c.result.name, c.result.type.kind])).toEqual([
      ["count", 0, "__agg0", "long"],
      ["sum", 1, "__agg1", "double"],
      ["count", 0, "__agg2", "long"],
      ["max", 1, "__agg3", "duration"],
    ]);
    const input = batchFromRows(compiled.plan.sources[0]!.schema, [{ k: "a", x: 1.5, started: 0, ended: 7_200_000_000 }]);
    const duration = (compiled.module.kernels[spec.calls[3]!.args[0]!] as (b: Batch) => arrow.Data)(input);
    expect(duration.type).toBeInstanceOf(arrow.Int64);
    expect(columnValues(duration, { kind: "duration" })).toEqual([7_200_000_000]);
    const outputSchema: Schema = {
      fields: [
        ...spec.schema.fields.slice(0, 3),
        ...spec.calls.map((c) => (c.result.type.kind === "duration" ? { ...c.result, type: { kind: "long" as const } } : c.result)),
      ],
    };
    const results = batchFromRows(outputSchema, [{ window_start: 0, window_end: 3_600_000_000, k: "abc", __agg0: 4, __agg1: 6, __agg2: 4, __agg3: 7_200_000_000 }]);
    const values = spec.outputs.map((o, i) => columnValues((compiled.module.kernels[o.kernel] as (b: Batch) => arrow.Data)(results), spec.schema.fields[3 + i]!.type));
    expect(values).toEqual([[4], [1.5], ["ABC"], [true]]);
  });

  it("names call results around keys that take their names", async () => {
    const compiled = await compile(`
source t: { __agg0: string, v: int } = files "d"
stream out = t | aggregate total = sum(v) by __agg0
sink out -> console { mode = update }
`);
    const spec = node(compiled.plan, "out.aggregate");
    if (spec.kind !== "aggregate") throw new Error("not an aggregate");
    expect(spec.calls[0]!.result.name).toBe("__agg0_");
    const results = batchFromRows({ fields: [spec.schema.fields[0]!, spec.calls[0]!.result] }, [{ __agg0: "key", __agg0_: 42 }]);
    expect(columnValues((compiled.module.kernels[spec.outputs[0]!.kernel] as (b: Batch) => arrow.Data)(results), { kind: "long" })).toEqual([42]);
  });

  it("evaluates a join condition over the joined columns and a sink key over the stream", async () => {
    const compiled = await compile(`
pipeline p { checkpoint = "c" }
source users: { id: string, name: string, since: int } = files "u"
source orders: { id: string, user_id: string, amount: double } = files "o"
stream joined = orders | left join users on user_id == users.id and amount > since
sink joined -> kafka { brokers = "b", topic = "t", key = user_id + "/" + users_id }
`);
    const join = node(compiled.plan, "joined/1");
    if (join.kind !== "join") throw new Error("not a join");
    expect(join.equiKeys).toEqual([{ left: "user_id", right: "id" }]);
    const joined = batchFromRows(join.schema, [
      { id: "o1", user_id: "u1", amount: 10, users_id: "u1", name: "A", since: 5 },
      { id: "o2", user_id: "u1", amount: 1, users_id: "u1", name: "A", since: 5 },
      { id: "o3", user_id: "u2", amount: 10, users_id: "u1", name: "A", since: 5 },
    ]);
    expect([...(compiled.module.kernels[join.on] as (b: Batch) => Int32Array)(joined)]).toEqual([0]);
    const sink = compiled.plan.sinks[0]!;
    expect(sink.input).toBe("joined/1");
    expect(columnValues((compiled.module.kernels[sink.key!] as (b: Batch) => arrow.Data)(joined), { kind: "string" })).toEqual(["u1/u1", "u1/u1", "u2/u1"]);
  });
});
