/**
 * What generated expression kernels (compiler/codegen.ts) call at run time: column buffer access,
 * UTF-8 byte comparisons, `like` matchers, casts, output columns, and the dictionary shortcut.
 *
 * Contract: every function here is pure and never throws on data: a value that cannot be handled
 * gives null, as in SQL (a programming error, such as a kernel module that names a function the
 * stdlib lacks, does throw). Values follow values.ts (`CellValue`), except that `duration` values
 * are numbers of microseconds and a `duration` column is laid out as Int64. Output columns have
 * offset 0 and drop an all-valid bitmap. The dictionary caches hold the results of pure kernels
 * keyed by the dictionary they were computed over, so a dictionary shared by many batches is
 * evaluated once.
 */
import * as arrow from "apache-arrow";
import type { DataType, Field } from "../plan.ts";
import { formatDateDays, formatTimestampMicros, parseDateDays, parseTimestampMicros } from "../time.ts";
import { arrowType } from "./arrow-types.ts";
import type { Batch } from "./batch.ts";
import { gatherColumn } from "./batch-ops.ts";
import { type ColumnBuilder, columnBuilder } from "./builder.ts";
import { cellReader } from "./read.ts";
import { type CellValue, readInt128, utf8Decoder, utf8Encoder, writeInt128 } from "./values.ts";

export { readInt128, writeInt128 };

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
const LONG: DataType = { kind: "long" };
const TWO_63 = 9223372036854775808;

// ---- reading columns ------------------------------------------------------------------------------

/** The validity bitmap of `data`, or null when it has no nulls. */
export function validity(data: arrow.Data): Uint8Array | null {
  const bitmap = data.nullBitmap;
  return bitmap && bitmap.length > 0 && data.nullCount !== 0 ? bitmap : null;
}

/** An Int64 column's values as little-endian Int32 pairs. */
export function int64Words(data: arrow.Data): Int32Array {
  const values = data.values as BigInt64Array;
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** A Decimal128 column's values as four little-endian 32-bit words each. */
export function int128Words(data: arrow.Data): Uint32Array {
  const values = data.values as ArrayBufferView;
  return values instanceof Uint32Array ? values : new Uint32Array(values.buffer, values.byteOffset, values.byteLength >> 2);
}

/** The offsets and bytes of a string or bytes column; `indices` is set when it is dictionary-encoded (offsets and bytes are then the dictionary's). */
export interface VariableAccess {
  offsets: Int32Array;
  bytes: Uint8Array;
  indices: Int32Array | null;
}

export function variableAccess(data: arrow.Data): VariableAccess {
  const dictionary = dictionaryOf(data);
  if (dictionary) {
    const entries = dictionaryEntries(dictionary);
    return { offsets: entries.valueOffsets as Int32Array, bytes: (entries.values as Uint8Array | undefined) ?? EMPTY_BYTES, indices: data.values as Int32Array };
  }
  return { offsets: data.valueOffsets as Int32Array, bytes: (data.values as Uint8Array | undefined) ?? EMPTY_BYTES, indices: null };
}

function dictionaryOf(data: arrow.Data): arrow.Vector | undefined {
  return (data as arrow.Data<arrow.Dictionary>).dictionary ?? undefined;
}

const mergedDictionaries = new WeakMap<arrow.Vector, arrow.Data>();

/** A dictionary's entries as one plain Utf8 column. */
function dictionaryEntries(dictionary: arrow.Vector): arrow.Data {
  if (dictionary.data.length === 1) return dictionary.data[0]!;
  let merged = mergedDictionaries.get(dictionary);
  if (!merged) {
    const builder = columnBuilder({ name: "", type: { kind: "string" }, nullable: true }, dictionary.length);
    for (const chunk of dictionary.data) {
      const read = cellReader(chunk, { kind: "string" });
      for (let i = 0; i < chunk.length; i++) builder.append(read(i));
    }
    merged = builder.finish();
    mergedDictionaries.set(dictionary, merged);
  }
  return merged;
}

/**
 * Field `index` of a struct column, with the struct's nulls applied (a field of a null struct is
 * null). Shares the child's buffers.
 */
export function structField(data: arrow.Data, index: number): arrow.Data {
  const child = data.children[index]!;
  const parent = validity(data);
  if (parent === null) return child;
  const own = validity(child);
  const bytes = (data.length + 7) >> 3;
  const bitmap = new Uint8Array(bytes);
  for (let k = 0; k < bytes; k++) bitmap[k] = own === null ? parent[k]! : parent[k]! & own[k]!;
  let nullCount = 0;
  for (let i = 0; i < data.length; i++) if (((bitmap[i >> 3]! >> (i & 7)) & 1) === 0) nullCount++;
  return new arrow.Data(child.type, 0, child.length, nullCount, [child.valueOffsets, child.values, bitmap, child.typeIds], child.children, child.dictionary);
}

/** Field `index` of a struct column, without the struct's nulls (the caller checks them). */
export function child(data: arrow.Data, index: number): arrow.Data {
  return data.children[index]!;
}

/** Row `index` of a column as a `CellValue` (nested types). */
export function cells(data: arrow.Data, type: DataType): (index: number) => CellValue {
  return type.kind === "duration" ? cellReader(data, LONG) : cellReader(data, type);
}

/** `list[index]` of a list column: null when the index is out of range or the element is null. */
export function listElements(data: arrow.Data, element: DataType): (row: number, index: number) => CellValue {
  const offsets = data.valueOffsets as Int32Array;
  const read = cells(data.children[0]!, element);
  return (row, index) => {
    const start = offsets[row]!;
    if (!Number.isInteger(index) || index < 0 || index >= offsets[row + 1]! - start) return null;
    return read(start + index);
  };
}

/** `map[key]` of a map column: null when the key is absent. */
export function mapValues(data: arrow.Data, value: DataType): (row: number, key: string) => CellValue {
  const offsets = data.valueOffsets as Int32Array;
  const entries = data.children[0]!;
  const keys = variableAccess(entries.children[0]!);
  const read = cells(entries.children[1]!, value);
  return (row, key) => {
    for (let k = offsets[row]!; k < offsets[row + 1]!; k++) {
      const at = keys.indices === null ? k : keys.indices[k]!;
      if (equalsString(keys.bytes, keys.offsets[at]!, keys.offsets[at + 1]!, key)) return read(k);
    }
    return null;
  };
}

/** A struct value's field; null when absent. */
export function field(value: CellValue, name: string): CellValue {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Map || value instanceof Uint8Array) return null;
  return Object.prototype.hasOwnProperty.call(value, name) ? (value as Record<string, CellValue>)[name] ?? null : null;
}

