/**
 * The program checker: types every declaration against its schemas, enforces the streaming rules
 * (watermarks, windows, aggregates, sink modes, options), and builds the logical plan.
 *
 * Contract: reports every problem it finds into the sink and returns a `LogicalPlan` only when the
 * program has no errors. It reads the resolved program and never changes it. Stateful operators get
 * their stable ids (`STREAM.KIND`, then `STREAM.KIND#2`, ... for further ones of a kind in one
 * stream) and their state schemas here, with what the state means (state-semantics.ts).
 */
import { basename } from "node:path";
import type * as ast from "../grammar/ast.ts";
import { assertNever } from "../grammar/ast.ts";
import { TIMESTAMP, formatField, formatName, formatType, isAssignable, isEquatable, sameType } from "../runtime/data-type.ts";
import type { Field, Schema, StateSchema } from "../runtime/plan.ts";
import { kafkaRawColumns, rawColumnProblem } from "../runtime/sources/kafka-raw-columns.ts";
import { aggregateFunctions } from "../stdlib/aggregate-functions.ts";
import {
  pipelineOptions, sinkConnectors, sourceConnectors, validateOptions, validateTarget,
  type ConnectorRole, type OptionOwner, type OptionSetting, type StringSetting, type ValidatedOptions,
} from "./connectors.ts";
import type { DiagnosticSink } from "./diagnostics.ts";
import type {
  ImportedFunction, LiteralValue, LogicalNode, LogicalPlan, NamedTypedExpr, SinkPlan, SourcePlan, StreamPlan, TestPlan, TypedExpr,
  WatermarkPlan, WindowPlan,
} from "./logical/plan.ts";
import { equiJoinKeys } from "./logical/join-keys.ts";
import type { Resolved } from "./resolve.ts";
import { suggest } from "./suggest.ts";
import { argInfo, checkExpr, conditionHint, isStandIn, nonNullWhenTrue, type AggregateScope, type ColumnScope, type ExprContext } from "./typecheck-expression.ts";
import { resolveFields, resolveType, type SchemaLookup } from "./types.ts";
import { aggregateSemantics, dedupSemantics, joinSemantics } from "./state-semantics.ts";

/** A source or stream as seen by the streams that read it. */
interface Relation {
  name: string;
  kind: "source" | "stream";
  fields: Field[];
  watermark: WatermarkPlan | undefined;
  output: StreamPlan["output"];
  /** The id of the last aggregate upstream, if any: `mode = complete` can emit it, and every sink it feeds shares one output mode. */
  aggregate: string | undefined;
  /** Sources only: its connector, to tell bounded (table, files) from unbounded ones. */
  connector: string | undefined;
}

/** What is known about a stream between two of its transforms. */
interface Flow {
  fields: Field[];
  watermark: WatermarkPlan | undefined;
  /** The event-time column a `select` removed, for a better diagnostic than "no watermark". */
  droppedEventTime: string | undefined;
  output: StreamPlan["output"];
  aggregate: string | undefined;
  /** A `window` waiting for its `aggregate`; `window` is undefined when its spec was wrong (and reported). */
  pendingWindow: { window: WindowPlan | undefined; span: ast.Span } | undefined;
  /** Streams joined so far: each column's name, mapped to its output name (for hints on `right.col`). */
  joined: Map<string, Map<string, string>>;
}

export function typecheck(resolved: Resolved, sink: DiagnosticSink): LogicalPlan | undefined {
  return new ProgramChecker(resolved, sink).run();
}

class ProgramChecker {
  private readonly schemaFields = new Map<string, Field[] | "resolving">();
  /** The schemas being resolved, outermost first: the path of a cycle. */
  private readonly schemaPath: string[] = [];
  private readonly relations = new Map<string, Relation>();
  private readonly imports = new Map<string, ImportedFunction>();
  private readonly streamNames: Set<string>;
  private readonly state: StateSchema[] = [];

  constructor(
    private readonly resolved: Resolved,
    private readonly sink: DiagnosticSink,
  ) {
    this.streamNames = new Set([...resolved.declarations.values()].filter((d) => d.kind !== "schema").map((d) => d.decl.name.text));
  }

  run(): LogicalPlan | undefined {
    for (const declaration of this.resolved.declarations.values()) {
      if (declaration.kind === "schema") this.schema(declaration.decl);
    }
    for (const decl of this.resolved.imports.values()) this.importFn(decl);
    const pipeline = this.pipeline();
    const sources: SourcePlan[] = [];
    for (const declaration of this.resolved.declarations.values()) {
      if (declaration.kind === "source") {
        const source = this.source(declaration.decl);
        if (source) sources.push(source);
      }
    }
    const streams = this.resolved.streamOrder.map((decl) => this.stream(decl));
    const sinks = this.sinks(pipeline.options);
    const tests = this.tests();
    if (this.sink.errorCount > 0) return undefined;
    return { pipeline, sources, streams, sinks, imports: [...this.imports.values()], tests, state: this.state };
  }

  // ---- schemas, imports, pipeline -----------------------------------------------------------

  private readonly lookupSchema: SchemaLookup = (name) => {
    const declaration = this.resolved.declarations.get(name);
    if (!declaration) return undefined;
    if (declaration.kind !== "schema") return "not-a-schema";
    const fields = this.schema(declaration.decl);
    return { fields };
  };

  private schema(decl: ast.SchemaDecl): Field[] {
    const name = decl.name.text;
    const known = this.schemaFields.get(name);
    if (known === "resolving") {
      const path = [...this.schemaPath.slice(this.schemaPath.indexOf(name)), name].join(" -> ");
      this.sink.report("cycle", decl.name.span, { name, path }, "a schema cannot contain itself, directly or through another schema; refer to the other record by an id instead, e.g. `parent_id: string`");
      return [];
    }
    if (known) return known;
    this.schemaFields.set(name, "resolving");
    this.schemaPath.push(name);
    const fields = resolveFields(decl.fields, this.lookupSchema, this.sink);
    this.schemaPath.pop();
    this.schemaFields.set(name, fields);
    return fields;
  }

  private importFn(decl: ast.ImportFnDecl): void {
    const params = decl.params.map((p) => resolveType(p.type, p.name.text, this.lookupSchema, this.sink));
    const returns = resolveType(decl.returnType, "result", this.lookupSchema, this.sink);
    this.imports.set(decl.name.text, { name: decl.name.text, params, returns, from: decl.from.literal.value });
  }

  private pipeline(): LogicalPlan["pipeline"] {
    const decl = this.resolved.pipeline;
    // Without a declaration the run still has the pipeline's defaults (`retain_batches`, `late`).
    if (!decl) return { name: defaultPipelineName(this.resolved.location.path), options: settings(this.options(pipelineOptions, this.resolved.program.span, []).values) };
    const validated = this.options(pipelineOptions, decl.name.span, decl.options);
    return { name: decl.name.text, options: settings(validated.values) };
  }

