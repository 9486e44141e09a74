/** Spark StructType JSON (Delta `schemaString`) → our Schema. */
import type { DataType, Field, Schema } from "../plan.ts";

/** A Spark field with its Delta metadata kept (column mapping, etc.). */
export interface SparkField extends Field {
  metadata: Record<string, unknown>;
}

export interface SparkSchema extends Schema {
  fields: SparkField[];
}

export class UnsupportedTypeError extends Error {}

function convertType(t: unknown): DataType {
  if (typeof t === "string") {
    switch (t) {
      case "string":
        return { kind: "string" };
      case "long":
        return { kind: "long" };
      case "integer":
      case "short":
      case "byte":
        return { kind: "int" };
      case "double":
      case "float":
        return { kind: "double" };
      case "boolean":
        return { kind: "bool" };
      case "date":
        return { kind: "date" };
      case "timestamp":
        return { kind: "timestamp" };
      case "binary":
        return { kind: "bytes" };
      case "timestamp_ntz":
        throw new UnsupportedTypeError("timestampNtz");
    }
    const m = /^decimal\((\d+),\s*(\d+)\)$/.exec(t);
    if (m) return { kind: "decimal", precision: Number(m[1]), scale: Number(m[2]) };
    if (t === "decimal") return { kind: "decimal", precision: 10, scale: 0 };
    throw new Error(`unknown Spark type ${t}`);
  }
  const o = t as Record<string, unknown>;
  switch (o.type) {
    case "struct":
      return { kind: "struct", fields: (o.fields as unknown[]).map(convertField) };
    case "array":
      return { kind: "list", element: { name: "element", type: convertType(o.elementType), nullable: o.containsNull !== false } };
    case "map":
      return { kind: "map", value: { name: "value", type: convertType(o.valueType), nullable: o.valueContainsNull !== false } };
  }
  throw new Error(`unknown Spark type ${JSON.stringify(t)}`);
}

function convertField(f: unknown): SparkField {
  const o = f as Record<string, unknown>;
  return {
    name: String(o.name),
    type: convertType(o.type),
    nullable: o.nullable !== false,
    metadata: (o.metadata as Record<string, unknown>) ?? {},
  };
}

export function parseSparkSchema(schemaString: string): SparkSchema {
  const o = JSON.parse(schemaString) as Record<string, unknown>;
  if (o.type !== "struct") throw new Error("schemaString is not a struct");
  return { fields: (o.fields as unknown[]).map(convertField) };
}
