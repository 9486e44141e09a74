// User text never becomes code: programs whose names, literals and paths are built to break out of
// a string, a comment or a template compile to modules that load and do exactly what the program says.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { transform } from "esbuild";
import { describe, expect, it } from "vitest";
import { batchFromRows } from "../../runtime/columnar/batch-ops.ts";
import { compile, project, select, withDictionaries } from "./codegen-harness.ts";

/** Text that would end a string, a template, a comment, a line or a script if it reached code unescaped. */
const HOSTILE = [
  '"; throw new Error("injected"); //',
  "'; throw new Error('injected'); //",
  "${(() => { throw new Error('injected') })()}",
  "`; throw new Error(`injected`); //",
  "*/ throw new Error('injected'); /*",
  "</script><script>throw 1</script>",
  "\\",
  "\\\"",
  "a\u2028b",
  "a\u2029b",
  "line\nbreak\r\ttab",
  "\u0000nul",
  "__proto__",
  "constructor",
  "𝄞 é 中",
];

/** `text` as a string literal of the language. */
function literal(text: string): string {
  let out = '"';
  for (const c of text) {
    if (c === '"') out += '\\"';
    else if (c === "\\") out += "\\\\";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (c.codePointAt(0)! < 0x20) out += `\\u{${c.codePointAt(0)!.toString(16)}}`;
    else out += c;
  }
  return out + '"';
}

/** `text` as a backtick name (names cannot hold line breaks). */
function name(text: string): string {
  return "`" + text.replace(/[\r\n]/g, " ").replace(/`/g, "``") + "`";
}

describe("injection-proof code generation", () => {
  it("hostile column names, field names and literals compile to code that does what the program says", async () => {
    const columns = HOSTILE.map((h, i) => `${h.replace(/[\r\n]/g, " ")}#${i}`);
    const fieldName = '"]; throw new Error("injected"); ["';
    const text = [
      `source t: { ${columns.map((c) => `${name(c)}: string?`).join(", ")}, st: struct { ${name(fieldName)}: int, ${name("*/")}: string }? } = files "d"`,
      "stream out = t | select",
      // Each column echoed, compared with a literal equal to its own name, and concatenated with it.
      ...columns.map((c, i) => `  e${i} = ${name(c)}, q${i} = ${name(c)} == ${literal(c)}, c${i} = ${name(c)} + ${literal(HOSTILE[i]!)},`),
      `  f1 = st.${name(fieldName)}, f2 = if(true, st, st).${name("*/")},`,
      `  in1 = ${name(columns[0]!)} in (${HOSTILE.map(literal).join(", ")}),`,
      `  like1 = ${name(columns[4]!)} like ${literal("%*/%")}`,
      `stream kept = t | where ${name(columns[5]!)} == ${literal(HOSTILE[5]!)} or ${name(columns[8]!)} in (${literal(HOSTILE[8]!)}, ${literal(HOSTILE[9]!)})`,
      "sink out -> console",
      "sink kept -> console",
    ].join("\n");
    const compiled = await compile(text);
    // The module parses as JavaScript, holds no raw line or paragraph separators, and no `</script>`.
    await transform(compiled.source, { format: "esm", loader: "js" });
    expect(compiled.source).not.toMatch(/[\u2028\u2029]/);
    expect(compiled.source).not.toContain("</script>");
    // Names never appear in code: only string constants hold user text.
    for (const c of columns) expect(compiled.source).not.toContain(`.${c}`);

    const schema = compiled.plan.sources[0]!.schema;
    const row: Record<string, string | null | Record<string, number | string>> = {};
    columns.forEach((c, i) => (row[c] = i === 3 ? null : c));
    row.st = { [fieldName]: 42, "*/": "star-slash" };
    const other: typeof row = { ...row, st: null };
    columns.forEach((c) => (other[c] = HOSTILE[5]!));
    const batch = batchFromRows(schema, [row, other] as never);
    const out = project(compiled, "out/1", batch);
    const fields = compiled.plan.nodes.find((n) => n.id === "out/1")!.schema.fields.map((f) => f.name);
    const value = (field: string, r: number) => out[fields.indexOf(field)]![r];
    columns.forEach((c, i) => {
      expect(value(`e${i}`, 0)).toBe(i === 3 ? null : c);
      expect(value(`q${i}`, 0)).toBe(i === 3 ? null : true);
      expect(value(`c${i}`, 0)).toBe(i === 3 ? null : c + HOSTILE[i]);
    });
    expect(value("f1", 0)).toBe(42);
    expect(value("f2", 0)).toBe("star-slash");
    expect(value("f1", 1)).toBe(null);
    expect(value("in1", 0)).toBe(false);
    expect(value("in1", 1)).toBe(true);
    expect(value("like1", 0)).toBe(true);
    expect(select(compiled, "kept/1", batch)).toEqual([1]);
    // The same over dictionary-encoded columns.
    const dictionary = withDictionaries(schema, [row, other] as never, columns);
    expect(project(compiled, "out/1", dictionary)).toEqual(out);
    expect(select(compiled, "kept/1", dictionary)).toEqual([1]);
  });

  it("an imported function from a path full of quotes is imported by that path and called", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "streamc-injection-"));
    const weird = `we"ird '\${dir}' */`;
    mkdirSync(path.join(dir, weird));
    writeFileSync(path.join(dir, weird, "f'n.ts"), "export function shout(s: string): string { return s.toUpperCase() + '!'; }\nexport const twice = (n: number | null): number => (n ?? 0) * 2;\n");
    const streamFile = path.join(dir, "p.stream");
    const text = [
      `import fn shout(s: string): string from ${literal(`./${weird}/f'n.ts`)}`,
      `import fn twice(n: int?): int from ${literal(`./${weird}/f'n.ts`)}`,
      `source t: { s: string?, n: int? } = files "d"`,
      "stream out = t | select a = shout(s), b = twice(n), c = shout(\"*/\")",
      "sink out -> console",
    ].join("\n");
    writeFileSync(streamFile, text);
    try {
      const compiled = await compile(text, streamFile);
      const batch = batchFromRows(compiled.plan.sources[0]!.schema, [{ s: "hi", n: 2 }, { s: null, n: null }]);
      expect(project(compiled, "out/1", batch)).toEqual([
        ["HI!", null],
        [4, 0],
        ["*/!", "*/!"],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
