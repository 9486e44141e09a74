/**
 * The `kafka` sink against a real Kafka-protocol broker (test/support/kafka.ts): every row of a
 * pipeline's output arrives once, as DuckDB computes it over the same input, keyed by the `key`
 * expression (same key, same partition), in order, with headers naming pipeline, sink, batch and
 * row; a batch replayed after a crash arrives twice, and dropping duplicates by the headers gives
 * the expected rows exactly; a broker outage during a write is waited out, and one longer than the
 * delivery timeout stops the run with a message naming topic, brokers and batch, after which the
 * next run completes. Without a broker: record keys of every type, and requests split under 1 MB.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, type Message } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import { cellReader } from "../../runtime/columnar/read.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import type { ValueKernel } from "../../runtime/kernel.ts";
import { parseBrokers } from "../../runtime/kafka/client.ts";
import type { DataType, Schema } from "../../runtime/plan.ts";
import { type SinkFactory, sinkFactories } from "../../runtime/sinks/index.ts";
import { KAFKA_HEADERS, KafkaSink, kafkaSinkOfPlan, type KafkaSinkOverrides, MAX_REQUEST_BYTES, requestChunks } from "../../runtime/sinks/kafka.ts";
import type { Sink } from "../../runtime/sinks/sink.ts";
import { duckRows } from "../support/duckdb.ts";
import { brokerDown, brokerUp, type ConsumedMessage, consumeAll, kafkaBrokers, kafkaLogLevel, uniqueTopic, useOwnBroker } from "../support/kafka.ts";
import { prng } from "../support/prng.ts";

const root = mkdtempSync(join(tmpdir(), "streamc-kafka-sink-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FILES = 6;
/** Rows per file; file 3 is big, so that its batch needs several requests of under 1 MB. */
const rowsInFile = (f: number) => (f === 3 ? 6000 : 300);
const input = join(root, "in");

beforeAll(() => {
  mkdirSync(input);
  const random = prng(11);
  const base = Date.parse("2024-05-01T00:00:00Z");
  let id = 0;
  for (let f = 0; f < FILES; f++) {
    const lines: string[] = [];
    for (let r = 0; r < rowsInFile(f); r++) {
      id++;
      // Time moves forward with at most 20 s of disorder: the 1-minute delay makes no row late.
      const ts = new Date(base + id * 700 - Math.floor(random() * 20_000)).toISOString();
      const user = id % 23 === 0 ? null : 1 + Math.floor(random() * 40);
      const note = `${["plain", 'with "quotes"', "üñíçødé ✓", "comma, and\nnewline"][id % 4]} ${"x".repeat(200)}`;
      lines.push(JSON.stringify({ id, user_id: user, amount: (Math.floor(random() * 100_000) / 100).toFixed(2), note, ts }));
    }
    writeFileSync(join(input, `orders-${String(f).padStart(2, "0")}.json`), lines.join("\n") + "\n");
  }
});

interface Topics {
  paid: string;
  totals: string;
}

function program(dir: string, topics: Topics): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "shop.stream");
  writeFileSync(
    file,
    `pipeline shop {
  checkpoint = "${join(dir, "checkpoint")}"
}
schema Order { id: long, user_id: long?, amount: decimal(10, 2), note: string, ts: timestamp }
source orders: Order = files "${input}" { format = json, max_files_per_batch = 1 }
stream paid = orders | where amount > 100 | select id, user_id, amount, note, ts
stream totals = orders
  | watermark ts delay 1m
  | window tumbling 5m
  | aggregate n = count(), total = sum(amount) by user_id
sink paid -> kafka { brokers = "${kafkaBrokers()}", topic = "${topics.paid}", key = user_id }
sink totals -> kafka { brokers = "${kafkaBrokers()}", topic = "${topics.totals}", key = user_id }
`,
  );
  return file;
}

async function run(file: string, ...args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const code = await main(["run", file, "--trigger", "available_now", ...args], { out: () => {}, err: (t) => (err += t) });
  return { code, err };
}

function pipelineIdOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, "checkpoint", "metadata.json"), "utf8")) as { id: string }).id;
}

