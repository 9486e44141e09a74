/**
 * The `kafka` source: every partition of one topic, read in exact offset ranges that the
 * checkpoint owns.
 *
 * Contract (source.ts): offsets, latest offsets and ranges are the JSON of kafka-offsets.ts
 * (per partition, the next offset; the high watermarks and where unseen partitions start;
 * `[from, to)`). The checkpoint's offsets are the only record of what was read: the consumer
 * seeks to them (kafka-reader.ts), and the consumer group's committed offsets are written for lag
 * monitoring only, never read.
 * - `open(resume)`: connects, and fails at once, naming the topic and the brokers, when the topic
 *   does not exist; resuming, the offsets must be of this topic. A new checkpoint resolves `start`
 *   here, once: `earliest` (each partition's first offset), `latest` (its high watermark, the
 *   default) or a timestamp (the first record at or after it; the high watermark if none is).
 * - `latest()`: the high watermarks of every partition the topic has now, so partitions added
 *   while running are read (from their earliest offset, as Spark does).
 * - `plan` is pure (kafka-offsets.ts `planRange`); `max_per_batch` caps the records of a batch
 *   across all partitions, shared in proportion to each partition's backlog.
 * - `read(range)`: exactly the records of each partition's `[from, to)`, partition by partition in
 *   offset order, decoded into the declared schema (`json`, `csv` one record per message, `raw`
 *   kafka-raw.ts); rejects carry the partition and offset. A value above `maxRecordBytes` is
 *   `too_large` (the dead letter keeps its first 64 KiB); a message without a value (a tombstone)
 *   is `malformed` for `json` and `csv`. Before reading, every partition of the range is checked
 *   against what the topic holds: offsets deleted (retention) or beyond the end (the topic was
 *   recreated) reject the read with an error naming the topic, partition, offset wanted, what the
 *   topic holds, and the way out; nothing is skipped in silence.
 * - Brokers that cannot be reached (at open, for `latest`, mid-read) are retried with backoff for
 *   as long as it takes, one log line per retry; kafkajs retries each request first
 *   (runtime/kafka/client.ts).
 * - The consumer is in a group of its own run, `streamc-<pipeline id>-<source>-run-<random>`, so
 *   a restart after a crash starts reading at once instead of waiting out the dead run's session
 *   (Spark's Kafka source likewise uses a fresh group per query). Offsets are committed to it for
 *   lag monitoring: the start of each range as it is read (the end of the batch before, which the
 *   engine committed), and the end of the last range at `close`.
 * - `close()` leaves the group and disconnects within seconds.
 */
import { randomBytes } from "node:crypto";
import type { Admin, Kafka } from "kafkajs";
import type { RejectedRecord } from "../deadletter.ts";
import { CsvDecoder } from "../decode/csv.ts";
import { JsonDecoder } from "../decode/json.ts";
import type { DecodeOptions, DecodeResult } from "../decode/rows.ts";
import { wallClockMicros } from "../decode/rows.ts";
import { createKafka, type KafkaLog } from "../kafka/client.ts";
import type { Schema, Settings, SourceSpec } from "../plan.ts";
import type { SourceContext } from "./index.ts";
import { type KafkaRecord, RawRecordDecoder } from "./kafka-raw.ts";
import {
  type KafkaLatest,
  type KafkaOffset,
  type KafkaRange,
  latestFromJson,
  latestToJson,
  offsetFromJson,
  offsetToJson,
  planRange,
  rangeEnd,
  rangeFromJson,
  rangeToJson,
  recordsBehind,
} from "./kafka-offsets.ts";
import { backoff, isKafkaError, KafkaRangeReader, KafkaReadError, messageOf, type Needed, sleep } from "./kafka-reader.ts";
import { integerSetting, resolveString, wordSetting } from "./settings.ts";
import type { Offset, PlanLimits, Range, ReadResult, Source } from "./source.ts";

export type KafkaFormat = "json" | "csv" | "raw";

export type KafkaStart = { kind: "earliest" } | { kind: "latest" } | { kind: "timestamp"; micros: number };

export interface KafkaSourceOptions {
  /** `host:port[,host:port...]`. */
  brokers: string;
  topic: string;
  format: KafkaFormat;
  start: KafkaStart;
  maxPerBatch?: number;
  /** `streamc-<pipeline id>-<source>`: each run's consumer joins the group `<groupId>-run-<random>`. */
  groupId: string;
  log: KafkaLog;
  /** Builds the kafkajs client (tests wrap it). Default `createKafka`. */
  makeClient?: typeof createKafka;
  /** Decoder settings other than the source's name. */
  decode?: Omit<DecodeOptions, "source">;
}

