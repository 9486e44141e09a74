/**
 * The `streamc` command line.
 *
 * Contract: `main(argv, io)` runs one command and resolves to its exit code; it writes only through
 * `io`, so tests run it in-process. Exit codes: 0 success, 1 the program has errors or failed,
 * 2 the command line is wrong (usage is printed).
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleProgram, loadKernelModule } from "../compiler/bundle.ts";
import { compileProgram } from "../compiler/compile-program.ts";
import { formatDiagnostics } from "../compiler/diagnostics.ts";
import { explainPlan } from "../compiler/explain.ts";
import { checkProgram, type CheckResult } from "../compiler/front-end.ts";
import { runProgram, runUsage } from "../runtime/main.ts";
import { DeltaError, snapshot } from "../runtime/table/delta-log.ts";
import { tableHistory } from "../runtime/table/history.ts";
import { readTable } from "../runtime/table/read-table.ts";
import { formatField, formatName } from "../runtime/data-type.ts";
import { formatDateDays, formatTimestampMicros } from "../runtime/time.ts";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const VERSION = "0.1.0";

const usage = `streamc ${VERSION}: a typed, exactly-once stream-processing language

usage: streamc <command> [options]

commands:
  check FILE                 check a .stream program; print its diagnostics (exit 0 ok, 1 errors)
  explain FILE               print the logical plan: one node a line, with schemas and state schemas
  run FILE.stream|FILE.mjs   run a program, or a bundle made by compile (run options below)
  test FILE                  run the program's test blocks (exit 0 all passed, 1 a failure)
  compile FILE [-o DIR]      write DIR/NAME.mjs (runs with node alone) and DIR/NAME.plan.json
  table show PATH [--version N]   a Delta table's schema, files and rows (JSON lines), at a version
  table history PATH         a Delta table's commits, newest first
  help                       print this help
  version                    print the version

run ${runUsage}
examples:
  streamc check examples/word-count/word-count.stream
  streamc run examples/word-count/word-count.stream
  streamc compile examples/word-count/word-count.stream -o build && node build/word-count.mjs
`;

interface Command {
  run(args: string[], io: Io): number | Promise<number>;
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
  run: { run: runCommand },
  test: {
    run: (args, io) =>
      withProgram("test", args, io, async (_result, file, text) => {
        const compiled = await compile(file, text, io);
        return compiled ? runProgram(compiled.plan, compiled.kernels, ["--test"], io) : 1;
      }),
  },
  compile: { run: compileCommand },
  table: { run: tableCommand },
  help: { run: (_args, io) => (io.out(usage), 0) },
  version: { run: (_args, io) => (io.out(`streamc ${VERSION}\n`), 0) },
};

export async function main(argv: string[], io: Io): Promise<number> {
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
function withProgram(name: string, args: string[], io: Io, then: (result: CheckResult, file: string, text: string) => number | Promise<number>): number | Promise<number> {
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

/** Compiles a checked program and loads its kernels in-process; prints diagnostics and returns undefined on errors. */
async function compile(file: string, text: string, io: Io) {
  const { diagnostics, compiled } = compileProgram(text, file);
  if (!compiled) {
    report({ program: { decls: [], span: { start: 0, end: 0, line: 1, column: 1 } }, plan: undefined, diagnostics }, file, text, io, false);
    return undefined;
  }
  const kernels = await loadKernelModule(compiled.kernelSource, { sourcePath: file });
  return { plan: compiled.plan, kernelSource: compiled.kernelSource, kernels };
}

