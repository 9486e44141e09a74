/**
 * The compiler's front end, one way through: parse -> resolve -> type-check -> logical plan.
 *
 * Contract: `checkProgram` never throws on any program text. It returns every diagnostic of the
 * program in source order, and the logical plan when there is no error.
 */
import type { Span } from "../grammar/ast.ts";
import { parseProgram, type SyntaxProblem } from "../grammar/cst-to-ast.ts";
import { tokenize } from "../grammar/lexer.ts";
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
  try {
    return checkPhases(text, options);
  } catch (error) {
    // Every phase recurses over the program's nesting, so a program nested deeper than the stack
    // allows (`((((...` some hundreds deep) ends here: reported, not thrown.
    if (!(error instanceof RangeError && /call stack/i.test(error.message))) throw error;
    const sink = new DiagnosticSink();
    sink.report("nestedTooDeeply", deepestNesting(text), {}, "nest less: compute the parts of a deep expression in earlier `extend` steps");
    return { program: { decls: [], span: { start: 0, end: text.length, line: 1, column: 1 } }, plan: undefined, diagnostics: sink.sorted() };
  }
}

function checkPhases(text: string, options: CheckOptions): CheckResult {
  const sink = new DiagnosticSink();
  const { program, problems } = parseProgram(text);
  reportSyntaxProblems(problems, sink);
  const resolved = resolve(program, { path: options.path }, sink);
  const plan = typecheck(resolved, sink);
  return { program, plan: sink.errorCount === 0 ? plan : undefined, diagnostics: dedupe(sink.sorted()) };
}

/** The outermost bracket of the deepest nest of brackets, else the first token: where to point when nesting is too deep. */
function deepestNesting(text: string): Span {
  const tokens = tokenize(text).tokens;
  let at = tokens[0];
  let outermost = at;
  let depth = 0;
  let deepest = 0;
  for (const token of tokens) {
    if (token.image === "(" || token.image === "[" || token.image === "{") {
      if (depth === 0) outermost = token;
      depth++;
      if (depth > deepest) {
        deepest = depth;
        at = outermost;
      }
    } else if (token.image === ")" || token.image === "]" || token.image === "}") {
      depth = Math.max(0, depth - 1);
    }
  }
  if (!at) return { start: 0, end: Math.min(1, text.length), line: 1, column: 1 };
  return { start: at.startOffset, end: at.startOffset + at.image.length, line: at.startLine ?? 1, column: at.startColumn ?? 1 };
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
          close ? `did you mean \`${close}\`?`
            : problem.continuesLine ? "is a `,` or an operator missing before it?"
              : `declarations start with ${declarationKeywords.map((k) => `\`${k}\``).join(", ")}`,
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
  // In a list of fields or options, a reserved word where the list goes on is meant as a name.
  if (problem.foundIsReservedWord && (expected.includes("a name") || namedItemRules.has(problem.detail.rule))) {
    sink.report("reservedWordAsName", span, { word: problem.found }, `write it in backticks: \`\` \`${problem.found}\` \`\``);
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
  } else if (context === "an expression" && problem.previous === ",") {
    hint = "an item is missing after `,`; remove the `,` if the list ends there";
  } else if (context === "an expression" && operatorWords.has(problem.previous)) {
    hint = `\`${problem.previous}\` needs an operand after it`;
  } else {
    hint = `expected ${listExpected(expected, problem.detail.rule)}`;
  }
  sink.report("noViableAlternative", span, { found, context }, hint);
}

/** Rules whose items start with a name: a reserved word there is a field, option or column name. */
const namedItemRules = new Set(["fieldBlock", "optionBlock", "recordLit"]);

/** Tokens after which an operand must follow. */
const operatorWords = new Set(["and", "or", "not", "in", "like", "??", "==", "!=", "<", "<=", ">", ">=", "=", "+", "-", "*", "/", "%", "("]);

/** Words users bring from other tools, mapped to ours; without a prototype, so that `constructor` finds nothing. */
const transformSynonyms: Record<string, string> = Object.setPrototypeOf({ filter: "where", map: "select", project: "select", group: "aggregate", groupby: "aggregate", distinct: "dedup", flatmap: "explode", flatten: "explode" }, null);

function mismatchHint(problem: Extract<SyntaxProblem, { kind: "parse" }>): string | undefined {
  const expected = problem.detail.expected;
  if (expected.includes("`=`") && problem.found === ":") return "options are set with `=`: `name = value`";
  if (expected.includes("`:`") && problem.found === "=") return "fields are declared with `:`: `name: type`";
  if (expected.includes("`==`") && problem.found === "=") return "compare with `==`; a single `=` names a column or sets an option";
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
