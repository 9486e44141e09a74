/**
 * Golden tests for the state-compatibility check (runtime/checkpoint/compat.ts).
 *
 * Each `test/golden/compat/NAME/` holds `old.stream` (the program that wrote the checkpoint),
 * `new.stream` (the changed program) and `expected.txt` (the report a user sees). The old program's
 * `CheckpointPlan` goes through a JSON round trip, as it would through `plan.json`. Relative paths
 * resolve against `/pipelines`, with an empty environment. `UPDATE_GOLDEN=1` rewrites
 * `expected.txt` instead of comparing; the diff is reviewed like code.
 *
 * Independently of the baseline, `new.stream`'s leading comments state the verdicts that matter:
 *
 *     // expect: revenue.aggregate incompatible
 *     // expect: source clicks evolve
 *     // drop-state: revenue.aggregate
 *
 * Every subject not named must be `reuse`; `drop-state` lines are passed as `--drop-state` would
 * pass them.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileProgram } from "../../compiler/compile-program.ts";
import { formatDiagnostics } from "../../compiler/diagnostics.ts";
import { type CheckpointPlan, checkCompatibility, checkpointPlanOf, formatCompatibilityReport, isCompatible } from "../../runtime/checkpoint/compat.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "compat");
const update = process.env["UPDATE_GOLDEN"] === "1";
const context = { cwd: "/pipelines", env: {} };

function planOf(path: string): CheckpointPlan {
  const text = readFileSync(path, "utf8");
  const { diagnostics, compiled } = compileProgram(text, path);
  if (!compiled) throw new Error(`${path} does not compile:\n${formatDiagnostics(path, text, diagnostics)}`);
  return checkpointPlanOf(compiled.plan, context);
}

function header(text: string, key: string): string[] {
  const values: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (!line.startsWith("//")) break;
    const match = new RegExp(`^//\\s*${key}:\\s*(.+?)\\s*$`).exec(line);
    if (match) values.push(match[1]!);
  }
  return values;
}

const cases = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

describe("state compatibility golden cases", () => {
  it("covers every rule", () => {
    expect(cases.length).toBeGreaterThanOrEqual(17);
  });

  for (const name of cases) {
    it(name, () => {
      const dir = join(root, name);
      const newText = readFileSync(join(dir, "new.stream"), "utf8");
      const old = JSON.parse(JSON.stringify(planOf(join(dir, "old.stream")))) as CheckpointPlan;
      const next = planOf(join(dir, "new.stream"));
      const dropState = new Set(header(newText, "drop-state"));
      const report = checkCompatibility(old, next, { dropState });
      const text = formatCompatibilityReport(report);

      const expectedPath = join(dir, "expected.txt");
      if (update) {
        if (!existsSync(expectedPath) || readFileSync(expectedPath, "utf8") !== text) writeFileSync(expectedPath, text);
      } else {
        expect(existsSync(expectedPath), `missing ${name}/expected.txt; run with UPDATE_GOLDEN=1 and review it. It would be:\n${text}`).toBe(true);
        expect(text, `${name}/expected.txt differs; if the change is intended, run with UPDATE_GOLDEN=1`).toBe(readFileSync(expectedPath, "utf8"));
      }

      // The header, independently of the baseline.
      const expected = new Map(
        header(newText, "expect").map((line) => {
          const match = /^(source \S+|--drop-state \S+|\S+) (reuse|evolve|incompatible)$/.exec(line);
          if (!match) throw new Error(`${name}: malformed \`// expect: SUBJECT VERDICT\` line: ${line}`);
          return [match[1]!, match[2]!];
        }),
      );
      const actual = new Map(
        report.subjects.map((s) => (s.kind === "unknownDropState" ? [`--drop-state ${s.id}`, "incompatible"] : [s.kind === "source" ? `source ${s.id}` : s.id, s.verdict.kind])),
      );
      for (const [subject, verdict] of expected) expect(actual.get(subject), `${name}: ${subject}`).toBe(verdict);
      for (const [subject, verdict] of actual) if (!expected.has(subject)) expect(verdict, `${name}: ${subject} is not in the header, so it must be reuse`).toBe("reuse");
      expect(isCompatible(report)).toBe(![...actual.values()].includes("incompatible"));
      expect(text.trimEnd().split("\n").at(-1)).toMatch(isCompatible(report) ? /^state: compatible/ : /^state: incompatible: /);
    });
  }
});
