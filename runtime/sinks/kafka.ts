/**
 * The `kafka` sink: each row one JSON record on a topic, written at least once.
 *
 * Contract:
 * - `write(batchId, batch, "append")` sends every row of the batch to `topic` and resolves once
 *   the brokers acknowledged all of them (acks = all). Records are sent in order, row 0 first,
 *   in requests of at most `MAX_REQUEST_BYTES` of keys, values and headers (so each partition's
 *   record batch stays under Kafka's default 1 MB limit); kafkajs groups each request's records
 *   per partition. An empty batch sends nothing.
 * - Value: the row as one JSON object, encoded as the files sink encodes it (encode.ts: ISO-8601
 *   UTC timestamps, exact decimals, base64 bytes, nulls written). Key: the `key` kernel's value
 *   as text (the language's `cast(... as string)`; a `bytes` key as its bytes), or no key when the
 *   sink has no `key` or the value is null. Partition: kafkajs's default partitioner, murmur2 of
 *   the key as in the Java client (same key, same partition); records without a key are spread.
 * - Headers on every record: `streamc-pipeline` (the pipeline id: the checkpoint's, see
 *   SinkContext), `streamc-sink` (the sink id), `streamc-batch` (the batch id) and `streamc-row`
 *   (the row's index in the batch, from 0). A batch's rows are the same each time it is replayed
 *   (the engine replays a batch from its recorded ranges and state), so (pipeline, sink, batch,
 *   row) names one output row, and a consumer that keeps the first record of each drops every
 *   duplicate exactly.
 * - Guarantee: at least once. The producer is idempotent (`maxInFlightRequests: 1`, acks = all),
 *   so kafkajs's own retries within one run never duplicate or reorder a partition's records;
 *   but a batch that a crash interrupted after some of its records were acknowledged is sent
 *   again, whole, by the restart (a new producer id), and those records appear twice.
 * - Failures: within an attempt kafkajs retries with backoff (runtime/kafka/client.ts: reconnecting
 *   to an unreachable broker, refreshing metadata after a leader change). When it gives up on a
 *   retriable error, `write` logs a line and makes another attempt with the same producer (so the
 *   broker still drops what it already has), from the first request not yet acknowledged, until
 *   `deliveryTimeoutMs` (default 120 s, Kafka's `delivery.timeout.ms`) have passed; then, or at
 *   once for an error no retry can fix (a record too large, no authorization), it rejects with a
 *   message naming the sink, batch, topic and brokers, and the way out. The engine stops and the
 *   next run sends the batch again.
 * - Modes: `append` only (the checker refuses a kafka sink of an updating stream); others throw.
 * - `close` disconnects the producer.
 *
 * Decision (topic creation): the sink does not create its topic. Like Spark's Kafka sink it relies
 * on the brokers' `auto.create.topics.enable` (kafkajs asks for auto-creation in its metadata
 * requests); with auto-creation off, a missing topic fails the write with a message saying to
 * create it. Partition count and replication are an operator's choice, not the pipeline's.
 */
import * as arrow from "apache-arrow";
import { type Kafka, Partitioners, type Message, type Producer } from "kafkajs";
import type { Batch } from "../columnar/batch.ts";
import { formatValue } from "../columnar/kernel-support.ts";
import { cellReader } from "../columnar/read.ts";
import { createKafka, KAFKA_SINK_RETRY } from "../kafka/client.ts";
import type { ValueKernel } from "../kernel.ts";
import type { DataType, Schema, Settings, SinkSpec } from "../plan.ts";
import { resolveString, wordSetting } from "../sources/settings.ts";
import { batchToJsonLines } from "./encode.ts";
import type { SinkContext } from "./index.ts";
import type { OutputMode, Sink } from "./sink.ts";

/**
 * How long a `write` keeps trying before it fails: Kafka's `delivery.timeout.ms` default. A write
 * fails at the first failed attempt that ends after this long (an attempt is one kafkajs request
 * with kafkajs's own retries, runtime/kafka/client.ts).
 */
export const DELIVERY_TIMEOUT_MS = 120_000;

