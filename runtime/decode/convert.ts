/**
 * Schema enforcement: turns a decoded value (from JSON, a CSV cell's JSON, or an Arrow column) into
 * the `CellValue` (columnar/values.ts) of a declared field, or says why it cannot.
 *
 * Contract: `fieldConverter(field)` returns a function from an `Input` to the field's `CellValue`;
 * it throws a `DecodeFailure` (reason, message, and the path inside the field) for a value that
 * breaks a rule, never a partial value. `undefined` means "absent" and `null` "present but null".
 * Numbers arrive as their text (`JsonNumber`), so every check is exact: nothing goes through a
 * double unless the field is a `double`.
 *
 * The rules (LANGUAGE.md "Types"; decisions marked):
 * - Absent and required: `missing_field`. Present null (or an absent or null list element or map
 *   value that is required): `null_in_required`. Absent or null and nullable: null. Fields the
 *   schema does not name are ignored.
 * - `int`, `long`: a number whose value is integral. Decision: integral is about the value, not
 *   the spelling, so `1.0` and `1e3` are accepted as 1 and 1000; `1.5` is `type_mismatch` (not an
 *   integer: the wrong kind of number), an integer outside the type's range is `out_of_range`.
 *   Decision: a `long` must lie within ±(2^53 − 1), because the runtime holds longs as JavaScript
 *   numbers (columnar/values.ts); a larger one (up to ±2^63) is `out_of_range` with a detail
 *   that says so, rather than silently rounded. A number in a string (`"42"`) is `type_mismatch`:
 *   there are no implicit conversions.
 * - `double`: any number (the nearest double); one too large for a double (`1e400`) is
 *   `out_of_range`. The strings `"NaN"`, `"Infinity"` and `"-Infinity"` are accepted (this is how
 *   JSON writers such as Jackson and our files sink write them).
 * - `decimal(P, S)`: a number, or a string holding one (`"12.50"`), read exactly from its text.
 *   Decision: at most S decimals counting by value (`1.50` fits scale 1), else `out_of_range`, as
 *   is more than P − S integer digits. Never rounded (Spark and DuckDB round).
 * - `timestamp`: an ISO-8601 string as `timestamp "..."` literals accept (runtime/time.ts), else
 *   `bad_timestamp`; or a number of epoch milliseconds, exact: a fraction keeps microseconds and
 *   finer digits are cut off (rounded down, as the ISO fraction is); one beyond ±2^53 micros is
 *   `out_of_range`. Other kinds (a bool, an object) are `type_mismatch`.
 * - `date`: a `"YYYY-MM-DD"` string of a real day, else `bad_timestamp`.
 * - `bytes`: a base64 string (standard or URL-safe alphabet, padding optional), else
 *   `type_mismatch`.
 * - `bool`: `true` / `false`. `string`: a string.
 * - `list<T>`: an array; `map<string, T>`: an object (key order kept); `struct`: an object.
 */
import type { CellValue } from "../columnar/values.ts";
import type { RejectReason } from "../deadletter.ts";
import type { DataType, Field } from "../plan.ts";
import { parseDateDays, parseTimestampMicros } from "../time.ts";

/** A number as written: kept as text so that integers and decimals are read exactly. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** An instant from a typed source (an Arrow timestamp), in micros. */
export class Instant {
  constructor(readonly micros: number) {}
}

/** A day from a typed source (an Arrow date), days since 1970-01-01. */
export class Day {
  constructor(readonly days: number) {}
}

/** A value that was not kept, only named: a JSON object where a scalar was wanted, an unsupported Arrow type. */
export class Opaque {
  constructor(readonly what: string) {}
}

/** A decoded value before schema enforcement. Objects are Maps in document order. */
export type Input = null | boolean | string | JsonNumber | Input[] | Map<string, Input> | Uint8Array | Instant | Day | Opaque;

/** One step into a value: a field name, a list index, or a map key. */
export type PathStep = string | number | { key: string };

