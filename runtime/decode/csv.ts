/**
 * CSV records: a file whose header row names the columns, or one Kafka message holding one record
 * whose fields are the schema's columns in order; decoded into the columns of the declared schema.
 *
 * Contract: `CsvDecoder.file` takes a whole file's bytes, `CsvDecoder.record` one message;
 * `finish` gives the batch of accepted rows and the rejects, each with its position (file and the
 * line the record starts on, from 1), its raw bytes and a detail. Enforcement follows convert.ts,
 * with values parsed from text as below.
 *
 * Decisions:
 * - RFC 4180: fields separated by `,`, records by `\n` or `\r\n`; a field in double quotes may hold
 *   commas, quotes written `""` and line breaks. A quote inside an unquoted field is kept as a
 *   character (`5" screen`), as most readers do.
 * - A record with a different number of fields than the header, text after a closing quote, an
 *   unclosed quote, or invalid UTF-8 is `malformed`. Records are found by scanning bytes, so one
 *   bad record costs only itself: after an unclosed quote, reading resumes on the next line
 *   (csv-parse, the obvious library, loses every record after a bad quote; so this file does not
 *   use it).
 * - Empty lines are skipped. A UTF-8 byte-order mark at the start is skipped. The header's names
 *   are taken as written (not trimmed); the first of two equal names wins; columns the schema does
 *   not name are ignored; a schema field without a column is absent in every record (null when
 *   nullable, else `missing_field`).
 * - An empty unquoted field is null; a quoted empty field `""` is the empty string for a `string`
 *   column (as Spark; DuckDB reads it so with `allow_quoted_nulls = false`), empty bytes for a
 *   `bytes` one, and null for any other.
 * - Values from text, surrounding spaces and tabs trimmed except for strings: `bool` is `true` or
 *   `false` in any case; numbers as in JSON, also with a leading `+`; `double` also takes
 *   `NaN`, `Infinity`, `inf` with an optional sign, in any case; `decimal` exactly; `timestamp` an
 *   ISO-8601 text or a number of epoch milliseconds; `date` `YYYY-MM-DD`; `bytes` base64; `list`,
 *   `map` and `struct` cells hold JSON (as the files sink writes them). Failures carry the same
 *   reasons as in JSON.
 */
import type { CellValue } from "../columnar/values.ts";
import type { RecordPosition } from "../deadletter.ts";
import type { DataType, Field, Schema } from "../plan.ts";
import { clip, DecodeFailure, type Input, JsonNumber, parseExact, typeConverter, within } from "./convert.ts";
import { decodeUtf8, parseJson, wantOf } from "./json.ts";
import { asFailure, type DecodeOptions, type DecodeResult, RowCollector } from "./rows.ts";

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** One record's place in the bytes: `[start, end)` without its line break; `next` is where the following record starts. */
interface RecordSpan {
  start: number;
  end: number;
  next: number;
  /** Line breaks inside the record (quoted fields), so the following record's line can be counted. */
  breaks: number;
  error: string | undefined;
}

/** Finds the record starting at `start` (which is below `bytes.length`). */
function scanRecord(bytes: Uint8Array, start: number): RecordSpan {
  const length = bytes.length;
  let pos = start;
  let breaks = 0;
  const finish = (at: number): RecordSpan => {
    const end = at > start && bytes[at - 1] === CR ? at - 1 : at;
    return { start, end, next: at < length ? at + 1 : length, breaks, error: undefined };
  };
  const fail = (error: string, from: number): RecordSpan => {
    const lf = bytes.indexOf(LF, from);
    const at = lf < 0 ? length : lf;
    let skipped = 0;
    for (let i = start; i < at; i++) if (bytes[i] === LF) skipped++;
    const end = at > start && bytes[at - 1] === CR ? at - 1 : at;
    return { start, end, next: lf < 0 ? length : lf + 1, breaks: skipped, error };
  };
  for (;;) {
    // At the start of a field.
    if (bytes[pos] === QUOTE) {
      let at = pos + 1;
      for (;;) {
        const close = bytes.indexOf(QUOTE, at);
        if (close < 0) return fail("an unclosed quote", start);
        for (let i = at; i < close; i++) if (bytes[i] === LF) breaks++;
        if (bytes[close + 1] === QUOTE) {
          at = close + 2;
          continue;
        }
        pos = close + 1;
        break;
      }
      const c = bytes[pos];
      if (c === COMMA) {
        pos++;
        continue;
      }
      if (pos >= length || c === LF) return finish(pos);
      if (c === CR && (pos + 1 >= length || bytes[pos + 1] === LF)) return finish(pos + 1 >= length ? length : pos + 1);
      return fail(`text after a closing quote at byte ${pos - start + 1} of the record`, pos);
    }
    for (;;) {
      if (pos >= length) return finish(length);
      const c = bytes[pos];
      if (c === LF) return finish(pos);
      pos++;
      if (c === COMMA) break;
    }
  }
}

