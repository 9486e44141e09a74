/**
 * The registry builds an operator for every plan node kind (the Record below fails to compile when a
 * kind is added without an example), and a built pipeline of them runs end to end.
 */
import { describe, expect, it } from "vitest";
import type { NodeKind, NodeSpec, Schema } from "../../runtime/plan.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import { createOperator } from "../../runtime/operators/registry.ts";
import { isWatermarkSource } from "../../runtime/operators/watermark.ts";
import { columnKernel, field, INT, LONG, NO_WATERMARK, predicate, Recorder, STRING, STRING_LIST, TIMESTAMP } from "./operators-harness.ts";

const schema: Schema = { fields: [field("k", STRING), field("n", INT), field("ts", TIMESTAMP, false), field("tags", STRING_LIST)] };
const base = { inputs: ["events"], schema };
const examples: { [K in NodeKind]: Extract<NodeSpec, { kind: K }> } = {
  filter: { ...base, id: "s/0", kind: "filter", predicate: 0 },
  project: { ...base, id: "s/1", kind: "project", columns: schema.fields.map((f, i) => ({ name: f.name, kernel: 10 + i })) },
  explode: { ...base, id: "s/2", kind: "explode", name: "tag", list: 13, schema: { fields: [...schema.fields, field("tag", STRING)] } },
  watermark: { ...base, id: "s/3", kind: "watermark", column: "ts", delayMicros: 1000 },
  aggregate: {
    ...base,
    id: "s.aggregate",
    kind: "aggregate",
    schema: { fields: [field("k", STRING), field("c", LONG, false)] },
    window: undefined,
    eventTime: undefined,
    keys: [{ name: "k", kernel: 10 }],
    calls: [{ fn: "count", args: [], argTypes: [], result: field("c", LONG, false) }],
    outputs: [{ name: "c", kernel: 20 }],
  },
  dedup: { ...base, id: "s.dedup", kind: "dedup", keys: ["k"], withinMicros: 5000, eventTime: "ts" },
  join: {
    id: "s.join",
    kind: "join",
    inputs: ["events", "other"],
    schema: { fields: [...schema.fields, field("other_k", STRING), field("other_ts", TIMESTAMP, false)] },
    joinType: "inner",
    mode: "interval",
    on: 0,
    withinMicros: 1000,
    leftEventTime: "ts",
    rightEventTime: "ts",
    rightColumns: [
      { from: "k", as: "other_k" },
      { from: "ts", as: "other_ts" },
    ],
    equiKeys: [{ left: "k", right: "k" }],
  },
  union: { ...base, id: "s/4", kind: "union", inputs: ["events", "more"] },
};

const kernels = Object.assign([], {
  0: predicate(() => true),
  10: columnKernel(0),
  11: columnKernel(1),
  12: columnKernel(2),
  13: columnKernel(3),
  20: columnKernel(1),
});

describe("operator registry", () => {
  it.each(Object.values(examples))("builds the operator of a $kind node", (node) => {
    const recorder = new Recorder();
    const op = createOperator(node, recorder.context(kernels, "update"));
    expect(op.node).toBe(node);
    expect(isWatermarkSource(op)).toBe(node.kind === "watermark");
    expect(op.metrics().droppedByWatermark).toBe(0);
  });

  it("refuses to restore a snapshot of another operator kind", () => {
    const ctx = new Recorder().context(kernels);
    const join = createOperator(examples.join, ctx);
    const dedup = createOperator(examples.dedup, ctx);
    expect(() => dedup.restore(join.snapshot()!)).toThrow("state snapshot is join/1, expected dedup/1");
  });

  it("refuses a node whose kernel the module lacks", () => {
    expect(() => createOperator({ ...examples.filter, predicate: 99 }, new Recorder().context(kernels))).toThrow(/kernel 99/);
  });

  it("runs rows through filter, explode and dedup built by the registry", () => {
    const recorder = new Recorder();
    const ctx = recorder.context(kernels);
    const chain = [createOperator(examples.filter, ctx), createOperator(examples.explode, ctx), createOperator({ ...examples.dedup, schema: examples.explode.schema, keys: ["tag"] }, ctx)];
    const batch = batchFromRows(schema, [
      { k: "a", n: 1, ts: 10, tags: ["x", "y"] },
      { k: "b", n: 2, ts: 20, tags: ["y", "z", null] },
    ]);
    let inputs = [batch];
    for (const op of chain) {
      const out = new Recorder();
      for (const b of inputs) op.process(b, 0, out.emit);
      op.onWatermark(NO_WATERMARK, out.emit);
      op.endOfBatch(out.emit);
      inputs = out.outputs;
    }
    expect(inputs.flatMap((b) => b.columns[4]!.length)).toEqual([4]);
  });
});
