/**
 * `npm run bench:runtime`: the runtime benchmarks of issue 3, in one run, on one generated event
 * log (bench/runtime/data.ts: 2^20 rows, 100,000 keys, four hours of mostly ordered event time).
 *
 * (a) filter + project, (b) 10-minute tumbling count + sum by key, (c) 5-minute session count by
 * key, (d) dedup by event id within 10 minutes: each through streamc's real path (the `.stream`
 * program compiled with `compileProgram`, its kernels bundled and loaded, a `Dataflow` driven
 * with the pre-built Arrow batches of 65,536 rows, the watermark advanced after each batch, then
 * a final watermark that closes every window), with the key column plain and dictionary-encoded,
 * against
 *   - DuckDB, single-threaded (`SET threads = 1`), the same computation as one SQL statement
 *     (`CREATE TABLE r AS SELECT ...`) over the same rows, loaded beforehand from Parquet (only
 *     the statement is timed), and
 *   - a plain row-at-a-time JavaScript version (bench/runtime/row-at-a-time.ts) over one object
 *     per row, with the same micro-batches and watermarks.
 * Every result is checked: streamc's, DuckDB's and the baseline's row counts and exact checksums
 * (bench/runtime/checksum.ts) must be equal, and no row may be late; a mismatch stops the run.
 * (e) end to end: the same rows as NDJSON files on disk → (b)'s aggregate → JSON files, through
 * `runPipeline` (`available_now`, one file per batch), against the ceiling of `JSON.parse` per line
 * plus filling the column builders, in the same process; its output is checked against DuckDB's
 * windows that the final watermark closes.
 *
 * Each figure is the median of `BENCH_RUNS` (at least 5) timed runs after `BENCH_WARMUPS` (default 2)
 * untimed ones, back to back, as a long-running process runs batch after batch (no garbage
 * collection is forced between runs; one is forced between contestants, so that none pays for the
 * garbage of another). The row objects of the row-at-a-time baselines exist only while those run:
 * a million live objects make every full collection slower, and would slow streamc down too. The
 * share of each run spent in GC pauses is reported. Prints a table and writes
 * bench/results/latest.json (the machine's load average included: numbers from a loaded machine
 * spread widely).
 *
 * Environment: `BENCH_ROWS`, `BENCH_KEYS`, `BENCH_BATCH` change the input; `BENCH_RUNS`,
 * `BENCH_WARMUPS` the repetitions; `BENCH_ONLY=b-plain,e` runs some benchmarks only (then nothing
 * is written unless `BENCH_OUT=FILE`); `BENCH_STREAMC_ONLY=1` skips DuckDB and the row-at-a-time
 * baselines; `BENCH_PROFILE=DIR` profiles more streamc runs of each benchmark after timing them
 * (DIR/ID.cpuprofile, summarised on the console and in the JSON; bench/profile.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { loadKernelModule } from "../compiler/bundle.ts";
import { compileProgram } from "../compiler/compile-program.ts";
import { formatDiagnostics } from "../compiler/diagnostics.ts";
import type { Batch } from "../runtime/columnar/batch.ts";
import { Dataflow } from "../runtime/engine/dataflow.ts";
import type { KernelModule } from "../runtime/kernel.ts";
import { createOperator } from "../runtime/operators/registry.ts";
import type { PhysicalPlan } from "../runtime/plan.ts";
import { encodeParquet } from "../runtime/sinks/files.ts";
import { type Case, DELAY, TUMBLING_SQL, TUMBLING_TERMS, cases, program } from "./runtime/cases.ts";
import { type Checksum, checksumDiff, checksumOfRows, checksumSql, rowsOfBatches, sameChecksum } from "./runtime/checksum.ts";
import { DUCKDB_SCHEMA, type EventRow, HOUR, SPAN, generateEventLog, ndjsonFiles, rowObjects, withArrivalIndex } from "./runtime/data.ts";
import type { RunSummary } from "../runtime/engine/pipeline.ts";
import { END_TO_END_PROGRAM, jsonCeiling, readOutput, removeOutput, runEndToEnd, writeInputFiles } from "./runtime/end-to-end.ts";
import { type ProfileSummary, formatProfileSummary, profile, summarizeProfile } from "./profile.ts";

const ROWS = Number(process.env["BENCH_ROWS"] ?? 2 ** 20);
const KEYS = Number(process.env["BENCH_KEYS"] ?? 100_000);
const BATCH = Number(process.env["BENCH_BATCH"] ?? 65_536);
const RUNS = Math.max(5, Number(process.env["BENCH_RUNS"] ?? 5));
const WARMUPS = Math.max(0, Number(process.env["BENCH_WARMUPS"] ?? 2));
const ONLY = process.env["BENCH_ONLY"] ? new Set(process.env["BENCH_ONLY"].split(",").map((s) => s.trim())) : undefined;
const STREAMC_ONLY = process.env["BENCH_STREAMC_ONLY"] === "1";
const RESULTS = process.env["BENCH_OUT"] ?? (ONLY || STREAMC_ONLY ? undefined : join(import.meta.dirname, "results", "latest.json"));
const PROFILE_DIR = process.env["BENCH_PROFILE"];
const END_TO_END_TARGET = 0.6;

const gc = (globalThis as { gc?: () => void }).gc;

// ---- measuring ------------------------------------------------------------------------------

interface Timing {
  /** Median wall time of one run, in milliseconds. */
  ms: number;
  rowsPerSecond: number;
  runsMs: number[];
  /**
   * Median share of a run's wall time spent in garbage-collection pauses (`gc` performance entries).
   * Incremental marking between pauses is not counted; the CPU profiles (`BENCH_PROFILE`) count all of it.
   */
  gcPauseShare: number;
}

