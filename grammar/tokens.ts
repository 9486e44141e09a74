/**
 * Every token of the `.stream` language, defined once.
 *
 * Contract: the lexer (lexer.ts), the parser (parser.ts) and the generated TextMate grammar
 * (textmate.ts) all read this file; nothing else defines a keyword. A keyword added here is
 * highlighted without further work, because `textmate.ts` derives its rules from `allTokens`
 * and the categories below.
 *
 * Keywords are either reserved (they can never name a column; backticks escape them) or soft
 * (they carry the `Name` category, so the parser accepts them wherever a name is expected: a
 * column may be called `date`, `window` or `source`).
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

// ---- categories --------------------------------------------------------------------------
/** Anything the parser accepts as a name: identifiers, backtick names, soft keywords. */
export const Name = createToken({ name: "Name", pattern: Lexer.NA, label: "a name" });
/** Keywords, for highlighting: `keyword.control.stream`. */
export const KeywordCategory = createToken({ name: "Keyword", pattern: Lexer.NA });
/** Keywords that are operators in expressions (`and`, `or`, `not`, `in`, `is`, `like`): `keyword.operator.word.stream`. */
export const WordOperatorCategory = createToken({ name: "WordOperator", pattern: Lexer.NA });
/** Literal keywords (`true`, `false`, `null`): `constant.language.stream`. */
export const ConstantCategory = createToken({ name: "Constant", pattern: Lexer.NA });
/** Type names: `storage.type.stream`. */
export const TypeNameCategory = createToken({ name: "TypeName", pattern: Lexer.NA });
/** Symbolic operators: `keyword.operator.stream`. */
export const OperatorCategory = createToken({ name: "Operator", pattern: Lexer.NA });
/** Comparison operators, one precedence level. */
export const ComparisonOp = createToken({ name: "ComparisonOp", pattern: Lexer.NA, categories: [OperatorCategory], label: "a comparison" });
export const AdditiveOp = createToken({ name: "AdditiveOp", pattern: Lexer.NA, categories: [OperatorCategory], label: "`+` or `-`" });
export const MultiplicativeOp = createToken({ name: "MultiplicativeOp", pattern: Lexer.NA, categories: [OperatorCategory], label: "`*`, `/` or `%`" });

// ---- identifiers -------------------------------------------------------------------------
export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [Name],
  label: "a name",
});
/** `` `any name` ``; a backtick inside is written twice. */
export const BacktickName = createToken({
  name: "BacktickName",
  pattern: /`(?:[^`\r\n]|``)+`/,
  categories: [Name],
  label: "a name",
});

type KeywordKind = "reserved" | "soft";
type KeywordRole = "keyword" | "wordOperator" | "constant" | "typeName";

function keyword(word: string, kind: KeywordKind, role: KeywordRole = "keyword"): TokenType {
  const categories: TokenType[] = [];
  if (kind === "soft") categories.push(Name);
  categories.push(
    role === "keyword" ? KeywordCategory
      : role === "wordOperator" ? WordOperatorCategory
        : role === "constant" ? ConstantCategory
          : TypeNameCategory,
  );
  const tokenName = word
    .split("_")
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
  return createToken({
    name: tokenName,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories,
    label: `\`${word}\``,
  });
}

// ---- reserved keywords: expression syntax --------------------------------------------------
export const And = keyword("and", "reserved", "wordOperator");
export const Or = keyword("or", "reserved", "wordOperator");
export const Not = keyword("not", "reserved", "wordOperator");
export const In = keyword("in", "reserved", "wordOperator");
export const Is = keyword("is", "reserved", "wordOperator");
export const Like = keyword("like", "reserved", "wordOperator");
export const Null = keyword("null", "reserved", "constant");
export const True = keyword("true", "reserved", "constant");
export const False = keyword("false", "reserved", "constant");
export const Case = keyword("case", "reserved");
export const When = keyword("when", "reserved");
export const Then = keyword("then", "reserved");
export const Else = keyword("else", "reserved");
export const End = keyword("end", "reserved");
export const If = keyword("if", "reserved");
export const Cast = keyword("cast", "reserved");
export const As = keyword("as", "reserved");