  /** `validateOptions`, with a hint for each problem it reports without one: the option as it is written. */
  private options(owner: OptionOwner, span: ast.Span, options: readonly ast.OptionAssign[]): ValidatedOptions {
    const mark = this.sink.mark;
    const validated = validateOptions({ owner, span }, options, this.sink);
    this.sink.fillHints(mark, (d) => {
      const option = options.find((o) => o.span.start <= d.span.start && d.span.start < o.span.end);
      const spec = option && owner.options.get(option.name.text);
      if (d.key === "durationExpected") {
        const interval = option?.value.kind === "every" ? option.value.interval : undefined;
        if (interval?.kind === "literal" && interval.literal.type === "integer") return `add a unit: \`every ${interval.literal.digits}s\` or \`every ${interval.literal.digits}m\``;
        return `durations are a number glued to a unit: \`500ms\`, \`30s\`, \`10m\`, \`1h\`, \`7d\`${spec ? `, as in \`${spec.example}\`` : ""}`;
      }
      return spec ? `e.g. \`${spec.example}\`` : undefined;
    });
    return validated;
  }

  /** `validateTarget`, with a hint for each problem it reports without one. */
  private target(role: ConnectorRole, decl: ast.SourceDecl | ast.SinkDecl): StringSetting | undefined {
    const mark = this.sink.mark;
    const target = validateTarget(role, decl.target, decl.connector.span, this.sink);
    const what = role.connector === "table" ? "the table's path" : "the directory";
    this.sink.fillHints(mark, (d) => (d.key === "missingTarget" ? `write ${what} in quotes right after \`${role.connector}\`, or \`${role.connector} env("NAME", "${role.targetExample ?? "PATH"}")\`` : undefined));
    return target;
  }

  // ---- sources -----------------------------------------------------------------------------

  private source(decl: ast.SourceDecl): SourcePlan | undefined {
    const fields = this.sourceSchema(decl);
    const connectorName = decl.connector.text;
    const role = sourceConnectors.get(connectorName);
    let target: StringSetting | undefined;
    let options: Record<string, OptionSetting> = {};
    if (!role) {
      if (connectorName !== "") {
        this.sink.report("unknownSourceConnector", decl.connector.span, { name: connectorName }, unknownConnectorHint(connectorName, "source"));
      }
    } else {
      target = this.target(role, decl);
      const validated = this.options(role, decl.connector.span, decl.options);
      options = settings(validated.values);
      this.checkStartTimestamp(validated.values.get("start")?.setting, decl);
      const format = validated.values.get("format")?.setting;
      if (connectorName === "kafka" && format?.kind === "word" && format.word === "raw") this.checkRawKafkaColumns(decl, fields);
    }
    this.relations.set(decl.name.text, { name: decl.name.text, kind: "source", fields, watermark: undefined, output: "append", aggregate: undefined, connector: connectorName });
    return { name: decl.name.text, connector: connectorName, target, options, schema: { fields }, span: decl.span };
  }

