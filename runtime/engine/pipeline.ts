/**
 * The micro-batch loop: trigger → plan each source's range → read and decode → operators → sinks
 * → dead letter → next watermark → progress.
 *
 * Contract: a batch's ranges are fixed before it is read and are deterministic to re-read, so a
 * batch can be replayed. With a checkpoint (the pipeline's `checkpoint` option, or
 * `RunOptions.checkpoint`), batch N's ranges and watermark go to `offsets/N` before it reads
 * anything, and `commits/N` follows once every sink has written it (checkpointing.ts); a restart
 * resumes after the last commit and first replays an uncommitted batch exactly as recorded.
 * Batch N runs under the watermark computed after batch N−1. `available_now` processes everything available when it
 * starts, then runs one batch without data so the last watermark closes what it can, then stops;
 * `once` runs one batch with everything available; `every D` starts a batch every D (a batch
 * that overruns starts the next at once); without a trigger, batches run back to back, polling
 * idle sources every `idlePollMs`. Rejected records go to the dead letter sink, or are counted and
 * the first few logged when there is none; the pipeline never stops for a bad record.
 */
import type { Batch } from "../columnar/batch.ts";
import { concatBatches, emptyBatch } from "../columnar/batch-ops.ts";
import { countByReason, lateRejects, rejectsToBatch, type RejectedRecord, type RejectReason } from "../deadletter.ts";
import type { KernelModule } from "../kernel.ts";
import type { LateRows, OperatorFactory } from "../operators/operator.ts";
import type { PhysicalPlan, StringSetting } from "../plan.ts";
import { createSink, deadLetterSink } from "../sinks/index.ts";
import type { TextOutput } from "../sinks/console.ts";
import type { Sink } from "../sinks/sink.ts";
import { createSource } from "../sources/index.ts";
import type { Environment } from "../sources/settings.ts";
import type { Offset, Range, Source } from "../sources/source.ts";
import { formatTimestampMicros } from "../time.ts";
import { randomUUID } from "node:crypto";
import { resolvePath } from "../sources/settings.ts";
import type { CheckpointStore } from "../checkpoint/store.ts";
import { releaseRun, stopRequested } from "../checkpoint/run-file.ts";
import { commitBatch, startFromCheckpoint } from "./checkpointing.ts";
import { Dataflow } from "./dataflow.ts";
import { EventTimeTracker } from "./event-time-tracker.ts";
import { describeFailure, type Place } from "./failure.ts";

export type Trigger =
  | { kind: "once" }
  | { kind: "available_now" }
  | { kind: "every"; micros: number }
  /** No trigger option: batches back to back. */
  | { kind: "continuous" };

export interface RunOptions {
  plan: PhysicalPlan;
  kernels: KernelModule;
  createOperator: OperatorFactory;
  /** Overrides the pipeline's `trigger` option. */
  trigger?: Trigger;
  maxBatches?: number;
  cwd: string;
  env: Environment;
  stdout?: TextOutput;
  /** Operator-facing log lines (rejected records without a dead letter, ...). */
  log?: (line: string) => void;
  progress?: (progress: BatchProgress) => void;
  /** Stops the loop after the batch in flight. */
  signal?: AbortSignal;
  idlePollMs?: number;
  /** The checkpoint directory; overrides the pipeline's `checkpoint` option. */
  checkpoint?: string;
  /** Stateful operators to start empty instead of from the checkpoint (`--drop-state`). */
  dropState?: readonly string[];
  /** Decoders' record size limit: larger records are rejected as `too_large` (default 8 MiB). */
  maxRecordBytes?: number;
}

/** One batch's progress, with Spark's `StreamingQueryProgress` names (a subset for now). */
export interface BatchProgress {
  /** The pipeline's id (the checkpoint's; the name without one). */
  id: string;
  /** This run's id: new each time the process starts. */
  runId: string;
  name: string;
  batchId: number;
  timestamp: string;
  numInputRows: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
  durationMs: { getOffset: number; walCommit: number; addBatch: number; commit: number; triggerExecution: number };
  eventTime: { watermark: string | undefined };
  stateOperators: { operatorName: string; numRowsTotal: number; numRowsUpdated: number; numRowsDroppedByWatermark: number; memoryUsedBytes: number }[];
  sources: {
    /** The source's name in the program (not in Spark's progress). */
    name: string;
    description: string;
    startOffset: Offset | null;
    endOffset: Offset | null;
    latestOffset: Offset | null;
    numInputRows: number;
    metrics: { offsetsBehindLatest: number };
  }[];
  sink: { description: string; numOutputRows: number }[];
  deadLetters: Partial<Record<RejectReason, number>>;
}

export interface RunSummary {
  batches: number;
  inputRows: number;
  outputRows: number;
  deadLetters: Partial<Record<RejectReason, number>>;
}

