/**
 * `format = raw` for the kafka source: the record itself as columns, as Spark's Kafka source gives
 * it (`key`, `value`, `topic`, `partition`, `offset`, `timestamp`, `headers`).
 *
 * Contract: `RawRecordDecoder` decodes records into a schema whose every field passed
 * `rawColumnProblem` (kafka-raw-columns.ts, which the checker also uses: S5014). A schema may name
 * any subset of the columns, in any order, each nullable or not.
 *
 * | column | types | value |
 * |---|---|---|
 * | `key` | `bytes`, `string` | the record's key; null when it has none |
 * | `value` | `bytes`, `string` | the record's value; null for a tombstone |
 * | `topic` | `string` | the topic |
 * | `partition` | `int` | the partition |
 * | `offset` | `long` | the record's offset |
 * | `timestamp` | `timestamp` | the record's timestamp (CreateTime or LogAppendTime, as the topic says), to the millisecond |
 * | `headers` | `map<string, string>`, `map<string, bytes>` (values nullable or not) | the record's headers; of two with one name, the last (Kafka's `lastHeader`) |
 *
 * Decisions:
 * - A `string` key, value or header value must be valid UTF-8, else the record is `malformed`; a
 *   `bytes` one is taken as it is.
 * - A null key or value (or header value) in a column declared without `?` is `null_in_required`;
 *   declare `key: bytes?` to keep records without a key.
 * - Headers are a map, not Spark's list of (key, value) pairs: the language's maps are what a
 *   query reads (`headers["trace-id"]`), and repeated header names are rare.
 */
import type { CellValue } from "../columnar/values.ts";
import type { RecordPosition } from "../deadletter.ts";
import { DecodeFailure, within } from "../decode/convert.ts";
import { decodeUtf8 } from "../decode/json.ts";
import { asFailure, type DecodeOptions, type DecodeResult, RowCollector } from "../decode/rows.ts";
import type { Field, Schema } from "../plan.ts";
import { kafkaRawColumns, rawColumnProblem } from "./kafka-raw-columns.ts";

/** One Kafka record as the source hands it to a decoder. */
export interface KafkaRecord {
  partition: number;
  offset: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Epoch milliseconds. */
  timestampMillis: number;
  /** Header values by name, the last of a repeated name. */
  headers: ReadonlyMap<string, Uint8Array | null>;
}

type RawConverter = (record: KafkaRecord, topic: string) => CellValue;

/** Decodes raw records into a schema whose every field passed `rawColumnProblem`. */
export class RawRecordDecoder {
  private readonly rows: RowCollector;
  private readonly converters: RawConverter[];

  /** Records accepted since the last `finish` (rows of the next batch). */
  get acceptedRows(): number {
    return this.rows.accepted;
  }

  constructor(
    private readonly schema: Schema,
    options: DecodeOptions,
  ) {
    this.rows = new RowCollector(schema, options);
    this.converters = schema.fields.map(rawConverter);
  }

  record(record: KafkaRecord, topic: string): void {
    const position: RecordPosition = { kind: "partition", partition: record.partition, offset: record.offset };
    const raw = record.value ?? new Uint8Array(0);
    if (this.rows.rejectIfTooLarge(raw, position)) return;
    const values = new Array<CellValue>(this.converters.length);
    try {
      for (let i = 0; i < values.length; i++) {
        try {
          values[i] = this.converters[i]!(record, topic);
        } catch (e) {
          throw within(e, this.schema.fields[i]!.name);
        }
      }
    } catch (e) {
      this.rows.rejectFailure(asFailure(e), raw.slice(), position);
      return;
    }
    this.rows.accept(values);
  }

  finish(): DecodeResult {
    return this.rows.finish();
  }
}

function rawConverter(field: Field): RawConverter {
  const column = kafkaRawColumns.get(field.name)?.column;
  if (column === undefined || rawColumnProblem(field) !== undefined) throw new Error(`a raw kafka source cannot have the column ${field.name}`);
  switch (column) {
    case "key":
      return bytesOrText(field, (r) => r.key);
    case "value":
      return bytesOrText(field, (r) => r.value);
    case "topic":
      return (_, topic) => topic;
    case "partition":
      return (r) => r.partition;
    case "offset":
      return (r) => r.offset;
    case "timestamp":
      return (r) => r.timestampMillis * 1000;
    case "headers": {
      if (field.type.kind !== "map") throw new Error("headers must be a map");
      const value = bytesOrTextValue(field.type.value);
      return (r) => {
        const out = new Map<string, CellValue>();
        for (const [name, bytes] of r.headers) {
          try {
            out.set(name, value(bytes));
          } catch (e) {
            throw within(e, { key: name });
          }
        }
        return out;
      };
    }
    default: {
      const unknown: never = column;
      throw new Error(`unknown raw column ${String(unknown)}`);
    }
  }
}

function bytesOrText(field: Field, read: (record: KafkaRecord) => Uint8Array | null): RawConverter {
  const convert = bytesOrTextValue(field);
  return (record) => convert(read(record));
}

/** Bytes as the field's `bytes` or `string` value, with its nullability enforced. */
function bytesOrTextValue(field: Field): (bytes: Uint8Array | null) => CellValue {
  const text = field.type.kind === "string";
  return (bytes) => {
    if (bytes === null) {
      if (field.nullable) return null;
      throw new DecodeFailure("null_in_required", "required and null");
    }
    return text ? decodeUtf8(bytes) : bytes;
  };
}