// ---- soft keywords: declarations, transforms, tests ---------------------------------------
export const Pipeline = keyword("pipeline", "soft");
export const Schema = keyword("schema", "soft");
export const Source = keyword("source", "soft");
export const Stream = keyword("stream", "soft");
export const Sink = keyword("sink", "soft");
export const Import = keyword("import", "soft");
export const Fn = keyword("fn", "soft");
export const From = keyword("from", "soft");
export const Test = keyword("test", "soft");
export const Where = keyword("where", "soft");
export const Select = keyword("select", "soft");
export const Except = keyword("except", "soft");
export const Extend = keyword("extend", "soft");
export const Explode = keyword("explode", "soft");
export const Watermark = keyword("watermark", "soft");
export const Delay = keyword("delay", "soft");
export const Window = keyword("window", "soft");
export const Tumbling = keyword("tumbling", "soft");
export const Hopping = keyword("hopping", "soft");
export const Session = keyword("session", "soft");
export const Every = keyword("every", "soft");
export const Aggregate = keyword("aggregate", "soft");
export const By = keyword("by", "soft");
export const Dedup = keyword("dedup", "soft");
export const Within = keyword("within", "soft");
export const Join = keyword("join", "soft");
export const Left = keyword("left", "soft");
export const On = keyword("on", "soft");
export const Union = keyword("union", "soft");
export const Input = keyword("input", "soft");
export const Advance = keyword("advance", "soft");
export const To = keyword("to", "soft");
export const Expect = keyword("expect", "soft");

// ---- soft keywords: type names ------------------------------------------------------------
export const BoolType = keyword("bool", "soft", "typeName");
export const IntType = keyword("int", "soft", "typeName");
export const LongType = keyword("long", "soft", "typeName");
export const DoubleType = keyword("double", "soft", "typeName");
export const DecimalType = keyword("decimal", "soft", "typeName");
export const StringType = keyword("string", "soft", "typeName");
export const BytesType = keyword("bytes", "soft", "typeName");
export const DateType = keyword("date", "soft", "typeName");
export const TimestampType = keyword("timestamp", "soft", "typeName");
export const ListType = keyword("list", "soft", "typeName");
export const MapType = keyword("map", "soft", "typeName");
export const StructType = keyword("struct", "soft", "typeName");

// ---- literals -----------------------------------------------------------------------------
/** A whole number glued to a unit: `500ms 30s 10m 1h 7d`. */
export const DurationLiteral = createToken({
  name: "DurationLiteral",
  pattern: /[0-9][0-9_]*(?:ms|s|m|h|d)(?![A-Za-z0-9_])/,
  label: "a duration",
});
/** A whole number glued to a unit: `64kb 128mb 1gb`. */
export const SizeLiteral = createToken({
  name: "SizeLiteral",
  pattern: /[0-9][0-9_]*(?:b|kb|mb|gb|tb)(?![A-Za-z0-9_])/,
  label: "a size",
});
/** `42`, `1_000_000`, `3.14`, `1e-3`. */
export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9]+)?/,
  label: "a number",
});
/** `"..."` with `\" \\ \n \t \u{1F600}` escapes; escapes are validated when the AST is built. */
export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^"\\\r\n]|\\.)*"/,
  label: "a string",
});
/** A string that reaches the end of its line: reported with its own diagnostic. */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\r\n]|\\.)*\\?/,
  label: "an unterminated string",
});

// ---- comments and layout ------------------------------------------------------------------
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\r\n]*/, group: "comments" });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, line_breaks: true, group: "comments" });
export const UnterminatedBlockComment = createToken({
  name: "UnterminatedBlockComment",
  pattern: /\/\*[\s\S]*/,
  line_breaks: true,
  label: "an unterminated comment",
});
export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f]+/, group: Lexer.SKIPPED, line_breaks: true });

