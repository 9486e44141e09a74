/**
 * The `streamc` command line.
 *
 * Contract: `main(argv, io)` runs one command and resolves to its exit code; it writes only through
 * `io`, so tests run it in-process. Exit codes: 0 success, 1 the program has errors or failed,
 * 2 the command line is wrong (usage is printed), 3 a checkpoint's state cannot be reused by the
 * program (`check --checkpoint`, `run`).
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
import { physicalPlan } from "../compiler/physical/plan.ts";
import { checkCompatibility, checkpointPlanOf, formatCompatibilityReport, isCompatible } from "../runtime/checkpoint/compat.ts";
import { readCheckpointPlan } from "../runtime/checkpoint/store.ts";
import { parseRunOptions, runProgram, runUsage } from "../runtime/main.ts";
import { DeltaError, snapshot } from "../runtime/table/delta-log.ts";
import { tableHistory } from "../runtime/table/history.ts";
import { optimizeTable } from "../runtime/table/optimize.ts";
import { DEFAULT_RETENTION_MS, vacuumTable } from "../runtime/table/vacuum.ts";
import { DEFAULT_TARGET_FILE_SIZE } from "../runtime/sinks/table.ts";
import { readTable } from "../runtime/table/read-table.ts";
import { formatField, formatName } from "../runtime/data-type.ts";
import { formatDateDays, formatTimestampMicros } from "../runtime/time.ts";
import { STREAMC_VERSION } from "../runtime/version.ts";
import { checkpointStatus, type CheckpointStatus } from "../runtime/checkpoint/status.ts";
import { isRunning, readRunFile, requestStop } from "../runtime/checkpoint/run-file.ts";
import { explainTime, type TimeExplanation } from "../runtime/checkpoint/explain-time.ts";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const VERSION = STREAMC_VERSION;

const usage = `streamc ${VERSION}: a typed, exactly-once stream-processing language

usage: streamc <command> [options]

commands:
  check FILE [--checkpoint DIR [--drop-state ID]...]
                             check a .stream program; print its diagnostics (exit 0 ok, 1 errors);
                             with a checkpoint, whether each source and operator can continue from it (exit 3: incompatible)
  explain FILE               print the logical plan: one node a line, with schemas and state schemas
  run FILE.stream|FILE.mjs   run a program, or a bundle made by compile (run options below)
  test FILE                  run the program's test blocks (exit 0 all passed, 1 a failure)
  compile FILE [-o DIR]      write DIR/NAME.mjs (runs with node alone) and DIR/NAME.plan.json
  status CHECKPOINT [--json] [--explain-time]
                             a checkpoint's last batch, source offsets, watermark and state sizes;
                             --explain-time: event time per source and partition, and when windows close
  stop CHECKPOINT [--timeout DURATION]
                             ask the pipeline running on CHECKPOINT to finish its batch, commit and exit
  table show PATH [--version N]   a Delta table's schema, files and rows (JSON lines), at a version
  table history PATH         a Delta table's commits, newest first
  table optimize PATH [--target-size SIZE]   compact a table's small files (default 128mb)
  table vacuum PATH [--retain DURATION] [--dry-run]   delete files no version within DURATION needs (default 168h)
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
  check: { run: checkCommand },
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
  status: { run: statusCommand },
  stop: { run: stopCommand },
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

/**
 * `check FILE [--checkpoint DIR [--drop-state ID]...]`: diagnostics; with a checkpoint (and a program
 * without errors), the state-compatibility report against it: exit 0 when every source and operator
 * can continue (reuse or evolve), 3 when one cannot, 1 when the checkpoint cannot be read.
 */
