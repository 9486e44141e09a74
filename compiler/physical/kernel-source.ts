/**
 * What physical planning hands to codegen: one entry per expression of the program.
 *
 * Contract: a `value` kernel computes a column of `output`'s type (converting the expression's
 * value where the types differ, e.g. a bare `null` into a `string?` column); a `predicate` kernel
 * selects the rows where the expression is true. Column references resolve by name against
 * `input`, whose names are unique. Plain JSON.
 */
import type { DataType, Field, Schema } from "../../runtime/plan.ts";
import type { TypedExpr } from "../logical/plan.ts";

export type KernelSource =
  | { kind: "value"; expr: TypedExpr; input: Schema; output: Field }
  | { kind: "predicate"; expr: TypedExpr; input: Schema };

/** The type a computed column gets when its expression's type says nothing (a bare `null`): `string`, as the checker decides. */
export function columnType(type: DataType): DataType {
  return type.kind === "null" ? { kind: "string" } : type;
}
