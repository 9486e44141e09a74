/**
 * Oracle tests of the stateless operators and dedup: seeded random input (nulls, out-of-order and
 * late event times, several batches with the watermark advancing) through the operator, and the
 * same question asked of DuckDB in SQL. Joins are in operators-join.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeSpec, Schema } from "../../runtime/plan.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { createDedupOperator } from "../../runtime/operators/dedup.ts";
import { createExplodeOperator } from "../../runtime/operators/explode.ts";
import { createFilterOperator } from "../../runtime/operators/filter.ts";
import { keyReader } from "../../runtime/operators/key-hash.ts";
import { createProjectOperator } from "../../runtime/operators/project.ts";
import { createUnionOperator } from "../../runtime/operators/union.ts";
import { createWatermarkOperator, isWatermarkSource } from "../../runtime/operators/watermark.ts";
import {
  asArrays,
  columnKernel,
  dictionaryEncode,
  DOUBLE,
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
  STRING_LIST,
  T0,
  TIMESTAMP,
  valueKernel,
} from "./operators-harness.ts";

const STEP = 60 * SECOND;
const DELAY = 30 * SECOND;
/** Event times fall on 10-second ticks, so that `t + within == watermark` and `|l.t - r.t| == within` happen. */
const TICK = 10 * SECOND;

const eventFields = [
  field("seq", INT, false),
  field("k", STRING),
  field("id", INT),
  field("v", DOUBLE),
  field("n", LONG, false),
  field("ts", TIMESTAMP, false),
  field("tags", STRING_LIST),
];
const eventSchema: Schema = { fields: eventFields };
const tableFields = [...eventFields, field("batch", INT, false), field("wm", LONG, false)];
const eventColumns = "seq, k, id, v, n, epoch_us(ts), tags";

/** The watermark batch `b` runs under: one step behind, minus twice the delay (some rows are late). */
function watermarkOf(b: number): number {
  return b === 0 ? NO_WATERMARK : T0 + b * STEP - 2 * DELAY;
}

/** Random events, one array per batch; `seq` numbers them in arrival order from `firstSeq`. */
function events(seed: number, batches: number, perBatch: number, firstSeq = 0): Row[][] {
  const random = prng(seed);
  const pick = (n: number) => Math.floor(random() * n);
  let seq = firstSeq;
  const out: Row[][] = [];
  for (let b = 0; b < batches; b++) {
    const rows: Row[] = [];
    for (let i = 0; i < perBatch; i++) {
      const ts = random() < 0.05 ? T0 + (b - 10) * STEP + pick(STEP) : T0 + b * STEP + TICK * Math.floor(((random() * 2.5 - 1.5) * STEP) / TICK);
      const tags = random() < 0.15 ? null : random() < 0.18 ? [] : Array.from({ length: 1 + pick(3) }, () => (random() < 0.1 ? null : `t${pick(4)}`));
      rows.push({
        seq: seq++,
        k: random() < 0.1 ? null : `k${pick(6)}`,
        id: random() < 0.1 ? null : pick(5),
        v: random() < 0.1 ? null : Math.round(random() * 100) / 100,
        n: pick(1000) - 500,
        ts,
        tags,
        batch: b,
        wm: watermarkOf(b),
      });
    }
    out.push(rows);
  }
  return out;
}

/** Each batch of rows as one input batch on input 0; every other batch with `k` dictionary-encoded. */
function steps(batches: Row[][], watermark: (b: number) => number = () => NO_WATERMARK): Step[] {
  return batches.map((rows, b) => {
    const batch = batchFromRows(eventSchema, rows);
    return { inputs: [[0, b % 2 === 1 ? dictionaryEncode(batch, "k") : batch]], watermark: watermark(b) };
  });
}

let db: Duck;
beforeAll(async () => {
  db = await duck();
});

