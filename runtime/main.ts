/**
 * Running a compiled program: the entry of every bundle (`node DIR/NAME.mjs [options]`) and of
 * `streamc run FILE.stream`, so both go one way through.
 *
 * Contract: `runProgram(plan, kernels, argv, io)` parses the run options, runs the pipeline (or,
 * with `--test`, its test blocks) and resolves to the exit code: 0 done, 1 failed (the reason is
 * printed), 2 bad options (usage is printed), 3 the checkpoint's state cannot be reused by this
 * program (the compatibility report is printed; nothing was changed). Options:
 * `--checkpoint DIR`, `--trigger once|available_now|every:DURATION`, `--max-batches N`,
 * `--drop-state OPERATOR` (repeatable), `--progress` (one JSON line per batch on stderr),
 * `--http PORT` and `--http-host HOST` (progress, status, Prometheus metrics and a dashboard over
 * HTTP, loopback by default: runtime/progress/http-server.ts; a port that cannot be had exits 1
 * before anything runs). On a terminal without `--progress`, one live status line
 * (runtime/progress/live-status.ts) is rewritten after each batch.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { IncompatibleStateError } from "./engine/checkpointing.ts";
import type { KernelModule } from "./kernel.ts";
import { createOperator } from "./operators/registry.ts";
import type { PhysicalPlan } from "./plan.ts";
import { runPipeline, type BatchProgress, type Trigger } from "./engine/pipeline.ts";
import { runTests } from "./engine/test-runner.ts";
import { BatchRateTracker } from "./progress/derived-figures.ts";
import { ProgressServerError, startProgressServer, type ProgressServer } from "./progress/http-server.ts";
import { LiveStatusLine } from "./progress/live-status.ts";
import { effectiveCheckpoint, effectiveTrigger, RunMonitor } from "./progress/run-monitor.ts";

export interface ProgramIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether `err` writes to an interactive terminal (the live status line); default: whether the process's standard error is one. */
  errIsTerminal?: boolean;
}

const processIo: ProgramIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export const runUsage = `options:
  --checkpoint DIR                              the checkpoint directory (default: the pipeline's checkpoint option)
  --trigger once|available_now|every:DURATION   when batches run (default: the pipeline's trigger)
  --max-batches N                               stop after N batches
  --drop-state OPERATOR                         start this stateful operator empty (repeatable), when its
                                                old state cannot be reused (see streamc check --checkpoint)
  --progress                                    print one JSON line of progress per batch to stderr
                                                (on a terminal, without it: one live status line)
  --http PORT                                   serve a dashboard (/), /metrics (Prometheus), /progress and
                                                /status on PORT (0: a free port; the address is printed)
  --http-host HOST                              the address --http listens on (default 127.0.0.1, this
                                                machine only; 0.0.0.0 for every network)
  --test                                        run the program's test blocks instead (as streamc test)
`;

/** The run options, parsed; `usageError` says what is wrong with them (exit 2). */
export type ParsedRunOptions =
  | {
      kind: "ok";
      test: boolean;
      trigger: Trigger | undefined;
      maxBatches: number | undefined;
      checkpoint: string | undefined;
      dropState: string[];
      progress: boolean;
      /** `--http PORT [--http-host HOST]`; the host defaults to loopback. */
      http: { host: string; port: number } | undefined;
    }
  | { kind: "usageError"; message: string };