const REJECTS_LOGGED = 5;

export async function runPipeline(options: RunOptions): Promise<RunSummary> {
  try {
    return await runBatches(options);
  } catch (error) {
    throw describeFailure(error, placesOf(options));
  }
}

/** Where the pipeline writes, for failure messages (failure.ts). */
function placesOf(options: RunOptions): Place[] {
  const { plan, cwd, env } = options;
  const places: Place[] = [];
  const add = (what: string, target: StringSetting | undefined, setting: string) => {
    if (!target) return;
    try {
      places.push({ what, dir: resolvePath(target, cwd, env), setting });
    } catch {
      // An unresolvable target failed the run before anything was written.
    }
  };
  try {
    const checkpoint = checkpointDirOf(plan, options.checkpoint, cwd, env);
    if (checkpoint) places.push({ what: "the checkpoint", dir: checkpoint, setting: options.checkpoint ? "--checkpoint" : "the pipeline's checkpoint option" });
  } catch {
    // An unresolvable checkpoint failed the run before anything was written.
  }
  for (const sink of plan.sinks) if (sink.connector === "table" || sink.connector === "files") add(`${sink.connector} sink ${sink.id}`, sink.target, `the target of sink ${sink.id}`);
  const deadletter = plan.pipeline.options["deadletter"];
  if (deadletter?.kind === "connector") add("the dead letter", deadletter.target, "the pipeline's deadletter option");
  return places;
}

