/**
 * `npm run bench:kafka`: messages per second of a streamc pipeline reading Kafka, against plain
 * kafkajs reading the same topic in the same run.
 *
 * Setup (untimed): a broker (the local test broker, tools/kafka-test-broker, on a free port; or
 * `KAFKA_BROKERS`), a new topic of 4 partitions, and `BENCH_MESSAGES` (500,000) deterministic JSON
 * orders of about 150 bytes (bench/kafka/orders.ts) produced to it, `BENCH_KAFKA_PRODUCE_BATCH`
 * a request. Then, round after round (bench/checkpoint/measure.ts: contestants interleaved, a
 * garbage collection forced before every run, the median of `BENCH_RUNS` after `BENCH_WARMUPS`):
 *   - **ceiling** (bench/kafka/ceiling.ts): a kafkajs consumer in a fresh group, `eachBatch`,
 *     `JSON.parse` of every value, from the earliest offsets to the high watermarks; timed from
 *     `connect` to the last message;
 *   - **streamc → table**: `kafka (start = earliest, max_per_batch = 100,000) | where amount > 50 |
 *     select ... -> table` through `runPipeline` (`available_now`) with a fresh checkpoint and a
 *     fresh table each run, timed end to end: opening the source, joining the consumer group,
 *     fetching, decoding, the operators, Parquet files and Delta commits, checkpoint files, closing;
 *   - **streamc → no write**: the same pipeline with a `memory` sink that only keeps the batches it
 *     is given (bench/kafka/pipeline.ts), which separates Kafka and decoding from the table write.
 * Both streamc runs are split into parts measured inside the real path (the source's open, fetch,
 * decode; operators; sink write; checkpoint; close). Checked: the ceiling parsed every message and
 * found the kept count; the table read back by `readTable` and by DuckDB over its live files, and
 * the kept batches, equal the exact checksum (bench/runtime/checksum.ts) of the orders the filter
 * keeps, computed from the produced values. Reports messages/s, MB/s of message values, the ratio
 * to the ceiling (target: at least 0.6x), prints a table and writes bench/results/kafka.json with
 * the machine and its load average.
 *
 * Environment: `BENCH_MESSAGES` (500000), `BENCH_KAFKA_PRODUCE_BATCH` (24000 a request: 6,000 a
 * partition, about 1 MB, kafkajs's default `maxBytesPerPartition`), `BENCH_KAFKA_MAX_PER_BATCH`
 * (100000), `BENCH_RUNS`, `BENCH_WARMUPS`, `KAFKA_BROKERS`; `BENCH_ONLY=table` or `memory` runs
 * the ceiling and that streamc variant only (then nothing is written unless `BENCH_OUT=FILE`);
 * `BENCH_PROFILE=DIR` profiles more streamc runs (DIR/kafka-VARIANT.cpuprofile, summarised).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { type Contestant, exposeGc, machineInfo, measureInterleaved, median, printTable, round, RUNS, settle, type Timing, WARMUPS } from "./checkpoint/measure.ts";
import { openDuck } from "./checkpoint/support.ts";
import { createOrdersTopic, highWatermarks, openBroker, produceOrders } from "./kafka/broker.ts";
import { type CeilingRun, readCeiling } from "./kafka/ceiling.ts";
import { kafkaProgram, MAX_PER_BATCH, orderMessages, ORDER_SCHEMA_TEXT, PARTITIONS, type SinkKind, THRESHOLD } from "./kafka/orders.ts";
import { checkKept, checkTable, compileKafkaProgram, type Compiled, resetRun, type RunParts, runStreamc, type StreamcRun } from "./kafka/pipeline.ts";
import { formatProfileSummary, profile, type ProfileSummary, summarizeProfile } from "./profile.ts";

const MESSAGES = Number(process.env["BENCH_MESSAGES"] ?? 500_000);
const PRODUCE_BATCH = Number(process.env["BENCH_KAFKA_PRODUCE_BATCH"] ?? 24_000);
const ONLY = process.env["BENCH_ONLY"] ? new Set(process.env["BENCH_ONLY"].split(",").map((s) => s.trim())) : undefined;
const RESULTS = process.env["BENCH_OUT"] ?? (ONLY ? undefined : join(import.meta.dirname, "results", "kafka.json"));
const PROFILE_DIR = process.env["BENCH_PROFILE"];
const TARGET = 0.6;
const MB = 1e6;

if (!Number.isInteger(MESSAGES) || MESSAGES < PARTITIONS) throw new Error(`BENCH_MESSAGES: ${MESSAGES} must be an integer of at least ${PARTITIONS}`);
if (!Number.isInteger(PRODUCE_BATCH) || PRODUCE_BATCH < 1) throw new Error(`BENCH_KAFKA_PRODUCE_BATCH: ${PRODUCE_BATCH} must be a positive integer`);
if (!Number.isInteger(MAX_PER_BATCH) || MAX_PER_BATCH < 1) throw new Error(`BENCH_KAFKA_MAX_PER_BATCH: ${MAX_PER_BATCH} must be a positive integer`);

const VARIANTS: { id: SinkKind; name: string }[] = [
  { id: "table", name: "streamc: kafka → where → select → table" },
  { id: "memory", name: "streamc: kafka → where → select, no write (batches kept)" },
];
const wanted = VARIANTS.filter((v) => !ONLY || ONLY.has(v.id));

interface Rates extends Timing {
  messagesPerSecond: number;
  /** MB/s of message values (the JSON bytes). */
  valueMBPerSecond: number;
}

