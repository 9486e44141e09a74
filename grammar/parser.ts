/**
 * The `.stream` grammar: one reused Chevrotain `CstParser`.
 *
 * Contract: the grammar is deliberately wider than the legal language (any expression where a
 * column is expected, unnamed aggregate items, unknown type names, any option name) so that the
 * checker, not the parser, says what is wrong in words a user understands. Error recovery is on:
 * `parse` always returns a CST, possibly with recovered (partial) nodes, and never throws on input.
 */
import { CstParser, Lexer, tokenMatcher, type CstNode, type IOrAlt, type IParserErrorMessageProvider, type IRecognitionException, type IToken, type OrMethodOpts, type TokenType } from "chevrotain";
import * as t from "./tokens.ts";

/** The keywords that start a declaration. */
export const declarationStarts: readonly TokenType[] = [t.Pipeline, t.Schema, t.Source, t.Stream, t.Sink, t.Import, t.Test];

const strayAlternatives: TokenType[] = t.allTokens.filter(
  (tokenType) =>
    tokenType.PATTERN !== Lexer.NA &&
    tokenType.GROUP === undefined &&
    !declarationStarts.includes(tokenType),
);

/**
 * What a parse error knows, carried from Chevrotain's message hooks to the AST builder as JSON in
 * the exception's message (the hooks can only return strings).
 */
export interface ParseErrorDetail {
  /** Labels of the tokens that would have been accepted, e.g. "`)`", "a name". */
  expected: string[];
  /** The grammar rule that failed, e.g. "transform", "typeExpr". */
  rule: string;
}

function labelOf(tokenType: TokenType): string {
  return tokenType.LABEL ?? tokenType.name;
}

function detail(expected: TokenType[], rule: string): string {
  const labels = [...new Set(expected.map(labelOf))];
  return JSON.stringify({ expected: labels, rule } satisfies ParseErrorDetail);
}

const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, ruleName }) => detail([expected], ruleName),
  buildNotAllInputParsedMessage: ({ ruleName }) => detail([], ruleName),
  buildNoViableAltMessage: ({ expectedPathsPerAlt, ruleName }) =>
    detail(expectedPathsPerAlt.flatMap((paths) => paths.map((path) => path[0]!)).filter(Boolean), ruleName),
  buildEarlyExitMessage: ({ expectedIterationPaths, ruleName }) =>
    detail(expectedIterationPaths.map((path) => path[0]!).filter(Boolean), ruleName),
};

class StreamParser extends CstParser {
  /**
   * Each `OR`'s alternatives, built on its first call and reused: Chevrotain reads them on every
   * call, and a fresh array of closures per call (several `OR`s deep for every operand) cost about
   * 40% of the parse time under tsx, which also names each closure. Keyed by rule, then by order.
   */
  private readonly alternatives: Record<string, IOrAlt<unknown>[] | OrMethodOpts<unknown>> = {};

