/**
 * The command line, for real: `node dist/streamc.mjs ...` in a child process (built first when it is
 * missing or older than the sources), checked against DuckDB where it prints results.
 *
 * - `run` of the word-count example prints the console table with DuckDB's counts;
 * - `--max-batches N` stops after N batches; bad `--trigger` and `--max-batches` values exit 2;
 * - `test` passes on every example (exit 0) and, on a wrong expectation, exits 1 with a diff that
 *   names the missing and the unexpected rows;
 * - `compile FILE -o DIR` writes DIR/NAME.mjs and DIR/NAME.plan.json, and the bundle runs with
 *   `node` alone from a directory without node_modules, printing what the in-process run prints;
 *   also with an `import fn` TypeScript module bundled in.
 */
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { duck, ROOT, sqlString } from "./harness.ts";

const CLI = join(ROOT, "dist", "streamc.mjs");
const temps: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "streamc-e2e-cli-"));
  temps.push(dir);
  return dir;
}

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** `node ARGS` in `cwd` (default: the repository root). */
function node(args: string[], cwd = ROOT): Promise<Ran> {
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd, encoding: "utf8", timeout: 30_000, maxBuffer: 16 << 20 }, (error, out, err) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, out, err });
    });
  });
}

const streamc = (...args: string[]) => node([CLI, ...args]);

/** The node_modules directories Node would search from `dir`: none, for a bundle that must stand alone. */
function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) found.push(join(d, "node_modules"));
    if (dirname(d) === d) return found;
  }
}

/** The newest modification time of the sources the CLI is built from. */
function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mjs)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of ["bin", "compiler", "runtime", "stdlib", "grammar"]) walk(join(ROOT, dir));
  return newest;
}

beforeAll(() => {
  // `npm test` builds first; a bare `vitest run` may find dist missing or older than the sources.
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestSource()) {
    const built = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
  }
}, 60_000);

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** The rows of the console tables in `text`, per batch: `Batch: N (mode)` then `|a|b|` lines. */
function consoleTables(text: string): { batch: number; mode: string; header: string[]; rows: string[][]; more: string | undefined }[] {
  const tables: ReturnType<typeof consoleTables> = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^Batch: (\d+) \((\w+)\)$/.exec(lines[i]!);
    if (!m) continue;
    const cells = (line: string) => line.slice(1, -1).split("|").map((c) => c.trim());
    // rule, border, header, border, rows..., border
    let j = i + 2;
    const header = cells(lines[j + 1]!);
    j += 3;
    const rows: string[][] = [];
    while (lines[j]!.startsWith("|")) rows.push(cells(lines[j++]!));
    const more = lines[j + 1]?.startsWith("only showing") ? lines[j + 1] : undefined;
    tables.push({ batch: Number(m[1]), mode: m[2]!, header, rows, more });
  }
  return tables;
}

/** DuckDB's word counts over JSON-lines files, in order of each word's first appearance. */
async function wordCounts(files: string[]): Promise<[string, number][]> {
  const db = await duck();
  try {
    const read = files.map((f, i) => `SELECT ${i} AS i, ordinality AS n, line FROM read_json(${sqlString(f)}, columns = {line: 'VARCHAR'}, format = 'newline_delimited') WITH ORDINALITY`);
    const rows = await db.rows(`
      WITH l AS (${read.join(" UNION ALL ")}),
           w AS (SELECT i, n, unnest(generate_series(1, len(string_split(lower(line), ' ')))) AS k, unnest(string_split(lower(line), ' ')) AS word FROM l)
      SELECT word, count(*) FROM w WHERE word <> '' GROUP BY word ORDER BY min(i * 1000000 + n * 1000 + k)`);
    return rows as [string, number][];
  } finally {
    db.close();
  }
}

const WORD_COUNT = "examples/word-count/word-count.stream";
const WORD_COUNT_DATA = join(ROOT, "examples/word-count/data/lines.jsonl");

