/**
 * `streamc explain`: the logical plan as text, one node a line.
 *
 * Contract: deterministic for a given plan (golden tests compare it byte for byte). Each node line
 * shows the node and, after `::`, its output schema; each stateful operator is followed by a
 * `state` line with its id, kind, version, and key and value schemas. Expressions print in source
 * syntax, parenthesised only where precedence needs it.
 */
import { assertNever } from "../grammar/ast.ts";
import { isReservedWord } from "../grammar/parser.ts";
import { keywordTokens } from "../grammar/tokens.ts";
import { formatField, formatName as formatIdentifier } from "../runtime/data-type.ts";
import type { Field, Schema, StateSchema } from "../runtime/plan.ts";
import { formatDateDays, formatTimestampMicros } from "../runtime/time.ts";
import type { OptionSetting, StringSetting } from "./connectors.ts";
import type { LiteralValue, LogicalNode, LogicalPlan, TypedExpr, WindowPlan } from "./logical/plan.ts";

/** Words that can never be a bare name (`end`, `when`, `null`, ...): a column so named is written in backticks. */
const reservedWords = new Set(keywordTokens.filter(isReservedWord).map((token) => (token.PATTERN as RegExp).source));

/** A name as it must be written in source: bare if it is an identifier and not a reserved word, else in backticks. */
function formatName(name: string): string {
  return reservedWords.has(name) ? `\`${name}\`` : formatIdentifier(name);
}

export function explainPlan(plan: LogicalPlan): string {
  const lines: string[] = [];
  lines.push(`pipeline ${formatName(plan.pipeline.name)}${formatOptions(plan.pipeline.options)}`);
  for (const source of plan.sources) {
    const target = source.target ? ` ${formatString(source.target)}` : "";
    lines.push("");
    lines.push(`source ${formatName(source.name)} = ${source.connector}${target}${formatOptions(source.options)}`);
    lines.push(`  :: ${formatSchema(source.schema)}`);
  }
  for (const stream of plan.streams) {
    lines.push("");
    const watermark = stream.watermark ? `, watermark ${formatName(stream.watermark.column)} delay ${formatMicros(stream.watermark.delayMicros)}` : "";
    lines.push(`stream ${formatName(stream.name)} [${stream.output}${watermark}]`);
    for (const node of stream.nodes) {
      lines.push(`  ${formatNode(node)} :: ${formatSchema(node.schema)}`);
      const state = nodeState(node);
      if (state) lines.push(`    ${formatState(state)}`);
    }
  }
  if (plan.sinks.length) lines.push("");
  for (const sink of plan.sinks) {
    const target = sink.target ? ` ${formatString(sink.target)}` : "";
    const options = Object.fromEntries(Object.entries(sink.options).filter(([name]) => name !== "mode" && name !== "key"));
    const key = sink.key ? ` key ${formatExpr(sink.key)}` : "";
    lines.push(`sink ${sink.id}: ${formatName(sink.stream)} -> ${sink.connector}${target} mode ${sink.mode}${key}${formatOptions(options)}`);
  }
  for (const fn of plan.imports) {
    lines.push(`import fn ${fn.name}(${fn.params.map((p) => `${formatName(p.name)}: ${formatField(p)}`).join(", ")}): ${formatField(fn.returns)} from ${JSON.stringify(fn.from)}`);
  }
  for (const test of plan.tests) lines.push(`test ${JSON.stringify(test.name)}: ${test.steps.length} step${test.steps.length === 1 ? "" : "s"}`);
  return lines.join("\n") + "\n";
}

function nodeState(node: LogicalNode): StateSchema | undefined {
  switch (node.kind) {
    case "aggregate":
    case "dedup":
      return node.state;
    case "join":
      return node.state;
    default:
      return undefined;
  }
}

export function formatState(state: StateSchema): string {
  return `state ${state.operatorId} (${state.operatorKind} v${state.version}) key ${formatSchema(state.key)} value ${formatSchema(state.value)}`;
}

export function formatSchema(schema: Schema): string {
  return `(${schema.fields.map(formatColumn).join(", ")})`;
}

