/**
 * Benchmark (f): what a checkpoint costs per batch. One pipeline, run through `runPipeline` for a
 * fixed number of batches, with and without a checkpoint directory; everything else is the same.
 *
 * The pipeline (`overheadProgram`): Parquet files (one per batch, `max_files_per_batch = 1`) →
 *   - a stateful branch: `watermark ts delay 1m | window tumbling 1h | aggregate n = count(),
 *     total = sum(amount) by key`, whose `GROUPS` keys all occur in every batch and whose one
 *     window stays open for the whole run (event time advances 10 s a batch), so the operator
 *     holds exactly `GROUPS` groups from the first batch on, and every batch snapshots them all;
 *   - a stateless branch: `where amount > 90 | select key, user, gross = amount * 1.25, ts` (about
 *     10% of the rows) → a Parquet `files` sink (one fsynced file per batch, in both variants).
 * `retain_batches = 10`, so that most batches of the run are in the steady state where each
 * commit also deletes the oldest retained batch (the default, 100, would not reach it).
 *
 * Contract:
 * - `writeOverheadInput(dir, shape)` writes `DIR/in/part-NNNNN.parquet`, deterministic.
 * - `runOverhead(dir, compiled, checkpoint)` is one run, with a fresh `DIR/out` (and checkpoint);
 *   it returns the run's summary, every batch's progress, and — measured inside the real path —
 *   what each checkpoint step cost: `CheckpointStore` methods are wrapped with timers for the
 *   run (opening it, offsets, state file, commit file, cleanup, progress line) and every operator's
 *   `snapshot` is timed through the `createOperator` factory the pipeline is given. The wrappers
 *   only time; they call the real methods with the same arguments.
 * - `checkOverheadRun` checks a run: the stateless branch's files hold exactly the rows DuckDB
 *   computes from the input (count and exact checksum), and a checkpointed run's last commit is
 *   batch BATCHES − 1 with `GROUPS` rows of state.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadKernelModule } from "../../compiler/bundle.ts";
import { compileProgram } from "../../compiler/compile-program.ts";
import { formatDiagnostics } from "../../compiler/diagnostics.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { columnBuilder } from "../../runtime/columnar/builder.ts";
import { CheckpointStore, type CommitEntry } from "../../runtime/checkpoint/store.ts";
import { type BatchProgress, runPipeline, type RunSummary } from "../../runtime/engine/pipeline.ts";
import type { KernelModule } from "../../runtime/kernel.ts";
import type { OperatorFactory } from "../../runtime/operators/operator.ts";
import { createOperator } from "../../runtime/operators/registry.ts";
import type { PhysicalPlan, Schema } from "../../runtime/plan.ts";
import { encodeParquet } from "../../runtime/sinks/files.ts";
import { type Duck, quote } from "./support.ts";

/** 2024-01-01T00:00:00Z in microseconds: the start of the one open window. */
const T0 = 1_704_067_200_000_000;
const SECOND = 1_000_000;
/** Event time each batch advances. */
export const BATCH_EVENT_TIME = 10 * SECOND;
export const RETAIN_BATCHES = 10;

export interface OverheadShape {
  batches: number;
  rowsPerBatch: number;
  groups: number;
}

export const OVERHEAD_SCHEMA: Schema = {
  fields: [
    { name: "key", type: { kind: "string" }, nullable: false },
    { name: "user", type: { kind: "long" }, nullable: false },
    { name: "amount", type: { kind: "double" }, nullable: false },
    { name: "ts", type: { kind: "timestamp" }, nullable: false },
  ],
};

export const OVERHEAD_PROGRAM = [
  `pipeline bench_checkpoint { retain_batches = ${RETAIN_BATCHES} }`,
  "schema Event { key: string, user: long, amount: double, ts: timestamp }",
  'source events: Event = files "in" { format = parquet, max_files_per_batch = 1 }',
  "stream totals = events",
  "  | watermark ts delay 1m",
  "  | window tumbling 1h",
  "  | aggregate n = count(), total = sum(amount) by key",
  "stream large = events",
  "  | where amount > 90",
  "  | select key, user, gross = amount * 1.25, ts",
  'sink totals -> files "out/totals" { format = json }',
  'sink large -> files "out/large" { format = parquet }',
  "",
].join("\n");

export interface Compiled {
  plan: PhysicalPlan;
  kernels: KernelModule;
}

export async function compileOverheadProgram(): Promise<Compiled> {
  const { compiled, diagnostics } = compileProgram(OVERHEAD_PROGRAM, undefined);
  if (!compiled) throw new Error(`the checkpoint benchmark's program does not compile:\n${formatDiagnostics("bench_checkpoint.stream", OVERHEAD_PROGRAM, diagnostics)}`);
  return { plan: compiled.plan, kernels: await loadKernelModule(compiled.kernelSource, { sourcePath: undefined }) };
}

