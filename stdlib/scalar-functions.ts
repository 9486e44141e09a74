/**
 * Every built-in scalar function, once: its signature now, its kernel (beside it) later.
 *
 * Contract: `scalarFunctions` holds exactly the functions LANGUAGE.md lists, keyed by name. Each
 * entry's `check` types a call (see signature.ts for the shared conventions). The helpers exported
 * below the table (`REGEX_FLAGS`, `DATE_TRUNC_UNITS`, `parseTimestampFormat`, `parseJsonPath`) are
 * the one definition of what a literal argument may hold; kernels must use the same ones so that a
 * value the checker accepted is one the runtime understands.
 *
 * Semantics decided here (SQL/Spark-like unless said otherwise):
 * - Null in, null out: unless listed below, the result is nullable iff some argument is nullable
 *   (the `null` literal counts as nullable).
 * - Always nullable, whatever the arguments: `nullif`; `regexp_extract` (null when there is no
 *   match or the group did not take part; Spark gives ""); `to_timestamp` and `to_date` of a string
 *   (null when unparsable, as Spark); `json_get` (null when the path is missing or the value is JSON
 *   null); `sqrt` (null for x < 0), `ln` (null for x <= 0), `pow` (null when the result is not a
 *   real number): built-ins never produce NaN; `date_trunc` with a unit that is not a literal (null
 *   for an unknown unit).
 * - Nullable only when every argument is: `coalesce`, `greatest`, `least` (they skip nulls, as
 *   Spark and PostgreSQL do). Never null: `hash` (null hashes like any value, as Spark).
 * - Strings: `length` counts Unicode code points; `lower`/`upper` are locale-independent Unicode
 *   case maps; `trim` removes leading and trailing whitespace as JavaScript's `String.trim` does;
 *   `concat` takes one or more strings and is null if any is (Spark; `+` on strings agrees);
 *   `substr(s, start, length?)` is 1-based, `start` 0 means 1 and a negative `start` counts from the
 *   end, a negative `length` gives ""; `replace(s, from, to)` replaces every occurrence of the plain
 *   text `from` (an empty `from` leaves `s` as it is); `split(s, sep)` splits at the plain text
 *   `sep` (not a regex, unlike Spark), keeps empty pieces, splits into code points when `sep` is
 *   "", and gives `list<string>` with non-null elements; `starts_with`, `ends_with`, `contains`
 *   are plain-text tests on strings (an empty needle is always found).
 * - Regular expressions are JavaScript's with the `u` flag (`REGEX_FLAGS`). A literal pattern is
 *   validated here. `regexp_like` searches (not anchored, like Spark's `rlike`).
 *   `regexp_extract(s, pattern, group = 1)`: the first match's group (0 = the whole match); a
 *   literal group must be between 0 and the literal pattern's number of groups.
 * - Numbers: `abs` keeps the type. `round(x, digits = 0)` rounds half away from zero and keeps
 *   the type, except `decimal(p, s)` -> `decimal(min(38, p + 1), s)` (room for the carry);
 *   negative digits round to tens, hundreds, ... `floor`/`ceil`: `int`/`long` keep their type,
 *   `double` stays `double` (as DuckDB and PostgreSQL; Spark gives `long`, which overflows and has
 *   no NaN/infinity), `decimal(p, s)` -> `decimal(min(38, p - s + 1), 0)`. `sqrt`, `pow`, `ln`,
 *   `exp` accept any number and give `double`.
 * - `greatest`/`least` take two or more values of ordered types that meet in a common type
 *   (`commonType`); `coalesce` takes one or more values of any types that meet; `nullif(a, b)` has
 *   `a`'s type and needs `a` and `b` to meet in an equatable type.
 * - Time (all UTC): `date_trunc(unit, t)` takes a unit among `DATE_TRUNC_UNITS` (weeks start on
 *   Monday, ISO) and a `timestamp` or `date`, and gives the same type as `t`; a date cannot be
 *   truncated to `second`, `minute` or `hour`. `hour`, `day` (of the month), `month`, `year` take a
 *   `timestamp` or a `date` (whose hour is 0) and give `int`. `to_timestamp(s, format?)` parses
 *   ISO-8601 (the same forms schemas accept) or, with a format, the pattern letters of
 *   `parseTimestampFormat` (Spark/Java style, e.g. "yyyy-MM-dd HH:mm:ss"). `to_date` takes a string
 *   (with an optional format, as `to_timestamp`) or a `timestamp` (its UTC day, null in null out).
 *   `epoch_millis(ts)` gives `long` milliseconds since 1970-01-01 UTC, rounding down;
 *   `from_epoch_millis(ms)` gives a `timestamp`.
 * - `json_get(json, path)`: the value at a JSONPath subset (`parseJsonPath`: `$`, `.key`,
 *   `['key']`, `[n]`) as a string: strings unquoted, other values as compact JSON text (Spark's
 *   `get_json_object`).
 * - `hash(x, ...)`: a `long` hash of one or more equatable values (kernel decides the algorithm,
 *   stable across runs and versions because it may key state and partitions).
 * - `size(list | map)`: the number of elements or entries, `int`.
 * - A result type that follows an argument's type is `null` when that argument is the `null`
 *   literal.
 */