function formatColumn(field: Field): string {
  return `${formatName(field.name)}: ${formatField(field)}`;
}

function formatNode(node: LogicalNode): string {
  switch (node.kind) {
    case "input":
      return `input ${formatName(node.from)} (${node.fromKind})`;
    case "filter":
      return `where ${formatExpr(node.predicate)}`;
    case "project":
      return `${node.origin === "select" ? "select" : "project"} ${node.columns.map((c) => (c.expr.kind === "column" && c.expr.name === c.name ? formatName(c.name) : `${formatName(c.name)} = ${formatExpr(c.expr)}`)).join(", ")}`;
    case "explode":
      return `explode ${formatName(node.name)} = ${formatExpr(node.list)}`;
    case "watermark":
      return `watermark ${formatName(node.watermark.column)} delay ${formatMicros(node.watermark.delayMicros)}`;
    case "aggregate": {
      const window = node.window ? `window ${formatWindow(node.window)} on ${formatName(node.eventTime ?? "?")} ` : "";
      const by = node.keys.length ? ` by ${node.keys.map((k) => (k.expr.kind === "column" && k.expr.name === k.name ? formatName(k.name) : `${formatName(k.name)} = ${formatExpr(k.expr)}`)).join(", ")}` : "";
      return `${window}aggregate ${node.aggregates.map((a) => `${formatName(a.name)} = ${formatExpr(a.expr)}`).join(", ")}${by}`;
    }
    case "dedup":
      return `dedup by ${node.keys.map(formatName).join(", ")}${node.withinMicros !== undefined ? ` within ${formatMicros(node.withinMicros)} on ${formatName(node.eventTime ?? "?")}` : ""}`;
    case "join": {
      const renamed = node.rightColumns.filter((c) => c.from !== c.as).map((c) => `${formatName(c.from)} as ${formatName(c.as)}`);
      return `${node.joinType === "left" ? "left " : ""}${node.mode} join ${formatName(node.right)} on ${formatExpr(node.on)}${node.withinMicros !== undefined ? ` within ${formatMicros(node.withinMicros)}` : ""}${renamed.length ? ` renaming ${renamed.join(", ")}` : ""}`;
    }
    case "union":
      return `union ${node.others.map(formatName).join(", ")}`;
    default:
      return assertNever(node);
  }
}

export function formatWindow(window: WindowPlan): string {
  switch (window.kind) {
    case "tumbling":
      return `tumbling ${formatMicros(window.sizeMicros)}`;
    case "hopping":
      return `hopping ${formatMicros(window.sizeMicros)} every ${formatMicros(window.slideMicros)}`;
    case "session":
      return `session ${formatMicros(window.gapMicros)}`;
    default:
      return assertNever(window);
  }
}

/** A size in the largest unit that divides it: `128mb`, `1536kb`. */
export function formatBytes(bytes: number): string {
  const units: [string, number][] = [["tb", 1024 ** 4], ["gb", 1024 ** 3], ["mb", 1024 ** 2], ["kb", 1024]];
  for (const [unit, size] of units) if (bytes % size === 0 && bytes !== 0) return `${bytes / size}${unit}`;
  return `${bytes}b`;
}

/** A duration in the largest unit that divides it: `30m`, `90s`, `1500ms`. */
export function formatMicros(micros: number): string {
  const units: [string, number][] = [["d", 86_400_000_000], ["h", 3_600_000_000], ["m", 60_000_000], ["s", 1_000_000], ["ms", 1_000]];
  for (const [unit, size] of units) if (micros % size === 0 && micros !== 0) return `${micros / size}${unit}`;
  return micros === 0 ? "0s" : `${micros / 1000}ms`;
}

function formatString(setting: StringSetting): string {
  return setting.kind === "literal" ? JSON.stringify(setting.value) : `env(${JSON.stringify(setting.variable)}${setting.fallback !== undefined ? `, ${JSON.stringify(setting.fallback)}` : ""})`;
}

function formatOptions(options: Record<string, OptionSetting>): string {
  const entries = Object.entries(options);
  return entries.length ? ` { ${entries.map(([name, value]) => `${name} = ${formatSetting(value)}`).join(", ")} }` : "";
}

