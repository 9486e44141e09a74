/**
 * The `table` source: a Delta table (table/delta-log.ts), read whole as a snapshot (bounded: a
 * lookup join's right side) or followed for new commits.
 *
 * Contract:
 * - Rows: the table's Parquet data files in order (a snapshot: by modification time, then path, as
 *   Spark's Delta source orders its initial snapshot; commits: in version order, then in the order
 *   of their `add` actions), each file's rows in order. Partition columns come from the file's
 *   `partitionValues`, typed per the table schema. Schema enforcement and rejects are the Parquet
 *   decoder's (decode/arrow.ts): columns by name, rejects positioned at the data file and row.
 * - Bounded: the snapshot at the latest version when `latest()` is first called, in one range.
 * - Followed: the first range(s) read the snapshot at the latest version when reading starts (as
 *   Spark's Delta source: the initial snapshot, then the changes); later ranges read the `add`
 *   actions with `dataChange: true` of the commits after. A batch reads at most `maxFilesPerBatch`
 *   files (default 1000, Spark's `maxFilesPerTrigger` default; `uncapped` lifts it): a snapshot is
 *   split anywhere, commits are taken whole (at least one).
 *
 * Offsets (JSON): `{ "version": V }`, every change through table version V was read; or
 * `{ "version": V, "snapshotIndex": N }`, the first N files of V's snapshot (in the order above).
 * Ranges (JSON), by `kind`:
 * - `{ "kind": "snapshot", "version": V, "start": N, "complete": BOOL, "files": [...], "partitionColumns": [...] }`
 * - `{ "kind": "commits", "from": F, "to": T, "files": [...], "partitionColumns": [...] }`, commits F+1..T.
 * A file is `{ "path": P, "size": BYTES, "partitionValues"?: {...}, "version"?: V }`: its path as the
 * log writes it, its size and partition values (the declared columns' only), and the commit that
 * added it; `partitionColumns` are `{ "name", "type" }` (the table's type). A range so pins what
 * it reads without the log: a replay reads the same files, and a file gone (vacuumed) or of
 * another size makes `read` fail naming it.
 *
 * Decisions:
 * - The table must exist when the pipeline starts, and the declared schema must fit it: every
 *   declared column (and struct field) must be a table column of the same name (case-sensitive)
 *   and of a type the declared one can hold (the same kind; numbers convert to any numeric type,
 *   row by row); otherwise `open` fails naming the table and the column. Table columns the schema
 *   does not name are not read.
 * - A followed table is read for its appends: a commit that removes data (`remove` with
 *   `dataChange: true`: a delete, update, merge or overwrite, a complete-mode sink's rewrite) stops
 *   the pipeline with an error naming the table and version, as Spark does unless told to skip
 *   such commits (the language has no such option). Commits with `dataChange: false` only
 *   (compaction) are skipped. A later commit whose schema no longer fits the declared one, or that
 *   turns on a feature this reader cannot honour, stops it the same way.
 * - Nothing is read from an empty snapshot: reading starts at the first snapshot with files.
 * - A data file that is not readable Parquet fails the batch (the table is corrupt); it is not a
 *   dead letter as in the `files` source.
 */
import { readFile } from "node:fs/promises";
import * as arrow from "apache-arrow";
import { concatBatches } from "../columnar/batch-ops.ts";
import type { Batch } from "../columnar/batch.ts";
import { columnBuilder } from "../columnar/builder.ts";
import type { CellValue } from "../columnar/values.ts";
import { formatField, formatType } from "../data-type.ts";
import type { RejectedRecord } from "../deadletter.ts";
import { decodeArrowTable } from "../decode/arrow.ts";
import type { DecodeOptions } from "../decode/rows.ts";
import type { DataType, Field, Schema } from "../plan.ts";
import { readParquetTable } from "../table/arrow-values.ts";
import {
  type AddFile,
  checkFeatures,
  commitActions,
  DeltaError,
  latestVersion,
  type Metadata,
  type Protocol,
  type RemoveFile,
  resolveDataPath,
  type Snapshot,
  snapshot,
  UnsupportedFeatureError,
} from "../table/delta-log.ts";
import { parsePartitionValue } from "../table/read-table.ts";
import { parseSparkSchema, type SparkSchema, UnsupportedTypeError } from "../table/spark-schema.ts";
import type { JsonValue, Offset, PlanLimits, Range, ReadResult, Source } from "./source.ts";

