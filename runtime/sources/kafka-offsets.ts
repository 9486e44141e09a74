/**
 * The kafka source's offsets, ranges and planning: pure functions over JSON, no I/O.
 *
 * Contract (the JSON the checkpoint stores; partitions are keys in decimal, offsets numbers):
 * - Offset, where reading stands: per partition, the next offset to read.
 *   `{"topic": "orders", "partitions": {"0": 1200, "1": 977}}`
 * - Latest, what `latest()` saw: per partition the high watermark (`partitions`), and where a
 *   partition that the reading position does not hold yet starts (`startsAt`): before the first
 *   read of a new checkpoint, where `start` put each partition known when the source opened; for
 *   any other partition (added since), its earliest offset, as Spark does.
 *   `{"topic": "orders", "partitions": {"0": 1300, "1": 977}, "startsAt": {"0": 0, "1": 0}}`
 * - Range, what one batch reads: per partition `[from, to)`, every partition of the topic
 *   (an empty `[n, n]` for one with nothing new), so that `end(range)` holds them all.
 *   `{"topic": "orders", "partitions": {"0": [1200, 1300], "1": [977, 977]}}`
 *
 * `planRange(from, latest, cap)` reads every partition from where `from` (else `startsAt`) says
 * up to the high watermark; with a cap, at most `cap` records in all, shared by `shareCap`. It also
 * returns a range when a partition went backwards (its high watermark below the position, or gone),
 * so that `read` fails loudly instead of the source stalling in silence.
 *
 * `shareCap(backlogs, cap)`: each partition gets its share of `cap` in proportion to its backlog,
 * rounded down, and the records left over go one each to the largest remainders (lower partition
 * first on a tie): exactly `min(cap, total)` in all, never more than a backlog, the same answer
 * for the same arguments.
 */
import type { JsonValue } from "./source.ts";

/** Offsets by partition number. */
export type PartitionOffsets = ReadonlyMap<number, number>;

export interface KafkaOffset {
  topic: string;
  /** Per partition, the next offset to read. */
  partitions: PartitionOffsets;
}

export interface KafkaLatest {
  topic: string;
  /** Per partition, the high watermark: the offset the next record written will get. */
  partitions: PartitionOffsets;
  /** Per partition, where it starts when the reading position does not hold it. */
  startsAt: PartitionOffsets;
}

export interface KafkaRange {
  topic: string;
  /** Per partition, `[from, to)`. */
  partitions: ReadonlyMap<number, readonly [number, number]>;
}

// ---- JSON ------------------------------------------------------------------------------------------

export function offsetToJson(offset: KafkaOffset): JsonValue {
  return { topic: offset.topic, partitions: mapToJson(offset.partitions, (n) => n) };
}

export function latestToJson(latest: KafkaLatest): JsonValue {
  return { topic: latest.topic, partitions: mapToJson(latest.partitions, (n) => n), startsAt: mapToJson(latest.startsAt, (n) => n) };
}

export function rangeToJson(range: KafkaRange): JsonValue {
  return { topic: range.topic, partitions: mapToJson(range.partitions, ([from, to]) => [from, to]) };
}

export function offsetFromJson(json: JsonValue): KafkaOffset {
  const { topic, partitions } = objectOf(json, "offset");
  return { topic: topicOf(topic, json, "offset"), partitions: partitionMap(partitions, json, "offset", asOffsetNumber) };
}

export function latestFromJson(json: JsonValue): KafkaLatest {
  const { topic, partitions, startsAt } = objectOf(json, "latest offset");
  return {
    topic: topicOf(topic, json, "latest offset"),
    partitions: partitionMap(partitions, json, "latest offset", asOffsetNumber),
    startsAt: partitionMap(startsAt, json, "latest offset", asOffsetNumber),
  };
}

export function rangeFromJson(json: JsonValue): KafkaRange {
  const { topic, partitions } = objectOf(json, "range");
  return {
    topic: topicOf(topic, json, "range"),
    partitions: partitionMap(partitions, json, "range", (value) => {
      if (!Array.isArray(value) || value.length !== 2) return undefined;
      const [from, to] = value.map(asOffsetNumber);
      return from !== undefined && to !== undefined && from <= to ? ([from, to] as const) : undefined;
    }),
  };
}

