/**
 * Physical planning: the logical plan turned into the runtime's dataflow (runtime/plan.ts's
 * `PhysicalPlan`), with every expression taken out into a list of kernels to compile.
 *
 * Contract: `physicalPlan` is a pure function of a logical plan (of a program without errors). The
 * plan it returns is plain JSON (a JSON round trip gives an equal plan); the plan refers to
 * kernels by their index in `kernels`, which codegen.ts compiles in that order. Node ids are the
 * state's operator id for stateful operators and `STREAM/N` for the N-th transform of a stream
 * otherwise (`N` counts every transform from 1, so adding a stateful operator never renames a
 * stateless one before it); should a user's names make two ids equal, the later one gets `~2`,
 * `~3`, .... A stream without transforms outputs its input directly (`streams[].output`).
 */
import { assertNever } from "../../grammar/ast.ts";
import type { DataType, Field, NodeSpec, PhysicalPlan, Schema, SettingValue, Settings, SinkSpec, SourceSpec, TestSpec, TestValue } from "../../runtime/plan.ts";
import { parseTimestampMicros } from "../../runtime/time.ts";
import type { OptionSetting } from "../connectors.ts";
import type { LiteralValue, LogicalNode, LogicalPlan, StreamPlan, TestPlan, TypedExpr } from "../logical/plan.ts";
import { aggregateParts } from "./aggregate.ts";
import { equiJoinKeys } from "../logical/join-keys.ts";
import { type KernelSource, columnType } from "./kernel-source.ts";

export type { KernelSource };


export interface PhysicalPlanResult {
  plan: PhysicalPlan;
  kernels: KernelSource[];
}


export function physicalPlan(logical: LogicalPlan): PhysicalPlanResult {
  return new Planner(logical).plan();
}

class Planner {
  private readonly kernels: KernelSource[] = [];
  private readonly nodes: NodeSpec[] = [];
  private readonly ids = new Set<string>();
  /** Stream or source name -> the id of the node or source that outputs its rows. */
  private readonly outputs = new Map<string, string>();
  /** Stream or source name -> its schema. */
  private readonly schemas = new Map<string, Schema>();
  /** Stream name -> its event-time column after its last transform. */
  private readonly eventTimes = new Map<string, string | undefined>();

  constructor(private readonly logical: LogicalPlan) {}

  plan(): PhysicalPlanResult {
    const logical = this.logical;
    const sources: SourceSpec[] = logical.sources.map((source) => {
      this.claim(source.name);
      this.outputs.set(source.name, source.name);
      this.schemas.set(source.name, source.schema);
      return { id: source.name, connector: source.connector, target: source.target, options: settings(source.options), schema: source.schema };
    });
    const streams = logical.streams.map((stream) => {
      const output = this.stream(stream);
      return { name: stream.name, output, updating: stream.output === "updating" };
    });
    const sinks: SinkSpec[] = logical.sinks.map((sink) => {
      const input = this.outputOf(sink.stream);
      const schema = this.schemas.get(sink.stream)!;
      const options = Object.fromEntries(Object.entries(sink.options).filter(([name]) => name !== "key" && name !== "mode"));
      const key = sink.key ? this.value(sink.key, schema, { name: "key", type: columnType(sink.key.type), nullable: sink.key.nullable }) : undefined;
      return { id: sink.id, input, connector: sink.connector, target: sink.target, mode: sink.mode, options: settings(options), key, schema };
    });
    const plan: PhysicalPlan = {
      format: "streamc-plan/1",
      pipeline: { name: logical.pipeline.name, options: settings(logical.pipeline.options) },
      sources,
      nodes: this.nodes,
      sinks,
      state: logical.state,
      streams,
      imports: logical.imports.map((fn) => ({ name: fn.name, from: fn.from })),
      tests: logical.tests.map((test) => this.test(test)),
    };
    return { plan, kernels: this.kernels };
  }

  private outputOf(name: string): string {
    const id = this.outputs.get(name);
    if (id === undefined) throw new Error(`internal: ${JSON.stringify(name)} is planned after a stream that reads it`);
    return id;
  }

  /** Takes `id`, or `id~2`, `id~3`, ... when a user's names already made it. */
  private claim(id: string): string {
    let unique = id;
    for (let n = 2; this.ids.has(unique); n++) unique = `${id}~${n}`;
    this.ids.add(unique);
    return unique;
  }

