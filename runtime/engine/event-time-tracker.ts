/**
 * Event time per source and partition, so that an operator can find out why a window has not
 * closed (`streamc status --explain-time`).
 *
 * Contract:
 * - A source's event-time column is the column of the first `watermark` node its rows reach
 *   through stateless nodes (filter, select, explode, union), when the source has a `timestamp`
 *   column of that name; a source without one is not tracked.
 * - `observe(sourceId, batch, segments, batchId)` takes the rows a source read in a batch: per
 *   partition (`segments`, Kafka) or as one partition `*`, it keeps the newest event time and the
 *   last batch that brought rows. It costs one pass over one column.
 * - `snapshot()` is plain JSON for `commits/N.json`; `restore` takes it back after a restart.
 */
import type { Batch } from "../columnar/batch.ts";
import { eventTimes } from "../operators/event-time.ts";
import type { PhysicalPlan } from "../plan.ts";

export interface PartitionEventTime {
  /** Newest event time seen (micros), null when its rows had none. */
  maxEventTime: number | null;
  /** The last batch that read rows from it. */
  lastBatch: number;
}

export interface SourceEventTime {
  column: string;
  partitions: Record<string, PartitionEventTime>;
}

export type EventTimeSnapshot = Record<string, SourceEventTime>;

export class EventTimeTracker {
  private readonly columns = new Map<string, string>();
  private state: EventTimeSnapshot = {};

  constructor(plan: PhysicalPlan) {
    const nodes = new Map(plan.nodes.map((n) => [n.id, n]));
    const sources = new Map(plan.sources.map((s) => [s.id, s]));
    /** The sources whose rows reach `id` through stateless nodes. */
    const sourcesOf = (id: string, seen = new Set<string>()): string[] => {
      if (seen.has(id)) return [];
      seen.add(id);
      if (sources.has(id)) return [id];
      const node = nodes.get(id);
      if (!node || !["filter", "project", "explode", "union", "watermark"].includes(node.kind)) return [];
      return node.inputs.flatMap((input) => sourcesOf(input, seen));
    };
    for (const node of plan.nodes) {
      if (node.kind !== "watermark") continue;
      for (const sourceId of node.inputs.flatMap((input) => sourcesOf(input))) {
        const field = sources.get(sourceId)!.schema.fields.find((f) => f.name === node.column);
        if (field?.type.kind === "timestamp" && !this.columns.has(sourceId)) this.columns.set(sourceId, node.column);
      }
    }
  }

  observe(sourceId: string, batch: Batch, segments: readonly { partition: string; rows: number }[] | undefined, batchId: number): void {
    const column = this.columns.get(sourceId);
    if (column === undefined || batch.length === 0) return;
    const index = batch.schema.fields.findIndex((f) => f.name === column);
    if (index < 0) return;
    const times = eventTimes(batch, index);
    const source = (this.state[sourceId] ??= { column, partitions: {} });
    const runs = segments ?? [{ partition: "*", rows: batch.length }];
    let row = 0;
    for (const { partition, rows } of runs) {
      if (rows === 0) continue;
      let max = -Infinity;
      for (let r = row; r < row + rows; r++) {
        const t = times[r]!;
        if (t > max) max = t;
      }
      row += rows;
      const before = source.partitions[partition]?.maxEventTime ?? null;
      const newest = Number.isFinite(max) ? (before === null ? max : Math.max(before, max)) : before;
      source.partitions[partition] = { maxEventTime: newest, lastBatch: batchId };
    }
  }

  snapshot(): EventTimeSnapshot {
    return structuredClone(this.state);
  }

  restore(snapshot: EventTimeSnapshot | undefined): void {
    if (snapshot) this.state = structuredClone(snapshot);
  }
}
