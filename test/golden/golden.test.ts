/**
 * Golden tests for the compiler front end (STYLE.md item 10).
 *
 * Every `test/golden/**\/*.stream` is checked with `checkProgram`. Its diagnostics, as users see
 * them, are compared with the sibling `NAME.errors.txt`, and its plan (`explainPlan`) with
 * `NAME.plan.txt`; a warnings-only program has both. `UPDATE_GOLDEN=1 npm test` rewrites the
 * baselines (and deletes those that no longer apply) instead of comparing; the diff is reviewed
 * like code.
 *
 * Independently of the baselines, a case's header states what it must report, one line per
 * diagnostic, in the leading comments:
 *
 *     // expect: S2004 at 5:11 hint "did you mean `amount`?"
 *
 * The test requires exactly those diagnostics (code, line and column), each with a hint that
 * contains the quoted text. Cases under `errors/` are named after the code they demonstrate
 * (`errors/S2004-unknown-column.stream`), and every code of the catalog has one.
 */
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { catalog, formatDiagnostics, type Diagnostic } from "../../compiler/diagnostics.ts";
import { explainPlan } from "../../compiler/explain.ts";
import { checkProgram } from "../../compiler/front-end.ts";

const root = dirname(fileURLToPath(import.meta.url));
const update = process.env["UPDATE_GOLDEN"] === "1";

interface Expectation {
  code: string;
  line: number;
  column: number;
  hint: string;
  /** The header line as written, for messages. */
  text: string;
}

interface GoldenCase {
  /** The path relative to `test/golden/`, with `/`: `errors/S2004-unknown-column.stream`. */
  name: string;
  path: string;
  text: string;
  expectations: Expectation[];
}

function findStreams(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    // compat/ holds program pairs for compat.test.ts, with baselines of their own.
    if (entry.isDirectory() && path === join(root, "compat")) continue;
    if (entry.isDirectory()) found.push(...findStreams(path));
    else if (entry.name.endsWith(".stream")) found.push(path);
  }
  return found;
}

function findBaselines(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findBaselines(path));
    else if (entry.name.endsWith(".errors.txt") || entry.name.endsWith(".plan.txt")) found.push(path);
  }
  return found;
}

const expectLine = /^\/\/\s*expect:\s*(S\d{4}) at (\d+):(\d+) hint "(.*)"\s*$/;

/** The `// expect:` lines of the comment block that opens the file. */
function parseExpectations(text: string, name: string): Expectation[] {
  const expectations: Expectation[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (!line.startsWith("//")) break;
    if (!/^\/\/\s*expect:/.test(line)) continue;
    const match = expectLine.exec(line);
    if (!match) throw new Error(`${name}: malformed header line, expected \`// expect: S1234 at LINE:COLUMN hint "TEXT"\`: ${line}`);
    expectations.push({ code: match[1]!, line: Number(match[2]), column: Number(match[3]), hint: match[4]!, text: line });
  }
  return expectations;
}

function loadCase(path: string): GoldenCase {
  const name = relative(root, path).split(sep).join("/");
  const text = readFileSync(path, "utf8");
  return { name, path, text, expectations: parseExpectations(text, name) };
}

const cases = findStreams(root).map(loadCase);

/** Compares `actual` with the baseline at `path`, or writes it there when updating. */
function compareBaseline(path: string, actual: string | undefined): void {
  const shown = relative(root, path).split(sep).join("/");
  const exists = existsSync(path);
  if (update) {
    if (actual === undefined) {
      if (exists) unlinkSync(path);
    } else if (!exists || readFileSync(path, "utf8") !== actual) {
      writeFileSync(path, actual);
    }
    return;
  }
  if (actual === undefined) {
    if (exists) expect.fail(`${shown} no longer applies; delete it, or run \`UPDATE_GOLDEN=1 npm test\``);
    return;
  }
  if (!exists) expect.fail(`missing baseline ${shown}; run \`UPDATE_GOLDEN=1 npm test\` and review it. It would be:\n${actual}`);
  expect(actual, `${shown} differs from the compiler's output; if the change is intended, run \`UPDATE_GOLDEN=1 npm test\``).toBe(readFileSync(path, "utf8"));
}

