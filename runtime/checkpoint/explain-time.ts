/**
 * `streamc status CHECKPOINT --explain-time`: why a window has not closed, from the checkpoint alone.
 *
 * Contract: `explainTime(dir)` reads (never writes) the newest commit and what it names, and the
 * newest progress line, and returns:
 * - the watermark the next batch runs under, and per `watermark` node its column, delay, newest
 *   event time and the watermark it alone would allow; the node with the smallest holds the
 *   pipeline's watermark back;
 * - per source and partition the newest event time and the last batch that brought rows; a
 *   partition is idle when later batches brought rows from the source's other partitions and
 *   none from it (`idleBatches`: how many batches it is behind);
 * - per window operator, the windows its state holds open, the oldest one, and when it closes: once
 *   the watermark reaches its end, i.e. once the watermark node's newest event time reaches the
 *   end plus its delay;
 * - rows dropped or dead-lettered as late, per operator (the newest progress line's counts, since
 *   that run started) and in the newest batch's dead letter.
 * A checkpoint written before this existed (no `eventTime` in its commit) gives what it can.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { CheckpointError, CheckpointStore, readMetadata } from "./store.ts";

export interface TimeExplanation {
  lastBatch: number | undefined;
  /** The watermark the next batch runs under (micros), null before any. */
  watermark: number | null;
  watermarks: { node: string; column: string; delayMicros: number; maxEventTime: number | null; allows: number | null; holdsBack: boolean }[];
  sources: { source: string; column: string; partitions: { partition: string; maxEventTime: number | null; lastBatch: number; idleBatches: number }[] }[];
  windows: { operator: string; open: number; oldest: { start: number; end: number } | undefined; closesAtWatermark: number | undefined; closesAtEventTime: number | undefined }[];
  late: { operator: string; dropped: number }[];
  lateInLastBatch: number;
}

export async function explainTime(dir: string): Promise<TimeExplanation> {
  const metadata = await readMetadata(dir);
  if (!metadata) throw new CheckpointError(join(dir, "metadata.json"), "there is no checkpoint here", "check the path; a pipeline creates its checkpoint when it first runs");
  const store = await CheckpointStore.open(dir, metadata.name);
  const { committed } = await store.recover();
  const explanation: TimeExplanation = { lastBatch: undefined, watermark: null, watermarks: [], sources: [], windows: [], late: [], lateInLastBatch: 0 };
  if (!committed) return explanation;
  const { commit } = committed;
  explanation.lastBatch = commit.batchId;
  explanation.watermark = commit.nextWatermark;

  const nodes = commit.eventTime?.watermarks ?? Object.entries(commit.eventTimeMax).map(([node, max]) => ({ node, column: "?", delayMicros: 0, maxEventTime: max }));
  const allows = nodes.map((n) => (n.maxEventTime === null ? null : n.maxEventTime - n.delayMicros));
  const seen = allows.filter((a): a is number => a !== null);
  const smallest = seen.length ? Math.min(...seen) : undefined;
  explanation.watermarks = nodes.map((n, i) => ({ ...n, allows: allows[i]!, holdsBack: nodes.length > 1 && allows[i] === smallest }));

  for (const [source, tracked] of Object.entries(commit.eventTime?.sources ?? {})) {
    // Idle: behind the source's newest batch with rows (a batch without data idles nobody).
    const newest = Math.max(...Object.values(tracked.partitions).map((p) => p.lastBatch));
    explanation.sources.push({
      source,
      column: tracked.column,
      partitions: Object.entries(tracked.partitions)
        .map(([partition, p]) => ({ partition, maxEventTime: p.maxEventTime, lastBatch: p.lastBatch, idleBatches: newest - p.lastBatch }))
        .sort((a, b) => a.partition.localeCompare(b.partition, "en", { numeric: true })),
    });
  }

  for (const [operator, entry] of Object.entries(commit.state)) {
    if (entry.schema.operatorKind !== "window-aggregate") continue;
    const table = arrow.tableFromIPC(new Uint8Array(await store.readState(entry)));
    // Timestamps as stored, in microseconds (arrow's `get` would give milliseconds).
    const micros = (name: string): number[] =>
      (table.getChild(name)?.data ?? []).flatMap((d) => Array.from((d.values as BigInt64Array).subarray(d.offset, d.offset + d.length), Number));
    const starts = micros("window_start");
    const ends = micros("window_end");
    let oldest: { start: number; end: number } | undefined;
    for (let r = 0; r < ends.length; r++) {
      if (oldest === undefined || ends[r]! < oldest.end) oldest = { start: starts[r]!, end: ends[r]! };
    }
    // The watermark node that feeds it is not recorded; with one node (the usual case) it is that one.
    const delay = nodes.length === 1 ? nodes[0]!.delayMicros : undefined;
    explanation.windows.push({
      operator,
      open: table.numRows,
      oldest,
      closesAtWatermark: oldest?.end,
      closesAtEventTime: oldest && delay !== undefined ? oldest.end + delay : undefined,
    });
  }

  const progress = await lastProgress(dir);
  if (progress) {
    explanation.late = (progress.stateOperators ?? []).map((o) => ({ operator: o.operatorName, dropped: o.numRowsDroppedByWatermark }));
    explanation.lateInLastBatch = progress.deadLetters?.late ?? 0;
  }
  return explanation;
}

interface ProgressLine {
  stateOperators?: { operatorName: string; numRowsDroppedByWatermark: number }[];
  deadLetters?: { late?: number };
}

async function lastProgress(dir: string): Promise<ProgressLine | undefined> {
  const text = await readFile(join(dir, "progress.jsonl"), "utf8").catch(() => "");
  const last = text.trimEnd().split("\n").at(-1);
  if (!last) return undefined;
  try {
    return JSON.parse(last) as ProgressLine;
  } catch {
    return undefined;
  }
}
