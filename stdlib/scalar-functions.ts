/**
 * Every built-in scalar function, once: its signature and its kernel, side by side.
 *
 * Contract: `scalarFunctions` holds exactly the functions LANGUAGE.md lists, keyed by name. Each
 * entry's `check` types a call (see signature.ts for the shared conventions); its `kernel` computes
 * it, one row at a time, and `strict` says who handles nulls (see "Kernels" below for the value
 * representation both sides agree on). The helpers exported
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
 *   case maps (JavaScript's full mappings: "ß" upper-cases to "SS"); `trim` removes leading and
 *   trailing whitespace as JavaScript's `String.trim` does (Unicode White_Space and U+FEFF, not
 *   only spaces as DuckDB and Spark);
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
 *
 * Decided by the kernels (the value representation is under "Kernels" below; DuckDB is the oracle
 * the tests compare with, and test/stdlib/scalar-kernels.test.ts asserts each difference):
 * - Strict (null in, null out, the caller skips the kernel): every function except `coalesce`,
 *   `nullif` (`nullif(a, null)` is `a`), `greatest`, `least` (skip nulls) and `hash` (hashes null).
 * - Out of range is null, never a wrong number: `abs` of the smallest `int`/`long`, `round` of an
 *   `int`/`long` past its type (`round(2147483647, -1)`), `round` of a decimal past 38 digits,
 *   `from_epoch_millis` and `to_timestamp` past the int64-microsecond range. (Spark wraps, DuckDB
 *   errors or wraps.) These nulls can occur where `check` says "not nullable".
 * - Doubles: `round` is DuckDB's (`round(x * 10^d) / 10^d`, half away from zero, so
 *   round(1.005, 2) = 1 as the double 1.005 is below 1.005), except that NaN and infinities stay as
 *   they are; `pow` is null where DuckDB gives NaN or an infinity from finite inputs; `exp`
 *   overflows to Infinity, as DuckDB. NaN sorts above every number and equals NaN; -0 equals 0.
 * - Strings compare in code-point (UTF-8 byte) order, as DuckDB and Spark, not UTF-16 order.
 *   `split("", sep)` is `[""]`, even for sep "" (DuckDB). `lower`/`upper` differ from DuckDB (simple
 *   one-to-one mappings) on "ß", "ﬁ", "İ", final sigma. `trim` differs from DuckDB on whitespace
 *   other than spaces; `substr` on start 0 and negative lengths (see above: Spark's rules).
 * - Regular expressions, formats and JSON paths that are not literals are compiled per row through
 *   an LRU cache; an invalid one gives null (`regexp_like`: false, as the result is not nullable).
 * - `to_timestamp`/`to_date` formats: see `compileTimestampFormat` (Spark 3's digit counts). Without
 *   a format `to_date` takes a date or a timestamp (then its UTC day). `epoch_millis` rounds down
 *   before 1970 (DuckDB truncates toward zero).
 * - `json_get` scans the text (RFC 8259; text that is not JSON, anywhere, gives null); numbers come
 *   back exactly as written (DuckDB rewrites 1.50 as 1.5, 1e2 as 100.0); of duplicate keys the first
 *   counts (as DuckDB).
 * - `hash`: MurmurHash3 x86_32 twice over a canonical encoding, 53 bits, non-negative (see
 *   scalar-kernels.ts); equal numbers hash alike whatever their numeric type.
 */
import type { CellValue } from "../runtime/columnar/values.ts";
import type { DataType } from "../runtime/plan.ts";
import { BOOL, DATE, DOUBLE, INT, LONG, STRING, TIMESTAMP, commonType, isEquatable, listOf } from "../runtime/data-type.ts";
import { parseDateDays, parseTimestampMicros } from "../runtime/time.ts";
import {
  type CompiledFormat,
  INT_MIN,
  LONG_LIMIT,
  LruCache,
  MICROS_PER_DAY,
  MICROS_PER_HOUR,
  MICROS_PER_MINUTE,
  MICROS_PER_SECOND,
  POW10_BIG,
  ceilDivBig,
  civil,
  civilFromDays,
  codePointLength,
  comparator,
  compileTimestampFormat,
  converter,
  decimalToDouble,
  equality,
  fitsInteger,
  floorDiv,
  floorDivBig,
  floorMod,
  hashKernel,
  jsonGet,
  monthStartDays,
  parseFormattedMicros,
  replacePlain,
  roundBigToMultiple,
  roundDouble,
  roundIntegerNumber,
  splitPlain,
  substrCodePoints,
  weekStartDays,
  yearStartDays,
} from "./scalar-kernels.ts";
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

