/**
 * `where`: keeps the rows where the predicate kernel is true (null counts as false).
 *
 * Contract: stateless; emits, per input batch, the selected rows in their input order (the input
 * batch itself when every row is kept, nothing when none is).
 */
import type { NodeSpec } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import { gather } from "../columnar/batch-ops.ts";
import type { PredicateKernel } from "../kernel.ts";
import type { Emit, Operator, OperatorContext, OperatorMetrics } from "./operator.ts";
import { kernelAt, statelessMetrics } from "./stateless.ts";

export function createFilterOperator(node: Extract<NodeSpec, { kind: "filter" }>, ctx: OperatorContext): Operator {
  const predicate = kernelAt(ctx, node.predicate, node.id) as PredicateKernel;
  return {
    node,
    process(batch: Batch, _input: number, emit: Emit): void {
      if (batch.length === 0) return;
      const selection = predicate(batch);
      if (selection.length === 0) return;
      const kept = selection.length === batch.length ? batch : gather(batch, selection);
      emit({ schema: node.schema, length: kept.length, columns: kept.columns });
    },
    onWatermark(): void {},
    endOfBatch(): void {},
    metrics: (): OperatorMetrics => statelessMetrics,
    snapshot: () => undefined,
    restore(): void {},
  };
}