function describeDiagnostic(d: Diagnostic): string {
  return `${d.code} at ${d.span.line}:${d.span.column} (${d.message})${d.hint ? ` hint "${d.hint}"` : " without a hint"}`;
}

describe("golden", () => {
  it("finds the golden cases", () => {
    expect(cases.filter((c) => c.name.startsWith("errors/")).length).toBeGreaterThanOrEqual(45);
    expect(cases.filter((c) => c.name.startsWith("plans/")).length).toBeGreaterThanOrEqual(20);
  });

  for (const golden of cases) {
    it(golden.name, () => {
      const { plan, diagnostics } = checkProgram(golden.text, { path: golden.path });
      const base = golden.path.replace(/\.stream$/, "");
      compareBaseline(`${base}.errors.txt`, diagnostics.length ? formatDiagnostics(golden.name, golden.text, diagnostics) + "\n" : undefined);
      compareBaseline(`${base}.plan.txt`, plan ? explainPlan(plan) : undefined);

      // The header, independently of the baselines: exactly the stated diagnostics, each with its hint.
      const problems: string[] = [];
      const unmatched = [...diagnostics];
      for (const e of golden.expectations) {
        const at = unmatched.findIndex((d) => d.code === e.code && d.span.line === e.line && d.span.column === e.column);
        if (at < 0) {
          problems.push(`expected ${e.code} at ${e.line}:${e.column}, but it was not reported (${e.text})`);
          continue;
        }
        const [d] = unmatched.splice(at, 1);
        if (!d!.hint?.includes(e.hint)) problems.push(`${e.code} at ${e.line}:${e.column}: the hint ${d!.hint ? `"${d!.hint}"` : "is missing; it"} does not contain "${e.hint}"`);
      }
      for (const d of unmatched) problems.push(`unexpected ${describeDiagnostic(d)}; add \`// expect: ...\` to the header if it is intended`);
      for (const d of diagnostics) if (!d.hint) problems.push(`${d.code} at ${d.span.line}:${d.span.column} has no hint; every diagnostic a user meets should say the way out`);
      expect(problems, `${golden.name}: the header's expectations`).toEqual([]);

      if (golden.name.startsWith("errors/")) {
        expect(golden.expectations.length, `${golden.name} needs a \`// expect:\` header`).toBeGreaterThan(0);
        const named = /^errors\/(S\d{4})-/.exec(golden.name)?.[1];
        if (named) expect(golden.expectations.map((e) => e.code), `${golden.name} is named after ${named}, so it must expect it`).toContain(named);
      } else {
        expect(plan, `${golden.name} is a plan case, so it must check clean`).toBeDefined();
      }
    });
  }

  it("has an error case for every code in the catalog", () => {
    const missing: string[] = [];
    for (const [key, entry] of Object.entries(catalog)) {
      const covered = cases.some((c) => c.name.startsWith(`errors/${entry.code}-`) && c.expectations.some((e) => e.code === entry.code));
      if (!covered) missing.push(`${entry.code} (${key}): add test/golden/errors/${entry.code}-SHORT-NAME.stream`);
    }
    expect(missing).toEqual([]);
  });

  it("has no baseline without its .stream", () => {
    const orphans = findBaselines(root).filter((path) => !existsSync(path.replace(/\.(errors|plan)\.txt$/, ".stream")));
    if (update) for (const path of orphans) unlinkSync(path);
    else expect(orphans.map((p) => relative(root, p).split(sep).join("/")), "baselines without a .stream: delete them, or run `UPDATE_GOLDEN=1 npm test`").toEqual([]);
  });
});
