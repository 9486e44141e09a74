/**
 * Every connector and the pipeline's options, in one table, and the validation of option lists
 * and targets against it.
 *
 * Contract: `connectors` is the one description of what a source or sink declaration may say: the
 * roles a connector plays, whether it takes a target (`table "PATH"`), and per role the options it
 * accepts, each with the kind of value it takes, whether it is required, and its default.
 * `validateOptions` and `validateTarget` report every problem into the sink (unknown, duplicate,
 * missing, mistyped options, bad words, bad `env()` calls, missing or unexpected targets) and
 * return what was valid, plus defaults, for the checker and the planner. They do not check what
 * needs the rest of the program (that `partition_by` names real columns, that a `key` expression
 * types, that a `timestamp "..."` text parses, that a checkpoint exists when a sink needs one):
 * they hand those pieces back for the checker.
 *
 * Decisions (where LANGUAGE.md is silent):
 * - Defaults: `retain_batches = 100`, `late = deadletter` (LANGUAGE.md); kafka source
 *   `format = json`, `start = latest` (Spark); files source `format = json`; generator
 *   `seed = 0` (so a replay regenerates the same rows); table sink `mode = append`,
 *   `target_file_size = 128mb`; kafka sink `format = json`; files sink `format = json`; console
 *   `mode = append` (Spark), `rows = 20` (Spark's `show`). No default, so the runtime decides:
 *   `trigger` (a new batch as soon as the last one ends, as Spark), `max_per_batch`,
 *   `max_files_per_batch`, `generator.rate` (unthrottled), `generator.rows` (unbounded),
 *   `compact_every` (never).
 * - Only string-valued options (`checkpoint`, `brokers`, `topic`) and targets take `env(...)`;
 *   a number or a word from the environment would only be checked when the program starts.
 * - Integers must be safe JavaScript integers (|n| <= 2^53 - 1); sizes and positive integers
 *   must be above zero. `partition_by` takes a list of bare column names, each at most once; an
 *   empty list means no partitioning.
 * - A word written as a string (`format = "json"`) is a type mismatch, with a hint to drop the
 *   quotes; a string option written as a bare word (`topic = orders`) likewise, with a hint to
 *   add them.
 * - The kafka sink's `format` is `json` only.
 */
import type { Expr, Name, OptionAssign, OptionValue, Span } from "../grammar/ast.ts";
import { assertNever } from "../grammar/ast.ts";
import type { DiagnosticSink } from "./diagnostics.ts";
import { suggest } from "./suggest.ts";

// ---- the shape of the table ------------------------------------------------------------------

/** The kind of value an option accepts. */
export type OptionValueKind =
  /** `"text"` or `env("NAME")` / `env("NAME", "default")` */
  | { kind: "string" }
  /** `1`, `100_000`: above zero */
  | { kind: "positiveInteger" }
  /** `42`, `-7` */
  | { kind: "integer" }
  /** `128mb`: above zero */
  | { kind: "size" }
  /** one of `words`, written bare: `json` */
  | { kind: "word"; words: readonly string[] }
  /** one of `words`, or a `timestamp "..."` literal */
  | { kind: "wordOrTimestamp"; words: readonly string[] }
  /** `every DURATION`, `once` or `available_now` */
  | { kind: "trigger" }
  /** `[a, b]`: bare column names */
  | { kind: "columnList" }
  /** an expression over the stream's columns, typed by the checker */
  | { kind: "expression" }
  /** a connector among `connectors` and its target: `table "data/rejects"` */
  | { kind: "connectorTarget"; connectors: readonly string[] };

/** A string as written: a literal, or an environment variable read when the program starts. */
export type { StringSetting } from "../runtime/plan.ts";
import type { StringSetting } from "../runtime/plan.ts";

/** A valid option value. */
export type OptionSetting =
  | { kind: "string"; value: StringSetting }
  | { kind: "integer"; value: number }
  | { kind: "size"; bytes: number }
  /** a bare word, including `trigger = once` / `available_now` */
  | { kind: "word"; word: string }
  /** `start = timestamp "..."`: the text is unchecked here */
  | { kind: "timestamp"; text: string }
  /** `trigger = every 30s` */
  | { kind: "every"; micros: number }
  /** `partition_by = [a, b]`: the names, with their spans, for the checker to resolve */
  | { kind: "columns"; columns: Name[] }
  /** `key = user_id`: for the checker to type */
  | { kind: "expression"; expr: Expr }
  /** `deadletter = table "data/rejects"` */
  | { kind: "connector"; connector: string; target: StringSetting };