export function listAt(value: CellValue, index: number): CellValue {
  if (!Array.isArray(value) || !Number.isInteger(index) || index < 0 || index >= value.length) return null;
  return value[index] ?? null;
}

export function mapGet(value: CellValue, key: string): CellValue {
  return value instanceof Map ? value.get(key) ?? null : null;
}

// ---- strings as bytes ----------------------------------------------------------------------------

export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** The string in `bytes[start, end)`. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 32) {
    let text = "";
    for (let k = start; k < end; k++) {
      const b = bytes[k]!;
      if (b >= 0x80) return utf8Decoder.decode(bytes.subarray(start, end));
      text += String.fromCharCode(b);
    }
    return text;
  }
  return utf8Decoder.decode(bytes.subarray(start, end));
}

export function equalBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  for (let k = 0; k < ae - as; k++) if (a[as + k] !== b[bs + k]) return false;
  return true;
}

/** -1, 0 or 1: unsigned byte order, which for UTF-8 is code point order. */
export function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let k = 0; k < n; k++) {
    const x = a[as + k]!;
    const y = b[bs + k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  const la = ae - as;
  const lb = be - bs;
  return la === lb ? 0 : la < lb ? -1 : 1;
}

/** -1, 0 or 1 in code point order (as UTF-8 bytes compare), not UTF-16 code unit order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    let x = a.charCodeAt(k);
    let y = b.charCodeAt(k);
    if (x === y) continue;
    // Surrogates stand for code points above U+FFFF: move them above the rest of the BMP.
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Whether `bytes[start, end)` is the UTF-8 encoding of `text` (lone surrogates encode as U+FFFD, as TextEncoder does). */
export function equalsString(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  let k = start;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      if (k >= end || bytes[k++] !== c) return false;
      continue;
    }
    if (c < 0x800) {
      if (k + 2 > end || bytes[k++] !== (0xc0 | (c >> 6)) || bytes[k++] !== (0x80 | (c & 0x3f))) return false;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
        if (
          k + 4 > end ||
          bytes[k++] !== (0xf0 | (cp >> 18)) ||
          bytes[k++] !== (0x80 | ((cp >> 12) & 0x3f)) ||
          bytes[k++] !== (0x80 | ((cp >> 6) & 0x3f)) ||
          bytes[k++] !== (0x80 | (cp & 0x3f))
        ) return false;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (k + 3 > end || bytes[k++] !== (0xe0 | (c >> 12)) || bytes[k++] !== (0x80 | ((c >> 6) & 0x3f)) || bytes[k++] !== (0x80 | (c & 0x3f))) return false;
  }
  return k === end;
}

