/**
 * Every built-in aggregate function, once: its signature, the state it keeps per group, and its
 * accumulator (aggregate-accumulators.ts), the vectorised runtime side.
 *
 * Contract: `aggregateFunctions` holds exactly the aggregates LANGUAGE.md lists, keyed by name.
 * `check` types a call (conventions in signature.ts); `stateFields` declares the per-group state
 * for the operator's state schema, and is what the checkpoint compatibility check compares: a
 * change to an aggregate's state fields is a change of the checkpoint format.
 *
 * Semantics decided here (SQL/Spark-like unless said otherwise):
 * - Every aggregate except `count()` skips null inputs (SQL), `first` and `last` included: they
 *   are the first and last non-null value in the order rows reach the operator (source order
 *   within a partition, batch by batch: the same on replay).
 * - `count()` (the checker maps `count(*)` to it) counts rows; `count(x)` counts non-null `x`;
 *   `count_distinct(x)` counts distinct non-null `x` exactly; `approx_count_distinct(x)` estimates
 *   it with a HyperLogLog sketch. All four give `long`, never null; `x` may be any type for
 *   `count`, and must be equatable (`isEquatable`) for the distinct counts.
 * - `sum(x)`: `int`/`long` -> `long`, `double` -> `double`, `decimal(p, s)` ->
 *   `decimal(min(38, p + 10), s)` (Spark).
 * - `avg(x)`: `int`/`long`/`double` -> `double`; `decimal(p, s)` -> `decimal(min(38, p + 4),
 *   min(38, s + 4))` (Spark; exact, where DuckDB gives `double`).
 * - `min`/`max` take an ordered type (`isOrdered`) and keep it; `first`/`last` take any type and
 *   keep it.
 * - `sum`, `avg`, `min`, `max`, `first`, `last` are always nullable, whatever the argument: they
 *   are null when every input is null and for a group without rows (a global aggregate before its
 *   first row, which SQL and Spark's complete mode still output).
 * - `collect_list(x)` gives `list<T>` of the non-null values in arrival order (elements
 *   non-null); never null (an empty list for a group without values).
 * - The `null` literal as the argument gives a result of type `null` where the result follows the
 *   argument's type.
 */
import type { DataType, Field } from "../runtime/plan.ts";
import { BYTES, DOUBLE, LONG, listOf } from "../runtime/data-type.ts";
import { type AggregateFunction, type ArgInfo, type SignatureSpec, signature, typed } from "./signature.ts";
import { type Accumulator, type AccumulatorOptions, accumulatorFactories } from "./aggregate-accumulators.ts";

/** How an aggregate is written in the table: its signature, its per-group state and its accumulator. */
interface AggregateSpec extends SignatureSpec {
  summary: string;
  stateFields(args: ArgInfo[], name: string): Field[];
  /** The runtime side (aggregate-accumulators.ts); `fields` is `stateFields` for the call. */
  accumulator(fields: Field[], args: readonly Field[], result: Field, options: AccumulatorOptions): Accumulator;
}

/** A built-in aggregate as the runtime sees it: the signature, and a factory for its accumulator. */
export interface BuiltinAggregate extends AggregateFunction {
  /**
   * A new, empty accumulator for a call with these argument fields and result field (as the
   * plan's `AggregateCall` holds them). Its snapshot columns are `stateFields(args, options.name)`.
   */
  accumulator(args: readonly Field[], result: Field, options: AccumulatorOptions): Accumulator;
}

function field(name: string, type: DataType, nullable: boolean): Field {
  return { name, type, nullable };
}

/** The argument's type: `stateFields` is only called for calls that `check` accepted. */
function argType(args: readonly ArgInfo[]): DataType {
  return args[0]!.type;
}

function sumType(type: DataType): DataType {
  switch (type.kind) {
    case "int":
    case "long":
      return LONG;
    case "decimal":
      return { kind: "decimal", precision: Math.min(38, type.precision + 10), scale: type.scale };
    default:
      return type;
  }
}

function avgType(type: DataType): DataType {
  switch (type.kind) {
    case "decimal":
      return { kind: "decimal", precision: Math.min(38, type.precision + 4), scale: Math.min(38, type.scale + 4) };
    case "null":
      return type;
    default:
      return DOUBLE;
  }
}

/** The running sum `avg` keeps: exact for decimals, `double` otherwise. */
function avgSumType(type: DataType): DataType {
  return type.kind === "decimal" ? sumType(type) : type.kind === "null" ? type : DOUBLE;
}

