// Physical planning: node ids and wiring, kernels referred to by index, options and tests in the
// runtime's terms, JSON round trips; and every example and golden program plans, and its kernel
// module compiles and loads.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { bundleProgram, kernelImports, loadKernelModule } from "../../compiler/bundle.ts";
import { generateKernelModule } from "../../compiler/codegen.ts";
import type { NodeSpec, PhysicalPlan } from "../../runtime/plan.ts";
import { plan } from "./codegen-harness.ts";

const root = path.resolve(import.meta.dirname, "../..");

function programs(): { file: string; text: string }[] {
  const examples = readdirSync(path.join(root, "examples"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(path.join(root, "examples", d.name)).filter((f) => f.endsWith(".stream")).map((f) => path.join(root, "examples", d.name, f)));
  const golden = readdirSync(path.join(root, "test/golden/plans")).filter((f) => f.endsWith(".stream")).map((f) => path.join(root, "test/golden/plans", f));
  return [...examples, ...golden].map((file) => ({ file, text: readFileSync(file, "utf8") }));
}

/** Every kernel reference of the plan. */
function kernelRefs(physical: PhysicalPlan): number[] {
  const refs: number[] = [];
  for (const node of physical.nodes) {
    switch (node.kind) {
      case "filter":
        refs.push(node.predicate);
        break;
      case "project":
        refs.push(...node.columns.map((c) => c.kernel));
        break;
      case "explode":
        refs.push(node.list);
        break;
      case "aggregate":
        refs.push(...node.keys.map((k) => k.kernel), ...node.calls.flatMap((c) => c.args), ...node.outputs.map((o) => o.kernel));
        break;
      case "join":
        refs.push(node.on);
        break;
      default:
        break;
    }
  }
  for (const sink of physical.sinks) if (sink.key !== undefined) refs.push(sink.key);
  return refs;
}

describe("every example and golden program", () => {
  for (const { file, text } of programs()) {
    it(`${path.relative(root, file)} plans, round-trips through JSON, and its kernels load`, async () => {
      const { logical, plan: physical, kernels } = plan(text, file);
      expect(JSON.parse(JSON.stringify(physical))).toEqual(physical);
      // Inputs come before the nodes that read them; ids are unique.
      const known = new Set(physical.sources.map((s) => s.id));
      for (const node of physical.nodes) {
        for (const input of node.inputs) expect(known.has(input), `${node.id} reads ${input}`).toBe(true);
        expect(known.has(node.id)).toBe(false);
        known.add(node.id);
      }
      for (const sink of physical.sinks) expect(known.has(sink.input)).toBe(true);
      for (const stream of physical.streams) expect(known.has(stream.output)).toBe(true);
      expect(physical.streams.map((s) => s.name)).toEqual(logical.streams.map((s) => s.name));
      // Every kernel is referred to exactly once.
      expect(kernelRefs(physical).sort((a, b) => a - b)).toEqual(kernels.map((_, i) => i));
      const source = generateKernelModule(kernels, kernelImports(logical.imports, file));
      const module = await loadKernelModule(source, { sourcePath: file });
      expect(module.kernels.length).toBe(kernels.length);
      for (const kernel of module.kernels) expect(typeof kernel).toBe("function");
    });
  }
});

describe("physical planning", () => {
  const revenue = readFileSync(path.join(root, "examples/revenue/revenue.stream"), "utf8");

  it("names stateless nodes STREAM/N and stateful ones by their state, and wires streams, sinks and tests", () => {
    const { plan: physical } = plan(revenue, "examples/revenue/revenue.stream");
    expect(physical.nodes.map((n) => [n.id, n.kind, n.inputs])).toEqual([
      ["paid/1", "filter", ["orders"]],
      ["paid/2", "project", ["paid/1"]],
      ["revenue/1", "watermark", ["paid/2"]],
      ["revenue.aggregate", "aggregate", ["revenue/1"]],
    ]);
    expect(physical.streams).toEqual([
      { name: "paid", output: "paid/2", updating: false },
      { name: "revenue", output: "revenue.aggregate", updating: false },
    ]);
    expect(physical.sinks.map((s) => [s.id, s.input, s.mode, Object.keys(s.options)])).toEqual([
      ["revenue.table", "revenue.aggregate", "append", ["partition_by", "target_file_size"]],
      ["paid.kafka", "paid/2", "append", ["brokers", "topic", "format"]],
    ]);
    expect(physical.sinks[0]!.options.partition_by).toEqual({ kind: "columns", columns: ["country"] });
    expect(physical.sinks[1]!.key).toBeTypeOf("number");
    expect(physical.pipeline.options.trigger).toEqual({ kind: "every", micros: 30_000_000 });
    expect(physical.sources[0]!.options.brokers).toEqual({ kind: "string", value: { kind: "env", variable: "KAFKA_BROKERS", fallback: "localhost:9092" } });
    const aggregate = physical.nodes[3] as Extract<NodeSpec, { kind: "aggregate" }>;
    expect(aggregate.window).toEqual({ kind: "tumbling", sizeMicros: 600_000_000 });
    expect(aggregate.eventTime).toBe("ts");
    expect(aggregate.keys.map((k) => k.name)).toEqual(["country"]);
    expect(aggregate.calls.map((c) => [c.fn, c.args.length, c.result])).toEqual([
      ["count", 0, { name: "__agg0", type: { kind: "long" }, nullable: false }],
      ["sum", 1, { name: "__agg1", type: { kind: "double" }, nullable: false }],
      ["count_distinct", 1, { name: "__agg2", type: { kind: "long" }, nullable: false }],
    ]);
    expect(aggregate.outputs.map((o) => o.name)).toEqual(["n", "revenue", "buyers"]);
    expect(physical.tests[0]!.steps).toEqual([
      { kind: "input", source: "orders", rows: [{ order_id: "a", user_id: "u1", country: "de", amount: 5, ts: { timestamp: 1_704_067_260_000_000 } }] },
      { kind: "advanceWatermark", micros: 1_704_070_800_000_000 },
      {
        kind: "expect",
        stream: "revenue.aggregate",
        streamName: "revenue",
        rows: [{ window_start: { timestamp: 1_704_067_200_000_000 }, window_end: { timestamp: 1_704_067_800_000_000 }, country: "DE", n: 1, revenue: 5, buyers: 1 }],
      },
    ]);
  });

  it("aliases a stream without transforms to its input, and keeps ids unique when names collide", () => {
    const { plan: physical } = plan(`
source \`a/1\`: { x: int } = files "d"
stream a = \`a/1\` | where x > 0
stream b = a
stream c = b | select y = x + 1
sink c -> console
sink b -> console
`);
    expect(physical.nodes.map((n) => [n.id, n.inputs])).toEqual([
      ["a/1~2", ["a/1"]],
      ["c/1", ["a/1~2"]],
    ]);
    expect(physical.streams).toEqual([
      { name: "a", output: "a/1~2", updating: false },
      { name: "b", output: "a/1~2", updating: false },
      { name: "c", output: "c/1", updating: false },
    ]);
    expect(physical.sinks.map((s) => s.input)).toEqual(["c/1", "a/1~2"]);
  });

  it("wires joins and unions to the streams they read, with event times and equi-join keys", () => {
    const { plan: physical } = plan(readFileSync(path.join(root, "examples/ad-attribution/ad-attribution.stream"), "utf8"));
    const join = physical.nodes.find((n) => n.id === "attributed.join") as Extract<NodeSpec, { kind: "join" }>;
    expect(join.inputs).toEqual(["attributed/1", "impressions_wm/1"]);
    expect([join.mode, join.joinType, join.withinMicros, join.leftEventTime, join.rightEventTime]).toEqual(["interval", "inner", 3_600_000_000, "ts", "ts"]);
    expect(join.equiKeys).toEqual([{ left: "impression_id", right: "impression_id" }]);
    expect(join.rightColumns).toContainEqual({ from: "ts", as: "impressions_wm_ts" });

    const union = plan(readFileSync(path.join(root, "test/golden/plans/union.stream"), "utf8")).plan;
    const node = union.nodes.find((n) => n.kind === "union")!;
    expect(node.inputs).toEqual(["web_wm/1", "app_wm/1", "shop_wm/2"]);
    const windowed = union.nodes.find((n) => n.kind === "aggregate") as Extract<NodeSpec, { kind: "aggregate" }>;
    expect(windowed.eventTime).toBe("ts");
  });

  it("gives event times through projections that keep the column under a new name", () => {
    const { plan: physical } = plan(`
pipeline p { checkpoint = "c" }
source l: { id: string, ts: timestamp } = files "l"
source r: { id: string, at: timestamp } = files "r"
stream rw = r | watermark at delay 1m | select rid = id, seen = at
stream joined = l | watermark ts delay 1m | select id, event = ts | join rw on id == rid within 1h
sink joined -> console
`);
    const join = physical.nodes.find((n) => n.kind === "join") as Extract<NodeSpec, { kind: "join" }>;
    expect([join.leftEventTime, join.rightEventTime]).toEqual(["event", "seen"]);
    expect(join.equiKeys).toEqual([{ left: "id", right: "rid" }]);
  });

  it("converts options: timestamps to micros, sizes, words, connectors; updating streams", () => {
    const { plan: physical } = plan(`
pipeline p { checkpoint = "c", deadletter = files "dead", late = drop }
source k: { v: int, ts: timestamp } = kafka { brokers = "b", topic = "t", start = timestamp "2024-01-01T00:00:00+01:00" }
stream counts = k | aggregate n = count() by v
sink counts -> console { mode = complete }
sink k -> table "out" { target_file_size = 64mb }
`);
    expect(physical.sources[0]!.options.start).toEqual({ kind: "timestamp", micros: 1_704_063_600_000_000 });
    expect(physical.pipeline.options.deadletter).toEqual({ kind: "connector", connector: "files", target: { kind: "literal", value: "dead" } });
    expect(physical.pipeline.options.late).toEqual({ kind: "word", word: "drop" });
    expect(physical.sinks[1]!.options.target_file_size).toEqual({ kind: "size", bytes: 64 * 1024 * 1024 });
    expect(physical.sinks[1]!.input).toBe("k");
    expect(physical.streams).toEqual([{ name: "counts", output: "counts.aggregate", updating: true }]);
    expect(physical.sinks[0]!.mode).toBe("complete");
  });

  it("writes decimal test values as exact text", () => {
    const { plan: physical } = plan(`
source s: { p: decimal(12, 2), n: int?, d: date, at: timestamp } = files "d"
stream o = s | select p, n
sink o -> console
test "decimals" {
  input s [ { p: 12.5, n: null, d: date "2024-02-29", at: timestamp "1970-01-01T00:00:01Z" }, { p: 7, d: date "1970-01-02", at: timestamp "1970-01-01T00:00:00Z" } ]
  expect o [ { p: 12.50, n: null }, { p: 7, n: null } ]
}
`);
    expect(physical.tests[0]!.steps).toEqual([
      { kind: "input", source: "s", rows: [{ p: { decimal: "12.50" }, n: null, d: { date: 19_782 }, at: { timestamp: 1_000_000 } }, { p: { decimal: "7" }, d: { date: 1 }, at: { timestamp: 0 } }] },
      { kind: "expect", stream: "o/1", streamName: "o", rows: [{ p: { decimal: "12.50" }, n: null }, { p: { decimal: "7" }, n: null }] },
    ]);
  });
});

describe("bundleProgram", () => {
  it("makes one module that exports the plan and the kernels, with the user's functions inside", async () => {
    const file = path.join(root, "examples/orders-etl/orders-etl.stream");
    const { logical, plan: physical, kernels } = plan(readFileSync(file, "utf8"), file);
    const kernelSource = generateKernelModule(kernels, kernelImports(logical.imports, file));
    const text = await bundleProgram({ plan: physical, kernelSource, sourcePath: file });
    expect(text).toContain('email.lastIndexOf("@")');
    expect(text).not.toMatch(/from\s+["'](apache-arrow|streamc:)/);
    // Written where no node_modules can be found: the bundle must need none.
    const dir = mkdtempSync(path.join(tmpdir(), "streamc-bundle-"));
    const out = path.join(dir, "orders-etl.mjs");
    writeFileSync(out, text);
    const loaded = (await import(pathToFileURL(out).href).finally(() => rmSync(dir, { recursive: true, force: true }))) as { plan: PhysicalPlan; kernels: { kernels: unknown[] } };
    expect(loaded.plan).toEqual(physical);
    expect(loaded.kernels.kernels.length).toBe(kernels.length);
  });
});
