import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";

const conformance = resolve(import.meta.dirname, "../../../shared/conformance/delta");
const exists = existsSync(conformance);
const basicAppend = join(conformance, "dat/basic_append/delta");

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe.skipIf(!exists && process.env.CI !== "true")("streamc table", () => {
  it("has the reference tables", () => {
    expect(exists).toBe(true);
  });

  it("shows a table's version, schema, files and rows as JSON lines", async () => {
    const r = await run("table", "show", basicAppend);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines.slice(0, 4)).toEqual([
      `table ${basicAppend} at version 1 (reader 1, writer 2)`,
      "schema: (letter: string?, number: long?, a_float: double?)",
      "partitioned by: (none)",
      "2 files, 5 rows",
    ]);
    expect(lines.slice(4).map((l) => JSON.parse(l)).sort((a, b) => a.number - b.number)).toEqual([
      { letter: "a", number: 1, a_float: 1.1 },
      { letter: "b", number: 2, a_float: 2.2 },
      { letter: "c", number: 3, a_float: 3.3 },
      { letter: "d", number: 4, a_float: 4.4 },
      { letter: "e", number: 5, a_float: 5.5 },
    ]);
  });

  it("travels back to an earlier version", async () => {
    const r = await run("table", "show", basicAppend, "--version", "0");
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[3]).toBe("1 file, 3 rows");
  });

  it("lists the commits newest first", async () => {
    const r = await run("table", "history", basicAppend);
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n").map((l) => l.split("\t").filter((_, i) => i !== 1))).toEqual([
      ["1", "WRITE", "+1 -0 files"],
      ["0", "WRITE", "+1 -0 files"],
    ]);
  });
});

describe("streamc table errors", () => {
  it("names the path when it is not a table, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamc-not-a-table-"));
    const r = await run("table", "show", dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`streamc table: no Delta log at ${join(dir, "_delta_log")}: not a Delta table\n`);
  });

  it("prints usage for a wrong subcommand or version, exit 2", async () => {
    expect((await run("table", "optimise", "x")).code).toBe(2);
    expect((await run("table", "show", "x", "--version", "-1")).code).toBe(2);
    expect((await run("table", "history", "x", "--version", "1")).code).toBe(2);
  });
});
