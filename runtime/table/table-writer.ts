/**
 * Writing one micro-batch to a Delta table, exactly once.
 *
 * Contract: `writeBatchToTable(target, write)` makes batch `write.batchId` part of the table at
 * most once, however often it is called (a replay after a crash calls it again):
 * 1. Read the latest snapshot. When the table's `txn` for `write.appId` is at or past `batchId`,
 *    the batch is in the table already: skip. Check the protocol (`checkWritable`) and the schema
 *    (below) before any file is written.
 * 2. Write the data files: rows grouped by their partition values (one `col=value/` directory per
 *    group, `col=__HIVE_DEFAULT_PARTITION__` for null; partition columns are not stored in the
 *    files), each group cut into files of at most about `targetFileSize` bytes, each file named
 *    `part-NNNNN-<uuid>-c000.zstd.parquet`, written whole or not at all (parquet-file.ts).
 * 3. Commit (log-writer.ts): `commitInfo`, for a new table `protocol` (1, 2) and `metaData`, a new
 *    `metaData` when the schema grew, `txn {appId, version: batchId}`, in `complete` mode a
 *    `remove` (dataChange true) of every live file, and an `add` per file with its statistics
 *    (file-stats.ts). On a lost race the checks of step 1 run again on the new snapshot; when the
 *    batch turns out to be done, or a check fails, the files this call wrote are deleted (nothing
 *    references them) and nothing is committed.
 * 4. Checkpoint when the version is due.
 *
 * Schema rules (Spark's, for a stream appending to a table): a sink column the table lacks is
 * added to the table's schema (one new `metaData`, same id, in the same commit as the data) when
 * it is nullable; a table column the sink lacks is allowed when nullable (its rows read as null);
 * a non-null column on either side, a type change, a partition column change, or two names that
 * differ only in case are errors naming the table and the way out (write to a new table path).
 * Nulls in a column the table declares not nullable are an error. Nested nullability is not
 * compared.
 *
 * Decisions: an `append` batch without rows commits nothing (Spark commits an empty version; with
 * nothing written there is nothing a replay could duplicate, so the txn is not needed); a
 * `complete` batch without rows commits the removal of every live file, or nothing when there is
 * none. A data file holds at most about `targetFileSize` bytes: the first file of a batch assumes
 * the Arrow buffers' size per row (uncompressed, so the first file comes out smaller), every next
 * file uses the bytes per row of the files written so far.
 */
import { randomUUID } from "node:crypto";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { gather, plainBatch } from "../columnar/batch-ops.ts";
import type { Batch } from "../columnar/batch.ts";
import { cellReader } from "../columnar/read.ts";
import type { CellValue } from "../columnar/values.ts";
import type { DataType, Field, Schema } from "../plan.ts";
import { formatDateDays, formatTimestampMicros } from "../time.ts";
import { formatDecimal } from "./arrow-values.ts";
import { type AddFile, DeltaError, type Protocol, type RemoveFile, type Snapshot } from "./delta-log.ts";
import { fileStats } from "./file-stats.ts";
import {
  type Action,
  checkpointIfDue,
  checkWritable,
  commitInfo,
  commitWithRetries,
  isAppendOnly,
  type MetadataAction,
  metadataAction,
  readSnapshotIfExists,
  WRITER_PROTOCOL,
} from "./log-writer.ts";
import { type DataFileFormat, dataFileExtension, dataFileFormat, encodeDataFile, writeDataFile } from "./parquet-file.ts";
import { formatSparkType, sameSparkType, sparkFieldsOf, toSparkField, toSparkSchemaString, toSparkType } from "./spark-schema.ts";

/** Where and how a sink writes. */
export interface TableTarget {
  /** The table's directory, absolute. */
  tablePath: string;
  /** The sink's schema: the columns every batch has. */
  schema: Schema;
  /** `partition_by`: the partition columns, in order (empty: none). */
  partitionBy: readonly string[];
  /** `target_file_size`, in bytes. */
  targetFileSize: number;
  /** Overrides the table's data file format (`delta.parquet.compression.codec`, else zstd). */
  dataFileFormat?: DataFileFormat;
}

