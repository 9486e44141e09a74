/**
 * State compatibility: can a program continue from a checkpoint that another version of it wrote?
 *
 * It lives in the runtime (not the compiler) so that a compiled bundle (`streamc run BUNDLE.mjs`)
 * makes the same check as `streamc check FILE --checkpoint DIR` without the compiler.
 *
 * Contract:
 * - `checkpointPlanOf(plan, context)` is what a checkpoint records in `plan.json`: each source's
 *   identity (what decides which records its offsets point at, resolved against `context`) and
 *   every stateful operator's `StateSchema`. Plain JSON; it throws when a source's `env(...)`
 *   cannot be resolved.
 * - `checkCompatibility(old, next, options)` gives one verdict per source and per stateful
 *   operator (of either plan), matched by id: `reuse` (continue as is), `evolve` (continue; each
 *   change a short sentence) or `incompatible` (the reasons and the way out). It is pure and
 *   total: any two plans give a report. An operator named in `options.dropState` that the
 *   checkpoint holds gets `evolve` "state dropped on request" whatever its state; an id in
 *   `dropState` that neither plan holds makes the report incompatible.
 * - `evolve` and `reuse` promise that `evolveSnapshot` (state-evolution.ts) turns the operator's
 *   snapshot into one the new operator restores; `reuse` also promises that only bookkeeping
 *   (e.g. an argument's nullability recorded in an aggregate's snapshot) differs, if anything.
 * - The rules, in brief (docs/language.md, "State and checkpoints", has them all with the text):
 *   sources: same connector and identity → reuse (a change of how records are read, e.g. kafka
 *   `brokers` or a `format`, → evolve); added → evolve (starts at its `start`); removed → evolve
 *   (offsets forgotten); another connector or identity → incompatible. Operators: added → evolve
 *   (starts empty); removed → evolve (state dropped); another kind, window, key, aggregate
 *   function or argument on an existing aggregate name, dedup key or `within`, join condition,
 *   side, `within` or event time → incompatible; added or dropped aggregates, widened types
 *   (`int -> long`, `int -> double`, a `decimal` with more digits on either side), a column that
 *   becomes nullable, or a key or stored column that can no longer be null → evolve; a narrowed
 *   or otherwise changed type → incompatible.
 */
import type { DataType, Field, PhysicalPlan, Settings, StateAggregate, StateSchema, StateSemantics } from "../plan.ts";
import { formatName, formatType, sameType } from "../data-type.ts";
import { formatTimestampMicros } from "../time.ts";
import { aggregateFunctions } from "../../stdlib/aggregate-functions.ts";
import { type Environment, resolvePath, resolveString } from "../sources/settings.ts";

export const CHECKPOINT_PLAN_FORMAT = "streamc-checkpoint-plan/1";

/** What a checkpoint records about the program that wrote it (`CHECKPOINT/plan.json`). */
export interface CheckpointPlan {
  format: typeof CHECKPOINT_PLAN_FORMAT;
  /** The pipeline's name. */
  pipeline: string;
  sources: SourceIdentity[];
  state: StateSchema[];
}

/** A source as the checkpoint's offsets depend on it. Values are resolved (paths absolute, `env(...)` read). */
export interface SourceIdentity {
  /** The source's name in the program. */
  id: string;
  connector: string;
  /**
   * What decides which records the offsets point at; any change makes them meaningless:
   * files → `directory`; kafka → `topic`; table → `path`; generator → `seed` and `rate` (event
   * times follow the rate).
   */
  identity: Record<string, string | number>;
  /**
   * How records are read, not which: files and kafka `format`, kafka `brokers` (a cluster may move
   * to new addresses; pointing at another cluster is the user's responsibility). A change is reported.
   */
  reading: Record<string, string | number>;
  /** Where the source starts without offsets, completing "it starts ...": `at the earliest offsets of topic orders`. */
  start: string;
}

export type Verdict =
  | { kind: "reuse" }
  | { kind: "evolve"; changes: string[] }
  | { kind: "incompatible"; reasons: string[]; wayOut: string };

export type CompatibilitySubject =
  | { kind: "source"; id: string; verdict: Verdict }
  | { kind: "operator"; id: string; verdict: Verdict }
  /** A `--drop-state` id that names no stateful operator of either plan. */
  | { kind: "unknownDropState"; id: string; known: string[] };