const OPEN_HINT = "; the table must exist when the pipeline starts (write it with a table sink first, or check the path)";

const LOG_GONE_HINT =
  "; the pipeline fell behind the table's log retention (delta.logRetentionDuration), so what that commit added cannot be known: start the pipeline with a new checkpoint to read the table's current snapshot";

/** Spark's Delta source reads at most 1000 files a batch unless told otherwise. */
export const DEFAULT_MAX_FILES_PER_BATCH = 1000;

export interface TableSourceOptions {
  /** Read one snapshot (lookup joins). */
  bounded?: boolean;
  /** Not a language option: the cap is internal (default `DEFAULT_MAX_FILES_PER_BATCH`). */
  maxFilesPerBatch?: number;
  /** Decoder settings other than the source's name. */
  decode?: Omit<DecodeOptions, "source">;
}

export interface TableOffset {
  version: number;
  snapshotIndex?: number;
}

export interface PinnedFile {
  path: string;
  size: number;
  partitionValues?: Record<string, string | null>;
  version?: number;
}

export interface PartitionColumn {
  name: string;
  type: DataType;
}

export type TableRange =
  | { kind: "snapshot"; version: number; start: number; complete: boolean; files: PinnedFile[]; partitionColumns: PartitionColumn[] }
  | { kind: "commits"; from: number; to: number; files: PinnedFile[]; partitionColumns: PartitionColumn[] };

/** What one commit means to a follower. */
interface CommitChanges {
  version: number;
  /** Its `add` actions with `dataChange: true`, in order. */
  files: PinnedFile[];
  /** Why reading cannot go on through this commit; thrown when a plan reaches it. */
  failure?: Error;
}

/** The snapshot the first ranges read. */
interface InitialSnapshot {
  version: number;
  files: PinnedFile[];
  schema: SparkSchema;
}

export class TableSource implements Source {
  readonly bounded: boolean;
  readonly description: string;
  private readonly maxFilesPerBatch: number;
  /** Where reading stands: from `open(resume)`, moved on by `read`. */
  private position: TableOffset | undefined;
  private initial: InitialSnapshot | undefined;
  /** Changes of the commits after `position`'s version, up to `scannedThrough`. */
  private readonly commits = new Map<number, CommitChanges>();
  private scannedThrough = -1;
  /** The newest protocol, metadata and schema seen (from the snapshot at `open`, then commits). */
  private protocol: Protocol | undefined;
  private metadata: Metadata | undefined;
  private tableSchema: SparkSchema | undefined;
  /** The snapshot `open` read, kept for the first `latest()` when the table has not moved since. */
  private opened: Snapshot | undefined;

  constructor(
    readonly id: string,
    readonly schema: Schema,
    /** The table's directory, resolved against the working directory. */
    readonly tablePath: string,
    private readonly options: TableSourceOptions = {},
  ) {
    this.bounded = options.bounded ?? false;
    this.description = `table[${tablePath}]`;
    this.maxFilesPerBatch = options.maxFilesPerBatch ?? DEFAULT_MAX_FILES_PER_BATCH;
  }

  async open(resume: Offset | undefined): Promise<void> {
    const snap = this.readSnapshot(undefined, OPEN_HINT);
    this.opened = snap;
    this.protocol = snap.protocol;
    this.metadata = snap.metadata;
    this.tableSchema = snap.metadata.schema;
    const problem = schemaProblem(this.schema, snap.metadata.schema);
    if (problem) throw new Error(`table source ${this.id}: ${problem(this.tablePath)}`);
    this.position = resume === undefined ? undefined : asOffset(resume);
    this.initial = undefined;
    this.commits.clear();
    this.scannedThrough = this.position?.version ?? -1;
  }

  async latest(): Promise<Offset> {
    if (this.bounded) {
      this.initial ??= this.takeSnapshot(this.latestVersion());
      return { version: this.initial.version };
    }
    const newest = this.latestVersion();
    const at = this.position;
    if (at === undefined) {
      // Nothing read yet: the snapshot at the latest version, retaken while it is empty.
      if (!this.initial || (this.initial.files.length === 0 && newest > this.initial.version)) {
        this.initial = this.takeSnapshot(newest);
        this.commits.clear();
        this.scannedThrough = this.initial.version;
      }
    } else if (at.snapshotIndex !== undefined && this.initial?.version !== at.version) {
      this.initial = this.takeSnapshot(at.version);
    }
    for (let v = this.scannedThrough + 1; v <= newest; v++) this.commits.set(v, this.scanCommit(v));
    this.scannedThrough = Math.max(this.scannedThrough, newest);
    return { version: Math.max(newest, this.initial?.version ?? -1, at?.version ?? -1) };
  }

