import { describe, expect, it } from "vitest";
import type { Expr, Literal, Name, OptionAssign, OptionValue, Span } from "../../grammar/ast.ts";
import {
  type ConnectorRole,
  type OptionOwner,
  type ValidatedOptions,
  connectors,
  pipelineOptions,
  sinkConnectors,
  sourceConnectors,
  validateOptions,
  validateTarget,
} from "../../compiler/connectors.ts";
import { DiagnosticSink } from "../../compiler/diagnostics.ts";

// ---- AST fixtures: each node gets its own line so tests can tell where a diagnostic points ----
let nextLine = 1;
function span(): Span {
  const line = nextLine++;
  return { start: line * 100, end: line * 100 + 10, line, column: 1 };
}
function name(text: string): Name {
  return { text, quoted: false, span: span() };
}
function literal(lit: Literal): Expr {
  return { kind: "literal", literal: lit, span: span() };
}
const str = (value: string) => literal({ type: "string", value });
const int = (digits: string) => literal({ type: "integer", digits });
const dur = (text: string, micros: number) => literal({ type: "duration", micros, text });
const size = (text: string, bytes: number) => literal({ type: "size", bytes, text });
const ts = (text: string) => literal({ type: "timestamp", text });
const word = (text: string): Extract<Expr, { kind: "column" }> => ({ kind: "column", name: name(text), span: span() });
const neg = (operand: Expr): Expr => ({ kind: "unary", op: "-", operand, span: span() });
function call(callee: string, ...args: Expr[]): Expr {
  return { kind: "call", callee: name(callee), args, star: false, span: span() };
}
const env = (...args: Expr[]) => call("env", ...args);

function expr(e: Expr): OptionValue {
  return { kind: "expr", expr: e, span: e.span };
}
function list(...items: Expr[]): OptionValue {
  return { kind: "list", items: items.map(expr), span: span() };
}
function every(interval: Expr): OptionValue {
  return { kind: "every", interval, span: span() };
}
function target(connector: string, t: Expr): OptionValue {
  return { kind: "connector", connector: name(connector), target: t, span: span() };
}
function isOptionValue(value: Expr | OptionValue): value is OptionValue {
  return value.kind === "expr" || value.kind === "list" || value.kind === "every" || value.kind === "connector";
}
function option(optionName: string, value: Expr | OptionValue): OptionAssign {
  const v = isOptionValue(value) ? value : expr(value);
  return { name: name(optionName), value: v, span: span() };
}

const ownerSpan: Span = { start: 0, end: 5, line: 1000, column: 1 };

function validate(owner: OptionOwner, ...options: OptionAssign[]): { result: ValidatedOptions; sink: DiagnosticSink } {
  const sink = new DiagnosticSink();
  return { result: validateOptions({ owner, span: ownerSpan }, options, sink), sink };
}
function source(connector: string): ConnectorRole {
  return sourceConnectors.get(connector)!;
}
function sinkRole(connector: string): ConnectorRole {
  return sinkConnectors.get(connector)!;
}
/** key, message and hint of each diagnostic, in report order */
function reported(sink: DiagnosticSink): { key: string; message: string; hint: string | undefined }[] {
  return sink.items.map((d) => ({ key: d.key, message: d.message, hint: d.hint }));
}
function settings(result: ValidatedOptions): Record<string, unknown> {
  return Object.fromEntries([...result.values].map(([k, v]) => [k, v.setting]));
}