  private value(expr: TypedExpr, input: Schema, output: Field): number {
    this.kernels.push({ kind: "value", expr, input, output });
    return this.kernels.length - 1;
  }

  private predicate(expr: TypedExpr, input: Schema): number {
    this.kernels.push({ kind: "predicate", expr, input });
    return this.kernels.length - 1;
  }

  /** Plans a stream's transforms; returns the id that outputs the stream. */
  private stream(stream: StreamPlan): string {
    const [first, ...transforms] = stream.nodes;
    if (first?.kind !== "input") throw new Error(`internal: stream ${JSON.stringify(stream.name)} does not start with its input`);
    let previous = this.outputOf(first.from);
    let schema = first.schema;
    let eventTime = first.fromKind === "stream" ? this.eventTimes.get(first.from) : undefined;
    transforms.forEach((node, index) => {
      if (node.kind === "input") throw new Error(`internal: stream ${JSON.stringify(stream.name)} has a second input`);
      const id = this.claim(stateId(node) ?? `${stream.name}/${index + 1}`);
      this.nodes.push(this.node(node, id, previous, schema, eventTime));
      eventTime = eventTimeAfter(node, eventTime, (name) => this.eventTimes.get(name));
      previous = id;
      schema = node.schema;
    });
    this.outputs.set(stream.name, previous);
    this.schemas.set(stream.name, stream.schema);
    this.eventTimes.set(stream.name, eventTime);
    return previous;
  }

  private node(node: Exclude<LogicalNode, { kind: "input" }>, id: string, input: string, inputSchema: Schema, eventTime: string | undefined): NodeSpec {
    const base = { id, inputs: [input], schema: node.schema };
    switch (node.kind) {
      case "filter":
        return { ...base, kind: "filter", predicate: this.predicate(node.predicate, inputSchema) };
      case "project":
        return {
          ...base,
          kind: "project",
          columns: node.columns.map((column, i) => ({ name: column.name, kernel: this.value(column.expr, inputSchema, node.schema.fields[i]!) })),
        };
      case "explode":
        return { ...base, kind: "explode", name: node.name, list: this.value(node.list, inputSchema, { name: node.name, type: columnType(node.list.type), nullable: node.list.nullable }) };
      case "watermark":
        return { ...base, kind: "watermark", column: node.watermark.column, delayMicros: node.watermark.delayMicros };
      case "aggregate": {
        const parts = aggregateParts(node);
        return {
          ...base,
          kind: "aggregate",
          window: node.window,
          eventTime: node.eventTime,
          keys: node.keys.map((key, i) => ({ name: key.name, kernel: this.value(key.expr, inputSchema, parts.keyFields[i]!) })),
          calls: parts.calls.map((call) => ({
            fn: call.fn,
            args: call.args.map((arg, i) => this.value(arg, inputSchema, call.argTypes[i]!)),
            argTypes: call.argTypes,
            result: call.result,
          })),
          outputs: parts.outputs.map((output) => ({ name: output.name, kernel: this.value(output.expr, parts.outputSchema, output.field) })),
        };
      }
      case "dedup":
        return { ...base, kind: "dedup", keys: node.keys, withinMicros: node.withinMicros, eventTime: node.eventTime };
      case "join": {
        return {
          ...base,
          inputs: [input, this.outputOf(node.right)],
          kind: "join",
          joinType: node.joinType,
          mode: node.mode,
          on: this.predicate(node.on, node.schema),
          withinMicros: node.withinMicros,
          leftEventTime: node.mode === "interval" ? eventTime : undefined,
          rightEventTime: node.mode === "interval" ? this.eventTimes.get(node.right) : undefined,
          rightColumns: node.rightColumns,
          equiKeys: equiJoinKeys(node.on, inputSchema, node.rightColumns),
        };
      }
      case "union":
        return { ...base, inputs: [input, ...node.others.map((other) => this.outputOf(other))], kind: "union" };
      default:
        return assertNever(node);
    }
  }

