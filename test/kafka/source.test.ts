/**
 * The `kafka` source against a real Kafka-protocol broker (test/support/kafka.ts): every partition
 * read exactly, in partition then offset order, compared with what an independent consumer
 * (`consumeAll`) finds in the topic; a range read again (by the same source or a new one resuming
 * from a checkpoint's offset) gives the same rows and rejects; `max_per_batch` is shared across
 * partitions in proportion to their backlog; `start` earliest, latest and a timestamp; partitions
 * added while running; `raw` columns; records too large; the errors for a topic that does not
 * exist and for offsets the topic no longer holds. Outages are in source-outage.test.ts, a whole
 * pipeline in source-pipeline.test.ts.
 */
import { describe, expect, it } from "vitest";
import { batchToRows } from "../../runtime/columnar/batch-ops.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { RejectedRecord } from "../../runtime/deadletter.ts";
import type { Schema, SettingValue, SourceSpec } from "../../runtime/plan.ts";
import { createKafka } from "../../runtime/kafka/client.ts";
import { createSource, type SourceContext } from "../../runtime/sources/index.ts";
import { kafkaSourceOfPlan } from "../../runtime/sources/kafka.ts";
import { planRange, shareCap, type KafkaLatest } from "../../runtime/sources/kafka-offsets.ts";
import type { JsonValue, Offset, Range, Source } from "../../runtime/sources/source.ts";
import { consumeAll, createTopic, kafkaBrokers, kafkaClient, produce, uniqueTopic, type ConsumedMessage, type TestMessage } from "../support/kafka.ts";

// ---- helpers ----------------------------------------------------------------------------------------

const orderSchema: Schema = {
  fields: [
    { name: "id", type: { kind: "long" }, nullable: false },
    { name: "customer", type: { kind: "string" }, nullable: true },
    { name: "amount", type: { kind: "double" }, nullable: false },
  ],
};

type Start = "earliest" | "latest" | { micros: number };

function kafkaSpec(topic: string, schema: Schema, options: { format?: string; start?: Start; maxPerBatch?: number; brokers?: string } = {}): SourceSpec {
  const settings: Record<string, SettingValue> = {
    brokers: { kind: "string", value: { kind: "literal", value: options.brokers ?? kafkaBrokers() } },
    topic: { kind: "string", value: { kind: "literal", value: topic } },
    format: { kind: "word", word: options.format ?? "json" },
  };
  const start = options.start ?? "earliest";
  settings["start"] = typeof start === "string" ? { kind: "word", word: start } : { kind: "timestamp", micros: start.micros };
  if (options.maxPerBatch !== undefined) settings["max_per_batch"] = { kind: "integer", value: options.maxPerBatch };
  return { id: "orders", connector: "kafka", target: undefined, options: settings, schema };
}

interface Opened {
  source: Source;
  logs: string[];
}

async function open(spec: SourceSpec, resume?: Offset, options: { maxRecordBytes?: number; makeClient?: typeof createKafka } = {}): Promise<Opened> {
  const logs: string[] = [];
  const context: SourceContext = { cwd: process.cwd(), env: {}, pipelineId: uniqueTopic("pipeline"), log: (line) => logs.push(line), maxRecordBytes: options.maxRecordBytes };
  // Through the registry, as the engine builds it; with a wrapped client through the factory itself.
  const source = options.makeClient ? kafkaSourceOfPlan(spec, context, options.makeClient) : createSource(spec, context);
  await source.open(resume);
  return { source, logs };
}

interface Drained {
  ranges: Range[];
  rows: Record<string, CellValue>[];
  rejects: RejectedRecord[];
  /** Where reading stands after the last range (undefined when nothing was read). */
  end: Offset | undefined;
}

