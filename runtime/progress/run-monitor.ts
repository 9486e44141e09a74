/**
 * What a running pipeline shows about itself: its recent progress, its status and its metrics.
 *
 * Contract: one `RunMonitor` per run. `record(progress)` takes each batch's progress in order
 * (the engine's `RunOptions.progress`); it keeps the newest `historySize` (default 100), feeds
 * the metrics (metrics.ts) and derives the rates (derived-figures.ts). `markStopping()` when a
 * stop was asked for by a signal, `markStopped()` when the run ended (a `streamc stop` request
 * in the checkpoint shows as `stopping` too). `recent(afterBatchId)` is the kept
 * progress, oldest first, only batches after `afterBatchId` when given. `status()` is a JSON
 * snapshot (`RunStatus`) for `GET /status`. Nothing here blocks or throws while the run goes on.
 */
import { stopRequested } from "../checkpoint/run-file.ts";
import { checkpointDirOf, effectiveTrigger, type BatchProgress, type Trigger } from "../engine/pipeline.ts";
import type { PhysicalPlan } from "../plan.ts";
import type { RejectReason } from "../deadletter.ts";
import type { Environment } from "../sources/settings.ts";
import type { Offset } from "../sources/source.ts";
import { BatchRateTracker, watermarkLagSeconds, type BatchRates } from "./derived-figures.ts";
import { createPipelineMetrics, type PipelineMetrics } from "./metrics.ts";

export type RunState = "running" | "stopping" | "stopped";

/** `GET /status`. */
export interface RunStatus {
  pipeline: { name: string; /** The checkpoint's pipeline id (the name without a checkpoint); null before the first batch. */ id: string | null };
  /** This run's id (new each time the process starts); null before the first batch. */
  runId: string | null;
  state: RunState;
  startedAt: string;
  uptimeSeconds: number;
  trigger: { kind: Trigger["kind"]; /** `every` only. */ intervalMs?: number };
  checkpoint: string | null;
  /** Batches run by this process. */
  batches: number;
  lastBatch: {
    batchId: number;
    timestamp: string;
    numInputRows: number;
    numOutputRows: number;
    durationMs: number;
    inputRowsPerSecond: number;
    processedRowsPerSecond: number;
    outputRowsPerSecond: number;
  } | null;
  watermark: string | null;
  watermarkLagSeconds: number | null;
  sources: { name: string; description: string | null; offset: Offset | null; latestOffset: Offset | null; offsetsBehindLatest: number | null }[];
  stateOperators: { operatorName: string; numRowsTotal: number; memoryUsedBytes: number }[];
  /** Since this process started, by reason. */
  deadLetters: Partial<Record<RejectReason, number>>;
  /**
   * The newest operator-facing log lines (at most 20), oldest first: retries while a broker is
   * away, rejected records without a dead letter, state evolution. A pipeline that is retrying
   * shows it here while it waits.
   */
  recentLog: { time: string; line: string }[];
}

export interface RunDescription {
  plan: PhysicalPlan;
  trigger: Trigger;
  checkpoint: string | undefined;
}

export class RunMonitor {
  readonly metrics: PipelineMetrics;
  private readonly history: BatchProgress[] = [];
  private readonly rates = new BatchRateTracker();
  private lastRates: BatchRates | undefined;
  private readonly deadLetters: Partial<Record<RejectReason, number>> = {};
  private batches = 0;
  private state: RunState = "running";
  private readonly log: { time: string; line: string }[] = [];
  private readonly startedMs: number;

  constructor(
    private readonly run: RunDescription,
    private readonly historySize = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.startedMs = now();
    this.metrics = createPipelineMetrics({
      pipeline: run.plan.pipeline.name,
      sources: run.plan.sources.map((s) => s.id),
      sinks: run.plan.sinks.map((s) => s.id),
      triggerIntervalSeconds: run.trigger.kind === "every" ? run.trigger.micros / 1e6 : undefined,
      now,
    });
  }

  /** The rates of the batch just recorded, for the live status line. */
  record(progress: BatchProgress): BatchRates {
    const rates = this.rates.next(progress);
    this.lastRates = rates;
    this.batches++;
    this.history.push(progress);
    if (this.history.length > this.historySize) this.history.splice(0, this.history.length - this.historySize);
    for (const [reason, count] of Object.entries(progress.deadLetters) as [RejectReason, number][]) this.deadLetters[reason] = (this.deadLetters[reason] ?? 0) + count;
    this.metrics.record(progress, rates);
    return rates;
  }

  markStopping(): void {
    if (this.state === "running") this.state = "stopping";
  }

  markStopped(): void {
    this.state = "stopped";
  }

  /** Keeps an operator-facing log line for `/status` (the newest 20). */
  noteLog(line: string): void {
    this.log.push({ time: new Date(this.now()).toISOString(), line });
    if (this.log.length > 20) this.log.splice(0, this.log.length - 20);
  }

  recent(afterBatchId?: number): BatchProgress[] {
    return afterBatchId === undefined ? [...this.history] : this.history.filter((p) => p.batchId > afterBatchId);
  }

  status(): RunStatus {
    const last = this.history[this.history.length - 1];
    const rates = this.lastRates;
    const nowMs = this.now();
    const trigger = this.run.trigger;
    const lag = watermarkLagSeconds(last?.eventTime.watermark, nowMs);
    return {
      pipeline: { name: this.run.plan.pipeline.name, id: last?.id ?? null },
      runId: last?.runId ?? null,
      state: this.state === "running" && this.run.checkpoint !== undefined && stopRequested(this.run.checkpoint) ? "stopping" : this.state,
      startedAt: new Date(this.startedMs).toISOString(),
      uptimeSeconds: (nowMs - this.startedMs) / 1000,
      trigger: trigger.kind === "every" ? { kind: "every", intervalMs: trigger.micros / 1000 } : { kind: trigger.kind },
      checkpoint: this.run.checkpoint ?? null,
      batches: this.batches,
      lastBatch: last && rates
        ? {
            batchId: last.batchId,
            timestamp: last.timestamp,
            numInputRows: last.numInputRows,
            numOutputRows: last.sink.reduce((sum, s) => sum + s.numOutputRows, 0),
            durationMs: last.durationMs.triggerExecution,
            inputRowsPerSecond: rates.inputRowsPerSecond,
            processedRowsPerSecond: rates.processedRowsPerSecond,
            outputRowsPerSecond: rates.outputRowsPerSecond,
          }
        : null,
      watermark: last?.eventTime.watermark ?? null,
      watermarkLagSeconds: lag ?? null,
      sources: this.run.plan.sources.map((spec) => {
        const source = last?.sources.find((s) => s.name === spec.id);
        return {
          name: spec.id,
          description: source?.description ?? null,
          offset: source?.endOffset ?? null,
          latestOffset: source?.latestOffset ?? null,
          offsetsBehindLatest: source?.metrics.offsetsBehindLatest ?? null,
        };
      }),
      stateOperators: (last?.stateOperators ?? []).map((o) => ({ operatorName: o.operatorName, numRowsTotal: o.numRowsTotal, memoryUsedBytes: o.memoryUsedBytes })),
      deadLetters: { ...this.deadLetters },
      recentLog: [...this.log],
    };
  }
}

export { effectiveTrigger };

/** The checkpoint directory a run uses (pipeline.ts `checkpointDirOf`); undefined when it cannot be resolved: the engine reports that when it starts. */
export function effectiveCheckpoint(plan: PhysicalPlan, override: string | undefined, cwd: string, env: Environment): string | undefined {
  try {
    return checkpointDirOf(plan, override, cwd, env);
  } catch {
    return undefined;
  }
}