describe("the connector table", () => {
  it("has the sources and sinks LANGUAGE.md lists", () => {
    expect([...sourceConnectors.keys()].sort()).toEqual(["files", "generator", "kafka", "table"]);
    expect([...sinkConnectors.keys()].sort()).toEqual(["console", "files", "kafka", "memory", "table"]);
    expect([...connectors.keys()].sort()).toEqual(["console", "files", "generator", "kafka", "memory", "table"]);
  });

  it("has the options LANGUAGE.md lists for each role", () => {
    const names = (role: OptionOwner) => [...role.options.keys()].sort();
    expect(names(pipelineOptions)).toEqual(["checkpoint", "deadletter", "late", "retain_batches", "trigger"]);
    expect(names(source("kafka"))).toEqual(["brokers", "format", "max_per_batch", "start", "topic"]);
    expect(names(source("files"))).toEqual(["format", "max_files_per_batch"]);
    expect(names(source("table"))).toEqual([]);
    expect(names(source("generator"))).toEqual(["rate", "rows", "seed"]);
    expect(names(sinkRole("table"))).toEqual(["compact_every", "mode", "partition_by", "target_file_size"]);
    expect(names(sinkRole("kafka"))).toEqual(["brokers", "format", "key", "topic"]);
    expect(names(sinkRole("files"))).toEqual(["format"]);
    expect(names(sinkRole("console"))).toEqual(["mode", "rows"]);
    expect(names(sinkRole("memory"))).toEqual([]);
  });

  it("says which connectors take a target", () => {
    const withTarget = (roles: ReadonlyMap<string, ConnectorRole>) => [...roles.values()].filter((r) => r.target === "required").map((r) => r.connector).sort();
    expect(withTarget(sourceConnectors)).toEqual(["files", "table"]);
    expect(withTarget(sinkConnectors)).toEqual(["files", "table"]);
  });

  it("links each role back to its connector", () => {
    for (const connector of connectors.values()) {
      if (connector.source) expect([connector.source.connector, connector.source.role, connector.source.label]).toEqual([connector.name, "source", `${connector.name} source`]);
      if (connector.sink) expect([connector.sink.connector, connector.sink.role, connector.sink.label]).toEqual([connector.name, "sink", `${connector.name} sink`]);
    }
  });

  it("marks the required options", () => {
    const required = (role: OptionOwner) => [...role.options.values()].filter((o) => o.required).map((o) => o.name);
    expect(required(source("kafka"))).toEqual(["brokers", "topic"]);
    expect(required(sinkRole("kafka"))).toEqual(["brokers", "topic"]);
    expect(required(pipelineOptions)).toEqual([]);
  });
});

