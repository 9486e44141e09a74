/**
 * Decoding with schema enforcement (runtime/decode/*): every rule of LANGUAGE.md's "Types" and
 * docs/language.md's decisions, for JSON, CSV and Parquet, with DuckDB as the oracle for valid
 * records.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as parquet from "parquet-wasm";
import { describe, expect, it } from "vitest";
import { batchFromRows, batchToRows } from "../../runtime/columnar/batch-ops.ts";
import type { Batch } from "../../runtime/columnar/batch.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { RejectedRecord } from "../../runtime/deadletter.ts";
import { decodeCsvFile, decodeCsvRecords } from "../../runtime/decode/csv.ts";
import { decodeJson, decodeJsonLines } from "../../runtime/decode/json.ts";
import { decodeParquet } from "../../runtime/decode/parquet.ts";
import type { DecodeOptions } from "../../runtime/decode/rows.ts";
import type { DataType, Field, Schema } from "../../runtime/plan.ts";
import { encodeParquet } from "../../runtime/sinks/files.ts";
import { duckRows } from "../support/duckdb.ts";

// ---- helpers -------------------------------------------------------------------------------------

const enc = new TextEncoder();
const options: DecodeOptions = { source: "orders", now: () => 42 };

function field(name: string, type: DataType, nullable = false): Field {
  return { name, type, nullable };
}
const t = {
  bool: { kind: "bool" } as DataType,
  int: { kind: "int" } as DataType,
  long: { kind: "long" } as DataType,
  double: { kind: "double" } as DataType,
  string: { kind: "string" } as DataType,
  bytes: { kind: "bytes" } as DataType,
  date: { kind: "date" } as DataType,
  timestamp: { kind: "timestamp" } as DataType,
  decimal: (precision: number, scale: number): DataType => ({ kind: "decimal", precision, scale }),
  list: (element: DataType, nullable = false): DataType => ({ kind: "list", element: field("element", element, nullable) }),
  map: (value: DataType, nullable = false): DataType => ({ kind: "map", value: field("value", value, nullable) }),
  struct: (...fields: Field[]): DataType => ({ kind: "struct", fields }),
};

function schemaOf(...fields: Field[]): Schema {
  return { fields };
}

function rows(batch: Batch): Record<string, CellValue>[] {
  // Every column has exactly the batch's length: a rejected record left no partial row behind.
  batch.columns.forEach((c) => expect(c.length).toBe(batch.length));
  return batchToRows(batch).map((r) => ({ ...r }));
}

/** Decodes each text as one JSON record. */
function json(schema: Schema, ...records: string[]): { rows: Record<string, CellValue>[]; rejects: RejectedRecord[] } {
  const result = decodeJson(
    schema,
    records.map((r, i) => ({ bytes: enc.encode(r), position: { kind: "partition" as const, partition: 0, offset: i } })),
    options,
  );
  return { rows: rows(result.batch), rejects: result.rejects };
}

/** One value of `type` through a record `{"v": TEXT}`: its cell, or the reject's reason and detail. */
function one(type: DataType, text: string, nullable = false): CellValue | { reason: string; detail: string } {
  const result = json(schemaOf(field("v", type, nullable)), `{"v": ${text}}`);
  if (result.rejects.length) return { reason: result.rejects[0]!.reason, detail: result.rejects[0]!.detail };
  return result.rows[0]!["v"]!;
}

function reason(type: DataType, text: string): string | undefined {
  const r = one(type, text);
  return r !== null && typeof r === "object" && "reason" in r ? (r.reason as string) : undefined;
}


function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "streamc-decode-"));
}

// ---- JSON ----------------------------------------------------------------------------------------

