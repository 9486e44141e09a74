/**
 * `npm run bench:checkpoint`: what checkpoints and the `table` sink cost.
 *
 * (f) Checkpoint overhead per batch (bench/checkpoint/overhead.ts): one pipeline — Parquet files
 * → a 1-hour tumbling count + sum by key whose `GROUPS` keys all stay open, and a stateless
 * filter + project to a Parquet `files` sink — run through `runPipeline` for `BATCHES` batches
 * of `ROWS` rows, without and with a checkpoint directory, at several state sizes (10,000 and
 * 100,000 groups by default). The state is snapshotted whole after every batch, so its cost grows
 * with the state, not with the batch: the figures show it. Reported per batch: the wall time of
 * each variant (the run's time / BATCHES, so opening the checkpoint is spread over the batches),
 * the overhead (the median of the rounds' differences, in ms and % of the time without), and its
 * parts as measured inside the real path on the checkpointed runs: offsets file, state snapshot
 * (in memory, Arrow IPC), state file (bytes and time), commit file, cleanup of old batches,
 * progress line; plus the engine's own `durationMs.walCommit` and `durationMs.commit` medians.
 * Both variants' output is checked against DuckDB over the input.
 *
 * (g) Table-sink throughput (bench/checkpoint/table-sink.ts): `TABLE_ROWS` rows (2^20) of a
 * realistic schema in batches of `BATCH` (65,536), written through `TableSink.write(batchId,
 * batch, "append")` into a fresh table (unpartitioned, and partitioned by a 40-value country
 * column), against parquet-wasm writing the same batches directly with the same writer
 * properties (one `fs.writeFileSync` per batch: no temporary file, fsync, log or statistics).
 * Rows/s, MB/s of Parquet written and of Arrow input, and the ratio; every table is read back
 * (readTable, and DuckDB over its live files) and must equal the input's exact checksum.
 *
 * Each figure is the median of `BENCH_RUNS` (at least 5) timed runs after `BENCH_WARMUPS` (2).
 * The contestants of (f), and those of (g), run interleaved, round after round, with a garbage
 * collection forced before every run (bench/checkpoint/measure.ts): on a machine whose load
 * changes, the two runs of a round see the same load, so the overhead is the median of each
 * round's difference rather than a difference of medians taken minutes apart. Files go
 * to a directory under the OS's temporary directory (its filesystem is recorded: fsync costs
 * what the disk costs). Prints tables and writes bench/results/checkpoint.json, with the machine
 * and its load average.
 *
 * Environment: `BENCH_CHECKPOINT_BATCHES` (30), `BENCH_CHECKPOINT_ROWS` (100000 a batch),
 * `BENCH_CHECKPOINT_GROUPS` (`10000,100000`), `BENCH_TABLE_ROWS` (1048576), `BENCH_BATCH` (65536),
 * `BENCH_RUNS`, `BENCH_WARMUPS`; `BENCH_ONLY=f,g-partitioned` runs some only (ids `f-GROUPS`, `g`,
 * `g-partitioned`; then nothing is written unless `BENCH_OUT=FILE`); `BENCH_PROFILE=DIR` profiles
 * more checkpointed runs of (f) (DIR/f-GROUPS.cpuprofile, summarised; bench/profile.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import {
  BATCH_EVENT_TIME,
  type CheckpointCosts,
  checkOverheadRun,
  checkpointDir,
  compileOverheadProgram,
  expectedLarge,
  OVERHEAD_PROGRAM,
  type OverheadRun,
  type OverheadShape,
  resetOverhead,
  RETAIN_BATCHES,
  runOverhead,
  setAsideOverhead,
  writeOverheadInput,
} from "./checkpoint/overhead.ts";
import { type Contestant, exposeGc, machineInfo, measureInterleaved, median, printTable, round, RUNS, settle, type Timing, WARMUPS } from "./checkpoint/measure.ts";
import { directoryBytes, openDuck } from "./checkpoint/support.ts";
import {
  arrowBytes,
  checkDirect,
  checkTable,
  inputChecksum,
  resetTableSink,
  TABLE_SCHEMA,
  tableSinkBatches,
  writeDirectly,
  type WriteResult,
  writeThroughTableSink,
} from "./checkpoint/table-sink.ts";
import { formatProfileSummary, profile, type ProfileSummary, summarizeProfile } from "./profile.ts";

const BATCHES = Number(process.env["BENCH_CHECKPOINT_BATCHES"] ?? 30);
const ROWS_PER_BATCH = Number(process.env["BENCH_CHECKPOINT_ROWS"] ?? 100_000);
const GROUPS = (process.env["BENCH_CHECKPOINT_GROUPS"] ?? "10000,100000").split(",").map((s) => Number(s.trim()));
const TABLE_ROWS = Number(process.env["BENCH_TABLE_ROWS"] ?? 2 ** 20);
const BATCH = Number(process.env["BENCH_BATCH"] ?? 65_536);
const ONLY = process.env["BENCH_ONLY"] ? new Set(process.env["BENCH_ONLY"].split(",").map((s) => s.trim())) : undefined;
const RESULTS = process.env["BENCH_OUT"] ?? (ONLY ? undefined : join(import.meta.dirname, "results", "checkpoint.json"));
const PROFILE_DIR = process.env["BENCH_PROFILE"];
const MB = 1e6;

for (const groups of GROUPS) {
  if (!Number.isInteger(groups) || groups < 1 || groups > ROWS_PER_BATCH) throw new Error(`BENCH_CHECKPOINT_GROUPS: ${groups} must be an integer from 1 to BENCH_CHECKPOINT_ROWS (${ROWS_PER_BATCH}), so that every key occurs in every batch`);
}

const wanted = (id: string) => !ONLY || ONLY.has(id) || ONLY.has(id.split("-")[0]!);

// ---- (f) ------------------------------------------------------------------------------------------

interface VariantResult extends Timing {
  msPerBatch: number;
  /** Medians over every timed batch of the engine's progress durations. */
  progressMedianMs: { walCommit: number; addBatch: number; commit: number; triggerExecution: number };
}

