/**
 * Every example, end to end, against DuckDB.
 *
 * Each example is compiled, and its physical plan rewritten so that it runs here: Kafka sources
 * read the example's `.jsonl` from a `files` directory (format and schema kept), every sink and the
 * dead letter write to `memory` (modes kept). It runs with `runPipeline` under
 * `trigger: available_now`, in two scenarios:
 *
 * - **as is**: each source's data directory, read in one batch; then, as `available_now` does, one
 *   batch without data under the final watermark (newest event time minus the delay), which closes
 *   the windows that end by then. Windows that end after it stay open and are not written (the
 *   examples' READMEs say which).
 * - **small batches with stragglers**: each source's file split into six chunk files read one per
 *   batch (`max_files_per_batch = 1`), then one more file that sends the source's first lines again.
 *   The watermark moves between batches, so rows can be late; the stragglers certainly are.
 *
 * DuckDB answers the same question over the same file (`read_json(file, columns = {...}) WITH
 * ORDINALITY`, the ordinality being the line): the source's schema is enforced in SQL (required
 * fields present, JSON types, integer ranges, decimal scale, parsable timestamps: ISO-8601 text or
 * epoch milliseconds), giving each rejected line its reason, and each program's streams are written
 * as SQL: filters and projections, windows by floor arithmetic (hopping: one row per window
 * offset), sessions by `lag`/running `sum` per key, dedup as the first row per key in arrival order,
 * interval joins as a band join. The watermark each batch runs under is computed as the engine's
 * rule says (after batch N: the largest event time seen through N minus the delay, the smallest over
 * watermark nodes, never decreasing), and with it which rows are late at which operator, and the
 * batch each row is written in (a window in the first batch whose watermark reaches its end; a dedup
 * or stateless row in its own batch; a join pair in the batch of its later row; an unmatched left
 * row in the first batch whose watermark is past its time plus `within`).
 *
 * Compared, for every sink: the multiset of (row, batch id), exactly: timestamps as microseconds,
 * dates as days, decimals as text, doubles exactly (sums of doubles use DuckDB's `sum(x ORDER BY
 * arrival)`, which adds in arrival order as the operator does), `approx_count_distinct` with the
 * exact distinct count (at these cardinalities the sketch is exact). Also: every rejected record
 * (source, reason, file, line, batch), every late row (operator, row, batch), the dead-letter counts
 * of the run summary, the number of batches and of input rows; and, as a check on the SQL, the row
 * counts and last windows the examples' READMEs state.
 *
 * Not pinned here: exact boundaries (a window end equal to a watermark, views exactly 30 minutes
 * apart, a click exactly an hour after its impression) do not occur in the sample data, so `>=`
 * against `>` there is left to the operator tests (test/runtime).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Field, Schema } from "../../runtime/plan.ts";
import { type Canon, canonRow, type Compiled, compileFile, diffRows, duck, type Duck, ROOT, rewritePlan, runPlan, sqlString } from "./harness.ts";

const MINUTE = 60_000_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---- scenarios ----------------------------------------------------------------------------------------

interface Scenario {
  name: string;
  /** Split each source's file into this many chunk files, read one per batch; undefined: read as is. */
  chunks: number | undefined;
  /** Send a source's first N lines again, in a file read after the others. */
  stragglers: boolean;
}

const AS_IS: Scenario = { name: "as is", chunks: undefined, stragglers: false };
const SMALL_BATCHES: Scenario = { name: "small batches with stragglers", chunks: 6, stragglers: true };

interface SourceData {
  /** The source's name in the program. */
  id: string;
  /** Its sample data, relative to the repository root. */
  file: string;
  /** Lines sent again as stragglers in the small-batches scenario. */
  stragglers: number;
}

/** One line as the source reads it: which batch, which file and line. */
interface Arrival {
  /** Line in the example's file (from 1). */
  n: number;
  batch: number;
  file: string;
  line: number;
}

/** Writes the source's files for the scenario and says where each line arrives. */
function feed(source: SourceData, scenario: Scenario, tmp: string): { dir: string; arrivals: Arrival[]; files: number } {
  const path = resolve(ROOT, source.file);
  const lines = readFileSync(path, "utf8").replace(/\n$/, "").split("\n");
  if (scenario.chunks === undefined) {
    return { dir: dirname(path), arrivals: lines.map((_, i) => ({ n: i + 1, batch: 0, file: path, line: i + 1 })), files: 1 };
  }
  const dir = join(tmp, source.id);
  mkdirSync(dir);
  const size = Math.ceil(lines.length / scenario.chunks);
  const arrivals: Arrival[] = [];
  let files = 0;
  const write = (name: string, numbers: number[]) => {
    const file = join(dir, name);
    writeFileSync(file, numbers.map((n) => lines[n - 1]).join("\n") + "\n");
    numbers.forEach((n, i) => arrivals.push({ n, batch: files, file, line: i + 1 }));
    files++;
  };
  for (let start = 0; start < lines.length; start += size) {
    write(`part-${String(files).padStart(3, "0")}.jsonl`, Array.from({ length: Math.min(size, lines.length - start) }, (_, i) => start + i + 1));
  }
  if (scenario.stragglers && source.stragglers > 0) write("part-999-stragglers.jsonl", Array.from({ length: source.stragglers }, (_, i) => i + 1));
  return { dir, arrivals, files };
}

