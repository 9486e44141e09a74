/**
 * Generated inputs for the compile benchmark: a realistic `.stream` program and a TypeScript file
 * of similar density, both of a requested number of lines.
 *
 * Contract: both generators are deterministic (the same `lines` gives the same text) and return at
 * least `lines` lines, built from whole units so that the result is always well formed. The
 * `.stream` program checks without errors or warnings: every name is unique, every stream is used.
 */

const domains = ["orders", "payments", "clicks", "views", "shipments", "reviews", "logins", "searches", "refunds", "carts", "invoices", "rides"];
const countries = ["de", "fr", "nl", "es", "it", "pl", "se", "at"];

function pascal(word: string): string {
  return word[0]!.toUpperCase() + word.slice(1);
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Lines as editors count them: one more than the newlines. */
export function lineCount(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** One self-contained slice of a pipeline: a schema, three sources, eight streams, five sinks and two tests. */
function streamUnit(i: number): string {
  const d = `${domains[i % domains.length]!}_${i}`;
  const D = `${pascal(domains[i % domains.length]!)}${i}`;
  const country = countries[i % countries.length]!;
  const minute = pad2(i % 50);
  const threshold = 100 + (i % 400);
  return `// ---- unit ${i}: ${d} ----------------------------------------------------------------

schema ${D}Event {
  event_id:   string
  user_id:    string
  country:    string?              // ISO code, any case
  amount:     double
  quantity:   int
  status:     string               // paid, shipped, refunded, cancelled
  tags:       list<string>?
  attrs:      map<string, string>?
  ts:         timestamp
}

schema ${D}Audit {
  audit_id:   string
  event_id:   string
  verdict:    string
  score:      double
  ts:         timestamp
}

source ${d}: ${D}Event = kafka {
  brokers       = env("KAFKA_BROKERS", "localhost:9092")
  topic         = "${d}"
  format        = json
  start         = earliest
  max_per_batch = 50_000
}

source ${d}_backfill: ${D}Event = files "data/${d}/backfill" {
  format              = json
  max_files_per_batch = ${10 + (i % 20)}
}

source ${d}_audits: ${D}Audit = kafka {
  brokers = env("KAFKA_BROKERS", "localhost:9092")
  topic   = "${d}-audits"
  format  = json
}

stream ${d}_live = ${d}
  | where amount > ${i % 7} and country is not null and user_id != ""
  | extend
      country_code = upper(trim(country)),
      large        = amount >= ${threshold}.0,
      band         = case
                       when amount >= 500 then "large"
                       when amount >= 100 then "medium"
                       else "small"
                     end,
      tag_count    = size(tags) ?? 0,
      channel      = lower(attrs["channel"] ?? "web")
  | select event_id, user_id, country_code, amount, quantity, status, band, large, tag_count, channel, ts

stream ${d}_replayed = ${d}_backfill
  | where amount > ${i % 7} and country is not null and user_id != ""
  | extend
      country_code = upper(trim(country)),
      large        = amount >= ${threshold}.0,
      band         = if(amount >= 100, "medium", "small"),
      tag_count    = size(tags) ?? 0,
      channel      = lower(attrs["channel"] ?? "files")
  | select event_id, user_id, country_code, amount, quantity, status, band, large, tag_count, channel, ts

stream ${d}_all = ${d}_live
  | union ${d}_replayed
  | watermark ts delay ${5 + (i % 10)}m

stream ${d}_per_country = ${d}_all
  | window tumbling 10m
  | aggregate
      n       = count(),
      revenue = sum(amount),
      buyers  = count_distinct(user_id),
      largest = max(amount)
    by country_code

stream ${d}_trending = ${d}_all
  | where status in ("paid", "shipped")
  | window hopping 30m every 5m
  | aggregate hits = count(), visitors = approx_count_distinct(user_id) by channel

stream ${d}_sessions = ${d}_all
  | window session 30m
  | aggregate first_seen = min(ts), last_seen = max(ts), events = count() by user_id
  | extend duration_s = (epoch_millis(last_seen) - epoch_millis(first_seen)) / 1000

stream ${d}_audits_wm = ${d}_audits
  | watermark ts delay 2m

stream ${d}_audited = ${d}_all
  | dedup by event_id within 1h
  | join ${d}_audits_wm on event_id == ${d}_audits_wm.event_id within 1h
  | select
      event_id,
      user_id,
      verdict,
      score     = round(score, 2),
      flagged   = score > 0.9 or verdict == "reject",
      amount,
      ts

sink ${d}_per_country -> table "out/${d}/per_country" {
  mode         = append
  partition_by = [country_code]
}

sink ${d}_trending -> table "out/${d}/trending" {
  mode = append
}

sink ${d}_sessions -> table "out/${d}/sessions" {
  mode = append
}

sink ${d}_audited -> kafka {
  brokers = env("KAFKA_BROKERS", "localhost:9092")
  topic   = "${d}-audited"
  key     = user_id
}

test "${d}: only paid amounts with a country are kept" {
  input ${d} [
    { event_id: "a${i}", user_id: "u1", country: "${country}", amount: 20.0, quantity: 1, status: "paid",
      ts: timestamp "2024-01-01T00:${minute}:00Z" },
    { event_id: "b${i}", user_id: "u2", amount: 12.5, quantity: 2, status: "paid", ts: timestamp "2024-01-01T00:${minute}:30Z" }
  ]
  expect ${d}_live [
    { event_id: "a${i}", user_id: "u1", country_code: "${country.toUpperCase()}", amount: 20.0, quantity: 1, status: "paid",
      band: "small", large: false, tag_count: 0, channel: "web", ts: timestamp "2024-01-01T00:${minute}:00Z" }
  ]
}

test "${d}: revenue per country per window" {
  input ${d} [
    { event_id: "c${i}", user_id: "u3", country: "${country}", amount: 30.0, quantity: 1, status: "paid",
      ts: timestamp "2024-01-01T00:01:00Z" }
  ]
  advance watermark to timestamp "2024-01-01T01:00:00Z"
  expect ${d}_per_country [
    { window_start: timestamp "2024-01-01T00:00:00Z", window_end: timestamp "2024-01-01T00:10:00Z",
      country_code: "${country.toUpperCase()}", n: 1, revenue: 30.0, buyers: 1, largest: 30.0 }
  ]
}

`;
}

/** A `.stream` program of at least `lines` lines: one pipeline, then as many units as it takes. */
export function generateStreamProgram(lines: number): string {
  const parts = [
    `// Generated by bench/generated-programs.ts for the compile benchmark.

pipeline generated_bench {
  checkpoint = "out/generated/checkpoint"
  trigger    = every 30s
  deadletter = table "out/generated/deadletter"
  late       = deadletter
}

`,
  ];
  let total = lineCount(parts[0]!) - 1;
  for (let i = 0; total < lines; i++) {
    const unit = streamUnit(i);
    parts.push(unit);
    total += lineCount(unit) - 1;
  }
  return parts.join("");
}

/** The TypeScript counterpart of one unit: interfaces, config objects, array pipelines and tests. */
function typeScriptUnit(i: number): string {
  const d = `${domains[i % domains.length]!}${i}`;
  const D = `${pascal(domains[i % domains.length]!)}${i}`;
  const threshold = 100 + (i % 400);
  return `// ---- unit ${i}: ${d} ----------------------------------------------------------------

export interface ${D}Event {
  eventId: string;
  userId: string;
  country: string | null; // ISO code, any case
  amount: number;
  quantity: number;
  status: "paid" | "shipped" | "refunded" | "cancelled";
  tags: string[] | null;
  attrs: Map<string, string> | null;
  ts: Date;
}

export interface ${D}Audit {
  auditId: string;
  eventId: string;
  verdict: string;
  score: number;
  ts: Date;
}

export const ${d}Source = {
  brokers: process.env["KAFKA_BROKERS"] ?? "localhost:9092",
  topic: "${d}",
  format: "json",
  start: "earliest",
  maxPerBatch: 50_000,
} as const;

export const ${d}Backfill = {
  path: "data/${d}/backfill",
  format: "json",
  maxFilesPerBatch: ${10 + (i % 20)},
} as const;

export function ${d}Live(rows: readonly ${D}Event[]) {
  return rows
    .filter((r) => r.amount > ${i % 7} && r.country !== null && r.userId !== "")
    .map((r) => ({
      eventId: r.eventId,
      userId: r.userId,
      countryCode: r.country!.trim().toUpperCase(),
      amount: r.amount,
      quantity: r.quantity,
      status: r.status,
      band: r.amount >= 500 ? "large" : r.amount >= 100 ? "medium" : "small",
      large: r.amount >= ${threshold}.0,
      tagCount: r.tags?.length ?? 0,
      channel: (r.attrs?.get("channel") ?? "web").toLowerCase(),
      ts: r.ts,
    }));
}

export function ${d}PerCountry(rows: ReturnType<typeof ${d}Live>, windowMs = 10 * 60_000) {
  const groups = new Map<string, { n: number; revenue: number; buyers: Set<string>; largest: number }>();
  for (const row of rows) {
    const windowStart = Math.floor(row.ts.getTime() / windowMs) * windowMs;
    const key = \`\${windowStart}/\${row.countryCode}\`;
    const group = groups.get(key) ?? { n: 0, revenue: 0, buyers: new Set<string>(), largest: -Infinity };
    group.n += 1;
    group.revenue += row.amount;
    group.buyers.add(row.userId);
    group.largest = Math.max(group.largest, row.amount);
    groups.set(key, group);
  }
  return [...groups.entries()].map(([key, g]) => ({ key, n: g.n, revenue: g.revenue, buyers: g.buyers.size, largest: g.largest }));
}

export function ${d}Audited(rows: ReturnType<typeof ${d}Live>, audits: readonly ${D}Audit[]) {
  const byEvent = new Map(audits.map((a) => [a.eventId, a] as const));
  const seen = new Set<string>();
  const out: { eventId: string; userId: string; verdict: string; score: number; flagged: boolean; amount: number; ts: Date }[] = [];
  for (const row of rows) {
    if (seen.has(row.eventId)) continue;
    seen.add(row.eventId);
    const audit = byEvent.get(row.eventId);
    if (!audit || Math.abs(audit.ts.getTime() - row.ts.getTime()) > 3_600_000) continue;
    out.push({
      eventId: row.eventId,
      userId: row.userId,
      verdict: audit.verdict,
      score: Math.round(audit.score * 100) / 100,
      flagged: audit.score > 0.9 || audit.verdict === "reject",
      amount: row.amount,
      ts: row.ts,
    });
  }
  return out;
}

export const ${d}Sinks = [
  { stream: "${d}PerCountry", connector: "table", path: "out/${d}/per_country", mode: "append", partitionBy: ["countryCode"] },
  { stream: "${d}Trending", connector: "table", path: "out/${d}/trending", mode: "append" },
  { stream: "${d}Sessions", connector: "table", path: "out/${d}/sessions", mode: "append" },
  { stream: "${d}Audited", connector: "kafka", topic: "${d}-audited", key: "userId" },
];

test("${d}: only paid amounts with a country are kept", () => {
  const rows: ${D}Event[] = [
    { eventId: "a${i}", userId: "u1", country: "de", amount: 20.0, quantity: 1, status: "paid", tags: null, attrs: null,
      ts: new Date("2024-01-01T00:01:00Z") },
    { eventId: "b${i}", userId: "u2", country: null, amount: 12.5, quantity: 2, status: "paid", tags: null, attrs: null, ts: new Date("2024-01-01T00:01:30Z") },
  ];
  expect(${d}Live(rows)).toEqual([
    { eventId: "a${i}", userId: "u1", countryCode: "DE", amount: 20.0, quantity: 1, status: "paid",
      band: "small", large: false, tagCount: 0, channel: "web", ts: new Date("2024-01-01T00:01:00Z") },
  ]);
});

`;
}

/** A TypeScript file of at least `lines` lines, as dense as the `.stream` program. */
export function generateTypeScriptProgram(lines: number): string {
  const parts = ["// Generated by bench/generated-programs.ts for the compile benchmark.\ndeclare function test(name: string, body: () => void): void;\ndeclare function expect(value: unknown): { toEqual(expected: unknown): void };\n\n"];
  let total = lineCount(parts[0]!) - 1;
  for (let i = 0; total < lines; i++) {
    const unit = typeScriptUnit(i);
    parts.push(unit);
    total += lineCount(unit) - 1;
  }
  return parts.join("");
}