  plan(from: Offset | undefined, limits: PlanLimits): Range | undefined {
    const upTo = asOffset(limits.latest).version;
    const cap = limits.uncapped || this.bounded ? Number.POSITIVE_INFINITY : this.maxFilesPerBatch;
    const at = from === undefined ? undefined : asOffset(from);
    if (this.bounded) {
      if (at !== undefined) return undefined;
      return this.snapshotRange(0, Number.POSITIVE_INFINITY);
    }
    if (at === undefined || at.snapshotIndex !== undefined) {
      if (!this.initial) throw new Error(`table source ${this.id}: plan before latest`);
      if (at !== undefined && at.version !== this.initial.version) throw new Error(`table source ${this.id}: plan from a snapshot that latest did not load`);
      return this.snapshotRange(at?.snapshotIndex ?? 0, cap);
    }
    return this.commitsRange(at.version, upTo, cap);
  }

  private snapshotRange(start: number, cap: number): Range | undefined {
    const initial = this.initial;
    if (!initial) throw new Error(`table source ${this.id}: plan before latest`);
    if (start >= initial.files.length) return undefined;
    const files = initial.files.slice(start, start + cap);
    const range: TableRange = {
      kind: "snapshot",
      version: initial.version,
      start,
      complete: start + files.length === initial.files.length,
      files,
      partitionColumns: this.partitionColumns(files, initial.schema),
    };
    return range as unknown as Range;
  }

  private commitsRange(after: number, upTo: number, cap: number): Range | undefined {
    const files: PinnedFile[] = [];
    let to = after;
    for (let v = after + 1; v <= upTo; v++) {
      const commit = this.commits.get(v);
      if (!commit) throw new Error(`table source ${this.id}: plan before latest (version ${v} not scanned)`);
      if (commit.failure) {
        if (files.length > 0) break;
        throw commit.failure;
      }
      if (files.length > 0 && files.length + commit.files.length > cap) break;
      files.push(...commit.files);
      to = v;
    }
    if (files.length === 0) return undefined;
    const range: TableRange = { kind: "commits", from: after, to, files, partitionColumns: this.partitionColumns(files, this.tableSchema!) };
    return range as unknown as Range;
  }

  /** The declared columns that some file of `files` has a partition value for, typed per `schema`. */
  private partitionColumns(files: readonly PinnedFile[], schema: SparkSchema): PartitionColumn[] {
    const names = new Set(files.flatMap((f) => Object.keys(f.partitionValues ?? {})));
    return this.schema.fields.flatMap((f) => {
      const column = names.has(f.name) ? schema.fields.find((t) => t.name === f.name) : undefined;
      return column ? [{ name: f.name, type: column.type }] : [];
    });
  }

  end(range: Range): Offset {
    const r = asRange(range);
    switch (r.kind) {
      case "snapshot":
        return r.complete ? { version: r.version } : { version: r.version, snapshotIndex: r.start + r.files.length };
      case "commits":
        return { version: r.to };
      default:
        return unreachable(r);
    }
  }

  behind(from: Offset | undefined, latest: Offset): number {
    const upTo = asOffset(latest).version;
    const at = from === undefined ? undefined : asOffset(from);
    let count = 0;
    let after: number;
    if (at === undefined || at.snapshotIndex !== undefined) {
      count += Math.max(0, (this.initial?.files.length ?? 0) - (at?.snapshotIndex ?? 0));
      after = this.initial?.version ?? upTo;
    } else after = at.version;
    if (this.bounded) return count;
    for (let v = after + 1; v <= upTo; v++) count += this.commits.get(v)?.files.length ?? 0;
    return count;
  }

  async read(range: Range): Promise<ReadResult> {
    const r = asRange(range);
    const decode: DecodeOptions = { ...this.options.decode, source: this.id };
    const batches: Batch[] = [];
    const rejects: RejectedRecord[] = [];
    for (const file of r.files) {
      const result = decodeArrowTable(this.schema, await this.readDataFile(file, r.partitionColumns), resolveDataPath(this.tablePath, file.path), decode);
      batches.push(...result.batches);
      rejects.push(...result.rejects);
    }
    const end = asOffset(this.end(range));
    if (!this.bounded) this.moveTo(end);
    return { batch: concatBatches(this.schema, batches), rejects };
  }

