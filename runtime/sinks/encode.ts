/**
 * Cell values as text: JSON (files sink, kafka sink, late rows in the dead letter), CSV (files
 * sink) and display text (console sink).
 *
 * Contract: encoders are built once per type and map a `CellValue` (columnar/values.ts) of that
 * type to text. JSON: timestamps are ISO-8601 UTC strings (`2024-01-01T00:00:00.5Z`), dates
 * `"YYYY-MM-DD"`, decimals exact JSON numbers (`12.50` for 1250 in scale 2), bytes base64
 * strings, maps objects, structs objects, NaN and infinities the strings `"NaN"`, `"Infinity"`,
 * `"-Infinity"` (JSON has no such numbers; the JSON decoder reads them back into a `double`),
 * nulls `null` (fields are never omitted). So a file written by the files sink reads back through
 * the files source with the same values. CSV: the same texts, nested values as JSON, null as an
 * empty unquoted field, the empty string (and empty bytes) as `""`; a field is quoted when it holds `,` `"` CR or LF
 * or is empty.
 */
import type { Batch } from "../columnar/batch.ts";
import { cellReader } from "../columnar/read.ts";
import type { CellValue } from "../columnar/values.ts";
import { scaledText } from "../decode/convert.ts";
import type { DataType, Schema } from "../plan.ts";
import { formatDateDays, formatTimestampMicros } from "../time.ts";

export type Encoder = (value: CellValue) => string;

/** JSON text of a non-null value of `type` (null → `null`). */
export function jsonEncoder(type: DataType): Encoder {
  const encode = jsonValueEncoder(type);
  return (value) => (value === null ? "null" : encode(value));
}

function jsonValueEncoder(type: DataType): Encoder {
  switch (type.kind) {
    case "bool":
    case "int":
    case "long":
      return (v) => String(v);
    case "double":
      return (v) => {
        const n = v as number;
        return Number.isFinite(n) ? String(n) : Number.isNaN(n) ? '"NaN"' : n > 0 ? '"Infinity"' : '"-Infinity"';
      };
    case "decimal":
      return (v) => scaledText(v as bigint, type.scale);
    case "string":
      return (v) => JSON.stringify(v);
    case "bytes":
      return (v) => `"${base64(v as Uint8Array)}"`;
    case "date":
      return (v) => `"${formatDateDays(v as number)}"`;
    case "timestamp":
      return (v) => `"${formatTimestampMicros(v as number)}"`;
    case "list": {
      const element = jsonEncoder(type.element.type);
      return (v) => `[${(v as CellValue[]).map(element).join(",")}]`;
    }
    case "map": {
      const value = jsonEncoder(type.value.type);
      return (v) => {
        const parts: string[] = [];
        for (const [k, x] of v as Map<string, CellValue>) parts.push(`${JSON.stringify(k)}:${value(x)}`);
        return `{${parts.join(",")}}`;
      };
    }
    case "struct": {
      const fields = type.fields.map((f) => ({ key: JSON.stringify(f.name), name: f.name, encode: jsonEncoder(f.type) }));
      return (v) => {
        const record = v as { [field: string]: CellValue };
        return `{${fields.map((f) => `${f.key}:${f.encode(record[f.name] ?? null)}`).join(",")}}`;
      };
    }
    case "duration":
    case "null":
      throw new Error(`a column cannot be of type ${type.kind}`);
  }
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Each row of `batch` as one JSON object (fields in schema order). */
export function batchToJsonLines(batch: Batch, rows?: Iterable<number>): string[] {
  const fields = batch.schema.fields.map((f, i) => ({ key: JSON.stringify(f.name), read: cellReader(batch.columns[i]!, f.type), encode: jsonEncoder(f.type) }));
  const out: string[] = [];
  const indices = rows ?? range(batch.length);
  for (const r of indices) out.push(`{${fields.map((f) => `${f.key}:${f.encode(f.read(r))}`).join(",")}}`);
  return out;
}

function* range(n: number): Iterable<number> {
  for (let i = 0; i < n; i++) yield i;
}

// ---- CSV ---------------------------------------------------------------------------------------

/** A CSV field's text for a value of `type`; null is the empty unquoted field. */
export function csvEncoder(type: DataType): Encoder {
  const json = jsonValueEncoder(type);
  let text: Encoder;
  switch (type.kind) {
    case "string":
      text = (v) => v as string;
      break;
    case "bytes":
      text = (v) => base64(v as Uint8Array);
      break;
    case "date":
      text = (v) => formatDateDays(v as number);
      break;
    case "timestamp":
      text = (v) => formatTimestampMicros(v as number);
      break;
    case "double":
      text = (v) => {
        const n = v as number;
        return Number.isFinite(n) ? String(n) : Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity";
      };
      break;
    default:
      text = json;
  }
  return (value) => (value === null ? "" : csvQuote(text(value)));
}

export function csvQuote(text: string): string {
  return text === "" || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line and one line per row, each ending in `\n`. */
export function batchToCsv(batch: Batch): string {
  const fields = batch.schema.fields.map((f, i) => ({ read: cellReader(batch.columns[i]!, f.type), encode: csvEncoder(f.type) }));
  const lines = [batch.schema.fields.map((f) => csvQuote(f.name)).join(",")];
  for (let r = 0; r < batch.length; r++) lines.push(fields.map((f) => f.encode(f.read(r))).join(","));
  return lines.join("\n") + "\n";
}

// ---- display -------------------------------------------------------------------------------------

/** Text for the console: `null`, ISO timestamps, `[a, b]`, `{k -> v}`, `{1, ann}` (as Spark shows them). */
export function displayEncoder(type: DataType): Encoder {
  const encode = displayValueEncoder(type);
  return (value) => (value === null ? "null" : encode(value));
}

function displayValueEncoder(type: DataType): Encoder {
  switch (type.kind) {
    case "string":
      return (v) => v as string;
    case "bytes":
      return (v) => `[${Array.from(v as Uint8Array, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ")}]`;
    case "double":
      return (v) => String(v);
    case "list": {
      const element = displayEncoder(type.element.type);
      return (v) => `[${(v as CellValue[]).map(element).join(", ")}]`;
    }
    case "map": {
      const value = displayEncoder(type.value.type);
      return (v) => `{${[...(v as Map<string, CellValue>)].map(([k, x]) => `${k} -> ${value(x)}`).join(", ")}}`;
    }
    case "struct": {
      const fields = type.fields.map((f) => ({ name: f.name, encode: displayEncoder(f.type) }));
      return (v) => `{${fields.map((f) => f.encode((v as { [k: string]: CellValue })[f.name] ?? null)).join(", ")}}`;
    }
    default: {
      const json = jsonValueEncoder(type);
      return type.kind === "date" || type.kind === "timestamp" ? (v) => json(v).slice(1, -1) : json;
    }
  }
}

/** The columns' names and each row's display texts, for tables. */
export function displayRows(schema: Schema, batch: Batch, limit: number): string[][] {
  const fields = schema.fields.map((f, i) => ({ read: cellReader(batch.columns[i]!, f.type), encode: displayEncoder(f.type) }));
  const out: string[][] = [];
  for (let r = 0; r < Math.min(limit, batch.length); r++) out.push(fields.map((f) => f.encode(f.read(r))));
  return out;
}
