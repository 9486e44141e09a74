/**
 * Every example that runs without Kafka, with its real `table` sinks and a real checkpoint: the
 * tables it writes hold exactly the rows that the same program writes to memory sinks (which
 * examples.test.ts compares with DuckDB), the table dead letter holds the same rejected records,
 * and running it again over the same input changes nothing (the checkpoint resumes after the
 * last batch; the tables gain no commit).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadKernelModule } from "../../compiler/bundle.ts";
import type { PhysicalPlan, Schema, Settings } from "../../runtime/plan.ts";
import { runPipeline } from "../../runtime/engine/pipeline.ts";
import { createOperator } from "../../runtime/operators/registry.ts";
import { deadLetterSchema } from "../../runtime/deadletter.ts";
import { latestVersion } from "../../runtime/table/delta-log.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { canonRow, canonTableCell, compileFile, ROOT, rewritePlan, runPlan } from "./harness.ts";

const EXAMPLES = ["ad-attribution", "dedup-retries", "orders-etl", "sessions"];
const root = mkdtempSync(join(tmpdir(), "streamc-example-tables-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const literal = (value: string) => ({ kind: "literal" as const, value });

/** The plan with its table sinks, table dead letter and checkpoint moved under `dir`; other sinks to memory. */
function withTablesIn(plan: PhysicalPlan, dir: string): PhysicalPlan {
  const sinks = plan.sinks.map((s) =>
    s.connector === "table" ? { ...s, target: literal(join(dir, s.id)) } : { ...s, connector: "memory", target: undefined, options: {}, key: undefined },
  );
  const options: Settings = { ...plan.pipeline.options, checkpoint: { kind: "string", value: literal(join(dir, "checkpoint")) } };
  const deadletter = options["deadletter"];
  if (deadletter?.kind === "connector") options["deadletter"] = { ...deadletter, target: literal(join(dir, "deadletter")) };
  return { ...plan, sinks, pipeline: { ...plan.pipeline, options } };
}


function tableRows(path: string, schema: Schema): string[] {
  return readTable(path).map((row) => JSON.stringify(schema.fields.map((f) => canonTableCell(f.type, row[f.name])))).sort();
}

const withoutTime = (schema: Schema) => ({ fields: schema.fields.filter((f) => f.name !== "time") });

describe.each(EXAMPLES)("%s with real tables", (name) => {
  it("writes the rows the memory run writes, once, and a rerun adds nothing", async () => {
    const compiled = await compileFile(`examples/${name}/${name}.stream`);
    const expected = await runPlan(rewritePlan(compiled.plan, {}), compiled.kernels);
    const dir = join(root, name);
    const plan = withTablesIn(compiled.plan, dir);
    const kernels = await loadKernelModule(compiled.kernelSource, { sourcePath: join(ROOT, "examples", name) });
    const run = () => runPipeline({ plan, kernels, createOperator, trigger: { kind: "available_now" }, cwd: ROOT, env: {}, log: () => {} });

    const first = await run();
    expect(first.batches).toBeGreaterThan(0);
    const tables = plan.sinks.filter((s) => s.connector === "table");
    expect(tables.length).toBeGreaterThan(0);
    const versions = new Map<string, number>();
    for (const sink of tables) {
      const want = expected.sinks.get(sink.id)!.map(({ row }) => JSON.stringify(canonRow(sink.schema, row))).sort();
      expect(want.length, `${sink.id} writes something`).toBeGreaterThan(0);
      expect(tableRows(join(dir, sink.id), sink.schema), sink.id).toEqual(want);
      versions.set(sink.id, latestVersion(join(dir, sink.id)));
    }
    const tableDeadLetter = compiled.plan.pipeline.options["deadletter"]?.kind === "connector" && expected.deadLetter.length > 0;
    // orders-etl has bad records on purpose: its table dead letter must be compared.
    if (name === "orders-etl") expect(tableDeadLetter).toBe(true);
    if (tableDeadLetter) {
      const schema = withoutTime(deadLetterSchema);
      const want = expected.deadLetter.map((row) => JSON.stringify(canonRow(schema, row))).sort();
      expect(tableRows(join(dir, "deadletter"), schema)).toEqual(want);
    }

    const second = await run();
    expect(second.inputRows).toBe(0);
    for (const sink of tables) expect(latestVersion(join(dir, sink.id)), sink.id).toBe(versions.get(sink.id));
  });
});