/** One option an owner accepts. */
export interface OptionSpec {
  name: string;
  summary: string;
  accepts: OptionValueKind;
  required: boolean;
  /** The value when the option is not written; absent when the runtime decides. */
  default?: OptionSetting;
  /** The option as a user would write it, for hints: `topic = "orders"`. */
  example: string;
}

/** Something that takes options: the pipeline, or a connector in one role. */
export interface OptionOwner {
  /** How messages name it: `pipeline`, `kafka source`. */
  label: string;
  options: ReadonlyMap<string, OptionSpec>;
}

export type ConnectorRoleKind = "source" | "sink";

/** A connector in one role: its target rule and its options. */
export interface ConnectorRole extends OptionOwner {
  connector: string;
  role: ConnectorRoleKind;
  /** `required`: `table "PATH"`; `none`: `kafka` */
  target: "required" | "none";
  /** A target for hints, when one is required: `data/orders`. */
  targetExample: string | undefined;
}

/** A connector and the roles it plays. */
export interface Connector {
  name: string;
  summary: string;
  source: ConnectorRole | undefined;
  sink: ConnectorRole | undefined;
}

// ---- the table -------------------------------------------------------------------------------

const STRING = { kind: "string" } as const;
const POSITIVE_INTEGER = { kind: "positiveInteger" } as const;
const FORMATS = ["json", "csv", "parquet"] as const;

function word(word: string): OptionSetting {
  return { kind: "word", word };
}

function owner(label: string, options: readonly OptionSpec[]): OptionOwner {
  return { label, options: new Map(options.map((o) => [o.name, o])) };
}

function role(connector: string, kind: ConnectorRoleKind, targetExample: string | undefined, options: readonly OptionSpec[]): ConnectorRole {
  return { ...owner(`${connector} ${kind}`, options), connector, role: kind, target: targetExample === undefined ? "none" : "required", targetExample };
}

/** The options of the `pipeline` declaration. */
export const pipelineOptions: OptionOwner = owner("pipeline", [
  {
    name: "checkpoint",
    summary: "Directory of the checkpoint (offsets, state, plan); required when a sink is a table or kafka.",
    accepts: STRING,
    required: false,
    example: 'checkpoint = "checkpoints/NAME"',
  },
  {
    name: "trigger",
    summary: "When batches run: `every DURATION`, `once`, or `available_now` (everything available, then stop).",
    accepts: { kind: "trigger" },
    required: false,
    example: "trigger = every 30s",
  },
  {
    name: "retain_batches",
    summary: "How many checkpointed batches to keep.",
    accepts: POSITIVE_INTEGER,
    required: false,
    default: { kind: "integer", value: 100 },
    example: "retain_batches = 100",
  },
  {
    name: "deadletter",
    summary: "Where rejected and late records go: a `table` or `files` target.",
    accepts: { kind: "connectorTarget", connectors: ["table", "files"] },
    required: false,
    example: 'deadletter = table "data/rejects"',
  },
  {
    name: "late",
    summary: "What happens to late rows: `deadletter` or `drop`.",
    accepts: { kind: "word", words: ["deadletter", "drop"] },
    required: false,
    default: word("deadletter"),
    example: "late = drop",
  },
]);

const kafkaBrokers: OptionSpec = {
  name: "brokers",
  summary: "Bootstrap servers, `host:port` separated by commas.",
  accepts: STRING,
  required: true,
  example: 'brokers = env("KAFKA_BROKERS", "localhost:9092")',
};
const kafkaTopic: OptionSpec = { name: "topic", summary: "The Kafka topic.", accepts: STRING, required: true, example: 'topic = "orders"' };

function formatOption(words: readonly string[], summary: string): OptionSpec {
  return { name: "format", summary, accepts: { kind: "word", words }, required: false, default: word("json"), example: `format = ${words[0]}` };
}

