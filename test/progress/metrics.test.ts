/**
 * `streamc run --http PORT`, in-process through `runProgram` (the entry of `streamc run` and of
 * every bundle), over the watched pipeline (watched-pipeline.ts): 14 click files are there at the
 * start and each batch reads one.
 *
 * - `/metrics`, parsed with parse-prometheus-text-format, scraped twice some batches apart: every
 *   metric is present with its labels; each scrape's figures equal what the input says for the
 *   batches it covers (rows in, rejects by reason, files behind, rows on disk in each sink's
 *   files, the state's groups counted by DuckDB over the files read, the watermark lag from the
 *   data's event times); counters grow and gauges move between the scrapes.
 * - `/progress` (recent batches, `?after=N`) and `/status` shapes; 404 and 405.
 * - The server listens on 127.0.0.1 by default (a non-loopback address of this machine refuses);
 *   it is closed when the run ends.
 * - `--http` on a port in use exits 1 with the message, before anything runs; bad `--http`
 *   values exit 2.
 * - A compiled bundle (esbuild, no node_modules) serves the same, with `--http-host 0.0.0.0`.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import parsePrometheusTextFormat, { type MetricFamily, type Sample } from "parse-prometheus-text-format";
import { afterAll, describe, expect, it } from "vitest";
import { bundleProgram, loadKernelModule } from "../../compiler/bundle.ts";
import { compileProgram } from "../../compiler/compile-program.ts";
import type { BatchProgress } from "../../runtime/engine/pipeline.ts";
import { runProgram } from "../../runtime/main.ts";
import type { RunStatus } from "../../runtime/progress/run-monitor.ts";
import { duckRows } from "../support/duckdb.ts";
import { CLICKS_PER_FILE, fileName, VIEWS_PER_FILE, watchedPipeline, writeClickFile } from "./watched-pipeline.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const FILES = 14;
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

async function compiled(program: string) {
  const { compiled, diagnostics } = compileProgram(readFileSync(program, "utf8"), program);
  if (!compiled) throw new Error(diagnostics.map((d) => d.message).join("; "));
  return { plan: compiled.plan, kernelSource: compiled.kernelSource, kernels: await loadKernelModule(compiled.kernelSource, { sourcePath: program }) };
}

/** Polls `read()` until it returns a value or `ms` pass. */
async function waitFor<T>(what: string, read: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

const getJson = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;

/** Waits for the `dashboard at URL` line a run prints when its server listens. */
const serverUrl = (err: () => string) => waitFor("the server's address", () => /dashboard at (http:\/\/\S+\/), metrics at /.exec(err())?.[1]);

interface Scrape {
  families: Map<string, MetricFamily>;
  /** `streamc_last_batch_id`: the last batch the scrape covers. */
  batch: number;
  at: number;
}

async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(`${url}metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const at = Date.now();
  const text = await response.text();
  const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  // The parser folds a histogram's samples into one set of buckets and drops `_sum` and `_count`
  // when they have labels: read those lines again as untyped families of their own.
  const untyped = text.replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped");
  for (const family of parsePrometheusTextFormat(untyped)) {
    if (/_(bucket|sum|count)$/.test(family.name) && families.get(family.name.replace(/_(bucket|sum|count)$/, ""))?.type === "HISTOGRAM") families.set(family.name, family);
  }
  return { families, batch: Number(value(families, "streamc_last_batch_id", {})), at };
}

/** The one sample of `name` whose labels include `labels` (besides `pipeline="watched"`). */
function sample(families: Map<string, MetricFamily>, name: string, labels: Record<string, string>): Sample {
  const family = families.get(name);
  if (!family) throw new Error(`no metric ${name}`);
  const found = family.metrics.filter((m) => m.labels?.["pipeline"] === "watched" && Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]! as Sample;
}

function value(families: Map<string, MetricFamily>, name: string, labels: Record<string, string>): number {
  return Number(sample(families, name, labels).value);
}

/** Lines in the files a `files` sink wrote for batches 0..lastBatch. */
function linesWritten(dir: string, lastBatch: number): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((f) => /^part-\d+\.json$/.test(f) && Number(f.slice(5, -5)) <= lastBatch)
    .reduce((n, f) => n + readFileSync(join(dir, f), "utf8").split("\n").filter((l) => l !== "").length, 0);
}

describe("streamc run --http", () => {
  it("serves /metrics whose figures follow the input, /progress and /status, on loopback, until the run ends", async () => {
    const { dir, program } = watchedPipeline("streamc-metrics-");
    temps.push(dir);
    for (let f = 0; f < FILES; f++) writeClickFile(dir, f);
    const { plan, kernels } = await compiled(program);
    const checkpoint = join(dir, "checkpoint");
    let err = "";
    const run = runProgram(plan, kernels, ["--http", "0", "--trigger", "every:200ms", "--max-batches", "12", "--checkpoint", checkpoint], {
      out: () => {},
      err: (t) => (err += t),
    });
    const url = await serverUrl(() => err);
    const { hostname, port } = new URL(url);
    expect(hostname).toBe("127.0.0.1");

    // Loopback only: this machine's other addresses refuse.
    const others = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === "IPv4" && !a.internal).map((a) => a!.address);
    for (const address of others) await expect(connects(address, Number(port))).resolves.toBe(false);

    const atBatch = (n: number) => waitFor(`batch ${n}`, async () => ((await getJson<RunStatus>(`${url}status`)).lastBatch?.batchId ?? -1) >= n || undefined);
    await atBatch(1);
    const first = await scrape(url);
    await atBatch(first.batch + 4);
    const second = await scrape(url);
    expect(second.batch).toBeGreaterThanOrEqual(first.batch + 4);
    const progress = await getJson<BatchProgress[]>(`${url}progress`);

    for (const { families, batch, at } of [first, second]) {
      const batches = batch + 1;
      expect(value(families, "streamc_batches_total", {})).toBe(batches);
      expect(value(families, "streamc_input_rows_total", { source: "clicks" })).toBe(CLICKS_PER_FILE * batches);
      expect(value(families, "streamc_output_rows_total", { sink: "views.files" })).toBe(linesWritten(join(dir, "out/views"), batch));
      expect(value(families, "streamc_output_rows_total", { sink: "views.files" })).toBe(VIEWS_PER_FILE * batches);
      expect(value(families, "streamc_output_rows_total", { sink: "per_user.files" })).toBe(linesWritten(join(dir, "out/per_user"), batch));
      expect(value(families, "streamc_dead_letters_total", { reason: "malformed" })).toBe(batches);
      expect(value(families, "streamc_dead_letters_total", { reason: "missing_field" })).toBe(batches);
      for (const reason of ["type_mismatch", "null_in_required", "out_of_range", "bad_timestamp", "too_large", "late"]) {
        expect(value(families, "streamc_dead_letters_total", { reason })).toBe(0);
      }
      expect(value(families, "streamc_offsets_behind_latest", { source: "clicks" })).toBe(FILES - batches);

      // Batch N runs under the watermark from the files before it: the newest event time of file N−1, less 10 s.
      const watermarkMs = Date.parse("2024-01-01T00:00:00Z") + (batch - 1) * 60_000 + (CLICKS_PER_FILE - 1) * 2_000 - 10_000;
      const p = progress.find((x) => x.batchId === batch)!;
      expect(p.eventTime.watermark).toBe(new Date(watermarkMs).toISOString().replace(".000", ""));
      expect(value(families, "streamc_watermark_lag_seconds", {})).toBeCloseTo((at - watermarkMs) / 1000, -1);

      // The aggregate's state: the (user, minute) groups of the rows read, whose window the watermark has not closed.
      const files = Array.from({ length: batches }, (_, f) => `'${join(dir, "in", fileName(f))}'`).join(", ");
      const [groups] = await duckRows(`
        SELECT count(*)::INTEGER AS n FROM (
          SELECT DISTINCT "user", time_bucket(INTERVAL 1 MINUTE, ts) AS w
          FROM read_json([${files}], format = 'newline_delimited', ignore_errors = true, columns = {"user": 'VARCHAR', page: 'VARCHAR', ts: 'TIMESTAMP'})
          WHERE page <> 'health' AND time_bucket(INTERVAL 1 MINUTE, ts) + INTERVAL 1 MINUTE > TIMESTAMP '${new Date(watermarkMs).toISOString().slice(0, 19)}')`);
      expect(value(families, "streamc_state_rows", { operator: "per_user.aggregate" })).toBe(groups!["n"]);
      expect(value(families, "streamc_state_memory_bytes", { operator: "per_user.aggregate" })).toBe(p.stateOperators[0]!.memoryUsedBytes);
      expect(value(families, "streamc_state_memory_bytes", { operator: "per_user.aggregate" })).toBeGreaterThan(0);

      expect(families.get("streamc_batch_duration_seconds")?.type).toBe("HISTOGRAM");
      expect(value(families, "streamc_batch_duration_seconds_count", {})).toBe(batches);
      expect(value(families, "streamc_batch_duration_seconds_bucket", { le: "+Inf" })).toBe(batches);
      const sum = progress.filter((x) => x.batchId <= batch).reduce((a, x) => a + x.durationMs.triggerExecution / 1000, 0);
      expect(value(families, "streamc_batch_duration_seconds_sum", {})).toBeCloseTo(sum, 6);
      expect(value(families, "streamc_last_batch_duration_seconds", {})).toBeCloseTo(p.durationMs.triggerExecution / 1000, 6);
      expect(value(families, "streamc_trigger_interval_seconds", {})).toBe(0.2);
      expect(value(families, "streamc_processed_rows_per_second", {})).toBeCloseTo(p.processedRowsPerSecond, 6);
      // The input rate counts the time since the batch before started: at most 20 rows per 200 ms (and some slack).
      expect(value(families, "streamc_input_rows_per_second", {})).toBeGreaterThan(0);
      expect(value(families, "streamc_input_rows_per_second", {})).toBeLessThan(CLICKS_PER_FILE / 0.15);
      expect(value(families, "streamc_output_rows_per_second", {})).toBeGreaterThan(0);
      // prom-client's process metrics come along, with the pipeline label.
      expect(value(families, "process_resident_memory_bytes", {})).toBeGreaterThan(0);
    }
    // Counters grew and gauges moved between the scrapes.
    for (const [name, labels] of [
      ["streamc_batches_total", {}],
      ["streamc_input_rows_total", { source: "clicks" }],
      ["streamc_output_rows_total", { sink: "views.files" }],
      ["streamc_dead_letters_total", { reason: "malformed" }],
      ["streamc_last_batch_id", {}],
    ] as const) {
      expect(value(second.families, name, labels)).toBeGreaterThan(value(first.families, name, labels));
    }
    expect(value(second.families, "streamc_output_rows_total", { sink: "per_user.files" })).toBeGreaterThan(value(first.families, "streamc_output_rows_total", { sink: "per_user.files" }));
    expect(value(second.families, "streamc_offsets_behind_latest", { source: "clicks" })).toBeLessThan(value(first.families, "streamc_offsets_behind_latest", { source: "clicks" }));
    expect(value(second.families, "streamc_watermark_lag_seconds", {})).toBeLessThan(value(first.families, "streamc_watermark_lag_seconds", {}) - 200);
    expect(value(second.families, "streamc_batch_duration_seconds_count", {})).toBeGreaterThan(value(first.families, "streamc_batch_duration_seconds_count", {}));

    // /progress: the recent batches, oldest first, as the engine reported them; ?after=N the newer ones.
    expect(progress.map((p) => p.batchId)).toEqual(Array.from({ length: progress.length }, (_, i) => i));
    expect(progress.length).toBeGreaterThanOrEqual(second.batch + 1);
    expect(Object.keys(progress[0]!).sort()).toEqual(["batchId", "deadLetters", "durationMs", "eventTime", "id", "inputRowsPerSecond", "name", "numInputRows", "processedRowsPerSecond", "runId", "sink", "sources", "stateOperators", "timestamp"]);
    expect(progress[0]!.sources[0]).toMatchObject({ name: "clicks", numInputRows: CLICKS_PER_FILE, endOffset: { file: fileName(0) }, metrics: { offsetsBehindLatest: FILES - 1 } });
    expect(progress[1]!.deadLetters).toEqual({ malformed: 1, missing_field: 1 });
    const after = await getJson<BatchProgress[]>(`${url}progress?after=2`);
    expect(after[0]!.batchId).toBe(3);
    expect(after.every((p, i) => p.batchId === 3 + i)).toBe(true);

    // /status: what runs, where, and how far it got.
    const status = await getJson<RunStatus>(`${url}status`);
    const metadata = JSON.parse(readFileSync(join(checkpoint, "metadata.json"), "utf8")) as { id: string };
    expect(status).toMatchObject({
      pipeline: { name: "watched", id: metadata.id },
      runId: progress[0]!.runId,
      state: "running",
      trigger: { kind: "every", intervalMs: 200 },
      checkpoint,
    });
    expect(Object.keys(status).sort()).toEqual(["batches", "checkpoint", "deadLetters", "lastBatch", "pipeline", "recentLog", "runId", "sources", "startedAt", "state", "stateOperators", "trigger", "uptimeSeconds", "watermark", "watermarkLagSeconds"]);
    expect(status.batches).toBe(status.lastBatch!.batchId + 1);
    expect(status.uptimeSeconds).toBeGreaterThan(0);
    expect(status.sources).toEqual([
      { name: "clicks", description: `files[${join(dir, "in")}]`, offset: { file: fileName(status.lastBatch!.batchId) }, latestOffset: { file: fileName(FILES - 1) }, offsetsBehindLatest: FILES - status.batches },
    ]);
    expect(status.deadLetters).toEqual({ malformed: status.batches, missing_field: status.batches });
    expect(status.stateOperators.map((o) => o.operatorName)).toEqual(["per_user.aggregate"]);
    expect(status.lastBatch!.numInputRows).toBe(CLICKS_PER_FILE);

    const notFound = await fetch(`${url}nothing`);
    expect(notFound.status).toBe(404);
    expect(await notFound.text()).toBe("no such page: /nothing; this server has / (the dashboard), /progress, /status and /metrics\n");
    expect((await fetch(`${url}metrics`, { method: "POST" })).status).toBe(405);
    const page = await fetch(url);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain("uPlot");

    expect(await run).toBe(0);
    expect(err).toContain("watched: 12 batches, 240 rows in, ");
    // The run ended: so did the server.
    await expect(connects("127.0.0.1", Number(port))).resolves.toBe(false);
  });

  it("exits 1 with the way out when the port is taken, before anything runs", async () => {
    const { dir, program } = watchedPipeline("streamc-metrics-busy-");
    temps.push(dir);
    writeClickFile(dir, 0);
    const { plan, kernels } = await compiled(program);
    const busy = await listening();
    const port = (busy.address() as { port: number }).port;
    try {
      let err = "";
      const code = await runProgram(plan, kernels, ["--http", String(port), "--trigger", "once"], { out: () => {}, err: (t) => (err += t) });
      expect(code).toBe(1);
      expect(err).toBe(`watched: --http ${port}: 127.0.0.1:${port} is already in use by another process; choose another port with --http PORT (--http 0 picks a free one)\n`);
      expect(existsSync(join(dir, "out"))).toBe(false);
      expect(existsSync(join(dir, "dead"))).toBe(false);
    } finally {
      busy.close();
    }
  });

  it("rejects bad --http and --http-host values with usage (exit 2)", async () => {
    const { dir, program } = watchedPipeline("streamc-metrics-usage-");
    temps.push(dir);
    const { plan, kernels } = await compiled(program);
    for (const [argv, message] of [
      [["--http", "65536"], "--http takes a port, a whole number from 0 to 65535 (0 picks a free one), not `65536`"],
      [["--http", "web"], "--http takes a port, a whole number from 0 to 65535 (0 picks a free one), not `web`"],
      [["--http-host", "0.0.0.0"], "--http-host needs --http PORT"],
    ] as const) {
      let err = "";
      expect(await runProgram(plan, kernels, argv, { out: () => {}, err: (t) => (err += t) })).toBe(2);
      expect(err.split("\n")[0]).toBe(message);
      expect(err).toContain("--http PORT");
    }
  });

  it("works in a compiled bundle without node_modules, on every address with --http-host 0.0.0.0", async () => {
    const { dir, program } = watchedPipeline("streamc-metrics-bundle-");
    temps.push(dir);
    for (let f = 0; f < FILES; f++) writeClickFile(dir, f);
    const { plan, kernelSource } = await compiled(program);
    const bundle = await bundleProgram({ plan, kernelSource, sourcePath: program, entry: { path: join(ROOT, "runtime", "main.ts"), exportName: "runBundle" } });
    const fresh = mkdtempSync(join(tmpdir(), "streamc-metrics-bundle-run-"));
    temps.push(fresh);
    for (let d = fresh; dirname(d) !== d; d = dirname(d)) expect(existsSync(join(d, "node_modules"))).toBe(false);
    writeFileSync(join(fresh, "watched.mjs"), bundle);
    const child = spawn(process.execPath, ["watched.mjs", "--http", "0", "--http-host", "0.0.0.0", "--trigger", "every:200ms"], { cwd: fresh, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    try {
      const url = await serverUrl(() => err);
      const { port } = new URL(url);
      const local = `http://127.0.0.1:${port}/`;
      await waitFor("batch 2", async () => ((await getJson<RunStatus>(`${local}status`)).lastBatch?.batchId ?? -1) >= 2 || undefined);
      const { families, batch } = await scrape(local);
      expect(value(families, "streamc_input_rows_total", { source: "clicks" })).toBe(CLICKS_PER_FILE * (batch + 1));
      expect(value(families, "streamc_dead_letters_total", { reason: "malformed" })).toBe(batch + 1);
      const page = await (await fetch(local)).text();
      expect(page).toContain("uPlot");
      expect(page).toContain("window.streamcDashboard");
      const others = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === "IPv4" && !a.internal).map((a) => a!.address);
      for (const address of others) await expect(connects(address, Number(port))).resolves.toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});

/** Whether a TCP connection to `host:port` is accepted. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
    socket.once("timeout", () => {
      socket.destroy();
      done(false);
    });
  });
}

function listening(): Promise<Server> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => done(server));
  });
}