async function checkCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { checkpoint: { type: "string" }, "drop-state": { type: "string", multiple: true }, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    io.err(`streamc check: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const dir = parsed.values.checkpoint;
  const dropState = parsed.values["drop-state"] ?? [];
  if (dir === undefined && dropState.length > 0) {
    io.err(`streamc check: --drop-state needs --checkpoint DIR\n\n${usage}`);
    return 2;
  }
  const rest = parsed.values.help ? ["--help"] : parsed.positionals;
  return withProgram("check", rest, io, async (result, file, text) => {
    const code = report(result, file, text, io);
    if (code !== 0 || dir === undefined || !result.plan) return code;
    let old;
    let next;
    try {
      old = await readCheckpointPlan(dir);
      if (!old) {
        io.out(`${dir}: no checkpoint yet; \`streamc run\` will start a new one there (every source from its start, every operator empty)\n`);
        return 0;
      }
      next = checkpointPlanOf(physicalPlan(result.plan).plan, { cwd: process.cwd(), env: process.env });
    } catch (error) {
      io.err(`streamc check: ${(error as Error).message}\n`);
      return 1;
    }
    const compatibility = checkCompatibility(old, next, { dropState: new Set(dropState) });
    io.out(`checkpoint ${dir}:\n${formatCompatibilityReport(compatibility)}`);
    return isCompatible(compatibility) ? 0 : 3;
  });
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
      // The bundle runs in its own process group, so that Ctrl-C reaches it once, through `forward`
      // (a terminal signals the whole foreground group: it would otherwise get it twice, and a
      // second SIGINT stops a pipeline at once).
      const child = spawn(process.execPath, [file, ...options], { stdio: ["ignore", "pipe", "pipe"], detached: true });
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
  const parsed = parseRunOptions(options);
  if (parsed.kind === "usageError") {
    io.err(`${parsed.message}\n\n${runUsage}`);
    return 2;
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

/** `table show|history|optimize|vacuum PATH ...`: read and maintain a Delta table. */
async function tableCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const expected = "expected `show PATH [--version N]`, `history PATH`, `optimize PATH [--target-size SIZE]` or `vacuum PATH [--retain DURATION] [--dry-run]`";
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { version: { type: "string" }, "target-size": { type: "string" }, retain: { type: "string" }, "dry-run": { type: "boolean" } },
    });
  } catch (error) {
    io.err(`streamc table: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const [path, ...extra] = parsed.positionals;
  const values = parsed.values;
  const version = values.version === undefined ? undefined : Number(values.version);
  const targetSize = values["target-size"] === undefined ? undefined : parseSizeText(values["target-size"]);
  const retainMicros = values.retain === undefined ? undefined : parseDurationText(values.retain);
  const allowed: Record<string, string[]> = { show: ["version"], history: [], optimize: ["target-size"], vacuum: ["retain", "dry-run"] };
  const given = Object.keys(values).filter((k) => values[k as keyof typeof values] !== undefined);
  if (
    sub === undefined ||
    !(sub in allowed) ||
    path === undefined ||
    extra.length > 0 ||
    given.some((option) => !allowed[sub]!.includes(option)) ||
    (version !== undefined && !(Number.isInteger(version) && version >= 0)) ||
    targetSize === null ||
    retainMicros === null
  ) {
    const detail = targetSize === null ? `--target-size takes a size such as 128mb, not \`${values["target-size"]}\`; ` : retainMicros === null ? `--retain takes a duration such as 168h or 7d, not \`${values.retain}\`; ` : "";
    io.err(`streamc table: ${detail}${expected}\n\n${usage}`);
    return 2;
  }
  try {
    switch (sub) {
      case "history":
        for (const entry of tableHistory(path)) {
          const when = entry.timestamp === undefined ? "-" : new Date(entry.timestamp).toISOString();
          const txns = entry.txns.map((t) => ` txn ${t.appId}=${t.version}`).join("");
          io.out(`${entry.version}\t${when}\t${entry.operation ?? "-"}\t+${entry.filesAdded} -${entry.filesRemoved} files${txns}\n`);
        }
        return 0;
      case "optimize":
        return await optimizeCommand(path, targetSize ?? DEFAULT_TARGET_FILE_SIZE, io);
      case "vacuum":
        return await vacuumCommand(path, retainMicros === undefined ? undefined : retainMicros / 1000, values["dry-run"] === true, io);
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

async function optimizeCommand(path: string, targetFileSize: number, io: Io): Promise<number> {
  const result = await optimizeTable(path, { targetFileSize });
  if (result.version === undefined) {
    io.out(`table ${path}: nothing to optimize (no partition has two or more files under ${formatBytes(targetFileSize)})\n`);
    return 0;
  }
  io.out(
    `table ${path}: optimized at version ${result.version}: ${plural(result.filesRemoved, "file")} (${formatBytes(result.bytesRemoved)}) rewritten as ${plural(result.filesAdded, "file")} (${formatBytes(result.bytesAdded)}) in ${plural(result.partitionsOptimized, "partition")}\n`,
  );
  return 0;
}

async function vacuumCommand(path: string, retainMs: number | undefined, dryRun: boolean, io: Io): Promise<number> {
  const retentionMs = retainMs ?? DEFAULT_RETENTION_MS;
  if (retentionMs < DEFAULT_RETENTION_MS) {
    io.err(
      `streamc table: warning: a retention of ${formatHours(retentionMs)} is below Delta's default of 168h: files a writer has written but not yet committed, and files a reader of an older version still reads, may be deleted\n`,
    );
  }
  const result = await vacuumTable(path, { retentionMs, dryRun });
  for (const file of result.files) io.out(`${dryRun ? "would delete" : "deleted"} ${file.path} (${formatBytes(file.bytes)})\n`);
  const bytes = result.files.reduce((n, f) => n + f.bytes, 0);
  io.out(
    `table ${path}: ${dryRun ? "would delete" : "deleted"} ${plural(result.files.length, "file")} (${formatBytes(bytes)}) that no version within ${formatHours(retentionMs)} of now needs (latest version ${result.version})\n`,
  );
  return 0;
}

/** `128mb` → bytes; null when it is not a size (the language's units: b, kb, mb, gb, tb; 1kb = 1024b). */
function parseSizeText(text: string): number | null {
  const m = /^([0-9][0-9_]*)(b|kb|mb|gb|tb)$/.exec(text.toLowerCase());
  if (!m) return null;
  const bytes = Number(m[1]!.replace(/_/g, "")) * { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 }[m[2] as "b"];
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

/** `168h` → microseconds; null when it is not a duration (the language's units: ms, s, m, h, d). */
function parseDurationText(text: string): number | null {
  const m = /^([0-9][0-9_]*)(ms|s|m|h|d)$/.exec(text);
  if (!m) return null;
  const micros = Number(m[1]!.replace(/_/g, "")) * { ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000, d: 86_400_000_000 }[m[2] as "ms"];
  return Number.isSafeInteger(micros) ? micros : null;
}

function formatBytes(bytes: number): string {
  for (const [unit, size] of [["gb", 1024 ** 3], ["mb", 1024 ** 2], ["kb", 1024]] as const) {
    if (bytes >= size) return `${(bytes / size).toFixed(bytes % size === 0 ? 0 : 1)}${unit}`;
  }
  return `${bytes}b`;
}

function formatHours(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`;
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

async function statusCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: "boolean" }, "explain-time": { type: "boolean" } } });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed.positionals.length !== 1) {
    io.err(`status takes one checkpoint directory\n\n${usage}`);
    return 2;
  }
  if (parsed.values["explain-time"]) {
    try {
      const explanation = await explainTime(resolve(parsed.positionals[0]!));
      io.out(parsed.values.json ? JSON.stringify(explanation, null, 2) + "\n" : formatTimeExplanation(explanation));
      return 0;
    } catch (error) {
      io.err(`${(error as Error).message}\n`);
      return 1;
    }
  }
  let status: CheckpointStatus;
  try {
    status = await checkpointStatus(resolve(parsed.positionals[0]!));
  } catch (error) {
    io.err(`${(error as Error).message}\n`);
    return 1;
  }
  io.out(parsed.values.json ? JSON.stringify(status, null, 2) + "\n" : formatStatus(status));
  return 0;
}

function formatStatus(status: CheckpointStatus): string {
  const { metadata } = status;
  const lines = [
    `pipeline   ${metadata.name} (id ${metadata.id})`,
    `checkpoint ${status.dir}, created ${metadata.created} by streamc ${metadata.streamcVersion}`,
    status.lastCommitted ? `last batch ${status.lastCommitted.batchId}, committed ${status.lastCommitted.committedAt}` : "last batch none committed yet",
  ];
  if (status.pendingReplay !== undefined) lines.push(`pending    batch ${status.pendingReplay} started but did not commit; the next run replays it first`);
  lines.push(`watermark  ${status.watermark === null ? "none yet" : formatTimestampMicros(status.watermark)}`);
  if (status.sources.length > 0) {
    lines.push("sources");
    const width = Math.max(...status.sources.map((s) => s.id.length));
    for (const source of status.sources) {
      const behind = source.offsetsBehindLatest === undefined ? "" : `  behind latest: ${source.offsetsBehindLatest}`;
      lines.push(`  ${source.id.padEnd(width)}  ${source.offset === null ? "not started" : JSON.stringify(source.offset)}${behind}`);
    }
  }
  if (status.state.length > 0) {
    lines.push("state");
    const width = Math.max(...status.state.map((s) => s.operatorId.length));
    for (const entry of status.state) lines.push(`  ${entry.operatorId.padEnd(width)}  ${plural(entry.rows, "row")}, ${entry.bytes} bytes (${entry.file})`);
  }
  return lines.join("\n") + "\n";
}

/** `stop CHECKPOINT [--timeout DURATION]`: asks the running pipeline to stop, and waits for it (default 60s). */
async function stopCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { timeout: { type: "string" } } });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const timeout = parsed.values.timeout === undefined ? 60_000 : parseDurationMs(parsed.values.timeout);
  if (parsed.positionals.length !== 1 || timeout === undefined) {
    io.err(`stop takes one checkpoint directory and an optional --timeout such as 30s or 5m\n\n${usage}`);
    return 2;
  }
  const dir = resolve(parsed.positionals[0]!);
  const run = readRunFile(dir);
  if (!run || !isRunning(run)) {
    io.err(`no pipeline is running on ${dir}\n`);
    return 1;
  }
  await requestStop(dir);
  io.out(`asked process ${run.pid} to stop after its batch in flight\n`);
  const deadline = Date.now() + timeout;
  for (;;) {
    const current = readRunFile(dir);
    if (!current || current.runId !== run.runId || !isRunning(current)) break;
    if (Date.now() >= deadline) {
      io.err(`process ${run.pid} is still running after ${parsed.values.timeout ?? "60s"}: it finishes its batch in flight first; wait longer, or send it SIGTERM twice to stop it at once (the checkpoint recovers)\n`);
      return 1;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  const status = await checkpointStatus(dir).catch(() => undefined);
  io.out(`stopped${status?.lastCommitted ? ` after batch ${status.lastCommitted.batchId}` : ""}\n`);
  return 0;
}

function parseDurationMs(text: string): number | undefined {
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms"];
}

function formatTimeExplanation(e: TimeExplanation): string {
  const time = (micros: number | null | undefined) => (micros === null || micros === undefined ? "none" : formatTimestampMicros(micros));
  if (e.lastBatch === undefined) return "no batch has committed yet: nothing has been read\n";
  const lines = [`after batch ${e.lastBatch}, the next batch runs under the watermark ${time(e.watermark)}`];
  if (e.watermarks.length > 0) {
    lines.push("", "watermarks (the pipeline's is the smallest of these, and never goes back)");
    for (const w of e.watermarks) {
      const seen = w.maxEventTime === null ? "no row yet: it does not hold the watermark back" : `newest ${w.column} ${time(w.maxEventTime)} - ${formatDuration(w.delayMicros)} = ${time(w.allows)}`;
      lines.push(`  ${w.node}: ${seen}${w.holdsBack ? "  <- holds the watermark back" : ""}`);
    }
  }
  for (const source of e.sources) {
    lines.push("", `source ${source.source} (event time ${source.column})`);
    for (const p of source.partitions) {
      const name = p.partition === "*" ? "all rows" : `partition ${p.partition}`;
      const idle = p.idleBatches > 0 ? `idle: no rows for ${plural(p.idleBatches, "batch")} that read the others (last in batch ${p.lastBatch})` : `rows in batch ${p.lastBatch}, the source's newest`;
      lines.push(`  ${name}: newest ${time(p.maxEventTime)}, ${idle}`);
    }
  }
  for (const w of e.windows) {
    lines.push("", `${w.operator}: ${plural(w.open, "open window")}`);
    if (w.oldest) {
      const when = w.closesAtEventTime === undefined ? "" : ` (once the newest event time reaches ${time(w.closesAtEventTime)})`;
      lines.push(`  the oldest, [${time(w.oldest.start)}, ${time(w.oldest.end)}), closes when the watermark reaches ${time(w.closesAtWatermark)}${when}`);
    }
  }
  if (e.late.length > 0 || e.lateInLastBatch > 0) {
    lines.push("", "late rows (behind the watermark: dropped, or sent to the dead letter)");
    for (const l of e.late) lines.push(`  ${l.operator}: ${l.dropped} since the run started`);
    lines.push(`  in the last batch: ${e.lateInLastBatch}`);
  }
  return lines.join("\n") + "\n";
}

function formatDuration(micros: number): string {
  const units: [number, string][] = [[86_400_000_000, "d"], [3_600_000_000, "h"], [60_000_000, "m"], [1_000_000, "s"], [1_000, "ms"]];
  for (const [size, unit] of units) if (micros >= size && micros % size === 0) return `${micros / size}${unit}`;
  return `${micros}us`;
}
