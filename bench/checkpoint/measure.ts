/**
 * Timing for `bench/checkpoint.bench.ts`, with the conventions of `bench/runtime.bench.ts` (whose
 * helpers live inside that script, so the small ones are repeated here): `BENCH_WARMUPS` untimed
 * rounds, then `BENCH_RUNS` timed ones; the median run is the figure; the share of each run spent
 * in garbage-collection pauses is recorded.
 *
 * Contract: `measureInterleaved(count, contestants)` runs the contestants in turn, round after
 * round (A B C, A B C, ...), so that a machine whose load changes during the benchmark slows all
 * of them alike, and the paired differences of a round compare runs made a second apart. Before
 * every run a garbage collection is forced (with `node --expose-gc`), so that no run pays for the
 * garbage of the one before, which belongs to another contestant. Around every run it calls
 * `before`/`observe`/`after` (untimed), hands each contestant's last run to its `last` (untimed),
 * and returns per contestant the median wall time, every timed run's time in round order and the
 * median GC pause share. `count` is what the per-second rate counts (rows).
 */
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";

export const RUNS = Math.max(5, Number(process.env["BENCH_RUNS"] ?? 5));
export const WARMUPS = Math.max(0, Number(process.env["BENCH_WARMUPS"] ?? 2));

const gc = (globalThis as { gc?: () => void }).gc;
export const exposeGc = gc !== undefined;

export interface Timing {
  /** Median wall time of one run, in milliseconds. */
  ms: number;
  perSecond: number;
  runsMs: number[];
  /** Median share of a run's wall time spent in GC pauses (`gc` performance entries). */
  gcPauseShare: number;
}

/** Method signatures, so that contestants returning different types go in one list (each result reaches only its own contestant's methods). */
export interface Contestant<T> {
  /** Untimed, before every run (a fresh output directory, ...). */
  before?(): unknown;
  work(): T | Promise<T>;
  /** Untimed, after every run; receives the run's result and whether it was timed. */
  observe?(result: T, timed: boolean): unknown;
  /** Receives the last timed run's result (untimed): checks it. */
  last(result: T): unknown;
  /** Untimed, after every run (after `observe` and `last`). */
  after?(): unknown;
}

const gcEntries: { start: number; duration: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEntries.push({ start: e.startTime, duration: e.duration });
});
gcObserver.observe({ entryTypes: ["gc"] });

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function measureInterleaved(count: number, contestants: readonly Contestant<unknown>[]): Promise<Timing[]> {
  const runsMs: number[][] = contestants.map(() => []);
  const gcShares: number[][] = contestants.map(() => []);
  for (let round = 0; round < WARMUPS + RUNS; round++) {
    const timed = round >= WARMUPS;
    for (let k = 0; k < contestants.length; k++) {
      const c = contestants[k]!;
      await c.before?.();
      await settle();
      gcObserver.takeRecords();
      gcEntries.length = 0;
      const started = performance.now();
      const result: unknown = await c.work();
      const ms = performance.now() - started;
      await tick();
      for (const e of gcObserver.takeRecords()) gcEntries.push({ start: e.startTime, duration: e.duration });
      const gcMs = gcEntries.filter((e) => e.start >= started && e.start < started + ms).reduce((sum, e) => sum + e.duration, 0);
      if (timed) {
        runsMs[k]!.push(ms);
        gcShares[k]!.push(gcMs / ms);
      }
      await c.observe?.(result, timed);
      if (round === WARMUPS + RUNS - 1) await c.last(result);
      await c.after?.();
    }
  }
  return contestants.map((_, k) => {
    const ms = median(runsMs[k]!);
    return { ms: round2(ms), perSecond: Math.round((count / ms) * 1000), runsMs: runsMs[k]!.map(round2), gcPauseShare: round(median(gcShares[k]!), 3) };
  });
}

const round2 = (value: number) => round(value, 2);

/** Lets queued callbacks run, then collects the garbage of what ran before. */
export async function settle(): Promise<void> {
  await tick();
  gc?.();
}

/** The machine a result was measured on, for the results file; `loadAtStart` is `loadavg()` read when the run began. */
export function machineInfo(loadAtStart: readonly number[]): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGB: round(totalmem() / 2 ** 30, 1),
    platform: platform(),
    release: release(),
    loadAverage: { atStart: loadAtStart, atEnd: loadavg().map((l) => round(l, 2)) },
  };
}

/** Prints rows as a table: the first is the header, the first column left-aligned, the others right-aligned. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  console.log(line(rows[0]!));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows.slice(1)) console.log(line(row));
}