const gcEntries: { start: number; duration: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEntries.push({ start: e.startTime, duration: e.duration });
});
gcObserver.observe({ entryTypes: ["gc"] });

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One way of computing a benchmark's result. */
interface Contestant<T> {
  work: () => T | Promise<T>;
  /** Receives the last timed run's result (untimed): checks and checksums it. */
  last: (result: T) => unknown;
  /** Cleans up after every run (untimed). */
  after?: () => unknown;
}

/**
 * `WARMUPS` untimed runs, then `RUNS` timed ones, back to back as a long-running process runs
 * batch after batch: no garbage collection is forced between runs (that would reset the heap's
 * sizing and slow the next run down, which no streaming job sees). Returns the timing; the last
 * run's result goes to `last`.
 */
async function measure<T>(rows: number, c: Contestant<T>): Promise<Timing> {
  const runsMs: number[] = [];
  const gcShares: number[] = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    await tick();
    gcObserver.takeRecords();
    gcEntries.length = 0;
    const started = performance.now();
    let result: T | undefined = await c.work();
    const ms = performance.now() - started;
    // GC entries are queued after the collection: let them arrive.
    await tick();
    for (const e of gcObserver.takeRecords()) gcEntries.push({ start: e.startTime, duration: e.duration });
    const gcMs = gcEntries.filter((e) => e.start >= started && e.start < started + ms).reduce((sum, e) => sum + e.duration, 0);
    if (i >= WARMUPS) {
      runsMs.push(ms);
      gcShares.push(gcMs / ms);
    }
    if (i === WARMUPS + RUNS - 1) await c.last(result);
    result = undefined;
    await c.after?.();
  }
  const ms = median(runsMs);
  return { ms: round(ms, 2), rowsPerSecond: Math.round((rows / ms) * 1000), runsMs: runsMs.map((r) => round(r, 2)), gcPauseShare: round(median(gcShares), 3) };
}

/** Between contestants: collect what the last one left, so that it does not burden the next. */
async function settle(): Promise<void> {
  await tick();
  gc?.();
}

/** With `BENCH_PROFILE=DIR`: more runs of `work` (at least two, and at least 2 s) under the CPU profiler, written to DIR/ID.cpuprofile and summarised. */
async function profileRuns(id: string, work: () => unknown, after?: () => unknown): Promise<ProfileSummary | undefined> {
  if (!PROFILE_DIR) return undefined;
  gc?.();
  const p = await profile(async () => {
    const started = performance.now();
    for (let i = 0; i < 2 || performance.now() - started < 2000; i++) {
      await work();
      await after?.();
    }
  });
  mkdirSync(PROFILE_DIR, { recursive: true });
  const file = join(PROFILE_DIR, `${id}.cpuprofile`);
  writeFileSync(file, JSON.stringify(p));
  const summary = summarizeProfile(p, 12);
  console.log(`  profile of ${id} (${relative(process.cwd(), file)}):\n${formatProfileSummary(summary)}`);
  return summary;
}