function startsWithBytes(bytes: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) if (bytes[start + k] !== prefix[k]) return false;
  return true;
}

function endsWithBytes(bytes: Uint8Array, start: number, end: number, suffix: Uint8Array): boolean {
  if (end - start < suffix.length) return false;
  const from = end - suffix.length;
  for (let k = 0; k < suffix.length; k++) if (bytes[from + k] !== suffix[k]) return false;
  return true;
}

function containsBytes(bytes: Uint8Array, start: number, end: number, part: Uint8Array): boolean {
  const m = part.length;
  if (m === 0) return true;
  const first = part[0]!;
  outer: for (let k = start; k + m <= end; k++) {
    if (bytes[k] !== first) continue;
    for (let j = 1; j < m; j++) if (bytes[k + j] !== part[j]) continue outer;
    return true;
  }
  return false;
}

// ---- like ---------------------------------------------------------------------------------------

/**
 * A compiled `like` pattern: `%` matches any run of characters, `_` exactly one (a code point);
 * there is no escape character (as DuckDB without `ESCAPE`). Plain shapes match on bytes.
 */
export type LikeMatcher =
  | { kind: "exact" | "prefix" | "suffix" | "contains"; bytes: Uint8Array; text: string }
  | { kind: "any" }
  | { kind: "regex"; regex: RegExp };

export function likeMatcher(pattern: string): LikeMatcher {
  if (!pattern.includes("_")) {
    const parts = pattern.split("%");
    if (parts.every((p) => p === "")) return parts.length > 1 ? { kind: "any" } : { kind: "exact", bytes: EMPTY_BYTES, text: "" };
    const plain = (kind: "exact" | "prefix" | "suffix" | "contains", text: string): LikeMatcher => ({ kind, bytes: utf8Bytes(text), text });
    if (parts.length === 1) return plain("exact", pattern);
    const inner = parts.slice(1, -1);
    const first = parts[0]!;
    const last = parts[parts.length - 1]!;
    if (inner.every((p) => p === "")) {
      if (first !== "" && last === "") return plain("prefix", first);
      if (first === "" && last !== "") return plain("suffix", last);
    }
    if (parts.length === 3 && first === "" && last === "") return plain("contains", parts[1]!);
  }
  let source = "^";
  for (const c of pattern) source += c === "%" ? "[\\s\\S]*" : c === "_" ? "[\\s\\S]" : /[\\^$.*+?()[\]{}|/]/.test(c) ? "\\" + c : c;
  return { kind: "regex", regex: new RegExp(source + "$", "u") };
}

export function likeBytes(matcher: LikeMatcher, bytes: Uint8Array, start: number, end: number): boolean {
  switch (matcher.kind) {
    case "exact":
      return equalBytes(bytes, start, end, matcher.bytes, 0, matcher.bytes.length);
    case "prefix":
      return startsWithBytes(bytes, start, end, matcher.bytes);
    case "suffix":
      return endsWithBytes(bytes, start, end, matcher.bytes);
    case "contains":
      return containsBytes(bytes, start, end, matcher.bytes);
    case "any":
      return true;
    case "regex":
      return matcher.regex.test(decodeUtf8(bytes, start, end));
  }
}

export function likeString(matcher: LikeMatcher, text: string): boolean {
  switch (matcher.kind) {
    case "exact":
      return text === matcher.text;
    case "prefix":
      return text.startsWith(matcher.text);
    case "suffix":
      return text.endsWith(matcher.text);
    case "contains":
      return text.includes(matcher.text);
    case "any":
      return true;
    case "regex":
      return matcher.regex.test(text);
  }
}

const dynamicMatchers = new Map<string, LikeMatcher>();

