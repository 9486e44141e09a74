/**
 * The plan contract between the compiler and the runtime.
 *
 * Contract: everything here is plain JSON-serialisable data. The compiler produces it; the runtime
 * consumes it and never imports `grammar/` or `compiler/`. A change here is a change of the
 * checkpoint format (plan.json) and must keep old checkpoints readable or say why not.
 */

/** A column type. `nullable` lives on the `Field`, not the type. */
export type DataType =
  | { kind: "bool" }
  | { kind: "int" }
  | { kind: "long" }
  | { kind: "double" }
  | { kind: "decimal"; precision: number; scale: number }
  | { kind: "string" }
  | { kind: "bytes" }
  | { kind: "date" }
  | { kind: "timestamp" }
  /** A length of time, in microseconds: durations in expressions (`ts + 5m`). */
  | { kind: "duration" }
  | { kind: "list"; element: Field }
  /** Keys are always non-null strings. */
  | { kind: "map"; value: Field }
  | { kind: "struct"; fields: Field[] }
  /** The type of a bare `null` literal: fits any nullable slot. */
  | { kind: "null" };

export type DataTypeKind = DataType["kind"];

/** A named, typed column or struct field. */
export interface Field {
  name: string;
  type: DataType;
  nullable: boolean;
}

/** An ordered list of fields; names are unique within a schema. */
export interface Schema {
  fields: Field[];
}

/**
 * A stateful operator's declared state: how its state is keyed, what it stores per key, and the
 * version of its layout. The compatibility check and `explain` read this one declaration.
 */
export interface StateSchema {
  /** Stable id: `STREAM.KIND`, with `#N` when one stream holds several of one kind. */
  operatorId: string;
  operatorKind: "window-aggregate" | "aggregate" | "dedup" | "join";
  key: Schema;
  value: Schema;
  version: number;
}
