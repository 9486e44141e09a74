/**
 * runtime/progress/dashboard-assets.ts is generated (scripts/generate-dashboard-assets.mjs) from
 * dashboard-page.html, dashboard-client.js and the installed uPlot: it must match them, and the
 * page it holds must carry all of them inline.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DASHBOARD_HTML } from "../../runtime/progress/dashboard-assets.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("the dashboard's generated page", () => {
  it("is up to date with its sources (else: node scripts/generate-dashboard-assets.mjs)", () => {
    const check = spawnSync(process.execPath, ["scripts/generate-dashboard-assets.mjs", "--check"], { cwd: ROOT, encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("inlines uPlot's script and style and the dashboard's script, and loads nothing from elsewhere", () => {
    const uplot = readFileSync(join(ROOT, "node_modules/uplot/dist/uPlot.iife.min.js"), "utf8");
    const css = readFileSync(join(ROOT, "node_modules/uplot/dist/uPlot.min.css"), "utf8");
    const client = readFileSync(join(ROOT, "runtime/progress/dashboard-client.js"), "utf8");
    expect(DASHBOARD_HTML).toContain(uplot);
    expect(DASHBOARD_HTML).toContain(css);
    expect(DASHBOARD_HTML).toContain(client);
    expect(DASHBOARD_HTML).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!github\.com\/leeoniya\/uPlot)/);
  });
});
