/**
 * The `streamc` command line.
 *
 * Contract: `main(argv, io)` runs one command and returns its exit code; it writes only through
 * `io`, so tests run it in-process. Exit codes: 0 success, 1 the program has errors, 2 the command
 * line is wrong (usage is printed).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { formatDiagnostics } from "../compiler/diagnostics.ts";
import { explainPlan } from "../compiler/explain.ts";
import { checkProgram, type CheckResult } from "../compiler/front-end.ts";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const VERSION = "0.1.0";

const usage = `streamc ${VERSION}: a typed, exactly-once stream-processing language

usage: streamc <command> [options]

commands:
  check FILE      check a .stream program; print its diagnostics (exit 0 ok, 1 errors)
  explain FILE    print the logical plan: one node a line, with schemas and state schemas
  help            print this help
  version         print the version

examples:
  streamc check examples/word-count/word-count.stream
  streamc explain examples/revenue/revenue.stream
`;

interface Command {
  run(args: string[], io: Io): number;
}

const commands: Record<string, Command> = {
  check: { run: (args, io) => withProgram("check", args, io, (result, file, text) => report(result, file, text, io)) },
  explain: {
    run: (args, io) =>
      withProgram("explain", args, io, (result, file, text) => {
        const code = report(result, file, text, io, false);
        if (result.plan) io.out(explainPlan(result.plan));
        return code;
      }),
  },
  help: { run: (_args, io) => (io.out(usage), 0) },
  version: { run: (_args, io) => (io.out(`streamc ${VERSION}\n`), 0) },
};

export function main(argv: string[], io: Io): number {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    io.out(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") return commands.version!.run([], io);
  const command = commands[name];
  if (!command) {
    io.err(`streamc: unknown command \`${name}\`\n\n${usage}`);
    return 2;
  }
  return command.run(args, io);
}

/** Parses `COMMAND FILE`, reads and checks the file, then hands over; usage errors exit 2. */
function withProgram(name: string, args: string[], io: Io, then: (result: CheckResult, file: string, text: string) => number): number {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { help: { type: "boolean", short: "h" } } });
  } catch (error) {
    io.err(`streamc ${name}: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(usage);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) {
    io.err(`streamc ${name}: expected one FILE, got ${parsed.positionals.length}\n\n${usage}`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    io.err(`streamc ${name}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}\n`);
    return 1;
  }
  return then(checkProgram(text, { path: file }), file, text);
}

/** Prints diagnostics and a summary; returns 1 when there are errors. */
function report(result: CheckResult, file: string, text: string, io: Io, summarizeSuccess = true): number {
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = result.diagnostics.length - errors;
  if (result.diagnostics.length) io.err(formatDiagnostics(file, text, result.diagnostics) + "\n");
  if (errors > 0 || warnings > 0) io.err(`${plural(errors, "error")}, ${plural(warnings, "warning")}\n`);
  if (errors === 0 && summarizeSuccess && result.plan) {
    const plan = result.plan;
    io.out(`${file}: ok (${plural(plan.sources.length, "source")}, ${plural(plan.streams.length, "stream")}, ${plural(plan.sinks.length, "sink")}, ${plural(plan.state.length, "stateful operator")})\n`);
  }
  return errors > 0 ? 1 : 0;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

// Run when executed as a program (the built dist/streamc.mjs, or `node --import tsx bin/streamc.ts`).
const invokedDirectly = process.argv[1] !== undefined && /streamc(\.ts|\.mjs|\.js)?$/.test(process.argv[1]);
if (invokedDirectly) {
  process.exitCode = main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}
