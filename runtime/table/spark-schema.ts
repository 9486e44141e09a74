/**
 * Spark StructType JSON (Delta `schemaString`) and our Schema, both ways: `parseSparkSchema` for
 * the reader, `toSparkType` / `toSparkField` / `toSparkSchemaString` for the writer (bool → boolean,
 * int → integer, long, double, decimal(P,S), string, bytes → binary, date, timestamp, list → array,
 * map → map<string, V>, struct), and `sameSparkType` for the writer's schema checks.
 */
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

// ---- our Schema → Spark StructType JSON (the writer's direction) -------------------------------

/** A Spark type as it appears in `schemaString`: a name (`"long"`, `"decimal(10,2)"`) or an object. */
export type SparkTypeJson = string | { type: "array" | "map" | "struct"; [key: string]: unknown };

/** One field of `schemaString`'s top-level struct, as JSON. */
export interface SparkFieldJson {
  name: string;
  type: SparkTypeJson;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

/** The Spark type of a column type; `duration` and `null` have none (a column cannot hold them). */
export function toSparkType(type: DataType): SparkTypeJson {
  switch (type.kind) {
    case "bool":
      return "boolean";
    case "int":
      return "integer";
    case "long":
      return "long";
    case "double":
      return "double";
    case "decimal":
      return `decimal(${type.precision},${type.scale})`;
    case "string":
      return "string";
    case "bytes":
      return "binary";
    case "date":
      return "date";
    case "timestamp":
      return "timestamp";
    case "list":
      return { type: "array", elementType: toSparkType(type.element.type), containsNull: type.element.nullable };
    case "map":
      return { type: "map", keyType: "string", valueType: toSparkType(type.value.type), valueContainsNull: type.value.nullable };
    case "struct":
      return { type: "struct", fields: type.fields.map(toSparkField) };
    case "duration":
    case "null":
      throw new Error(`a table column cannot be of type ${type.kind}`);
  }
}

export function toSparkField(field: Field): SparkFieldJson {
  return { name: field.name, type: toSparkType(field.type), nullable: field.nullable, metadata: {} };
}

/** `schemaString` for a table of `schema`'s columns. */
export function toSparkSchemaString(fields: readonly SparkFieldJson[]): string {
  return JSON.stringify({ type: "struct", fields });
}

/** The top-level fields of a `schemaString`, as written (metadata and Spark-only types kept). */
export function sparkFieldsOf(schemaString: string): SparkFieldJson[] {
  const o = JSON.parse(schemaString) as { type?: unknown; fields?: unknown };
  if (o.type !== "struct" || !Array.isArray(o.fields)) throw new Error("schemaString is not a struct");
  return o.fields as SparkFieldJson[];
}

/**
 * Whether two Spark types are the same type. Nested nullability (`containsNull`,
 * `valueContainsNull`, a struct field's `nullable`) and field metadata are not compared: a writer
 * checks them on the data, not on the type. Decimal names compare without spaces.
 */
export function sameSparkType(a: SparkTypeJson, b: SparkTypeJson): boolean {
  if (typeof a === "string" || typeof b === "string") {
    return typeof a === "string" && typeof b === "string" && a.replace(/\s+/g, "") === b.replace(/\s+/g, "");
  }
  if (a.type !== b.type) return false;
  switch (a.type) {
    case "array":
      return sameSparkType(a["elementType"] as SparkTypeJson, b["elementType"] as SparkTypeJson);
    case "map":
      return sameSparkType(a["keyType"] as SparkTypeJson, b["keyType"] as SparkTypeJson) && sameSparkType(a["valueType"] as SparkTypeJson, b["valueType"] as SparkTypeJson);
    case "struct": {
      const fa = a["fields"] as SparkFieldJson[];
      const fb = b["fields"] as SparkFieldJson[];
      return fa.length === fb.length && fa.every((f, i) => f.name === fb[i]!.name && sameSparkType(f.type, fb[i]!.type));
    }
  }
}

/** A Spark type as a person reads it: `decimal(10,2)`, `array<integer>`, `struct<a: long>`. */
export function formatSparkType(t: SparkTypeJson): string {
  if (typeof t === "string") return t;
  switch (t.type) {
    case "array":
      return `array<${formatSparkType(t["elementType"] as SparkTypeJson)}>`;
    case "map":
      return `map<${formatSparkType(t["keyType"] as SparkTypeJson)}, ${formatSparkType(t["valueType"] as SparkTypeJson)}>`;
    case "struct":
      return `struct<${(t["fields"] as SparkFieldJson[]).map((f) => `${f.name}: ${formatSparkType(f.type)}`).join(", ")}>`;
  }
}