export type TableWriteMode = "append" | "complete";

export interface BatchToWrite {
  /** The txn application id: `<pipeline id>/<sink id>`. */
  appId: string;
  batchId: number;
  batch: Batch;
  mode: TableWriteMode;
}

export type BatchWriteOutcome =
  | { kind: "committed"; version: number; filesAdded: number; filesRemoved: number }
  | { kind: "skipped"; reason: "already-committed" | "nothing-to-write" };

/** Partition column types: those with a partition value text both ways. */
const PARTITION_TYPES = new Set<DataType["kind"]>(["bool", "int", "long", "double", "decimal", "string", "date", "timestamp"]);

/** Throws when the target cannot be written at all (checked once, when the sink is built). */
export function validateTarget(target: TableTarget): void {
  const seen = new Set<string>();
  for (const name of target.partitionBy) {
    const field = target.schema.fields.find((f) => f.name === name);
    if (!field) throw new DeltaError(`table ${target.tablePath}: partition column ${name} is not a column of the stream`);
    if (!PARTITION_TYPES.has(field.type.kind)) throw new DeltaError(`table ${target.tablePath}: partition column ${name} is of type ${field.type.kind}; partition columns must be bool, int, long, double, decimal, string, date or timestamp`);
    if (name.startsWith("_") || name.startsWith(".")) throw new DeltaError(`table ${target.tablePath}: partition column ${name} would name a hidden directory (\`${name}=...\`); rename the column`);
    if (seen.has(name)) throw new DeltaError(`table ${target.tablePath}: partition column ${name} is listed twice`);
    seen.add(name);
  }
  if (target.partitionBy.length > 0 && target.partitionBy.length === target.schema.fields.length) {
    throw new DeltaError(`table ${target.tablePath}: every column is a partition column; a table needs at least one data column`);
  }
}

export async function writeBatchToTable(target: TableTarget, write: BatchToWrite): Promise<BatchWriteOutcome> {
  const { tablePath } = target;
  const first = readSnapshotIfExists(tablePath);
  if (first) {
    checkWritable(first);
    if (isDone(first, write)) return { kind: "skipped", reason: "already-committed" };
  }
  const batch = plainBatch(write.batch);
  const columnsWithNulls = new Set(target.schema.fields.filter((_, i) => hasNulls(batch.columns[i]!)).map((f) => f.name));
  schemaChange(target, first, columnsWithNulls, write.batchId);
  if (batch.length === 0 && (write.mode === "append" || !first || first.files.length === 0)) return { kind: "skipped", reason: "nothing-to-write" };
  if (write.mode === "complete" && first && first.files.length > 0 && isAppendOnly(first)) throw appendOnlyError(tablePath);

  const format = target.dataFileFormat ?? dataFileFormat(first?.metadata.configuration);
  const written = await writeDataFiles(target, batch, format, true);
  let committed = false;
  let removed = 0;
  let configuration: Readonly<Record<string, string>> = {};
  try {
    const outcome = await commitWithRetries(
      tablePath,
      (snap) => {
        if (snap) {
          checkWritable(snap);
          if (isDone(snap, write)) return { kind: "skip", reason: "already-committed" };
        }
        const change = schemaChange(target, snap, columnsWithNulls, write.batchId);
        configuration = change.metaData?.configuration ?? snap?.metadata.configuration ?? {};
        const actions: Action[] = [
          { commitInfo: commitInfo("STREAMING UPDATE", { outputMode: write.mode === "append" ? "Append" : "Complete", queryId: write.appId, epochId: String(write.batchId) }, write.mode === "append") },
        ];
        if (change.protocol) actions.push({ protocol: change.protocol });
        if (change.metaData) actions.push({ metaData: change.metaData });
        actions.push({ txn: { appId: write.appId, version: write.batchId, lastUpdated: Date.now() } });
        removed = 0;
        if (write.mode === "complete" && snap) {
          if (snap.files.length > 0 && isAppendOnly(snap)) throw appendOnlyError(tablePath);
          const now = Date.now();
          for (const file of snap.files) actions.push({ remove: removeOf(file, now, true) });
          removed = snap.files.length;
        }
        for (const file of written) actions.push({ add: file.add });
        return { kind: "commit", actions };
      },
      first,
    );
    if (outcome.kind === "skipped") return { kind: "skipped", reason: "already-committed" };
    committed = true;
    await checkpointIfDue(tablePath, outcome.version, configuration);
    return { kind: "committed", version: outcome.version, filesAdded: written.length, filesRemoved: removed };
  } finally {
    if (!committed) await Promise.all(written.map((file) => rm(file.absolutePath, { force: true })));
  }
}

