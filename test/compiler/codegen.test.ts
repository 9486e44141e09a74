// Generated expression kernels against DuckDB: the same expressions over the same random rows (with
// nulls) must give the same values, with plain and with dictionary-encoded string columns.
// Where the language decides differently from DuckDB the SQL says so: a zero divisor gives null
// (DuckDB follows IEEE 754: infinities and NaN), and `2.5` is a double (DuckDB: a decimal).
import { beforeAll, describe, expect, it } from "vitest";
import type { Data } from "apache-arrow";
import type { Batch } from "../../runtime/columnar/batch.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { CellValue } from "../../runtime/columnar/values.ts";
import type { Schema } from "../../runtime/plan.ts";
import {
  type Compiled,
  type Oracle,
  agree,
  compile,
  createTable,
  duckdb,
  fromDuckdb,
  fromKernel,
  node,
  project,
  random,
  select,
  withDictionaries,
} from "./codegen-harness.ts";

const SCHEMA = `{
  a: int?, b: int?, l: long?, m: long?, x: double?, y: double?,
  p: decimal(10, 2)?, q: decimal(10, 2)?, s: string?, u: string?,
  f: bool?, g: bool?, ts: timestamp?, t2: timestamp?, d: date?
}`;

const STRINGS = ["", "a", "ab", "abc", "b", "B", "x_y", "xzy", "a%b", "axb", "é", "zé", "𝄞", "𝄞x", "12", " 7 ", "1.5", "-3", "true", "no", "2024-01-02", 'ab"c', "it's", "abcdefghijklmnopqrstuvwxyz0123456789-long-enough-for-the-decoder"];

function rows(count: number, seed: number): Record<string, CellValue>[] {
  const next = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const maybe = <T>(make: () => T): T | null => (next() < 0.15 ? null : make());
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const base = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z
  return Array.from({ length: count }, () => ({
    a: maybe(() => int(-12, 12)),
    b: maybe(() => int(-12, 12)),
    l: maybe(() => (next() < 0.1 ? 0 : int(-3_000_000_000, 3_000_000_000))),
    m: maybe(() => int(-1000, 1000)),
    x: maybe(() => (next() < 0.1 ? 0 : Math.round((next() * 200 - 100) * 100) / 100)),
    y: maybe(() => (next() < 0.1 ? 0 : Math.round((next() * 20 - 10) * 100) / 100)),
    p: maybe(() => (next() < 0.1 ? 0n : BigInt(int(-1_000_000, 1_000_000)))),
    q: maybe(() => (next() < 0.1 ? 0n : BigInt(int(-10_000, 10_000)))),
    s: maybe(() => pick(STRINGS)),
    u: maybe(() => pick(STRINGS)),
    f: maybe(() => next() < 0.5),
    g: maybe(() => next() < 0.5),
    ts: maybe(() => base + int(-3 * 86_400, 3 * 86_400) * 1_000_000 + int(0, 999_999)),
    t2: maybe(() => base + int(-3 * 86_400, 3 * 86_400) * 1_000_000 + int(0, 999_999)),
    d: maybe(() => int(19_700, 19_760)),
  }));
}

