/**
 * Types one expression against the columns in scope.
 *
 * Contract: `checkExpr` always returns a `TypedExpr` and reports every problem it finds. Where a
 * part is wrong it stands in a `null`-typed literal, which fits anywhere, so one mistake is one
 * diagnostic, not a cascade. Null follows SQL: operators and most functions return a nullable
 * value when an input is nullable; `and`/`or` are three-valued; `is null` is never null.
 */
import type * as ast from "../grammar/ast.ts";
import { assertNever } from "../grammar/ast.ts";
import {
  BOOL, DATE, DOUBLE, DURATION, INT, LONG, NULL, STRING, TIMESTAMP,
  commonType, formatField, formatName, formatType, isAssignable, isEquatable, isIntegral, isNumeric, isOrdered,
} from "../runtime/data-type.ts";
import type { DataType, Field } from "../runtime/plan.ts";
import { parseDateDays, parseTimestampMicros } from "../runtime/time.ts";
import { aggregateFunctions } from "../stdlib/aggregate-functions.ts";
import { scalarFunctions } from "../stdlib/scalar-functions.ts";
import type { ArgInfo, SignatureResult } from "../stdlib/signature.ts";
import type { DiagnosticSink } from "./diagnostics.ts";
import type { ImportedFunction, LiteralValue, TypedExpr } from "./logical/plan.ts";
import { suggest } from "./suggest.ts";
import { resolveType, type SchemaLookup } from "./types.ts";

/** The columns an expression can see. */
export type ColumnScope =
  | {
      kind: "stream";
      stream: string;
      fields: readonly Field[];
      /** Streams joined earlier in this stream: each column's name, mapped to its output name. For hints only. */
      joined?: ReadonlyMap<string, ReadonlyMap<string, string>>;
      /** The stream's input, for a hint when a user qualifies its columns (`orders.amount`). */
      input?: string;
    }
  /** Both sides of a join; right-side columns appear under their output name (`as`). */
  | {
      kind: "join";
      left: { stream: string; fields: readonly Field[] };
      right: { stream: string; fields: readonly { field: Field; as: string }[] };
    };

/** Where aggregate functions may appear, and what non-aggregated columns may refer to. */
export interface AggregateScope {
  /** The `by` keys' output columns: the only columns usable outside an aggregate call. */
  keys: readonly Field[];
  /** True with `by` keys or a window: then every group has at least one row. */
  grouped: boolean;
}

/**
 * Aggregates that are null only for a group without non-null inputs. In a grouped aggregate every
 * group has a row, so over a non-null argument they are never null; only a global aggregate can
 * emit a row (in `complete` mode) before any input.
 */
const nullOnlyForEmptyGroups = new Set(["sum", "avg", "min", "max", "first", "last"]);

export interface ExprContext {
  scope: ColumnScope;
  sink: DiagnosticSink;
  imports: ReadonlyMap<string, ImportedFunction>;
  schemas: SchemaLookup;
  /** Names of streams and sources, for hints when one is used as a column. */
  streamNames: ReadonlySet<string>;
  /** Set while checking `aggregate` items. */
  aggregate?: AggregateScope;
}

/** The `null`-typed literals that stand where a wrong expression was (already reported). */
const standIns = new WeakSet<TypedExpr>();

const nullExpr = (span: ast.Span): TypedExpr => {
  const standIn: TypedExpr = { kind: "literal", value: { type: "null" }, type: NULL, nullable: true, span };
  standIns.add(standIn);
  return standIn;
};

/** Whether `expr` stands where a wrong expression was: its `null` type says nothing about the program. */
export function isStandIn(expr: TypedExpr): boolean {
  return standIns.has(expr);
}

export function checkExpr(expr: ast.Expr, ctx: ExprContext): TypedExpr {
  return new ExprChecker(ctx).check(expr, false);
}

/** The columns that are certainly not null in rows where `expr` is true (SQL: null drops the row). */
export function nonNullWhenTrue(expr: TypedExpr): Set<string> {
  switch (expr.kind) {
    case "isNull":
      return expr.negated && expr.operand.kind === "column" ? new Set([expr.operand.name]) : new Set();
    case "binary":
      if (expr.op === "and") return new Set([...nonNullWhenTrue(expr.left), ...nonNullWhenTrue(expr.right)]);
      if (expr.op === "or") {
        const right = nonNullWhenTrue(expr.right);
        return new Set([...nonNullWhenTrue(expr.left)].filter((c) => right.has(c)));
      }
      if (expr.op === "??") return new Set();
      return new Set([...strictColumns(expr.left), ...strictColumns(expr.right)]);
    case "in":
    case "like":
      return new Set(strictColumns(expr.operand));
    default:
      return new Set();
  }
}

/** Columns whose null makes `expr` null (operators propagate null; functions are not assumed to). */
function strictColumns(expr: TypedExpr): string[] {
  switch (expr.kind) {
    case "column":
      return [expr.name];
    case "unary":
      return strictColumns(expr.operand);
    case "binary":
      return expr.op === "??" || expr.op === "and" || expr.op === "or" ? [] : [...strictColumns(expr.left), ...strictColumns(expr.right)];
    default:
      return [];
  }
}