// ---- kernels ----------------------------------------------------------------------------------

/**
 * One cell's value as kernels see it: the contract between kernels and the generated expression
 * code (compiler/codegen.ts), which reads Arrow column buffers, calls a kernel per row and writes
 * its result back (the same representation as runtime/columnar/values.ts):
 *
 * - null → `null`. bool → boolean. int → number (int32). double → number.
 * - long → number: exact within ±2^53 only; longs beyond that are not supported by kernels yet
 *   (they compute in doubles). A `long` result outside [-2^63, 2^63) is null.
 * - decimal(p, s) → bigint holding the unscaled value (12.34 in decimal(10, 2) is 1234n); the
 *   scale is not passed per row: the factory reads it from the argument's type.
 * - string → string. bytes → Uint8Array. date → number of days since 1970-01-01.
 * - timestamp, duration → number of microseconds (since the epoch, UTC), exact within ±2^53 µs
 *   (1684 to 2255); whole seconds stay exact far beyond.
 * - list → array of element values. map → `Map<string, value>`. struct → plain object keyed by
 *   field name.
 *
 * A kernel takes its arguments as the ArgInfo types say (no implicit widening by the caller); a
 * function whose arguments meet in a common type (`greatest`, `least`, `coalesce`, `nullif`)
 * converts them itself. Its result has the type `check` gave.
 */
export type KernelValue = CellValue;

/**
 * The per-row function: one row's argument values in, the result out. It never throws on data
 * and allocates nothing beyond its result (a regular expression match array excepted).
 *
 * Nulls: when the function is `strict`, the caller does not call the kernel for a row where an
 * argument is null; the result is null (SQL's null in, null out). A non-strict kernel receives
 * `null` arguments and handles them (`coalesce`, `nullif`, `greatest`, `least`, `hash`).
 * Either way a kernel may return null: `sqrt` of a negative, an unparsable `to_timestamp`,
 * `regexp_extract` without a match, and results out of their type's range (`abs` of the smallest
 * `int`, `round(2147483647, -1)` on an `int`): never a wrong number. Such nulls can occur even where
 * `check` says the result is not nullable (out-of-range results), so the caller keeps a validity
 * bitmap for every kernel result.
 */
// Kernels are called from generated code with values of many types; `any` is the honest type.
export type RowKernel = (...values: any[]) => KernelValue;

/**
 * Called ONCE per call site with the arguments `check` accepted (types, nullability, literals),
 * returns the row function specialised for them: decimal scales, `date_trunc` of a date or a
 * timestamp, a literal regular expression, format or JSON path compiled once. Arguments that are
 * not literals are compiled per row through a small LRU cache (`PATTERN_CACHE_SIZE` entries per call
 * site); an invalid one gives null (`regexp_like`: false) rather than an error.
 */
export type KernelFactory = (args: readonly ArgInfo[]) => RowKernel;

/** A built-in scalar function: its signature and its kernel. */
export interface BuiltinScalarFunction extends ScalarFunction {
  /** Null in, null out: the caller skips the kernel for rows with a null argument. */
  strict: boolean;
  kernel: KernelFactory;
}

/** Compiled non-literal patterns, formats and paths kept per call site. */
export const PATTERN_CACHE_SIZE = 64;

/** How a scalar function is written in the table: its signature, then its kernel. */
interface ScalarSpec extends SignatureSpec {
  summary: string;
  strict: boolean;
  kernel: KernelFactory;
}

