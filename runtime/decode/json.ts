/**
 * JSON records: a Kafka message, or one line of a newline-delimited JSON file, decoded into the
 * columns of the declared schema (enforcement rules in convert.ts).
 *
 * Contract: `JsonDecoder.record` takes one record's bytes, `JsonDecoder.lines` a whole NDJSON
 * file; `finish` gives the batch of accepted rows and the rejects, each with its position (file
 * and line from 1, or what the caller passed), its raw bytes and a detail.
 *
 * Decisions:
 * - Numbers must be read exactly (a `long` beyond 2^53, a `decimal`, the integral check of `1.0000000000000001`),
 *   and Node 20's `JSON.parse` gives a reviver no access to the source text. So this file parses
 *   JSON itself: a strict RFC 8259 parser that keeps each number as its text, directed by the
 *   schema: fields the schema does not name are checked for syntax but not built.
 * - A record is a JSON object; any other JSON value (an array, a number) is `malformed`, as is
 *   bad syntax, text after the object, invalid UTF-8, or a `\u` escape of a lone surrogate (the
 *   language's strings are Unicode text). Nesting deeper than 512 levels is `too_large` (it
 *   would exhaust the stack).
 * - A key given twice: the last value wins (as `JSON.parse`).
 * - NDJSON: records are separated by `\n` (a `\r` before it is dropped); blank lines are skipped;
 *   a UTF-8 byte-order mark at the start of the file is skipped; the last line needs no `\n`.
 * - A record above `maxRecordBytes` (default 8 MiB) is `too_large` without being parsed.
 * - Speed (bench:kafka): a record that is an object is parsed straight into one slot per schema
 *   field (`Parser.recordInto`), without a Map, without a string per key (a key without escapes is
 *   compared in place, the field after the last one matched first, as records usually keep their
 *   fields in one order), and converted into one reused array of values. Same grammar, same
 *   errors at the same positions as the general path, which every other record takes.
 */
import type { CellValue } from "../columnar/values.ts";
import type { RecordPosition } from "../deadletter.ts";
import type { DataType, Schema } from "../plan.ts";
import { DecodeFailure, describe, fieldConverter, type Converter, type Input, JsonNumber, Opaque, within } from "./convert.ts";
import { asFailure, type DecodeOptions, type DecodeResult, RowCollector } from "./rows.ts";

/** What the parser should build: only the parts of a value that the schema reads. */
export type Want =
  | { kind: "skip" }
  | { kind: "scalar" }
  | { kind: "list"; element: Want }
  | { kind: "map"; value: Want }
  | { kind: "struct"; fields: Map<string, Want> };

const SKIP: Want = { kind: "skip" };
const SCALAR: Want = { kind: "scalar" };

export function wantOf(type: DataType): Want {
  switch (type.kind) {
    case "list":
      return { kind: "list", element: wantOf(type.element.type) };
    case "map":
      return { kind: "map", value: wantOf(type.value.type) };
    case "struct":
      return { kind: "struct", fields: new Map(type.fields.map((f) => [f.name, wantOf(f.type)])) };
    default:
      return SCALAR;
  }
}

export function recordWant(schema: Schema): Want {
  return wantOf({ kind: "struct", fields: schema.fields });
}

/** A record's fields for `Parser.recordInto`: names, what to build of each, and each name's index. */
interface RecordFields {
  names: readonly string[];
  wants: readonly Want[];
  byName: ReadonlyMap<string, number>;
}

/** The schema's fields for `Parser.recordInto`; undefined when two fields share a name (then every record takes the general path). */
function recordFields(schema: Schema): RecordFields | undefined {
  const names = schema.fields.map((f) => f.name);
  const byName = new Map(names.map((name, i) => [name, i]));
  if (byName.size !== names.length) return undefined;
  return { names, wants: schema.fields.map((f) => wantOf(f.type)), byName };
}

const MAX_DEPTH = 512;
const AN_OBJECT = new Opaque("an object");
const AN_ARRAY = new Opaque("an array");

function malformed(message: string): DecodeFailure {
  return new DecodeFailure("malformed", `malformed JSON: ${message}`);
}

/**
 * Parses one JSON text into an `Input`, building only what `want` asks for (a skipped value is
 * `undefined`; an object or array where a scalar is wanted is an `Opaque`). Throws a `malformed`
 * `DecodeFailure` for anything that is not exactly one JSON value.
 */