/** Parses `argv` without the program, so that `streamc run FILE.stream` reports bad options before compiling. */
export function parseRunOptions(argv: readonly string[]): ParsedRunOptions {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        trigger: { type: "string" },
        "max-batches": { type: "string" },
        progress: { type: "boolean" },
        test: { type: "boolean" },
        checkpoint: { type: "string" },
        "drop-state": { type: "string", multiple: true },
        http: { type: "string" },
        "http-host": { type: "string" },
      },
    }).values;
  } catch (error) {
    return { kind: "usageError", message: (error as Error).message };
  }
  const trigger = values.trigger === undefined ? undefined : parseTrigger(values.trigger);
  if (trigger === "invalid") return { kind: "usageError", message: `--trigger takes once, available_now or every:DURATION (such as every:10s), not \`${values.trigger}\`` };
  const maxBatches = values["max-batches"] === undefined ? undefined : Number(values["max-batches"]);
  if (maxBatches !== undefined && !(Number.isInteger(maxBatches) && maxBatches > 0)) {
    return { kind: "usageError", message: `--max-batches takes a positive whole number, not \`${values["max-batches"]}\`` };
  }
  const httpPort = values.http === undefined ? undefined : /^[0-9]{1,5}$/.test(values.http) ? Number(values.http) : NaN;
  if (httpPort !== undefined && !(httpPort >= 0 && httpPort <= 65535)) {
    return { kind: "usageError", message: `--http takes a port, a whole number from 0 to 65535 (0 picks a free one), not \`${values.http}\`` };
  }
  const httpHost = values["http-host"];
  if (httpHost !== undefined && httpPort === undefined) return { kind: "usageError", message: "--http-host needs --http PORT" };
  if (httpHost !== undefined && httpHost.trim() === "") return { kind: "usageError", message: "--http-host takes an address such as 127.0.0.1 or 0.0.0.0, not an empty one" };
  return {
    kind: "ok",
    test: values.test ?? false,
    trigger,
    maxBatches,
    checkpoint: values.checkpoint === undefined ? undefined : resolve(values.checkpoint),
    dropState: values["drop-state"] ?? [],
    progress: values.progress ?? false,
    http: httpPort === undefined ? undefined : { host: httpHost ?? "127.0.0.1", port: httpPort },
  };
}

