/**
 * Type expressions of the source (`list<string>?`, `decimal(10, 2)`, a schema's name) turned into
 * plan `Field`s, with their diagnostics.
 *
 * Contract: `resolveType` always returns a field; where the written type is wrong it reports and
 * returns a `null`-typed stand-in, which fits anywhere, so that checking goes on without cascading errors.
 */
import type * as ast from "../grammar/ast.ts";
import type { DataType, Field } from "../runtime/plan.ts";
import { NULL } from "../runtime/data-type.ts";
import type { DiagnosticSink } from "./diagnostics.ts";
import { suggest } from "./suggest.ts";

/** Looks a schema up by name for use as a struct type; undefined when there is none. */
export type SchemaLookup = (name: string) => { fields: Field[] } | "not-a-schema" | undefined;

const typeNames = ["bool", "int", "long", "double", "decimal", "string", "bytes", "date", "timestamp", "list", "map", "struct"];

export function resolveType(type: ast.TypeExpr, fieldName: string, lookup: SchemaLookup, sink: DiagnosticSink): Field {
  return { name: fieldName, type: resolveDataType(type, lookup, sink), nullable: type.nullable };
}

export function resolveFields(fields: readonly ast.FieldDecl[], lookup: SchemaLookup, sink: DiagnosticSink): Field[] {
  const seen = new Map<string, ast.FieldDecl>();
  const out: Field[] = [];
  for (const field of fields) {
    const previous = seen.get(field.name.text);
    if (previous) {
      sink.report("duplicateField", field.name.span, { name: field.name.text }, `the first \`${field.name.text}\` is on line ${previous.name.span.line}`);
      continue;
    }
    seen.set(field.name.text, field);
    out.push(resolveType(field.type, field.name.text, lookup, sink));
  }
  return out;
}

function resolveDataType(type: ast.TypeExpr, lookup: SchemaLookup, sink: DiagnosticSink): DataType {
  switch (type.kind) {
    case "primitive":
      return { kind: type.name };
    case "decimal": {
      const precision = integerLiteral(type.precision);
      const scale = integerLiteral(type.scale);
      if (precision === undefined || scale === undefined || precision < 1 || precision > 38 || scale < 0 || scale > precision) {
        sink.report(
          "badDecimal",
          type.span,
          { precision: precision ?? "?", scale: scale ?? "?" },
          "the precision is a whole number from 1 to 38 and the scale from 0 to the precision, e.g. `decimal(10, 2)`",
        );
        return { kind: "decimal", precision: 38, scale: 0 };
      }
      return { kind: "decimal", precision, scale };
    }
    case "list":
      return { kind: "list", element: resolveType(type.element, "element", lookup, sink) };
    case "map": {
      const key = resolveDataType(type.key, lookup, sink);
      if (key.kind !== "string" || type.key.nullable) {
        sink.report("mapKeyNotString", type.key.span, { type: type.key.nullable ? "nullable key" : key.kind }, "write `map<string, T>`; a record's keys are strings");
      }
      return { kind: "map", value: resolveType(type.value, "value", lookup, sink) };
    }
    case "struct":
      return { kind: "struct", fields: resolveFields(type.fields, lookup, sink) };
    case "named": {
      if (type.name.text === "") return NULL;
      const schema = lookup(type.name.text);
      if (schema === "not-a-schema") {
        sink.report("notASchema", type.name.span, { name: type.name.text, actual: "stream or source" }, "a field's type is a type name or a schema's name");
        return NULL;
      }
      if (schema) return { kind: "struct", fields: schema.fields };
      const close = suggest(type.name.text, typeNames);
      sink.report(
        "unknownType",
        type.name.span,
        { name: type.name.text },
        close ? `did you mean \`${close}\`?` : `the types are ${typeNames.map((n) => `\`${n}\``).join(", ")}, or a schema's name`,
      );
      return NULL;
    }
  }
}

function integerLiteral(expr: ast.Expr): number | undefined {
  return expr.kind === "literal" && expr.literal.type === "integer" ? Number(expr.literal.digits) : undefined;
}