// ---- the oracle ----------------------------------------------------------------------------------

interface PaidRow {
  id: number;
  user_id: number | null;
  /** Cents: exact. */
  amount: number;
  note: string;
  ts: number;
  /** The batch (file index) and row (index among the file's selected rows) the sink numbers it with. */
  batch: number;
  row: number;
}

const glob = () => `'${input}/*.json'`;
const columns = `columns = {id: 'BIGINT', user_id: 'BIGINT', amount: 'DECIMAL(10,2)', note: 'VARCHAR', ts: 'TIMESTAMPTZ'}`;

async function expectedPaid(): Promise<PaidRow[]> {
  const rows = await duckRows(`
    WITH o AS (SELECT *, dense_rank() OVER (ORDER BY filename) - 1 AS batch FROM read_json(${glob()}, ${columns}, filename = true))
    SELECT id, user_id, amount, note, epoch_us(ts) AS ts, batch::INTEGER AS batch, (row_number() OVER (PARTITION BY batch ORDER BY id) - 1)::INTEGER AS row
    FROM o WHERE amount > 100`);
  return rows.map((r) => ({ id: r["id"] as number, user_id: r["user_id"] as number | null, amount: Number(r["amount"] as bigint), note: r["note"] as string, ts: r["ts"] as number, batch: r["batch"] as number, row: r["row"] as number }));
}

async function expectedTotals(): Promise<string[]> {
  const rows = await duckRows(`
    WITH o AS (SELECT * FROM read_json(${glob()}, ${columns})),
    w AS (SELECT epoch_us(time_bucket(INTERVAL 5 MINUTE, ts)) AS s, user_id, amount FROM o)
    SELECT s, user_id, count(*)::BIGINT AS n, sum(amount) AS total FROM w
    WHERE s + 300000000 <= (SELECT epoch_us(max(ts)) FROM o) - 60000000
    GROUP BY s, user_id`);
  return rows.map((r) => JSON.stringify([r["s"], r["user_id"], r["n"], Number(r["total"] as bigint)])).sort();
}

/** The paid rows as the sink wrote them: value decoded, key, partition and headers. */
function paidOf(record: ConsumedMessage): PaidRow & { key: string | null; partition: number; headers: Record<string, string | string[]> } {
  const value = JSON.parse(record.value!.toString()) as { id: number; user_id: number | null; amount: number; note: string; ts: string };
  expect(Object.keys(value)).toEqual(["id", "user_id", "amount", "note", "ts"]);
  return {
    id: value.id,
    user_id: value.user_id,
    amount: Math.round(value.amount * 100),
    note: value.note,
    ts: Date.parse(value.ts) * 1000,
    batch: Number(record.headers[KAFKA_HEADERS.batch]),
    row: Number(record.headers[KAFKA_HEADERS.row]),
    key: record.key === null ? null : record.key.toString(),
    partition: record.partition,
    headers: record.headers,
  };
}

function totalsOf(records: readonly ConsumedMessage[]): string[] {
  return records
    .map((record) => {
      const value = JSON.parse(record.value!.toString()) as { window_start: string; user_id: number | null; n: number; total: number };
      expect(record.key === null ? null : record.key.toString()).toBe(value.user_id === null ? null : String(value.user_id));
      return JSON.stringify([Date.parse(value.window_start) * 1000, value.user_id, value.n, Math.round(value.total * 100)]);
    })
    .sort();
}

/** The first record of each (pipeline, sink, batch, row): what a consumer that drops duplicates keeps. */
function dedup(records: readonly ConsumedMessage[]): ConsumedMessage[] {
  const seen = new Map<string, ConsumedMessage>();
  for (const record of records) {
    const h = record.headers;
    const id = JSON.stringify([h[KAFKA_HEADERS.pipeline], h[KAFKA_HEADERS.sink], h[KAFKA_HEADERS.batch], h[KAFKA_HEADERS.row]]);
    const first = seen.get(id);
    if (first === undefined) seen.set(id, record);
    else {
      // A duplicate is the same record again: same key, same value.
      expect(record.value!.toString()).toBe(first.value!.toString());
      expect(record.key?.toString()).toBe(first.key?.toString());
    }
  }
  return [...seen.values()];
}

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
const withoutDelivery = ({ key: _k, partition: _p, headers: _h, ...row }: ReturnType<typeof paidOf>): PaidRow => row;

