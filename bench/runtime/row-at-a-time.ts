/**
 * The row-at-a-time baselines: the same computations written as plain JavaScript over one object
 * per row, with a `Map` keyed by the grouping key, as one would write them by hand.
 *
 * They follow streamc's streaming semantics, not a one-shot batch query: rows arrive in the same
 * micro-batches; batch N runs under the watermark computed after batch N − 1 (the largest event
 * time seen minus the delay, never decreasing); windows close and emit, and dedup keys expire, as
 * the watermark passes them; a final watermark closes what is left. So they keep the same state,
 * of the same size, for the same time. Rows behind the watermark are counted as late (the data
 * has none).
 */
import type { EventRow } from "./data.ts";

export interface Baseline<Out> {
  out: Out[];
  late: number;
}

function alignedStart(t: number, size: number): number {
  return t - (((t % size) + size) % size);
}

/** `where amount > 10 and user % 10 != 0 | select key, user, gross = amount * 1.25, ts` */
export interface FilterProjectRow {
  key: string;
  user: number;
  gross: number;
  ts: number;
}

export function filterProject(batches: readonly EventRow[][]): Baseline<FilterProjectRow> {
  const out: FilterProjectRow[] = [];
  for (const batch of batches) {
    for (const row of batch) {
      if (row.amount > 10 && row.user % 10 !== 0) out.push({ key: row.key, user: row.user, gross: row.amount * 1.25, ts: row.ts });
    }
  }
  return { out, late: 0 };
}

export interface WindowRow {
  window_start: number;
  window_end: number;
  key: string;
  n: number;
  total?: number;
}

/** `watermark ts delay D | window tumbling SIZE | aggregate n = count(), total = sum(amount) by key` */
export function tumblingCountSum(batches: readonly EventRow[][], size: number, delay: number, finalWatermark: number): Baseline<WindowRow> {
  const windows = new Map<number, Map<string, { n: number; total: number }>>();
  const out: WindowRow[] = [];
  let watermark = -Infinity;
  let maxTs = -Infinity;
  let late = 0;
  const close = (w: number) => {
    const closing = [...windows.keys()].filter((start) => start + size <= w).sort((a, b) => a - b);
    for (const start of closing) {
      for (const [key, acc] of windows.get(start)!) out.push({ window_start: start, window_end: start + size, key, n: acc.n, total: acc.total });
      windows.delete(start);
    }
  };
  for (const batch of batches) {
    for (const row of batch) {
      if (row.ts > maxTs) maxTs = row.ts;
      const start = alignedStart(row.ts, size);
      if (start + size <= watermark) {
        late++;
        continue;
      }
      let groups = windows.get(start);
      if (!groups) windows.set(start, (groups = new Map()));
      const acc = groups.get(row.key);
      if (acc) {
        acc.n++;
        acc.total += row.amount;
      } else {
        groups.set(row.key, { n: 1, total: row.amount });
      }
    }
    close(watermark);
    watermark = Math.max(watermark, maxTs - delay);
  }
  close(Math.max(watermark, finalWatermark));
  return { out, late };
}

interface Session {
  start: number;
  end: number;
  n: number;
}

/** `watermark ts delay D | window session GAP | aggregate n = count() by key` */
export function sessionCount(batches: readonly EventRow[][], gap: number, delay: number, finalWatermark: number): Baseline<WindowRow> {
  const sessions = new Map<string, Session[]>();
  const out: WindowRow[] = [];
  let watermark = -Infinity;
  let maxTs = -Infinity;
  let late = 0;
  const close = (w: number) => {
    for (const [key, list] of sessions) {
      const open: Session[] = [];
      for (const s of list) {
        if (s.end <= w) out.push({ window_start: s.start, window_end: s.end, key, n: s.n });
        else open.push(s);
      }
      if (open.length === 0) sessions.delete(key);
      else if (open.length !== list.length) sessions.set(key, open);
    }
  };
  for (const batch of batches) {
    for (const row of batch) {
      const t = row.ts;
      if (t > maxTs) maxTs = t;
      if (t < watermark) {
        late++;
        continue;
      }
      const list = sessions.get(row.key);
      if (!list) {
        sessions.set(row.key, [{ start: t, end: t + gap, n: 1 }]);
        continue;
      }
      // The sessions [start, end) that overlap [t, t + gap) merge with the row.
      const merged: Session = { start: t, end: t + gap, n: 1 };
      const kept: Session[] = [];
      for (const s of list) {
        if (s.start < t + gap && s.end > t) {
          merged.start = Math.min(merged.start, s.start);
          merged.end = Math.max(merged.end, s.end);
          merged.n += s.n;
        } else {
          kept.push(s);
        }
      }
      kept.push(merged);
      sessions.set(row.key, kept);
    }
    close(watermark);
    watermark = Math.max(watermark, maxTs - delay);
  }
  close(Math.max(watermark, finalWatermark));
  return { out, late };
}

/** `watermark ts delay D | dedup by event_id within WITHIN` */
export function dedupWithin(batches: readonly EventRow[][], within: number, delay: number): Baseline<EventRow> {
  const seen = new Map<string, number>();
  const out: EventRow[] = [];
  let watermark = -Infinity;
  let maxTs = -Infinity;
  let late = 0;
  for (const batch of batches) {
    for (const [id, t] of seen) if (t + within < watermark) seen.delete(id);
    for (const row of batch) {
      if (row.ts > maxTs) maxTs = row.ts;
      if (row.ts < watermark) {
        late++;
        continue;
      }
      if (seen.has(row.event_id)) continue;
      seen.set(row.event_id, row.ts);
      out.push(row);
    }
    watermark = Math.max(watermark, maxTs - delay);
  }
  return { out, late };
}