class ExprChecker {
  constructor(private readonly ctx: ExprContext) {}

  private get sink(): DiagnosticSink {
    return this.ctx.sink;
  }

  /** `inAggregateCall`: inside the arguments of an aggregate function. */
  check(expr: ast.Expr, inAggregateCall: boolean): TypedExpr {
    const span = expr.span;
    switch (expr.kind) {
      case "error":
        return nullExpr(span);
      case "literal":
        return this.literal(expr.literal, span);
      case "column":
        return this.column(expr.name, inAggregateCall);
      case "field":
        return this.field(expr, inAggregateCall);
      case "index": {
        const target = this.check(expr.target, inAggregateCall);
        const index = this.check(expr.index, inAggregateCall);
        return this.index(target, index, span);
      }
      case "call":
        return this.call(expr, inAggregateCall);
      case "unary":
        return this.unary(expr, inAggregateCall);
      case "binary":
        return this.binary(expr, inAggregateCall);
      case "in": {
        const operand = this.check(expr.operand, inAggregateCall);
        let nullable = operand.nullable;
        const list = expr.list.map((item) => {
          const typed = this.check(item, inAggregateCall);
          nullable ||= typed.nullable;
          const common = commonType(operand.type, typed.type);
          if (!common || !isEquatable(common)) {
            this.sink.report("inListTypeMismatch", item.span, { left: formatType(operand.type), right: formatType(typed.type) }, inListHint(operand.type, item));
          }
          return typed;
        });
        return { kind: "in", operand, list, negated: expr.negated, type: BOOL, nullable, span };
      }
      case "isNull": {
        const operand = this.check(expr.operand, inAggregateCall);
        if (!operand.nullable && (operand.kind === "column" || operand.kind === "field")) {
          const name = operand.kind === "column" ? operand.name : operand.name;
          this.sink.report(
            "alwaysNull",
            span,
            { name, test: expr.negated ? "is not null" : "is null", value: expr.negated ? "true" : "false" },
            `\`${name}\` is \`${formatField(operand)}\`; declare it \`${formatType(operand.type)}?\` if it can be missing`,
          );
        }
        return { kind: "isNull", operand, negated: expr.negated, type: BOOL, nullable: false, span };
      }
      case "like": {
        const operand = this.check(expr.operand, inAggregateCall);
        const pattern = this.check(expr.pattern, inAggregateCall);
        if (!fits(operand.type, STRING) || !fits(pattern.type, STRING)) {
          this.sink.report("operatorTypeMismatch", span, { op: "like", left: formatType(operand.type), right: formatType(pattern.type) }, "`like` matches a `string` against a `string` pattern with `%` and `_`");
        }
        return { kind: "like", operand, pattern, negated: expr.negated, type: BOOL, nullable: operand.nullable || pattern.nullable, span };
      }
      case "case": {
        const whens = expr.whens.map((w) => ({
          condition: this.condition(w.condition, "a `when` condition", inAggregateCall),
          result: this.check(w.result, inAggregateCall),
        }));
        const otherwise = expr.otherwise && this.check(expr.otherwise, inAggregateCall);
        const results = [...whens.map((w) => w.result), ...(otherwise ? [otherwise] : [])];
        const type = this.unify(results, "case");
        const nullable = otherwise === undefined || results.some((r) => r.nullable);
        return { kind: "case", whens, otherwise, type, nullable, span };
      }
      case "if": {
        const condition = this.condition(expr.condition, "the condition of `if`", inAggregateCall);
        const then = this.check(expr.then, inAggregateCall);
        const otherwise = this.check(expr.otherwise, inAggregateCall);
        const type = this.unify([then, otherwise], "if");
        return { kind: "case", whens: [{ condition, result: then }], otherwise, type, nullable: then.nullable || otherwise.nullable, span };
      }
      case "cast":
        return this.cast(expr, inAggregateCall);
      default:
        return assertNever(expr);
    }
  }

  /** Checks a condition: `bool` or `null`. */
  condition(expr: ast.Expr, context: string, inAggregateCall: boolean): TypedExpr {
    const typed = this.check(expr, inAggregateCall);
    if (!fits(typed.type, BOOL)) {
      this.sink.report("conditionNotBool", expr.span, { context, type: formatType(typed.type) }, conditionHint(typed));
    }
    return typed;
  }

  private unify(results: TypedExpr[], construct: string): DataType {
    let type: DataType = NULL;
    for (const result of results) {
      const common = commonType(type, result.type);
      if (!common) {
        this.sink.report("branchTypeMismatch", result.span, { construct, first: formatType(type), other: formatType(result.type) }, "convert the branches to one type with `cast(... as TYPE)`");
        continue;
      }
      type = common;
    }
    return type;
  }

  // ---- leaves --------------------------------------------------------------------------------

