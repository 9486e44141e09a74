/**
 * A running pipeline whose Kafka broker goes away in the middle of the run and comes back: the run
 * goes on by itself (no restart), and its tables equal DuckDB's answer over every record produced,
 * each exactly once. The pipeline runs as a compiled bundle in a child process, as in production,
 * against a broker of this file's own.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compileBundle, startBundle } from "../support/bundle-process.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { duckRows } from "../support/duckdb.ts";
import { brokerDown, brokerUp, createTopic, kafkaBrokers, produce, type TestMessage, uniqueTopic, useOwnBroker } from "../support/kafka.ts";
import { prng } from "../support/prng.ts";

useOwnBroker();

const root = mkdtempSync(join(tmpdir(), "streamc-kafka-outage-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bundle = join(root, "build", "orders.mjs");
const ORDERS = 60_000;

beforeAll(async () => {
  mkdirSync(join(root, "build"));
  const file = join(root, "orders.stream");
  writeFileSync(
    file,
    `pipeline orders {
  checkpoint = env("CHECKPOINT", "")
  trigger = every 200ms
}
schema Order { order_id: string, country: string, amount: double, ts: timestamp }
source orders: Order = kafka { brokers = env("BROKERS", ""), topic = env("TOPIC", ""), format = json, start = earliest, max_per_batch = 5000 }
stream big = orders | where amount > 100 | select order_id, country, amount
stream revenue = orders | watermark ts delay 1m | window tumbling 5m | aggregate n = count(), total = sum(amount) by country
sink big -> table env("BIG", "")
sink revenue -> table env("REVENUE", "")
`,
  );
  await compileBundle(file, join(root, "build"));
}, 120_000);

function orders(from: number, to: number): TestMessage[] {
  const random = prng(from);
  const base = Date.parse("2024-07-01T00:00:00Z");
  return Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    return {
      key: `k${i % 101}`,
      value: JSON.stringify({ order_id: `o-${i}`, country: ["DE", "FR", "US"][i % 3], amount: Math.round(random() * 30_000) / 100, ts: new Date(base + i * 1000 - Math.floor(random() * 20_000)).toISOString() }),
    };
  });
}

/** Waits until the newest progress line says every source is caught up with `produced` records read in total. */
async function caughtUp(checkpoint: string, produced: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the pipeline exited (${child.exitCode})`);
    let lines: { sources: { endOffset: { partitions: Record<string, number> } | null; metrics: { offsetsBehindLatest: number } }[] }[] = [];
    try {
      lines = readFileSync(join(checkpoint, "progress.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    } catch {
      // not written yet
    }
    const last = lines.at(-1);
    const read = last?.sources[0]?.endOffset ? Object.values(last.sources[0].endOffset.partitions).reduce((a, b) => a + b, 0) : 0;
    if (read >= produced) return;
    if (Date.now() > deadline) throw new Error(`caught up with ${read} of ${produced} records in 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function lastBatchWithoutData(checkpoint: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const last = JSON.parse(readFileSync(join(checkpoint, "progress.jsonl"), "utf8").trim().split("\n").at(-1)!) as { numInputRows: number };
    if (last.numInputRows === 0) return;
    if (Date.now() > deadline) throw new Error("no batch without data ran within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

it("goes on by itself when the broker goes away mid-run and comes back, and its tables are exact", async () => {
  const topic = uniqueTopic("outage-orders");
  await createTopic(topic, 4);
  const checkpoint = join(root, "checkpoint");
  const env = { ...process.env, BROKERS: kafkaBrokers(), TOPIC: topic, CHECKPOINT: checkpoint, BIG: join(root, "big"), REVENUE: join(root, "revenue") };
  await produce(topic, orders(0, 20_000));
  const run = startBundle(bundle, ["--http", "0"], env);
  const child = run.child;
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = run.exited.then((exit) => exit.code);
  try {
    await caughtUp(checkpoint, 20_000, child);
    // The outage: the broker goes away for 4 seconds, while the pipeline polls for more.
    await brokerDown();
    // While the broker is away, /status shows the pipeline retrying.
    const url = /dashboard at (http:\/\/\S+?)\/?,/.exec(stderr)?.[1];
    expect(url, stderr).toBeDefined();
    const deadline = Date.now() + 4_000;
    let retrying: string | undefined;
    while (!retrying && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const status = (await (await fetch(`${url}/status`)).json()) as { state: string; recentLog: { line: string }[] };
      expect(status.state).toBe("running");
      retrying = status.recentLog.map((l) => l.line).find((l) => /kafka source orders: .*(ECONNREFUSED|Connection error)/.test(l));
    }
    expect(retrying, "a retry line in /status while the broker is away").toBeDefined();
    await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
    await brokerUp();
    await produce(topic, orders(20_000, 40_000));
    // A second outage in the middle of reading a backlog.
    await new Promise((r) => setTimeout(r, 150));
    await brokerDown();
    await new Promise((r) => setTimeout(r, 3_000));
    await brokerUp();
    await produce(topic, orders(40_000, ORDERS));
    await caughtUp(checkpoint, ORDERS, child);
    // Then one batch without data runs under the final watermark and closes what it can.
    await lastBatchWithoutData(checkpoint);
  } finally {
    child.kill("SIGTERM");
  }
  expect(await exited, stderr).toBe(0);
  // The outage showed in the log, and the run did not restart: one run id throughout.
  expect(stderr).toMatch(/ECONNREFUSED|cannot reach|retry|trying again/i);
  const runIds = new Set(readFileSync(join(checkpoint, "progress.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).runId));
  expect(runIds.size).toBe(1);

  const all = [...orders(0, 20_000), ...orders(20_000, 40_000), ...orders(40_000, ORDERS)].map((m) => m.value as string);
  const input = join(root, "input.json");
  writeFileSync(input, all.join("\n") + "\n");
  const read = `read_json('${input}', columns = {order_id: 'VARCHAR', country: 'VARCHAR', amount: 'DOUBLE', ts: 'TIMESTAMPTZ'})`;
  const big = readTable(join(root, "big")).map((r) => String(r["order_id"])).sort();
  const expectedBig = (await duckRows(`SELECT order_id FROM ${read} WHERE amount > 100`)).map((r) => String(r["order_id"])).sort();
  expect(big.length).toBe(expectedBig.length);
  expect(big).toEqual(expectedBig);
  const windows = await duckRows(`
    WITH w AS (SELECT epoch_us(time_bucket(INTERVAL 5 MINUTE, ts)) AS s, country, amount FROM ${read})
    SELECT s, country, count(*)::BIGINT AS n, sum(amount) AS total FROM w
    WHERE s + 300000000 <= (SELECT epoch_us(max(ts)) FROM ${read}) - 60000000
    GROUP BY s, country`);
  const revenue = readTable(join(root, "revenue")) as { window_start: unknown; country: string; n: unknown; total: number }[];
  expect(revenue.length).toBe(windows.length);
  const byKey = new Map(windows.map((w) => [`${w["s"]}|${w["country"]}`, w]));
  for (const row of revenue) {
    const want = byKey.get(`${Number(row.window_start)}|${row.country}`);
    expect(want, JSON.stringify(row)).toBeDefined();
    expect(Number(row.n)).toBe(want!["n"]);
    expect(row.total).toBeCloseTo(want!["total"] as number, 6);
  }
}, 300_000);
