/**
 * The live status line of `streamc run` on a terminal (runtime/progress/live-status.ts), through
 * `runProgram` with `errIsTerminal`, and its text.
 *
 * - On a terminal without `--progress`: one line per batch, each rewriting the last (carriage
 *   return, erase line), with the batch, rows/s in and out, the files behind and the watermark
 *   delay; log lines and the summary land on lines of their own.
 * - With `--progress`, or when standard error is not a terminal: no status line at all (the
 *   output is what it was before the status line existed).
 */
import { readFileSync, rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadKernelModule } from "../../compiler/bundle.ts";
import { compileProgram } from "../../compiler/compile-program.ts";
import type { BatchProgress } from "../../runtime/engine/pipeline.ts";
import { runProgram } from "../../runtime/main.ts";
import { formatDelay, LiveStatusLine, statusText } from "../../runtime/progress/live-status.ts";
import { CLICKS_PER_FILE, VIEWS_PER_FILE, watchedPipeline, writeClickFile } from "./watched-pipeline.ts";

const ERASE = "\r\x1b[2K";
/**
 * Four files: 80 rows in; out, the 64 that pass the filter and the counts of the windows of
 * minutes 0–2 for 4 users (the last watermark, 00:03:28, leaves minute 3 open); rejected, a
 * malformed line and a record without `page` per file.
 */
const SUMMARY = `watched: 5 batches, ${4 * CLICKS_PER_FILE} rows in, ${4 * VIEWS_PER_FILE + 3 * 4} rows out, 8 rejected\n`;
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], errIsTerminal: boolean): Promise<{ code: number; err: string }> {
  const { dir, program } = watchedPipeline("streamc-live-");
  temps.push(dir);
  for (let f = 0; f < 4; f++) writeClickFile(dir, f);
  const { compiled } = compileProgram(readFileSync(program, "utf8"), program);
  const kernels = await loadKernelModule(compiled!.kernelSource, { sourcePath: program });
  let err = "";
  const code = await runProgram(compiled!.plan, kernels, ["--trigger", "available_now", ...argv], { out: () => {}, err: (t) => (err += t), errIsTerminal });
  return { code, err };
}

describe("the live status line", () => {
  it("rewrites one line per batch on a terminal, and leaves the summary on its own line", async () => {
    const { code, err } = await run([], true);
    expect(code).toBe(0);
    const segments = err.split(ERASE);
    expect(segments[0]).toBe("");
    const summary = segments.pop()!;
    // available_now: four batches with a file each, then one without data that lets the last watermark close windows.
    expect(summary).toBe(SUMMARY);
    expect(segments.slice(1)).toHaveLength(5);
    segments.slice(1).forEach((line, batch) => {
      expect(line).not.toContain("\n");
      const watermark = batch === 0 ? "" : " · watermark delay \\d+d \\d+h";
      expect(line).toMatch(new RegExp(`^watched  batch ${batch} · in [0-9.,]+ rows/s · out [0-9.,]+ rows/s · behind ${Math.max(0, 3 - batch)}${watermark}$`));
    });
  });

  it("is not drawn with --progress (JSON lines instead) or when standard error is not a terminal", async () => {
    const withProgress = await run(["--progress"], true);
    expect(withProgress.err).not.toContain(ERASE);
    const lines = withProgress.err.trim().split("\n");
    expect(lines.slice(0, -1).map((l) => (JSON.parse(l) as BatchProgress).batchId)).toEqual([0, 1, 2, 3, 4]);

    const piped = await run([], false);
    expect(piped.err).toBe(SUMMARY);
  });

  it("says batch, rates, lag and watermark delay in one line cut to the terminal's width", () => {
    const progress = {
      name: "shop",
      batchId: 41,
      eventTime: { watermark: "2026-01-01T00:00:00Z" },
      sources: [{ metrics: { offsetsBehindLatest: 1200 } }, { metrics: { offsetsBehindLatest: 34 } }],
    } as unknown as BatchProgress;
    const rates = { inputRowsPerSecond: 1204.4, outputRowsPerSecond: 12.25, processedRowsPerSecond: 90_000 };
    const now = Date.parse("2026-01-01T00:02:05Z");
    expect(statusText(progress, rates, now)).toBe("shop  batch 41 · in 1,204 rows/s · out 12.3 rows/s · behind 1,234 · watermark delay 2m 05s");
    expect(statusText({ ...progress, eventTime: { watermark: undefined } }, rates, now)).toBe("shop  batch 41 · in 1,204 rows/s · out 12.3 rows/s · behind 1,234");

    let screen = "";
    const line = new LiveStatusLine((t) => (screen += t), () => 30, () => now);
    line.update(progress, rates);
    expect(screen).toBe(`${ERASE}shop  batch 41 · in 1,204 ro…`);
    expect(screen.length - ERASE.length).toBe(29);
    screen = "";
    line.write("a log line\n");
    expect(screen).toBe(`${ERASE}a log line\nshop  batch 41 · in 1,204 ro…`);
    screen = "";
    line.finish();
    expect(screen).toBe(ERASE);

    expect([0.25, 12.34, 125, 7_500, 90_000, 3 * 86_400 + 7_200].map(formatDelay)).toEqual(["250ms", "12.3s", "2m 05s", "2h 05m", "1d 1h", "3d 2h"]);
  });
});