/** Why a value breaks its field's rules. `path` is filled in as the failure travels up: `["who", "tags", 2]`. */
export class DecodeFailure {
  readonly path: PathStep[] = [];
  constructor(
    readonly reason: RejectReason,
    readonly message: string,
  ) {}

  /** `field "who.tags[2]": message` */
  detail(): string {
    return this.path.length ? `field ${JSON.stringify(formatPath(this.path))}: ${this.message}` : this.message;
  }
}

/** `who.tags[2]`, `attrs[k]` */
export function formatPath(path: readonly PathStep[]): string {
  let out = "";
  for (const step of path) {
    if (typeof step === "number") out += `[${step}]`;
    else if (typeof step === "object") out += `[${step.key}]`;
    else if (out === "") out = step;
    else out += `.${step}`;
  }
  return out;
}

export type Converter = (input: Input | undefined) => CellValue;

/** The converter of one field: absent/null handling by the field's nullability, then the type's rule. */
export function fieldConverter(field: Field): Converter {
  const convert = typeConverter(field.type);
  if (field.nullable) return (input) => (input === undefined || input === null ? null : convert(input));
  return (input) => {
    if (input === undefined) throw new DecodeFailure("missing_field", "required and absent");
    if (input === null) throw new DecodeFailure("null_in_required", "required and null");
    return convert(input);
  };
}

/** Converts a present, non-null value. */
export function typeConverter(type: DataType): (input: Input) => CellValue {
  switch (type.kind) {
    case "bool":
      return (input) => {
        if (typeof input === "boolean") return input;
        throw mismatch("bool", input);
      };
    case "string":
      return (input) => {
        if (typeof input === "string") return input;
        throw mismatch("string", input);
      };
    case "int":
      return (input) => {
        if (!(input instanceof JsonNumber)) throw mismatch("int", input);
        return integerIn(input.text, INT_MIN, INT_MAX, "int");
      };
    case "long":
      return (input) => {
        if (!(input instanceof JsonNumber)) throw mismatch("long", input);
        return integerIn(input.text, LONG_MIN, LONG_MAX, "long");
      };
    case "double":
      return (input) => {
        if (input instanceof JsonNumber) {
          const value = Number(input.text);
          if (!Number.isFinite(value)) throw new DecodeFailure("out_of_range", `${clip(input.text)} is too large for a double`);
          return value;
        }
        if (input === "NaN") return Number.NaN;
        if (input === "Infinity") return Number.POSITIVE_INFINITY;
        if (input === "-Infinity") return Number.NEGATIVE_INFINITY;
        throw mismatch("double", input);
      };
    case "decimal":
      return (input) => {
        if (input instanceof JsonNumber) return decimalFromText(input.text, type.precision, type.scale);
        if (typeof input === "string") {
          if (!parseExact(input)) throw new DecodeFailure("type_mismatch", `expected decimal(${type.precision}, ${type.scale}), got ${describe(input)}`);
          return decimalFromText(input, type.precision, type.scale);
        }
        throw mismatch(`decimal(${type.precision}, ${type.scale})`, input);
      };
    case "timestamp":
      return (input) => {
        if (typeof input === "string") {
          const micros = parseTimestampMicros(input);
          if (micros === undefined) throw new DecodeFailure("bad_timestamp", `${describe(input)} is not an ISO-8601 timestamp`);
          return micros;
        }
        if (input instanceof JsonNumber) return microsFromMillisText(input.text);
        if (input instanceof Instant) return input.micros;
        throw mismatch("timestamp (an ISO-8601 string or epoch milliseconds)", input);
      };
    case "date":
      return (input) => {
        if (typeof input === "string") {
          const days = parseDateDays(input);
          if (days === undefined) throw new DecodeFailure("bad_timestamp", `${describe(input)} is not a date (YYYY-MM-DD)`);
          return days;
        }
        if (input instanceof Day) return input.days;
        throw mismatch("date (a YYYY-MM-DD string)", input);
      };
    case "bytes":
      return (input) => {
        if (input instanceof Uint8Array) return input;
        if (typeof input === "string") {
          const bytes = decodeBase64(input);
          if (bytes === undefined) throw new DecodeFailure("type_mismatch", `expected bytes as base64, got ${describe(input)}`);
          return bytes;
        }
        throw mismatch("bytes (a base64 string)", input);
      };
    case "list": {
      const element = fieldConverter(type.element);
      return (input) => {
        if (!Array.isArray(input)) throw mismatch("a list (JSON array)", input);
        const out: CellValue[] = new Array(input.length);
        for (let i = 0; i < input.length; i++) {
          try {
            out[i] = element(input[i]);
          } catch (e) {
            throw within(e, i);
          }
        }
        return out;
      };
    }
    case "map": {
      const value = fieldConverter(type.value);
      return (input) => {
        if (!(input instanceof Map)) throw mismatch("a map (JSON object)", input);
        const out = new Map<string, CellValue>();
        for (const [k, v] of input) {
          try {
            out.set(k, value(v));
          } catch (e) {
            throw within(e, { key: k });
          }
        }
        return out;
      };
    }
    case "struct": {
      const fields = type.fields.map((f) => ({ name: f.name, convert: fieldConverter(f) }));
      return (input) => {
        if (!(input instanceof Map)) throw mismatch("a struct (JSON object)", input);
        const out: { [field: string]: CellValue } = {};
        for (const f of fields) {
          try {
            out[f.name] = f.convert(input.get(f.name));
          } catch (e) {
            throw within(e, f.name);
          }
        }
        return out;
      };
    }
    case "duration":
    case "null":
      throw new Error(`a column cannot be of type ${type.kind}`);
  }
}