describe("validateOptions: valid options", () => {
  it("reads the kafka source of LANGUAGE.md's example and adds defaults", () => {
    const { result, sink } = validate(
      source("kafka"),
      option("brokers", env(str("KAFKA_BROKERS"), str("localhost:9092"))),
      option("topic", str("orders")),
      option("format", word("json")),
      option("start", word("earliest")),
      option("max_per_batch", int("100000")),
    );
    expect(sink.items).toEqual([]);
    expect(settings(result)).toEqual({
      brokers: { kind: "string", value: { kind: "env", variable: "KAFKA_BROKERS", fallback: "localhost:9092" } },
      topic: { kind: "string", value: { kind: "literal", value: "orders" } },
      format: { kind: "word", word: "json" },
      start: { kind: "word", word: "earliest" },
      max_per_batch: { kind: "integer", value: 100000 },
    });
    expect(result.values.get("topic")!.option?.name.text).toBe("topic");
  });

  it("fills in defaults, marked as not written", () => {
    const { result, sink } = validate(source("kafka"), option("brokers", str("b:9092")), option("topic", env(str("TOPIC"))));
    expect(sink.items).toEqual([]);
    expect(result.values.get("format")).toEqual({ name: "format", setting: { kind: "word", word: "json" }, option: undefined });
    expect(result.values.get("start")?.setting).toEqual({ kind: "word", word: "latest" });
    expect(result.values.get("topic")?.setting).toEqual({ kind: "string", value: { kind: "env", variable: "TOPIC", fallback: undefined } });
    expect(result.values.has("max_per_batch")).toBe(false);
  });

  it("reads the pipeline of LANGUAGE.md's example", () => {
    const { result, sink } = validate(
      pipelineOptions,
      option("checkpoint", str("checkpoints/revenue")),
      option("trigger", every(dur("30s", 30_000_000))),
      option("deadletter", target("table", str("data/revenue_rejects"))),
    );
    expect(sink.items).toEqual([]);
    expect(settings(result)).toEqual({
      checkpoint: { kind: "string", value: { kind: "literal", value: "checkpoints/revenue" } },
      trigger: { kind: "every", micros: 30_000_000 },
      deadletter: { kind: "connector", connector: "table", target: { kind: "literal", value: "data/revenue_rejects" } },
      retain_batches: { kind: "integer", value: 100 },
      late: { kind: "word", word: "deadletter" },
    });
  });

  it("reads the trigger words and the other pipeline options", () => {
    for (const w of ["once", "available_now"]) {
      const { result, sink } = validate(pipelineOptions, option("trigger", word(w)));
      expect(sink.items).toEqual([]);
      expect(result.values.get("trigger")?.setting).toEqual({ kind: "word", word: w });
    }
    const { result, sink } = validate(
      pipelineOptions,
      option("retain_batches", int("5")),
      option("late", word("drop")),
      option("deadletter", target("files", env(str("REJECTS")))),
    );
    expect(sink.items).toEqual([]);
    expect(settings(result)).toMatchObject({
      retain_batches: { kind: "integer", value: 5 },
      late: { kind: "word", word: "drop" },
      deadletter: { kind: "connector", connector: "files", target: { kind: "env", variable: "REJECTS", fallback: undefined } },
    });
  });

  it("reads a table sink, handing partition columns back with their spans", () => {
    const country = word("country");
    const { result, sink } = validate(
      sinkRole("table"),
      option("mode", word("complete")),
      option("partition_by", list(country, word("day"))),
      option("target_file_size", size("64mb", 64 * 1024 * 1024)),
      option("compact_every", int("10")),
    );
    expect(sink.items).toEqual([]);
    const partition = result.values.get("partition_by")?.setting;
    expect(partition?.kind === "columns" && partition.columns.map((c) => c.text)).toEqual(["country", "day"]);
    expect(partition?.kind === "columns" && partition.columns[0]!.span).toEqual(country.name.span);
    expect(result.values.get("target_file_size")?.setting).toEqual({ kind: "size", bytes: 64 * 1024 * 1024 });
    expect(result.values.get("compact_every")?.setting).toEqual({ kind: "integer", value: 10 });
  });

  it("accepts an empty partition_by", () => {
    const { result, sink } = validate(sinkRole("table"), option("partition_by", list()));
    expect(sink.items).toEqual([]);
    expect(result.values.get("partition_by")?.setting).toEqual({ kind: "columns", columns: [] });
  });

  it("hands the kafka sink's key expression back untouched", () => {
    const key = call("concat", word("user_id"), str("-"), word("country"));
    const { result, sink } = validate(sinkRole("kafka"), option("brokers", str("b")), option("topic", str("t")), option("key", key));
    expect(sink.items).toEqual([]);
    expect(result.values.get("key")?.setting).toEqual({ kind: "expression", expr: key });
  });

  it("reads a timestamp start, leaving its text to the checker", () => {
    const { result, sink } = validate(source("kafka"), option("brokers", str("b")), option("topic", str("t")), option("start", ts("2024-01-01T00:00:00Z")));
    expect(sink.items).toEqual([]);
    expect(result.values.get("start")?.setting).toEqual({ kind: "timestamp", text: "2024-01-01T00:00:00Z" });
  });

  it("reads generator options, with a negative seed", () => {
    const { result, sink } = validate(source("generator"), option("rate", int("1000")), option("rows", int("50")), option("seed", neg(int("7"))));
    expect(sink.items).toEqual([]);
    expect(settings(result)).toEqual({ rate: { kind: "integer", value: 1000 }, rows: { kind: "integer", value: 50 }, seed: { kind: "integer", value: -7 } });
  });

  it("gives seed, console mode and rows their defaults", () => {
    expect(settings(validate(source("generator")).result)).toEqual({ seed: { kind: "integer", value: 0 } });
    expect(settings(validate(sinkRole("console")).result)).toEqual({ mode: { kind: "word", word: "append" }, rows: { kind: "integer", value: 20 } });
  });
});

