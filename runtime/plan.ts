/**
 * The plan contract between the compiler and the runtime.
 *
 * Contract: everything here is plain JSON-serialisable data. The compiler produces it; the runtime
 * consumes it and never imports `grammar/` or `compiler/`. A change here is a change of the
 * checkpoint format (plan.json) and must keep old checkpoints readable or say why not.
 */

/** A column type. `nullable` lives on the `Field`, not the type. */
export type DataType =
  | { kind: "bool" }
  | { kind: "int" }
  | { kind: "long" }
  | { kind: "double" }
  | { kind: "decimal"; precision: number; scale: number }
  | { kind: "string" }
  | { kind: "bytes" }
  | { kind: "date" }
  | { kind: "timestamp" }
  /** A length of time, in microseconds: durations in expressions (`ts + 5m`). */
  | { kind: "duration" }
  | { kind: "list"; element: Field }
  /** Keys are always non-null strings. */
  | { kind: "map"; value: Field }
  | { kind: "struct"; fields: Field[] }
  /** The type of a bare `null` literal: fits any nullable slot. */
  | { kind: "null" };

export type DataTypeKind = DataType["kind"];

/** A named, typed column or struct field. */
export interface Field {
  name: string;
  type: DataType;
  nullable: boolean;
}

/** An ordered list of fields; names are unique within a schema. */
export interface Schema {
  fields: Field[];
}

/**
 * A stateful operator's declared state: how its state is keyed, what it stores per key, and the
 * version of its layout. The compatibility check and `explain` read this one declaration.
 */
export interface StateSchema {
  /** Stable id: `STREAM.KIND`, with `#N` when one stream holds several of one kind. */
  operatorId: string;
  operatorKind: "window-aggregate" | "aggregate" | "dedup" | "join";
  key: Schema;
  value: Schema;
  version: number;
  /** What the state means, beyond its layout (runtime/checkpoint/compat.ts compares it). */
  semantics: StateSemantics;
}

/**
 * What a stateful operator computes, as the compatibility check needs it: the schemas alone cannot
 * tell `min(x)` from `max(x)`, or a 10m window from a 5m one. Expressions are canonical source
 * text (the compiler's expression printer, as `streamc explain` shows them); durations are written
 * in their largest whole unit (`10m`, `90s`). Plain JSON.
 */
export type StateSemantics =
  | {
      kind: "aggregate";
      /** `tumbling 10m`, `hopping 10m every 5m` or `session 30m`; undefined without a window. */
      window: string | undefined;
      /** The column windows are assigned on; undefined without a window. */
      eventTime: string | undefined;
      /** The `by` keys, in order: output name and expression. */
      keys: { name: string; expr: string }[];
      /** Every aggregate call, in the order of the plan's `calls` (the snapshot's positional order). */
      aggregates: StateAggregate[];
    }
  | {
      kind: "dedup";
      keys: string[];
      /** `within` as written (`1h`); undefined without it. */
      within: string | undefined;
      eventTime: string | undefined;
    }
  | {
      kind: "join";
      joinType: "inner" | "left";
      /** The joined (right) stream. */
      right: string;
      /** The condition, over the left columns and the right columns as named in the output. */
      on: string;
      within: string;
      leftEventTime: string | undefined;
      rightEventTime: string | undefined;
    };

/** One aggregate call's state, as `StateSemantics` records it. */
export interface StateAggregate {
  /**
   * The prefix of its state fields, which identifies it across program versions: the item's name
   * (`revenue`), or `NAME.I` for the I-th call of an item with several (`ratio.2`).
   */
  name: string;
  /** stdlib aggregate name. */
  fn: string;
  /** Each argument as source text. */
  args: string[];
  /** As the plan's `AggregateCall` holds them: the accumulator is built from these. */
  argTypes: Field[];
  result: Field;
}

// ---- the physical plan --------------------------------------------------------------------------
//
// What `streamc compile` writes to NAME.plan.json and the engine runs. Expressions are not in it:
// they are compiled to functions in the generated kernel module (see runtime/kernel.ts), and the
// plan names them by their index in that module's `kernels` array.

/** A string as written: a literal, or an environment variable read when the program starts. */
export type StringSetting =
  | { kind: "literal"; value: string }
  | { kind: "env"; variable: string; fallback: string | undefined };

/** An option's value, as the runtime reads it. */
export type SettingValue =
  | { kind: "string"; value: StringSetting }
  | { kind: "integer"; value: number }
  | { kind: "size"; bytes: number }
  /** a bare word: `json`, `earliest`, `append`, `once`, `available_now` */
  | { kind: "word"; word: string }
  | { kind: "timestamp"; micros: number }
  /** `trigger = every 30s` */
  | { kind: "every"; micros: number }
  /** `partition_by = [a, b]` */
  | { kind: "columns"; columns: string[] }
  /** `deadletter = table "data/rejects"` */
  | { kind: "connector"; connector: string; target: StringSetting };

export type Settings = Record<string, SettingValue>;

/** Index of a kernel in the generated module's `kernels` array. */
export type KernelRef = number;