describe("JSON records", () => {
  const order = schemaOf(
    field("order_id", t.string),
    field("country", t.string, true),
    field("amount", t.double),
    field("qty", t.int),
    field("ts", t.timestamp),
  );

  it("decodes every type into the declared columns", () => {
    const schema = schemaOf(
      field("b", t.bool),
      field("i", t.int),
      field("l", t.long),
      field("d", t.double),
      field("m", t.decimal(12, 2)),
      field("s", t.string),
      field("raw", t.bytes),
      field("day", t.date),
      field("ts", t.timestamp),
      field("tags", t.list(t.string), true),
      field("attrs", t.map(t.int, true), true),
      field("who", t.struct(field("id", t.long), field("name", t.string, true)), true),
    );
    const record = JSON.stringify({
      b: true,
      i: -7,
      l: 9007199254740991,
      d: 2.5,
      m: 1234.5,
      s: "straße",
      raw: "AQID",
      day: "2024-01-31",
      ts: "2024-01-31T10:15:30.123456Z",
      tags: ["a", "b"],
      attrs: { z: 1, a: null },
      who: { id: 1, name: "ann" },
    });
    const { rows: decoded, rejects } = json(schema, record);
    expect(rejects).toEqual([]);
    expect(decoded).toEqual([
      {
        b: true,
        i: -7,
        l: 9007199254740991,
        d: 2.5,
        m: 123450n,
        s: "straße",
        raw: Uint8Array.of(1, 2, 3),
        day: 19753,
        ts: 1706696130123456,
        tags: ["a", "b"],
        attrs: new Map<string, CellValue>([
          ["z", 1],
          ["a", null],
        ]),
        who: { id: 1, name: "ann" },
      },
    ]);
  });

  it("ignores fields the schema does not name, however they are nested", () => {
    const { rows: decoded, rejects } = json(
      schemaOf(field("a", t.int), field("who", t.struct(field("id", t.int)))),
      '{"junk": {"deep": [1, {"x": [null, true, "s"]}], "n": 1e999}, "a": 1, "who": {"id": 2, "extra": [[[]]]}, "zz": "ignored"}',
    );
    expect(rejects).toEqual([]);
    expect(decoded).toEqual([{ a: 1, who: { id: 2 } }]);
  });

  it("tells a missing field from a null one", () => {
    const r = json(order, '{"order_id": "a", "amount": 1, "qty": 1, "ts": 0}', '{"order_id": "b", "country": null, "amount": 1, "qty": 1, "ts": 0}');
    expect(r.rejects).toEqual([]);
    expect(r.rows.map((x) => x["country"])).toEqual([null, null]);

    const missing = json(order, '{"order_id": "a", "country": "de", "qty": 1, "ts": 0}');
    expect(missing.rejects.map((x) => [x.reason, x.detail])).toEqual([["missing_field", 'field "amount": required and absent']]);

    const nulled = json(order, '{"order_id": null, "country": "de", "amount": 1, "qty": 1, "ts": 0}');
    expect(nulled.rejects.map((x) => [x.reason, x.detail])).toEqual([["null_in_required", 'field "order_id": required and null']]);
  });

  it("never leaves a partial row: a record rejected on its last field adds nothing", () => {
    const r = json(order, '{"order_id": "ok", "amount": 1, "qty": 1, "ts": 0}', '{"order_id": "bad", "country": "x", "amount": 1, "qty": 1, "ts": "never"}', '{"order_id": "ok2", "amount": 2, "qty": 2, "ts": 1}');
    expect(r.rows.map((x) => x["order_id"])).toEqual(["ok", "ok2"]);
    expect(r.rows.map((x) => x["country"])).toEqual([null, null]);
    expect(r.rejects.map((x) => x.reason)).toEqual(["bad_timestamp"]);
  });

  it("gives each reject its source, position, raw bytes, detail and time", () => {
    const text = '{"order_id": 5, "amount": 1, "qty": 1, "ts": 0}';
    const r = decodeJson(order, [{ bytes: enc.encode(text), position: { kind: "partition", partition: 3, offset: 1042 } }], options);
    expect(r.rejects).toEqual([
      {
        reason: "type_mismatch",
        source: "orders",
        position: { kind: "partition", partition: 3, offset: 1042 },
        raw: enc.encode(text),
        detail: 'field "order_id": expected string, got the number 5',
        time: 42,
      },
    ]);
  });

  describe("integers", () => {
    it("are integral by value: 1.0 and 1e3 are integers, 1.5 is not", () => {
      expect(one(t.int, "1.0")).toBe(1);
      expect(one(t.int, "1e3")).toBe(1000);
      expect(one(t.int, "-0")).toBe(0);
      expect(one(t.long, "12.5e1")).toBe(125);
      expect(one(t.int, "1.5")).toEqual({ reason: "type_mismatch", detail: 'field "v": 1.5 is not an integer' });
      expect(reason(t.long, "1e-1")).toBe("type_mismatch");
    });

    it("check integrality on the text, not a double (1.0000000000000001 is not 1)", () => {
      expect(JSON.parse("1.0000000000000001")).toBe(1);
      expect(reason(t.long, "1.0000000000000001")).toBe("type_mismatch");
    });

    it("check int's 32-bit range", () => {
      expect(one(t.int, "2147483647")).toBe(2147483647);
      expect(one(t.int, "-2147483648")).toBe(-2147483648);
      expect(one(t.int, "2147483648")).toEqual({ reason: "out_of_range", detail: 'field "v": 2147483648 is out of range for int' });
      expect(reason(t.int, "-2147483649")).toBe("out_of_range");
      expect(reason(t.int, "1e10")).toBe("out_of_range");
    });

    it("keep longs exact and refuse what the runtime cannot hold exactly", () => {
      expect(one(t.long, "9007199254740991")).toBe(9007199254740991);
      expect(one(t.long, "-9007199254740991")).toBe(-9007199254740991);
      // 2^53 + 1: JSON.parse would silently give 2^53.
      expect(one(t.long, "9007199254740993")).toEqual({
        reason: "out_of_range",
        detail: 'field "v": 9007199254740993 is beyond ±(2^53 - 1), the largest long the runtime holds exactly',
      });
      expect(reason(t.long, "9223372036854775807")).toBe("out_of_range");
      expect(one(t.long, "9223372036854775808")).toEqual({ reason: "out_of_range", detail: 'field "v": 9223372036854775808 is out of range for long' });
      expect(reason(t.long, "1e400")).toBe("out_of_range");
    });

    it("are not read from strings or booleans", () => {
      expect(one(t.int, '"42"')).toEqual({ reason: "type_mismatch", detail: 'field "v": expected int, got the string "42"' });
      expect(reason(t.long, "true")).toBe("type_mismatch");
      expect(reason(t.int, "[1]")).toBe("type_mismatch");
      expect(one(t.int, "{}")).toEqual({ reason: "type_mismatch", detail: 'field "v": expected int, got an object' });
    });
  });

  it("reads doubles, refusing overflow, accepting the NaN and infinity strings", () => {
    expect(one(t.double, "1")).toBe(1);
    expect(one(t.double, "-2.5e-3")).toBe(-0.0025);
    expect(one(t.double, "0.1")).toBe(0.1);
    expect(one(t.double, "1e400")).toEqual({ reason: "out_of_range", detail: 'field "v": 1e400 is too large for a double' });
    expect(one(t.double, '"NaN"')).toBeNaN();
    expect(one(t.double, '"-Infinity"')).toBe(Number.NEGATIVE_INFINITY);
    expect(reason(t.double, '"1.5"')).toBe("type_mismatch");
  });

  it("reads decimals exactly from numbers and strings, with at most scale decimals", () => {
    const d = t.decimal(5, 2);
    expect(one(d, "123.45")).toBe(12345n);
    expect(one(d, '"123.45"')).toBe(12345n);
    expect(one(d, "-0.5")).toBe(-50n);
    expect(one(d, "1.50")).toBe(150n);
    expect(one(d, "1.500")).toBe(150n);
    expect(one(d, "1e2")).toBe(10000n);
    expect(one(d, "0")).toBe(0n);
    expect(one(d, "1.005")).toEqual({ reason: "out_of_range", detail: 'field "v": 1.005 has 3 decimals; decimal(5, 2) holds 2' });
    expect(one(d, "1234.5")).toEqual({ reason: "out_of_range", detail: 'field "v": 1234.5 has 4 integer digits; decimal(5, 2) holds 3' });
    expect(reason(d, '"12,5"')).toBe("type_mismatch");
    expect(reason(d, "true")).toBe("type_mismatch");
    // Beyond a double's precision: read from the text.
    expect(one(t.decimal(20, 17), "0.10000000000000001")).toBe(10000000000000001n);
    expect(one(t.decimal(38, 0), "12345678901234567890123456789012345678")).toBe(12345678901234567890123456789012345678n);
  });

  describe("timestamps", () => {
    it("read the ISO-8601 forms of timestamp literals", () => {
      expect(one(t.timestamp, '"2024-01-31T10:15:30.123456Z"')).toBe(1706696130123456);
      expect(one(t.timestamp, '"2024-01-31 10:15:30+02:00"')).toBe(1706688930000000);
      expect(one(t.timestamp, '"2024-01-31T10:15"')).toBe(1706696100000000);
      expect(one(t.timestamp, '"2024-01-31"')).toBe(1706659200000000);
      expect(one(t.timestamp, '"1969-12-31T23:59:59.9999999Z"')).toBe(-1);
    });

    it("read epoch milliseconds exactly, to the microsecond, rounding down", () => {
      expect(one(t.timestamp, "1706696130123")).toBe(1706696130123000);
      expect(one(t.timestamp, "1706696130123.456")).toBe(1706696130123456);
      expect(one(t.timestamp, "1706696130123.4569")).toBe(1706696130123456);
      expect(one(t.timestamp, "1.7e12")).toBe(1700000000000000);
      expect(one(t.timestamp, "-1")).toBe(-1000);
      expect(one(t.timestamp, "-0.0005")).toBe(-1);
      expect(one(t.timestamp, "0")).toBe(0);
    });

    it("reject text that does not parse, and other kinds", () => {
      expect(one(t.timestamp, '"2024-02-30T00:00:00Z"')).toEqual({
        reason: "bad_timestamp",
        detail: 'field "v": the string "2024-02-30T00:00:00Z" is not an ISO-8601 timestamp',
      });
      expect(reason(t.timestamp, '"yesterday"')).toBe("bad_timestamp");
      expect(reason(t.timestamp, '"2024-01-31T25:00:00Z"')).toBe("bad_timestamp");
      expect(reason(t.timestamp, '"1706696130123"')).toBe("bad_timestamp");
      expect(reason(t.timestamp, "true")).toBe("type_mismatch");
      expect(reason(t.timestamp, "1e20")).toBe("out_of_range");
    });
  });

  it("reads dates from YYYY-MM-DD only", () => {
    expect(one(t.date, '"2024-01-01"')).toBe(19723);
    expect(one(t.date, '"1969-12-31"')).toBe(-1);
    expect(reason(t.date, '"2024-02-30"')).toBe("bad_timestamp");
    expect(reason(t.date, '"2024-01-01T00:00:00Z"')).toBe("bad_timestamp");
    expect(reason(t.date, "19723")).toBe("type_mismatch");
  });

  it("reads bytes from base64", () => {
    expect(one(t.bytes, '"AQID"')).toEqual(Uint8Array.of(1, 2, 3));
    expect(one(t.bytes, '"AQI="')).toEqual(Uint8Array.of(1, 2));
    expect(one(t.bytes, '"AQI"')).toEqual(Uint8Array.of(1, 2));
    expect(one(t.bytes, '"-_8"')).toEqual(Uint8Array.of(0xfb, 0xff));
    expect(one(t.bytes, '""')).toEqual(new Uint8Array(0));
    expect(reason(t.bytes, '"not base64!"')).toBe("type_mismatch");
    expect(reason(t.bytes, "[1, 2]")).toBe("type_mismatch");
  });

  it("reads bools and strings without conversions", () => {
    expect(one(t.bool, "false")).toBe(false);
    expect(reason(t.bool, '"true"')).toBe("type_mismatch");
    expect(reason(t.bool, "1")).toBe("type_mismatch");
    expect(one(t.string, '""')).toBe("");
    expect(one(t.string, '"a\\"b\\\\c\\n\\t\\/"')).toBe('a"b\\c\n\t/');
    expect(reason(t.string, "42")).toBe("type_mismatch");
  });

  describe("nested values", () => {
    const who = t.struct(field("id", t.long), field("name", t.string, true), field("tags", t.list(t.string), true));

    it("enforce struct fields with a path in the detail", () => {
      expect(one(who, '{"id": 1}')).toEqual({ id: 1, name: null, tags: null });
      expect(one(who, '{"name": "x"}')).toEqual({ reason: "missing_field", detail: 'field "v.id": required and absent' });
      expect(one(who, '{"id": null}')).toEqual({ reason: "null_in_required", detail: 'field "v.id": required and null' });
      expect(one(who, '{"id": 1, "tags": ["a", 2]}')).toEqual({ reason: "type_mismatch", detail: 'field "v.tags[1]": expected string, got the number 2' });
      expect(reason(who, "[1]")).toBe("type_mismatch");
    });

    it("enforce list elements' nullability", () => {
      expect(one(t.list(t.int), "[1, 2, 3]")).toEqual([1, 2, 3]);
      expect(one(t.list(t.int), "[]")).toEqual([]);
      expect(one(t.list(t.int), "[1, null]")).toEqual({ reason: "null_in_required", detail: 'field "v[1]": required and null' });
      expect(one(t.list(t.int, true), "[1, null]")).toEqual([1, null]);
      expect(one(t.list(t.list(t.int)), "[[1], [2, 3]]")).toEqual([[1], [2, 3]]);
      expect(reason(t.list(t.int), '{"0": 1}')).toBe("type_mismatch");
    });

    it("read maps from objects, keeping key order, enforcing values", () => {
      expect(one(t.map(t.double), '{"b": 1, "a": 2.5, "10": 3}')).toEqual(
        new Map([
          ["b", 1],
          ["a", 2.5],
          ["10", 3],
        ]),
      );
      expect(one(t.map(t.double), "{}")).toEqual(new Map());
      expect(one(t.map(t.int), '{"k": null}')).toEqual({ reason: "null_in_required", detail: 'field "v[k]": required and null' });
      expect(one(t.map(t.int), '{"k": 1.5}')).toEqual({ reason: "type_mismatch", detail: 'field "v[k]": 1.5 is not an integer' });
      expect(one(t.map(t.struct(field("x", t.int))), '{"k": {"x": 1}}')).toEqual(new Map([["k", { x: 1 }]]));
    });
  });

  it("keeps Unicode: escapes, surrogate pairs, non-ASCII keys; refuses lone surrogates and bad UTF-8", () => {
    const schema = schemaOf(field("名前", t.string), field("e", t.string, true));
    const r = json(schema, '{"名前": "😀 e\\u0301 \\u00e9 \\ud83d\\ude00", "e": "straße"}');
    expect(r.rejects).toEqual([]);
    expect(r.rows).toEqual([{ 名前: "😀 e\u0301 é 😀", e: "straße" }]);

    const lone = json(schema, '{"名前": "\\ud800"}');
    expect(lone.rejects.map((x) => x.reason)).toEqual(["malformed"]);
    expect(lone.rejects[0]!.detail).toContain("lone surrogate");

    const bad = decodeJson(schema, [{ bytes: Uint8Array.of(...enc.encode('{"名前": "'), 0xff, ...enc.encode('"}')), position: { kind: "none" } }], options);
    expect(bad.rejects.map((x) => [x.reason, x.detail])).toEqual([["malformed", "invalid UTF-8"]]);
  });

  it("rejects malformed JSON with a reason that says where", () => {
    const schema = schemaOf(field("a", t.int, true));
    const cases: [string, string][] = [
      ['{"a": 1', "malformed JSON: unexpected end of the record"],
      ['{"a": 1}x', 'malformed JSON: unexpected "x" at character 9'],
      ["{a: 1}", 'malformed JSON: unexpected "a" at character 2'],
      ['{"a": 01}', 'malformed JSON: unexpected "1" at character 8'],
      ['{"a": 1,}', 'malformed JSON: unexpected "}" at character 9'],
      ['{"a": .5}', 'malformed JSON: unexpected "." at character 7'],
      ['{"a": NaN}', 'malformed JSON: unexpected "N" at character 7'],
      ['{"s": "tab\there"}', "malformed JSON: control character U+0009 in a string at character 11"],
      ['{"s": "\\x"}', "malformed JSON: bad escape \\x at character 8"],
      ["[1, 2]", "a record must be a JSON object, got an array"],
      ["42", "a record must be a JSON object, got the number 42"],
      ["", "malformed JSON: unexpected end of the record"],
    ];
    for (const [text, detail] of cases) {
      const r = json(schema, text);
      expect(r.rejects.map((x) => [x.reason, x.detail]), text).toEqual([["malformed", detail]]);
    }
  });

  it("accepts exactly what JSON.parse accepts (but lone surrogates), on thousands of mutated records", () => {
    const seeds = [
      '{"a": [1, -2.5e3, "x\\u00e9\\n", {"b": null}], "c": true, "d": "\\ud83d\\ude00", "e": 0.5E-7}',
      '{"s": "straße", "n": {"m": [[], {}, [false]]}, "z": -0}',
    ];
    const alphabet = ['"', "\\", "{", "}", "[", "]", ":", ",", " ", "0", "1", "-", ".", "e", "E", "+", "u", "d", "8", "a", "t", "n", "\n", "\t", "é"];
    let state = 12345;
    const random = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    const schema = schemaOf(field("a", t.list(t.double, true), true), field("s", t.string, true), field("nope", t.string, true));
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      let text = seeds[i % seeds.length]!;
      for (let m = 1 + random(3); m > 0; m--) {
        const at = random(text.length + 1);
        const kind = random(3);
        const ch = alphabet[random(alphabet.length)]!;
        text = kind === 0 ? text.slice(0, at) + ch + text.slice(at) : kind === 1 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + ch + text.slice(at + 1);
      }
      let reference: boolean;
      try {
        const value: unknown = JSON.parse(text);
        reference = value !== null && typeof value === "object" && !Array.isArray(value);
      } catch {
        reference = false;
      }
      const result = json(schema, text);
      const malformed = result.rejects.some((r) => r.reason === "malformed");
      if (malformed && reference && result.rejects[0]!.detail.includes("lone surrogate")) continue;
      expect(!malformed, text).toBe(reference);
      if (reference) accepted++;
    }
    expect(accepted).toBeGreaterThan(200);
  });

  it("lets the last of two equal keys win, as JSON.parse", () => {
    expect(json(schemaOf(field("a", t.int)), '{"a": "x", "a": 2}').rows).toEqual([{ a: 2 }]);
  });

  it("rejects records over the size limit without parsing them, and absurd nesting", () => {
    const schema = schemaOf(field("s", t.string));
    const big = JSON.stringify({ s: "x".repeat(200) });
    const r = decodeJson(schema, [{ bytes: enc.encode(big), position: { kind: "none" } }, { bytes: enc.encode('{"s": "ok"}'), position: { kind: "none" } }], {
      ...options,
      maxRecordBytes: 100,
    });
    expect(rows(r.batch)).toEqual([{ s: "ok" }]);
    expect(r.rejects.map((x) => [x.reason, x.raw.length])).toEqual([["too_large", big.length]]);
    expect(r.rejects[0]!.detail).toContain(`the record is ${big.length} bytes, above the limit of 100`);

    const deep = `{"x": ${"[".repeat(600)}${"]".repeat(600)}, "s": "a"}`;
    expect(json(schema, deep).rejects.map((x) => x.reason)).toEqual(["too_large"]);
  });

  it("reads newline-delimited files with line positions: blank lines, CRLF, a BOM, no final newline", () => {
    const text = '\uFEFF{"a": 1}\r\n\n   \n{"a": "x"}\n{"a": 3}\r\n{"a":\n{"a": 5}';
    const r = decodeJsonLines(schemaOf(field("a", t.int)), enc.encode(text), "in/orders.json", options);
    expect(rows(r.batch)).toEqual([{ a: 1 }, { a: 3 }, { a: 5 }]);
    expect(r.rejects.map((x) => [x.reason, x.position, new TextDecoder().decode(x.raw)])).toEqual([
      ["type_mismatch", { kind: "file", file: "in/orders.json", line: 4 }, '{"a": "x"}'],
      ["malformed", { kind: "file", file: "in/orders.json", line: 6 }, '{"a":'],
    ]);
  });

  it("agrees with DuckDB's read_json on valid records", async () => {
    const schema = schemaOf(
      field("id", t.long),
      field("n", t.int, true),
      field("price", t.decimal(10, 2)),
      field("score", t.double, true),
      field("name", t.string, true),
      field("ok", t.bool),
      field("day", t.date, true),
      field("ts", t.timestamp),
      field("tags", t.list(t.string), true),
      field("who", t.struct(field("id", t.long), field("name", t.string, true)), true),
      field("attrs", t.map(t.int), true),
    );
    const lines = [
      '{"id": 1, "n": 7, "price": 12.5, "score": 0.1, "name": "straße", "ok": true, "day": "2024-01-31", "ts": "2024-01-31T10:15:30.123456Z", "tags": ["a", "b"], "who": {"id": 9, "name": "ann"}, "attrs": {"x": 1}}',
      '{"id": -9007199254740991, "price": "-0.01", "ok": false, "ts": "2024-01-31 10:15:30+02:00", "tags": [], "who": {"id": 0}, "attrs": {}}',
      '{"id": 3, "n": null, "price": 99999999.99, "score": -1e-300, "name": "😀 \\"q\\"", "ok": true, "ts": "1970-01-01T00:00:00Z", "extra": [1, {"x": 2}]}',
    ];
    const dir = tempDir();
    const file = join(dir, "valid.json");
    writeFileSync(file, lines.join("\n") + "\n");
    const ours = decodeJsonLines(schema, enc.encode(lines.join("\n")), file, options);
    expect(ours.rejects).toEqual([]);
    const theirs = await duckRows(
      `select * from read_json('${file}', format = 'newline_delimited', columns = {id: 'BIGINT', n: 'INTEGER', price: 'DECIMAL(10,2)', score: 'DOUBLE', name: 'VARCHAR', ok: 'BOOLEAN', day: 'DATE', ts: 'TIMESTAMPTZ', tags: 'VARCHAR[]', who: 'STRUCT(id BIGINT, name VARCHAR)', attrs: 'MAP(VARCHAR, INTEGER)'})`,
    );
    expect(rows(ours.batch)).toEqual(theirs);
  });
});

