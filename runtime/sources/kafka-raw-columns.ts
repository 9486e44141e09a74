/**
 * The columns a `format = raw` kafka source may declare, and the types each may have (the table
 * is in kafka-raw.ts). One description for the checker (compiler/typecheck.ts reports S5014 with
 * `rawColumnProblem`) and the decoder (kafka-raw.ts); it imports nothing but the plan's types, so
 * the compiler can use it without pulling in the runtime.
 */
import type { DataType, Field } from "../plan.ts";

export type KafkaRawColumn = "key" | "value" | "topic" | "partition" | "offset" | "timestamp" | "headers";

/** For each raw column, the types it may be declared with (as the language writes them, for messages). */
export const kafkaRawColumns: ReadonlyMap<string, { column: KafkaRawColumn; types: readonly string[]; fits: (type: DataType) => boolean }> = new Map(
  (
    [
      ["key", ["bytes", "string"], (t) => t.kind === "bytes" || t.kind === "string"],
      ["value", ["bytes", "string"], (t) => t.kind === "bytes" || t.kind === "string"],
      ["topic", ["string"], (t) => t.kind === "string"],
      ["partition", ["int"], (t) => t.kind === "int"],
      ["offset", ["long"], (t) => t.kind === "long"],
      ["timestamp", ["timestamp"], (t) => t.kind === "timestamp"],
      ["headers", ["map<string, string>", "map<string, bytes>"], (t) => t.kind === "map" && (t.value.type.kind === "string" || t.value.type.kind === "bytes")],
    ] as const satisfies readonly (readonly [KafkaRawColumn, readonly string[], (type: DataType) => boolean])[]
  ).map(([column, types, fits]) => [column, { column, types, fits }]),
);

/** Why `field` cannot be a column of a raw kafka source, or undefined when it can. */
export type RawColumnProblem = { kind: "unknownColumn" } | { kind: "wrongType"; types: readonly string[] };

export function rawColumnProblem(field: Field): RawColumnProblem | undefined {
  const column = kafkaRawColumns.get(field.name);
  if (column === undefined) return { kind: "unknownColumn" };
  return column.fits(field.type) ? undefined : { kind: "wrongType", types: column.types };
}