describe("filter", () => {
  it.each([1, 2, 3])("keeps the rows DuckDB's where keeps, in order (seed %i)", async (seed) => {
    const input = events(seed, 5, 80);
    const node: Extract<NodeSpec, { kind: "filter" }> = { kind: "filter", id: "paid/0", inputs: ["events"], schema: eventSchema, predicate: 0 };
    const recorder = new Recorder();
    const op = createFilterOperator(node, recorder.context([predicate((r) => (r["v"] === null || r["k"] === null ? null : (r["v"] as number) > 0.5))]));
    play(op, steps(input), recorder);
    await load(db, "filter_in", tableFields, input.flat());
    expect(recorder.rows(eventSchema).length).toBeGreaterThan(50);
    expect(recorder.rows(eventSchema).length).toBeLessThan(300);
    expect(recorder.rows(eventSchema)).toEqual(await db.rows(`select ${eventColumns} from filter_in where v > 0.5 and k is not null order by seq`));
    expect(op.snapshot()).toBeUndefined();
  });

  it("passes a batch whose rows are all kept through unchanged, and emits nothing for none", () => {
    const batch = batchFromRows(eventSchema, events(9, 1, 5)[0]!);
    const recorder = new Recorder();
    const all = createFilterOperator({ kind: "filter", id: "f", inputs: ["e"], schema: eventSchema, predicate: 0 }, recorder.context([(b: Batch) => Int32Array.from({ length: b.length }, (_, i) => i)]));
    all.process(batch, 0, recorder.emit);
    expect(recorder.outputs[0]!.columns).toBe(batch.columns);
    const none = createFilterOperator({ kind: "filter", id: "f", inputs: ["e"], schema: eventSchema, predicate: 0 }, recorder.context([() => new Int32Array(0)]));
    none.process(batch, 0, recorder.emit);
    expect(recorder.outputs).toHaveLength(1);
  });
});

describe("project", () => {
  it.each([4, 5])("computes DuckDB's select (seed %i)", async (seed) => {
    const input = events(seed, 4, 70);
    const schema: Schema = { fields: [field("seq", INT, false), field("w", DOUBLE), field("up", STRING), field("k", STRING)] };
    const node: Extract<NodeSpec, { kind: "project" }> = {
      kind: "project",
      id: "p/0",
      inputs: ["events"],
      schema,
      columns: [
        { name: "seq", kernel: 0 },
        { name: "w", kernel: 1 },
        { name: "up", kernel: 2 },
        { name: "k", kernel: 3 },
      ],
    };
    const recorder = new Recorder();
    const kernels = [
      columnKernel(0),
      valueKernel(DOUBLE, (r) => (r["v"] === null ? null : (r["v"] as number) * 2 + (r["n"] as number))),
      valueKernel(STRING, (r) => (r["k"] === null ? null : (r["k"] as string).toUpperCase())),
      columnKernel(1),
    ];
    play(createProjectOperator(node, recorder.context(kernels)), steps(input), recorder);
    await load(db, "project_in", tableFields, input.flat());
    expect(recorder.rows(schema)).toEqual(await db.rows(`select seq, v * 2 + n, upper(k), k from project_in order by seq`));
  });
});

describe("explode", () => {
  const withTag: Schema = { fields: [...eventFields, field("tag", STRING)] };
  const replaced: Schema = { fields: eventFields.map((f) => (f.name === "tags" ? field("tags", STRING) : f)) };
  const unnested = (table: string) => `select *, unnest(tags) as tag, generate_subscripts(tags, 1) as pos from ${table}`;

  it.each([6, 7])("appends the element column as DuckDB's unnest does: null and empty lists give no row (seed %i)", async (seed) => {
    const input = events(seed, 4, 60);
    const node: Extract<NodeSpec, { kind: "explode" }> = { kind: "explode", id: "x/0", inputs: ["events"], schema: withTag, name: "tag", list: 0 };
    const recorder = new Recorder();
    play(createExplodeOperator(node, recorder.context([columnKernel(6)])), steps(input), recorder);
    await load(db, "explode_in", tableFields, input.flat());
    expect(recorder.rows(withTag)).toEqual(await db.rows(`select ${eventColumns}, tag from (${unnested("explode_in")}) order by seq, pos`));
  });

  it("replaces the list column in place when the element takes its name", async () => {
    const input = events(8, 3, 60);
    const node: Extract<NodeSpec, { kind: "explode" }> = { kind: "explode", id: "x/0", inputs: ["events"], schema: replaced, name: "tags", list: 0 };
    const recorder = new Recorder();
    play(createExplodeOperator(node, recorder.context([valueKernel(STRING_LIST, (r) => r["tags"]!)])), steps(input), recorder);
    await load(db, "explode_in2", tableFields, input.flat());
    expect(recorder.rows(replaced)).toEqual(await db.rows(`select seq, k, id, v, n, epoch_us(ts), tag from (${unnested("explode_in2")}) order by seq, pos`));
  });
});

