/**
 * Random rows for the table writer's tests: every column type the table sink writes, with nulls,
 * extremes and awkward strings, deterministic by seed (test/support/prng.ts).
 *
 * Contract: `randomRows(schema, n, seed)` gives `n` rows of `schema` as `CellValue` rows; a
 * nullable column is null in about one row in six. Values stay within what the runtime holds
 * (longs within ±2^53, timestamps within ±2^53 microseconds).
 */
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { DataType, Schema } from "../../runtime/plan.ts";
import { prng } from "./prng.ts";

const words = ["", "a", "b", "DE", "fr", "日本", "naïve", "emoji 😀", "a b/c", "x=y%z", "tab\there", "quote\"s", "longer than thirty-two characters, surely: yes indeed", "ÿÿÿ"];

export const allTypesSchema: Schema = {
  fields: [
    { name: "id", type: { kind: "long" }, nullable: false },
    { name: "flag", type: { kind: "bool" }, nullable: true },
    { name: "small", type: { kind: "int" }, nullable: true },
    { name: "big", type: { kind: "long" }, nullable: true },
    { name: "ratio", type: { kind: "double" }, nullable: true },
    { name: "price", type: { kind: "decimal", precision: 18, scale: 4 }, nullable: true },
    { name: "huge", type: { kind: "decimal", precision: 38, scale: 10 }, nullable: true },
    { name: "label", type: { kind: "string" }, nullable: true },
    { name: "blob", type: { kind: "bytes" }, nullable: true },
    { name: "day", type: { kind: "date" }, nullable: true },
    { name: "at", type: { kind: "timestamp" }, nullable: true },
    { name: "tags", type: { kind: "list", element: { name: "element", type: { kind: "int" }, nullable: true } }, nullable: true },
    { name: "attrs", type: { kind: "map", value: { name: "value", type: { kind: "string" }, nullable: true } }, nullable: true },
    {
      name: "point",
      type: { kind: "struct", fields: [{ name: "x", type: { kind: "double" }, nullable: true }, { name: "name", type: { kind: "string" }, nullable: true }] },
      nullable: true,
    },
  ],
};

export function randomRows(schema: Schema, n: number, seed: number, firstId = 0): Record<string, CellValue>[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const value = (type: DataType, nullable: boolean): CellValue => {
    if (nullable && rand() < 1 / 6) return null;
    switch (type.kind) {
      case "bool":
        return rand() < 0.5;
      case "int":
        return pick([-2147483648, 2147483647, 0, Math.floor(rand() * 2000) - 1000, Math.floor(rand() * 4294967296) - 2147483648]);
      case "long":
        return pick([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0, Math.floor(rand() * 1e6), Math.floor((rand() - 0.5) * 2 ** 53)]);
      case "double":
        return pick([0, -1.5, 1e300, -1e-300, (rand() - 0.5) * 1e6, rand(), rand() < 0.05 ? NaN : 2.5, rand() < 0.05 ? -Infinity : 3.25]);
      case "decimal": {
        const max = 10n ** BigInt(type.precision) - 1n;
        const r = BigInt(Math.floor(rand() * 2 ** 52)) * BigInt(Math.floor(rand() * 2 ** 52)) * 1_000_003n;
        return pick([max, -max, 0n, (r % max) * (rand() < 0.5 ? -1n : 1n)]);
      }
      case "string":
        return pick(words) + (rand() < 0.3 ? String(Math.floor(rand() * 100)) : "");
      case "bytes":
        return Uint8Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * 256));
      case "date":
        return Math.floor((rand() - 0.5) * 200_000);
      case "timestamp":
        return pick([0, -1, 1_700_000_000_123_456, Math.floor((rand() - 0.5) * 2 ** 53), Math.floor(rand() * 4e15)]);
      case "list":
        return Array.from({ length: Math.floor(rand() * 4) }, () => value(type.element.type, type.element.nullable));
      case "map":
        return new Map(Array.from({ length: Math.floor(rand() * 3) }, (_, i) => [`k${i}`, value(type.value.type, type.value.nullable)] as [string, CellValue]));
      case "struct":
        return Object.fromEntries(type.fields.map((f) => [f.name, value(f.type, f.nullable)]));
      case "duration":
      case "null":
        throw new Error(`no column of type ${type.kind}`);
    }
  };
  return Array.from({ length: n }, (_, i) => Object.fromEntries(schema.fields.map((f) => [f.name, f.name === "id" ? firstId + i : value(f.type, f.nullable)])));
}