function isDone(snap: Snapshot, write: BatchToWrite): boolean {
  const done = snap.txns.get(write.appId);
  return done !== undefined && done >= write.batchId;
}

function hasNulls(data: Batch["columns"][number]): boolean {
  return data.nullBitmap !== undefined && data.nullBitmap.length > 0 && data.nullCount > 0;
}

function appendOnlyError(tablePath: string): DeltaError {
  return new DeltaError(`table ${tablePath} is append-only (delta.appendOnly = true): mode = complete would remove its files; use mode = append, or write to a new table path`);
}

/** The `remove` of a live file, with its partition values and size (`extendedFileMetadata`). */
export function removeOf(file: AddFile, deletionTimestamp: number, dataChange: boolean): RemoveFile {
  return { path: file.path, deletionTimestamp, dataChange, extendedFileMetadata: true, partitionValues: file.partitionValues, size: file.size };
}

// ---- the schema -----------------------------------------------------------------------------------

interface SchemaChange {
  protocol?: Protocol;
  metaData?: MetadataAction;
}

/** What this batch's commit must say about the schema; throws when the table cannot take the batch. */
function schemaChange(target: TableTarget, snap: Snapshot | undefined, columnsWithNulls: ReadonlySet<string>, batchId: number): SchemaChange {
  const { tablePath, schema, partitionBy } = target;
  if (!snap) {
    return {
      protocol: WRITER_PROTOCOL,
      metaData: {
        id: randomUUID(),
        name: null,
        description: null,
        format: { provider: "parquet", options: {} },
        schemaString: toSparkSchemaString(schema.fields.map(toSparkField)),
        partitionColumns: [...partitionBy],
        configuration: {},
        createdTime: Date.now(),
      },
    };
  }
  const tablePartitions = snap.metadata.partitionColumns;
  if (tablePartitions.length !== partitionBy.length || tablePartitions.some((c, i) => c !== partitionBy[i])) {
    throw new DeltaError(
      `table ${tablePath}: it is partitioned by ${columnList(tablePartitions)} but the sink's partition_by is ${columnList(partitionBy)}; partition columns cannot change: set partition_by = ${columnList(tablePartitions)}, or write to a new table path`,
    );
  }
  const tableFields = sparkFieldsOf(snap.metadata.schemaString);
  const byName = new Map(tableFields.map((f) => [f.name, f]));
  const byLowerName = new Map(tableFields.map((f) => [f.name.toLowerCase(), f]));
  const added: Field[] = [];
  for (const field of schema.fields) {
    const existing = byName.get(field.name);
    if (!existing) {
      const other = byLowerName.get(field.name.toLowerCase());
      if (other) throw new DeltaError(`table ${tablePath}: column ${field.name} differs from the table's column ${other.name} only in case; Delta column names ignore case: rename the column to ${other.name}, or write to a new table path`);
      if (!field.nullable) throw new DeltaError(`table ${tablePath}: column ${field.name} is not in the table and is not nullable; a column added to an existing table must be nullable: make it nullable, or write to a new table path`);
      added.push(field);
      continue;
    }
    const sinkType = toSparkType(field.type);
    if (!sameSparkType(existing.type, sinkType)) {
      throw new DeltaError(`table ${tablePath}: column ${field.name} is ${formatSparkType(existing.type)} in the table but ${formatSparkType(sinkType)} in the sink's schema; a column's type cannot change: write to a new table path`);
    }
    if (!existing.nullable && columnsWithNulls.has(field.name)) {
      throw new DeltaError(`table ${tablePath}: column ${field.name} is not nullable in the table but batch ${batchId} has nulls in it; nothing was written: keep nulls out of the column (coalesce), or write to a new table path`);
    }
  }
  const sinkNames = new Set(schema.fields.map((f) => f.name));
  for (const field of tableFields) {
    if (!sinkNames.has(field.name) && !field.nullable) {
      throw new DeltaError(`table ${tablePath}: column ${field.name} is not nullable in the table but the sink's schema has no such column; add it to the stream, or write to a new table path`);
    }
  }
  if (added.length === 0) return {};
  return { metaData: { ...metadataAction(snap), schemaString: toSparkSchemaString([...tableFields, ...added.map(toSparkField)]) } };
}