const connectorList: readonly Connector[] = [
  {
    name: "kafka",
    summary: "A Kafka topic: read from the last committed offsets, written at least once with an idempotent producer.",
    source: role("kafka", "source", undefined, [
      kafkaBrokers,
      kafkaTopic,
      formatOption(["json", "csv", "raw"], "How records are decoded: `json`, `csv` or `raw`."),
      {
        name: "start",
        summary: "Where a new checkpoint starts reading: `earliest`, `latest` or a `timestamp \"...\"`.",
        accepts: { kind: "wordOrTimestamp", words: ["earliest", "latest"] },
        required: false,
        default: word("latest"),
        example: "start = earliest",
      },
      { name: "max_per_batch", summary: "At most this many records per batch.", accepts: POSITIVE_INTEGER, required: false, example: "max_per_batch = 100_000" },
    ]),
    sink: role("kafka", "sink", undefined, [
      kafkaBrokers,
      { ...kafkaTopic, example: 'topic = "paid-orders"' },
      { name: "key", summary: "The record key: an expression over the stream's columns.", accepts: { kind: "expression" }, required: false, example: "key = user_id" },
      formatOption(["json"], "How records are encoded: `json`."),
    ]),
  },
  {
    name: "files",
    summary: "A directory of files: new files are read as they appear; written exactly once, one file set per batch.",
    source: role("files", "source", "data/in", [
      formatOption(FORMATS, "How files are decoded: `json`, `csv` or `parquet`."),
      { name: "max_files_per_batch", summary: "At most this many new files per batch.", accepts: POSITIVE_INTEGER, required: false, example: "max_files_per_batch = 10" },
    ]),
    sink: role("files", "sink", "data/out", [formatOption(FORMATS, "How files are written: `json`, `csv` or `parquet`.")]),
  },
  {
    name: "table",
    summary: "A Delta-protocol table: read as a bounded source or followed for new commits; written exactly once.",
    source: role("table", "source", "data/orders", []),
    sink: role("table", "sink", "data/out", [
      {
        name: "mode",
        summary: "`append` emits final rows once; `complete` rewrites the whole result each batch.",
        accepts: { kind: "word", words: ["append", "complete"] },
        required: false,
        default: word("append"),
        example: "mode = append",
      },
      { name: "partition_by", summary: "Columns whose values partition the table's files.", accepts: { kind: "columnList" }, required: false, example: "partition_by = [country]" },
      {
        name: "target_file_size",
        summary: "The size data files are cut at.",
        accepts: { kind: "size" },
        required: false,
        default: { kind: "size", bytes: 128 * 1024 * 1024 },
        example: "target_file_size = 128mb",
      },
      { name: "compact_every", summary: "Compact small files every this many commits.", accepts: POSITIVE_INTEGER, required: false, example: "compact_every = 10" },
    ]),
  },
  {
    name: "generator",
    summary: "Synthetic rows that fit the declared schema.",
    source: role("generator", "source", undefined, [
      { name: "rate", summary: "Rows per second.", accepts: POSITIVE_INTEGER, required: false, example: "rate = 1000" },
      { name: "rows", summary: "Stop after this many rows.", accepts: POSITIVE_INTEGER, required: false, example: "rows = 1_000_000" },
      { name: "seed", summary: "The random seed; the same seed gives the same rows.", accepts: { kind: "integer" }, required: false, default: { kind: "integer", value: 0 }, example: "seed = 42" },
    ]),
    sink: undefined,
  },
  {
    name: "console",
    summary: "Prints each batch as a table; no delivery guarantee.",
    source: undefined,
    sink: role("console", "sink", undefined, [
      {
        name: "mode",
        summary: "`append`, `update` (rows changed in the batch) or `complete` (the whole result).",
        accepts: { kind: "word", words: ["append", "update", "complete"] },
        required: false,
        default: word("append"),
        example: "mode = update",
      },
      { name: "rows", summary: "At most this many rows printed per batch.", accepts: POSITIVE_INTEGER, required: false, default: { kind: "integer", value: 20 }, example: "rows = 20" },
    ]),
  },
  {
    name: "memory",
    summary: "Keeps output in memory, for tests.",
    source: undefined,
    sink: role("memory", "sink", undefined, []),
  },
];

