/**
 * `vacuum`: deletes the files of a table directory that no version within the retention period
 * needs.
 *
 * Contract: `vacuumTable(tablePath, { retentionMs })` reads the latest snapshot and keeps every
 * live file and every tombstone (a removed file) removed less than `retentionMs` ago, or with no
 * deletion time: so every version committed within the retention can still be read. Every other
 * file under the table directory whose modification time is older than the retention is deleted
 * (or only listed, with `dryRun`): files of removed versions, and files of commits that never
 * happened (a crash before the log entry, a lost race). Never touched: `_delta_log` and every
 * other directory or file whose name starts with `_` or `.` (hidden, as the protocol says; a
 * partition directory `col=...` is not hidden), except streamc's own temporary files
 * (`.NAME.tmp`, left by a crash mid-write), which are deleted once old enough. Directories that
 * vacuum empties are removed. The protocol and features are checked as for a write first.
 *
 * Decision: the retention is whatever the caller asks (the CLI defaults to Delta's 168 hours and
 * warns below it): a shorter one is allowed but lets vacuum delete files that a writer has
 * written and not yet committed, or that a reader of an older version still reads.
 */
import type { Dirent } from "node:fs";
import { readdir, rm, rmdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { isTemporaryFileName } from "../storage/durable-file.ts";
import { resolveDataPath, snapshot } from "./delta-log.ts";
import { checkWritable } from "./log-writer.ts";

/** Delta's default retention (`delta.deletedFileRetentionDuration`): 1 week. */
export const DEFAULT_RETENTION_MS = 168 * 3600 * 1000;

export interface VacuumOptions {
  retentionMs: number;
  /** List what would be deleted; delete nothing. */
  dryRun: boolean;
  /** The time to count the retention back from (tests); default now. */
  now?: number;
}

export interface VacuumResult {
  /** The files deleted (or that would be), relative to the table, sorted. */
  files: { path: string; bytes: number }[];
  /** The snapshot version whose files were kept. */
  version: number;
}

export async function vacuumTable(tablePath: string, options: VacuumOptions): Promise<VacuumResult> {
  const snap = snapshot(tablePath);
  checkWritable(snap);
  const cutoff = (options.now ?? Date.now()) - options.retentionMs;
  const keep = new Set<string>(snap.files.map((f) => resolveDataPath(tablePath, f.path)));
  for (const tombstone of snap.tombstones) {
    if (typeof tombstone.deletionTimestamp !== "number" || tombstone.deletionTimestamp >= cutoff) keep.add(resolveDataPath(tablePath, tombstone.path));
  }
  const partitionColumns = snap.metadata.partitionColumns;
  const files: VacuumResult["files"] = [];
  const visit = async (dir: string): Promise<boolean> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    let remaining = entries.length;
    let removedHere = 0;
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (isHidden(entry.name, partitionColumns)) continue;
        if (await visit(path)) {
          if (!options.dryRun) await rmdir(path).catch(() => undefined);
          remaining--;
          removedHere++;
        }
        continue;
      }
      if (!entry.isFile()) continue;
      if (isHidden(entry.name, partitionColumns) && !isTemporaryFileName(entry.name)) continue;
      if (keep.has(path)) continue;
      const info = await stat(path).catch(() => undefined);
      if (!info || info.mtimeMs >= cutoff) continue;
      files.push({ path: relative(tablePath, path), bytes: info.size });
      if (!options.dryRun) await rm(path, { force: true });
      remaining--;
      removedHere++;
    }
    // A directory that vacuum emptied goes too (not one that was empty already: a writer may
    // just have made it; never the root).
    return remaining === 0 && removedHere > 0 && dir !== tablePath;
  };
  await visit(tablePath);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, version: snap.version };
}

function isHidden(name: string, partitionColumns: readonly string[]): boolean {
  if (!name.startsWith("_") && !name.startsWith(".")) return false;
  return !partitionColumns.some((c) => name.startsWith(`${c}=`));
}
