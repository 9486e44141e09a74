import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DataType } from "../../runtime/plan.ts";
import { BOOL, BYTES, DATE, DOUBLE, DURATION, INT, LONG, NULL, STRING, TIMESTAMP, formatField, formatType, listOf } from "../../runtime/data-type.ts";
import { aggregateFunctions } from "../../stdlib/aggregate-functions.ts";
import { DATE_TRUNC_UNITS, compileRegex, parseJsonPath, parseTimestampFormat, regexGroupCount, scalarFunctions } from "../../stdlib/scalar-functions.ts";
import { type ArgInfo, type Parameter, type SignatureResult, describeArity } from "../../stdlib/signature.ts";

// The lists exactly as LANGUAGE.md gives them (copied, not parsed).
const LANGUAGE_SCALARS =
  "lower upper trim length substr concat replace split starts_with ends_with contains regexp_extract regexp_like abs round floor ceil sqrt pow ln exp greatest least coalesce nullif date_trunc hour day month year to_timestamp to_date epoch_millis from_epoch_millis json_get hash size".split(
    " ",
  );
const LANGUAGE_AGGREGATES = ["count", "count_distinct", "approx_count_distinct", "sum", "avg", "min", "max", "first", "last", "collect_list"];

const DEC_10_2: DataType = { kind: "decimal", precision: 10, scale: 2 };
const MAP_OF_INT: DataType = { kind: "map", value: { name: "value", type: INT, nullable: false } };

/** A non-null argument of `type`. */
function arg(type: DataType, literal?: string | number | boolean | null): ArgInfo {
  return literal === undefined ? { type, nullable: false } : { type, nullable: false, literal };
}
/** A nullable argument of `type`. */
function opt(type: DataType): ArgInfo {
  return { type, nullable: true };
}
const nullLiteral: ArgInfo = { type: NULL, nullable: true, literal: null };

function scalar(name: string, ...args: ArgInfo[]): SignatureResult {
  const fn = scalarFunctions.get(name);
  if (!fn) throw new Error(`no scalar function ${name}`);
  return fn.check(args);
}
function aggregate(name: string, ...args: ArgInfo[]): SignatureResult {
  const fn = aggregateFunctions.get(name);
  if (!fn) throw new Error(`no aggregate function ${name}`);
  return fn.check(args);
}
/** The result as `type` or `type?`, or the error, for compact expectations. */
function shown(result: SignatureResult): string {
  if (result.ok) return formatField(result);
  switch (result.error) {
    case "arity":
      return `arity: ${result.expected}`;
    case "argument":
      return `argument ${result.index}: ${result.expected}`;
    case "value":
      return `value ${result.index}: ${result.reason}`;
  }
}

