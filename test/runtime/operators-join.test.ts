/**
 * Oracle tests of the joins: seeded random sides (nulls, duplicate keys, out-of-order and late
 * event times) played batch by batch with the watermark advancing, against DuckDB's answer to the
 * same join. The interval join is checked after every batch (what it has emitted so far), so the
 * timing of left-join null rows is checked too, and again across a snapshot and restore.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Field, NodeSpec, Schema } from "../../runtime/plan.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { createJoinOperator } from "../../runtime/operators/join.ts";
import {
  asArrays,
  dictionaryEncode,
  type Duck,
  duck,
  field,
  INT,
  load,
  LONG,
  multiset,
  NO_WATERMARK,
  play,
  predicate,
  prng,
  Recorder,
  type Row,
  SECOND,
  type Step,
  STRING,
  T0,
  TIMESTAMP,
} from "./operators-harness.ts";

type JoinNode = Extract<NodeSpec, { kind: "join" }>;

const STEP = 60 * SECOND;
const DELAY = 30 * SECOND;
/** Event times fall on 10-second ticks, so that `t + within == watermark` and `|l.t - r.t| == within` happen. */
const TICK = 10 * SECOND;
const WITHIN = 90 * SECOND;
const RIGHT_SEQ = 1_000_000;

const leftFields = [field("seq", INT, false), field("k", STRING), field("g", INT), field("a", INT), field("ts", TIMESTAMP, false)];
const rightFields = [field("seq", INT, false), field("k", STRING), field("g", LONG), field("b", INT), field("ts", TIMESTAMP, false)];
const lookupFields = rightFields.filter((f) => f.name !== "ts");
const extra = [field("batch", INT, false), field("wm", LONG, false)];

function watermarkOf(b: number): number {
  return b === 0 ? NO_WATERMARK : T0 + b * STEP - 2 * DELAY;
}

function side(seed: number, batches: number, perBatch: number, firstSeq: number, value: "a" | "b"): Row[][] {
  const random = prng(seed);
  const pick = (n: number) => Math.floor(random() * n);
  let seq = firstSeq;
  return Array.from({ length: batches }, (_, b) =>
    Array.from({ length: perBatch }, () => ({
      seq: seq++,
      k: random() < 0.1 ? null : `k${pick(5)}`,
      g: random() < 0.1 ? null : pick(3),
      [value]: random() < 0.1 ? null : pick(10),
      ts: random() < 0.05 ? T0 + (b - 10) * STEP + pick(STEP) : T0 + b * STEP + TICK * Math.floor(((random() * 2.5 - 1.5) * STEP) / TICK),
      batch: b,
      wm: watermarkOf(b),
    })),
  );
}

/** The node of `join RIGHT on ...`: right columns whose names the left has are renamed `R_name`. */
function joinNode(mode: "interval" | "lookup", joinType: "inner" | "left", right: Field[], equiKeys: JoinNode["equiKeys"], rightEventTime = "ts"): JoinNode {
  const leftNames = new Set(leftFields.map((f) => f.name));
  const rightColumns = right.map((f) => ({ from: f.name, as: leftNames.has(f.name) ? `R_${f.name}` : f.name }));
  return {
    kind: "join",
    id: "joined.join",
    inputs: ["left", "right"],
    schema: { fields: [...leftFields, ...right.map((f, i) => ({ ...f, name: rightColumns[i]!.as, nullable: f.nullable || joinType === "left" }))] },
    joinType,
    mode,
    on: 0,
    withinMicros: mode === "interval" ? WITHIN : undefined,
    leftEventTime: mode === "interval" ? "ts" : undefined,
    rightEventTime: mode === "interval" ? rightEventTime : undefined,
    rightColumns,
    equiKeys,
  };
}

interface Condition {
  name: string;
  on: (r: Row) => boolean | null;
  sql: string;
  equiKeys: JoinNode["equiKeys"];
  rightEventTime?: string;
}