// ---- CSV -----------------------------------------------------------------------------------------

describe("CSV files", () => {
  const schema = schemaOf(field("id", t.int), field("name", t.string, true), field("amount", t.decimal(8, 2), true), field("ts", t.timestamp, true));

  function csv(text: string, s: Schema = schema) {
    const r = decodeCsvFile(s, enc.encode(text), "in/a.csv", options);
    return { rows: rows(r.batch), rejects: r.rejects.map((x) => ({ reason: x.reason, line: (x.position as { line: number }).line, detail: x.detail, raw: new TextDecoder().decode(x.raw) })) };
  }

  it("maps columns by the header, in any order, ignoring unknown ones", () => {
    const r = csv("extra,name,id\nzz,ann,1\n,bob,2\n");
    expect(r.rejects).toEqual([]);
    expect(r.rows).toEqual([
      { id: 1, name: "ann", amount: null, ts: null },
      { id: 2, name: "bob", amount: null, ts: null },
    ]);
  });

  it("follows RFC 4180 quoting: commas, doubled quotes, line breaks; line numbers count them", () => {
    const r = csv('id,name\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,"x"\r\n5,5" screen\nbad,x\n');
    expect(r.rows.map((x) => x["name"])).toEqual(["a, b", 'say "hi"', "two\nlines", "x", '5" screen']);
    expect(r.rejects).toEqual([{ reason: "type_mismatch", line: 8, detail: 'field "id": expected int, got "bad"', raw: "bad,x" }]);
  });

  it("reads an empty unquoted field as null and a quoted empty field as the empty string (strings only)", () => {
    const r = csv('id,name,amount\n1,,\n2,"",""\n');
    expect(r.rows.map((x) => [x["name"], x["amount"]])).toEqual([
      [null, null],
      ["", null],
    ]);
    expect(csv("id,name\n,x\n").rejects.map((x) => [x.reason, x.detail])).toEqual([["null_in_required", 'field "id": required and empty']]);
  });

  it("treats a schema field missing from the header as absent in every record", () => {
    expect(csv("id\n1\n").rows).toEqual([{ id: 1, name: null, amount: null, ts: null }]);
    expect(csv("name\nann\n").rejects.map((x) => [x.reason, x.detail])).toEqual([["missing_field", 'field "id": required and absent (no such column)']]);
  });

  it("rejects a bad record and only that one: field counts, stray text after quotes, unclosed quotes, bad UTF-8", () => {
    const bytes = Uint8Array.of(
      ...enc.encode('id,name\n1,a\n2\n3,a,b\n4,"x"y\n5,ok\n6,"never closed\n7,after\n8,'),
      0xc3,
      0x28,
      ...enc.encode("\n9,end"),
    );
    const r = decodeCsvFile(schema, bytes, "f.csv", options);
    expect(rows(r.batch).map((x) => x["id"])).toEqual([1, 5, 7, 9]);
    expect(r.rejects.map((x) => [x.reason, (x.position as { line: number }).line, x.detail])).toEqual([
      ["malformed", 3, "malformed CSV: the record has 1 fields, the header 2"],
      ["malformed", 4, "malformed CSV: the record has 3 fields, the header 2"],
      ["malformed", 5, "malformed CSV: text after a closing quote at byte 6 of the record"],
      ["malformed", 7, "malformed CSV: an unclosed quote"],
      ["malformed", 9, "invalid UTF-8"],
    ]);
    expect(new TextDecoder().decode(r.rejects[3]!.raw)).toBe('6,"never closed');
  });

  it("parses typed values from text", () => {
    const typed = schemaOf(
      field("b", t.bool, true),
      field("i", t.int, true),
      field("l", t.long, true),
      field("d", t.double, true),
      field("m", t.decimal(6, 2), true),
      field("day", t.date, true),
      field("ts", t.timestamp, true),
      field("raw", t.bytes, true),
      field("tags", t.list(t.int), true),
      field("who", t.struct(field("id", t.int)), true),
    );
    const r = csv('b,i,l,d,m,day,ts,raw,tags,who\nTRUE, 42 ,+7,-inf,12.50,2024-01-31,2024-01-31T10:15:30Z,AQID,"[1,2]","{""id"": 3}"\nfalse,1.0,-1,NaN,-0.5,,1706696130123,,[],\n', typed);
    expect(r.rejects).toEqual([]);
    expect(r.rows).toEqual([
      { b: true, i: 42, l: 7, d: Number.NEGATIVE_INFINITY, m: 1250n, day: 19753, ts: 1706696130000000, raw: Uint8Array.of(1, 2, 3), tags: [1, 2], who: { id: 3 } },
      { b: false, i: 1, l: -1, d: Number.NaN, m: -50n, day: null, ts: 1706696130123000, raw: null, tags: [], who: null },
    ]);
    const bad = csv("b,i,l,d,m,day,ts,raw,tags,who\nyes,,,,,,,,,\n,1.5,,,,,,,,\n,,,x,,,,,,\n,,,,1.005,,,,,\n,,,,,2024-13-01,,,,\n,,,,,,soon,,,\n,,,,,,,,\"[1,\",\n,,,,,,,,,99999999999\n", typed);
    expect(bad.rejects.map((x) => [x.reason, x.detail])).toEqual([
      ["type_mismatch", 'field "b": expected bool, got "yes"'],
      ["type_mismatch", 'field "i": 1.5 is not an integer'],
      ["type_mismatch", 'field "d": expected double, got "x"'],
      ["out_of_range", 'field "m": 1.005 has 3 decimals; decimal(6, 2) holds 2'],
      ["bad_timestamp", 'field "day": the string "2024-13-01" is not a date (YYYY-MM-DD)'],
      ["bad_timestamp", 'field "ts": the string "soon" is not an ISO-8601 timestamp'],
      ["malformed", 'field "tags": malformed JSON: unexpected end of the record'],
      ["type_mismatch", 'field "who": expected a struct (JSON object), got the number 99999999999'],
    ]);
  });

  it("skips blank lines and a BOM, accepts CRLF and no final newline", () => {
    const r = csv("\uFEFFid,name\r\n\r\n1,a\r\n\n2,b");
    expect(r.rows.map((x) => [x["id"], x["name"]])).toEqual([
      [1, "a"],
      [2, "b"],
    ]);
  });

  it("rejects records over the size limit", () => {
    const r = decodeCsvFile(schema, enc.encode(`id,name\n1,${"x".repeat(300)}\n2,y\n`), "f.csv", { ...options, maxRecordBytes: 100 });
    expect(rows(r.batch).map((x) => x["id"])).toEqual([2]);
    expect(r.rejects.map((x) => [x.reason, (x.position as { line: number }).line])).toEqual([["too_large", 2]]);
  });

  it("reads single-record messages with fields in schema order (kafka format = csv)", () => {
    const r = decodeCsvRecords(
      schema,
      ["1,ann,2.50,2024-01-01\n", '2,"b,c",,', "3", "4,a,1,2024-01-01\n5,b,1,2024-01-01"].map((text, offset) => ({
        bytes: enc.encode(text),
        position: { kind: "partition" as const, partition: 0, offset },
      })),
      options,
    );
    expect(rows(r.batch)).toEqual([
      { id: 1, name: "ann", amount: 250n, ts: 1704067200000000 },
      { id: 2, name: "b,c", amount: null, ts: null },
    ]);
    expect(r.rejects.map((x) => [x.reason, x.detail, x.position])).toEqual([
      ["malformed", "malformed CSV: the record has 1 fields, the schema 4", { kind: "partition", partition: 0, offset: 2 }],
      ["malformed", "malformed CSV: more than one record in the message", { kind: "partition", partition: 0, offset: 3 }],
    ]);
  });

  it("agrees with DuckDB's read_csv on a valid file", async () => {
    const s = schemaOf(field("id", t.long), field("name", t.string, true), field("price", t.decimal(10, 2), true), field("score", t.double, true), field("day", t.date, true), field("ts", t.timestamp, true));
    const text = 'id,name,price,score,day,ts\n1,"a, ""b""",12.50,0.25,2024-01-31,2024-01-31T10:15:30.5Z\n2,,,,,\n3,"multi\nline",-0.01,1e3,1970-01-01,1970-01-01T00:00:00Z\n';
    const dir = tempDir();
    const file = join(dir, "valid.csv");
    writeFileSync(file, text);
    const ours = decodeCsvFile(s, enc.encode(text), file, options);
    expect(ours.rejects).toEqual([]);
    const theirs = await duckRows(
      `select * from read_csv('${file}', header = true, columns = {id: 'BIGINT', name: 'VARCHAR', price: 'DECIMAL(10,2)', score: 'DOUBLE', day: 'DATE', ts: 'TIMESTAMPTZ'})`,
    );
    expect(rows(ours.batch)).toEqual(theirs);
  });
});

