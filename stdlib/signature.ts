/**
 * The shape of a built-in function's signature, shared by the scalar and aggregate tables.
 *
 * Contract: the checker calls `check` with what it knows about each argument (type, nullability,
 * the value when the argument is a literal) and gets back the result type or the first problem, in
 * words the checker puts into its diagnostics (`wrongArgumentCount`, `argumentTypeMismatch`,
 * `badRegex`/`badOptionValue`-style value errors). Nothing here imports `compiler/` or `grammar/`:
 * the runtime imports stdlib too, and kernels will sit beside these signatures.
 *
 * Conventions every signature follows:
 * - The `null` literal (type `null`) fits any parameter and counts as a nullable argument.
 * - Where a parameter wants a type, any type assignable to it (`isAssignable`: the same type or a
 *   widening, e.g. `int` where `long` is wanted) is accepted.
 * - A result type that follows an argument's type is `null` when that argument is the `null`
 *   literal (the checker treats it like the literal itself).
 * - `index` in errors is 0-based.
 */
import type { DataType, Field } from "../runtime/plan.ts";
import { formatType, isAssignable, isEquatable, isIntegral, isNumeric, isOrdered } from "../runtime/data-type.ts";

/** What the checker knows about one argument. */
export interface ArgInfo {
  type: DataType;
  nullable: boolean;
  /** set when the argument is a literal */
  literal?: string | number | boolean | null;
}

/** The outcome of checking one call: the result, or the first problem found. */
export type SignatureResult =
  | { ok: true; type: DataType; nullable: boolean }
  /** `expected` completes "`f` takes {expected}": "2 or 3 arguments". */
  | { ok: false; error: "arity"; expected: string }
  /** `expected` completes "argument N must be {expected}": "a `string`", "a number". */
  | { ok: false; error: "argument"; index: number; expected: string }
  /** The argument has an acceptable type but an unusable value: an invalid regex, an unknown unit. */
  | { ok: false; error: "value"; index: number; reason: string };

/** A built-in scalar function. */
export interface ScalarFunction {
  name: string;
  /** One sentence for hovers and docs. */
  summary: string;
  /** e.g. "substr(s: string, start: long, length?: long): string" */
  display: string;
  /** Types a call; pure and total (never throws). */
  check(args: ArgInfo[]): SignatureResult;
}

/** A built-in aggregate function. */
export interface AggregateFunction {
  name: string;
  summary: string;
  display: string;
  /** Types a call; `count()` takes no args. Pure and total. */
  check(args: ArgInfo[]): SignatureResult;
  /**
   * The state the operator keeps per group for this aggregate, as fields (for state schemas and
   * compatibility checks). `name` is the aggregate's output column; field names start with it.
   * Only meaningful for arguments that `check` accepted.
   */
  stateFields(args: ArgInfo[], name: string): Field[];
}

// ---- parameters ---------------------------------------------------------------------------

/** What a parameter accepts. */
export type ArgumentRule =
  /** a value assignable to `type` */
  | { kind: "type"; type: DataType }
  /** `int`, `long`, `decimal` or `double` */
  | { kind: "number" }
  /** `int` or `long` */
  | { kind: "integer" }
  /** a value assignable to one of `types` */
  | { kind: "oneOf"; types: readonly DataType[] }
  /** a list or a map */
  | { kind: "collection" }
  /** a type whose values have an order (`isOrdered`) */
  | { kind: "ordered" }
  /** a type whose values compare with `==` (`isEquatable`) */
  | { kind: "equatable" }
  | { kind: "any" };

/** One parameter of a signature; only the last may be `rest`, and `optional` ones come last. */
export interface Parameter {
  name: string;
  accepts: ArgumentRule;
  /** `required` unless said otherwise; `rest` takes any number of further arguments (at least one). */
  arity?: "required" | "optional" | "rest";
}

/** Whether an argument of `type` fits `rule`. The `null` literal fits every rule. */
export function acceptsArgument(rule: ArgumentRule, type: DataType): boolean {
  if (type.kind === "null") return true;
  switch (rule.kind) {
    case "type":
      return isAssignable(type, rule.type);
    case "number":
      return isNumeric(type);
    case "integer":
      return isIntegral(type);
    case "oneOf":
      return rule.types.some((t) => isAssignable(type, t));
    case "collection":
      return type.kind === "list" || type.kind === "map";
    case "ordered":
      return isOrdered(type);
    case "equatable":
      return isEquatable(type);
    case "any":
      return true;
  }
}

/** The rule in words, to complete "argument N must be …". */
export function describeArgumentRule(rule: ArgumentRule): string {
  switch (rule.kind) {
    case "type":
      return withArticle(rule.type);
    case "number":
      return "a number";
    case "integer":
      return "an integer (`int` or `long`)";
    case "oneOf":
      return rule.types.map(withArticle).join(" or ");
    case "collection":
      return "a list or a map";
    case "ordered":
      return "a value with an order (a number, `string`, `bytes`, `bool`, `date`, `timestamp` or `duration`)";
    case "equatable":
      return "a value that can be compared with `==` (not a map)";
    case "any":
      return "a value";
  }
}