  private literal(literal: ast.Literal, span: ast.Span): TypedExpr {
    const of = (value: LiteralValue, type: DataType): TypedExpr => ({ kind: "literal", value, type, nullable: value.type === "null", span });
    switch (literal.type) {
      case "null":
        return of({ type: "null" }, NULL);
      case "bool":
        return of({ type: "bool", value: literal.value }, BOOL);
      case "string":
        return of({ type: "string", value: literal.value }, STRING);
      case "double":
        return of({ type: "double", value: literal.value }, DOUBLE);
      case "integer": {
        const value = BigInt(literal.digits);
        if (value >= -(2n ** 31n) && value < 2n ** 31n) return of({ type: "integer", digits: literal.digits }, INT);
        if (value >= -(2n ** 63n) && value < 2n ** 63n) return of({ type: "integer", digits: literal.digits }, LONG);
        this.sink.report("integerOutOfRange", span, { text: literal.digits }, "a `long` holds -9223372036854775808 to 9223372036854775807; write a `double` such as `1e20` for larger values");
        return nullExpr(span);
      }
      case "duration":
        return of({ type: "duration", micros: literal.micros, text: literal.text }, DURATION);
      case "size":
        return of({ type: "size", bytes: literal.bytes, text: literal.text }, LONG);
      case "timestamp": {
        const micros = parseTimestampMicros(literal.text);
        if (micros === undefined) {
          this.sink.report("badTimestamp", span, { text: literal.text, type: "timestamp" }, "write ISO-8601, e.g. `timestamp \"2024-01-01T10:00:00Z\"`");
          return nullExpr(span);
        }
        return of({ type: "timestamp", micros, text: literal.text }, TIMESTAMP);
      }
      case "date": {
        const days = parseDateDays(literal.text);
        if (days === undefined) {
          this.sink.report("badTimestamp", span, { text: literal.text, type: "date" }, "write `date \"YYYY-MM-DD\"`, e.g. `date \"2024-01-31\"`");
          return nullExpr(span);
        }
        return of({ type: "date", days, text: literal.text }, DATE);
      }
      default:
        return assertNever(literal);
    }
  }

  private column(name: ast.Name, inAggregateCall: boolean): TypedExpr {
    const span = name.span;
    if (name.text === "") return nullExpr(span);
    const aggregate = this.ctx.aggregate;
    if (aggregate && !inAggregateCall) {
      const key = aggregate.keys.find((k) => k.name === name.text);
      if (key) return { kind: "column", name: key.name, type: key.type, nullable: key.nullable, span };
      const input = this.lookup(name.text);
      if (input) {
        this.sink.report("notAggregated", span, { name: name.text }, `add it to \`by\`, or aggregate it, e.g. \`first(${formatName(name.text)})\``);
        return nullExpr(span);
      }
    }
    const found = this.lookup(name.text);
    if (found) return { kind: "column", name: found.as, type: found.field.type, nullable: found.field.nullable, span };
    this.reportUnknownColumn(name);
    return nullExpr(span);
  }

  /**
   * A column in scope. In a join, an unqualified name means the left side (the stream flowing
   * through the pipe); the right side's columns are found by their name when the left has no such
   * column, by their output name (`clicks_ts`), or qualified (`clicks.ts`).
   */
  private lookup(name: string): { field: Field; as: string } | undefined {
    const scope = this.ctx.scope;
    if (scope.kind === "stream") {
      const field = scope.fields.find((f) => f.name === name);
      return field && { field, as: field.name };
    }
    const left = scope.left.fields.find((f) => f.name === name);
    if (left) return { field: left, as: left.name };
    const right = scope.right.fields.find((f) => f.field.name === name || f.as === name);
    return right && { field: right.field, as: right.as };
  }

  private visibleColumns(): string[] {
    const scope = this.ctx.scope;
    if (this.ctx.aggregate) return this.ctx.aggregate.keys.map((k) => k.name);
    return scope.kind === "stream" ? scope.fields.map((f) => f.name) : [...scope.left.fields.map((f) => f.name), ...scope.right.fields.map((f) => f.field.name)];
  }

  /** The columns in scope as a user may write them: in a join, right-side names that clash are qualified. */
  private writtenColumns(): string[] {
    const scope = this.ctx.scope;
    if (scope.kind === "stream") return scope.fields.map((f) => formatName(f.name));
    return [
      ...scope.left.fields.map((f) => formatName(f.name)),
      ...scope.right.fields.map((f) => (f.as === f.field.name ? formatName(f.field.name) : `${formatName(scope.right.stream)}.${formatName(f.field.name)}`)),
    ];
  }