function columnList(columns: readonly string[]): string {
  return `[${columns.join(", ")}]`;
}

// ---- data files ---------------------------------------------------------------------------------

export interface WrittenFile {
  add: AddFile;
  absolutePath: string;
}

/** Rows of one partition: their partition values (as the log writes them) and row indices (all rows when undefined). */
interface PartitionGroup {
  values: Record<string, string | null>;
  rows: Int32Array | undefined;
}

/** Writes `batch` (of `target.schema`, dictionary-free) as data files; returns their `add` actions. */
export async function writeDataFiles(target: TableTarget, batch: Batch, format: DataFileFormat, dataChange: boolean): Promise<WrittenFile[]> {
  if (batch.length === 0) return [];
  const partitionIndex = target.partitionBy.map((name) => target.schema.fields.findIndex((f) => f.name === name));
  const dataIndex = target.schema.fields.map((_, i) => i).filter((i) => !partitionIndex.includes(i));
  const dataSchema: Schema = { fields: dataIndex.map((i) => target.schema.fields[i]!) };
  const dataBatch: Batch = { schema: dataSchema, length: batch.length, columns: dataIndex.map((i) => batch.columns[i]!) };
  const writer = new FileSizer(target.targetFileSize, arrowBytes(dataBatch) / batch.length);
  const out: WrittenFile[] = [];
  for (const group of partitionGroups(batch, target.schema, partitionIndex)) {
    const rows = group.rows ? gather(dataBatch, group.rows) : dataBatch;
    out.push(...(await writeGroupFiles({ tablePath: target.tablePath, dataSchema, rows, partitionValues: group.values, partitionBy: target.partitionBy, format, sizer: writer, dataChange, firstIndex: out.length })));
  }
  return out;
}

/** Decides how many rows go into the next file, learning bytes per row from the files written. */
export class FileSizer {
  private bytes = 0;
  private rows = 0;

  constructor(
    readonly targetFileSize: number,
    private readonly initialBytesPerRow: number,
  ) {}

  nextRows(remaining: number): number {
    const perRow = this.rows > 0 ? this.bytes / this.rows : this.initialBytesPerRow;
    return Math.max(1, Math.min(remaining, Math.floor(this.targetFileSize / Math.max(perRow, 1e-9))));
  }

  wrote(rows: number, bytes: number): void {
    this.rows += rows;
    this.bytes += bytes;
  }
}

/** One partition's rows to write as data files. */
export interface GroupToWrite {
  tablePath: string;
  /** The data columns (no partition columns). */
  dataSchema: Schema;
  rows: Batch;
  /** The group's partition values, as the log writes them. */
  partitionValues: Record<string, string | null>;
  partitionBy: readonly string[];
  format: DataFileFormat;
  sizer: FileSizer;
  dataChange: boolean;
  /** The `NNNNN` of the first file's name (files are numbered within a commit). */
  firstIndex: number;
}