function formatSetting(setting: OptionSetting): string {
  switch (setting.kind) {
    case "string":
      return formatString(setting.value);
    case "integer":
      return String(setting.value);
    case "size":
      return formatBytes(setting.bytes);
    case "word":
      return setting.word;
    case "timestamp":
      return `timestamp ${JSON.stringify(setting.text)}`;
    case "every":
      return `every ${formatMicros(setting.micros)}`;
    case "columns":
      return `[${setting.columns.map((c) => formatName(c.text)).join(", ")}]`;
    case "expression":
      return "(expression)";
    case "connector":
      return `${setting.connector} ${formatString(setting.target)}`;
    default:
      return assertNever(setting);
  }
}

// ---- expressions ------------------------------------------------------------------------------

/** Binding strength, loosest first, as in the grammar. */
const precedence: Record<string, number> = { "??": 1, or: 2, and: 3, not: 4, "==": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5, in: 5, is: 5, like: 5, "+": 6, "-": 6, "*": 7, "/": 7, "%": 7, neg: 8 };

export function formatExpr(expr: TypedExpr): string {
  return format(expr, 0);
}

function format(expr: TypedExpr, outer: number): string {
  const wrap = (text: string, level: number) => (level < outer ? `(${text})` : text);
  switch (expr.kind) {
    case "literal":
      return formatLiteral(expr.value);
    case "column":
      return formatName(expr.name);
    case "field":
      return `${format(expr.target, 9)}.${formatName(expr.name)}`;
    case "index":
      return `${format(expr.target, 9)}[${format(expr.index, 0)}]`;
    case "call":
    case "aggregate":
      return `${expr.name}(${expr.args.map((a) => format(a, 0)).join(", ")})`;
    case "unary":
      return expr.op === "not" ? wrap(`not ${format(expr.operand, precedence.not!)}`, precedence.not!) : wrap(`-${format(expr.operand, precedence.neg!)}`, precedence.neg!);
    case "binary": {
      const level = precedence[expr.op]!;
      // Left-associative: the right operand binds one level tighter; comparisons do not chain.
      const leftLevel = level === 5 ? level + 1 : level;
      return wrap(`${format(expr.left, leftLevel)} ${expr.op} ${format(expr.right, level + 1)}`, level);
    }
    case "in":
      return wrap(`${format(expr.operand, 6)} ${expr.negated ? "not in" : "in"} (${expr.list.map((e) => format(e, 0)).join(", ")})`, 5);
    case "isNull":
      return wrap(`${format(expr.operand, 6)} is ${expr.negated ? "not null" : "null"}`, 5);
    case "like":
      return wrap(`${format(expr.operand, 6)} ${expr.negated ? "not like" : "like"} ${format(expr.pattern, 6)}`, 5);
    case "case":
      return `case ${expr.whens.map((w) => `when ${format(w.condition, 0)} then ${format(w.result, 0)}`).join(" ")}${expr.otherwise ? ` else ${format(expr.otherwise, 0)}` : ""} end`;
    case "cast":
      return `cast(${format(expr.operand, 0)} as ${formatField(expr)})`;
    default:
      return assertNever(expr);
  }
}

function formatLiteral(value: LiteralValue): string {
  switch (value.type) {
    case "null":
      return "null";
    case "bool":
      return String(value.value);
    case "integer":
      return value.digits;
    case "double":
      return Number.isInteger(value.value) ? value.value.toFixed(1) : String(value.value);
    case "string":
      return formatStringLiteral(value.value);
    case "timestamp":
      return `timestamp "${formatTimestampMicros(value.micros)}"`;
    case "date":
      return `date "${formatDateDays(value.days)}"`;
    case "duration":
      return value.text;
    case "size":
      return value.text;
    default:
      return assertNever(value);
  }
}

/** A string as it would be written in source, escaped so that it reads back the same. */
export function formatStringLiteral(value: string): string {
  return `"${value.replace(/[\\"\n\t\r]/g, (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r" })[c]!)}"`;
}
