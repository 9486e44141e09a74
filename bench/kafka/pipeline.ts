/**
 * streamc's side of `bench:kafka`: the compiled programs of bench/kafka/orders.ts run through
 * `runPipeline` (`trigger: available_now`), with where the time goes measured inside the real path.
 *
 * Contract:
 * - `runStreamc(dir, compiled)` is one run in `dir` with a fresh checkpoint (`DIR/checkpoint`)
 *   and, for the table program, a fresh table (`DIR/out/large`): the caller empties `dir` first
 *   (`resetRun`). It returns the run's summary, every batch's progress, the parts of its time
 *   and, for the memory program, the batches the sink was given.
 * - The parts are measured by wrapping, for the run, the kafka source the engine builds (through
 *   `sourceFactories`: `open`, `latest`, `read`, `close`, and inside `read` the range reader's
 *   `read`, i.e. fetching from Kafka, and the source's `decode`) and the sink (through
 *   `sinkFactories`: `write`, `close`). The wrappers only time; they call the real methods with
 *   the same arguments. `memory` sinks are replaced by `KeptBatches`, which keeps each batch as
 *   given (no rows made), so that the memory program measures Kafka, decoding and the operators
 *   without a write.
 * - `checkTable` and `checkKept` compare the output with the expected checksum computed from the
 *   produced orders: the table read back by `readTable` and by DuckDB over its live files; the
 *   kept batches through `rowsOfBatches`. Both throw on a difference.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { loadKernelModule } from "../../compiler/bundle.ts";
import { compileProgram } from "../../compiler/compile-program.ts";
import { formatDiagnostics } from "../../compiler/diagnostics.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { type BatchProgress, runPipeline, type RunSummary } from "../../runtime/engine/pipeline.ts";
import type { KernelModule } from "../../runtime/kernel.ts";
import { createOperator } from "../../runtime/operators/registry.ts";
import type { PhysicalPlan } from "../../runtime/plan.ts";
import { sinkFactories } from "../../runtime/sinks/index.ts";
import type { Sink } from "../../runtime/sinks/sink.ts";
import { sourceFactories } from "../../runtime/sources/index.ts";
import type { KafkaSource } from "../../runtime/sources/kafka.ts";
import type { KafkaRangeReader } from "../../runtime/sources/kafka-reader.ts";
import type { Source } from "../../runtime/sources/source.ts";
import { resolveDataPath, snapshot } from "../../runtime/table/delta-log.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { type Checksum, checksumDiff, checksumOfRows, checksumSql, rowsOfBatches, sameChecksum } from "../runtime/checksum.ts";
import { type Duck, directoryBytes, quote } from "../checkpoint/support.ts";
import { KEPT_TERMS, type SinkKind } from "./orders.ts";

export interface Compiled {
  sink: SinkKind;
  program: string;
  plan: PhysicalPlan;
  kernels: KernelModule;
}

export async function compileKafkaProgram(program: string, sink: SinkKind): Promise<Compiled> {
  const { compiled, diagnostics } = compileProgram(program, undefined);
  if (!compiled) throw new Error(`the kafka benchmark's program does not compile:\n${formatDiagnostics("bench_kafka.stream", program, diagnostics)}\n${program}`);
  return { sink, program, plan: compiled.plan, kernels: await loadKernelModule(compiled.kernelSource, { sourcePath: undefined }) };
}

/** Where a run's time went, in ms, summed over its batches. */
export interface RunParts {
  /** The source's `open`: connecting the admin client, checking the topic, finding the earliest offsets. */
  openMs: number;
  /** `latest()`: the high watermarks (once a run with `available_now`), and planning. */
  planMs: number;
  /** The range reader: starting the consumer (connect, join its group), then fetching the records. */
  fetchMs: number;
  /** The source's `decode`: JSON bytes to the columns of the schema. */
  decodeMs: number;
  /** The rest of `read`: checking the range against the topic's offsets (a metadata request). */
  readOtherMs: number;
  /** `where` and `select` (the kernels), and concatenating the sink's batch: the batch's work minus read and write. */
  operatorsMs: number;
  /** The sink's `write`: Parquet files, Delta commits (or nothing, for the kept batches). */
  sinkWriteMs: number;
  /** The checkpoint: offsets before each batch, commit after. */
  checkpointMs: number;
  /** Closing the source (committing offsets for lag, leaving the group) and the sink. */
  closeMs: number;
}