/** Plans and reads until the source has nothing more, as the engine's loop does. */
async function drain(source: Source, from?: Offset): Promise<Drained> {
  const out: Drained = { ranges: [], rows: [], rejects: [], end: from };
  for (;;) {
    const latest = await source.latest();
    const range = source.plan(out.end, { latest });
    if (range === undefined) return out;
    const result = await source.read(range);
    expect(result.batch.length).toBeGreaterThanOrEqual(0);
    out.ranges.push(range);
    out.rows.push(...batchToRows(result.batch));
    out.rejects.push(...result.rejects);
    out.end = source.end(range);
  }
}

/** A rejected record without its wall-clock time, which a replay does not reproduce. */
function timeless(rejects: readonly RejectedRecord[]) {
  return rejects.map(({ time: _time, raw, ...rest }) => ({ ...rest, raw: Buffer.from(raw).toString("latin1") }));
}

function rangePartitions(range: Range): Record<string, [number, number]> {
  return (range as { partitions: Record<string, [number, number]> }).partitions;
}

function rangeSize(range: Range): number {
  return Object.values(rangePartitions(range)).reduce((n, [from, to]) => n + (to - from), 0);
}

/** What the schema's rows should be, from what an independent consumer finds in the topic: valid JSON orders only. */
function expectedOrders(messages: readonly ConsumedMessage[]): { rows: Record<string, CellValue>[]; rejected: { partition: number; offset: number }[] } {
  const rows: Record<string, CellValue>[] = [];
  const rejected: { partition: number; offset: number }[] = [];
  for (const m of messages) {
    let value: unknown;
    try {
      value = JSON.parse(m.value?.toString("utf8") ?? "");
    } catch {
      value = undefined;
    }
    const v = value as { id?: unknown; customer?: unknown; amount?: unknown } | undefined;
    if (v && typeof v === "object" && Number.isSafeInteger(v.id) && typeof v.amount === "number" && (v.customer === undefined || v.customer === null || typeof v.customer === "string")) {
      rows.push({ id: v.id as number, customer: (v.customer as string | undefined) ?? null, amount: v.amount });
    } else {
      rejected.push({ partition: m.partition, offset: m.offset });
    }
  }
  return { rows, rejected };
}

function order(id: number, partition: number): TestMessage {
  return { partition, value: JSON.stringify({ id, customer: id % 7 === 0 ? null : `c${id % 13}`, amount: (id % 1000) / 4 }) };
}

/** Orders spread over `partitions` with `counts[p]` records each, one in every `badEvery` malformed or mistyped. */
function orders(counts: readonly number[], badEvery = 0): TestMessage[] {
  const messages: TestMessage[] = [];
  let id = 0;
  const longest = Math.max(...counts);
  for (let i = 0; i < longest; i++) {
    counts.forEach((count, partition) => {
      if (i >= count) return;
      id++;
      if (badEvery > 0 && id % badEvery === 0) {
        messages.push({ partition, value: id % 2 ? `{"id": ${id}, "amount": "lots"}` : `{"id": ${id},` });
      } else {
        messages.push(order(id, partition));
      }
    });
  }
  return messages;
}

// ---- planning, without a broker --------------------------------------------------------------------

