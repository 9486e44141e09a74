/**
 * The machinery behind the built-in scalar kernels: code-point string helpers, the UTC calendar,
 * timestamp-format parsing, a JSON path scanner, the `hash` algorithm, and type-directed
 * conversion, ordering and equality of kernel values.
 *
 * Contract: scalar-functions.ts holds each function's signature and kernel factory side by side and
 * documents the value representation (`KernelValue`); this file holds what those factories share.
 * Everything here is pure, never throws on data (a value it cannot handle gives `null`), and
 * allocates nothing per call beyond its result, except where a comment says otherwise. It imports
 * only types from scalar-functions.ts, so there is no import cycle at run time.
 */
import type { DataType } from "../runtime/plan.ts";
import type { JsonPathStep, KernelValue, TimestampFormatPart } from "./scalar-functions.ts";

// ---- a small LRU cache ------------------------------------------------------------------------

/**
 * A least-recently-used cache keyed by string, for what kernels compile from non-literal arguments
 * (regular expressions, formats, JSON paths). `make` may return `null` (an invalid pattern), which
 * is cached too. The last key is remembered, so a column that repeats one pattern costs one `===`.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, V | null>();
  private lastKey: string | undefined = undefined;
  private lastValue: V | null = null;

  constructor(
    private readonly make: (key: string) => V | null,
    readonly capacity = 64,
  ) {}

  get(key: string): V | null {
    if (key === this.lastKey) return this.lastValue;
    let value: V | null;
    if (this.entries.has(key)) {
      value = this.entries.get(key)!;
      this.entries.delete(key); // re-inserted below: the most recently used is last
    } else {
      value = this.make(key);
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, value);
    this.lastKey = key;
    this.lastValue = value;
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}

// ---- numbers ----------------------------------------------------------------------------------

export const INT_MIN = -2147483648;
export const INT_MAX = 2147483647;
/** 2^63: a `long` result must lie in [-2^63, 2^63) (exact only within ±2^53, see the contract). */
export const LONG_LIMIT = 9223372036854775808;

/** Whether an integral number fits the integer type `kind` (`int`, `long`, `date`, `timestamp`...). */
export function fitsInteger(value: number, kind: DataType["kind"]): boolean {
  if (kind === "int" || kind === "date") return value >= INT_MIN && value <= INT_MAX;
  return value >= -LONG_LIMIT && value < LONG_LIMIT;
}

/** 10^0 ... 10^76 as bigints (a decimal has at most 38 digits; rounding may need twice that). */
export const POW10_BIG: readonly bigint[] = Array.from({ length: 77 }, (_, i) => 10n ** BigInt(i));
/** 10^0 ... 10^22 as numbers: exactly representable. */
const POW10_NUM: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);
const BIG_SAFE = 9007199254740992n;

/** A decimal's value (unscaled `v`, scale `scale`) as the nearest double. */
export function decimalToDouble(v: bigint, scale: number): number {
  // Both operands exact, so one correctly rounded division; otherwise let the parser round.
  if (scale <= 22 && v <= BIG_SAFE && v >= -BIG_SAFE) return Number(v) / POW10_NUM[scale]!;
  return Number(`${v}e-${scale}`);
}

/** `v` rounded half away from zero to a multiple of `factor` (> 0). */
export function roundBigToMultiple(v: bigint, factor: bigint): bigint {
  const negative = v < 0n;
  const magnitude = negative ? -v : v;
  let q = magnitude / factor;
  if ((magnitude - q * factor) * 2n >= factor) q += 1n;
  const rounded = q * factor;
  return negative ? -rounded : rounded;
}

/** Floor division of bigints (`/` truncates toward zero). */
export function floorDivBig(v: bigint, d: bigint): bigint {
  const q = v / d;
  return v < 0n && q * d !== v ? q - 1n : q;
}

/** Ceiling division of bigints. */
export function ceilDivBig(v: bigint, d: bigint): bigint {
  const q = v / d;
  return v > 0n && q * d !== v ? q + 1n : q;
}

/** x rounded half away from zero to `digits` decimal places, DuckDB's way (see `round`). */
export function roundDouble(x: number, digits: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return x;
  let rounded: number;
  if (digits < 0) {
    const modifier = Math.pow(10, -digits);
    rounded = roundHalfAway(x / modifier) * modifier;
    if (rounded !== rounded || rounded === Infinity || rounded === -Infinity) return 0;
  } else {
    const modifier = Math.pow(10, digits);
    rounded = roundHalfAway(x * modifier) / modifier;
    if (rounded !== rounded || rounded === Infinity || rounded === -Infinity) return x;
  }
  return rounded;
}