describe("the tables", () => {
  it("hold exactly the scalar functions LANGUAGE.md lists", () => {
    expect([...scalarFunctions.keys()].sort()).toEqual([...LANGUAGE_SCALARS].sort());
  });

  it("hold exactly the aggregate functions LANGUAGE.md lists", () => {
    expect([...aggregateFunctions.keys()].sort()).toEqual([...LANGUAGE_AGGREGATES].sort());
  });

  it("give every function its name, a summary and a display signature", () => {
    for (const [key, fn] of [...scalarFunctions, ...aggregateFunctions]) {
      expect(fn.name).toBe(key);
      expect(fn.summary.length).toBeGreaterThan(10);
      expect(fn.display.startsWith(`${key}(`)).toBe(true);
    }
  });

  it("show signatures as users read them", () => {
    expect(scalarFunctions.get("substr")!.display).toBe("substr(s: string, start: long, length?: long): string");
    expect(scalarFunctions.get("concat")!.display).toBe("concat(...s: string): string");
    expect(scalarFunctions.get("date_trunc")!.display).toBe("date_trunc(unit: string, t: timestamp | date): same type as t");
    expect(aggregateFunctions.get("count")!.display).toBe("count(x?: any): long");
  });

  it("never import the compiler or the grammar (the runtime imports stdlib)", () => {
    const dir = join(import.meta.dirname, "../../stdlib");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const imports = [...readFileSync(join(dir, file), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
      // Siblings, the runtime (which stdlib is part of), and Arrow; never compiler/ or grammar/.
      for (const path of imports) expect(path, `${file} imports ${path}`).toMatch(/^\.\/|^\.\.\/runtime\/|^apache-arrow$/);
    }
  });
});

describe("scalar result types", () => {
  it.each<[string, ArgInfo[], string]>([
    ["lower", [arg(STRING)], "string"],
    ["upper", [arg(STRING)], "string"],
    ["trim", [arg(STRING)], "string"],
    ["length", [arg(STRING)], "int"],
    ["substr", [arg(STRING), arg(INT)], "string"],
    ["substr", [arg(STRING), arg(INT), arg(LONG)], "string"],
    ["concat", [arg(STRING)], "string"],
    ["concat", [arg(STRING), arg(STRING), arg(STRING)], "string"],
    ["replace", [arg(STRING), arg(STRING), arg(STRING)], "string"],
    ["split", [arg(STRING), arg(STRING)], "list<string>"],
    ["starts_with", [arg(STRING), arg(STRING)], "bool"],
    ["ends_with", [arg(STRING), arg(STRING)], "bool"],
    ["contains", [arg(STRING), arg(STRING)], "bool"],
    ["regexp_extract", [arg(STRING), arg(STRING, "(\\d+)")], "string?"],
    ["regexp_extract", [arg(STRING), arg(STRING, "a(b)(c)"), arg(INT, 2)], "string?"],
    ["regexp_extract", [arg(STRING), arg(STRING, "abc"), arg(INT, 0)], "string?"],
    ["regexp_like", [arg(STRING), arg(STRING, "^a.*z$")], "bool"],
    ["abs", [arg(INT)], "int"],
    ["abs", [arg(DEC_10_2)], "decimal(10, 2)"],
    ["round", [arg(DOUBLE)], "double"],
    ["round", [arg(LONG), arg(INT, -2)], "long"],
    ["round", [arg(DEC_10_2), arg(INT, 1)], "decimal(11, 2)"],
    ["floor", [arg(DOUBLE)], "double"],
    ["floor", [arg(INT)], "int"],
    ["floor", [arg(DEC_10_2)], "decimal(9, 0)"],
    ["ceil", [arg(LONG)], "long"],
    ["sqrt", [arg(INT)], "double?"],
    ["pow", [arg(INT), arg(DOUBLE)], "double?"],
    ["ln", [arg(DOUBLE)], "double?"],
    ["exp", [arg(DEC_10_2)], "double"],
    ["greatest", [arg(INT), arg(LONG)], "long"],
    ["greatest", [arg(INT), arg(DOUBLE), arg(LONG)], "double"],
    ["least", [arg(TIMESTAMP), arg(TIMESTAMP)], "timestamp"],
    ["least", [arg(STRING), arg(STRING)], "string"],
    ["coalesce", [arg(INT)], "int"],
    ["coalesce", [opt(INT), arg(LONG)], "long"],
    ["nullif", [arg(STRING), arg(STRING)], "string?"],
    ["nullif", [arg(INT), arg(LONG)], "int?"],
    ["date_trunc", [arg(STRING, "hour"), arg(TIMESTAMP)], "timestamp"],
    ["date_trunc", [arg(STRING, "week"), arg(DATE)], "date"],
    ["hour", [arg(TIMESTAMP)], "int"],
    ["day", [arg(DATE)], "int"],
    ["month", [arg(TIMESTAMP)], "int"],
    ["year", [arg(DATE)], "int"],
    ["to_timestamp", [arg(STRING)], "timestamp?"],
    ["to_timestamp", [arg(STRING), arg(STRING, "yyyy-MM-dd HH:mm:ss")], "timestamp?"],
    ["to_date", [arg(STRING)], "date?"],
    ["to_date", [arg(STRING), arg(STRING, "dd/MM/yyyy")], "date?"],
    ["to_date", [arg(TIMESTAMP)], "date"],
    ["epoch_millis", [arg(TIMESTAMP)], "long"],
    ["from_epoch_millis", [arg(LONG)], "timestamp"],
    ["from_epoch_millis", [arg(INT)], "timestamp"],
    ["json_get", [arg(STRING), arg(STRING, "$.items[0]['name']")], "string?"],
    ["hash", [arg(STRING)], "long"],
    ["hash", [arg(STRING), arg(INT), arg(listOf(STRING))], "long"],
    ["size", [arg(listOf(INT))], "int"],
    ["size", [arg(MAP_OF_INT)], "int"],
  ])("%s(%j) is %s", (name, args, expected) => {
    expect(shown(scalar(name, ...args))).toBe(expected);
  });
});

describe("scalar nullability", () => {
  it("propagates a nullable argument to the result of a null-in, null-out function", () => {
    expect(shown(scalar("upper", opt(STRING)))).toBe("string?");
    expect(shown(scalar("substr", arg(STRING), opt(INT)))).toBe("string?");
    expect(shown(scalar("concat", arg(STRING), opt(STRING), arg(STRING)))).toBe("string?");
    expect(shown(scalar("split", opt(STRING), arg(STRING)))).toBe("list<string>?");
    expect(shown(scalar("regexp_like", arg(STRING), opt(STRING)))).toBe("bool?");
    expect(shown(scalar("exp", opt(DOUBLE)))).toBe("double?");
    expect(shown(scalar("hour", opt(TIMESTAMP)))).toBe("int?");
    expect(shown(scalar("to_date", opt(TIMESTAMP)))).toBe("date?");
    expect(shown(scalar("size", opt(listOf(INT))))).toBe("int?");
  });

  it("treats the null literal as a nullable argument that fits any parameter", () => {
    expect(shown(scalar("lower", nullLiteral))).toBe("string?");
    expect(shown(scalar("length", nullLiteral))).toBe("int?");
    expect(shown(scalar("starts_with", arg(STRING), nullLiteral))).toBe("bool?");
    expect(shown(scalar("date_trunc", arg(STRING, "day"), nullLiteral))).toBe("null");
  });

  it("gives the null type where the result follows a null literal argument", () => {
    expect(shown(scalar("abs", nullLiteral))).toBe("null");
    expect(shown(scalar("coalesce", nullLiteral, nullLiteral))).toBe("null");
  });

  it("makes coalesce, greatest and least nullable only when every argument is", () => {
    expect(shown(scalar("coalesce", opt(STRING), arg(STRING)))).toBe("string");
    expect(shown(scalar("coalesce", opt(STRING), opt(STRING)))).toBe("string?");
    expect(shown(scalar("coalesce", opt(INT), nullLiteral))).toBe("int?");
    expect(shown(scalar("coalesce", nullLiteral, arg(DOUBLE)))).toBe("double");
    expect(shown(scalar("greatest", opt(INT), arg(INT)))).toBe("int");
    expect(shown(scalar("least", opt(INT), opt(INT)))).toBe("int?");
  });

  it("keeps list element nullability through coalesce", () => {
    expect(shown(scalar("coalesce", opt(listOf(STRING)), arg(listOf(STRING, true))))).toBe("list<string?>");
  });

  it("makes nullif, regexp_extract, json_get and string parsing always nullable", () => {
    expect(scalar("nullif", arg(INT), arg(INT))).toMatchObject({ ok: true, nullable: true });
    expect(scalar("regexp_extract", arg(STRING), arg(STRING, "(a)"))).toMatchObject({ ok: true, nullable: true });
    expect(scalar("json_get", arg(STRING), arg(STRING))).toMatchObject({ ok: true, nullable: true });
    expect(scalar("to_timestamp", arg(STRING))).toMatchObject({ ok: true, nullable: true });
  });

  it("makes date_trunc nullable when its unit is not a literal (an unknown unit gives null)", () => {
    expect(shown(scalar("date_trunc", arg(STRING), arg(TIMESTAMP)))).toBe("timestamp?");
  });

  it("never makes hash null", () => {
    expect(shown(scalar("hash", opt(STRING), nullLiteral))).toBe("long");
  });
});

describe("scalar arity errors", () => {
  it.each<[string, ArgInfo[], string]>([
    ["lower", [], "1 argument"],
    ["lower", [arg(STRING), arg(STRING)], "1 argument"],
    ["substr", [arg(STRING)], "2 or 3 arguments"],
    ["substr", [arg(STRING), arg(INT), arg(INT), arg(INT)], "2 or 3 arguments"],
    ["concat", [], "at least 1 argument"],
    ["coalesce", [], "at least 1 argument"],
    ["greatest", [arg(INT)], "at least 2 arguments"],
    ["least", [], "at least 2 arguments"],
    ["nullif", [arg(INT)], "2 arguments"],
    ["pow", [arg(INT)], "2 arguments"],
    ["round", [arg(INT), arg(INT), arg(INT)], "1 or 2 arguments"],
    ["date_trunc", [arg(TIMESTAMP)], "2 arguments"],
    ["hash", [], "at least 1 argument"],
  ])("%s with %# arguments: takes %s", (name, args, expected) => {
    expect(scalar(name, ...args)).toEqual({ ok: false, error: "arity", expected });
  });
});

describe("scalar argument type errors", () => {
  it.each<[string, ArgInfo[], number, string]>([
    ["lower", [arg(INT)], 0, "a `string`"],
    ["substr", [arg(STRING), arg(DOUBLE)], 1, "an integer (`int` or `long`)"],
    ["substr", [arg(STRING), arg(INT), arg(STRING)], 2, "an integer (`int` or `long`)"],
    ["concat", [arg(STRING), arg(INT)], 1, "a `string`"],
    ["abs", [arg(STRING)], 0, "a number"],
    ["abs", [arg(DURATION)], 0, "a number"],
    ["sqrt", [arg(BOOL)], 0, "a number"],
    ["size", [arg(STRING)], 0, "a list or a map"],
    ["hour", [arg(STRING)], 0, "a `timestamp` or a `date`"],
    ["epoch_millis", [arg(DATE)], 0, "a `timestamp`"],
    ["from_epoch_millis", [arg(DOUBLE)], 0, "a `long`"],
    ["to_date", [arg(INT)], 0, "a `string` or a `timestamp`"],
    ["to_date", [arg(TIMESTAMP), arg(STRING, "yyyy")], 0, "a `string` when a format is given"],
    ["date_trunc", [arg(STRING, "day"), arg(STRING)], 1, "a `timestamp` or a `date`"],
    ["hash", [arg(MAP_OF_INT)], 0, "a value that can be compared with `==` (not a map)"],
    ["greatest", [arg(INT), arg(MAP_OF_INT)], 1, expect.stringContaining("a value with an order") as unknown as string],
    ["greatest", [arg(INT), arg(STRING)], 1, "compatible with `int` (the type of the earlier arguments)"],
    ["coalesce", [arg(STRING), opt(INT)], 1, "compatible with `string` (the type of the earlier arguments)"],
    ["coalesce", [arg(INT), arg(LONG), arg(BYTES)], 2, "compatible with `long` (the type of the earlier arguments)"],
    ["nullif", [arg(INT), arg(STRING)], 1, "compatible with `int` (the type of the earlier arguments)"],
  ])("%s: argument %# is wrong", (name, args, index, expected) => {
    expect(scalar(name, ...args)).toEqual({ ok: false, error: "argument", index, expected });
  });

  it("accepts an int where a long is expected, not a long where an int is", () => {
    expect(shown(scalar("from_epoch_millis", arg(INT)))).toBe("timestamp");
    expect(scalar("from_epoch_millis", arg(DEC_10_2))).toMatchObject({ ok: false, error: "argument", index: 0 });
  });
});

describe("scalar value errors", () => {
  it("rejects an invalid literal regular expression, with the reason", () => {
    const result = scalar("regexp_like", arg(STRING), arg(STRING, "a(b"));
    expect(result).toMatchObject({ ok: false, error: "value", index: 1 });
    expect(shown(result)).toMatch(/^value 1: invalid regular expression: .*group/i);
    expect(scalar("regexp_extract", arg(STRING), arg(STRING, "[z-a]"))).toMatchObject({ ok: false, error: "value", index: 1 });
  });

  it("does not check a pattern that is not a literal", () => {
    expect(shown(scalar("regexp_like", arg(STRING), arg(STRING)))).toBe("bool");
    expect(shown(scalar("regexp_extract", arg(STRING), arg(STRING), arg(INT, 7)))).toBe("string?");
  });

  it("rejects a regexp_extract group the literal pattern does not have", () => {
    expect(shown(scalar("regexp_extract", arg(STRING), arg(STRING, "(a)(b)"), arg(INT, 3)))).toBe("value 2: the pattern has 2 groups, so it has no group 3");
    expect(scalar("regexp_extract", arg(STRING), arg(STRING, "ab"))).toMatchObject({ ok: false, error: "value", index: 1 });
    expect(scalar("regexp_extract", arg(STRING), arg(STRING), arg(INT, -1))).toMatchObject({ ok: false, error: "value", index: 2 });
  });

  it("rejects an unknown date_trunc unit and lists the valid ones", () => {
    const result = scalar("date_trunc", arg(STRING, "fortnight"), arg(TIMESTAMP));
    expect(result).toMatchObject({ ok: false, error: "value", index: 0 });
    expect(shown(result)).toContain('"second", "minute", "hour", "day", "week", "month", "year"');
    expect(scalar("date_trunc", arg(STRING, "Hour"), arg(TIMESTAMP))).toMatchObject({ ok: false, error: "value", index: 0 });
  });

  it("accepts every date_trunc unit on a timestamp, and day or longer on a date", () => {
    for (const unit of DATE_TRUNC_UNITS) {
      expect(shown(scalar("date_trunc", arg(STRING, unit), arg(TIMESTAMP)))).toBe("timestamp");
      const onDate = shown(scalar("date_trunc", arg(STRING, unit), arg(DATE)));
      expect(onDate).toEqual(["second", "minute", "hour"].includes(unit) ? expect.stringMatching(/^value 0: a `date` has no/) : "date");
    }
  });

  it("rejects a bad literal JSON path", () => {
    expect(scalar("json_get", arg(STRING), arg(STRING, "items[0]"))).toMatchObject({ ok: false, error: "value", index: 1 });
    expect(scalar("json_get", arg(STRING), arg(STRING, "$.a..b"))).toMatchObject({ ok: false, error: "value", index: 1 });
  });

  it("rejects a bad literal timestamp format", () => {
    expect(shown(scalar("to_timestamp", arg(STRING), arg(STRING, "yyyy-MM-dd'T")))).toMatch(/^value 1: .*unclosed quote/);
    expect(shown(scalar("to_date", arg(STRING), arg(STRING, "yyyy-QQ")))).toMatch(/^value 1: `Q` is not a format letter/);
  });
});

describe("literal helpers kernels share", () => {
  it("parse JSON paths", () => {
    expect(parseJsonPath("$")).toEqual([]);
    expect(parseJsonPath("$.a.b[2]['c.d'][\"e\"]")).toEqual([
      { kind: "key", key: "a" },
      { kind: "key", key: "b" },
      { kind: "index", index: 2 },
      { kind: "key", key: "c.d" },
      { kind: "key", key: "e" },
    ]);
    expect(parseJsonPath("$[x]")).toHaveProperty("error");
    expect(parseJsonPath("$.")).toHaveProperty("error");
  });

  it("parse timestamp formats into fields and text", () => {
    expect(parseTimestampFormat("yyyy-MM-dd'T'HH:mm")).toEqual([
      { kind: "field", letter: "y", width: 4 },
      { kind: "text", text: "-" },
      { kind: "field", letter: "M", width: 2 },
      { kind: "text", text: "-" },
      { kind: "field", letter: "d", width: 2 },
      { kind: "text", text: "T" },
      { kind: "field", letter: "H", width: 2 },
      { kind: "text", text: ":" },
      { kind: "field", letter: "m", width: 2 },
    ]);
    expect(parseTimestampFormat("HH 'o''clock' a")).toEqual([
      { kind: "field", letter: "H", width: 2 },
      { kind: "text", text: " o'clock " },
      { kind: "field", letter: "a", width: 1 },
    ]);
    expect(parseTimestampFormat("''yyyy")).toEqual([
      { kind: "text", text: "'" },
      { kind: "field", letter: "y", width: 4 },
    ]);
  });

  it("compile regular expressions in Unicode mode and count their groups", () => {
    const regex = compileRegex("(a)(?:b)(?<c>c)");
    expect(regex).toBeInstanceOf(RegExp);
    expect(regexGroupCount(regex as RegExp)).toBe(2);
    expect(compileRegex("\\-")).toMatch(/^invalid regular expression/);
  });
});

describe("aggregate result types", () => {
  it.each<[string, ArgInfo[], string]>([
    ["count", [], "long"],
    ["count", [opt(STRING)], "long"],
    ["count", [arg(MAP_OF_INT)], "long"],
    ["count_distinct", [opt(STRING)], "long"],
    ["approx_count_distinct", [arg(LONG)], "long"],
    ["sum", [arg(INT)], "long?"],
    ["sum", [arg(LONG)], "long?"],
    ["sum", [arg(DOUBLE)], "double?"],
    ["sum", [arg(DEC_10_2)], "decimal(20, 2)?"],
    ["sum", [arg({ kind: "decimal", precision: 33, scale: 4 })], "decimal(38, 4)?"],
    ["avg", [arg(INT)], "double?"],
    ["avg", [arg(DOUBLE)], "double?"],
    ["avg", [arg(DEC_10_2)], "decimal(14, 6)?"],
    ["min", [arg(TIMESTAMP)], "timestamp?"],
    ["max", [arg(STRING)], "string?"],
    ["first", [arg(listOf(INT))], "list<int>?"],
    ["last", [opt(DOUBLE)], "double?"],
    ["collect_list", [opt(STRING)], "list<string>"],
    ["collect_list", [arg(INT)], "list<int>"],
  ])("%s(%j) is %s", (name, args, expected) => {
    expect(shown(aggregate(name, ...args))).toBe(expected);
  });

  it("rejects wrong argument counts", () => {
    expect(aggregate("count", arg(INT), arg(INT))).toEqual({ ok: false, error: "arity", expected: "no arguments or 1 argument" });
    expect(aggregate("sum")).toEqual({ ok: false, error: "arity", expected: "1 argument" });
    expect(aggregate("collect_list", arg(INT), arg(INT))).toEqual({ ok: false, error: "arity", expected: "1 argument" });
  });

  it("rejects wrong argument types", () => {
    expect(aggregate("sum", arg(STRING))).toEqual({ ok: false, error: "argument", index: 0, expected: "a number" });
    expect(aggregate("avg", arg(TIMESTAMP))).toMatchObject({ ok: false, error: "argument", index: 0 });
    expect(aggregate("min", arg(listOf(INT)))).toMatchObject({ ok: false, error: "argument", index: 0, expected: expect.stringContaining("order") });
    expect(aggregate("count_distinct", arg(MAP_OF_INT))).toMatchObject({ ok: false, error: "argument", index: 0, expected: expect.stringContaining("==") });
    expect(aggregate("approx_count_distinct", arg(MAP_OF_INT))).toMatchObject({ ok: false, error: "argument", index: 0 });
  });
});

describe("aggregate state fields", () => {
  function state(name: string, args: ArgInfo[]): string[] {
    return aggregateFunctions.get(name)!.stateFields(args, "agg").map((f) => `${f.name}: ${formatType(f.type)}${f.nullable ? "?" : ""}`);
  }

  it.each<[string, ArgInfo[], string[]]>([
    ["count", [], ["agg: long"]],
    ["count", [opt(STRING)], ["agg: long"]],
    ["count_distinct", [opt(STRING)], ["agg.values: list<string>"]],
    ["approx_count_distinct", [arg(LONG)], ["agg.hll: bytes"]],
    ["sum", [arg(INT)], ["agg: long?"]],
    ["sum", [arg(DEC_10_2)], ["agg: decimal(20, 2)?"]],
    ["avg", [arg(INT)], ["agg.sum: double", "agg.count: long"]],
    ["avg", [arg(DEC_10_2)], ["agg.sum: decimal(20, 2)", "agg.count: long"]],
    ["min", [arg(DATE)], ["agg: date?"]],
    ["max", [arg(DOUBLE)], ["agg: double?"]],
    ["first", [arg(STRING)], ["agg: string?"]],
    ["last", [arg(STRING)], ["agg: string?"]],
    ["collect_list", [opt(INT)], ["agg: list<int>"]],
  ])("%s(%j) keeps %j", (name, args, expected) => {
    expect(state(name, args)).toEqual(expected);
  });

  it("names every state field after the aggregate's output column", () => {
    for (const fn of aggregateFunctions.values()) {
      const args = fn.name === "count" ? [] : [arg(INT)];
      for (const field of fn.stateFields(args, "revenue")) expect(field.name === "revenue" || field.name.startsWith("revenue.")).toBe(true);
    }
  });
});

describe("describeArity", () => {
  const p = (arity: Parameter["arity"]): Parameter => ({ name: "x", accepts: { kind: "any" }, arity });
  it("says how many arguments a parameter list takes", () => {
    expect(describeArity([])).toBe("no arguments");
    expect(describeArity([p("required")])).toBe("1 argument");
    expect(describeArity([p("required"), p("required")])).toBe("2 arguments");
    expect(describeArity([p("optional")])).toBe("no arguments or 1 argument");
    expect(describeArity([p("required"), p("optional")])).toBe("1 or 2 arguments");
    expect(describeArity([p("required"), p("optional"), p("optional")])).toBe("1 to 3 arguments");
    expect(describeArity([p("rest")])).toBe("at least 1 argument");
    expect(describeArity([p("required"), p("rest")])).toBe("at least 2 arguments");
  });
});
