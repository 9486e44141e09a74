import { describe, expect, it } from "vitest";
import { loadKernelModule } from "../../compiler/bundle.ts";
import { compileProgram } from "../../compiler/compile-program.ts";
import { batchFromRows, batchToRows } from "../../runtime/columnar/batch-ops.ts";
import { Dataflow } from "../../runtime/engine/dataflow.ts";
import { createOperator } from "../../runtime/operators/registry.ts";

describe("a null where the checker proved none", () => {
  it("an overflow's null is seen as null by every later expression", async () => {
    const text = `source s: { a: long, b: long } = files "in" { format = json }
stream products = s
  | extend m = a * b
  | extend missing = m is null, next = m + 1, kept = m ?? -1
sink products -> memory
`;
    const { compiled } = compileProgram(text, undefined);
    const { plan, kernelSource } = compiled!;
    const kernels = await loadKernelModule(kernelSource, { sourcePath: undefined });
    const dataflow = new Dataflow(plan, kernels, createOperator, { reject: () => {} });
    const source = plan.sources[0]!;
    const input = batchFromRows(source.schema, [{ a: 2 ** 40, b: 2 ** 40 }, { a: 2, b: 3 }]);
    const output = dataflow.runBatch(new Map([[source.id, [input]]])).outputs.get(plan.sinks[0]!.input)!;
    expect(output.flatMap(batchToRows).map((r) => ({ ...r }))).toEqual([
      { a: 2 ** 40, b: 2 ** 40, m: null, missing: true, next: null, kept: -1 },
      { a: 2, b: 3, m: 6, missing: false, next: 7, kept: 6 },
    ]);
  });
});