/** The source of a plan entry: its options (compiler defaults applied) and the engine's context. */
export function kafkaSourceOfPlan(spec: SourceSpec, context: SourceContext, makeClient: typeof createKafka = createKafka): KafkaSource {
  const options = spec.options;
  const format = wordSetting(options, "format") ?? "json";
  if (format !== "json" && format !== "csv" && format !== "raw") throw new Error(`kafka source ${spec.id}: format ${format} is not json, csv or raw`);
  const log = context.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const clock = context.clock;
  // Without a pipeline id (a source built outside the engine), a group of its own.
  const pipelineId = context.pipelineId ?? `adhoc-${process.pid}-${Date.now()}`;
  return new KafkaSource(spec.id, spec.schema, {
    brokers: resolveString(requiredString(options, "brokers", spec.id), context.env),
    topic: resolveString(requiredString(options, "topic", spec.id), context.env),
    format,
    start: startOf(options, spec.id),
    maxPerBatch: integerSetting(options, "max_per_batch"),
    groupId: `streamc-${pipelineId}-${spec.id}`,
    log,
    makeClient,
    decode: { maxRecordBytes: context.maxRecordBytes, ...(clock ? { now: () => clock() * 1000 } : {}) },
  });
}

function requiredString(settings: Settings, name: string, sourceId: string) {
  const value = settings[name];
  if (value?.kind !== "string") throw new Error(`kafka source ${sourceId}: option ${name} must be a string, the plan has ${value?.kind ?? "none"}`);
  return value.value;
}

function startOf(settings: Settings, sourceId: string): KafkaStart {
  const start = settings["start"];
  if (start === undefined) return { kind: "latest" };
  if (start.kind === "timestamp") return { kind: "timestamp", micros: start.micros };
  if (start.kind === "word" && (start.word === "earliest" || start.word === "latest")) return { kind: start.word };
  throw new Error(`kafka source ${sourceId}: option start must be earliest, latest or a timestamp, the plan has ${JSON.stringify(start)}`);
}

/** Per partition, the low and high watermarks. */
type Watermarks = Map<number, { low: number; high: number }>;

export class KafkaSource implements Source {
  readonly bounded = false;
  readonly description: string;
  private readonly label: string;
  private kafka: Kafka | undefined;
  private admin: Admin | undefined;
  private reader: KafkaRangeReader | undefined;
  /** A new checkpoint's start, per partition known at `open`; dropped after the first read. */
  private startPositions: Map<number, number> | undefined;
  private lastReadEnd: KafkaOffset | undefined;
  private closed = false;
  /** Aborted by `close`: ends backoff waits at once. */
  private readonly closing = new AbortController();

  constructor(
    readonly id: string,
    readonly schema: Schema,
    private readonly options: KafkaSourceOptions,
  ) {
    this.description = `kafka[${options.topic}]`;
    this.label = `kafka source ${id}`;
  }

  async open(resume: Offset | undefined): Promise<void> {
    const { brokers, topic, groupId, log } = this.options;
    this.kafka = (this.options.makeClient ?? createKafka)(brokers, this.options.groupId, (line) => log(`${this.label}: ${line}`));
    const admin = this.kafka.admin();
    this.admin = admin;
    try {
      if (resume !== undefined) {
        const offset = offsetFromJson(resume);
        if (offset.topic !== topic) {
          throw new Error(`${this.label}: the checkpoint's offsets are positions in topic "${offset.topic}", but the source reads "${topic}"; start a new checkpoint to read "${topic}"`);
        }
      }
      await this.retrying("connecting to the brokers", () => admin.connect());
      await this.retrying("listing topics", () => this.requireTopic());
      if (resume === undefined) this.startPositions = await this.retrying("finding where to start", () => this.resolveStart());
    } catch (e) {
      // The engine does not close a source that failed to open: let go of the connections here.
      await admin.disconnect().catch(() => undefined);
      this.admin = undefined;
      throw e;
    }
    this.reader = new KafkaRangeReader({
      kafka: this.kafka,
      topic,
      groupId: `${groupId}-run-${randomBytes(4).toString("hex")}`,
      label: this.label,
      log,
      headers: this.schema.fields.some((f) => f.name === "headers"),
    });
  }