/** `run FILE.stream [options]` compiles in-process; `run BUNDLE.mjs [options]` runs the bundle with node. */
async function runCommand(args: string[], io: Io): Promise<number> {
  const [file, ...options] = args;
  if (file === undefined || file.startsWith("-")) {
    io.err(`streamc run: expected a FILE.stream or a bundle FILE.mjs first\n\n${usage}`);
    return 2;
  }
  if (/\.(mjs|js)$/.test(file)) {
    return new Promise((done) => {
      const child = spawn(process.execPath, [file, ...options], { stdio: ["ignore", "pipe", "pipe"] });
      // A stop request to `streamc` is a stop request to the bundle: it finishes its batch and exits.
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on("SIGINT", forward);
      process.on("SIGTERM", forward);
      child.stdout.on("data", (chunk: Buffer) => io.out(chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => io.err(chunk.toString()));
      child.on("close", (code) => {
        process.off("SIGINT", forward);
        process.off("SIGTERM", forward);
        done(code ?? 1);
      });
    });
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    io.err(`streamc run: cannot read ${file}: no such file\n`);
    return 1;
  }
  const compiled = await compile(file, text, io);
  if (!compiled) return 1;
  return runProgram(compiled.plan, compiled.kernels, options, io);
}

/** `compile FILE [-o DIR]`: one self-contained bundle plus the plan as JSON. */
async function compileCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { out: { type: "string", short: "o" } } });
  } catch (error) {
    io.err(`streamc compile: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) {
    io.err(`streamc compile: expected one FILE\n\n${usage}`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    io.err(`streamc compile: cannot read ${file}: no such file\n`);
    return 1;
  }
  const { diagnostics, compiled } = compileProgram(text, file);
  if (!compiled) {
    report({ program: { decls: [], span: { start: 0, end: 0, line: 1, column: 1 } }, plan: undefined, diagnostics }, file, text, io, false);
    return 1;
  }
  const dir = parsed.values.out ?? "build";
  const name = basename(file).replace(/\.stream$/, "");
  const entry = resolve(fileURLToPath(new URL("..", import.meta.url)), "runtime", "main.ts");
  const bundle = await bundleProgram({ plan: compiled.plan, kernelSource: compiled.kernelSource, sourcePath: file, entry: { path: entry, exportName: "runBundle" } });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.mjs`), bundle);
  writeFileSync(join(dir, `${name}.plan.json`), JSON.stringify(compiled.plan, null, 2) + "\n");
  io.out(`${join(dir, `${name}.mjs`)} (${Math.round(bundle.length / 1024)} KiB) and ${join(dir, `${name}.plan.json`)}\n`);
  return 0;
}

/** `table show PATH [--version N]` and `table history PATH`: read a Delta table. */
function tableCommand(args: string[], io: Io): number {
  const [sub, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { version: { type: "string" } } });
  } catch (error) {
    io.err(`streamc table: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const [path, ...extra] = parsed.positionals;
  const version = parsed.values.version === undefined ? undefined : Number(parsed.values.version);
  if ((sub !== "show" && sub !== "history") || path === undefined || extra.length > 0 || (version !== undefined && !(Number.isInteger(version) && version >= 0)) || (sub === "history" && version !== undefined)) {
    io.err(`streamc table: expected \`show PATH [--version N]\` or \`history PATH\`\n\n${usage}`);
    return 2;
  }
  try {
    if (sub === "history") {
      for (const entry of tableHistory(path)) {
        const when = entry.timestamp === undefined ? "-" : new Date(entry.timestamp).toISOString();
        const txns = entry.txns.map((t) => ` txn ${t.appId}=${t.version}`).join("");
        io.out(`${entry.version}\t${when}\t${entry.operation ?? "-"}\t+${entry.filesAdded} -${entry.filesRemoved} files${txns}\n`);
      }
      return 0;
    }
    const snap = snapshot(path, version);
    const rows = readTable(path, version);
    const fields = snap.metadata.schema.fields;
    io.out(`table ${path} at version ${snap.version} (reader ${snap.protocol.minReaderVersion}, writer ${snap.protocol.minWriterVersion})\n`);
    io.out(`schema: (${fields.map((f) => `${formatName(f.name)}: ${formatField(f)}`).join(", ")})\n`);
    io.out(`partitioned by: ${snap.metadata.partitionColumns.length ? snap.metadata.partitionColumns.join(", ") : "(none)"}\n`);
    io.out(`${snap.files.length} file${snap.files.length === 1 ? "" : "s"}, ${rows.length} row${rows.length === 1 ? "" : "s"}\n`);
    const kinds = new Map(fields.map((f) => [f.name, f.type.kind]));
    for (const row of rows) {
      io.out(
        JSON.stringify(row, (key, value: unknown) => {
          if (typeof value === "bigint") return value.toString();
          if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
          if (typeof value === "number" && kinds.get(key) === "timestamp") return formatTimestampMicros(value);
          if (typeof value === "number" && kinds.get(key) === "date") return formatDateDays(value);
          return value;
        }) + "\n",
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof DeltaError) {
      io.err(`streamc table: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

// Run when executed as a program (the built dist/streamc.mjs, or `node --import tsx bin/streamc.ts`).
const invokedDirectly = process.argv[1] !== undefined && /streamc(\.ts|\.mjs|\.js)?$/.test(process.argv[1]);
if (invokedDirectly) {
  // `streamc table show ... | head`: a reader that closes the pipe early is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  process.exitCode = await main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}