export interface StreamcRun {
  summary: RunSummary;
  progress: BatchProgress[];
  parts: RunParts;
  /** What the kept-batches sink was given (the memory program only). */
  kept: Batch[];
  log: string[];
}

const emptyParts = (): RunParts => ({ openMs: 0, planMs: 0, fetchMs: 0, decodeMs: 0, readOtherMs: 0, operatorsMs: 0, sinkWriteMs: 0, checkpointMs: 0, closeMs: 0 });

/** The `memory` connector for the benchmark: keeps each batch as given (a replayed batch id replaces its batch). */
class KeptBatches implements Sink {
  readonly batches = new Map<number, Batch>();
  constructor(readonly id: string) {}
  async write(batchId: number, batch: Batch): Promise<void> {
    this.batches.set(batchId, batch);
  }
  async close(): Promise<void> {}
}

async function timed<T>(add: (ms: number) => void, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    add(performance.now() - started);
  }
}

export function resetRun(dir: string): void {
  rmSync(join(dir, "checkpoint"), { recursive: true, force: true });
  rmSync(join(dir, "out"), { recursive: true, force: true });
}

export async function runStreamc(dir: string, compiled: Compiled): Promise<StreamcRun> {
  const parts = emptyParts();
  let readMs = 0;
  const kept: KeptBatches[] = [];
  const log: string[] = [];
  const progress: BatchProgress[] = [];
  const originalSource = sourceFactories.get("kafka")!;
  const originalSink = sinkFactories.get(compiled.sink)!;
  sourceFactories.set("kafka", (spec, context) => {
    const source = originalSource(spec, context) as KafkaSource;
    const inner = source as unknown as { reader: KafkaRangeReader | undefined; decode: (...args: unknown[]) => unknown };
    const decode = inner.decode.bind(source);
    inner.decode = (...args: unknown[]) => {
      const started = performance.now();
      try {
        return decode(...args);
      } finally {
        parts.decodeMs += performance.now() - started;
      }
    };
    const wrapped: Source = {
      id: source.id,
      schema: source.schema,
      bounded: source.bounded,
      description: source.description,
      open: (resume) =>
        timed(
          (ms) => (parts.openMs += ms),
          async () => {
            await source.open(resume);
            const reader = inner.reader!;
            const read = reader.read.bind(reader);
            reader.read = (...args) => timed((ms) => (parts.fetchMs += ms), () => read(...args));
          },
        ),
      latest: () => timed((ms) => (parts.planMs += ms), () => source.latest()),
      plan: (from, limits) => source.plan(from, limits),
      end: (range) => source.end(range),
      behind: (from, latest) => source.behind(from, latest),
      read: (range) => timed((ms) => (readMs += ms), () => source.read(range)),
      close: () => timed((ms) => (parts.closeMs += ms), () => source.close()),
    };
    return wrapped;
  });
  sinkFactories.set(compiled.sink, (spec, context) => {
    const sink = compiled.sink === "memory" ? new KeptBatches(spec.id) : originalSink(spec, context);
    if (sink instanceof KeptBatches) kept.push(sink);
    return {
      id: sink.id,
      write: (batchId, batch, mode) => timed((ms) => (parts.sinkWriteMs += ms), () => sink.write(batchId, batch, mode)),
      close: () => timed((ms) => (parts.closeMs += ms), () => sink.close()),
    };
  });
  try {
    const summary = await runPipeline({
      plan: compiled.plan,
      kernels: compiled.kernels,
      createOperator,
      trigger: { kind: "available_now" },
      cwd: dir,
      env: {},
      progress: (p) => progress.push(p),
      log: (line) => log.push(line),
    });
    for (const p of progress) {
      parts.checkpointMs += p.durationMs.walCommit + p.durationMs.commit;
      parts.operatorsMs += p.durationMs.addBatch;
    }
    parts.readOtherMs = readMs - parts.fetchMs - parts.decodeMs;
    parts.operatorsMs -= readMs + parts.sinkWriteMs;
    // `getOffset` is `latest()` and planning; `latest` was timed, planning is pure and small.
    parts.planMs = Math.max(parts.planMs, progress.reduce((n, p) => n + p.durationMs.getOffset, 0));
    return { summary, progress, parts, kept: kept.flatMap((k) => [...k.batches.keys()].sort((a, b) => a - b).map((id) => k.batches.get(id)!)), log };
  } finally {
    sourceFactories.set("kafka", originalSource);
    sinkFactories.set(compiled.sink, originalSink);
  }
}

