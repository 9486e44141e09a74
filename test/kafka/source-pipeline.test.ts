/**
 * A pipeline reading a kafka source end to end, through `streamc run` (bin/streamc.ts `main`):
 * kafka → where/select → files sink, with a checkpoint, run in two halves (`--max-batches`, then
 * `available_now` after more records arrive), the last batch of the first half replayed as after a
 * crash before its commit. The output equals DuckDB's answer to the same query
 * over the produced records; every bad record is in the dead letter with its partition, offset and
 * bytes; progress reports the records behind; the consumer group's committed offsets (lag
 * monitoring) end where the checkpoint does. A topic that does not exist stops `run` with exit 1.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { duckRows } from "../support/duckdb.ts";
import { consumeAll, createTopic, kafkaBrokers, kafkaClient, produce, uniqueTopic, type TestMessage } from "../support/kafka.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function program(dir: string, topic: string, brokers: string): string {
  const file = join(dir, "kafka-etl.stream");
  writeFileSync(
    file,
    `pipeline kafka_etl {
  checkpoint = "${join(dir, "checkpoint")}"
  deadletter = files "${join(dir, "rejects")}"
}

source orders: { id: long, customer: string?, amount: double, country: string } = kafka {
  brokers       = "${brokers}"
  topic         = "${topic}"
  start         = earliest
  max_per_batch = 500
}

stream big = orders
  | where amount >= 100
  | select id, customer, country = upper(country), doubled = amount * 2

sink big -> files "${join(dir, "out")}" {
  format = json
}
`,
  );
  return file;
}

async function run(file: string, ...args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const code = await main(["run", file, ...args], { out: () => {}, err: (t) => (err += t) });
  return { code, err };
}

/** Records `first` to `first + count - 1`, round robin over three partitions; every 29th is bad. */
function records(first: number, count: number): { messages: TestMessage[]; good: object[] } {
  const countries = ["de", "fr", "nl", "us", "jp"];
  const messages: TestMessage[] = [];
  const good: object[] = [];
  for (let id = first; id < first + count; id++) {
    const partition = id % 3;
    if (id % 29 === 0) {
      messages.push({ partition, value: id % 2 ? `{"id": ${id}, "amount": 12.5, "country": 7}` : `{"id": ${id}, "amount": ` });
      continue;
    }
    const row = { id, customer: id % 5 === 0 ? null : `customer-${id % 41}`, amount: (id * 37) % 250 + 0.5, country: countries[id % 5]! };
    messages.push({ partition, value: JSON.stringify(row) });
    good.push(row);
  }
  return { messages, good };
}