  constructor() {
    super(t.allTokens, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: "full", errorMessageProvider });
    this.performSelfAnalysis();
  }

  program = this.RULE("program", () => {
    this.MANY(() => {
      this.OR(this.alternatives["program"] ??= [
        { ALT: () => this.SUBRULE(this.declaration) },
        { ALT: () => this.SUBRULE(this.strayToken) },
      ]);
    });
  });

  /** A token where a declaration should start: kept so that parsing goes on to the next declaration. */
  strayToken = this.RULE("strayToken", () => {
    this.OR(this.alternatives["strayToken"] ??= strayAlternatives.map((tokenType) => ({ ALT: () => this.CONSUME(tokenType) })));
  });

  declaration = this.RULE("declaration", () => {
    this.OR(this.alternatives["declaration"] ??= [
      { ALT: () => this.SUBRULE(this.pipelineDecl) },
      { ALT: () => this.SUBRULE(this.schemaDecl) },
      { ALT: () => this.SUBRULE(this.sourceDecl) },
      { ALT: () => this.SUBRULE(this.streamDecl) },
      { ALT: () => this.SUBRULE(this.sinkDecl) },
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.testDecl) },
    ]);
  });

  pipelineDecl = this.RULE("pipelineDecl", () => {
    this.CONSUME(t.Pipeline);
    this.SUBRULE(this.name);
    this.SUBRULE(this.optionBlock);
  });

  schemaDecl = this.RULE("schemaDecl", () => {
    this.CONSUME(t.Schema);
    this.SUBRULE(this.name);
    this.SUBRULE(this.fieldBlock);
  });

  fieldBlock = this.RULE("fieldBlock", () => {
    this.CONSUME(t.LBrace);
    this.MANY({ GATE: () => !this.startsDeclaration(), DEF: () => {
      this.SUBRULE(this.fieldDecl);
      this.OPTION(() => this.CONSUME(t.Comma));
    } });
    this.CONSUME(t.RBrace);
  });

  fieldDecl = this.RULE("fieldDecl", () => {
    this.SUBRULE(this.name);
    // `name = type` is wrong (the AST builder reports it) but read on as if it were `:`.
    this.OR(this.alternatives["fieldDecl"] ??= [{ ALT: () => this.CONSUME(t.Colon) }, { ALT: () => this.CONSUME(t.Equals) }]);
    this.SUBRULE(this.typeExpr);
  });

  sourceDecl = this.RULE("sourceDecl", () => {
    this.CONSUME(t.Source);
    this.SUBRULE(this.name, { LABEL: "sourceName" });
    this.CONSUME(t.Colon);
    this.OR(this.alternatives["sourceDecl"] ??= [
      { ALT: () => this.SUBRULE(this.fieldBlock) },
      { ALT: () => this.SUBRULE2(this.name, { LABEL: "schemaName" }) },
    ]);
    this.CONSUME(t.Equals);
    this.SUBRULE3(this.name, { LABEL: "connector" });
    this.OPTION({ GATE: () => this.startsTarget(), DEF: () => this.SUBRULE(this.target) });
    this.OPTION2(() => this.SUBRULE(this.optionBlock));
  });

  /**
   * Whether a target follows the connector: `"path"` or `name(`. One token of lookahead is not
   * enough, because the next declaration (`stream x = ...`) also starts with a name.
   */
  private startsTarget(): boolean {
    const next = this.LA(1).tokenType;
    return next === t.StringLiteral || (tokenMatcher(this.LA(1), t.Name) && this.LA(2).tokenType === t.LParen);
  }

  /** `"path"` or `env("NAME", "default")` after a connector. */
  target = this.RULE("target", () => {
    this.OR(this.alternatives["target"] ??= [
      { ALT: () => this.CONSUME(t.StringLiteral) },
      { ALT: () => this.SUBRULE(this.callExpr) },
    ]);
  });

  streamDecl = this.RULE("streamDecl", () => {
    this.CONSUME(t.Stream);
    this.SUBRULE(this.name, { LABEL: "streamName" });
    this.CONSUME(t.Equals);
    this.SUBRULE2(this.name, { LABEL: "input" });
    this.MANY(() => {
      this.CONSUME(t.Pipe);
      this.SUBRULE(this.transform);
    });
  });

  sinkDecl = this.RULE("sinkDecl", () => {
    this.CONSUME(t.Sink);
    this.SUBRULE(this.name, { LABEL: "stream" });
    this.CONSUME(t.Arrow);
    this.SUBRULE2(this.name, { LABEL: "connector" });
    this.OPTION({ GATE: () => this.startsTarget(), DEF: () => this.SUBRULE(this.target) });
    this.OPTION2(() => this.SUBRULE(this.optionBlock));
  });

  importDecl = this.RULE("importDecl", () => {
    this.CONSUME(t.Import);
    this.CONSUME(t.Fn);
    this.SUBRULE(this.name);
    this.CONSUME(t.LParen);
    this.MANY_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.fieldDecl) });
    this.CONSUME(t.RParen);
    this.CONSUME(t.Colon);
    this.SUBRULE(this.typeExpr);
    this.CONSUME(t.From);
    this.CONSUME(t.StringLiteral);
  });

  testDecl = this.RULE("testDecl", () => {
    this.CONSUME(t.Test);
    this.CONSUME(t.StringLiteral);
    this.CONSUME(t.LBrace);
    this.MANY(() => this.SUBRULE(this.testStep));
    this.CONSUME(t.RBrace);
  });

  testStep = this.RULE("testStep", () => {
    this.OR(this.alternatives["testStep"] ??= [
      {
        ALT: () => {
          this.CONSUME(t.Input);
          this.SUBRULE(this.name);
          this.SUBRULE(this.recordList);
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.Expect);
          this.SUBRULE2(this.name);
          this.SUBRULE2(this.recordList);
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.Advance);
          this.CONSUME(t.Watermark);
          this.CONSUME(t.To);
          this.SUBRULE(this.expression);
        },
      },
    ]);
  });

  recordList = this.RULE("recordList", () => {
    this.CONSUME(t.LBracket);
    this.MANY(() => {
      this.SUBRULE(this.recordLit);
      this.OPTION(() => this.CONSUME(t.Comma));
    });
    this.CONSUME(t.RBracket);
  });

  recordLit = this.RULE("recordLit", () => {
    this.CONSUME(t.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.recordField);
      this.OPTION(() => this.CONSUME(t.Comma));
    });
    this.CONSUME(t.RBrace);
  });

  recordField = this.RULE("recordField", () => {
    this.SUBRULE(this.name);
    this.CONSUME(t.Colon);
    this.SUBRULE(this.expression);
  });

  // ---- options ---------------------------------------------------------------------------

  optionBlock = this.RULE("optionBlock", () => {
    this.CONSUME(t.LBrace);
    this.MANY({ GATE: () => !this.startsDeclaration(), DEF: () => {
      this.SUBRULE(this.optionAssign);
      this.OPTION(() => this.CONSUME(t.Comma));
    } });
    this.CONSUME(t.RBrace);
  });

  optionAssign = this.RULE("optionAssign", () => {
    this.SUBRULE(this.name);
    // `name: value` is wrong (the AST builder reports it) but common enough to read on as if it were `=`.
    this.OR(this.alternatives["optionAssign"] ??= [{ ALT: () => this.CONSUME(t.Equals) }, { ALT: () => this.CONSUME(t.Colon) }]);
    this.SUBRULE(this.optionValue);
  });

  optionValue = this.RULE("optionValue", () => {
    // Ordered choice: `every 30s` is the trigger form, never a column named `every`.
    this.OR(this.alternatives["optionValue"] ??= { IGNORE_AMBIGUITIES: true, DEF: [
      {
        ALT: () => {
          this.CONSUME(t.Every);
          this.SUBRULE(this.expression, { LABEL: "interval" });
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.LBracket);
          this.MANY_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.optionValue) });
          this.CONSUME(t.RBracket);
        },
      },
      {
        // `table "data/rejects"` or `table env("X")`: a connector and its target; but
        // `timestamp "..."` and `date "..."` are typed literals.
        GATE: () => this.LA(1).tokenType !== t.TimestampType && this.LA(1).tokenType !== t.DateType,
        ALT: () => {
          this.SUBRULE(this.name, { LABEL: "connector" });
          this.SUBRULE(this.target);
        },
      },
      { ALT: () => this.SUBRULE2(this.expression) },
    ] });
  });

  // ---- types -----------------------------------------------------------------------------

  typeExpr = this.RULE("typeExpr", () => {
    this.OR(this.alternatives["typeExpr"] ??= [
      {
        ALT: () => {
          this.CONSUME(t.DecimalType);
          this.CONSUME(t.LParen);
          this.SUBRULE(this.expression, { LABEL: "precision" });
          this.CONSUME(t.Comma);
          this.SUBRULE2(this.expression, { LABEL: "scale" });
          this.CONSUME(t.RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.ListType);
          this.CONSUME(t.Lt);
          this.SUBRULE(this.typeExpr, { LABEL: "element" });
          this.CONSUME(t.Gt);
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.MapType);
          this.CONSUME2(t.Lt);
          this.SUBRULE2(this.typeExpr, { LABEL: "key" });
          this.CONSUME2(t.Comma);
          this.SUBRULE3(this.typeExpr, { LABEL: "value" });
          this.CONSUME2(t.Gt);
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.StructType);
          this.SUBRULE(this.fieldBlock);
        },
      },
      { ALT: () => this.SUBRULE(this.name) },
    ]);
    this.OPTION(() => this.CONSUME(t.Question));
  });

  // ---- transforms ------------------------------------------------------------------------

  transform = this.RULE("transform", () => {
    this.OR(this.alternatives["transform"] ??= [
      { ALT: () => this.SUBRULE(this.whereTransform) },
      { ALT: () => this.SUBRULE(this.selectTransform) },
      { ALT: () => this.SUBRULE(this.extendTransform) },
      { ALT: () => this.SUBRULE(this.explodeTransform) },
      { ALT: () => this.SUBRULE(this.watermarkTransform) },
      { ALT: () => this.SUBRULE(this.windowTransform) },
      { ALT: () => this.SUBRULE(this.aggregateTransform) },
      { ALT: () => this.SUBRULE(this.dedupTransform) },
      { ALT: () => this.SUBRULE(this.joinTransform) },
      { ALT: () => this.SUBRULE(this.unionTransform) },
    ]);
  });

  whereTransform = this.RULE("whereTransform", () => {
    this.CONSUME(t.Where);
    this.SUBRULE(this.expression);
  });

  selectTransform = this.RULE("selectTransform", () => {
    this.CONSUME(t.Select);
    this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.selectItem) });
  });

  selectItem = this.RULE("selectItem", () => {
    this.OR(this.alternatives["selectItem"] ??= [
      {
        ALT: () => {
          this.CONSUME(t.Star);
          this.OPTION(() => {
            this.CONSUME(t.Except);
            this.CONSUME(t.LParen);
            this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.name, { LABEL: "excepted" }) });
            this.CONSUME(t.RParen);
          });
        },
      },
      { ALT: () => this.SUBRULE(this.maybeNamedExpr) },
    ]);
  });

  /** `NAME = EXPR` or a bare `EXPR`; the checker says where a name is required. */
  maybeNamedExpr = this.RULE("maybeNamedExpr", () => {
    this.OPTION(() => {
      this.SUBRULE(this.name);
      this.CONSUME(t.Equals);
    });
    this.SUBRULE(this.expression);
  });

  extendTransform = this.RULE("extendTransform", () => {
    this.CONSUME(t.Extend);
    this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.maybeNamedExpr) });
  });

  explodeTransform = this.RULE("explodeTransform", () => {
    this.CONSUME(t.Explode);
    this.SUBRULE(this.maybeNamedExpr);
  });

  watermarkTransform = this.RULE("watermarkTransform", () => {
    this.CONSUME(t.Watermark);
    this.SUBRULE(this.expression, { LABEL: "column" });
    this.CONSUME(t.Delay);
    this.SUBRULE2(this.expression, { LABEL: "delay" });
  });

  windowTransform = this.RULE("windowTransform", () => {
    this.CONSUME(t.Window);
    this.OR(this.alternatives["windowTransform"] ??= [
      {
        ALT: () => {
          this.CONSUME(t.Tumbling);
          this.SUBRULE(this.expression, { LABEL: "size" });
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.Hopping);
          this.SUBRULE2(this.expression, { LABEL: "size" });
          this.CONSUME(t.Every);
          this.SUBRULE3(this.expression, { LABEL: "slide" });
        },
      },
      {
        ALT: () => {
          this.CONSUME(t.Session);
          this.SUBRULE4(this.expression, { LABEL: "gap" });
        },
      },
    ]);
  });

  aggregateTransform = this.RULE("aggregateTransform", () => {
    this.CONSUME(t.Aggregate);
    // Items are optional here so that `aggregate by x` gets the checker's diagnostic, not a parse error.
    this.OPTION2({
      GATE: () => this.LA(1).tokenType !== t.By,
      DEF: () => this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.maybeNamedExpr, { LABEL: "item" }) }),
    });
    this.OPTION(() => {
      this.CONSUME(t.By);
      this.AT_LEAST_ONE_SEP2({ SEP: t.Comma, DEF: () => this.SUBRULE2(this.maybeNamedExpr, { LABEL: "key" }) });
    });
  });

  dedupTransform = this.RULE("dedupTransform", () => {
    this.CONSUME(t.Dedup);
    this.CONSUME(t.By);
    this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.expression, { LABEL: "key" }) });
    this.OPTION(() => {
      this.CONSUME(t.Within);
      this.SUBRULE2(this.expression, { LABEL: "within" });
    });
  });

  joinTransform = this.RULE("joinTransform", () => {
    this.OPTION(() => this.CONSUME(t.Left));
    this.CONSUME(t.Join);
    this.SUBRULE(this.name);
    this.CONSUME(t.On);
    this.SUBRULE(this.expression, { LABEL: "on" });
    this.OPTION2(() => {
      this.CONSUME(t.Within);
      this.SUBRULE2(this.expression, { LABEL: "within" });
    });
  });

  unionTransform = this.RULE("unionTransform", () => {
    this.CONSUME(t.Union);
    this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.name) });
  });

  // ---- expressions, loosest first ----------------------------------------------------------

  expression = this.RULE("expression", () => {
    this.SUBRULE(this.orExpr, { LABEL: "operand" });
    this.MANY(() => {
      this.CONSUME(t.Coalesce, { LABEL: "operator" });
      this.SUBRULE2(this.orExpr, { LABEL: "operand" });
    });
  });

  orExpr = this.RULE("orExpr", () => {
    this.SUBRULE(this.andExpr, { LABEL: "operand" });
    this.MANY(() => {
      this.CONSUME(t.Or, { LABEL: "operator" });
      this.SUBRULE2(this.andExpr, { LABEL: "operand" });
    });
  });

  andExpr = this.RULE("andExpr", () => {
    this.SUBRULE(this.notExpr, { LABEL: "operand" });
    this.MANY(() => {
      this.CONSUME(t.And, { LABEL: "operator" });
      this.SUBRULE2(this.notExpr, { LABEL: "operand" });
    });
  });

  notExpr = this.RULE("notExpr", () => {
    this.OR(this.alternatives["notExpr"] ??= [
      {
        ALT: () => {
          this.CONSUME(t.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]);
  });

  comparison = this.RULE("comparison", () => {
    this.SUBRULE(this.additive, { LABEL: "left" });
    this.OPTION(() => {
      this.OR(this.alternatives["comparison"] ??= [
        {
          ALT: () => {
            // `=` is SQL's equality: wrong here (the AST builder reports it), but read on as `==`.
            this.OR3(this.alternatives["comparison:2"] ??= [{ ALT: () => this.CONSUME(t.ComparisonOp) }, { ALT: () => this.CONSUME(t.Equals) }]);
            this.SUBRULE2(this.additive, { LABEL: "right" });
          },
        },
        {
          ALT: () => {
            this.CONSUME(t.Is);
            this.OPTION2(() => this.CONSUME(t.Not, { LABEL: "isNot" }));
            this.CONSUME(t.Null);
          },
        },
        {
          ALT: () => {
            this.OPTION3(() => this.CONSUME2(t.Not, { LABEL: "negated" }));
            this.OR2(this.alternatives["comparison:3"] ??= [
              {
                ALT: () => {
                  this.CONSUME(t.In);
                  this.CONSUME(t.LParen);
                  this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.expression, { LABEL: "inItem" }) });
                  this.CONSUME(t.RParen);
                },
              },
              {
                ALT: () => {
                  this.CONSUME(t.Like);
                  this.SUBRULE3(this.additive, { LABEL: "pattern" });
                },
              },
            ]);
          },
        },
      ]);
    });
  });

  additive = this.RULE("additive", () => {
    this.SUBRULE(this.multiplicative, { LABEL: "operand" });
    this.MANY(() => {
      this.CONSUME(t.AdditiveOp, { LABEL: "operator" });
      this.SUBRULE2(this.multiplicative, { LABEL: "operand" });
    });
  });

  multiplicative = this.RULE("multiplicative", () => {
    this.SUBRULE(this.unary, { LABEL: "operand" });
    this.MANY(() => {
      this.CONSUME(t.MultiplicativeOp, { LABEL: "operator" });
      this.SUBRULE2(this.unary, { LABEL: "operand" });
    });
  });

  unary = this.RULE("unary", () => {
    this.OR(this.alternatives["unary"] ??= [
      {
        ALT: () => {
          this.CONSUME(t.Minus);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]);
  });

  postfix = this.RULE("postfix", () => {
    this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR(this.alternatives["postfix"] ??= [
        { ALT: () => this.SUBRULE(this.fieldAccess) },
        { ALT: () => this.SUBRULE(this.indexAccess) },
      ]);
    });
  });

  fieldAccess = this.RULE("fieldAccess", () => {
    this.CONSUME(t.Dot);
    this.SUBRULE(this.name);
  });

  indexAccess = this.RULE("indexAccess", () => {
    this.CONSUME(t.LBracket);
    this.SUBRULE(this.expression);
    this.CONSUME(t.RBracket);
  });

  primary = this.RULE("primary", () => {
    this.OR(this.alternatives["primary"] ??= [
      { ALT: () => this.SUBRULE(this.literal) },
      { ALT: () => this.SUBRULE(this.typedLiteral) },
      { ALT: () => this.SUBRULE(this.caseExpr) },
      { ALT: () => this.SUBRULE(this.ifExpr) },
      { ALT: () => this.SUBRULE(this.castExpr) },
      { ALT: () => this.SUBRULE(this.callExpr) },
      { GATE: () => !this.startsDeclaration(), ALT: () => this.SUBRULE(this.name) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
    ]);
  });

  literal = this.RULE("literal", () => {
    this.OR(this.alternatives["literal"] ??= [
      { ALT: () => this.CONSUME(t.NumberLiteral) },
      { ALT: () => this.CONSUME(t.StringLiteral) },
      { ALT: () => this.CONSUME(t.DurationLiteral) },
      { ALT: () => this.CONSUME(t.SizeLiteral) },
      { ALT: () => this.CONSUME(t.True) },
      { ALT: () => this.CONSUME(t.False) },
      { ALT: () => this.CONSUME(t.Null) },
    ]);
  });

  /** `timestamp "2024-01-01T00:00:00Z"`, `date "2024-01-01"` */
  typedLiteral = this.RULE("typedLiteral", () => {
    this.OR(this.alternatives["typedLiteral"] ??= [
      { ALT: () => this.CONSUME(t.TimestampType) },
      { ALT: () => this.CONSUME(t.DateType) },
    ]);
    this.CONSUME(t.StringLiteral);
  });

  caseExpr = this.RULE("caseExpr", () => {
    this.CONSUME(t.Case);
    this.AT_LEAST_ONE(() => {
      this.CONSUME(t.When);
      this.SUBRULE(this.expression, { LABEL: "condition" });
      this.CONSUME(t.Then);
      this.SUBRULE2(this.expression, { LABEL: "result" });
    });
    this.OPTION(() => {
      this.CONSUME(t.Else);
      this.SUBRULE3(this.expression, { LABEL: "otherwise" });
    });
    this.CONSUME(t.End);
  });

  ifExpr = this.RULE("ifExpr", () => {
    this.CONSUME(t.If);
    this.CONSUME(t.LParen);
    this.SUBRULE(this.expression, { LABEL: "condition" });
    this.CONSUME(t.Comma);
    this.SUBRULE2(this.expression, { LABEL: "then" });
    this.CONSUME2(t.Comma);
    this.SUBRULE3(this.expression, { LABEL: "otherwise" });
    this.CONSUME(t.RParen);
  });

  castExpr = this.RULE("castExpr", () => {
    this.CONSUME(t.Cast);
    this.CONSUME(t.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(t.As);
    this.SUBRULE(this.typeExpr);
    this.CONSUME(t.RParen);
  });

  callExpr = this.RULE("callExpr", () => {
    this.SUBRULE(this.name);
    this.CONSUME(t.LParen);
    this.OPTION(() => {
      this.OR(this.alternatives["callExpr"] ??= [
        { ALT: () => this.CONSUME(t.Star) },
        { ALT: () => this.AT_LEAST_ONE_SEP({ SEP: t.Comma, DEF: () => this.SUBRULE(this.expression, { LABEL: "argument" }) }) },
      ]);
    });
    this.CONSUME(t.RParen);
  });

  parenExpr = this.RULE("parenExpr", () => {
    this.CONSUME(t.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(t.RParen);
  });

  name = this.RULE("name", () => {
    this.CONSUME(t.Name);
  });

  /**
   * Whether the next tokens open a declaration (`sink NAME ->`, `stream NAME =`, `import fn`, ...).
   * Declaration keywords are soft, so a column may be called `source`; but where an item of a list
   * or an operand is missing (`| select a,` at the end of a stream), the next declaration must not
   * be read as one: the error is then reported where the item is missing, and the declaration is kept.
   */
  private startsDeclaration(): boolean {
    const first = this.LA(1).tokenType;
    const second = this.LA(2);
    const third = this.LA(3);
    const named = tokenMatcher(second, t.Name);
    if (first === t.Pipeline || first === t.Schema) return named && tokenMatcher(third, t.LBrace);
    if (first === t.Source) return named && tokenMatcher(third, t.Colon);
    if (first === t.Stream) return named && tokenMatcher(third, t.Equals);
    if (first === t.Sink) return named && tokenMatcher(third, t.Arrow);
    if (first === t.Import) return tokenMatcher(second, t.Fn);
    if (first === t.Test) return tokenMatcher(second, t.StringLiteral);
    return false;
  }
}

/** The one parser instance; Chevrotain parsers are reused by resetting `input`. */
export const streamParser = new StreamParser();

export type ParseError = IRecognitionException;

/**
 * Parses a token vector into a `program` CST. Never throws on bad input; throws a `RangeError`
 * ("Maximum call stack size exceeded") when the input nests deeper than the stack allows.
 */
export function parseTokens(tokens: IToken[]): { cst: CstNode; errors: ParseError[] } {
  streamParser.input = tokens;
  let cst: CstNode;
  try {
    cst = streamParser.program();
  } catch (error) {
    // Recovery keeps recognition errors inside; what escapes is the stack running out, which
    // Chevrotain's bookkeeping can report as another RangeError ("Invalid array length").
    if (error instanceof RangeError) throw new RangeError("Maximum call stack size exceeded while parsing", { cause: error });
    throw error;
  }
  return { cst, errors: [...streamParser.errors] };
}

/** Whether a token is a keyword that may never be a name (`and`, `null`, `end`, ...). */
export function isReservedWord(tokenType: TokenType): boolean {
  return t.keywordTokens.includes(tokenType) && !isNameToken(tokenType);
}

function isNameToken(tokenType: TokenType): boolean {
  return (tokenType.CATEGORIES ?? []).includes(t.Name) || tokenType === t.Name;
}

/** True when a token would be accepted where a name is expected. */
export function matchesName(token: IToken): boolean {
  return tokenMatcher(token, t.Name);
}
