/**
 * Event-time windows for the aggregate operator.
 *
 * Contract:
 * - Tumbling and hopping windows are aligned to the epoch (as Spark): a window is
 *   `[start, start + size)` with `start` a multiple of the slide (the size for tumbling); a row at
 *   `t` belongs to the `size / slide` windows whose start is `floor(t / slide) * slide - j * slide`,
 *   `j = 0 .. size / slide - 1` (j = 0 is its latest window). Under watermark `W` a window is closed
 *   when `start + size <= W`: a row is late when its latest window is closed, and a hopping row
 *   that is not late still skips its windows that are closed (they were already emitted).
 * - Session windows (`SessionWindows`), per key: a row at `t` covers `[t, t + gap)`; sessions that
 *   overlap it are one session with it, so events less than `gap` apart share a session and a row
 *   that bridges two sessions merges them. A session is `[first event, last event + gap)`. Under
 *   watermark `W` a row is late when `t < W`, and a session is closed when its end `<= W`; a row
 *   that is not late can never reach a closed session (`t >= W >= end`).
 * - Times are event-time microseconds as numbers (exact within ±2^53, i.e. until year 2255).
 */

/** The start of the latest `slide`-aligned window containing `t` (floor, also before 1970). */
export function alignedStart(t: number, slide: number): number {
  // floor(t / slide) can be off by one where the division rounds; the corrections make it exact.
  let start = Math.floor(t / slide) * slide;
  if (start > t) start -= slide;
  else if (start + slide <= t) start += slide;
  return start;
}

/** Entries of a batch placed into windows: `count` entries (arrays may be longer), `perRow` consecutive ones per row. */
export interface WindowEntries {
  count: number;
  perRow: number;
  /** Window start per entry. */
  starts: Float64Array;
  /** -1 for an entry to skip (late, or a closed window); 0 otherwise (the table fills in ids). */
  ids: Int32Array;
  /** The late rows (every window closed, or no event time), ascending. */
  late: Int32Array;
}

/**
 * Tumbling (`slide === size`) or hopping windows for `n` rows with event times `times` (NaN: no
 * time, late) under `watermark`.
 */
export function assignSlidingWindows(
  times: Float64Array,
  n: number,
  size: number,
  slide: number,
  watermark: number,
  /** Arrays to reuse (at least `n * size / slide` long), else new ones. */
  scratch?: { starts: Float64Array; ids: Int32Array },
): WindowEntries {
  const perRow = Math.round(size / slide);
  const count = n * perRow;
  const starts = scratch && scratch.starts.length >= count ? scratch.starts : new Float64Array(count);
  const ids = scratch && scratch.ids.length >= count ? scratch.ids.fill(0, 0, count) : new Int32Array(count);
  const late: number[] = [];
  let cachedStart = NaN;
  for (let r = 0; r < n; r++) {
    const t = times[r]!;
    // Rows of a batch mostly share a few windows: reuse the last one when it holds t.
    const latest = t >= cachedStart && t < cachedStart + slide ? cachedStart : t === t ? (cachedStart = alignedStart(t, slide)) : NaN;
    if (!(latest + size > watermark)) {
      late.push(r);
      for (let j = 0; j < perRow; j++) ids[r * perRow + j] = -1;
      continue;
    }
    for (let j = 0; j < perRow; j++) {
      const start = latest - j * slide;
      starts[r * perRow + j] = start;
      if (start + size <= watermark) ids[r * perRow + j] = -1;
    }
  }
  return { count, perRow, starts, ids, late: Int32Array.from(late) };
}

/**
 * Session windows, per key. Session ids are allocated by the caller (`allocate`) and index
 * `start`/`end`/`keyOf`, which the caller owns and grows; `merge(into, from)` is called when
 * session `from` joins `into` (from's state must move into into's; from is then dead).
 */
export class SessionWindows {
  /** Session ids of each key, ordered by start (so also by end: sessions of a key are disjoint). */
  private readonly byKey: (number[] | undefined)[] = [];

  constructor(
    private readonly gap: number,
    private readonly arrays: () => { start: Float64Array; end: Float64Array; keyOf: Int32Array },
    private readonly allocate: () => number,
    private readonly merge: (into: number, from: number) => void,
  ) {}

  /** The session of key `key` that a row at `t` joins (creating, extending or merging sessions). */
  assign(key: number, t: number): number {
    const list = (this.byKey[key] ??= []);
    const reach = t + this.gap;
    const { start, end } = this.arrays();
    // First session that starts at or after t + gap: it and later ones do not overlap [t, t + gap).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (start[list[mid]!]! < reach) lo = mid + 1;
      else hi = mid;
    }
    const after = lo;
    let first = after;
    while (first > 0 && end[list[first - 1]!]! > t) first--;
    if (first === after) {
      const id = this.allocate();
      const arrays = this.arrays();
      arrays.start[id] = t;
      arrays.end[id] = reach;
      arrays.keyOf[id] = key;
      list.splice(after, 0, id);
      return id;
    }
    const id = list[first]!;
    const lastEnd = end[list[after - 1]!]!;
    if (t < start[id]!) start[id] = t;
    end[id] = Math.max(lastEnd, reach);
    for (let m = first + 1; m < after; m++) this.merge(id, list[m]!);
    if (after - first > 1) list.splice(first + 1, after - first - 1);
    return id;
  }

  /** Puts back a restored session (sessions of a key must not overlap). */
  insert(key: number, id: number): void {
    const list = (this.byKey[key] ??= []);
    const { start } = this.arrays();
    let at = list.length;
    while (at > 0 && start[list[at - 1]!]! > start[id]!) at--;
    list.splice(at, 0, id);
  }

  /** Removes a closed session; returns true when its key has no session left. */
  remove(key: number, id: number): boolean {
    const list = this.byKey[key]!;
    const at = list.indexOf(id);
    if (at >= 0) list.splice(at, 1);
    if (list.length > 0) return false;
    this.byKey[key] = undefined;
    return true;
  }

  memoryBytes(): number {
    let n = 0;
    for (const list of this.byKey) if (list) n += 32 + 8 * list.length;
    return n;
  }
}