/** [our expression, DuckDB's] (DuckDB's defaults to ours). */
const EXPRESSIONS: [string, string?][] = [
  // arithmetic: int, long, double, decimal, mixed
  ["a + b"], ["a - b"], ["a * b"], ["a / b", "a / NULLIF(b, 0)"], ["a % b"], ["-a"],
  ["l + m"], ["l - m"], ["l * m"], ["l / m"], ["l % m"], ["a + l"], ["-l"], ["l + 1"],
  ["x + y"], ["x - y"], ["x * y"], ["x / y", "x / NULLIF(y, 0)"], ["x % y", "x % NULLIF(y, 0)"], ["a + x"], ["l * x"], ["-x"], ["x / 0", "NULL"], ["a / 0", "NULL"],
  ["p + q"], ["p - q"], ["p * q"], ["p / q", "p / NULLIF(q, 0)"], ["p % q"], ["p + a"], ["p * a"], ["p - l"], ["p + x"], ["-p"], ["p + 1"], ["p * 2.5", "p * 2.5::DOUBLE"], ["(p + q) * a"],
  ["a * 2 + b * 3 - 1"], ["(a + b) / (a - b)", "(a + b) / NULLIF(a - b, 0)"],
  // comparisons
  ["a < b"], ["a <= b"], ["a == b", "a = b"], ["a != b", "a <> b"], ["a > l"], ["x >= a"], ["l < x"],
  ["p > q"], ["p == a", "p = a"], ["p < x"], ["p >= 0"],
  ["s < u"], ["s == u", "s = u"], ["s != u", "s <> u"], ["s >= \"b\"", "s >= 'b'"], ["s == \"é\"", "s = 'é'"], ["\"𝄞\" > s", "'𝄞' > s"], ["s <= u"],
  ["f < g"], ["f == g", "f = g"], ["f >= g"],
  ["ts < t2"], ["ts == t2", "ts = t2"], ["d > date \"2024-01-15\"", "d > DATE '2024-01-15'"],
  ["ts >= timestamp \"2024-01-02T00:00:00Z\"", "ts >= TIMESTAMP '2024-01-02 00:00:00'"],
  // three-valued logic
  ["f and g"], ["f or g"], ["not f"], ["f and a > 0"], ["a > 0 or s == \"a\"", "a > 0 or s = 'a'"], ["not (f or g)"], ["f and not g or a < 0"], ["(f or g) and (a > b or l < 0)"],
  // nulls
  ["a ?? b", "coalesce(a, b)"], ["coalesce(a, b, 0)"], ["s ?? u ?? \"none\"", "coalesce(s, u, 'none')"], ["a is null"], ["s is not null"],
  ["nullif(a, b)"], ["nullif(s, \"a\")", "nullif(s, 'a')"], ["p ?? q", "coalesce(p, q)"], ["x ?? a", "coalesce(x, a)"], ["coalesce(p, a)"], ["ts ?? t2", "coalesce(ts, t2)"],
  ["(a ?? 0) + 1", "coalesce(a, 0) + 1"],
  // in
  ["a in (1, 2, 3)"], ["a in (1, null)", "a in (1, NULL)"], ["a not in (1, 2)"], ["a not in (1, null)", "a not in (1, NULL)"],
  ["s in (\"a\", \"b\", \"é\")", "s in ('a', 'b', 'é')"], ["s in (\"a\", \"b\", \"c\", \"ab\", \"abc\", \"12\")", "s in ('a', 'b', 'c', 'ab', 'abc', '12')"],
  ["a in (1, 2, 3, 4, 5, 6, 7)"], ["a not in (1, 2, 3, 4, 5, 6, 7)"], ["a in (b, 3)"], ["x in (1.5, a)"], ["s not in (u, \"a\")", "s not in (u, 'a')"], ["p in (q, 1, 2.5)"],
  // like
  ["s like \"a%\"", "s like 'a%'"], ["s like \"%b\"", "s like '%b'"], ["s like \"%b%\"", "s like '%b%'"], ["s like \"x_y\"", "s like 'x_y'"], ["s like \"_\"", "s like '_'"],
  ["s not like \"%é\"", "s not like '%é'"], ["s like u"], ["s like \"%\"", "s like '%'"], ["s like \"abc\"", "s like 'abc'"], ["s like \"a%b%\"", "s like 'a%b%'"], ["s like \"_x\"", "s like '_x'"],
  // case and if
  ["case when a > 0 then \"pos\" when a < 0 then \"neg\" end", "case when a > 0 then 'pos' when a < 0 then 'neg' end"],
  ["case when f then a else l end"], ["if(f, s, u)", "case when f then s else u end"], ["case when a > 0 then p else x end"],
  ["case when s == \"a\" then 1 when s == \"b\" then 2 else 0 end", "case when s = 'a' then 1 when s = 'b' then 2 else 0 end"],
  ["case when a > 0 then s else \"none\" end", "case when a > 0 then s else 'none' end"], ["case when g then p end"],
  // casts
  ["cast(a as string)", "CAST(a AS VARCHAR)"], ["cast(l as string)", "CAST(l AS VARCHAR)"], ["cast(x as string)", "CAST(x AS VARCHAR)"], ["cast(p as string)", "CAST(p AS VARCHAR)"], ["cast(f as string)", "CAST(f AS VARCHAR)"],
  ["cast(x as int)", "TRY_CAST(x AS INTEGER)"], ["cast(x as long)", "TRY_CAST(x AS BIGINT)"], ["cast(l as int)", "TRY_CAST(l AS INTEGER)"],
  ["cast(s as int)", "TRY_CAST(s AS INTEGER)"], ["cast(s as long)", "TRY_CAST(s AS BIGINT)"], ["cast(s as double)", "TRY_CAST(s AS DOUBLE)"], ["cast(s as decimal(10, 2))", "TRY_CAST(s AS DECIMAL(10, 2))"],
  ["cast(s as bool)", "TRY_CAST(s AS BOOLEAN)"], ["cast(s as date)", "TRY_CAST(s AS DATE)"],
  ["cast(p as double)", "CAST(p AS DOUBLE)"], ["cast(x as decimal(10, 2))", "TRY_CAST(x AS DECIMAL(10, 2))"], ["cast(x as decimal(4, 1))", "TRY_CAST(x AS DECIMAL(4, 1))"],
  ["cast(p as int)", "TRY_CAST(p AS INTEGER)"], ["cast(p as decimal(6, 1))", "TRY_CAST(p AS DECIMAL(6, 1))"], ["cast(a as decimal(3, 1))", "TRY_CAST(a AS DECIMAL(3, 1))"],
  ["cast(f as int)", "CAST(f AS INTEGER)"], ["cast(a as bool)", "CAST(a AS BOOLEAN)"], ["cast(x as bool)", "CAST(x AS BOOLEAN)"], ["cast(p as bool)", "CAST(p AS BOOLEAN)"],
  ["cast(ts as date)", "CAST(ts AS DATE)"], ["cast(d as timestamp)", "CAST(d AS TIMESTAMP)"], ["cast(a as double)", "CAST(a AS DOUBLE)"], ["cast(a as long)", "CAST(a AS BIGINT)"],
  // strings
  ["s + u", "s || u"], ["s + \"!\"", "s || '!'"], ["\"<\" + s + \">\"", "'<' || s || '>'"], ["concat(s, u)", "s || u"],
  // timestamps and durations
  ["ts + 1h", "ts + INTERVAL 1 HOUR"], ["ts - 30m", "ts - INTERVAL 30 MINUTE"], ["1d + ts", "INTERVAL 1 DAY + ts"], ["ts - t2 > 1h", "ts - t2 > INTERVAL 1 HOUR"],
  ["ts - t2 <= -2h", "ts - t2 <= -INTERVAL 2 HOUR"], ["ts + 2 * 1h", "ts + 2 * INTERVAL 1 HOUR"], ["ts + a * 1m", "ts + a * INTERVAL 1 MINUTE"], ["cast(d as timestamp) + 1d", "CAST(d AS TIMESTAMP) + INTERVAL 1 DAY"],
  ["-(ts - t2) > 0s", "-(ts - t2) > INTERVAL 0 SECOND"], ["ts - 1500ms", "ts - INTERVAL 1500 MILLISECOND"], ["ts + (1h + 30m)", "ts + (INTERVAL 1 HOUR + INTERVAL 30 MINUTE)"],
  // a sample of functions
  ["upper(s)"], ["length(s)"], ["abs(a)"], ["abs(x)"], ["greatest(a, b, 0)"], ["least(x, a)"], ["greatest(s, u)"], ["least(p, q)"], ["date_trunc(\"day\", ts)", "date_trunc('day', ts)"],
  ["hour(ts)"], ["year(d)"], ["epoch_millis(ts)", "epoch_ms(ts)"], ["starts_with(s, \"a\")", "starts_with(s, 'a')"], ["contains(s, u)"], ["replace(s, \"a\", \"X\")", "replace(s, 'a', 'X')"],
  ["round(x, 1)"], ["substr(s, 2, 2)"], ["length(upper(s) + lower(u))", "length(upper(s) || lower(u))"],
];