describe("validateOptions: unknown, duplicate and missing options", () => {
  it("suggests the closest option for a misspelling", () => {
    const misspelt = option("topc", str("orders"));
    const { result, sink } = validate(source("kafka"), option("brokers", str("b")), misspelt);
    expect(reported(sink)).toEqual([
      { key: "unknownOption", message: "`kafka source` has no option `topc`", hint: "did you mean `topic`?" },
      { key: "missingOption", message: "`kafka source` needs the option `topic`", hint: 'add `topic = "orders"`' },
    ]);
    expect(sink.items[0]!.span).toEqual(misspelt.name.span);
    expect(sink.items[1]!.span).toEqual(ownerSpan);
    expect(result.values.has("topc")).toBe(false);
  });

  it("lists the valid options when nothing is close", () => {
    const { sink } = validate(sinkRole("console"), option("partition_by", list(word("a"))));
    expect(reported(sink)).toEqual([{ key: "unknownOption", message: "`console sink` has no option `partition_by`", hint: "valid options: `mode`, `rows`" }]);
  });

  it("says when a connector takes no options", () => {
    const { sink } = validate(sinkRole("memory"), option("mode", word("append")));
    expect(reported(sink)).toEqual([{ key: "unknownOption", message: "`memory sink` has no option `mode`", hint: "`memory sink` takes no options" }]);
  });

  it("reports an option set twice at the second, keeping the first", () => {
    const second = option("topic", str("b"));
    const { result, sink } = validate(source("kafka"), option("brokers", str("x")), option("topic", str("a")), second);
    expect(reported(sink)).toEqual([{ key: "duplicateOption", message: "option `topic` is set twice", hint: expect.stringMatching(/^the first is on line \d+; remove one$/) }]);
    expect(sink.items[0]!.span).toEqual(second.name.span);
    expect(result.values.get("topic")?.setting).toEqual({ kind: "string", value: { kind: "literal", value: "a" } });
  });

  it("reports every missing required option", () => {
    const { sink } = validate(sinkRole("kafka"));
    expect(reported(sink).map((d) => d.message)).toEqual(["`kafka sink` needs the option `brokers`", "`kafka sink` needs the option `topic`"]);
  });

  it("does not call a required option missing when it was written with a bad value", () => {
    const { sink } = validate(source("kafka"), option("brokers", str("b")), option("topic", int("5")));
    expect(reported(sink).map((d) => d.key)).toEqual(["optionTypeMismatch"]);
  });

  it("does not report an unknown pipeline option as missing or duplicate", () => {
    const { sink } = validate(pipelineOptions, option("checkpoints", str("a")), option("checkpoints", str("b")));
    expect(reported(sink).map((d) => [d.key, d.hint])).toEqual([
      ["unknownOption", "did you mean `checkpoint`?"],
      ["unknownOption", "did you mean `checkpoint`?"],
    ]);
  });
});