/** Batch b, row i: every one of `groups` keys occurs in every batch (i·7 mod groups is a permutation when rows ≥ groups), amounts in steps of 1/8 (exact sums). */
function overheadBatch(shape: OverheadShape, b: number): Batch {
  const n = shape.rowsPerBatch;
  const [key, user, amount, ts] = OVERHEAD_SCHEMA.fields.map((f) => columnBuilder(f, n));
  for (let i = 0; i < n; i++) {
    key!.append(`key-${String((i * 7 + b) % shape.groups).padStart(6, "0")}`);
    user!.append(1 + ((i * 2_654_435_761 + b * 40_503) % 1_000_000));
    amount!.append(((i * 37 + b * 11) % 800) / 8);
    ts!.append(T0 + b * BATCH_EVENT_TIME + Math.floor((i * BATCH_EVENT_TIME) / n));
  }
  return { schema: OVERHEAD_SCHEMA, length: n, columns: [key!.finish(), user!.finish(), amount!.finish(), ts!.finish()] };
}

/** Writes the input files; returns their total size in bytes. */
export function writeOverheadInput(dir: string, shape: OverheadShape): number {
  const inDir = join(dir, "in");
  mkdirSync(inDir, { recursive: true });
  let bytes = 0;
  for (let b = 0; b < shape.batches; b++) {
    const encoded = encodeParquet(OVERHEAD_SCHEMA, [overheadBatch(shape, b)]);
    writeFileSync(join(inDir, `part-${String(b).padStart(5, "0")}.parquet`), encoded);
    bytes += encoded.length;
  }
  return bytes;
}

// ---- measuring the checkpoint's steps inside the real path ------------------------------------------

/** Time and bytes of each checkpoint step, summed over one run. */
export interface CheckpointCosts {
  /** Opening the checkpoint when the run starts: create or read it, check and record the plan (once a run). */
  startMs: number;
  offsetsMs: number;
  snapshotMs: number;
  stateWriteMs: number;
  stateBytes: number;
  stateFiles: number;
  commitWriteMs: number;
  cleanupMs: number;
  progressMs: number;
}

const emptyCosts = (): CheckpointCosts => ({ startMs: 0, offsetsMs: 0, snapshotMs: 0, stateWriteMs: 0, stateBytes: 0, stateFiles: 0, commitWriteMs: 0, cleanupMs: 0, progressMs: 0 });

let costs: CheckpointCosts = emptyCosts();

type Timed = "recover" | "readPlan" | "writePlan" | "writeOffsets" | "writeState" | "writeCommit" | "cleanup" | "appendProgress";
const STEP: Record<Timed, keyof CheckpointCosts> = {
  recover: "startMs",
  readPlan: "startMs",
  writePlan: "startMs",
  writeOffsets: "offsetsMs",
  writeState: "stateWriteMs",
  writeCommit: "commitWriteMs",
  cleanup: "cleanupMs",
  appendProgress: "progressMs",
};

/** Wraps the store's writing methods with timers (once, for the whole process). */
function instrumentStore(): void {
  const proto = CheckpointStore.prototype as unknown as Record<Timed, (...args: unknown[]) => Promise<unknown>>;
  for (const method of Object.keys(STEP) as Timed[]) {
    const original = proto[method];
    proto[method] = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const started = performance.now();
      try {
        return await original.apply(this, args);
      } finally {
        costs[STEP[method]] += performance.now() - started;
        if (method === "writeState") {
          costs.stateBytes += (args[2] as Uint8Array).length;
          costs.stateFiles++;
        }
      }
    };
  }
  const open = CheckpointStore.open.bind(CheckpointStore);
  CheckpointStore.open = async (dir: string, name: string) => {
    const started = performance.now();
    try {
      return await open(dir, name);
    } finally {
      costs.startMs += performance.now() - started;
    }
  };
}
instrumentStore();

/** `createOperator`, with every operator's `snapshot` timed. */
const timedCreateOperator: OperatorFactory = (node, ctx) => {
  const operator = createOperator(node, ctx);
  const snapshot = operator.snapshot.bind(operator);
  operator.snapshot = () => {
    const started = performance.now();
    const bytes = snapshot();
    costs.snapshotMs += performance.now() - started;
    return bytes;
  };
  return operator;
};

// ---- one run ----------------------------------------------------------------------------------

export interface OverheadRun {
  summary: RunSummary;
  progress: BatchProgress[];
  costs: CheckpointCosts;
}

export function checkpointDir(dir: string): string {
  return join(dir, "checkpoint");
}

/** Removes the output and the checkpoint of the last run (untimed), and what `setAsideOverhead` moved. */
export function resetOverhead(dir: string): void {
  rmSync(join(dir, "out"), { recursive: true, force: true });
  rmSync(checkpointDir(dir), { recursive: true, force: true });
  rmSync(join(dir, "aside"), { recursive: true, force: true });
}

