/**
 * The operator contract: how the engine drives one node of the plan.
 *
 * Contract: the engine calls, for batch N, `process` for every input batch (in input order), then
 * `onWatermark` once with the watermark batch N runs under (event-time micros; it never
 * decreases), then `endOfBatch`. An operator emits output batches through `emit` during any of
 * them. A stateful operator drops (or dead-letters, through `ctx.late`) rows whose event time is
 * behind the watermark, and counts them. `snapshot`/`restore` move its state in and out as Arrow
 * IPC bytes, so a restored operator continues exactly where the snapshot was taken.
 */
import type { NodeSpec } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import type { Kernel } from "../kernel.ts";

export type Emit = (batch: Batch) => void;

/** Where rows behind the watermark go: the dead letter with reason `late`, or nowhere (`late = drop`). */
export interface LateRows {
  /** `rows` are indices into `batch`. */
  reject(operatorId: string, batch: Batch, rows: Int32Array): void;
}

export interface OperatorContext {
  kernels: readonly Kernel[];
  late: LateRows;
  /** For aggregates: what the sinks downstream need (Spark's output modes). */
  outputMode: "append" | "update" | "complete";
}

export interface OperatorMetrics {
  /** Rows held in state. */
  stateRows: number;
  /** Rows updated in state during the last batch. */
  stateRowsUpdated: number;
  /** Rows dropped or dead-lettered for being behind the watermark, since start. */
  droppedByWatermark: number;
  /** An estimate of the memory the state holds, in bytes. */
  memoryBytes: number;
}

export interface Operator {
  readonly node: NodeSpec;
  /** Rows arriving on input `input` (0 for the first or only input; a join's right side is 1). */
  process(batch: Batch, input: number, emit: Emit): void;
  /** The watermark for the current batch: emit what it finalises, expire state behind it. */
  onWatermark(watermarkMicros: number, emit: Emit): void;
  /** The batch is over: emit per-batch results (update and complete output modes). */
  endOfBatch(emit: Emit): void;
  metrics(): OperatorMetrics;
  /** Stateless operators return undefined. */
  snapshot(): Uint8Array | undefined;
  restore(snapshot: Uint8Array): void;
}

/** Builds an operator from its plan node: one registry for every kind. */
export type OperatorFactory = (node: NodeSpec, ctx: OperatorContext) => Operator;
