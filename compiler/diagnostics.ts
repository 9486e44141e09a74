/**
 * The diagnostics catalog: every message streamc can report about a program, in one place.
 *
 * Contract: a diagnostic is reported by its catalog key; its code, severity and message come from
 * here and never from the report site. Codes are stable (users search for them): a code is never
 * reused for another meaning. Message templates name their arguments `{like_this}`.
 *
 * Ranges: S1xxx text and syntax · S2xxx names · S3xxx types and values · S4xxx streaming rules ·
 * S5xxx connectors and options · S6xxx tests · S7xxx checkpoint compatibility.
 */
import type { Span } from "../grammar/ast.ts";

export type Severity = "error" | "warning";

interface CatalogEntry {
  code: string;
  severity: Severity;
  message: string;
}

export const catalog = {
  // ---- S1: text and syntax --------------------------------------------------------------------
  unexpectedCharacter: { code: "S1001", severity: "error", message: "unexpected character `{text}`" },
  unterminatedString: { code: "S1002", severity: "error", message: "unterminated string" },
  unterminatedComment: { code: "S1003", severity: "error", message: "unterminated block comment" },
  badEscape: { code: "S1004", severity: "error", message: "unknown escape `{escape}` in a string" },
  unexpectedToken: { code: "S1005", severity: "error", message: "unexpected {found}, expected {expected}" },
  noViableAlternative: { code: "S1006", severity: "error", message: "unexpected {found} in {context}" },
  expectedDeclaration: { code: "S1007", severity: "error", message: "unexpected {found} where a declaration should start" },
  reservedWordAsName: { code: "S1008", severity: "error", message: "`{word}` is a reserved word and cannot be used as a name" },
  badNumber: { code: "S1009", severity: "error", message: "`{text}` is not a valid number" },
  nestedTooDeeply: { code: "S1010", severity: "error", message: "this nests too deeply to be checked" },

  // ---- S2: names ------------------------------------------------------------------------------
  duplicateDeclaration: { code: "S2001", severity: "error", message: "`{name}` is declared twice" },
  unknownStream: { code: "S2002", severity: "error", message: "unknown stream or source `{name}`" },
  unknownSchema: { code: "S2003", severity: "error", message: "unknown schema `{name}`" },
  unknownColumn: { code: "S2004", severity: "error", message: "unknown column `{name}`" },
  unknownField: { code: "S2005", severity: "error", message: "{target} has no field `{name}`" },
  unknownFunction: { code: "S2006", severity: "error", message: "unknown function `{name}`" },
  duplicatePipeline: { code: "S2007", severity: "error", message: "a program has at most one `pipeline` declaration" },
  duplicateColumn: { code: "S2008", severity: "error", message: "column `{name}` appears twice in the output of `{transform}`" },
  notAStream: { code: "S2009", severity: "error", message: "`{name}` is a {actual}, not a stream or source" },
  cycle: { code: "S2010", severity: "error", message: "`{name}` refers to itself: {path}" },
  duplicateField: { code: "S2011", severity: "error", message: "field `{name}` is declared twice" },
  unknownType: { code: "S2012", severity: "error", message: "unknown type `{name}`" },
  badImportPath: { code: "S2013", severity: "error", message: "cannot import `{path}`: {reason}" },
  unusedStream: { code: "S2014", severity: "warning", message: "stream `{name}` is never used by a sink or another stream" },
  notASchema: { code: "S2015", severity: "error", message: "`{name}` is a {actual}, not a schema" },
  duplicateParameter: { code: "S2016", severity: "error", message: "parameter `{name}` is declared twice" },
  shadowsBuiltin: { code: "S2017", severity: "error", message: "`{name}` is a built-in function and cannot be redefined" },

  // ---- S3: types and values --------------------------------------------------------------------
  operatorTypeMismatch: { code: "S3001", severity: "error", message: "`{op}` cannot be applied to `{left}` and `{right}`" },
  conditionNotBool: { code: "S3002", severity: "error", message: "{context} must be a `bool`, but this is `{type}`" },
  wrongArgumentCount: { code: "S3003", severity: "error", message: "`{name}` takes {expected}, but was given {actual}" },
  argumentTypeMismatch: { code: "S3004", severity: "error", message: "argument {index} of `{name}` must be {expected}, but this is `{actual}`" },
  invalidCast: { code: "S3005", severity: "error", message: "cannot cast `{from}` to `{to}`" },
  branchTypeMismatch: { code: "S3006", severity: "error", message: "the branches of `{construct}` have incompatible types `{first}` and `{other}`" },
  inListTypeMismatch: { code: "S3007", severity: "error", message: "`in` compares `{left}` with a list holding `{right}`" },
  notIndexable: { code: "S3008", severity: "error", message: "`[ ]` needs a list or a map, but this is `{type}`" },
  notAStruct: { code: "S3009", severity: "error", message: "`.{field}` needs a struct, but this is `{type}`" },
  badTimestamp: { code: "S3010", severity: "error", message: "`{text}` is not a valid {type}" },
  integerOutOfRange: { code: "S3011", severity: "error", message: "integer `{text}` does not fit in a `long`" },
  badDecimal: { code: "S3012", severity: "error", message: "`decimal({precision}, {scale})` is not a valid decimal type" },
  mapKeyNotString: { code: "S3013", severity: "error", message: "map keys must be `string`, not `{type}`" },
  unaryTypeMismatch: { code: "S3014", severity: "error", message: "`{op}` cannot be applied to `{type}`" },
  unnamedSelectItem: { code: "S3015", severity: "error", message: "this `{transform}` item has no name" },
  nullableNotAllowed: { code: "S3016", severity: "error", message: "{context} must not be nullable, but `{name}` is `{type}`" },
  badArgumentValue: { code: "S3017", severity: "error", message: "argument {index} of `{name}` is not valid: {reason}" },
  notComparable: { code: "S3018", severity: "error", message: "values of type `{type}` cannot be {usage}" },
  badIndexType: { code: "S3019", severity: "error", message: "a `{container}` index must be `{expected}`, but this is `{actual}`" },
  durationExpected: { code: "S3020", severity: "error", message: "{context} must be a duration such as `10m`" },
  durationColumn: { code: "S3022", severity: "error", message: "column `{name}` would hold a duration, which no schema or sink can store" },
  alwaysNull: { code: "S3021", severity: "warning", message: "`{name}` is never null, so `{test}` is always {value}" },

  // ---- S4: streaming rules ---------------------------------------------------------------------
  missingWatermark: { code: "S4001", severity: "error", message: "`{transform}` needs a watermark upstream" },
  watermarkNotTimestamp: { code: "S4002", severity: "error", message: "`watermark` needs a `timestamp` column, but {actual}" },
  windowWithoutAggregate: { code: "S4003", severity: "error", message: "`window` must be followed by `aggregate`" },
  aggregateOutsideAggregate: { code: "S4004", severity: "error", message: "aggregate function `{name}` can only be used in `aggregate`" },
  notAggregated: { code: "S4005", severity: "error", message: "`{name}` is neither aggregated nor a `by` key" },
  nestedAggregate: { code: "S4006", severity: "error", message: "aggregate function `{name}` cannot be nested inside another aggregate" },
  badHoppingWindow: { code: "S4007", severity: "error", message: "a hopping window's slide ({slide}) must be at most its size ({size}) and divide it" },
  appendWithoutWindow: { code: "S4008", severity: "error", message: "`mode = append` cannot emit `{stream}`: it aggregates without a window, so no row is ever final" },
  completeWithoutAggregate: { code: "S4009", severity: "error", message: "`mode = complete` needs an aggregated stream, but `{stream}` is not aggregated" },
  unionSchemaMismatch: { code: "S4011", severity: "error", message: "`union` needs streams with the same schema, but `{other}` differs from {first}: {difference}" },
  joinNeedsWithin: { code: "S4012", severity: "error", message: "joining the stream `{name}` needs `within DURATION`" },
  lookupNeedsBoundedSource: { code: "S4013", severity: "error", message: "a lookup join needs a bounded source (`table` or `files`), but `{name}` is {actual}" },
  updatingStreamNotAllowed: { code: "S4014", severity: "error", message: "`{transform}` cannot follow an aggregation without a window: its input is updated, not appended" },
  watermarkColumnDropped: { code: "S4015", severity: "error", message: "`{transform}` needs the event-time column `{name}`, which an earlier transform removed" },
  dedupKeyNotColumn: { code: "S4016", severity: "error", message: "`dedup by` takes columns, not expressions" },
  aggregateNeedsItems: { code: "S4017", severity: "error", message: "`aggregate` needs at least one aggregate, such as `n = count()`" },
  explodeNotList: { code: "S4018", severity: "error", message: "`explode` needs a list, but this is `{type}`" },
  lookupWithin: { code: "S4019", severity: "error", message: "a lookup join against `{name}` takes no `within`" },
  conflictingSinkModes: { code: "S4022", severity: "error", message: "this sink needs `{mode}` output of `{operator}`, but `{other}` (line {line}) needs `{other_mode}`; one aggregate emits one way" },
  sinkOfAggregateToKafkaOrFiles: { code: "S4021", severity: "error", message: "a `{connector}` sink only appends, but `{stream}` is updated: it aggregates without a window" },

  // ---- S5: connectors and options --------------------------------------------------------------
  unknownSourceConnector: { code: "S5001", severity: "error", message: "unknown source connector `{name}`" },
  unknownSinkConnector: { code: "S5002", severity: "error", message: "unknown sink connector `{name}`" },
  unknownOption: { code: "S5003", severity: "error", message: "`{owner}` has no option `{name}`" },
  optionTypeMismatch: { code: "S5004", severity: "error", message: "option `{name}` takes {expected}" },
  missingOption: { code: "S5005", severity: "error", message: "`{owner}` needs the option `{name}`" },
  missingTarget: { code: "S5006", severity: "error", message: "a `{connector}` {role} needs a target, such as `{connector} \"{example}\"`" },
  unexpectedTarget: { code: "S5007", severity: "error", message: "a `{connector}` {role} takes no target" },
  envOutsideOption: { code: "S5008", severity: "error", message: "`env()` can only be used in option values and targets" },
  duplicateOption: { code: "S5009", severity: "error", message: "option `{name}` is set twice" },
  missingCheckpoint: { code: "S5010", severity: "error", message: "a `{connector}` sink needs a checkpoint for exactly-once output" },
  badOptionValue: { code: "S5011", severity: "error", message: "`{value}` is not a valid value for `{name}`" },
  badEnvCall: { code: "S5012", severity: "error", message: "`env()` takes a variable name and an optional default, both strings" },
  unknownPartitionColumn: { code: "S5013", severity: "error", message: "`partition_by` names `{name}`, which is not a column of `{stream}`" },
  rawKafkaColumn: { code: "S5014", severity: "error", message: "a `raw` kafka source cannot have the column `{name}`: {reason}" },

  // ---- S6: tests --------------------------------------------------------------------------------
  testInputNotSource: { code: "S6001", severity: "error", message: "`input` takes a source, but `{name}` is a stream" },
  testFieldUnknown: { code: "S6002", severity: "error", message: "`{owner}` has no column `{name}`" },
  testFieldMissing: { code: "S6003", severity: "error", message: "this row lacks the required column `{name}` of `{owner}`" },
  testFieldTypeMismatch: { code: "S6004", severity: "error", message: "column `{name}` is `{expected}`, but this value is {actual}" },
  testDuplicateName: { code: "S6005", severity: "error", message: "two tests are named \"{name}\"" },
  testWatermarkNotTimestamp: { code: "S6006", severity: "error", message: "`advance watermark to` takes a timestamp, but this is `{type}`" },
} as const satisfies Record<string, CatalogEntry>;