interface VariantResult {
  name: string;
  program: string;
  timing: Rates;
  /** ceiling ms / streamc ms, of the medians; and the median of each round's ratio (both ran a few seconds apart). */
  vsCeiling: number;
  vsCeilingPairedMedian: number;
  target: { text: string; met: boolean };
  batches: number;
  /** Medians over the timed runs of each part's ms (bench/kafka/pipeline.ts `RunParts`). */
  partsMs: RunParts & { unaccountedMs: number };
  output: { rows: number; files?: number; parquetBytes?: number; logBytes?: number };
  verified: string;
  profile?: ProfileSummary | undefined;
}

function rates(timing: Timing, bytes: number): Rates {
  return { ...timing, messagesPerSecond: timing.perSecond, valueMBPerSecond: round(bytes / MB / (timing.ms / 1000), 1) };
}

function medianParts(runs: readonly { parts: RunParts; ms: number }[]): RunParts & { unaccountedMs: number } {
  const keys = Object.keys(runs[0]!.parts) as (keyof RunParts)[];
  const out = Object.fromEntries(keys.map((k) => [k, round(median(runs.map((r) => r.parts[k])), 1)])) as unknown as RunParts;
  const unaccounted = round(median(runs.map((r) => r.ms - keys.reduce((n, k) => n + r.parts[k], 0))), 1);
  return { ...out, unaccountedMs: unaccounted };
}

/** With `BENCH_PROFILE=DIR`: more runs (at least two, and at least 3 s) of one variant under the CPU profiler. */
async function profileVariant(id: string, dir: string, compiled: Compiled): Promise<ProfileSummary | undefined> {
  if (!PROFILE_DIR) return undefined;
  await settle();
  const p = await profile(async () => {
    const started = performance.now();
    for (let i = 0; i < 2 || performance.now() - started < 3000; i++) {
      resetRun(dir);
      await runStreamc(dir, compiled);
    }
  });
  resetRun(dir);
  mkdirSync(PROFILE_DIR, { recursive: true });
  const file = join(PROFILE_DIR, `kafka-${id}.cpuprofile`);
  writeFileSync(file, JSON.stringify(p));
  const summary = summarizeProfile(p, 15);
  console.log(`  profile of streamc → ${id} (${relative(process.cwd(), file)}):\n${formatProfileSummary(summary)}`);
  return summary;
}

// ---- the run ----------------------------------------------------------------------------------------

const started = Date.now();
const loadAtStart = loadavg().map((l) => round(l, 2));
if (loadAtStart[0]! > cpus().length * 0.5) {
  console.log(`warning: the 1-minute load average is ${loadAtStart[0]} on ${cpus().length} cores; other processes will slow the runs and widen their spread`);
}
const work = mkdtempSync(join(tmpdir(), "streamc-bench-kafka-"));
const { duck, version: duckVersion } = await openDuck();
const broker = await openBroker();
const results: Record<string, VariantResult> = {};
let ceilingResult: { timing: Rates; verified: string } | undefined;
let input: Record<string, unknown> = {};