const PREDICATES: [string, string?][] = [
  ["a > 0"], ["f"], ["not f"], ["f and g"], ["f or g"], ["a is null"], ["s == \"a\"", "s = 'a'"], ["s != \"a\"", "s <> 'a'"], ["s like \"a%\"", "s like 'a%'"], ["s in (\"a\", \"b\", \"12\")", "s in ('a', 'b', '12')"],
  ["s not in (\"a\", null)", "s not in ('a', NULL)"], ["upper(s) == \"AB\"", "upper(s) = 'AB'"], ["s is null or s < \"b\"", "s is null or s < 'b'"], ["coalesce(s, \"z\") >= \"b\"", "coalesce(s, 'z') >= 'b'"],
  ["a + b > l", "a + b > l"], ["x / y > 1", "x / NULLIF(y, 0) > 1"], ["p > q and a < 5"], ["ts - t2 > 1h", "ts - t2 > INTERVAL 1 HOUR"], ["case when f then a > 0 else g end"], ["true"], ["false"], ["a in (1, null)", "a in (1, NULL)"],
  ["s + u == \"aa\"", "s || u = 'aa'"],
];

const ROWS = rows(400, 20240501);

describe("kernels agree with DuckDB", () => {
  let oracle: Oracle;
  let compiled: Compiled;
  let schema: Schema;
  let ours: CellValue[][];

  beforeAll(async () => {
    const text = [
      `source t: ${SCHEMA} = files "data"`,
      `stream out = t | select ${EXPRESSIONS.map(([e], i) => `r${i} = ${e}`).join(",\n  ")}`,
      ...PREDICATES.map(([p], i) => `stream w${i} = t | where ${p}`),
      "sink out -> console",
      ...PREDICATES.map((_, i) => `sink w${i} -> console`),
    ].join("\n");
    compiled = await compile(text);
    schema = compiled.plan.sources[0]!.schema;
    ours = project(compiled, "out/1", batchFromRows(schema, ROWS));
    oracle = await duckdb();
    await createTable(oracle, "t", schema, ROWS);
  });

  it("for every expression, row by row", async () => {
    const sql = `SELECT ${EXPRESSIONS.map(([e, s]) => s ?? e).join(",\n ")} FROM t ORDER BY rid`;
    const theirs = await oracle.rows(sql);
    const outputs = node(compiled.plan, "out/1").schema.fields;
    const problems: string[] = [];
    EXPRESSIONS.forEach(([expression], c) => {
      for (let r = 0; r < ROWS.length; r++) {
        const a = fromKernel(ours[c]![r]!, outputs[c]!.type);
        const b = fromDuckdb(theirs[r]![c]);
        if (!agree(a, b)) {
          problems.push(`${expression} @ row ${r} ${JSON.stringify(ROWS[r], (_, v) => (typeof v === "bigint" ? `${v}n` : v))}: ours ${String(a)}, DuckDB ${String(b)}`);
          break;
        }
      }
    });
    expect(problems).toEqual([]);
  });

  it("for every predicate", async () => {
    const batch = batchFromRows(schema, ROWS);
    const problems: string[] = [];
    for (const [i, [ours, sql]] of PREDICATES.entries()) {
      const selected = select(compiled, `w${i}/1`, batch);
      const expected = (await oracle.rows(`SELECT rid FROM t WHERE ${sql ?? ours} ORDER BY rid`)).map((r) => r[0] as number);
      if (JSON.stringify(selected) !== JSON.stringify(expected)) problems.push(`${ours}: ours ${selected.length} rows, DuckDB ${expected.length}`);
    }
    expect(problems).toEqual([]);
  });

  it("gives the same values over dictionary-encoded strings, evaluated once per dictionary entry", () => {
    const batch = withDictionaries(schema, ROWS, ["s", "u"]);
    const dictionaryResults = project(compiled, "out/1", batch);
    EXPRESSIONS.forEach(([expression], c) => expect(dictionaryResults[c], expression).toEqual(ours[c]));
    const plain = batchFromRows(schema, ROWS);
    for (const [i, [predicate]] of PREDICATES.entries()) expect(select(compiled, `w${i}/1`, batch), predicate).toEqual(select(compiled, `w${i}/1`, plain));
  });

  it("keeps a string computed from one dictionary column dictionary-encoded, and reuses the result for the same dictionary", () => {
    const spec = node(compiled.plan, "out/1");
    if (spec.kind !== "project") throw new Error("not a project");
    const upper = spec.columns[EXPRESSIONS.findIndex(([e]) => e === "upper(s)")]!.kernel;
    const kernel = compiled.module.kernels[upper] as (b: Batch) => Data;
    const batch = withDictionaries(schema, ROWS, ["s"]);
    const first = kernel(batch);
    const second = kernel({ ...batch, columns: [...batch.columns] });
    expect(first.dictionary).toBeDefined();
    expect(first.dictionary!.data[0]).toBe(second.dictionary!.data[0]);
    expect(first.dictionary!.length).toBeLessThanOrEqual(STRINGS.length + 2);
  });
});

