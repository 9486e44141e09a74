/**
 * Figures derived from batch progress that the progress itself does not hold: the output rate
 * between consecutive batches, and the watermark's lag behind the wall clock.
 *
 * Contract: `BatchRateTracker.next(progress)` takes each batch's progress in order and returns its rates:
 * - `inputRowsPerSecond` and `processedRowsPerSecond`: the progress's own, as Spark measures them
 *   (input rows over the time since the previous batch of this run started, idle time included;
 *   input rows over the batch's own duration). An input rate close to the processing rate means
 *   the pipeline barely keeps up;
 * - `outputRowsPerSecond`: the rows every sink was given, over the time since the previous batch
 *   started (each batch starts at `timestamp − durationMs.triggerExecution`).
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
      inputRowsPerSecond: progress.inputRowsPerSecond,
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