export interface CompatibilityReport {
  /** Sources (the new program's, then removed ones), then operators (likewise). */
  subjects: CompatibilitySubject[];
}

export interface CompatibilityOptions {
  /** Operators whose state is dropped on request (`streamc run --drop-state ID`): they start empty. */
  dropState?: ReadonlySet<string>;
}

// ---- what a checkpoint records --------------------------------------------------------------------

export function checkpointPlanOf(plan: PhysicalPlan, context: { cwd: string; env: Environment }): CheckpointPlan {
  return {
    format: CHECKPOINT_PLAN_FORMAT,
    pipeline: plan.pipeline.name,
    sources: plan.sources.map((source) => {
      try {
        return sourceIdentity(source.id, source.connector, source.target, source.options, context);
      } catch (error) {
        throw new Error(`source ${source.id}: ${(error as Error).message}`);
      }
    }),
    state: plan.state,
  };
}

function sourceIdentity(
  id: string,
  connector: string,
  target: PhysicalPlan["sources"][number]["target"],
  options: Settings,
  context: { cwd: string; env: Environment },
): SourceIdentity {
  const word = (name: string, fallback: string): string => {
    const value = options[name];
    return value?.kind === "word" ? value.word : fallback;
  };
  const text = (name: string): string | undefined => {
    const value = options[name];
    return value?.kind === "string" ? resolveString(value.value, context.env) : undefined;
  };
  const integer = (name: string): number | undefined => {
    const value = options[name];
    return value?.kind === "integer" ? value.value : undefined;
  };
  switch (connector) {
    case "files": {
      const directory = target ? resolvePath(target, context.cwd, context.env) : "";
      return { id, connector, identity: { directory }, reading: { format: word("format", "json") }, start: `with the files already in ${directory}` };
    }
    case "kafka": {
      const topic = text("topic") ?? "";
      const start = options["start"];
      const at = start?.kind === "timestamp" ? `at the offsets of ${formatTimestampMicros(start.micros)}` : `at the ${start?.kind === "word" ? start.word : "latest"} offsets`;
      return { id, connector, identity: { topic }, reading: { brokers: text("brokers") ?? "", format: word("format", "json") }, start: `${at} of topic ${topic}` };
    }
    case "table": {
      const path = target ? resolvePath(target, context.cwd, context.env) : "";
      return { id, connector, identity: { path }, reading: {}, start: `with the current version of the table at ${path}` };
    }
    case "generator": {
      const identity: Record<string, number> = { seed: integer("seed") ?? 0 };
      const rate = integer("rate");
      if (rate !== undefined) identity["rate"] = rate;
      return { id, connector, identity, reading: {}, start: "at row 0" };
    }
    default: {
      // A connector this version does not know: its target is its identity, its options how it reads.
      const reading: Record<string, string | number> = {};
      for (const [name, value] of Object.entries(options)) {
        if (value.kind === "string") reading[name] = resolveString(value.value, context.env);
        else if (value.kind === "word") reading[name] = value.word;
        else if (value.kind === "integer") reading[name] = value.value;
      }
      return { id, connector, identity: target ? { target: resolveString(target, context.env) } : {}, reading, start: "where its options say" };
    }
  }
}

// ---- the check ----------------------------------------------------------------------------------------