describe("streamc run", () => {
  it("prints word-count's table with DuckDB's counts", async () => {
    const [example, allRows, expected] = await Promise.all([
      streamc("run", WORD_COUNT),
      // The same program with room for every word: `rows = 50` shows 50 of them.
      (async () => {
        const dir = tempDir();
        const file = join(dir, "word-count.stream");
        writeFileSync(file, readFileSync(join(ROOT, WORD_COUNT), "utf8").replace("rows = 50", "rows = 1000").replace('files "examples/word-count/data"', `files ${JSON.stringify(join(ROOT, "examples/word-count/data"))}`));
        return streamc("run", file);
      })(),
      wordCounts([WORD_COUNT_DATA]),
    ]);
    expect(example.code, example.err).toBe(0);
    const tables = consoleTables(example.out);
    expect(tables.map((t) => [t.batch, t.mode])).toEqual([[0, "complete"]]);
    expect(tables[0]!.header).toEqual(["word", "n"]);
    // The first 50 groups (a complete aggregate emits its groups in the order they were first seen), and a note that there are more.
    expect(tables[0]!.rows).toEqual(expected.slice(0, 50).map(([w, n]) => [w, String(n)]));
    expect(tables[0]!.more).toBe("only showing top 50 rows");
    expect(example.err).toBe(`word_count: 1 batch, 10 rows in, ${expected.length} rows out\n`);

    expect(allRows.code, allRows.err).toBe(0);
    const all = consoleTables(allRows.out)[0]!;
    expect(all.more).toBeUndefined();
    expect(all.rows.map(([w, n]) => [w, Number(n)]).sort()).toEqual([...expected].sort());
  });

  it("--max-batches N stops after N batches", async () => {
    // Three files read one per batch; the counts after two batches are those of the first two files.
    const dir = tempDir();
    const data = join(dir, "in");
    mkdirSync(data);
    const lines = readFileSync(WORD_COUNT_DATA, "utf8").trim().split("\n");
    const files = [0, 1, 2].map((i) => join(data, `part-${i}.jsonl`));
    files.forEach((f, i) => writeFileSync(f, lines.slice(i * 4, i * 4 + 4).join("\n") + "\n"));
    const file = join(dir, "wc.stream");
    writeFileSync(
      file,
      readFileSync(join(ROOT, WORD_COUNT), "utf8")
        .replace("rows = 50", "rows = 1000")
        .replace(/files "examples\/word-count\/data" \{/, `files ${JSON.stringify(data)} {\n  max_files_per_batch = 1`),
    );
    const [two, all, expectedTwo, expectedAll] = await Promise.all([
      streamc("run", file, "--max-batches", "2"),
      streamc("run", file),
      wordCounts(files.slice(0, 2)),
      wordCounts(files),
    ]);
    expect(two.code, two.err).toBe(0);
    const tables = consoleTables(two.out);
    expect(tables.map((t) => t.batch)).toEqual([0, 1]);
    expect(tables[1]!.rows.map(([w, n]) => [w, Number(n)])).toEqual(expectedTwo);
    expect(two.err).toMatch(/^word_count: 2 batches, 8 rows in, \d+ rows out\n$/);

    expect(all.code, all.err).toBe(0);
    const allTables = consoleTables(all.out);
    expect(allTables.map((t) => t.batch)).toEqual([0, 1, 2]);
    expect(allTables[2]!.rows.map(([w, n]) => [w, Number(n)])).toEqual(expectedAll);
  });

  it("rejects bad --trigger and --max-batches values with exit 2 and says why", async () => {
    const cases: [string[], RegExp][] = [
      [["--trigger", "sometimes"], /--trigger takes once, available_now or every:DURATION .*not `sometimes`/],
      [["--trigger", "every:0s"], /--trigger takes .*not `every:0s`/],
      [["--trigger", "every:1.5s"], /--trigger takes .*not `every:1\.5s`/],
      [["--trigger"], /--trigger/],
      [["--max-batches", "0"], /--max-batches takes a positive whole number, not `0`/],
      [["--max-batches", "two"], /--max-batches takes a positive whole number, not `two`/],
      [["--frobnicate"], /Unknown option '--frobnicate'/],
    ];
    const results = await Promise.all(cases.map(([args]) => streamc("run", WORD_COUNT, ...args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect(r.code, `run ${args.join(" ")}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err, "usage follows").toContain("options:\n  --checkpoint DIR");
      expect(r.err).toContain("\n  --trigger once|available_now|every:DURATION");
      expect(r.out, "nothing ran").toBe("");
    });
  });
});

describe("streamc test", () => {
  it("passes on every example with test blocks", async () => {
    const examples = readdirSync(join(ROOT, "examples"), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `examples/${e.name}/${e.name}.stream`);
    const withTests = examples.filter((f) => /^test "/m.test(readFileSync(join(ROOT, f), "utf8")));
    expect(withTests.length).toBeGreaterThanOrEqual(5);
    const results = await Promise.all(withTests.map((f) => streamc("test", f)));
    results.forEach((r, i) => {
      const blocks = readFileSync(join(ROOT, withTests[i]!), "utf8").match(/^test "/gm)!.length;
      expect(r.code, `${withTests[i]}: ${r.out}${r.err}`).toBe(0);
      expect(r.out.match(/^PASS /gm)?.length, withTests[i]).toBe(blocks);
      expect(r.out).toContain(`${blocks} passed, 0 failed\n`);
    });
  });

  it("exits 1 on a wrong expectation with a diff naming the missing and the unexpected rows", async () => {
    const dir = tempDir();
    const file = join(dir, "wrong.stream");
    writeFileSync(
      file,
      `source lines: { line: string } = files "in" { format = json }
stream counts = lines
  | explode word = split(lower(line), " ")
  | where word != ""
  | aggregate n = count() by word
sink counts -> console { mode = complete }

test "right" {
  input lines [ { line: "a b a" } ]
  expect counts [ { word: "a", n: 2 }, { word: "b", n: 1 } ]
}

test "wrong" {
  input lines [ { line: "to be or not to be" } ]
  expect counts [ { word: "to", n: 3 }, { word: "be", n: 2 }, { word: "or", n: 1 }, { word: "not", n: 1 }, { word: "zebra", n: 1 } ]
}
`,
    );
    const r = await streamc("test", file);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain("PASS right\n");
    expect(r.out).toContain("FAIL wrong\n");
    expect(r.out).toContain("expect counts: 5 rows expected, 4 produced");
    expect(r.out).toContain('- { "to", 3 }   (expected, not produced)');
    expect(r.out).toContain('- { "zebra", 1 }   (expected, not produced)');
    expect(r.out).toContain('+ { "to", 2 }   (produced, not expected)');
    expect(r.out).not.toContain('"be", 2 }   (');
    expect(r.out).toContain("1 passed, 1 failed\n");
  });
});

describe("streamc compile", () => {
  it("writes NAME.mjs and NAME.plan.json; the bundle runs with node alone and prints what the in-process run prints", async () => {
    const build = tempDir();
    const compiled = await streamc("compile", WORD_COUNT, "-o", build);
    expect(compiled.code, compiled.err).toBe(0);
    expect(readdirSync(build).sort()).toEqual(["word-count.mjs", "word-count.plan.json"]);
    const plan = JSON.parse(readFileSync(join(build, "word-count.plan.json"), "utf8"));
    expect(plan.format).toBe("streamc-plan/1");
    expect(plan.pipeline.name).toBe("word_count");

    // A fresh directory with the bundle and the data at the path the program names, and no node_modules anywhere above it.
    const fresh = tempDir();
    expect(nodeModulesAbove(fresh)).toEqual([]);
    copyFileSync(join(build, "word-count.mjs"), join(fresh, "word-count.mjs"));
    cpSync(join(ROOT, "examples/word-count/data"), join(fresh, "examples/word-count/data"), { recursive: true });

    let out = "";
    let err = "";
    const code = await main(["run", WORD_COUNT, "--trigger", "available_now"], { out: (t) => (out += t), err: (t) => (err += t) });
    expect(code, err).toBe(0);

    const bundled = await node(["word-count.mjs", "--trigger", "available_now"], fresh);
    expect(bundled.code, bundled.err).toBe(0);
    expect(bundled.err).toBe(err);
    expect(bundled.out).toBe(out);
    expect(consoleTables(out)[0]!.rows.length).toBe(50);
  });

  it("bundles an `import fn` TypeScript module: the program runs without the .ts file", async () => {
    const src = tempDir();
    writeFileSync(
      join(src, "shout.ts"),
      `interface Options { mark: string }
const defaults: Options = { mark: "!" };
enum Case { Upper = "upper" }
export function shout(text: string, times: number): string {
  const mode: Case = Case.Upper;
  return (mode === Case.Upper ? text.toUpperCase() : text) + defaults.mark.repeat(times);
}
`,
    );
    writeFileSync(
      join(src, "shout.stream"),
      `pipeline shout { trigger = available_now }
import fn shout(text: string, times: int): string from "./shout.ts"
source words: { w: string, k: int } = files "in" { format = json }
stream loud = words | select w, loud = shout(w, k)
sink loud -> console { rows = 100 }
`,
    );
    const build = join(src, "build");
    const compiled = await streamc("compile", join(src, "shout.stream"), "-o", build);
    expect(compiled.code, compiled.err).toBe(0);

    const fresh = tempDir();
    expect(nodeModulesAbove(fresh)).toEqual([]);
    copyFileSync(join(build, "shout.mjs"), join(fresh, "shout.mjs"));
    mkdirSync(join(fresh, "in"));
    writeFileSync(join(fresh, "in", "a.jsonl"), ['{"w": "hey", "k": 1}', '{"w": "straße", "k": 3}', '{"w": "", "k": 0}'].join("\n") + "\n");
    const r = await node(["shout.mjs"], fresh);
    expect(r.code, r.err).toBe(0);
    expect(consoleTables(r.out)[0]!.rows).toEqual([
      ["hey", "HEY!"],
      ["straße", "STRASSE!!!"],
      ["", ""],
    ]);
    expect(r.err).toBe("shout: 1 batch, 3 rows in, 3 rows out\n");
  });
});

