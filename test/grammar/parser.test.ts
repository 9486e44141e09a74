import { describe, expect, it } from "vitest";
import type { Decl, OptionValue } from "../../grammar/ast.ts";
import { parseProgram } from "../../grammar/cst-to-ast.ts";

function parseClean(text: string): Decl[] {
  const { program, problems } = parseProgram(text);
  expect(problems).toEqual([]);
  return program.decls;
}

function optionValue(decls: Decl[], name: string): OptionValue {
  for (const decl of decls) {
    if (decl.kind === "source" || decl.kind === "sink" || decl.kind === "pipeline") {
      const option = decl.options.find((o) => o.name.text === name);
      if (option) return option.value;
    }
  }
  throw new Error(`no option ${name}`);
}

describe("parser", () => {
  it("does not take the next declaration for a connector's target", () => {
    const decls = parseClean("source s: { a: int } = generator\nstream x = s\nsink x -> console\nstream y = x\nsink y -> memory\n");
    expect(decls.map((d) => d.kind)).toEqual(["source", "stream", "sink", "stream", "sink"]);
    expect(decls[0]!.kind === "source" && decls[0]!.target).toBeUndefined();
  });

  it("reads a target written as a string or as env()", () => {
    const decls = parseClean('sink a -> table "data/a"\nsink b -> table env("B", "data/b")\n');
    expect(decls.map((d) => (d.kind === "sink" ? d.target?.kind : undefined))).toEqual(["literal", "call"]);
  });

  it("reads `timestamp \"...\"` in an option as a typed literal, and `table \"...\"` as a connector target", () => {
    const decls = parseClean('pipeline p { deadletter = table "data/rejects" }\nsource s: { a: int } = kafka { start = timestamp "2024-01-01T00:00:00Z" }\n');
    expect(optionValue(decls, "deadletter").kind).toBe("connector");
    const start = optionValue(decls, "start");
    expect(start.kind === "expr" && start.expr.kind === "literal" && start.expr.literal).toEqual({ type: "timestamp", text: "2024-01-01T00:00:00Z" });
  });

  it("reads `every 30s` as a trigger and lists of bare words", () => {
    const decls = parseClean("pipeline p { trigger = every 30s }\nsink a -> table \"t\" { partition_by = [country, day] }\n");
    expect(optionValue(decls, "trigger").kind).toBe("every");
    const list = optionValue(decls, "partition_by");
    expect(list.kind === "list" && list.items.length).toBe(2);
  });

  it("lets soft keywords name columns and keeps reserved words reserved", () => {
    parseClean("schema S { date: date, window: string, source: string, `end`: int, `a``b`: int }\n");
    const { problems } = parseProgram("schema S { end: int }\n");
    expect(problems.some((p) => p.kind === "parse" && p.foundIsReservedWord)).toBe(true);
  });

  it("folds a minus into a literal so the smallest long is a literal", () => {
    const decls = parseClean("stream s = t | where x > -9223372036854775808\n");
    const where = decls[0]!.kind === "stream" ? decls[0]!.transforms[0] : undefined;
    expect(where?.kind === "where" && where.condition.kind === "binary" && where.condition.right).toMatchObject({ kind: "literal", literal: { type: "integer", digits: "-9223372036854775808" } });
  });

  it("gives every node a span inside the text", () => {
    const text = "stream s = t | where a.b[0] > 1 and not c in (1, 2) | select x = f(y), *\n";
    const { program } = parseProgram(text);
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (value && typeof value === "object") {
        const span = (value as { span?: { start: number; end: number; line: number; column: number } }).span;
        if (span) {
          expect(span.start).toBeGreaterThanOrEqual(0);
          expect(span.end).toBeLessThanOrEqual(text.length + 1);
          expect(span.line).toBeGreaterThanOrEqual(1);
        }
        Object.values(value).forEach(visit);
      }
    };
    visit(program);
  });
});
