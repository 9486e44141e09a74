/**
 * Parquet checkpoints of a table's log (the protocol's classic, V1 checkpoint).
 *
 * Contract: `writeCheckpoint(snapshot)` writes `_delta_log/%020d.checkpoint.parquet` for the
 * snapshot's version, one row per action, each action a struct column as the protocol's
 * checkpoint schema has it: `protocol` (with `readerFeatures` / `writerFeatures`, null unless the
 * table has them), `metaData` (`format`, `partitionColumns` a list, `configuration` a map),
 * one `txn` per application id, one `add` per live file (`partitionValues` a map, `stats` the
 * JSON string; no `stats_parsed`), and one `remove` per tombstone whose deletion is at most
 * `TOMBSTONE_RETENTION_MS` old (the default `delta.deletedFileRetentionDuration`, 1 week), so
 * that vacuum still sees it. Then `_last_checkpoint` (`{version, size, sizeInBytes,
 * numOfAddFiles}`), unless it already names a later version. Both files are written whole or not
 * at all (temporary file, fsync, rename): two writers checkpointing one version write the same
 * content, so the later rename is harmless, as the protocol allows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { batchFromRows } from "../columnar/batch-ops.ts";
import type { CellValue } from "../columnar/values.ts";
import type { DataType, Field, Schema } from "../plan.ts";
import { writeFileAtomically } from "../storage/durable-file.ts";
import type { Snapshot } from "./delta-log.ts";
import { dataFileFormat, encodeDataFile } from "./parquet-file.ts";

export const TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

const text: DataType = { kind: "string" };
const long: DataType = { kind: "long" };
const textMap: DataType = { kind: "map", value: { name: "value", type: text, nullable: true } };
const textList: DataType = { kind: "list", element: { name: "element", type: text, nullable: true } };

function field(name: string, type: DataType): Field {
  return { name, type, nullable: true };
}

function struct(name: string, fields: Field[]): Field {
  return field(name, { kind: "struct", fields });
}

/** The protocol's V1 checkpoint schema (without the optional parsed columns). */
export const checkpointSchema: Schema = {
  fields: [
    struct("txn", [field("appId", text), field("version", long), field("lastUpdated", long)]),
    struct("add", [
      field("path", text),
      field("partitionValues", textMap),
      field("size", long),
      field("modificationTime", long),
      field("dataChange", { kind: "bool" }),
      field("stats", text),
      field("tags", textMap),
    ]),
    struct("remove", [
      field("path", text),
      field("deletionTimestamp", long),
      field("dataChange", { kind: "bool" }),
      field("extendedFileMetadata", { kind: "bool" }),
      field("partitionValues", textMap),
      field("size", long),
    ]),
    struct("metaData", [
      field("id", text),
      field("name", text),
      field("description", text),
      struct("format", [field("provider", text), field("options", textMap)]),
      field("schemaString", text),
      field("partitionColumns", textList),
      field("configuration", textMap),
      field("createdTime", long),
    ]),
    struct("protocol", [field("minReaderVersion", { kind: "int" }), field("minWriterVersion", { kind: "int" }), field("readerFeatures", textList), field("writerFeatures", textList)]),
  ],
};

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, "0")}.checkpoint.parquet`;
}

function textMapOf(o: Record<string, string | null> | null | undefined): Map<string, CellValue> | null {
  return o ? new Map(Object.entries(o)) : null;
}

/** The checkpoint's rows: one action each, the other columns null. */
export function checkpointRows(snap: Snapshot, now = Date.now()): Record<string, CellValue>[] {
  const empty = { txn: null, add: null, remove: null, metaData: null, protocol: null };
  const rows: Record<string, CellValue>[] = [];
  const { protocol, metadata } = snap;
  rows.push({
    ...empty,
    protocol: {
      minReaderVersion: protocol.minReaderVersion,
      minWriterVersion: protocol.minWriterVersion,
      readerFeatures: protocol.readerFeatures ?? null,
      writerFeatures: protocol.writerFeatures ?? null,
    },
  });
  rows.push({
    ...empty,
    metaData: {
      id: metadata.id,
      name: metadata.name ?? null,
      description: metadata.description ?? null,
      format: { provider: "parquet", options: new Map() },
      schemaString: metadata.schemaString,
      partitionColumns: metadata.partitionColumns,
      configuration: textMapOf(metadata.configuration),
      createdTime: metadata.createdTime ?? null,
    },
  });
  for (const [appId, version] of [...snap.txns].sort((a, b) => (a[0] < b[0] ? -1 : 1))) rows.push({ ...empty, txn: { appId, version, lastUpdated: null } });
  for (const add of snap.files) {
    rows.push({
      ...empty,
      add: {
        path: add.path,
        partitionValues: textMapOf(add.partitionValues) ?? new Map(),
        size: add.size,
        modificationTime: add.modificationTime,
        dataChange: add.dataChange,
        stats: add.stats ?? null,
        tags: textMapOf(add.tags),
      },
    });
  }
  for (const remove of snap.tombstones) {
    if (typeof remove.deletionTimestamp === "number" && remove.deletionTimestamp < now - TOMBSTONE_RETENTION_MS) continue;
    rows.push({
      ...empty,
      remove: {
        path: remove.path,
        deletionTimestamp: remove.deletionTimestamp ?? null,
        dataChange: remove.dataChange,
        extendedFileMetadata: remove.extendedFileMetadata ?? null,
        partitionValues: textMapOf(remove.partitionValues),
        size: remove.size ?? null,
      },
    });
  }
  return rows;
}

export async function writeCheckpoint(snap: Snapshot, now = Date.now()): Promise<void> {
  const logDir = join(snap.tablePath, "_delta_log");
  const rows = checkpointRows(snap, now);
  const bytes = encodeDataFile(checkpointSchema, [batchFromRows(checkpointSchema, rows)], dataFileFormat(snap.metadata.configuration));
  await writeFileAtomically(join(logDir, checkpointFileName(snap.version)), bytes);
  const last = lastCheckpointVersion(logDir);
  if (last !== undefined && last > snap.version) return;
  const description = { version: snap.version, size: rows.length, sizeInBytes: bytes.length, numOfAddFiles: snap.files.length };
  await writeFileAtomically(join(logDir, "_last_checkpoint"), JSON.stringify(description) + "\n");
}

function lastCheckpointVersion(logDir: string): number | undefined {
  try {
    const version = (JSON.parse(readFileSync(join(logDir, "_last_checkpoint"), "utf8")) as { version?: unknown }).version;
    return typeof version === "number" ? version : undefined;
  } catch {
    return undefined;
  }
}
