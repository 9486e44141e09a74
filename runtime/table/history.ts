/**
 * A table's history, newest first, as `streamc table history` prints it.
 *
 * Contract: one entry per JSON commit still in `_delta_log` (older commits folded into a
 * checkpoint and cleaned up are not listed), with what its `commitInfo` says (time, operation)
 * and what it changed (files added and removed, transaction ids). A log that is not there is a
 * `DeltaError` naming the path.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DeltaError } from "./delta-log.ts";

export interface HistoryEntry {
  version: number;
  /** Epoch milliseconds, from `commitInfo.timestamp`. */
  timestamp: number | undefined;
  operation: string | undefined;
  filesAdded: number;
  filesRemoved: number;
  /** `txn` actions: application id and the version it committed. */
  txns: { appId: string; version: number }[];
}

export function tableHistory(tablePath: string): HistoryEntry[] {
  const logDir = join(tablePath, "_delta_log");
  if (!existsSync(logDir)) throw new DeltaError(`no Delta log at ${logDir}: not a Delta table`);
  const commits = readdirSync(logDir)
    .map((name) => /^(\d{20})\.json$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), file: join(logDir, m[0]) }))
    .sort((a, b) => b.version - a.version);
  return commits.map(({ version, file }) => {
    const entry: HistoryEntry = { version, timestamp: undefined, operation: undefined, filesAdded: 0, filesRemoved: 0, txns: [] };
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      let action: Record<string, { [key: string]: unknown }>;
      try {
        action = JSON.parse(line) as typeof action;
      } catch {
        throw new DeltaError(`${file}: a line is not JSON; the log is corrupt`);
      }
      if (action["add"]) entry.filesAdded++;
      if (action["remove"]) entry.filesRemoved++;
      const txn = action["txn"];
      if (txn && typeof txn["appId"] === "string" && typeof txn["version"] === "number") entry.txns.push({ appId: txn["appId"], version: txn["version"] });
      const info = action["commitInfo"];
      if (info) {
        if (typeof info["timestamp"] === "number") entry.timestamp = info["timestamp"];
        if (typeof info["operation"] === "string") entry.operation = info["operation"];
      }
    }
    return entry;
  });
}
