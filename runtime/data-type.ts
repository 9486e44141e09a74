/**
 * Operations on `DataType`s shared by the checker, stdlib signatures and the runtime.
 *
 * Contract: pure functions over plan data; no compiler or grammar imports.
 */
import type { DataType, Field } from "./plan.ts";

export const BOOL: DataType = { kind: "bool" };
export const INT: DataType = { kind: "int" };
export const LONG: DataType = { kind: "long" };
export const DOUBLE: DataType = { kind: "double" };
export const STRING: DataType = { kind: "string" };
export const BYTES: DataType = { kind: "bytes" };
export const DATE: DataType = { kind: "date" };
export const TIMESTAMP: DataType = { kind: "timestamp" };
export const DURATION: DataType = { kind: "duration" };
export const NULL: DataType = { kind: "null" };

export function listOf(element: DataType, elementNullable = false): DataType {
  return { kind: "list", element: { name: "element", type: element, nullable: elementNullable } };
}

/** The type as a user writes it: `int`, `list<string?>`, `struct { a: int }`, `decimal(10, 2)`. */
export function formatType(type: DataType): string {
  switch (type.kind) {
    case "bool":
    case "int":
    case "long":
    case "double":
    case "string":
    case "bytes":
    case "date":
    case "timestamp":
    case "duration":
    case "null":
      return type.kind;
    case "decimal":
      return `decimal(${type.precision}, ${type.scale})`;
    case "list":
      return `list<${formatField(type.element)}>`;
    case "map":
      return `map<string, ${formatField(type.value)}>`;
    case "struct":
      return `struct { ${type.fields.map((f) => `${formatName(f.name)}: ${formatField(f)}`).join(", ")} }`;
  }
}

/** A field's type with its `?`. */
export function formatField(field: { type: DataType; nullable: boolean }): string {
  return formatType(field.type) + (field.nullable && field.type.kind !== "null" ? "?" : "");
}

/** A name as it must be written in source: bare if it is an identifier, else in backticks. */
export function formatName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : "`" + name.replace(/`/g, "``") + "`";
}

export function sameType(a: DataType, b: DataType): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "decimal": {
      const d = b as typeof a;
      return a.precision === d.precision && a.scale === d.scale;
    }
    case "list":
      return sameField(a.element, (b as typeof a).element);
    case "map":
      return sameField(a.value, (b as typeof a).value);
    case "struct": {
      const s = b as typeof a;
      return a.fields.length === s.fields.length && a.fields.every((f, i) => f.name === s.fields[i]!.name && sameField(f, s.fields[i]!));
    }
    default:
      return true;
  }
}

export function sameField(a: Field, b: Field): boolean {
  return a.nullable === b.nullable && sameType(a.type, b.type);
}

export function isNumeric(type: DataType): boolean {
  return type.kind === "int" || type.kind === "long" || type.kind === "double" || type.kind === "decimal";
}

export function isIntegral(type: DataType): boolean {
  return type.kind === "int" || type.kind === "long";
}

/** Types whose values have an order (`<`, `min`, `max`, sorting). */
export function isOrdered(type: DataType): boolean {
  return isNumeric(type) || ["string", "bytes", "date", "timestamp", "duration", "bool"].includes(type.kind);
}

/** Types whose values can be compared with `==`, grouped by, deduplicated and joined on. */
export function isEquatable(type: DataType): boolean {
  switch (type.kind) {
    case "list":
      return isEquatable(type.element.type);
    case "map":
      return false;
    case "struct":
      return type.fields.every((f) => isEquatable(f.type));
    default:
      return true;
  }
}

const numericRank: Partial<Record<DataType["kind"], number>> = { int: 1, long: 2, decimal: 3, double: 4 };

/**
 * The type two values are converted to when they meet (`a + b`, `case` branches, `in` lists,
 * `coalesce`): the same type, a wider number (`int` < `long` < `decimal` < `double`), or the other
 * type when one side is `null`. Undefined when they do not meet.
 */
export function commonType(a: DataType, b: DataType): DataType | undefined {
  if (a.kind === "null") return b;
  if (b.kind === "null") return a;
  if (sameType(a, b)) return a;
  if (isNumeric(a) && isNumeric(b)) {
    if (a.kind === "decimal" && b.kind === "decimal") {
      const scale = Math.max(a.scale, b.scale);
      const integer = Math.max(a.precision - a.scale, b.precision - b.scale);
      return { kind: "decimal", precision: Math.min(38, integer + scale), scale };
    }
    if (a.kind === "decimal" && isIntegral(b)) return widenDecimal(a, b);
    if (b.kind === "decimal" && isIntegral(a)) return widenDecimal(b, a);
    return numericRank[a.kind]! >= numericRank[b.kind]! ? a : b;
  }
  if (a.kind === "list" && b.kind === "list") {
    const element = commonType(a.element.type, b.element.type);
    return element && { kind: "list", element: { name: "element", type: element, nullable: a.element.nullable || b.element.nullable } };
  }
  return undefined;
}

function widenDecimal(d: { kind: "decimal"; precision: number; scale: number }, integral: DataType): DataType {
  const digits = integral.kind === "int" ? 10 : 19;
  const integer = Math.max(d.precision - d.scale, digits);
  return { kind: "decimal", precision: Math.min(38, integer + d.scale), scale: d.scale };
}

/** Whether a value of type `from` may be stored where `to` is expected without a cast (same or widened). */
export function isAssignable(from: DataType, to: DataType): boolean {
  const common = commonType(from, to);
  return common !== undefined && sameType(common, to);
}
