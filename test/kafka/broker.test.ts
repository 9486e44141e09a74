/**
 * The Kafka test broker and the helpers in test/support/kafka.ts: what is produced comes back exactly
 * (partition, offset order, key, value, headers, timestamp), at volume, and an outage (brokerDown /
 * brokerUp) keeps the data while clients fail during it and resume after it.
 */
import { Partitioners } from "kafkajs";
import { describe, expect, inject, it } from "vitest";
import {
  brokerDown,
  brokerUp,
  consumeAll,
  createTopic,
  isLocalBroker,
  kafkaBrokers,
  kafkaClient,
  produce,
  uniqueTopic,
  useOwnBroker,
  type ConsumedMessage,
  type TestMessage,
} from "../support/kafka.ts";

/** What a partition must hold after `messages` were produced in order: the messages sent to it, in order. */
function expectedPartitions(messages: readonly TestMessage[], partitions: number): TestMessage[][] {
  const out: TestMessage[][] = Array.from({ length: partitions }, () => []);
  for (const m of messages) out[m.partition!]!.push(m);
  return out;
}

function expectExactly(consumed: readonly ConsumedMessage[], messages: readonly TestMessage[], partitions: number): void {
  const expected = expectedPartitions(messages, partitions);
  expect(consumed.length).toBe(messages.length);
  for (let p = 0; p < partitions; p++) {
    const got = consumed.filter((m) => m.partition === p);
    expect(got.map((m) => m.offset)).toEqual(expected[p]!.map((_, i) => i));
    expect(got.map((m) => m.key?.toString() ?? null)).toEqual(expected[p]!.map((m) => (m.key == null ? null : m.key.toString())));
    expect(got.map((m) => m.value?.toString() ?? null)).toEqual(expected[p]!.map((m) => (m.value == null ? null : m.value.toString())));
  }
}

describe("the shared test broker", () => {
  it("is provided to the tests", () => {
    const brokers = kafkaBrokers();
    if (isLocalBroker()) expect(brokers).toMatch(/^127\.0\.0\.1:\d+$/);
    else expect(brokers).toBe(process.env["KAFKA_BROKERS"]!.trim());
  });

  it("returns 10,000 messages over 4 partitions exactly: order per partition, keys, values, headers, timestamps", async () => {
    const topic = uniqueTopic("broker-smoke");
    await createTopic(topic, 4);
    const base = Date.UTC(2024, 0, 1);
    const messages: TestMessage[] = Array.from({ length: 10_000 }, (_, i) => ({
      key: i % 7 === 0 ? null : `k${i % 97}`,
      value: i % 1000 === 999 ? Buffer.from([0, 255, i % 256]) : JSON.stringify({ i, text: `row ${i}` }),
      partition: (i * 31) % 4,
      headers: { seq: String(i) },
      timestamp: base + i,
    }));
    await produce(topic, messages);

    const consumed = await consumeAll(topic);
    expectExactly(consumed, messages, 4);
    const bySeq = new Map(consumed.map((m) => [Number(m.headers["seq"]), m]));
    expect(bySeq.size).toBe(10_000);
    for (let i = 0; i < messages.length; i += 1) {
      const m = bySeq.get(i)!;
      expect(m.partition).toBe(messages[i]!.partition);
      expect(m.timestamp).toBe(base + i);
      if (i % 1000 === 999) expect([...m.value!]).toEqual([0, 255, i % 256]);
    }
  });

  it("auto-creates a topic with 4 partitions, and a keyed message stays on its key's partition", async () => {
    const topic = uniqueTopic("broker-auto");
    await produce(topic, Array.from({ length: 400 }, (_, i) => ({ key: `key-${i % 10}`, value: String(i) })));
    const consumed = await consumeAll(topic);
    expect(new Set(consumed.map((m) => m.partition)).size).toBeGreaterThan(1);
    expect(Math.max(...consumed.map((m) => m.partition))).toBeLessThan(4);
    const partitionOfKey = new Map<string, number>();
    for (const m of consumed) {
      const key = m.key!.toString();
      expect(partitionOfKey.get(key) ?? m.partition).toBe(m.partition);
      partitionOfKey.set(key, m.partition);
    }
    // Per key, values come back in the order they were produced.
    for (let k = 0; k < 10; k++) {
      const values = consumed.filter((m) => m.key!.toString() === `key-${k}`).map((m) => Number(m.value!.toString()));
      expect(values).toEqual(Array.from({ length: 40 }, (_, j) => k + 10 * j));
    }
  });

  it("keeps 200,000 messages (20 MB, more than the mock's stock 5 MB per partition) and produces them in seconds", async () => {
    const topic = uniqueTopic("broker-volume");
    await createTopic(topic, 4);
    const padding = "x".repeat(90);
    const messages: TestMessage[] = Array.from({ length: 200_000 }, (_, i) => ({
      value: `${String(i).padStart(8, "0")}${padding}`,
      partition: i % 4,
    }));
    const t0 = performance.now();
    await produce(topic, messages);
    expect(performance.now() - t0).toBeLessThan(30_000); // about 2 s here; a bound that catches per-message sends
    expectExactly(await consumeAll(topic, 60_000), messages, 4);
  });

  it("refuses brokerDown() without useOwnBroker(): the shared broker serves other files at the same time", async () => {
    await expect(brokerDown()).rejects.toThrow(isLocalBroker() ? /useOwnBroker\(\)/ : /KAFKA_BROKERS/);
    await expect(brokerUp()).rejects.toThrow(isLocalBroker() ? /useOwnBroker\(\)/ : /KAFKA_BROKERS/);
  });
});

