/**
 * One way to build a kafkajs client for every Kafka connector (the source and the sink).
 *
 * Contract: `createKafka(brokers, clientId, log)` returns a `Kafka` for the comma-separated
 * `brokers` list (`"host:9092,host2:9092"`; blanks ignored, an empty list throws), with
 * - kafkajs's own log lines mapped onto ours: errors and warnings go to `log` as one line each,
 *   `kafka <namespace>: <message>`; the same line is written at most once per
 *   `REPEAT_LOG_INTERVAL_MS` (an outage makes kafkajs repeat itself at every retry); info and
 *   debug are dropped;
 * - a retry policy, `retry` or by default `KAFKA_RETRY`: exponential backoff from 300 ms, doubling,
 *   up to 10 retries of at most 60 s each, after which kafkajs gives up and the caller's own loop
 *   decides (the source retries a whole range read; see runtime/sources/kafka.ts). kafkajs nests
 *   retries (a metadata retry around a connect retry), so a chain can last minutes; the sink,
 *   which must give up within its delivery timeout, passes `KAFKA_SINK_RETRY`;
 * - a short connection timeout, so that an unreachable broker is noticed in seconds.
 */
import { Kafka, logLevel, type LogEntry, type RetryOptions } from "kafkajs";

export type KafkaLog = (line: string) => void;

export const KAFKA_RETRY: Readonly<Required<Pick<RetryOptions, "initialRetryTime" | "maxRetryTime" | "factor" | "multiplier" | "retries">>> = {
  initialRetryTime: 300,
  maxRetryTime: 60_000,
  factor: 0.2,
  multiplier: 2,
  retries: 10,
};

/** Short chains, so that a sink's send gives up in seconds and its own delivery timeout decides. */
export const KAFKA_SINK_RETRY: Readonly<RetryOptions> = { initialRetryTime: 300, maxRetryTime: 10_000, factor: 0.2, multiplier: 2, retries: 5 };

export const REPEAT_LOG_INTERVAL_MS = 30_000;

/** `"a:9092, b:9092"` → `["a:9092", "b:9092"]`. */
export function parseBrokers(brokers: string): string[] {
  const list = brokers.split(",").map((broker) => broker.trim()).filter((broker) => broker !== "");
  if (list.length === 0) throw new Error(`kafka: brokers is empty; give host:port[,host:port...]`);
  return list;
}

export function createKafka(brokers: string, clientId: string, log: KafkaLog, retry: Readonly<RetryOptions> = KAFKA_RETRY): Kafka {
  const lastWritten = new Map<string, number>();
  const logCreator = () => (entry: LogEntry) => {
    if (entry.level !== logLevel.ERROR && entry.level !== logLevel.WARN) return;
    const { message, error, broker } = entry.log as { message: string; error?: unknown; broker?: unknown };
    const detail = [typeof error === "string" && !message.includes(error) ? error : undefined, typeof broker === "string" ? `broker ${broker}` : undefined]
      .filter((part) => part !== undefined)
      .join(", ");
    const line = `kafka ${entry.namespace}: ${message}${detail ? ` (${detail})` : ""}`;
    const now = Date.now();
    const last = lastWritten.get(line);
    if (last !== undefined && now - last < REPEAT_LOG_INTERVAL_MS) return;
    lastWritten.set(line, now);
    log(line);
  };
  return new Kafka({
    brokers: parseBrokers(brokers),
    clientId,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { ...retry },
    logLevel: logLevel.WARN,
    logCreator,
  });
}