/** The pause between two attempts (kafkajs backs off within an attempt). */
const RETRY_PAUSE_MS = 1_000;

/** Bytes of keys, values and headers per request: under Kafka's default 1 MB record batch limit. */
export const MAX_REQUEST_BYTES = 900 * 1024;

/** The headers every record carries, so a consumer can drop duplicates. */
export const KAFKA_HEADERS = {
  pipeline: "streamc-pipeline",
  sink: "streamc-sink",
  batch: "streamc-batch",
  row: "streamc-row",
} as const;

export interface KafkaSinkOptions {
  /** The comma-separated bootstrap list, as the program gives it (for messages). */
  brokers: string;
  topic: string;
  /** The pipeline's id (SinkContext.pipelineId), for the `streamc-pipeline` header. */
  pipelineId: string;
  /** The record key, computed over the sink's input batch; none: records have no key. */
  keyKernel: ValueKernel | undefined;
  /** The client (runtime/kafka/client.ts `createKafka`). */
  kafka: Kafka;
  /** Default `DELIVERY_TIMEOUT_MS`. */
  deliveryTimeoutMs?: number;
  /** Operator-facing lines (a retried write). */
  log?: (line: string) => void;
}

/** What tests change: the client (one with a short retry budget) and the delivery timeout. */
export interface KafkaSinkOverrides {
  makeClient?: typeof createKafka;
  deliveryTimeoutMs?: number;
}

/**
 * The sink a plan entry describes: `brokers` and `topic` resolved (`env(...)`), the key kernel
 * taken from `context.kernels`, a client from `createKafka` with its log lines prefixed by the
 * sink id.
 */
export function kafkaSinkOfPlan(spec: SinkSpec, context: SinkContext, overrides: KafkaSinkOverrides = {}): KafkaSink {
  const brokers = resolveString(requiredString(spec.options, "brokers", spec.id), context.env);
  const topic = resolveString(requiredString(spec.options, "topic", spec.id), context.env);
  const format = wordSetting(spec.options, "format") ?? "json";
  if (format !== "json") throw new Error(`sink ${spec.id}: a kafka sink writes format json, the plan has ${format}`);
  let keyKernel: ValueKernel | undefined;
  if (spec.key !== undefined) {
    const kernel = context.kernels?.kernels[spec.key];
    if (typeof kernel !== "function") throw new Error(`sink ${spec.id}: key kernel ${spec.key} is missing from the kernel module`);
    keyKernel = kernel as ValueKernel;
  }
  const log = context.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const kafka = (overrides.makeClient ?? createKafka)(brokers, `streamc-${context.pipelineId}-${spec.id}`, (line) => {
    // kafkajs warns that an idempotent producer with a retry limit "may invalidate EoS
    // guarantees"; the limit is what lets a write fail at all, and the sink is at least once.
    if (!line.includes("Limiting retries for the idempotent producer")) log(`sink ${spec.id}: ${line}`);
  }, KAFKA_SINK_RETRY);
  return new KafkaSink(spec.id, spec.schema, {
    brokers,
    topic,
    pipelineId: context.pipelineId,
    keyKernel,
    kafka,
    log,
    ...(overrides.deliveryTimeoutMs !== undefined ? { deliveryTimeoutMs: overrides.deliveryTimeoutMs } : {}),
  });
}

function requiredString(settings: Settings, name: string, sinkId: string) {
  const value = settings[name];
  if (value?.kind !== "string") throw new Error(`sink ${sinkId}: option ${name} must be a string, the plan has ${value?.kind ?? "none"}`);
  return value.value;
}