// ---- the source schema in SQL ---------------------------------------------------------------------------

const MACROS = [
  // Event times: ISO-8601 text or epoch milliseconds, as microseconds.
  `CREATE MACRO ts_us(j) AS CASE WHEN json_type(j) IN ('UBIGINT', 'BIGINT') THEN try_cast(j AS BIGINT) * 1000
     WHEN json_type(j) = 'VARCHAR' THEN epoch_us(try_cast(j->>'$' AS TIMESTAMPTZ)) END`,
  // orders-etl's `import fn mask_email` (mask.ts): first character, ***, the domain in lower case.
  `CREATE MACRO mask_email(e) AS CASE WHEN strpos(e, '@') = 0 OR length(e) - strpos(reverse(e), '@') = 0 THEN '***'
     ELSE substr(e, 1, 1) || '***' || lower(substr(e, length(e) - strpos(reverse(e), '@') + 1)) END`,
];

/** The failures of JSON value `j` against `field`, in order, as (SQL condition, reject reason); `guard` says when `j`'s parent is present. */
function typeChecks(j: string, field: Field, guard: string): [string, string][] {
  const present = `coalesce(json_type(${j}), 'NULL') <> 'NULL'`;
  const when = (cond: string, g = guard) => (g ? `(${g}) AND (${cond})` : `(${cond})`);
  const out: [string, string][] = [];
  if (!field.nullable) out.push([when(`json_type(${j}) IS NULL`), "missing_field"], [when(`json_type(${j}) = 'NULL'`), "null_in_required"]);
  const inner = guard ? `${guard} AND ${present}` : present;
  const must = (cond: string, reason = "type_mismatch") => out.push([when(`NOT coalesce(${cond}, false)`, inner), reason]);
  const element = (x: string, f: Field): string => {
    const t = f.type.kind;
    const ok =
      t === "string" ? `json_type(${x}) = 'VARCHAR'` : t === "bool" ? `json_type(${x}) = 'BOOLEAN'` : t === "double" ? `json_type(${x}) IN ('UBIGINT', 'BIGINT', 'DOUBLE')` : undefined;
    if (!ok) throw new Error(`no SQL check for list or map elements of ${t}`);
    return f.nullable ? `(json_type(${x}) = 'NULL' OR ${ok})` : ok;
  };
  const t = field.type;
  switch (t.kind) {
    case "string":
      must(`json_type(${j}) = 'VARCHAR'`);
      break;
    case "bool":
      must(`json_type(${j}) = 'BOOLEAN'`);
      break;
    case "int":
    case "long": {
      const bits = t.kind === "int" ? 31n : 63n;
      must(`json_type(${j}) IN ('UBIGINT', 'BIGINT')`);
      must(`try_cast(${j} AS HUGEINT) BETWEEN ${-(2n ** bits)} AND ${2n ** bits - 1n}`, "out_of_range");
      break;
    }
    case "double":
      must(`json_type(${j}) IN ('UBIGINT', 'BIGINT', 'DOUBLE')`);
      break;
    case "decimal":
      must(`json_type(${j}) IN ('UBIGINT', 'BIGINT', 'DOUBLE')`);
      must(`try_cast(${j}::VARCHAR AS DECIMAL(38, 18)) = try_cast(${j}::VARCHAR AS DECIMAL(${t.precision}, ${t.scale}))`, "out_of_range");
      break;
    case "timestamp":
      must(`json_type(${j}) IN ('UBIGINT', 'BIGINT', 'VARCHAR')`);
      must(`ts_us(${j}) IS NOT NULL`, "bad_timestamp");
      break;
    case "list":
      must(`json_type(${j}) = 'ARRAY'`);
      must(`coalesce(list_bool_and(list_transform(json_extract(${j}, '$[*]'), x -> ${element("x", t.element)})), true)`);
      break;
    case "map":
      must(`json_type(${j}) = 'OBJECT'`);
      must(`coalesce(list_bool_and(list_transform(json_keys(${j}), k -> ${element(`json_extract(${j}, '$."' || k || '"')`, t.value)})), true)`);
      break;
    case "struct":
      must(`json_type(${j}) = 'OBJECT'`);
      for (const f of t.fields) out.push(...typeChecks(`json_extract(${j}, '$.${f.name}')`, f, inner));
      break;
    default:
      throw new Error(`no SQL check for ${t.kind}`);
  }
  return out;
}