/** Every connector, by name. */
export const connectors: ReadonlyMap<string, Connector> = new Map(connectorList.map((c) => [c.name, c]));

/** Connectors that can be a source, by name. */
export const sourceConnectors: ReadonlyMap<string, ConnectorRole> = new Map(connectorList.flatMap((c) => (c.source ? [[c.name, c.source] as const] : [])));

/** Connectors that can be a sink, by name. */
export const sinkConnectors: ReadonlyMap<string, ConnectorRole> = new Map(connectorList.flatMap((c) => (c.sink ? [[c.name, c.sink] as const] : [])));

// ---- validation ------------------------------------------------------------------------------

/** Whose options are being validated, and where to point when one is missing. */
export interface OwnerSpec {
  owner: OptionOwner;
  /** Where a missing option is reported: the declaration's connector name, or `pipeline NAME`. */
  span: Span;
}

/** One option's valid value. */
export interface ValidatedOption {
  name: string;
  setting: OptionSetting;
  /** The assignment as written; undefined when the value is the default. */
  option: OptionAssign | undefined;
}

/** The valid options as written, plus the defaults of those not written, by name. */
export interface ValidatedOptions {
  values: ReadonlyMap<string, ValidatedOption>;
}

/**
 * Checks `options` against what `owner` accepts, reporting every problem; an option that is
 * unknown, set a second time or has a bad value is left out of the result (the first of two
 * duplicates is kept). A required option written with a bad value is not also reported missing.
 */
export function validateOptions(owner: OwnerSpec, options: readonly OptionAssign[], sink: DiagnosticSink): ValidatedOptions {
  const { label, options: specs } = owner.owner;
  const values = new Map<string, ValidatedOption>();
  const written = new Map<string, OptionAssign>();
  for (const option of options) {
    const name = option.name.text;
    const spec = specs.get(name);
    if (spec === undefined) {
      sink.report("unknownOption", option.name.span, { owner: label, name }, unknownOptionHint(name, owner.owner));
      continue;
    }
    const first = written.get(name);
    if (first !== undefined) {
      sink.report("duplicateOption", option.name.span, { name }, `the first is on line ${first.name.span.line}; remove one`);
      continue;
    }
    written.set(name, option);
    const setting = readOptionValue(spec, option.value, sink);
    if (setting !== undefined) values.set(name, { name, setting, option });
  }
  for (const spec of specs.values()) {
    if (written.has(spec.name)) continue;
    if (spec.required) sink.report("missingOption", owner.span, { owner: label, name: spec.name }, `add \`${spec.example}\``);
    else if (spec.default !== undefined) values.set(spec.name, { name: spec.name, setting: spec.default, option: undefined });
  }
  return { values };
}

/**
 * Checks a declaration's target against its connector role: present when required (else
 * `missingTarget` at `span`, the connector's name), absent otherwise (`unexpectedTarget`), and a
 * string or `env(...)`. Returns the target when there is a valid one.
 */
export function validateTarget(role: ConnectorRole, target: Expr | undefined, span: Span, sink: DiagnosticSink): StringSetting | undefined {
  switch (role.target) {
    case "none":
      if (target !== undefined) sink.report("unexpectedTarget", target.span, { connector: role.connector, role: role.role }, "remove it");
      return undefined;
    case "required":
      if (target === undefined) {
        sink.report("missingTarget", span, { connector: role.connector, role: role.role, example: role.targetExample ?? "PATH" });
        return undefined;
      }
      return readTargetString(target, "target", sink);
  }
}

function unknownOptionHint(name: string, owner: OptionOwner): string {
  const names = [...owner.options.keys()];
  if (names.length === 0) return `\`${owner.label}\` takes no options`;
  const close = suggest(name, names);
  return close !== undefined ? `did you mean \`${close}\`?` : `valid options: ${names.map((n) => `\`${n}\``).join(", ")}`;
}

/** "`json`, `csv` or `raw`" */
function listWords(words: readonly string[]): string {
  const quoted = words.map((w) => `\`${w}\``);
  return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

