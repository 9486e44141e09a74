/**
 * Running a compiled program: the entry of every bundle (`node DIR/NAME.mjs [options]`) and of
 * `streamc run FILE.stream`, so both go one way through.
 *
 * Contract: `runProgram(plan, kernels, argv, io)` parses the run options, runs the pipeline (or,
 * with `--test`, its test blocks) and resolves to the exit code: 0 done, 1 failed (the reason is
 * printed), 2 bad options (usage is printed), 3 the checkpoint's state cannot be reused by this
 * program (the compatibility report is printed; nothing was changed). Options:
 * `--checkpoint DIR`, `--trigger once|available_now|every:DURATION`, `--max-batches N`,
 * `--drop-state OPERATOR` (repeatable), `--progress` (one JSON line per batch on stderr).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { IncompatibleStateError } from "./engine/checkpointing.ts";
import type { KernelModule } from "./kernel.ts";
import { createOperator } from "./operators/registry.ts";
import type { PhysicalPlan } from "./plan.ts";
import { runPipeline, type Trigger } from "./engine/pipeline.ts";
import { runTests } from "./engine/test-runner.ts";

export interface ProgramIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: ProgramIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export const runUsage = `options:
  --checkpoint DIR                              the checkpoint directory (default: the pipeline's checkpoint option)
  --trigger once|available_now|every:DURATION   when batches run (default: the pipeline's trigger)
  --max-batches N                               stop after N batches
  --drop-state OPERATOR                         start this stateful operator empty (repeatable), when its
                                                old state cannot be reused (see streamc check --checkpoint)
  --progress                                    print one JSON line of progress per batch to stderr
  --test                                        run the program's test blocks instead (as streamc test)
`;

/** The run options, parsed; `usageError` says what is wrong with them (exit 2). */
export type ParsedRunOptions =
  | { kind: "ok"; test: boolean; trigger: Trigger | undefined; maxBatches: number | undefined; checkpoint: string | undefined; dropState: string[]; progress: boolean }
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
  return {
    kind: "ok",
    test: values.test ?? false,
    trigger,
    maxBatches,
    checkpoint: values.checkpoint === undefined ? undefined : resolve(values.checkpoint),
    dropState: values["drop-state"] ?? [],
    progress: values.progress ?? false,
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
  // The first SIGINT or SIGTERM finishes the batch in flight, commits it and ends (exit 0); a second
  // one ends the process at once, as a crash would: the checkpoint recovers from it.
  const abort = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      io.err(`${plan.pipeline.name}: ${signal} again: stopping now, without finishing the batch\n`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    io.err(`${plan.pipeline.name}: ${signal}: stopping after the batch in flight (${signal} again stops at once)\n`);
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
      cwd: process.cwd(),
      env: process.env,
      stdout: { write: (text: string) => io.out(text) },
      log: (line) => io.err(line + "\n"),
      ...(parsed.progress ? { progress: (p) => io.err(JSON.stringify(p) + "\n") } : {}),
      signal: abort.signal,
    });
    const rejected = Object.values(summary.deadLetters).reduce((a, b) => a + (b ?? 0), 0);
    io.err(`${plan.pipeline.name}: ${count(summary.batches, "batch", "batches")}, ${count(summary.inputRows, "row")} in, ${count(summary.outputRows, "row")} out${rejected ? `, ${rejected} rejected` : ""}\n`);
    return 0;
  } catch (error) {
    io.err(`${plan.pipeline.name}: ${(error as Error).message}\n`);
    return error instanceof IncompatibleStateError ? 3 : 1;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
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
