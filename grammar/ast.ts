/**
 * The `.stream` abstract syntax tree.
 *
 * Contract: every node carries the `span` of the source text it came from, so any later phase can
 * point a diagnostic at it. Nodes are plain, immutable data (JSON-serialisable); later phases never
 * edit them. The tree is built from a parse that may have recovered from errors: where a piece was
 * missing, the builder puts an `error` expression or an empty list in its place, and the parse
 * problems say why.
 */

/** A range of source text. `start` and `end` are 0-based offsets (end exclusive); `line` and `column` (1-based) are the start's. */
export interface Span {
  start: number;
  end: number;
  line: number;
  column: number;
}

/** A user-written name: an identifier, a soft keyword, or a backtick name (then `quoted`). */
export interface Name {
  text: string;
  quoted: boolean;
  span: Span;
}

// ---- declarations ---------------------------------------------------------------------------

export interface Program {
  decls: Decl[];
  span: Span;
}

export type Decl = PipelineDecl | SchemaDecl | SourceDecl | StreamDecl | SinkDecl | ImportFnDecl | TestDecl;

export interface PipelineDecl {
  kind: "pipeline";
  name: Name;
  options: OptionAssign[];
  span: Span;
}

export interface SchemaDecl {
  kind: "schema";
  name: Name;
  fields: FieldDecl[];
  span: Span;
}

export interface FieldDecl {
  name: Name;
  type: TypeExpr;
  span: Span;
}

/** `source NAME: SCHEMA = CONNECTOR "TARGET"? { OPTIONS }?` */
export interface SourceDecl {
  kind: "source";
  name: Name;
  schema: SchemaRef;
  connector: Name;
  target: Expr | undefined;
  options: OptionAssign[];
  span: Span;
}

export type SchemaRef =
  | { kind: "named"; name: Name; span: Span }
  | { kind: "inline"; fields: FieldDecl[]; span: Span };

/** `stream NAME = INPUT | TRANSFORM | ...` */
export interface StreamDecl {
  kind: "stream";
  name: Name;
  input: Name;
  transforms: Transform[];
  span: Span;
}

/** `sink STREAM -> CONNECTOR "TARGET"? { OPTIONS }?` */
export interface SinkDecl {
  kind: "sink";
  stream: Name;
  connector: Name;
  target: Expr | undefined;
  options: OptionAssign[];
  span: Span;
}

/** `import fn NAME(P: TYPE, ...): TYPE from "./file.ts"` */
export interface ImportFnDecl {
  kind: "importFn";
  name: Name;
  params: FieldDecl[];
  returnType: TypeExpr;
  from: StringLit;
  span: Span;
}

/** `test "NAME" { STEP ... }` */
export interface TestDecl {
  kind: "test";
  name: StringLit;
  steps: TestStep[];
  span: Span;
}

export type TestStep =
  | { kind: "input"; source: Name; rows: RecordLit[]; span: Span }
  | { kind: "advanceWatermark"; to: Expr; span: Span }
  | { kind: "expect"; stream: Name; rows: RecordLit[]; span: Span };

/** `{ name: EXPR, ... }` in a test. */
export interface RecordLit {
  fields: { name: Name; value: Expr; span: Span }[];
  span: Span;
}

// ---- options --------------------------------------------------------------------------------

/** `NAME = VALUE` inside `{ }` of a pipeline, source or sink. */
export interface OptionAssign {
  name: Name;
  value: OptionValue;
  span: Span;
}

export type OptionValue =
  /** A literal, a bare word (a `column` expression), `env(...)` (a `call`), or any other expression. */
  | { kind: "expr"; expr: Expr; span: Span }
  | { kind: "list"; items: OptionValue[]; span: Span }
  /** `every 30s` */
  | { kind: "every"; interval: Expr; span: Span }
  /** `table "data/x"`: a connector and its target, e.g. for `deadletter`. */
  | { kind: "connector"; connector: Name; target: Expr; span: Span };

// ---- types ----------------------------------------------------------------------------------

export type PrimitiveTypeName = "bool" | "int" | "long" | "double" | "string" | "bytes" | "date" | "timestamp";

