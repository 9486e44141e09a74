/**
 * `npm run bench:compile`: how fast the front end reads a large program, in lines per second.
 *
 * Generates a 10,000-line `.stream` program (bench/generated-programs.ts), requires it to check
 * without errors, then times, each as the median of several runs after warm-up: lexing, parsing to
 * the AST (lexing included), and the whole `checkProgram`. As a reference measured in the same run
 * on the same machine, TypeScript's own parser (`ts.createSourceFile`) reads a generated
 * TypeScript file of the same length and density. Prints a table and writes bench/results/compile.json.
 *
 * `BENCH_LINES=N` and `BENCH_RUNS=N` change the program's size and the number of timed runs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, platform, release } from "node:os";
import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { checkProgram } from "../compiler/front-end.ts";
import { tokenize } from "../grammar/lexer.ts";
import { parseProgram } from "../grammar/cst-to-ast.ts";
import { generateStreamProgram, generateTypeScriptProgram, lineCount } from "./generated-programs.ts";

const targetLines = Number(process.env["BENCH_LINES"] ?? 10_000);
const runs = Math.max(5, Number(process.env["BENCH_RUNS"] ?? 7));
const warmups = 3;
const resultsFile = join(import.meta.dirname, "results", "compile.json");

interface Phase {
  name: string;
  lines: number;
  chars: number;
  /** Median wall time of one run, in milliseconds. */
  ms: number;
  linesPerSecond: number;
  charsPerSecond: number;
  /** Every timed run, for a reader who doubts the median. */
  runsMs: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `work` `warmups` times untimed, then `runs` times timed; `work` returns something so that it cannot be optimised away. */
function measure(name: string, text: string, work: () => unknown): Phase {
  const lines = lineCount(text);
  let sink = 0;
  for (let i = 0; i < warmups; i++) sink += work() ? 1 : 0;
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    sink += work() ? 1 : 0;
    runsMs.push(performance.now() - started);
  }
  if (sink < 0) console.log(sink);
  const ms = median(runsMs);
  return {
    name,
    lines,
    chars: text.length,
    ms: round(ms, 2),
    linesPerSecond: Math.round((lines / ms) * 1000),
    charsPerSecond: Math.round((text.length / ms) * 1000),
    runsMs: runsMs.map((r) => round(r, 2)),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ---- the inputs ---------------------------------------------------------------------------

const streamText = generateStreamProgram(targetLines);
const streamLines = lineCount(streamText);
const typeScriptText = generateTypeScriptProgram(targetLines);
const typeScriptLines = lineCount(typeScriptText);

const check = checkProgram(streamText, { path: undefined });
const errors = check.diagnostics.filter((d) => d.severity === "error");
if (errors.length > 0 || !check.plan) {
  const first = errors.slice(0, 5).map((d) => `  ${d.span.line}:${d.span.column} ${d.code} ${d.message}`).join("\n");
  throw new Error(`the generated program must check clean, but it has ${errors.length} error(s):\n${first}`);
}
const tsParsed = ts.createSourceFile("generated.ts", typeScriptText, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
const tsSyntaxErrors = (tsParsed as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics.length;
if (tsSyntaxErrors > 0) throw new Error(`the generated TypeScript file has ${tsSyntaxErrors} syntax error(s)`);

// ---- the measurements -----------------------------------------------------------------------

const phases: Phase[] = [
  measure("lex", streamText, () => tokenize(streamText).tokens.length),
  measure("parse to AST (lexing included)", streamText, () => parseProgram(streamText).program.decls.length),
  measure("checkProgram (whole front end)", streamText, () => checkProgram(streamText, { path: undefined }).plan),
];
const reference = measure("TypeScript ts.createSourceFile", typeScriptText, () =>
  ts.createSourceFile("generated.ts", typeScriptText, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS).statements.length,
);
const parsePhase = phases[1]!;
const checkPhase = phases[2]!;

// ---- the report ---------------------------------------------------------------------------

const table = [
  ["phase", "lines", "median ms", "lines/s", "MB/s", "lines/s vs TypeScript parse"],
  ...[...phases, reference].map((p) => [
    p.name,
    String(p.lines),
    p.ms.toFixed(1),
    p.linesPerSecond.toLocaleString("en-US"),
    (p.charsPerSecond / 1e6).toFixed(2),
    (p.linesPerSecond / reference.linesPerSecond).toFixed(2),
  ]),
];
const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
const printRow = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
console.log(`streamc compile benchmark: ${streamLines} lines of .stream (${streamText.length} chars), ${typeScriptLines} lines of TypeScript (${typeScriptText.length} chars)`);
console.log(`${cpus()[0]?.model ?? "unknown cpu"}, node ${process.version}, median of ${runs} runs after ${warmups} warm-ups`);
console.log(`the program checks with 0 errors and ${check.diagnostics.length} warning(s): ${check.program.decls.length} declarations\n`);
console.log(printRow(table[0]!));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of table.slice(1)) console.log(printRow(row));

const results = {
  benchmark: "compile",
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, platform: platform(), release: release() },
  node: process.version,
  typescript: ts.version,
  runs,
  warmups,
  input: {
    stream: { lines: streamLines, chars: streamText.length, charsPerLine: round(streamText.length / streamLines, 1), declarations: check.program.decls.length },
    typescript: { lines: typeScriptLines, chars: typeScriptText.length, charsPerLine: round(typeScriptText.length / typeScriptLines, 1) },
  },
  phases: Object.fromEntries(phases.map((p) => [p.name, { lines: p.lines, ms: p.ms, linesPerSecond: p.linesPerSecond, charsPerSecond: p.charsPerSecond, runsMs: p.runsMs }])),
  reference: { name: reference.name, lines: reference.lines, ms: reference.ms, linesPerSecond: reference.linesPerSecond, charsPerSecond: reference.charsPerSecond, runsMs: reference.runsMs },
  ratio: {
    parseVsTypeScriptParse: round(parsePhase.linesPerSecond / reference.linesPerSecond, 3),
    checkVsTypeScriptParse: round(checkPhase.linesPerSecond / reference.linesPerSecond, 3),
  },
};
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, JSON.stringify(results, null, 2) + "\n");
console.log(`\nstreamc/TypeScript: parse ${results.ratio.parseVsTypeScriptParse}, whole check ${results.ratio.checkVsTypeScriptParse}`);
console.log(`wrote ${relative(process.cwd(), resultsFile)}`);
