/**
 * Named crash points, for the crash-safety tests (test/chaos/).
 *
 * Contract: `crashPoint(name)` does nothing unless the environment variable `STREAMC_CRASH_AT`
 * names this point, as `NAME` (the first time it is reached) or `NAME@K` (the K-th time, counting
 * from 1, in this process). Then the process kills itself with SIGKILL on the spot: no `finally`,
 * no flush, exactly like a power cut or `kill -9`. A point costs one comparison when unset, so it
 * may sit on any path that writes durable state, never inside a per-row loop.
 *
 * Points (each is where a crash must lose and duplicate nothing):
 * - `table.parquet-write`: half of a data file's bytes are on disk, under its temporary name.
 * - `table.before-log`: a commit's data files are in place, its log entry is not.
 * - `engine.before-commit`: every sink has written batch N, `commits/N` is not written.
 * - `storage.before-link`: a file's temporary copy (a log entry, offsets/N, commits/N) is written
 *   and fsynced, not yet linked into place.
 */
const wanted = parseWanted(process.env["STREAMC_CRASH_AT"]);
const hits = new Map<string, number>();

export function crashPoint(name: string): void {
  if (wanted === undefined || wanted.name !== name) return;
  const hit = (hits.get(name) ?? 0) + 1;
  hits.set(name, hit);
  if (hit === wanted.hit) process.kill(process.pid, "SIGKILL");
}

function parseWanted(value: string | undefined): { name: string; hit: number } | undefined {
  if (!value) return undefined;
  const match = /^([a-z.-]+)(?:@([0-9]+))?$/.exec(value);
  if (!match) return undefined;
  return { name: match[1]!, hit: match[2] ? Number(match[2]) : 1 };
}
