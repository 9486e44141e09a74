/**
 * `explode NAME = EXPR`: one row per element of a list.
 *
 * Contract: stateless. For each input row, in order, one output row per element of the list kernel's
 * value, in list order; a null or empty list gives no row (Spark's `explode`, SQL's `unnest`).
 * The output has `node.schema`: the column named `node.name` holds the element (in place of an
 * input column of that name, or appended), every other column is the input column of its name,
 * repeated for each element.
 */
import type { NodeSpec } from "../plan.ts";
import type { Batch } from "../columnar/batch.ts";
import { gatherColumn } from "../columnar/batch-ops.ts";
import type { ValueKernel } from "../kernel.ts";
import type { Emit, Operator, OperatorContext, OperatorMetrics } from "./operator.ts";
import { kernelAt, statelessMetrics } from "./stateless.ts";

export function createExplodeOperator(node: Extract<NodeSpec, { kind: "explode" }>, ctx: OperatorContext): Operator {
  const kernel = kernelAt(ctx, node.list, node.id) as ValueKernel;
  const elementField = node.schema.fields.find((f) => f.name === node.name);
  if (!elementField) throw new Error(`${node.id}: the output has no column ${node.name}`);
  return {
    node,
    process(batch: Batch, _input: number, emit: Emit): void {
      if (batch.length === 0) return;
      const list = kernel(batch);
      if (list.length !== batch.length) throw new Error(`${node.id}: the list kernel returned ${list.length} rows for ${batch.length}`);
      if (list.offset !== 0 || list.children[0]!.offset !== 0) throw new Error(`${node.id}: the list kernel returned a sliced column (offset ${list.offset}); batches hold offset-0 columns`);
      const offsets = list.valueOffsets as Int32Array;
      const bitmap = list.nullCount > 0 && list.nullBitmap && list.nullBitmap.length > 0 ? list.nullBitmap : undefined;
      let total = 0;
      for (let r = 0; r < batch.length; r++) {
        if (bitmap && !((bitmap[r >> 3]! >> (r & 7)) & 1)) continue;
        total += offsets[r + 1]! - offsets[r]!;
      }
      if (total === 0) return;
      const parents = new Int32Array(total);
      const elements = new Int32Array(total);
      let n = 0;
      for (let r = 0; r < batch.length; r++) {
        if (bitmap && !((bitmap[r >> 3]! >> (r & 7)) & 1)) continue;
        for (let k = offsets[r]!; k < offsets[r + 1]!; k++) {
          parents[n] = r;
          elements[n++] = k;
        }
      }
      const columns = node.schema.fields.map((field) => {
        if (field.name === node.name) return gatherColumn(list.children[0]!, field.type, elements);
        const index = batch.schema.fields.findIndex((f) => f.name === field.name);
        if (index < 0) throw new Error(`${node.id}: column ${field.name} is not in the input`);
        return gatherColumn(batch.columns[index]!, field.type, parents);
      });
      emit({ schema: node.schema, length: total, columns });
    },
    onWatermark(): void {},
    endOfBatch(): void {},
    metrics: (): OperatorMetrics => statelessMetrics,
    snapshot: () => undefined,
    restore(): void {},
  };
}
