/**
 * The compiler's front end, one way through: parse -> resolve -> type-check -> logical plan.
 *
 * Contract: `checkProgram` never throws on any program text. It returns every diagnostic of the
 * program in source order, and the logical plan when there is no error.
 */
import type { Span } from "../grammar/ast.ts";
import { parseProgram, type SyntaxProblem } from "../grammar/cst-to-ast.ts";
import type * as ast from "../grammar/ast.ts";
import { DiagnosticSink, type Diagnostic } from "./diagnostics.ts";
import type { LogicalPlan } from "./logical/plan.ts";
import { resolve } from "./resolve.ts";
import { suggest } from "./suggest.ts";
import { typecheck } from "./typecheck.ts";

export interface CheckResult {
  program: ast.Program;
  plan: LogicalPlan | undefined;
  diagnostics: Diagnostic[];
}

export interface CheckOptions {
  /** The file's path, to resolve imports; undefined for text that has no file. */
  path: string | undefined;
}

export function checkProgram(text: string, options: CheckOptions): CheckResult {
  const sink = new DiagnosticSink();
  const { program, problems } = parseProgram(text);
  reportSyntaxProblems(problems, sink);
  const resolved = resolve(program, { path: options.path }, sink);
  const plan = typecheck(resolved, sink);
  return { program, plan: sink.errorCount === 0 ? plan : undefined, diagnostics: dedupe(sink.sorted()) };
}

/** One diagnostic per code and position: recovery can meet the same spot twice. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}@${d.span.start}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const declarationKeywords = ["pipeline", "schema", "source", "stream", "sink", "import", "test"];
const transformKeywords = ["where", "select", "extend", "explode", "watermark", "window", "aggregate", "dedup", "join", "left", "union"];

/** What a grammar rule is called in a message: "unexpected `x` in {context}". */
const ruleContexts: Record<string, string> = {
  transform: "a transform",
  typeExpr: "a type",
  optionValue: "an option value",
  optionAssign: "an option",
  optionBlock: "the options",
  fieldDecl: "a field",
  fieldBlock: "the fields",
  declaration: "a declaration",
  testStep: "a test",
  recordLit: "a test row",
  selectItem: "a `select` item",
  selectTransform: "a `select`",
  aggregateTransform: "an `aggregate`",
  windowTransform: "a `window`",
  target: "a target",
};

const characterHints: Record<string, string> = {
  "#": "comments start with `//`",
  "'": 'strings are written in double quotes: `"text"`',
  ";": "declarations and options need no `;`; end the line instead",
  "&": "write `and`",
  "!": "write `not`, or `!=` for not equal",
  "@": "names are letters, digits and `_`; write any other name in backticks: `` `@name` ``",
  "$": "names are letters, digits and `_`; write any other name in backticks",
};

function reportSyntaxProblems(problems: SyntaxProblem[], sink: DiagnosticSink): void {
  const parseErrorAt = new Set<number>();
  for (const p of problems) if (p.kind === "parse") parseErrorAt.add(p.span.start);
  for (const problem of problems) {
    switch (problem.kind) {
      case "unexpectedCharacter":
        sink.report("unexpectedCharacter", problem.span, { text: problem.text }, characterHints[problem.text[0]!]);
        break;
      case "unterminatedString":
        sink.report("unterminatedString", problem.span, {}, 'close it with `"` on the same line; write `\\n` for a line break');
        break;
      case "unterminatedComment":
        sink.report("unterminatedComment", problem.span, {}, "close it with `*/`");
        break;
      case "badEscape":
        sink.report("badEscape", problem.span, { escape: problem.escape }, 'the escapes are `\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\u{1F600}`');
        break;
      case "badNumber":
        sink.report("badNumber", problem.span, { text: problem.text }, "underscores go between digits, as in `1_000_000`, and values must fit in a 64-bit number");
        break;
      case "strayTokens": {
        if (parseErrorAt.has(problem.span.start)) break;
        const close = suggest(problem.found, declarationKeywords);
        sink.report(
          "expectedDeclaration",
          problem.span,
          { found: describeFound(problem.found) },
          close ? `did you mean \`${close}\`?` : `declarations start with ${declarationKeywords.map((k) => `\`${k}\``).join(", ")}`,
        );
        break;
      }
      case "parse":
        reportParseError(problem, sink);
        break;
    }
  }
}

function reportParseError(problem: Extract<SyntaxProblem, { kind: "parse" }>, sink: DiagnosticSink): void {
  const found = describeFound(problem.found);
  const expected = problem.detail.expected;
  const span: Span = problem.span;
  if (problem.foundIsReservedWord && expected.includes("a name")) {
    sink.report("reservedWordAsName", span, { word: problem.found }, `write it in backticks: \`\`${problem.found}\`\``);
    return;
  }
  if (problem.exception === "mismatch") {
    sink.report("unexpectedToken", span, { found, expected: listExpected(expected, problem.detail.rule) }, mismatchHint(problem));
    return;
  }
  const context = ruleContexts[problem.detail.rule] ?? "an expression";
  let hint: string | undefined;
  if (problem.detail.rule === "transform") {
    const close = suggest(problem.found, transformKeywords) ?? transformSynonyms[problem.found.toLowerCase()];
    hint = close ? `did you mean \`${close}\`?` : `transforms are ${transformKeywords.filter((k) => k !== "left").map((k) => `\`${k}\``).join(", ")}`;
  } else if (problem.detail.rule === "typeExpr") {
    hint = "types are `bool`, `int`, `long`, `double`, `decimal(P, S)`, `string`, `bytes`, `date`, `timestamp`, `list<T>`, `map<string, T>`, `struct { ... }`";
  } else {
    hint = `expected ${listExpected(expected, problem.detail.rule)}`;
  }
  sink.report("noViableAlternative", span, { found, context }, hint);
}

/** Words users bring from other tools, mapped to ours. */
const transformSynonyms: Record<string, string> = { filter: "where", map: "select", project: "select", group: "aggregate", groupby: "aggregate", distinct: "dedup", flatmap: "explode", flatten: "explode" };

function mismatchHint(problem: Extract<SyntaxProblem, { kind: "parse" }>): string | undefined {
  const expected = problem.detail.expected;
  if (expected.includes("`=`") && problem.found === ":") return "options are set with `=`: `name = value`";
  if (expected.includes("`:`") && problem.found === "=") return "fields are declared with `:`: `name: type`";
  if (expected.includes("`)`") || expected.includes("`}`") || expected.includes("`]`")) return "a bracket opened before is not closed";
  return undefined;
}

function describeFound(found: string): string {
  if (found === "") return "the end of the file";
  const shown = found.length > 24 ? found.slice(0, 21) + "..." : found;
  return `\`${shown}\``;
}

function listExpected(expected: string[], rule: string): string {
  if (expected.length === 0) return ruleContexts[rule] ?? "more input";
  if (expected.length > 5) return ruleContexts[rule] ?? "an expression";
  if (expected.length === 1) return expected[0]!;
  return `${expected.slice(0, -1).join(", ")} or ${expected[expected.length - 1]}`;
}