  async close(): Promise<void> {}

  // ---- reading the log ----------------------------------------------------------------------------

  private readSnapshot(version: number | undefined, hint = ""): Snapshot {
    try {
      return snapshot(this.tablePath, version);
    } catch (e) {
      throw this.tableError(e, hint);
    }
  }

  private latestVersion(): number {
    try {
      return latestVersion(this.tablePath);
    } catch (e) {
      throw this.tableError(e);
    }
  }

  /** Log errors name the source; an unsupported feature stays the reader's `UnsupportedFeatureError`. */
  private tableError(e: unknown, hint = ""): unknown {
    if (e instanceof UnsupportedFeatureError || !(e instanceof DeltaError)) return e;
    return new DeltaError(`table source ${this.id}: ${e.message}${hint}`);
  }

  private takeSnapshot(version: number): InitialSnapshot {
    const opened = this.opened;
    this.opened = undefined;
    const snap = opened?.version === version ? opened : this.readSnapshot(version);
    const problem = schemaProblem(this.schema, snap.metadata.schema);
    if (problem) throw new Error(`table source ${this.id}: ${problem(this.tablePath)} (at version ${snap.version})`);
    const files = [...snap.files]
      .sort((a, b) => a.modificationTime - b.modificationTime || compareText(a.path, b.path))
      .map((f) => this.pin(f, undefined));
    return { version: snap.version, files, schema: snap.metadata.schema };
  }

  private pin(add: AddFile, version: number | undefined): PinnedFile {
    const file: PinnedFile = { path: add.path, size: add.size };
    const values: Record<string, string | null> = {};
    let partitioned = false;
    for (const f of this.schema.fields) {
      if (add.partitionValues && Object.hasOwn(add.partitionValues, f.name)) {
        values[f.name] = add.partitionValues[f.name] ?? null;
        partitioned = true;
      }
    }
    if (partitioned) file.partitionValues = values;
    if (version !== undefined) file.version = version;
    return file;
  }

  /** Reads commit `version` and says what it adds, or why a follower must stop there. */
  private scanCommit(version: number): CommitChanges {
    let actions: Record<string, unknown>[];
    try {
      actions = commitActions(this.tablePath, version);
    } catch (e) {
      throw this.tableError(e, LOG_GONE_HINT);
    }
    const files: PinnedFile[] = [];
    let removed = 0;
    let operation: string | undefined;
    let failure: Error | undefined;
    for (const action of actions) {
      if (action["protocol"]) this.protocol = action["protocol"] as Protocol;
      if (action["metaData"]) {
        this.metadata = action["metaData"] as Metadata;
        failure ??= this.adoptSchema(this.metadata, version);
      }
      const info = action["commitInfo"] as { operation?: unknown } | undefined;
      if (typeof info?.operation === "string") operation = info.operation;
      const add = action["add"] as AddFile | undefined;
      if (add?.dataChange) {
        if (add.deletionVector) failure ??= new UnsupportedFeatureError("deletionVectors", this.tablePath);
        files.push(this.pin(add, version));
      }
      const remove = action["remove"] as RemoveFile | undefined;
      if (remove?.dataChange) removed++;
    }
    if (this.protocol && actions.some((a) => a["protocol"] || a["metaData"])) {
      try {
        checkFeatures(this.protocol, this.metadata, this.tablePath);
      } catch (e) {
        failure ??= e as Error;
      }
    }
    if (removed > 0) {
      failure ??= new Error(
        `table source ${this.id}: version ${version} of ${this.tablePath} removes data (${operation ? `${operation}, ` : ""}${removed} file${removed === 1 ? "" : "s"} removed with dataChange); ` +
          `a followed table is read for its appends, as Spark's Delta source does unless told to skip such commits. ` +
          `To read the table as it is now, start the pipeline with a new checkpoint (it reads the latest snapshot, then follows); ` +
          `a table that is rewritten in place (a complete-mode sink, deletes, merges) can be read whole by a lookup join instead`,
      );
    }
    return failure ? { version, files, failure } : { version, files };
  }