async function runBatches(options: RunOptions): Promise<RunSummary> {
  const { plan } = options;
  const trigger = effectiveTrigger(plan, options.trigger);
  const lookupSources = new Set(plan.nodes.flatMap((n) => (n.kind === "join" && n.mode === "lookup" ? [n.inputs[1]!] : [])));
  const dropLate = plan.pipeline.options["late"]?.kind === "word" && plan.pipeline.options["late"].word === "drop";
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));

  let lateThisBatch: RejectedRecord[] = [];
  /** Late rows dropped (`late = drop`) in this batch: counted, never materialised. */
  let lateDropped = 0;
  const late: LateRows = {
    reject: (operatorId, batch, rows) => {
      if (dropLate) {
        lateDropped += rows.length;
        return;
      }
      lateThisBatch.push(...lateRejects(operatorId, batch, rows, Date.now() * 1000, dataflow.currentWatermark));
    },
  };
  const dataflow = new Dataflow(plan, options.kernels, options.createOperator, late);
  const checkpointDir = checkpointDirOf(plan, options.checkpoint, options.cwd, options.env);
  const runId = randomUUID();
  const eventTime = new EventTimeTracker(plan);
  const checkpoint = checkpointDir === undefined
    ? undefined
    : await startFromCheckpoint({ dir: checkpointDir, plan, dataflow, cwd: options.cwd, env: options.env, dropState: new Set(options.dropState ?? []), runId, eventTime });
  /** True once the run must end after the batch in flight: a signal, or `streamc stop`. */
  const stopping = (): boolean => options.signal?.aborted === true || (checkpointDir !== undefined && stopRequested(checkpointDir));
  if (checkpoint?.evolved && checkpoint.report) log(`${plan.pipeline.name}: the program changed since the checkpoint's last run; its state evolves:\n${checkpoint.report}`);
  const store: CheckpointStore | undefined = checkpoint?.store;
  const retainBatches = integerOption(plan, "retain_batches") ?? 100;
  const pipelineId = store?.metadata.id ?? plan.pipeline.name;
  const sources = plan.sources.map((spec) =>
    createSource(spec, { cwd: options.cwd, env: options.env, bounded: lookupSources.has(spec.id), pipelineId, log, ...(options.maxRecordBytes ? { maxRecordBytes: options.maxRecordBytes } : {}) }),
  );
  const sinkContext = { cwd: options.cwd, env: options.env, pipelineId, kernels: options.kernels, log, ...(options.stdout ? { stdout: options.stdout } : {}) };
  const sinks = plan.sinks.map((spec) => ({ spec, sink: createSink(spec, sinkContext) }));
  const deadLetter = deadLetterSink(plan.pipeline.options["deadletter"], sinkContext);

  const offsets = new Map<string, Offset | undefined>();
  for (const source of sources) {
    // A lookup join's table is read whole by each run (and with a replayed batch): its rows are
    // join state that the checkpoint does not hold.
    const resume = lookupSources.has(source.id) ? undefined : checkpoint?.resume.get(source.id);
    await source.open(resume);
    offsets.set(source.id, resume);
  }

  const summary: RunSummary = { batches: 0, inputRows: 0, outputRows: 0, deadLetters: {} };
  let rejectsLogged = 0;
  let finalBatchDone = false;
  let lastRunWatermark = checkpoint ? checkpoint.lastRunWatermark : dataflow.currentWatermark;
  let batchId = checkpoint?.nextBatchId ?? 0;
  let replay = checkpoint?.replay;
  let firstBatchOfRun = true;
  /** When the last batch that ran started (`performance.now()`), for `inputRowsPerSecond`. */
  let lastBatchStart: number | undefined;
  const startLatest = new Map<Source, Offset>();
  const statefulIds = new Set(plan.state.map((s) => s.operatorId));
  try {
    while (!stopping() && (options.maxBatches === undefined || summary.batches < options.maxBatches)) {
      const started = performance.now();
      const previousStart = lastBatchStart;
      const ranges = new Map<Source, Range>();
      const behind = new Map<Source, number>();
      const latestOffsets = new Map<Source, Offset>();
      const startOffsets = new Map<Source, Offset | undefined>(sources.map((s) => [s, offsets.get(s.id)]));
      for (const source of sources) {
        if (replay && !lookupSources.has(source.id)) {
          // The batch a crash interrupted: the same ranges, under the same watermark (already set).
          const range = replay.ranges[source.id];
          if (range !== undefined) ranges.set(source, range);
        } else {
          // `available_now` drains what was there when it started, so it ends even while data keeps coming.
          const latest = trigger.kind === "available_now" ? (startLatest.get(source) ?? (await source.latest())) : await source.latest();
          if (trigger.kind === "available_now") startLatest.set(source, latest);
          latestOffsets.set(source, latest);
          const from = offsets.get(source.id);
          const range = source.plan(from, { latest, ...(trigger.kind === "once" ? { uncapped: true } : {}) });
          if (range !== undefined) ranges.set(source, range);
          behind.set(source, source.behind(range === undefined ? from : source.end(range), latest));
        }
      }
      const getOffset = performance.now() - started;
      const watermarkMoved = dataflow.currentWatermark > lastRunWatermark;
      if (!replay && ranges.size === 0 && !(trigger.kind === "once" && firstBatchOfRun)) {
        if (trigger.kind === "available_now" || trigger.kind === "once") {
          // One batch without data lets the final watermark close windows, then stop; as in Spark,
          // it runs only when the watermark moved and some operator keeps state.
          if (trigger.kind === "once" || finalBatchDone || !watermarkMoved || !hasStatefulNodes(plan)) break;
          finalBatchDone = true;
        } else if (!watermarkMoved) {
          await sleep(trigger.kind === "every" ? trigger.micros / 1000 : options.idlePollMs ?? 100, stopping);
          continue;
        }
      }
      firstBatchOfRun = false;
      lastBatchStart = started;
      for (const [source, range] of ranges) offsets.set(source.id, source.end(range));
      if (store && !replay) {
        await store.writeOffsets({
          batchId,
          watermark: Number.isFinite(dataflow.currentWatermark) ? dataflow.currentWatermark : null,
          ranges: Object.fromEntries([...ranges].map(([source, range]) => [source.id, range])),
          offsets: Object.fromEntries(sources.map((s) => [s.id, offsets.get(s.id) ?? null])),
          timestamp: new Date().toISOString(),
        });
      }
      replay = undefined;
      const walCommit = performance.now() - started - getOffset;

      const sourceRows = new Map<string, Batch[]>();
      const rejects: RejectedRecord[] = [];
      const perSource = new Map<Source, number>();
      for (const [source, range] of ranges) {
        const result = await source.read(range);
        sourceRows.set(source.id, [result.batch]);
        eventTime.observe(source.id, result.batch, result.segments, batchId);
        rejects.push(...result.rejects);
        perSource.set(source, result.batch.length);
      }
      const numInputRows = [...perSource.values()].reduce((a, b) => a + b, 0);
      lateThisBatch = [];
      lateDropped = 0;
      lastRunWatermark = dataflow.currentWatermark;
      const { outputs } = dataflow.runBatch(sourceRows);

      const sinkRows: BatchProgress["sink"] = [];
      for (const { spec, sink } of sinks) {
        const batch = concatBatches(spec.schema, outputs.get(spec.input) ?? [emptyBatch(spec.schema)]);
        await sink.write(batchId, batch, spec.mode);
        sinkRows.push({ description: spec.id, numOutputRows: batch.length });
        summary.outputRows += batch.length;
      }
      const allRejects = [...rejects, ...lateThisBatch];
      if (deadLetter && allRejects.length > 0) await deadLetter.write(batchId, rejectsToBatch(batchId, allRejects), "append");
      if (!deadLetter) {
        for (const reject of allRejects.slice(0, Math.max(0, REJECTS_LOGGED - rejectsLogged))) {
          log(`rejected (${reject.reason}) from ${reject.source}: ${reject.detail}`);
          rejectsLogged++;
        }
      }
      const counts = countByReason(allRejects);
      if (lateDropped > 0) counts.late = (counts.late ?? 0) + lateDropped;
      for (const [reason, n] of Object.entries(counts) as [RejectReason, number][]) summary.deadLetters[reason] = (summary.deadLetters[reason] ?? 0) + n;

      dataflow.advanceWatermark();
      const addBatchEnd = performance.now();
      if (store) await commitBatch(store, plan, dataflow, batchId, retainBatches, eventTime);
      const triggerExecution = performance.now() - started;
      summary.batches++;
      summary.inputRows += numInputRows;
      const progress: BatchProgress = {
        id: pipelineId,
        runId,
        name: plan.pipeline.name,
        batchId,
        timestamp: new Date().toISOString(),
        numInputRows,
        // As Spark: input over the time since the previous batch started; processed: over this batch's work.
        inputRowsPerSecond: numInputRows / Math.max((previousStart === undefined ? triggerExecution : started - previousStart) / 1000, 1e-9),
        processedRowsPerSecond: numInputRows / Math.max(triggerExecution / 1000, 1e-9),
        durationMs: {
          getOffset: round(getOffset),
          walCommit: round(walCommit),
          addBatch: round(addBatchEnd - started - getOffset - walCommit),
          commit: round(performance.now() - addBatchEnd),
          triggerExecution: round(triggerExecution),
        },
        eventTime: { watermark: Number.isFinite(lastRunWatermark) ? formatTimestampMicros(lastRunWatermark) : undefined },
        stateOperators: dataflow.metrics().filter((m) => statefulIds.has(m.id)).map(({ id, metrics }) => ({
          operatorName: id,
          numRowsTotal: metrics.stateRows,
          numRowsUpdated: metrics.stateRowsUpdated,
          numRowsDroppedByWatermark: metrics.droppedByWatermark,
          memoryUsedBytes: metrics.memoryBytes,
        })),
        sources: sources.map((s) => ({
          name: s.id,
          description: s.description,
          startOffset: startOffsets.get(s) ?? null,
          endOffset: offsets.get(s.id) ?? null,
          latestOffset: latestOffsets.get(s) ?? null,
          numInputRows: perSource.get(s) ?? 0,
          metrics: { offsetsBehindLatest: behind.get(s) ?? 0 },
        })),
        sink: sinkRows,
        deadLetters: counts,
      };
      if (store) await store.appendProgress(progress);
      options.progress?.(progress);
      batchId++;
      if (trigger.kind === "once") break;
      if (trigger.kind === "every") await sleep(Math.max(0, trigger.micros / 1000 - triggerExecution), stopping);
    }
    await store?.settle();
  } finally {
    for (const source of sources) await source.close();
    for (const { sink } of sinks) await sink.close();
    await deadLetter?.close();
    if (checkpointDir !== undefined && checkpoint) releaseRun(checkpointDir, runId);
  }
  return summary;
}