  /**
   * A `raw` kafka source reads the record itself: only its columns, with their types
   * (runtime/sources/kafka-raw-columns.ts). Each bad field of an inline schema is reported where it
   * is written; a named schema's, at the source's schema name, in one diagnostic (the schema may
   * be imported, and one span takes one diagnostic).
   */
  private checkRawKafkaColumns(decl: ast.SourceDecl, fields: readonly Field[]): void {
    const columns = [...kafkaRawColumns.keys()];
    const problems = fields.flatMap((field) => {
      const problem = rawColumnProblem(field);
      if (problem === undefined) return [];
      const name = formatName(field.name);
      switch (problem.kind) {
        case "unknownColumn": {
          const close = suggest(field.name, columns);
          return [{
            field,
            nameOnly: true,
            reason: `a Kafka record has only ${columns.slice(0, -1).map((c) => `\`${c}\``).join(", ")} and \`${columns[columns.length - 1]}\``,
            hint: close !== undefined ? `did you mean \`${close}\`?` : "to read fields inside the value, use `format = json` or `format = csv`",
          }];
        }
        case "wrongType":
          return [{
            field,
            nameOnly: false,
            reason: `\`${name}\` is ${problem.types.map((t) => `\`${t}\``).join(" or ")}, not \`${formatField(field)}\``,
            hint: `declare it \`${name}: ${problem.types[0]}${field.nullable ? "?" : ""}\``,
          }];
        default:
          return assertNever(problem);
      }
    });
    if (problems.length === 0) return;
    if (decl.schema.kind === "inline") {
      for (const problem of problems) {
        const written = decl.schema.fields.find((f) => f.name.text === problem.field.name);
        this.sink.report("rawKafkaColumn", (problem.nameOnly ? written?.name.span : written?.type.span) ?? decl.schema.span, { name: problem.field.name, reason: problem.reason }, problem.hint);
      }
      return;
    }
    const [first, ...others] = problems;
    const also = others.length ? `; \`${decl.schema.name.text}\` also has ${others.map((p) => `\`${p.field.name}\``).join(", ")}, which a raw source cannot have` : "";
    this.sink.report("rawKafkaColumn", decl.schema.name.span, { name: first!.field.name, reason: first!.reason }, first!.hint + also);
  }

  private checkStartTimestamp(setting: OptionSetting | undefined, decl: ast.SourceDecl): void {
    if (setting?.kind !== "timestamp") return;
    const option = decl.options.find((o) => o.name.text === "start");
    if (option?.value.kind === "expr") checkExpr(option.value.expr, this.exprContext({ kind: "stream", stream: decl.name.text, fields: [] }));
  }

  private sourceSchema(decl: ast.SourceDecl): Field[] {
    const ref = decl.schema;
    if (ref.kind === "inline") return resolveFields(ref.fields, this.lookupSchema, this.sink);
    const name = ref.name.text;
    if (name === "") return [];
    const found = this.resolved.declarations.get(name);
    if (!found) {
      const schemas = [...this.resolved.declarations.values()].filter((d) => d.kind === "schema").map((d) => d.decl.name.text);
      const close = suggest(name, schemas);
      this.sink.report("unknownSchema", ref.name.span, { name }, close ? `did you mean \`${close}\`?` : `declare it: \`schema ${name} { field: type }\`, or write the fields inline: \`source ${decl.name.text}: { ... } = ...\``);
      return [];
    }
    if (found.kind !== "schema") {
      const schemaOf = found.kind === "source" && found.decl.schema.kind === "named" ? found.decl.schema.name.text : undefined;
      this.sink.report(
        "notASchema",
        ref.name.span,
        { name, actual: found.kind },
        schemaOf ? `\`${name}\` reads \`${schemaOf}\` records; to read the same, write \`source ${decl.name.text}: ${schemaOf} = ...\`` : "a source's type is a schema's name, or its fields inline: `{ name: type, ... }`",
      );
      return [];
    }
    return this.schema(found.decl);
  }

  // ---- streams -----------------------------------------------------------------------------

  private stream(decl: ast.StreamDecl): StreamPlan {
    const input = this.relations.get(decl.input.text);
    const nodes: LogicalNode[] = [];
    const flow: Flow = {
      fields: input?.fields ?? [],
      watermark: input?.watermark,
      droppedEventTime: undefined,
      output: input?.output ?? "append",
      aggregate: input?.aggregate,
      pendingWindow: undefined,
      joined: new Map(),
    };
    nodes.push({ kind: "input", from: decl.input.text, fromKind: input?.kind ?? "stream", schema: { fields: flow.fields }, span: decl.input.span });
    const kindCounts = new Map<string, number>();
    const operatorId = (kind: string): string => {
      const n = (kindCounts.get(kind) ?? 0) + 1;
      kindCounts.set(kind, n);
      return n === 1 ? `${decl.name.text}.${kind}` : `${decl.name.text}.${kind}#${n}`;
    };
    for (const transform of decl.transforms) {
      if (flow.pendingWindow && transform.kind !== "aggregate") {
        this.sink.report("windowWithoutAggregate", flow.pendingWindow.span, {}, "add `| aggregate n = count() by KEY` right after the window");
        flow.pendingWindow = undefined;
      }
      const node = this.transform(decl, transform, flow, operatorId);
      if (node) nodes.push(node);
    }
    if (flow.pendingWindow) {
      this.sink.report("windowWithoutAggregate", flow.pendingWindow.span, {}, "add `| aggregate n = count() by KEY` right after the window");
    }
    const plan: StreamPlan = { name: decl.name.text, nodes, schema: { fields: flow.fields }, output: flow.output, aggregated: flow.aggregate !== undefined, watermark: flow.watermark, span: decl.span };
    this.relations.set(decl.name.text, { name: decl.name.text, kind: "stream", fields: flow.fields, watermark: flow.watermark, output: flow.output, aggregate: flow.aggregate, connector: undefined });
    return plan;
  }

  private exprContext(scope: ColumnScope, aggregate?: AggregateScope): ExprContext {
    return {
      scope,
      sink: this.sink,
      imports: this.imports,
      schemas: this.lookupSchema,
      streamNames: this.streamNames,
      ...(aggregate ? { aggregate } : {}),
    };
  }

  private transform(decl: ast.StreamDecl, transform: ast.Transform, flow: Flow, operatorId: (kind: string) => string): LogicalNode | undefined {
    const scope: ColumnScope = { kind: "stream", stream: decl.name.text, fields: flow.fields, joined: flow.joined, input: decl.input.text };
    const span = transform.span;
    switch (transform.kind) {
      case "where": {
        const predicate = checkExpr(transform.condition, this.exprContext(scope));
        if (predicate.type.kind !== "bool" && predicate.type.kind !== "null") {
          this.sink.report("conditionNotBool", transform.condition.span, { context: "the `where` condition", type: formatType(predicate.type) }, conditionHint(predicate));
        }
        const nonNull = nonNullWhenTrue(predicate);
        flow.fields = flow.fields.map((f) => (nonNull.has(f.name) && f.nullable ? { ...f, nullable: false } : f));
        return { kind: "filter", predicate, schema: { fields: flow.fields }, span };
      }
      case "select":
        return this.select(transform, flow, scope);
      case "extend":
        return this.extend(transform, flow, scope);
      case "explode":
        return this.explode(transform, flow, scope);
      case "watermark":
        return this.watermark(transform, flow, scope);
      case "window": {
        if (flow.output === "updating") {
          this.sink.report("updatingStreamNotAllowed", span, { transform: "window" }, "window the rows before aggregating them");
        }
        this.requireWatermark(flow, "window", span);
        // A wrong spec is reported; the aggregate after it is still windowed, so that sinks do not also complain.
        flow.pendingWindow = { window: this.windowSpec(transform.window), span };
        return undefined;
      }
      case "aggregate":
        return this.aggregate(decl, transform, flow, scope, operatorId);
      case "dedup":
        return this.dedup(transform, flow, scope, operatorId);
      case "join":
        return this.join(decl, transform, flow, operatorId);
      case "union":
        return this.union(decl, transform, flow);
      default:
        return assertNever(transform);
    }
  }

  private select(transform: Extract<ast.Transform, { kind: "select" }>, flow: Flow, scope: ColumnScope): LogicalNode {
    const columns: NamedTypedExpr[] = [];
    const ctx = this.exprContext(scope);
    for (const item of transform.items) {
      switch (item.kind) {
        case "star": {
          const excepted = new Set<string>();
          for (const name of item.except) {
            if (!flow.fields.some((f) => f.name === name.text)) {
              const close = suggest(name.text, flow.fields.map((f) => f.name));
              this.sink.report("unknownColumn", name.span, { name: name.text }, close ? `did you mean \`${close}\`?` : "`except` names columns of the input");
            }
            excepted.add(name.text);
          }
          for (const field of flow.fields) {
            if (!excepted.has(field.name)) columns.push({ name: field.name, expr: columnRef(field, item.span) });
          }
          break;
        }
        case "named":
          columns.push({ name: item.name.text, expr: checkExpr(item.expr, ctx) });
          break;
        case "expr": {
          const expr = checkExpr(item.expr, ctx);
          const name = implicitName(item.expr);
          if (name === undefined) {
            if (item.expr.kind !== "error") this.sink.report("unnamedSelectItem", item.span, { transform: "select" }, `name it: \`${suggestedName(item.expr)} = ...\``);
            continue;
          }
          columns.push({ name, expr });
          break;
        }
        default:
          assertNever(item);
      }
    }
    this.applyProjection(columns, flow, "select", transform.span);
    return { kind: "project", columns, origin: "select", schema: { fields: flow.fields }, span: transform.span };
  }

  private extend(transform: Extract<ast.Transform, { kind: "extend" }>, flow: Flow, scope: ColumnScope): LogicalNode {
    const ctx = this.exprContext(scope);
    const added: NamedTypedExpr[] = [];
    for (const item of transform.items) {
      const expr = checkExpr(item.expr, ctx);
      if (!item.name) {
        if (item.expr.kind !== "error") this.sink.report("unnamedSelectItem", item.span, { transform: "extend" }, `\`extend\` adds named columns: \`${suggestedName(item.expr)} = ...\``);
        continue;
      }
      if (added.some((a) => a.name === item.name!.text)) {
        this.sink.report("duplicateColumn", item.name.span, { name: item.name.text, transform: "extend" }, "give each new column its own name");
        continue;
      }
      added.push({ name: item.name.text, expr });
    }
    const columns: NamedTypedExpr[] = flow.fields.map((f) => added.find((a) => a.name === f.name) ?? { name: f.name, expr: columnRef(f, transform.span) });
    for (const a of added) if (!flow.fields.some((f) => f.name === a.name)) columns.push(a);
    this.applyProjection(columns, flow, "extend", transform.span);
    return { kind: "project", columns, origin: "extend", schema: { fields: flow.fields }, span: transform.span };
  }

  /** Sets the flow's columns to `columns`, reporting duplicates and following the event-time column through renames. */
  private applyProjection(columns: NamedTypedExpr[], flow: Flow, transform: string, span: ast.Span): void {
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c.name)) this.sink.report("duplicateColumn", c.expr.span.start === span.start ? span : c.expr.span, { name: c.name, transform }, "rename one of them with `NAME = ...`");
      seen.add(c.name);
      if (c.expr.type.kind === "duration") {
        this.sink.report("durationColumn", c.expr.span, { name: c.name }, "compare it with a duration instead (`a - b > 5m`), or compute milliseconds: `epoch_millis(a) - epoch_millis(b)`");
      }
    }
    const watermark = flow.watermark;
    if (watermark) {
      const carrier = columns.find((c) => c.expr.kind === "column" && c.expr.name === watermark.column);
      if (carrier) flow.watermark = { ...watermark, column: carrier.name };
      else {
        flow.watermark = undefined;
        flow.droppedEventTime = watermark.column;
      }
    }
    // A `null` literal's column is a nullable `string`; a column of unknown type (reported) stays `null`, which fits anywhere.
    flow.fields = columns.map((c) => ({ name: c.name, type: c.expr.type.kind === "null" && c.expr.kind !== "column" && !isStandIn(c.expr) ? { kind: "string" } : c.expr.type, nullable: c.expr.nullable }));
  }

  private explode(transform: Extract<ast.Transform, { kind: "explode" }>, flow: Flow, scope: ColumnScope): LogicalNode | undefined {
    const item = transform.item;
    const list = checkExpr(item.expr, this.exprContext(scope));
    const name = item.name?.text ?? implicitName(item.expr);
    if (name === undefined) {
      if (item.expr.kind !== "error") this.sink.report("unnamedSelectItem", item.span, { transform: "explode" }, `name the element column: \`explode ${suggestedName(item.expr)} = ...\``);
      return undefined;
    }
    if (list.type.kind !== "list") {
      if (list.type.kind !== "null") {
        this.sink.report("explodeNotList", item.expr.span, { type: formatType(list.type) }, list.type.kind === "string" ? "split it first, e.g. `split(line, \" \")`" : "`explode` makes one row per element of a list");
      }
      return undefined;
    }
    const element: Field = { name, type: list.type.element.type, nullable: list.type.element.nullable };
    const index = flow.fields.findIndex((f) => f.name === name);
    flow.fields = index >= 0 ? flow.fields.map((f, i) => (i === index ? element : f)) : [...flow.fields, element];
    if (flow.watermark?.column === name) {
      flow.droppedEventTime = name;
      flow.watermark = undefined;
    }
    return { kind: "explode", name, list, schema: { fields: flow.fields }, span: transform.span };
  }

  private watermark(transform: Extract<ast.Transform, { kind: "watermark" }>, flow: Flow, scope: ColumnScope): LogicalNode | undefined {
    if (flow.output === "updating") {
      this.sink.report("updatingStreamNotAllowed", transform.span, { transform: "watermark" }, "set the watermark before the aggregation");
    }
    const column = checkExpr(transform.column, this.exprContext(scope));
    const delay = this.duration(transform.delay, "the watermark delay", true);
    if (column.kind !== "column") {
      if (column.type.kind !== "null") {
        this.sink.report("watermarkNotTimestamp", transform.column.span, { actual: `this is an expression of type \`${formatType(column.type)}\`` }, "compute the event time first: `| extend event_time = ...`, then `| watermark event_time delay 1m`");
      }
      return undefined;
    }
    if (column.type.kind === "null") return undefined;
    if (column.type.kind !== "timestamp") {
      this.sink.report("watermarkNotTimestamp", transform.column.span, { actual: `\`${column.name}\` is \`${formatType(column.type)}\`` }, watermarkTypeHint(column));
      return undefined;
    }
    if (column.nullable) {
      this.sink.report("nullableNotAllowed", transform.column.span, { context: "the event-time column", name: column.name, type: formatField(column) }, `drop rows without one first: \`| where ${formatName(column.name)} is not null\``);
    }
    if (delay === undefined) return undefined;
    const watermark = { column: column.name, delayMicros: delay };
    flow.watermark = watermark;
    flow.droppedEventTime = undefined;
    return { kind: "watermark", watermark, schema: { fields: flow.fields }, span: transform.span };
  }

  /** A duration literal in microseconds (at least 0 when `allowZero`, else above 0), or undefined after reporting. */
  private duration(expr: ast.Expr, context: string, allowZero = false): number | undefined {
    if (expr.kind === "error") return undefined;
    if (expr.kind === "literal" && expr.literal.type === "duration" && (expr.literal.micros > 0 || (allowZero && expr.literal.micros === 0))) {
      return expr.literal.micros;
    }
    const hint = expr.kind === "literal" && expr.literal.type === "integer" ? `add a unit: \`${expr.literal.digits}s\`, \`${expr.literal.digits}m\` or \`${expr.literal.digits}h\`` : "durations are a number glued to a unit: `500ms`, `30s`, `10m`, `1h`, `7d`";
    this.sink.report("durationExpected", expr.span, { context }, hint);
    return undefined;
  }

  private windowSpec(spec: ast.WindowSpec): WindowPlan | undefined {
    switch (spec.kind) {
      case "tumbling": {
        const size = this.duration(spec.size, "the window size");
        return size === undefined ? undefined : { kind: "tumbling", sizeMicros: size };
      }
      case "hopping": {
        const size = this.duration(spec.size, "the window size");
        const slide = this.duration(spec.slide, "the window slide");
        if (size === undefined || slide === undefined) return undefined;
        if (slide > size || size % slide !== 0) {
          const sizeText = literalText(spec.size);
          const slideText = literalText(spec.slide);
          this.sink.report("badHoppingWindow", spec.slide.span, { slide: slideText, size: sizeText }, slide > size ? `for windows that do not overlap, write \`window tumbling ${sizeText}\`` : "choose a slide that divides the size, e.g. `window hopping 1h every 15m`");
          return undefined;
        }
        return { kind: "hopping", sizeMicros: size, slideMicros: slide };
      }
      case "session": {
        const gap = this.duration(spec.gap, "the session gap");
        return gap === undefined ? undefined : { kind: "session", gapMicros: gap };
      }
      default:
        return assertNever(spec);
    }
  }

  /** Reports when the flow has no watermark; returns whether it has one. */
  private requireWatermark(flow: Flow, transform: string, span: ast.Span, otherSide?: string): boolean {
    if (flow.watermark) return true;
    if (flow.droppedEventTime) {
      this.sink.report("watermarkColumnDropped", span, { transform, name: flow.droppedEventTime }, `keep \`${flow.droppedEventTime}\` in the \`select\` before it`);
      return false;
    }
    // After a windowed aggregate, `window_end` is the natural event time: a window's row is final at its end.
    const timestampColumn = flow.fields.find((f) => f.name === "window_end" && f.type.kind === "timestamp") ?? flow.fields.find((f) => f.type.kind === "timestamp");
    const where = otherSide ? ` to \`${otherSide}\`` : " before it";
    const hint = timestampColumn
      ? `add \`| watermark ${formatName(timestampColumn.name)} delay 1m\`${where}`
      : `add \`| watermark COLUMN delay 1m\`${where}, on a \`timestamp\` column (this stream has none)`;
    this.sink.report("missingWatermark", span, { transform }, hint);
    return false;
  }

  private aggregate(
    decl: ast.StreamDecl,
    transform: Extract<ast.Transform, { kind: "aggregate" }>,
    flow: Flow,
    scope: ColumnScope,
    operatorId: (kind: string) => string,
  ): LogicalNode | undefined {
    const windowed = flow.pendingWindow !== undefined;
    const window = flow.pendingWindow?.window;
    flow.pendingWindow = undefined;
    if (flow.output === "updating") {
      this.sink.report("updatingStreamNotAllowed", transform.span, { transform: "aggregate" }, "aggregate in one step, or window the first aggregation");
    }
    const plainCtx = this.exprContext(scope);
    const keys: NamedTypedExpr[] = [];
    for (const key of transform.by) {
      const expr = checkExpr(key.expr, plainCtx);
      const name = key.name?.text ?? implicitName(key.expr);
      if (name === undefined) {
        if (key.expr.kind !== "error") this.sink.report("unnamedSelectItem", key.span, { transform: "by" }, `name the key: \`by ${suggestedName(key.expr)} = ...\``);
        continue;
      }
      if (!isEquatable(expr.type)) {
        const keyName = formatName(name);
        this.sink.report(
          "notComparable",
          key.expr.span,
          { type: formatType(expr.type), usage: "grouped by" },
          expr.type.kind === "map" ? `group by one of its values instead, e.g. \`by ${/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : "value"}_key = ${keyName}["key"]\`` : "group by a column of another type, or by one of its values",
        );
        continue;
      }
      keys.push({ name, expr });
    }
    const windowFields: Field[] = windowed ? [
      { name: "window_start", type: TIMESTAMP, nullable: false },
      { name: "window_end", type: TIMESTAMP, nullable: false },
    ] : [];
    const keyFields: Field[] = keys.map((k) => ({ name: k.name, type: k.expr.type, nullable: k.expr.nullable }));
    if (transform.items.length === 0) {
      const by = transform.by.map((k) => k.name?.text ?? implicitName(k.expr)).filter((k) => k !== undefined).map(formatName);
      this.sink.report("aggregateNeedsItems", transform.span, {}, `name what to compute before \`by\`, e.g. \`| aggregate n = count() by ${by.length ? by.join(", ") : "KEY"}\``);
      return undefined;
    }
    const aggregateCtx = this.exprContext(scope, { keys: [...windowFields, ...keyFields], grouped: keyFields.length + windowFields.length > 0 });
    const aggregates: NamedTypedExpr[] = [];
    for (const item of transform.items) {
      const expr = checkExpr(item.expr, aggregateCtx);
      if (!item.name) {
        if (item.expr.kind !== "error") this.sink.report("unnamedSelectItem", item.span, { transform: "aggregate" }, `name it: \`${suggestedName(item.expr)} = ...\``);
        continue;
      }
      aggregates.push({ name: item.name.text, expr });
    }
    const fields: Field[] = [...windowFields, ...keyFields, ...aggregates.map((a) => ({ name: a.name, type: a.expr.type.kind === "null" ? { kind: "long" as const } : a.expr.type, nullable: a.expr.nullable }))];
    for (const a of aggregates) {
      if (a.expr.type.kind === "duration") this.sink.report("durationColumn", a.expr.span, { name: a.name }, "aggregate milliseconds instead: `epoch_millis(a) - epoch_millis(b)`");
    }
    const seen = new Set<string>();
    for (const [i, field] of fields.entries()) {
      if (seen.has(field.name)) {
        const at = i < windowFields.length + keys.length ? transform.by[i - windowFields.length]?.span : transform.items[i - windowFields.length - keys.length]?.span;
        this.sink.report("duplicateColumn", at ?? transform.span, { name: field.name, transform: "aggregate" }, field.name.startsWith("window_") ? "`window_start` and `window_end` are added by the window; name the aggregate differently" : "give each output column its own name");
      }
      seen.add(field.name);
    }
    const eventTime = flow.watermark?.column;
    const state: StateSchema = {
      operatorId: operatorId("aggregate"),
      operatorKind: windowed ? "window-aggregate" : "aggregate",
      key: { fields: [...windowFields, ...keyFields] },
      value: { fields: aggregateState(aggregates) },
      version: 1,
      semantics: aggregateSemantics({ window, keys, aggregates, eventTime, schema: { fields } }),
    };
    this.state.push(state);
    flow.fields = fields;
    flow.output = windowed ? "append" : "updating";
    flow.aggregate = state.operatorId;
    // A windowed aggregate's rows are final once emitted; downstream sets its own watermark (e.g. on `window_end`).
    flow.watermark = undefined;
    flow.droppedEventTime = undefined;
    return { kind: "aggregate", window, keys, aggregates, eventTime, state, schema: { fields }, span: transform.span };
  }

  private dedup(transform: Extract<ast.Transform, { kind: "dedup" }>, flow: Flow, scope: ColumnScope, operatorId: (kind: string) => string): LogicalNode | undefined {
    if (flow.output === "updating") {
      this.sink.report("updatingStreamNotAllowed", transform.span, { transform: "dedup" }, "deduplicate the rows before aggregating them");
    }
    const ctx = this.exprContext(scope);
    const keys: Field[] = [];
    for (const key of transform.keys) {
      const typed = checkExpr(key, ctx);
      if (key.kind !== "column") {
        this.sink.report("dedupKeyNotColumn", key.span, {}, `compute it first: \`| extend ${suggestedName(key)} = ...\`, then \`dedup by ${suggestedName(key)}\``);
        continue;
      }
      if (typed.kind !== "column") continue;
      if (!isEquatable(typed.type)) {
        this.sink.report("notComparable", key.span, { type: formatType(typed.type), usage: "deduplicated on" }, "deduplicate on columns of other types");
        continue;
      }
      keys.push({ name: typed.name, type: typed.type, nullable: typed.nullable });
    }
    let withinMicros: number | undefined;
    if (transform.within) {
      withinMicros = this.duration(transform.within, "`within`");
      this.requireWatermark(flow, "dedup ... within", transform.span);
    }
    const eventTime = transform.within ? flow.watermark?.column : undefined;
    const state: StateSchema = {
      operatorId: operatorId("dedup"),
      operatorKind: "dedup",
      key: { fields: keys },
      value: { fields: eventTime ? [{ name: eventTime, type: TIMESTAMP, nullable: false }] : [] },
      version: 1,
      semantics: dedupSemantics(keys.map((k) => k.name), withinMicros, eventTime),
    };
    this.state.push(state);
    return { kind: "dedup", keys: keys.map((k) => k.name), withinMicros, eventTime, state, schema: { fields: flow.fields }, span: transform.span };
  }

  private join(decl: ast.StreamDecl, transform: Extract<ast.Transform, { kind: "join" }>, flow: Flow, operatorId: (kind: string) => string): LogicalNode | undefined {
    const right = this.relations.get(transform.right.text);
    if (!right) return undefined;
    const span = transform.span;
    let mode: "interval" | "lookup";
    const bounded = right.kind === "source" && (right.connector === "table" || right.connector === "files");
    if (transform.within && bounded) {
      // A source never has a watermark, so `within` against a table or files source is a lookup join with a stray `within`.
      mode = "lookup";
      const eventTime = right.fields.find((f) => f.type.kind === "timestamp");
      const watermarked = this.watermarkedStreamOf(right.name);
      this.sink.report(
        "lookupWithin",
        transform.within.span,
        { name: right.name },
        watermarked ? `remove \`within\` to look rows up in \`${right.name}\`; to join it in event time instead, join \`${watermarked}\`, which watermarks it`
          : eventTime
            ? `remove \`within\` to look rows up in \`${right.name}\`; to join it in event time instead, watermark it in a stream (\`stream ${right.name}_wm = ${right.name} | watermark ${formatName(eventTime.name)} delay 1m\`) and join that`
            : `remove \`within\`: a lookup join matches rows of \`${right.name}\` whatever their time`,
      );
    } else if (transform.within) {
      mode = "interval";
      if (flow.output === "updating" || right.output === "updating") {
        this.sink.report("updatingStreamNotAllowed", span, { transform: "join" }, "join the rows before aggregating them");
      }
      this.requireWatermark(flow, "join", span);
      if (!right.watermark) {
        const timestampColumn = right.fields.find((f) => f.type.kind === "timestamp");
        const watermarked = right.kind === "source" ? this.watermarkedStreamOf(right.name) : undefined;
        const hint = watermarked ? `join \`${watermarked}\`, which watermarks \`${right.name}\``
          : right.kind === "source"
          ? `declare \`stream ${right.name}_wm = ${right.name} | watermark ${timestampColumn ? formatName(timestampColumn.name) : "COLUMN"} delay 1m\` and join that`
          : `add \`| watermark ${timestampColumn ? formatName(timestampColumn.name) : "COLUMN"} delay 1m\` to \`${right.name}\``;
        this.sink.report("missingWatermark", transform.right.span, { transform: `join ${right.name}` }, hint);
      }
    } else {
      mode = "lookup";
      if (right.kind === "stream") {
        this.sink.report("joinNeedsWithin", transform.right.span, { name: right.name }, `bound the join in event time: \`join ${right.name} on ... within 1h\``);
        return undefined;
      }
      if (right.connector !== "table" && right.connector !== "files") {
        this.sink.report("lookupNeedsBoundedSource", transform.right.span, { name: right.name, actual: `a \`${right.connector}\` source` }, `to join two unbounded inputs, watermark both and add \`within DURATION\``);
        return undefined;
      }
    }
    const withinMicros = mode === "interval" && transform.within ? this.duration(transform.within, "`within`") : undefined;
    const leftNames = new Set(flow.fields.map((f) => f.name));
    const rightColumns = right.fields.map((f) => ({ field: f, as: leftNames.has(f.name) ? `${right.name}_${f.name}` : f.name }));
    const scope: ColumnScope = { kind: "join", left: { stream: decl.name.text, fields: flow.fields }, right: { stream: right.name, fields: rightColumns } };
    // A left column may also be written `INPUT.col`: qualify by the stream's input name too.
    const qualifiedScope: ColumnScope = { ...scope, left: { stream: decl.input.text, fields: flow.fields } };
    const on = checkExpr(transform.on, this.exprContext(qualifiedScope));
    if (on.type.kind !== "bool" && on.type.kind !== "null") {
      this.sink.report("conditionNotBool", transform.on.span, { context: "the join condition", type: formatType(on.type) }, `compare the two sides, e.g. \`${formatName(flow.fields[0]?.name ?? "id")} == ${right.name}.${formatName(right.fields[0]?.name ?? "id")}\``);
    }
    const outputRight = rightColumns.map((c) => ({ name: c.as, type: c.field.type, nullable: c.field.nullable || transform.joinType === "left" }));
    flow.joined.set(right.name, new Map(rightColumns.map((c) => [c.field.name, c.as])));
    const leftSchema = flow.fields;
    flow.fields = [...flow.fields, ...outputRight];
    flow.aggregate ??= right.aggregate;
    let state: StateSchema | undefined;
    if (mode === "interval") {
      const keyFields = equiJoinKeys(on, { fields: leftSchema }, rightColumns.map((c) => ({ from: c.field.name, as: c.as }))).map(
        (key) => leftSchema.find((f) => f.name === key.left)!,
      );
      state = {
        operatorId: operatorId("join"),
        operatorKind: "join",
        key: { fields: keyFields },
        value: {
          fields: [
            { name: "left", type: { kind: "struct", fields: leftSchema }, nullable: true },
            { name: "right", type: { kind: "struct", fields: right.fields }, nullable: true },
          ],
        },
        version: 1,
        semantics: joinSemantics({
          joinType: transform.joinType,
          right: right.name,
          on,
          withinMicros: withinMicros ?? 0,
          leftEventTime: flow.watermark?.column,
          rightEventTime: right.watermark?.column,
        }),
      };
      this.state.push(state);
      // The joined stream's event time is the left side's; its watermark stays.
    }
    return {
      kind: "join",
      joinType: transform.joinType,
      right: right.name,
      mode,
      on,
      withinMicros,
      rightColumns: rightColumns.map((c) => ({ from: c.field.name, as: c.as })),
      state,
      schema: { fields: flow.fields },
      span,
    };
  }

  /** A stream already declared as `SOURCE | watermark ...`, to offer in a hint; undefined when there is none. */
  private watermarkedStreamOf(source: string): string | undefined {
    for (const declaration of this.resolved.declarations.values()) {
      if (declaration.kind === "stream" && declaration.decl.input.text === source && declaration.decl.transforms[0]?.kind === "watermark") return declaration.decl.name.text;
    }
    return undefined;
  }

  private union(decl: ast.StreamDecl, transform: Extract<ast.Transform, { kind: "union" }>, flow: Flow): LogicalNode {
    const others: string[] = [];
    const first = decl.transforms[0] === transform ? `\`${decl.input.text}\`` : "the rows before `union`";
    let watermark = flow.watermark;
    for (const name of transform.streams) {
      const other = this.relations.get(name.text);
      if (!other) continue;
      others.push(other.name);
      const difference = schemaDifference(flow.fields, other.fields);
      if (difference) {
        this.sink.report("unionSchemaMismatch", name.span, { other: other.name, first: first, difference }, `make the columns match (names, order and types), e.g. with a \`select\` in a stream over \`${other.name}\``);
        continue;
      }
      flow.fields = flow.fields.map((f, i) => ({ ...f, nullable: f.nullable || other.fields[i]!.nullable }));
      if (other.output === "updating") flow.output = "updating";
      flow.aggregate ??= other.aggregate;
      // The union's watermark is the smallest of its inputs': the same column with the longest delay.
      watermark = watermark && other.watermark && other.watermark.column === watermark.column
        ? { column: watermark.column, delayMicros: Math.max(watermark.delayMicros, other.watermark.delayMicros) }
        : undefined;
    }
    flow.watermark = watermark;
    return { kind: "union", others, schema: { fields: flow.fields }, span: transform.span };
  }

  // ---- sinks -------------------------------------------------------------------------------

  private sinks(pipelineOptionValues: Record<string, OptionSetting>): SinkPlan[] {
    const plans: SinkPlan[] = [];
    const ids = new Map<string, number>();
    const aggregateSinkModes = new Map<string, { mode: SinkPlan["mode"]; decl: ast.SinkDecl }>();
    for (const decl of this.resolved.sinks) {
      const stream = this.relations.get(decl.stream.text);
      const connectorName = decl.connector.text;
      const role = sinkConnectors.get(connectorName);
      if (!role) {
        if (connectorName !== "") {
          this.sink.report("unknownSinkConnector", decl.connector.span, { name: connectorName }, unknownConnectorHint(connectorName, "sink"));
        }
        continue;
      }
      const target = this.target(role, decl);
      const validated = this.options(role, decl.connector.span, decl.options);
      if ((connectorName === "table" || connectorName === "kafka") && pipelineOptionValues["checkpoint"] === undefined) {
        const pipelineName = this.resolved.pipeline?.name.text ?? "NAME";
        this.sink.report(
          "missingCheckpoint",
          decl.connector.span,
          { connector: connectorName },
          this.resolved.pipeline ? `add \`checkpoint = "checkpoints/${pipelineName}"\` to \`pipeline ${pipelineName}\`` : `declare \`pipeline NAME { checkpoint = "checkpoints/NAME" }\``,
        );
      }
      if (!stream) continue;
      const modeOption = validated.values.get("mode");
      const written = modeOption?.option !== undefined;
      const setting = modeOption?.setting;
      const declared = setting?.kind === "word" ? (setting.word as SinkPlan["mode"]) : undefined;
      const mode = this.sinkMode(decl, connectorName, stream, declared, written);
      if (stream.aggregate !== undefined) {
        // One aggregate emits one way: sinks that read it (directly or through stateless
        // transforms) must agree on how, or some would get rows they did not ask for.
        const first = aggregateSinkModes.get(stream.aggregate);
        if (!first) aggregateSinkModes.set(stream.aggregate, { mode, decl });
        else if (first.mode !== mode) {
          const at = decl.options.find((o) => o.name.text === "mode")?.value.span ?? decl.connector.span;
          this.sink.report(
            "conflictingSinkModes",
            at,
            { mode, other: `${first.decl.stream.text} -> ${first.decl.connector.text}`, line: first.decl.span.line, other_mode: first.mode, operator: stream.aggregate },
            `give both sinks the same \`mode\`, or aggregate separately for each`,
          );
        }
      }
      const partition = validated.values.get("partition_by")?.setting;
      if (partition?.kind === "columns") {
        for (const column of partition.columns) {
          if (!stream.fields.some((f) => f.name === column.text)) {
            const close = suggest(column.text, stream.fields.map((f) => f.name));
            this.sink.report("unknownPartitionColumn", column.span, { name: column.text, stream: stream.name }, close ? `did you mean \`${close}\`?` : `its columns are ${stream.fields.map((f) => `\`${f.name}\``).join(", ")}`);
          }
        }
      }
      const keySetting = validated.values.get("key")?.setting;
      const key = keySetting?.kind === "expression" ? checkExpr(keySetting.expr, this.exprContext({ kind: "stream", stream: stream.name, fields: stream.fields })) : undefined;
      const base = `${stream.name}.${connectorName}`;
      const n = (ids.get(base) ?? 0) + 1;
      ids.set(base, n);
      plans.push({
        id: n === 1 ? base : `${base}#${n}`,
        stream: stream.name,
        connector: connectorName,
        target,
        mode,
        options: settings(validated.values),
        key,
        span: decl.span,
      });
    }
    return plans;
  }

  /** The sink's output mode, reporting modes that cannot emit this stream (Spark's rules). */
  private sinkMode(decl: ast.SinkDecl, connector: string, stream: Relation, declared: SinkPlan["mode"] | undefined, written: boolean): SinkPlan["mode"] {
    const at = decl.options.find((o) => o.name.text === "mode")?.value.span ?? decl.connector.span;
    const appendOnly = connector === "kafka" || connector === "files";
    if (stream.output === "updating") {
      if (appendOnly) {
        this.sink.report("sinkOfAggregateToKafkaOrFiles", decl.connector.span, { connector, stream: stream.name }, "add a window before the aggregate, so each row is final when it is written");
        return "append";
      }
      if (connector === "memory") return "update";
      if (declared === "append" || declared === undefined) {
        const choices = connector === "table" ? "`mode = complete`" : "`mode = update` or `mode = complete`";
        this.sink.report("appendWithoutWindow", at, { stream: stream.name }, `${written ? "use" : "add"} ${choices}, or aggregate over a \`window\``);
        return "append";
      }
      return declared;
    }
    if (declared === "complete" && stream.aggregate === undefined) {
      this.sink.report("completeWithoutAggregate", at, { stream: stream.name }, "use `mode = append`; `complete` rewrites an aggregate's whole result each batch");
    }
    return declared ?? "append";
  }

  // ---- tests -------------------------------------------------------------------------------

  private tests(): TestPlan[] {
    const plans: TestPlan[] = [];
    const names = new Map<string, ast.TestDecl>();
    for (const test of this.resolved.tests) {
      const name = test.name.literal.value;
      const previous = names.get(name);
      if (previous) this.sink.report("testDuplicateName", test.name.span, { name }, `the first is on line ${previous.span.line}; rename one`);
      names.set(name, test);
      const steps: TestPlan["steps"] = [];
      for (const step of test.steps) {
        switch (step.kind) {
          case "input": {
            const target = this.testTarget(step.source);
            if (!target) break;
            if (target.kind !== "source") {
              this.sink.report("testInputNotSource", step.source.span, { name: target.name }, `give input to the source it reads, e.g. \`input ${this.resolved.declarations.get(target.name)?.kind === "stream" ? (this.resolved.declarations.get(target.name)!.decl as ast.StreamDecl).input.text : "SOURCE"} [...]\``);
              break;
            }
            steps.push({ kind: "input", source: target.name, rows: this.testRows(step.rows, target) });
            break;
          }
          case "expect": {
            const target = this.testTarget(step.stream);
            if (target) steps.push({ kind: "expect", stream: target.name, rows: this.testRows(step.rows, target) });
            break;
          }
          case "advanceWatermark": {
            const typed = checkExpr(step.to, this.exprContext({ kind: "stream", stream: "test", fields: [] }));
            if (typed.type.kind !== "timestamp") {
              if (typed.type.kind !== "null") {
                const text = typed.kind === "literal" && typed.value.type === "string" ? typed.value.value : "2024-01-01T01:00:00Z";
                this.sink.report("testWatermarkNotTimestamp", step.to.span, { type: formatType(typed.type) }, `write \`advance watermark to timestamp "${text}"\``);
              }
              break;
            }
            if (typed.kind === "literal" && typed.value.type === "timestamp") steps.push({ kind: "advanceWatermark", micros: typed.value.micros });
            break;
          }
          default:
            assertNever(step);
        }
      }
      plans.push({ name, steps });
    }
    return plans;
  }

  private testTarget(name: ast.Name): Relation | undefined {
    if (name.text === "") return undefined;
    const relation = this.relations.get(name.text);
    if (!relation && !this.resolved.declarations.has(name.text)) {
      const close = suggest(name.text, this.relations.keys());
      this.sink.report("unknownStream", name.span, { name: name.text }, close ? `did you mean \`${close}\`?` : "name a source or stream of this program");
    } else if (!relation && this.resolved.declarations.get(name.text)?.kind === "schema") {
      this.sink.report("notAStream", name.span, { name: name.text, actual: "schema" }, "name a source or stream of this program");
    }
    return relation;
  }

  private testRows(rows: ast.RecordLit[], target: Relation): Record<string, LiteralValue>[] {
    const ctx = this.exprContext({ kind: "stream", stream: target.name, fields: [] });
    const owner = target.name;
    return rows.map((row) => {
      // No prototype, so that a column named `__proto__` is a column like any other.
      const values: Record<string, LiteralValue> = Object.create(null);
      for (const field of row.fields) {
        const column = target.fields.find((f) => f.name === field.name.text);
        const typed = checkExpr(field.value, ctx);
        if (!column) {
          const close = suggest(field.name.text, target.fields.map((f) => f.name));
          this.sink.report("testFieldUnknown", field.name.span, { owner, name: field.name.text }, close ? `did you mean \`${close}\`?` : `its columns are ${target.fields.map((f) => `\`${f.name}\``).join(", ")}`);
          continue;
        }
        if (typed.kind !== "literal") {
          if (typed.type.kind !== "null") this.sink.report("testFieldTypeMismatch", field.value.span, { name: column.name, expected: formatField(column), actual: "an expression" }, "test rows hold literal values");
          continue;
        }
        const fitsColumn = column.type.kind === "null" ? true
          : typed.type.kind === "null" ? column.nullable
            : column.type.kind === "decimal" ? fitsDecimal(typed.value, column.type)
              : isAssignable(typed.type, column.type);
        if (!fitsColumn) {
          this.sink.report(
            "testFieldTypeMismatch",
            field.value.span,
            { name: column.name, expected: formatField(column), actual: `\`${formatType(typed.type)}\`` },
            typed.type.kind === "null" ? `\`${column.name}\` is required; give it a value` : column.type.kind === "timestamp" && typed.type.kind === "string" ? `write \`timestamp "${typed.value.type === "string" ? typed.value.value : ""}"\`` : `write a \`${formatType(column.type)}\` value`,
          );
          continue;
        }
        values[column.name] = typed.value;
      }
      // A misspelt column is reported once, as unknown, not also as missing.
      const unknown = row.fields.map((f) => f.name.text).filter((name) => !target.fields.some((c) => c.name === name));
      const meant = new Set(unknown.map((name) => suggest(name, target.fields.map((c) => c.name))));
      for (const column of target.fields) {
        if (!column.nullable && !meant.has(column.name) && !row.fields.some((f) => f.name.text === column.name)) {
          this.sink.report("testFieldMissing", row.span, { name: column.name, owner }, `add \`${formatName(column.name)}: ...\` to the row`);
        }
      }
      return values;
    });
  }
}

