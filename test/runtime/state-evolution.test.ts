/**
 * State evolution (runtime/checkpoint/state-evolution.ts) with real operators.
 *
 * Each case compiles an old and a new program, runs the old one's operators over the first
 * batches of a seeded input, snapshots the stateful operator, evolves the snapshot to the new
 * program's declaration, restores it into the new program's operator and runs the remaining
 * batches. The compatibility check must say `evolve` (or `reuse`), and the outputs must equal
 * DuckDB's answer over the whole input, with the documented meaning of each change:
 * - unchanged aggregates count every row, before and after the restore;
 * - an added aggregate counts only rows that arrive after the restore (also for groups that
 *   existed before it); a dropped one is gone;
 * - a widened column holds the same values; a key that can no longer be null drops the groups (or
 *   dedup keys) with a null key, which the new program filters out from then on;
 * - a join's stored rows get null for a new nullable column.
 * Batches follow the engine's order (every input, then the watermark, then the end of the batch),
 * with watermarks chosen so that no row is late: lateness is not what these cases are about.
 */
import { describe, expect, it } from "vitest";
import { loadKernelModule } from "../../compiler/bundle.ts";
import { compileProgram } from "../../compiler/compile-program.ts";
import { formatDiagnostics } from "../../compiler/diagnostics.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import { checkCompatibility, checkpointPlanOf } from "../../runtime/checkpoint/compat.ts";
import { evolveSnapshot } from "../../runtime/checkpoint/state-evolution.ts";
import type { KernelModule } from "../../runtime/kernel.ts";
import type { Operator } from "../../runtime/operators/operator.ts";
import { createOperator } from "../../runtime/operators/registry.ts";
import type { PhysicalPlan, Schema, StateSchema } from "../../runtime/plan.ts";
import { type Duck, type Row, T0, asArrays, duck, load, multiset, prng } from "./operators-harness.ts";

const MINUTE = 60_000_000;
const BATCH_SPAN = 4 * MINUTE;

interface Program {
  plan: PhysicalPlan;
  kernels: KernelModule;
}

async function program(text: string): Promise<Program> {
  const { compiled, diagnostics } = compileProgram(text, undefined);
  if (!compiled) throw new Error(formatDiagnostics("program.stream", text, diagnostics));
  return { plan: compiled.plan, kernels: await loadKernelModule(compiled.kernelSource, { sourcePath: undefined }) };
}

/** Every node of a plan as operators, run batch by batch as the engine's dataflow does, under given watermarks. */
class Operators {
  readonly operators: Operator[];
  readonly outputs: Batch[] = [];

  constructor(
    readonly program: Program,
    /** The node whose output is recorded. */
    readonly output: string,
  ) {
    this.operators = program.plan.nodes.map((node) => createOperator(node, { kernels: program.kernels.kernels, late: { reject: () => expect.fail(`a row reached ${node.id} late`) }, outputMode: "append" }));
  }

  batch(sources: Map<string, Batch>, watermark: number): void {
    const produced = new Map<string, Batch[]>([...sources].map(([id, batch]) => [id, [batch]]));
    for (const operator of this.operators) {
      const out: Batch[] = [];
      const emit = (batch: Batch) => void (batch.length > 0 && out.push(batch));
      operator.node.inputs.forEach((input, position) => {
        for (const batch of produced.get(input) ?? []) operator.process(batch, position, emit);
      });
      operator.onWatermark(watermark, emit);
      operator.endOfBatch(emit);
      produced.set(operator.node.id, out);
    }
    this.outputs.push(...(produced.get(this.output) ?? []));
  }

  stateful(id: string): Operator {
    const operator = this.operators.find((o) => o.node.id === id);
    if (!operator) throw new Error(`no operator ${id}`);
    return operator;
  }

  rows(): CellValue[][] {
    return this.outputs.flatMap(asArrays);
  }
}

function stateOf(plan: PhysicalPlan, id: string): StateSchema {
  const state = plan.state.find((s) => s.operatorId === id);
  if (!state) throw new Error(`no state ${id}`);
  return state;
}