export function parseJson(text: string, want: Want): Input | undefined {
  const parser = new Parser(text);
  const value = parser.value(want);
  parser.end();
  return value;
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  end(): void {
    this.space();
    if (this.pos < this.text.length) throw this.unexpected();
  }

  private space(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 32 || c === 10 || c === 13 || c === 9) pos++;
      else break;
    }
    this.pos = pos;
  }

  private unexpected(): DecodeFailure {
    if (this.pos >= this.text.length) return malformed("unexpected end of the record");
    const ch = String.fromCodePoint(this.text.codePointAt(this.pos)!);
    return malformed(`unexpected ${JSON.stringify(ch)} at character ${this.pos + 1}`);
  }

  value(want: Want): Input | undefined {
    this.space();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 123 /* { */:
        return this.object(want);
      case 91 /* [ */:
        return this.array(want);
      case 34 /* " */:
        if (want === SKIP) {
          this.skipString();
          return undefined;
        }
        return this.string();
      case 116 /* t */:
        this.literal("true");
        return true;
      case 102 /* f */:
        this.literal("false");
        return false;
      case 110 /* n */:
        this.literal("null");
        return null;
      default:
        if (c === 45 || (c >= 48 && c <= 57)) {
          const start = this.pos;
          this.number();
          return want === SKIP ? undefined : new JsonNumber(this.text.slice(start, this.pos));
        }
        throw this.unexpected();
    }
  }

  /**
   * The record, when it is an object, into `slots` (by field index; a field that is absent stays
   * `undefined`): what `value(recordWant(schema))` reads, with the same errors at the same
   * positions, but without building a Map. False, having consumed only blanks, when the record
   * does not start with `{`: the caller then takes the general path.
   */
  recordInto(fields: RecordFields, slots: (Input | undefined)[]): boolean {
    this.space();
    if (this.text.charCodeAt(this.pos) !== 123 /* { */) return false;
    this.enter();
    this.pos++;
    this.space();
    if (this.text.charCodeAt(this.pos) === 125 /* } */) this.pos++;
    else {
      let guess = 0;
      for (;;) {
        this.space();
        if (this.text.charCodeAt(this.pos) !== 34) throw this.unexpected();
        const index = this.fieldIndex(fields, guess);
        this.space();
        if (this.text.charCodeAt(this.pos) !== 58 /* : */) throw this.unexpected();
        this.pos++;
        if (index < 0) this.value(SKIP);
        else {
          const value = this.value(fields.wants[index]!);
          slots[index] = value === undefined ? null : value;
          guess = index + 1;
        }
        if (this.nextMember()) continue;
        break;
      }
    }
    this.depth--;
    return true;
  }

  /** After an object member: true past a `,` (another member follows), false past the closing `}`; anything else throws. */
  private nextMember(): boolean {
    this.space();
    const c = this.text.charCodeAt(this.pos);
    this.pos++;
    if (c === 44 /* , */) return true;
    if (c === 125 /* } */) return false;
    this.pos--;
    throw this.unexpected();
  }

  /** At a key's opening quote: reads the key and returns its field's index, or -1 for a key the schema does not name. */
  private fieldIndex(fields: RecordFields, guess: number): number {
    const text = this.text;
    const start = this.pos + 1;
    let pos = start;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 34) break;
      // An escape, a control character or the end: the general reader decodes the key or rejects it.
      if (c === 92 || c < 32 || Number.isNaN(c)) return fields.byName.get(this.string()) ?? -1;
      pos++;
    }
    this.pos = pos + 1;
    const length = pos - start;
    const names = fields.names;
    for (let k = 0, i = guess; k < names.length; k++, i++) {
      if (i >= names.length) i = 0;
      const name = names[i]!;
      if (name.length === length && text.startsWith(name, start)) return i;
    }
    return -1;
  }

  private literal(word: string): void {
    if (!this.text.startsWith(word, this.pos)) throw this.unexpected();
    this.pos += word.length;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new DecodeFailure("too_large", `the record nests deeper than ${MAX_DEPTH} levels`);
  }

  private object(want: Want): Input | undefined {
    this.enter();
    this.pos++;
    const out = want.kind === "struct" || want.kind === "map" ? new Map<string, Input>() : undefined;
    this.space();
    if (this.text.charCodeAt(this.pos) === 125 /* } */) this.pos++;
    else {
      for (;;) {
        this.space();
        if (this.text.charCodeAt(this.pos) !== 34) throw this.unexpected();
        const key = out ? this.string() : (this.skipString(), "");
        this.space();
        if (this.text.charCodeAt(this.pos) !== 58 /* : */) throw this.unexpected();
        this.pos++;
        const child = want.kind === "struct" ? (want.fields.get(key) ?? SKIP) : want.kind === "map" ? want.value : SKIP;
        const value = this.value(child);
        if (out && child !== SKIP) out.set(key, value === undefined ? null : value);
        if (this.nextMember()) continue;
        break;
      }
    }
    this.depth--;
    if (out) return out;
    return want === SKIP ? undefined : AN_OBJECT;
  }

  private array(want: Want): Input | undefined {
    this.enter();
    this.pos++;
    const out: Input[] | undefined = want.kind === "list" ? [] : undefined;
    const element = want.kind === "list" ? want.element : SKIP;
    this.space();
    if (this.text.charCodeAt(this.pos) === 93 /* ] */) this.pos++;
    else {
      for (;;) {
        const value = this.value(element);
        if (out) out.push(value === undefined ? null : value);
        this.space();
        const c = this.text.charCodeAt(this.pos);
        this.pos++;
        if (c === 44) continue;
        if (c === 93) break;
        this.pos--;
        throw this.unexpected();
      }
    }
    this.depth--;
    if (out) return out;
    return want === SKIP ? undefined : AN_ARRAY;
  }

  /** `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?` */
  private number(): void {
    const text = this.text;
    let pos = this.pos;
    if (text.charCodeAt(pos) === 45) pos++;
    const first = text.charCodeAt(pos);
    if (first === 48) pos++;
    else if (first >= 49 && first <= 57) while (isDigit(text.charCodeAt(pos))) pos++;
    else return this.failAt(pos);
    if (text.charCodeAt(pos) === 46 /* . */) {
      pos++;
      if (!isDigit(text.charCodeAt(pos))) return this.failAt(pos);
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    const e = text.charCodeAt(pos);
    if (e === 101 || e === 69) {
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === 43 || sign === 45) pos++;
      if (!isDigit(text.charCodeAt(pos))) return this.failAt(pos);
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    this.pos = pos;
  }

  private failAt(pos: number): never {
    this.pos = pos;
    throw this.unexpected();
  }

  private skipString(): void {
    const text = this.text;
    let pos = this.pos + 1;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 34) break;
      if (c === 92) {
        this.pos = pos;
        this.escape();
        pos = this.pos;
        continue;
      }
      if (c < 32 || Number.isNaN(c)) return this.failString(pos);
      pos++;
    }
    this.pos = pos + 1;
  }

  private string(): string {
    const text = this.text;
    let pos = this.pos + 1;
    let start = pos;
    let out = "";
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 34) break;
      if (c === 92) {
        out += text.slice(start, pos);
        this.pos = pos;
        out += this.escape();
        pos = start = this.pos;
        continue;
      }
      if (c < 32 || Number.isNaN(c)) return this.failString(pos);
      pos++;
    }
    this.pos = pos + 1;
    return out + text.slice(start, pos);
  }

  private failString(pos: number): never {
    this.pos = pos;
    if (pos >= this.text.length) throw malformed("unterminated string");
    throw malformed(`control character U+${this.text.charCodeAt(pos).toString(16).toUpperCase().padStart(4, "0")} in a string at character ${pos + 1}`);
  }

  /** At a backslash: reads one escape, leaves `pos` after it, returns its text. */
  private escape(): string {
    const text = this.text;
    const c = text.charCodeAt(this.pos + 1);
    this.pos += 2;
    switch (c) {
      case 34:
        return '"';
      case 92:
        return "\\";
      case 47:
        return "/";
      case 98:
        return "\b";
      case 102:
        return "\f";
      case 110:
        return "\n";
      case 114:
        return "\r";
      case 116:
        return "\t";
      case 117 /* u */: {
        const unit = this.hex4();
        if (unit >= 0xdc00 && unit <= 0xdfff) throw malformed(`lone surrogate \\u${unit.toString(16)} at character ${this.pos - 5}`);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (text.charCodeAt(this.pos) !== 92 || text.charCodeAt(this.pos + 1) !== 117) {
            throw malformed(`lone surrogate \\u${unit.toString(16)} at character ${this.pos - 5}`);
          }
          this.pos += 2;
          const low = this.hex4();
          if (low < 0xdc00 || low > 0xdfff) throw malformed(`lone surrogate \\u${unit.toString(16)} at character ${this.pos - 11}`);
          return String.fromCharCode(unit, low);
        }
        return String.fromCharCode(unit);
      }
      default:
        this.pos -= 1;
        throw malformed(Number.isNaN(c) ? "unterminated string" : `bad escape \\${String.fromCharCode(c)} at character ${this.pos}`);
    }
  }

  private hex4(): number {
    const digits = this.text.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) throw malformed(`bad \\u escape at character ${this.pos - 1}`);
    this.pos += 4;
    return parseInt(digits, 16);
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 bytes to text, or a `malformed` failure. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new DecodeFailure("malformed", "invalid UTF-8");
  }
}