// ---- small pure helpers -----------------------------------------------------------------------

/** The way out for an unknown connector: the other role's connector, a close name, a synonym, or the list. */
function unknownConnectorHint(name: string, role: "source" | "sink"): string {
  const [own, other, synonyms] = role === "source" ? [sourceConnectors, sinkConnectors, connectorSynonyms] : [sinkConnectors, sourceConnectors, sinkSynonyms];
  const list = [...own.keys()].map((c) => `\`${c}\``).join(", ");
  if (other.has(name)) return `\`${name}\` is a ${role === "source" ? "sink" : "source"}; ${role}s are ${list}`;
  const close = suggest(name, own.keys()) ?? synonyms[name.toLowerCase()];
  return close ? `did you mean \`${close}\`?` : `${role}s are ${list}`;
}

/** A program without a `pipeline` declaration is named after its file: `revenue.stream` is `revenue`. */
function defaultPipelineName(path: string | undefined): string {
  const base = path === undefined ? "" : basename(path).replace(/\.stream$/, "");
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(base) ? base : "pipeline";
}

/** Whether a number literal fits `decimal(p, s)`: at most `s` decimals and `p - s` integer digits. */
function fitsDecimal(value: LiteralValue, type: { precision: number; scale: number }): boolean {
  const text = value.type === "integer" ? value.digits : value.type === "double" && Number.isFinite(value.value) ? String(value.value) : undefined;
  if (text === undefined || /e/i.test(text)) return false;
  const [integer = "", fraction = ""] = text.replace(/^-/, "").split(".");
  return fraction.length <= type.scale && integer.replace(/^0+/, "").length <= type.precision - type.scale;
}