const num = (v: unknown) => v as number;
const conditions: Condition[] = [
  {
    name: "k == R_k and a <= b + 3",
    on: (r) => (r["k"] === null || r["R_k"] === null || r["a"] === null || r["b"] === null ? null : r["k"] === r["R_k"] && num(r["a"]) <= num(r["b"]) + 3),
    sql: "l.k = r.k and l.a <= r.b + 3",
    equiKeys: [{ left: "k", right: "k" }],
  },
  {
    name: "k == R_k and g == R_g (int == long)",
    on: (r) => (r["k"] === null || r["R_k"] === null || r["g"] === null || r["R_g"] === null ? null : r["k"] === r["R_k"] && r["g"] === r["R_g"]),
    sql: "l.k = r.k and l.g = r.g",
    equiKeys: [
      { left: "k", right: "k" },
      { left: "g", right: "g" },
    ],
    rightEventTime: "R_ts",
  },
  {
    name: "a < b (no equi-key: one bucket)",
    on: (r) => (r["a"] === null || r["b"] === null ? null : num(r["a"]) < num(r["b"])),
    sql: "l.a < r.b",
    equiKeys: [],
  },
  {
    name: "g == R_g, the key named by its joined name",
    on: (r) => (r["g"] === null || r["R_g"] === null ? null : r["g"] === r["R_g"]),
    sql: "l.g = r.g",
    equiKeys: [{ left: "g", right: "R_g" }],
  },
];

let db: Duck;
beforeAll(async () => {
  db = await duck();
});

