/**
 * What Kafka tests use: the broker's address, topics, producing and reading back, and broker outages.
 *
 * Contract:
 * - `kafkaBrokers()` is the broker list the global setup (test/support/kafka-global-setup.ts) provides:
 *   the local test broker, or `KAFKA_BROKERS`; inside a file (or describe) that called `useOwnBroker()`,
 *   that file's own broker instead.
 * - `produce` writes messages in the given order (per partition, offsets follow that order) and resolves
 *   once every message is acknowledged; `consumeAll` returns every message of a topic from its low to its
 *   current high watermarks, ordered by partition then offset.
 * - `brokerDown()` / `brokerUp()` take the file's own broker down (connections closed, new ones refused,
 *   data kept) and up again, and resolve once the port refuses / accepts connections. They need
 *   `useOwnBroker()`: an outage of the shared broker would break the Kafka tests of other files running
 *   in parallel. With `KAFKA_BROKERS` set they throw: another Kafka cannot be taken down from here.
 * - Every client is quiet (`kafkaLogLevel`); `KAFKAJS_LOG_LEVEL=debug` turns kafkajs's log back on.
 */
import { Kafka, logLevel, Partitioners, type IHeaders, type KafkaConfig, type Message } from "kafkajs";
import { afterAll, beforeAll, inject } from "vitest";
import { startTestBroker, waitUntilAccepting, type TestBrokerProcess } from "./kafka-broker-process.ts";

/** kafkajs's log level for test clients: nothing, so that outages and retries do not flood the output. */
export const kafkaLogLevel = logLevel.NOTHING;

let ownBroker: TestBrokerProcess | null = null;

/** The brokers Kafka tests talk to, as `host:port[,host:port...]`. */
export function kafkaBrokers(): string {
  if (ownBroker) return ownBroker.address;
  const brokers = inject("kafkaBrokers");
  if (!brokers) {
    throw new Error(
      "kafkaBrokers(): no broker was provided; vitest.config.ts must list test/support/kafka-global-setup.ts in globalSetup",
    );
  }
  return brokers;
}

/** Whether the tests run against the local test broker (not `KAFKA_BROKERS`), which can be taken down. */
export function isLocalBroker(): boolean {
  return inject("kafkaBrokerBinary") !== null;
}

/**
 * Gives the calling file (or `describe` block) a broker of its own, started in `beforeAll` and stopped in
 * `afterAll`; from its `beforeAll` on, `kafkaBrokers()` and every helper here use it (call them inside tests
 * or hooks, not while the file is collected). Call it at the top level of a test file that uses
 * `brokerDown()` / `brokerUp()`.
 */
export function useOwnBroker(): void {
  beforeAll(async () => {
    const binary = inject("kafkaBrokerBinary");
    if (!binary) {
      throw new Error(
        `This test takes its broker down and up, which needs the local test broker; KAFKA_BROKERS=${inject("kafkaBrokers")} ` +
          `points at another Kafka. Run it without KAFKA_BROKERS.`,
      );
    }
    ownBroker = await startTestBroker(binary);
  });
  afterAll(async () => {
    const broker = ownBroker;
    ownBroker = null;
    await broker?.stop();
  });
}

/** Simulates an outage of this file's own broker: connections closed, new ones refused, data kept. */
export async function brokerDown(): Promise<void> {
  const broker = requireOwnBroker("brokerDown");
  process.kill(broker.pid, "SIGUSR1");
  if (!(await waitUntilAccepting(broker.port, 5_000, false))) {
    throw new Error(`brokerDown(): ${broker.address} still accepts connections 5 s after SIGUSR1\n${broker.log()}`);
  }
}

/** Ends the outage: the broker accepts connections again on the same port, with the same data. */
export async function brokerUp(): Promise<void> {
  const broker = requireOwnBroker("brokerUp");
  process.kill(broker.pid, "SIGUSR2");
  if (!(await waitUntilAccepting(broker.port, 5_000, true))) {
    throw new Error(`brokerUp(): ${broker.address} refuses connections 5 s after SIGUSR2\n${broker.log()}`);
  }
}