interface OverheadResult {
  groups: number;
  without: VariantResult;
  with: VariantResult;
  /** The median over rounds of (with − without) / BATCHES, each round running both back to back; percent of the median without. */
  overheadPerBatch: { ms: number; percent: number; pairedDifferencesMs: number[] };
  /** Per batch, the median over the timed runs of each step's mean. */
  split: {
    offsetsWriteMs: number;
    stateSnapshotMs: number;
    stateFileWriteMs: number;
    stateFileBytes: number;
    commitWriteMs: number;
    cleanupMs: number;
    progressLineMs: number;
    /** Opening the checkpoint at the start of the run, spread over its batches. */
    startMs: number;
    /** The steps above summed: the overhead measured directly, not as a difference of two noisy medians. */
    measuredMs: number;
    /** The overhead minus the steps: what the checkpoint costs outside its own steps (collecting the snapshot's garbage, the sinks' fsyncs waiting behind its own), plus noise. */
    unmeasuredMs: number;
  };
  checkpointBytesRetained: number;
  verified: string;
  profile?: ProfileSummary | undefined;
}

function variantResult(timing: Timing, progress: OverheadRun["progress"][]): VariantResult {
  const all = progress.flat();
  const med = (pick: (p: OverheadRun["progress"][number]) => number) => round(median(all.map(pick)), 3);
  return {
    ...timing,
    msPerBatch: round(timing.ms / BATCHES, 2),
    progressMedianMs: {
      walCommit: med((p) => p.durationMs.walCommit),
      addBatch: med((p) => p.durationMs.addBatch),
      commit: med((p) => p.durationMs.commit),
      triggerExecution: med((p) => p.durationMs.triggerExecution),
    },
  };
}

/** With `BENCH_PROFILE=DIR`: more checkpointed runs (at least two, and at least 3 s) under the CPU profiler; each run's files are renamed aside, not deleted, so that deleting them is not in the profile. */
async function profileOverhead(id: string, dir: string, work: () => Promise<unknown>): Promise<ProfileSummary | undefined> {
  if (!PROFILE_DIR) return undefined;
  resetOverhead(dir);
  await settle();
  const p = await profile(async () => {
    const started = performance.now();
    for (let i = 0; i < 2 || performance.now() - started < 3000; i++) {
      setAsideOverhead(dir, i);
      await work();
    }
  });
  resetOverhead(dir);
  mkdirSync(PROFILE_DIR, { recursive: true });
  const file = join(PROFILE_DIR, `${id}.cpuprofile`);
  writeFileSync(file, JSON.stringify(p));
  const summary = summarizeProfile(p, 15);
  console.log(`  profile of ${id} with a checkpoint (${relative(process.cwd(), file)}):\n${formatProfileSummary(summary)}`);
  return summary;
}