describe("interval join", () => {
  /** Data batches, each side split in two and delivered in an order that changes, then batches that only move the watermark. */
  function schedule(left: Row[][], right: Row[][]): Step[] {
    const batches = left.length;
    const lSchema: Schema = { fields: leftFields };
    const rSchema: Schema = { fields: rightFields };
    const out: Step[] = left.map((rows, b) => {
      const half = rows.length >> 1;
      const l1 = batchFromRows(lSchema, rows.slice(0, half));
      const l2 = batchFromRows(lSchema, rows.slice(half));
      const r = batchFromRows(rSchema, right[b]!);
      const inputs: [number, Batch][] = b % 2 === 0 ? [[0, l1], [1, b % 4 === 0 ? dictionaryEncode(r, "k") : r], [0, l2]] : [[1, r], [0, dictionaryEncode(l1, "k")], [0, l2]];
      return { inputs, watermark: watermarkOf(b) };
    });
    out.push({ inputs: [], watermark: watermarkOf(batches) }, { inputs: [], watermark: watermarkOf(batches + 1) }, { inputs: [], watermark: T0 + (batches + 100) * STEP });
    return out;
  }

  const near = "abs(epoch_us(l.ts) - epoch_us(r.ts)) <= " + WITHIN;
  const onTime = (t: string) => `epoch_us(${t}.ts) >= ${t}.wm`;
  const columns = "l.seq, l.k, l.g, l.a, epoch_us(l.ts), r.seq, r.k, r.g, r.b, epoch_us(r.ts)";
  /** What the join has emitted once batch `n` (under watermark `wm`) is done. */
  const oracle = (c: Condition, joinType: string, n: number, wm: number) => `
    select ${columns} from jl l join jr r on (${c.sql}) and ${near}
    where ${onTime("l")} and ${onTime("r")} and greatest(l.batch, r.batch) <= ${n}
    ${
      joinType === "left"
        ? `union all
    select l.seq, l.k, l.g, l.a, epoch_us(l.ts), null, null, null, null, null from jl l
    where ${onTime("l")} and l.batch <= ${n} and epoch_us(l.ts) + ${WITHIN} < ${wm}
      and not exists (select 1 from jr r where ${onTime("r")} and (${c.sql}) and ${near})`
        : ""
    }`;

  const cases = [
    ...conditions.flatMap((c, i) => (["inner", "left"] as const).map((joinType) => ({ c, joinType, seed: 100 + 2 * i + (joinType === "left" ? 1 : 0), name: c.name, batches: 8, perBatch: 40 }))),
    // Long enough for the state to be compacted (a segment per batch and side, at most 63).
    { c: conditions[0]!, joinType: "left" as const, seed: 120, name: `${conditions[0]!.name}, 90 batches`, batches: 90, perBatch: 8 },
    { c: conditions[2]!, joinType: "inner" as const, seed: 121, name: `${conditions[2]!.name}, 90 batches`, batches: 90, perBatch: 8 },
  ];

  it.each(cases)("$joinType join on $name: every batch's output is DuckDB's", async ({ c, joinType, seed, batches, perBatch }) => {
    const left = side(seed, batches, perBatch, 0, "a");
    const right = side(seed + 1000, batches, perBatch, RIGHT_SEQ, "b");
    await load(db, "jl", [...leftFields, ...extra], left.flat());
    await load(db, "jr", [...rightFields, ...extra], right.flat());
    const node = joinNode("interval", joinType, rightFields, c.equiKeys, c.rightEventTime);
    const steps = schedule(left, right);
    const expected: string[][] = [];
    for (const [n, step] of steps.entries()) expected.push(multiset(await db.rows(oracle(c, joinType, n, step.watermark))));
    const final = expected[expected.length - 1]!;
    expect(final.length).toBeGreaterThan(20);
    const expectedLate = (await db.rows(`select seq from jl where not (${onTime("jl")}) union all select seq from jr where not (${onTime("jr")})`)).map((r) => r[0] as number);
    expect(expectedLate.length).toBeGreaterThan(0);

    const recorder = new Recorder();
    const op = createJoinOperator(node, recorder.context([predicate(c.on)]));
    play(op, steps, recorder, (n) => expect(multiset(recorder.rows(node.schema)), `after batch ${n}`).toEqual(expected[n]));
    expect(recorder.lateRows().map((r) => r["seq"] as number).sort((x, y) => x - y)).toEqual(expectedLate.sort((x, y) => x - y));
    expect(op.metrics().droppedByWatermark).toBe(expectedLate.length);
    expect(op.metrics().stateRows).toBe(0);

    for (const at of [1, 3, 6, 9, batches - 10].filter((at, i, all) => at > 0 && all.indexOf(at) === i)) {
      const resumed = new Recorder();
      const first = createJoinOperator(node, resumed.context([predicate(c.on)]));
      play(first, steps.slice(0, at), resumed);
      const second = createJoinOperator(node, resumed.context([predicate(c.on)]));
      second.restore(first.snapshot()!);
      expect(second.metrics().stateRows).toBe(first.metrics().stateRows);
      play(second, steps.slice(at), resumed, (n) => expect(multiset(resumed.rows(node.schema)), `restored at ${at}, after batch ${at + n}`).toEqual(expected[at + n]));
      expect(resumed.lateRows().length).toBe(expectedLate.length);
    }
  });

  it("expires state as the watermark passes event time + within, and emits a left row's nulls then", () => {
    const node = joinNode("interval", "left", rightFields, [{ left: "k", right: "k" }]);
    const recorder = new Recorder();
    const op = createJoinOperator(node, recorder.context([predicate((r) => r["k"] === r["R_k"])]));
    const l = (rows: Row[]) => batchFromRows({ fields: leftFields }, rows);
    const r = (rows: Row[]) => batchFromRows({ fields: rightFields }, rows);
    const W = WITHIN;
    play(op, [{ inputs: [[0, l([{ seq: 1, k: "x", g: null, a: null, ts: 1000 }, { seq: 2, k: "y", g: null, a: null, ts: 1000 }])]], watermark: 0 }], recorder);
    expect(recorder.outputs).toHaveLength(0);
    // A right row exactly W later matches; the watermark sits at 1000 + W: nothing expires yet.
    play(op, [{ inputs: [[1, r([{ seq: 9, k: "x", g: null, b: null, ts: 1000 + W }])]], watermark: 1000 + W }], recorder);
    expect(recorder.rows(node.schema).map((row) => [row[0], row[5]])).toEqual([[1, 9]]);
    expect(op.metrics().stateRows).toBe(3);
    // One past: both left rows expire; only "y" never matched, so only it comes out with nulls.
    play(op, [{ inputs: [], watermark: 1001 + W }], recorder);
    expect(recorder.rows(node.schema).map((row) => [row[0], row[5]])).toEqual([[1, 9], [2, null]]);
    expect(asArrays(recorder.outputs[1]!)[0]!.slice(5)).toEqual([null, null, null, null, null]);
    expect(op.metrics().stateRows).toBe(1);
    play(op, [{ inputs: [], watermark: 1001 + 2 * W }], recorder);
    expect(op.metrics().stateRows).toBe(0);
  });
});

