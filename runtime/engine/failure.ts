/**
 * What a failed run tells its operator: one line that says what could not be done, where, and
 * what to do, instead of a bare system error.
 *
 * Contract: `describeFailure(error, places)` returns `error` itself unless it is a file-system
 * error (a Node `ErrnoException` with a `path`) of a kind an operator can act on (permission
 * denied, no space left, read-only file system, quota exceeded); then it returns a new
 * `OperatorFacingError` whose message names the place the path belongs to (the checkpoint, a
 * table or files sink, a files source: the `places` whose directory holds the path), the path,
 * the problem and the way out. Everything it says is stated once here.
 */
import { basename, dirname, relative, sep } from "node:path";
import { isTemporaryFileName } from "../storage/durable-file.ts";

export interface Place {
  /** `the checkpoint`, `table sink revenue.table`, ... */
  what: string;
  /** Absolute directory. */
  dir: string;
  /** The option or target to change to move it elsewhere. */
  setting: string;
}

export class OperatorFacingError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = "OperatorFacingError";
  }
}

const PROBLEMS: Record<string, { problem: string; wayOut: (place: Place | undefined) => string }> = {
  EACCES: { problem: "permission denied", wayOut: (p) => `give the user running streamc write access to ${p?.dir ?? "it"}, or ${moveIt(p)}` },
  EPERM: { problem: "operation not permitted", wayOut: (p) => `check the directory's permissions and attributes (an immutable flag, a mount option), or ${moveIt(p)}` },
  ENOSPC: { problem: "no space left on the device", wayOut: () => "free space there, then run again: the pipeline resumes from its last commit and nothing is lost" },
  EDQUOT: { problem: "the disk quota is exceeded", wayOut: () => "raise the quota or free space, then run again: the pipeline resumes from its last commit" },
  EROFS: { problem: "the file system is read-only", wayOut: (p) => moveIt(p) },
};

function moveIt(place: Place | undefined): string {
  return place ? `set ${place.setting} to a writable directory` : "use a writable directory";
}

export function describeFailure(error: unknown, places: readonly Place[]): unknown {
  const e = error as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof e.code !== "string" || typeof e.path !== "string") return error;
  const known = PROBLEMS[e.code];
  if (!known) return error;
  const place = places
    .filter((p) => e.path === p.dir || e.path!.startsWith(p.dir.endsWith(sep) ? p.dir : p.dir + sep))
    .sort((a, b) => b.dir.length - a.dir.length)[0];
  const where = place ? `${place.what} at ${place.dir}` : e.path;
  // The file inside the place, unless it is a temporary name (random, and meaningless to the
  // reader): then the directory it was in.
  const inside = place && e.path !== place.dir ? relative(place.dir, e.path) : "";
  const shown = isTemporaryFileName(basename(inside)) ? dirname(inside) : inside;
  const file = ` (${[e.syscall ?? "write", shown === "." ? "" : shown].filter(Boolean).join(" ")})`;
  return new OperatorFacingError(`cannot write ${where}: ${known.problem}${file}; ${known.wayOut(place)}`, e.code);
}
