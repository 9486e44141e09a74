import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tokenMatcher, type TokenType } from "chevrotain";
import { describe, expect, it } from "vitest";
import oniguruma from "vscode-oniguruma";
import textmate from "vscode-textmate";
import { tokenize } from "../../grammar/lexer.ts";
import { generateTextMateGrammar, textMateGrammarJson } from "../../grammar/textmate.ts";
import {
  Arrow,
  BacktickName,
  BlockComment,
  ConstantCategory,
  DurationLiteral,
  Identifier,
  KeywordCategory,
  keywordTokens,
  LineComment,
  LParen,
  NumberLiteral,
  OperatorCategory,
  SizeLiteral,
  StringLiteral,
  TypeNameCategory,
  UnterminatedBlockComment,
  UnterminatedString,
  WordOperatorCategory,
} from "../../grammar/tokens.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const grammarPath = join(root, "editors/vscode/syntaxes/stream.tmLanguage.json");
const examplesDir = join(root, "examples");

const keywordScopes: ReadonlyArray<readonly [TokenType, string]> = [
  [KeywordCategory, "keyword.control.stream"],
  [WordOperatorCategory, "keyword.operator.word.stream"],
  [ConstantCategory, "constant.language.stream"],
  [TypeNameCategory, "storage.type.stream"],
];

/** What the grammar must say about a lexer token: its scope, and whether other scopes may nest in it. */
const tokenScopes: ReadonlyArray<readonly [TokenType, string, "atomic" | "nested"]> = [
  ...keywordScopes.map(([category, scope]) => [category, scope, "atomic"] as const),
  [OperatorCategory, "keyword.operator.stream", "atomic"],
  [Arrow, "keyword.operator.stream", "atomic"],
  [DurationLiteral, "constant.numeric.duration.stream", "atomic"],
  [SizeLiteral, "constant.numeric.size.stream", "atomic"],
  [NumberLiteral, "constant.numeric.stream", "atomic"],
  [BacktickName, "variable.other.quoted.stream", "atomic"],
  [StringLiteral, "string.quoted.double.stream", "nested"],
  [UnterminatedString, "string.quoted.double.stream", "nested"],
  [LineComment, "comment.line.double-slash.stream", "atomic"],
  [BlockComment, "comment.block.stream", "nested"],
  [UnterminatedBlockComment, "comment.block.stream", "nested"],
];

let grammarLoad: Promise<textmate.IGrammar> | undefined;

/** The committed grammar file, loaded into vscode-textmate with the Oniguruma engine VS Code uses. */
function committedGrammar(): Promise<textmate.IGrammar> {
  grammarLoad ??= (async () => {
    const wasm = readFileSync(join(root, "node_modules/vscode-oniguruma/release/onig.wasm"));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (text: string) => new oniguruma.OnigString(text),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === "source.stream" ? textmate.parseRawGrammar(readFileSync(grammarPath, "utf8"), grammarPath) : null,
    });
    const grammar = await registry.loadGrammar("source.stream");
    if (grammar === null) throw new Error(`could not load ${grammarPath}`);
    return grammar;
  })();
  return grammarLoad;
}

/** `text` tokenized line by line as VS Code does: the scopes of each character (none for a newline). */
interface Highlighted {
  text: string;
  scopes: string[][];
  /** Start offset of each TextMate token, so a test can tell one token from two adjacent ones. */
  tokenStarts: Set<number>;
}

async function highlight(text: string): Promise<Highlighted> {
  const grammar = await committedGrammar();
  const scopes: string[][] = [];
  const tokenStarts = new Set<number>();
  let ruleStack = textmate.INITIAL;
  let lineStart = 0;
  for (const line of text.split("\n")) {
    const result = grammar.tokenizeLine(line, ruleStack);
    expect(result.stoppedEarly, `tokenizing stopped early on ${JSON.stringify(line)}`).toBe(false);
    for (const token of result.tokens) {
      tokenStarts.add(lineStart + token.startIndex);
      for (let index = token.startIndex; index < Math.min(token.endIndex, line.length); index++) {
        scopes[lineStart + index] = token.scopes;
      }
    }
    scopes[lineStart + line.length] = [];
    ruleStack = result.ruleStack;
    lineStart += line.length + 1;
  }
  return { text, scopes, tokenStarts };
}

/**
 * The scopes of the `nth` occurrence of `needle` (not inside a longer word), which the grammar must
 * have highlighted as exactly one token, or left unscoped throughout.
 */
