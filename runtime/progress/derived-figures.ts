/**
 * Figures derived from batch progress that the progress itself does not hold: rates between
 * consecutive batches, and the watermark's lag behind the wall clock.
 *
 * Contract: `BatchRateTracker.next(progress)` takes each batch's progress in order and returns its rates:
 * - `inputRowsPerSecond` as Spark measures it: the batch's input rows over the time since the
 *   previous batch of this run started (each batch starts at `timestamp − durationMs.triggerExecution`),
 *   so it is the rate data arrives at, idle time included; for the first batch of a run, over the
 *   batch's own duration;
 * - `outputRowsPerSecond`: the rows every sink was given, over the same interval;
 * - `processedRowsPerSecond`: the progress's own (input rows over the batch's duration): how fast
 *   the pipeline works while it works. An input rate close to it means the pipeline barely keeps up.
 *
 * Decision: this lives here, not in the engine's progress, because `BatchProgress` keeps its
 * fields as the engine measures them (there `inputRowsPerSecond` equals `processedRowsPerSecond`);
 * the dashboard's script derives the same figures the same way.
 *
 * `watermarkLagSeconds(watermark, nowMs)`: wall clock minus the watermark (`eventTime.watermark`),
 * in seconds; undefined while there is no watermark. With event times from the past (a backfill,
 * the generator's 2024 timestamps) it is large and says how far behind real time the output is.
 */
import type { BatchProgress } from "../engine/pipeline.ts";

export interface BatchRates {
  inputRowsPerSecond: number;
  outputRowsPerSecond: number;
  processedRowsPerSecond: number;
}

export class BatchRateTracker {
  private previousStartMs: number | undefined;

  next(progress: BatchProgress): BatchRates {
    const durationMs = progress.durationMs.triggerExecution;
    const startMs = Date.parse(progress.timestamp) - durationMs;
    const intervalMs = this.previousStartMs === undefined || startMs <= this.previousStartMs ? durationMs : startMs - this.previousStartMs;
    this.previousStartMs = startMs;
    const seconds = Math.max(intervalMs, 1e-3) / 1000;
    const outputRows = progress.sink.reduce((sum, sink) => sum + sink.numOutputRows, 0);
    return {
      inputRowsPerSecond: progress.numInputRows / seconds,
      outputRowsPerSecond: outputRows / seconds,
      processedRowsPerSecond: progress.processedRowsPerSecond,
    };
  }
}

export function watermarkLagSeconds(watermark: string | undefined, nowMs: number): number | undefined {
  if (watermark === undefined) return undefined;
  const watermarkMs = Date.parse(watermark);
  return Number.isNaN(watermarkMs) ? undefined : (nowMs - watermarkMs) / 1000;
}