/** Writes one partition's rows as one or more files of at most about the sizer's target. */
export async function writeGroupFiles(group: GroupToWrite): Promise<WrittenFile[]> {
  const { tablePath, dataSchema, rows, partitionValues, partitionBy, format, sizer, dataChange, firstIndex } = group;
  const dir = partitionBy.map((c) => `${escapePartitionName(c)}=${partitionValues[c] == null ? HIVE_NULL : escapePartitionName(partitionValues[c]!)}`);
  const out: WrittenFile[] = [];
  for (let start = 0; start < rows.length; ) {
    const count = sizer.nextRows(rows.length - start);
    const slice = start === 0 && count === rows.length ? rows : gather(rows, rowRange(start, count));
    const bytes = encodeDataFile(dataSchema, [slice], format);
    sizer.wrote(count, bytes.length);
    const name = `part-${String(firstIndex + out.length).padStart(5, "0")}-${randomUUID()}-c000${dataFileExtension(format)}`;
    const relative = [...dir, name].join("/");
    const absolutePath = join(tablePath, ...dir, name);
    await writeDataFile(absolutePath, bytes);
    const modificationTime = Math.floor((await stat(absolutePath)).mtimeMs);
    out.push({
      absolutePath,
      add: { path: logPath(relative), partitionValues, size: bytes.length, modificationTime, dataChange, stats: fileStats(dataSchema, [slice]) },
    });
    start += count;
  }
  return out;
}

function rowRange(start: number, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = start + i;
  return out;
}

/** The Arrow buffers' bytes of a batch (an estimate of its size, uncompressed). */
function arrowBytes(batch: Batch): number {
  return batch.columns.reduce((n, c) => n + c.byteLength, 0);
}

function partitionGroups(batch: Batch, schema: Schema, partitionIndex: readonly number[]): PartitionGroup[] {
  if (partitionIndex.length === 0) return [{ values: {}, rows: undefined }];
  const readers = partitionIndex.map((i) => ({ name: schema.fields[i]!.name, type: schema.fields[i]!.type, read: cellReader(batch.columns[i]!, schema.fields[i]!.type) }));
  const groups = new Map<string, { values: Record<string, string | null>; rows: number[] }>();
  const texts: (string | null)[] = new Array(readers.length);
  for (let r = 0; r < batch.length; r++) {
    let key = "";
    for (let k = 0; k < readers.length; k++) {
      const text = partitionValueText(readers[k]!.read(r), readers[k]!.type);
      texts[k] = text;
      key += text === null ? "\u0000N" : `\u0000V${text}`;
    }
    let group = groups.get(key);
    if (!group) {
      const values: Record<string, string | null> = {};
      readers.forEach((reader, k) => (values[reader.name] = texts[k] ?? null));
      groups.set(key, (group = { values, rows: [] }));
    }
    group.rows.push(r);
  }
  return [...groups.values()].map((g) => ({ values: g.values, rows: Int32Array.from(g.rows) }));
}

/**
 * A partition value as the protocol serializes it: numbers in decimal, booleans `true`/`false`,
 * dates `YYYY-MM-DD`, timestamps ISO-8601 UTC (`2024-01-01T10:00:00.5Z`), decimals exact; null
 * for null, and for the empty string (the protocol reads an empty value as null, as Spark does).
 */
export function partitionValueText(value: CellValue, type: DataType): string | null {
  if (value === null) return null;
  switch (type.kind) {
    case "string":
      return value === "" ? null : (value as string);
    case "int":
    case "long":
    case "double":
      return String(value);
    case "bool":
      return value ? "true" : "false";
    case "date":
      return formatDateDays(value as number);
    case "timestamp":
      return formatTimestampMicros(value as number);
    case "decimal":
      return formatDecimal(value as bigint, type.scale);
    default:
      throw new Error(`a partition column cannot be of type ${type.kind}`);
  }
}

/** The directory name Hive (and Spark) give a null partition value. */
export const HIVE_NULL = "__HIVE_DEFAULT_PARTITION__";

/** Characters Spark escapes in a partition directory name, as `%XX`. */
const ESCAPED = /[\u0000-\u001f"#%'*/:=?\\\u007f{[\]^]/g;

/** A partition column name or value as a directory name: Spark's escaping (`a/b` → `a%2Fb`). */
export function escapePartitionName(text: string): string {
  return text.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

/** A relative file path as the log writes it: a URI path, each segment percent-encoded (`=` kept). */
export function logPath(relative: string): string {
  return relative
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/%3D/g, "="))
    .join("/");
}