// ---- (g) ------------------------------------------------------------------------------------------

interface WriterResult extends Timing {
  files: number;
  parquetBytes: number;
  logBytes: number;
  parquetMBPerSecond: number;
  arrowMBPerSecond: number;
}

interface TableSinkResult {
  name: string;
  partitionBy: string[];
  tableSink: WriterResult;
  direct: WriterResult;
  /** direct ms / table sink ms, of the medians; and the median of the ratios of each round (both ran back to back). */
  ratio: { vsDirect: number; pairedMedian: number };
  verified: string;
}

function writerResult(timing: Timing, written: WriteResult, inputArrowBytes: number): WriterResult {
  return {
    ...timing,
    ...written,
    parquetMBPerSecond: round(written.parquetBytes / MB / (timing.ms / 1000), 1),
    arrowMBPerSecond: round(inputArrowBytes / MB / (timing.ms / 1000), 1),
  };
}

// ---- the run ----------------------------------------------------------------------------------------

const started = Date.now();
const loadAtStart = loadavg().map((l) => round(l, 2));
if (loadAtStart[0]! > cpus().length * 0.5) {
  console.log(`warning: the 1-minute load average is ${loadAtStart[0]} on ${cpus().length} cores; other processes will slow the runs and widen their spread`);
}
const work = mkdtempSync(join(tmpdir(), "streamc-bench-checkpoint-"));
const filesystem = filesystemOf(work);
const { duck, version: duckVersion } = await openDuck();
const overhead: Record<string, OverheadResult> = {};
const tables: Record<string, TableSinkResult> = {};
const overheadInputBytes: Record<string, number> = {};
let tableInput: { rows: number; batches: number; batchRows: number; arrowBytes: number } | undefined;

