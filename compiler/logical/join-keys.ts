/**
 * The equi-join keys of a join condition: the join operator hashes on them, and the checker
 * declares them as the join state's key.
 *
 * Contract: the pairs are the `==` comparisons of a left column with a right column among the
 * condition's top-level `and`s, in source order, as `{ left, right }` where `left` names a column
 * of the left input and `right` a column of the right input under its own name (the `from` of
 * `rightColumns`, not the joined name). The two columns may have different types that meet
 * (`int` and `long`); the condition itself is still evaluated on every candidate pair.
 */
import type { Schema } from "../../runtime/plan.ts";
import type { TypedExpr } from "./plan.ts";

export function equiJoinKeys(on: TypedExpr, left: Schema, rightColumns: readonly { from: string; as: string }[]): { left: string; right: string }[] {
  const leftNames = new Set(left.fields.map((f) => f.name));
  const rightFrom = new Map(rightColumns.map((c) => [c.as, c.from]));
  const keys: { left: string; right: string }[] = [];
  const visit = (expr: TypedExpr): void => {
    if (expr.kind !== "binary") return;
    if (expr.op === "and") {
      visit(expr.left);
      visit(expr.right);
      return;
    }
    if (expr.op !== "==" || expr.left.kind !== "column" || expr.right.kind !== "column") return;
    const [a, b] = [expr.left.name, expr.right.name];
    if (leftNames.has(a) && rightFrom.has(b)) keys.push({ left: a, right: rightFrom.get(b)! });
    else if (rightFrom.has(a) && leftNames.has(b)) keys.push({ left: b, right: rightFrom.get(a)! });
  };
  visit(on);
  return keys;
}