const scalarTable: Record<string, ScalarSpec> = {
  // ---- strings ------------------------------------------------------------------------------
  lower: {
    summary: "The string in lower case.",
    params: [{ name: "s", accepts: STRING_PARAM }],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
    strict: true,
    kernel: () => (s: string) => s.toLowerCase(),
  },
  upper: {
    summary: "The string in upper case.",
    params: [{ name: "s", accepts: STRING_PARAM }],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
    strict: true,
    kernel: () => (s: string) => s.toUpperCase(),
  },
  trim: {
    summary: "The string without leading and trailing whitespace.",
    params: [{ name: "s", accepts: STRING_PARAM }],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
    strict: true,
    kernel: () => (s: string) => s.trim(),
  },
  length: {
    summary: "The number of characters (Unicode code points) in the string.",
    params: [{ name: "s", accepts: STRING_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
    strict: true,
    kernel: () => codePointLength,
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
    strict: true,
    kernel: (args) =>
      args.length > 2 ? substrCodePoints : (s: string, start: number) => substrCodePoints(s, start, undefined),
  },
  concat: {
    summary: "The strings joined together; null if any of them is null.",
    params: [{ name: "s", accepts: STRING_PARAM, arity: "rest" }],
    returns: "string",
    result: (args) => typed(STRING, anyNullable(args)),
    strict: true,
    kernel: (args) => variadic(args.length, "", (joined, s) => (joined as string) + (s as string)),
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
    strict: true,
    kernel: () => replacePlain,
  },
  split: {
    summary: "The pieces of `s` between occurrences of the text `sep` (not a regular expression).",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "sep", accepts: STRING_PARAM },
    ],
    returns: "list<string>",
    result: (args) => typed(listOf(STRING), anyNullable(args)),
    strict: true,
    kernel: () => splitPlain,
  },
  starts_with: {
    summary: "Whether `s` starts with the text `prefix`.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "prefix", accepts: STRING_PARAM },
    ],
    returns: "bool",
    result: (args) => typed(BOOL, anyNullable(args)),
    strict: true,
    kernel: () => (s: string, prefix: string) => s.startsWith(prefix),
  },
  ends_with: {
    summary: "Whether `s` ends with the text `suffix`.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "suffix", accepts: STRING_PARAM },
    ],
    returns: "bool",
    result: (args) => typed(BOOL, anyNullable(args)),
    strict: true,
    kernel: () => (s: string, suffix: string) => s.endsWith(suffix),
  },
  contains: {
    summary: "Whether the text `part` occurs in `s`.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "part", accepts: STRING_PARAM },
    ],
    returns: "bool",
    result: (args) => typed(BOOL, anyNullable(args)),
    strict: true,
    kernel: () => (s: string, part: string) => s.includes(part),
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
    strict: true,
    kernel: (args) => {
      const pattern = regexSource(args[1]);
      const extract = (regex: RegExp | null, s: string, group: number): string | null => {
        const match = regex === null ? null : regex.exec(s);
        return match === null || !(group >= 0 && group < match.length) ? null : (match[group] ?? null);
      };
      if (args.length > 2) return (s: string, p: string, group: number) => extract(pattern(p), s, group);
      return (s: string, p: string) => extract(pattern(p), s, 1);
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
    strict: true,
    kernel: (args) => {
      const pattern = regexSource(args[1]);
      // An invalid pattern that arrives at run time matches nothing (the result is not nullable).
      return (s: string, p: string) => pattern(p)?.test(s) ?? false;
    },
  },

  // ---- numbers ------------------------------------------------------------------------------
  abs: {
    summary: "The absolute value, of the same type.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "same type as x",
    result: (args) => typed(args[0]!.type, anyNullable(args)),
    strict: true,
    kernel: (args) => {
      const x = args[0]!.type;
      if (x.kind === "int") return (v: number) => (v === INT_MIN ? null : Math.abs(v));
      if (x.kind === "long") return (v: number) => (v === -LONG_LIMIT ? null : Math.abs(v));
      if (x.kind === "decimal") return (v: bigint) => (v < 0n ? -v : v);
      return Math.abs;
    },
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
    strict: true,
    kernel: (args) => {
      const x = args[0]!.type;
      if (x.kind === "int" || x.kind === "long") {
        const kind = x.kind;
        return (v: number, digits = 0) => {
          if (digits >= 0) return v;
          const rounded = roundIntegerNumber(v, digits);
          return fitsInteger(rounded, kind) ? rounded : null;
        };
      }
      if (x.kind === "decimal") {
        const scale = x.scale;
        const bound = POW10_BIG[Math.min(38, x.precision + 1)]!;
        return (v: bigint, digits = 0) => {
          if (digits >= scale) return v;
          const drop = scale - digits;
          if (drop > 76) return 0n;
          const rounded = roundBigToMultiple(v, POW10_BIG[drop]!);
          return rounded >= bound || rounded <= -bound ? null : rounded;
        };
      }
      return (v: number, digits = 0) => roundDouble(v, digits);
    },
  },
  floor: {
    summary: "The largest whole number not above `x`.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "same kind of number as x",
    result: (args) => typed(wholeNumberType(args[0]!.type), anyNullable(args)),
    strict: true,
    kernel: (args) => wholeNumberKernel(args[0]!.type, Math.floor, floorDivBig),
  },
  ceil: {
    summary: "The smallest whole number not below `x`.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "same kind of number as x",
    result: (args) => typed(wholeNumberType(args[0]!.type), anyNullable(args)),
    strict: true,
    kernel: (args) => wholeNumberKernel(args[0]!.type, Math.ceil, ceilDivBig),
  },
  sqrt: {
    summary: "The square root; null for a negative `x`.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "double?",
    result: () => typed(DOUBLE, true),
    strict: true,
    kernel: (args) => {
      const toDouble = doubleReader(args[0]!.type);
      return (v: number | bigint) => {
        const x = toDouble(v);
        return x >= 0 ? Math.sqrt(x) : null; // negative or NaN
      };
    },
  },
  pow: {
    summary: "`x` raised to the power `y`; null when the result is not a real number.",
    params: [
      { name: "x", accepts: NUMBER_PARAM },
      { name: "y", accepts: NUMBER_PARAM },
    ],
    returns: "double?",
    result: () => typed(DOUBLE, true),
    strict: true,
    kernel: (args) => {
      const [toX, toY] = [doubleReader(args[0]!.type), doubleReader(args[1]!.type)];
      return (a: number | bigint, b: number | bigint) => {
        const x = toX(a);
        const y = toY(b);
        const r = Math.pow(x, y);
        if (r !== r) return null;
        // Overflow, or 0 to a negative power: infinite from finite inputs is not a real number.
        if ((r === Infinity || r === -Infinity) && Number.isFinite(x) && Number.isFinite(y)) return null;
        return r;
      };
    },
  },
  ln: {
    summary: "The natural logarithm; null when `x` is not positive.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "double?",
    result: () => typed(DOUBLE, true),
    strict: true,
    kernel: (args) => {
      const toDouble = doubleReader(args[0]!.type);
      return (v: number | bigint) => {
        const x = toDouble(v);
        return x > 0 ? Math.log(x) : null; // not positive, or NaN
      };
    },
  },
  exp: {
    summary: "e raised to the power `x`.",
    params: [{ name: "x", accepts: NUMBER_PARAM }],
    returns: "double",
    result: (args) => typed(DOUBLE, anyNullable(args)),
    strict: true,
    kernel: (args) => {
      const toDouble = doubleReader(args[0]!.type);
      return (v: number | bigint) => Math.exp(toDouble(v));
    },
  },
  greatest: {
    summary: "The largest of the values, skipping nulls; null only when all are null.",
    params: [
      { name: "a", accepts: { kind: "ordered" } },
      { name: "rest", accepts: { kind: "ordered" }, arity: "rest" },
    ],
    returns: "common type",
    result: (args) => commonResult(args, args.every(isNullableArgument)),
    strict: false,
    kernel: (args) => extremeKernel(args, 1),
  },
  least: {
    summary: "The smallest of the values, skipping nulls; null only when all are null.",
    params: [
      { name: "a", accepts: { kind: "ordered" } },
      { name: "rest", accepts: { kind: "ordered" }, arity: "rest" },
    ],
    returns: "common type",
    result: (args) => commonResult(args, args.every(isNullableArgument)),
    strict: false,
    kernel: (args) => extremeKernel(args, -1),
  },

  // ---- nulls --------------------------------------------------------------------------------
  coalesce: {
    summary: "The first value that is not null; null only when all are null.",
    params: [{ name: "x", accepts: { kind: "any" }, arity: "rest" }],
    returns: "common type",
    result: (args) => commonResult(args, args.every(isNullableArgument)),
    strict: false,
    kernel: (args) => {
      const type = commonTypeOf(args);
      const converters = args.map((a) => converter(a.type, type));
      return variadic(args.length, null, (found, v, index) => {
        if (found !== null || v === null) return found;
        const convert = converters[index];
        return convert === undefined ? v : convert(v);
      });
    },
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
    strict: false,
    kernel: (args) => {
      const [a, b] = [args[0]!.type, args[1]!.type];
      const type = commonType(a, b) ?? a;
      const [toA, toB] = [converter(a, type), converter(b, type)];
      const equal = equality(type);
      return (x: KernelValue, y: KernelValue) => {
        if (x === null || y === null) return x;
        return equal(toA === undefined ? x : toA(x), toB === undefined ? y : toB(y)) ? null : x;
      };
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
    strict: true,
    kernel: (args) => {
      const units = args[1]!.type.kind === "date" ? DATE_TRUNCATIONS : TIMESTAMP_TRUNCATIONS;
      const unit = stringLiteral(args[0]);
      if (unit !== undefined) {
        const truncate = units.get(unit);
        return truncate === undefined ? () => null : (_unit: string, t: number) => truncate(t);
      }
      // Not a literal: an unknown unit (or a time unit of a date) gives null.
      return (u: string, t: number) => {
        const truncate = units.get(u);
        return truncate === undefined ? null : truncate(t);
      };
    },
  },
  hour: {
    summary: "The hour of the day (0-23), in UTC.",
    params: [{ name: "t", accepts: TEMPORAL_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
    strict: true,
    kernel: (args) =>
      args[0]!.type.kind === "date" ? () => 0 : (t: number) => Math.floor(floorMod(t, MICROS_PER_DAY) / MICROS_PER_HOUR),
  },
  day: {
    summary: "The day of the month (1-31), in UTC.",
    params: [{ name: "t", accepts: TEMPORAL_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
    strict: true,
    kernel: (args) => calendarField(args[0]!.type, () => civil.day),
  },
  month: {
    summary: "The month (1-12), in UTC.",
    params: [{ name: "t", accepts: TEMPORAL_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
    strict: true,
    kernel: (args) => calendarField(args[0]!.type, () => civil.month),
  },
  year: {
    summary: "The year, in UTC.",
    params: [{ name: "t", accepts: TEMPORAL_PARAM }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
    strict: true,
    kernel: (args) => calendarField(args[0]!.type, () => civil.year),
  },
  to_timestamp: {
    summary: "The string parsed as a timestamp (ISO-8601, or the pattern `format` such as \"yyyy-MM-dd HH:mm:ss\"); null when it does not parse.",
    params: [
      { name: "s", accepts: STRING_PARAM },
      { name: "format", accepts: STRING_PARAM, arity: "optional" },
    ],
    returns: "timestamp?",
    result: (args) => formatChecked(args, typed(TIMESTAMP, true)),
    strict: true,
    kernel: (args) => timestampParser(args),
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
    strict: true,
    kernel: (args) => {
      if (args[0]!.type.kind === "timestamp") return (t: number) => floorDiv(t, MICROS_PER_DAY);
      if (args.length > 1) {
        const parse = timestampParser(args);
        return (s: string, format: string) => {
          const micros = parse(s, format);
          return micros === null ? null : floorDiv(micros, MICROS_PER_DAY);
        };
      }
      return (s: string) => {
        const days = parseDateDays(s);
        if (days !== undefined) return days;
        const micros = parseTimestampMicros(s);
        return micros === undefined ? null : floorDiv(micros, MICROS_PER_DAY);
      };
    },
  },
  epoch_millis: {
    summary: "Milliseconds since 1970-01-01T00:00:00Z, rounded down.",
    params: [{ name: "ts", accepts: TIMESTAMP_PARAM }],
    returns: "long",
    result: (args) => typed(LONG, anyNullable(args)),
    strict: true,
    kernel: () => (t: number) => floorDiv(t, 1000),
  },
  from_epoch_millis: {
    summary: "The timestamp `ms` milliseconds after 1970-01-01T00:00:00Z.",
    params: [{ name: "ms", accepts: LONG_PARAM }],
    returns: "timestamp",
    result: (args) => typed(TIMESTAMP, anyNullable(args)),
    strict: true,
    kernel: () => (ms: number) => {
      const micros = ms * 1000;
      return fitsInteger(micros, "timestamp") ? micros : null;
    },
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
    strict: true,
    kernel: (args) => {
      const literal = stringLiteral(args[1]);
      if (literal !== undefined) {
        const steps = jsonPathOrNull(literal);
        return steps === null ? () => null : (json: string) => jsonGet(json, steps);
      }
      const paths = new LruCache(jsonPathOrNull, PATTERN_CACHE_SIZE);
      return (json: string, path: string) => {
        const steps = paths.get(path);
        return steps === null ? null : jsonGet(json, steps);
      };
    },
  },
  hash: {
    summary: "A `long` hash of the values, stable across runs; never null.",
    params: [{ name: "x", accepts: { kind: "equatable" }, arity: "rest" }],
    returns: "long",
    result: () => typed(LONG, false),
    strict: false,
    kernel: (args) => hashKernel(args.map((a) => a.type)),
  },
  size: {
    summary: "The number of elements of a list or entries of a map.",
    params: [{ name: "c", accepts: { kind: "collection" } }],
    returns: "int",
    result: (args) => typed(INT, anyNullable(args)),
    strict: true,
    kernel: () => (c: KernelValue[] | Map<string, KernelValue>) => (Array.isArray(c) ? c.length : c.size),
  },
};

/** Every built-in scalar function, by name. */
export const scalarFunctions: ReadonlyMap<string, BuiltinScalarFunction> = new Map(
  Object.entries(scalarTable).map(([name, spec]): [string, BuiltinScalarFunction] => [
    name,
    { name, summary: spec.summary, strict: spec.strict, kernel: spec.kernel, ...signature(name, spec) },
  ]),
);

/**
 * A function's row kernel for `args`, with the strict null rule applied (null in, null out) for
 * strict functions: for interpreters, constant folding and tests. Generated code binds
 * `fn.kernel(args)` itself and tests validity bits instead.
 */
export function bindScalarKernel(fn: BuiltinScalarFunction, args: readonly ArgInfo[]): RowKernel {
  const row = fn.kernel(args);
  if (!fn.strict) return row;
  return (...values) => (values.includes(null) ? null : row(...values));
}

// ---- kernel helpers ---------------------------------------------------------------------------

/**
 * A variadic kernel folding `step` over the arguments from `start`, specialised for up to three
 * arguments so that no argument array is built per row.
 */
function variadic(count: number, start: KernelValue, step: (acc: KernelValue, value: KernelValue, index: number) => KernelValue): RowKernel {
  switch (count) {
    case 1:
      return (a: KernelValue) => step(start, a, 0);
    case 2:
      return (a: KernelValue, b: KernelValue) => step(step(start, a, 0), b, 1);
    case 3:
      return (a: KernelValue, b: KernelValue, c: KernelValue) => step(step(step(start, a, 0), b, 1), c, 2);
    default:
      return (...values: KernelValue[]) => {
        let acc = start;
        for (let i = 0; i < values.length; i++) acc = step(acc, values[i] ?? null, i);
        return acc;
      };
  }
}

/** The type all arguments meet in (what `check` gave for `greatest`, `least`, `coalesce`). */
function commonTypeOf(args: readonly ArgInfo[]): DataType {
  let type = args[0]!.type;
  for (let i = 1; i < args.length; i++) type = commonType(type, args[i]!.type) ?? type;
  return type;
}

/** `greatest` (sign 1) or `least` (sign -1): nulls skipped, values converted to the common type. */
function extremeKernel(args: readonly ArgInfo[], sign: 1 | -1): RowKernel {
  const type = commonTypeOf(args);
  const converters = args.map((a) => converter(a.type, type));
  const compare = comparator(type);
  return variadic(args.length, null, (best, v, index) => {
    if (v === null) return best;
    const convert = converters[index];
    const value = convert === undefined ? v : convert(v);
    return best === null || sign * compare(value, best) > 0 ? value : best;
  });
}

/** A numeric argument's values as doubles (decimals converted, other numbers as they are). */
function doubleReader(type: DataType): (v: number | bigint) => number {
  if (type.kind === "decimal") {
    const scale = type.scale;
    return (v) => decimalToDouble(v as bigint, scale);
  }
  return (v) => v as number;
}

/** `floor`/`ceil`: integers unchanged, doubles by `double`, decimals to scale 0 by `decimal`. */
function wholeNumberKernel(type: DataType, double: (x: number) => number, decimal: (v: bigint, d: bigint) => bigint): RowKernel {
  if (type.kind === "decimal") {
    if (type.scale === 0) return (v: bigint) => v;
    const factor = POW10_BIG[type.scale]!;
    return (v: bigint) => decimal(v, factor);
  }
  if (type.kind === "double") return double;
  return (v: number) => v;
}

const TIMESTAMP_TRUNCATIONS: ReadonlyMap<string, (t: number) => number> = new Map<DateTruncUnit, (t: number) => number>([
  ["second", (t) => t - floorMod(t, MICROS_PER_SECOND)],
  ["minute", (t) => t - floorMod(t, MICROS_PER_MINUTE)],
  ["hour", (t) => t - floorMod(t, MICROS_PER_HOUR)],
  ["day", (t) => t - floorMod(t, MICROS_PER_DAY)],
  ["week", (t) => weekStartDays(floorDiv(t, MICROS_PER_DAY)) * MICROS_PER_DAY],
  ["month", (t) => monthStartDays(floorDiv(t, MICROS_PER_DAY)) * MICROS_PER_DAY],
  ["year", (t) => yearStartDays(floorDiv(t, MICROS_PER_DAY)) * MICROS_PER_DAY],
]);

/** A date has no second, minute or hour: those units are missing here, as the checker rejects them. */
const DATE_TRUNCATIONS: ReadonlyMap<string, (d: number) => number> = new Map<DateTruncUnit, (d: number) => number>([
  ["day", (d) => d],
  ["week", weekStartDays],
  ["month", monthStartDays],
  ["year", yearStartDays],
]);

/** `day`, `month`, `year` of a date or timestamp: `field` reads the calendar scratch result. */
function calendarField(type: DataType, field: () => number): RowKernel {
  if (type.kind === "date") {
    return (days: number) => {
      civilFromDays(days);
      return field();
    };
  }
  return (t: number) => {
    civilFromDays(floorDiv(t, MICROS_PER_DAY));
    return field();
  };
}

function compiledFormatOrNull(format: string): CompiledFormat | null {
  const parts = parseTimestampFormat(format);
  return Array.isArray(parts) ? compileTimestampFormat(parts) : null;
}

/** `to_timestamp(s, format?)` (and `to_date` of a string): microseconds, or null. */
function timestampParser(args: readonly ArgInfo[]): (s: string, format?: string) => number | null {
  const inRange = (micros: number | null | undefined): number | null =>
    micros === null || micros === undefined || !fitsInteger(micros, "timestamp") ? null : micros;
  if (args.length < 2) return (s) => inRange(parseTimestampMicros(s));
  const literal = stringLiteral(args[1]);
  if (literal !== undefined) {
    const format = compiledFormatOrNull(literal);
    return format === null ? () => null : (s) => inRange(parseFormattedMicros(s, format));
  }
  const formats = new LruCache(compiledFormatOrNull, PATTERN_CACHE_SIZE);
  return (s, f) => {
    const format = formats.get(f!);
    return format === null ? null : inRange(parseFormattedMicros(s, format));
  };
}

function regexOrNull(pattern: string): RegExp | null {
  const compiled = compileRegex(pattern);
  return typeof compiled === "string" ? null : compiled;
}

/**
 * The compiled pattern of a regex argument, by its value: a literal is compiled once (the value
 * passed per row is ignored), any other pattern through an LRU cache; null when invalid.
 */
function regexSource(arg: ArgInfo | undefined): (pattern: string) => RegExp | null {
  const literal = stringLiteral(arg);
  if (literal !== undefined) {
    const regex = regexOrNull(literal);
    return () => regex;
  }
  const cache = new LruCache(regexOrNull, PATTERN_CACHE_SIZE);
  return (pattern) => cache.get(pattern);
}

function jsonPathOrNull(path: string): JsonPathStep[] | null {
  const steps = parseJsonPath(path);
  return Array.isArray(steps) ? steps : null;
}

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