/** `text like pattern` for a pattern that is not a literal (matchers of recent patterns are kept). */
export function likeDynamic(text: string, pattern: string): boolean {
  let matcher = dynamicMatchers.get(pattern);
  if (!matcher) {
    if (dynamicMatchers.size >= 256) dynamicMatchers.clear();
    matcher = likeMatcher(pattern);
    dynamicMatchers.set(pattern, matcher);
  }
  return likeString(matcher, text);
}

// ---- numbers ------------------------------------------------------------------------------------

const POW10: bigint[] = [];
for (let k = 0, p = 1n; k <= 76; k++, p *= 10n) POW10.push(p);

export function pow10(k: number): bigint {
  return POW10[k]!;
}

/** Whether an unscaled decimal fits `precision` digits. */
export function fitsPrecision(value: bigint, precision: number): boolean {
  const limit = POW10[precision]!;
  return value < limit && value > -limit;
}

/** `value / divisor` rounded half away from zero (divisor > 0). */
export function divideRounded(value: bigint, divisor: bigint): bigint {
  const q = value / divisor;
  const r = value % divisor;
  const twice = (r < 0n ? -r : r) * 2n;
  return twice >= divisor ? (value < 0n ? q - 1n : q + 1n) : q;
}

/** An unscaled decimal at `from` scale rescaled to `to` (rounding half away from zero), or null when it no longer fits `precision`. */
export function rescaleDecimal(value: bigint, from: number, to: number, precision: number): bigint | null {
  const scaled = to >= from ? value * POW10[to - from]! : divideRounded(value, POW10[from - to]!);
  return fitsPrecision(scaled, precision) ? scaled : null;
}

export function formatDecimal(value: bigint, scale: number): string {
  const negative = value < 0n;
  let digits = (negative ? -value : value).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? "-" + digits : digits;
}

export function decimalToDouble(value: bigint, scale: number): number {
  return Number(formatDecimal(value, scale));
}

/** Rounds half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** `x` rounded to an integer in [min, max], or null (NaN, infinite, out of range). */
function doubleToInteger(x: number, min: number, max: number): number | null {
  if (!Number.isFinite(x)) return null;
  const r = roundHalfAway(x);
  return r >= min && r <= max ? (r === 0 ? 0 : r) : null;
}

function doubleToDecimal(x: number, precision: number, scale: number): bigint | null {
  if (!Number.isFinite(x)) return null;
  const scaled = roundHalfAway(x * 10 ** scale);
  if (!Number.isFinite(scaled)) return null;
  const value = BigInt(scaled);
  return fitsPrecision(value, precision) ? value : null;
}

/**
 * A double as text, as DuckDB writes it: the shortest digits that read back the same, in
 * exponent form (`1e+16`, `1.5e-05`) when the exponent is below -4 or at least 16, and with `.0`
 * when it is whole.
 */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const exponential = x.toExponential();
  const at = exponential.indexOf("e");
  const exponent = Number(exponential.slice(at + 1));
  if (exponent < -4 || exponent >= 16) {
    const digits = String(Math.abs(exponent)).padStart(2, "0");
    return `${exponential.slice(0, at)}e${exponent < 0 ? "-" : "+"}${digits}`;
  }
  const plain = String(x);
  return plain.includes(".") ? plain : plain + ".0";
}

const numberText = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function parseDouble(text: string): number | null {
  const trimmed = text.trim();
  if (!numberText.test(trimmed)) return null;
  const x = Number(trimmed);
  return Number.isFinite(x) ? x : null;
}

function parseInteger(text: string, min: number, max: number): number | null {
  const trimmed = text.trim();
  if (/^[+-]?[0-9]+$/.test(trimmed)) {
    const value = BigInt(trimmed);
    return value >= BigInt(min) && value <= BigInt(max) ? Number(value) : null;
  }
  const x = parseDouble(trimmed);
  return x === null ? null : doubleToInteger(x, min, max);
}

