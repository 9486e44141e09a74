/**
 * Which process runs a checkpoint, and asking it to stop.
 *
 * Contract:
 * - `claimRun(dir, runId)` writes `CHECKPOINT/run.json` ({ pid, runId, started, hostname }) when
 *   no live process holds it; a `run.json` of a process that is still alive on this host throws a
 *   `CheckpointError` naming it (one process per checkpoint). A `run.json` left by a process that
 *   died (SIGKILL, a crash) is taken over. `releaseRun` removes it and any stop request.
 * - `requestStop(dir)` writes `CHECKPOINT/stop` for the running process; `stopRequested(dir)` is
 *   what the engine polls between batches and while idle: it then finishes the batch in flight,
 *   commits it, and ends as after SIGTERM.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeFileAtomically } from "../storage/durable-file.ts";
import { CheckpointError } from "./store.ts";

export interface RunFile {
  pid: number;
  runId: string;
  started: string;
  hostname: string;
}

export function readRunFile(dir: string): RunFile | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as RunFile;
  } catch {
    return undefined;
  }
}

/** True when `run` names a process that is alive on this host. */
export function isRunning(run: RunFile): boolean {
  if (run.hostname !== hostname()) return true;
  try {
    process.kill(run.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function claimRun(dir: string, runId: string): Promise<void> {
  const current = readRunFile(dir);
  if (current && current.pid !== process.pid && isRunning(current)) {
    throw new CheckpointError(
      join(dir, "run.json"),
      `process ${current.pid}${current.hostname === hostname() ? "" : ` on ${current.hostname}`} runs this checkpoint (since ${current.started})`,
      `stop it first (streamc stop ${dir}), or give this run its own checkpoint path`,
    );
  }
  rmSync(join(dir, "stop"), { force: true });
  const run: RunFile = { pid: process.pid, runId, started: new Date().toISOString(), hostname: hostname() };
  await writeFileAtomically(join(dir, "run.json"), JSON.stringify(run) + "\n");
}

export function releaseRun(dir: string, runId: string): void {
  if (readRunFile(dir)?.runId !== runId) return;
  rmSync(join(dir, "stop"), { force: true });
  rmSync(join(dir, "run.json"), { force: true });
}

export async function requestStop(dir: string): Promise<void> {
  await writeFileAtomically(join(dir, "stop"), JSON.stringify({ requested: new Date().toISOString(), by: process.pid }) + "\n");
}

export function stopRequested(dir: string): boolean {
  return existsSync(join(dir, "stop"));
}
