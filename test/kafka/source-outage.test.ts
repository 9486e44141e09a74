/**
 * The `kafka` source when the brokers go away and when records are deleted, on brokers of this
 * file's own (an outage of the shared one would break other files' tests):
 * - the broker goes down before a read and in the middle of one, and between batches; when it
 *   comes back every record is read exactly once, and each retry was logged;
 * - retention deletes records the checkpoint has not read yet: the read fails with the offset
 *   wanted, the earliest available and the way out, instead of skipping them.
 */
import { Kafka, Partitioners } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { batchToRows } from "../../runtime/columnar/batch-ops.ts";
import type { Schema, SourceSpec } from "../../runtime/plan.ts";
import { createSource } from "../../runtime/sources/index.ts";
import type { Offset, Source } from "../../runtime/sources/source.ts";
import { startTestBroker, type TestBrokerProcess } from "../support/kafka-broker-process.ts";
import { brokerDown, brokerUp, createTopic, kafkaBrokers, kafkaLogLevel, produce, uniqueTopic, useOwnBroker, type TestMessage } from "../support/kafka.ts";

const schema: Schema = {
  fields: [
    { name: "id", type: { kind: "long" }, nullable: false },
    { name: "note", type: { kind: "string" }, nullable: true },
  ],
};

function spec(brokers: string, topic: string, maxPerBatch?: number): SourceSpec {
  return {
    id: "events",
    connector: "kafka",
    target: undefined,
    schema,
    options: {
      brokers: { kind: "string", value: { kind: "literal", value: brokers } },
      topic: { kind: "string", value: { kind: "literal", value: topic } },
      format: { kind: "word", word: "json" },
      start: { kind: "word", word: "earliest" },
      ...(maxPerBatch ? { max_per_batch: { kind: "integer", value: maxPerBatch } } : {}),
    },
  };
}

function open(brokers: string, topic: string, maxPerBatch?: number): { source: Source; logs: string[] } {
  const logs: string[] = [];
  const source = createSource(spec(brokers, topic, maxPerBatch), { cwd: process.cwd(), env: {}, pipelineId: uniqueTopic("pipeline"), log: (line) => logs.push(line) });
  return { source, logs };
}

function events(partitions: number, perPartition: number, noteBytes: number): TestMessage[] {
  const out: TestMessage[] = [];
  for (let i = 0; i < perPartition; i++) {
    for (let p = 0; p < partitions; p++) out.push({ partition: p, value: JSON.stringify({ id: p * 1_000_000 + i, note: `${i}:`.padEnd(noteBytes, "x") }) });
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("kafka source: the broker goes away and comes back", () => {
  useOwnBroker();

  it("reads every record exactly once across outages before a read, during one, and during latest()", async () => {
    const topic = uniqueTopic("source-outage");
    await createTopic(topic, 3);
    const perPartition = 20_000;
    await produce(topic, events(3, perPartition, 200));
    const { source, logs } = open(kafkaBrokers(), topic, 30_000);
    await source.open(undefined);
    const ids: number[] = [];
    let from: Offset | undefined;
    try {
      // Down before the first read: the consumer cannot start; it is retried until the broker is back.
      let latest = await source.latest();
      let range = source.plan(from, { latest })!;
      await brokerDown();
      const beforeRead = source.read(range);
      await sleep(6_000);
      await brokerUp();
      let result = await beforeRead;
      ids.push(...batchToRows(result.batch).map((r) => r["id"] as number));
      from = source.end(range);
      expect(logs.some((l) => /ECONNREFUSED|retrying/.test(l))).toBe(true);

      // Down in the middle of the second read (30,000 records of 200 bytes take longer than 20 ms to fetch).
      logs.length = 0;
      range = source.plan(from, { latest })!;
      const midRead = source.read(range);
      await sleep(20);
      await brokerDown();
      await sleep(6_000);
      await brokerUp();
      result = await midRead;
      ids.push(...batchToRows(result.batch).map((r) => r["id"] as number));
      from = source.end(range);
      expect(logs.some((l) => /kafka source events: no records for \d+s from partitions .*; retrying \(1\)/.test(l))).toBe(true);

      // Down while asking for the latest offsets: retried until it is back.
      await produce(topic, [{ partition: 1, value: JSON.stringify({ id: 5_000_000, note: "after" }) }]);
      await brokerDown();
      const asking = source.latest();
      await sleep(3_000);
      await brokerUp();
      latest = await asking;
      expect((latest as { partitions: object }).partitions).toEqual({ "0": perPartition, "1": perPartition + 1, "2": perPartition });
      range = source.plan(from, { latest })!;
      result = await source.read(range);
      ids.push(...batchToRows(result.batch).map((r) => r["id"] as number));
      expect(source.plan(source.end(range), { latest })).toBeUndefined();
    } finally {
      await source.close();
    }
    const expected = [...Array.from({ length: 3 }, (_, p) => Array.from({ length: perPartition }, (_, i) => p * 1_000_000 + i)).flat(), 5_000_000];
    expect(ids.length).toBe(expected.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
  }, 120_000);
});

describe("kafka source: records deleted by retention before they are read", () => {
  let broker: TestBrokerProcess;
  beforeAll(async () => {
    const binary = inject("kafkaBrokerBinary");
    if (!binary) throw new Error("this test needs the local test broker (with a small retention); run it without KAFKA_BROKERS");
    broker = await startTestBroker(binary, ["--retention-bytes", "20000"]);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("fails the read, naming the offset wanted, the earliest available and the way out", async () => {
    const kafka = new Kafka({ brokers: [broker.address], clientId: "retention-test", logLevel: kafkaLogLevel });
    const admin = kafka.admin();
    await admin.connect();
    const topic = uniqueTopic("source-retention");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const send = async (messages: TestMessage[]) => {
      for (const m of messages) await producer.send({ topic, acks: -1, messages: [{ partition: m.partition!, value: m.value }] });
    };
    const { source } = open(broker.address, topic, 5);
    try {
      await send(events(1, 10, 100));
      await source.open(undefined);
      const latest = await source.latest();
      const first = source.plan(undefined, { latest })!;
      expect(first).toEqual({ topic, partitions: { "0": [0, 5] } });
      expect((await source.read(first)).batch.length).toBe(5);
      const next = source.plan(source.end(first), { latest })!;
      // 300 more records of about 150 bytes: well past the 20,000 bytes the broker keeps.
      await send(events(1, 300, 100));
      const offsets = await admin.fetchTopicOffsets(topic);
      const earliest = Number(offsets[0]!.low);
      expect(earliest).toBeGreaterThan(10);
      await expect(source.read(next)).rejects.toThrow(
        `kafka source events: offset 5 of partition 0 of topic "${topic}" is no longer in the topic (the earliest available is ${earliest}): records 5 to ${earliest - 1} were deleted (retention, or the topic was created again) before the pipeline read them. The batch cannot be read again whole. To go on without those records, run the pipeline with a new checkpoint directory`,
      );
    } finally {
      await source.close();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
