/**
 * From source text to AST: lex, parse, and turn the CST into the typed AST of ast.ts.
 *
 * Contract: `parseProgram` never throws on any input. It returns a `Program` (built from whatever
 * the parser recovered) and the `SyntaxProblem`s found on the way, each with a span. It gives
 * meaning to nothing beyond syntax: names, types and rules are the checker's.
 */
import { tokenMatcher, type CstElement, type CstNode, type IToken } from "chevrotain";
import type * as ast from "./ast.ts";
import { tokenize } from "./lexer.ts";
import { parseTokens, isReservedWord, type ParseErrorDetail } from "./parser.ts";
import * as t from "./tokens.ts";

/** A problem found before any meaning is given to the program. */
export type SyntaxProblem =
  | { kind: "unexpectedCharacter"; span: ast.Span; text: string }
  | { kind: "unterminatedString"; span: ast.Span }
  | { kind: "unterminatedComment"; span: ast.Span }
  | { kind: "badEscape"; span: ast.Span; escape: string }
  | { kind: "badNumber"; span: ast.Span; text: string }
  /** `continuesLine`: the stray token is on the line where the declaration before it ends (`select a b`). */
  | { kind: "strayTokens"; span: ast.Span; found: string; continuesLine: boolean }
  | {
      kind: "parse";
      exception: "mismatch" | "noViableAlternative" | "earlyExit" | "notAllInput";
      span: ast.Span;
      /** The offending token as written; empty at the end of the input. */
      found: string;
      /** The token before it as written; empty at the start of the input. */
      previous: string;
      foundIsReservedWord: boolean;
      detail: ParseErrorDetail;
    };

export interface ParseResult {
  program: ast.Program;
  problems: SyntaxProblem[];
}

export function parseProgram(text: string): ParseResult {
  const problems: SyntaxProblem[] = [];
  const lexed = tokenize(text);
  // A `#` most likely starts a comment from another language: after reporting it, read the rest of its line as one.
  const hashComments = new Map<number, number>();
  for (const p of lexed.problems) {
    problems.push({ kind: "unexpectedCharacter", span: { start: p.offset, end: p.offset + p.length, line: p.line, column: p.column }, text: p.text });
    if (p.text.startsWith("#") && !hashComments.has(p.line)) hashComments.set(p.line, p.offset);
  }
  const tokens: IToken[] = [];
  for (const token of lexed.tokens) {
    const hashAt = hashComments.get(token.startLine ?? 0);
    if (hashAt !== undefined && token.startOffset > hashAt) continue;
    if (token.tokenType === t.UnterminatedString) {
      problems.push({ kind: "unterminatedString", span: tokenSpan(token) });
      // Parse on as if the string were closed, so one missing quote is one error.
      tokens.push({ ...token, image: token.image.endsWith("\\") ? token.image + '\\"' : token.image + '"', tokenType: t.StringLiteral, tokenTypeIdx: t.StringLiteral.tokenTypeIdx! });
    } else if (token.tokenType === t.UnterminatedBlockComment) {
      problems.push({ kind: "unterminatedComment", span: { ...tokenSpan(token), end: token.startOffset + 2 } });
    } else {
      tokens.push(token);
    }
  }
  const { cst, errors } = parseTokens(tokens);
  const endSpan = endOfText(text);
  for (const error of errors) {
    const token = error.token;
    const atEnd = token.tokenType.name === "EOF" || Number.isNaN(token.startOffset);
    const span = atEnd ? lastTokenEnd(tokens) ?? endSpan : tokenSpan(token);
    problems.push({
      kind: "parse",
      exception:
        error.name === "MismatchedTokenException" ? "mismatch"
          : error.name === "NoViableAltException" ? "noViableAlternative"
            : error.name === "EarlyExitException" ? "earlyExit"
              : "notAllInput",
      span,
      found: atEnd ? "" : token.image,
      previous: (error as { previousToken?: IToken }).previousToken?.image ?? "",
      foundIsReservedWord: !atEnd && isReservedWord(token.tokenType),
      detail: parseDetail(error.message),
    });
  }
  const builder = new AstBuilder(text, problems);
  return { program: builder.program(cst), problems };
}

