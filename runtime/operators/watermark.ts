/**
 * `watermark COLUMN delay D`: declares the event time; rows pass through unchanged.
 *
 * Contract: stateless for checkpoints (the engine records the watermark in `offsets/N` and each
 * node's largest event time in `commits/N`); the operator only observes the largest event time
 * that has passed through it.
 */
import type { NodeSpec } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import type { Emit, Operator, OperatorContext, OperatorMetrics } from "./operator.ts";
import { columnIndex, eventTimes } from "./event-time.ts";
import { statelessMetrics } from "./stateless.ts";

/**
 * What the engine reads from each `watermark` node to compute the next watermark.
 *
 * The engine, after running batch N, computes the watermark batch N + 1 runs under as
 * `max(previous watermark, min over watermark nodes w that have seen a row of (w.eventTimeMax() - w.delayMicros))`:
 * the smallest across inputs (Spark's default `min` policy); a node that has seen no row yet
 * (`eventTimeMax()` undefined) does not hold the watermark back; it never decreases. When no node has
 * seen a row the watermark stays where it was (initially: none, i.e. no row is late).
 */
export interface WatermarkSource {
  /** The event-time column. */
  readonly eventTimeColumn: string;
  readonly delayMicros: number;
  /**
   * The largest event time (microseconds) among the rows this node has passed since it was
   * created (or restored), or undefined before the first row; null event times are ignored. Not
   * part of operator snapshots: the engine records it in each commit (`commits/N.json`) and
   * restores it with `restoreEventTimeMax`, so a restarted pipeline computes the same watermarks.
   */
  eventTimeMax(): number | undefined;
  restoreEventTimeMax(max: number): void;
  /** The smallest and largest event time of the rows of the current batch (progress' `eventTime.min/max`); reset by `endOfBatch`. */
  batchEventTimeRange(): { min: number; max: number } | undefined;
}

export function isWatermarkSource(operator: Operator): operator is Operator & WatermarkSource {
  return operator.node.kind === "watermark" && typeof (operator as Partial<WatermarkSource>).eventTimeMax === "function";
}

export function createWatermarkOperator(node: Extract<NodeSpec, { kind: "watermark" }>, _ctx: OperatorContext): Operator & WatermarkSource {
  let max: number | undefined;
  let batchMin = Infinity;
  let batchMax = -Infinity;
  return {
    node,
    eventTimeColumn: node.column,
    delayMicros: node.delayMicros,
    process(batch: Batch, _input: number, emit: Emit): void {
      if (batch.length === 0) return;
      const times = eventTimes(batch, columnIndex(batch, node.column, node.id));
      for (let r = 0; r < times.length; r++) {
        const t = times[r]!;
        if (t !== t) continue;
        if (t > batchMax) batchMax = t;
        if (t < batchMin) batchMin = t;
      }
      if (batchMax > -Infinity && (max === undefined || batchMax > max)) max = batchMax;
      emit({ schema: node.schema, length: batch.length, columns: batch.columns });
    },
    onWatermark(): void {},
    endOfBatch(): void {
      batchMin = Infinity;
      batchMax = -Infinity;
    },
    eventTimeMax: () => max,
    restoreEventTimeMax(restored: number): void {
      max = restored;
    },
    batchEventTimeRange: () => (batchMax >= batchMin ? { min: batchMin, max: batchMax } : undefined),
    metrics: (): OperatorMetrics => statelessMetrics,
    snapshot: () => undefined,
    restore(): void {},
  };
}