// ---- punctuation and operators ------------------------------------------------------------
export const Arrow = createToken({ name: "Arrow", pattern: /->/, categories: [OperatorCategory], label: "`->`" });
export const Coalesce = createToken({ name: "Coalesce", pattern: /\?\?/, categories: [OperatorCategory], label: "`??`" });
export const Question = createToken({ name: "Question", pattern: /\?/, label: "`?`" });
export const EqEq = createToken({ name: "EqEq", pattern: /==/, categories: [ComparisonOp], label: "`==`" });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/, categories: [ComparisonOp], label: "`!=`" });
export const LtEq = createToken({ name: "LtEq", pattern: /<=/, categories: [ComparisonOp], label: "`<=`" });
export const GtEq = createToken({ name: "GtEq", pattern: />=/, categories: [ComparisonOp], label: "`>=`" });
export const Lt = createToken({ name: "Lt", pattern: /</, categories: [ComparisonOp], label: "`<`" });
export const Gt = createToken({ name: "Gt", pattern: />/, categories: [ComparisonOp], label: "`>`" });
export const Equals = createToken({ name: "Equals", pattern: /=/, categories: [OperatorCategory], label: "`=`" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, categories: [AdditiveOp], label: "`+`" });
export const Minus = createToken({ name: "Minus", pattern: /-/, categories: [AdditiveOp], label: "`-`" });
export const Star = createToken({ name: "Star", pattern: /\*/, categories: [MultiplicativeOp], label: "`*`" });
export const Slash = createToken({ name: "Slash", pattern: /\//, categories: [MultiplicativeOp], label: "`/`" });
export const Percent = createToken({ name: "Percent", pattern: /%/, categories: [MultiplicativeOp], label: "`%`" });
export const Pipe = createToken({ name: "Pipe", pattern: /\|/, categories: [OperatorCategory], label: "`|`" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "`(`" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "`)`" });
export const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: "`{`" });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: "`}`" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "`[`" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "`]`" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "`,`" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "`:`" });
export const Dot = createToken({ name: "Dot", pattern: /\./, label: "`.`" });

/** Every keyword; `allTokens` orders them longest first so `in` never shadows `int`. */
export const keywordTokens: TokenType[] = [
  And, Or, Not, In, Is, Like, Null, True, False, Case, When, Then, Else, End, If, Cast, As,
  Pipeline, Schema, Source, Stream, Sink, Import, Fn, From, Test,
  Where, Select, Except, Extend, Explode, Watermark, Delay, Window, Tumbling, Hopping, Session, Every,
  Aggregate, By, Dedup, Within, Join, Left, On, Union, Input, Advance, To, Expect,
  BoolType, IntType, LongType, DoubleType, DecimalType, StringType, BytesType, DateType, TimestampType,
  ListType, MapType, StructType,
];

/** Categories: never produced by the lexer, but the parser and highlighter refer to them. */
export const categoryTokens: TokenType[] = [
  Name, KeywordCategory, WordOperatorCategory, ConstantCategory, TypeNameCategory,
  OperatorCategory, ComparisonOp, AdditiveOp, MultiplicativeOp,
];

/**
 * The lexer's token list, in matching order: comments before `/`, durations and sizes before
 * numbers, two-character operators before their one-character prefixes.
 */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedBlockComment,
  StringLiteral,
  UnterminatedString,
  BacktickName,
  DurationLiteral,
  SizeLiteral,
  NumberLiteral,
  ...[...keywordTokens].sort((a, b) => String(b.PATTERN).length - String(a.PATTERN).length),
  Identifier,
  Arrow,
  Coalesce,
  Question,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Pipe,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Dot,
  ...categoryTokens,
];