  private reportUnknownColumn(name: ast.Name): void {
    const columns = this.ctx.scope.kind === "stream" ? this.ctx.scope.fields.map((f) => f.name) : this.visibleColumns();
    const close = suggest(name.text, columns);
    let hint: string;
    if (close) hint = `did you mean \`${formatName(close)}\`?`;
    else if (this.ctx.streamNames.has(name.text)) hint = `\`${name.text}\` is a stream; to use its columns, \`join\` it`;
    else if (scalarFunctions.has(name.text) || aggregateFunctions.has(name.text)) hint = `\`${name.text}\` is a function: call it, \`${name.text}(...)\``;
    else {
      const written = this.ctx.aggregate ? columns.map(formatName) : this.writtenColumns();
      hint = written.length ? `the columns here are ${written.slice(0, 12).map((c) => `\`${c}\``).join(", ")}${written.length > 12 ? ", ..." : ""}` : "this stream has no columns";
    }
    this.sink.report("unknownColumn", name.span, { name: name.text }, hint);
  }

  private field(expr: Extract<ast.Expr, { kind: "field" }>, inAggregateCall: boolean): TypedExpr {
    const span = expr.span;
    // `stream.column` in a join: a qualified reference to one side.
    if (expr.target.kind === "column" && this.ctx.scope.kind === "join") {
      const qualifier = expr.target.name.text;
      const scope = this.ctx.scope;
      const isColumn = this.lookup(qualifier) !== undefined;
      if (!isColumn && qualifier !== scope.left.stream && qualifier !== scope.right.stream) {
        const close = suggest(qualifier, [scope.left.stream, scope.right.stream]);
        this.sink.report(
          "unknownColumn",
          expr.target.name.span,
          { name: qualifier },
          close ? `did you mean \`${close}\`?` : `in a join, qualify a column with \`${scope.left.stream}\` (the stream in the pipe) or \`${scope.right.stream}\``,
        );
        return nullExpr(span);
      }
      if (!isColumn && (qualifier === scope.left.stream || qualifier === scope.right.stream)) {
        const side = qualifier === scope.left.stream ? scope.left.fields.map((f) => ({ field: f, as: f.name })) : scope.right.fields;
        const found = side.find((f) => f.field.name === expr.field.text);
        if (!found) {
          const close = suggest(expr.field.text, side.map((f) => f.field.name));
          this.sink.report("unknownColumn", expr.field.span, { name: `${qualifier}.${expr.field.text}` }, close ? `did you mean \`${qualifier}.${close}\`?` : `\`${qualifier}\` has ${side.map((f) => `\`${f.field.name}\``).join(", ")}`);
          return nullExpr(span);
        }
        return { kind: "column", name: found.as, type: found.field.type, nullable: found.field.nullable, span };
      }
    }
    // `clicks.ts` after `join clicks`: the join's output has plain columns, `ts` or `clicks_ts`.
    if (expr.target.kind === "column" && this.ctx.scope.kind === "stream" && this.lookup(expr.target.name.text) === undefined) {
      const qualifier = expr.target.name.text;
      // `orders.amount` in a stream over `orders`: its columns are written bare.
      if ((qualifier === this.ctx.scope.input || qualifier === this.ctx.scope.stream) && this.lookup(expr.field.text) !== undefined) {
        this.sink.report("unknownColumn", expr.span, { name: `${qualifier}.${expr.field.text}` }, `the columns of the stream in the pipe are written bare: \`${formatName(expr.field.text)}\``);
        return nullExpr(span);
      }
      const joined = this.ctx.scope.joined?.get(qualifier);
      if (joined) {
        const as = joined.get(expr.field.text);
        const hint = as !== undefined && this.lookup(as) !== undefined ? `after the join, \`${qualifier}\`'s columns are plain columns: write \`${formatName(as)}\``
          : as !== undefined ? `\`${formatName(as)}\`, the join's column for it, was removed after the join`
            : `\`${qualifier}\` has ${[...joined.keys()].map((c) => `\`${formatName(c)}\``).join(", ")}`;
        this.sink.report("unknownColumn", expr.span, { name: `${qualifier}.${expr.field.text}` }, hint);
        return nullExpr(span);
      }
    }
    const target = this.check(expr.target, inAggregateCall);
    if (target.type.kind === "null") return nullExpr(span);
    if (target.type.kind !== "struct") {
      this.sink.report("notAStruct", expr.field.span, { field: expr.field.text, type: formatType(target.type) }, target.type.kind === "map" ? `read a map's value with \`[\"${expr.field.text}\"]\``
        : target.type.kind === "list" ? "read a list's element by its position, e.g. `[0]` for the first"
          : "only struct values have fields");
      return nullExpr(span);
    }
    const field = target.type.fields.find((f) => f.name === expr.field.text);
    if (!field) {
      const close = suggest(expr.field.text, target.type.fields.map((f) => f.name));
      this.sink.report("unknownField", expr.field.span, { name: expr.field.text, target: describeTarget(expr.target, target.type) }, close ? `did you mean \`${close}\`?` : `its fields are ${target.type.fields.map((f) => `\`${formatName(f.name)}\``).join(", ")}`);
      return nullExpr(span);
    }
    return { kind: "field", target, name: field.name, type: field.type, nullable: target.nullable || field.nullable, span };
  }

  private index(target: TypedExpr, index: TypedExpr, span: ast.Span): TypedExpr {
    if (target.type.kind === "null") return nullExpr(span);
    if (target.type.kind === "list") {
      if (!isIntegral(index.type) && index.type.kind !== "null") {
        this.sink.report("badIndexType", index.span, { container: "list", expected: "int", actual: formatType(index.type) }, "lists are indexed from 0 by whole numbers");
      }
      // Out-of-range indexes give null, as in SQL.
      return { kind: "index", target, index, type: target.type.element.type, nullable: true, span };
    }
    if (target.type.kind === "map") {
      if (!fits(index.type, STRING)) {
        this.sink.report("badIndexType", index.span, { container: "map", expected: "string", actual: formatType(index.type) }, "map keys are strings");
      }
      return { kind: "index", target, index, type: target.type.value.type, nullable: true, span };
    }
    this.sink.report("notIndexable", target.span, { type: formatType(target.type) }, target.type.kind === "struct" ? "read a struct's field with `.name`"
      : target.type.kind === "string" ? "take characters with `substr(s, start, length)`, which counts from 1"
        : "only lists and maps can be indexed");
    return nullExpr(span);
  }

  // ---- calls ---------------------------------------------------------------------------------

  private call(expr: Extract<ast.Expr, { kind: "call" }>, inAggregateCall: boolean): TypedExpr {
    const name = expr.callee.text;
    const span = expr.span;
    if (name === "env") {
      this.sink.report("envOutsideOption", span, {}, "read the variable in an option, e.g. `topic = env(\"TOPIC\", \"orders\")`");
      return nullExpr(span);
    }
    const aggregate = aggregateFunctions.get(name);
    if (aggregate) {
      if (!this.ctx.aggregate) {
        this.sink.report("aggregateOutsideAggregate", expr.callee.span, { name }, `compute it in an \`aggregate\`: \`| aggregate ${aggregateExample(expr)} by KEY\``);
        expr.args.forEach((a) => this.check(a, inAggregateCall));
        return nullExpr(span);
      }
      if (inAggregateCall) {
        this.sink.report("nestedAggregate", expr.callee.span, { name }, "aggregate the column directly, or aggregate in two steps with two `aggregate` transforms");
        return nullExpr(span);
      }
      if (expr.star && name !== "count") {
        this.sink.report("argumentTypeMismatch", span, { index: 1, name, expected: "a column or expression", actual: "*" }, `only \`count(*)\` takes \`*\`; write \`${name}(COLUMN)\``);
        return nullExpr(span);
      }
      const args = expr.args.map((a) => this.check(a, true));
      const result = aggregate.check(args.map(argInfo));
      const neverEmpty = this.ctx.aggregate.grouped && nullOnlyForEmptyGroups.has(name) && args.every((a) => !a.nullable);
      return this.applySignature(result, name, expr, args, (type, nullable) => ({ kind: "aggregate", name, args, type, nullable: nullable && !neverEmpty, span }));
    }
    const scalar = scalarFunctions.get(name);
    const args = expr.args.map((a) => this.check(a, inAggregateCall));
    if (scalar) {
      const result = scalar.check(args.map(argInfo));
      return this.applySignature(result, name, expr, args, (type, nullable) => ({ kind: "call", name, args, imported: false, type, nullable, span }));
    }
    const imported = this.ctx.imports.get(name);
    if (imported) return this.importedCall(imported, expr, args);
    const candidates = [...scalarFunctions.keys(), ...aggregateFunctions.keys(), ...this.ctx.imports.keys()];
    const close = suggest(name, candidates);
    this.sink.report("unknownFunction", expr.callee.span, { name }, close ? `did you mean \`${close}\`?` : "declare your own with `import fn NAME(P: TYPE): TYPE from \"./file.ts\"`");
    return nullExpr(span);
  }

  private applySignature(
    result: SignatureResult,
    name: string,
    expr: Extract<ast.Expr, { kind: "call" }>,
    args: TypedExpr[],
    build: (type: DataType, nullable: boolean) => TypedExpr,
  ): TypedExpr {
    if (result.ok) return build(result.type, result.nullable);
    switch (result.error) {
      case "arity":
        this.sink.report("wrongArgumentCount", expr.span, { name, expected: result.expected, actual: args.length }, signatureHint(name));
        break;
      case "argument": {
        const arg = args[result.index];
        this.sink.report("argumentTypeMismatch", arg?.span ?? expr.span, { index: result.index + 1, name, expected: result.expected, actual: arg ? formatField(arg) : "nothing" }, signatureHint(name));
        break;
      }
      case "value":
        this.sink.report("badArgumentValue", args[result.index]?.span ?? expr.span, { index: result.index + 1, name, reason: result.reason }, signatureHint(name));
        break;
      default:
        assertNever(result);
    }
    return nullExpr(expr.span);
  }

  private importedCall(fn: ImportedFunction, expr: Extract<ast.Expr, { kind: "call" }>, args: TypedExpr[]): TypedExpr {
    const typeOf = (f: { type: DataType; nullable: boolean }) => (f.type.kind === "null" ? "" : `: ${formatField(f)}`);
    const display = `${fn.name}(${fn.params.map((p) => `${formatName(p.name)}${typeOf(p)}`).join(", ")})${typeOf(fn.returns)}`;
    if (args.length !== fn.params.length) {
      this.sink.report("wrongArgumentCount", expr.span, { name: fn.name, expected: `${fn.params.length} argument${fn.params.length === 1 ? "" : "s"}`, actual: args.length }, `it is declared as \`${display}\``);
      return nullExpr(expr.span);
    }
    let nullable = fn.returns.nullable;
    for (const [i, arg] of args.entries()) {
      const param = fn.params[i]!;
      // A parameter of an unknown type (reported where it is declared) takes anything.
      if (param.type.kind !== "null" && !isAssignable(arg.type, param.type)) {
        this.sink.report("argumentTypeMismatch", arg.span, { index: i + 1, name: fn.name, expected: `a \`${formatType(param.type)}\``, actual: formatField(arg) }, `it is declared as \`${display}\``);
        return nullExpr(expr.span);
      }
      // A null argument to a parameter that is not nullable makes the call null, as for built-ins.
      if (arg.nullable && !param.nullable) nullable = true;
    }
    return { kind: "call", name: fn.name, args, imported: true, type: fn.returns.type, nullable, span: expr.span };
  }

  // ---- operators -----------------------------------------------------------------------------

  private unary(expr: Extract<ast.Expr, { kind: "unary" }>, inAggregateCall: boolean): TypedExpr {
    const operand = this.check(expr.operand, inAggregateCall);
    const span = expr.span;
    if (expr.op === "not") {
      if (!fits(operand.type, BOOL)) this.sink.report("unaryTypeMismatch", span, { op: "not", type: formatType(operand.type) }, `\`not\` negates a \`bool\`; ${conditionHint(operand)}`);
      return { kind: "unary", op: "not", operand, type: BOOL, nullable: operand.nullable, span };
    }
    if (!isNumeric(operand.type) && operand.type.kind !== "duration" && operand.type.kind !== "null") {
      this.sink.report("unaryTypeMismatch", span, { op: "-", type: formatType(operand.type) }, "`-` negates a number or a duration");
      return nullExpr(span);
    }
    return { kind: "unary", op: "-", operand, type: operand.type, nullable: operand.nullable, span };
  }

  private binary(expr: Extract<ast.Expr, { kind: "binary" }>, inAggregateCall: boolean): TypedExpr {
    const left = this.check(expr.left, inAggregateCall);
    const right = this.check(expr.right, inAggregateCall);
    const span = expr.span;
    const op = expr.op;
    const result = binaryResult(op, left, right);
    if ("hint" in result) {
      this.sink.report("operatorTypeMismatch", expr.opSpan, { op, left: formatType(left.type), right: formatType(right.type) }, result.hint);
      return nullExpr(span);
    }
    return { kind: "binary", op, left, right, type: result.type, nullable: result.nullable, span };
  }

  private cast(expr: Extract<ast.Expr, { kind: "cast" }>, inAggregateCall: boolean): TypedExpr {
    const operand = this.check(expr.operand, inAggregateCall);
    const target = resolveType(expr.type, "cast", this.ctx.schemas, this.sink);
    const verdict = target.type.kind === "null" ? "ok" : castVerdict(operand.type, target.type);
    if (verdict === "invalid") {
      this.sink.report("invalidCast", expr.span, { from: formatType(operand.type), to: formatType(target.type) }, castHint(operand.type, target.type));
      return nullExpr(expr.span);
    }
    return { kind: "cast", operand, type: target.type, nullable: operand.nullable || target.nullable || verdict === "may-fail", span: expr.span };
  }
}

