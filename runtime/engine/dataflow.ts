/**
 * The dataflow of one pipeline: its operators wired as the plan says, driven one micro-batch at a
 * time.
 *
 * Contract: `runBatch` pushes the batch's source rows through every node in plan order. Each node
 * first processes all rows its inputs produced in this batch (including what upstream nodes emitted
 * on the watermark or at the end of the batch), then sees the batch's watermark, then the end of
 * the batch; so one call moves every row as far as it can go. The watermark a batch runs under is
 * fixed before it starts; `advanceWatermark` computes the one for the following batch (Spark's
 * rule: the minimum, over the `watermark` nodes that have seen a row, of the largest event time
 * seen minus the delay; it never decreases).
 */
import type { Batch } from "../columnar/batch.ts";
import type { KernelModule } from "../kernel.ts";
import type { NodeSpec, PhysicalPlan } from "../plan.ts";
import type { LateRows, Operator, OperatorFactory, OperatorMetrics } from "../operators/operator.ts";
import { isWatermarkSource } from "../operators/watermark.ts";

export interface BatchOutput {
  /** Every batch each node (and each source, by its id) produced in this micro-batch. */
  outputs: Map<string, Batch[]>;
}

export class Dataflow {
  private readonly operators: Operator[] = [];
  private readonly consumers = new Map<string, { operator: number; input: number }[]>();
  private watermark = Number.NEGATIVE_INFINITY;

  constructor(
    readonly plan: PhysicalPlan,
    kernels: KernelModule,
    createOperator: OperatorFactory,
    late: LateRows,
    /** What each aggregate emits; by default, what the sinks downstream need. */
    modes: ReadonlyMap<string, "append" | "update" | "complete"> = aggregateOutputModes(plan),
  ) {
    plan.nodes.forEach((node, index) => {
      this.operators.push(createOperator(node, { kernels: kernels.kernels, late, outputMode: modes.get(node.id) ?? "append" }));
      node.inputs.forEach((input, position) => {
        const list = this.consumers.get(input) ?? [];
        list.push({ operator: index, input: position });
        this.consumers.set(input, list);
      });
    });
  }

  /** The watermark the next batch runs under, in event-time micros (-Infinity before any). */
  get currentWatermark(): number {
    return this.watermark;
  }

  /** Runs one micro-batch: `sourceRows` by source id. */
  runBatch(sourceRows: ReadonlyMap<string, readonly Batch[]>): BatchOutput {
    const outputs = new Map<string, Batch[]>();
    const pending = new Map<number, { batch: Batch; input: number }[]>();
    const deliver = (from: string, batch: Batch): void => {
      const list = outputs.get(from) ?? [];
      list.push(batch);
      outputs.set(from, list);
      for (const consumer of this.consumers.get(from) ?? []) {
        const queue = pending.get(consumer.operator) ?? [];
        queue.push({ batch, input: consumer.input });
        pending.set(consumer.operator, queue);
      }
    };
    for (const [source, batches] of sourceRows) for (const batch of batches) if (batch.length > 0) deliver(source, batch);
    this.operators.forEach((operator, index) => {
      const emit = (batch: Batch): void => {
        if (batch.length > 0) deliver(operator.node.id, batch);
      };
      for (const { batch, input } of pending.get(index) ?? []) operator.process(batch, input, emit);
      operator.onWatermark(this.watermark, emit);
      operator.endOfBatch(emit);
    });
    return { outputs };
  }

  /** Moves the watermark forward after a batch, as Spark does; returns it. */
  advanceWatermark(): number {
    let candidate = Number.POSITIVE_INFINITY;
    for (const operator of this.operators) {
      if (!isWatermarkSource(operator)) continue;
      const max = operator.eventTimeMax();
      if (max !== undefined) candidate = Math.min(candidate, max - operator.delayMicros);
    }
    if (Number.isFinite(candidate) && candidate > this.watermark) this.watermark = candidate;
    return this.watermark;
  }

  /** Sets the watermark (tests: `advance watermark to`; restarts: the checkpointed one). It never moves back. */
  setWatermark(micros: number): void {
    if (micros > this.watermark) this.watermark = micros;
  }

  /** Each stateful operator's state between batches, as Arrow IPC bytes, by operator id. */
  snapshotState(): Map<string, Uint8Array> {
    const snapshots = new Map<string, Uint8Array>();
    for (const operator of this.operators) {
      const bytes = operator.snapshot();
      if (bytes !== undefined) snapshots.set(operator.node.id, bytes);
    }
    return snapshots;
  }

  /** Restores one operator's state from a snapshot of `snapshotState` (possibly evolved first). */
  restoreState(operatorId: string, bytes: Uint8Array): void {
    const operator = this.operators.find((o) => o.node.id === operatorId);
    if (!operator) throw new Error(`no operator ${operatorId} in this plan`);
    operator.restore(bytes);
  }

  /** Per `watermark` node, the largest event time it has seen (absent: none yet). */
  eventTimeMaxima(): Record<string, number> {
    const maxima: Record<string, number> = {};
    for (const operator of this.operators) {
      if (!isWatermarkSource(operator)) continue;
      const max = operator.eventTimeMax();
      if (max !== undefined) maxima[operator.node.id] = max;
    }
    return maxima;
  }

  /** Restores what `eventTimeMaxima` recorded; ids no longer in the plan are ignored. */
  restoreEventTimeMaxima(maxima: Readonly<Record<string, number>>): void {
    for (const operator of this.operators) {
      const max = maxima[operator.node.id];
      if (max !== undefined && isWatermarkSource(operator)) operator.restoreEventTimeMax(max);
    }
  }

  metrics(): { id: string; kind: NodeSpec["kind"]; metrics: OperatorMetrics }[] {
    return this.operators.map((o) => ({ id: o.node.id, kind: o.node.kind, metrics: o.metrics() }));
  }
}

/**
 * What each aggregate must emit, from the sinks (and test expectations) downstream of it, through
 * stateless nodes: `complete` if any wants it, else `update`, else `append`.
 */
export function aggregateOutputModes(
  plan: PhysicalPlan,
  wanted: Iterable<readonly [string, "append" | "update" | "complete"]> = plan.sinks.map((s) => [s.input, s.mode] as const),
): Map<string, "append" | "update" | "complete"> {
  const wants = new Map<string, Set<string>>();
  const want = (id: string, mode: string) => {
    const set = wants.get(id) ?? new Set();
    set.add(mode);
    wants.set(id, set);
  };
  for (const [id, mode] of wanted) want(id, mode);
  // Walk from the last node back: a node's wants flow to its inputs until an aggregate takes them.
  for (let i = plan.nodes.length - 1; i >= 0; i--) {
    const node = plan.nodes[i]!;
    if (node.kind === "aggregate") continue;
    for (const mode of wants.get(node.id) ?? []) for (const input of node.inputs) want(input, mode);
  }
  const modes = new Map<string, "append" | "update" | "complete">();
  for (const node of plan.nodes) {
    if (node.kind !== "aggregate") continue;
    const set = wants.get(node.id) ?? new Set();
    // An aggregate without a window never finalises a row, so it can only update or complete.
    modes.set(node.id, set.has("complete") ? "complete" : set.has("update") || node.window === undefined ? "update" : "append");
  }
  return modes;
}