export function checkCompatibility(old: CheckpointPlan, next: CheckpointPlan, options: CompatibilityOptions = {}): CompatibilityReport {
  const dropState = options.dropState ?? new Set<string>();
  const subjects: CompatibilitySubject[] = [];

  const oldSources = new Map(old.sources.map((s) => [s.id, s]));
  const nextSources = new Set(next.sources.map((s) => s.id));
  for (const source of next.sources) subjects.push({ kind: "source", id: source.id, verdict: sourceVerdict(oldSources.get(source.id), source) });
  for (const source of old.sources) {
    if (!nextSources.has(source.id)) subjects.push({ kind: "source", id: source.id, verdict: { kind: "evolve", changes: ["removed: its offsets are forgotten"] } });
  }

  const oldState = new Map(old.state.map((s) => [s.operatorId, s]));
  const nextState = new Set(next.state.map((s) => s.operatorId));
  for (const state of next.state) {
    const before = oldState.get(state.operatorId);
    let verdict: Verdict;
    if (!before) verdict = { kind: "evolve", changes: ["new: it starts empty"] };
    else if (dropState.has(state.operatorId)) verdict = { kind: "evolve", changes: ["state dropped on request: it starts empty"] };
    else verdict = operatorVerdict(before, state);
    subjects.push({ kind: "operator", id: state.operatorId, verdict });
  }
  for (const state of old.state) {
    if (!nextState.has(state.operatorId)) subjects.push({ kind: "operator", id: state.operatorId, verdict: { kind: "evolve", changes: ["removed: its state is dropped"] } });
  }

  const known = [...new Set([...old.state, ...next.state].map((s) => s.operatorId))];
  for (const id of dropState) {
    if (!known.includes(id)) subjects.push({ kind: "unknownDropState", id, known });
  }
  return { subjects };
}

/** Whether every subject may continue: no `incompatible` verdict and no unknown `--drop-state` id. */
export function isCompatible(report: CompatibilityReport): boolean {
  return report.subjects.every((s) => s.kind !== "unknownDropState" && s.verdict.kind !== "incompatible");
}

function verdictOf(changes: string[], problems: string[], wayOut: string): Verdict {
  if (problems.length > 0) return { kind: "incompatible", reasons: problems, wayOut };
  return changes.length > 0 ? { kind: "evolve", changes } : { kind: "reuse" };
}

// ---- sources ------------------------------------------------------------------------------------------

/** What the checkpoint's offsets are, for each identity setting: "the checkpoint's offsets ...". */
const offsetsMeaning: Record<string, string> = {
  directory: "name files of the old directory",
  topic: "are positions in the old topic",
  path: "are versions of the old table",
  seed: "count rows generated with the old seed",
  rate: "count rows whose event times follow the old rate",
};

function sourceVerdict(old: SourceIdentity | undefined, next: SourceIdentity): Verdict {
  if (!old) return { kind: "evolve", changes: [`new: it starts ${next.start}`] };
  const wayOut = `use a new checkpoint path, or rename the source so that it starts fresh (${next.start}) and the old offsets are forgotten`;
  if (old.connector !== next.connector) {
    return { kind: "incompatible", reasons: [`it was a ${old.connector} source and is now a ${next.connector} source: the checkpoint's offsets mean nothing to it`], wayOut };
  }
  const problems: string[] = [];
  for (const key of new Set([...Object.keys(old.identity), ...Object.keys(next.identity)])) {
    const before = old.identity[key];
    const after = next.identity[key];
    if (before === after) continue;
    problems.push(`its ${key} changed from ${showSetting(before)} to ${showSetting(after)}: the checkpoint's offsets ${offsetsMeaning[key] ?? `belong to the old ${key}`}`);
  }
  const changes: string[] = [];
  for (const key of new Set([...Object.keys(old.reading), ...Object.keys(next.reading)])) {
    const before = old.reading[key];
    const after = next.reading[key];
    if (before === after) continue;
    changes.push(
      key === "brokers"
        ? `its brokers changed from ${showSetting(before)} to ${showSetting(after)}: the offsets are kept, so they must be the same cluster`
        : `its ${key} changed from ${showSetting(before)} to ${showSetting(after)}: records after the checkpoint's offsets are read with the new ${key}`,
    );
  }
  return verdictOf(changes, problems, wayOut);
}

function showSetting(value: string | number | undefined): string {
  return value === undefined ? "none" : String(value);
}

// ---- operators ----------------------------------------------------------------------------------------

const kindNames: Record<StateSchema["operatorKind"], string> = {
  "window-aggregate": "a windowed aggregate",
  aggregate: "an aggregate without a window",
  dedup: "a dedup",
  join: "an interval join",
};