function parseDetail(message: string): ParseErrorDetail {
  try {
    return JSON.parse(message) as ParseErrorDetail;
  } catch {
    return { expected: [], rule: "" };
  }
}

function tokenSpan(token: IToken): ast.Span {
  // `endOffset`, not the image: an unterminated string's image is closed for the parser, but its span must stay inside the text.
  const end = Number.isFinite(token.endOffset) ? token.endOffset! + 1 : token.startOffset + token.image.length;
  return { start: token.startOffset, end, line: token.startLine ?? 1, column: token.startColumn ?? 1 };
}

function lastTokenEnd(tokens: IToken[]): ast.Span | undefined {
  const last = tokens[tokens.length - 1];
  if (!last) return undefined;
  const span = tokenSpan(last);
  return { start: span.end, end: span.end + 1, line: last.endLine ?? span.line, column: (last.endColumn ?? span.column) + 1 };
}

function endOfText(text: string): ast.Span {
  const lines = text.split("\n");
  return { start: text.length, end: text.length + 1, line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

function isToken(element: CstElement): element is IToken {
  return (element as IToken).tokenType !== undefined;
}

/** Turns a recovered CST into AST nodes; a part the parser could not build becomes an `error` node or is left out. */
class AstBuilder {
  constructor(
    private readonly text: string,
    private readonly problems: SyntaxProblem[],
  ) {}

  // ---- CST access ------------------------------------------------------------------------

  private nodes(node: CstNode | undefined, key: string): CstNode[] {
    return ((node?.children[key] ?? []) as CstElement[]).filter((c): c is CstNode => !isToken(c));
  }

  private node(node: CstNode | undefined, key: string, index = 0): CstNode | undefined {
    return this.nodes(node, key)[index];
  }

  private tokens(node: CstNode | undefined, key: string): IToken[] {
    return ((node?.children[key] ?? []) as CstElement[]).filter((c): c is IToken => isToken(c) && !c.isInsertedInRecovery && !Number.isNaN(c.startOffset));
  }

  private token(node: CstNode | undefined, key: string, index = 0): IToken | undefined {
    return this.tokens(node, key)[index];
  }

  private span(node: CstNode | undefined, fallback?: ast.Span): ast.Span {
    const loc = node?.location;
    if (loc && Number.isFinite(loc.startOffset) && loc.startLine !== undefined && Number.isFinite(loc.startLine)) {
      const end = Number.isFinite(loc.endOffset) ? loc.endOffset! + 1 : loc.startOffset + 1;
      return { start: loc.startOffset, end: Math.max(end, loc.startOffset + 1), line: loc.startLine, column: loc.startColumn ?? 1 };
    }
    return fallback ?? { start: 0, end: 1, line: 1, column: 1 };
  }

  private between(first: ast.Span, last: ast.Span): ast.Span {
    return { start: first.start, end: Math.max(first.end, last.end), line: first.line, column: first.column };
  }

  // ---- declarations ----------------------------------------------------------------------

  program(cst: CstNode): ast.Program {
    const decls: ast.Decl[] = [];
    const children: { offset: number; element: CstNode }[] = [
      ...this.nodes(cst, "declaration").map((d) => ({ offset: this.span(d).start, element: d })),
      ...this.nodes(cst, "strayToken").map((s) => ({ offset: this.span(s).start, element: s })),
    ].sort((a, b) => a.offset - b.offset);
    let previousWasStray = false;
    let previousEndLine: number | undefined;
    for (const { element } of children) {
      if (element.name === "strayToken") {
        if (!previousWasStray) {
          const token = Object.values(element.children).flat().find(isToken);
          if (token) this.problems.push({ kind: "strayTokens", span: tokenSpan(token), found: token.image, continuesLine: previousEndLine === token.startLine });
        }
        previousWasStray = true;
        continue;
      }
      previousWasStray = false;
      previousEndLine = element.location?.endLine;
      const decl = this.declaration(element);
      if (decl) decls.push(decl);
    }
    return { decls, span: { start: 0, end: this.text.length, line: 1, column: 1 } };
  }

  private declaration(node: CstNode): ast.Decl | undefined {
    const [child] = Object.values(node.children).flat().filter((c): c is CstNode => !isToken(c));
    if (!child) return undefined;
    switch (child.name) {
      case "pipelineDecl":
        return { kind: "pipeline", name: this.name(this.node(child, "name"), child), options: this.optionBlock(this.node(child, "optionBlock")), span: this.span(child) };
      case "schemaDecl":
        return { kind: "schema", name: this.name(this.node(child, "name"), child), fields: this.fieldBlock(this.node(child, "fieldBlock")), span: this.span(child) };
      case "sourceDecl":
        return this.sourceDecl(child);
      case "streamDecl":
        return this.streamDecl(child);
      case "sinkDecl":
        return {
          kind: "sink",
          stream: this.name(this.node(child, "stream"), child),
          connector: this.name(this.node(child, "connector"), child),
          target: this.target(this.node(child, "target")),
          options: this.optionBlock(this.node(child, "optionBlock")),
          span: this.span(child),
        };
      case "importDecl":
        return this.importDecl(child);
      case "testDecl":
        return this.testDecl(child);
      default:
        return undefined;
    }
  }

  private sourceDecl(node: CstNode): ast.SourceDecl {
    const fieldBlock = this.node(node, "fieldBlock");
    const schemaName = this.node(node, "schemaName");
    const schema: ast.SchemaRef = fieldBlock
      ? { kind: "inline", fields: this.fieldBlock(fieldBlock), span: this.span(fieldBlock) }
      : { kind: "named", name: this.name(schemaName, node), span: this.span(schemaName, this.span(node)) };
    return {
      kind: "source",
      name: this.name(this.node(node, "sourceName"), node),
      schema,
      connector: this.name(this.node(node, "connector"), node),
      target: this.target(this.node(node, "target")),
      options: this.optionBlock(this.node(node, "optionBlock")),
      span: this.span(node),
    };
  }

  private streamDecl(node: CstNode): ast.StreamDecl {
    const transforms: ast.Transform[] = [];
    for (const transform of this.nodes(node, "transform")) {
      const built = this.transform(transform);
      if (built) transforms.push(built);
    }
    return {
      kind: "stream",
      name: this.name(this.node(node, "streamName"), node),
      input: this.name(this.node(node, "input"), node),
      transforms,
      span: this.span(node),
    };
  }

  private importDecl(node: CstNode): ast.ImportFnDecl {
    const from = this.token(node, "StringLiteral");
    return {
      kind: "importFn",
      name: this.name(this.node(node, "name"), node),
      params: this.nodes(node, "fieldDecl").map((f) => this.fieldDecl(f)),
      returnType: this.typeExpr(this.node(node, "typeExpr"), this.span(node)),
      from: from ? this.stringLiteral(from) : { kind: "literal", literal: { type: "string", value: "" }, span: this.span(node) },
      span: this.span(node),
    };
  }

  private testDecl(node: CstNode): ast.TestDecl {
    const nameToken = this.token(node, "StringLiteral");
    const steps: ast.TestStep[] = [];
    for (const step of this.nodes(node, "testStep")) {
      const span = this.span(step);
      if (this.token(step, "Input")) {
        steps.push({ kind: "input", source: this.name(this.node(step, "name"), step), rows: this.recordList(this.node(step, "recordList")), span });
      } else if (this.token(step, "Expect")) {
        steps.push({ kind: "expect", stream: this.name(this.node(step, "name"), step), rows: this.recordList(this.node(step, "recordList")), span });
      } else if (this.token(step, "Advance")) {
        steps.push({ kind: "advanceWatermark", to: this.expression(this.node(step, "expression"), span), span });
      }
    }
    return {
      kind: "test",
      name: nameToken ? this.stringLiteral(nameToken) : { kind: "literal", literal: { type: "string", value: "" }, span: this.span(node) },
      steps,
      span: this.span(node),
    };
  }

  private recordList(node: CstNode | undefined): ast.RecordLit[] {
    return this.nodes(node, "recordLit").map((record) => ({
      fields: this.nodes(record, "recordField").map((field) => ({
        name: this.name(this.node(field, "name"), field),
        value: this.expression(this.node(field, "expression"), this.span(field)),
        span: this.span(field),
      })),
      span: this.span(record),
    }));
  }

  private fieldBlock(node: CstNode | undefined): ast.FieldDecl[] {
    return this.nodes(node, "fieldDecl").map((f) => this.fieldDecl(f));
  }

  private fieldDecl(node: CstNode): ast.FieldDecl {
    const equals = this.token(node, "Equals");
    if (equals) {
      this.problems.push({ kind: "parse", exception: "mismatch", span: tokenSpan(equals), found: "=", previous: "", foundIsReservedWord: false, detail: { expected: ["`:`"], rule: "fieldDecl" } });
    }
    return { name: this.name(this.node(node, "name"), node), type: this.typeExpr(this.node(node, "typeExpr"), this.span(node)), span: this.span(node) };
  }

  private target(node: CstNode | undefined): ast.Expr | undefined {
    if (!node) return undefined;
    const literal = this.token(node, "StringLiteral");
    if (literal) return this.stringLiteral(literal);
    const call = this.node(node, "callExpr");
    return call ? this.callExpr(call) : undefined;
  }

  // ---- options ---------------------------------------------------------------------------

  private optionBlock(node: CstNode | undefined): ast.OptionAssign[] {
    for (const assign of this.nodes(node, "optionAssign")) {
      const colon = this.token(assign, "Colon");
      if (colon) {
        this.problems.push({ kind: "parse", exception: "mismatch", span: tokenSpan(colon), found: ":", previous: "", foundIsReservedWord: false, detail: { expected: ["`=`"], rule: "optionAssign" } });
      }
    }
    return this.nodes(node, "optionAssign").map((assign) => ({
      name: this.name(this.node(assign, "name"), assign),
      value: this.optionValue(this.node(assign, "optionValue"), this.span(assign)),
      span: this.span(assign),
    }));
  }

  private optionValue(node: CstNode | undefined, fallback: ast.Span): ast.OptionValue {
    const span = this.span(node, fallback);
    if (!node) return { kind: "expr", expr: { kind: "error", span }, span };
    if (this.token(node, "Every")) return { kind: "every", interval: this.expression(this.node(node, "interval"), span), span };
    if (this.token(node, "LBracket")) return { kind: "list", items: this.nodes(node, "optionValue").map((item) => this.optionValue(item, span)), span };
    const connector = this.node(node, "connector");
    if (connector) {
      return { kind: "connector", connector: this.name(connector, node), target: this.target(this.node(node, "target")) ?? { kind: "error", span }, span };
    }
    return { kind: "expr", expr: this.expression(this.node(node, "expression"), span), span };
  }

  // ---- types -----------------------------------------------------------------------------

  private typeExpr(node: CstNode | undefined, fallback: ast.Span): ast.TypeExpr {
    const span = this.span(node, fallback);
    const nullable = this.token(node, "Question") !== undefined;
    if (!node) return { kind: "named", name: { text: "", quoted: false, span }, nullable, span };
    if (this.token(node, "Decimal")) {
      return { kind: "decimal", precision: this.expression(this.node(node, "precision"), span), scale: this.expression(this.node(node, "scale"), span), nullable, span };
    }
    if (this.token(node, "List")) return { kind: "list", element: this.typeExpr(this.node(node, "element"), span), nullable, span };
    if (this.token(node, "Map")) {
      return { kind: "map", key: this.typeExpr(this.node(node, "key"), span), value: this.typeExpr(this.node(node, "value"), span), nullable, span };
    }
    if (this.token(node, "Struct")) return { kind: "struct", fields: this.fieldBlock(this.node(node, "fieldBlock")), nullable, span };
    const nameNode = this.node(node, "name");
    const nameToken = this.token(nameNode, "Name");
    const primitive = nameToken ? primitiveOf(nameToken) : undefined;
    if (primitive) return { kind: "primitive", name: primitive, nullable, span };
    return { kind: "named", name: this.name(nameNode, node), nullable, span };
  }

  // ---- transforms ------------------------------------------------------------------------

  private transform(node: CstNode): ast.Transform | undefined {
    const [child] = Object.values(node.children).flat().filter((c): c is CstNode => !isToken(c));
    if (!child) return undefined;
    const span = this.span(child, this.span(node));
    switch (child.name) {
      case "whereTransform":
        return { kind: "where", condition: this.expression(this.node(child, "expression"), span), span };
      case "selectTransform":
        return { kind: "select", items: this.nodes(child, "selectItem").map((item) => this.selectItem(item, span)), span };
      case "extendTransform":
        return { kind: "extend", items: this.nodes(child, "maybeNamedExpr").map((item) => this.maybeNamed(item, span)), span };
      case "explodeTransform": {
        const item = this.nodes(child, "maybeNamedExpr").map((i) => this.maybeNamed(i, span))[0];
        return { kind: "explode", item: item ?? { name: undefined, expr: { kind: "error", span }, span }, span };
      }
      case "watermarkTransform":
        return { kind: "watermark", column: this.expression(this.node(child, "column"), span), delay: this.expression(this.node(child, "delay"), span), span };
      case "windowTransform":
        return { kind: "window", window: this.windowSpec(child, span), span };
      case "aggregateTransform":
        return {
          kind: "aggregate",
          items: this.nodes(child, "item").map((item) => this.maybeNamed(item, span)),
          by: this.nodes(child, "key").map((key) => this.maybeNamed(key, span)),
          span,
        };
      case "dedupTransform": {
        const within = this.node(child, "within");
        return { kind: "dedup", keys: this.nodes(child, "key").map((key) => this.expression(key, span)), within: within && this.expression(within, span), span };
      }
      case "joinTransform": {
        const within = this.node(child, "within");
        return {
          kind: "join",
          joinType: this.token(child, "Left") ? "left" : "inner",
          right: this.name(this.node(child, "name"), child),
          on: this.expression(this.node(child, "on"), span),
          within: within && this.expression(within, span),
          span,
        };
      }
      case "unionTransform":
        return { kind: "union", streams: this.nodes(child, "name").map((n) => this.name(n, child)), span };
      default:
        return undefined;
    }
  }

  private windowSpec(node: CstNode, span: ast.Span): ast.WindowSpec {
    if (this.token(node, "Hopping")) {
      return { kind: "hopping", size: this.expression(this.node(node, "size"), span), slide: this.expression(this.node(node, "slide"), span), span };
    }
    if (this.token(node, "Session")) return { kind: "session", gap: this.expression(this.node(node, "gap"), span), span };
    return { kind: "tumbling", size: this.expression(this.node(node, "size"), span), span };
  }

  private selectItem(node: CstNode, fallback: ast.Span): ast.SelectItem {
    const span = this.span(node, fallback);
    if (this.token(node, "Star")) {
      return { kind: "star", except: this.nodes(node, "excepted").map((n) => this.name(n, node)), span };
    }
    const item = this.maybeNamed(this.node(node, "maybeNamedExpr"), span);
    return item.name ? { kind: "named", name: item.name, expr: item.expr, span } : { kind: "expr", expr: item.expr, span };
  }

  private maybeNamed(node: CstNode | undefined, fallback: ast.Span): ast.MaybeNamedExpr {
    const span = this.span(node, fallback);
    const nameNode = this.node(node, "name");
    return {
      name: nameNode && this.token(node, "Equals") ? this.name(nameNode, node) : undefined,
      expr: this.expression(this.node(node, "expression"), span),
      span,
    };
  }

  // ---- expressions -----------------------------------------------------------------------

  private expression(node: CstNode | undefined, fallback: ast.Span): ast.Expr {
    if (!node) return { kind: "error", span: fallback };
    const span = this.span(node, fallback);
    switch (node.name) {
      case "expression":
      case "orExpr":
      case "andExpr":
      case "additive":
      case "multiplicative":
        return this.binaryChain(node, span);
      case "notExpr": {
        const not = this.token(node, "Not");
        if (not) return { kind: "unary", op: "not", operand: this.expression(this.node(node, "notExpr"), span), span };
        return this.expression(this.node(node, "comparison"), span);
      }
      case "comparison":
        return this.comparison(node, span);
      case "unary": {
        if (this.token(node, "Minus")) {
          const operand = this.expression(this.node(node, "unary"), span);
          // `-5` is one literal, so `-9223372036854775808` fits in a long.
          // `- -5` folds to `5`, never to the digits `--5`.
          if (operand.kind === "literal" && operand.literal.type === "integer") return { kind: "literal", literal: { type: "integer", digits: negated(operand.literal.digits) }, span };
          if (operand.kind === "literal" && operand.literal.type === "double") {
            return { kind: "literal", literal: { type: "double", value: -operand.literal.value, text: negated(operand.literal.text) }, span };
          }
          return { kind: "unary", op: "-", operand, span };
        }
        return this.expression(this.node(node, "postfix"), span);
      }
      case "postfix":
        return this.postfix(node, span);
      default:
        return { kind: "error", span };
    }
  }

  private binaryChain(node: CstNode, span: ast.Span): ast.Expr {
    const operands = this.nodes(node, "operand");
    const operators = ((node.children["operator"] ?? []) as CstElement[]).filter(isToken);
    let result = this.expression(operands[0], span);
    for (let i = 1; i < operands.length; i++) {
      const operator = operators[i - 1];
      const right = this.expression(operands[i], span);
      if (!operator || operator.isInsertedInRecovery) {
        result = { kind: "error", span: this.between(result.span, right.span) };
        continue;
      }
      result = {
        kind: "binary",
        op: operator.image as ast.BinaryOp,
        left: result,
        right,
        opSpan: tokenSpan(operator),
        span: this.between(result.span, right.span),
      };
    }
    return result;
  }

  private comparison(node: CstNode, span: ast.Span): ast.Expr {
    const left = this.expression(this.node(node, "left"), span);
    const opToken = this.token(node, "ComparisonOp");
    const sqlEquals = this.token(node, "Equals");
    if (sqlEquals) {
      // SQL's `a = b`: reported, then read as `==` so that checking goes on.
      this.problems.push({ kind: "parse", exception: "mismatch", span: tokenSpan(sqlEquals), found: "=", previous: "", foundIsReservedWord: false, detail: { expected: ["`==`"], rule: "comparison" } });
    }
    if (opToken || sqlEquals) {
      const right = this.expression(this.node(node, "right"), span);
      return { kind: "binary", op: opToken ? (opToken.image as ast.BinaryOp) : "==", left, right, opSpan: tokenSpan((opToken ?? sqlEquals)!), span };
    }
    if (this.token(node, "Is")) return { kind: "isNull", operand: left, negated: this.token(node, "isNot") !== undefined, span };
    const negated = this.token(node, "negated") !== undefined;
    if (this.token(node, "In")) return { kind: "in", operand: left, list: this.nodes(node, "inItem").map((item) => this.expression(item, span)), negated, span };
    if (this.token(node, "Like")) return { kind: "like", operand: left, pattern: this.expression(this.node(node, "pattern"), span), negated, span };
    return left;
  }

  private postfix(node: CstNode, span: ast.Span): ast.Expr {
    let result = this.primary(this.node(node, "primary"), span);
    const accesses = [...this.nodes(node, "fieldAccess"), ...this.nodes(node, "indexAccess")].sort((a, b) => this.span(a).start - this.span(b).start);
    for (const access of accesses) {
      const accessSpan = this.span(access, span);
      const whole = this.between(result.span, accessSpan);
      if (access.name === "fieldAccess") {
        result = { kind: "field", target: result, field: this.name(this.node(access, "name"), access), span: whole };
      } else {
        result = { kind: "index", target: result, index: this.expression(this.node(access, "expression"), accessSpan), span: whole };
      }
    }
    return result;
  }

  private primary(node: CstNode | undefined, fallback: ast.Span): ast.Expr {
    const span = this.span(node, fallback);
    const [child] = node ? Object.values(node.children).flat().filter((c): c is CstNode => !isToken(c)) : [];
    if (!child) return { kind: "error", span };
    switch (child.name) {
      case "literal":
        return this.literal(child, span);
      case "typedLiteral": {
        const text = this.token(child, "StringLiteral");
        const value = text ? this.stringValue(text) : "";
        return { kind: "literal", literal: this.token(child, "Date") ? { type: "date", text: value } : { type: "timestamp", text: value }, span };
      }
      case "caseExpr": {
        const conditions = this.nodes(child, "condition");
        const results = this.nodes(child, "result");
        const otherwise = this.node(child, "otherwise");
        return {
          kind: "case",
          whens: conditions.map((condition, i) => {
            const conditionExpr = this.expression(condition, span);
            const resultExpr = this.expression(results[i], span);
            return { condition: conditionExpr, result: resultExpr, span: this.between(conditionExpr.span, resultExpr.span) };
          }),
          otherwise: otherwise && this.expression(otherwise, span),
          span,
        };
      }
      case "ifExpr":
        return {
          kind: "if",
          condition: this.expression(this.node(child, "condition"), span),
          then: this.expression(this.node(child, "then"), span),
          otherwise: this.expression(this.node(child, "otherwise"), span),
          span,
        };
      case "castExpr":
        return { kind: "cast", operand: this.expression(this.node(child, "expression"), span), type: this.typeExpr(this.node(child, "typeExpr"), span), span };
      case "callExpr":
        return this.callExpr(child);
      case "name":
        return { kind: "column", name: this.name(child, node), span };
      case "parenExpr":
        return this.expression(this.node(child, "expression"), span);
      default:
        return { kind: "error", span };
    }
  }

  private callExpr(node: CstNode): ast.Expr {
    const span = this.span(node);
    return {
      kind: "call",
      callee: this.name(this.node(node, "name"), node),
      args: this.nodes(node, "argument").map((argument) => this.expression(argument, span)),
      star: this.token(node, "Star") !== undefined,
      span,
    };
  }

  private literal(node: CstNode, span: ast.Span): ast.Expr {
    const token = Object.values(node.children).flat().find(isToken);
    if (!token || token.isInsertedInRecovery) return { kind: "error", span };
    const tokenType = token.tokenType;
    const text = token.image;
    const clean = text.replace(/_/g, "");
    if (tokenType === t.StringLiteral) return this.stringLiteral(token);
    if (tokenType === t.True || tokenType === t.False) return { kind: "literal", literal: { type: "bool", value: tokenType === t.True }, span };
    if (tokenType === t.Null) return { kind: "literal", literal: { type: "null" }, span };
    if (tokenType === t.DurationLiteral) {
      const [, digits, unit] = /^([0-9]+)(ms|s|m|h|d)$/.exec(clean)!;
      const micros = Number(digits) * durationUnitMicros[unit as keyof typeof durationUnitMicros];
      if (!Number.isSafeInteger(micros)) this.problems.push({ kind: "badNumber", span, text });
      return { kind: "literal", literal: { type: "duration", micros, text }, span };
    }
    if (tokenType === t.SizeLiteral) {
      const [, digits, unit] = /^([0-9]+)(b|kb|mb|gb|tb)$/.exec(clean)!;
      const bytes = Number(digits) * sizeUnitBytes[unit as keyof typeof sizeUnitBytes];
      if (!Number.isSafeInteger(bytes)) this.problems.push({ kind: "badNumber", span, text });
      return { kind: "literal", literal: { type: "size", bytes, text }, span };
    }
    if (/_$|__|_\.|\._|_[eE]|[eE]_/.test(text)) this.problems.push({ kind: "badNumber", span, text });
    if (/[.eE]/.test(clean)) {
      const value = Number(clean);
      if (!Number.isFinite(value)) this.problems.push({ kind: "badNumber", span, text });
      return { kind: "literal", literal: { type: "double", value, text }, span };
    }
    return { kind: "literal", literal: { type: "integer", digits: clean.replace(/^0+(?=[0-9])/, "") }, span };
  }

  private stringLiteral(token: IToken): ast.StringLit {
    return { kind: "literal", literal: { type: "string", value: this.stringValue(token) }, span: tokenSpan(token) };
  }

  /** The value of a string token, its escapes resolved; a bad escape is reported and kept as written. */
  private stringValue(token: IToken): string {
    const body = token.image.slice(1, token.image.endsWith('"') && token.image.length > 1 ? -1 : undefined);
    const start = tokenSpan(token);
    return body.replace(/\\(u\{([0-9A-Fa-f]{1,6})\}|.|$)/g, (whole, escape: string, hex: string | undefined, offset: number) => {
      if (hex !== undefined) {
        const codePoint = parseInt(hex, 16);
        if (codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff)) return String.fromCodePoint(codePoint);
      } else {
        switch (escape) {
          case '"':
            return '"';
          case "\\":
            return "\\";
          case "n":
            return "\n";
          case "t":
            return "\t";
          case "r":
            return "\r";
        }
      }
      const at = start.start + 1 + offset;
      this.problems.push({ kind: "badEscape", span: { start: at, end: at + whole.length, line: start.line, column: start.column + 1 + offset }, escape: whole });
      return whole;
    });
  }

  private name(node: CstNode | undefined, parent: CstNode | undefined): ast.Name {
    const token = this.token(node, "Name");
    if (!token) return { text: "", quoted: false, span: this.span(node, this.span(parent)) };
    if (tokenMatcher(token, t.BacktickName)) {
      return { text: token.image.slice(1, -1).replace(/``/g, "`"), quoted: true, span: tokenSpan(token) };
    }
    return { text: token.image, quoted: false, span: tokenSpan(token) };
  }
}

function negated(text: string): string {
  return text.startsWith("-") ? text.slice(1) : "-" + text;
}

const durationUnitMicros = { ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000, d: 86_400_000_000 } as const;
const sizeUnitBytes = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 } as const;

const primitiveTokens = new Map<string, ast.PrimitiveTypeName>([
  [t.BoolType.name, "bool"],
  [t.IntType.name, "int"],
  [t.LongType.name, "long"],
  [t.DoubleType.name, "double"],
  [t.StringType.name, "string"],
  [t.BytesType.name, "bytes"],
  [t.DateType.name, "date"],
  [t.TimestampType.name, "timestamp"],
]);

function primitiveOf(token: IToken): ast.PrimitiveTypeName | undefined {
  return primitiveTokens.get(token.tokenType.name);
}
