/**
 * `union`: the rows of every input, unchanged.
 *
 * Contract: stateless; each input batch is emitted as it arrives, relabelled with `node.schema`
 * (the inputs have the same columns; only nullability may differ).
 */
import type { NodeSpec } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import type { Emit, Operator, OperatorContext, OperatorMetrics } from "./operator.ts";
import { statelessMetrics } from "./stateless.ts";

export function createUnionOperator(node: Extract<NodeSpec, { kind: "union" }>, _ctx: OperatorContext): Operator {
  const width = node.schema.fields.length;
  return {
    node,
    process(batch: Batch, input: number, emit: Emit): void {
      if (batch.length === 0) return;
      if (batch.columns.length !== width) throw new Error(`${node.id}: input ${input} has ${batch.columns.length} columns, the union ${width}`);
      emit({ schema: node.schema, length: batch.length, columns: batch.columns });
    },
    onWatermark(): void {},
    endOfBatch(): void {},
    metrics: (): OperatorMetrics => statelessMetrics,
    snapshot: () => undefined,
    restore(): void {},
  };
}
