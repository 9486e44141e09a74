/**
 * Reads exact offset ranges of one topic with a kafkajs consumer, for the kafka source.
 *
 * kafkajs has no manual assignment, so the reader is a consumer in a group of its own
 * (`groupId`, one per run of a pipeline's source, so a restart after a crash never waits for
 * Kafka to expire the dead run's membership) that subscribes to the topic and keeps every assigned
 * partition paused except those a read is filling: on each assignment (`GROUP_JOIN`, also after a
 * rebalance or a restart of the consumer) it pauses everything, then seeks each partition a read
 * still needs to the next offset it needs and resumes it. The group's committed offsets are never
 * used for reading; `commit` writes them for lag monitoring only.
 *
 * Contract:
 * - `read(ranges, verify)` resolves with exactly the records of each partition's `[from, to)`
 *   (partitions with `from = to` are not read), each partition's in offset order. It takes a
 *   record only at the next offset it still needs or later, and only from a fetch that started at
 *   or before that offset (Kafka returns everything from the fetch position on), so a record is
 *   never taken twice and none is skipped; records at or past `to` are ignored. Offsets that hold
 *   no record a consumer sees (compacted away, transaction markers, aborted records) are passed
 *   over as the fetches show them.
 * - When reading stalls (no record for `STALL_MS`: the broker is away, the consumer is
 *   rebalancing or restarting, a fetch went to the wrong position) the reader calls `verify` with
 *   the partitions and the offsets they still need; `verify` rejects with a `KafkaReadError` when
 *   the range can no longer be read whole (records deleted, topic gone), which fails the read.
 *   Otherwise the reader logs once, seeks again, and, if the consumer gave up, replaces it
 *   (backoff up to `MAX_BACKOFF_MS`); it keeps going until the range is read or the reader closes.
 * - `close()` stops the consumer (leaving the group) within `CLOSE_TIMEOUT_MS`.
 */
import { type Batch, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage } from "kafkajs";
import { KAFKA_RETRY, type KafkaLog } from "../kafka/client.ts";
import type { KafkaRecord } from "./kafka-raw.ts";

/** An error that means the range cannot be read whole: reading it again will not help. */
export class KafkaReadError extends Error {}

export interface KafkaReaderOptions {
  kafka: Kafka;
  topic: string;
  /** The consumer's group: this run's own (`streamc-<pipeline id>-<source>-run-<random>`). */
  groupId: string;
  /** For log lines: `kafka source orders`. */
  label: string;
  log: KafkaLog;
  /** Keep each record's headers (a raw source that declares `headers`). */
  headers: boolean;
}

/** What a stalled read still needs: per partition, the next offset and the end. */
export type Needed = ReadonlyMap<number, { next: number; to: number }>;

export const STALL_MS = 5_000;
export const MAX_BACKOFF_MS = 30_000;
export const CLOSE_TIMEOUT_MS = 3_000;
const WATCH_INTERVAL_MS = 500;

interface PartitionRead {
  to: number;
  next: number;
  records: KafkaRecord[];
}

interface ActiveRead {
  partitions: Map<number, PartitionRead>;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** When a record (or a skip) last moved `next` of any partition. */
  progressAt: number;
  /** When the stall check looks next (it waits longer after each retry). */
  checkAt: number;
  /** Retries since the last progress. */
  stalls: number;
  waitingLogged: boolean;
}