// ---- checks ---------------------------------------------------------------------------------------

/** Every message read once, in batches of at most `maxPerBatch`, the kept rows written, nothing rejected, nothing logged. */
function checkSummary(run: StreamcRun, messages: number, keptRows: number, maxPerBatch: number): void {
  const { summary, progress } = run;
  const largest = Math.max(...progress.map((p) => p.numInputRows));
  if (summary.inputRows !== messages || summary.outputRows !== keptRows || Object.keys(summary.deadLetters).length > 0 || largest > maxPerBatch) {
    throw new Error(
      `kafka benchmark: the pipeline read ${summary.inputRows} rows in ${summary.batches} batches (the largest ${largest}) and wrote ${summary.outputRows}, rejects ${JSON.stringify(summary.deadLetters)}; expected ${messages} rows in batches of at most ${maxPerBatch}, ${keptRows} written, none rejected`,
    );
  }
  if (run.log.length > 0) throw new Error(`kafka benchmark: the pipeline logged (a retry or a warning makes its time meaningless):\n${run.log.join("\n")}`);
}

function expectChecksum(what: string, got: Checksum, expected: Checksum): void {
  if (!sameChecksum(got, expected)) throw new Error(`kafka benchmark: ${what} differs from the orders the filter keeps: ${checksumDiff(got, expected)}`);
}

/** The table read back two ways must hold exactly the kept orders. */
export async function checkTable(duck: Duck, dir: string, run: StreamcRun, messages: number, expected: { rows: number; checksum: Checksum }, maxPerBatch: number): Promise<{ verified: string; files: number; parquetBytes: number; logBytes: number }> {
  checkSummary(run, messages, expected.rows, maxPerBatch);
  const table = join(dir, "out", "large");
  expectChecksum("the table read back by readTable", checksumOfRows(KEPT_TERMS, readTable(table)), expected.checksum);
  const live = snapshot(table).files;
  const files = live.map((f) => quote(resolveDataPath(table, f.path)));
  const [row] = (await duck.runAndReadAll(checksumSql(KEPT_TERMS, `read_parquet([${files.join(", ")}])`))).getRowObjectsJS();
  expectChecksum("DuckDB's read_parquet over the table's live files", Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, String(v)])), expected.checksum);
  return {
    verified: `readTable = DuckDB over the ${files.length} live files = the ${expected.rows} orders with amount above the threshold (checksum equal)`,
    files: live.length,
    parquetBytes: live.reduce((n, f) => n + f.size, 0),
    logBytes: directoryBytes(join(table, "_delta_log")),
  };
}

export function checkKept(run: StreamcRun, messages: number, expected: { rows: number; checksum: Checksum }, maxPerBatch: number): string {
  checkSummary(run, messages, expected.rows, maxPerBatch);
  expectChecksum("the batches the sink was given", checksumOfRows(KEPT_TERMS, rowsOfBatches(run.kept)), expected.checksum);
  return `the sink's batches = the ${expected.rows} orders with amount above the threshold (checksum equal)`;
}