function mapToJson<T>(map: ReadonlyMap<number, T>, value: (v: T) => JsonValue): { [partition: string]: JsonValue } {
  const out: { [partition: string]: JsonValue } = {};
  for (const partition of [...map.keys()].sort((a, b) => a - b)) out[String(partition)] = value(map.get(partition)!);
  return out;
}

function objectOf(json: JsonValue, what: string): { [key: string]: JsonValue | undefined } {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error(`not a kafka ${what}: ${JSON.stringify(json)}`);
  return json;
}

function topicOf(topic: JsonValue | undefined, json: JsonValue, what: string): string {
  if (typeof topic !== "string") throw new Error(`not a kafka ${what} (no topic): ${JSON.stringify(json)}`);
  return topic;
}

function asOffsetNumber(value: JsonValue): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function partitionMap<T>(value: JsonValue | undefined, json: JsonValue, what: string, read: (v: JsonValue) => T | undefined): Map<number, T> {
  const object = objectOf(value ?? null, what);
  const out = new Map<number, T>();
  for (const [key, raw] of Object.entries(object)) {
    const partition = Number(key);
    const v = raw === undefined ? undefined : read(raw);
    if (!/^(0|[1-9][0-9]*)$/.test(key) || !Number.isSafeInteger(partition) || v === undefined) {
      throw new Error(`not a kafka ${what} (partition ${JSON.stringify(key)}): ${JSON.stringify(json)}`);
    }
    out.set(partition, v);
  }
  return out;
}

// ---- planning --------------------------------------------------------------------------------------

/** Where each partition of `latest` (and of `from`) starts reading. */
function startPositions(from: KafkaOffset | undefined, latest: KafkaLatest): Map<number, number> {
  const starts = new Map<number, number>();
  for (const partition of latest.partitions.keys()) starts.set(partition, from?.partitions.get(partition) ?? latest.startsAt.get(partition) ?? 0);
  for (const [partition, offset] of from?.partitions ?? []) starts.set(partition, offset);
  return starts;
}

export function planRange(from: KafkaOffset | undefined, latest: KafkaLatest, cap: number | undefined): KafkaRange | undefined {
  const starts = startPositions(from, latest);
  const partitions = [...starts.keys()].sort((a, b) => a - b);
  let wentBack = false;
  const backlogs = partitions.map((partition) => {
    const start = starts.get(partition)!;
    const high = latest.partitions.get(partition);
    if (high === undefined || high < start) {
      wentBack = true;
      return 0;
    }
    return high - start;
  });
  const takes = cap === undefined ? backlogs : shareCap(backlogs, cap);
  if (!wentBack && takes.every((n) => n === 0)) return undefined;
  return {
    topic: latest.topic,
    partitions: new Map(partitions.map((partition, i) => {
      const start = starts.get(partition)!;
      return [partition, [start, start + takes[i]!] as const];
    })),
  };
}

export function rangeEnd(range: KafkaRange): KafkaOffset {
  return { topic: range.topic, partitions: new Map([...range.partitions].map(([partition, [, to]]) => [partition, to])) };
}

/** Records between the position and the high watermarks. */
export function recordsBehind(from: KafkaOffset | undefined, latest: KafkaLatest): number {
  const starts = startPositions(from, latest);
  let behind = 0;
  for (const [partition, high] of latest.partitions) behind += Math.max(0, high - starts.get(partition)!);
  return behind;
}

/** Records a range reads. */
export function rangeSize(range: KafkaRange): number {
  let size = 0;
  for (const [from, to] of range.partitions.values()) size += to - from;
  return size;
}

export function shareCap(backlogs: readonly number[], cap: number): number[] {
  const total = backlogs.reduce((a, b) => a + b, 0);
  if (total <= cap) return [...backlogs];
  const bigCap = BigInt(cap);
  const bigTotal = BigInt(total);
  const shares = backlogs.map((backlog, index) => {
    const scaled = bigCap * BigInt(backlog);
    return { index, take: Number(scaled / bigTotal), remainder: scaled % bigTotal };
  });
  let left = cap - shares.reduce((a, s) => a + s.take, 0);
  const byRemainder = [...shares].sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const share of byRemainder) {
    if (left === 0) break;
    if (share.remainder === 0n) continue;
    share.take++;
    left--;
  }
  return shares.map((s) => s.take);
}