export class KafkaRangeReader {
  private consumer: Consumer | undefined;
  /** Set when kafkajs gave up on the consumer (a crash it does not restart from). */
  private consumerFailed: unknown;
  private starting: Promise<void> | undefined;
  private assigned = new Set<number>();
  private active: ActiveRead | undefined;
  private closed = false;
  /** Aborted by `close`: ends backoff waits at once. */
  private readonly closing = new AbortController();
  /** When each kind of repeated line was last written. */
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly options: KafkaReaderOptions) {}

  async read(ranges: ReadonlyMap<number, readonly [number, number]>, verify: (needed: Needed) => Promise<void>): Promise<Map<number, KafkaRecord[]>> {
    const partitions = new Map<number, PartitionRead>();
    for (const [partition, [from, to]] of ranges) if (from < to) partitions.set(partition, { to, next: from, records: [] });
    const result = () => new Map([...partitions].map(([partition, read]) => [partition, read.records]));
    if (partitions.size === 0) return result();
    if (this.active) throw new Error(`${this.options.label}: a read is already running`);

    const done = new Promise<void>((resolve, reject) => {
      this.active = { partitions, resolve, reject, progressAt: Date.now(), checkAt: Date.now() + STALL_MS, stalls: 0, waitingLogged: false };
    });
    // Rejected by the watch or by `close`, possibly while the consumer is still starting: handled below.
    done.catch(() => undefined);
    const active = this.active!;
    const watch = this.watch(active, verify);
    try {
      await this.ensureConsumer();
      this.applyAssignment();
      await done;
      return result();
    } finally {
      this.active = undefined;
      watch.stop();
      this.applyAssignment();
    }
  }

  /**
   * Commits `offsets` (per partition, the next offset to read) to the group, for lag monitoring.
   * Never rejects: a failure is logged, and reading does not depend on it.
   */
  commit(offsets: ReadonlyMap<number, number>): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || offsets.size === 0) return Promise.resolve();
    const { topic, groupId } = this.options;
    return consumer
      .commitOffsets([...offsets].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })))
      .catch((e: unknown) => this.options.log(`${this.options.label}: committing offsets to group ${groupId} for lag monitoring failed (${messageOf(e)}); reading is not affected`));
  }

  /** Commits `finalOffsets` (if any, waiting at most `CLOSE_TIMEOUT_MS`), then stops the consumer. */
  async close(finalOffsets?: ReadonlyMap<number, number>): Promise<void> {
    this.closed = true;
    this.closing.abort();
    this.active?.reject(new Error(`${this.options.label}: closed while reading`));
    if (finalOffsets && this.consumerFailed === undefined) await withTimeout(this.commit(finalOffsets), CLOSE_TIMEOUT_MS);
    await this.stopConsumer();
  }

  // ---- the consumer ---------------------------------------------------------------------------------

  private ensureConsumer(): Promise<void> {
    if (this.consumer && this.consumerFailed === undefined) return Promise.resolve();
    this.starting ??= this.startConsumer().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Starts a consumer, retrying with backoff while the brokers cannot be reached. */
  private async startConsumer(): Promise<void> {
    const { kafka, topic, groupId, label, log } = this.options;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error(`${label}: closed`);
      await this.stopConsumer();
      const consumer = kafka.consumer({
        groupId,
        allowAutoTopicCreation: false,
        // Short polls: while every partition is paused (between reads) kafkajs sleeps this long
        // before it looks again, so it is the delay before each read starts fetching, and before
        // `close` returns. 20 ms rather than 100: bench:kafka measured 5 reads of 100,000 records
        // fetching in 868 ms instead of 1,173, and closing in 19 ms instead of 99.
        maxWaitTimeInMs: 20,
        sessionTimeout: 10_000,
        rebalanceTimeout: 10_000,
        heartbeatInterval: 1_000,
        // New partitions are noticed (and the group rebalanced to include them) within seconds.
        metadataMaxAge: 3_000,
        retry: { ...KAFKA_RETRY, restartOnFailure: async () => true },
      });
      this.consumer = consumer;
      this.consumerFailed = undefined;
      this.assigned = new Set();
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        if (this.consumer !== consumer) return;
        this.assigned = new Set(event.payload.memberAssignment[topic] ?? []);
        this.applyAssignment();
      });
      consumer.on(consumer.events.CRASH, (event) => {
        if (this.consumer !== consumer) return;
        const { error, restart } = event.payload;
        if (restart) {
          // kafkajs restarts it after each failure; during an outage that is every few seconds.
          if (this.logAtMostEvery("restart", 30_000)) log(`${label}: the kafka consumer stopped (${messageOf(error)}); it restarts by itself`);
        } else {
          this.consumerFailed = error;
          log(`${label}: the kafka consumer gave up (${messageOf(error)}); starting a new one`);
        }
      });
      consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
        // A fetch whose records were all filtered out (transaction markers, aborted records) never
        // reaches eachBatch, but still shows that nothing readable lies up to its last offset.
        const { partition, batchSize, firstOffset, lastOffset } = event.payload;
        if (this.consumer === consumer && batchSize === 0 && firstOffset != null) this.passOver(partition, Number(firstOffset), Number(lastOffset));
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(consumer, payload) });
        if (attempt > 0) log(`${label}: connected to the brokers again`);
        return;
      } catch (e) {
        if (this.closed) throw e;
        if (!isKafkaError(e)) throw e;
        const wait = backoff(attempt);
        log(`${label}: cannot start the kafka consumer (${messageOf(e)}); retrying in ${Math.round(wait / 1000)}s`);
        await sleep(wait, this.closing.signal);
      }
    }
  }

  private async stopConsumer(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.assigned = new Set();
    if (!consumer) return;
    await withTimeout(consumer.disconnect().catch(() => undefined), CLOSE_TIMEOUT_MS);
  }

  private logAtMostEvery(kind: string, ms: number): boolean {
    const now = Date.now();
    const last = this.lastLogged.get(kind);
    if (last !== undefined && now - last < ms) return false;
    this.lastLogged.set(kind, now);
    return true;
  }

  /** Pauses every assigned partition that no read needs; seeks and resumes those a read needs. */
  private applyAssignment(): void {
    const consumer = this.consumer;
    if (!consumer || this.assigned.size === 0) return;
    const { topic } = this.options;
    const reading: number[] = [];
    const idle: number[] = [];
    for (const partition of this.assigned) {
      const read = this.active?.partitions.get(partition);
      if (read && read.next < read.to) reading.push(partition);
      else idle.push(partition);
    }
    try {
      if (idle.length) consumer.pause([{ topic, partitions: idle }]);
      for (const partition of reading) consumer.seek({ topic, partition, offset: String(this.active!.partitions.get(partition)!.next) });
      if (reading.length) consumer.resume([{ topic, partitions: reading }]);
    } catch {
      // The consumer is between a crash and its restart: the next GROUP_JOIN applies this.
    }
  }

  private async onBatch(consumer: Consumer, { batch, resolveOffset }: EachBatchPayload): Promise<void> {
    resolveOffset(batch.lastOffset());
    if (this.consumer !== consumer) return;
    const read = this.active?.partitions.get(batch.partition);
    if (!read || read.next >= read.to) return;
    const fetched = fetchedOffsetOf(batch);
    if (fetched > read.next) {
      // Fetched from past the offset needed: a fetch from before the last seek, or the consumer
      // reset its position (records deleted). Seek again; a stall makes `verify` look.
      consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(read.next) });
      return;
    }
    const before = read.next;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset < read.next) continue;
      if (offset >= read.to) break;
      read.records.push(this.record(batch.partition, offset, message));
      read.next = offset + 1;
    }
    if (read.next > before && this.active) {
      this.active.progressAt = Date.now();
      this.active.stalls = 0;
    }
    this.passOver(batch.partition, read.next, Number(batch.lastOffset()));
  }

  /** Nothing readable lies in `[first, last]` beyond what was taken: move past it. */
  private passOver(partition: number, first: number, last: number): void {
    const active = this.active;
    const read = active?.partitions.get(partition);
    if (!active || !read || first > read.next) return;
    const next = Math.min(read.to, Math.max(read.next, last + 1));
    if (next > read.next) {
      active.progressAt = Date.now();
      active.stalls = 0;
    }
    read.next = next;
    if (read.next < read.to) return;
    try {
      this.consumer?.pause([{ topic: this.options.topic, partitions: [partition] }]);
    } catch {
      // between a crash and a restart: nothing is fetched anyway
    }
    if ([...active.partitions.values()].every((r) => r.next >= r.to)) active.resolve();
  }

  private record(partition: number, offset: number, message: KafkaMessage): KafkaRecord {
    return {
      partition,
      offset,
      key: message.key ?? null,
      value: message.value ?? null,
      timestampMillis: Number(message.timestamp),
      headers: this.options.headers ? headersOf(message) : EMPTY_HEADERS,
    };
  }

  // ---- stalls ----------------------------------------------------------------------------------------

  /** Every `WATCH_INTERVAL_MS`, looks at a read that made no progress for `STALL_MS`. */
  private watch(active: ActiveRead, verify: (needed: Needed) => Promise<void>): { stop: () => void } {
    let checking = false;
    const timer = setInterval(() => {
      if (checking || Date.now() < Math.max(active.checkAt, active.progressAt + STALL_MS)) return;
      checking = true;
      void this.unstall(active, verify).finally(() => (checking = false));
    }, WATCH_INTERVAL_MS);
    return { stop: () => clearInterval(timer) };
  }

  /** One retry of a stalled read: one log line, `verify`, a new consumer if needed, seeks again. */
  private async unstall(active: ActiveRead, verify: (needed: Needed) => Promise<void>): Promise<void> {
    const { label, log, groupId } = this.options;
    const needed: Needed = new Map([...active.partitions].filter(([, r]) => r.next < r.to).map(([p, r]) => [p, { next: r.next, to: r.to }]));
    const stalledFor = Math.round((Date.now() - active.progressAt) / 1000);
    const retry = active.stalls++;
    log(`${label}: no records for ${stalledFor}s from partitions ${[...needed].map(([p, r]) => `${p} (at offset ${r.next} of ${r.to})`).join(", ")}; retrying (${retry + 1})`);
    try {
      await verify(needed);
    } catch (e) {
      if (e instanceof KafkaReadError || !isKafkaError(e)) {
        active.reject(e);
        return;
      }
      log(`${label}: cannot reach the brokers (${messageOf(e)}); still trying`);
    }
    const unassigned = [...needed.keys()].filter((p) => !this.assigned.has(p));
    if (this.consumer && this.assigned.size > 0 && unassigned.length > 0 && !active.waitingLogged) {
      active.waitingLogged = true;
      log(`${label}: partitions ${unassigned.join(", ")} are not assigned to this consumer in group ${groupId}; if this lasts, another consumer is in the group (is the same pipeline running elsewhere?)`);
    }
    if (this.consumerFailed !== undefined) await this.ensureConsumer().catch((e: unknown) => active.reject(e));
    this.applyAssignment();
    // The next retry after a growing wait: 1 s, 2 s, 4 s, ... up to `MAX_BACKOFF_MS`.
    active.checkAt = Date.now() + backoff(retry);
  }
}

const EMPTY_HEADERS: ReadonlyMap<string, Uint8Array | null> = new Map();

function headersOf(message: KafkaMessage): Map<string, Uint8Array | null> {
  const out = new Map<string, Uint8Array | null>();
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    out.set(name, last === undefined || last === null ? null : typeof last === "string" ? Buffer.from(last) : last);
  }
  return out;
}

/** The offset the fetch that brought `batch` started at (kafkajs keeps it, untyped). */
function fetchedOffsetOf(batch: Batch): number {
  const fetched = (batch as Batch & { fetchedOffset?: string }).fetchedOffset;
  return Number(fetched ?? batch.firstOffset() ?? batch.lastOffset());
}

/** kafkajs's errors (connection, protocol, retries exhausted): worth retrying. */
export function isKafkaError(e: unknown): boolean {
  return e instanceof Error && e.name.startsWith("KafkaJS");
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** 1 s, 2 s, 4 s, ... up to `MAX_BACKOFF_MS`. */
export function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempt, 10));
}

/** Waits for `promise` (which must not reject), or `ms`, whichever comes first. */
async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Resolves after `ms`, or at once when `signal` aborts (a source closing does not wait out a backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
