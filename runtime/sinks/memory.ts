/**
 * The `memory` sink: keeps what it is given, for tests.
 *
 * Contract: rows are kept per batch id. As Spark's memory sink: `append` and `update` add the
 * batch's rows to what is kept, `complete` first drops everything kept (its batch is the whole
 * result). A replayed batch id replaces that batch's rows instead of adding them again.
 *
 * Decision: `update` does not upsert by key (the sink does not know the key); like Spark's memory
 * sink it keeps every update, in batch order, so `rows()` is the change log. Take the latest row
 * per key in the test when the final state is wanted.
 */
import { batchToRows } from "../columnar/batch-ops.ts";
import type { Batch } from "../columnar/batch.ts";
import type { CellValue } from "../columnar/values.ts";
import type { Schema } from "../plan.ts";
import type { OutputMode, Sink } from "./sink.ts";

export type Row = Record<string, CellValue>;

export class MemorySink implements Sink {
  private readonly kept = new Map<number, { mode: OutputMode; rows: Row[] }>();

  constructor(
    readonly id: string,
    readonly schema: Schema,
  ) {}

  async write(batchId: number, batch: Batch, mode: OutputMode): Promise<void> {
    if (mode === "complete") {
      for (const id of [...this.kept.keys()]) if (id !== batchId) this.kept.delete(id);
    }
    this.kept.set(batchId, { mode, rows: batchToRows(batch) });
  }

  /** Every kept row, in batch id order. */
  rows(): Row[] {
    return this.batchIds().flatMap((id) => this.kept.get(id)!.rows);
  }

  /** The rows kept for one batch, or undefined. */
  batch(batchId: number): Row[] | undefined {
    return this.kept.get(batchId)?.rows;
  }

  batchIds(): number[] {
    return [...this.kept.keys()].sort((a, b) => a - b);
  }

  clear(): void {
    this.kept.clear();
  }

  async close(): Promise<void> {}
}
