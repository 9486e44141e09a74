/**
 * Deterministic mutations of `.stream` text for the robustness test.
 *
 * Contract: every function here is a pure function of its arguments and the PRNG it is given, so a
 * case is reproduced by its seed alone. Mutations work on the TEXT, at the offsets the project's
 * lexer reports, so the mutated text is what a user could have typed.
 */
import type { IToken } from "chevrotain";
import { tokenize } from "../../grammar/lexer.ts";
import { allTokens } from "../../grammar/tokens.ts";

/** A PRNG returning floats in [0, 1); mulberry32, small and good enough to spread cases. */
export type Random = () => number;

export { prng as mulberry32 } from "../support/prng.ts";

/** Mixes numbers into one 32-bit seed, so that (base, group, index) name a case. */
export function seedOf(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return h >>> 0;
}

export function intBelow(random: Random, n: number): number {
  return Math.floor(random() * n);
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[intBelow(random, items.length)]!;
}

/** A token of the source as offsets into its text. */
export interface TextToken {
  start: number;
  end: number;
  image: string;
}

export function textTokens(text: string): TextToken[] {
  return tokenize(text).tokens.map((token: IToken) => ({ start: token.startOffset, end: token.startOffset + token.image.length, image: token.image }));
}

/**
 * Every fixed spelling in the token list (keywords and punctuation), read from the tokens' labels
 * (`` `->` ``, `` `where` ``), so a token added to the language is fuzzed without editing this file.
 */
export const fixedTokenTexts: readonly string[] = [
  ...new Set(
    allTokens
      .map((tokenType) => /^`([^`]+)`$/.exec(tokenType.LABEL ?? "")?.[1])
      .filter((text): text is string => text !== undefined),
  ),
];

/** Texts that stress the lexer and the literal rules rather than the grammar. */
export const hazardTexts: readonly string[] = [
  '"', '"open', '"\\', '"\\q"', '"\\u{110000}"', '"\\u{D800}"', '"\\u{"', "/*", "*/", "//", "`", "``", "`a``b`",
  "#", "@", "$", "&", "!", "'", ";", "\\", "\u0000", "\u00e9", "\ud83d", "\ud83d\ude00", "\u2028", "\r", "\t", "\n\n",
  "0", "1_", "1__0", "1._5", "1e", "1e+", "1e999", "0.5.5", "99999999999999999999", "-9223372036854775809",
  "9999999999999999999999d", "99999999999tb", "10m", "5s", "1kb", "_", "__", "a.b.c", "x[0]", "f()", "f(*)",
  'timestamp "nope"', 'date "2024-02-30"', "decimal(99, 100)", "decimal(0, 0)", "list<", "map<int, string>", "struct {",
  "case when", "if(", "cast(", "except (", "window tumbling", "watermark ts delay", "advance watermark to",
];

export interface Mutation {
  text: string;
  /** What was done, with offsets and the texts involved, for a failure message. */
  description: string;
}

/**
 * Names that user text must be able to carry without harm: regular-expression and replacement
 * syntax, escapes, and the names of `Object.prototype`'s members (a lookup in a plain object finds them).
 */
export const hostileNames: readonly string[] = [
  "`a(b`", "`[x`", "`*`", "`a|b`", "`\\`", "`$&`", "`$1`", "`a``b`", "`-->`", "`\"`", "` `", "`\u00e9t\u00e9`",
  "constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "prototype", "`__proto__`", "`constructor`",
];

export type MutationKind = "delete" | "duplicate" | "swap" | "replace" | "insert" | "rename" | "splice" | "truncateAtToken" | "truncateAtChar" | "stacked";

export const mutationKinds: readonly MutationKind[] = ["delete", "duplicate", "swap", "replace", "insert", "rename", "splice", "truncateAtToken", "truncateAtChar", "stacked"];

const show = (s: string): string => JSON.stringify(s.length > 40 ? s.slice(0, 37) + "..." : s);