export async function runProgram(plan: PhysicalPlan, kernels: KernelModule, argv: readonly string[], io: ProgramIo = processIo): Promise<number> {
  const parsed = parseRunOptions(argv);
  if (parsed.kind === "usageError") {
    io.err(`${parsed.message}\n\n${runUsage}`);
    return 2;
  }
  if (parsed.test) return reportTests(plan, kernels, io);
  const { trigger, maxBatches } = parsed;
  const unknownState = parsed.dropState.filter((id) => !plan.state.some((s) => s.operatorId === id));
  if (unknownState.length > 0) {
    const known = plan.state.map((s) => s.operatorId);
    io.err(`--drop-state ${unknownState[0]}: no stateful operator has that id; ${known.length ? `this program's are ${known.join(", ")}` : "this program has none"}\n\n${runUsage}`);
    return 2;
  }
  // On a terminal, one status line rewritten per batch; everything else printed goes above it.
  const live = !parsed.progress && (io.errIsTerminal ?? process.stderr.isTTY === true) ? new LiveStatusLine((text) => io.err(text), () => process.stderr.columns) : undefined;
  const errText = (text: string) => (live ? live.write(text) : io.err(text));
  let monitor: RunMonitor | undefined;
  let server: ProgressServer | undefined;
  if (parsed.http) {
    monitor = new RunMonitor({ plan, trigger: effectiveTrigger(plan, trigger), checkpoint: effectiveCheckpoint(plan, parsed.checkpoint, process.cwd(), process.env) });
    try {
      server = await startProgressServer({ host: parsed.http.host, port: parsed.http.port, monitor });
    } catch (error) {
      if (!(error instanceof ProgressServerError)) throw error;
      io.err(`${plan.pipeline.name}: ${error.message}\n`);
      return 1;
    }
    io.err(`${plan.pipeline.name}: dashboard at ${server.url}, metrics at ${server.url}metrics\n`);
  }
  // Each batch's progress goes to every consumer: --progress JSON lines, the HTTP server, the live line.
  const rates = live && !monitor ? new BatchRateTracker() : undefined;
  const onProgress = parsed.progress || monitor || live
    ? (progress: BatchProgress) => {
        if (parsed.progress) io.err(JSON.stringify(progress) + "\n");
        const batchRates = monitor ? monitor.record(progress) : rates?.next(progress);
        if (live && batchRates) live.update(progress, batchRates);
      }
    : undefined;
  // The first SIGINT or SIGTERM finishes the batch in flight, commits it and ends (exit 0); a second
  // one ends the process at once, as a crash would: the checkpoint recovers from it.
  const abort = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      errText(`${plan.pipeline.name}: ${signal} again: stopping now, without finishing the batch\n`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    errText(`${plan.pipeline.name}: ${signal}: stopping after the batch in flight (${signal} again stops at once)\n`);
    monitor?.markStopping();
    abort.abort();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const summary = await runPipeline({
      plan,
      kernels,
      createOperator,
      ...(trigger ? { trigger } : {}),
      ...(maxBatches !== undefined ? { maxBatches } : {}),
      ...(parsed.checkpoint !== undefined ? { checkpoint: parsed.checkpoint } : {}),
      dropState: parsed.dropState,
      ...maxRecordBytesFromEnvironment(),
      cwd: process.cwd(),
      env: process.env,
      stdout: { write: (text: string) => io.out(text) },
      log: (line) => {
        monitor?.noteLog(line);
        errText(line + "\n");
      },
      ...(onProgress ? { progress: onProgress } : {}),
      signal: abort.signal,
    });
    live?.finish();
    const rejected = Object.values(summary.deadLetters).reduce((a, b) => a + (b ?? 0), 0);
    io.err(`${plan.pipeline.name}: ${count(summary.batches, "batch", "batches")}, ${count(summary.inputRows, "row")} in, ${count(summary.outputRows, "row")} out${rejected ? `, ${rejected} rejected` : ""}\n`);
    return 0;
  } catch (error) {
    live?.finish();
    io.err(`${plan.pipeline.name}: ${(error as Error).message}\n`);
    return error instanceof IncompatibleStateError ? 3 : 1;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    monitor?.markStopped();
    await server?.close();
  }
}

/** Runs the program's test blocks and prints each as passed or failed, with a diff. */
export function reportTests(plan: PhysicalPlan, kernels: KernelModule, io: ProgramIo): number {
  const results = runTests(plan, kernels, createOperator);
  for (const result of results) {
    io.out(`${result.passed ? "PASS" : "FAIL"} ${result.name}\n`);
    if (result.failure) io.out(result.failure.replace(/^/gm, "  ") + "\n");
  }
  const failed = results.filter((r) => !r.passed).length;
  io.out(`${results.length - failed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

export function parseTrigger(text: string): Trigger | "invalid" {
  if (text === "once" || text === "available_now") return { kind: text };
  const every = /^every:([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!every) return "invalid";
  const unit = { ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000, d: 86_400_000_000 }[every[2] as "ms"];
  const micros = Number(every[1]) * unit;
  return micros > 0 ? { kind: "every", micros } : "invalid";
}

/** The entry a bundle calls when it loads: runs with the process's arguments and sets its exit code. */
export async function runBundle(plan: PhysicalPlan, kernels: KernelModule): Promise<void> {
  process.exitCode = await runProgram(plan, kernels, process.argv.slice(2));
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * `STREAMC_MAX_RECORD_BYTES`: the decoders' record size limit (records above it go to the dead
 * letter as `too_large`); default 8 MiB. A setting of the process, not of the program, as a
 * deployment sizes it to its memory.
 */
function maxRecordBytesFromEnvironment(): { maxRecordBytes?: number } {
  const text = process.env["STREAMC_MAX_RECORD_BYTES"];
  if (text === undefined || text === "") return {};
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`STREAMC_MAX_RECORD_BYTES must be a positive whole number of bytes, not \`${text}\``);
  return { maxRecordBytes: value };
}
