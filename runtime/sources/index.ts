/**
 * Builds a source from its plan entry. One registry for every connector: a connector's module
 * adds itself to `sourceFactories`.
 *
 * Contract: `createSource(spec, context)` returns an unopened `Source` (source.ts) for the
 * connector named in `spec`, with its options read from the plan (compiler defaults already
 * applied) and its target resolved against `context.cwd`; an unknown connector throws.
 */
import type { SourceSpec } from "../plan.ts";
import { FilesSource, type FilesFormat } from "./files.ts";
import { GeneratorSource } from "./generator.ts";
import { kafkaSourceOfPlan } from "./kafka.ts";
import { type Environment, integerSetting, resolvePath, wordSetting } from "./settings.ts";
import type { Source } from "./source.ts";
import { TableSource } from "./table.ts";

export interface SourceContext {
  /** Relative targets are resolved against it (the process's working directory). */
  cwd: string;
  env: Environment;
  /** Read whole, once (a lookup join's right side). */
  bounded?: boolean;
  /** Decoders' record size limit (default 8 MiB). */
  maxRecordBytes?: number;
  /** Wall clock in ms (generator `rate`); reject times derive from it. Default `Date.now`. */
  clock?: () => number;
  /**
   * The pipeline's identity (the checkpoint's id, else the pipeline's name): a kafka source's
   * consumer group is `streamc-<pipelineId>-<source>`.
   */
  pipelineId?: string;
  /** Operator-facing log lines (a kafka source's retries). Default: stderr. */
  log?: (line: string) => void;
}

export type SourceFactory = (spec: SourceSpec, context: SourceContext) => Source;

export const sourceFactories = new Map<string, SourceFactory>([
  [
    "generator",
    (spec, context) => {
      const o = spec.options;
      return new GeneratorSource(spec.id, spec.schema, {
        rate: integerSetting(o, "rate"),
        rows: integerSetting(o, "rows"),
        seed: integerSetting(o, "seed") ?? 0,
        ...(context.clock ? { clock: context.clock } : {}),
      });
    },
  ],
  [
    "files",
    (spec, context) => {
      if (!spec.target) throw new Error(`files source ${spec.id} has no directory`);
      const clock = context.clock;
      return new FilesSource(spec.id, spec.schema, resolvePath(spec.target, context.cwd, context.env), {
        format: (wordSetting(spec.options, "format") ?? "json") as FilesFormat,
        maxFilesPerBatch: integerSetting(spec.options, "max_files_per_batch"),
        bounded: context.bounded ?? false,
        decode: { maxRecordBytes: context.maxRecordBytes, ...(clock ? { now: () => clock() * 1000 } : {}) },
      });
    },
  ],
  ["kafka", (spec, context) => kafkaSourceOfPlan(spec, context)],
  [
    "table",
    (spec, context) => {
      if (!spec.target) throw new Error(`table source ${spec.id} has no path`);
      const clock = context.clock;
      return new TableSource(spec.id, spec.schema, resolvePath(spec.target, context.cwd, context.env), {
        bounded: context.bounded ?? false,
        decode: { maxRecordBytes: context.maxRecordBytes, ...(clock ? { now: () => clock() * 1000 } : {}) },
      });
    },
  ],
]);

export function createSource(spec: SourceSpec, context: SourceContext): Source {
  const factory = sourceFactories.get(spec.connector);
  if (!factory) throw new Error(`source ${spec.id}: the ${spec.connector} connector is not available in this version of streamc; sources that run are ${[...sourceFactories.keys()].join(", ")}`);
  return factory(spec, context);
}