/**
 * The checkpoint directory a run uses: `override` (`--checkpoint`), else the pipeline's
 * `checkpoint` option resolved against `cwd`; undefined without either. Throws for an `env(...)`
 * that is unset and has no default.
 */
export function checkpointDirOf(plan: PhysicalPlan, override: string | undefined, cwd: string, env: Environment): string | undefined {
  if (override !== undefined) return override;
  const option = plan.pipeline.options["checkpoint"];
  if (option === undefined) return undefined;
  if (option.kind !== "string") throw new Error(`option checkpoint: expected a path, the plan has ${option.kind}`);
  return resolvePath(option.value, cwd, env);
}

function integerOption(plan: PhysicalPlan, name: string): number | undefined {
  const option = plan.pipeline.options[name];
  return option?.kind === "integer" ? option.value : undefined;
}

/** The trigger a run uses: `override` (`--trigger`), else the pipeline's `trigger` option; batches back to back without either. */
export function effectiveTrigger(plan: PhysicalPlan, override: Trigger | undefined): Trigger {
  if (override) return override;
  const option = plan.pipeline.options["trigger"];
  if (option?.kind === "every") return { kind: "every", micros: option.micros };
  if (option?.kind === "word" && (option.word === "once" || option.word === "available_now")) return { kind: option.word };
  return { kind: "continuous" };
}

/** Operators whose state the watermark expires (a lookup join's table is not). */
function hasStatefulNodes(plan: PhysicalPlan): boolean {
  return plan.nodes.some((n) => n.kind === "aggregate" || n.kind === "dedup" || (n.kind === "join" && n.mode === "interval"));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Waits `ms`, or less when `stopping()` turns true (checked every 100 ms). */
async function sleep(ms: number, stopping: () => boolean): Promise<void> {
  const until = performance.now() + ms;
  while (!stopping()) {
    const left = until - performance.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, 100)));
  }
}

export type { Sink };