describe("union", () => {
  it("emits every input's rows: DuckDB's union all", async () => {
    const inputs = [events(10, 4, 30, 0), events(11, 3, 50, 10_000), events(12, 5, 20, 20_000)];
    const node: Extract<NodeSpec, { kind: "union" }> = { kind: "union", id: "u/0", inputs: ["a", "b", "c"], schema: eventSchema };
    const recorder = new Recorder();
    const schedule: Step[] = [0, 1, 2, 3, 4].map((b) => ({
      inputs: inputs.flatMap((side, i) => (side[b] ? [[i, batchFromRows(eventSchema, side[b]!)] as [number, Batch]] : [])).reverse(),
      watermark: NO_WATERMARK,
    }));
    play(createUnionOperator(node, recorder.context([])), schedule, recorder);
    for (const [i, side] of inputs.entries()) await load(db, `union_${i}`, tableFields, side.flat());
    const expected = await db.rows(`select ${eventColumns} from union_0 union all select ${eventColumns} from union_1 union all select ${eventColumns} from union_2`);
    expect(multiset(recorder.rows(eventSchema))).toEqual(multiset(expected));
    expect(recorder.outputs.every((b) => b.schema === eventSchema)).toBe(true);
  });
});

describe("watermark", () => {
  it("passes rows through and tracks the largest event time seen, as DuckDB's max", async () => {
    const input = events(13, 6, 40);
    const node: Extract<NodeSpec, { kind: "watermark" }> = { kind: "watermark", id: "w/0", inputs: ["events"], schema: eventSchema, column: "ts", delayMicros: DELAY };
    const recorder = new Recorder();
    const op = createWatermarkOperator(node, recorder.context([]));
    expect(isWatermarkSource(op)).toBe(true);
    expect(op.eventTimeMax()).toBeUndefined();
    await load(db, "wm_in", tableFields, input.flat());
    for (const [b, rows] of input.entries()) {
      op.process(batchFromRows(eventSchema, rows), 0, recorder.emit);
      const [[min, max]] = (await db.rows(`select min(epoch_us(ts)), max(epoch_us(ts)) from wm_in where batch = ${b}`)) as [[number, number]];
      expect(op.batchEventTimeRange()).toEqual({ min, max });
      op.onWatermark(watermarkOf(b), recorder.emit);
      op.endOfBatch(recorder.emit);
      expect(op.batchEventTimeRange()).toBeUndefined();
      const [[seen]] = (await db.rows(`select max(epoch_us(ts)) from wm_in where batch <= ${b}`)) as [[number]];
      expect(op.eventTimeMax()).toBe(seen);
    }
    expect(recorder.rows(eventSchema)).toEqual(await db.rows(`select ${eventColumns} from wm_in order by seq`));
  });
});