/** The typed value of a valid field: scalars as SQL values (times in micros), lists of strings as lists, structs and maps as JSON. */
function typedValue(j: string, field: Field): string {
  const t = field.type;
  switch (t.kind) {
    case "string":
      return `(${j}->>'$')`;
    case "bool":
      return `try_cast(${j} AS BOOLEAN)`;
    case "int":
      return `try_cast(${j} AS INTEGER)`;
    case "long":
      return `try_cast(${j} AS BIGINT)`;
    case "double":
      return `try_cast(${j} AS DOUBLE)`;
    case "decimal":
      return `try_cast(${j}::VARCHAR AS DECIMAL(${t.precision}, ${t.scale}))`;
    case "timestamp":
      return `ts_us(${j})`;
    case "list":
      if (t.element.type.kind !== "string") throw new Error("only list<string> is read in these tests");
      return `from_json(${j}, '["VARCHAR"]')`;
    default:
      return j;
  }
}

/**
 * Creates table `id`: the source's lines as they arrive (`b` batch, `src_file`, `src_line`, `o` arrival
 * order), each with its typed columns, `reason` (null when the record is valid) and `valid`.
 */
async function loadSource(db: Duck, source: SourceData, schema: Schema, arrivals: Arrival[]): Promise<void> {
  const columns = schema.fields.map((f) => `${f.name}: 'JSON'`).join(", ");
  await db.run(
    `CREATE TABLE raw_${source.id} AS SELECT ordinality AS n, * FROM read_json(${sqlString(resolve(ROOT, source.file))}, columns = {${columns}}, format = 'newline_delimited', ignore_errors = true) WITH ORDINALITY`,
  );
  const lines = readFileSync(resolve(ROOT, source.file), "utf8").replace(/\n$/, "").split("\n").length;
  expect((await db.rows(`SELECT count(*), max(n) FROM raw_${source.id}`))[0], `DuckDB reads one row per line of ${source.file}`).toEqual([lines, lines]);
  const checks: [string, string][] = [[schema.fields.map((f) => `${f.name} IS NULL`).join(" AND "), "malformed"]];
  for (const f of schema.fields) checks.push(...typeChecks(f.name, f, ""));
  const reason = `CASE ${checks.map(([cond, r]) => `WHEN ${cond} THEN '${r}'`).join(" ")} END`;
  await db.run(`CREATE TABLE arrivals_${source.id} (n BIGINT, b BIGINT, src_file VARCHAR, src_line BIGINT)`);
  for (let i = 0; i < arrivals.length; i += 500) {
    const values = arrivals.slice(i, i + 500).map((a) => `(${a.n}, ${a.batch}, ${sqlString(a.file)}, ${a.line})`);
    await db.run(`INSERT INTO arrivals_${source.id} VALUES ${values.join(", ")}`);
  }
  await db.run(
    `CREATE TABLE ${source.id} AS SELECT a.b, a.src_file, a.src_line, a.b * 1000000 + a.src_line AS o, p.* FROM arrivals_${source.id} a JOIN (
       SELECT n, ${schema.fields.map((f) => `${typedValue(f.name, f)} AS ${f.name}`).join(", ")}, ${reason} AS reason, ${reason} IS NULL AS valid FROM raw_${source.id}
     ) p USING (n)`,
  );
}

/**
 * Table `wm(b, w)`: the watermark batch b runs under, for b = 0 .. nb (nb: the batch after the last
 * data batch, which available_now runs when the watermark moved). `reaches` are the rows each
 * watermark node sees, as (b, t); w is null before any row (no row is late).
 */
function watermarkTable(reaches: string[], delayMicros: number, nb: number): string {
  const seen = reaches.map((r) => `(SELECT max(t) FROM (${r}) r WHERE r.b < bs.b)`);
  const candidate = seen.length === 0 ? "NULL::BIGINT" : seen.length === 1 ? seen[0]! : `least(${seen.join(", ")})`;
  return `CREATE TABLE wm AS SELECT b, max(c) OVER (ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS w
          FROM (SELECT bs.b, ${candidate} - ${delayMicros} AS c FROM range(0, ${nb + 1}) bs(b))`;
}

/** The batch that emits what closes once the watermark reaches `end`. */
const closedAt = (end: string) => `(SELECT min(wm.b) FROM wm WHERE wm.w >= ${end})`;

// ---- the examples ---------------------------------------------------------------------------------