function operatorVerdict(old: StateSchema, next: StateSchema): Verdict {
  const wayOut = `use a new checkpoint path, or run once with \`--drop-state ${next.operatorId}\` to start that operator empty`;
  if (old.operatorKind !== next.operatorKind) {
    return { kind: "incompatible", reasons: [`it was ${kindNames[old.operatorKind]} and is now ${kindNames[next.operatorKind]}`], wayOut };
  }
  if (old.version !== next.version) {
    return { kind: "incompatible", reasons: [`its state has layout version ${old.version}; this streamc keeps version ${next.version}`], wayOut };
  }
  // A checkpoint written before state semantics were recorded: only an identical layout is safe.
  const oldSemantics = (old as Partial<StateSchema>).semantics;
  if (oldSemantics === undefined) {
    const same = JSON.stringify([old.key, old.value]) === JSON.stringify([next.key, next.value]);
    return same ? { kind: "reuse" } : { kind: "incompatible", reasons: ["the checkpoint does not record what this state means, and its layout differs"], wayOut };
  }
  const changes: string[] = [];
  const problems: string[] = [];
  const semantics = next.semantics;
  if (oldSemantics.kind !== semantics.kind) {
    problems.push(`it was a ${oldSemantics.kind} and is now a ${semantics.kind}`);
  } else {
    switch (semantics.kind) {
      case "aggregate":
        compareAggregates(oldSemantics as typeof semantics, semantics, old, next, changes, problems);
        break;
      case "dedup":
        compareDedups(oldSemantics as typeof semantics, semantics, old, next, changes, problems);
        break;
      case "join":
        compareJoins(oldSemantics as typeof semantics, semantics, old, next, changes, problems);
        break;
      default:
        return unknownSemantics(semantics);
    }
  }
  return verdictOf(changes, problems, wayOut);
}

function unknownSemantics(semantics: never): never {
  throw new Error(`no compatibility rules for state of kind ${(semantics as { kind: string }).kind}`);
}

type AggregateSemantics = Extract<StateSemantics, { kind: "aggregate" }>;
type DedupSemantics = Extract<StateSemantics, { kind: "dedup" }>;
type JoinSemantics = Extract<StateSemantics, { kind: "join" }>;

function compareAggregates(old: AggregateSemantics, next: AggregateSemantics, oldState: StateSchema, nextState: StateSchema, changes: string[], problems: string[]): void {
  if (old.window !== next.window) problems.push(`the window changed from ${old.window ?? "none"} to ${next.window ?? "none"}`);
  else if (old.eventTime !== next.eventTime) {
    changes.push(`windows are now assigned on ${formatName(next.eventTime ?? "?")} (was ${formatName(old.eventTime ?? "?")}); windows in state keep their bounds`);
  }
  const byText = (keys: AggregateSemantics["keys"]) => (keys.length === 0 ? "no `by`" : `\`by ${keys.map(keyText).join(", ")}\``);
  if (old.keys.map((k) => k.name).join("\u0000") !== next.keys.map((k) => k.name).join("\u0000")) {
    problems.push(`the grouping changed from ${byText(old.keys)} to ${byText(next.keys)}`);
  } else {
    next.keys.forEach((key, i) => {
      const before = old.keys[i]!;
      if (before.expr !== key.expr) problems.push(`key ${formatName(key.name)} changed from ${before.expr} to ${key.expr}`);
    });
    compareColumns((name) => `key ${name}`, oldState.key.fields, nextState.key.fields, changes, problems, "groups with a null {name} in state are dropped: the new program cannot make them");
  }

  const oldCalls = new Map(old.aggregates.map((a) => [a.name, a]));
  const nextNames = new Set(next.aggregates.map((a) => a.name));
  for (const call of next.aggregates) {
    const before = oldCalls.get(call.name);
    if (!before) {
      changes.push(`${callText(call)} is new; it starts empty for existing groups`);
      continue;
    }
    if (before.fn !== call.fn || before.args.join("\u0000") !== call.args.join("\u0000")) {
      problems.push(`${call.name} changed from ${callExpr(before)} to ${callExpr(call)}`);
      continue;
    }
    compareArguments(before, call, changes, problems);
  }
  for (const call of old.aggregates) {
    if (!nextNames.has(call.name)) changes.push(`${callText(call)} is dropped; its state is removed`);
  }
  const kept = next.aggregates.filter((a) => oldCalls.has(a.name)).map((a) => a.name);
  const keptBefore = old.aggregates.filter((a) => nextNames.has(a.name)).map((a) => a.name);
  if (kept.join("\u0000") !== keptBefore.join("\u0000")) changes.push("the aggregates are in another order; their state moves with them");
}