import type { DataType } from "../runtime/plan.ts";
import { BOOL, DATE, DOUBLE, INT, LONG, STRING, TIMESTAMP, commonType, isEquatable, listOf } from "../runtime/data-type.ts";
import {
  type ArgInfo,
  type ScalarFunction,
  type SignatureResult,
  type SignatureSpec,
  anyNullable,
  integerLiteral,
  isNullableArgument,
  signature,
  stringLiteral,
  typed,
  valueError,
  withArticle,
} from "./signature.ts";

const STRING_PARAM = { kind: "type", type: STRING } as const;
const LONG_PARAM = { kind: "type", type: LONG } as const;
const TIMESTAMP_PARAM = { kind: "type", type: TIMESTAMP } as const;
const TEMPORAL_PARAM = { kind: "oneOf", types: [TIMESTAMP, DATE] } as const;
const NUMBER_PARAM = { kind: "number" } as const;

/** How a scalar function is written in the table; kernels will join their signatures here. */
interface ScalarSpec extends SignatureSpec {
  summary: string;
}

const scalarTable: Record<string, ScalarSpec> = {
  // ---- strings ------------------------------------------------------------------------------
  lower: {
    summary: "The string in lower case.",
    params: [{ name: "s", accepts: STRING_PARAM }],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
  },
  upper: {
    summary: "The string in upper case.",
    params: [{ name: "s", accepts: STRING_PARAM }],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
  },
  trim: {
    summary: "The string without leading and trailing whitespace.",
    params: [{ name: "s", accepts: STRING_PARAM }],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
  },
  length: {
    summary: "The number of characters (Unicode code points) in the string.",
    params: [{ name: "s", accepts: STRING_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
  },
  substr: {
    summary: "`length` characters of `s` from `start` (1-based; negative counts from the end), or the rest when `length` is absent.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "start", accepts: { kind: "integer" } },
      { name: "length", accepts: { kind: "integer" }, arity: "optional" },
    ],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
  },
  concat: {
    summary: "The strings joined together; null if any of them is null.",
    params: [{ name: "s", accepts: STRING_PARAM, arity: "rest" }],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
  },
  replace: {
    summary: "`s` with every occurrence of the text `from` replaced by `to`.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "from", accepts: STRING_PARAM },
      { name: "to", accepts: STRING_PARAM },
    ],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
  },
  split: {
    summary: "The pieces of `s` between occurrences of the text `sep` (not a regular expression).",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "sep", accepts: STRING_PARAM },
    ],
    returns: "list<string>",
    result: (args) => typed(listOf(STRING), anyNullable(args)),
  },
  starts_with: {
    summary: "Whether `s` starts with the text `prefix`.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "prefix", accepts: STRING_PARAM },
    ],
    returns: "bool",
    result: (args) => typed(BOOL, anyNullable(args)),
  },
  ends_with: {
    summary: "Whether `s` ends with the text `suffix`.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "suffix", accepts: STRING_PARAM },
    ],
    returns: "bool",
    result: (args) => typed(BOOL, anyNullable(args)),
  },
  contains: {
    summary: "Whether the text `part` occurs in `s`.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "part", accepts: STRING_PARAM },
    ],
    returns: "bool",
    result: (args) => typed(BOOL, anyNullable(args)),
  },
  regexp_extract: {
    summary: "Group `group` (default 1; 0 is the whole match) of the first match of `pattern` in `s`, or null when it does not match.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "pattern", accepts: STRING_PARAM },
      { name: "group", accepts: { kind: "integer" }, arity: "optional" },
    ],
    returns: "string?",
    result: (args) => {
      const pattern = stringLiteral(args[1]);
      const group = integerLiteral(args[2]);
      if (group !== undefined && group < 0) return valueError(2, `a group number cannot be negative, but this is ${group}`);
      if (pattern !== undefined) {
        const compiled = compileRegex(pattern);
        if (typeof compiled === "string") return valueError(1, compiled);
        const groups = regexGroupCount(compiled);
        const wanted = group ?? (args.length > 2 ? undefined : 1);
        if (wanted !== undefined && wanted > groups) {
          const count = groups === 1 ? "1 group" : `${groups} groups`;
          return args.length > 2
            ? valueError(2, `the pattern has ${count}, so it has no group ${wanted}`)
            : valueError(1, `the pattern has no group, and \`regexp_extract\` takes group 1 unless told otherwise; add a group \`( )\` or pass 0 for the whole match`);
        }
      }
      return typed(STRING, true);
    },
  },
  regexp_like: {
    summary: "Whether `pattern` matches somewhere in `s`.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "pattern", accepts: STRING_PARAM },
    ],
    returns: "bool",
    result: (args) => {
      const pattern = stringLiteral(args[1]);
      if (pattern !== undefined) {
        const compiled = compileRegex(pattern);
        if (typeof compiled === "string") return valueError(1, compiled);
      }
      return typed(BOOL, anyNullable(args));
    },
  },

  // ---- numbers ------------------------------------------------------------------------------
  abs: {
    summary: "The absolute value, of the same type.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "same type as x",
    result: (args) => typed(args[0]!.type, anyNullable(args)),
  },
  round: {
    summary: "`x` rounded half away from zero to `digits` decimal places (default 0; negative rounds to tens, hundreds, ...).",
    params: [
      { name: "x", accepts: NUMBER_PARAM },
      { name: "digits", accepts: { kind: "integer" }, arity: "optional" },
    ],
    returns: "same type as x",
    result: (args) => {
      const x = args[0]!.type;
      const type: DataType = x.kind === "decimal" ? { kind: "decimal", precision: Math.min(38, x.precision + 1), scale: x.scale } : x;
      return typed(type, anyNullable(args));
    },
  },
  floor: {
    summary: "The largest whole number not above `x`.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "same kind of number as x",
    result: (args) => typed(wholeNumberType(args[0]!.type), anyNullable(args)),
  },
  ceil: {
    summary: "The smallest whole number not below `x`.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "same kind of number as x",
    result: (args) => typed(wholeNumberType(args[0]!.type), anyNullable(args)),
  },
  sqrt: {
    summary: "The square root; null for a negative `x`.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "double?",
    result: () => typed(DOUBLE, true),
  },
  pow: {
    summary: "`x` raised to the power `y`; null when the result is not a real number.",
    params: [
      { name: "x", accepts: NUMBER_PARAM },
      { name: "y", accepts: NUMBER_PARAM },
    ],
    returns: "double?",
    result: () => typed(DOUBLE, true),
  },
  ln: {
    summary: "The natural logarithm; null when `x` is not positive.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "double?",
    result: () => typed(DOUBLE, true),
  },
  exp: {
    summary: "e raised to the power `x`.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "double",
    result: (args) => typed(DOUBLE, anyNullable(args)),
  },
  greatest: {
    summary: "The largest of the values, skipping nulls; null only when all are null.",
    params: [
      { name: "a", accepts: { kind: "ordered" } },
      { name: "rest", accepts: { kind: "ordered" }, arity: "rest" },
    ],
    returns: "common type",
    result: (args) => commonResult(args, args.every(isNullableArgument)),
  },
  least: {
    summary: "The smallest of the values, skipping nulls; null only when all are null.",
    params: [
      { name: "a", accepts: { kind: "ordered" } },
      { name: "rest", accepts: { kind: "ordered" }, arity: "rest" },
    ],
    returns: "common type",
    result: (args) => commonResult(args, args.every(isNullableArgument)),
  },

  // ---- nulls --------------------------------------------------------------------------------
  coalesce: {
    summary: "The first value that is not null; null only when all are null.",
    params: [{ name: "x", accepts: { kind: "any" }, arity: "rest" }],
    returns: "common type",
    result: (args) => commonResult(args, args.every(isNullableArgument)),
  },
  nullif: {
    summary: "Null when `a == b`, else `a`.",
    params: [
      { name: "a", accepts: { kind: "equatable" } },
      { name: "b", accepts: { kind: "equatable" } },
    ],
    returns: "type of a, nullable",
    result: (args) => {
      const [a, b] = [args[0]!.type, args[1]!.type];
      const common = commonType(a, b);
      if (common === undefined || !isEquatable(common)) return { ok: false, error: "argument", index: 1, expected: compatibleWith(a) };
      return typed(a, true);
    },
  },

  // ---- time ---------------------------------------------------------------------------------
  date_trunc: {
    summary: "`t` truncated to the start of its `unit` (\"second\" ... \"year\"; weeks start on Monday), in UTC.",
    params: [
      { name: "unit", accepts: STRING_PARAM },
      { name: "t", accepts: TEMPORAL_PARAM },
    ],
    returns: "same type as t",
    result: (args) => {
      const t = args[1]!.type;
      const unit = stringLiteral(args[0]);
      if (unit === undefined) return typed(t, true);
      if (!isDateTruncUnit(unit)) {
        return valueError(0, `\`${unit}\` is not a unit of \`date_trunc\`; use one of ${DATE_TRUNC_UNITS.map((u) => `"${u}"`).join(", ")}`);
      }
      if (t.kind === "date" && (unit === "second" || unit === "minute" || unit === "hour")) {
        return valueError(0, `a \`date\` has no ${unit}; truncate a \`timestamp\` instead, or use "day" or longer`);
      }
      return typed(t, anyNullable(args));
    },
  },
  hour: {
    summary: "The hour of the day (0-23), in UTC.",
    params: [{ name: "t", accepts: TEMPORAL_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
  },
  day: {
    summary: "The day of the month (1-31), in UTC.",
    params: [{ name: "t", accepts: TEMPORAL_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
  },
  month: {
    summary: "The month (1-12), in UTC.",
    params: [{ name: "t", accepts: TEMPORAL_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
  },
  year: {
    summary: "The year, in UTC.",
    params: [{ name: "t", accepts: TEMPORAL_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
  },
  to_timestamp: {
    summary: "The string parsed as a timestamp (ISO-8601, or the pattern `format` such as \"yyyy-MM-dd HH:mm:ss\"); null when it does not parse.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "format", accepts: STRING_PARAM, arity: "optional" },
    ],
    returns: "timestamp?",
    result: (args) => formatChecked(args, typed(TIMESTAMP, true)),
  },
  to_date: {
    summary: "The string parsed as a date (ISO-8601, or the pattern `format`; null when it does not parse), or a timestamp's UTC day.",
    params: [
      { name: "x", accepts: { kind: "oneOf", types: [STRING, TIMESTAMP] } },
      { name: "format", accepts: STRING_PARAM, arity: "optional" },
    ],
    returns: "date?",
    result: (args) => {
      const x = args[0]!.type;
      if (x.kind === "timestamp") {
        if (args.length > 1) return { ok: false, error: "argument", index: 0, expected: "a `string` when a format is given" };
        return typed(DATE, anyNullable(args));
      }
      return formatChecked(args, typed(DATE, true));
    },
  },
  epoch_millis: {
    summary: "Milliseconds since 1970-01-01T00:00:00Z, rounded down.",
    params: [{ name: "ts", accepts: TIMESTAMP_PARAM }],
    returns: "long",
    result: (args) => typed(LONG, anyNullable(args)),
  },
  from_epoch_millis: {
    summary: "The timestamp `ms` milliseconds after 1970-01-01T00:00:00Z.",
    params: [{ name: "ms", accepts: LONG_PARAM }],
    returns: "timestamp",
    result: (args) => typed(TIMESTAMP, anyNullable(args)),
  },

  // ---- other --------------------------------------------------------------------------------
  json_get: {
    summary: "The value at `path` (`$.a.b[0]`) in the JSON text, as a string (strings unquoted, other values as JSON); null when absent.",
    params: [
      { name: "json", accepts: STRING_PARAM },
      { name: "path", accepts: STRING_PARAM },
    ],
    returns: "string?",
    result: (args) => {
      const path = stringLiteral(args[1]);
      if (path !== undefined) {
        const parsed = parseJsonPath(path);
        if (!Array.isArray(parsed)) return valueError(1, parsed.error);
      }
      return typed(STRING, true);
    },
  },
  hash: {
    summary: "A `long` hash of the values, stable across runs; never null.",
    params: [{ name: "x", accepts: { kind: "equatable" }, arity: "rest" }],
    returns: "long",
    result: () => typed(LONG, false),
  },
  size: {
    summary: "The number of elements of a list or entries of a map.",
    params: [{ name: "c", accepts: { kind: "collection" } }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
  },
};

/** Every built-in scalar function, by name. */
export const scalarFunctions: ReadonlyMap<string, ScalarFunction> = new Map(
  Object.entries(scalarTable).map(([name, spec]): [string, ScalarFunction] => [name, { name, summary: spec.summary, ...signature(name, spec) }]),
);

// ---- result types -----------------------------------------------------------------------------

/** The common type of all arguments, or an argument error at the first that does not meet the rest. */
function commonResult(args: readonly ArgInfo[], nullable: boolean): SignatureResult {
  let type = args[0]!.type;
  for (let index = 1; index < args.length; index++) {
    const next = commonType(type, args[index]!.type);
    if (next === undefined) return { ok: false, error: "argument", index, expected: compatibleWith(type) };
    type = next;
  }
  return typed(type, nullable);
}

function compatibleWith(type: DataType): string {
  return `compatible with ${withArticle(type).replace(/^an? /, "")} (the type of the earlier arguments)`;
}

/** `floor`/`ceil`: whole numbers keep their type, `double` stays `double`, decimals lose their scale. */
function wholeNumberType(type: DataType): DataType {
  if (type.kind !== "decimal" || type.scale === 0) return type;
  return { kind: "decimal", precision: Math.min(38, Math.max(1, type.precision - type.scale + 1)), scale: 0 };
}

/** Validates a literal `format` argument (index 1) of `to_timestamp`/`to_date`, then gives `result`. */
function formatChecked(args: readonly ArgInfo[], result: SignatureResult): SignatureResult {
  const format = stringLiteral(args[1]);
  if (format !== undefined) {
    const parsed = parseTimestampFormat(format);
    if (!Array.isArray(parsed)) return valueError(1, parsed.error);
  }
  return result;
}

// ---- regular expressions ------------------------------------------------------------------------

/** The flags every built-in regular expression is compiled with: JavaScript syntax, Unicode mode. */
export const REGEX_FLAGS = "u";

/** The pattern compiled with `REGEX_FLAGS`, or why it is not a valid regular expression. */
export function compileRegex(pattern: string): RegExp | string {
  try {
    return new RegExp(pattern, REGEX_FLAGS);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const detail = /^Invalid regular expression: \/.*\/[a-z]*: (.*)$/s.exec(message)?.[1] ?? message;
    return `invalid regular expression: ${detail.charAt(0).toLowerCase()}${detail.slice(1)}`;
  }
}

/** The number of capture groups in a compiled pattern. */
export function regexGroupCount(regex: RegExp): number {
  return new RegExp(`${regex.source}|`, regex.flags).exec("")!.length - 1;
}

// ---- date_trunc -------------------------------------------------------------------------------

/** The units `date_trunc` accepts, shortest first. */
export const DATE_TRUNC_UNITS = ["second", "minute", "hour", "day", "week", "month", "year"] as const;

export type DateTruncUnit = (typeof DATE_TRUNC_UNITS)[number];

export function isDateTruncUnit(unit: string): unit is DateTruncUnit {
  return (DATE_TRUNC_UNITS as readonly string[]).includes(unit);
}

// ---- timestamp formats ------------------------------------------------------------------------

/**
 * The pattern letters `to_timestamp`/`to_date` formats may use (a subset of Spark's / Java's):
 * `y` year, `M` month, `d` day, `H` hour 0-23, `h` hour 1-12, `a` AM/PM, `m` minute, `s` second,
 * `S` fraction of a second, `X`/`Z` zone offset. Other letters must be quoted: `'T'`; `''` is a quote.
 */
export const TIMESTAMP_FORMAT_LETTERS = "yMdHhamsSXZ";

/** One piece of a parsed timestamp format. */
export type TimestampFormatPart =
  /** a run of one pattern letter: `yyyy` is `{ letter: "y", width: 4 }` */
  | { kind: "field"; letter: string; width: number }
  /** text that must appear as written */
  | { kind: "text"; text: string };

/** A format's pieces, or why it is not a valid format. */
export function parseTimestampFormat(format: string): TimestampFormatPart[] | { error: string } {
  const parts: TimestampFormatPart[] = [];
  const pushText = (text: string) => {
    const last = parts[parts.length - 1];
    if (last?.kind === "text") last.text += text;
    else parts.push({ kind: "text", text });
  };
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === "'") {
      // '' is a quote, inside quoted text or out of it; 'text' is text.
      if (format[i + 1] === "'") {
        pushText("'");
        i += 2;
        continue;
      }
      let text = "";
      let j = i + 1;
      for (;;) {
        if (j >= format.length) return { error: `the format ${JSON.stringify(format)} has an unclosed quote` };
        if (format[j] === "'" && format[j + 1] === "'") {
          text += "'";
          j += 2;
        } else if (format[j] === "'") {
          break;
        } else {
          text += format[j];
          j++;
        }
      }
      pushText(text);
      i = j + 1;
    } else if (/[A-Za-z]/.test(c)) {
      if (!TIMESTAMP_FORMAT_LETTERS.includes(c)) {
        return { error: `\`${c}\` is not a format letter; use ${[...TIMESTAMP_FORMAT_LETTERS].join(" ")}, and quote other text: '${c}'` };
      }
      let width = 1;
      while (format[i + width] === c) width++;
      parts.push({ kind: "field", letter: c, width });
      i += width;
    } else {
      pushText(c);
      i++;
    }
  }
  return parts;
}

// ---- JSON paths -------------------------------------------------------------------------------

/** One step of a parsed JSON path. */
export type JsonPathStep = { kind: "key"; key: string } | { kind: "index"; index: number };

/**
 * The steps of a JSON path, or why it is not one. Paths start at `$` and go on with `.key`,
 * `['key']` / `["key"]` (any key) and `[n]` (a list index from 0).
 */
export function parseJsonPath(path: string): JsonPathStep[] | { error: string } {
  const bad = (why: string) => ({ error: `${JSON.stringify(path)} is not a JSON path: ${why}; write it like "$.items[0].name"` });
  if (path[0] !== "$") return bad("it must start with `$`");
  const steps: JsonPathStep[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i]!;
    if (c === ".") {
      const match = /^[^.[\]]+/.exec(path.slice(i + 1));
      if (!match) return bad(`a key must follow the \`.\` at position ${i + 1}`);
      steps.push({ kind: "key", key: match[0] });
      i += 1 + match[0].length;
    } else if (c === "[") {
      const rest = path.slice(i);
      const index = /^\[([0-9]+)\]/.exec(rest);
      const quoted = /^\['((?:[^'\\]|\\.)*)'\]|^\["((?:[^"\\]|\\.)*)"\]/.exec(rest);
      if (index) {
        steps.push({ kind: "index", index: Number(index[1]) });
        i += index[0].length;
      } else if (quoted) {
        steps.push({ kind: "key", key: (quoted[1] ?? quoted[2]!).replace(/\\(.)/g, "$1") });
        i += quoted[0].length;
      } else {
        return bad(`\`[\` at position ${i + 1} must hold an index or a quoted key`);
      }
    } else {
      return bad(`unexpected \`${c}\` at position ${i + 1}`);
    }
  }
  return steps;
}
