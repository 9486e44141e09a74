/**
 * The four in-memory runtime benchmarks (issue 3, (a) to (d)): for each, the streamc program, the
 * DuckDB query computing the same result over the same rows, the row-at-a-time baseline, and the
 * checksum terms that prove the three agree.
 */
import { EVENT_SCHEMA_TEXT, type EventRow, MINUTE, T0, eventNumber, keyNumber } from "./data.ts";
import type { Row, Term } from "./checksum.ts";
import { dedupWithin, filterProject, sessionCount, tumblingCountSum, type Baseline } from "./row-at-a-time.ts";

export const DELAY = 5 * MINUTE;
export const WINDOW = 10 * MINUTE;
export const GAP = 5 * MINUTE;
export const WITHIN = 10 * MINUTE;

export interface Target {
  /** What the issue asks, as printed. */
  text: string;
  met: (m: { rowsPerSecond: number; vsDuckDB: number; vsRowAtATime: number }) => boolean;
}

export interface Case {
  id: "a" | "b" | "c" | "d";
  name: string;
  /** The stream that computes the result (the program's only sink reads it). */
  stream: string;
  /** Runs on both key encodings (the key is grouped on or carried through). */
  keyVariants: boolean;
  /** The result as a DuckDB query over `events`. */
  sql: string;
  terms: Term[];
  rowAtATime: (rows: readonly EventRow[][], finalWatermark: number) => Baseline<unknown>;
  targets: Target[];
}

export function program(name: string, stream: string): string {
  return [
    `pipeline ${name} { trigger = available_now }`,
    EVENT_SCHEMA_TEXT,
    // Never opened: the benchmark hands the Dataflow its batches directly.
    `source events: Event = files "unused" { format = json }`,
    `stream out = events`,
    stream,
    `sink out -> memory`,
    "",
  ].join("\n");
}

const num = (row: Row, name: string) => row[name] as number;
const rowsTerm: Term = { name: "rows", sql: "1", value: () => 1 };
const keyTerm: Term = { name: "key", sql: "CAST(substr(key, 5) AS BIGINT)", value: (r) => keyNumber(r["key"] as string) };
const tsTerm: Term = { name: "ts_us", sql: `epoch_us(ts) - ${T0}`, value: (r) => num(r, "ts") - T0 };

/** Terms shared by the windowed aggregates. */
const windowTerms: Term[] = [
  rowsTerm,
  keyTerm,
  { name: "n", sql: "n", value: (r) => num(r, "n") },
  { name: "key_x_n", sql: "CAST(substr(key, 5) AS BIGINT) * n", value: (r) => keyNumber(r["key"] as string) * num(r, "n") },
  { name: "start_us", sql: `epoch_us(window_start) - ${T0}`, value: (r) => num(r, "window_start") - T0 },
  { name: "end_us", sql: `epoch_us(window_end) - ${T0}`, value: (r) => num(r, "window_end") - T0 },
  {
    name: "key_x_start_s",
    sql: `CAST(substr(key, 5) AS BIGINT) * ((epoch_us(window_start) - ${T0}) // 1000000)`,
    value: (r) => keyNumber(r["key"] as string) * Math.trunc((num(r, "window_start") - T0) / 1_000_000),
  },
];

export const TUMBLING_TERMS: Term[] = [
  ...windowTerms,
  { name: "total_x8", sql: "total * 8", value: (r) => num(r, "total") * 8 },
  { name: "key_x_total_x8", sql: "CAST(substr(key, 5) AS BIGINT) * total * 8", value: (r) => keyNumber(r["key"] as string) * num(r, "total") * 8 },
];

export const TUMBLING_STREAM = `  | watermark ts delay 5m\n  | window tumbling 10m\n  | aggregate n = count(), total = sum(amount) by key`;

/** DuckDB: the tumbling windows of `events` (epoch-aligned, as streamc's). */
export const TUMBLING_SQL = `SELECT time_bucket(INTERVAL '10 minutes', ts) AS window_start, window_start + INTERVAL '10 minutes' AS window_end,
  key, count(*) AS n, sum(amount) AS total
FROM events GROUP BY window_start, key`;

export const cases: Case[] = [
  {
    id: "a",
    name: "filter + project",
    stream: `  | where amount > 10 and user % 10 != 0\n  | select key, user, gross = amount * 1.25, ts`,
    keyVariants: true,
    sql: `SELECT key, "user", amount * 1.25 AS gross, ts FROM events WHERE amount > 10 AND "user" % 10 <> 0`,
    terms: [
      rowsTerm,
      keyTerm,
      { name: "user", sql: '"user"', value: (r) => num(r, "user") },
      { name: "gross_x64", sql: "gross * 64", value: (r) => num(r, "gross") * 64 },
      tsTerm,
    ],
    rowAtATime: (rows) => filterProject(rows),
    targets: [{ text: ">= 20M rows/s", met: (m) => m.rowsPerSecond >= 20e6 }],
  },
  {
    id: "b",
    name: "tumbling 10m count + sum by key",
    stream: TUMBLING_STREAM,
    keyVariants: true,
    sql: TUMBLING_SQL,
    terms: TUMBLING_TERMS,
    rowAtATime: (rows, final) => tumblingCountSum(rows, WINDOW, DELAY, final),
    targets: [
      { text: ">= 0.5x DuckDB", met: (m) => m.vsDuckDB >= 0.5 },
      { text: ">= 10x row-at-a-time", met: (m) => m.vsRowAtATime >= 10 },
    ],
  },
  {
    id: "c",
    name: "session 5m count by key",
    stream: `  | watermark ts delay 5m\n  | window session 5m\n  | aggregate n = count() by key`,
    keyVariants: true,
    // A row starts a session when the previous row of its key (by event time) is at least the gap before it.
    sql: `WITH marked AS (
  SELECT key, ts, CASE WHEN ts - lag(ts) OVER (PARTITION BY key ORDER BY ts) < INTERVAL '5 minutes' THEN 0 ELSE 1 END AS first
  FROM events
), numbered AS (
  SELECT key, ts, sum(first) OVER (PARTITION BY key ORDER BY ts ROWS UNBOUNDED PRECEDING) AS session FROM marked
)
SELECT min(ts) AS window_start, max(ts) + INTERVAL '5 minutes' AS window_end, key, count(*) AS n
FROM numbered GROUP BY key, session`,
    terms: windowTerms,
    rowAtATime: (rows, final) => sessionCount(rows, GAP, DELAY, final),
    targets: [],
  },
  {
    id: "d",
    name: "dedup by event_id within 10m",
    stream: `  | watermark ts delay 5m\n  | dedup by event_id within 10m`,
    keyVariants: false,
    // The first delivery of each event in arrival order (retries repeat the row whole, and no key is forgotten before its last retry).
    sql: `SELECT event_id, key, "user", amount, ts FROM events QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY idx) = 1`,
    terms: [
      rowsTerm,
      { name: "event", sql: "CAST(substr(event_id, 2) AS BIGINT)", value: (r) => eventNumber(r["event_id"] as string) },
      keyTerm,
      { name: "user", sql: '"user"', value: (r) => num(r, "user") },
      { name: "amount_x8", sql: "amount * 8", value: (r) => num(r, "amount") * 8 },
      tsTerm,
    ],
    rowAtATime: (rows) => dedupWithin(rows, WITHIN, DELAY),
    targets: [],
  },
];
