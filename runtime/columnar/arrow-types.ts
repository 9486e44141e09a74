/**
 * How each language type is laid out in Arrow.
 *
 * Contract: one mapping, used by builders, readers, sinks and state snapshots alike:
 * bool → Bool · int → Int32 · long → Int64 · double → Float64 · decimal(P, S) → Decimal128(P, S) ·
 * string → Utf8 (or Dictionary<Utf8, Int32>) · bytes → Binary · date → DateDay ·
 * timestamp → Timestamp(MICROSECOND, "UTC") · list<T> → List<T> · map<string, T> → Map<Utf8, T> ·
 * struct → Struct.
 */
import * as arrow from "apache-arrow";
import type { DataType, Field, Schema } from "../plan.ts";

export function arrowType(type: DataType): arrow.DataType {
  switch (type.kind) {
    case "bool":
      return new arrow.Bool();
    case "int":
      return new arrow.Int32();
    case "long":
      return new arrow.Int64();
    case "double":
      return new arrow.Float64();
    case "decimal":
      return new arrow.Decimal(type.scale, type.precision, 128);
    case "string":
      return new arrow.Utf8();
    case "bytes":
      return new arrow.Binary();
    case "date":
      return new arrow.DateDay();
    case "timestamp":
      return new arrow.TimestampMicrosecond("UTC");
    case "list":
      return new arrow.List(arrowField(type.element));
    case "map":
      return new arrow.Map_(
        new arrow.Field("entries", new arrow.Struct([new arrow.Field("key", new arrow.Utf8(), false), arrowField({ ...type.value, name: "value" })] as arrow.Field[]) as never, false),
      );
    case "struct":
      return new arrow.Struct(type.fields.map(arrowField));
    case "duration":
    case "null":
      throw new Error(`a column cannot be of type ${type.kind}`);
  }
}

export function arrowField(field: Field): arrow.Field {
  return new arrow.Field(field.name, arrowType(field.type), field.nullable);
}

export function arrowSchema(schema: Schema): arrow.Schema {
  return new arrow.Schema(schema.fields.map(arrowField));
}