describe("key hashing", () => {
  it("tells composite keys apart whatever their text, and treats null, -0 and NaN as values", () => {
    const schema: Schema = { fields: [field("a", STRING), field("b", STRING), field("x", DOUBLE)] };
    const batch = batchFromRows(schema, [
      { a: "a;", b: "b", x: 0 },
      { a: "a", b: ";b", x: -0 },
      { a: "a;", b: "b", x: -0 },
      { a: null, b: "", x: NaN },
      { a: "", b: null, x: NaN },
      { a: null, b: "", x: NaN },
    ]);
    const reader = keyReader(batch.columns, schema.fields.map((f) => f.type));
    const keys = [0, 1, 2, 3, 4, 5].map((r) => reader.key(r));
    expect(keys[0]).toBe(keys[2]);
    expect(keys[3]).toBe(keys[5]);
    expect(new Set(keys).size).toBe(4);
    expect(reader.hasNull(3)).toBe(true);
    expect(reader.hasNull(0)).toBe(false);
    const single = keyReader([batch.columns[2]!], [DOUBLE]);
    expect(new Set([0, 1, 3, 4].map((r) => single.key(r))).size).toBe(2);
  });
});

describe("dedup without within", () => {
  const variants: { keys: string[]; seed: number }[] = [
    { keys: ["k"], seed: 21 },
    { keys: ["k", "id"], seed: 22 },
    { keys: ["id"], seed: 23 },
    { keys: ["n"], seed: 24 },
    { keys: ["k", "tags"], seed: 25 },
  ];
  it.each(variants)("keeps the first row of each key $keys as row_number() = 1 does, across batches and a restore", async ({ keys, seed }) => {
    const input = events(seed, 6, 70);
    const node: Extract<NodeSpec, { kind: "dedup" }> = { kind: "dedup", id: "d.dedup", inputs: ["events"], schema: eventSchema, keys, withinMicros: undefined, eventTime: undefined };
    await load(db, "dedup_in", tableFields, input.flat());
    const expected = await db.rows(`select ${eventColumns} from dedup_in qualify row_number() over (partition by ${keys.join(", ")} order by seq) = 1 order by seq`);

    const straight = new Recorder();
    const op = createDedupOperator(node, straight.context([]));
    play(op, steps(input), straight);
    expect(straight.rows(eventSchema)).toEqual(expected);
    expect(op.metrics().stateRows).toBe((await db.rows(`select count(*) from (select distinct ${keys.join(", ")} from dedup_in)`))[0]![0]);

    const resumed = new Recorder();
    const first = createDedupOperator(node, resumed.context([]));
    play(first, steps(input).slice(0, 3), resumed);
    const second = createDedupOperator(node, resumed.context([]));
    second.restore(first.snapshot()!);
    play(second, steps(input).slice(3), resumed);
    expect(resumed.rows(eventSchema)).toEqual(expected);
  });
});

