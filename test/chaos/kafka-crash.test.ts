/**
 * Crash safety with Kafka: 200,000 JSON orders (`KAFKA_CHAOS_ORDERS` to change) over 4 partitions,
 * about 1% of them broken in each way a record can be rejected, read by a pipeline that is killed
 * with SIGKILL (at least 20 times; `KAFKA_CHAOS_KILLS` for more), half at random instants and half at
 * the named crash points of runtime/fault.ts, and restarted,
 * while more orders are produced. Afterwards:
 * - the stateless `kafka -> table` branch holds exactly the valid orders, and the window aggregate's
 *   table exactly DuckDB's answer over them (no order is late: disorder stays under the delay);
 * - the dead letter holds exactly the broken records, each with its reason, partition and offset.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compileBundle, runBundle } from "../support/bundle-process.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { duckRows } from "../support/duckdb.ts";
import { consumeAll, createTopic, kafkaBrokers, produce, type TestMessage, uniqueTopic } from "../support/kafka.ts";
import { prng } from "../support/prng.ts";

const ORDERS = Number(process.env["KAFKA_CHAOS_ORDERS"] ?? 200_000);
const KILLS = Number(process.env["KAFKA_CHAOS_KILLS"] ?? 20);
const MAX_RECORD_BYTES = 2048;
const BROKEN = ["malformed", "missing_field", "type_mismatch", "null_in_required", "out_of_range", "bad_timestamp", "too_large"] as const;
type Broken = (typeof BROKEN)[number];
const CRASH_POINTS = ["table.parquet-write", "table.before-log", "engine.before-commit", "storage.before-link"] as const;

const root = mkdtempSync(join(tmpdir(), "streamc-kafka-chaos-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bundle = join(root, "build", "shop.mjs");

/** Order `i`: valid, or broken in one way (about 1% each), with its id in the text so it can be found again. */
function order(i: number, random: () => number): { value: string; broken: Broken | undefined } {
  const base = Date.parse("2024-06-01T00:00:00Z");
  const ts = new Date(base + i * 500 - Math.floor(random() * 30_000)).toISOString();
  const valid = { order_id: `o-${i}`, user_id: `u-${Math.floor(random() * 5000)}`, country: ["DE", "FR", "NL", "US", "JP"][Math.floor(random() * 5)]!, amount: Math.round(random() * 50_000) / 100 - 50, quantity: 1 + Math.floor(random() * 9), ts };
  const roll = random();
  const broken = roll < 0.07 ? BROKEN[Math.floor(roll / 0.01)]! : undefined;
  switch (broken) {
    case undefined:
      return { value: JSON.stringify(valid), broken };
    case "malformed":
      return { value: JSON.stringify(valid).slice(0, -3), broken };
    case "missing_field": {
      const { amount: _amount, ...rest } = valid;
      return { value: JSON.stringify(rest), broken };
    }
    case "type_mismatch":
      return { value: JSON.stringify({ ...valid, amount: String(valid.amount) }), broken };
    case "null_in_required":
      return { value: JSON.stringify({ ...valid, user_id: null }), broken };
    case "out_of_range":
      return { value: JSON.stringify({ ...valid, quantity: 3_000_000_000 }), broken };
    case "bad_timestamp":
      return { value: JSON.stringify({ ...valid, ts: "2024-06-31T25:00:00Z" }), broken };
    case "too_large":
      return { value: JSON.stringify({ ...valid, note: "x".repeat(MAX_RECORD_BYTES) }), broken };
  }
}

beforeAll(async () => {
  mkdirSync(join(root, "build"));
  const file = join(root, "shop.stream");
  writeFileSync(
    file,
    `pipeline shop {
  checkpoint = env("CHECKPOINT", "")
  deadletter = table env("DEAD", "")
}
schema Order { order_id: string, user_id: string, country: string, amount: double, quantity: int, ts: timestamp }
source orders: Order = kafka {
  brokers = env("KAFKA_BROKERS", "")
  topic = env("TOPIC", "")
  format = json
  start = earliest
  max_per_batch = 4000
}
stream paid = orders | where amount > 0 | select order_id, user_id, country, amount, quantity, ts
stream revenue = paid
  | watermark ts delay 2m
  | window tumbling 10m
  | aggregate n = count(), revenue = sum(amount), items = sum(quantity) by country
sink revenue -> table env("REVENUE", "") { partition_by = [country] }
sink orders -> table env("ALL", "")
`,
  );
  await compileBundle(file, join(root, "build"));
}, 120_000);

function runPipeline(env: NodeJS.ProcessEnv, killAfterMs?: number) {
  return runBundle(bundle, ["--trigger", "available_now"], env, killAfterMs);
}

