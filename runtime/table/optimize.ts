/**
 * `optimize`: bin-packs a table's small files into files near a target size, without changing its
 * rows.
 *
 * Contract: `optimizeTable(tablePath, { targetFileSize })` reads the latest snapshot and, per
 * partition, packs the live files smaller than the target into bins of at most the target's total
 * size (smallest first); each bin of two or more files is rewritten as new files (at most about
 * the target each, statistics computed anew). One commit then removes the inputs and adds the
 * outputs, all with `dataChange: false`, under `commitInfo.operation = "OPTIMIZE"`, with no txn.
 * Nothing to pack commits nothing. The commit is put-if-absent; when another writer commits first,
 * the commit is retried on the new snapshot unless that writer removed one of the inputs or
 * changed an input column's type: then the new files are deleted, nothing is committed, and
 * `OptimizeConflictError` says so (rows are never resurrected). Tables with features streamc does
 * not write, or with column types it does not write (short, byte, float, ...), are refused.
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { concatBatches } from "../columnar/batch-ops.ts";
import type { Schema } from "../plan.ts";
import { canonicalPath, DeltaError, type LiveFile, resolveDataPath, type Snapshot, snapshot } from "./delta-log.ts";
import { type Action, checkpointIfDue, checkWritable, commitInfo, commitWithRetries } from "./log-writer.ts";
import { type DataFileFormat, dataFileFormat, readDataFile } from "./parquet-file.ts";
import { formatSparkType, sameSparkType, sparkFieldsOf, toSparkType } from "./spark-schema.ts";
import { FileSizer, removeOf, writeGroupFiles, type WrittenFile } from "./table-writer.ts";

export interface OptimizeOptions {
  /** The size output files aim at, and under which a file counts as small, in bytes. */
  targetFileSize: number;
  /** Overrides the table's data file format. */
  dataFileFormat?: DataFileFormat;
  /** Runs after the new files are written and before the commit (tests: a concurrent writer). */
  beforeCommit?: () => Promise<void>;
}

export interface OptimizeResult {
  /** The version committed, or undefined when there was nothing to pack. */
  version: number | undefined;
  filesRemoved: number;
  filesAdded: number;
  bytesRemoved: number;
  bytesAdded: number;
  /** Partitions (groups of files with the same partition values) that were rewritten. */
  partitionsOptimized: number;
}

export class OptimizeConflictError extends DeltaError {}

export async function optimizeTable(tablePath: string, options: OptimizeOptions): Promise<OptimizeResult> {
  const first = snapshot(tablePath);
  checkWritable(first);
  const dataSchema = rewritableDataSchema(first);
  const bins = packBins(first, options.targetFileSize);
  const result: OptimizeResult = { version: undefined, filesRemoved: 0, filesAdded: 0, bytesRemoved: 0, bytesAdded: 0, partitionsOptimized: 0 };
  if (bins.length === 0) return result;

  const format = options.dataFileFormat ?? dataFileFormat(first.metadata.configuration);
  const written: WrittenFile[] = [];
  const inputs: LiveFile[] = bins.flat();
  let committed = false;
  try {
    for (const bin of bins) {
      const batches = bin.flatMap((file) => readDataFile(new Uint8Array(readFileSync(resolveDataPath(tablePath, file.path))), dataSchema));
      const rows = concatBatches(dataSchema, batches);
      if (rows.length === 0) continue;
      const inputBytes = bin.reduce((n, f) => n + f.size, 0);
      const sizer = new FileSizer(options.targetFileSize, inputBytes / rows.length);
      written.push(
        ...(await writeGroupFiles({
          tablePath,
          dataSchema,
          rows,
          partitionValues: bin[0]!.partitionValues ?? {},
          partitionBy: first.metadata.partitionColumns,
          format,
          sizer,
          dataChange: false,
          firstIndex: written.length,
        })),
      );
    }
    await options.beforeCommit?.();
    const outcome = await commitWithRetries(
      tablePath,
      (snap) => {
        if (!snap) throw new OptimizeConflictError(`table ${tablePath} has no log any more; nothing was committed`);
        checkWritable(snap);
        checkNoConflict(first, snap, inputs, dataSchema);
        const now = Date.now();
        const actions: Action[] = [{ commitInfo: commitInfo("OPTIMIZE", { predicate: "[]", targetFileSize: String(options.targetFileSize) }, false) }];
        for (const file of inputs) actions.push({ remove: removeOf(file, now, false) });
        for (const file of written) actions.push({ add: file.add });
        return { kind: "commit", actions };
      },
      first,
    );
    if (outcome.kind !== "committed") throw new OptimizeConflictError(`table ${tablePath}: optimize was not committed (${outcome.reason})`);
    committed = true;
    await checkpointIfDue(tablePath, outcome.version, first.metadata.configuration);
    return {
      version: outcome.version,
      filesRemoved: inputs.length,
      filesAdded: written.length,
      bytesRemoved: inputs.reduce((n, f) => n + f.size, 0),
      bytesAdded: written.reduce((n, f) => n + f.add.size, 0),
      partitionsOptimized: new Set(bins.map((bin) => JSON.stringify(bin[0]!.partitionValues ?? {}))).size,
    };
  } finally {
    if (!committed) await Promise.all(written.map((file) => rm(file.absolutePath, { force: true })));
  }
}