function parseDecimal(text: string, precision: number, scale: number): bigint | null {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(text.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const fraction = m[3] ?? "";
  const exponent = Number(m[4] ?? "0") - fraction.length + scale;
  if (Math.abs(exponent) > 76) return null;
  let value = BigInt((m[2] || "0") + fraction);
  value = exponent >= 0 ? value * POW10[exponent]! : divideRounded(value, POW10[-exponent]!);
  if (m[1] === "-") value = -value;
  return fitsPrecision(value, precision) ? value : null;
}

const trueWords = new Set(["true", "t", "yes", "y", "1"]);
const falseWords = new Set(["false", "f", "no", "n", "0"]);

function parseBool(text: string): boolean | null {
  const word = text.trim().toLowerCase();
  return trueWords.has(word) ? true : falseWords.has(word) ? false : null;
}

// ---- casts --------------------------------------------------------------------------------------

const MICROS_PER_DAY = 86_400_000_000;

/**
 * The conversion `cast(x as to)` for an `x` of type `from`, as a function of a non-null value
 * (null when the value does not convert). Numbers narrow with rounding half away from zero and
 * null when out of range; strings parse leniently (surrounding whitespace, `1.5` as an integer
 * rounds); timestamps and dates format as ISO-8601; nested values format as DuckDB does.
 */
export function castFunction(from: DataType, to: DataType): (value: CellValue) => CellValue {
  if (from.kind === "null") return () => null;
  switch (to.kind) {
    case "string":
      return (value) => formatValue(value, from);
    case "bool":
      if (from.kind === "bool") return identity;
      if (from.kind === "string") return (value) => parseBool(value as string);
      if (from.kind === "decimal") return (value) => value !== 0n;
      return (value) => value !== 0;
    case "int":
      return toInteger(from, -2147483648, 2147483647);
    case "long":
      return toInteger(from, -TWO_63, TWO_63 - 1);
    case "double":
      switch (from.kind) {
        case "bool":
          return (value) => (value ? 1 : 0);
        case "decimal":
          return (value) => decimalToDouble(value as bigint, from.scale);
        case "string":
          return (value) => parseDouble(value as string);
        default:
          return identity;
      }
    case "decimal": {
      const { precision, scale } = to;
      switch (from.kind) {
        case "bool":
          return (value) => (value ? (fitsPrecision(POW10[scale]!, precision) ? POW10[scale]! : null) : 0n);
        case "int":
        case "long":
          return (value) => {
            const scaled = BigInt(value as number) * POW10[scale]!;
            return fitsPrecision(scaled, precision) ? scaled : null;
          };
        case "double":
          return (value) => doubleToDecimal(value as number, precision, scale);
        case "decimal":
          return (value) => rescaleDecimal(value as bigint, from.scale, scale, precision);
        case "string":
          return (value) => parseDecimal(value as string, precision, scale);
        default:
          return () => null;
      }
    }
    case "date":
      if (from.kind === "timestamp") return (value) => Math.floor((value as number) / MICROS_PER_DAY);
      if (from.kind === "string") return (value) => parseDateDays((value as string).trim()) ?? null;
      return identity;
    case "timestamp":
      if (from.kind === "date") return (value) => (value as number) * MICROS_PER_DAY;
      if (from.kind === "string") return (value) => parseTimestampMicros((value as string).trim()) ?? null;
      return identity;
    case "bytes":
      if (from.kind === "string") return (value) => utf8Bytes(value as string);
      return identity;
    case "list": {
      if (from.kind !== "list") return () => null;
      const element = castFunction(from.element.type, to.element.type);
      return (value) => (value as CellValue[]).map((e) => (e === null ? null : element(e)));
    }
    case "map":
    case "struct":
    case "duration":
    case "null":
      return identity;
  }
}

function identity(value: CellValue): CellValue {
  return value;
}

function toInteger(from: DataType, min: number, max: number): (value: CellValue) => CellValue {
  switch (from.kind) {
    case "bool":
      return (value) => (value ? 1 : 0);
    case "int":
    case "long":
      return (value) => ((value as number) >= min && (value as number) <= max ? value : null);
    case "double":
      return (value) => doubleToInteger(value as number, min, max);
    case "decimal": {
      const divisor = POW10[from.scale]!;
      return (value) => {
        const whole = Number(divideRounded(value as bigint, divisor));
        return whole >= min && whole <= max ? whole : null;
      };
    }
    case "string":
      return (value) => parseInteger(value as string, min, max);
    default:
      return () => null;
  }
}

/** A value as text: the language's `cast(x as string)`. */
export function formatValue(value: CellValue, type: DataType): string {
  switch (type.kind) {
    case "bool":
      return value ? "true" : "false";
    case "int":
    case "long":
    case "duration":
      return String(value);
    case "double":
      return formatDouble(value as number);
    case "decimal":
      return formatDecimal(value as bigint, type.scale);
    case "date":
      return formatDateDays(value as number);
    case "timestamp":
      return formatTimestampMicros(value as number);
    case "string":
      return value as string;
    case "bytes":
      return utf8Decoder.decode(value as Uint8Array);
    case "list":
      return `[${(value as CellValue[]).map((e) => (e === null ? "NULL" : formatValue(e, type.element.type))).join(", ")}]`;
    case "map":
      return `{${[...(value as Map<string, CellValue>)].map(([k, v]) => `${k}=${v === null ? "NULL" : formatValue(v, type.value.type)}`).join(", ")}}`;
    case "struct": {
      const record = value as Record<string, CellValue>;
      return `{${type.fields.map((f) => `'${f.name}': ${record[f.name] === null || record[f.name] === undefined ? "NULL" : formatValue(record[f.name]!, f.type)}`).join(", ")}}`;
    }
    case "null":
      return "NULL";
  }
}

// ---- nested equality ----------------------------------------------------------------------------

/** Deep equality of two non-null values of one type (lists, structs); nulls inside equal each other. */
export function equalValues(a: CellValue, b: CellValue): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (typeof a !== "object" || typeof b !== "object") return a === b || (typeof a === "number" && typeof b === "number" && a === b);
  if (a instanceof Uint8Array) return b instanceof Uint8Array && equalBytes(a, 0, a.length, b, 0, b.length);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let k = 0; k < a.length; k++) if (!equalValues(a[k]!, b[k]!)) return false;
    return true;
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equalValues(v, b.get(k)!)) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof Map || b instanceof Uint8Array) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!equalValues((a as Record<string, CellValue>)[k] ?? null, (b as Record<string, CellValue>)[k] ?? null)) return false;
  return true;
}

