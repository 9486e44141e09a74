/**
 * Robustness: thousands of mutated, truncated and random programs never make the front end throw
 * or hang. Each ends either in a plan (the mutation happened to be a valid program) or in error
 * diagnostics, never neither, and every diagnostic has a valid span and a code from the catalog.
 *
 * `MUTATIONS=N` sets the number of mutated cases (default 3,500); `MUTATIONS_SEED=S` moves the whole
 * run to other cases. A failure names its case seed and mutation and writes the mutated text to a
 * temp file, so `streamc check FILE` reproduces it (a mutated example is checked as if it were at
 * the example's path, for its imports).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkProgram } from "../../compiler/front-end.ts";
import { catalog, formatDiagnostics, type Diagnostic } from "../../compiler/diagnostics.ts";
import {
  fixedTokenTexts,
  hazardTexts,
  intBelow,
  mulberry32,
  mutate,
  mutationKinds,
  randomBytes,
  randomCodeUnits,
  seedOf,
  textTokens,
  tokenSoup,
} from "./mutators.ts";
import { Watchdog } from "./watchdog.ts";

const root = join(import.meta.dirname, "../..");
const caseCount = Number(process.env["MUTATIONS"] ?? 3_500);
const baseSeed = Number(process.env["MUTATIONS_SEED"] ?? 0x5eed);
/** A case slower than this is a hang in the making (super-linear recovery, a loop that ends late). */
const caseLimitMs = 2_000;
/** No progress for this long is an infinite loop: the watchdog kills the run and names the case. */
const watchdogLimitMs = 30_000;

const examples = readdirSync(join(root, "examples"), { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".stream"))
  .sort()
  .map((file) => {
    const path = join(root, "examples", file);
    return { name: relative(root, path), path, text: readFileSync(path, "utf8") };
  });

const donors = examples.map((e) => e.text);
const catalogByKey = new Map(Object.entries(catalog));
const catalogCodes = new Set<string>(Object.values(catalog).map((entry) => entry.code));

let watchdog: Watchdog;
beforeAll(() => {
  watchdog = new Watchdog(watchdogLimitMs);
});
afterAll(async () => {
  await watchdog.stop();
});

interface Case {
  seed: number;
  label: string;
  text: string;
  /** The file the text stands for, so that relative imports resolve as they would in the example. */
  path: string | undefined;
}

/** The 1-based line and column of `offset`, lines ending at `\n` as in `formatDiagnostics`. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function spanProblem(d: Diagnostic, text: string): string | undefined {
  const { start, end, line, column } = d.span;
  if (![start, end, line, column].every(Number.isInteger)) return `span has a non-integer field: ${JSON.stringify(d.span)}`;
  if (line < 1 || column < 1) return `span line/column below 1: ${JSON.stringify(d.span)}`;
  if (start < 0 || start > end || end > text.length + 1) return `span offsets out of range 0..${text.length + 1}: ${JSON.stringify(d.span)}`;
  const expected = lineAndColumn(text, start);
  if (expected.line !== line || expected.column !== column) {
    return `span says ${line}:${column} but offset ${start} is at ${expected.line}:${expected.column}`;
  }
  return undefined;
}

/** What a message shows when a template got a JavaScript value instead of text (no input here spells these). */
function leakedValue(text: string): string | undefined {
  return /\[object \w+\]|\[native code\]|\bundefined\b|\bNaN\b|=>/.exec(text)?.[0];
}

/** Runs one case; returns what is wrong with the outcome, or undefined. */
function runCase(c: Case): string | undefined {
  watchdog.beat(`seed ${c.seed}: ${c.label}`, c.text);
  const started = performance.now();
  let result: ReturnType<typeof checkProgram>;
  let formatted: string;
  try {
    result = checkProgram(c.text, { path: c.path });
  } catch (error) {
    return `checkProgram threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  try {
    formatted = formatDiagnostics("case.stream", c.text, result.diagnostics);
  } catch (error) {
    return `formatDiagnostics threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  const elapsed = performance.now() - started;
  if (elapsed > caseLimitMs) return `took ${elapsed.toFixed(0)} ms (limit ${caseLimitMs} ms)`;
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (result.plan === undefined && errors.length === 0) return "no plan and no error diagnostic";
  if (result.plan !== undefined && errors.length > 0) return `a plan and ${errors.length} error(s): ${errors[0]!.message}`;
  if (typeof formatted !== "string") return "formatDiagnostics returned no string";
  for (const d of result.diagnostics) {
    const entry = catalogByKey.get(d.key);
    if (!entry || !catalogCodes.has(d.code) || entry.code !== d.code || entry.severity !== d.severity) {
      return `diagnostic ${d.key}/${d.code}/${d.severity} does not match the catalog`;
    }
    if (d.message.trim() === "" || /\{[a-z_]+\}/.test(d.message)) return `${d.code} has an unfilled message: ${d.message}`;
    const leak = leakedValue(d.message) ?? (d.hint === undefined ? undefined : leakedValue(d.hint));
    if (leak) return `${d.code} shows a JavaScript value (${leak}): ${d.message}${d.hint ? ` (hint: ${d.hint})` : ""}`;
    const problem = spanProblem(d, c.text);
    if (problem) return `${d.code} "${d.message}": ${problem}`;
  }
  return undefined;
}

/** Runs cases and fails once with every broken case, each with its seed, mutation and text file. */
function runAll(cases: Iterable<Case>): number {
  const failures: string[] = [];
  let count = 0;
  for (const c of cases) {
    count++;
    const problem = runCase(c);
    if (!problem) continue;
    const dir = join(tmpdir(), "streamc-mutations");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `case-${c.seed}.stream`);
    writeFileSync(file, c.text);
    const shown = c.text.length <= 600 ? `\n--- text ---\n${c.text}\n------------` : "";
    const checkedAs = c.path ? ` (checked as ${relative(root, c.path)})` : "";
    failures.push(`seed ${c.seed}: ${c.label}\n  ${problem}\n  text: ${file}${checkedAs}${shown}`);
  }
  if (failures.length > 0) {
    expect.fail(`${failures.length} of ${count} cases failed (first 10 shown):\n\n${failures.slice(0, 10).join("\n\n")}`);
  }
  return count;
}