/** The table's data columns (partition columns are not in the files), when streamc can rewrite them as they are. */
function rewritableDataSchema(snap: Snapshot): Schema {
  const raw = new Map(sparkFieldsOf(snap.metadata.schemaString).map((f) => [f.name, f]));
  const partitions = new Set(snap.metadata.partitionColumns);
  const fields = snap.metadata.schema.fields.filter((f) => !partitions.has(f.name));
  for (const field of fields) {
    const stored = raw.get(field.name)!.type;
    if (!sameSparkType(stored, toSparkType(field.type))) {
      throw new DeltaError(
        `table ${snap.tablePath}: column ${field.name} is ${formatSparkType(stored)}, a type streamc reads but does not write; optimize would change it, so it leaves this table alone: compact it with the engine that wrote it`,
      );
    }
  }
  return { fields: fields.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable })) };
}

/** Bins of small files, per partition: each bin at most `target` bytes in total and at least two files. */
function packBins(snap: Snapshot, target: number): LiveFile[][] {
  const groups = new Map<string, LiveFile[]>();
  for (const file of snap.files) {
    if (file.size >= target) continue;
    const key = JSON.stringify(snap.metadata.partitionColumns.map((c) => file.partitionValues?.[c] ?? null));
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(file);
  }
  const bins: LiveFile[][] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => a.size - b.size || (a.path < b.path ? -1 : 1));
    let bin: LiveFile[] = [];
    let total = 0;
    for (const file of group) {
      if (bin.length > 0 && total + file.size > target) {
        if (bin.length > 1) bins.push(bin);
        bin = [];
        total = 0;
      }
      bin.push(file);
      total += file.size;
    }
    if (bin.length > 1) bins.push(bin);
  }
  return bins;
}

function checkNoConflict(first: Snapshot, snap: Snapshot, inputs: readonly LiveFile[], dataSchema: Schema): void {
  const live = new Set(snap.files.map((f) => canonicalPath(f.path)));
  const gone = inputs.find((f) => !live.has(canonicalPath(f.path)));
  if (gone) {
    throw new OptimizeConflictError(
      `table ${snap.tablePath}: a commit after version ${first.version} removed ${canonicalPath(gone.path)} while optimize was rewriting it; nothing was committed (the rewritten files were deleted): run optimize again`,
    );
  }
  if (snap.metadata.schemaString === first.metadata.schemaString) return;
  const now = new Map(sparkFieldsOf(snap.metadata.schemaString).map((f) => [f.name, f.type]));
  for (const field of dataSchema.fields) {
    const type = now.get(field.name);
    if (type === undefined || !sameSparkType(type, toSparkType(field.type))) {
      throw new OptimizeConflictError(`table ${snap.tablePath}: column ${field.name} changed while optimize ran; nothing was committed (the rewritten files were deleted): run optimize again`);
    }
  }
}
