import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import type { Schema } from "../../runtime/plan.ts";
import { TableSink } from "../../runtime/sinks/table.ts";

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

describe("streamc table optimize and vacuum", () => {
  const scratch = mkdtempSync(join(tmpdir(), "streamc-cli-table-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const schema: Schema = { fields: [{ name: "n", type: { kind: "long" }, nullable: false }, { name: "region", type: { kind: "string" }, nullable: true }] };

  /** A table of 4 appends, each with one small file in each of 2 partitions. */
  async function smallFiles(): Promise<string> {
    const dir = join(mkdtempSync(join(scratch, "t-")), "t");
    const sink = new TableSink("out.table", schema, dir, { partitionBy: ["region"], targetFileSize: 128 * 1024 * 1024, compactEvery: undefined }, "cli/out.table");
    for (let b = 0; b < 4; b++) await sink.write(b, batchFromRows(schema, [{ n: b, region: "eu" }, { n: 10 + b, region: null }]), "append");
    return dir;
  }

  function showRows(out: string): unknown[] {
    return out.trim().split("\n").slice(4).map((l) => JSON.parse(l) as { n: number }).sort((a, b) => a.n - b.n);
  }

  it("optimize compacts small files per partition, keeps the rows, and has nothing to do the second time", async () => {
    const dir = await smallFiles();
    const before = await run("table", "show", dir);
    const r = await run("table", "optimize", dir, "--target-size", "1mb");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^table ${dir}: optimized at version 4: 8 files \\([0-9.]+k?b\\) rewritten as 2 files \\([0-9.]+k?b\\) in 2 partitions\\n$`));
    const after = await run("table", "show", dir);
    expect(after.out.split("\n")[3]).toBe("2 files, 8 rows");
    expect(showRows(after.out)).toEqual(showRows(before.out));
    expect((await run("table", "history", dir)).out.split("\n")[0]!.split("\t").filter((_, i) => i !== 1)).toEqual(["4", "OPTIMIZE", "+2 -8 files"]);
    expect(await run("table", "optimize", dir)).toEqual({ code: 0, out: `table ${dir}: nothing to optimize (no partition has two or more files under 128mb)\n`, err: "" });
  });

  it("vacuum keeps what versions within the retention need, lists with --dry-run, deletes with a short --retain after a warning", async () => {
    const dir = await smallFiles();
    await run("table", "optimize", dir);
    const kept = await run("table", "vacuum", dir);
    expect(kept).toEqual({ code: 0, out: `table ${dir}: deleted 0 files (0b) that no version within 168h of now needs (latest version 4)\n`, err: "" });
    const warning = `streamc table: warning: a retention of 0h is below Delta's default of 168h: files a writer has written but not yet committed, and files a reader of an older version still reads, may be deleted\n`;
    const dry = await run("table", "vacuum", dir, "--retain", "0h", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.err).toBe(warning);
    const listed = dry.out.trim().split("\n");
    expect(listed).toHaveLength(9);
    expect(listed.slice(0, 8).every((l) => /^would delete region=(eu|__HIVE_DEFAULT_PARTITION__)\/part-\d{5}-[0-9a-f-]{36}-c000\.zstd\.parquet \(\d+b\)$/.test(l))).toBe(true);
    expect(listed[8]).toMatch(new RegExp(`^table ${dir}: would delete 8 files \\(.+\\) that no version within 0h of now needs \\(latest version 4\\)$`));
    const done = await run("table", "vacuum", dir, "--retain", "0h");
    expect(done.err).toBe(warning);
    expect(done.out.trim().split("\n").slice(0, 8)).toEqual(listed.slice(0, 8).map((l) => l.replace(/^would delete/, "deleted")));
    const shown = await run("table", "show", dir);
    expect(shown.code).toBe(0);
    expect(shown.out.split("\n")[3]).toBe("2 files, 8 rows");
  });

  it("exits 1 naming the path when it is not a table, and 2 on options the subcommand does not take", async () => {
    const dir = mkdtempSync(join(scratch, "not-a-table-"));
    expect(await run("table", "optimize", dir)).toEqual({ code: 1, out: "", err: `streamc table: no Delta log at ${join(dir, "_delta_log")}: not a Delta table\n` });
    expect((await run("table", "vacuum", dir)).code).toBe(1);
    expect((await run("table", "optimize", dir, "--retain", "1h")).code).toBe(2);
    expect((await run("table", "vacuum", dir, "--target-size", "1mb")).code).toBe(2);
    expect((await run("table", "show", dir, "--dry-run")).code).toBe(2);
    expect((await run("table", "optimize")).code).toBe(2);
    const badSize = await run("table", "optimize", dir, "--target-size", "12xb");
    expect(badSize.code).toBe(2);
    expect(badSize.err.split("\n")[0]).toBe("streamc table: --target-size takes a size such as 128mb, not `12xb`; expected `show PATH [--version N]`, `history PATH`, `optimize PATH [--target-size SIZE]` or `vacuum PATH [--retain DURATION] [--dry-run]`");
    const badRetain = await run("table", "vacuum", dir, "--retain", "a week");
    expect(badRetain.code).toBe(2);
    expect(badRetain.err.split("\n")[0]).toMatch(/^streamc table: --retain takes a duration such as 168h or 7d, not `a week`; /);
  });

  it.skipIf(!exists)("refuses to optimize or vacuum a table with a feature it does not support, exit 1", async () => {
    const dir = join(mkdtempSync(join(scratch, "t-")), "t");
    cpSync(join(conformance, "golden/dv-partitioned-with-checkpoint/delta"), dir, { recursive: true });
    expect(await run("table", "optimize", dir)).toEqual({ code: 1, out: "", err: `streamc table: unsupported table feature deletionVectors in ${dir}\n` });
    expect(await run("table", "vacuum", dir)).toEqual({ code: 1, out: "", err: `streamc table: unsupported table feature deletionVectors in ${dir}\n` });
  });
});
