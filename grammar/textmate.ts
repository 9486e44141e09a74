/**
 * The TextMate grammar of `.stream` files (scope `source.stream`), derived from `tokens.ts`.
 *
 * Contract: every rule that recognises a lexer token is built from that token's `PATTERN` or
 * from the category it carries, never from a second list of words: a keyword added to
 * `tokens.ts` is highlighted by the next `npm run vscode:grammar`, and the committed
 * `editors/vscode/syntaxes/stream.tmLanguage.json` is this module's output, byte for byte.
 *
 * Run as a script, `node --import tsx grammar/textmate.ts OUTFILE` writes the grammar to OUTFILE.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { Lexer, type TokenType } from "chevrotain";
import {
  allTokens,
  BacktickName,
  ConstantCategory,
  DurationLiteral,
  Identifier,
  KeywordCategory,
  LineComment,
  NumberLiteral,
  OperatorCategory,
  SizeLiteral,
  TypeNameCategory,
  WordOperatorCategory,
} from "./tokens.ts";

/** The scope of each highlighted kind of token; the tests and the grammar share these names. */
export const scopes = {
  lineComment: "comment.line.double-slash.stream",
  blockComment: "comment.block.stream",
  commentPunctuation: "punctuation.definition.comment.stream",
  string: "string.quoted.double.stream",
  stringBegin: "punctuation.definition.string.begin.stream",
  stringEnd: "punctuation.definition.string.end.stream",
  escape: "constant.character.escape.stream",
  invalidEscape: "invalid.illegal.escape.stream",
  duration: "constant.numeric.duration.stream",
  size: "constant.numeric.size.stream",
  number: "constant.numeric.stream",
  keyword: "keyword.control.stream",
  wordOperator: "keyword.operator.word.stream",
  constant: "constant.language.stream",
  typeName: "storage.type.stream",
  operator: "keyword.operator.stream",
  functionName: "entity.name.function.stream",
  quotedName: "variable.other.quoted.stream",
} as const;

/** Keyword categories of `tokens.ts` and the scope each one is highlighted with, in rule order. */
export const keywordCategoryScopes: ReadonlyArray<readonly [TokenType, string]> = [
  [KeywordCategory, scopes.keyword],
  [WordOperatorCategory, scopes.wordOperator],
  [ConstantCategory, scopes.constant],
  [TypeNameCategory, scopes.typeName],
];

/** Symbol tokens highlighted as `keyword.operator.stream`: those in `OperatorCategory`. */
export function isOperatorToken(tokenType: TokenType): boolean {
  return hasCategory(tokenType, OperatorCategory);
}

/** True when `category` is among `tokenType`'s categories, directly or through another category. */
export function hasCategory(tokenType: TokenType, category: TokenType): boolean {
  return (tokenType.CATEGORIES ?? []).some((parent) => parent === category || hasCategory(parent, category));
}

/** The highlighting rules of the `.stream` language as a TextMate grammar object (JSON-ready). */
export function generateTextMateGrammar(): object {
  const notAfterWordChar = "(?<![A-Za-z0-9_])";
  return {
    $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
    information_for_contributors: [
      "Generated from grammar/tokens.ts by grammar/textmate.ts; do not edit.",
      "Regenerate with `npm run vscode:grammar`.",
    ],
    name: "Stream",
    scopeName: "source.stream",
    fileTypes: ["stream"],
    patterns: [
      { include: "#comments" },
      { include: "#strings" },
      { include: "#quoted-names" },
      { include: "#numbers" },
      { include: "#keywords" },
      { include: "#function-calls" },
      { include: "#operators" },
    ],
    repository: {
      comments: {
        patterns: [
          {
            name: scopes.lineComment,
            match: patternSource(LineComment),
          },
          {
            name: scopes.blockComment,
            begin: "/\\*",
            end: "\\*/",
            beginCaptures: { "0": { name: scopes.commentPunctuation } },
            endCaptures: { "0": { name: scopes.commentPunctuation } },
          },
        ],
      },
      strings: {
        patterns: [
          {
            name: scopes.string,
            begin: "\"",
            end: "\"|$",
            beginCaptures: { "0": { name: scopes.stringBegin } },
            endCaptures: { "0": { name: scopes.stringEnd } },
            patterns: [
              { name: scopes.escape, match: "\\\\(?:[\"\\\\nt]|u\\{[0-9A-Fa-f]{1,6}\\})" },
              { name: scopes.invalidEscape, match: "\\\\." },
            ],
          },
        ],
      },
      "quoted-names": {
        patterns: [{ name: scopes.quotedName, match: patternSource(BacktickName) }],
      },
      numbers: {
        patterns: [
          { name: scopes.duration, match: notAfterWordChar + patternSource(DurationLiteral) },
          { name: scopes.size, match: notAfterWordChar + patternSource(SizeLiteral) },
          { name: scopes.number, match: notAfterWordChar + patternSource(NumberLiteral) },
        ],
      },
      keywords: {
        patterns: keywordCategoryScopes.map(([category, scope]) => ({
          name: scope,
          match: `\\b(?:${keywordWords(category).join("|")})\\b`,
        })),
      },
      "function-calls": {
        patterns: [
          {
            match: `\\b(${patternSource(Identifier)})(?=\\s*\\()`,
            captures: { "1": { name: scopes.functionName } },
          },
        ],
      },
      operators: {
        patterns: [
          {
            name: scopes.operator,
            match: lexedTokens().filter(isOperatorToken).map(patternSource).join("|"),
          },
        ],
      },
    },
  };
}

/** `generateTextMateGrammar()` as the committed file holds it: 2-space JSON and a final newline. */
export function textMateGrammarJson(): string {
  return `${JSON.stringify(generateTextMateGrammar(), null, 2)}\n`;
}

/**
 * The words of the lexer's keywords in `category`, in the lexer's matching order (longest first).
 * Throws when a keyword's pattern is not a plain word, since it could not be highlighted as one.
 */
export function keywordWords(category: TokenType): string[] {
  return lexedTokens()
    .filter((tokenType) => hasCategory(tokenType, category))
    .map((tokenType) => {
      const word = patternSource(tokenType);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(word)) {
        throw new Error(`keyword token ${tokenType.name} has pattern /${word}/, not a word`);
      }
      return word;
    });
}

/** The tokens the lexer can produce, in its matching order: `allTokens` without the categories. */
function lexedTokens(): TokenType[] {
  return allTokens.filter((tokenType) => tokenType.PATTERN !== Lexer.NA);
}

function patternSource(tokenType: TokenType): string {
  const pattern = tokenType.PATTERN;
  if (!(pattern instanceof RegExp)) {
    throw new Error(`token ${tokenType.name} has no RegExp pattern to highlight`);
  }
  return pattern.source;
}

const scriptPath = process.argv[1];
if (scriptPath !== undefined && import.meta.url === pathToFileURL(scriptPath).href) {
  const outFile = process.argv[2];
  if (outFile === undefined) {
    process.stderr.write("usage: node --import tsx grammar/textmate.ts OUTFILE\n");
    process.exit(2);
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, textMateGrammarJson());
}