try {
  const fIds = GROUPS.map((g) => `f-${g}`).filter(wanted);
  if (fIds.length > 0) {
    console.log(`(f) checkpoint overhead: ${BATCHES} batches of ${ROWS_PER_BATCH.toLocaleString("en-US")} rows, state of ${GROUPS.map((g) => g.toLocaleString("en-US")).join(" and ")} groups; files in ${work} (${filesystem})`);
    const compiled = await compileOverheadProgram();
    for (const groups of GROUPS) {
      const id = `f-${groups}`;
      if (!wanted(id)) continue;
      const shape: OverheadShape = { batches: BATCHES, rowsPerBatch: ROWS_PER_BATCH, groups };
      const dir = join(work, id);
      overheadInputBytes[id] = writeOverheadInput(dir, shape);
      const expected = await expectedLarge(duck, dir);
      const rows = BATCHES * ROWS_PER_BATCH;
      const variants: { withCheckpoint: boolean; progress: OverheadRun["progress"][]; costs: CheckpointCosts[]; verified: string; retained: number }[] = [
        { withCheckpoint: false, progress: [], costs: [], verified: "", retained: 0 },
        { withCheckpoint: true, progress: [], costs: [], verified: "", retained: 0 },
      ];
      const timings = await measureInterleaved(
        rows,
        variants.map((v): Contestant<OverheadRun> => ({
          before: () => resetOverhead(dir),
          work: () => runOverhead(dir, compiled, shape, v.withCheckpoint),
          observe: (run, timed) => {
            if (!timed) return;
            v.progress.push(run.progress);
            v.costs.push(run.costs);
          },
          last: async (run) => {
            v.verified = await checkOverheadRun(duck, dir, shape, run, v.withCheckpoint, expected);
            if (v.withCheckpoint) v.retained = directoryBytes(checkpointDir(dir));
          },
        })),
      );
      const [without, withCheckpoint] = variants as [(typeof variants)[0], (typeof variants)[0]];
      const perBatch = (pick: (c: CheckpointCosts) => number, digits = 3) => round(median(withCheckpoint.costs.map((c) => pick(c) / BATCHES)), digits);
      const split = {
        offsetsWriteMs: perBatch((c) => c.offsetsMs),
        stateSnapshotMs: perBatch((c) => c.snapshotMs),
        stateFileWriteMs: perBatch((c) => c.stateWriteMs),
        stateFileBytes: perBatch((c) => c.stateBytes, 0),
        commitWriteMs: perBatch((c) => c.commitWriteMs),
        cleanupMs: perBatch((c) => c.cleanupMs),
        progressLineMs: perBatch((c) => c.progressMs),
        startMs: perBatch((c) => c.startMs),
        measuredMs: perBatch((c) => c.startMs + c.offsetsMs + c.snapshotMs + c.stateWriteMs + c.commitWriteMs + c.cleanupMs + c.progressMs),
        unmeasuredMs: 0,
      };
      const withoutResult = variantResult(timings[0]!, without.progress);
      const withResult = variantResult(timings[1]!, withCheckpoint.progress);
      // Paired: each round ran both variants back to back.
      const overheadMs = round(median(timings[1]!.runsMs.map((ms, i) => (ms - timings[0]!.runsMs[i]!) / BATCHES)), 2);
      split.unmeasuredMs = round(overheadMs - split.measuredMs, 2);
      const profiled = await profileOverhead(id, dir, () => runOverhead(dir, compiled, shape, true));
      overhead[id] = {
        groups,
        without: withoutResult,
        with: withResult,
        overheadPerBatch: { ms: overheadMs, percent: round((overheadMs / withoutResult.msPerBatch) * 100, 1), pairedDifferencesMs: timings[1]!.runsMs.map((ms, i) => round((ms - timings[0]!.runsMs[i]!) / BATCHES, 2)) },
        split,
        checkpointBytesRetained: withCheckpoint.retained,
        verified: `without: ${without.verified}; with: ${withCheckpoint.verified}`,
        profile: profiled,
      };
      console.log(`  ${id}: ${withoutResult.msPerBatch} ms/batch without, ${withResult.msPerBatch} with; steps measured ${split.measuredMs} ms/batch; ${withCheckpoint.verified}`);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const gIds = ["g", "g-partitioned"].filter(wanted);
  if (gIds.length > 0) {
    const batches = tableSinkBatches(TABLE_ROWS, BATCH);
    const expected = inputChecksum(batches);
    const inputArrowBytes = arrowBytes(batches);
    tableInput = { rows: TABLE_ROWS, batches: batches.length, batchRows: BATCH, arrowBytes: inputArrowBytes };
    console.log(`(g) table sink: ${TABLE_ROWS.toLocaleString("en-US")} rows in ${batches.length} batches, ${(inputArrowBytes / MB).toFixed(1)} MB of Arrow buffers`);
    const dir = join(work, "g");
    const writers: { id: string; partitionBy: string[] | undefined; written?: WriteResult; verified: string }[] = [
      { id: "direct", partitionBy: undefined, verified: "" },
      ...gIds.map((id) => ({ id, partitionBy: id === "g" ? [] : ["country"], verified: "" })),
    ];
    const timings = await measureInterleaved(
      TABLE_ROWS,
      writers.map((w): Contestant<WriteResult> => ({
        before: () => resetTableSink(dir),
        work: () => (w.partitionBy === undefined ? writeDirectly(dir, batches) : writeThroughTableSink(dir, batches, w.partitionBy)),
        last: async (written) => {
          w.written = written;
          w.verified = w.partitionBy === undefined ? await checkDirect(duck, dir, expected) : await checkTable(duck, dir, expected, w.partitionBy.length > 0);
        },
      })),
    );
    const direct = writerResult(timings[0]!, writers[0]!.written!, inputArrowBytes);
    writers.slice(1).forEach((w, i) => {
      const timing = timings[i + 1]!;
      const tableSink = writerResult(timing, w.written!, inputArrowBytes);
      const partitionBy = w.partitionBy!;
      tables[w.id] = {
        name: partitionBy.length ? `table sink, partition_by = [${partitionBy.join(", ")}] (40 values)` : "table sink, unpartitioned",
        partitionBy,
        tableSink,
        direct,
        ratio: { vsDirect: round(direct.ms / tableSink.ms, 3), pairedMedian: round(median(timing.runsMs.map((ms, r) => direct.runsMs[r]! / ms)), 3) },
        verified: `table: ${w.verified}; direct: ${writers[0]!.verified}`,
      };
      console.log(`  ${w.id}: table sink ${tableSink.ms.toFixed(0)} ms, direct ${direct.ms.toFixed(0)} ms; ${w.verified}`);
    });
    resetTableSink(dir);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// ---- the report ------------------------------------------------------------------------------------


console.log(`\n${cpus()[0]?.model ?? "unknown cpu"} (${cpus().length} cores), node ${process.version}, ${filesystem}, median of ${RUNS} runs after ${WARMUPS} warm-up${WARMUPS === 1 ? "" : "s"}\n`);
const ms = (n: number) => n.toFixed(2);
if (Object.keys(overhead).length > 0) {
  console.log(`(f) checkpoint overhead per batch (${BATCHES} batches of ${ROWS_PER_BATCH.toLocaleString("en-US")} rows; per batch: the run's time / ${BATCHES}; the steps are per-batch means measured in the path)\n`);
  printTable([
    ["state", "without ms", "with ms", "overhead ms", "overhead", "steps ms", "state file", "snapshot ms", "state file ms", "offsets file ms", "commit file ms", "cleanup ms", "progress ms", "start ms", "other ms"],
    ...Object.values(overhead).map((o) => [
      `${o.groups.toLocaleString("en-US")} groups`,
      ms(o.without.msPerBatch),
      ms(o.with.msPerBatch),
      ms(o.overheadPerBatch.ms),
      `${o.overheadPerBatch.percent.toFixed(1)}%`,
      ms(o.split.measuredMs),
      `${(o.split.stateFileBytes / MB).toFixed(2)} MB`,
      ms(o.split.stateSnapshotMs),
      ms(o.split.stateFileWriteMs),
      ms(o.split.offsetsWriteMs),
      ms(o.split.commitWriteMs),
      ms(o.split.cleanupMs),
      ms(o.split.progressLineMs),
      ms(o.split.startMs),
      ms(o.split.unmeasuredMs),
    ]),
  ]);
  console.log("");
}
if (Object.keys(tables).length > 0) {
  console.log(`(g) table-sink write throughput (${TABLE_ROWS.toLocaleString("en-US")} rows, ${tableInput!.batches} batches; MB/s of Parquet written and of Arrow input)\n`);
  const rate = (n: number) => `${(n / 1e6).toFixed(2)}M`;
  printTable([
    ["writer", "ms", "rows/s", "Parquet MB/s", "Arrow MB/s", "files", "Parquet MB", "log KB", "vs direct"],
    ...Object.values(tables).map((t) => [
      t.name,
      t.tableSink.ms.toFixed(0),
      rate(t.tableSink.perSecond),
      t.tableSink.parquetMBPerSecond.toFixed(1),
      t.tableSink.arrowMBPerSecond.toFixed(1),
      String(t.tableSink.files),
      (t.tableSink.parquetBytes / MB).toFixed(1),
      (t.tableSink.logBytes / 1000).toFixed(0),
      `${t.ratio.vsDirect.toFixed(2)}x`,
    ]),
    ...[Object.values(tables)[0]!.direct].map((d) => [
      "parquet-wasm direct (writeFileSync)",
      d.ms.toFixed(0),
      rate(d.perSecond),
      d.parquetMBPerSecond.toFixed(1),
      d.arrowMBPerSecond.toFixed(1),
      String(d.files),
      (d.parquetBytes / MB).toFixed(1),
      "—",
      "1.00x",
    ]),
  ]);
  console.log("");
}

if (RESULTS) {
  const json = {
    benchmark: "checkpoint",
    date: new Date().toISOString(),
    machine: { ...machineInfo(loadAtStart), filesystem },
    node: process.version,
    duckdb: duckVersion,
    runs: RUNS,
    warmups: WARMUPS,
    exposeGc,
    wallSeconds: round((Date.now() - started) / 1000, 1),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    checkpointOverhead: {
      description: "bench/checkpoint/overhead.ts",
      program: OVERHEAD_PROGRAM,
      batches: BATCHES,
      rowsPerBatch: ROWS_PER_BATCH,
      eventTimePerBatchSeconds: BATCH_EVENT_TIME / 1e6,
      retainBatches: RETAIN_BATCHES,
      inputParquetBytes: overheadInputBytes,
      results: overhead,
    },
    tableSink: {
      description: "bench/checkpoint/table-sink.ts",
      schema: TABLE_SCHEMA,
      input: tableInput,
      results: tables,
    },
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(json, null, 2) + "\n");
  console.log(`wrote ${relative(process.cwd(), RESULTS)}`);
}

/** The filesystem type under `dir` (`df --output=fstype`), or "unknown filesystem". */
function filesystemOf(dir: string): string {
  try {
    const type = execFileSync("df", ["--output=fstype", dir], { encoding: "utf8" }).trim().split("\n").at(-1)?.trim();
    return type ? `${type} at ${dirname(dir)}` : "unknown filesystem";
  } catch {
    return "unknown filesystem";
  }
}