function jsonLines(dir: string): Record<string, unknown>[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json")).sort();
  } catch {
    return [];
  }
  return names.flatMap((n) => readFileSync(join(dir, n), "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe("a kafka source in a pipeline", () => {
  it("runs in two halves with a checkpoint: DuckDB's answer, the dead letter positioned, lag committed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamc-kafka-source-"));
    dirs.push(dir);
    const topic = uniqueTopic("pipeline-orders");
    await createTopic(topic, 3);
    const firstPart = records(1, 2400);
    await produce(topic, firstPart.messages);
    const file = program(dir, topic, kafkaBrokers());

    // First half: three batches of 500 records out of 2,400.
    const first = await run(file, "--max-batches", "3");
    expect(first.code).toBe(0);
    // Only the summary: no retries, no warnings.
    const summary = /^kafka_etl: 3 batches, (\d+) rows in, \d+ rows out, (\d+) rejected\n$/.exec(first.err);
    expect(summary, first.err).not.toBeNull();
    expect(Number(summary![1]) + Number(summary![2])).toBe(1500);
    const progress = readFileSync(join(dir, "checkpoint", "progress.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(progress.map((p) => p.sources[0].numInputRows + countRejects(p))).toEqual([500, 500, 500]);
    expect(progress.map((p) => p.sources[0].metrics.offsetsBehindLatest)).toEqual([1900, 1400, 900]);
    expect(progress[0].sources[0].description).toBe(`kafka[${topic}]`);

    // A crash after batch 2 read its range but before it committed: its commit is missing, so the
    // next run first reads the recorded range again (offsets/2.json) and rewrites its output.
    const recorded = JSON.parse(readFileSync(join(dir, "checkpoint", "offsets", "2.json"), "utf8"));
    expect(recorded.ranges.orders.topic).toBe(topic);
    rmSync(join(dir, "checkpoint", "commits", "2.json"));

    // More records arrive; the second half drains everything.
    const secondPart = records(2401, 900);
    await produce(topic, secondPart.messages);
    const second = await run(file, "--trigger", "available_now");
    expect(second.code).toBe(0);
    expect(second.err).toMatch(/^kafka_etl: \d+ batches, \d+ rows in, \d+ rows out, \d+ rejected\n$/);
    // The second run began with batch 2 again, reading the range recorded for it.
    const secondProgress = readFileSync(join(dir, "checkpoint", "progress.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).slice(3);
    expect(secondProgress[0].batchId).toBe(2);
    expect(secondProgress[0].sources[0].endOffset).toEqual(progress[2].sources[0].endOffset);

    // The output: DuckDB over the good records produced.
    const input = join(dir, "produced.json");
    writeFileSync(input, [...firstPart.good, ...secondPart.good].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const expected = await duckRows(
      `SELECT id, customer, upper(country) AS country, amount * 2 AS doubled
       FROM read_json('${input}', columns = {id: 'BIGINT', customer: 'VARCHAR', amount: 'DOUBLE', country: 'VARCHAR'})
       WHERE amount >= 100 ORDER BY id`,
    );
    const output = jsonLines(join(dir, "out")).sort((a, b) => (a["id"] as number) - (b["id"] as number));
    expect(output.length).toBe(expected.length);
    expect(output).toEqual(expected);

    // The dead letter: every bad record once, at its partition and offset, with its bytes.
    const consumed = await consumeAll(topic);
    const bad = consumed.filter((m) => Number(/"id":\s*(\d+)/.exec(m.value!.toString())![1]) % 29 === 0);
    const dead = jsonLines(join(dir, "rejects")).map((r) => ({ partition: r["partition"], offset: r["offset"], source: r["source"], reason: r["reason"], raw: Buffer.from(r["raw"] as string, "base64").toString() }));
    const byPosition = (a: { partition: unknown; offset: unknown }, b: { partition: unknown; offset: unknown }) => (a.partition as number) - (b.partition as number) || (a.offset as number) - (b.offset as number);
    expect(dead.sort(byPosition)).toEqual(
      bad.map((m) => ({ partition: m.partition, offset: m.offset, source: "orders", reason: m.value!.toString().endsWith(": ") ? "malformed" : "type_mismatch", raw: m.value!.toString() })).sort(byPosition),
    );

    // Lag monitoring: the group's committed offsets end where the checkpoint's do.
    const pipelineId = (JSON.parse(readFileSync(join(dir, "checkpoint", "metadata.json"), "utf8")) as { id: string }).id;
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      // Each run's consumer has a group of its own, `streamc-<pipeline id>-orders-run-<random>`; the
      // last run's committed offsets are the topic's end.
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`streamc-${pipelineId}-orders-run-`));
      expect(groups.length).toBeGreaterThanOrEqual(2);
      const high = (await admin.fetchTopicOffsets(topic)).map((h) => [h.partition, Number(h.high)]).sort();
      const committed = await Promise.all(groups.map(async (groupId) => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => [p.partition, Number(p.offset)]).sort()));
      expect(committed).toContainEqual(high);
    } finally {
      await admin.disconnect();
    }
  });

  it("stops with exit code 1 and a message naming the topic and brokers when the topic does not exist", async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamc-kafka-source-"));
    dirs.push(dir);
    const topic = uniqueTopic("pipeline-missing");
    const result = await run(program(dir, topic, kafkaBrokers()), "--trigger", "available_now");
    expect(result.code).toBe(1);
    expect(result.err).toContain(`kafka source orders: topic "${topic}" does not exist on brokers ${kafkaBrokers()}`);
  });
});

function countRejects(progress: { deadLetters: Record<string, number> }): number {
  return Object.values(progress.deadLetters).reduce((a, b) => a + b, 0);
}