/** Moves the output and the checkpoint of the last run out of the way (a rename: cheap, so it can run under the profiler). */
export function setAsideOverhead(dir: string, run: number): void {
  mkdirSync(join(dir, "aside"), { recursive: true });
  for (const name of ["out", "checkpoint"]) {
    if (existsSync(join(dir, name))) renameSync(join(dir, name), join(dir, "aside", `${run}-${name}`));
  }
}

export async function runOverhead(dir: string, compiled: Compiled, shape: OverheadShape, withCheckpoint: boolean): Promise<OverheadRun> {
  costs = emptyCosts();
  const progress: BatchProgress[] = [];
  const summary = await runPipeline({
    plan: compiled.plan,
    kernels: compiled.kernels,
    createOperator: timedCreateOperator,
    // Back to back, exactly one input file a batch; no final batch without data.
    trigger: { kind: "continuous" },
    maxBatches: shape.batches,
    cwd: dir,
    env: {},
    ...(withCheckpoint ? { checkpoint: checkpointDir(dir) } : {}),
    progress: (p) => progress.push(p),
    log: (line) => {
      throw new Error(`the checkpoint benchmark's pipeline logged: ${line}`);
    },
  });
  return { summary, progress, costs };
}

// ---- checks -------------------------------------------------------------------------------------

/** Exact sums over the stateless branch's rows (amounts are multiples of 1/8, so gross · 32 is an integer). */
const LARGE_SUMS: Record<string, string> = {
  rows: "1",
  key: "CAST(substr(key, 5) AS BIGINT)",
  user: "user",
  gross_x32: "CAST(gross * 32 AS BIGINT)",
  ts_us: `epoch_us(ts) - ${T0}`,
};

async function duckChecksum(duck: Duck, from: string): Promise<Record<string, string>> {
  const columns = Object.entries(LARGE_SUMS).map(([name, sql]) => `coalesce(sum(CAST(${sql} AS HUGEINT)), 0)::VARCHAR AS "${name}"`);
  const [row] = (await duck.runAndReadAll(`SELECT ${columns.join(", ")} FROM ${from}`)).getRowObjectsJS();
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, String(v)]));
}

/** The stateless branch's result as DuckDB computes it from the input files. */
export function expectedLarge(duck: Duck, dir: string): Promise<Record<string, string>> {
  return duckChecksum(duck, `(SELECT key, user, amount * 1.25 AS gross, ts FROM read_parquet(${quote(join(dir, "in", "*.parquet"))}) WHERE amount > 90)`);
}

/** Throws unless the run wrote what it should; returns what it checked. */
export async function checkOverheadRun(duck: Duck, dir: string, shape: OverheadShape, run: OverheadRun, withCheckpoint: boolean, expected: Record<string, string>): Promise<string> {
  const rows = shape.batches * shape.rowsPerBatch;
  if (run.summary.batches !== shape.batches || run.summary.inputRows !== rows || Object.keys(run.summary.deadLetters).length > 0) {
    throw new Error(`checkpoint benchmark: ran ${run.summary.batches} batches over ${run.summary.inputRows} rows (expected ${shape.batches} over ${rows}), rejects ${JSON.stringify(run.summary.deadLetters)}`);
  }
  const written = await duckChecksum(duck, `read_parquet(${quote(join(dir, "out", "large", "*.parquet"))})`);
  for (const [term, value] of Object.entries(expected)) {
    if (written[term] !== value) throw new Error(`checkpoint benchmark: the stateless branch wrote ${term} = ${written[term]}, DuckDB computes ${value} from the input`);
  }
  const stateRows = run.progress.at(-1)!.stateOperators.reduce((n, s) => n + s.numRowsTotal, 0);
  if (stateRows !== shape.groups) throw new Error(`checkpoint benchmark: the aggregate holds ${stateRows} groups after the run, expected ${shape.groups}`);
  let checked = `stateless output = DuckDB over the input (${expected["rows"]} rows, checksum equal); ${shape.groups} groups in state`;
  if (withCheckpoint) {
    const last = shape.batches - 1;
    const commit = JSON.parse(await readFile(join(checkpointDir(dir), "commits", `${last}.json`), "utf8")) as CommitEntry;
    const saved = Object.values(commit.state);
    if (saved.length !== 1 || saved[0]!.rows !== shape.groups) throw new Error(`checkpoint benchmark: commit ${last} holds state ${JSON.stringify(saved)}, expected one operator with ${shape.groups} rows`);
    const retained = readdirSync(join(checkpointDir(dir), "commits")).filter((n) => n.endsWith(".json")).length;
    if (retained !== Math.min(RETAIN_BATCHES, shape.batches)) throw new Error(`checkpoint benchmark: ${retained} commits retained, expected ${RETAIN_BATCHES}`);
    checked += `; commit ${last} saves ${shape.groups} state rows, ${retained} batches retained`;
  }
  return checked;
}