// ---- operator and cast rules -----------------------------------------------------------------

type BinaryResult = { type: DataType; nullable: boolean } | { hint: string };

/** The result of `left OP right`, or a hint when the operator does not apply. */
function binaryResult(op: ast.BinaryOp, left: TypedExpr, right: TypedExpr): BinaryResult {
  const l = left.type;
  const r = right.type;
  const nullable = left.nullable || right.nullable;
  const anyNull = l.kind === "null" || r.kind === "null";
  switch (op) {
    case "??": {
      const type = commonType(l, r);
      return type ? { type, nullable: left.nullable && right.nullable } : { hint: "both sides of `??` must have one type; convert one with `cast(... as TYPE)`" };
    }
    case "and":
    case "or":
      return fits(l, BOOL) && fits(r, BOOL) ? { type: BOOL, nullable } : { hint: `\`${op}\` combines two \`bool\` values` };
    case "==":
    case "!=": {
      const common = commonType(l, r);
      return common && isEquatable(common) ? { type: BOOL, nullable } : { hint: comparisonHint(l, r) };
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const common = commonType(l, r);
      return common && isOrdered(common) ? { type: BOOL, nullable } : { hint: comparisonHint(l, r) };
    }
    case "+":
      if (anyNull || (isNumeric(l) && isNumeric(r))) return { type: arithmeticType(op, l, r), nullable };
      if (l.kind === "string" && r.kind === "string") return { type: STRING, nullable };
      if (l.kind === "timestamp" && r.kind === "duration") return { type: TIMESTAMP, nullable };
      if (l.kind === "duration" && r.kind === "timestamp") return { type: TIMESTAMP, nullable };
      if (l.kind === "duration" && r.kind === "duration") return { type: DURATION, nullable };
      return { hint: plusHint(left, right) };
    case "-":
      if (anyNull || (isNumeric(l) && isNumeric(r))) return { type: arithmeticType(op, l, r), nullable };
      if (l.kind === "timestamp" && r.kind === "duration") return { type: TIMESTAMP, nullable };
      if (l.kind === "timestamp" && r.kind === "timestamp") return { type: DURATION, nullable };
      if (l.kind === "duration" && r.kind === "duration") return { type: DURATION, nullable };
      return { hint: "`-` subtracts numbers, a duration from a timestamp, or two timestamps" };
    case "*":
      if (anyNull || (isNumeric(l) && isNumeric(r))) return { type: arithmeticType(op, l, r), nullable };
      if ((l.kind === "duration" && isIntegral(r)) || (isIntegral(l) && r.kind === "duration")) return { type: DURATION, nullable };
      return { hint: "`*` multiplies numbers, or a duration by a whole number" };
    case "/":
    case "%": {
      // Division by zero gives null, as in Spark SQL; so the result is always nullable.
      if (anyNull || (isNumeric(l) && isNumeric(r))) return { type: arithmeticType(op, l, r), nullable: true };
      if (op === "/" && l.kind === "duration" && isIntegral(r)) return { type: DURATION, nullable: true };
      return { hint: `\`${op}\` applies to numbers` };
    }
    default:
      return assertNever(op);
  }
}