function scopesOf(highlighted: Highlighted, needle: string, nth = 0): string[] {
  return spanScopes(highlighted, occurrence(highlighted.text, needle, nth), needle);
}

function spanScopes(highlighted: Highlighted, start: number, needle: string): string[] {
  const end = start + needle.length;
  const scopes = highlighted.scopes[start]!;
  for (let offset = start + 1; offset < end; offset++) {
    expect(highlighted.scopes[offset], `${needle} is split into several tokens`).toEqual(scopes);
  }
  if (scopes.length === 1) return scopes;
  expect(highlighted.tokenStarts.has(start), `${needle} starts inside a token`).toBe(true);
  for (let offset = start + 1; offset < end; offset++) {
    expect(highlighted.tokenStarts.has(offset), `${needle} is split into several tokens`).toBe(false);
  }
  const nextIsNewToken = end >= highlighted.text.length || highlighted.tokenStarts.has(end) || highlighted.text[end] === "\n";
  expect(nextIsNewToken, `${needle} runs on into the next characters`).toBe(true);
  return scopes;
}

/** The scopes of every character of the `nth` occurrence of `needle`, for text that is not one token. */
function scopesAcross(highlighted: Highlighted, needle: string, nth = 0): string[][] {
  const start = occurrence(highlighted.text, needle, nth);
  return highlighted.scopes.slice(start, start + needle.length);
}

function occurrence(text: string, needle: string, nth: number): number {
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const before = /^\w/.test(needle) ? "(?<!\\w)" : "";
  const after = /\w$/.test(needle) ? "(?!\\w)" : "";
  const matches = [...text.matchAll(new RegExp(before + escaped + after, "g"))];
  const match = matches[nth];
  if (match === undefined) throw new Error(`the snippet has no occurrence ${nth} of ${needle}`);
  return match.index;
}

/**
 * Lexes `text` with the project's lexer and highlights it with the committed grammar, and returns one
 * line per lexer token that the grammar scopes differently from what the token's type says, or that
 * it splits or merges with a neighbour when the token has a scope of its own.
 */
async function disagreements(text: string): Promise<string[]> {
  const highlighted = await highlight(text);
  const { tokens, comments } = tokenize(text);
  const found: string[] = [];
  const all = [...tokens, ...comments].sort((a, b) => a.startOffset - b.startOffset);
  for (const [index, token] of all.entries()) {
    const next = all[index + 1];
    const rule = tokenScopes.find(([tokenType]) => tokenMatcher(token, tokenType));
    const isCall = tokenMatcher(token, Identifier) && next !== undefined && tokenMatcher(next, LParen) && next.startLine === token.startLine;
    const where = `${token.startLine}:${token.startColumn} ${JSON.stringify(token.image)} (${token.tokenType.name})`;
    for (let offset = token.startOffset; offset <= token.endOffset!; offset++) {
      if (text[offset] === "\n") continue;
      const scopes = highlighted.scopes[offset] ?? [];
      const ok = rule !== undefined
        ? rule[2] === "atomic" ? sameScopes(scopes, ["source.stream", rule[1]]) : scopes.includes(rule[1])
        : isCall ? sameScopes(scopes, ["source.stream", "entity.name.function.stream"])
          : sameScopes(scopes, ["source.stream"]);
      if (!ok) {
        const wanted = rule?.[1] ?? (isCall ? "entity.name.function.stream" : "no scope");
        found.push(`${where}: wanted ${wanted}, got [${scopes.join(", ")}] at column ${offset - lineStartOf(text, offset) + 1}`);
        break;
      }
    }
    if (rule?.[2] === "atomic" || isCall) {
      const inner = Array.from({ length: token.endOffset! - token.startOffset }, (_, i) => token.startOffset + i + 1);
      const splitAt = inner.find((offset) => highlighted.tokenStarts.has(offset));
      if (!highlighted.tokenStarts.has(token.startOffset) || splitAt !== undefined) {
        found.push(`${where}: the grammar does not highlight it as one token`);
      }
    }
  }
  return found;
}

function sameScopes(actual: string[], expected: string[]): boolean {
  return actual.length === expected.length && actual.every((scope, index) => scope === expected[index]);
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function exampleFiles(): string[] {
  if (!existsSync(examplesDir)) return [];
  return readdirSync(examplesDir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".stream"))
    .sort();
}

