/**
 * An `aggregate` node split for the runtime: its aggregate function calls, and its output items as
 * expressions over the aggregate's result columns.
 *
 * Contract: `calls` are the aggregate calls of the items, in item order and, within an item, in
 * source order (the order of the state fields `ratio.1`, `ratio.2`, ...); each call is kept, even
 * when two are alike, so that call I's state is the I-th state entry. Each item's expression has
 * every aggregate call replaced by a column reference to `result.name` of its call; the outputs
 * schema is the window columns, the keys, then one column per call. Result names are `__aggI`,
 * with `_` appended while a key already has that name. A call's `stateName` is the prefix of its
 * state fields in the operator's state schema: the item's name when the item is one call, else
 * `NAME.I` for its I-th call (typecheck.ts names the state fields the same way).
 */
import { assertNever } from "../../grammar/ast.ts";
import type { Field, Schema } from "../../runtime/plan.ts";
import type { LogicalNode, TypedExpr } from "../logical/plan.ts";
import { columnType } from "./kernel-source.ts";

export interface AggregateCallPart {
  /** The prefix of the call's state fields: `revenue`, or `ratio.2`. */
  stateName: string;
  fn: string;
  args: TypedExpr[];
  argTypes: Field[];
  result: Field;
}

export interface AggregateParts {
  /** The `by` keys' output fields, in order. */
  keyFields: Field[];
  calls: AggregateCallPart[];
  /** Window columns, keys, then each call's result. */
  outputSchema: Schema;
  outputs: { name: string; expr: TypedExpr; field: Field }[];
}

export function aggregateParts(node: Pick<Extract<LogicalNode, { kind: "aggregate" }>, "window" | "keys" | "aggregates" | "schema">): AggregateParts {
  const windowCount = node.window ? 2 : 0;
  const windowFields = node.schema.fields.slice(0, windowCount);
  const keyFields = node.schema.fields.slice(windowCount, windowCount + node.keys.length);
  const itemFields = node.schema.fields.slice(windowCount + node.keys.length);
  const taken = new Set([...windowFields, ...keyFields].map((f) => f.name));
  const calls: AggregateCallPart[] = [];
  let item = { name: "", single: true, calls: 0 };
  const rewrite = (expr: TypedExpr): TypedExpr => {
    if (expr.kind !== "aggregate") return mapChildren(expr, rewrite);
    item.calls++;
    let name = `__agg${calls.length}`;
    while (taken.has(name)) name += "_";
    taken.add(name);
    const result: Field = { name, type: columnType(expr.type), nullable: expr.nullable };
    calls.push({
      stateName: item.single ? item.name : `${item.name}.${item.calls}`,
      fn: expr.name,
      args: expr.args,
      argTypes: expr.args.map((arg, i) => ({ name: `arg${i}`, type: columnType(arg.type), nullable: arg.nullable })),
      result,
    });
    return { kind: "column", name, type: expr.type, nullable: expr.nullable, span: expr.span };
  };
  const outputs = node.aggregates.map((aggregate, i) => {
    item = { name: aggregate.name, single: aggregate.expr.kind === "aggregate", calls: 0 };
    return { name: aggregate.name, expr: rewrite(aggregate.expr), field: itemFields[i]! };
  });
  return { keyFields, calls, outputSchema: { fields: [...windowFields, ...keyFields, ...calls.map((c) => c.result)] }, outputs };
}

/** `expr` with `f` applied to each direct subexpression (a new node; `expr` is not changed). */
export function mapChildren(expr: TypedExpr, f: (e: TypedExpr) => TypedExpr): TypedExpr {
  switch (expr.kind) {
    case "literal":
    case "column":
      return expr;
    case "field":
      return { ...expr, target: f(expr.target) };
    case "index":
      return { ...expr, target: f(expr.target), index: f(expr.index) };
    case "call":
    case "aggregate":
      return { ...expr, args: expr.args.map(f) };
    case "unary":
    case "cast":
    case "isNull":
      return { ...expr, operand: f(expr.operand) };
    case "binary":
      return { ...expr, left: f(expr.left), right: f(expr.right) };
    case "in":
      return { ...expr, operand: f(expr.operand), list: expr.list.map(f) };
    case "like":
      return { ...expr, operand: f(expr.operand), pattern: f(expr.pattern) };
    case "case":
      return { ...expr, whens: expr.whens.map((w) => ({ condition: f(w.condition), result: f(w.result) })), otherwise: expr.otherwise && f(expr.otherwise) };
    default:
      return assertNever(expr);
  }
}