/**
 * The type of arithmetic on two numbers (or null). Integers and doubles meet at the wider type;
 * `/` of integers or of decimals gives `double`. Decimals follow DuckDB, the test oracle: `+` and
 * `-` keep the larger scale and add a digit for the carry, `*` adds precisions and scales (at most
 * 38 digits), `%` keeps the common type.
 */
function arithmeticType(op: "+" | "-" | "*" | "/" | "%", l: DataType, r: DataType): DataType {
  const common = commonType(l, r) ?? NULL;
  if (op === "/") return isIntegral(common) || common.kind === "decimal" ? DOUBLE : common;
  if (common.kind !== "decimal" || op === "%") return common;
  const a = asDecimal(l) ?? common;
  const b = asDecimal(r) ?? common;
  if (a.kind !== "decimal" || b.kind !== "decimal") return common;
  if (op === "*") return { kind: "decimal", precision: Math.min(38, a.precision + b.precision), scale: Math.min(38, a.scale + b.scale) };
  const scale = Math.max(a.scale, b.scale);
  return { kind: "decimal", precision: Math.min(38, Math.max(a.precision - a.scale, b.precision - b.scale) + scale + 1), scale };
}

/** A decimal, or an integer seen as the decimal that holds all its values. */
function asDecimal(type: DataType): DataType | undefined {
  if (type.kind === "decimal") return type;
  if (type.kind === "int") return { kind: "decimal", precision: 10, scale: 0 };
  if (type.kind === "long") return { kind: "decimal", precision: 19, scale: 0 };
  return undefined;
}