interface ExampleSpec {
  name: string;
  sources: SourceData[];
  /** Statements run after the source tables exist: `wm` and the tables the sinks read. */
  prepare(nb: number): string[];
  /** Per sink id: SQL giving the sink's columns in order, then the batch that writes the row. */
  sinks: Record<string, string>;
  /** (operator id, row key, batch) of every row late at a stateful operator. */
  late: string;
  /** The key of a late row, from the row the dead letter holds. */
  lateKey(row: Record<string, unknown>): string;
  /** Asserted to be 0: rows the SQL's dedup cannot model (a key forgotten and seen again). */
  unmodelled?: string;
  /** As-is row counts the example's README states: a check on the SQL itself. */
  readme?: Record<string, number>;
  /** As-is: the last window end written per sink, as the README states it. */
  readmeLastWindowEnd?: Record<string, string>;
}

const NO_LATE = "SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::BIGINT WHERE false";

const examples: ExampleSpec[] = [
  {
    name: "word-count",
    sources: [{ id: "lines", file: "examples/word-count/data/lines.jsonl", stragglers: 3 }],
    prepare: (nb) => [watermarkTable([], 0, nb)],
    sinks: {
      // complete mode: the memory sink keeps the last batch, the whole result.
      "counts.console": `SELECT word, count(*) AS n, (SELECT max(b) FROM lines) FROM (
        SELECT unnest(string_split(lower(line), ' ')) AS word FROM lines WHERE valid) WHERE word <> '' GROUP BY word`,
    },
    late: NO_LATE,
    lateKey: () => "",
  },
  {
    name: "sessions",
    sources: [{ id: "page_views", file: "examples/sessions/data/page_views.jsonl", stragglers: 10 }],
    prepare: (nb) => [
      watermarkTable(["SELECT b, ts AS t FROM page_views WHERE valid"], 10 * MINUTE, nb),
      `CREATE TABLE pv AS SELECT p.*, coalesce(p.ts < wm.w, false) AS late FROM (SELECT * FROM page_views WHERE valid) p JOIN wm USING (b)`,
      // Sessions of on-time views: a view 30 minutes or more after the previous one starts a new one.
      `CREATE TABLE sess AS
       WITH x AS (SELECT *, lag(ts) OVER (PARTITION BY user_id ORDER BY ts, o) AS prev FROM pv WHERE NOT late),
            y AS (SELECT *, sum(CASE WHEN prev IS NULL OR ts - prev >= ${30 * MINUTE} THEN 1 ELSE 0 END)
                    OVER (PARTITION BY user_id ORDER BY ts, o ROWS UNBOUNDED PRECEDING) AS sid FROM x)
       SELECT user_id, min(ts) AS ws, max(ts) + ${30 * MINUTE} AS we, min(ts) AS session_start, max(ts) AS session_end,
              count(*) AS page_count, count(DISTINCT page) AS unique_pages, list(page ORDER BY o) AS pages,
              first(page ORDER BY o) AS entry_page, last(page ORDER BY o) AS exit_page, max(referrer) AS referrer
       FROM y GROUP BY user_id, sid`,
    ],
    sinks: {
      "reader_sessions.table": `SELECT ws, we, user_id, session_start, session_end, page_count, unique_pages, pages, entry_page, exit_page, referrer,
          ((session_end // 1000) - (session_start // 1000)) / 1000 AS duration_s, page_count = 1 AS bounce,
          (session_start // ${DAY})::INTEGER AS session_day, e
        FROM (SELECT *, ${closedAt("we")} AS e FROM sess) WHERE e IS NOT NULL`,
    },
    late: "SELECT 'reader_sessions.aggregate', view_id, b FROM pv WHERE late",
    lateKey: (row) => String(row["view_id"]),
    // README: 15 sessions, the last one still open when the run stops.
    readme: { "reader_sessions.table": 14 },
  },
  {
    name: "dedup-retries",
    sources: [{ id: "webhooks", file: "examples/dedup-retries/data/webhooks-2024-05-03.jsonl", stragglers: 20 }],
    prepare: (nb) => [
      watermarkTable(["SELECT b, created_at AS t FROM webhooks WHERE valid"], 45 * MINUTE, nb),
      `CREATE TABLE wh AS SELECT x.*, coalesce(x.created_at < wm.w, false) AS late FROM (SELECT * FROM webhooks WHERE valid) x JOIN wm USING (b)`,
      `CREATE TABLE kept AS SELECT * FROM wh WHERE NOT late QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY o) = 1`,
      `CREATE TABLE hk AS SELECT k.*, k.created_at - k.created_at % ${HOUR} AS ws, k.created_at - k.created_at % ${HOUR} + ${HOUR} AS we,
         coalesce(k.created_at - k.created_at % ${HOUR} + ${HOUR} <= wm.w, false) AS late2
       FROM kept k JOIN wm USING (b) WHERE event_type IN ('payment.succeeded', 'refund.created')`,
    ],
    sinks: {
      "payment_events.table": `SELECT event_id, event_type, payment_id, merchant_id, upper(currency), amount_cents,
          CASE WHEN event_type = 'refund.created' THEN -amount_cents ELSE amount_cents END, created_at, delivered_at, attempt, b FROM kept`,
      "hourly_takings.table": `SELECT * FROM (
          SELECT ws, we, merchant_id, upper(currency) AS currency,
            sum(CASE WHEN event_type = 'payment.succeeded' THEN 1 ELSE 0 END)::BIGINT, sum(CASE WHEN event_type = 'refund.created' THEN 1 ELSE 0 END)::BIGINT,
            sum(CASE WHEN event_type = 'refund.created' THEN -amount_cents ELSE amount_cents END)::BIGINT, max(amount_cents), ${closedAt("we")} AS e
          FROM hk WHERE NOT late2 GROUP BY ws, we, merchant_id, upper(currency)) WHERE e IS NOT NULL`,
    },
    late: "SELECT 'payment_events.dedup', event_id, b FROM wh WHERE late UNION ALL SELECT 'hourly_takings.aggregate', event_id, b FROM hk WHERE late2",
    lateKey: (row) => String(row["event_id"]),
    // README: "that is the 09:00 and 10:00 hours".
    readmeLastWindowEnd: { "hourly_takings.table": "2024-05-03T11:00:00Z" },
    unmodelled: `SELECT count(*) FROM wh r JOIN kept f ON r.event_id = f.event_id AND r.o > f.o JOIN wm ON wm.b = r.b
                 WHERE NOT r.late AND f.created_at + ${HOUR} < wm.w`,
    readme: { "payment_events.table": 120 },
  },
  {
    name: "ad-attribution",
    sources: [
      { id: "impressions", file: "examples/ad-attribution/data/impressions/impressions-2024-05-04.jsonl", stragglers: 6 },
      { id: "clicks", file: "examples/ad-attribution/data/clicks/clicks-2024-05-04.jsonl", stragglers: 4 },
    ],
    prepare: (nb) => [
      watermarkTable(["SELECT b, ts AS t FROM impressions WHERE valid", "SELECT b, ts AS t FROM clicks WHERE valid"], MINUTE, nb),
      `CREATE TABLE imp AS SELECT x.*, coalesce(x.ts < wm.w, false) AS late FROM (SELECT * FROM impressions WHERE valid) x JOIN wm USING (b)`,
      `CREATE TABLE clk AS SELECT x.*, coalesce(x.ts < wm.w, false) AS late FROM (SELECT * FROM clicks WHERE valid) x JOIN wm USING (b)`,
      `CREATE TABLE pairs AS SELECT c.click_id, c.impression_id, c.user_id AS c_user, c.ts AS c_ts, c.b AS c_b,
         i.campaign_id, i.creative_id, i.user_id AS i_user, i.placement, i.cost_micros, i.ts AS i_ts, i.b AS i_b, i.o AS i_o
       FROM clk c JOIN imp i ON c.impression_id = i.impression_id AND abs(c.ts - i.ts) <= ${HOUR} WHERE NOT c.late AND NOT i.late`,
    ],
    sinks: {
      "attributed.table": `SELECT click_id, impression_id, campaign_id, creative_id, placement, c_user, c_ts, i_ts,
          ((c_ts // 1000) - (i_ts // 1000)) / 1000, c_user <> i_user, cost_micros::DOUBLE / 1000000, greatest(c_b, i_b) FROM pairs`,
      "impression_outcomes.table": `
        SELECT impression_id, campaign_id, creative_id, placement, i_user, i_ts, i_ts - i_ts % ${HOUR}, true, click_id, c_ts, greatest(c_b, i_b) FROM pairs
        UNION ALL
        SELECT * FROM (
          SELECT impression_id, campaign_id, creative_id, placement, user_id, ts, ts - ts % ${HOUR}, false, NULL, NULL,
                 (SELECT min(wm.b) FROM wm WHERE wm.w > i.ts + ${HOUR}) AS e
          FROM imp i WHERE NOT late AND o NOT IN (SELECT i_o FROM pairs)) WHERE e IS NOT NULL`,
    },
    late: `SELECT 'attributed.join', click_id, b FROM clk WHERE late UNION ALL SELECT 'impression_outcomes.join', click_id, b FROM clk WHERE late
           UNION ALL SELECT 'attributed.join', impression_id, b FROM imp WHERE late UNION ALL SELECT 'impression_outcomes.join', impression_id, b FROM imp WHERE late`,
    lateKey: (row) => String(row["click_id"] ?? row["impression_id"]),
    readme: { "attributed.table": 26 },
  },
  {
    name: "orders-etl",
    sources: [{ id: "raw_orders", file: "examples/orders-etl/data/orders-2024-05-05.jsonl", stragglers: 15 }],
    prepare: (nb) => [
      `CREATE TABLE billable AS SELECT * FROM raw_orders WHERE valid AND status IN ('paid', 'shipped', 'delivered', 'refunded')
         AND NOT ((customer->>'$.email') LIKE '%@example.test')`,
      watermarkTable(["SELECT b, ordered_at AS t FROM billable"], HOUR, nb),
      `CREATE TABLE bo AS SELECT x.*, coalesce(x.ordered_at < wm.w, false) AS late FROM billable x JOIN wm USING (b)`,
      `CREATE TABLE kept AS SELECT * FROM bo WHERE NOT late QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY o) = 1`,
    ],
    sinks: {
      "orders_clean.table": `SELECT order_id, ordered_at, ordered_at - ordered_at % ${DAY}, (ordered_at // ${DAY})::INTEGER, ((ordered_at % ${DAY}) // ${HOUR})::INTEGER,
          upper(trim(country)), upper(coalesce(currency, 'EUR')), status, status = 'refunded', (customer->>'$.id'), mask_email(customer->>'$.email'),
          coalesce(customer->>'$.tier', 'standard'), amount::VARCHAR, quantity, round(amount::DOUBLE / quantity, 2),
          CASE WHEN amount >= 500 THEN 'large' WHEN amount >= 100 THEN 'medium' ELSE 'small' END,
          coalesce(shipping->>'$.method', 'none'), (shipping->>'$.address.city'),
          CASE WHEN (customer->>'$.tier') = 'gold' OR (shipping->>'$.method') = 'express' THEN 'high' ELSE 'normal' END,
          coupon_codes, coalesce(len(coupon_codes), 0)::INTEGER, lower(coalesce(attributes->>'$.channel', 'web')),
          coalesce(try_cast(attributes->>'$.loyalty_points' AS INTEGER), 0), coalesce((attributes->>'$.gift_wrap') = 'yes', false), b
        FROM kept`,
    },
    late: "SELECT 'billable_orders.dedup', order_id, b FROM bo WHERE late",
    lateKey: (row) => String(row["order_id"]),
    unmodelled: `SELECT count(*) FROM bo r JOIN kept f ON r.order_id = f.order_id AND r.o > f.o JOIN wm ON wm.b = r.b
                 WHERE NOT r.late AND f.ordered_at + ${DAY} < wm.w`,
    readme: { "orders_clean.table": 41 },
  },
  {
    name: "clickstream-counts",
    sources: [{ id: "events", file: "examples/clickstream-counts/data/events.jsonl", stragglers: 20 }],
    prepare: (nb) => [
      `CREATE TABLE ev0 AS SELECT * FROM events WHERE valid AND user_id <> '' AND event_type <> 'heartbeat'`,
      watermarkTable(["SELECT b, ts AS t FROM ev0"], 5 * MINUTE, nb),
      `CREATE TABLE ev AS SELECT ev0.*, wm.w FROM ev0 JOIN wm USING (b)`,
      `CREATE TABLE ua AS SELECT *, ts - ts % ${10 * MINUTE} AS ws, ts - ts % ${10 * MINUTE} + ${10 * MINUTE} AS we,
         coalesce(ts - ts % ${10 * MINUTE} + ${10 * MINUTE} <= w, false) AS late FROM ev`,
      `CREATE TABLE tp AS SELECT *, ts - ts % ${5 * MINUTE} AS latest, coalesce(ts - ts % ${5 * MINUTE} + ${30 * MINUTE} <= w, false) AS late
         FROM ev WHERE event_type = 'page_view' AND page IS NOT NULL`,
      // Each on-time view in its six windows, but for those already closed under its batch's watermark.
      `CREATE TABLE tpw AS SELECT tp.*, latest - j * ${5 * MINUTE} AS ws FROM tp, range(0, 6) r(j)
         WHERE NOT late AND NOT coalesce(latest - j * ${5 * MINUTE} + ${30 * MINUTE} <= w, false)`,
    ],
    sinks: {
      "user_activity.table": `SELECT * FROM (
          SELECT ws, we, user_id, count(*), sum(CASE WHEN event_type = 'page_view' THEN 1 ELSE 0 END)::BIGINT,
            sum(CASE WHEN event_type = 'click' THEN 1 ELSE 0 END)::BIGINT, sum(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END)::BIGINT,
            count(DISTINCT page), min(ts), max(ts), ${closedAt("we")} AS e
          FROM ua WHERE NOT late GROUP BY ws, we, user_id) WHERE e IS NOT NULL`,
      "trending_pages.table": `SELECT * FROM (
          SELECT ws, ws + ${30 * MINUTE} AS we, page, count(*), count(DISTINCT user_id), ${closedAt(`ws + ${30 * MINUTE}`)} AS e
          FROM tpw GROUP BY ws, page) WHERE e IS NOT NULL`,
    },
    late: "SELECT 'user_activity.aggregate', event_id, b FROM ua WHERE late UNION ALL SELECT 'trending_pages.aggregate', event_id, b FROM tp WHERE late",
    lateKey: (row) => String(row["event_id"]),
    // README: "the 10-minute windows that end by 10:50 are written and the last one stays open".
    readmeLastWindowEnd: { "user_activity.table": "2024-05-01T10:50:00Z" },
  },
  {
    name: "revenue",
    sources: [{ id: "orders", file: "examples/revenue/data/orders.jsonl", stragglers: 20 }],
    prepare: (nb) => [
      `CREATE TABLE paid AS SELECT order_id, user_id, upper(country) AS country, amount, ts, b, o FROM orders WHERE valid AND amount > 0 AND country IS NOT NULL`,
      watermarkTable(["SELECT b, ts AS t FROM paid"], 30 * MINUTE, nb),
      `CREATE TABLE rv AS SELECT p.*, p.ts - p.ts % ${10 * MINUTE} AS ws, p.ts - p.ts % ${10 * MINUTE} + ${10 * MINUTE} AS we,
         coalesce(p.ts - p.ts % ${10 * MINUTE} + ${10 * MINUTE} <= wm.w, false) AS late FROM paid p JOIN wm USING (b)`,
    ],
    sinks: {
      "paid.kafka": "SELECT order_id, user_id, country, amount, ts, b FROM paid",
      // sum(amount ORDER BY o): the doubles added in arrival order, as the operator adds them.
      "revenue.table": `SELECT * FROM (
          SELECT ws, we, country, count(*), sum(amount ORDER BY o), count(DISTINCT user_id), ${closedAt("we")} AS e
          FROM rv WHERE NOT late GROUP BY ws, we, country) WHERE e IS NOT NULL`,
    },
    late: "SELECT 'revenue.aggregate', order_id, b FROM rv WHERE late",
    lateKey: (row) => String(row["order_id"]),
    // README: "the windows that end by 18:30 are written".
    readmeLastWindowEnd: { "revenue.table": "2024-05-06T18:30:00Z" },
  },
];