describe("kafka source planning", () => {
  it("shares max_per_batch in proportion to each partition's backlog, largest remainders first", () => {
    // 32 of 160: exactly 20, 10 and 2.
    expect(shareCap([100, 50, 10], 32)).toEqual([20, 10, 2]);
    // 10 of 30: 3.33 each, floors 3 + 3 + 3, the one left to the lowest partition on a tie.
    expect(shareCap([10, 10, 10], 10)).toEqual([4, 3, 3]);
    // 2 of 3 over three partitions of 1: floors 0; remainders tie; lower partitions first.
    expect(shareCap([1, 1, 1], 2)).toEqual([1, 1, 0]);
    // 5 of 1,000,001: 999,999 × 5 / 1,000,001 = 4.99999 → 4, remainder large; 1 × 5 / 1,000,001 → 0, remainder 5.
    expect(shareCap([999_999, 1, 1], 5)).toEqual([5, 0, 0]);
    // Under the cap: everything.
    expect(shareCap([3, 0, 4], 100)).toEqual([3, 0, 4]);
  });

  it("plans every partition from the position, new partitions from startsAt, and the same range for the same arguments", () => {
    const latest: KafkaLatest = { topic: "t", partitions: new Map([[0, 10], [1, 5], [2, 7]]), startsAt: new Map([[0, 0], [1, 0], [2, 3]]) };
    const from = { topic: "t", partitions: new Map([[0, 4], [1, 5]]) };
    const range = planRange(from, latest, undefined)!;
    expect([...range.partitions]).toEqual([[0, [4, 10]], [1, [5, 5]], [2, [3, 7]]]);
    expect(planRange(from, latest, undefined)).toEqual(range);
    // Nothing new anywhere: no range.
    expect(planRange({ topic: "t", partitions: new Map([[0, 10], [1, 5], [2, 7]]) }, latest, undefined)).toBeUndefined();
    // A partition behind the position (the topic was recreated) still gets a range, so that read fails loudly.
    expect(planRange({ topic: "t", partitions: new Map([[0, 12], [1, 5], [2, 7]]) }, latest, undefined)?.partitions.get(0)).toEqual([12, 12]);
  });
});

// ---- against the broker --------------------------------------------------------------------------------