// ---- functions ----------------------------------------------------------------------------------

/** A built-in's kernel, as the generated code calls it. */
export interface ScalarKernel {
  call: (...args: CellValue[]) => CellValue;
  /** Null in, null out: a call with a null argument is null without calling. */
  strict: boolean;
}

interface ScalarKernelEntry {
  kernel?: (args: unknown[]) => (...values: CellValue[]) => CellValue;
  strict?: boolean;
}

/**
 * The kernel of built-in `name` for arguments described by `args` (stdlib ArgInfo). A function
 * without a kernel fails when it is first called, not when the module loads.
 */
export function scalarKernel(table: ReadonlyMap<string, unknown>, name: string, args: unknown[]): ScalarKernel {
  const entry = table.get(name) as ScalarKernelEntry | undefined;
  if (!entry || typeof entry.kernel !== "function") {
    return {
      call: () => {
        throw new Error(`the built-in function ${JSON.stringify(name)} has no kernel`);
      },
      strict: true,
    };
  }
  return { call: entry.kernel(args), strict: entry.strict !== false };
}

/** An `import fn` function from its module's namespace. */
export function importedFunction(namespace: Record<string, unknown>, name: string): (...args: CellValue[]) => unknown {
  const fn = namespace[name];
  if (typeof fn !== "function") throw new Error(`the imported module does not export a function ${JSON.stringify(name)}`);
  return fn as (...args: CellValue[]) => unknown;
}

/** An imported function's result checked against its declared type: undefined is null; a value of the wrong kind throws. */
export function importedResult(value: unknown, type: DataType, name: string): CellValue {
  if (value === null || value === undefined) return null;
  const wrong = (): never => {
    throw new TypeError(`imported function ${JSON.stringify(name)} returned ${describe(value)} where its declaration says ${type.kind}`);
  };
  switch (type.kind) {
    case "bool":
      return typeof value === "boolean" ? value : wrong();
    case "int":
      return typeof value === "number" && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647 ? value : wrong();
    case "long":
    case "date":
    case "timestamp":
    case "duration":
      if (typeof value === "bigint") return Number(value);
      return typeof value === "number" && Number.isInteger(value) ? value : wrong();
    case "double":
      return typeof value === "number" ? value : wrong();
    case "decimal":
      return typeof value === "bigint" && fitsPrecision(value, type.precision) ? value : wrong();
    case "string":
      return typeof value === "string" ? value : wrong();
    case "bytes":
      return value instanceof Uint8Array ? value : wrong();
    case "list":
      return Array.isArray(value) ? (value as CellValue[]) : wrong();
    case "map":
      return value instanceof Map ? (value as Map<string, CellValue>) : wrong();
    case "struct":
      return typeof value === "object" ? (value as Record<string, CellValue>) : wrong();
    case "null":
      return null;
  }
}