function normalized(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

const snippet = `pipeline revenue {
  checkpoint = "checkpoints/\\"rev\\" \\\\ \\n \\t \\u{1F600}"
  trigger    = every 30s
  max_bytes  = 64kb
  retries    = 1_000, ratio = 3.14, tiny = 1e-3
}

schema Order { amount: double, country: string?, ts: timestamp, tags: list<string>? }

stream paid = orders
  | where amount > 0 and country is not null and andrew != \`event-type\`
  | where flag == true or flag == false or code in ("a", "b") or name like "x%" or (a * 2) / 3 % 4 + 1 - 2 <= 9
  | extend label = country ?? "none", big = if(amount >= 10, upper(country), null), t = timestamp "2024-01-01T00:00:00Z"
  | watermark ts delay 500ms
  | window tumbling 10m /* trailing */
  | aggregate n = count(), total = sum(amount) by country

sink paid -> console { rows = 20 }

test "late rows" {
  input orders [ { amount: 5.0, ts: timestamp "2024-01-01T00:01:00Z" } ]
  advance watermark to timestamp "2024-01-01T01:00:00Z"
  expect paid []
}

// Revenue per country, 10-minute windows: where and 10m stay comment
/* a block comment
   with "quotes", where and 30s */
`;

describe("the generated grammar file", () => {
  it("is what grammar/textmate.ts generates", () => {
    const committed = readFileSync(grammarPath, "utf8");
    const stale = "editors/vscode/syntaxes/stream.tmLanguage.json is stale: run `npm run vscode:grammar`";
    expect(JSON.parse(committed), stale).toEqual(generateTextMateGrammar());
    expect(committed, stale).toBe(textMateGrammarJson());
  });

  it("has a rule for every keyword the lexer knows", async () => {
    const grammar = generateTextMateGrammar() as {
      repository: { keywords: { patterns: Array<{ name: string; match: string }> } };
    };
    for (const keyword of keywordTokens) {
      const word = (keyword.PATTERN as RegExp).source;
      const scope = keywordScopes.find(([category]) => keyword.CATEGORIES?.includes(category))?.[1];
      expect(scope, `${keyword.name} has no highlighting category`).toBeDefined();
      const rules = grammar.repository.keywords.patterns.filter((rule) => new RegExp(rule.match).test(word));
      expect(rules.map((rule) => rule.name), `rules matching ${word}`).toEqual([scope]);

      const highlighted = await highlight(`x ${word} y ${word}_x x${word} ${word}(`);
      expect(scopesOf(highlighted, word), word).toEqual(["source.stream", scope]);
      expect(scopesOf(highlighted, `${word}_x`), `${word}_x`).toEqual(["source.stream"]);
      expect(scopesOf(highlighted, `x${word}`), `x${word}`).toEqual(["source.stream"]);
      expect(scopesOf(highlighted, word, 1), `${word}(`).toEqual(["source.stream", scope]);
    }
  });
});

describe("highlighting a snippet", () => {
  it("scopes keywords, word operators, constants and type names", async () => {
    const h = await highlight(snippet);
    const controlKeywords = [
      "pipeline", "schema", "stream", "where", "extend", "watermark", "delay", "window", "tumbling",
      "aggregate", "by", "every", "if", "sink", "test", "input", "advance", "to", "expect",
    ];
    for (const word of controlKeywords) {
      expect(scopesOf(h, word), word).toEqual(["source.stream", "keyword.control.stream"]);
    }
    for (const word of ["and", "or", "is", "not", "in", "like"]) {
      expect(scopesOf(h, word), word).toEqual(["source.stream", "keyword.operator.word.stream"]);
    }
    for (const word of ["true", "false", "null"]) {
      expect(scopesOf(h, word), word).toEqual(["source.stream", "constant.language.stream"]);
    }
    for (const word of ["double", "string", "timestamp", "list"]) {
      expect(scopesOf(h, word), word).toEqual(["source.stream", "storage.type.stream"]);
    }
    expect(scopesOf(h, "timestamp", 1), "typed literal").toEqual(["source.stream", "storage.type.stream"]);
  });

  it("gives identifiers that contain keywords no scope", async () => {
    const h = await highlight(snippet);
    for (const word of ["andrew", "amount", "country", "orders", "revenue", "flag", "label", "checkpoint", "max_bytes"]) {
      expect(scopesOf(h, word), word).toEqual(["source.stream"]);
    }
  });

  it("scopes strings and their escapes", async () => {
    const h = await highlight(snippet);
    const literal = String.raw`"checkpoints/\"rev\" \\ \n \t \u{1F600}"`;
    for (const scopes of scopesAcross(h, literal)) expect(scopes).toContain("string.quoted.double.stream");
    for (const escape of [String.raw`\"`, String.raw`\\`, String.raw`\n`, String.raw`\t`, String.raw`\u{1F600}`]) {
      expect(scopesOf(h, escape), escape).toEqual(["source.stream", "string.quoted.double.stream", "constant.character.escape.stream"]);
    }
    expect(scopesOf(h, "checkpoints/")).toEqual(["source.stream", "string.quoted.double.stream"]);
    for (const scopes of scopesAcross(h, `"x%"`)) expect(scopes).toContain("string.quoted.double.stream");
    for (const scopes of scopesAcross(h, `"2024-01-01T00:00:00Z"`)) expect(scopes).toContain("string.quoted.double.stream");
  });

  it("scopes numbers, durations and sizes", async () => {
    const h = await highlight(snippet);
    for (const duration of ["30s", "500ms", "10m"]) {
      expect(scopesOf(h, duration), duration).toEqual(["source.stream", "constant.numeric.duration.stream"]);
    }
    expect(scopesOf(h, "64kb")).toEqual(["source.stream", "constant.numeric.size.stream"]);
    for (const number of ["1_000", "3.14", "1e-3", "20"]) {
      expect(scopesOf(h, number), number).toEqual(["source.stream", "constant.numeric.stream"]);
    }
  });

  it("scopes line and block comments, and nothing inside them", async () => {
    const h = await highlight(snippet);
    const line = "// Revenue per country, 10-minute windows: where and 10m stay comment";
    expect(scopesOf(h, line)).toEqual(["source.stream", "comment.line.double-slash.stream"]);
    const block = `/* a block comment\n   with "quotes", where and 30s */`;
    for (const scopes of scopesAcross(h, block)) {
      if (scopes.length > 0) expect(scopes).toContain("comment.block.stream");
    }
    expect(scopesOf(h, "   with \"quotes\", where and 30s ")).toEqual(["source.stream", "comment.block.stream"]);
    expect(scopesOf(h, " trailing ")).toEqual(["source.stream", "comment.block.stream"]);
  });

  it("scopes symbol operators", async () => {
    const operators = ["->", "??", "==", "!=", "<=", ">=", "<", ">", "=", "+", "-", "*", "/", "%", "|"];
    const h = await highlight(operators.map((operator) => `x ${operator} `).join(""));
    let offset = 2;
    for (const operator of operators) {
      expect(spanScopes(h, offset, operator), operator).toEqual(["source.stream", "keyword.operator.stream"]);
      offset += operator.length + 3;
    }
    const optional = await highlight("country: string?, tags: list<string>?");
    expect(scopesOf(optional, "?"), "an optional type's ?").toEqual(["source.stream"]);
    expect(scopesOf(optional, "<"), "list<").toEqual(["source.stream", "keyword.operator.stream"]);
  });

  it("scopes function calls and backtick names", async () => {
    const h = await highlight(snippet);
    for (const name of ["count", "upper", "sum"]) {
      expect(scopesOf(h, name), name).toEqual(["source.stream", "entity.name.function.stream"]);
    }
    expect(scopesOf(h, "`event-type`")).toEqual(["source.stream", "variable.other.quoted.stream"]);
    const quotedKeyword = await highlight("select `where`, `a``b` from x");
    expect(scopesOf(quotedKeyword, "`where`")).toEqual(["source.stream", "variable.other.quoted.stream"]);
    expect(scopesOf(quotedKeyword, "`a``b`")).toEqual(["source.stream", "variable.other.quoted.stream"]);
  });

  it("agrees with the lexer on every token", async () => {
    expect(await disagreements(snippet)).toEqual([]);
  });

  it("agrees with the lexer on unterminated strings and comments and on words glued to numbers", async () => {
    const edgeCases = [
      `x = "no end`,
      `y = 1.5s + 2.5h + x1 + 1e5m + 10mb + 7d + 1b`,
      `a.window + b.date(1) + index + interval + to_date(x) + count (x)`,
      `z = 1 /* never closed`,
      `  and where 10m "still a comment"`,
    ].join("\n");
    expect(await disagreements(edgeCases)).toEqual([]);
  });
});

describe("highlighting the examples", () => {
  const files = exampleFiles();

  it("has the examples to check", () => {
    expect(files.length, `.stream files under examples/: ${files.join(", ")}`).toBeGreaterThanOrEqual(6);
  });

  it.each(files)("agrees with the lexer on examples/%s", async (file) => {
    const text = normalized(readFileSync(join(examplesDir, file), "utf8"));
    expect(await disagreements(text)).toEqual([]);
  });
});