  private test(test: TestPlan): TestSpec {
    return {
      name: test.name,
      steps: test.steps.map((step): TestSpec["steps"][number] => {
        switch (step.kind) {
          case "input":
            return { kind: "input", source: step.source, rows: step.rows.map((row) => testRow(row, this.schemas.get(step.source))) };
          case "advanceWatermark":
            return { kind: "advanceWatermark", micros: step.micros };
          case "expect":
            return { kind: "expect", stream: this.outputOf(step.stream), streamName: step.stream, rows: step.rows.map((row) => testRow(row, this.schemas.get(step.stream))) };
          default:
            return assertNever(step);
        }
      }),
    };
  }
}

function stateId(node: LogicalNode): string | undefined {
  switch (node.kind) {
    case "aggregate":
    case "dedup":
      return node.state.operatorId;
    case "join":
      return node.state?.operatorId;
    default:
      return undefined;
  }
}

/**
 * The event-time column after `node`, as the language defines how a watermark follows a stream
 * (the checker's `StreamPlan.watermark` gives it only after the last transform).
 */
function eventTimeAfter(node: LogicalNode, current: string | undefined, ofStream: (name: string) => string | undefined): string | undefined {
  switch (node.kind) {
    case "input":
    case "filter":
    case "dedup":
    case "join":
      return current;
    case "watermark":
      return node.watermark.column;
    case "project": {
      if (current === undefined) return undefined;
      const kept = node.columns.find((c) => c.expr.kind === "column" && c.expr.name === current);
      return kept?.name;
    }
    case "explode":
      return node.name === current ? undefined : current;
    case "aggregate":
      return undefined;
    case "union":
      return current !== undefined && node.others.every((other) => ofStream(other) === current) ? current : undefined;
    default:
      return assertNever(node);
  }
}

// ---- options ------------------------------------------------------------------------------------

/** Options as the runtime reads them; `expression` options (a sink's `key`) are planned as kernels instead. */
export function settings(options: Record<string, OptionSetting>): Settings {
  const out: Settings = {};
  for (const [name, option] of Object.entries(options)) {
    const value = setting(option);
    if (value) out[name] = value;
  }
  return out;
}

function setting(option: OptionSetting): SettingValue | undefined {
  switch (option.kind) {
    case "string":
      return { kind: "string", value: option.value };
    case "integer":
      return { kind: "integer", value: option.value };
    case "size":
      return { kind: "size", bytes: option.bytes };
    case "word":
      return { kind: "word", word: option.word };
    case "timestamp": {
      const micros = parseTimestampMicros(option.text);
      if (micros === undefined) throw new Error(`internal: the checker let through the timestamp ${JSON.stringify(option.text)}`);
      return { kind: "timestamp", micros };
    }
    case "every":
      return { kind: "every", micros: option.micros };
    case "columns":
      return { kind: "columns", columns: option.columns.map((c) => c.text) };
    case "expression":
      return undefined;
    case "connector":
      return { kind: "connector", connector: option.connector, target: option.target };
    default:
      return assertNever(option);
  }
}

// ---- test values --------------------------------------------------------------------------------

function testRow(row: Record<string, LiteralValue>, schema: Schema | undefined): Record<string, TestValue> {
  const out: Record<string, TestValue> = {};
  for (const [name, value] of Object.entries(row)) {
    out[name] = testValue(value, schema?.fields.find((f) => f.name === name)?.type);
  }
  return out;
}

/** A test row's literal as the runtime reads it: a decimal column's value as exact text. */
export function testValue(value: LiteralValue, type: DataType | undefined): TestValue {
  switch (value.type) {
    case "null":
      return null;
    case "bool":
      return value.value;
    case "integer":
      return type?.kind === "decimal" ? { decimal: value.digits } : Number(value.digits);
    case "double":
      return type?.kind === "decimal" ? { decimal: decimalText(value.value, type.scale) } : value.value;
    case "string":
      return value.value;
    case "timestamp":
      return { timestamp: value.micros };
    case "date":
      return { date: value.days };
    case "duration":
      return value.micros;
    case "size":
      return value.bytes;
    default:
      return assertNever(value);
  }
}

/** A double's exact decimal text at `scale` digits (the checker allows at most `scale` decimals). */
function decimalText(value: number, scale: number): string {
  if (Math.abs(value) < 1e21) return value.toFixed(Math.min(100, scale));
  return BigInt(value).toString();
}