/** Converts a parsed record (a JSON object) to one value per schema field; throws a `DecodeFailure`. */
export class RecordConverter {
  private readonly names: string[];
  private readonly converters: Converter[];

  constructor(schema: Schema) {
    this.names = schema.fields.map((f) => f.name);
    this.converters = schema.fields.map(fieldConverter);
  }

  convert(record: Input | undefined): CellValue[] {
    if (!(record instanceof Map)) {
      throw new DecodeFailure("malformed", `a record must be a JSON object, got ${record === undefined ? "nothing" : describe(record)}`);
    }
    const values = new Array<CellValue>(this.names.length);
    for (let i = 0; i < this.names.length; i++) {
      try {
        values[i] = this.converters[i]!(record.get(this.names[i]!));
      } catch (e) {
        throw within(e, this.names[i]!);
      }
    }
    return values;
  }

  /** As `convert`, from one input per field by index (`Parser.recordInto`), into `values` (reused: valid until the next call). */
  convertSlots(slots: readonly (Input | undefined)[], values: CellValue[]): CellValue[] {
    for (let i = 0; i < this.names.length; i++) {
      try {
        values[i] = this.converters[i]!(slots[i]);
      } catch (e) {
        throw within(e, this.names[i]!);
      }
    }
    return values;
  }
}

