/**
 * `streamc status CHECKPOINT --explain-time` after a Kafka pipeline ran: per partition the newest
 * event time (equal to the newest produced there) and which partition went idle; the watermark and
 * what holds it; the open windows of the window aggregate and when the oldest closes; all computed
 * independently from the produced records.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { formatTimestampMicros } from "../../runtime/time.ts";
import { createTopic, kafkaBrokers, produce, type TestMessage, uniqueTopic } from "../support/kafka.ts";

const root = mkdtempSync(join(tmpdir(), "streamc-explain-time-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const MINUTE = 60_000_000;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

it("explains event time per partition, the watermark and the open windows", async () => {
  const topic = uniqueTopic("explain-time");
  await createTopic(topic, 4);
  const base = Date.parse("2024-08-01T00:00:00Z") * 1000;
  const produced: { partition: number; ts: number; country: string }[] = [];
  const batch = (from: number, to: number, partitions: number[]): TestMessage[] =>
    Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      const partition = partitions[i % partitions.length]!;
      const ts = base + i * 7_000_000;
      const country = ["DE", "FR"][i % 2]!;
      produced.push({ partition, ts, country });
      return { partition, value: JSON.stringify({ id: i, country, ts: formatTimestampMicros(ts) }) };
    });
  await produce(topic, batch(0, 400, [0, 1, 2, 3]));
  const file = join(root, "p.stream");
  writeFileSync(
    file,
    `pipeline p { checkpoint = "${join(root, "checkpoint")}" }
schema E { id: long, country: string, ts: timestamp }
source events: E = kafka { brokers = "${kafkaBrokers()}", topic = "${topic}", format = json, start = earliest, max_per_batch = 150 }
stream counts = events | watermark ts delay 2m | window tumbling 10m | aggregate n = count() by country
sink counts -> files "${join(root, "out")}"
`,
  );
  expect((await cli("run", file, "--trigger", "available_now")).code).toBe(0);
  // Later, partition 3 gets nothing more.
  await produce(topic, batch(400, 700, [0, 1, 2]));
  const second = await cli("run", file, "--trigger", "available_now");
  expect(second.code, second.err).toBe(0);

  const json = await cli("status", join(root, "checkpoint"), "--explain-time", "--json");
  expect(json.code, json.err).toBe(0);
  const e = JSON.parse(json.out) as {
    lastBatch: number;
    watermark: number;
    watermarks: { node: string; maxEventTime: number; delayMicros: number; allows: number }[];
    sources: { source: string; column: string; partitions: { partition: string; maxEventTime: number; lastBatch: number; idleBatches: number }[] }[];
    windows: { operator: string; open: number; oldest: { start: number; end: number }; closesAtWatermark: number; closesAtEventTime: number }[];
  };
  const newest = Math.max(...produced.map((p) => p.ts));
  expect(e.watermarks).toHaveLength(1);
  expect(e.watermarks[0]!.maxEventTime).toBe(newest);
  expect(e.watermark).toBe(newest - 2 * MINUTE);

  const [source] = e.sources;
  expect(source!.source).toBe("events");
  expect(source!.column).toBe("ts");
  for (const p of [0, 1, 2, 3]) {
    const tracked = source!.partitions.find((x) => x.partition === String(p))!;
    expect(tracked.maxEventTime, `partition ${p}`).toBe(Math.max(...produced.filter((x) => x.partition === p).map((x) => x.ts)));
    expect(tracked.idleBatches > 0, `partition ${p} idle`).toBe(p === 3);
  }

  // Open windows: the (window, country) groups whose window has not ended by the watermark.
  const size = 10 * MINUTE;
  const open = new Map<string, number>();
  for (const p of produced) {
    const start = Math.floor(p.ts / size) * size;
    if (start + size > e.watermark) open.set(`${start}|${p.country}`, start);
  }
  const [window] = e.windows;
  expect(window!.operator).toBe("counts.aggregate");
  expect(window!.open).toBe(open.size);
  const oldest = Math.min(...open.values());
  expect(window!.oldest).toEqual({ start: oldest, end: oldest + size });
  expect(window!.closesAtEventTime).toBe(oldest + size + 2 * MINUTE);

  const text = await cli("status", join(root, "checkpoint"), "--explain-time");
  expect(text.out).toContain(`partition 3: newest ${formatTimestampMicros(Math.max(...produced.filter((x) => x.partition === 3).map((x) => x.ts)))}, idle: no rows for`);
  expect(text.out).toContain(`the oldest, [${formatTimestampMicros(oldest)}, ${formatTimestampMicros(oldest + size)}), closes when the watermark reaches ${formatTimestampMicros(oldest + size)} (once the newest event time reaches ${formatTimestampMicros(oldest + size + 2 * MINUTE)})`);
}, 120_000);
