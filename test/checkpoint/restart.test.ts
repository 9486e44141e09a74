/**
 * Checkpoints without crashes: a pipeline stopped after any batch and started again produces the
 * same output as one that never stopped (and as DuckDB over the same input); an interrupted batch
 * is replayed with its recorded ranges; a broken checkpoint is refused with the file and the way
 * out, and nothing in it changes; retention, progress and `streamc status`.
 * (Crashes at arbitrary instants: test/chaos/.)
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { duckRows } from "../support/duckdb.ts";
import { prng } from "../support/prng.ts";

const root = mkdtempSync(join(tmpdir(), "streamc-checkpoint-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FILES = 12;
const PER_FILE = 300;
const COUNTRIES = ["de", "fr", "nl", "us", "jp"];
const input = join(root, "in");

beforeAll(() => {
  mkdirSync(input);
  const random = prng(7);
  let id = 0;
  const base = Date.parse("2024-03-01T00:00:00Z");
  for (let f = 0; f < FILES; f++) {
    const lines: string[] = [];
    for (let r = 0; r < PER_FILE; r++) {
      id++;
      // Time moves forward file by file with at most 30 s of disorder: the 1-minute watermark delay
      // makes no row late, so DuckDB's plain GROUP BY is the oracle.
      const ts = new Date(base + (f * PER_FILE + r) * 1000 - Math.floor(random() * 30_000)).toISOString();
      if (r % 97 === 5) lines.push(`{"id": ${id}, "country": "de", "amount": "lots", "ts": "${ts}"}`);
      else lines.push(JSON.stringify({ id, country: COUNTRIES[Math.floor(random() * COUNTRIES.length)], amount: Math.round(random() * 10000) / 100, ts }));
    }
    writeFileSync(join(input, `orders-${String(f).padStart(3, "0")}.json`), lines.join("\n") + "\n");
  }
});

function program(dir: string, retain = 100): string {
  const file = join(dir, "shop.stream");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    file,
    `pipeline shop {
  checkpoint = "${join(dir, "checkpoint")}"
  retain_batches = ${retain}
  deadletter = files "${join(dir, "dead")}"
}
schema Order { id: long, country: string, amount: double, ts: timestamp }
source orders: Order = files "${input}" { format = json, max_files_per_batch = 1 }
stream big = orders | where amount > 50 | select id, country, amount
stream revenue = orders
  | watermark ts delay 1m
  | window tumbling 5m
  | aggregate n = count(), total = sum(amount) by country
sink big -> files "${join(dir, "big")}" { format = json }
sink revenue -> files "${join(dir, "revenue")}" { format = json }
`,
  );
  return file;
}

async function run(file: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["run", file, ...args], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** Every row a files sink wrote, sorted, as JSON text. */
function rowsIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith("."));
  } catch {
    return [];
  }
  return names.flatMap((n) => readFileSync(join(dir, n), "utf8").split("\n").filter(Boolean)).sort();
}

function outputs(dir: string) {
  return { big: rowsIn(join(dir, "big")), revenue: rowsIn(join(dir, "revenue")), dead: rowsIn(join(dir, "dead")).map((l) => { const { time: _t, ...rest } = JSON.parse(l); return JSON.stringify(rest); }).sort() };
}

/** A fingerprint of every file under `dir` (names, sizes, contents). */
function fingerprint(dir: string): string {
  const hash = createHash("sha256");
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path).update(readFileSync(path));
    }
  };
  walk(dir);
  return hash.digest("hex");
}

