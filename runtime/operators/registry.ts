/**
 * The one registry that builds an operator from its plan node.
 *
 * Contract: `createOperator` handles every `NodeSpec` kind (the switch is exhaustive: a new kind
 * fails to compile until it is handled here) and throws for a node the runtime cannot run (a
 * kernel missing from the module, a column missing from the schema).
 */
import type { NodeSpec } from "../plan.ts";
import { createAggregateOperator } from "./aggregate.ts";
import { createDedupOperator } from "./dedup.ts";
import { createExplodeOperator } from "./explode.ts";
import { createFilterOperator } from "./filter.ts";
import { createJoinOperator } from "./join.ts";
import type { Operator, OperatorContext, OperatorFactory } from "./operator.ts";
import { createProjectOperator } from "./project.ts";
import { createUnionOperator } from "./union.ts";
import { createWatermarkOperator } from "./watermark.ts";

export const createOperator: OperatorFactory = (node: NodeSpec, ctx: OperatorContext): Operator => {
  switch (node.kind) {
    case "filter":
      return createFilterOperator(node, ctx);
    case "project":
      return createProjectOperator(node, ctx);
    case "explode":
      return createExplodeOperator(node, ctx);
    case "watermark":
      return createWatermarkOperator(node, ctx);
    case "aggregate":
      return createAggregateOperator(node, ctx);
    case "dedup":
      return createDedupOperator(node, ctx);
    case "join":
      return createJoinOperator(node, ctx);
    case "union":
      return createUnionOperator(node, ctx);
    default:
      return assertNever(node);
  }
};

function assertNever(node: never): never {
  throw new Error(`no operator for plan node kind ${(node as { kind: string }).kind}`);
}