describe("dedup within", () => {
  const WITHIN = 90 * SECOND;
  const variants: { keys: string[]; seed: number; batches: number; perBatch: number }[] = [
    { keys: ["k"], seed: 31, batches: 10, perBatch: 50 },
    { keys: ["k"], seed: 32, batches: 10, perBatch: 50 },
    { keys: ["k", "id"], seed: 33, batches: 10, perBatch: 50 },
    { keys: ["id"], seed: 34, batches: 10, perBatch: 50 },
    // Long enough for the state to be compacted (a segment per batch, at most 63).
    { keys: ["k", "id"], seed: 35, batches: 100, perBatch: 12 },
  ];

  /**
   * The chosen semantics in SQL: late rows (ts < their batch's watermark) are dropped; a key's next
   * kept row is its first on-time row after the last kept one whose batch's watermark is past the
   * last kept row's ts + within.
   */
  const oracle = (table: string, keys: string[]) => `
    with recursive
      ontime as (select * from ${table} where epoch_us(ts) >= wm),
      successor as (
        select a.seq, (select min(b.seq) from ontime b where ${keys.map((k) => `b.${k} is not distinct from a.${k}`).join(" and ")}
                         and b.seq > a.seq and b.wm > epoch_us(a.ts) + ${WITHIN}) as next
        from ontime a),
      kept(seq) as (
        select min(seq) from ontime group by ${keys.join(", ")}
        union all
        select successor.next from kept join successor on successor.seq = kept.seq where successor.next is not null)
    select ${eventColumns} from ontime where seq in (select seq from kept) order by seq`;

  it.each(variants)("keeps a key's first row until the watermark passes its event time + within ($keys, seed $seed, $batches batches)", async ({ keys, seed, batches, perBatch }) => {
    const input = events(seed, batches, perBatch);
    const node: Extract<NodeSpec, { kind: "dedup" }> = { kind: "dedup", id: "d.dedup", inputs: ["events"], schema: eventSchema, keys, withinMicros: WITHIN, eventTime: "ts" };
    await load(db, "dedupw_in", tableFields, input.flat());
    const expected = await db.rows(oracle("dedupw_in", keys));
    const expectedLate = (await db.rows(`select seq from dedupw_in where epoch_us(ts) < wm order by seq`)).map((r) => r[0]);
    // The input exercises every rule: late rows, duplicates dropped, keys forgotten and kept again.
    const [[onTime, distinctKeys]] = (await db.rows(`select count(*), count(distinct (${keys.join(", ")})) from dedupw_in where epoch_us(ts) >= wm`)) as [[number, number]];
    expect(expectedLate.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(onTime);
    expect(expected.length).toBeGreaterThan(distinctKeys + 5);
    const schedule = [...steps(input, watermarkOf), { inputs: [], watermark: T0 + (batches + 100) * STEP }];

    const straight = new Recorder();
    const op = createDedupOperator(node, straight.context([]));
    play(op, schedule, straight);
    expect(straight.rows(eventSchema)).toEqual(expected);
    expect(straight.lateRows().map((r) => r["seq"])).toEqual(expectedLate);
    expect(straight.late.every((l) => l.operatorId === "d.dedup")).toBe(true);
    expect(op.metrics().droppedByWatermark).toBe(expectedLate.length);
    expect(op.metrics().stateRows).toBe(0);

    for (const at of [1, 4, 7, batches - 5]) {
      const resumed = new Recorder();
      const first = createDedupOperator(node, resumed.context([]));
      play(first, schedule.slice(0, at), resumed);
      const second = createDedupOperator(node, resumed.context([]));
      second.restore(first.snapshot()!);
      expect(second.metrics().stateRows).toBe(first.metrics().stateRows);
      play(second, schedule.slice(at), resumed);
      expect(resumed.rows(eventSchema)).toEqual(expected);
      expect(resumed.lateRows().map((r) => r["seq"])).toEqual(expectedLate);
    }
  });

  it("holds state only for keys the watermark has not passed", () => {
    const schema: Schema = { fields: [field("k", STRING), field("ts", TIMESTAMP, false)] };
    const node: Extract<NodeSpec, { kind: "dedup" }> = { kind: "dedup", id: "d.dedup", inputs: ["e"], schema, keys: ["k"], withinMicros: 10, eventTime: "ts" };
    const recorder = new Recorder();
    const op = createDedupOperator(node, recorder.context([]));
    const batch = (rows: Row[]) => batchFromRows(schema, rows);
    play(op, [{ inputs: [[0, batch([{ k: "a", ts: 100 }, { k: "b", ts: 105 }, { k: "a", ts: 101 }])]], watermark: 0 }], recorder);
    expect(asArrays(recorder.outputs[0]!)).toEqual([["a", 100], ["b", 105]]);
    // At watermark 110 both keys are still remembered (100 + 10 is not below 110): "a" at 112 is a duplicate.
    play(op, [{ inputs: [[0, batch([{ k: "a", ts: 112 }, { k: "c", ts: 109 }])]], watermark: 110 }], recorder);
    expect(recorder.outputs).toHaveLength(1);
    expect(recorder.lateRows()).toEqual([{ k: "c", ts: 109 }]);
    expect(op.metrics().stateRows).toBe(2);
    // At 111 "a" (100) is forgotten, "b" (105) is not.
    play(op, [{ inputs: [[0, batch([{ k: "a", ts: 113 }, { k: "b", ts: 114 }])]], watermark: 111 }], recorder);
    expect(asArrays(recorder.outputs[1]!)).toEqual([["a", 113]]);
    expect(op.metrics().stateRows).toBe(2);
  });
});