function compareArguments(old: StateAggregate, next: StateAggregate, changes: string[], problems: string[]): void {
  next.argTypes.forEach((arg, i) => {
    const before = old.argTypes[i];
    if (!before) return;
    const change = typeChange(before.type, arg.type);
    const what = `${callText(next)}: its argument`;
    if (change === "widened") {
      if (next.fn === "approx_count_distinct") {
        problems.push(`${what} widens from ${formatType(before.type)} to ${formatType(arg.type)}, and its HyperLogLog sketch cannot be converted (the two types hash differently)`);
      } else {
        const state = stateChange(old, next);
        if (state === "changed") problems.push(`${what} widens from ${formatType(before.type)} to ${formatType(arg.type)}, but its state cannot be converted`);
        else changes.push(`${what} widens from ${formatType(before.type)} to ${formatType(arg.type)}; ${state === "same" ? "its state carries over" : "its state is converted"}`);
      }
    } else if (change === "changed") {
      problems.push(`${what} ${narrows(before.type, arg.type) ? "narrows" : "changes type"} from ${formatType(before.type)} to ${formatType(arg.type)}`);
    }
  });
}

/** How a call's state fields change when its argument types do (same function): the same, converted, or not convertible. */
function stateChange(old: StateAggregate, next: StateAggregate): "same" | "converted" | "changed" {
  const fn = aggregateFunctions.get(next.fn);
  if (!fn) return "changed";
  const fields = (call: StateAggregate) => fn.stateFields(call.argTypes.map((a) => ({ type: a.type, nullable: a.nullable })), call.name);
  const before = fields(old);
  const after = fields(next);
  if (before.length !== after.length || before.some((f, i) => !stateTypeConvertible(f.type, after[i]!.type))) return "changed";
  return before.every((f, i) => sameType(f.type, after[i]!.type)) ? "same" : "converted";
}

function compareDedups(old: DedupSemantics, next: DedupSemantics, oldState: StateSchema, nextState: StateSchema, changes: string[], problems: string[]): void {
  const by = (keys: string[]) => `\`dedup by ${keys.map(formatName).join(", ")}\``;
  if (old.keys.join("\u0000") !== next.keys.join("\u0000")) problems.push(`the key changed from ${by(old.keys)} to ${by(next.keys)}`);
  else compareColumns((name) => `key ${name}`, oldState.key.fields, nextState.key.fields, changes, problems, "keys with a null {name} in state are dropped: the new program cannot keep them");
  if (old.within !== next.within) problems.push(`\`within\` changed from ${old.within ?? "none"} to ${next.within ?? "none"}`);
  else if (old.eventTime !== next.eventTime) {
    changes.push(`keys now expire by ${formatName(next.eventTime ?? "?")} (was ${formatName(old.eventTime ?? "?")}); keys in state keep their times`);
  }
}

function compareJoins(old: JoinSemantics, next: JoinSemantics, oldState: StateSchema, nextState: StateSchema, changes: string[], problems: string[]): void {
  const joinName = (s: JoinSemantics) => (s.joinType === "left" ? "a left join" : "an inner join");
  if (old.joinType !== next.joinType) problems.push(`it was ${joinName(old)} and is now ${joinName(next)}`);
  if (old.right !== next.right) problems.push(`it joined ${formatName(old.right)} and now joins ${formatName(next.right)}`);
  if (old.on !== next.on) problems.push(`the join condition changed from ${old.on} to ${next.on}`);
  if (old.within !== next.within) problems.push(`\`within\` changed from ${old.within} to ${next.within}`);
  if (old.leftEventTime !== next.leftEventTime) problems.push(`the left event time changed from ${formatName(old.leftEventTime ?? "?")} to ${formatName(next.leftEventTime ?? "?")}`);
  if (old.rightEventTime !== next.rightEventTime) problems.push(`the right event time changed from ${formatName(old.rightEventTime ?? "?")} to ${formatName(next.rightEventTime ?? "?")}`);
  if (problems.length > 0) return;
  for (const side of ["left", "right"] as const) {
    const before = structFieldsOf(oldState.value.fields, side);
    const after = structFieldsOf(nextState.value.fields, side);
    compareStoredRows(side, before, after, changes, problems);
  }
}