/**
 * The fields of one record's text (already scanned, so its quoting is valid). An empty unquoted
 * field is null; a quoted one is its text.
 */
function splitFields(text: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let out = "";
      let from = i + 1;
      for (;;) {
        const close = text.indexOf('"', from);
        out += text.slice(from, close);
        if (text.charCodeAt(close + 1) === QUOTE) {
          out += '"';
          from = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      fields.push(out);
      // After a closing quote: a comma or the end (scanRecord checked).
      if (i >= n) return fields;
      i++;
      continue;
    }
    const comma = text.indexOf(",", i);
    const end = comma < 0 ? n : comma;
    fields.push(end === i ? null : text.slice(i, end));
    if (comma < 0) return fields;
    i = comma + 1;
  }
}

/** A cell converter: `undefined` is a column the record lacks, `null` an empty unquoted field. */
type CellConverter = (cell: string | null | undefined) => CellValue;

function cellConverter(field: Field): CellConverter {
  const fromText = textConverter(field.type);
  // Strings and bytes keep their text as is, and a quoted empty field is an empty value.
  const literal = field.type.kind === "string" || field.type.kind === "bytes";
  return (cell) => {
    if (cell === undefined) {
      if (field.nullable) return null;
      throw new DecodeFailure("missing_field", "required and absent (no such column)");
    }
    const text = cell === null ? null : literal ? cell : trim(cell);
    if (text === null || (text === "" && !literal)) {
      if (field.nullable) return null;
      throw new DecodeFailure("null_in_required", "required and empty");
    }
    return fromText(text);
  };
}

