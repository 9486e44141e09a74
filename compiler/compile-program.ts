/**
 * From program text to what the runtime runs: the front end, then the physical plan and the
 * source of its kernel module.
 *
 * Contract: returns the diagnostics and, when there is no error, the physical plan and the kernel
 * module's source (to load in-process with `loadKernelModule` or to bundle with `bundleProgram`).
 */
import { kernelImports } from "./bundle.ts";
import { generateKernelModule } from "./codegen.ts";
import type { Diagnostic } from "./diagnostics.ts";
import { checkProgram } from "./front-end.ts";
import { physicalPlan } from "./physical/plan.ts";
import type { PhysicalPlan } from "../runtime/plan.ts";

export interface CompiledProgram {
  diagnostics: Diagnostic[];
  compiled: { plan: PhysicalPlan; kernelSource: string } | undefined;
}

export function compileProgram(text: string, path: string | undefined): CompiledProgram {
  const { plan: logical, diagnostics } = checkProgram(text, { path });
  if (!logical) return { diagnostics, compiled: undefined };
  const { plan, kernels } = physicalPlan(logical);
  const kernelSource = generateKernelModule(kernels, kernelImports(logical.imports, path));
  return { diagnostics, compiled: { plan, kernelSource } };
}
