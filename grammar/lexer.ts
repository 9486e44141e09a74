/**
 * The `.stream` lexer: one reused Chevrotain `Lexer` over `allTokens`.
 *
 * Contract: `tokenize` never throws. Characters no token matches come back as `LexProblem`s
 * with their position; comments come back in `comments` (the parser ignores them).
 */
import { Lexer, type IToken } from "chevrotain";
import { allTokens } from "./tokens.ts";

export const streamLexer = new Lexer(allTokens, {
  positionTracking: "full",
  // Lines end at `\n` (so `\r\n` too), as `formatDiagnostics` counts them: with Chevrotain's default a
  // lone `\r` starts a line here and not there, and the caret is printed under the wrong line.
  lineTerminatorsPattern: /\n/g,
  lineTerminatorCharacters: ["\n"],
  ensureOptimizations: true,
  // Token categories are vocabulary, not patterns.
  skipValidations: false,
});

/** A run of characters that no token matches. */
export interface LexProblem {
  offset: number;
  length: number;
  line: number;
  column: number;
  text: string;
}

export interface LexResult {
  tokens: IToken[];
  comments: IToken[];
  problems: LexProblem[];
}

export function tokenize(text: string): LexResult {
  const result = streamLexer.tokenize(text);
  return {
    tokens: result.tokens,
    comments: result.groups["comments"] ?? [],
    problems: result.errors.map((error) => ({
      offset: error.offset,
      length: error.length,
      line: error.line ?? 1,
      column: error.column ?? 1,
      text: text.substr(error.offset, error.length),
    })),
  };
}