describe("restarting from a checkpoint", () => {
  let reference: ReturnType<typeof outputs>;

  beforeAll(async () => {
    const dir = join(root, "uninterrupted");
    const result = await run(program(dir), "--trigger", "available_now");
    expect(result.code, result.err).toBe(0);
    reference = outputs(dir);
  });

  it("gives DuckDB's answer when it never stops", async () => {
    const glob = `'${input}/*.json'`;
    const valid = `(SELECT * FROM read_json(${glob}, columns = {id: 'BIGINT', country: 'VARCHAR', amount: 'VARCHAR', ts: 'TIMESTAMPTZ'}) WHERE TRY_CAST(amount AS DOUBLE) IS NOT NULL)`;
    const big = await duckRows(`SELECT id, country, CAST(amount AS DOUBLE) AS amount FROM ${valid} WHERE CAST(amount AS DOUBLE) > 50`);
    expect(reference.big).toEqual(big.map((r) => JSON.stringify(r)).sort());
    const windows = await duckRows(`
      WITH v AS ${valid}, w AS (SELECT epoch_us(time_bucket(INTERVAL 5 MINUTE, ts)) AS s, country, CAST(amount AS DOUBLE) AS amount FROM v)
      SELECT s, country, count(*)::BIGINT AS n, sum(amount) AS total FROM w
      WHERE s + 300000000 <= (SELECT epoch_us(max(ts)) FROM v) - 60000000
      GROUP BY s, country`);
    const ours = reference.revenue.map((l) => JSON.parse(l) as { window_start: string; country: string; n: number; total: number });
    expect(ours.length).toBe(windows.length);
    const expected = new Map(windows.map((w) => [`${w["s"]}|${w["country"]}`, w]));
    for (const row of ours) {
      const want = expected.get(`${Date.parse(row.window_start) * 1000}|${row.country}`);
      expect(want, JSON.stringify(row)).toBeDefined();
      expect(row.n).toBe(want!["n"]);
      expect(row.total).toBeCloseTo(want!["total"] as number, 6);
    }
    expect(reference.dead.length).toBe(FILES * Math.ceil((PER_FILE - 5) / 97));
  });

  it("gives the same output when stopped after every second batch", async () => {
    const dir = join(root, "stepwise");
    const file = program(dir);
    let runs = 0;
    for (;;) {
      const result = await run(file, "--trigger", "available_now", "--max-batches", "2");
      expect(result.code, result.err).toBe(0);
      runs++;
      if (/: 0 batches/.test(result.err)) break;
      expect(runs).toBeLessThan(20);
    }
    expect(runs).toBeGreaterThan(5);
    expect(outputs(dir)).toEqual(reference);
  });

  it("replays a batch that ran but did not commit, with the same ranges", async () => {
    const dir = join(root, "replay");
    const file = program(dir);
    expect((await run(file, "--trigger", "available_now", "--max-batches", "4")).code).toBe(0);
    // As a crash after the sinks wrote batch 3 but before commits/3: the commit and its state go.
    const checkpoint = join(dir, "checkpoint");
    const offsets3 = readFileSync(join(checkpoint, "offsets", "3.json"), "utf8");
    rmSync(join(checkpoint, "commits", "3.json"));
    rmSync(join(checkpoint, "state", "revenue.aggregate", "3.arrow"));
    const status = await statusOf(checkpoint);
    expect(status).toMatch(/last batch 2,/);
    expect(status).toMatch(/pending {4}batch 3 started but did not commit/);
    expect((await run(file, "--trigger", "available_now")).code).toBe(0);
    expect(readFileSync(join(checkpoint, "offsets", "3.json"), "utf8")).toBe(offsets3);
    expect(outputs(dir)).toEqual(reference);
  });

  it("keeps retain_batches batches and bounded progress, and status reports them", async () => {
    const dir = join(root, "retain");
    const file = program(dir, 3);
    expect((await run(file, "--trigger", "available_now")).code).toBe(0);
    const checkpoint = join(dir, "checkpoint");
    const commits = readdirSync(join(checkpoint, "commits")).map((n) => Number.parseInt(n, 10)).sort((a, b) => a - b);
    expect(commits.length).toBe(3);
    expect(readdirSync(join(checkpoint, "offsets")).length).toBe(3);
    expect(readdirSync(join(checkpoint, "state", "revenue.aggregate")).length).toBe(3);
    const last = commits.at(-1)!;
    const progress = readFileSync(join(checkpoint, "progress.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(progress.at(-1).batchId).toBe(last);
    expect(progress.at(-1).durationMs).toHaveProperty("walCommit");
    const status = await statusOf(checkpoint);
    expect(status).toContain(`last batch ${last},`);
    expect(status).toContain(`orders  {"file":"orders-${String(FILES - 1).padStart(3, "0")}.json"}`);
    expect(status).toMatch(/revenue\.aggregate {2}\d+ rows?, \d+ bytes \(state\/revenue\.aggregate\/\d+\.arrow\)/);
  });
});

async function statusOf(checkpoint: string): Promise<string> {
  let out = "";
  let err = "";
  const code = await main(["status", checkpoint], { out: (t) => (out += t), err: (t) => (err += t) });
  expect(code, err).toBe(0);
  return out;
}

describe("a broken checkpoint", () => {
  async function prepared(name: string): Promise<{ file: string; checkpoint: string }> {
    const dir = join(root, name);
    const file = program(dir);
    expect((await run(file, "--trigger", "available_now", "--max-batches", "3")).code).toBe(0);
    return { file, checkpoint: join(dir, "checkpoint") };
  }

  async function refused(file: string, checkpoint: string, message: RegExp): Promise<void> {
    const before = fingerprint(join(checkpoint, ".."));
    const result = await run(file, "--trigger", "available_now");
    expect(result.code).toBe(1);
    expect(result.err).toMatch(message);
    expect(result.err).toMatch(/way out: /);
    expect(fingerprint(join(checkpoint, ".."))).toBe(before);
  }

  it("names a truncated offsets file", async () => {
    const { file, checkpoint } = await prepared("truncated-offsets");
    truncateSync(join(checkpoint, "offsets", "2.json"), 10);
    await refused(file, checkpoint, new RegExp(`checkpoint ${join(checkpoint, "offsets", "2.json")}: it is not valid JSON`));
  });

  it("names an empty commit file", async () => {
    const { file, checkpoint } = await prepared("empty-commit");
    truncateSync(join(checkpoint, "commits", "2.json"), 0);
    await refused(file, checkpoint, new RegExp(`checkpoint ${join(checkpoint, "commits", "2.json")}: it is empty \\(truncated\\)`));
  });

  it("names a missing state file", async () => {
    const { file, checkpoint } = await prepared("missing-state");
    rmSync(join(checkpoint, "state", "revenue.aggregate", "2.arrow"));
    await refused(file, checkpoint, /state\/revenue\.aggregate\/2\.arrow: the state of batch 2 is missing/);
  });

  it("names a checkpoint of another pipeline", async () => {
    const { file, checkpoint } = await prepared("other-pipeline");
    const metadata = JSON.parse(readFileSync(join(checkpoint, "metadata.json"), "utf8"));
    writeFileSync(join(checkpoint, "metadata.json"), JSON.stringify({ ...metadata, name: "billing" }));
    await refused(file, checkpoint, /metadata\.json: it belongs to pipeline `billing`.*not `shop`/);
  });

  it("names a stray file in the offsets log", async () => {
    const { file, checkpoint } = await prepared("stray-file");
    writeFileSync(join(checkpoint, "offsets", "notes.txt"), "hello");
    await refused(file, checkpoint, /offsets\/notes\.txt: this file does not belong in a checkpoint/);
  });
});

describe("a changed program", () => {
  async function started(name: string): Promise<{ dir: string; file: string; checkpoint: string }> {
    const dir = join(root, name);
    const file = program(dir);
    expect((await run(file, "--trigger", "available_now", "--max-batches", "3")).code).toBe(0);
    return { dir, file, checkpoint: join(dir, "checkpoint") };
  }

  it("with incompatible state exits 3 and changes nothing; --drop-state lets it continue", async () => {
    const { dir, file, checkpoint } = await started("incompatible");
    writeFileSync(file, readFileSync(file, "utf8").replace("window tumbling 5m", "window tumbling 10m"));
    const before = fingerprint(dir);
    const refused = await run(file, "--trigger", "available_now");
    expect(refused.code).toBe(3);
    expect(refused.err).toContain(`the checkpoint at ${checkpoint} cannot be used by this program; nothing was changed`);
    expect(refused.err).toMatch(/incompatible +revenue\.aggregate: .*window/);
    expect(refused.err).toContain("--drop-state revenue.aggregate");
    expect(fingerprint(dir)).toBe(before);

    const dropped = await run(file, "--trigger", "available_now", "--drop-state", "revenue.aggregate");
    expect(dropped.code, dropped.err).toBe(0);
    expect(dropped.err).toMatch(/state dropped on request/);
    // The restart continued from batch 3: the big branch has every row exactly once.
    expect(outputs(dir).big).toEqual(outputs(join(root, "uninterrupted")).big);
  });

  it("with an added aggregate evolves: old columns continue, the new one starts empty", async () => {
    const { dir, file } = await started("evolve");
    writeFileSync(file, readFileSync(file, "utf8").replace("total = sum(amount) by country", "total = sum(amount), top = max(amount) by country"));
    const result = await run(file, "--trigger", "available_now");
    expect(result.code, result.err).toBe(0);
    expect(result.err).toMatch(/evolve +revenue\.aggregate: .*top = max\(amount\)/);
    // Windows keep their counts across the change: n and total equal the uninterrupted run's.
    const strip = (rows: string[]) => rows.map((l) => { const { top: _top, ...rest } = JSON.parse(l); return JSON.stringify(rest); }).sort();
    expect(strip(outputs(dir).revenue)).toEqual(strip(outputs(join(root, "uninterrupted")).revenue));
  });
});

describe("progress.jsonl", () => {
  it("drops a line a crash cut short, and keeps whole lines", async () => {
    const dir = join(root, "progress-cut");
    const file = program(dir);
    expect((await run(file, "--trigger", "available_now", "--max-batches", "2")).code).toBe(0);
    const path = join(dir, "checkpoint", "progress.jsonl");
    writeFileSync(path, readFileSync(path, "utf8") + '{"batchId": 2, "numInpu');
    expect((await run(file, "--trigger", "available_now", "--max-batches", "1")).code).toBe(0);
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.slice(0, -1).map((l) => JSON.parse(l).batchId)).toEqual([0, 1, 2]);
  });
});