export type DiagnosticKey = keyof typeof catalog;

/** One reported problem, ready to print. */
export interface Diagnostic {
  key: DiagnosticKey;
  code: string;
  severity: Severity;
  message: string;
  span: Span;
  /** The way out, where one helps: "did you mean `amount`?" */
  hint: string | undefined;
}

export type DiagnosticArgs = Record<string, string | number>;

function fill(template: string, args: DiagnosticArgs): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => (name in args ? String(args[name]) : whole));
}

/**
 * Collects diagnostics for one program. Phases report into it and go on, so one run reports
 * every error it can find, not just the first.
 */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];

  report(key: DiagnosticKey, span: Span, args: DiagnosticArgs = {}, hint?: string): void {
    const entry: CatalogEntry = catalog[key];
    this.items.push({ key, code: entry.code, severity: entry.severity, message: fill(entry.message, args), span, hint });
  }

  /** A mark for `fillHints`: the diagnostics reported from now on. */
  get mark(): number {
    return this.items.length;
  }

  /**
   * Gives a hint to each diagnostic reported since `mark` that has none, where `hint` finds one:
   * for checks that report without knowing the declaration around them (connectors.ts).
   */
  fillHints(mark: number, hint: (diagnostic: Diagnostic) => string | undefined): void {
    for (const d of this.items.slice(mark)) if (d.hint === undefined) d.hint = hint(d);
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === "error").length;
  }

  /** The diagnostics in source order (stable for ties), as they should be printed. */
  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.span.start - b.span.start);
  }
}