  private async resolveStart(): Promise<Map<number, number>> {
    const { topic, start } = this.options;
    switch (start.kind) {
      case "earliest":
        return new Map([...(await this.watermarks())].map(([p, w]) => [p, w.low]));
      case "latest":
        return new Map([...(await this.watermarks())].map(([p, w]) => [p, w.high]));
      case "timestamp": {
        const offsets = await this.admin!.fetchTopicOffsetsByTimestamp(topic, Math.ceil(start.micros / 1000));
        return new Map(offsets.map(({ partition, offset }) => [partition, Number(offset)]));
      }
      default: {
        const unknown: never = start;
        throw new Error(`unknown start ${JSON.stringify(unknown)}`);
      }
    }
  }

  async latest(): Promise<Offset> {
    const watermarks = await this.retrying("reading the topic's offsets", () => this.watermarks());
    const startsAt = new Map<number, number>();
    for (const [partition, { low }] of watermarks) startsAt.set(partition, this.startPositions?.get(partition) ?? low);
    const latest: KafkaLatest = { topic: this.options.topic, partitions: new Map([...watermarks].map(([p, w]) => [p, w.high])), startsAt };
    return latestToJson(latest);
  }

  plan(from: Offset | undefined, limits: PlanLimits): Range | undefined {
    const latest = latestFromJson(limits.latest);
    const range = planRange(from === undefined ? undefined : offsetFromJson(from), latest, limits.uncapped ? undefined : this.options.maxPerBatch);
    return range && rangeToJson(range);
  }

  end(range: Range): Offset {
    return offsetToJson(rangeEnd(rangeFromJson(range)));
  }

  behind(from: Offset | undefined, latest: Offset): number {
    return recordsBehind(from === undefined ? undefined : offsetFromJson(from), latestFromJson(latest));
  }

  async read(json: Range): Promise<ReadResult> {
    const range = rangeFromJson(json);
    const reader = this.reader;
    if (!reader) throw new Error(`${this.label}: read before open`);
    if (range.topic !== this.options.topic) {
      throw new Error(`${this.label}: the batch's range is in topic "${range.topic}", but the source reads "${this.options.topic}"; start a new checkpoint`);
    }
    const watermarks = await this.retrying("checking the range against the topic", () => this.watermarks());
    this.checkRange(range.partitions, watermarks);
    void reader.commit(new Map([...range.partitions].map(([partition, [from]]) => [partition, from])));
    const records = await reader.read(range.partitions, (needed) => this.verify(needed));
    this.startPositions = undefined;
    this.lastReadEnd = rangeEnd(range);
    return this.decode(records);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    await this.reader?.close(this.lastReadEnd?.partitions);
    await this.admin?.disconnect().catch(() => undefined);
  }

  // ---- checks ----------------------------------------------------------------------------------------

  /** Each partition's low and high watermarks, from the brokers now (new partitions included). */
  private async watermarks(): Promise<Watermarks> {
    const offsets = await this.admin!.fetchTopicOffsets(this.options.topic);
    return new Map(offsets.map(({ partition, low, high }) => [partition, { low: Number(low), high: Number(high) }]));
  }

  /** Throws a `KafkaReadError` when the topic does not exist. */
  private async requireTopic(): Promise<void> {
    const { topic, brokers } = this.options;
    const topics = await this.admin!.listTopics();
    if (topics.includes(topic)) return;
    const others = topics.filter((t) => !t.startsWith("__")).sort();
    const listed = others.length === 0 ? "none" : others.slice(0, 10).join(", ") + (others.length > 10 ? `, and ${others.length - 10} more` : "");
    throw new KafkaReadError(`${this.label}: topic "${topic}" does not exist on brokers ${brokers} (topics there: ${listed}); create it, or fix the source's \`topic\` or \`brokers\``);
  }

  /** The range must lie within what the topic holds; each partition read must still have its `from`. */
  private checkRange(partitions: KafkaRange["partitions"], watermarks: Watermarks): void {
    for (const [partition, [from, to]] of partitions) {
      const held = watermarks.get(partition);
      if (held === undefined) {
        throw new KafkaReadError(
          `${this.label}: partition ${partition} of topic "${this.options.topic}" no longer exists (the topic has ${watermarks.size} partitions), but the checkpoint reads it from offset ${from}: the topic was deleted and created again. ${WAY_OUT}`,
        );
      }
      if (to > held.high || from > held.high) {
        throw new KafkaReadError(
          `${this.label}: partition ${partition} of topic "${this.options.topic}" ends at offset ${held.high}, but the checkpoint reads it up to offset ${to}: the topic was deleted and created again, or the brokers lost records. ${WAY_OUT}`,
        );
      }
      if (from < to) this.checkAvailable(partition, from, held.low);
    }
  }

