/**
 * The Kafka side of `bench:kafka`: a broker, the topic, producing the orders, and the clients.
 *
 * Contract:
 * - `openBroker()` starts the local test broker (tools/kafka-test-broker, through
 *   test/support/kafka-broker-process.ts) on a free loopback port, or uses `KAFKA_BROKERS` when
 *   set; `stop()` stops only a broker it started.
 * - `createOrdersTopic(brokers, partitions)` creates a new topic (a unique name) and waits for its
 *   leaders; `produceOrders` writes the messages, `produceBatch` of them per request (each
 *   partition's share of a request is one record batch, which the test broker returns whole, one
 *   per partition per fetch), acknowledged by all replicas, in order; then checks that each
 *   partition's high watermark is the number of messages sent to it (an empty, new topic).
 * - `benchKafka(brokers)` is a quiet kafkajs client (errors only, to stderr).
 *
 * test/support/kafka.ts has `produce` and `createTopic`, but they find the broker through vitest's
 * `inject`, which exists only inside a vitest run; these are the same few kafkajs calls.
 */
import { Kafka, logLevel, type Message } from "kafkajs";
import { buildTestBroker, startTestBroker } from "../../test/support/kafka-broker-process.ts";

export interface Broker {
  /** `host:port[,host:port]`. */
  brokers: string;
  /** "local test broker (tools/kafka-test-broker, librdkafka's mock cluster)" or "KAFKA_BROKERS". */
  kind: string;
  stop(): Promise<void>;
}

export async function openBroker(): Promise<Broker> {
  const external = process.env["KAFKA_BROKERS"]?.trim();
  if (external) return { brokers: external, kind: `KAFKA_BROKERS=${external}`, stop: async () => {} };
  const broker = await startTestBroker(await buildTestBroker());
  return { brokers: broker.address, kind: "local test broker (tools/kafka-test-broker: librdkafka's mock cluster)", stop: () => broker.stop() };
}

export function benchKafka(brokers: string, clientId = "streamc-bench"): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(",").map((b) => b.trim()).filter((b) => b !== ""),
    connectionTimeout: 3_000,
    logLevel: logLevel.ERROR,
  });
}

export async function createOrdersTopic(brokers: string, partitions: number): Promise<string> {
  const topic = `bench-orders-${process.pid}-${Date.now().toString(36)}`;
  const admin = benchKafka(brokers).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    if (!created) throw new Error(`bench:kafka: topic ${topic} already exists on ${brokers}`);
  } finally {
    await admin.disconnect();
  }
  return topic;
}

export async function produceOrders(brokers: string, topic: string, values: readonly Buffer[], partitions: Uint8Array, produceBatch: number): Promise<void> {
  const producer = benchKafka(brokers).producer();
  await producer.connect();
  try {
    for (let start = 0; start < values.length; start += produceBatch) {
      const messages: Message[] = [];
      for (let i = start; i < Math.min(values.length, start + produceBatch); i++) messages.push({ value: values[i]!, partition: partitions[i]! });
      await producer.send({ topic, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
  const expected = new Map<number, number>();
  for (const p of partitions) expected.set(p, (expected.get(p) ?? 0) + 1);
  const high = await highWatermarks(brokers, topic);
  for (const [p, n] of expected) {
    if (high.get(p) !== n) throw new Error(`bench:kafka: partition ${p} of ${topic} ends at offset ${high.get(p)} after producing ${n} messages to the new topic`);
  }
}

/** Per partition, the high watermark (the next offset). */
export async function highWatermarks(brokers: string, topic: string): Promise<Map<number, number>> {
  const admin = benchKafka(brokers).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}