const aggregateTable: Record<string, AggregateSpec> = {
  count: {
    summary: "`count()` counts rows; `count(x)` counts rows where `x` is not null.",
    params: [{ name: "x", accepts: { kind: "any" }, arity: "optional" }],
    returns: "long",
    result: () => typed(LONG, false),
    stateFields: (_args, name) => [field(name, LONG, false)],
    accumulator: accumulatorFactories.count!,
  },
  count_distinct: {
    summary: "The number of distinct non-null values of `x`, exactly.",
    params: [{ name: "x", accepts: { kind: "equatable" } }],
    returns: "long",
    result: () => typed(LONG, false),
    stateFields: (args, name) => [field(`${name}.values`, listOf(argType(args)), false)],
    accumulator: accumulatorFactories.count_distinct!,
  },
  approx_count_distinct: {
    summary: "An estimate (HyperLogLog) of the number of distinct non-null values of `x`, in bounded state.",
    params: [{ name: "x", accepts: { kind: "equatable" } }],
    returns: "long",
    result: () => typed(LONG, false),
    stateFields: (_args, name) => [field(`${name}.hll`, BYTES, false)],
    accumulator: accumulatorFactories.approx_count_distinct!,
  },
  sum: {
    summary: "The sum of the non-null values: `long` for integers, `double` for doubles, a wider `decimal` for decimals.",
    params: [{ name: "x", accepts: { kind: "number" } }],
    returns: "long | double | decimal",
    result: (args) => typed(sumType(argType(args)), true),
    stateFields: (args, name) => [field(name, sumType(argType(args)), true)],
    accumulator: accumulatorFactories.sum!,
  },
  avg: {
    summary: "The mean of the non-null values: `double`, or a `decimal` for decimals.",
    params: [{ name: "x", accepts: { kind: "number" } }],
    returns: "double | decimal",
    result: (args) => typed(avgType(argType(args)), true),
    stateFields: (args, name) => [field(`${name}.sum`, avgSumType(argType(args)), false), field(`${name}.count`, LONG, false)],
    accumulator: accumulatorFactories.avg!,
  },
  min: {
    summary: "The smallest non-null value.",
    params: [{ name: "x", accepts: { kind: "ordered" } }],
    returns: "same type as x",
    result: (args) => typed(argType(args), true),
    stateFields: (args, name) => [field(name, argType(args), true)],
    accumulator: accumulatorFactories.min!,
  },
  max: {
    summary: "The largest non-null value.",
    params: [{ name: "x", accepts: { kind: "ordered" } }],
    returns: "same type as x",
    result: (args) => typed(argType(args), true),
    stateFields: (args, name) => [field(name, argType(args), true)],
    accumulator: accumulatorFactories.max!,
  },
  first: {
    summary: "The first non-null value, in the order rows arrive.",
    params: [{ name: "x", accepts: { kind: "any" } }],
    returns: "same type as x",
    result: (args) => typed(argType(args), true),
    stateFields: (args, name) => [field(name, argType(args), true)],
    accumulator: accumulatorFactories.first!,
  },
  last: {
    summary: "The last non-null value, in the order rows arrive.",
    params: [{ name: "x", accepts: { kind: "any" } }],
    returns: "same type as x",
    result: (args) => typed(argType(args), true),
    stateFields: (args, name) => [field(name, argType(args), true)],
    accumulator: accumulatorFactories.last!,
  },
  collect_list: {
    summary: "The non-null values, in the order rows arrive.",
    params: [{ name: "x", accepts: { kind: "any" } }],
    returns: "list<x>",
    result: (args) => typed(listOf(argType(args)), false),
    stateFields: (args, name) => [field(name, listOf(argType(args)), false)],
    accumulator: accumulatorFactories.collect_list!,
  },
};

/** Every built-in aggregate function, by name. */
export const aggregateFunctions: ReadonlyMap<string, BuiltinAggregate> = new Map(
  Object.entries(aggregateTable).map(([name, spec]): [string, BuiltinAggregate] => [
    name,
    {
      name,
      summary: spec.summary,
      ...signature(name, spec),
      stateFields: spec.stateFields,
      accumulator: (args, result, options) => spec.accumulator(spec.stateFields(args.map(argInfo), options.name), args, result, options),
    },
  ]),
);

function argInfo(field: Field): ArgInfo {
  return { type: field.type, nullable: field.nullable };
}