function trim(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

const nonFinite = /^([+-]?)(nan|inf|infinity)$/i;

/** A non-empty text to a value of `type` (convert.ts rules, with numbers from text). */
function textConverter(type: DataType): (text: string) => CellValue {
  const convert = typeConverter(type);
  switch (type.kind) {
    case "string":
    case "decimal":
    case "date":
    case "bytes":
      return (text) => convert(text);
    case "bool":
      return (text) => {
        const lower = text.toLowerCase();
        if (lower === "true") return true;
        if (lower === "false") return false;
        throw new DecodeFailure("type_mismatch", `expected bool, got ${JSON.stringify(clip(text))}`);
      };
    case "int":
    case "long":
      return (text) => {
        if (!parseExact(text)) throw new DecodeFailure("type_mismatch", `expected ${type.kind}, got ${JSON.stringify(clip(text))}`);
        return convert(new JsonNumber(text));
      };
    case "double":
      return (text) => {
        if (parseExact(text)) return convert(new JsonNumber(text));
        const m = nonFinite.exec(text);
        if (!m) throw new DecodeFailure("type_mismatch", `expected double, got ${JSON.stringify(clip(text))}`);
        if (m[2]!.toLowerCase() === "nan") return Number.NaN;
        return m[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      };
    case "timestamp":
      return (text) => convert(parseExact(text) ? new JsonNumber(text) : text);
    case "list":
    case "map":
    case "struct": {
      const want = wantOf(type);
      return (text) => {
        const input: Input | undefined = parseJson(text, want);
        return convert(input === undefined ? null : input);
      };
    }
    case "duration":
    case "null":
      throw new Error(`a column cannot be of type ${type.kind}`);
  }
}

export class CsvDecoder {
  private readonly rows: RowCollector;
  private readonly converters: CellConverter[];

  /** Records accepted since the last `finish` (rows of the next batch). */
  get acceptedRows(): number {
    return this.rows.accepted;
  }

  constructor(
    private readonly schema: Schema,
    options: DecodeOptions,
  ) {
    this.rows = new RowCollector(schema, options);
    this.converters = schema.fields.map(cellConverter);
  }

  /** A CSV file's bytes: a header row, then records. */
  file(bytes: Uint8Array, file: string): void {
    let pos = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let line = 1;
    let columns: number[] | undefined;
    let headerLength = 0;
    while (pos < bytes.length) {
      const span = scanRecord(bytes, pos);
      const position: RecordPosition = { kind: "file", file, line };
      line += 1 + span.breaks;
      pos = span.next;
      if (span.end === span.start && span.error === undefined) continue;
      const raw = bytes.subarray(span.start, span.end);
      if (columns === undefined) {
        // The header: a bad one makes every record unreadable.
        const fields = span.error === undefined ? safeFields(raw) : undefined;
        if (fields === undefined) {
          this.rows.reject("malformed", `malformed CSV: the header row is not valid${span.error ? ` (${span.error})` : ""}, so the whole file is skipped`, raw.slice(), position);
          return;
        }
        headerLength = fields.length;
        columns = this.schema.fields.map((f) => fields.indexOf(f.name));
        continue;
      }
      this.decode(raw, span.error, position, columns, headerLength, "the header");
    }
  }

  /** One message holding one CSV record, its fields in schema order (a trailing line break is allowed). */
  record(bytes: Uint8Array, position: RecordPosition): void {
    const span = bytes.length ? scanRecord(bytes, 0) : { start: 0, end: 0, next: 0, breaks: 0, error: undefined };
    const error = span.error ?? (span.next < bytes.length ? "more than one record in the message" : undefined);
    this.decode(bytes, error, position, this.schema.fields.map((_, i) => i), this.schema.fields.length, "the schema", span.end);
  }

  private decode(
    raw: Uint8Array,
    error: string | undefined,
    position: RecordPosition,
    columns: number[],
    width: number,
    widthFrom: string,
    end = raw.length,
  ): void {
    if (this.rows.rejectIfTooLarge(raw, position)) return;
    try {
      if (error !== undefined) throw new DecodeFailure("malformed", `malformed CSV: ${error}`);
      const fields = splitFields(decodeUtf8(raw.subarray(0, end)));
      if (fields.length !== width) {
        throw new DecodeFailure("malformed", `malformed CSV: the record has ${fields.length} fields, ${widthFrom} ${width}`);
      }
      const values = new Array<CellValue>(columns.length);
      for (let i = 0; i < columns.length; i++) {
        const column = columns[i]!;
        try {
          values[i] = this.converters[i]!(column < 0 ? undefined : fields[column]);
        } catch (e) {
          throw within(e, this.schema.fields[i]!.name);
        }
      }
      this.rows.accept(values);
    } catch (e) {
      this.rows.rejectFailure(asFailure(e), raw.slice(), position);
    }
  }

  finish(): DecodeResult {
    return this.rows.finish();
  }
}

function safeFields(raw: Uint8Array): string[] | undefined {
  try {
    return splitFields(decodeUtf8(raw)).map((f) => f ?? "");
  } catch {
    return undefined;
  }
}

/** Decodes a CSV file's bytes (with a header row). */
export function decodeCsvFile(schema: Schema, bytes: Uint8Array, file: string, options: DecodeOptions): DecodeResult {
  const decoder = new CsvDecoder(schema, options);
  decoder.file(bytes, file);
  return decoder.finish();
}

/** Decodes CSV records, one per message, fields in schema order. */
export function decodeCsvRecords(schema: Schema, records: Iterable<{ bytes: Uint8Array; position: RecordPosition }>, options: DecodeOptions): DecodeResult {
  const decoder = new CsvDecoder(schema, options);
  for (const r of records) decoder.record(r.bytes, r.position);
  return decoder.finish();
}