  /** Takes a commit's new metadata; the error when its schema no longer fits the declared one. */
  private adoptSchema(metadata: Metadata, version: number): Error | undefined {
    let schema: SparkSchema;
    try {
      schema = parseSparkSchema(metadata.schemaString);
    } catch (e) {
      if (e instanceof UnsupportedTypeError) return new UnsupportedFeatureError(e.message, this.tablePath);
      return new DeltaError(`table source ${this.id}: version ${version} of ${this.tablePath} has a schema this reader cannot read (${(e as Error).message})`);
    }
    this.tableSchema = schema;
    const problem = schemaProblem(this.schema, schema);
    if (!problem) return undefined;
    return new Error(`table source ${this.id}: version ${version} of ${this.tablePath} changes the table's schema: ${problem(this.tablePath)}`);
  }

  private moveTo(end: TableOffset): void {
    const at = this.position;
    const further = at === undefined || end.version > at.version || (end.version === at.version && (end.snapshotIndex ?? Infinity) > (at.snapshotIndex ?? Infinity));
    if (!further) return;
    this.position = end;
    for (const v of this.commits.keys()) if (v <= end.version) this.commits.delete(v);
  }

  // ---- reading data files -------------------------------------------------------------------------

  /** A data file's rows as an Arrow table, with its partition columns added. */
  private async readDataFile(file: PinnedFile, partitionColumns: readonly PartitionColumn[]): Promise<arrow.Table> {
    const path = resolveDataPath(this.tablePath, file.path);
    const added = file.version === undefined ? "" : ` (added in version ${file.version})`;
    const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") {
        throw new Error(
          `table source ${this.id}: data file ${path}${added} of table ${this.tablePath} is gone (vacuumed or deleted), so the batch cannot be replayed; ` +
            `start the pipeline with a new checkpoint to read the table's current snapshot, and vacuum with a retention longer than a pipeline may lag`,
        );
      }
      throw new Error(`table source ${this.id}: cannot read data file ${path}${added} of table ${this.tablePath} (${e.code ?? e.message})`);
    });
    if (bytes.length !== file.size) {
      throw new Error(`table source ${this.id}: data file ${path}${added} of table ${this.tablePath} has ${bytes.length} bytes, the log says ${file.size}; it was replaced, so the batch cannot be read`);
    }
    let table: arrow.Table;
    try {
      table = readParquetTable(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    } catch (e) {
      throw new Error(`table source ${this.id}: data file ${path}${added} of table ${this.tablePath} is not readable Parquet (${e instanceof Error ? e.message : String(e)}); the table is corrupt`);
    }
    const columns = partitionColumns.filter((c) => file.partitionValues && Object.hasOwn(file.partitionValues, c.name));
    if (columns.length === 0 || table.numRows === 0) return table;
    const values = columns.map((c) => ({ column: c, value: partitionCell(c, file.partitionValues![c.name], path, this.tablePath) }));
    const names = new Set(columns.map((c) => c.name));
    const batches = table.batches.map((batch) => {
      // Partition values in the log win over a column of the same name in the file.
      const kept = batch.schema.fields.flatMap((f, i) => (names.has(f.name) ? [] : [[f, batch.data.children[i]!] as const]));
      const constant = values.map(({ column, value }) => {
        const data = constantColumn(column, value, batch.numRows);
        return [new arrow.Field(column.name, data.type, true), data] as const;
      });
      const all = [...kept, ...constant];
      const fields = all.map(([f]) => f);
      const struct = arrow.makeData({ type: new arrow.Struct(fields), length: batch.numRows, nullCount: 0, children: all.map(([, d]) => d) });
      return new arrow.RecordBatch(new arrow.Schema(fields), struct);
    });
    return new arrow.Table(batches);
  }
}

/** A partition value (a string in the log) as a cell of the table's type; a bad one is a corrupt table. */
function partitionCell(column: PartitionColumn, raw: string | null | undefined, file: string, tablePath: string): CellValue | bigint {
  const fail = (): never => {
    throw new DeltaError(`${tablePath}: partition value ${JSON.stringify(raw)} of column ${column.name} for ${file} is not a ${formatType(column.type)}; the log is corrupt`);
  };
  let value: unknown;
  try {
    value = parsePartitionValue(raw, column.type);
  } catch {
    return fail();
  }
  if (value === null) return null;
  switch (column.type.kind) {
    case "int":
      return Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31 ? (value as number) : fail();
    case "long":
      return typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value as number) : fail();
    case "double":
      return typeof value === "number" ? value : fail();
    case "date":
    case "timestamp":
      return Number.isSafeInteger(value) ? (value as number) : fail();
    case "decimal":
      return BigInt((value as string).replace(".", ""));
    case "bool":
    case "string":
    case "bytes":
      return value as CellValue;
    default:
      return fail();
  }
}