// ---- the check ---------------------------------------------------------------------------------------

interface Outcome {
  /** Rows expected per sink. */
  expectedRows: Map<string, number>;
  /** The largest `window_end` each windowed sink wrote. */
  lastWindowEnd: Map<string, number>;
  /** Late rows expected. */
  late: number;
  /** Rejected (non-late) records as (source, reason, file, line, batch). */
  rejects: Canon[][];
}

async function check(example: ExampleSpec, compiled: Compiled, scenario: Scenario): Promise<Outcome> {
  const tmp = mkdtempSync(join(tmpdir(), `streamc-e2e-${example.name}-`));
  const db = await duck();
  try {
    const feeds = example.sources.map((s) => ({ source: s, ...feed(s, scenario, tmp) }));
    const dirs = Object.fromEntries(feeds.map((f) => [f.source.id, f.dir]));
    const plan = rewritePlan(compiled.plan, dirs, scenario.chunks === undefined ? undefined : 1);
    const result = await runPlan(plan, compiled.kernels);

    for (const statement of MACROS) await db.run(statement);
    for (const f of feeds) await loadSource(db, f.source, plan.sources.find((s) => s.id === f.source.id)!.schema, f.arrivals);
    const nb = Math.max(...feeds.map((f) => f.files));
    for (const statement of example.prepare(nb)) await db.run(statement);
    if (example.unmodelled) expect((await db.rows(example.unmodelled))[0]![0], "rows whose dedup key was forgotten and seen again").toBe(0);

    // Every sink: (row, batch) multisets.
    const expectedRows = new Map<string, number>();
    const lastWindowEnd = new Map<string, number>();
    for (const spec of plan.sinks) {
      const sql = example.sinks[spec.id];
      if (sql === undefined) throw new Error(`no SQL for sink ${spec.id}`);
      const expected = await db.rows(sql);
      const actual = result.sinks.get(spec.id)!.map(({ batch, row }) => [...canonRow(spec.schema, row), batch]);
      const diff = diffRows([...spec.schema.fields.map((f) => f.name), "batch"], actual, expected);
      expect(diff, `${example.name} ${spec.id}`).toBeUndefined();
      expectedRows.set(spec.id, expected.length);
      const ends = result.sinks.get(spec.id)!.map(({ row }) => row["window_end"]).filter((v): v is number => typeof v === "number");
      if (ends.length) lastWindowEnd.set(spec.id, Math.max(...ends));
    }

    // Rejected records: which source, why, where, in which batch.
    const rejects: Canon[][] = [];
    for (const f of feeds) rejects.push(...(await db.rows(`SELECT '${f.source.id}', reason, src_file, src_line, b FROM ${f.source.id} WHERE NOT valid`)));
    const hasDeadLetter = compiled.plan.pipeline.options["deadletter"] !== undefined;
    const dead = result.deadLetter.map((row) => ({ row, rawText: Buffer.from(row["raw"] as Uint8Array).toString("utf8") }));
    if (hasDeadLetter) {
      const actualRejects = dead.filter(({ row }) => row["reason"] !== "late").map(({ row }) => [row["source"], row["reason"], row["file"], row["line"], row["batch_id"]] as Canon[]);
      expect(diffRows(["source", "reason", "file", "line", "batch"], actualRejects, rejects), `${example.name} rejected records`).toBeUndefined();
    }

    // Late rows: at which operator, which row, in which batch.
    const late = await db.rows(example.late);
    if (hasDeadLetter) {
      const actualLate = dead.filter(({ row }) => row["reason"] === "late").map(({ row, rawText }) => [row["source"], example.lateKey(JSON.parse(rawText)), row["batch_id"]] as Canon[]);
      expect(diffRows(["operator", "key", "batch"], actualLate, late), `${example.name} late rows`).toBeUndefined();
      for (const { row } of dead.filter(({ row }) => row["reason"] === "late")) expect(row["detail"]).toMatch(/^behind the watermark \d{4}-\d\d-\d\dT/);
    }

    // The run's summary: dead-letter counts, input rows, batches (the final one only when the watermark moved).
    const counts: Record<string, number> = {};
    for (const [, reason] of rejects) counts[reason as string] = (counts[reason as string] ?? 0) + 1;
    if (late.length) counts["late"] = late.length;
    expect(result.summary.deadLetters, `${example.name} dead-letter counts`).toEqual(counts);
    const valid = (await Promise.all(feeds.map((f) => db.rows(`SELECT count(*) FROM ${f.source.id} WHERE valid`)))).reduce((a, r) => a + (r[0]![0] as number), 0);
    expect(result.summary.inputRows).toBe(valid);
    const [[last, final]] = (await db.rows(`SELECT (SELECT w FROM wm WHERE b = ${nb - 1}), (SELECT w FROM wm WHERE b = ${nb})`)) as [[number | null, number | null]];
    expect(result.summary.batches, `${example.name} batches`).toBe(nb + (final !== null && (last === null || final > last) ? 1 : 0));
    return { expectedRows, lastWindowEnd, late: late.length, rejects };
  } finally {
    db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe.each(examples)("example $name", (example) => {
  let compiled: Compiled;
  beforeAll(async () => {
    compiled = await compileFile(`examples/${example.name}/${example.name}.stream`);
  });

  it("as is: one batch, then one under the final watermark; every sink equals DuckDB's answer", async () => {
    const outcome = await check(example, compiled, AS_IS);
    for (const [sink, n] of Object.entries(example.readme ?? {})) expect(outcome.expectedRows.get(sink), `${sink} rows, as the README says`).toBe(n);
    for (const [sink, end] of Object.entries(example.readmeLastWindowEnd ?? {})) {
      expect(outcome.lastWindowEnd.get(sink), `${sink}: the last window written, as the README says`).toBe(Date.parse(end) * 1000);
    }
    // In one batch nothing can be late: the first batch runs without a watermark.
    expect(outcome.late).toBe(0);
  });

  it("in small batches with stragglers: late rows are left out and dead-lettered as late, the rest equals DuckDB's answer", async () => {
    const outcome = await check(example, compiled, SMALL_BATCHES);
    const watermarked = compiled.plan.nodes.some((n) => n.kind === "watermark");
    if (watermarked) expect(outcome.late, "the stragglers are behind the watermark").toBeGreaterThan(0);
  });
});

describe("orders-etl's dead letter", () => {
  it("holds the five bad lines the README lists, each with its reason, file and line", async () => {
    const compiled = await compileFile("examples/orders-etl/orders-etl.stream");
    const outcome = await check(examples.find((e) => e.name === "orders-etl")!, compiled, AS_IS);
    const file = resolve(ROOT, "examples/orders-etl/data/orders-2024-05-05.jsonl");
    expect(outcome.rejects.map(([, reason, f, line]) => [line, reason, f]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [12, "malformed", file],
      [26, "missing_field", file],
      [34, "type_mismatch", file],
      [41, "bad_timestamp", file],
      [45, "missing_field", file],
    ]);
  });
});

