/**
 * Running a compiled program as production does: `streamc compile` in-process, then the bundle in
 * a child process with `node`, for the tests that kill, stop or starve it (chaos, stop, failures,
 * Kafka outages).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { main } from "../../bin/streamc.ts";

export interface BundleExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** `streamc compile FILE -o DIR`; throws with the diagnostics when it fails. */
export async function compileBundle(file: string, dir: string): Promise<void> {
  let err = "";
  const code = await main(["compile", file, "-o", dir], { out: () => {}, err: (t) => (err += t) });
  if (code !== 0) throw new Error(`streamc compile ${file} exited ${code}:\n${err}`);
}

/** Starts `node BUNDLE ARGS`; `exited` resolves with its exit and everything it wrote to stderr. */
export function startBundle(bundle: string, args: readonly string[], env: NodeJS.ProcessEnv, user?: { uid: number; gid: number }): { child: ChildProcess; exited: Promise<BundleExit> } {
  const child = spawn(process.execPath, [bundle, ...args], { env, stdio: ["ignore", "ignore", "pipe"], ...(user ?? {}) });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<BundleExit>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, exited };
}

/** Runs the bundle to its end, or kills it with SIGKILL after `killAfterMs`. */
export async function runBundle(bundle: string, args: readonly string[], env: NodeJS.ProcessEnv, killAfterMs?: number): Promise<BundleExit> {
  const { child, exited } = startBundle(bundle, args, env);
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  try {
    return await exited;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