export type TypeExpr =
  | { kind: "primitive"; name: PrimitiveTypeName; nullable: boolean; span: Span }
  | { kind: "decimal"; precision: Expr; scale: Expr; nullable: boolean; span: Span }
  | { kind: "list"; element: TypeExpr; nullable: boolean; span: Span }
  | { kind: "map"; key: TypeExpr; value: TypeExpr; nullable: boolean; span: Span }
  | { kind: "struct"; fields: FieldDecl[]; nullable: boolean; span: Span }
  /** A schema's name used as a struct type, or an unknown type name (the checker decides). */
  | { kind: "named"; name: Name; nullable: boolean; span: Span };

// ---- transforms -----------------------------------------------------------------------------

export type Transform =
  | { kind: "where"; condition: Expr; span: Span }
  | { kind: "select"; items: SelectItem[]; span: Span }
  | { kind: "extend"; items: MaybeNamedExpr[]; span: Span }
  | { kind: "explode"; item: MaybeNamedExpr; span: Span }
  | { kind: "watermark"; column: Expr; delay: Expr; span: Span }
  | { kind: "window"; window: WindowSpec; span: Span }
  | { kind: "aggregate"; items: MaybeNamedExpr[]; by: MaybeNamedExpr[]; span: Span }
  | { kind: "dedup"; keys: Expr[]; within: Expr | undefined; span: Span }
  | { kind: "join"; joinType: "inner" | "left"; right: Name; on: Expr; within: Expr | undefined; span: Span }
  | { kind: "union"; streams: Name[]; span: Span };

export type TransformKind = Transform["kind"];

export type SelectItem =
  | { kind: "named"; name: Name; expr: Expr; span: Span }
  /** A bare expression; legal when it is a column or field reference (it keeps its name). */
  | { kind: "expr"; expr: Expr; span: Span }
  | { kind: "star"; except: Name[]; span: Span };

/**
 * `NAME = EXPR`, or a bare `EXPR` (then `name` is undefined): `extend`, `explode` and `aggregate`
 * items and `by` keys. A bare column or field reference keeps its name; the checker reports any
 * other bare expression where a name is needed.
 */
export interface MaybeNamedExpr {
  name: Name | undefined;
  expr: Expr;
  span: Span;
}

export type WindowSpec =
  | { kind: "tumbling"; size: Expr; span: Span }
  | { kind: "hopping"; size: Expr; slide: Expr; span: Span }
  | { kind: "session"; gap: Expr; span: Span };

// ---- expressions ----------------------------------------------------------------------------

export type BinaryOp = "??" | "or" | "and" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%";

export interface StringLit {
  kind: "literal";
  literal: { type: "string"; value: string };
  span: Span;
}

export type Literal =
  /** An integer as written, underscores removed; the checker decides int or long. */
  | { type: "integer"; digits: string }
  | { type: "double"; value: number; text: string }
  | { type: "string"; value: string }
  | { type: "bool"; value: boolean }
  | { type: "null" }
  /** A duration in microseconds. */
  | { type: "duration"; micros: number; text: string }
  /** A size in bytes. */
  | { type: "size"; bytes: number; text: string }
  /** `timestamp "..."` / `date "..."`: the text is validated by the checker. */
  | { type: "timestamp"; text: string }
  | { type: "date"; text: string };

export type Expr =
  | { kind: "literal"; literal: Literal; span: Span }
  | { kind: "column"; name: Name; span: Span }
  | { kind: "field"; target: Expr; field: Name; span: Span }
  | { kind: "index"; target: Expr; index: Expr; span: Span }
  /** `f(a, b)`; `f(*)` sets `star` (as in `count(*)`). */
  | { kind: "call"; callee: Name; args: Expr[]; star: boolean; span: Span }
  | { kind: "unary"; op: "-" | "not"; operand: Expr; span: Span }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr; opSpan: Span; span: Span }
  | { kind: "in"; operand: Expr; list: Expr[]; negated: boolean; span: Span }
  | { kind: "isNull"; operand: Expr; negated: boolean; span: Span }
  | { kind: "like"; operand: Expr; pattern: Expr; negated: boolean; span: Span }
  | { kind: "case"; whens: { condition: Expr; result: Expr; span: Span }[]; otherwise: Expr | undefined; span: Span }
  | { kind: "if"; condition: Expr; then: Expr; otherwise: Expr; span: Span }
  | { kind: "cast"; operand: Expr; type: TypeExpr; span: Span }
  /** Stands where the parser recovered from an error; never reported again. */
  | { kind: "error"; span: Span };

export type ExprKind = Expr["kind"];

/** Closes a `switch` over a tagged union: a new kind fails to compile until it is handled. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