export class KafkaSink implements Sink {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    readonly id: string,
    readonly schema: Schema,
    readonly options: KafkaSinkOptions,
  ) {}

  async write(batchId: number, batch: Batch, mode: OutputMode): Promise<void> {
    if (mode !== "append") throw new Error(`sink ${this.id}: a kafka sink only appends; it was asked to write in mode ${mode}`);
    if (batch.length === 0) return;
    const chunks = requestChunks(this.records(batchId, batch));
    const started = Date.now();
    const timeout = this.options.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS;
    /** The first request not yet acknowledged: a retry resumes there. */
    let next = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const producer = await this.connected();
        for (; next < chunks.length; next++) {
          await producer.sendBatch({ acks: -1, topicMessages: [{ topic: this.options.topic, messages: chunks[next]! }] });
        }
        return;
      } catch (error) {
        const elapsed = Date.now() - started;
        if (!worthRetrying(error) || elapsed >= timeout) {
          throw new Error(this.failureMessage(batchId, batch.length, error, attempt, elapsed), { cause: error });
        }
        this.options.log?.(`sink ${this.id}: writing batch ${batchId} to kafka topic ${this.options.topic}: ${messageOf(rootCause(error))}; trying again (${Math.round(elapsed / 1000)}s of ${Math.round(timeout / 1000)}s)`);
        await sleep(Math.min(RETRY_PAUSE_MS, timeout - elapsed));
      }
    }
  }

  async close(): Promise<void> {
    const producer = this.producer ?? (await this.connecting?.catch(() => undefined));
    this.producer = undefined;
    this.connecting = undefined;
    await producer?.disconnect();
  }

  private connected(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.options.kafka.producer({
        idempotent: true,
        // kafkajs requires one request in flight per connection for idempotence (order on retry).
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await producer.connect();
      } catch (error) {
        this.connecting = undefined;
        await producer.disconnect().catch(() => {});
        throw error;
      }
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }

  /** One kafkajs message per row: JSON value, key, the dedup headers. */
  private records(batchId: number, batch: Batch): Message[] {
    const values = batchToJsonLines(batch);
    const key = this.options.keyKernel ? keyReader(this.options.keyKernel(batch), batch.length, this.id) : undefined;
    const batchText = String(batchId);
    const messages: Message[] = new Array(batch.length);
    for (let row = 0; row < batch.length; row++) {
      messages[row] = {
        key: key ? key(row) : null,
        value: values[row]!,
        headers: {
          [KAFKA_HEADERS.pipeline]: this.options.pipelineId,
          [KAFKA_HEADERS.sink]: this.id,
          [KAFKA_HEADERS.batch]: batchText,
          [KAFKA_HEADERS.row]: String(row),
        },
      };
    }
    return messages;
  }

  private failureMessage(batchId: number, rows: number, error: unknown, attempts: number, elapsedMs: number): string {
    const { topic, brokers } = this.options;
    const where = `sink ${this.id}: writing batch ${batchId} (${rows} ${rows === 1 ? "row" : "rows"}) to kafka topic ${topic} on ${brokers} failed`;
    const root = rootCause(error);
    const cause = messageOf(root);
    const type = (root as { type?: unknown } | undefined)?.type;
    const replay = "the pipeline stops; the next run sends the batch again (the kafka sink is at least once: consumers drop duplicates by the streamc-* headers)";
    if (type === "UNKNOWN_TOPIC_OR_PARTITION") {
      return `${where}: the topic does not exist and the brokers do not create topics automatically (${cause}); ${replay}. Way out: create the topic (kafka-topics.sh --create --topic ${topic}), or enable auto.create.topics.enable on the brokers`;
    }
    if (type === "MESSAGE_TOO_LARGE" || type === "RECORD_LIST_TOO_LARGE") {
      return `${where}: a record is larger than the brokers accept (${cause}); ${replay}. Way out: raise the topic's max.message.bytes, or write smaller rows`;
    }
    if (type === "TOPIC_AUTHORIZATION_FAILED" || type === "CLUSTER_AUTHORIZATION_FAILED") {
      return `${where}: not allowed (${cause}); ${replay}. Way out: grant this client write access to the topic (and IdempotentWrite on the cluster)`;
    }
    const tried = `after trying for ${Math.round(elapsedMs / 1000)}s (${attempts} ${attempts === 1 ? "attempt" : "attempts"}, each with kafkajs's retries)`;
    return `${where} ${tried}: ${cause}; ${replay}. Way out: check that the brokers are reachable from here and the topic is writable, then run again`;
  }
}

