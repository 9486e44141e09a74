import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function programFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "streamc-cli-"));
  const file = join(dir, "program.stream");
  writeFileSync(file, text);
  return file;
}

const broken = `source orders: { amount: double, ts: timestamp } = files "in" { format = json }
stream big = orders | where amout > 10
sink big -> console
`;

describe("streamc check", () => {
  it("exits 0 and summarises a clean program", async () => {
    const r = await run("check", "examples/revenue/revenue.stream");
    expect(r.code).toBe(0);
    expect(r.out).toBe("examples/revenue/revenue.stream: ok (1 source, 2 streams, 2 sinks, 1 stateful operator)\n");
    expect(r.err).toBe("");
  });

  it("exits 1 and prints FILE:LINE:COL, the source line, a caret and a hint", async () => {
    const file = programFile(broken);
    const r = await run("check", file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}:2:29: error S2004: unknown column \`amout\``);
    expect(r.err).toContain("  2 | stream big = orders | where amout > 10\n");
    expect(r.err).toContain("    |                             ^^^^^\n");
    expect(r.err).toContain("hint: did you mean `amount`?");
    expect(r.err).toContain("1 error, 0 warnings");
  });

  it("reports every error of a program in one run", async () => {
    const file = programFile(`source s: { a: int } = kafak
stream x = s | where b > 1 | select c
stream y = nothing
`);
    const r = await run("check", file);
    expect(r.code).toBe(1);
    for (const code of ["S5001", "S2004", "S2002"]) expect(r.err).toContain(code);
    expect(r.err.match(/error S\d{4}/g)!.length).toBeGreaterThanOrEqual(4);
  });

  it("says a missing file is missing", async () => {
    const r = await run("check", "no/such/file.stream");
    expect(r.code).toBe(1);
    expect(r.err).toBe("streamc check: cannot read no/such/file.stream: no such file\n");
  });
});

describe("streamc explain", () => {
  it("prints one node a line with schemas and state", async () => {
    const r = await run("explain", "examples/revenue/revenue.stream");
    expect(r.code).toBe(0);
    expect(r.out).toContain("  where amount > 0 and country is not null :: (order_id: string, user_id: string, country: string, amount: double, ts: timestamp, tags: list<string>?)\n");
    expect(r.out).toContain("    state revenue.aggregate (window-aggregate v1) key (window_start: timestamp, window_end: timestamp, country: string)");
  });

  it("prints diagnostics and no plan for a broken program", async () => {
    const r = await run("explain", programFile(broken));
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("S2004");
  });
});

describe("usage", () => {
  it("prints usage for an unknown command, exit 2", async () => {
    const r = await run("compiel", "x.stream");
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command `compiel`");
    expect(r.err).toContain("usage: streamc <command>");
  });

  it("prints usage for an unknown option, exit 2", async () => {
    const r = await run("check", "--frobnicate", "examples/revenue/revenue.stream");
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--frobnicate'");
    expect(r.err).toContain("usage: streamc <command>");
  });

  it("needs exactly one file", async () => {
    expect((await run("check")).code).toBe(2);
    expect((await run("explain", "a.stream", "b.stream")).code).toBe(2);
  });

  it("prints help with exit 0 when asked, exit 2 when given nothing", async () => {
    expect((await run("help")).code).toBe(0);
    expect((await run("--help")).out).toContain("commands:");
    expect((await run()).code).toBe(2);
  });
});

describe("the built CLI", () => {
  it("runs as a program with the same exit codes", async () => {
    const node = (args: string[]) => spawnSync(process.execPath, ["dist/streamc.mjs", ...args], { encoding: "utf8" });
    const ok = node(["check", "examples/word-count/word-count.stream"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("ok (1 source");
    const bad = node(["check", programFile(broken)]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("error S2004");
    expect(node(["nonsense"]).status).toBe(2);
  });
});