describe("lookup join", () => {
  const cases = conditions.slice(0, 3).flatMap((c, i) => (["inner", "left"] as const).map((joinType) => ({ c, joinType, seed: 200 + 2 * i + (joinType === "left" ? 1 : 0), name: c.name })));

  it.each(cases)("$joinType lookup join on $name: DuckDB's join, in left order", async ({ c, joinType, seed }) => {
    const left = side(seed, 5, 50, 0, "a");
    const table = side(seed + 1000, 1, 40, RIGHT_SEQ, "b")[0]!;
    await load(db, "ll", [...leftFields, ...extra], left.flat());
    await load(db, "lr", lookupFields, table);
    const node = joinNode("lookup", joinType, lookupFields, c.equiKeys);
    const lSchema: Schema = { fields: leftFields };
    const rSchema: Schema = { fields: lookupFields };
    // The bounded side arrives in the first batch, after that batch's left rows, in two parts.
    const steps: Step[] = left.map((rows, b) => ({
      inputs: b === 0
        ? [[0, batchFromRows(lSchema, rows)], [1, batchFromRows(rSchema, table.slice(0, 15))], [1, dictionaryEncode(batchFromRows(rSchema, table.slice(15)), "k")]]
        : [[0, b % 2 ? dictionaryEncode(batchFromRows(lSchema, rows), "k") : batchFromRows(lSchema, rows)]],
      watermark: NO_WATERMARK,
    }));
    const recorder = new Recorder();
    const op = createJoinOperator(node, recorder.context([predicate(c.on)]));
    play(op, steps, recorder);
    const expected = await db.rows(`
      select l.seq, l.k, l.g, l.a, epoch_us(l.ts), r.seq, r.k, r.g, r.b
      from ll l ${joinType === "left" ? "left join" : "join"} lr r on ${c.sql} order by l.seq, r.seq`);
    expect(expected.length).toBeGreaterThan(20);
    expect(recorder.rows(node.schema)).toEqual(expected);
    expect(op.snapshot()).toBeUndefined();
    expect(recorder.late).toHaveLength(0);
  });

  it("sees the right rows received so far; earlier left rows are not revisited", () => {
    const node = joinNode("lookup", "left", lookupFields, [{ left: "k", right: "k" }]);
    const recorder = new Recorder();
    const op = createJoinOperator(node, recorder.context([predicate((r) => r["k"] === r["R_k"])]));
    const l = (seq: number) => [0, batchFromRows({ fields: leftFields }, [{ seq, k: "x", g: null, a: null, ts: 0 }])] as [number, Batch];
    const r = (seq: number) => [1, batchFromRows({ fields: lookupFields }, [{ seq, k: "x", g: null, b: null }])] as [number, Batch];
    play(op, [
      { inputs: [l(1)], watermark: NO_WATERMARK },
      { inputs: [l(2), r(10)], watermark: NO_WATERMARK },
      { inputs: [r(11), l(3)], watermark: NO_WATERMARK },
    ], recorder);
    expect(recorder.rows(node.schema).map((row) => [row[0], row[5]])).toEqual([[1, null], [2, 10], [3, 10], [3, 11]]);
  });
});
