/**
 * The pipeline the progress tests watch, and its input: click files written one at a time.
 *
 * `watchedPipeline()` makes a temporary directory with `in/` and a program `watched.stream` whose
 * paths are absolute (so it runs from any working directory): a `files` source read one file per
 * batch, a watermark 10 s behind, a filter, a 1-minute tumbling count per user (state), two
 * `files` sinks and a `files` dead letter. `writeClickFile(dir, f)` writes file `f`:
 * CLICKS_PER_FILE rows at 2024-01-01T00:00:00Z + f minutes + 2·i seconds, users `u0`–`u3`,
 * every fifth row a `health` page (filtered out), then one malformed line and one record without
 * `page` (rejected: `malformed`, `missing_field`), and `late` rows at 2024-01-01T00:00:00Z (behind
 * the watermark from the third batch on: `late` at the aggregate).
 */
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CLICKS_PER_FILE = 20;
/** Rows of a file that pass the filter (every fifth is a `health` page). */
export const VIEWS_PER_FILE = 16;
const BASE_MS = Date.parse("2024-01-01T00:00:00Z");

export interface WatchedPipeline {
  dir: string;
  program: string;
}

export function watchedPipeline(prefix: string): WatchedPipeline {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, "in"));
  const path = (p: string) => JSON.stringify(join(dir, p));
  const program = join(dir, "watched.stream");
  writeFileSync(
    program,
    `pipeline watched { deadletter = files ${path("dead")} }
schema Click { user: string, page: string, ts: timestamp }
source clicks: Click = files ${path("in")} { format = json, max_files_per_batch = 1 }
stream views = clicks | watermark ts delay 10s | where page != "health"
stream per_user = views | window tumbling 1m | aggregate n = count() by user
sink views -> files ${path("out/views")} { format = json }
sink per_user -> files ${path("out/per_user")} { format = json }
`,
  );
  return { dir, program };
}

export function fileName(f: number): string {
  return `clicks-${String(f).padStart(5, "0")}.json`;
}

export function writeClickFile(dir: string, f: number, options: { late?: number } = {}): void {
  const lines: string[] = [];
  for (let i = 0; i < CLICKS_PER_FILE; i++) {
    const ts = new Date(BASE_MS + f * 60_000 + i * 2_000).toISOString();
    lines.push(JSON.stringify({ user: `u${i % 4}`, page: i % 5 === 0 ? "health" : "home", ts }));
  }
  lines.push("{not json");
  lines.push(JSON.stringify({ user: "nobody", ts: new Date(BASE_MS + f * 60_000).toISOString() }));
  for (let i = 0; i < (options.late ?? 0); i++) lines.push(JSON.stringify({ user: "u0", page: "home", ts: new Date(BASE_MS).toISOString() }));
  // Written whole under a hidden name, then renamed: the files source never sees half a file.
  const tmp = join(dir, "in", `.${fileName(f)}.tmp`);
  writeFileSync(tmp, lines.join("\n") + "\n");
  renameSync(tmp, join(dir, "in", fileName(f)));
}