function comparisonHint(l: DataType, r: DataType): string {
  const timeVsString = (a: DataType, b: DataType) => (a.kind === "timestamp" || a.kind === "date") && b.kind === "string";
  if (timeVsString(l, r) || timeVsString(r, l)) {
    const kind = l.kind === "string" ? r.kind : l.kind;
    return `write the value as a typed literal: \`${kind} "${kind === "date" ? "2024-01-01" : "2024-01-01T00:00:00Z"}"\``;
  }
  if ((isNumeric(l) && r.kind === "string") || (l.kind === "string" && isNumeric(r))) return "convert one side with `cast(... as TYPE)`";
  if (l.kind === "map" || r.kind === "map") return "maps cannot be compared; compare their values, e.g. `m[\"key\"]`";
  return "both sides must have comparable types";
}

type CastVerdict = "ok" | "may-fail" | "invalid";

/** Whether `cast(from as to)` is allowed; `may-fail` casts give null for values that do not convert. */
function castVerdict(from: DataType, to: DataType): CastVerdict {
  if (from.kind === "null" || isAssignable(from, to)) return "ok";
  if (to.kind === "string") return from.kind === "duration" ? "invalid" : "ok";
  if (isNumeric(from) && isNumeric(to)) return "may-fail";
  if (from.kind === "bool" && isNumeric(to)) return "ok";
  if (isNumeric(from) && to.kind === "bool") return "ok";
  if (from.kind === "string") return ["bool", "int", "long", "double", "decimal", "date", "timestamp", "bytes"].includes(to.kind) ? "may-fail" : "invalid";
  if (from.kind === "timestamp" && to.kind === "date") return "ok";
  if (from.kind === "date" && to.kind === "timestamp") return "ok";
  if (from.kind === "list" && to.kind === "list") {
    const element = castVerdict(from.element.type, to.element.type);
    return element === "invalid" ? "invalid" : element;
  }
  return "invalid";
}