describe("mutated examples", () => {
  it("has examples to mutate", () => {
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) {
      const result = checkProgram(example.text, { path: example.path });
      expect(result.diagnostics.filter((d) => d.severity === "error"), example.name).toEqual([]);
      expect(result.plan, example.name).toBeDefined();
    }
  });

  const perGroup = Math.ceil(caseCount / Math.max(1, examples.length * mutationKinds.length));
  for (const [exampleIndex, example] of examples.entries()) {
    describe(example.name, () => {
      for (const [kindIndex, kind] of mutationKinds.entries()) {
        it(`${kind} (${perGroup} cases)`, () => {
          function* cases(): Generator<Case> {
            for (let i = 0; i < perGroup; i++) {
              const seed = seedOf(baseSeed, exampleIndex, kindIndex, i);
              const mutation = mutate(example.text, kind, mulberry32(seed), donors);
              yield { seed, label: `${example.name}, ${mutation.description}`, text: mutation.text, path: example.path };
            }
          }
          expect(runAll(cases())).toBe(perGroup);
        });
      }
    });
  }
});

describe("random input", () => {
  const exampleTokens = [...new Set(examples.flatMap((e) => textTokens(e.text).map((t) => t.image)))];

  it("survives degenerate texts", () => {
    const texts = ["", " ", "\n", "\r\n", "\t", "\u0000", "\ufeff", "//", "/*", '"', "`", "|", "{", "}", "stream", "stream x = ", "source", "test", "schema S {"];
    runAll(texts.map((text, i) => ({ seed: i, label: `degenerate text ${JSON.stringify(text)}`, text, path: undefined })));
  });

  it("survives deep nesting", () => {
    // Nested deeper than the stack allows, a program gets a diagnostic (S1010), never a RangeError.
    const where = (expr: string) => `source s: { a: long, l: list<long> } = files "x"\nstream t = s | where ${expr} > 0\nsink t -> console\n`;
    const texts: [string, string][] = [
      ["1,000 parentheses", where("(".repeat(1000) + "a" + ")".repeat(1000))],
      ["5,000 parentheses", where("(".repeat(5000) + "a" + ")".repeat(5000))],
      ["1,000 unclosed parentheses", where("(".repeat(1000))],
      ["1,000 nested calls", where("abs(".repeat(1000) + "a" + ")".repeat(1000))],
      ["1,000 nested ifs", where("if(true, ".repeat(1000) + "a" + ", 0)".repeat(1000))],
      ["20,000 unary minus", where("- ".repeat(20_000) + "a")],
      ["20,000 not", `source s: { a: bool } = files "x"\nstream t = s | where ${"not ".repeat(20_000)}a\nsink t -> console\n`],
      ["5,000 index accesses", where("l" + "[0]".repeat(5000))],
      ["10,000 additions", where(Array(10_000).fill("a").join(" + "))],
      ["5,000 nested list types", `schema S { a: ${"list<".repeat(5000)}int${">".repeat(5000)} }\n`],
      ["2,000 nested struct types", `schema S { a: ${"struct { b: ".repeat(2000)}int${" }".repeat(2000)} }\n`],
    ];
    runAll(texts.map(([label, text], i) => ({ seed: i, label, text, path: undefined })));
  });

  const randomCases: { name: string; count: number; make: (seed: number) => string }[] = [
    { name: "random bytes", count: 150, make: (seed) => { const r = mulberry32(seed); return randomBytes(r, intBelow(r, 400)); } },
    { name: "random UTF-16 code units", count: 50, make: (seed) => { const r = mulberry32(seed); return randomCodeUnits(r, intBelow(r, 200)); } },
    {
      name: "soup of keywords, punctuation and hazards",
      count: 150,
      make: (seed) => { const r = mulberry32(seed); return tokenSoup(r, [...fixedTokenTexts, ...hazardTexts, "x", "amount", "42", '"s"', "10m"], intBelow(r, 120)); },
    },
    { name: "soup of the examples' tokens", count: 150, make: (seed) => { const r = mulberry32(seed); return tokenSoup(r, exampleTokens, intBelow(r, 300)); } },
  ];
  for (const [groupIndex, group] of randomCases.entries()) {
    it(`${group.name} (${group.count} cases)`, () => {
      function* cases(): Generator<Case> {
        for (let i = 0; i < group.count; i++) {
          const seed = seedOf(baseSeed, 1000 + groupIndex, i);
          yield { seed, label: `${group.name} #${i}`, text: group.make(seed), path: undefined };
        }
      }
      expect(runAll(cases())).toBe(group.count);
    });
  }
});
