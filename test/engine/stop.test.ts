/**
 * Stopping a running pipeline: SIGTERM (or `streamc stop`) in the middle of a batch finishes that
 * batch, commits it and exits 0, leaving a table that holds exactly the input of the committed
 * batches; a second SIGTERM stops at once; a restart continues with no gap and no duplicate.
 * The pipeline runs as a compiled bundle in a child process, as in production.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { compileBundle, startBundle } from "../support/bundle-process.ts";
import { snapshot } from "../../runtime/table/delta-log.ts";
import { duckRows } from "../support/duckdb.ts";

const FILES = 14;
const PER_FILE = 60_000;
const root = mkdtempSync(join(tmpdir(), "streamc-stop-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const input = join(root, "in");
const bundle = join(root, "build", "events.mjs");

beforeAll(async () => {
  mkdirSync(input);
  for (let f = 0; f < FILES; f++) {
    const lines: string[] = [];
    for (let r = 0; r < PER_FILE; r++) {
      const id = f * PER_FILE + r;
      lines.push(`{"id":${id},"kind":"${["view", "click", "buy"][id % 3]}","value":${(id * 7919) % 1000}}`);
    }
    writeFileSync(join(input, `events-${String(f).padStart(3, "0")}.json`), lines.join("\n") + "\n");
  }
  const file = join(root, "events.stream");
  writeFileSync(
    file,
    `pipeline events { checkpoint = env("CHECKPOINT", "") }
schema Event { id: long, kind: string, value: int }
source events: Event = files env("IN", "") { format = json, max_files_per_batch = 1 }
stream kept = events | where value >= 100 | select id, kind, value
sink kept -> table env("OUT", "")
`,
  );
  await compileBundle(file, join(root, "build"));
}, 120_000);

function start(dir: string, ...args: string[]) {
  return startBundle(bundle, args, { ...process.env, CHECKPOINT: join(dir, "checkpoint"), IN: input, OUT: join(dir, "table") });
}

const batches = (dir: string, kind: "offsets" | "commits") => (existsSync(join(dir, "checkpoint", kind)) ? readdirSync(join(dir, "checkpoint", kind)).filter((n) => n.endsWith(".json")).length : 0);

/** Waits until a batch after the first is in flight: its offsets written, its commit not. */
async function midBatch(dir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(batches(dir, "commits") >= 1 && batches(dir, "offsets") > batches(dir, "commits"))) {
    if (Date.now() > deadline) throw new Error("the pipeline never got to a second batch");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The table's ids, sorted, and DuckDB's ids of the kept rows of the first `files` input files. */
async function tableAndExpected(dir: string, files: number): Promise<{ ours: number[]; expected: number[] }> {
  const table = join(dir, "table");
  const paths = snapshot(table).files.map((f) => `'${join(table, f.path)}'`);
  const ours = paths.length ? (await duckRows(`SELECT id FROM read_parquet([${paths.join(", ")}]) ORDER BY id`)).map((r) => r["id"] as number) : [];
  const names = readdirSync(input).sort().slice(0, files).map((n) => `'${join(input, n)}'`);
  const expected = names.length ? (await duckRows(`SELECT id FROM read_json([${names.join(", ")}], columns = {id: 'BIGINT', kind: 'VARCHAR', value: 'INTEGER'}) WHERE value >= 100 ORDER BY id`)).map((r) => r["id"] as number) : [];
  return { ours, expected };
}

/** How many input files the committed batches read (the files source's offset names the last). */
function filesCommitted(dir: string): number {
  const commits = readdirSync(join(dir, "checkpoint", "commits")).map((n) => Number.parseInt(n, 10));
  const last = Math.max(...commits);
  const offsets = JSON.parse(readFileSync(join(dir, "checkpoint", "offsets", `${last}.json`), "utf8")) as { offsets: { events: { file: string } } };
  return readdirSync(input).sort().indexOf(offsets.offsets.events.file) + 1;
}

async function finish(dir: string): Promise<void> {
  const rest = start(dir, "--trigger", "available_now");
  const done = await rest.exited;
  expect(done.code, done.stderr).toBe(0);
  const { ours, expected } = await tableAndExpected(dir, FILES);
  expect(ours.length).toBe(expected.length);
  expect(ours).toEqual(expected);
}

describe("stopping a pipeline", () => {
  it("SIGTERM mid-batch commits that batch, exits 0, and the restart continues without gap or duplicate", async () => {
    const dir = join(root, "sigterm");
    const run = start(dir);
    await midBatch(dir);
    const inFlight = batches(dir, "offsets") - 1;
    run.child.kill("SIGTERM");
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("SIGTERM: stopping after the batch in flight");
    // The batch in flight was committed, and nothing after it started.
    expect(batches(dir, "commits")).toBe(inFlight + 1);
    expect(batches(dir, "offsets")).toBe(inFlight + 1);
    const files = filesCommitted(dir);
    expect(files).toBeLessThan(FILES);
    const { ours, expected } = await tableAndExpected(dir, files);
    expect(ours).toEqual(expected);
    await finish(dir);
  }, 180_000);

  it("`streamc stop CHECKPOINT` stops it the same way", async () => {
    const dir = join(root, "stop-command");
    const run = start(dir);
    await midBatch(dir);
    let out = "";
    let err = "";
    const code = await main(["stop", join(dir, "checkpoint")], { out: (t) => (out += t), err: (t) => (err += t) });
    expect(code, err).toBe(0);
    expect(out).toMatch(/asked process \d+ to stop after its batch in flight\nstopped after batch \d+\n/);
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(existsSync(join(dir, "checkpoint", "run.json"))).toBe(false);
    const { ours, expected } = await tableAndExpected(dir, filesCommitted(dir));
    expect(ours).toEqual(expected);
    const again = await main(["stop", join(dir, "checkpoint")], { out: () => {}, err: (t) => (err = t) });
    expect(again).toBe(1);
    expect(err).toBe(`no pipeline is running on ${join(dir, "checkpoint")}\n`);
    await finish(dir);
  }, 180_000);

  it("a second SIGTERM stops at once; the checkpoint recovers", async () => {
    const dir = join(root, "twice");
    const run = start(dir);
    await midBatch(dir);
    run.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 20));
    run.child.kill("SIGTERM");
    const exit = await run.exited;
    expect(exit.code).toBe(143);
    expect(exit.stderr).toContain("SIGTERM again: stopping now");
    await finish(dir);
  }, 180_000);

  it("a second run on a running checkpoint is refused, naming the process", async () => {
    const dir = join(root, "two-runs");
    const run = start(dir);
    await midBatch(dir);
    const second = start(dir);
    const refused = await second.exited;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`run\\.json: process ${run.child.pid} runs this checkpoint`));
    run.child.kill("SIGTERM");
    expect((await run.exited).code).toBe(0);
    await finish(dir);
  }, 180_000);
});