/** "a `string`", "an `int`". */
export function withArticle(type: DataType): string {
  const text = formatType(type);
  return `${/^[aeiou]/.test(text) ? "an" : "a"} \`${text}\``;
}

/** The rule as it appears in a `display` signature. */
function displayArgumentRule(rule: ArgumentRule): string {
  switch (rule.kind) {
    case "type":
      return formatType(rule.type);
    case "number":
      return "number";
    case "integer":
      return "long";
    case "oneOf":
      return rule.types.map(formatType).join(" | ");
    case "collection":
      return "list | map";
    case "ordered":
      return "ordered";
    case "equatable":
      return "equatable";
    case "any":
      return "any";
  }
}

/** `substr(s: string, start: long, length?: long): string`; `returns` is the result as text. */
export function displaySignature(name: string, params: readonly Parameter[], returns: string): string {
  const shown = params.map((p) => {
    const type = displayArgumentRule(p.accepts);
    switch (p.arity ?? "required") {
      case "required":
        return `${p.name}: ${type}`;
      case "optional":
        return `${p.name}?: ${type}`;
      case "rest":
        return `...${p.name}: ${type}`;
    }
  });
  return `${name}(${shown.join(", ")}): ${returns}`;
}

function plural(n: number): string {
  return n === 1 ? "1 argument" : `${n} arguments`;
}

/** How many arguments `params` takes, in words: "no arguments", "2 or 3 arguments", "at least 1 argument". */
export function describeArity(params: readonly Parameter[]): string {
  const min = params.filter((p) => (p.arity ?? "required") === "required").length;
  const rest = params.some((p) => p.arity === "rest");
  if (rest) return `at least ${plural(min + 1)}`;
  const max = params.length;
  if (max === 0) return "no arguments";
  if (min === max) return plural(min);
  if (min === 0 && max === 1) return "no arguments or 1 argument";
  if (max === min + 1) return `${min} or ${plural(max)}`;
  return `${min} to ${plural(max)}`;
}

/**
 * Checks the argument count and each argument against its parameter's rule; the first problem wins.
 * Returns undefined when the call fits.
 */
export function matchParameters(params: readonly Parameter[], args: readonly ArgInfo[]): SignatureResult | undefined {
  const min = params.filter((p) => (p.arity ?? "required") === "required").length + (params.some((p) => p.arity === "rest") ? 1 : 0);
  const last = params[params.length - 1];
  const max = last?.arity === "rest" ? Infinity : params.length;
  if (args.length < min || args.length > max) return { ok: false, error: "arity", expected: describeArity(params) };
  for (let index = 0; index < args.length; index++) {
    const param = params[Math.min(index, params.length - 1)]!;
    if (!acceptsArgument(param.accepts, args[index]!.type)) {
      return { ok: false, error: "argument", index, expected: describeArgumentRule(param.accepts) };
    }
  }
  return undefined;
}

// ---- results ------------------------------------------------------------------------------

/** A nullable argument, or the `null` literal. */
export function isNullableArgument(arg: ArgInfo): boolean {
  return arg.nullable || arg.type.kind === "null";
}

/** Null in, null out: the result is nullable iff some argument is. */
export function anyNullable(args: readonly ArgInfo[]): boolean {
  return args.some(isNullableArgument);
}

export function typed(type: DataType, nullable: boolean): SignatureResult {
  return { ok: true, type, nullable };
}

export function valueError(index: number, reason: string): SignatureResult {
  return { ok: false, error: "value", index, reason };
}

/**
 * How a signature is written in the tables: its parameters, its result as text for `display`, and
 * `result`, called only once the arguments fit the parameters (it may still reject a value).
 */
export interface SignatureSpec {
  params: readonly Parameter[];
  returns: string;
  result(args: ArgInfo[]): SignatureResult;
}

/** Turns a spec into `display` and `check` for a function named `name`. */
export function signature(name: string, spec: SignatureSpec): { display: string; check(args: ArgInfo[]): SignatureResult } {
  return {
    display: displaySignature(name, spec.params, spec.returns),
    check: (args) => matchParameters(spec.params, args) ?? spec.result(args),
  };
}

/** A string argument's literal value, if the argument is a string literal. */
export function stringLiteral(arg: ArgInfo | undefined): string | undefined {
  return typeof arg?.literal === "string" ? arg.literal : undefined;
}

/** An integer argument's literal value, if the argument is an integer literal. */
export function integerLiteral(arg: ArgInfo | undefined): number | undefined {
  return typeof arg?.literal === "number" && Number.isInteger(arg.literal) ? arg.literal : undefined;
}
