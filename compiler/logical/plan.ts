/**
 * The logical plan: what the type checker produces from a program, and what `explain`, the
 * compatibility check and physical planning read.
 *
 * Contract: a plan is built only for a program without errors. Every expression in it is typed;
 * every node carries its output schema and the span of the source it came from. Nodes are
 * immutable; rewrite rules return new nodes. `kind` discriminates every union; switches over it
 * end in `assertNever`.
 */
import type { Span, BinaryOp } from "../../grammar/ast.ts";
import type { DataType, Field, Schema, StateSchema } from "../../runtime/plan.ts";
import type { OptionSetting, StringSetting } from "../connectors.ts";

// ---- typed expressions ------------------------------------------------------------------------

export type LiteralValue =
  | { type: "null" }
  | { type: "bool"; value: boolean }
  /** int and long values, as decimal text so that a long survives JSON. */
  | { type: "integer"; digits: string }
  | { type: "double"; value: number }
  | { type: "string"; value: string }
  /** timestamps and durations in microseconds, dates in days since 1970-01-01. */
  | { type: "timestamp"; micros: number; text: string }
  | { type: "date"; days: number; text: string }
  | { type: "duration"; micros: number; text: string }
  | { type: "size"; bytes: number; text: string };

interface Typed {
  type: DataType;
  nullable: boolean;
  span: Span;
}

export type TypedExpr = Typed &
  (
    | { kind: "literal"; value: LiteralValue }
    | { kind: "column"; name: string }
    | { kind: "field"; target: TypedExpr; name: string }
    | { kind: "index"; target: TypedExpr; index: TypedExpr }
    /** A built-in scalar, or an imported function when `imported` is set. */
    | { kind: "call"; name: string; args: TypedExpr[]; imported: boolean }
    | { kind: "aggregate"; name: string; args: TypedExpr[] }
    | { kind: "unary"; op: "-" | "not"; operand: TypedExpr }
    | { kind: "binary"; op: BinaryOp; left: TypedExpr; right: TypedExpr }
    | { kind: "in"; operand: TypedExpr; list: TypedExpr[]; negated: boolean }
    | { kind: "isNull"; operand: TypedExpr; negated: boolean }
    | { kind: "like"; operand: TypedExpr; pattern: TypedExpr; negated: boolean }
    | { kind: "case"; whens: { condition: TypedExpr; result: TypedExpr }[]; otherwise: TypedExpr | undefined }
    | { kind: "cast"; operand: TypedExpr }
  );

export type TypedExprKind = TypedExpr["kind"];

// ---- nodes ------------------------------------------------------------------------------------

export interface NamedTypedExpr {
  name: string;
  expr: TypedExpr;
}

export type WindowPlan =
  | { kind: "tumbling"; sizeMicros: number }
  | { kind: "hopping"; sizeMicros: number; slideMicros: number }
  | { kind: "session"; gapMicros: number };

/** A watermark as it flows down a stream: the event-time column and its delay. */
export interface WatermarkPlan {
  column: string;
  delayMicros: number;
}

interface NodeBase {
  /** Columns this node outputs. */
  schema: Schema;
  span: Span;
}

export type LogicalNode = NodeBase &
  (
    /** The rows of a source or another stream. */
    | { kind: "input"; from: string; fromKind: "source" | "stream" }
    | { kind: "filter"; predicate: TypedExpr }
    /** `select` and `extend`: the output columns in order, each an expression over the input. */
    | { kind: "project"; columns: NamedTypedExpr[]; origin: "select" | "extend" }
    | { kind: "explode"; name: string; list: TypedExpr }
    | { kind: "watermark"; watermark: WatermarkPlan }
    | { kind: "aggregate"; window: WindowPlan | undefined; keys: NamedTypedExpr[]; aggregates: NamedTypedExpr[]; eventTime: string | undefined; state: StateSchema }
    | { kind: "dedup"; keys: string[]; withinMicros: number | undefined; eventTime: string | undefined; state: StateSchema }
    | {
        kind: "join";
        joinType: "inner" | "left";
        right: string;
        /** `interval`: both sides are watermarked streams; `lookup`: the right side is a bounded source. */
        mode: "interval" | "lookup";
        on: TypedExpr;
        withinMicros: number | undefined;
        /** Right-side columns as they appear in the output (renamed on a clash). */
        rightColumns: { from: string; as: string }[];
        state: StateSchema | undefined;
      }
    | { kind: "union"; others: string[] }
  );

export type LogicalNodeKind = LogicalNode["kind"];

/** How a stream's rows change over time, after its last transform. */
export type StreamOutput =
  /** Rows are only ever added (sources, stateless transforms, windowed aggregates). */
  | "append"
  /** Rows are results that are revised as input arrives (an aggregate without a window). */
  | "updating";

export interface StreamPlan {
  name: string;
  nodes: LogicalNode[];
  schema: Schema;
  output: StreamOutput;
  /** An aggregate is upstream, so `mode = complete` can emit the whole result. */
  aggregated: boolean;
  watermark: WatermarkPlan | undefined;
  span: Span;
}

export interface SourcePlan {
  name: string;
  connector: string;
  target: StringSetting | undefined;
  options: Record<string, OptionSetting>;
  schema: Schema;
  span: Span;
}

export interface SinkPlan {
  /** `STREAM.CONNECTOR`, with `#N` for a second sink of one stream to one connector. */
  id: string;
  stream: string;
  connector: string;
  target: StringSetting | undefined;
  mode: "append" | "update" | "complete";
  options: Record<string, OptionSetting>;
  key: TypedExpr | undefined;
  span: Span;
}

export interface ImportedFunction {
  name: string;
  params: Field[];
  returns: Field;
  /** As written, relative to the `.stream` file. */
  from: string;
}

export interface TestPlan {
  name: string;
  steps: (
    | { kind: "input"; source: string; rows: Record<string, LiteralValue>[] }
    | { kind: "advanceWatermark"; micros: number }
    | { kind: "expect"; stream: string; rows: Record<string, LiteralValue>[] }
  )[];
}

export interface LogicalPlan {
  pipeline: { name: string; options: Record<string, OptionSetting> };
  sources: SourcePlan[];
  /** In dependency order: a stream comes after every stream it reads. */
  streams: StreamPlan[];
  sinks: SinkPlan[];
  imports: ImportedFunction[];
  tests: TestPlan[];
  /** Every stateful operator's declared state, in plan order. */
  state: StateSchema[];
}