/** C's `round`: half away from zero (JavaScript's `Math.round` rounds half up). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** An `int`/`long` rounded half away from zero to a multiple of 10^-digits (digits < 0). */
export function roundIntegerNumber(x: number, digits: number): number {
  if (digits >= 0) return x;
  if (digits < -19) return 0; // 10^20 > 2 * 2^63: everything rounds to 0
  const factor = 10 ** -digits;
  const magnitude = Math.abs(x);
  const remainder = magnitude % factor;
  let q = (magnitude - remainder) / factor;
  if (remainder * 2 >= factor) q += 1;
  const rounded = q * factor;
  return x < 0 && rounded !== 0 ? -rounded : rounded; // never -0 for an integer
}

// ---- strings ----------------------------------------------------------------------------------

/** The number of Unicode code points (a lone surrogate counts as one). */
export function codePointLength(s: string): number {
  const n = s.length;
  let count = n;
  for (let i = 0; i < n - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** The code-unit offset of code point `target`, walking from (`unit`, `point`). */
function unitOffset(s: string, target: number, unit: number, point: number): number {
  const n = s.length;
  while (point < target && unit < n) {
    const c = s.charCodeAt(unit);
    unit += c >= 0xd800 && c <= 0xdbff && unit + 1 < n && (s.charCodeAt(unit + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
    point++;
  }
  return unit;
}

/**
 * `substr` on code points, as Spark's `substring`: 1-based `start`, 0 means 1, a negative start
 * counts from the end; `length` undefined means the rest; a negative length gives "".
 */
export function substrCodePoints(s: string, start: number, length: number | undefined): string {
  const n = codePointLength(s);
  let from = start > 0 ? start - 1 : start < 0 ? n + start : 0;
  let to = length === undefined ? Infinity : from + length;
  if (from < 0) from = 0;
  if (to > n) to = n;
  if (from >= to) return "";
  if (n === s.length) return s.substring(from, to);
  const fromUnit = unitOffset(s, from, 0, 0);
  return s.substring(fromUnit, unitOffset(s, to, fromUnit, from));
}

/** Every occurrence of the plain text `from` replaced by `to`; an empty `from` changes nothing. */
export function replacePlain(s: string, from: string, to: string): string {
  if (from.length === 0) return s;
  let at = s.indexOf(from);
  if (at < 0) return s;
  let out = "";
  let last = 0;
  while (at >= 0) {
    out += s.slice(last, at) + to;
    last = at + from.length;
    at = s.indexOf(from, last);
  }
  return out + s.slice(last);
}

/** The pieces between occurrences of the plain text `sep`; "" splits into code points; never empty. */
export function splitPlain(s: string, sep: string): string[] {
  if (sep.length > 0) return s.split(sep);
  if (s.length === 0) return [""];
  return Array.from(s);
}

/** Strings in code-point order (UTF-8 byte order, as DuckDB and Spark), not UTF-16 order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return surrogateRank(x) - surrogateRank(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Moves surrogates (D800-DFFF) above E000-FFFF, so that code units compare as code points. */
function surrogateRank(c: number): number {
  return c >= 0xe000 ? c - 0x800 : c + 0x2000;
}

/** Byte strings in unsigned lexicographic order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

// ---- the UTC calendar -------------------------------------------------------------------------

export const MICROS_PER_SECOND = 1_000_000;
export const MICROS_PER_MINUTE = 60_000_000;
export const MICROS_PER_HOUR = 3_600_000_000;
export const MICROS_PER_DAY = 86_400_000_000;

/** a mod b, in [0, b), never -0. Exact for integers within ±2^53. */
export function floorMod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r + 0;
}

/** floor(a / b) for integers, exactly (a float division can round up across an integer). */
export function floorDiv(a: number, b: number): number {
  return (a - floorMod(a, b)) / b;
}

/** Days since 1970-01-01 of the proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Set by `civilFromDays`: scratch results, so that no object is allocated per row. */
export const civil = { year: 1970, month: 1, day: 1 };

/** Splits days since the epoch into `civil.year`, `civil.month`, `civil.day`. */
export function civilFromDays(days: number): void {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  civil.day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  civil.month = mp < 10 ? mp + 3 : mp - 9;
  civil.year = yoe + era * 400 + (civil.month <= 2 ? 1 : 0);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The Monday on or before `days` (1970-01-01, day 0, was a Thursday). */
export function weekStartDays(days: number): number {
  return days - floorMod(days + 3, 7);
}

export function monthStartDays(days: number): number {
  civilFromDays(days);
  return days - civil.day + 1;
}

export function yearStartDays(days: number): number {
  civilFromDays(days);
  return daysFromCivil(civil.year, 1, 1);
}

// ---- timestamp formats ------------------------------------------------------------------------

type FormatStep =
  | { kind: "text"; text: string }
  /** digits for a field; `min`/`max` digits */
  | { kind: "number"; letter: string; twoDigitYear: boolean; min: number; max: number }
  | { kind: "monthName" }
  | { kind: "ampm" }
  | { kind: "zone" };

/** A format compiled once for `parseFormattedMicros`. */
export interface CompiledFormat {
  steps: FormatStep[];
}

const NUMERIC_LETTERS = "yMdHhmsS";

/**
 * Compiles parsed format parts (`parseTimestampFormat`). Digit counts, as Spark 3 parses:
 * `yy` is exactly two digits, the year 2000 + yy; other year runs take at least their width
 * (`yyyy`: 4 to 6 digits); `M d H h m s` take 1 or 2 digits when single (`d`), exactly their width
 * otherwise (`dd`); `S...` takes 1 to its width in digits (a fraction; digits past the microsecond
 * are dropped). A field followed directly by another numeric field (`yyyyMMdd`) takes exactly its
 * width. `MMM`/`MMMM` are English month names (either form, any case); `a` is AM/PM (any case);
 * `X`/`Z` accept `Z`, `+HH`, `+HHMM` or `+HH:MM`. Text must appear exactly (case included) and
 * nothing may follow the last part. Fields left out default to 1970-01-01T00:00:00Z; `h` without
 * `a` is AM; `H` wins over `h`/`a`. Impossible dates (February 30th) and hours, minutes or seconds
 * out of range give null.
 */
export function compileTimestampFormat(parts: readonly TimestampFormatPart[]): CompiledFormat {
  const steps: FormatStep[] = [];
  parts.forEach((part, index) => {
    if (part.kind === "text") {
      steps.push({ kind: "text", text: part.text });
      return;
    }
    const { letter, width } = part;
    if (letter === "a") steps.push({ kind: "ampm" });
    else if (letter === "X" || letter === "Z") steps.push({ kind: "zone" });
    else if (letter === "M" && width >= 3) steps.push({ kind: "monthName" });
    else {
      const next = parts[index + 1];
      const adjacent = next?.kind === "field" && NUMERIC_LETTERS.includes(next.letter) && !(next.letter === "M" && next.width >= 3);
      let min: number;
      let max: number;
      if (adjacent) [min, max] = [width, width];
      else if (letter === "y") [min, max] = width === 2 ? [2, 2] : [width, Math.max(width, 6)];
      else if (letter === "S") [min, max] = [1, width];
      else [min, max] = width === 1 ? [1, 2] : [width, width];
      steps.push({ kind: "number", letter, twoDigitYear: letter === "y" && width === 2, min, max });
    }
  });
  return { steps };
}

const MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/** The fields of the parse in progress (an object: module `let`s cost a TDZ check per access). */
const F = { year: 1970, month: 1, day: 1, hour24: -1, hour12: -1, pm: -1, minute: 0, second: 0, micros: 0, offsetSeconds: 0 };

/** Whether `text` at `at` starts with `word`, ignoring ASCII case (`word` is lower case). */
function startsWithIgnoringCase(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) if ((text.charCodeAt(at + i) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** The microseconds since the epoch that `text` denotes in `format`, or null when it does not fit. */
export function parseFormattedMicros(text: string, format: CompiledFormat): number | null {
  F.year = 1970;
  F.month = 1;
  F.day = 1;
  F.hour24 = -1;
  F.hour12 = -1;
  F.pm = -1;
  F.minute = 0;
  F.second = 0;
  F.micros = 0;
  F.offsetSeconds = 0;
  let at = 0;
  const n = text.length;
  for (const step of format.steps) {
    switch (step.kind) {
      case "text":
        if (!text.startsWith(step.text, at)) return null;
        at += step.text.length;
        break;
      case "number": {
        let value = 0;
        let digits = 0;
        while (digits < step.max && at < n) {
          const c = text.charCodeAt(at) - 48;
          if (c < 0 || c > 9) break;
          value = value * 10 + c;
          digits++;
          at++;
        }
        if (digits < step.min) return null;
        switch (step.letter) {
          case "y":
            F.year = step.twoDigitYear ? 2000 + value : value;
            break;
          case "M":
            F.month = value;
            break;
          case "d":
            F.day = value;
            break;
          case "H":
            F.hour24 = value;
            break;
          case "h":
            F.hour12 = value;
            break;
          case "m":
            F.minute = value;
            break;
          case "s":
            F.second = value;
            break;
          case "S":
            // `digits` digits of fraction: scale to microseconds, dropping what lies below.
            F.micros = digits <= 6 ? value * 10 ** (6 - digits) : Math.floor(value / 10 ** (digits - 6));
            break;
        }
        break;
      }
      case "monthName": {
        let month = 0;
        for (let m = 0; m < 12 && month === 0; m++) {
          const name = MONTH_NAMES[m]!;
          if (startsWithIgnoringCase(text, at, name)) {
            month = m + 1;
            at += name.length;
          } else if (startsWithIgnoringCase(text, at, name.slice(0, 3))) {
            month = m + 1;
            at += 3;
          }
        }
        if (month === 0) return null;
        F.month = month;
        break;
      }
      case "ampm":
        if (startsWithIgnoringCase(text, at, "am")) F.pm = 0;
        else if (startsWithIgnoringCase(text, at, "pm")) F.pm = 1;
        else return null;
        at += 2;
        break;
      case "zone": {
        const c = text.charCodeAt(at);
        if (c === 90 || c === 122) {
          // Z or z
          F.offsetSeconds = 0;
          at++;
          break;
        }
        if (c !== 43 && c !== 45) return null; // + or -
        const hours = twoDigits(text, at + 1);
        if (hours < 0) return null;
        at += 3;
        let minutes = 0;
        if (text.charCodeAt(at) === 58) {
          minutes = twoDigits(text, at + 1);
          if (minutes < 0) return null;
          at += 3;
        } else {
          const m = twoDigits(text, at);
          if (m >= 0) {
            minutes = m;
            at += 2;
          }
        }
        if (hours > 23 || minutes > 59) return null;
        F.offsetSeconds = (c === 45 ? -1 : 1) * (hours * 3600 + minutes * 60);
        break;
      }
    }
  }
  if (at !== n) return null;
  if (F.month < 1 || F.month > 12 || F.day < 1 || F.day > daysInMonth(F.year, F.month)) return null;
  let hour: number;
  if (F.hour24 >= 0) hour = F.hour24;
  else if (F.hour12 >= 0) {
    if (F.hour12 < 1 || F.hour12 > 12) return null;
    hour = (F.hour12 % 12) + (F.pm === 1 ? 12 : 0);
  } else hour = 0;
  if (hour > 23 || F.minute > 59 || F.second > 59) return null;
  const seconds = daysFromCivil(F.year, F.month, F.day) * 86400 + hour * 3600 + F.minute * 60 + F.second - F.offsetSeconds;
  return seconds * MICROS_PER_SECOND + F.micros;
}

/** The two ASCII digits at `at` as a number, or -1. */
function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

// ---- JSON paths -------------------------------------------------------------------------------

/** The scan in progress, one document at a time (kernels never re-enter); an object, as `F`. */
const J = { src: "", at: 0, steps: [] as readonly JsonPathStep[], foundStart: -1, foundEnd: -1 };

/** Thrown (and caught in `jsonGet`) when the text is not JSON. */
const NOT_JSON = new Error("not JSON");

/**
 * The value at `steps` in the JSON text, as `json_get` gives it: a string unquoted, `null` for JSON
 * null, a missing path or text that is not JSON (RFC 8259, whole text), and any other value as
 * compact JSON text exactly as written (numbers keep their digits: no precision is lost). When a key
 * occurs twice in an object, the first occurrence counts (as DuckDB and Spark).
 *
 * The document is scanned, not parsed into objects: nothing is allocated except the result.
 */
export function jsonGet(text: string, steps: readonly JsonPathStep[]): string | null {
  J.src = text;
  J.at = 0;
  J.steps = steps;
  J.foundStart = -1;
  try {
    jsonWhitespace();
    jsonValue(0, true);
    jsonWhitespace();
    if (J.at !== J.src.length || J.foundStart < 0) return null;
    return renderJson(J.foundStart, J.foundEnd);
  } catch {
    // NOT_JSON, or a RangeError from a document nested deeper than the stack
    return null;
  } finally {
    J.src = "";
  }
}

function jsonWhitespace(): void {
  for (;;) {
    const c = J.src.charCodeAt(J.at);
    if (c === 32 || c === 10 || c === 13 || c === 9) J.at++;
    else return;
  }
}

/** Scans one value; `onPath`: the value's position matches the first `depth` steps of the path. */
function jsonValue(depth: number, onPath: boolean): void {
  const start = J.at;
  const c = J.src.charCodeAt(J.at);
  if (c === 123) jsonObject(depth, onPath);
  else if (c === 91) jsonArray(depth, onPath);
  else if (c === 34) jsonString();
  else if (c === 116) jsonWord("true");
  else if (c === 102) jsonWord("false");
  else if (c === 110) jsonWord("null");
  else jsonNumber();
  if (onPath && depth === J.steps.length && J.foundStart < 0) {
    J.foundStart = start;
    J.foundEnd = J.at;
  }
}

function jsonObject(depth: number, onPath: boolean): void {
  J.at++; // {
  jsonWhitespace();
  if (J.src.charCodeAt(J.at) === 125) {
    J.at++;
    return;
  }
  const step = onPath && depth < J.steps.length ? J.steps[depth]! : undefined;
  let wanted = step?.kind === "key" ? step.key : undefined;
  for (;;) {
    if (J.src.charCodeAt(J.at) !== 34) throw NOT_JSON;
    const keyStart = J.at;
    const escaped = jsonString();
    let match = false;
    if (wanted !== undefined) {
      match = escaped ? JSON.parse(J.src.slice(keyStart, J.at)) === wanted : rawEquals(keyStart + 1, J.at - 1, wanted);
      if (match) wanted = undefined; // the first occurrence of a key counts
    }
    jsonWhitespace();
    if (J.src.charCodeAt(J.at) !== 58) throw NOT_JSON;
    J.at++;
    jsonWhitespace();
    jsonValue(depth + 1, match);
    jsonWhitespace();
    const c = J.src.charCodeAt(J.at);
    J.at++;
    if (c === 125) return;
    if (c !== 44) throw NOT_JSON;
    jsonWhitespace();
  }
}

function rawEquals(from: number, to: number, key: string): boolean {
  if (to - from !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (J.src.charCodeAt(from + i) !== key.charCodeAt(i)) return false;
  return true;
}

function jsonArray(depth: number, onPath: boolean): void {
  J.at++; // [
  jsonWhitespace();
  if (J.src.charCodeAt(J.at) === 93) {
    J.at++;
    return;
  }
  const step = onPath && depth < J.steps.length ? J.steps[depth]! : undefined;
  const wanted = step?.kind === "index" ? step.index : -1;
  for (let index = 0; ; index++) {
    jsonValue(depth + 1, index === wanted);
    jsonWhitespace();
    const c = J.src.charCodeAt(J.at);
    J.at++;
    if (c === 93) return;
    if (c !== 44) throw NOT_JSON;
    jsonWhitespace();
  }
}

/** Scans a string; returns whether it holds an escape. */
function jsonString(): boolean {
  J.at++; // "
  let escaped = false;
  for (;;) {
    const c = J.src.charCodeAt(J.at);
    if (c === 34) {
      J.at++;
      return escaped;
    }
    if (c !== c || c < 0x20) throw NOT_JSON; // end of text (NaN) or a control character
    if (c === 92) {
      escaped = true;
      const e = J.src.charCodeAt(J.at + 1);
      if (e === 117) {
        for (let k = 2; k < 6; k++) if (!isHexDigit(J.src.charCodeAt(J.at + k))) throw NOT_JSON;
        J.at += 6;
      } else if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) J.at += 2;
      else throw NOT_JSON;
    } else J.at++;
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function jsonWord(word: string): void {
  if (!J.src.startsWith(word, J.at)) throw NOT_JSON;
  J.at += word.length;
}

function jsonNumber(): void {
  if (J.src.charCodeAt(J.at) === 45) J.at++;
  const first = J.src.charCodeAt(J.at);
  if (first === 48) J.at++;
  else if (first >= 49 && first <= 57) jsonDigits();
  else throw NOT_JSON;
  if (J.src.charCodeAt(J.at) === 46) {
    J.at++;
    if (jsonDigits() === 0) throw NOT_JSON;
  }
  const e = J.src.charCodeAt(J.at);
  if (e === 101 || e === 69) {
    J.at++;
    const sign = J.src.charCodeAt(J.at);
    if (sign === 43 || sign === 45) J.at++;
    if (jsonDigits() === 0) throw NOT_JSON;
  }
}

function jsonDigits(): number {
  const start = J.at;
  for (;;) {
    const c = J.src.charCodeAt(J.at);
    if (c >= 48 && c <= 57) J.at++;
    else return J.at - start;
  }
}

/** The found value as `json_get` returns it. */
function renderJson(start: number, end: number): string | null {
  const c = J.src.charCodeAt(start);
  if (c === 110) return null; // JSON null
  if (c === 34) {
    const raw = J.src.slice(start + 1, end - 1);
    return raw.includes("\\") ? (JSON.parse(J.src.slice(start, end)) as string) : raw;
  }
  if (c !== 123 && c !== 91) return J.src.slice(start, end);
  // An object or array: drop the whitespace between tokens.
  let out = "";
  let runStart = start;
  let inString = false;
  for (let i = start; i < end; i++) {
    const d = J.src.charCodeAt(i);
    if (inString) {
      if (d === 92) i++;
      else if (d === 34) inString = false;
    } else if (d === 34) inString = true;
    else if (d === 32 || d === 10 || d === 13 || d === 9) {
      out += J.src.slice(runStart, i);
      runStart = i + 1;
    }
  }
  return runStart === start ? J.src.slice(start, end) : out + J.src.slice(runStart, end);
}

// ---- hash ---------------------------------------------------------------------------------------

/*
 * `hash(x, ...)`, version 1. Each argument is written in a canonical byte encoding (below); the
 * bytes are hashed with MurmurHash3 x86_32 under two seeds, HASH_SEED_LOW and HASH_SEED_HIGH, and the
 * result is (high >>> 11) * 2^32 + low: a non-negative integer below 2^53, exact as a JavaScript
 * number and as a `long`. The encoding depends on the arguments' types, never on the machine, run
 * or version of Node; changing any of it changes every stored hash, so it is frozen.
 *
 * Encoding of one value (integers little-endian; "int64" is two's complement):
 *   null                      0x00
 *   bool                      0x01, 0x00 | 0x01
 *   a whole number            0x02, int64: int, long, and double or decimal values that are whole
 *                             and within the int64 range (so 1, 1L, 1.0 and 1.00 hash alike;
 *                             -0.0 is 0)
 *   another double            0x03, the IEEE-754 bits as 8 bytes (every NaN as 0x7ff8000000000000)
 *   another decimal           0x04, scale (1 byte), unscaled value as 16 bytes (int128), after
 *                             dropping trailing zeros (1.50 and 1.5 hash alike)
 *   string                    0x05, UTF-8 byte length (4 bytes), UTF-8 bytes (a lone surrogate
 *                             as U+FFFD)
 *   bytes                     0x06, length (4 bytes), the bytes
 *   date                      0x07, days as int32
 *   timestamp                 0x08, microseconds as int64
 *   duration                  0x09, microseconds as int64
 *   list                      0x0a, element count (4 bytes), each element encoded
 *   struct                    0x0b, field count (4 bytes), each field's value encoded, in order
 *   map                       0x0c, entry count (4 bytes), entries in code-point order of their
 *                             keys, each as the key (a string) then the value
 * The arguments' encodings are concatenated; each is self-delimiting.
 */
export const HASH_SEED_LOW = 0x5eed_0001;
export const HASH_SEED_HIGH = 0x5eed_0002;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
/** The hash in progress (one object, not module `let`s: V8 checks those for TDZ on every access). */
const H = { low: 0, high: 0, tail: 0, tailBytes: 0, total: 0 };

function hashBegin(): void {
  H.low = HASH_SEED_LOW;
  H.high = HASH_SEED_HIGH;
  H.tail = 0;
  H.tailBytes = 0;
  H.total = 0;
}

function hashBlock(block: number): void {
  let k = Math.imul(block, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  H.low ^= k;
  H.low = (H.low << 13) | (H.low >>> 19);
  H.low = (Math.imul(H.low, 5) + 0xe6546b64) | 0;
  H.high ^= k;
  H.high = (H.high << 13) | (H.high >>> 19);
  H.high = (Math.imul(H.high, 5) + 0xe6546b64) | 0;
}

function hashByte(b: number): void {
  H.tail |= b << (H.tailBytes << 3);
  H.total++;
  if (++H.tailBytes === 4) {
    hashBlock(H.tail);
    H.tail = 0;
    H.tailBytes = 0;
  }
}

function hashUint32(v: number): void {
  if (H.tailBytes === 0) {
    H.total += 4;
    hashBlock(v | 0);
  } else {
    hashByte(v & 0xff);
    hashByte((v >>> 8) & 0xff);
    hashByte((v >>> 16) & 0xff);
    hashByte((v >>> 24) & 0xff);
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashFinish(): number {
  if (H.tailBytes > 0) {
    let k = Math.imul(H.tail, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    H.low ^= k;
    H.high ^= k;
  }
  const low = fmix32(H.low ^ H.total);
  const high = fmix32(H.high ^ H.total);
  return (high >>> 11) * 4294967296 + low;
}

/** MurmurHash3 x86_32 of raw bytes under `seed`, unsigned: the primitive `hash` builds on (for tests). */
export function murmur3x86_32(bytes: Uint8Array, seed: number): number {
  hashBegin();
  H.low = seed | 0;
  for (let i = 0; i < bytes.length; i++) hashByte(bytes[i]!);
  if (H.tailBytes > 0) {
    let k = Math.imul(H.tail, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    H.low ^= k;
  }
  return fmix32(H.low ^ H.total);
}

const TWO_32 = 4294967296;
const doubleView = new DataView(new ArrayBuffer(8));

function hashInt64Number(x: number): void {
  const high = Math.floor(x / TWO_32);
  hashUint32(x - high * TWO_32);
  hashUint32(high | 0);
}

function hashInt64Big(v: bigint): void {
  hashUint32(Number(BigInt.asUintN(32, v)));
  hashUint32(Number(BigInt.asUintN(32, v >> 32n)));
}

const INT64_MIN_BIG = -(2n ** 63n);
const INT64_MAX_BIG = 2n ** 63n - 1n;

/** A number of any numeric type: whole values as int64, others as IEEE-754 bits. */
function hashNumber(x: number): void {
  if (Number.isInteger(x) && x >= -LONG_LIMIT && x < LONG_LIMIT) {
    hashByte(0x02);
    hashInt64Number(x);
    return;
  }
  hashByte(0x03);
  if (x !== x) {
    hashUint32(0);
    hashUint32(0x7ff80000);
    return;
  }
  doubleView.setFloat64(0, x, true);
  hashUint32(doubleView.getUint32(0, true));
  hashUint32(doubleView.getUint32(4, true));
}

function hashDecimal(v: bigint, scale: number): void {
  if (scale > 0 && v % POW10_BIG[scale]! === 0n) {
    v /= POW10_BIG[scale]!;
    scale = 0;
  }
  if (scale === 0 && v >= INT64_MIN_BIG && v <= INT64_MAX_BIG) {
    hashByte(0x02);
    hashInt64Big(v);
    return;
  }
  while (scale > 0 && v % 10n === 0n) {
    v /= 10n;
    scale--;
  }
  hashByte(0x04);
  hashByte(scale);
  for (let k = 0n; k < 128n; k += 32n) hashUint32(Number(BigInt.asUintN(32, v >> k)));
}

function utf8Length(s: string): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3; // BMP, or a lone surrogate written as U+FFFD
  }
  return bytes;
}

function hashString(s: string): void {
  hashByte(0x05);
  hashUint32(utf8Length(s));
  const n = s.length;
  // ASCII prefix: bytes gathered into words in locals, the common case.
  let i = 0;
  let tail = H.tail;
  let tailBytes = H.tailBytes;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    tail |= c << (tailBytes << 3);
    if (++tailBytes === 4) {
      hashBlock(tail);
      tail = 0;
      tailBytes = 0;
    }
  }
  H.tail = tail;
  H.tailBytes = tailBytes;
  H.total += i;
  for (; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) hashByte(c);
    else if (c < 0x800) {
      hashByte(0xc0 | (c >> 6));
      hashByte(0x80 | (c & 0x3f));
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = s.charCodeAt(i + 1);
        if (c <= 0xdbff && i + 1 < n && (d & 0xfc00) === 0xdc00) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          hashByte(0xf0 | (cp >> 18));
          hashByte(0x80 | ((cp >> 12) & 0x3f));
          hashByte(0x80 | ((cp >> 6) & 0x3f));
          hashByte(0x80 | (cp & 0x3f));
          i++;
          continue;
        }
        c = 0xfffd;
      }
      hashByte(0xe0 | (c >> 12));
      hashByte(0x80 | ((c >> 6) & 0x3f));
      hashByte(0x80 | (c & 0x3f));
    }
  }
}

type HashEncoder = (value: KernelValue) => void;

/** The encoder of values of `type` (see the encoding above). */
function hashEncoder(type: DataType): HashEncoder {
  switch (type.kind) {
    case "null":
      return () => hashByte(0x00);
    case "bool":
      return (v) => {
        if (v === null) return hashByte(0x00);
        hashByte(0x01);
        hashByte(v ? 1 : 0);
      };
    case "int":
    case "long":
    case "double":
      return (v) => (v === null ? hashByte(0x00) : hashNumber(v as number));
    case "decimal": {
      const scale = type.scale;
      return (v) => (v === null ? hashByte(0x00) : hashDecimal(v as bigint, scale));
    }
    case "string":
      return (v) => (v === null ? hashByte(0x00) : hashString(v as string));
    case "bytes":
      return (v) => {
        if (v === null) return hashByte(0x00);
        const bytes = v as Uint8Array;
        hashByte(0x06);
        hashUint32(bytes.length);
        for (let i = 0; i < bytes.length; i++) hashByte(bytes[i]!);
      };
    case "date":
      return (v) => {
        if (v === null) return hashByte(0x00);
        hashByte(0x07);
        hashUint32((v as number) | 0);
      };
    case "timestamp":
    case "duration": {
      const tag = type.kind === "timestamp" ? 0x08 : 0x09;
      return (v) => {
        if (v === null) return hashByte(0x00);
        hashByte(tag);
        hashInt64Number(v as number);
      };
    }
    case "list": {
      const element = hashEncoder(type.element.type);
      return (v) => {
        if (v === null) return hashByte(0x00);
        const list = v as KernelValue[];
        hashByte(0x0a);
        hashUint32(list.length);
        for (let i = 0; i < list.length; i++) element(list[i]!);
      };
    }
    case "struct": {
      const names = type.fields.map((f) => f.name);
      const encoders = type.fields.map((f) => hashEncoder(f.type));
      return (v) => {
        if (v === null) return hashByte(0x00);
        const record = v as { [field: string]: KernelValue };
        hashByte(0x0b);
        hashUint32(names.length);
        for (let i = 0; i < names.length; i++) encoders[i]!(record[names[i]!] ?? null);
      };
    }
    case "map": {
      const value = hashEncoder(type.value.type);
      return (v) => {
        if (v === null) return hashByte(0x00);
        const map = v as Map<string, KernelValue>;
        hashByte(0x0c);
        hashUint32(map.size);
        for (const key of [...map.keys()].sort(compareStrings)) {
          hashString(key);
          value(map.get(key)!);
        }
      };
    }
  }
}

/**
 * The row function of `hash` over arguments of `types`: specialised for up to three arguments so
 * that no argument array is built per row.
 */
export function hashKernel(types: readonly DataType[]): (...values: KernelValue[]) => number {
  const encoders = types.map(hashEncoder);
  const [e0, e1, e2] = encoders;
  switch (encoders.length) {
    case 1:
      return (a) => {
        hashBegin();
        e0!(a!);
        return hashFinish();
      };
    case 2:
      return (a, b) => {
        hashBegin();
        e0!(a!);
        e1!(b!);
        return hashFinish();
      };
    case 3:
      return (a, b, c) => {
        hashBegin();
        e0!(a!);
        e1!(b!);
        e2!(c!);
        return hashFinish();
      };
    default:
      return (...values) => {
        hashBegin();
        for (let i = 0; i < encoders.length; i++) encoders[i]!(values[i] ?? null);
        return hashFinish();
      };
  }
}

// ---- values by type: conversion, order, equality ----------------------------------------------

/**
 * A function converting values of `from` to the wider type `to` (`commonType`), or undefined when
 * the values need no change: `int` -> `long`/`double` stay numbers, integers become decimals
 * (scaled bigints), decimals rescale or become doubles, lists convert their elements.
 */
export function converter(from: DataType, to: DataType): ((value: KernelValue) => KernelValue) | undefined {
  if (from.kind === "null") return undefined;
  if (to.kind === "double" && from.kind === "decimal") {
    const scale = from.scale;
    return (v) => decimalToDouble(v as bigint, scale);
  }
  if (to.kind === "decimal") {
    if (from.kind === "int" || from.kind === "long") {
      const factor = POW10_BIG[to.scale]!;
      return (v) => BigInt(v as number) * factor;
    }
    if (from.kind === "decimal" && from.scale !== to.scale) {
      const factor = POW10_BIG[to.scale - from.scale]!;
      return (v) => (v as bigint) * factor;
    }
    return undefined;
  }
  if (to.kind === "list" && from.kind === "list") {
    const element = converter(from.element.type, to.element.type);
    if (element === undefined) return undefined;
    return (v) => (v as KernelValue[]).map((e) => (e === null ? null : element(e)));
  }
  return undefined;
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Doubles with NaN above everything, as DuckDB, Spark and PostgreSQL order them; -0 equals 0. */
function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  return a !== a ? (b !== b ? 0 : 1) : -1;
}

/** How values of the ordered type `type` compare: negative, 0 or positive. */
export function comparator(type: DataType): (a: KernelValue, b: KernelValue) => number {
  switch (type.kind) {
    case "double":
      return compareDoubles as (a: KernelValue, b: KernelValue) => number;
    case "decimal":
      return (a, b) => ((a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0);
    case "string":
      return compareStrings as (a: KernelValue, b: KernelValue) => number;
    case "bytes":
      return compareBytes as (a: KernelValue, b: KernelValue) => number;
    case "bool":
      return (a, b) => (a === b ? 0 : a ? 1 : -1);
    default:
      // int, long, date, timestamp, duration
      return compareNumbers as (a: KernelValue, b: KernelValue) => number;
  }
}

/**
 * Whether two non-null values of `type` are equal, as `==` decides: NaN equals NaN and -0 equals 0
 * (as DuckDB); nested nulls in lists and structs equal each other (IS NOT DISTINCT FROM).
 */
export function equality(type: DataType): (a: KernelValue, b: KernelValue) => boolean {
  switch (type.kind) {
    case "double":
      return (a, b) => a === b || (a !== a && b !== b);
    case "bytes":
      return (a, b) => compareBytes(a as Uint8Array, b as Uint8Array) === 0;
    case "list": {
      const element = nullSafe(equality(type.element.type));
      return (a, b) => {
        const x = a as KernelValue[];
        const y = b as KernelValue[];
        if (x.length !== y.length) return false;
        for (let i = 0; i < x.length; i++) if (!element(x[i]!, y[i]!)) return false;
        return true;
      };
    }
    case "struct": {
      const fields = type.fields.map((f) => ({ name: f.name, equal: nullSafe(equality(f.type)) }));
      return (a, b) => {
        const x = a as { [field: string]: KernelValue };
        const y = b as { [field: string]: KernelValue };
        return fields.every((f) => f.equal(x[f.name] ?? null, y[f.name] ?? null));
      };
    }
    case "map": {
      const value = nullSafe(equality(type.value.type));
      return (a, b) => {
        const x = a as Map<string, KernelValue>;
        const y = b as Map<string, KernelValue>;
        if (x.size !== y.size) return false;
        for (const [key, v] of x) if (!y.has(key) || !value(v, y.get(key)!)) return false;
        return true;
      };
    }
    default:
      return (a, b) => a === b;
  }
}

function nullSafe(equal: (a: KernelValue, b: KernelValue) => boolean): (a: KernelValue, b: KernelValue) => boolean {
  return (a, b) => (a === null || b === null ? a === b : equal(a, b));
}