/** What `optionTypeMismatch` says an option takes: completes "option `x` takes …". */
export function describeOptionValueKind(accepts: OptionValueKind): string {
  switch (accepts.kind) {
    case "string":
      return 'a string or `env("NAME")`';
    case "positiveInteger":
      return "a positive integer";
    case "integer":
      return "an integer";
    case "size":
      return "a size such as `128mb`";
    case "word":
      return listWords(accepts.words);
    case "wordOrTimestamp":
      return listWords([...accepts.words, 'timestamp "..."']);
    case "trigger":
      return "`every DURATION`, `once` or `available_now`";
    case "columnList":
      return "a list of column names, such as `[country]`";
    case "expression":
      return "an expression over the stream's columns, such as `user_id`";
    case "connectorTarget":
      return `a connector and its target, such as \`${accepts.connectors[0]} "data/rejects"\``;
  }
}

/** The option's value if it fits `spec`, else undefined after reporting why. */
function readOptionValue(spec: OptionSpec, value: OptionValue, sink: DiagnosticSink): OptionSetting | undefined {
  const name = spec.name;
  const mismatch = (hint?: string): undefined => {
    sink.report("optionTypeMismatch", value.span, { name, expected: describeOptionValueKind(spec.accepts) }, hint);
    return undefined;
  };
  const accepts = spec.accepts;
  switch (accepts.kind) {
    case "string": {
      if (value.kind !== "expr") return mismatch();
      const text = readStringExpr(value.expr, sink);
      if (text === "not a string") return mismatch(value.expr.kind === "column" ? `write it in quotes: "${value.expr.name.text}"` : undefined);
      return text && { kind: "string", value: text };
    }
    case "positiveInteger":
    case "integer": {
      if (value.kind !== "expr") return mismatch();
      const n = readInteger(value.expr);
      if (n === undefined) return mismatch(isEnvCall(value.expr) ? "`env()` gives a string, so only string options take it" : undefined);
      if (n === "out of range") {
        sink.report("badOptionValue", value.span, { value: sourceTextOf(value.expr), name }, `integers go up to ${Number.MAX_SAFE_INTEGER}`);
        return undefined;
      }
      if (accepts.kind === "positiveInteger" && n <= 0) return mismatch();
      return { kind: "integer", value: n };
    }
    case "size": {
      if (value.kind !== "expr" || value.expr.kind !== "literal") return mismatch();
      const literal = value.expr.literal;
      if (literal.type !== "size" || literal.bytes <= 0) return mismatch();
      return { kind: "size", bytes: literal.bytes };
    }
    case "word":
    case "wordOrTimestamp": {
      if (value.kind !== "expr") return mismatch();
      const expr = value.expr;
      if (accepts.kind === "wordOrTimestamp" && expr.kind === "literal" && expr.literal.type === "timestamp") {
        return { kind: "timestamp", text: expr.literal.text };
      }
      if (expr.kind === "literal" && expr.literal.type === "string" && accepts.words.includes(expr.literal.value)) {
        return mismatch(`write it without quotes: \`${expr.literal.value}\``);
      }
      if (expr.kind !== "column") return mismatch();
      return readWord(name, expr.name, accepts.words, sink);
    }
    case "trigger": {
      if (value.kind === "every") {
        const interval = value.interval;
        if (interval.kind === "literal" && interval.literal.type === "duration" && interval.literal.micros > 0) {
          return { kind: "every", micros: interval.literal.micros };
        }
        sink.report("durationExpected", interval.span, { context: "the trigger interval" });
        return undefined;
      }
      if (value.kind !== "expr") return mismatch();
      const expr = value.expr;
      if (expr.kind === "literal" && expr.literal.type === "duration") return mismatch(`write \`every ${expr.literal.text}\``);
      if (expr.kind !== "column") return mismatch();
      return readWord(name, expr.name, ["once", "available_now"], sink, "`every DURATION`, `once`, `available_now`");
    }
    case "columnList": {
      if (value.kind !== "list") return mismatch(value.kind === "expr" && value.expr.kind === "column" ? `write \`[${value.expr.name.text}]\`` : undefined);
      const columns: Name[] = [];
      let valid = true;
      for (const item of value.items) {
        const column = item.kind === "expr" && item.expr.kind === "column" ? item.expr.name : undefined;
        if (column === undefined) {
          sink.report("optionTypeMismatch", item.span, { name, expected: describeOptionValueKind(accepts) });
          valid = false;
        } else if (columns.some((c) => c.text === column.text)) {
          sink.report("badOptionValue", item.span, { value: column.text, name }, "it is listed twice");
          valid = false;
        } else {
          columns.push(column);
        }
      }
      return valid ? { kind: "columns", columns } : undefined;
    }
    case "expression":
      return value.kind === "expr" ? { kind: "expression", expr: value.expr } : mismatch();
    case "connectorTarget": {
      if (value.kind !== "connector") return mismatch();
      const connector = value.connector.text;
      if (!accepts.connectors.includes(connector)) {
        sink.report("badOptionValue", value.connector.span, { value: connector, name }, `valid connectors: ${accepts.connectors.map((c) => `\`${c}\``).join(", ")}`);
        return undefined;
      }
      const target = readTargetString(value.target, name, sink);
      return target && { kind: "connector", connector, target };
    }
    default:
      return assertNever(accepts);
  }
}

/** A bare word among `words`, or undefined after `badOptionValue` with the valid words in the hint. */
function readWord(option: string, word: Name, words: readonly string[], sink: DiagnosticSink, validText?: string): OptionSetting | undefined {
  if (words.includes(word.text)) return { kind: "word", word: word.text };
  const close = suggest(word.text, words);
  const valid = `valid values: ${validText ?? words.map((w) => `\`${w}\``).join(", ")}`;
  sink.report("badOptionValue", word.span, { value: word.text, name: option }, close !== undefined ? `did you mean \`${close}\`? ${valid}` : valid);
  return undefined;
}

/** A target (of a declaration or of `deadletter`): a string or `env(...)`. */
function readTargetString(target: Expr, name: string, sink: DiagnosticSink): StringSetting | undefined {
  const text = readStringExpr(target, sink);
  if (text === "not a string") {
    sink.report("optionTypeMismatch", target.span, { name, expected: 'a string or `env("NAME")` as the target' }, target.kind === "column" ? `write it in quotes: "${target.name.text}"` : undefined);
    return undefined;
  }
  return text;
}

function isEnvCall(expr: Expr): expr is Extract<Expr, { kind: "call" }> {
  return expr.kind === "call" && expr.callee.text === "env";
}

/**
 * A string literal or an `env()` call; `badEnvCall` (then undefined) for a malformed `env()`;
 * "not a string" for anything else, which the caller reports.
 */
function readStringExpr(expr: Expr, sink: DiagnosticSink): StringSetting | "not a string" | undefined {
  if (expr.kind === "literal" && expr.literal.type === "string") return { kind: "literal", value: expr.literal.value };
  if (!isEnvCall(expr)) return "not a string";
  const strings = expr.args.map((a) => (a.kind === "literal" && a.literal.type === "string" ? a.literal.value : undefined));
  if (expr.star || strings.length < 1 || strings.length > 2 || strings.some((s) => s === undefined)) {
    sink.report("badEnvCall", expr.span, {}, 'write `env("NAME")` or `env("NAME", "default")`');
    return undefined;
  }
  if (strings[0] === "") {
    sink.report("badEnvCall", expr.args[0]!.span, {}, "the variable name cannot be empty");
    return undefined;
  }
  return { kind: "env", variable: strings[0]!, fallback: strings[1] };
}

/** An integer literal, possibly negated; "out of range" beyond safe integers; undefined if not an integer. */
function readInteger(expr: Expr): number | "out of range" | undefined {
  if (expr.kind === "unary" && expr.op === "-") {
    const n = readInteger(expr.operand);
    return typeof n === "number" ? 0 - n : n;
  }
  if (expr.kind !== "literal" || expr.literal.type !== "integer") return undefined;
  const n = Number(expr.literal.digits);
  return Number.isSafeInteger(n) ? n : "out of range";
}

/** An integer expression as the user wrote it, for messages. */
function sourceTextOf(expr: Expr): string {
  if (expr.kind === "unary" && expr.op === "-") return `-${sourceTextOf(expr.operand)}`;
  return expr.kind === "literal" && expr.literal.type === "integer" ? expr.literal.digits : "this";
}