// ---- the tests -----------------------------------------------------------------------------------

describe("the kafka sink", () => {
  it("writes every row once, keyed by the key expression, in order, with headers naming pipeline, sink, batch and row", async () => {
    const dir = join(root, "once");
    const topics = { paid: uniqueTopic("paid"), totals: uniqueTopic("totals") };
    const result = await run(program(dir, topics));
    expect(result.code, result.err).toBe(0);
    const pipelineId = pipelineIdOf(dir);

    const records = await consumeAll(topics.paid);
    const paid = records.map(paidOf);
    const expected = await expectedPaid();
    expect(expected.length).toBeGreaterThan(2000);
    // Every row once, with the batch and row numbers the oracle predicts (batch = file, row = rank in the file).
    expect(paid.map(withoutDelivery).sort(byId)).toEqual(expected.sort(byId));
    for (const record of paid) {
      expect(record.headers).toEqual({ [KAFKA_HEADERS.pipeline]: pipelineId, [KAFKA_HEADERS.sink]: "paid.kafka", [KAFKA_HEADERS.batch]: String(record.batch), [KAFKA_HEADERS.row]: String(record.row) });
      expect(record.key).toBe(record.user_id === null ? null : String(record.user_id));
    }
    // Same key, same partition; and the keys spread over more than one partition.
    const partitionsOfKey = new Map<string, Set<number>>();
    for (const record of paid) if (record.key !== null) (partitionsOfKey.get(record.key) ?? partitionsOfKey.set(record.key, new Set()).get(record.key)!).add(record.partition);
    expect([...partitionsOfKey.values()].every((p) => p.size === 1)).toBe(true);
    expect(new Set(paid.map((r) => r.partition)).size).toBeGreaterThan(1);
    // Within a partition, records are in the order of (batch, row), across the big batch's requests too.
    for (const partition of new Set(paid.map((r) => r.partition))) {
      const order = paid.filter((r) => r.partition === partition).map((r) => r.batch * 1e6 + r.row);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    const bigBatchBytes = records.filter((r) => r.headers[KAFKA_HEADERS.batch] === "3").reduce((sum, r) => sum + r.value!.length, 0);
    expect(bigBatchBytes).toBeGreaterThan(MAX_REQUEST_BYTES);

    const totals = await consumeAll(topics.totals);
    expect(totals.every((r) => r.headers[KAFKA_HEADERS.sink] === "totals.kafka" && r.headers[KAFKA_HEADERS.pipeline] === pipelineId)).toBe(true);
    expect(totalsOf(totals)).toEqual(await expectedTotals());
  });

  it("writes a replayed batch again, and dropping duplicates by the headers gives the expected rows exactly", async () => {
    const dir = join(root, "replay");
    const topics = { paid: uniqueTopic("paid-replay"), totals: uniqueTopic("totals-replay") };
    const file = program(dir, topics);
    const first = await run(file, "--max-batches", "3");
    expect(first.code, first.err).toBe(0);
    // As a crash after the sinks wrote batch 2 but before commits/2: the commit and its state go.
    const checkpoint = join(dir, "checkpoint");
    rmSync(join(checkpoint, "commits", "2.json"));
    rmSync(join(checkpoint, "state", "totals.aggregate", "2.arrow"));
    const second = await run(file);
    expect(second.code, second.err).toBe(0);

    const expected = await expectedPaid();
    const records = await consumeAll(topics.paid);
    const inBatch2 = expected.filter((r) => r.batch === 2).length;
    expect(inBatch2).toBeGreaterThan(0);
    // Batch 2 arrived twice, everything else once.
    expect(records.length).toBe(expected.length + inBatch2);
    expect(records.filter((r) => r.headers[KAFKA_HEADERS.batch] === "2").length).toBe(2 * inBatch2);
    expect(dedup(records).map(paidOf).map(withoutDelivery).sort(byId)).toEqual(expected.sort(byId));

    const totals = await consumeAll(topics.totals);
    const kept = dedup(totals);
    expect(totals.length).toBeGreaterThanOrEqual(kept.length);
    expect(totalsOf(kept)).toEqual(await expectedTotals());
  });
});

describe("the kafka sink when the broker goes away", () => {
  useOwnBroker();

  /**
   * Runs `body` with the kafka sinks wrapped: before batch `batchId` is written, `beforeWrite` runs
   * (the broker goes down exactly when the write starts). `overrides` change the sinks' client and
   * delivery timeout.
   */
  async function withOutage<T>(batchId: number, beforeWrite: () => Promise<void>, body: () => Promise<T>, overrides?: KafkaSinkOverrides): Promise<T> {
    const original = sinkFactories.get("kafka")!;
    const wrapped: SinkFactory = (spec, context) => {
      const sink: Sink = overrides ? kafkaSinkOfPlan(spec, context, overrides) : original(spec, context);
      return {
        id: sink.id,
        write: async (id, batch, mode) => {
          if (id === batchId && spec.id === "paid.kafka") await beforeWrite();
          return sink.write(id, batch, mode);
        },
        close: () => sink.close(),
      };
    };
    sinkFactories.set("kafka", wrapped);
    try {
      return await body();
    } finally {
      sinkFactories.set("kafka", original);
    }
  }

  /** A client whose kafkajs retries give up within about 2 s (the real ones take minutes). */
  const impatient: KafkaSinkOverrides["makeClient"] = (brokers, clientId) =>
    new Kafka({ brokers: parseBrokers(brokers), clientId, connectionTimeout: 500, requestTimeout: 2_000, logLevel: kafkaLogLevel, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 500 } });

  it("waits out an outage during a write and then writes every row once", async () => {
    const dir = join(root, "outage");
    const topics = { paid: uniqueTopic("paid-outage"), totals: uniqueTopic("totals-outage") };
    const file = program(dir, topics);
    let downAt = 0;
    let upAt = 0;
    const result = await withOutage(
      1,
      async () => {
        await brokerDown();
        downAt = Date.now();
        setTimeout(() => void brokerUp().then(() => (upAt = Date.now())), 3_000);
      },
      () => run(file),
    );
    expect(result.code, result.err).toBe(0);
    expect(upAt - downAt).toBeGreaterThanOrEqual(3_000);
    // The operator saw the outage in the log, attributed to the sink.
    expect(result.err).toMatch(/sink paid\.kafka: kafka .*ECONNREFUSED/);
    // The idempotent producer's retries wrote nothing twice.
    const records = await consumeAll(topics.paid);
    expect(records.map(paidOf).map(withoutDelivery).sort(byId)).toEqual((await expectedPaid()).sort(byId));
    expect(totalsOf(await consumeAll(topics.totals))).toEqual(await expectedTotals());
  });

  it("tries again when kafkajs gives up, until the broker is back, and writes every row once", async () => {
    const dir = join(root, "attempts");
    const topics = { paid: uniqueTopic("paid-attempts"), totals: uniqueTopic("totals-attempts") };
    const file = program(dir, topics);
    const result = await withOutage(
      1,
      async () => {
        await brokerDown();
        setTimeout(() => void brokerUp(), 6_000);
      },
      () => run(file),
      { makeClient: impatient, deliveryTimeoutMs: 60_000 },
    );
    expect(result.code, result.err).toBe(0);
    expect(result.err).toMatch(/sink paid\.kafka: writing batch 1 to kafka topic \S+: .*; trying again \(\d+s of 60s\)/);
    const records = await consumeAll(topics.paid);
    expect(records.map(paidOf).map(withoutDelivery).sort(byId)).toEqual((await expectedPaid()).sort(byId));
  });

  it("stops the run with a message naming topic, brokers and batch when the broker stays down past the delivery timeout; the next run completes", async () => {
    const dir = join(root, "down");
    const topics = { paid: uniqueTopic("paid-down"), totals: uniqueTopic("totals-down") };
    const file = program(dir, topics);
    const started = Date.now();
    // The sink's own client (KAFKA_SINK_RETRY): kafkajs gives up within seconds, then the delivery timeout decides.
    const failed = await withOutage(1, () => brokerDown(), () => run(file), { deliveryTimeoutMs: 3_000 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(3_000);
    expect(took).toBeLessThan(60_000);
    expect(failed.code).toBe(1);
    const brokers = kafkaBrokers();
    expect(failed.err).toContain(`sink paid.kafka: writing batch 1 (`);
    expect(failed.err).toMatch(new RegExp(`rows\\) to kafka topic ${topics.paid} on ${brokers.replace(/\./g, "\\.")} failed after trying for \\d+s \\(\\d+ attempts?, each with kafkajs's retries\\): `));
    expect(failed.err).toMatch(/ECONNREFUSED|Connection error/);
    expect(failed.err).toContain("the next run sends the batch again");
    expect(failed.err).toMatch(/Way out: check that the brokers are reachable/);
    // Batch 0 was committed; batch 1 was not.
    expect(readFileSync(join(dir, "checkpoint", "commits", "0.json"), "utf8")).toBeTruthy();
    expect(() => readFileSync(join(dir, "checkpoint", "commits", "1.json"))).toThrow();

    await brokerUp();
    const again = await run(file);
    expect(again.code, again.err).toBe(0);
    const records = await consumeAll(topics.paid);
    expect(dedup(records).map(paidOf).map(withoutDelivery).sort(byId)).toEqual((await expectedPaid()).sort(byId));
    expect(totalsOf(dedup(await consumeAll(topics.totals)))).toEqual(await expectedTotals());
  });
});

// ---- without a broker ----------------------------------------------------------------------------

/** A kafkajs stand-in that keeps what `sendBatch` was given. */
function recordingClient(): { kafka: Kafka; requests: Message[][]; disconnected: () => boolean } {
  const requests: Message[][] = [];
  let disconnected = false;
  const producer = {
    connect: async () => {},
    disconnect: async () => void (disconnected = true),
    sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: Message[] }[] }) => {
      requests.push(topicMessages.flatMap((t) => t.messages));
      return [];
    },
  };
  return { kafka: { producer: () => producer } as unknown as Kafka, requests, disconnected: () => disconnected };
}