// ---- streamc ---------------------------------------------------------------------------------

interface Compiled {
  plan: PhysicalPlan;
  kernels: KernelModule;
  source: string;
  output: string;
}

async function compile(text: string, name: string): Promise<Compiled> {
  const { compiled, diagnostics } = compileProgram(text, undefined);
  if (!compiled) throw new Error(`the ${name} program does not compile:\n${formatDiagnostics(`${name}.stream`, text, diagnostics)}\n${text}`);
  const kernels = await loadKernelModule(compiled.kernelSource, { sourcePath: undefined });
  return { plan: compiled.plan, kernels, source: compiled.plan.sources[0]!.id, output: compiled.plan.sinks[0]!.input };
}

/** One run through a fresh Dataflow: a micro-batch per input batch, the watermark advanced after each, then an empty batch under `finalWatermark`. */
function runDataflow(c: Compiled, batches: readonly Batch[], finalWatermark: number): { out: Batch[]; late: number } {
  let late = 0;
  const dataflow = new Dataflow(c.plan, c.kernels, createOperator, { reject: (_operator, _batch, rows) => void (late += rows.length) });
  const out: Batch[] = [];
  const collect = (outputs: Map<string, Batch[]>) => {
    const batches = outputs.get(c.output);
    if (batches) for (const b of batches) out.push(b);
  };
  for (const batch of batches) {
    collect(dataflow.runBatch(new Map([[c.source, [batch]]])).outputs);
    dataflow.advanceWatermark();
  }
  dataflow.setWatermark(finalWatermark);
  collect(dataflow.runBatch(new Map()).outputs);
  return { out, late };
}

// ---- DuckDB ----------------------------------------------------------------------------------

interface Duck {
  run(sql: string): Promise<unknown>;
  runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }>;
}

async function openDuckDB(parquetFile: string): Promise<{ duck: Duck; version: string }> {
  const duckdb = await import("@duckdb/node-api");
  const duck = (await (await duckdb.DuckDBInstance.create(":memory:")).connect()) as unknown as Duck;
  await duck.run("SET threads = 1");
  await duck.run("SET TimeZone = 'UTC'");
  await duck.run(`CREATE TABLE events AS SELECT * FROM read_parquet('${parquetFile.replaceAll("'", "''")}') ORDER BY idx`);
  return { duck, version: duckdb.version() };
}

async function duckChecksum(duck: Duck, c: { terms: Case["terms"] }, table: string, where = ""): Promise<Checksum> {
  const [row] = (await duck.runAndReadAll(checksumSql(c.terms, table, where))).getRowObjectsJS();
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, String(v)]));
}

// ---- the run ----------------------------------------------------------------------------------

interface Result {
  id: string;
  name: string;
  variant: string;
  program: string;
  sql: string | undefined;
  outputRows: number;
  streamc: Timing;
  duckdb: Timing | undefined;
  rowAtATime: Timing | undefined;
  ratio: { vsDuckDB: number | undefined; vsRowAtATime: number | undefined };
  targets: { text: string; met: boolean | undefined }[];
  checksum: Checksum;
  verified: string;
  profile?: ProfileSummary | undefined;
}

interface EndToEndResult {
  name: string;
  program: string;
  inputFiles: number;
  inputBytes: number;
  outputRows: number;
  outputFiles: number;
  finalWatermark: string;
  streamc: Timing;
  ceiling: Timing;
  ratio: { vsCeiling: number };
  targets: { text: string; met: boolean }[];
  checksum: Checksum;
  verified: string;
  profile?: ProfileSummary | undefined;
}

const wanted = (id: string) => !ONLY || ONLY.has(id) || ONLY.has(id.split("-")[0]!);

