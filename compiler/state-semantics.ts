/**
 * What each stateful operator's state means (runtime/plan.ts `StateSemantics`), for the checkpoint
 * compatibility check: windows, keys and aggregate calls as canonical source text.
 *
 * Contract: pure functions of checked plan parts. Expressions print with `formatExpr` and
 * durations with `formatMicros` (explain.ts), so equal programs give equal text and the text reads
 * as the user wrote it. An aggregate's calls come from `aggregateParts`, the one place that orders
 * them as the plan's `calls` (and so the snapshot) does.
 */
import type { StateSemantics } from "../runtime/plan.ts";
import { formatExpr, formatMicros, formatWindow } from "./explain.ts";
import type { LogicalNode, TypedExpr } from "./logical/plan.ts";
import { aggregateParts } from "./physical/aggregate.ts";

type AggregateParts = Pick<Extract<LogicalNode, { kind: "aggregate" }>, "window" | "keys" | "aggregates" | "schema" | "eventTime">;

export function aggregateSemantics(node: AggregateParts): StateSemantics {
  const parts = aggregateParts(node);
  return {
    kind: "aggregate",
    window: node.window ? formatWindow(node.window) : undefined,
    eventTime: node.window ? node.eventTime : undefined,
    keys: node.keys.map((key) => ({ name: key.name, expr: formatExpr(key.expr) })),
    aggregates: parts.calls.map((call) => ({
      name: call.stateName,
      fn: call.fn,
      args: call.args.map(formatExpr),
      argTypes: call.argTypes,
      result: { ...call.result, name: call.stateName },
    })),
  };
}

export function dedupSemantics(keys: string[], withinMicros: number | undefined, eventTime: string | undefined): StateSemantics {
  return { kind: "dedup", keys, within: withinMicros === undefined ? undefined : formatMicros(withinMicros), eventTime };
}

export function joinSemantics(join: {
  joinType: "inner" | "left";
  right: string;
  on: TypedExpr;
  withinMicros: number;
  leftEventTime: string | undefined;
  rightEventTime: string | undefined;
}): StateSemantics {
  return {
    kind: "join",
    joinType: join.joinType,
    right: join.right,
    on: formatExpr(join.on),
    within: formatMicros(join.withinMicros),
    leftEventTime: join.leftEventTime,
    rightEventTime: join.rightEventTime,
  };
}