/** Connector names users bring from other tools, mapped to ours; without a prototype, so that `constructor` finds nothing. */
const connectorSynonyms: Record<string, string> = Object.setPrototypeOf({ delta: "table", parquet: "files", json: "files", csv: "files", directory: "files", dir: "files", rate: "generator" }, null);
const sinkSynonyms: Record<string, string> = Object.setPrototypeOf({ delta: "table", parquet: "files", json: "files", csv: "files", directory: "files", dir: "files", stdout: "console", print: "console", log: "console", show: "console" }, null);

function settings(values: ReadonlyMap<string, { setting: OptionSetting }>): Record<string, OptionSetting> {
  return Object.fromEntries([...values].map(([name, v]) => [name, v.setting]));
}

function columnRef(field: Field, span: ast.Span): TypedExpr {
  return { kind: "column", name: field.name, type: field.type, nullable: field.nullable, span };
}

/** The name a bare `select` item or key keeps: a column's name, or a field's (`a.b` is `b`). */
function implicitName(expr: ast.Expr): string | undefined {
  if (expr.kind === "column") return expr.name.text;
  if (expr.kind === "field") return expr.field.text;
  return undefined;
}

/** A name to offer in a hint for an unnamed expression. */
function suggestedName(expr: ast.Expr): string {
  if (expr.kind === "call") return expr.callee.text === "count" ? "n" : `${expr.callee.text}_${expr.args[0] ? suggestedName(expr.args[0]) : "value"}`.replace(/_value$/, "");
  if (expr.kind === "column") return expr.name.text;
  if (expr.kind === "field") return expr.field.text;
  return "value";
}