function requireOwnBroker(caller: string): TestBrokerProcess {
  if (!isLocalBroker()) {
    throw new Error(
      `${caller}(): KAFKA_BROKERS=${inject("kafkaBrokers")} points at another Kafka, which the tests cannot take down. ` +
        `Run this test without KAFKA_BROKERS.`,
    );
  }
  if (!ownBroker) {
    throw new Error(
      `${caller}(): call useOwnBroker() at the top level of this test file first (an outage of the shared broker ` +
        `would break the Kafka tests of other files running at the same time), and ${caller}() inside a test.`,
    );
  }
  if (ownBroker.exited()) throw new Error(`${caller}(): the broker has exited\n${ownBroker.log()}`);
  return ownBroker;
}

let topicCounter = 0;

/** A topic name no other test (file, worker or run) uses: `prefix-<pid>-<n>-<random>`. */
export function uniqueTopic(prefix: string): string {
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, "-").slice(0, 100);
  return `${clean}-${process.pid}-${++topicCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A quiet kafkajs client for the test brokers; `overrides` replace its settings (e.g. `retry`). */
export function kafkaClient(clientId = "streamc-tests", overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: kafkaBrokers().split(",").map((b) => b.trim()),
    logLevel: kafkaLogLevel,
    connectionTimeout: 3_000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
    ...overrides,
  });
}

/** Creates `name` with `partitions` partitions (replication 1) and waits for its leaders; throws if it exists. */
export async function createTopic(name: string, partitions: number): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    if (!created) throw new Error(`createTopic(${name}): the topic already exists`);
  } finally {
    await admin.disconnect();
  }
}

export interface TestMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  /** Without it, the default partitioner picks one (by key hash, or round robin without a key). */
  partition?: number;
  headers?: Record<string, string | Buffer>;
  /** Milliseconds since the epoch; the broker's default is the produce time. */
  timestamp?: number;
}

const PRODUCE_CHUNK = 10_000;

/** Produces `messages` to `topic` in chunks of 10,000 (acks from all replicas), in order; resolves once all are acknowledged. */
export async function produce(topic: string, messages: readonly TestMessage[]): Promise<void> {
  const producer = kafkaClient().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let start = 0; start < messages.length; start += PRODUCE_CHUNK) {
      const chunk: Message[] = messages.slice(start, start + PRODUCE_CHUNK).map((m) => ({
        key: m.key ?? null,
        value: m.value,
        ...(m.partition !== undefined ? { partition: m.partition } : {}),
        ...(m.headers !== undefined ? { headers: m.headers } : {}),
        ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
      }));
      await producer.send({ topic, messages: chunk, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumedMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values as UTF-8 strings; a header repeated under one key gives an array. */
  headers: Record<string, string | string[]>;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/**
 * Every message of `topic` from the low to the high watermark of each partition as they are when it is
 * called, ordered by partition then offset. Reads with a fresh consumer group; fails after `timeoutMs`.
 */
export async function consumeAll(topic: string, timeoutMs = 30_000): Promise<ConsumedMessage[]> {
  const kafka = kafkaClient();
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; low: string; high: string }[];
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const next = new Map<number, number>();
  const high = new Map<number, number>();
  for (const o of offsets) {
    next.set(o.partition, Number(o.low));
    high.set(o.partition, Number(o.high));
  }
  const remaining = () => offsets.filter((o) => next.get(o.partition)! < high.get(o.partition)!).length;
  const byPartition = new Map<number, ConsumedMessage[]>(offsets.map((o) => [o.partition, []]));
  if (remaining() > 0) {
    const consumer = kafka.consumer({ groupId: uniqueTopic(`consume-all-${topic}`), maxBytesPerPartition: 10 * 1024 * 1024 });
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const partition = batch.partition;
          const end = high.get(partition)!;
          const out = byPartition.get(partition)!;
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset < next.get(partition)! || offset >= end) continue;
            out.push({
              partition,
              offset,
              key: m.key,
              value: m.value,
              headers: decodeHeaders(m.headers),
              timestamp: Number(m.timestamp),
            });
            next.set(partition, offset + 1);
          }
          if (remaining() === 0) finish();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
      const outcome = await Promise.race([finished.then(() => "done" as const), timedOut]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        const progress = offsets.map((o) => `partition ${o.partition}: ${next.get(o.partition)}/${o.high}`).join(", ");
        throw new Error(`consumeAll(${topic}): not all messages read within ${timeoutMs} ms (${progress})`);
      }
    } finally {
      await consumer.disconnect();
    }
  }
  return [...byPartition.keys()].sort((a, b) => a - b).flatMap((p) => byPartition.get(p)!);
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map((v) => v.toString()) : value.toString();
  }
  return out;
}