try {
  const orders = orderMessages(MESSAGES);
  const topic = await createOrdersTopic(broker.brokers, PARTITIONS);
  const produceStarted = performance.now();
  await produceOrders(broker.brokers, topic, orders.values, orders.partitions, PRODUCE_BATCH);
  const produceMs = performance.now() - produceStarted;
  const high = await highWatermarks(broker.brokers, topic);
  input = {
    messages: MESSAGES,
    partitions: PARTITIONS,
    valueBytes: orders.bytes,
    meanValueBytes: round(orders.bytes / MESSAGES, 1),
    example: orders.values[0]!.toString("utf8"),
    produceBatch: PRODUCE_BATCH,
    produceSeconds: round(produceMs / 1000, 1),
    keptRows: orders.kept.rows,
    keptChecksum: orders.kept.checksum,
    schema: ORDER_SCHEMA_TEXT,
    filter: `amount > ${THRESHOLD}`,
    maxPerBatch: MAX_PER_BATCH,
  };
  console.log(
    `kafka benchmark: ${MESSAGES.toLocaleString("en-US")} orders (${(orders.bytes / MB).toFixed(1)} MB of JSON, ${(orders.bytes / MESSAGES).toFixed(0)} bytes each) produced to ${topic} (${PARTITIONS} partitions) on ${broker.kind} in ${(produceMs / 1000).toFixed(1)} s; the filter keeps ${orders.kept.rows.toLocaleString("en-US")}`,
  );
  orders.values.length = 0;

  const compiled = new Map<SinkKind, Compiled>();
  for (const v of wanted) compiled.set(v.id, await compileKafkaProgram(kafkaProgram(broker.brokers, topic, v.id), v.id));

  let ceilingLast: CeilingRun | undefined;
  const streamcRuns = new Map<SinkKind, RunParts[]>(wanted.map((v) => [v.id, []]));
  const streamcLast = new Map<SinkKind, StreamcRun>();
  const dirs = new Map(wanted.map((v) => [v.id, join(work, v.id)]));
  let pendingDisconnect: (() => Promise<void>) | undefined;
  const contestants: Contestant<unknown>[] = [
    {
      work: () => readCeiling(broker.brokers, topic, high),
      observe: (run) => void (pendingDisconnect = (run as CeilingRun).disconnect),
      last: (run) => void (ceilingLast = run as CeilingRun),
      after: async () => {
        await pendingDisconnect?.();
        pendingDisconnect = undefined;
      },
    },
    ...wanted.map(
      (v): Contestant<StreamcRun> => ({
        before: () => {
          resetRun(dirs.get(v.id)!);
          mkdirSync(dirs.get(v.id)!, { recursive: true });
        },
        work: () => runStreamc(dirs.get(v.id)!, compiled.get(v.id)!),
        // The parts of each timed run; its wall time is the harness's (`runsMs`, same order).
        observe: (run, timed) => void (timed && streamcRuns.get(v.id)!.push(run.parts)),
        last: (run) => void streamcLast.set(v.id, run),
      }),
    ),
  ];
  const timings = await measureInterleaved(MESSAGES, contestants);

  // The ceiling's check.
  if (ceilingLast!.messages !== MESSAGES || ceilingLast!.kept !== orders.kept.rows || ceilingLast!.bytes !== orders.bytes) {
    throw new Error(`kafka benchmark: the ceiling parsed ${ceilingLast!.messages} messages (${ceilingLast!.bytes} bytes) and counted ${ceilingLast!.kept} kept; expected ${MESSAGES} (${orders.bytes} bytes) and ${orders.kept.rows}`);
  }
  const ceiling = rates(timings[0]!, orders.bytes);
  ceilingResult = { timing: ceiling, verified: `parsed every message (${MESSAGES}, ${orders.bytes} bytes), ${orders.kept.rows} with amount above the threshold` };
  console.log(`  ceiling: ${ceiling.ms.toFixed(0)} ms; ${ceilingResult.verified}`);

  for (const [i, v] of wanted.entries()) {
    const timing = rates(timings[i + 1]!, orders.bytes);
    const run = streamcLast.get(v.id)!;
    const dir = dirs.get(v.id)!;
    let verified: string;
    let output: VariantResult["output"];
    if (v.id === "table") {
      const checked = await checkTable(duck, dir, run, MESSAGES, orders.kept, MAX_PER_BATCH);
      verified = checked.verified;
      output = { rows: run.summary.outputRows, files: checked.files, parquetBytes: checked.parquetBytes, logBytes: checked.logBytes };
    } else {
      verified = checkKept(run, MESSAGES, orders.kept, MAX_PER_BATCH);
      output = { rows: run.summary.outputRows };
    }
    const partRuns = streamcRuns.get(v.id)!.map((parts, k) => ({ parts, ms: timing.runsMs[k]! }));
    const vsCeiling = round(ceiling.ms / timing.ms, 3);
    const profiled = await profileVariant(v.id, dir, compiled.get(v.id)!);
    results[v.id] = {
      name: v.name,
      program: compiled.get(v.id)!.program,
      timing,
      vsCeiling,
      vsCeilingPairedMedian: round(median(timing.runsMs.map((ms, r) => ceiling.runsMs[r]! / ms)), 3),
      target: { text: `>= ${TARGET}x the kafkajs + JSON.parse ceiling`, met: vsCeiling >= TARGET },
      batches: run.summary.batches,
      partsMs: medianParts(partRuns),
      output,
      verified,
      profile: profiled,
    };
    console.log(`  ${v.id}: ${timing.ms.toFixed(0)} ms; ${verified}`);
    resetRun(dir);
  }
} finally {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
}