describe("validateOptions: values of the wrong kind", () => {
  function single(owner: OptionOwner, assign: OptionAssign) {
    const { result, sink } = validate(owner, assign);
    return { result, diagnostics: reported(sink).filter((d) => d.key !== "missingOption"), spans: sink.items.map((d) => d.span) };
  }

  it.each<[string, OptionOwner, OptionAssign, string, string | undefined]>([
    ["a bare word for a string", source("kafka"), option("topic", word("orders")), 'option `topic` takes a string or `env("NAME")`', 'write it in quotes: "orders"'],
    ["a number for a string", pipelineOptions, option("checkpoint", int("1")), 'option `checkpoint` takes a string or `env("NAME")`', undefined],
    ["a list for a string", source("kafka"), option("brokers", list(str("a"), str("b"))), 'option `brokers` takes a string or `env("NAME")`', undefined],
    ["another call for a string", source("kafka"), option("topic", call("upper", str("t"))), 'option `topic` takes a string or `env("NAME")`', undefined],
    ["a string for an integer", source("kafka"), option("max_per_batch", str("10")), "option `max_per_batch` takes a positive integer", undefined],
    ["zero for a positive integer", source("generator"), option("rate", int("0")), "option `rate` takes a positive integer", undefined],
    ["a negative number for a positive integer", source("generator"), option("rows", neg(int("5"))), "option `rows` takes a positive integer", undefined],
    ["env() for an integer", pipelineOptions, option("retain_batches", env(str("N"))), "option `retain_batches` takes a positive integer", "`env()` gives a string, so only string options take it"],
    ["a double for an integer", source("generator"), option("seed", literal({ type: "double", value: 1.5, text: "1.5" })), "option `seed` takes an integer", undefined],
    ["a number for a size", sinkRole("table"), option("target_file_size", int("1000")), "option `target_file_size` takes a size such as `128mb`", undefined],
    ["a zero size", sinkRole("table"), option("target_file_size", size("0mb", 0)), "option `target_file_size` takes a size such as `128mb`", undefined],
    ["a quoted word", source("kafka"), option("format", str("json")), "option `format` takes `json`, `csv` or `raw`", "write it without quotes: `json`"],
    ["a quoted unknown word", sinkRole("files"), option("format", str("xml")), "option `format` takes `json`, `csv` or `parquet`", undefined],
    ["a number for a word", sinkRole("console"), option("mode", int("1")), "option `mode` takes `append`, `update` or `complete`", undefined],
    ["a string for a start", source("kafka"), option("start", str("2024-01-01")), 'option `start` takes `earliest`, `latest` or `timestamp "..."`', undefined],
    ["a bare duration for a trigger", pipelineOptions, option("trigger", dur("30s", 30_000_000)), "option `trigger` takes `every DURATION`, `once` or `available_now`", "write `every 30s`"],
    ["a string for a trigger", pipelineOptions, option("trigger", str("once")), "option `trigger` takes `every DURATION`, `once` or `available_now`", undefined],
    ["a bare column for partition_by", sinkRole("table"), option("partition_by", word("country")), "option `partition_by` takes a list of column names, such as `[country]`", "write `[country]`"],
    ["a list for the key", sinkRole("kafka"), option("key", list(word("a"))), "option `key` takes an expression over the stream's columns, such as `user_id`", undefined],
    ["a string for deadletter", pipelineOptions, option("deadletter", str("data/rejects")), 'option `deadletter` takes a connector and its target, such as `table "data/rejects"`', undefined],
    ["a connector for a string", pipelineOptions, option("checkpoint", target("table", str("x"))), 'option `checkpoint` takes a string or `env("NAME")`', undefined],
    ["every for a word", pipelineOptions, option("late", every(dur("1s", 1_000_000))), "option `late` takes `deadletter` or `drop`", undefined],
  ])("%s", (_what, owner, assign, message, hint) => {
    const { result, diagnostics, spans } = single(owner, assign);
    expect(diagnostics).toEqual([{ key: "optionTypeMismatch", message, hint }]);
    expect(spans[0]).toEqual(assign.value.span);
    expect(result.values.get(assign.name.text)?.option).toBeUndefined();
  });

  it("reports a non-column item of partition_by at the item", () => {
    const bad = str("country");
    const { sink } = validate(sinkRole("table"), option("partition_by", list(word("day"), bad)));
    expect(reported(sink)).toEqual([{ key: "optionTypeMismatch", message: "option `partition_by` takes a list of column names, such as `[country]`", hint: undefined }]);
    expect(sink.items[0]!.span).toEqual(bad.span);
  });

  it("reports an every that is not a positive duration", () => {
    for (const interval of [int("30"), dur("0s", 0), str("30s")]) {
      const { sink } = validate(pipelineOptions, option("trigger", every(interval)));
      expect(reported(sink)).toEqual([{ key: "durationExpected", message: expect.stringMatching(/^the trigger interval must be /), hint: undefined }]);
      expect(sink.items[0]!.span).toEqual(interval.span);
    }
  });
});

describe("validateOptions: bad values", () => {
  it("rejects an unknown word, suggesting the closest and listing the valid ones", () => {
    const value = word("apend");
    const { sink } = validate(sinkRole("table"), option("mode", value));
    expect(reported(sink)).toEqual([{ key: "badOptionValue", message: "`apend` is not a valid value for `mode`", hint: "did you mean `append`? valid values: `append`, `complete`" }]);
    expect(sink.items[0]!.span).toEqual(value.name.span);
  });

  it("lists the valid words when none is close", () => {
    const { sink } = validate(source("files"), option("format", word("xml")));
    expect(reported(sink)).toEqual([{ key: "badOptionValue", message: "`xml` is not a valid value for `format`", hint: "valid values: `json`, `csv`, `parquet`" }]);
  });

  it("rejects a mode the connector does not support", () => {
    const { sink } = validate(sinkRole("table"), option("mode", word("update")));
    expect(reported(sink).map((d) => [d.key, d.hint])).toEqual([["badOptionValue", "valid values: `append`, `complete`"]]);
  });

  it("rejects an unknown trigger word, listing the trigger forms", () => {
    const { sink } = validate(pipelineOptions, option("trigger", word("onse")));
    expect(reported(sink)).toEqual([{ key: "badOptionValue", message: "`onse` is not a valid value for `trigger`", hint: "did you mean `once`? valid values: `every DURATION`, `once`, `available_now`" }]);
  });

  it("rejects a deadletter connector other than table or files", () => {
    const value = target("kafka", str("rejects"));
    const { sink } = validate(pipelineOptions, option("deadletter", value));
    expect(reported(sink)).toEqual([{ key: "badOptionValue", message: "`kafka` is not a valid value for `deadletter`", hint: "valid connectors: `table`, `files`" }]);
    expect(sink.items[0]!.span).toEqual(value.kind === "connector" && value.connector.span);
  });

  it("rejects a deadletter target that is not a string", () => {
    const { sink } = validate(pipelineOptions, option("deadletter", target("table", word("rejects"))));
    expect(reported(sink)).toEqual([
      { key: "optionTypeMismatch", message: 'option `deadletter` takes a string or `env("NAME")` as the target', hint: 'write it in quotes: "rejects"' },
    ]);
  });

  it("rejects a column listed twice in partition_by", () => {
    const { result, sink } = validate(sinkRole("table"), option("partition_by", list(word("a"), word("b"), word("a"))));
    expect(reported(sink)).toEqual([{ key: "badOptionValue", message: "`a` is not a valid value for `partition_by`", hint: "it is listed twice" }]);
    expect(result.values.has("partition_by")).toBe(false);
  });

  it("rejects integers beyond the safe range", () => {
    const { sink } = validate(source("kafka"), option("brokers", str("b")), option("topic", str("t")), option("max_per_batch", int("99999999999999999999")));
    expect(reported(sink)).toEqual([{ key: "badOptionValue", message: "`99999999999999999999` is not a valid value for `max_per_batch`", hint: "integers go up to 9007199254740991" }]);
  });
});