/** `length` copies of one value, in the table type's Arrow layout (strings dictionary-encoded). */
function constantColumn(column: PartitionColumn, value: CellValue | bigint, length: number): arrow.Data {
  if (column.type.kind === "long" && typeof value === "bigint") {
    // Int64 built directly: a value beyond ±2^53 then meets the decoder's range check.
    return arrow.makeData({ type: new arrow.Int64(), length, nullCount: 0, data: new BigInt64Array(length).fill(value) });
  }
  const builder = columnBuilder({ name: column.name, type: column.type, nullable: true }, length, { dictionary: true });
  for (let i = 0; i < length; i++) builder.append(value as CellValue);
  return builder.finish();
}

// ---- the declared schema against the table's ------------------------------------------------------

const NUMERIC = new Set(["int", "long", "double", "decimal"]);

/** Why `declared` does not fit the table schema (a message taking the table's path), or undefined. */
export function schemaProblem(declared: Schema, table: Schema): ((tablePath: string) => string) | undefined {
  for (const field of declared.fields) {
    const problem = fieldProblem(field, table.fields, "");
    if (problem) return problem;
  }
  return undefined;
}

function fieldProblem(field: Field, tableFields: readonly Field[], prefix: string): ((tablePath: string) => string) | undefined {
  const name = prefix + field.name;
  const match = tableFields.find((f) => f.name === field.name);
  if (!match) {
    const near = tableFields.find((f) => f.name.toLowerCase() === field.name.toLowerCase());
    const columns = tableFields.map((f) => f.name).join(", ");
    const what = prefix ? `field ${name} (the fields of ${prefix.slice(0, -1)}: ${columns || "none"})` : `column ${name} (its columns: ${columns || "none"})`;
    return (path) =>
      `table ${path} has no ${what}` + (near ? `; names are case-sensitive: did you mean ${prefix}${near.name}?` : "; remove it from the source's schema or check the name");
  }
  if (field.type.kind === "struct" && match.type.kind === "struct") {
    for (const inner of field.type.fields) {
      const problem = fieldProblem(inner, match.type.fields, `${name}.`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!holds(field.type, match.type)) {
    return (path) => `column ${name} of table ${path} is ${formatField(match)}, which the declared ${formatField(field)} cannot hold; declare it as ${formatType(match.type)}`;
  }
  return undefined;
}

/** Whether every value of the table's type converts to the declared type (numbers are checked row by row). */
function holds(declared: DataType, table: DataType): boolean {
  if (NUMERIC.has(declared.kind) && NUMERIC.has(table.kind)) return true;
  if (declared.kind !== table.kind) return false;
  switch (declared.kind) {
    case "list":
      return holds(declared.element.type, (table as typeof declared).element.type);
    case "map":
      return holds(declared.value.type, (table as typeof declared).value.type);
    case "struct": {
      const fields = (table as typeof declared).fields;
      return declared.fields.every((f) => {
        const match = fields.find((t) => t.name === f.name);
        return match !== undefined && holds(f.type, match.type);
      });
    }
    default:
      return true;
  }
}

// ---- offsets and ranges -----------------------------------------------------------------------------

function asOffset(offset: Offset): TableOffset {
  const o = offset as { version?: unknown; snapshotIndex?: unknown } | null;
  if (!o || !Number.isSafeInteger(o.version) || (o.snapshotIndex !== undefined && !Number.isSafeInteger(o.snapshotIndex))) {
    throw new Error(`not a table offset: ${JSON.stringify(offset)}`);
  }
  return o.snapshotIndex === undefined ? { version: o.version as number } : { version: o.version as number, snapshotIndex: o.snapshotIndex as number };
}

function asRange(range: Range): TableRange {
  const r = range as { kind?: unknown; files?: unknown; partitionColumns?: unknown } | null;
  const filesOk =
    Array.isArray(r?.files) &&
    r.files.length > 0 &&
    r.files.every((f: { path?: unknown; size?: unknown } | null) => typeof f?.path === "string" && Number.isSafeInteger(f?.size));
  if (!r || (r.kind !== "snapshot" && r.kind !== "commits") || !filesOk || !Array.isArray(r.partitionColumns)) {
    throw new Error(`not a table range: ${JSON.stringify(range)}`);
  }
  return r as unknown as TableRange;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function unreachable(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value as JsonValue)}`);
}
