/**
 * The runtime is bundled alone, so it never imports the grammar or the compiler: the plan types in
 * runtime/plan.ts are the whole contract between them. stdlib/ is imported by the runtime (every
 * function's kernel lives there), so the same holds for it.
 *
 * Each file under runtime/ and stdlib/ is bundled with esbuild, as the real bundle will be, and the
 * bundle's metafile must hold no input under grammar/ or compiler/. esbuild drops type-only imports
 * before it resolves anything, so this guards what would be bundled, not what is type-checked.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { build, type BuildOptions, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const forbiddenFolders = ["grammar", "compiler"];
const guardedFolders = ["runtime", "stdlib"];

/** An input that the bundle must not hold, and how the entry reaches it. */
interface Violation {
  input: string;
  /** Inputs from the entry to the forbidden one, root-relative. */
  chain: string[];
}

function rootRelative(metafilePath: string): string {
  const absolute = isAbsolute(metafilePath) ? metafilePath : resolve(root, metafilePath);
  return relative(root, absolute).split("\\").join("/");
}

function isForbidden(path: string): boolean {
  return forbiddenFolders.some((folder) => path.startsWith(`${folder}/`));
}

/**
 * Bundles `entry` (a file, or in-memory text standing for `resolveDir/synthetic-entry.ts`) and returns
 * every forbidden input, each with the shortest import chain from the entry.
 */
async function boundaryViolations(entry: { file: string } | { contents: string; resolveDir: string }): Promise<Violation[]> {
  const options: BuildOptions = {
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "silent",
    ...("file" in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, sourcefile: "synthetic-entry.ts", loader: "ts" } }),
  };
  const { metafile } = await build(options);
  return violationsIn(metafile!);
}

function violationsIn(metafile: Metafile): Violation[] {
  const inputs = metafile.inputs;
  const entries = Object.values(metafile.outputs).flatMap((output) => (output.entryPoint ? [output.entryPoint] : []));
  const parent = new Map<string, string | undefined>(entries.map((e) => [e, undefined]));
  const queue = [...entries];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const next of inputs[current]?.imports ?? []) {
      if (next.external || parent.has(next.path)) continue;
      parent.set(next.path, current);
      queue.push(next.path);
    }
  }
  const violations: Violation[] = [];
  for (const input of Object.keys(inputs)) {
    if (!isForbidden(rootRelative(input))) continue;
    const chain: string[] = [];
    for (let at: string | undefined = input; at !== undefined; at = parent.get(at)) chain.unshift(rootRelative(at));
    violations.push({ input: rootRelative(input), chain });
  }
  return violations;
}

function describeViolations(file: string, violations: Violation[]): string {
  return violations.map((v) => `${file} must not import ${v.input}: ${v.chain.join(" -> ")}`).join("\n");
}

function tsFilesUnder(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
    .map((file) => `${folder}/${file.split("\\").join("/")}`)
    .sort();
}

const guardedFiles = guardedFolders.flatMap(tsFilesUnder);

describe("the runtime boundary", () => {
  it("finds the runtime's and stdlib's files", () => {
    expect(guardedFiles).toContain("runtime/plan.ts");
    expect(guardedFiles.some((file) => file.startsWith("stdlib/"))).toBe(true);
  });

  it.each(guardedFiles)("%s bundles without grammar/ or compiler/", async (file) => {
    const violations = await boundaryViolations({ file });
    expect(violations, describeViolations(file, violations)).toEqual([]);
  });
});

describe("the boundary check", () => {
  it("reports a direct import of the compiler", async () => {
    const violations = await boundaryViolations({
      contents: 'import { catalog } from "../compiler/diagnostics.ts";\nexport const codes = Object.keys(catalog);\n',
      resolveDir: join(root, "runtime"),
    });
    expect(violations).toEqual([{ input: "compiler/diagnostics.ts", chain: ["runtime/synthetic-entry.ts", "compiler/diagnostics.ts"] }]);
    expect(describeViolations("runtime/synthetic-entry.ts", violations)).toBe(
      "runtime/synthetic-entry.ts must not import compiler/diagnostics.ts: runtime/synthetic-entry.ts -> compiler/diagnostics.ts",
    );
  });

  it("reports an import of the grammar reached through another file, with the chain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamc-boundary-"));
    try {
      const lexer = join(root, "grammar/lexer.ts").split("\\").join("/");
      writeFileSync(join(dir, "operator.ts"), 'import { helper } from "./helper.ts";\nexport const run = () => helper("x");\n');
      writeFileSync(join(dir, "helper.ts"), `import { tokenize } from ${JSON.stringify(lexer)};\nexport const helper = (s: string) => tokenize(s).tokens.length;\n`);
      const violations = await boundaryViolations({ file: join(dir, "operator.ts") });
      const grammarInputs = violations.filter((v) => v.input.startsWith("grammar/"));
      expect(grammarInputs.map((v) => v.input)).toContain("grammar/lexer.ts");
      const viaLexer = grammarInputs.find((v) => v.input === "grammar/lexer.ts")!;
      expect(viaLexer.chain.map((p) => p.split("/").pop())).toEqual(["operator.ts", "helper.ts", "lexer.ts"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ignores type-only imports, which esbuild erases", async () => {
    const violations = await boundaryViolations({
      contents: 'import type { Diagnostic } from "../compiler/diagnostics.ts";\nexport const none: Diagnostic[] = [];\n',
      resolveDir: join(root, "runtime"),
    });
    expect(violations).toEqual([]);
  });
});