function describe(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return `the ${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `an object (${Object.prototype.toString.call(value)})` : `a ${typeof value}`;
}

// ---- output columns -----------------------------------------------------------------------------

/** The Arrow type a kernel writes for `type` (a `duration` as Int64 micros). */
export function outputType(type: DataType): arrow.DataType {
  return type.kind === "duration" ? new arrow.Int64() : arrowType(type);
}

export function newValidity(length: number): Uint8Array {
  return new Uint8Array((length + 7) >> 3);
}

function bitmapOrEmpty(valid: Uint8Array, nulls: number): Uint8Array {
  return nulls > 0 ? valid : EMPTY_BYTES;
}

export function finishBool(type: arrow.DataType, length: number, bits: Uint8Array, valid: Uint8Array, nulls: number): arrow.Data {
  return arrow.makeData({ type: type as arrow.Bool, length, nullCount: nulls, nullBitmap: bitmapOrEmpty(valid, nulls), data: bits });
}

/** int, date, double: one typed-array element per row. */
export function finishValues(type: arrow.DataType, length: number, values: Int32Array | Float64Array, valid: Uint8Array, nulls: number): arrow.Data {
  return arrow.makeData({ type: type as arrow.Int32, length, nullCount: nulls, nullBitmap: bitmapOrEmpty(valid, nulls), data: values as Int32Array });
}

/** long, timestamp, duration: Int32 pairs. */
export function finishInt64(type: arrow.DataType, length: number, words: Int32Array, valid: Uint8Array, nulls: number): arrow.Data {
  return arrow.makeData({ type: type as arrow.Int64, length, nullCount: nulls, nullBitmap: bitmapOrEmpty(valid, nulls), data: new BigInt64Array(words.buffer, 0, length) });
}

export function finishDecimal(type: arrow.DataType, length: number, words: Uint32Array, valid: Uint8Array, nulls: number): arrow.Data {
  return arrow.makeData({ type: type as arrow.Decimal, length, nullCount: nulls, nullBitmap: bitmapOrEmpty(valid, nulls), data: words });
}

/** Writes a string or bytes column row by row: exactly one `append…` or `skip` per row. */
export class VariableWriter {
  private readonly offsets: Int32Array;
  private bytes: Uint8Array;
  private end = 0;
  private row = 0;

  constructor(rows: number) {
    this.offsets = new Int32Array(rows + 1);
    this.bytes = new Uint8Array(Math.max(64, rows * 8));
  }

  private reserve(extra: number): void {
    if (this.end + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.end + extra, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.end));
    this.bytes = grown;
  }

  appendSlice(source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.reserve(length);
    if (length < 16) for (let k = 0; k < length; k++) this.bytes[this.end + k] = source[start + k]!;
    else this.bytes.set(source.subarray(start, end), this.end);
    this.end += length;
    this.offsets[++this.row] = this.end;
  }

  appendString(text: string): void {
    this.reserve(text.length * 3);
    let k = 0;
    for (; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c >= 0x80) break;
      this.bytes[this.end++] = c;
    }
    if (k < text.length) this.end += utf8Encoder.encodeInto(k === 0 ? text : text.slice(k), this.bytes.subarray(this.end)).written;
    this.offsets[++this.row] = this.end;
  }

  appendBytes(value: Uint8Array): void {
    this.appendSlice(value, 0, value.length);
  }

  skip(): void {
    this.offsets[++this.row] = this.end;
  }

  finish(type: arrow.DataType, valid: Uint8Array, nulls: number): arrow.Data {
    return arrow.makeData({
      type: type as arrow.Utf8,
      length: this.row,
      nullCount: nulls,
      nullBitmap: bitmapOrEmpty(valid, nulls),
      valueOffsets: this.offsets,
      data: this.bytes.subarray(0, this.end).slice(),
    });
  }
}

/** A builder for nested output columns (list, map, struct), fed `CellValue`s. */
export function builder(field: Field, rows: number): ColumnBuilder {
  return columnBuilder(field, rows);
}

/** The first `count` entries of a selection. */
export function selection(rows: Int32Array, count: number): Int32Array {
  return count === rows.length ? rows : rows.slice(0, count);
}

// ---- the dictionary shortcut --------------------------------------------------------------------

/** A kernel body: the kernel evaluated row by row over `input`. */
type ValueBody = (input: Batch) => arrow.Data;
type PredicateBody = (input: Batch) => Int32Array;

/**
 * A value kernel over one dictionary-encoded string column: the body runs once per dictionary
 * entry (plus one null entry), and rows take their entry's result. A string result stays
 * dictionary-encoded (the results are the new dictionary).
 */
export function dictionaryValues(input: Batch, column: number, body: ValueBody, type: DataType, cache: WeakMap<object, arrow.Data> | null): arrow.Data {
  const data = input.columns[column]!;
  const entries = dictionaryEntries(dictionaryOf(data)!);
  let results = cache?.get(entries);
  if (!results) {
    results = body(entryBatch(input, column, entries));
    cache?.set(entries, results);
  }
  const rows = entryOfRows(data, entries.length);
  if (type.kind !== "string" || dictionaryOf(results)) return gatherColumn(results, type.kind === "duration" ? LONG : type, rows);
  const resultValidity = validity(results);
  let nullCount = 0;
  let nullBitmap: Uint8Array = EMPTY_BYTES;
  if (resultValidity !== null) {
    nullBitmap = newValidity(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const k = rows[i]!;
      if (((resultValidity[k >> 3]! >> (k & 7)) & 1) === 1) nullBitmap[i >> 3]! |= 1 << (i & 7);
      else nullCount++;
    }
    if (nullCount === 0) nullBitmap = EMPTY_BYTES;
  }
  return arrow.makeData({
    type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
    length: rows.length,
    nullCount,
    nullBitmap,
    data: rows,
    dictionary: arrow.makeVector(results as arrow.Data<arrow.Utf8>),
  });
}

/** A predicate over one dictionary-encoded string column: evaluated once per dictionary entry. */
export function dictionaryPredicate(input: Batch, column: number, body: PredicateBody, cache: WeakMap<object, Uint8Array> | null): Int32Array {
  const data = input.columns[column]!;
  const entries = dictionaryEntries(dictionaryOf(data)!);
  let mask = cache?.get(entries);
  if (!mask) {
    const selected = body(entryBatch(input, column, entries));
    mask = new Uint8Array(entries.length + 1);
    for (let k = 0; k < selected.length; k++) mask[selected[k]!] = 1;
    cache?.set(entries, mask);
  }
  const indices = data.values as Int32Array;
  const valid = validity(data);
  const nullEntry = entries.length;
  const out = new Int32Array(data.length);
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const k = valid !== null && ((valid[i >> 3]! >> (i & 7)) & 1) === 0 ? nullEntry : indices[i]!;
    if (mask[k] === 1) out[count++] = i;
  }
  return selection(out, count);
}

/** Whether column `column` of the batch is dictionary-encoded. */
export function isDictionary(input: Batch, column: number): boolean {
  return dictionaryOf(input.columns[column]!) !== undefined;
}

/** A batch whose column `column` holds the dictionary's entries and then one null (the only column the body reads). */
function entryBatch(input: Batch, column: number, entries: arrow.Data): Batch {
  const count = entries.length;
  const offsets = new Int32Array(count + 2);
  offsets.set((entries.valueOffsets as Int32Array).subarray(0, count + 1));
  offsets[count + 1] = offsets[count]!;
  const bitmap = newValidity(count + 1);
  const own = validity(entries);
  let nullCount = 1;
  for (let k = 0; k < count; k++) {
    if (own === null || ((own[k >> 3]! >> (k & 7)) & 1) === 1) bitmap[k >> 3]! |= 1 << (k & 7);
    else nullCount++;
  }
  const withNull = arrow.makeData({
    type: new arrow.Utf8(),
    length: count + 1,
    nullCount,
    nullBitmap: bitmap,
    valueOffsets: offsets,
    data: (entries.values as Uint8Array | undefined) ?? EMPTY_BYTES,
  });
  const columns: arrow.Data[] = [];
  columns[column] = withNull;
  return { schema: input.schema, length: count + 1, columns };
}

/** Each row's dictionary entry, or `nullEntry` for a null row. */
function entryOfRows(data: arrow.Data, nullEntry: number): Int32Array {
  const indices = data.values as Int32Array;
  const valid = validity(data);
  const rows = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) rows[i] = valid !== null && ((valid[i >> 3]! >> (i & 7)) & 1) === 0 ? nullEntry : indices[i]!;
  return rows;
}