/** Prepends a path step to a failure travelling up; anything else is a bug and passes through. */
export function within(error: unknown, step: PathStep): unknown {
  if (error instanceof DecodeFailure) error.path.unshift(step);
  return error;
}

function mismatch(expected: string, input: Input): DecodeFailure {
  return new DecodeFailure("type_mismatch", `expected ${expected}, got ${describe(input)}`);
}

/** A short description of a value for a detail message. */
export function describe(input: Input): string {
  if (input === null) return "null";
  if (typeof input === "boolean") return String(input);
  if (typeof input === "string") return `the string ${JSON.stringify(clip(input))}`;
  if (input instanceof JsonNumber) return `the number ${clip(input.text)}`;
  if (Array.isArray(input)) return "an array";
  if (input instanceof Map) return "an object";
  if (input instanceof Uint8Array) return "bytes";
  if (input instanceof Instant) return "a timestamp";
  if (input instanceof Day) return "a date";
  return input.what;
}

export function clip(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---- exact numbers -------------------------------------------------------------------------------

/** `±digits × 10^exponent`; `digits` has no leading or trailing zeros ("" is zero). */
export interface ExactNumber {
  negative: boolean;
  digits: string;
  exponent: number;
}

const numberText = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Reads a decimal number's text exactly: JSON numbers, and in strings and CSV cells also a leading
 * `+`, `.5` and `5.`. Undefined when the text is not a number.
 */
export function parseExact(text: string): ExactNumber | undefined {
  const m = numberText.exec(text);
  if (!m) return undefined;
  const [, sign, whole = "", fraction = "", exp] = m;
  if (whole === "" && fraction === "") return undefined;
  let digits = whole + fraction;
  let exponent = (exp === undefined ? 0 : Number(exp)) - fraction.length;
  let start = 0;
  while (start < digits.length && digits.charCodeAt(start) === 48) start++;
  let end = digits.length;
  while (end > start && digits.charCodeAt(end - 1) === 48) end--;
  exponent += digits.length - end;
  digits = digits.slice(start, end);
  if (digits === "") exponent = 0;
  return { negative: sign === "-", digits, exponent };
}

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** The integer a number text denotes, or why not: `fraction` (not integral) or `huge` (more than 40 digits). */
export function exactInteger(n: ExactNumber): bigint | "fraction" | "huge" {
  if (n.digits === "") return 0n;
  if (n.exponent < 0) return "fraction";
  if (n.digits.length + n.exponent > 40) return "huge";
  const magnitude = BigInt(n.digits) * 10n ** BigInt(n.exponent);
  return n.negative ? -magnitude : magnitude;
}

function integerIn(text: string, min: bigint, max: bigint, type: "int" | "long"): number {
  if (isShortInteger(text)) {
    // Up to 15 digits: exact as a double, no BigInt needed.
    const value = Number(text);
    if (type === "long" || (value >= -2147483648 && value <= 2147483647)) return value === 0 ? 0 : value;
  }
  const n = parseExact(text)!;
  const value = exactInteger(n);
  if (value === "fraction") throw new DecodeFailure("type_mismatch", `${clip(text)} is not an integer`);
  if (value === "huge" || value < min || value > max) throw new DecodeFailure("out_of_range", `${clip(text)} is out of range for ${type}`);
  if (value > SAFE_MAX || value < -SAFE_MAX) {
    throw new DecodeFailure("out_of_range", `${clip(text)} is beyond ±(2^53 - 1), the largest long the runtime holds exactly`);
  }
  return Number(value);
}

/** `-?\d{1,15}` */
function isShortInteger(text: string): boolean {
  const start = text.charCodeAt(0) === 45 ? 1 : 0;
  const digits = text.length - start;
  if (digits < 1 || digits > 15) return false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The unscaled value of a decimal(P, S) from a number's text (already known to be one). */
export function decimalFromText(text: string, precision: number, scale: number): bigint {
  const n = parseExact(text)!;
  const type = `decimal(${precision}, ${scale})`;
  if (n.digits === "") return 0n;
  const decimals = Math.max(0, -n.exponent);
  if (decimals > scale) throw new DecodeFailure("out_of_range", `${clip(text)} has ${decimals} decimals; ${type} holds ${scale}`);
  const integerDigits = Math.max(0, n.digits.length + n.exponent);
  if (integerDigits > precision - scale) {
    throw new DecodeFailure("out_of_range", `${clip(text)} has ${integerDigits} integer digits; ${type} holds ${precision - scale}`);
  }
  const magnitude = BigInt(n.digits) * 10n ** BigInt(n.exponent + scale);
  return n.negative ? -magnitude : magnitude;
}

/** Epoch milliseconds (a number's text) as micros, rounded down; `out_of_range` beyond ±2^53 micros. */
export function microsFromMillisText(text: string): number {
  const n = parseExact(text);
  if (!n) throw new DecodeFailure("bad_timestamp", `${clip(text)} is not a number of epoch milliseconds`);
  if (n.digits === "") return 0;
  const exponent = n.exponent + 3;
  const integerDigits = n.digits.length + exponent;
  if (integerDigits > 17) throw new DecodeFailure("out_of_range", `${clip(text)} epoch milliseconds is out of range for a timestamp`);
  let micros: number;
  if (exponent >= 0) micros = Number(BigInt(n.digits) * 10n ** BigInt(exponent));
  else {
    // Cut the digits finer than a microsecond; the cut part is non-zero (no trailing zeros).
    const kept = integerDigits > 0 ? n.digits.slice(0, integerDigits) : "0";
    micros = Number(kept);
    if (n.negative) micros += 1;
  }
  micros = n.negative ? -micros : micros;
  if (!Number.isSafeInteger(micros)) throw new DecodeFailure("out_of_range", `${clip(text)} epoch milliseconds is out of range for a timestamp`);
  return micros === 0 ? 0 : micros;
}

/** `unscaled × 10^-scale` as decimal text: 1234n, 2 → "12.34". */
export function scaledText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

// ---- base64 ----------------------------------------------------------------------------------

const base64Text = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const base64UrlText = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;

/** Strict base64 (standard or URL-safe alphabet, padding optional); undefined for anything else. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (base64Text.test(text)) return new Uint8Array(Buffer.from(text, "base64"));
  if (base64UrlText.test(text)) return new Uint8Array(Buffer.from(text, "base64url"));
  return undefined;
}
