/**
 * Crash safety: a pipeline killed with SIGKILL at random instants, and restarted each time, ends
 * with exactly the tables of a run that was never interrupted, and with DuckDB's answer over the
 * same input.
 *
 * The pipeline reads a `files` directory that grows while the kills go on (a file or two arrives
 * before each restart) and writes two table sinks, a window aggregate and a stateless branch, plus
 * a dead letter. Each restart is killed one of two ways, at random:
 * - by the test, with SIGKILL after a random delay (anywhere: decoding, operators, Parquet, fsync);
 * - by the process itself at a named crash point (runtime/fault.ts), on its K-th visit:
 *   mid-Parquet-write, between a table's data files and its log commit, between the log commits
 *   and `commits/N`, and between a temporary file and its link into place.
 * At least 30 kills (`CHAOS_KILLS=N` for more); every named point must have been hit.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compileBundle, runBundle } from "../support/bundle-process.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { snapshot } from "../../runtime/table/delta-log.ts";
import { duckRows } from "../support/duckdb.ts";
import { prng } from "../support/prng.ts";

const KILLS = Number(process.env["CHAOS_KILLS"] ?? 30);
const INITIAL_FILES = 24;
/** Two files arrive before each restart; restarts that finish before their kill need some spare. */
const TOTAL_FILES = INITIAL_FILES + 4 * KILLS;
const PER_FILE = 150;
const CRASH_POINTS = ["table.parquet-write", "table.before-log", "engine.before-commit", "storage.before-link"] as const;