const started = Date.now();
const loadAtStart = loadavg().map((l) => round(l, 2));
if (loadAtStart[0]! > cpus().length * 0.5) {
  console.log(`warning: the 1-minute load average is ${loadAtStart[0]} on ${cpus().length} cores; other processes will slow the runs and widen their spread`);
}
console.log(`streamc runtime benchmark: generating ${ROWS.toLocaleString("en-US")} rows, ${KEYS.toLocaleString("en-US")} keys, batches of ${BATCH.toLocaleString("en-US")}`);
const log = generateEventLog(ROWS, KEYS, BATCH);
const finalWatermark = log.maxTs + 24 * HOUR;
const work = mkdtempSync(join(tmpdir(), "streamc-bench-"));
const results: Result[] = [];
let endToEnd: EndToEndResult | undefined;
let duckVersion: string | undefined;

try {
  let duck: Duck | undefined;
  if (!STREAMC_ONLY) {
    const parquetFile = join(work, "events.parquet");
    writeFileSync(parquetFile, encodeParquet(DUCKDB_SCHEMA, withArrivalIndex(log)));
    ({ duck, version: duckVersion } = await openDuckDB(parquetFile));
  }
  console.log(
    `${log.rows} rows (${log.distinctEvents} events, ${log.retries} retried deliveries), ${log.distinctKeys} distinct keys, ${log.plain.length} batches, event time over ${SPAN / HOUR} h; DuckDB ${duckVersion ?? "skipped"}\n`,
  );

  for (const c of cases) {
    const variants = (c.keyVariants ? (["plain", "dictionary"] as const) : (["plain"] as const)).filter((v) => wanted(`${c.id}-${v}`));
    if (variants.length === 0) continue;
    const stream = program(`bench_${c.id}`, c.stream);
    const compiled = await compile(stream, c.id);
    const streamc = variants.map((variant) => ({ variant, batches: variant === "plain" ? log.plain : log.dictionary, checksum: {} as Checksum, outputRows: 0, timing: undefined as Timing | undefined }));
    for (const s of streamc) {
      s.timing = await measure(log.rows, {
        work: () => runDataflow(compiled, s.batches, finalWatermark),
        last: (result) => {
          if (result.late !== 0) throw new Error(`${c.id}-${s.variant}: streamc found ${result.late} late rows; the data has none`);
          s.checksum = checksumOfRows(c.terms, rowsOfBatches(result.out));
          s.outputRows = result.out.reduce((n, b) => n + b.length, 0);
        },
      });
      await settle();
    }
    let duckTiming: Timing | undefined;
    let duckSum: Checksum | undefined;
    let rowTiming: Timing | undefined;
    let rowSum: Checksum | undefined;
    if (duck) {
      await duck.run("DROP TABLE IF EXISTS r");
      duckTiming = await measure(log.rows, {
        work: () => duck!.run(`CREATE TABLE r AS ${c.sql}`),
        last: async () => (duckSum = await duckChecksum(duck!, c, "r")),
        after: () => duck!.run("DROP TABLE r"),
      });
      // The row objects live only while the baseline runs.
      let objects: EventRow[][] | undefined = rowObjects(log);
      rowTiming = await measure(log.rows, {
        work: () => c.rowAtATime(objects!, finalWatermark),
        last: (result) => {
          if (result.late !== 0) throw new Error(`${c.id}: the row-at-a-time baseline found ${result.late} late rows; the data has none`);
          rowSum = checksumOfRows(c.terms, result.out as Iterable<Record<string, unknown>>);
        },
      });
      objects = undefined;
      await settle();
    }
    for (const s of streamc) {
      const id = `${c.id}-${s.variant}`;
      const timing = s.timing!;
      let verified = "not checked (BENCH_STREAMC_ONLY)";
      if (duck) {
        if (!sameChecksum(s.checksum, duckSum!)) throw new Error(`${id}: streamc's result differs from DuckDB's: ${checksumDiff(s.checksum, duckSum!)}`);
        if (!sameChecksum(rowSum!, duckSum!)) throw new Error(`${id}: the row-at-a-time result differs from DuckDB's: ${checksumDiff(rowSum!, duckSum!)}`);
        verified = `streamc = DuckDB = row-at-a-time (${s.outputRows} rows, checksum equal)`;
      }
      const profiled = await profileRuns(id, () => runDataflow(compiled, s.batches, finalWatermark));
      const vsDuckDB = duckTiming ? round(duckTiming.ms / timing.ms, 3) : undefined;
      const vsRowAtATime = rowTiming ? round(rowTiming.ms / timing.ms, 2) : undefined;
      results.push({
        id,
        name: c.name,
        variant: `key ${s.variant}`,
        program: stream,
        sql: c.sql,
        outputRows: s.outputRows,
        streamc: timing,
        duckdb: duckTiming,
        rowAtATime: rowTiming,
        ratio: { vsDuckDB, vsRowAtATime },
        targets: c.targets.map((t) => ({
          text: t.text,
          met: (t.text.includes("DuckDB") && vsDuckDB === undefined) || (t.text.includes("row-at-a-time") && vsRowAtATime === undefined)
            ? undefined
            : t.met({ rowsPerSecond: timing.rowsPerSecond, vsDuckDB: vsDuckDB ?? NaN, vsRowAtATime: vsRowAtATime ?? NaN }),
        })),
        checksum: s.checksum,
        verified,
        profile: profiled,
      });
      console.log(`  ${id}: streamc ${timing.ms.toFixed(1)} ms${duckTiming ? `, DuckDB ${duckTiming.ms.toFixed(1)} ms` : ""}${rowTiming ? `, row-at-a-time ${rowTiming.ms.toFixed(1)} ms` : ""}; ${verified}`);
    }
  }

  if (wanted("e")) {
    let texts: string[] | undefined = ndjsonFiles(log);
    const files = writeInputFiles(work, texts);
    const inputBytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    texts = undefined;
    const compiled = await compile(END_TO_END_PROGRAM, "end-to-end");
    let summary: RunSummary | undefined;
    let output: ReturnType<typeof readOutput> | undefined;
    let ceilingRows = 0;
    await settle();
    const pipeline = await measure(log.rows, {
      work: () => runEndToEnd(compiled.plan, compiled.kernels, work),
      last: (result) => {
        summary = result;
        output = readOutput(work);
      },
      after: () => removeOutput(work),
    });
    await settle();
    const ceiling = await measure(log.rows, { work: () => jsonCeiling(work, files), last: (result) => (ceilingRows = result.rows) });
    if (summary!.inputRows !== log.rows || Object.keys(summary!.deadLetters).length > 0) {
      throw new Error(`end to end: read ${summary!.inputRows} of ${log.rows} rows, rejected ${JSON.stringify(summary!.deadLetters)}`);
    }
    if (ceilingRows !== log.rows) throw new Error(`ceiling: parsed ${ceilingRows} of ${log.rows} rows`);
    const checksum = checksumOfRows(TUMBLING_TERMS, output!.rows);
    // available_now stops after one batch under the last watermark: the windows it closes are final.
    const lastWatermark = log.maxTs - DELAY;
    let verified = "not checked (BENCH_STREAMC_ONLY)";
    if (duck) {
      await duck.run(`CREATE OR REPLACE TABLE r AS ${TUMBLING_SQL}`);
      const expected = await duckChecksum(duck, { terms: TUMBLING_TERMS }, "r", `epoch_us(window_end) <= ${lastWatermark}`);
      if (!sameChecksum(checksum, expected)) throw new Error(`end to end: the files written differ from DuckDB's closed windows: ${checksumDiff(checksum, expected)}`);
      verified = `files written = DuckDB's windows closed by the last watermark (${output!.rows.length} rows, checksum equal)`;
    }
    const profiled = await profileRuns("e", () => runEndToEnd(compiled.plan, compiled.kernels, work), () => removeOutput(work));
    const vsCeiling = round(ceiling!.ms / pipeline!.ms, 3);
    endToEnd = {
      name: "NDJSON files → tumbling 10m count + sum by key → JSON files (runPipeline, available_now)",
      program: END_TO_END_PROGRAM,
      inputFiles: files.length,
      inputBytes,
      outputRows: output!.rows.length,
      outputFiles: output!.files,
      finalWatermark: new Date(lastWatermark / 1000).toISOString(),
      streamc: pipeline!,
      ceiling: ceiling!,
      ratio: { vsCeiling },
      targets: [{ text: `>= ${END_TO_END_TARGET}x the JSON.parse + builders ceiling`, met: vsCeiling >= END_TO_END_TARGET }],
      checksum,
      verified,
      profile: profiled,
    };
    console.log(`  e: streamc ${pipeline!.ms.toFixed(1)} ms, ceiling ${ceiling!.ms.toFixed(1)} ms; ${verified}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// ---- the report --------------------------------------------------------------------------------

const fmtRate = (r: number) => `${(r / 1e6).toFixed(2)}M`;
const fmtRatio = (r: number | undefined) => (r === undefined ? "—" : `${r.toFixed(r >= 10 ? 1 : 2)}x`);
const fmtMet = (targets: { text: string; met: boolean | undefined }[]) =>
  targets.length === 0 ? "—" : targets.map((t) => `${t.text}: ${t.met === undefined ? "n/a" : t.met ? "yes" : "NO"}`).join("; ");
const table = [
  ["benchmark", "streamc ms", "rows/s", "GC pauses", "DuckDB ms", "vs DuckDB", "row-at-a-time ms", "vs row-at-a-time", "target met?"],
  ...results.map((r) => [
    `(${r.id.split("-")[0]}) ${r.name}, ${r.variant}`,
    r.streamc.ms.toFixed(1),
    fmtRate(r.streamc.rowsPerSecond),
    `${Math.round(r.streamc.gcPauseShare * 100)}%`,
    r.duckdb ? r.duckdb.ms.toFixed(1) : "—",
    fmtRatio(r.ratio.vsDuckDB),
    r.rowAtATime ? r.rowAtATime.ms.toFixed(1) : "—",
    fmtRatio(r.ratio.vsRowAtATime),
    fmtMet(r.targets),
  ]),
  ...(endToEnd
    ? [[
        "(e) NDJSON files → tumbling → JSON files",
        endToEnd.streamc.ms.toFixed(1),
        fmtRate(endToEnd.streamc.rowsPerSecond),
        `${Math.round(endToEnd.streamc.gcPauseShare * 100)}%`,
        `ceiling ${endToEnd.ceiling.ms.toFixed(1)}`,
        `${fmtRatio(endToEnd.ratio.vsCeiling)} ceiling`,
        "—",
        "—",
        fmtMet(endToEnd.targets),
      ]]
    : []),
];
const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
const printRow = (row: string[]) => row.map((cell, column) => (column === 0 || column === row.length - 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
console.log(`\n${cpus()[0]?.model ?? "unknown cpu"} (${cpus().length} cores), node ${process.version}, median of ${RUNS} runs after ${WARMUPS} warm-up${WARMUPS === 1 ? "" : "s"}; rows/s counts input rows\n`);
console.log(printRow(table[0]!));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of table.slice(1)) console.log(printRow(row));

const missed = [
  ...results.flatMap((r) => r.targets.filter((t) => t.met === false).map((t) => `(${r.id}) ${t.text}`)),
  ...(endToEnd?.targets.filter((t) => !t.met).map((t) => `(e) ${t.text}`) ?? []),
];
console.log(missed.length ? `\ntargets missed: ${missed.join(", ")}` : "\nevery target checked was met");

if (RESULTS) {
  const json = {
    benchmark: "runtime",
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryGB: round(totalmem() / 2 ** 30, 1),
      platform: platform(),
      release: release(),
      loadAverage: { atStart: loadAtStart, atEnd: loadavg().map((l) => round(l, 2)) },
    },
    node: process.version,
    duckdb: duckVersion,
    runs: RUNS,
    warmups: WARMUPS,
    exposeGc: gc !== undefined,
    wallSeconds: round((Date.now() - started) / 1000, 1),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    input: {
      rows: log.rows,
      keys: log.keys,
      distinctKeys: log.distinctKeys,
      events: log.distinctEvents,
      retriedDeliveries: log.retries,
      batchRows: log.batchRows,
      batches: log.plain.length,
      eventTime: { from: new Date(log.minTs / 1000).toISOString(), to: new Date(log.maxTs / 1000).toISOString() },
      description: "bench/runtime/data.ts",
    },
    benchmarks: Object.fromEntries([
      ...results.map((r) => [r.id, { ...r, id: undefined }]),
      ...(endToEnd ? [["e", endToEnd]] : []),
    ]),
    targetsMissed: missed,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(json, null, 2) + "\n");
  console.log(`wrote ${relative(process.cwd(), RESULTS)}`);
}
