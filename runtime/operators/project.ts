/**
 * `select` / `extend`: each output column computed by a value kernel over the input batch.
 *
 * Contract: stateless; emits one batch of `node.schema` per non-empty input batch, with the same
 * rows in the same order. A kernel that returns a column of another length is a bug in the
 * kernel module and throws.
 */
import type { NodeSpec } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import type { ValueKernel } from "../kernel.ts";
import type { Emit, Operator, OperatorContext, OperatorMetrics } from "./operator.ts";
import { kernelAt, statelessMetrics } from "./stateless.ts";

export function createProjectOperator(node: Extract<NodeSpec, { kind: "project" }>, ctx: OperatorContext): Operator {
  const kernels = node.columns.map((c) => kernelAt(ctx, c.kernel, node.id) as ValueKernel);
  return {
    node,
    process(batch: Batch, _input: number, emit: Emit): void {
      if (batch.length === 0) return;
      const columns = kernels.map((kernel, i) => {
        const column = kernel(batch);
        if (column.length !== batch.length) throw new Error(`${node.id}: kernel for column ${node.columns[i]!.name} returned ${column.length} rows for ${batch.length}`);
        return column;
      });
      emit({ schema: node.schema, length: batch.length, columns });
    },
    onWatermark(): void {},
    endOfBatch(): void {},
    metrics: (): OperatorMetrics => statelessMetrics,
    snapshot: () => undefined,
    restore(): void {},
  };
}
