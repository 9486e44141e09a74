/**
 * The dashboard in a real browser: Debian's Chromium (installed by scripts/install-chromium.sh,
 * which this test runs first), headless, driven by playwright-core.
 *
 * `streamc run watched.stream --http 0` runs in a child process while click files keep arriving
 * (watched-pipeline.ts, with late rows). The page at `/` must draw every chart, then draw more
 * points as batches run; each chart's canvas must hold pixels of its first series' colour; a
 * full-page screenshot is saved, and decoded back in Chromium, must hold those colours inside each
 * chart's area too. If Chromium cannot be installed or launched, the test fails with the reason:
 * it never skips.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchedPipeline, writeClickFile } from "./watched-pipeline.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const CHARTS = ["rates", "duration", "watermark", "state", "deadletters", "behind"];

let browser: Browser | undefined;
const temps: string[] = [];

beforeAll(async () => {
  const install = spawnSync("sh", [join(ROOT, "scripts/install-chromium.sh")], { encoding: "utf8", timeout: 600_000 });
  if (install.status !== 0) {
    throw new Error(`Chromium is needed for this test and scripts/install-chromium.sh failed (exit ${install.status ?? install.signal}):\n${install.stdout}${install.stderr}${install.error ? String(install.error) : ""}`);
  }
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  } catch (error) {
    throw new Error(`Chromium (${CHROMIUM}) is installed but does not start: ${(error as Error).message}`);
  }
}, 660_000);

afterAll(async () => {
  await browser?.close();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** What the page computes about one chart. */
interface ChartPixels {
  id: string;
  points: number;
  /** Pixels of the chart's first series' colour on its canvas. */
  seriesPixels: number;
  color: string;
  /** The canvas's place in the page (CSS pixels, device scale 1). */
  rect: { x: number; y: number; width: number; height: number };
}

describe("the dashboard at /", () => {
  it("draws every chart in headless Chromium, keeps adding points as batches run, and the screenshot shows them", async () => {
    const { dir, program } = watchedPipeline("streamc-dashboard-");
    temps.push(dir);
    for (let f = 0; f < 3; f++) writeClickFile(dir, f);
    let next = 3;
    const writer = setInterval(() => writeClickFile(dir, next++, { late: next % 2 }), 300);
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ["--import", "tsx", "bin/streamc.ts", "run", program, "--http", "0", "--trigger", "every:300ms"], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
      const exited = new Promise<number | null>((done) => child!.on("close", (code) => done(code)));
      const url = await until(() => /dashboard at (http:\/\/\S+\/), metrics at /.exec(err)?.[1], 30_000, () => `the server's address; stderr so far: ${err}`);

      const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console error: ${message.text()}`);
      });
      await page.goto(url);
      const lengths = () => page.evaluate((ids) => ids.map((id) => (window as unknown as Dashboard).streamcDashboard.charts[id]?.data[0].length ?? 0), CHARTS);
      await page.waitForFunction((ids) => ids.every((id) => ((window as unknown as Dashboard).streamcDashboard.charts[id]?.data[0].length ?? 0) >= 3), CHARTS, { timeout: 30_000 });
      const before = await lengths();
      // The charts update: two more batches' points, at least, in every chart.
      await page.waitForFunction(
        ({ ids, before }) => ids.every((id, i) => ((window as unknown as Dashboard).streamcDashboard.charts[id]?.data[0].length ?? 0) >= before[i]! + 2),
        { ids: CHARTS, before },
        { timeout: 30_000 },
      );
      const after = await lengths();
      expect(after.every((n, i) => n >= before[i]! + 2)).toBe(true);

      const charts = await page.evaluate(countSeriesPixels, CHARTS);
      for (const chart of charts) {
        expect(chart.points, chart.id).toBeGreaterThanOrEqual(5);
        expect(chart.seriesPixels, `${chart.id}: pixels of ${chart.color} on its canvas`).toBeGreaterThan(40);
      }
      // The header and tiles show the run.
      expect(await page.textContent("#pipeline")).toBe("watched");
      expect(await page.textContent("#state")).toBe("running");
      expect(await page.textContent("#tile-dead")).not.toBe("–");
      expect(Number((await page.textContent("#tile-dead"))!.replace(/,/g, ""))).toBeGreaterThan(0);

      // The screenshot: saved, a PNG of some size, and, decoded by Chromium, the series' colours inside each chart's area.
      const shots = mkdtempSync(join(tmpdir(), "streamc-dashboard-shot-"));
      temps.push(shots);
      const file = join(shots, "dashboard.png");
      await page.screenshot({ path: file, fullPage: true });
      const png = readFileSync(file);
      expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
      expect(statSync(file).size).toBeGreaterThan(30_000);
      const inShot = await page.evaluate(countInScreenshot, { png: png.toString("base64"), charts });
      for (const [i, chart] of charts.entries()) {
        expect(inShot.width).toBe(1280);
        expect(inShot.counts[i], `${chart.id}: pixels of ${chart.color} in the screenshot's chart area`).toBeGreaterThan(40);
      }
      expect(problems).toEqual([]);
      await page.close();

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(err).toContain("watched: SIGTERM: stopping after the batch in flight");
    } finally {
      clearInterval(writer);
      if (child && child.exitCode === null) child.kill("SIGKILL");
    }
  }, 120_000);
});

interface Dashboard {
  streamcDashboard: {
    charts: Record<string, { data: number[][]; ctx: CanvasRenderingContext2D } | undefined>;
    colors: Record<string, string[]>;
  };
}

/** In the page: each chart's point count and the pixels of its first series' colour on its canvas. */
function countSeriesPixels(ids: string[]): ChartPixels[] {
  const dashboard = (window as unknown as Dashboard).streamcDashboard;
  return ids.map((id) => {
    const plot = dashboard.charts[id]!;
    const color = dashboard.colors[id]![0]!;
    const target = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
    const canvas = plot.ctx.canvas;
    const pixels = plot.ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let seriesPixels = 0;
    for (let p = 0; p < pixels.length; p += 4) {
      if (pixels[p + 3]! > 200 && Math.abs(pixels[p]! - target[0]!) <= 8 && Math.abs(pixels[p + 1]! - target[1]!) <= 8 && Math.abs(pixels[p + 2]! - target[2]!) <= 8) seriesPixels++;
    }
    const box = canvas.getBoundingClientRect();
    return { id, points: plot.data[0]!.length, seriesPixels, color, rect: { x: box.left + window.scrollX, y: box.top + window.scrollY, width: box.width, height: box.height } };
  });
}

/** In the page: decodes the screenshot and counts, inside each chart's rectangle, the pixels of its first series' colour. */
async function countInScreenshot({ png, charts }: { png: string; charts: ChartPixels[] }): Promise<{ width: number; counts: number[] }> {
  const image = new Image();
  image.src = `data:image/png;base64,${png}`;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d")!;
  context.drawImage(image, 0, 0);
  const counts = charts.map((chart) => {
    const target = [1, 3, 5].map((i) => parseInt(chart.color.slice(i, i + 2), 16));
    const { x, y, width, height } = chart.rect;
    const pixels = context.getImageData(Math.round(x), Math.round(y), Math.round(width), Math.round(height)).data;
    let n = 0;
    for (let p = 0; p < pixels.length; p += 4) {
      if (Math.abs(pixels[p]! - target[0]!) <= 8 && Math.abs(pixels[p + 1]! - target[1]!) <= 8 && Math.abs(pixels[p + 2]! - target[2]!) <= 8) n++;
    }
    return n;
  });
  return { width: image.naturalWidth, counts };
}

async function until<T>(read: () => T | undefined, ms: number, what: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
