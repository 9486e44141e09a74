/**
 * `streamc status CHECKPOINT`: what a checkpoint says about its pipeline, read without running it.
 *
 * Contract: `checkpointStatus(dir)` reads the checkpoint (never writes) and returns the newest
 * committed batch, each source's offset after it, the watermark the next batch runs under, the
 * rows and bytes of each operator's saved state, a batch waiting to be replayed, and the offsets
 * behind latest from the newest progress line. A directory without a checkpoint, or a broken one,
 * throws (`CheckpointError` names the file).
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Offset } from "../sources/source.ts";
import { CheckpointError, CheckpointStore, readMetadata, type CheckpointMetadata } from "./store.ts";

export interface CheckpointStatus {
  dir: string;
  metadata: CheckpointMetadata;
  lastCommitted: { batchId: number; committedAt: string } | undefined;
  /** A batch whose offsets are written but which never committed: the next run replays it first. */
  pendingReplay: number | undefined;
  /** The watermark the next batch runs under (event-time micros), or null. */
  watermark: number | null;
  sources: { id: string; offset: Offset | null; offsetsBehindLatest: number | undefined }[];
  state: { operatorId: string; rows: number; bytes: number; file: string }[];
}

export async function checkpointStatus(dir: string): Promise<CheckpointStatus> {
  const metadata = await readMetadata(dir);
  if (!metadata) {
    throw new CheckpointError(join(dir, "metadata.json"), "there is no checkpoint here", "check the path; a pipeline creates its checkpoint when it first runs");
  }
  const store = await CheckpointStore.open(dir, metadata.name);
  const { committed, replay } = await store.recover();
  const behind = await lastProgressBehind(dir);
  const sources = committed
    ? Object.entries(committed.offsets.offsets).map(([id, offset]) => ({ id, offset, offsetsBehindLatest: behind.get(id) }))
    : [];
  const state = committed
    ? await Promise.all(
        Object.entries(committed.commit.state).map(async ([operatorId, entry]) => ({
          operatorId,
          rows: entry.rows,
          bytes: (await stat(join(dir, entry.file))).size,
          file: entry.file,
        })),
      )
    : [];
  return {
    dir,
    metadata,
    lastCommitted: committed ? { batchId: committed.commit.batchId, committedAt: committed.commit.timestamp } : undefined,
    pendingReplay: replay?.batchId,
    watermark: committed?.commit.nextWatermark ?? null,
    sources,
    state,
  };
}

/** `sources[].metrics.offsetsBehindLatest` of the newest line of progress.jsonl, by source name. */
async function lastProgressBehind(dir: string): Promise<Map<string, number>> {
  const text = await readFile(join(dir, "progress.jsonl"), "utf8").catch(() => "");
  const last = text.trimEnd().split("\n").at(-1);
  const behind = new Map<string, number>();
  if (!last) return behind;
  try {
    const progress = JSON.parse(last) as { sources?: { name?: string; metrics?: { offsetsBehindLatest?: number } }[] };
    for (const source of progress.sources ?? []) {
      const id = source.name;
      if (id !== undefined && typeof source.metrics?.offsetsBehindLatest === "number") behind.set(id, source.metrics.offsetsBehindLatest);
    }
  } catch {
    // A progress line is informational; a damaged one only loses the lag column.
  }
  return behind;
}
