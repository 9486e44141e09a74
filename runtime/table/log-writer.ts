/**
 * The Delta commit protocol: actions, put-if-absent commits, optimistic retries, and the checks a
 * writer makes before it touches a table written by others.
 *
 * Contract:
 * - `commitWithRetries(tablePath, prepare)`: reads the latest snapshot (undefined for a table
 *   with no commit yet), asks `prepare(snapshot)` for the actions of the next version (or to skip),
 *   and writes them as `_delta_log/%020d.json` (newline-delimited actions, `commitInfo` first)
 *   with `createFileExclusively`: the file is linked into place, never renamed over an existing
 *   entry. `crashPoint("table.before-log")` is reached just before each attempt. When another
 *   writer took that version first (EEXIST), the snapshot is read again and `prepare` runs again
 *   on it (it re-checks transaction ids, schema and protocol); after `MAX_COMMIT_ATTEMPTS`
 *   versions lost in a row it gives up with a `DeltaError` naming the table.
 * - `checkpointIfDue(tablePath, V, configuration)`, called by a writer after it committed V: when
 *   V > 0 is a multiple of the table's checkpoint interval (`delta.checkpointInterval`, else 10),
 *   it writes a Parquet checkpoint of V (log-checkpoint.ts). It is a separate step so that a
 *   writer knows its commit is in before anything else can fail.
 * - `checkWritable(snapshot)` throws `UnsupportedFeatureError` (the reader's "unsupported table
 *   feature X in PATH", with the way out) when the table asks writers for something streamc does
 *   not do: writer version above 7, a writer feature it does not know, column invariants, CHECK
 *   constraints, generated, default or identity columns, or change data feed switched on.
 *   Reader features are checked by the reader (`snapshot`).
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { crashPoint } from "../fault.ts";
import { createFileExclusively } from "../storage/durable-file.ts";
import { type AddFile, DeltaError, type Protocol, type RemoveFile, type Snapshot, snapshot, UnsupportedFeatureError } from "./delta-log.ts";
import { writeCheckpoint } from "./log-checkpoint.ts";
import { sparkFieldsOf, type SparkFieldJson, type SparkTypeJson } from "./spark-schema.ts";

/** The protocol streamc creates tables with (no table features). */
export const WRITER_PROTOCOL: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };

/** Versions a writer may lose to other writers in a row before it gives up. */
export const MAX_COMMIT_ATTEMPTS = 100;

/** The `metaData` action as written (the reader's `Metadata` plus the required `format`). */
export interface MetadataAction {
  id: string;
  name: string | null;
  description: string | null;
  format: { provider: "parquet"; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime: number | null;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated: number;
}

export interface CommitInfo {
  timestamp: number;
  operation: string;
  operationParameters: Record<string, string>;
  engineInfo: string;
  isBlindAppend: boolean;
  txnId: string;
}

/** One line of a commit. */
export type Action =
  | { commitInfo: CommitInfo }
  | { protocol: Protocol }
  | { metaData: MetadataAction }
  | { txn: TxnAction }
  | { remove: RemoveFile }
  | { add: AddFile };

/** What `prepare` decides for one attempt. */
export type Prepared = { kind: "commit"; actions: Action[] } | { kind: "skip"; reason: string };

export type CommitOutcome = { kind: "committed"; version: number } | { kind: "skipped"; reason: string };

export function commitFileName(version: number): string {
  return `${String(version).padStart(20, "0")}.json`;
}

export function commitInfo(operation: string, operationParameters: Record<string, string>, isBlindAppend: boolean): CommitInfo {
  return { timestamp: Date.now(), operation, operationParameters, engineInfo: "streamc", isBlindAppend, txnId: randomUUID() };
}

/** The metaData `snapshot` holds, as an action to write again (with a changed schema, say). */
export function metadataAction(snap: Snapshot): MetadataAction {
  const m = snap.metadata;
  return {
    id: m.id,
    name: m.name ?? null,
    description: m.description ?? null,
    format: { provider: "parquet", options: {} },
    schemaString: m.schemaString,
    partitionColumns: m.partitionColumns,
    configuration: m.configuration,
    createdTime: m.createdTime ?? null,
  };
}

const VERSION_FILE = /^\d{20}\.(json|checkpoint(\.\d{10}\.\d{10})?\.parquet)$/;

/** The latest snapshot, or undefined when the table has no commit yet (no `_delta_log`, or an empty one). */
export function readSnapshotIfExists(tablePath: string): Snapshot | undefined {
  const logDir = join(tablePath, "_delta_log");
  if (!existsSync(logDir) || !readdirSync(logDir).some((name) => VERSION_FILE.test(name))) return undefined;
  return snapshot(tablePath);
}

export async function commitWithRetries(tablePath: string, prepare: (snap: Snapshot | undefined) => Prepared, first?: Snapshot): Promise<CommitOutcome> {
  let snap = first ?? readSnapshotIfExists(tablePath);
  for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
    if (attempt > 0) snap = readSnapshotIfExists(tablePath);
    const prepared = prepare(snap);
    if (prepared.kind === "skip") return { kind: "skipped", reason: prepared.reason };
    const version = snap ? snap.version + 1 : 0;
    crashPoint("table.before-log");
    if (await putCommit(tablePath, version, prepared.actions)) return { kind: "committed", version };
  }
  throw new DeltaError(
    `gave up committing to ${tablePath}: other writers took the next version ${MAX_COMMIT_ATTEMPTS} times in a row; nothing was committed (the data files written are unreferenced, vacuum removes them); retry, or write with fewer concurrent writers`,
  );
}