export type WindowSpec =
  | { kind: "tumbling"; sizeMicros: number }
  | { kind: "hopping"; sizeMicros: number; slideMicros: number }
  | { kind: "session"; gapMicros: number };

/** One aggregate function call inside an `aggregate`: `sum(price * quantity)`. */
export interface AggregateCall {
  /** stdlib aggregate name: `count`, `sum`, ... (`count()` has no args). */
  fn: string;
  /** Value kernels over the aggregate's input, one per argument. */
  args: KernelRef[];
  /** Types of the arguments and of the result. */
  argTypes: Field[];
  result: Field;
}

interface NodeBase {
  /** Unique in the plan: the stateful operator's id, or `STREAM/N` for the N-th transform of a stream. */
  id: string;
  /** Ids of the nodes or sources whose rows this node reads, in order (a join: left, right). */
  inputs: string[];
  /** The node's output columns. */
  schema: Schema;
}

/**
 * One operator of the dataflow. Nodes are in dependency order: a node's inputs come before it.
 * Kernels are compiled over the node's (first) input schema unless stated otherwise.
 */
export type NodeSpec = NodeBase &
  (
    | { kind: "filter"; predicate: KernelRef }
    /** `select`/`extend`: each output column computed by a value kernel. */
    | { kind: "project"; columns: { name: string; kernel: KernelRef }[] }
    /** One row per element of `list` (a value kernel giving a list); the element replaces or adds column `name`. */
    | { kind: "explode"; name: string; list: KernelRef }
    | { kind: "watermark"; column: string; delayMicros: number }
    /**
     * Grouped aggregation, windowed when `window` is set (then `eventTime` is the watermark column).
     * Output columns: `window_start`, `window_end` (when windowed), the keys, then `outputs`.
     * `outputs` kernels are compiled over the schema (window columns, keys, `__agg0`, `__agg1`, ...),
     * where `__aggI` is the result of `calls[I]`.
     */
    | {
        kind: "aggregate";
        window: WindowSpec | undefined;
        eventTime: string | undefined;
        keys: { name: string; kernel: KernelRef }[];
        calls: AggregateCall[];
        outputs: { name: string; kernel: KernelRef }[];
      }
    /** Drops rows whose key columns were seen before; with `withinMicros`, state expires with the watermark on `eventTime`. */
    | { kind: "dedup"; keys: string[]; withinMicros: number | undefined; eventTime: string | undefined }
    /**
     * `interval`: both inputs are watermarked streams; rows match when `on` holds and their event
     * times are at most `withinMicros` apart. `lookup`: the right input is a bounded source, read whole.
     * `on` is compiled over the joined schema (left columns, then right columns renamed per `rightColumns`).
     * `equiKeys` are the `left == right` column pairs found in `on`, for hashing.
     */
    | {
        kind: "join";
        joinType: "inner" | "left";
        mode: "interval" | "lookup";
        on: KernelRef;
        withinMicros: number | undefined;
        leftEventTime: string | undefined;
        rightEventTime: string | undefined;
        rightColumns: { from: string; as: string }[];
        equiKeys: { left: string; right: string }[];
      }
    /** Rows of all inputs; same schema. */
    | { kind: "union" }
  );

export type NodeKind = NodeSpec["kind"];

export interface SourceSpec {
  /** The source's name in the program. */
  id: string;
  connector: string;
  target: StringSetting | undefined;
  options: Settings;
  schema: Schema;
}

export interface SinkSpec {
  /** `STREAM.CONNECTOR`, `#N` for further ones. */
  id: string;
  /** The node or source whose rows it writes. */
  input: string;
  connector: string;
  target: StringSetting | undefined;
  mode: "append" | "update" | "complete";
  options: Settings;
  /** Kafka sinks: a value kernel over the input schema giving the record key. */
  key: KernelRef | undefined;
  schema: Schema;
}

/** A literal in a test row: `null`, a boolean, a number, a string, or micros/days for times. */
export type TestValue = null | boolean | number | string | { timestamp: number } | { date: number } | { decimal: string };

export interface TestSpec {
  name: string;
  steps: (
    | { kind: "input"; source: string; rows: Record<string, TestValue>[] }
    | { kind: "advanceWatermark"; micros: number }
    /** `stream` is the id of the node (or source) whose output is expected. */
    | { kind: "expect"; stream: string; streamName: string; rows: Record<string, TestValue>[] }
  )[];
}

export interface PhysicalPlan {
  format: "streamc-plan/1";
  pipeline: { name: string; options: Settings };
  sources: SourceSpec[];
  nodes: NodeSpec[];
  sinks: SinkSpec[];
  /** Every stateful operator's state, as `explain` and the compatibility check see it. */
  state: StateSchema[];
  /**
   * Each stream's name, the id of the node (or source) that outputs it, and whether its rows are
   * revised as input arrives (an aggregate without a window upstream) rather than only appended.
   */
  streams: { name: string; output: string; updating: boolean }[];
  /** `import fn` modules, bundled into the kernel module. */
  imports: { name: string; from: string }[];
  tests: TestSpec[];
}
