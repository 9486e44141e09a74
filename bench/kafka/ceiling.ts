/**
 * The ceiling of `bench:kafka`: plain kafkajs reading the topic and `JSON.parse`-ing every value,
 * the least any JSON consumer of the topic must do.
 *
 * Contract: `readCeiling(brokers, topic, high)` connects a consumer in a fresh group (kafkajs's
 * default fetch settings, `fromBeginning`), reads every partition with `eachBatch` from its first
 * offset up to `high` (the high watermarks, fetched beforehand), `JSON.parse`s every message value
 * and counts the messages and the orders with `amount > THRESHOLD` (the check: they must equal the
 * produced and the kept counts). It resolves when the last message is parsed, with `disconnect`,
 * which the caller runs untimed: the figure is from `connect` to the last message.
 */
import type { Consumer } from "kafkajs";
import { benchKafka } from "./broker.ts";
import { THRESHOLD } from "./orders.ts";

export interface CeilingRun {
  messages: number;
  kept: number;
  /** Bytes of the values parsed. */
  bytes: number;
  disconnect(): Promise<void>;
}

let groups = 0;

export async function readCeiling(brokers: string, topic: string, high: ReadonlyMap<number, number>): Promise<CeilingRun> {
  const consumer: Consumer = benchKafka(brokers, "streamc-bench-ceiling").consumer({ groupId: `bench-ceiling-${process.pid}-${++groups}-${Date.now().toString(36)}` });
  const next = new Map([...high.keys()].map((p) => [p, 0]));
  let remaining = [...high.values()].filter((h) => h > 0).length;
  let messages = 0;
  let kept = 0;
  let bytes = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const end = high.get(batch.partition)!;
      let at = next.get(batch.partition)!;
      if (at >= end) return;
      for (const message of batch.messages) {
        const offset = Number(message.offset);
        if (offset < at || offset >= end) continue;
        const value = message.value!;
        const order = JSON.parse(value.toString("utf8")) as { amount: number };
        if (order.amount > THRESHOLD) kept++;
        messages++;
        bytes += value.length;
        at = offset + 1;
      }
      next.set(batch.partition, at);
      if (at >= end && --remaining === 0) finish();
    },
  });
  if (remaining === 0) finish();
  await finished;
  return { messages, kept, bytes, disconnect: () => consumer.disconnect() };
}