  private checkAvailable(partition: number, wanted: number, earliest: number): void {
    if (wanted >= earliest) return;
    throw new KafkaReadError(
      `${this.label}: offset ${wanted} of partition ${partition} of topic "${this.options.topic}" is no longer in the topic (the earliest available is ${earliest}): records ${wanted} to ${earliest - 1} were deleted (retention, or the topic was created again) before the pipeline read them. ${WAY_OUT}`,
    );
  }

  /** For a stalled read: fails it when what it still needs is gone. */
  private async verify(needed: Needed): Promise<void> {
    await this.requireTopic();
    const watermarks = await this.watermarks();
    for (const [partition, { next, to }] of needed) {
      const held = watermarks.get(partition);
      if (held === undefined || to > held.high) this.checkRange(new Map([[partition, [next, to] as const]]), watermarks);
      else this.checkAvailable(partition, next, held.low);
    }
  }

  /** Runs `attempt` until it succeeds, retrying kafkajs's errors with backoff and a log line each. */
  private async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        const result = await attempt();
        if (n > 0) this.options.log(`${this.label}: ${what}: reached the brokers again`);
        return result;
      } catch (e) {
        if (e instanceof KafkaReadError || !isKafkaError(e) || this.closed) throw e;
        if (isUnknownTopic(e)) await this.requireTopic();
        const wait = backoff(n);
        this.options.log(`${this.label}: ${what} failed (${messageOf(e)}; brokers ${this.options.brokers}); retrying in ${Math.round(wait / 1000)}s`);
        await sleep(wait, this.closing.signal);
      }
    }
  }

  // ---- decoding ------------------------------------------------------------------------------------

  private decode(records: Map<number, KafkaRecord[]>): ReadResult {
    const options: DecodeOptions = { ...this.options.decode, source: this.id };
    const partitions = [...records.keys()].sort((a, b) => a - b);
    const format = this.options.format;
    switch (format) {
      case "raw": {
        const decoder = new RawRecordDecoder(this.schema, options);
        const segments: { partition: string; rows: number }[] = [];
        for (const p of partitions) {
          const before = decoder.acceptedRows;
          for (const record of records.get(p)!) decoder.record(record, this.options.topic);
          segments.push({ partition: String(p), rows: decoder.acceptedRows - before });
        }
        return { ...decoder.finish(), segments };
      }
      case "json":
      case "csv": {
        const decoder = format === "json" ? new JsonDecoder(this.schema, options) : new CsvDecoder(this.schema, options);
        const tombstones: RejectedRecord[] = [];
        const now = options.now ?? wallClockMicros;
        const segments: { partition: string; rows: number }[] = [];
        for (const p of partitions) {
          const before = decoder.acceptedRows;
          for (const record of records.get(p)!) {
            const position = { kind: "partition" as const, partition: record.partition, offset: record.offset };
            if (record.value === null) {
              tombstones.push({ reason: "malformed", source: this.id, position, raw: new Uint8Array(0), detail: "the message has no value (a tombstone)", time: now() });
            } else {
              decoder.record(record.value, position);
            }
          }
          segments.push({ partition: String(p), rows: decoder.acceptedRows - before });
        }
        return { ...withTombstones(decoder.finish(), tombstones), segments };
      }
      default: {
        const unknown: never = format;
        throw new Error(`unknown kafka format ${String(unknown)}`);
      }
    }
  }
}

const WAY_OUT =
  "The batch cannot be read again whole. To go on without those records, run the pipeline with a new checkpoint directory (with `start = earliest` to read all the topic still holds); state kept in the old checkpoint is not carried over.";

function isUnknownTopic(e: unknown): boolean {
  return (e as { type?: unknown }).type === "UNKNOWN_TOPIC_OR_PARTITION" || /does not host this topic-partition|unknown topic/i.test(messageOf(e));
}

/** The decoder's rejects and the tombstones, merged in read order (partition, then offset). */
function withTombstones(result: DecodeResult, tombstones: RejectedRecord[]): DecodeResult {
  if (tombstones.length === 0) return result;
  const key = (r: RejectedRecord) => (r.position.kind === "partition" ? [r.position.partition, r.position.offset] : [0, 0]);
  const rejects = [...result.rejects, ...tombstones].sort((a, b) => {
    const [pa, oa] = key(a);
    const [pb, ob] = key(b);
    return pa! - pb! || oa! - ob!;
  });
  return { batch: result.batch, rejects };
}