const root = mkdtempSync(join(tmpdir(), "streamc-chaos-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const input = join(root, "in");
const bundle = join(root, "build", "orders.mjs");

/** The contents of input file `f`: deterministic, so both runs see the same records. */
function inputFile(f: number): string {
  const random = prng(1000 + f);
  const base = Date.parse("2024-05-01T00:00:00Z");
  const lines: string[] = [];
  for (let r = 0; r < PER_FILE; r++) {
    const id = f * PER_FILE + r;
    // Time advances with the file number; disorder stays under the watermark delay, so no row is late.
    const ts = new Date(base + id * 2000 - Math.floor(random() * 60_000)).toISOString();
    if (random() < 0.01) lines.push(`{"id": ${id}, "country": "de", "amount": 1.5, "ts": "not a time"}`);
    else lines.push(JSON.stringify({ id, country: ["de", "fr", "nl", "us", "jp", "br"][Math.floor(random() * 6)], amount: Math.round(random() * 100_000) / 100, ts }));
  }
  return lines.join("\n") + "\n";
}

function addInput(dir: string, f: number): void {
  const name = `orders-${String(f).padStart(4, "0")}.json`;
  writeFileSync(join(dir, `.${name}.tmp`), inputFile(f));
  renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

function program(out: string, inDir: string): string {
  return `pipeline orders {
  checkpoint = "${out}/checkpoint"
  deadletter = files "${out}/dead"
}
schema Order { id: long, country: string, amount: double, ts: timestamp }
source orders: Order = files "${inDir}" { format = json, max_files_per_batch = 1 }
stream large = orders | where amount > 500 | select id, country, amount, ts
stream revenue = orders
  | watermark ts delay 2m
  | window tumbling 10m
  | aggregate n = count(), total = sum(amount), top = max(amount) by country
sink large -> table "${out}/large"
sink revenue -> table "${out}/revenue" { partition_by = [country] }
`;
}

beforeAll(async () => {
  mkdirSync(input);
  mkdirSync(join(root, "build"));
  // One bundle serves both runs: the paths come from the environment.
  const file = join(root, "orders.stream");
  writeFileSync(
    file,
    program("OUT", "IN")
      .replaceAll(`"OUT/checkpoint"`, `env("CHECKPOINT", "")`)
      .replaceAll(`files "OUT/dead"`, `files env("DEAD", "")`)
      .replaceAll(`files "IN"`, `files env("IN", "")`)
      .replaceAll(`table "OUT/large"`, `table env("LARGE", "")`)
      .replaceAll(`table "OUT/revenue"`, `table env("REVENUE", "")`),
  );
  await compileBundle(file, join(root, "build"));
}, 120_000);

function environment(out: string, inDir: string): NodeJS.ProcessEnv {
  return { ...process.env, CHECKPOINT: join(out, "checkpoint"), DEAD: join(out, "dead"), IN: inDir, LARGE: join(out, "large"), REVENUE: join(out, "revenue") };
}

function runPipeline(env: NodeJS.ProcessEnv, killAfterMs?: number) {
  return runBundle(bundle, ["--trigger", "available_now"], env, killAfterMs);
}

function tableRows(path: string): string[] {
  return readTable(path).map((row) => JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).sort();
}

function deadRows(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith("."))
    .flatMap((n) => readFileSync(join(dir, n), "utf8").split("\n").filter(Boolean))
    .map((l) => {
      // The wall-clock time and the batch differ between runs; the file differs in its directory.
      const { time: _time, batch_id: _batch, file, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify({ ...rest, file: basename(String(file)) });
    })
    .sort();
}

it(`loses and duplicates nothing across ${KILLS} SIGKILLs`, async () => {
  // The run that is never interrupted, over every input file.
  const referenceIn = join(root, "reference-in");
  mkdirSync(referenceIn);
  for (let f = 0; f < TOTAL_FILES; f++) addInput(referenceIn, f);
  const referenceOut = join(root, "reference");
  const reference = await runPipeline(environment(referenceOut, referenceIn));
  expect(reference.code, reference.stderr).toBe(0);

  // The run that is killed again and again while its input grows.
  const out = join(root, "chaos");
  const env = environment(out, input);
  for (let f = 0; f < INITIAL_FILES; f++) addInput(input, f);
  let added = INITIAL_FILES;
  const random = prng(42);
  let kills = 0;
  const pointsHit = new Set<string>();
  let attempts = 0;
  while (kills < KILLS) {
    expect(++attempts, `${kills} kills after ${attempts} restarts`).toBeLessThanOrEqual(KILLS * 2);
    for (let i = 0; i < 2 && added < TOTAL_FILES; i++) addInput(input, added++);
    // Every other restart dies at a named point, taking the points in turn; the rest at a random instant.
    const point = attempts % 2 === 0 ? CRASH_POINTS[(attempts / 2) % CRASH_POINTS.length] : undefined;
    const exit = point
      ? await runPipeline({ ...env, STREAMC_CRASH_AT: `${point}@${1 + Math.floor(random() * 2)}` })
      : await runPipeline(env, 60 + Math.floor(random() * 700));
    if (process.env["CHAOS_TRACE"]) {
      const commits = (() => { try { return readdirSync(join(out, "checkpoint", "commits")).length; } catch { return 0; } })();
      console.log(`attempt ${attempts} ${point ?? "timer"} -> ${exit.signal ?? exit.code}, commits ${commits}`);
    }
    if (exit.signal === "SIGKILL") {
      kills++;
      if (point) pointsHit.add(point);
    } else {
      // It finished before the kill: fine, as long as it finished well.
      expect(exit.code, exit.stderr).toBe(0);
    }
  }
  while (added < TOTAL_FILES) addInput(input, added++);
  const last = await runPipeline(env);
  expect(last.code, last.stderr).toBe(0);

  expect(kills).toBeGreaterThanOrEqual(KILLS);

  // Row for row, the tables and the dead letter equal the uninterrupted run's.
  for (const table of ["large", "revenue"]) {
    const ours = tableRows(join(out, table));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(tableRows(join(referenceOut, table)));
  }
  expect(deadRows(join(out, "dead"))).toEqual(deadRows(join(referenceOut, "dead")));

  // And they equal DuckDB's answer over the same input.
  const files = snapshot(join(out, "large")).files.map((f) => `'${join(out, "large", f.path)}'`);
  const valid = `(SELECT * FROM read_json('${input}/*.json', columns = {id: 'BIGINT', country: 'VARCHAR', amount: 'DOUBLE', ts: 'VARCHAR'}) WHERE TRY_CAST(ts AS TIMESTAMPTZ) IS NOT NULL)`;
  const expectedLarge = await duckRows(`SELECT count(*)::BIGINT AS n, sum(id)::BIGINT AS ids FROM ${valid} WHERE amount > 500`);
  const actualLarge = await duckRows(`SELECT count(*)::BIGINT AS n, sum(id)::BIGINT AS ids FROM read_parquet([${files.join(", ")}])`);
  expect(actualLarge).toEqual(expectedLarge);
  const revenue = readTable(join(out, "revenue")) as { window_start: unknown; country: string; n: unknown; total: number; top: number }[];
  const windows = await duckRows(`
    WITH v AS (SELECT id, country, amount, CAST(ts AS TIMESTAMPTZ) AS ts FROM ${valid}),
         w AS (SELECT epoch_us(time_bucket(INTERVAL 10 MINUTE, ts)) AS s, country, amount FROM v)
    SELECT s, country, count(*)::BIGINT AS n, sum(amount) AS total, max(amount) AS top FROM w
    WHERE s + 600000000 <= (SELECT epoch_us(max(ts)) FROM v) - 120000000
    GROUP BY s, country`);
  expect(revenue.length).toBe(windows.length);
  const byKey = new Map(windows.map((w) => [`${w["s"]}|${w["country"]}`, w]));
  for (const row of revenue) {
    const want = byKey.get(`${Number(row.window_start)}|${row.country}`);
    expect(want, JSON.stringify(row)).toBeDefined();
    expect(Number(row.n)).toBe(want!["n"]);
    expect(row.total).toBeCloseTo(want!["total"] as number, 6);
    expect(row.top).toBe(want!["top"]);
  }
  expect([...pointsHit].sort()).toEqual([...CRASH_POINTS].sort());
}, 600_000);