/**
 * Renders diagnostics as users see them:
 *
 *     file.stream:12:11: error S2004: unknown column `amout`
 *        12 |   | where amout > 0
 *           |           ^^^^^
 *        hint: did you mean `amount`?
 */
export function formatDiagnostics(fileName: string, text: string, diagnostics: readonly Diagnostic[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const out: string[] = [];
  for (const d of diagnostics) {
    const { line, column } = d.span;
    out.push(`${fileName}:${line}:${column}: ${d.severity} ${d.code}: ${d.message}`);
    const lineStart = lineStarts[line - 1] ?? text.length;
    const lineEnd = line < lineStarts.length ? lineStarts[line]! - 1 : text.length;
    const sourceLine = text.slice(lineStart, lineEnd).replace(/\r$/, "").replace(/\t/g, " ");
    const gutter = String(line);
    const pad = " ".repeat(gutter.length);
    const caretLength = Math.max(1, Math.min(d.span.end, lineStart + sourceLine.length) - d.span.start);
    out.push(`  ${gutter} | ${sourceLine}`);
    out.push(`  ${pad} | ${" ".repeat(Math.max(0, column - 1))}${"^".repeat(caretLength)}`);
    if (d.hint) out.push(`  ${pad}   hint: ${d.hint}`);
  }
  return out.join("\n");
}