// ---- Parquet -------------------------------------------------------------------------------------

describe("Parquet files", () => {
  it("passes columns of the declared layout through, and DuckDB reads the same rows", async () => {
    const schema = schemaOf(
      field("id", t.long),
      field("name", t.string, true),
      field("m", t.decimal(12, 2), true),
      field("ts", t.timestamp),
      field("tags", t.list(t.string), true),
      field("attrs", t.map(t.int, true), true),
      field("who", t.struct(field("id", t.long), field("name", t.string, true)), true),
    );
    const input = [
      { id: 1, name: "a", m: 1234n, ts: 1704067200123456, tags: ["x", "y"], attrs: new Map([["k", 1]]), who: { id: 1, name: "ann" } },
      { id: 2, name: null, m: null, ts: 0, tags: null, attrs: null, who: null },
    ];
    const bytes = encodeParquet(schema, [batchFromRows(schema, input)]);
    const r = decodeParquet(schema, bytes, "f.parquet", options);
    expect(r.rejects).toEqual([]);
    expect(r.batches.flatMap((b) => rows(b))).toEqual(input);
    const file = join(tempDir(), "f.parquet");
    writeFileSync(file, bytes);
    expect(await duckRows(`select * from read_parquet('${file}')`)).toEqual(input);
  });

  it("converts other layouts value by value, rejecting rows by number", () => {
    // An int64 column feeding an int field, nanosecond timestamps, a missing nullable column,
    // a float column for a double, and a column the schema does not name.
    const table = new arrow.Table({
      id: arrow.vectorFromArray([1n, 3_000_000_000n, 3n], new arrow.Int64()),
      ts: arrow.makeVector({ type: new arrow.TimestampNanosecond(), data: BigInt64Array.of(1_500n, -1n, 1_704_067_200_000_000_001n) } as never),
      score: arrow.vectorFromArray([0.5, 1.5, 2.5], new arrow.Float32()),
      extra: arrow.vectorFromArray(["a", "b", "c"], new arrow.Utf8()),
    });
    const bytes = parquet.writeParquet(parquet.Table.fromIPCStream(arrow.tableToIPC(table, "stream")));
    const schema = schemaOf(field("id", t.int), field("ts", t.timestamp), field("score", t.double), field("name", t.string, true));
    const r = decodeParquet(schema, bytes, "in/f.parquet", options);
    expect(r.batches.flatMap((b) => rows(b))).toEqual([
      { id: 1, ts: 1, score: 0.5, name: null },
      { id: 3, ts: 1704067200000000, score: 2.5, name: null },
    ]);
    expect(r.rejects.map((x) => [x.reason, x.position, x.detail, new TextDecoder().decode(x.raw)])).toEqual([
      ["out_of_range", { kind: "file", file: "in/f.parquet", line: 2 }, 'field "id": 3000000000 is out of range for int', '{"id":3000000000,"ts":"1969-12-31T23:59:59.999999Z","score":1.5}'],
    ]);
  });

  it("rescales decimals of another scale exactly, and reads dates, value by value", () => {
    const written = schemaOf(field("m", t.decimal(10, 3), true), field("d", t.date, true));
    const bytes = encodeParquet(written, [
      batchFromRows(written, [
        { m: -1500n, d: -1 },
        { m: 1234n, d: 19723 },
      ]),
    ]);
    const r = decodeParquet(schemaOf(field("m", t.decimal(12, 2), true), field("d", t.date)), bytes, "f.parquet", options);
    expect(r.batches.flatMap((b) => rows(b))).toEqual([{ m: -150n, d: -1 }]);
    expect(r.rejects.map((x) => [x.reason, x.detail, new TextDecoder().decode(x.raw)])).toEqual([
      ["out_of_range", 'field "m": 1.234 has 3 decimals; decimal(12, 2) holds 2', '{"m":1.234,"d":"2024-01-01"}'],
    ]);
  });

  it("rejects a required column the file lacks, row by row", () => {
    const table = new arrow.Table({ a: arrow.vectorFromArray([1, 2], new arrow.Int32()) });
    const bytes = parquet.writeParquet(parquet.Table.fromIPCStream(arrow.tableToIPC(table, "stream")));
    const r = decodeParquet(schemaOf(field("a", t.int), field("b", t.string)), bytes, "f.parquet", options);
    expect(r.rejects.map((x) => [x.reason, x.detail, (x.position as { line: number }).line])).toEqual([
      ["missing_field", 'field "b": required and absent', 1],
      ["missing_field", 'field "b": required and absent', 2],
    ]);
  });

  it("rejects an unreadable file as one malformed record", () => {
    const r = decodeParquet(schemaOf(field("a", t.int)), enc.encode("not parquet at all"), "bad.parquet", options);
    expect(r.batches).toEqual([]);
    expect(r.rejects.map((x) => [x.reason, x.position, new TextDecoder().decode(x.raw)])).toEqual([["malformed", { kind: "file", file: "bad.parquet", line: 0 }, "not parquet at all"]]);
    expect(r.rejects[0]!.detail).toMatch(/^not a readable Parquet file/);
  });
});
