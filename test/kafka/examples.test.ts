/**
 * The Kafka examples as their READMEs say to run them: the sample data loaded into the topic,
 * `streamc run FILE --trigger available_now` from a working directory with `KAFKA_BROKERS` set,
 * against the test broker. Their tables (and revenue's `paid-orders` topic) hold exactly the rows
 * the same program writes when its Kafka source is swapped for the sample file and its sinks for
 * memory (which test/e2e/examples.test.ts compares with DuckDB); the dead letter holds the same
 * rejected records, now positioned at partition and offset.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Schema } from "../../runtime/plan.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { type Canon, canonRow, canonTableCell, compileFile, ROOT, rewritePlan, runPlan } from "../e2e/harness.ts";
import { consumeAll, kafkaBrokers, kafkaClient, produce } from "../support/kafka.ts";

const root = mkdtempSync(join(tmpdir(), "streamc-kafka-examples-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const EXAMPLES = [
  { name: "revenue", topic: "orders", data: "orders.jsonl", outputTopics: { "paid.kafka": "paid-orders" } as Record<string, string> },
  { name: "clickstream-counts", topic: "events", data: "events.jsonl", outputTopics: {} as Record<string, string> },
];

/** A fresh one-partition topic (one partition keeps the file's order, as the memory run reads it). */
async function freshTopic(name: string): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(name)) await admin.deleteTopics({ topics: [name] });
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}


const tableRows = (path: string, schema: Schema) => readTable(path).map((row) => JSON.stringify(schema.fields.map((f) => canonTableCell(f.type, row[f.name])))).sort();

function run(cwd: string, file: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "dist", "streamc.mjs"), "run", file, "--trigger", "available_now"], {
      cwd,
      env: { ...process.env, KAFKA_BROKERS: kafkaBrokers() },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

describe.each(EXAMPLES)("$name against Kafka", (example) => {
  it("writes what the file-fed run writes", async () => {
    const file = join(ROOT, "examples", example.name, `${example.name}.stream`);
    const compiled = await compileFile(file);
    const source = compiled.plan.sources.find((s) => s.connector === "kafka")!;
    const expected = await runPlan(rewritePlan(compiled.plan, { [source.id]: join(ROOT, "examples", example.name, "data") }), compiled.kernels);

    await freshTopic(example.topic);
    for (const topic of Object.values(example.outputTopics)) await freshTopic(topic);
    const lines = readFileSync(join(ROOT, "examples", example.name, "data", example.data), "utf8").split("\n").filter((l) => l !== "");
    await produce(example.topic, lines.map((value) => ({ value })));

    // The working directory the README assumes: the repository root, here a directory that links to its examples.
    const cwd = join(root, example.name);
    rmSync(cwd, { recursive: true, force: true });
    mkdirSync(cwd);
    symlinkSync(join(ROOT, "examples"), join(cwd, "examples"));
    const result = await run(cwd, join("examples", example.name, `${example.name}.stream`));
    expect(result.code, result.stderr).toBe(0);

    let compared = 0;
    for (const sink of compiled.plan.sinks) {
      const want = expected.sinks.get(sink.id)!.map(({ row }) => JSON.stringify(canonRow(sink.schema, row))).sort();
      if (sink.connector === "table") {
        const target = sink.target!.kind === "literal" ? sink.target!.value : "";
        expect(tableRows(join(cwd, target), sink.schema), sink.id).toEqual(want);
        compared++;
      } else if (sink.connector === "kafka") {
        const records = await consumeAll(example.outputTopics[sink.id]!);
        const got = records.map((r) => JSON.stringify(sink.schema.fields.map((f) => {
          const v = (JSON.parse(r.value!.toString()) as Record<string, unknown>)[f.name];
          return f.type.kind === "timestamp" && typeof v === "string" ? Date.parse(v) * 1000 : (v as Canon) ?? null;
        }))).sort();
        expect(got, sink.id).toEqual(want);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
    // The dead letter: the same records rejected for the same reasons, now at partition 0 and their offsets.
    const deadletter = compiled.plan.pipeline.options["deadletter"];
    if (deadletter?.kind === "connector" && deadletter.target.kind === "literal" && expected.deadLetter.length === 0) {
      expect(existsSync(join(cwd, deadletter.target.value)), "no rejects, no dead-letter table").toBe(false);
    } else if (deadletter?.kind === "connector" && deadletter.target.kind === "literal") {
      const dead = readTable(join(cwd, deadletter.target.value));
      const reasons = (rows: Record<string, unknown>[]) => rows.map((r) => `${r["reason"]} ${Buffer.from(r["raw"] as Uint8Array).toString()}`).sort();
      expect(reasons(dead)).toEqual(reasons(expected.deadLetter as Record<string, unknown>[]));
      for (const row of dead) expect([row["partition"], lines[Number(row["offset"])]]).toEqual([0, Buffer.from(row["raw"] as Uint8Array).toString()]);
    }
  }, 120_000);
});