it(`reads ${ORDERS} orders exactly once across ${KILLS} SIGKILLs, and dead-letters exactly the broken ones`, async () => {
  const topic = uniqueTopic("chaos-orders");
  await createTopic(topic, 4);
  const random = prng(2024);
  const messages: TestMessage[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const { value } = order(i, random);
    messages.push({ key: `k-${i % 997}`, value });
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: kafkaBrokers(),
    TOPIC: topic,
    STREAMC_MAX_RECORD_BYTES: String(MAX_RECORD_BYTES),
    CHECKPOINT: join(root, "checkpoint"),
    DEAD: join(root, "dead"),
    REVENUE: join(root, "revenue"),
    ALL: join(root, "all"),
  };

  // A third of the orders are there before the first start; the rest arrive between restarts.
  const first = Math.floor(ORDERS / 3);
  await produce(topic, messages.slice(0, first));
  let produced = first;
  const chunk = Math.ceil((ORDERS - first) / KILLS);
  const dice = prng(7);
  let kills = 0;
  let attempts = 0;
  while (kills < KILLS) {
    expect(++attempts, `${kills} kills after ${attempts} restarts`).toBeLessThanOrEqual(KILLS * 3);
    // Every other restart dies at a named point (runtime/fault.ts) on its K-th visit, the rest at a random instant.
    const point = attempts % 2 === 0 ? CRASH_POINTS[(attempts / 2) % CRASH_POINTS.length]! : undefined;
    const exit = point
      ? await runPipeline({ ...env, STREAMC_CRASH_AT: `${point}@${1 + Math.floor(dice() * 3)}` })
      : await runPipeline(env, 100 + Math.floor(dice() * 900));
    if (process.env["CHAOS_TRACE"]) {
      const commits = (() => { try { return readdirSync(join(root, "checkpoint", "commits")).length; } catch { return 0; } })();
      console.log(`restart ${attempts} -> ${exit.signal ?? exit.code}, commits ${commits}, produced ${produced}`);
    }
    if (exit.signal === "SIGKILL") kills++;
    else expect(exit.code, exit.stderr).toBe(0);
    if (produced < ORDERS) {
      await produce(topic, messages.slice(produced, produced + chunk));
      produced = Math.min(ORDERS, produced + chunk);
    }
  }
  if (produced < ORDERS) await produce(topic, messages.slice(produced));
  const last = await runPipeline(env);
  expect(last.code, last.stderr).toBe(0);

  // What the topic holds, classified by construction.
  const consumed = await consumeAll(topic, 120_000);
  expect(consumed.length).toBe(ORDERS);
  const replay = prng(2024);
  const kindOf = new Map<string, Broken | undefined>();
  for (let i = 0; i < ORDERS; i++) {
    const { value, broken } = order(i, replay);
    kindOf.set(value, broken);
  }
  const expectedDead: string[] = [];
  const validLines: string[] = [];
  for (const m of consumed) {
    const value = m.value!.toString("utf8");
    expect(kindOf.has(value)).toBe(true);
    const broken = kindOf.get(value);
    if (broken) expectedDead.push(`${m.partition}/${m.offset}/${broken}`);
    else validLines.push(value);
  }
  for (const kind of BROKEN) expect(expectedDead.some((d) => d.endsWith(`/${kind}`)), kind).toBe(true);

  const dead = readTable(join(root, "dead")).map((r) => `${r["partition"]}/${r["offset"]}/${r["reason"]}`);
  expect(dead.length).toBe(expectedDead.length);
  expect(dead.sort()).toEqual(expectedDead.sort());

  const validFile = join(root, "valid.json");
  writeFileSync(validFile, validLines.join("\n") + "\n");
  const valid = `read_json('${validFile}', columns = {order_id: 'VARCHAR', user_id: 'VARCHAR', country: 'VARCHAR', amount: 'DOUBLE', quantity: 'INTEGER', ts: 'TIMESTAMPTZ'})`;

  const all = readTable(join(root, "all")).map((r) => String(r["order_id"])).sort();
  const expectedAll = (await duckRows(`SELECT order_id FROM ${valid}`)).map((r) => String(r["order_id"])).sort();
  expect(all.length).toBe(expectedAll.length);
  expect(all).toEqual(expectedAll);

  const windows = await duckRows(`
    WITH p AS (SELECT * FROM ${valid} WHERE amount > 0),
         w AS (SELECT epoch_us(time_bucket(INTERVAL 10 MINUTE, ts)) AS s, country, amount, quantity FROM p)
    SELECT s, country, count(*)::BIGINT AS n, sum(amount) AS revenue, sum(quantity)::BIGINT AS items FROM w
    WHERE s + 600000000 <= (SELECT epoch_us(max(ts)) FROM p) - 120000000
    GROUP BY s, country`);
  const revenue = readTable(join(root, "revenue")) as { window_start: unknown; country: string; n: unknown; revenue: number; items: unknown }[];
  expect(revenue.length).toBe(windows.length);
  const byKey = new Map(windows.map((w) => [`${w["s"]}|${w["country"]}`, w]));
  for (const row of revenue) {
    const want = byKey.get(`${Number(row.window_start)}|${row.country}`);
    expect(want, JSON.stringify(row)).toBeDefined();
    expect(Number(row.n)).toBe(want!["n"]);
    expect(Number(row.items)).toBe(want!["items"]);
    expect(row.revenue).toBeCloseTo(want!["revenue"] as number, 4);
  }
}, 900_000);