/**
 * Runs `old` over batches `[0, restoreAt)`, evolves the state of `operatorId`, and runs `next` over
 * the rest, then one empty batch whose watermark closes everything. Returns both outputs.
 */
function runAcrossChange(options: {
  old: Program;
  next: Program;
  operatorId: string;
  output: string;
  batches: Map<string, Batch>[];
  restoreAt: number;
  expectVerdict: "reuse" | "evolve";
}): { before: CellValue[][]; after: CellValue[][]; bytes: { old: Uint8Array; evolved: Uint8Array } } {
  const { old, next, operatorId } = options;
  const context = { cwd: "/", env: {} };
  const report = checkCompatibility(JSON.parse(JSON.stringify(checkpointPlanOf(old.plan, context))), checkpointPlanOf(next.plan, context));
  const subject = report.subjects.find((s) => s.kind === "operator" && s.id === operatorId);
  expect(subject?.kind === "operator" && subject.verdict.kind).toBe(options.expectVerdict);

  const first = new Operators(old, options.output);
  options.batches.slice(0, options.restoreAt).forEach((sources, b) => first.batch(sources, T0 + b * BATCH_SPAN));
  const bytes = first.stateful(operatorId).snapshot()!;
  const oldState = JSON.parse(JSON.stringify(stateOf(old.plan, operatorId))) as StateSchema;
  const evolved = evolveSnapshot(bytes, oldState, stateOf(next.plan, operatorId));

  const second = new Operators(next, options.output);
  second.stateful(operatorId).restore(evolved);
  options.batches.slice(options.restoreAt).forEach((sources, i) => second.batch(sources, T0 + (options.restoreAt + i) * BATCH_SPAN));
  second.batch(new Map(), T0 + 24 * 60 * MINUTE);
  return { before: first.rows(), after: second.rows(), bytes: { old: bytes, evolved } };
}

/** Rows of batch `b`: event times within the batch's span, so that none is behind its watermark. */
function generate(seed: number, batches: number, perBatch: number, row: (random: () => number, ts: number) => Row): Row[][] {
  const random = prng(seed);
  return Array.from({ length: batches }, (_, b) => {
    const times = Array.from({ length: perBatch }, () => T0 + b * BATCH_SPAN + Math.floor(random() * BATCH_SPAN));
    return times.map((ts) => row(random, ts));
  });
}

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}

const COUNTRIES = ["de", "fr", "it", "es", null];

async function loadPhases(db: Duck, name: string, schema: Schema, batches: Row[][], restoreAt: number): Promise<void> {
  const fields = [{ name: "idx", type: { kind: "long" as const }, nullable: false }, { name: "phase", type: { kind: "int" as const }, nullable: false }, ...schema.fields];
  const rows = batches.flatMap((batch, b) => batch.map((row) => ({ ...row, phase: b < restoreAt ? 1 : 2 }))).map((row, idx) => ({ ...row, idx }));
  // Timestamps as plain microseconds: window arithmetic stays in integers.
  await load(db, name, fields.map((f) => (f.type.kind === "timestamp" ? { ...f, type: { kind: "long" as const } } : f)), rows);
}