describe("kafka source", () => {
  it("reads every partition exactly, in partition then offset order, with the bad records rejected at their partition and offset", async () => {
    const topic = uniqueTopic("source-every");
    await createTopic(topic, 4);
    // Partition 3 stays empty.
    await produce(topic, orders([120, 45, 300, 0], 17));
    const consumed = await consumeAll(topic);
    const expected = expectedOrders(consumed);
    expect(expected.rejected.length).toBeGreaterThan(0);

    const { source } = await open(kafkaSpec(topic, orderSchema));
    try {
      const drained = await drain(source);
      expect(drained.ranges).toHaveLength(1);
      expect(drained.rows).toEqual(expected.rows);
      expect(drained.rejects.map((r) => r.position)).toEqual(expected.rejected.map((p) => ({ kind: "partition", ...p })));
      expect(new Set(drained.rejects.map((r) => r.reason))).toEqual(new Set(["malformed", "type_mismatch"]));
      for (const reject of drained.rejects) {
        const position = reject.position as { partition: number; offset: number };
        const message = consumed.find((m) => m.partition === position.partition && m.offset === position.offset)!;
        expect(Buffer.from(reject.raw).equals(message.value!)).toBe(true);
        expect(reject.source).toBe("orders");
      }
      expect(drained.end).toEqual({ topic, partitions: { "0": 120, "1": 45, "2": 300, "3": 0 } });

      // A record produced later to the empty partition is read by the next batch, and only it.
      await produce(topic, [order(10_001, 3)]);
      const later = await drain(source, drained.end);
      expect(later.rows).toEqual([{ id: 10_001, customer: "c4", amount: 0.25 }]);
      expect(later.ranges.map(rangePartitions)).toEqual([{ "0": [120, 120], "1": [45, 45], "2": [300, 300], "3": [0, 1] }]);
      expect(source.behind(later.end, await source.latest())).toBe(0);
    } finally {
      await source.close();
    }
  });

  it("reads a range again, in the same source or a new one resuming from the checkpoint, with the same rows and rejects", async () => {
    const topic = uniqueTopic("source-replay");
    await createTopic(topic, 3);
    await produce(topic, orders([200, 150, 90], 11));
    const first = await open(kafkaSpec(topic, orderSchema, { maxPerBatch: 100 }));
    let ranges: Range[] = [];
    let results: { rows: Record<string, CellValue>[]; rejects: ReturnType<typeof timeless> }[] = [];
    let resumeFrom: Offset | undefined;
    try {
      const latest = await first.source.latest();
      let from: Offset | undefined;
      for (let range = first.source.plan(from, { latest }); range !== undefined; range = first.source.plan(from, { latest })) {
        const result = await first.source.read(range);
        ranges.push(range);
        results.push({ rows: batchToRows(result.batch), rejects: timeless(result.rejects) });
        if (ranges.length === 1) resumeFrom = first.source.end(range);
        from = first.source.end(range);
      }
      expect(ranges.length).toBe(5);
      // The same source reads its second range again: the same.
      const again = await first.source.read(ranges[1]!);
      expect({ rows: batchToRows(again.batch), rejects: timeless(again.rejects) }).toEqual(results[1]);
    } finally {
      await first.source.close();
    }
    // A new process resumes after batch 0 and replays batches 1 and 2 from their recorded ranges (JSON, as offsets/N holds them).
    const second = await open(kafkaSpec(topic, orderSchema, { maxPerBatch: 100 }), JSON.parse(JSON.stringify(resumeFrom)) as JsonValue);
    try {
      for (const n of [1, 2]) {
        const result = await second.source.read(JSON.parse(JSON.stringify(ranges[n])) as JsonValue);
        expect({ rows: batchToRows(result.batch), rejects: timeless(result.rejects) }).toEqual(results[n]);
      }
    } finally {
      await second.source.close();
    }
    // Together the batches hold the topic exactly once.
    const expected = expectedOrders(await consumeAll(topic));
    const all = results.flatMap((r) => r.rows);
    expect([...all].sort((a, b) => (a["id"] as number) - (b["id"] as number))).toEqual([...expected.rows].sort((a, b) => (a["id"] as number) - (b["id"] as number)));
    expect(results.flatMap((r) => r.rejects).length).toBe(expected.rejected.length);
    ranges = [];
    results = [];
  });

  it("shares max_per_batch across partitions by backlog and reads every record once", async () => {
    const topic = uniqueTopic("source-cap");
    await createTopic(topic, 3);
    const counts = [400, 100, 13];
    await produce(topic, orders(counts));
    const cap = 64;
    const { source } = await open(kafkaSpec(topic, orderSchema, { maxPerBatch: cap }));
    try {
      const drained = await drain(source);
      const total = counts.reduce((a, b) => a + b, 0);
      expect(drained.ranges.length).toBe(Math.ceil(total / cap));
      // Each batch: exactly the cap (the last: what is left), and each partition within one record of its proportional share.
      const left = [...counts];
      for (const range of drained.ranges) {
        const backlog = left.reduce((a, b) => a + b, 0);
        expect(rangeSize(range)).toBe(Math.min(cap, backlog));
        const partitions = rangePartitions(range);
        counts.forEach((_, p) => {
          const [from, to] = partitions[String(p)]!;
          expect(from).toBe(counts[p]! - left[p]!);
          const share = backlog <= cap ? left[p]! : (cap * left[p]!) / backlog;
          expect(Math.abs(to - from - share)).toBeLessThan(1);
          left[p]! -= to - from;
        });
      }
      expect(left).toEqual([0, 0, 0]);
      const ids = drained.rows.map((r) => r["id"] as number).sort((a, b) => a - b);
      expect(ids).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      // `trigger = once` ignores the cap.
      const latest = await source.latest();
      expect(source.plan(undefined, { latest, uncapped: true })).toEqual({ topic, partitions: { "0": [0, 400], "1": [0, 100], "2": [0, 13] } });
    } finally {
      await source.close();
    }
  });

  it("starts a new checkpoint at the latest offsets by default, or at the earliest", async () => {
    const topic = uniqueTopic("source-start");
    await createTopic(topic, 2);
    const early = orders([10, 10]);
    await produce(topic, early);
    const latest = await open(kafkaSpec(topic, orderSchema, { start: "latest" }));
    const earliest = await open(kafkaSpec(topic, orderSchema, { start: "earliest" }));
    try {
      expect(latest.source.plan(undefined, { latest: await latest.source.latest() })).toBeUndefined();
      const later = [order(1001, 0), order(1002, 1), order(1003, 1)];
      await produce(topic, later);
      const fromLatest = await drain(latest.source);
      expect(fromLatest.ranges.map(rangePartitions)).toEqual([{ "0": [10, 11], "1": [10, 12] }]);
      expect(fromLatest.rows.map((r) => r["id"])).toEqual([1001, 1002, 1003]);
      const fromEarliest = await drain(earliest.source);
      const idsOf = (ms: TestMessage[]) => ms.map((m) => JSON.parse(m.value as string).id as number);
      expect(fromEarliest.rows.map((r) => r["id"])).toEqual([...idsOf(early.filter((m) => m.partition === 0)), 1001, ...idsOf(early.filter((m) => m.partition === 1)), 1002, 1003]);
    } finally {
      await latest.source.close();
      await earliest.source.close();
    }
  });

  it("starts a new checkpoint at a timestamp: each partition at its first record at or after it", async () => {
    // The test broker answers ListOffsets by timestamp with "none" (librdkafka's mock: "FIXME: by
    // timestamp"), so the client is wrapped to answer as Kafka does, from the records themselves:
    // the first offset whose timestamp is at or after the one asked, else the end.
    const topic = uniqueTopic("source-start-time");
    await createTopic(topic, 2);
    const base = Date.UTC(2024, 0, 1);
    const messages: TestMessage[] = [];
    for (let i = 0; i < 10; i++) for (const partition of [0, 1]) messages.push({ ...order(i * 2 + partition + 1, partition), timestamp: base + i * 1000 + partition * 500 });
    await produce(topic, messages);
    const consumed = await consumeAll(topic);
    const asked: number[] = [];
    const makeClient: typeof createKafka = (brokers, clientId, log) => {
      const kafka = createKafka(brokers, clientId, log);
      const admin = kafka.admin.bind(kafka);
      kafka.admin = (config) => {
        const a = admin(config);
        a.fetchTopicOffsetsByTimestamp = async (t, millis) => {
          expect(t).toBe(topic);
          asked.push(millis!);
          return [0, 1].map((partition) => {
            const inPartition = consumed.filter((m) => m.partition === partition);
            return { partition, offset: String(inPartition.find((m) => m.timestamp >= millis!)?.offset ?? inPartition.length) };
          });
        };
        return a;
      };
      return kafka;
    };
    // 4.5 s after base, plus a microsecond: partition 0's records are at 0, 1, 2 ... s, partition 1's at 0.5, 1.5 ... s.
    const at = await open(kafkaSpec(topic, orderSchema, { start: { micros: (base + 4500) * 1000 + 1 } }), undefined, { makeClient });
    const after = await open(kafkaSpec(topic, orderSchema, { start: { micros: (base + 60_000) * 1000 } }), undefined, { makeClient });
    try {
      // Microseconds round up to the next millisecond: no record before the instant is read.
      expect(asked).toEqual([base + 4501, base + 60_000]);
      const drained = await drain(at.source);
      expect(drained.ranges.map(rangePartitions)).toEqual([{ "0": [5, 10], "1": [5, 10] }]);
      expect(drained.rows.map((r) => r["id"])).toEqual([11, 13, 15, 17, 19, 12, 14, 16, 18, 20]);
      expect(after.source.plan(undefined, { latest: await after.source.latest() })).toBeUndefined();
      await produce(topic, [order(1001, 1)]);
      expect((await drain(after.source)).rows.map((r) => r["id"])).toEqual([1001]);
    } finally {
      await at.source.close();
      await after.source.close();
    }
  });

  it("picks up partitions added while running, reading them from their earliest offset", async () => {
    // The test broker cannot add partitions (CreatePartitions is unsupported), so the topic is
    // deleted and created again with more: the source and its consumer see partitions appear.
    const topic = uniqueTopic("source-added");
    await createTopic(topic, 2);
    await produce(topic, [order(1, 0), order(2, 1)]);
    const { source, logs } = await open(kafkaSpec(topic, orderSchema));
    try {
      const first = await drain(source);
      expect(first.rows.map((r) => r["id"])).toEqual([1, 2]);

      const admin = kafkaClient().admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
      await createTopic(topic, 4);
      // Two records in each partition: 0 and 1 again from offset 0, so the source (at offset 1) reads the second.
      await produce(topic, [0, 1, 2, 3].flatMap((partition) => [order(100 + partition * 10, partition), order(101 + partition * 10, partition)]));

      const latest = await source.latest();
      expect(Object.keys((latest as { partitions: object }).partitions)).toEqual(["0", "1", "2", "3"]);
      const second = await drain(source, first.end);
      expect(second.ranges.map(rangePartitions)).toEqual([{ "0": [1, 2], "1": [1, 2], "2": [0, 2], "3": [0, 2] }]);
      expect(second.rows.map((r) => r["id"])).toEqual([101, 111, 120, 121, 130, 131]);
      expect(logs.filter((l) => !l.includes("kafka "))).toEqual([]);
    } finally {
      await source.close();
    }
  });

  it("raw: key, value, topic, partition, offset, timestamp and headers, as the record holds them", async () => {
    const topic = uniqueTopic("source-raw");
    await createTopic(topic, 2);
    const base = Date.UTC(2024, 5, 1, 12);
    await produce(topic, [
      { partition: 0, key: "k1", value: "hello", headers: { trace: "t-1", "content-type": "text/plain" }, timestamp: base },
      { partition: 0, key: null, value: Buffer.from([0xff, 0xfe, 0x00]), timestamp: base + 1 },
      { partition: 1, key: Buffer.from([0xc3, 0x28]), value: null, timestamp: base + 2 },
      { partition: 1, key: "k4", value: "", headers: { trace: "t-4" }, timestamp: base + 3 },
      { partition: 1, key: "k5", value: null, timestamp: base + 4 },
    ]);
    const consumed = await consumeAll(topic);
    const schema: Schema = {
      fields: [
        { name: "partition", type: { kind: "int" }, nullable: false },
        { name: "offset", type: { kind: "long" }, nullable: false },
        { name: "key", type: { kind: "bytes" }, nullable: true },
        { name: "value", type: { kind: "bytes" }, nullable: true },
        { name: "topic", type: { kind: "string" }, nullable: false },
        { name: "timestamp", type: { kind: "timestamp" }, nullable: false },
        { name: "headers", type: { kind: "map", value: { name: "value", type: { kind: "string" }, nullable: true } }, nullable: false },
      ],
    };
    const bytes = await open(kafkaSpec(topic, schema, { format: "raw" }));
    try {
      const drained = await drain(bytes.source);
      expect(drained.rejects).toEqual([]);
      expect(drained.rows).toEqual(
        consumed.map((m) => ({
          partition: m.partition,
          offset: m.offset,
          key: m.key === null ? null : new Uint8Array(m.key),
          value: m.value === null ? null : new Uint8Array(m.value),
          topic,
          timestamp: m.timestamp * 1000,
          headers: new Map(Object.entries(m.headers)),
        })),
      );
    } finally {
      await bytes.source.close();
    }

    // As text, required: invalid UTF-8 is malformed, a tombstone null_in_required, each at its partition and offset.
    const textSchema: Schema = {
      fields: [
        { name: "key", type: { kind: "string" }, nullable: true },
        { name: "value", type: { kind: "string" }, nullable: false },
      ],
    };
    const text = await open(kafkaSpec(topic, textSchema, { format: "raw" }));
    try {
      const drained = await drain(text.source);
      expect(drained.rows).toEqual([
        { key: "k1", value: "hello" },
        { key: "k4", value: "" },
      ]);
      expect(drained.rejects.map((r) => [r.reason, r.position, r.detail, Buffer.from(r.raw).toString("hex")])).toEqual([
        ["malformed", { kind: "partition", partition: 0, offset: 1 }, 'field "value": invalid UTF-8', "fffe00"],
        ["malformed", { kind: "partition", partition: 1, offset: 0 }, 'field "key": invalid UTF-8', ""],
        ["null_in_required", { kind: "partition", partition: 1, offset: 2 }, 'field "value": required and null', ""],
      ]);
    } finally {
      await text.source.close();
    }
  });

  it("rejects a record above the size limit as too_large, keeping its first 64 KiB", async () => {
    const topic = uniqueTopic("source-large");
    await createTopic(topic, 1);
    const big = JSON.stringify({ id: 2, customer: "x".repeat(70 * 1024), amount: 1 });
    await produce(topic, [order(1, 0), { partition: 0, value: big }, order(3, 0)]);
    const { source } = await open(kafkaSpec(topic, orderSchema), undefined, { maxRecordBytes: 1024 });
    try {
      const drained = await drain(source);
      expect(drained.rows.map((r) => r["id"])).toEqual([1, 3]);
      expect(drained.rejects).toHaveLength(1);
      const [reject] = drained.rejects;
      expect(reject!.reason).toBe("too_large");
      expect(reject!.position).toEqual({ kind: "partition", partition: 0, offset: 1 });
      expect(reject!.raw.length).toBe(64 * 1024);
      expect(Buffer.from(reject!.raw).equals(Buffer.from(big).subarray(0, 64 * 1024))).toBe(true);
      expect(reject!.detail).toContain(`${Buffer.byteLength(big)} bytes`);
    } finally {
      await source.close();
    }
  });

  it("fails at open, naming the topic and the brokers, when the topic does not exist", async () => {
    const topic = uniqueTopic("source-missing");
    const started = Date.now();
    await expect(open(kafkaSpec(topic, orderSchema))).rejects.toThrow(`kafka source orders: topic "${topic}" does not exist on brokers ${kafkaBrokers()}`);
    expect(Date.now() - started).toBeLessThan(10_000);
    // It was not created by asking.
    const admin = kafkaClient().admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain(topic);
    await admin.disconnect();
  });

  it("fails a read whose offsets the topic no longer holds (recreated), with the way out, instead of skipping", async () => {
    const topic = uniqueTopic("source-recreated");
    await createTopic(topic, 1);
    await produce(topic, orders([5]));
    const { source } = await open(kafkaSpec(topic, orderSchema));
    try {
      const first = await drain(source);
      expect(first.end).toEqual({ topic, partitions: { "0": 5 } });
      const admin = kafkaClient().admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
      await createTopic(topic, 1);
      await produce(topic, orders([2]));
      // The next batch: the partition now ends before where the checkpoint stands.
      const latest = await source.latest();
      const range = source.plan(first.end, { latest });
      expect(range).toEqual({ topic, partitions: { "0": [5, 5] } });
      await expect(source.read(range!)).rejects.toThrow(
        `kafka source orders: partition 0 of topic "${topic}" ends at offset 2, but the checkpoint reads it up to offset 5: the topic was deleted and created again, or the brokers lost records. The batch cannot be read again whole. To go on without those records, run the pipeline with a new checkpoint directory`,
      );
      // Replaying the first batch fails the same way.
      await expect(source.read(first.ranges[0]!)).rejects.toThrow(`ends at offset 2, but the checkpoint reads it up to offset 5`);
    } finally {
      await source.close();
    }
  });

  it("refuses offsets of another topic", async () => {
    const topic = uniqueTopic("source-other");
    await createTopic(topic, 1);
    await expect(open(kafkaSpec(topic, orderSchema), { topic: "orders-v1", partitions: { "0": 3 } })).rejects.toThrow(
      `kafka source orders: the checkpoint's offsets are positions in topic "orders-v1", but the source reads "${topic}"; start a new checkpoint`,
    );
  });
});