/** Applies one mutation of `kind` to `text`, choosing where and what with `random`; `splice` takes its slice from `donors`. */
export function mutate(text: string, kind: MutationKind, random: Random, donors: readonly string[] = [text]): Mutation {
  const tokens = textTokens(text);
  if (tokens.length < 2 && kind !== "truncateAtChar") return mutate(text, "truncateAtChar", random);
  switch (kind) {
    case "delete": {
      const i = intBelow(random, tokens.length);
      const tok = tokens[i]!;
      return { text: text.slice(0, tok.start) + text.slice(tok.end), description: `delete token #${i} ${show(tok.image)} at ${tok.start}` };
    }
    case "duplicate": {
      const i = intBelow(random, tokens.length);
      const tok = tokens[i]!;
      return { text: text.slice(0, tok.end) + " " + tok.image + text.slice(tok.end), description: `duplicate token #${i} ${show(tok.image)} at ${tok.start}` };
    }
    case "swap": {
      const i = intBelow(random, tokens.length - 1);
      const a = tokens[i]!;
      const b = tokens[i + 1]!;
      return {
        text: text.slice(0, a.start) + b.image + text.slice(a.end, b.start) + a.image + text.slice(b.end),
        description: `swap tokens #${i} ${show(a.image)} at ${a.start} and #${i + 1} ${show(b.image)} at ${b.start}`,
      };
    }
    case "replace": {
      const i = intBelow(random, tokens.length);
      const tok = tokens[i]!;
      const other = pick(random, tokens);
      return { text: text.slice(0, tok.start) + other.image + text.slice(tok.end), description: `replace token #${i} ${show(tok.image)} at ${tok.start} with ${show(other.image)}` };
    }
    case "insert": {
      const at = intBelow(random, tokens.length + 1);
      const offset = at < tokens.length ? tokens[at]!.start : text.length;
      const inserted = random() < 0.75 ? pick(random, fixedTokenTexts) : pick(random, hazardTexts);
      const glue = random() < 0.5 ? " " : "";
      return { text: text.slice(0, offset) + inserted + glue + text.slice(offset), description: `insert ${show(inserted + glue)} before token #${at} at ${offset}` };
    }
    case "rename": {
      // Every occurrence, so that a renamed declaration is still referred to and checking goes deep.
      const names = tokens.filter((tok) => /^[A-Za-z_]/.test(tok.image));
      if (names.length === 0) return mutate(text, "replace", random);
      const from = pick(random, names).image;
      const to = pick(random, hostileNames);
      let out = "";
      let at = 0;
      for (const tok of tokens) {
        if (tok.image !== from) continue;
        out += text.slice(at, tok.start) + to;
        at = tok.end;
      }
      return { text: out + text.slice(at), description: `rename every ${show(from)} to ${show(to)}` };
    }
    case "splice": {
      // A run of another program's tokens, so that declarations meet others they were not written with.
      const donor = pick(random, donors);
      const donorTokens = textTokens(donor);
      if (donorTokens.length === 0) return mutate(text, "replace", random);
      const from = intBelow(random, donorTokens.length);
      const to = Math.min(donorTokens.length - 1, from + intBelow(random, 60));
      const slice = donor.slice(donorTokens[from]!.start, donorTokens[to]!.end);
      const at = intBelow(random, tokens.length + 1);
      const offset = at < tokens.length ? tokens[at]!.start : text.length;
      return { text: text.slice(0, offset) + slice + "\n" + text.slice(offset), description: `splice ${show(slice)} (${to - from + 1} tokens) before token #${at} at ${offset}` };
    }
    case "truncateAtToken": {
      const tok = pick(random, tokens);
      const atStart = random() < 0.5;
      const offset = atStart ? tok.start : tok.end;
      return { text: text.slice(0, offset), description: `truncate at ${offset}, the ${atStart ? "start" : "end"} of token ${show(tok.image)}` };
    }
    case "truncateAtChar": {
      const offset = intBelow(random, text.length + 1);
      return { text: text.slice(0, offset), description: `truncate at character ${offset} of ${text.length}` };
    }
    case "stacked": {
      const count = 2 + intBelow(random, 4);
      const steps: string[] = [];
      let current = text;
      for (let k = 0; k < count; k++) {
        const step = mutate(current, pick(random, ["delete", "duplicate", "swap", "replace", "insert", "rename", "splice"] as const), random, donors);
        current = step.text;
        steps.push(step.description);
      }
      return { text: current, description: `stacked: ${steps.join("; then ")}` };
    }
  }
}

/** `length` random bytes read as Latin-1, so every byte value 0..255 becomes one character. */
export function randomBytes(random: Random, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(intBelow(random, 256));
  return s;
}

/** `length` random UTF-16 code units, lone surrogates included. */
export function randomCodeUnits(random: Random, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(intBelow(random, 0x10000));
  return s;
}

/** Tokens from `vocabulary` joined by random layout: a program-shaped soup without a grammar. */
export function tokenSoup(random: Random, vocabulary: readonly string[], count: number): string {
  const layout = [" ", " ", " ", "\n", "\n  | ", "\t", ""];
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(pick(random, vocabulary), pick(random, layout));
  return parts.join("");
}