function castHint(from: DataType, to: DataType): string {
  if (from.kind === "timestamp" && isIntegral(to)) return "use `epoch_millis(ts)` for milliseconds since the epoch";
  if (isIntegral(from) && to.kind === "timestamp") return "use `from_epoch_millis(n)` to read milliseconds since the epoch";
  return "casts convert between numbers, to and from strings, between dates and timestamps, and between lists of those";
}

/** How to turn a value that is not a `bool` into a condition; names the column when it is one. */
export function conditionHint(expr: TypedExpr): string {
  const x = expr.kind === "column" ? formatName(expr.name) : "x";
  if (expr.kind === "binary" && expr.op === "??") return "compare the value, e.g. `(x ?? 0) > 0`";
  if (isNumeric(expr.type)) return `compare it, e.g. \`${x} > 0\` or \`${x} != 0\``;
  if (expr.type.kind === "string") return `compare it, e.g. \`${x} == "yes"\` or \`${x} != ""\``;
  return `write a comparison or a test such as \`${x} is not null\``;
}

/** The hint for `+` on operands it does not apply to. */
function plusHint(left: TypedExpr, right: TypedExpr): string {
  const [number, text] = isNumeric(left.type) && right.type.kind === "string" ? [left, right] : isNumeric(right.type) && left.type.kind === "string" ? [right, left] : [undefined, undefined];
  if (number && text) {
    if (text.kind === "literal" && text.value.type === "string" && /^-?[0-9]+(\.[0-9]+)?$/.test(text.value.value.trim())) return `to add numbers, write the number without quotes: \`${text.value.value.trim()}\``;
    return "to join text, convert the number with `cast(... as string)`; to add numbers, convert the text with `cast(... as double)`";
  }
  if (left.type.kind === "string" || right.type.kind === "string") return "`+` joins two strings; convert the other side with `cast(... as string)`";
  return "`+` adds numbers, joins strings, and adds a duration to a timestamp";
}

/** The hint for an `in` list value whose type does not meet the left side's. */
function inListHint(left: DataType, item: ast.Expr): string {
  if (isNumeric(left) && item.kind === "literal" && item.literal.type === "string" && /^-?[0-9]+(\.[0-9]+)?$/.test(item.literal.value.trim())) {
    return `the left side is \`${formatType(left)}\`: write the number without quotes, \`${item.literal.value.trim()}\``;
  }
  return `the left side is \`${formatType(left)}\`, so every value in the list must be one too`;
}

/** An aggregate call as it could be written in `aggregate`: `total_amount = sum(amount)`. */
function aggregateExample(expr: Extract<ast.Expr, { kind: "call" }>): string {
  const name = expr.callee.text;
  const arg = expr.args[0];
  if (expr.star || expr.args.length === 0) return `n = ${name}()`;
  if (expr.args.length === 1 && arg?.kind === "column") return `${name}_${arg.name.text.replace(/[^A-Za-z0-9_]/g, "_")} = ${name}(${formatName(arg.name.text)})`;
  return `${name}_value = ${name}(...)`;
}

/** What a field access reads, as the user wrote it (`customer`, `shipping.address`), else its type. */
function describeTarget(expr: ast.Expr, type: DataType): string {
  const path = (e: ast.Expr): string | undefined =>
    e.kind === "column" ? formatName(e.name.text) : e.kind === "field" ? ((p) => p && `${p}.${formatName(e.field.text)}`)(path(e.target)) : undefined;
  const written = path(expr);
  return written ? `\`${written}\`` : `\`${formatType(type)}\``;
}

function signatureHint(name: string): string {
  const fn = scalarFunctions.get(name) ?? aggregateFunctions.get(name);
  return fn ? `\`${fn.display}\`` : "";
}

/** A value of type `type` fits where `expected` is wanted (null fits everywhere). */
function fits(type: DataType, expected: DataType): boolean {
  return type.kind === "null" || isAssignable(type, expected);
}

export function argInfo(expr: TypedExpr): ArgInfo {
  if (expr.kind !== "literal") return { type: expr.type, nullable: expr.nullable };
  const v = expr.value;
  const literal =
    v.type === "null" ? null
      : v.type === "bool" ? v.value
        : v.type === "integer" ? Number(v.digits)
          : v.type === "double" ? v.value
            : v.type === "string" ? v.value
              : undefined;
  return literal === undefined ? { type: expr.type, nullable: expr.nullable } : { type: expr.type, nullable: expr.nullable, literal };
}