/** A key kernel that returns column `name` of the batch. */
function columnKernel(schema: Schema, name: string): ValueKernel {
  const index = schema.fields.findIndex((f) => f.name === name);
  return (batch) => batch.columns[index]!;
}

describe("the kafka sink's records", () => {
  const types: [string, DataType, unknown, string | Buffer][] = [
    ["string", { kind: "string" }, "ann", "ann"],
    ["long", { kind: "long" }, 42, "42"],
    ["double", { kind: "double" }, 1.5, "1.5"],
    ["decimal", { kind: "decimal", precision: 10, scale: 2 }, 1250n, "12.50"],
    ["timestamp", { kind: "timestamp" }, Date.parse("2024-01-01T00:00:00.5Z") * 1000, "2024-01-01T00:00:00.5Z"],
    ["date", { kind: "date" }, 19723, "2024-01-01"],
    ["bool", { kind: "bool" }, true, "true"],
    ["bytes", { kind: "bytes" }, new Uint8Array([0, 255, 7]), Buffer.from([0, 255, 7])],
  ];

  it.each(types)("a %s key is its text (bytes: its bytes); a null key is no key", async (_name, type, value, key) => {
    const schema: Schema = { fields: [{ name: "k", type, nullable: true }, { name: "v", type: { kind: "int" }, nullable: false }] };
    const batch = batchFromRows(schema, [{ k: value as never, v: 1 }, { k: null, v: 2 }]);
    const { kafka, requests } = recordingClient();
    const sink = new KafkaSink("s.kafka", schema, { brokers: "b:9092", topic: "t", pipelineId: "p", keyKernel: columnKernel(schema, "k"), kafka });
    await sink.write(7, batch, "append");
    const [first, second] = requests.flat();
    expect(first!.key).toEqual(key);
    expect(second!.key).toBeNull();
    expect(second!.headers).toEqual({ [KAFKA_HEADERS.pipeline]: "p", [KAFKA_HEADERS.sink]: "s.kafka", [KAFKA_HEADERS.batch]: "7", [KAFKA_HEADERS.row]: "1" });
    // A text key reads as the value's JSON does, without quotes.
    if (typeof key === "string" && type.kind !== "decimal") expect(String(JSON.parse(first!.value as string).k)).toBe(key);
  });

  it("reads a dictionary-encoded string key", async () => {
    const schema: Schema = { fields: [{ name: "k", type: { kind: "string" }, nullable: false }] };
    const builder = columnBuilder(schema.fields[0]!, 4, { dictionary: true });
    for (const k of ["a", "b", "a"]) builder.append(k);
    const column = builder.finish();
    expect(cellReader(column, { kind: "string" })(2)).toBe("a");
    const { kafka, requests } = recordingClient();
    const sink = new KafkaSink("s.kafka", schema, { brokers: "b:9092", topic: "t", pipelineId: "p", keyKernel: () => column, kafka });
    await sink.write(0, { schema, length: 3, columns: [column] }, "append");
    expect(requests.flat().map((m) => m.key)).toEqual(["a", "b", "a"]);
  });

  it("splits a batch into requests of at most 900 KiB, in row order, and sends nothing for an empty batch", async () => {
    const schema: Schema = { fields: [{ name: "text", type: { kind: "string" }, nullable: false }] };
    const rows = Array.from({ length: 5000 }, (_, i) => ({ text: `${i}:${"y".repeat(500)}` }));
    const { kafka, requests, disconnected } = recordingClient();
    const sink = new KafkaSink("s.kafka", schema, { brokers: "b:9092", topic: "t", pipelineId: "p", keyKernel: undefined, kafka });
    await sink.write(0, batchFromRows(schema, []), "append");
    expect(requests.length).toBe(0);
    await sink.write(1, batchFromRows(schema, rows), "append");
    expect(requests.length).toBeGreaterThan(2);
    expect(requests.flat().map((m) => JSON.parse(m.value as string).text)).toEqual(rows.map((r) => r.text));
    for (const request of requests) expect(request.reduce((sum, m) => sum + (m.value as string).length, 0)).toBeLessThan(MAX_REQUEST_BYTES);
    expect(requests.flat().every((m) => m.key === null)).toBe(true);
    await expect(sink.write(2, batchFromRows(schema, rows.slice(0, 1)), "update")).rejects.toThrow(/only appends/);
    await sink.close();
    expect(disconnected()).toBe(true);
  });

  it("sends a record larger than the limit alone", () => {
    const big: Message = { value: "z".repeat(MAX_REQUEST_BYTES + 10) };
    const small: Message = { value: "s" };
    expect(requestChunks([small, big, small]).map((c) => c.length)).toEqual([1, 1, 1]);
  });

  it("names a missing topic and the way out when the brokers do not create topics", async () => {
    const schema: Schema = { fields: [{ name: "v", type: { kind: "int" }, nullable: false }] };
    const unknownTopic = Object.assign(new Error("This server does not host this topic-partition"), { type: "UNKNOWN_TOPIC_OR_PARTITION" });
    const retriesExceeded = Object.assign(new Error("This server does not host this topic-partition"), { name: "KafkaJSNumberOfRetriesExceeded", cause: unknownTopic });
    const producer = { connect: async () => {}, disconnect: async () => {}, sendBatch: async () => Promise.reject(retriesExceeded) };
    const sink = new KafkaSink("s.kafka", schema, { brokers: "b:9092", topic: "nope", pipelineId: "p", keyKernel: undefined, kafka: { producer: () => producer } as unknown as Kafka });
    await expect(sink.write(3, batchFromRows(schema, [{ v: 1 }]), "append")).rejects.toThrow(
      /sink s\.kafka: writing batch 3 \(1 row\) to kafka topic nope on b:9092 failed: the topic does not exist and the brokers do not create topics automatically .*Way out: create the topic/,
    );
  });
});