describe("state evolution", () => {
  it("returns the snapshot itself when the declaration did not change", async () => {
    const text = `source s: { k: string, ts: timestamp } = files "in"
stream c = s | watermark ts delay 1m | window tumbling 10m | aggregate n = count() by k
sink c -> memory`;
    const p = await program(text);
    const state = stateOf(p.plan, "c.aggregate");
    const bytes = new Operators(p, "c.aggregate").stateful("c.aggregate").snapshot()!;
    expect(evolveSnapshot(bytes, JSON.parse(JSON.stringify(state)), state)).toBe(bytes);
  });

  it("windowed aggregate: added, dropped and reordered calls, an argument widened from int to long", async () => {
    const schema = (quantity: string) => `{ user_id: string, country: string?, quantity: ${quantity}, ts: timestamp }`;
    const old = await program(`source orders: ${schema("int?")} = files "in"
stream sales = orders | watermark ts delay 1m | window tumbling 10m
  | aggregate n = count(), total = sum(quantity), top = max(quantity) by country
sink sales -> memory`);
    const next = await program(`source orders: ${schema("long?")} = files "in"
stream sales = orders | watermark ts delay 1m | window tumbling 10m
  | aggregate buyers = count_distinct(user_id), total = sum(quantity), n = count(), low = min(quantity), mean = avg(quantity) by country
sink sales -> memory`);
    const data = generate(11, 9, 300, (random, ts) => ({
      user_id: `u${Math.floor(random() * 40)}`,
      country: pick(random, COUNTRIES),
      quantity: random() < 0.1 ? null : Math.floor(random() * 2000) - 500,
      ts,
    }));
    const restoreAt = 6;
    const batches = data.map((rows, b) => new Map([["orders", batchFromRows(b < restoreAt ? old.plan.sources[0]!.schema : next.plan.sources[0]!.schema, rows)]]));
    const { before, after } = runAcrossChange({ old, next, operatorId: "sales.aggregate", output: "sales.aggregate", batches, restoreAt, expectVerdict: "evolve" });

    const db = await duck();
    await loadPhases(db, "orders", next.plan.sources[0]!.schema, data, restoreAt);
    const lastWatermark = T0 + (restoreAt - 1) * BATCH_SPAN;
    const windows = `select *, ts // ${10 * MINUTE} * ${10 * MINUTE} as ws from orders`;
    const expectedBefore = await db.rows(`select ws, ws + ${10 * MINUTE}, country, count(*), sum(quantity)::BIGINT, max(quantity)
      from (${windows}) group by ws, country having ws + ${10 * MINUTE} <= ${lastWatermark}`);
    const expectedAfter = await db.rows(`select ws, ws + ${10 * MINUTE}, country,
        count(distinct user_id) filter (where phase = 2), sum(quantity)::BIGINT, count(*),
        min(quantity) filter (where phase = 2), avg(quantity) filter (where phase = 2)
      from (${windows}) group by ws, country having ws + ${10 * MINUTE} > ${lastWatermark}`);
    expect(before.length).toBeGreaterThanOrEqual(10);
    expect(multiset(before)).toEqual(multiset(expectedBefore));
    expect(after.length).toBeGreaterThanOrEqual(10);
    expect(multiset(after)).toEqual(multiset(expectedAfter));
    // Groups open at the restore are among them, with rows from both sides of it.
    const straddling = await db.rows(`select count(*) from (select ws, country from (${windows}) group by ws, country having min(phase) = 1 and max(phase) = 2)`);
    expect(straddling[0]![0]).toBeGreaterThan(0);
  });

  it("windowed aggregate: a key widened from int to long, and a key that can no longer be null", async () => {
    const schema = (quantity: string) => `{ country: string?, quantity: ${quantity}, ts: timestamp }`;
    const old = await program(`source orders: ${schema("int")} = files "in"
stream sales = orders | watermark ts delay 1m | window tumbling 10m
  | aggregate n = count(), total = sum(quantity) by country, bucket = quantity % 3
sink sales -> memory`);
    const next = await program(`source orders: ${schema("long")} = files "in"
stream sales = orders | where country is not null | watermark ts delay 1m | window tumbling 10m
  | aggregate n = count(), total = sum(quantity) by country, bucket = quantity % 3
sink sales -> memory`);
    const data = generate(12, 7, 250, (random, ts) => ({ country: pick(random, COUNTRIES), quantity: Math.floor(random() * 100), ts }));
    const restoreAt = 4;
    const batches = data.map((rows, b) => new Map([["orders", batchFromRows(b < restoreAt ? old.plan.sources[0]!.schema : next.plan.sources[0]!.schema, rows)]]));
    const { before, after } = runAcrossChange({ old, next, operatorId: "sales.aggregate", output: "sales.aggregate", batches, restoreAt, expectVerdict: "evolve" });

    const db = await duck();
    await loadPhases(db, "orders", next.plan.sources[0]!.schema, data, restoreAt);
    const lastWatermark = T0 + (restoreAt - 1) * BATCH_SPAN;
    const windows = `select *, ts // ${10 * MINUTE} * ${10 * MINUTE} as ws from orders`;
    expect(multiset(before)).toEqual(
      multiset(await db.rows(`select ws, ws + ${10 * MINUTE}, country, quantity % 3, count(*), sum(quantity)::BIGINT from (${windows})
        group by ws, country, quantity % 3 having ws + ${10 * MINUTE} <= ${lastWatermark}`)),
    );
    // Groups with a null country, open at the restore, are gone: the new program filters those rows out.
    expect(multiset(after)).toEqual(
      multiset(await db.rows(`select ws, ws + ${10 * MINUTE}, country, quantity % 3, count(*), sum(quantity)::BIGINT from (${windows})
        where country is not null group by ws, country, quantity % 3 having ws + ${10 * MINUTE} > ${lastWatermark}`)),
    );
    const droppedNullGroups = await db.rows(`select count(*) from (${windows}) where country is null and phase = 1 and ws + ${10 * MINUTE} > ${lastWatermark}`);
    expect(droppedNullGroups[0]![0]).toBeGreaterThan(0);
  });

  it("session windows: a call added to ordered accumulators starts empty and keeps arrival order", async () => {
    const schema = `{ country: string, quantity: int?, ts: timestamp }`;
    const aggregateOld = "n = count(), first_q = first(quantity)";
    const text = (items: string) => `source orders: ${schema} = files "in"
stream visits = orders | watermark ts delay 1m | window session 15s | aggregate ${items} by country
sink visits -> memory`;
    const old = await program(text(aggregateOld));
    const next = await program(text(`${aggregateOld}, all_q = collect_list(quantity), last_q = last(quantity)`));
    const data = generate(13, 7, 80, (random, ts) => ({ country: pick(random, ["de", "fr", "it"]), quantity: random() < 0.2 ? null : Math.floor(random() * 50), ts }));
    const restoreAt = 3;
    const sourceSchema = old.plan.sources[0]!.schema;
    const batches = data.map((rows) => new Map([["orders", batchFromRows(sourceSchema, rows)]]));
    const { before, after } = runAcrossChange({ old, next, operatorId: "visits.aggregate", output: "visits.aggregate", batches, restoreAt, expectVerdict: "evolve" });

    // Oracle for the unchanged calls: the old program, uninterrupted.
    const straight = new Operators(old, "visits.aggregate");
    batches.forEach((sources, b) => straight.batch(sources, T0 + b * BATCH_SPAN));
    straight.batch(new Map(), T0 + 24 * 60 * MINUTE);
    expect(multiset([...before, ...after.map((r) => r.slice(0, 5))])).toEqual(multiset(straight.rows()));

    // The added calls: a session's rows after the restore (arrival order), found by key and bounds.
    const rows = data.flatMap((batch, b) => batch.map((row): Row => ({ ...row, phase: b < restoreAt ? 1 : 2 })));
    expect(after.length).toBeGreaterThan(10);
    let straddling = 0;
    for (const [start, end, country, , , allQ, lastQ] of after) {
      const inSession = rows.filter((r) => r["country"] === country && (r["ts"] as number) >= (start as number) && (r["ts"] as number) < (end as number));
      const values = inSession.filter((r) => r["phase"] === 2 && r["quantity"] !== null).map((r) => r["quantity"]);
      if (inSession.some((r) => r["phase"] === 1) && inSession.some((r) => r["phase"] === 2)) straddling++;
      expect(allQ).toEqual(values);
      expect(lastQ).toEqual(values.at(-1) ?? null);
    }
    expect(straddling).toBeGreaterThan(0);
  });

  it("reuse with bookkeeping only: an argument that can no longer be null", async () => {
    const text = (where: string) => `source orders: { country: string, quantity: int?, ts: timestamp } = files "in"
stream sales = orders ${where} | watermark ts delay 1m | window tumbling 10m | aggregate total = sum(quantity), top = max(quantity) by country
sink sales -> memory`;
    const old = await program(text(""));
    const next = await program(text("| where quantity is not null"));
    expect(JSON.stringify(stateOf(old.plan, "sales.aggregate"))).not.toBe(JSON.stringify(stateOf(next.plan, "sales.aggregate")));
    const data = generate(14, 6, 200, (random, ts) => ({ country: pick(random, ["de", "fr"]), quantity: random() < 0.2 ? null : Math.floor(random() * 100), ts }));
    const restoreAt = 3;
    const schema = old.plan.sources[0]!.schema;
    const batches = data.map((rows) => new Map([["orders", batchFromRows(schema, rows)]]));
    const { before, after } = runAcrossChange({ old, next, operatorId: "sales.aggregate", output: "sales.aggregate", batches, restoreAt, expectVerdict: "reuse" });
    const db = await duck();
    await loadPhases(db, "orders", schema, data, restoreAt);
    expect(multiset([...before, ...after])).toEqual(
      multiset(await db.rows(`select ws, ws + ${10 * MINUTE}, country, sum(quantity)::BIGINT, max(quantity) from (select *, ts // ${10 * MINUTE} * ${10 * MINUTE} as ws from orders) group by ws, country`)),
    );
  });

  it("decimal arguments widened: the result is as if the new program had run from the start", async () => {
    const text = (type: string) => `source orders: { country: string, price: ${type}, ts: timestamp } = files "in"
stream prices = orders | watermark ts delay 1m | window tumbling 10m
  | aggregate total = sum(price), cheapest = min(price), mean = avg(price), n = count(price) by country
sink prices -> memory`;
    const old = await program(text("decimal(10, 2)?"));
    const next = await program(text("decimal(12, 3)?"));
    const data = generate(19, 7, 200, (random, ts) => ({ country: pick(random, ["de", "fr", "it"]), price: random() < 0.1 ? null : BigInt(Math.floor(random() * 2e6) - 1e6), ts }));
    // The same prices with one more digit after the point.
    const rescaled = data.map((batch) => batch.map((row) => ({ ...row, price: row["price"] === null ? null : (row["price"] as bigint) * 10n })));
    const restoreAt = 4;
    const batches = data.map((rows, b) => new Map([["orders", b < restoreAt ? batchFromRows(old.plan.sources[0]!.schema, rows) : batchFromRows(next.plan.sources[0]!.schema, rescaled[b]!)]]));
    const { before, after } = runAcrossChange({ old, next, operatorId: "prices.aggregate", output: "prices.aggregate", batches, restoreAt, expectVerdict: "evolve" });

    const lastWatermark = T0 + (restoreAt - 1) * BATCH_SPAN;
    const straightRun = (p: Program, input: Row[][]) => {
      const run = new Operators(p, "prices.aggregate");
      input.forEach((rows, b) => run.batch(new Map([["orders", batchFromRows(p.plan.sources[0]!.schema, rows)]]), T0 + b * BATCH_SPAN));
      run.batch(new Map(), T0 + 24 * 60 * MINUTE);
      return run.rows();
    };
    const lines = (rows: CellValue[][]) => rows.map((row) => row.map(String).join(" | ")).sort();
    // Windows closed before the restore came from the old program; the others, open at the restore, equal the new program's.
    expect(before.length).toBeGreaterThan(0);
    expect(lines(before)).toEqual(lines(straightRun(old, data).filter((row) => (row[1] as number) <= lastWatermark)));
    expect(after.length).toBeGreaterThan(before.length);
    expect(lines(after)).toEqual(lines(straightRun(next, rescaled).filter((row) => (row[1] as number) > lastWatermark)));
  });

  it("dedup: a key widened from int to long that can no longer be null", async () => {
    const text = (type: string, where: string) => `source events: { user_no: ${type}, payload: string, ts: timestamp } = files "in"
stream firsts = events ${where} | dedup by user_no
sink firsts -> memory`;
    const old = await program(text("int?", ""));
    const next = await program(text("long?", "| where user_no is not null"));
    const data = generate(15, 6, 120, (random, ts) => ({ user_no: random() < 0.1 ? null : Math.floor(random() * 150) - 20, payload: `p${Math.floor(random() * 1e6)}`, ts }));
    const restoreAt = 3;
    const batches = data.map((rows, b) => new Map([["events", batchFromRows((b < restoreAt ? old : next).plan.sources[0]!.schema, rows)]]));
    const { before, after } = runAcrossChange({ old, next, operatorId: "firsts.dedup", output: "firsts.dedup", batches, restoreAt, expectVerdict: "evolve" });

    const db = await duck();
    await loadPhases(db, "events", next.plan.sources[0]!.schema, data, restoreAt);
    const firsts = `select *, row_number() over (partition by user_no order by idx) as rn from events`;
    expect(multiset(before)).toEqual(multiset(await db.rows(`select user_no, payload, ts from (${firsts}) where rn = 1 and phase = 1`)));
    expect(multiset(after)).toEqual(multiset(await db.rows(`select user_no, payload, ts from (${firsts}) where rn = 1 and phase = 2 and user_no is not null`)));
    // Keys seen before the restore are remembered after it, as longs.
    const repeats = await db.rows(`select count(*) from events e where phase = 2 and exists (select 1 from events f where f.phase = 1 and f.user_no = e.user_no)`);
    expect(repeats[0]![0]).toBeGreaterThan(0);
  });

  it("interval join: stored rows gain a nullable column and widen another", async () => {
    const orders = (fields: string) => `source orders: { order_id: string, ${fields}, ts: timestamp } = files "a"
source refunds: { order_id: string, ts: timestamp } = files "b"
stream orders_wm = orders | watermark ts delay 1m
stream matched = refunds | watermark ts delay 1m | join orders_wm on order_id == orders_wm.order_id within 15m
sink matched -> memory`;
    const old = await program(orders("amount: int"));
    const next = await program(orders("amount: long, note: string?"));
    const orderRows = generate(17, 7, 60, (r, ts) => ({ order_id: `o${Math.floor(r() * 40)}`, amount: Math.floor(r() * 1000), note: r() < 0.3 ? null : `n${Math.floor(r() * 9)}`, ts }));
    const refundRows = generate(18, 7, 50, (r, ts) => ({ order_id: `o${Math.floor(r() * 40)}`, ts }));
    const restoreAt = 4;
    // Before the restore the orders have no `note`: the old program's schema.
    for (const batch of orderRows.slice(0, restoreAt)) for (const row of batch) delete row["note"];
    const batches = orderRows.map((rows, b) => {
      const program = b < restoreAt ? old : next;
      return new Map([
        ["orders", batchFromRows(program.plan.sources[0]!.schema, rows)],
        ["refunds", batchFromRows(program.plan.sources[1]!.schema, refundRows[b]!)],
      ]);
    });
    const { before, after } = runAcrossChange({ old, next, operatorId: "matched.join", output: "matched.join", batches, restoreAt, expectVerdict: "evolve" });

    const db = await duck();
    await loadPhases(db, "orders", next.plan.sources[0]!.schema, orderRows, restoreAt);
    await loadPhases(db, "refunds", next.plan.sources[1]!.schema, refundRows, restoreAt);
    const pairs = `from refunds l join orders r on l.order_id = r.order_id and abs(l.ts - r.ts) <= ${15 * MINUTE}`;
    expect(multiset(before)).toEqual(multiset(await db.rows(`select l.order_id, l.ts, r.order_id, r.amount, r.ts ${pairs} where l.phase = 1 and r.phase = 1`)));
    // Orders stored before the restore come out with a null note.
    expect(multiset(after)).toEqual(multiset(await db.rows(`select l.order_id, l.ts, r.order_id, r.amount, r.note, r.ts ${pairs} where l.phase = 2 or r.phase = 2`)));
    const storedMatches = await db.rows(`select count(*) ${pairs} where l.phase = 2 and r.phase = 1`);
    expect(storedMatches[0]![0]).toBeGreaterThan(0);
  });
});