/** Writes `actions` as version `version`; false when that version exists already. */
export async function putCommit(tablePath: string, version: number, actions: readonly Action[]): Promise<boolean> {
  const logDir = join(tablePath, "_delta_log");
  await mkdir(logDir, { recursive: true });
  const text = actions.map((a) => JSON.stringify(a)).join("\n") + "\n";
  return createFileExclusively(join(logDir, commitFileName(version)), text);
}

/** Writes the checkpoint of `version` when it is due under the table's `configuration`. */
export async function checkpointIfDue(tablePath: string, version: number, configuration: Readonly<Record<string, string>>): Promise<void> {
  const interval = Number(configuration["delta.checkpointInterval"] ?? 10);
  const every = Number.isInteger(interval) && interval > 0 ? interval : 10;
  if (version > 0 && version % every === 0) await writeCheckpoint(snapshot(tablePath, version));
}

// ---- what a writer must honour ------------------------------------------------------------------

/** Writer features streamc honours: it never writes what they forbid (checked below on the table's schema and configuration). */
const HONOURED_WRITER_FEATURES = new Set([
  "appendOnly",
  "invariants",
  "checkConstraints",
  "changeDataFeed",
  "generatedColumns",
  "allowColumnDefaults",
  "identityColumns",
  "vacuumProtocolCheck",
]);

/** The features a legacy writer version (2 to 6) implies. */
const LEGACY_WRITER_FEATURES: Record<number, string[]> = {
  2: ["appendOnly", "invariants"],
  3: ["appendOnly", "invariants", "checkConstraints"],
  4: ["appendOnly", "invariants", "checkConstraints", "changeDataFeed", "generatedColumns"],
  5: ["appendOnly", "invariants", "checkConstraints", "changeDataFeed", "generatedColumns", "columnMapping"],
  6: ["appendOnly", "invariants", "checkConstraints", "changeDataFeed", "generatedColumns", "columnMapping", "identityColumns"],
};

export function unsupportedForWriting(feature: string, tablePath: string): UnsupportedFeatureError {
  const error = new UnsupportedFeatureError(feature, tablePath);
  error.message += ": streamc does not write tables that use it; write to a new table path";
  return error;
}

export function checkWritable(snap: Snapshot): void {
  const { protocol, tablePath } = snap;
  if (protocol.minWriterVersion > 7) throw unsupportedForWriting(`writerVersion${protocol.minWriterVersion}`, tablePath);
  const features = protocol.minWriterVersion === 7 ? (protocol.writerFeatures ?? []) : (LEGACY_WRITER_FEATURES[protocol.minWriterVersion] ?? []);
  for (const feature of features) {
    // Column mapping in mode `none` asks nothing of a writer (the reader refuses any other mode).
    if (feature === "columnMapping" && (snap.metadata.configuration["delta.columnMapping.mode"] ?? "none") === "none") continue;
    if (!HONOURED_WRITER_FEATURES.has(feature)) throw unsupportedForWriting(feature, tablePath);
  }
  const keys = new Set<string>();
  collectMetadataKeys(sparkFieldsOf(snap.metadata.schemaString), keys);
  const configuration = snap.metadata.configuration;
  if (keys.has("delta.invariants")) throw unsupportedForWriting("invariants", tablePath);
  if (Object.keys(configuration).some((k) => k.startsWith("delta.constraints."))) throw unsupportedForWriting("checkConstraints", tablePath);
  if (configuration["delta.enableChangeDataFeed"]?.toLowerCase() === "true") throw unsupportedForWriting("changeDataFeed", tablePath);
  if (keys.has("delta.generationExpression")) throw unsupportedForWriting("generatedColumns", tablePath);
  if (keys.has("CURRENT_DEFAULT")) throw unsupportedForWriting("allowColumnDefaults", tablePath);
  if ([...keys].some((k) => k.startsWith("delta.identity."))) throw unsupportedForWriting("identityColumns", tablePath);
}

/** Whether the table forbids removing data (`delta.appendOnly`). */
export function isAppendOnly(snap: Snapshot): boolean {
  return snap.metadata.configuration["delta.appendOnly"]?.toLowerCase() === "true";
}

function collectMetadataKeys(fields: readonly SparkFieldJson[], into: Set<string>): void {
  for (const field of fields) {
    for (const key of Object.keys(field.metadata ?? {})) into.add(key);
    collectTypeKeys(field.type, into);
  }
}

function collectTypeKeys(type: SparkTypeJson, into: Set<string>): void {
  if (typeof type === "string") return;
  if (type.type === "struct") collectMetadataKeys(type["fields"] as SparkFieldJson[], into);
  if (type.type === "array") collectTypeKeys(type["elementType"] as SparkTypeJson, into);
  if (type.type === "map") {
    collectTypeKeys(type["keyType"] as SparkTypeJson, into);
    collectTypeKeys(type["valueType"] as SparkTypeJson, into);
  }
}