describe("an outage of the file's own broker", () => {
  useOwnBroker();

  it("uses its own broker, not the shared one", () => {
    expect(kafkaBrokers()).not.toBe(inject("kafkaBrokers"));
    expect(kafkaBrokers()).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("fails clients while down, keeps the data, and a running consumer resumes after up", async () => {
    const topic = uniqueTopic("broker-outage");
    await createTopic(topic, 4);
    const before: TestMessage[] = Array.from({ length: 1000 }, (_, i) => ({ value: `before-${i}`, partition: i % 4 }));
    await produce(topic, before);

    // A consumer that keeps running across the outage; kafkajs reconnects on its own. Should it give up and
    // restart as a new group member, the old member holds the group until its session times out (as in Kafka).
    const received: { partition: number; offset: number; value: string }[] = [];
    const consumer = kafkaClient("outage-consumer").consumer({
      groupId: uniqueTopic("outage-group"),
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 500,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({ partition, offset: Number(message.offset), value: message.value!.toString() });
      },
    });
    try {
      await waitFor(() => received.length >= 1000, 20_000, "the consumer to read the first 1000 messages");

      await brokerDown();
      const downSince = performance.now();
      const impatient = kafkaClient("outage-producer", { retry: { retries: 0 } });
      await expect(impatient.producer({ createPartitioner: Partitioners.DefaultPartitioner }).connect()).rejects.toThrow(/ECONNREFUSED/);
      await expect(impatient.admin().connect()).rejects.toThrow(/ECONNREFUSED/);
      await new Promise((r) => setTimeout(r, Math.max(0, 1_500 - (performance.now() - downSince))));
      await brokerUp();

      const after: TestMessage[] = Array.from({ length: 1000 }, (_, i) => ({ value: `after-${i}`, partition: i % 4 }));
      await produce(topic, after);

      // The data from before the outage is all still there, followed by the new messages.
      const all = [...before, ...after];
      expectExactly(await consumeAll(topic), all, 4);

      // The consumer resumed: every message reached it (at least once: a re-read after the reconnect is allowed).
      await waitFor(() => new Set(received.map((m) => `${m.partition}:${m.offset}`)).size >= 2000, 30_000, "the consumer to resume");
      const distinct = new Map(received.map((m) => [`${m.partition}:${m.offset}`, m.value]));
      expect(distinct.size).toBe(2000);
      const expected = expectedPartitions(all, 4);
      for (const [position, value] of distinct) {
        const [p, o] = position.split(":").map(Number) as [number, number];
        expect(value).toBe(expected[p]![o]!.value);
      }
    } finally {
      await consumer.disconnect();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