function structFieldsOf(fields: Field[], name: string): Field[] {
  const field = fields.find((f) => f.name === name);
  return field?.type.kind === "struct" ? field.type.fields : [];
}

/** The rows a join keeps of one side: columns may come, go, widen, or stop being nullable. */
function compareStoredRows(side: string, old: Field[], next: Field[], changes: string[], problems: string[]): void {
  const before = new Map(old.map((f) => [f.name, f]));
  const after = new Set(next.map((f) => f.name));
  for (const field of next) {
    if (before.has(field.name)) continue;
    if (field.nullable) changes.push(`${side} rows in state get null for the new column ${formatName(field.name)}`);
    else problems.push(`the ${side} side has a new column ${formatName(field.name)}, which cannot be null, and the ${side} rows in state have no value for it`);
  }
  for (const field of old) if (!after.has(field.name)) changes.push(`${side} rows in state lose the column ${formatName(field.name)}`);
  compareColumns(
    (name) => `column ${name} of the ${side} rows`,
    old.filter((f) => after.has(f.name)),
    next.filter((f) => before.has(f.name)),
    changes,
    problems,
    `${side} rows in state with a null {name} are dropped: the new program cannot keep them`,
  );
}

/**
 * Columns matched by name (keys, stored columns): widened → evolve; becoming nullable → nothing to
 * say; no longer nullable → evolve with `whenRequired` (its `{name}` filled in); else incompatible.
 */
function compareColumns(what: (name: string) => string, old: Field[], next: Field[], changes: string[], problems: string[], whenRequired: string): void {
  const before = new Map(old.map((f) => [f.name, f]));
  for (const field of next) {
    const was = before.get(field.name);
    if (!was) continue;
    const name = formatName(field.name);
    const change = typeChange(was.type, field.type);
    if (change === "changed") {
      problems.push(`${what(name)} ${narrows(was.type, field.type) ? "narrows" : "changes type"} from ${formatType(was.type)} to ${formatType(field.type)}`);
      continue;
    }
    if (change === "widened") changes.push(`${what(name)} widens from ${formatType(was.type)} to ${formatType(field.type)}; the state is converted`);
    if (was.nullable && !field.nullable) changes.push(whenRequired.replace("{name}", name));
  }
}

function keyText(key: { name: string; expr: string }): string {
  return key.expr === formatName(key.name) ? key.expr : `${formatName(key.name)} = ${key.expr}`;
}

function callExpr(call: StateAggregate): string {
  return `${call.fn}(${call.args.join(", ")})`;
}

function callText(call: StateAggregate): string {
  return `${call.name} = ${callExpr(call)}`;
}

// ---- types --------------------------------------------------------------------------------------------

/**
 * How a column's type changed: `same`, `widened` (every old value is a value of the new type, and
 * means the same: `int -> long`, `int -> double`, a `decimal` with no fewer digits before and
 * after the point, and the same inside lists, maps and structs, whose elements may also become
 * nullable), or `changed`. The list follows Delta Lake's type widening; `long -> double` is not in
 * it (it rounds beyond 2^53).
 */
export function typeChange(from: DataType, to: DataType): "same" | "widened" | "changed" {
  if (from.kind === "int" && (to.kind === "long" || to.kind === "double")) return "widened";
  if (from.kind !== to.kind) return "changed";
  switch (from.kind) {
    case "decimal": {
      const t = to as typeof from;
      if (t.precision === from.precision && t.scale === from.scale) return "same";
      return t.scale >= from.scale && t.precision - t.scale >= from.precision - from.scale ? "widened" : "changed";
    }
    case "list":
      return nestedChange([[from.element, (to as typeof from).element]]);
    case "map":
      return nestedChange([[from.value, (to as typeof from).value]]);
    case "struct": {
      const t = to as typeof from;
      if (t.fields.length !== from.fields.length || t.fields.some((f, i) => f.name !== from.fields[i]!.name)) return "changed";
      return nestedChange(from.fields.map((f, i) => [f, t.fields[i]!]));
    }
    default:
      return "same";
  }
}

