/**
 * The contract of the generated kernel module: one specialised function per expression or
 * predicate of the program, compiled by compiler/codegen.ts.
 *
 * Contract: a kernel reads only its input batch's column buffers and returns a new column or
 * selection; it keeps no state between calls and never throws on data (a value a function cannot
 * handle becomes null, as in SQL). The module's default export is a `KernelModule`; the plan
 * refers to kernels by index.
 */
import type { Data } from "apache-arrow";
import type { Batch } from "./columnar/batch.ts";

/** Computes one column of `input.length` rows. */
export type ValueKernel = (input: Batch) => Data;

/** The ascending indices of the rows where the predicate is true (null counts as false). */
export type PredicateKernel = (input: Batch) => Int32Array;

export type Kernel = ValueKernel | PredicateKernel;

export interface KernelModule {
  kernels: readonly Kernel[];
}
