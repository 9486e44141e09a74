/**
 * What the stateless operators (filter, project, explode, union, watermark) share.
 */
import type { Kernel } from "../kernel.ts";
import type { OperatorContext, OperatorMetrics } from "./operator.ts";

export const statelessMetrics: OperatorMetrics = Object.freeze({ stateRows: 0, stateRowsUpdated: 0, droppedByWatermark: 0, memoryBytes: 0 });

/** The kernel `ref` of the module; a missing one is a plan/bundle mismatch. */
export function kernelAt(ctx: OperatorContext, ref: number, nodeId: string): Kernel {
  const kernel = ctx.kernels[ref];
  if (typeof kernel !== "function") throw new Error(`${nodeId}: kernel ${ref} is missing from the kernel module (${ctx.kernels.length} kernels)`);
  return kernel;
}