// ---- the report ------------------------------------------------------------------------------------


const rate = (n: number) => `${(n / 1e6).toFixed(3)}M`;
console.log(`\n${cpus()[0]?.model ?? "unknown cpu"} (${cpus().length} cores), node ${process.version}, ${broker.kind}, median of ${RUNS} runs after ${WARMUPS} warm-up${WARMUPS === 1 ? "" : "s"}\n`);
printTable([
  ["contestant", "ms", "messages/s", "MB/s", "GC pauses", "vs ceiling", `target ≥ ${TARGET}x`],
  ["ceiling: kafkajs eachBatch + JSON.parse", ceilingResult!.timing.ms.toFixed(0), rate(ceilingResult!.timing.messagesPerSecond), ceilingResult!.timing.valueMBPerSecond.toFixed(1), `${Math.round(ceilingResult!.timing.gcPauseShare * 100)}%`, "1.00x", "—"],
  ...Object.values(results).map((r) => [
    r.name,
    r.timing.ms.toFixed(0),
    rate(r.timing.messagesPerSecond),
    r.timing.valueMBPerSecond.toFixed(1),
    `${Math.round(r.timing.gcPauseShare * 100)}%`,
    `${r.vsCeiling.toFixed(2)}x`,
    r.target.met ? "yes" : "NO",
  ]),
]);
console.log("\nwhere streamc's time goes (ms, medians over the timed runs; measured inside the real path)\n");
const partNames: [keyof RunParts | "unaccountedMs", string][] = [
  ["openMs", "open"],
  ["planMs", "latest"],
  ["fetchMs", "fetch"],
  ["decodeMs", "decode"],
  ["readOtherMs", "range check"],
  ["operatorsMs", "operators"],
  ["sinkWriteMs", "sink write"],
  ["checkpointMs", "checkpoint"],
  ["closeMs", "close"],
  ["unaccountedMs", "other"],
];
printTable([["variant", "batches", ...partNames.map(([, n]) => n)], ...Object.entries(results).map(([id, r]) => [id, String(r.batches), ...partNames.map(([k]) => r.partsMs[k].toFixed(0))])]);

const missed = Object.values(results).filter((r) => !r.target.met).map((r) => r.name);
console.log(missed.length ? `\ntarget missed: ${missed.join(", ")}` : `\nevery variant is at least ${TARGET}x the ceiling`);

if (RESULTS) {
  const json = {
    benchmark: "kafka",
    date: new Date().toISOString(),
    machine: { ...machineInfo(loadAtStart) },
    node: process.version,
    duckdb: duckVersion,
    broker: broker.kind,
    runs: RUNS,
    warmups: WARMUPS,
    exposeGc,
    wallSeconds: round((Date.now() - started) / 1000, 1),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    input,
    ceiling: { description: "bench/kafka/ceiling.ts: kafkajs consumer (default fetch settings), fresh group, eachBatch, JSON.parse of every value; connect to the last message", ...ceilingResult },
    streamc: results,
    partsDescription: {
      openMs: "the source's open: admin client, topic check, earliest offsets",
      planMs: "latest(): the high watermarks, and planning the ranges",
      fetchMs: "the range reader: starting the consumer (connect, join its group), then fetching every record of the range",
      decodeMs: "the source's decode: JSON bytes to the schema's columns",
      readOtherMs: "the rest of read: checking the range against the topic's offsets",
      operatorsMs: "where + select and the sink's batch: the batch's work minus read and write",
      sinkWriteMs: "the sink's write: Parquet files and Delta commits (nothing for the kept batches)",
      checkpointMs: "offsets file before each batch, commit file after",
      closeMs: "closing the source (final lag commit, leaving the group) and the sink",
      unaccountedMs: "the run's wall time minus the parts",
    },
    targetsMissed: missed,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(json, null, 2) + "\n");
  console.log(`wrote ${relative(process.cwd(), RESULTS)}`);
}