function literalText(expr: ast.Expr): string {
  return expr.kind === "literal" && (expr.literal.type === "duration" || expr.literal.type === "size") ? expr.literal.text : "?";
}

function watermarkTypeHint(column: TypedExpr): string {
  if (column.type.kind === "long" || column.type.kind === "int") return `if it holds epoch milliseconds: \`| extend event_time = from_epoch_millis(${formatName(column.kind === "column" ? column.name : "x")})\`, then watermark \`event_time\``;
  if (column.type.kind === "string") return `declare it \`timestamp\` in the schema (ISO-8601 text and epoch milliseconds are read as timestamps)`;
  return "the event-time column holds a `timestamp`";
}

/** Each aggregate call's state, named after its output column (`name`, or `name.N` within an expression). */
function aggregateState(aggregates: NamedTypedExpr[]): Field[] {
  const fields: Field[] = [];
  for (const aggregate of aggregates) {
    const calls: Extract<TypedExpr, { kind: "aggregate" }>[] = [];
    collectAggregates(aggregate.expr, calls);
    const single = calls.length === 1 && aggregate.expr.kind === "aggregate";
    calls.forEach((call, i) => {
      const fn = aggregateFunctions.get(call.name);
      if (fn) fields.push(...fn.stateFields(call.args.map(argInfo), single ? aggregate.name : `${aggregate.name}.${i + 1}`));
    });
  }
  return fields;
}