describe("the generated code", () => {
  it("reads a string column's bytes without decoding them for comparisons and copies", async () => {
    const { source } = await compile(`source t: { s: string, n: int } = files "d"\nstream o = t | where s == "x" or s < "m" | select s, t = s ?? "y", c = if(n > 0, s, "neg")\nsink o -> console`);
    const filter = source.slice(source.indexOf("function k0rows"), source.indexOf("function k1"));
    expect(filter).toContain("rt.equalBytes(");
    expect(filter).toContain("rt.compareBytes(");
    expect(filter).not.toContain("decodeUtf8");
    expect(source).toContain("return input.columns[0];");
    expect(source).toContain("out.appendSlice(");
    expect(source).not.toContain("decodeUtf8");
  });

  it("reads and writes longs and timestamps through Int32 pairs", async () => {
    const { source } = await compile(`source t: { l: long, ts: timestamp } = files "d"\nstream o = t | select k = l * 2, later = ts + 1h\nsink o -> console`);
    expect(source).toContain("rt.int64Words(");
    expect(source).toMatch(/\* 4294967296 \+ \(d0x\[2 \* i\] >>> 0\)/);
    expect(source).toContain("out[2 * i + 1] = high;");
    expect(source).not.toMatch(/BigInt\(/);
  });
});