/**
 * Whether another attempt may succeed: kafkajs marks connection, timeout and leader errors
 * retriable (also when it wraps them in "retries exceeded"); a broker lock that timed out during
 * an outage is worth another attempt too. Oversized records, authorization and bugs are not.
 */
function worthRetrying(error: unknown): boolean {
  const root = rootCause(error) as { retriable?: unknown; name?: unknown } | undefined;
  return root?.retriable === true || root?.name === "KafkaJSLockTimeout";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The innermost `cause` of a kafkajs error (kafkajs wraps the broker's error in retry errors). */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 10; depth++) {
    const next = (current as { cause?: unknown } | undefined)?.cause;
    if (next === undefined || next === null || next === current) break;
    current = next;
  }
  return current;
}

/** Consecutive runs of `messages` of at most `MAX_REQUEST_BYTES` each (a larger record alone). */
export function requestChunks(messages: readonly Message[], limit = MAX_REQUEST_BYTES): Message[][] {
  const chunks: Message[][] = [];
  let chunk: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (chunk.length > 0 && bytes + size > limit) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** A record's size on the wire, near enough: key, value, header names and values, framing. */
function messageBytes(message: Message): number {
  let size = 32 + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) size += 8 + name.length + byteLength(value as string | Buffer | undefined);
  return size;
}

function byteLength(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "string" ? Buffer.byteLength(value) : value.byteLength;
}

/** Row → record key of a key column: text of the value, a `bytes` value as is, null as no key. */
function keyReader(column: arrow.Data, length: number, sinkId: string): (row: number) => string | Buffer | null {
  if (column.length !== length) throw new Error(`sink ${sinkId}: the key kernel returned ${column.length} rows for ${length}`);
  const type = languageType(column.type, sinkId);
  if (type.kind === "null") return () => null;
  const read = cellReader(column, type);
  if (type.kind === "bytes") {
    return (row) => {
      const value = read(row) as Uint8Array | null;
      return value === null ? null : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    };
  }
  return (row) => {
    const value = read(row);
    return value === null ? null : formatValue(value, type);
  };
}

/**
 * The language type of a kernel's output column: the inverse of arrow-types.ts `arrowType` (a
 * dictionary column is its values' type; Int64 is `long`, as kernels write durations too).
 */
function languageType(type: arrow.DataType, sinkId: string): DataType {
  if (arrow.DataType.isDictionary(type)) return languageType(type.dictionary, sinkId);
  if (arrow.DataType.isNull(type)) return { kind: "null" };
  if (arrow.DataType.isBool(type)) return { kind: "bool" };
  if (arrow.DataType.isInt(type)) return type.bitWidth === 64 ? { kind: "long" } : { kind: "int" };
  if (arrow.DataType.isFloat(type)) return { kind: "double" };
  if (arrow.DataType.isDecimal(type)) return { kind: "decimal", precision: type.precision, scale: type.scale };
  if (arrow.DataType.isUtf8(type)) return { kind: "string" };
  if (arrow.DataType.isBinary(type)) return { kind: "bytes" };
  if (arrow.DataType.isDate(type)) return { kind: "date" };
  if (arrow.DataType.isTimestamp(type)) return { kind: "timestamp" };
  if (arrow.DataType.isList(type)) {
    const element = type.children[0]!;
    return { kind: "list", element: { name: element.name, type: languageType(element.type, sinkId), nullable: element.nullable } };
  }
  if (arrow.DataType.isMap(type)) {
    const value = type.children[0]!.type.children[1]!;
    return { kind: "map", value: { name: value.name, type: languageType(value.type, sinkId), nullable: value.nullable } };
  }
  if (arrow.DataType.isStruct(type)) {
    return { kind: "struct", fields: type.children.map((f) => ({ name: f.name, type: languageType(f.type, sinkId), nullable: f.nullable })) };
  }
  throw new Error(`sink ${sinkId}: the key kernel returned a column of Arrow type ${String(type)}, which no language type has`);
}