export class JsonDecoder {
  private readonly rows: RowCollector;
  private readonly want: Want;
  private readonly converter: RecordConverter;
  private readonly fields: RecordFields | undefined;
  /** Reused for every record: each field's parsed input, and the converted values (`accept` copies them into the builders). */
  private readonly slots: (Input | undefined)[];
  private readonly values: CellValue[];

  /** Records accepted since the last `finish` (rows of the next batch). */
  get acceptedRows(): number {
    return this.rows.accepted;
  }

  constructor(schema: Schema, options: DecodeOptions) {
    this.rows = new RowCollector(schema, options);
    this.want = recordWant(schema);
    this.converter = new RecordConverter(schema);
    this.fields = recordFields(schema);
    this.slots = new Array<Input | undefined>(schema.fields.length).fill(undefined);
    this.values = new Array<CellValue>(schema.fields.length).fill(null);
  }

  /** One record's bytes (copied into the dead letter if rejected). */
  record(bytes: Uint8Array, position: RecordPosition): void {
    if (this.rows.rejectIfTooLarge(bytes, position)) return;
    try {
      const text = decodeUtf8(bytes);
      const parser = new Parser(text);
      const slots = this.slots;
      slots.fill(undefined);
      if (this.fields !== undefined && parser.recordInto(this.fields, slots)) {
        parser.end();
        this.rows.accept(this.converter.convertSlots(slots, this.values));
      } else {
        this.rows.accept(this.converter.convert(parseJson(text, this.want)));
      }
    } catch (e) {
      this.rows.rejectFailure(asFailure(e), bytes.slice(), position);
    }
  }

  /** A newline-delimited JSON file's bytes: one record per non-blank line. */
  lines(bytes: Uint8Array, file: string): void {
    let start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let line = 1;
    while (start < bytes.length) {
      let end = bytes.indexOf(10, start);
      const next = end < 0 ? bytes.length : end + 1;
      if (end < 0) end = bytes.length;
      if (end > start && bytes[end - 1] === 13) end--;
      if (!isBlank(bytes, start, end)) this.record(bytes.subarray(start, end), { kind: "file", file, line });
      start = next;
      line++;
    }
  }

  finish(): DecodeResult {
    return this.rows.finish();
  }
}

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Decodes JSON records in one go. */
export function decodeJson(schema: Schema, records: Iterable<{ bytes: Uint8Array; position: RecordPosition }>, options: DecodeOptions): DecodeResult {
  const decoder = new JsonDecoder(schema, options);
  for (const r of records) decoder.record(r.bytes, r.position);
  return decoder.finish();
}

/** Decodes a newline-delimited JSON file's bytes. */
export function decodeJsonLines(schema: Schema, bytes: Uint8Array, file: string, options: DecodeOptions): DecodeResult {
  const decoder = new JsonDecoder(schema, options);
  decoder.lines(bytes, file);
  return decoder.finish();
}
