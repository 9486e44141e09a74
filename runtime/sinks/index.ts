/**
 * Builds a sink from its plan entry. One registry for every connector: a connector's module adds
 * itself to `sinkFactories` (`table` is table.ts, `kafka` kafka.ts).
 *
 * Contract: `createSink(spec, context)` returns a `Sink` (sink.ts) for the connector named in
 * `spec`, options read from the plan (compiler defaults applied), target resolved against
 * `context.cwd`; an unknown connector throws. `deadLetterSink` builds the sink the pipeline's
 * `deadletter` option names, over the dead-letter schema.
 */
import { deadLetterSchema } from "../deadletter.ts";
import type { KernelModule } from "../kernel.ts";
import type { SettingValue, SinkSpec } from "../plan.ts";
import { type Environment, integerSetting, resolvePath, wordSetting } from "../sources/settings.ts";
import { ConsoleSink, type TextOutput } from "./console.ts";
import { type FileFormat, FilesSink } from "./files.ts";
import { kafkaSinkOfPlan } from "./kafka.ts";
import { MemorySink } from "./memory.ts";
import type { Sink } from "./sink.ts";
import { TableSink, tableSinkOptions } from "./table.ts";

export interface SinkContext {
  cwd: string;
  env: Environment;
  /** Where the console sink prints. Default `process.stdout`. */
  stdout?: TextOutput;
  /**
   * The pipeline's identity for exactly-once sinks: the checkpoint's pipeline id (metadata.json
   * `id`), else the pipeline's name. A table sink commits with txn appId `<pipelineId>/<sink id>`.
   */
  pipelineId: string;
  /** The kernel module, for sinks that compute a value (a kafka sink's `key`). */
  kernels?: KernelModule;
  /** Operator-facing log lines (a kafka client's warnings). Default: stderr. */
  log?: (line: string) => void;
}

export type SinkFactory = (spec: SinkSpec, context: SinkContext) => Sink;

export const sinkFactories = new Map<string, SinkFactory>([
  ["console", (spec, context) => new ConsoleSink(spec.id, spec.schema, integerSetting(spec.options, "rows") ?? 20, context.stdout ?? process.stdout)],
  ["memory", (spec) => new MemorySink(spec.id, spec.schema)],
  [
    "files",
    (spec, context) => {
      if (!spec.target) throw new Error(`files sink ${spec.id} has no directory`);
      return new FilesSink(spec.id, spec.schema, resolvePath(spec.target, context.cwd, context.env), (wordSetting(spec.options, "format") ?? "json") as FileFormat);
    },
  ],
  [
    "table",
    (spec, context) => {
      if (!spec.target) throw new Error(`table sink ${spec.id} has no path`);
      return new TableSink(spec.id, spec.schema, resolvePath(spec.target, context.cwd, context.env), tableSinkOptions(spec.options), `${context.pipelineId}/${spec.id}`);
    },
  ],
  ["kafka", (spec, context) => kafkaSinkOfPlan(spec, context)],
]);

export function createSink(spec: SinkSpec, context: SinkContext): Sink {
  const factory = sinkFactories.get(spec.connector);
  if (!factory) throw new Error(`sink ${spec.id}: the ${spec.connector} connector is not available in this version of streamc; sinks that run are ${[...sinkFactories.keys()].join(", ")}`);
  return factory(spec, context);
}

/**
 * The dead letter's sink, from the pipeline's `deadletter` option (`files "DIR"` or `table
 * "PATH"`); undefined when the option is absent. Files are written as JSON lines.
 */
export function deadLetterSink(option: SettingValue | undefined, context: SinkContext): Sink | undefined {
  if (option === undefined) return undefined;
  if (option.kind !== "connector") throw new Error(`deadletter: expected a connector and target, the plan has ${option.kind}`);
  return createSink(
    {
      id: "deadletter",
      input: "deadletter",
      connector: option.connector,
      target: option.target,
      mode: "append",
      options: option.connector === "files" ? { format: { kind: "word", word: "json" } } : {},
      key: undefined,
      schema: deadLetterSchema,
    },
    context,
  );
}