describe("env()", () => {
  it.each<[string, Expr]>([
    ["no arguments", env()],
    ["three arguments", env(str("A"), str("b"), str("c"))],
    ["a name that is not a string", env(word("HOME"))],
    ["a default that is not a string", env(str("PORT"), int("9092"))],
    ["a star", { kind: "call", callee: name("env"), args: [], star: true, span: span() }],
  ])("rejects %s", (_what, call) => {
    const { sink } = validate(source("kafka"), option("brokers", call), option("topic", str("t")));
    expect(reported(sink)).toEqual([{ key: "badEnvCall", message: "`env()` takes a variable name and an optional default, both strings", hint: 'write `env("NAME")` or `env("NAME", "default")`' }]);
    expect(sink.items[0]!.span).toEqual(call.span);
  });

  it("rejects an empty variable name", () => {
    const { sink } = validate(pipelineOptions, option("checkpoint", env(str(""))));
    expect(reported(sink)).toEqual([{ key: "badEnvCall", message: "`env()` takes a variable name and an optional default, both strings", hint: "the variable name cannot be empty" }]);
  });

  it("is accepted as a target", () => {
    const sink = new DiagnosticSink();
    expect(validateTarget(sinkRole("files"), env(str("OUT"), str("data/out")), span(), sink)).toEqual({ kind: "env", variable: "OUT", fallback: "data/out" });
    expect(sink.items).toEqual([]);
  });
});

describe("validateTarget", () => {
  it("returns a literal target", () => {
    const sink = new DiagnosticSink();
    expect(validateTarget(source("table"), str("data/orders"), span(), sink)).toEqual({ kind: "literal", value: "data/orders" });
    expect(sink.items).toEqual([]);
  });

  it("reports a missing target at the connector, with an example", () => {
    const sink = new DiagnosticSink();
    const at = span();
    expect(validateTarget(sinkRole("table"), undefined, at, sink)).toBeUndefined();
    expect(reported(sink)).toEqual([{ key: "missingTarget", message: 'a `table` sink needs a target, such as `table "data/out"`', hint: undefined }]);
    expect(sink.items[0]!.span).toEqual(at);
  });

  it("reports a target given to a connector that takes none, at the target", () => {
    const sink = new DiagnosticSink();
    const t = str("orders");
    expect(validateTarget(source("kafka"), t, span(), sink)).toBeUndefined();
    expect(reported(sink)).toEqual([{ key: "unexpectedTarget", message: "a `kafka` source takes no target", hint: "remove it" }]);
    expect(sink.items[0]!.span).toEqual(t.span);
  });

  it("accepts no target where none is taken", () => {
    const sink = new DiagnosticSink();
    expect(validateTarget(sinkRole("console"), undefined, span(), sink)).toBeUndefined();
    expect(sink.items).toEqual([]);
  });

  it("rejects a target that is not a string", () => {
    const sink = new DiagnosticSink();
    expect(validateTarget(source("files"), int("3"), span(), sink)).toBeUndefined();
    expect(reported(sink).map((d) => d.key)).toEqual(["optionTypeMismatch"]);
  });
});