function collectAggregates(expr: TypedExpr, out: Extract<TypedExpr, { kind: "aggregate" }>[]): void {
  switch (expr.kind) {
    case "aggregate":
      out.push(expr);
      return;
    case "literal":
    case "column":
      return;
    case "field":
      collectAggregates(expr.target, out);
      return;
    case "index":
      collectAggregates(expr.target, out);
      collectAggregates(expr.index, out);
      return;
    case "call":
      expr.args.forEach((a) => collectAggregates(a, out));
      return;
    case "unary":
    case "cast":
    case "isNull":
      collectAggregates(expr.operand, out);
      return;
    case "binary":
      collectAggregates(expr.left, out);
      collectAggregates(expr.right, out);
      return;
    case "in":
      collectAggregates(expr.operand, out);
      expr.list.forEach((a) => collectAggregates(a, out));
      return;
    case "like":
      collectAggregates(expr.operand, out);
      collectAggregates(expr.pattern, out);
      return;
    case "case":
      expr.whens.forEach((w) => {
        collectAggregates(w.condition, out);
        collectAggregates(w.result, out);
      });
      if (expr.otherwise) collectAggregates(expr.otherwise, out);
      return;
    default:
      assertNever(expr);
  }
}

/** Why two schemas differ for `union` (names, order and types; nullability may differ), or undefined. */
function schemaDifference(first: Field[], other: Field[]): string | undefined {
  for (let i = 0; i < Math.max(first.length, other.length); i++) {
    const a = first[i];
    const b = other[i];
    if (!a) return `it has an extra column \`${b!.name}\``;
    if (!b) return `it lacks the column \`${a.name}\``;
    if (a.name !== b.name) return `column ${i + 1} is \`${b.name}\`, not \`${a.name}\``;
    if (!sameType(a.type, b.type)) return `\`${a.name}\` is \`${formatType(b.type)}\`, not \`${formatType(a.type)}\``;
  }
  return undefined;
}

export type { Schema };