function nestedChange(pairs: [Field, Field][]): "same" | "widened" | "changed" {
  let result: "same" | "widened" = "same";
  for (const [a, b] of pairs) {
    if (a.nullable && !b.nullable) return "changed";
    const change = typeChange(a.type, b.type);
    if (change === "changed") return "changed";
    if (change === "widened" || a.nullable !== b.nullable) result = "widened";
  }
  return result;
}

/** Whether the old type is the wider of two numeric types (for the word "narrows"). */
function narrows(from: DataType, to: DataType): boolean {
  return typeChange(to, from) === "widened" || (from.kind === "long" && to.kind === "int") || (from.kind === "double" && (to.kind === "int" || to.kind === "long"));
}

/**
 * Whether state of type `from` converts to `to` without changing its meaning: a widening, or
 * `long -> double` (a `sum` whose argument widened from `int` to `double` keeps its running total
 * as a `double` from then on, as the new program would).
 */
export function stateTypeConvertible(from: DataType, to: DataType): boolean {
  return typeChange(from, to) !== "changed" || (from.kind === "long" && to.kind === "double");
}

// ---- the text a user sees ---------------------------------------------------------------------------

const VERDICT_WIDTH = 13;

/**
 * The report, one line per subject (`  reuse        revenue.aggregate`), an evolve's further changes
 * and an incompatible verdict's `way out:` on indented lines below it, then a summary line:
 * `state: compatible (2 reuse, 1 evolve)` or `state: incompatible: 1 operator cannot reuse its state`.
 */
export function formatCompatibilityReport(report: CompatibilityReport): string {
  const lines: string[] = [];
  const indent = " ".repeat(2 + VERDICT_WIDTH);
  const counts = { reuse: 0, evolve: 0, incompatible: 0 };
  let blockedSources = 0;
  let blockedOperators = 0;
  let unknown = 0;
  for (const subject of report.subjects) {
    if (subject.kind === "unknownDropState") {
      unknown++;
      lines.push(`  ${"incompatible".padEnd(VERDICT_WIDTH)}--drop-state ${subject.id}: no stateful operator has this id`);
      lines.push(`${indent}way out: name one of ${subject.known.length ? subject.known.join(", ") : "(none: the program keeps no state)"}`);
      continue;
    }
    const name = subject.kind === "source" ? `source ${subject.id}` : subject.id;
    const verdict = subject.verdict;
    counts[verdict.kind]++;
    switch (verdict.kind) {
      case "reuse":
        lines.push(`  ${"reuse".padEnd(VERDICT_WIDTH)}${name}`);
        break;
      case "evolve":
        lines.push(`  ${"evolve".padEnd(VERDICT_WIDTH)}${name}: ${verdict.changes[0]}`);
        for (const change of verdict.changes.slice(1)) lines.push(`${indent}${change}`);
        break;
      case "incompatible":
        if (subject.kind === "source") blockedSources++;
        else blockedOperators++;
        lines.push(`  ${"incompatible".padEnd(VERDICT_WIDTH)}${name}: ${verdict.reasons[0]}`);
        for (const reason of verdict.reasons.slice(1)) lines.push(`${indent}${reason}`);
        lines.push(`${indent}way out: ${verdict.wayOut}`);
        break;
      default:
        return unknownVerdict(verdict);
    }
  }
  if (isCompatible(report)) {
    const parts = [counts.reuse && `${counts.reuse} reuse`, counts.evolve && `${counts.evolve} evolve`].filter(Boolean);
    lines.push(`state: compatible${parts.length ? ` (${parts.join(", ")})` : ""}`);
  } else {
    const parts: string[] = [];
    if (blockedSources) parts.push(`${blockedSources} source${blockedSources === 1 ? "" : "s"} cannot continue from ${blockedSources === 1 ? "its" : "their"} offsets`);
    if (blockedOperators) parts.push(`${blockedOperators} operator${blockedOperators === 1 ? "" : "s"} cannot reuse ${blockedOperators === 1 ? "its" : "their"} state`);
    if (unknown) parts.push(`${unknown} --drop-state id${unknown === 1 ? " names" : "s name"} no operator`);
    lines.push(`state: incompatible: ${parts.join(", ")}`);
  }
  return lines.join("\n") + "\n";
}

function unknownVerdict(verdict: never): never {
  throw new Error(`unknown verdict ${(verdict as { kind: string }).kind}`);
}
