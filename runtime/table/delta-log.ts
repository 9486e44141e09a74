/**
 * Delta Lake log reader (protocol reader version 1): actions, log replay and snapshots.
 *
 * Replay: start from the latest checkpoint at or before the wanted version (from `_last_checkpoint`
 * when it is valid, else by listing `_delta_log`), then apply the JSON commits in order. Live files
 * are the adds not removed later (by path); the latest metaData and protocol win; txn keeps the
 * latest version per appId.
 */
import fs from "node:fs";
import path from "node:path";
import { readParquetTable, tableRows } from "./arrow-values.ts";
import { parseSparkSchema, UnsupportedTypeError, type SparkSchema } from "./spark-schema.ts";

export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface FileStats {
  numRecords?: number;
  minValues?: Record<string, unknown>;
  maxValues?: Record<string, unknown>;
  nullCount?: Record<string, unknown>;
  tightBounds?: boolean;
}

export interface AddFile {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
}

export interface RemoveFile {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  /** When true, `partitionValues` and `size` are present. */
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
}

export interface LiveFile extends AddFile {
  /** `stats` parsed; undefined when the add carries none. */
  parsedStats?: FileStats;
}

export interface Snapshot {
  tablePath: string;
  version: number;
  protocol: Protocol;
  metadata: Metadata & { schema: SparkSchema };
  files: LiveFile[];
  /** Removed files not added again since (tombstones, for vacuum and checkpoints), with their `remove` actions. */
  tombstones: RemoveFile[];
  txns: Map<string, number>;
}

export class DeltaError extends Error {}

export class UnsupportedFeatureError extends DeltaError {
  constructor(
    readonly feature: string,
    tablePath: string,
  ) {
    super(`unsupported table feature ${feature} in ${tablePath}`);
  }
}

/** Reader features this reader can honour (they do not change how data is read). */
const SUPPORTED_READER_FEATURES = new Set(["vacuumProtocolCheck", "appendOnly", "invariants", "checkConstraints"]);
const KNOWN_UNSUPPORTED = ["deletionVectors", "columnMapping", "v2Checkpoint", "typeWidening", "typeWidening-preview", "timestampNtz"];

const COMMIT_RE = /^(\d{20})\.json$/;
const CHECKPOINT_RE = /^(\d{20})\.checkpoint\.parquet$/;
const MULTI_CHECKPOINT_RE = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;

interface LogListing {
  commits: Map<number, string>;
  /** version → part file names (single-part: one name). Only complete checkpoints. */
  checkpoints: Map<number, string[]>;
}

function listLog(logDir: string): LogListing {
  const commits = new Map<number, string>();
  const parts = new Map<string, { version: number; total: number; names: Map<number, string> }>();
  const checkpoints = new Map<number, string[]>();
  for (const name of fs.readdirSync(logDir)) {
    let m = COMMIT_RE.exec(name);
    if (m) {
      commits.set(Number(m[1]), name);
      continue;
    }
    m = CHECKPOINT_RE.exec(name);
    if (m) {
      checkpoints.set(Number(m[1]), [name]);
      continue;
    }
    m = MULTI_CHECKPOINT_RE.exec(name);
    if (m) {
      const key = `${m[1]}/${m[3]}`;
      let p = parts.get(key);
      if (!p) parts.set(key, (p = { version: Number(m[1]), total: Number(m[3]), names: new Map() }));
      p.names.set(Number(m[2]), name);
    }
  }
  for (const p of parts.values()) {
    if (p.names.size === p.total && !checkpoints.has(p.version)) {
      checkpoints.set(p.version, [...p.names.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]));
    }
  }
  return { commits, checkpoints };
}

/** `_last_checkpoint`'s version, or undefined when missing or corrupt. */
function readLastCheckpoint(logDir: string): { version: number; parts?: number } | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(path.join(logDir, "_last_checkpoint"), "utf8")) as Record<string, unknown>;
    if (typeof o.version !== "number" || !Number.isInteger(o.version) || o.version < 0) return undefined;
    return { version: o.version, parts: typeof o.parts === "number" ? o.parts : undefined };
  } catch {
    return undefined;
  }
}

type Action = Record<string, unknown>;

function readCommit(file: string): Action[] {
  const out: Action[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    out.push(JSON.parse(line) as Action);
  }
  return out;
}

function readCheckpoint(logDir: string, names: string[]): Action[] {
  const out: Action[] = [];
  for (const name of names) {
    const table = readParquetTable(new Uint8Array(fs.readFileSync(path.join(logDir, name))));
    for (const row of tableRows(table)) {
      const action: Action = {};
      for (const [k, v] of Object.entries(row)) if (v !== null && v !== undefined) action[k] = v;
      out.push(action);
    }
  }
  return out;
}

/** Throws `UnsupportedFeatureError` when `protocol` (with `metadata`'s configuration) asks for a feature this reader cannot honour. */
export function checkFeatures(protocol: Protocol, metadata: Metadata | undefined, tablePath: string): void {
  const features = protocol.readerFeatures ?? [];
  for (const f of KNOWN_UNSUPPORTED) if (features.includes(f)) throw new UnsupportedFeatureError(f.replace(/-preview$/, ""), tablePath);
  const mode = metadata?.configuration?.["delta.columnMapping.mode"];
  if (mode !== undefined && mode !== "none") throw new UnsupportedFeatureError("columnMapping", tablePath);
  if (protocol.minReaderVersion > 1) {
    if (protocol.minReaderVersion === 2) return; // reader v2 = column mapping, rejected above when in use
    if (protocol.minReaderVersion !== 3) {
      throw new UnsupportedFeatureError(`readerVersion${protocol.minReaderVersion}`, tablePath);
    }
    for (const f of features) if (!SUPPORTED_READER_FEATURES.has(f)) throw new UnsupportedFeatureError(f, tablePath);
  }
}

function parseStats(stats: string | null | undefined): FileStats | undefined {
  if (typeof stats !== "string" || stats === "") return undefined;
  try {
    return JSON.parse(stats) as FileStats;
  } catch {
    return undefined;
  }
}

/** Reads the snapshot of the table at `tablePath` at `version` (latest when omitted). */
export function snapshot(tablePath: string, version?: number): Snapshot {
  const logDir = path.join(tablePath, "_delta_log");
  if (!fs.existsSync(logDir) || !fs.statSync(logDir).isDirectory()) {
    throw new DeltaError(`no Delta log at ${logDir}: not a Delta table`);
  }
  const listing = listLog(logDir);
  const versions = new Set<number>([...listing.commits.keys(), ...listing.checkpoints.keys()]);
  if (versions.size === 0) throw new DeltaError(`empty Delta log in ${tablePath}`);
  const latest = Math.max(...versions);
  const target = version ?? latest;
  if (version !== undefined && version > latest) {
    throw new DeltaError(`version ${version} does not exist in ${tablePath} (latest is ${latest})`);
  }

  // Choose a checkpoint at or before the target.
  let cp: number | undefined;
  const last = readLastCheckpoint(logDir);
  if (last && last.version <= target && listing.checkpoints.has(last.version)) cp = last.version;
  for (const v of listing.checkpoints.keys()) if (v <= target && (cp === undefined || v > cp)) cp = v;

  const start = cp === undefined ? 0 : cp + 1;
  if (cp === undefined && !listing.commits.has(0)) {
    const first = Math.min(...listing.commits.keys());
    throw new DeltaError(`missing version 0 in ${tablePath}: the log starts at ${first} with no checkpoint before it`);
  }
  for (let v = start; v <= target; v++) {
    if (!listing.commits.has(v)) throw new DeltaError(`versions are not contiguous in ${tablePath}: missing version ${v}`);
  }

  let protocol: Protocol | undefined;
  let metadata: Metadata | undefined;
  const adds = new Map<string, AddFile>();
  const removes = new Map<string, RemoveFile>();
  const txns = new Map<string, number>();

  const apply = (a: Action): void => {
    if (a.protocol) protocol = a.protocol as Protocol;
    if (a.metaData) metadata = a.metaData as Metadata;
    if (a.txn) {
      const t = a.txn as { appId: string; version: number };
      txns.set(t.appId, Number(t.version));
    }
    if (a.add) {
      const add = a.add as AddFile;
      adds.set(canonicalPath(add.path), add);
      removes.delete(canonicalPath(add.path));
    }
    if (a.remove) {
      const remove = a.remove as RemoveFile;
      adds.delete(canonicalPath(remove.path));
      removes.set(canonicalPath(remove.path), remove);
    }
  };

  if (cp !== undefined) for (const a of readCheckpoint(logDir, listing.checkpoints.get(cp)!)) apply(a);
  for (let v = start; v <= target; v++) {
    for (const a of readCommit(path.join(logDir, listing.commits.get(v)!))) apply(a);
  }

  if (!protocol) throw new DeltaError(`no protocol action found in ${tablePath} at version ${target}`);
  if (!metadata) throw new DeltaError(`no metaData action found in ${tablePath} at version ${target}`);
  checkFeatures(protocol, metadata, tablePath);
  if (typeof metadata.schemaString !== "string") {
    throw new DeltaError(`metaData has no schemaString in ${tablePath} at version ${target}`);
  }
  let schema: SparkSchema;
  try {
    schema = parseSparkSchema(metadata.schemaString);
  } catch (e) {
    if (e instanceof UnsupportedTypeError) throw new UnsupportedFeatureError(e.message, tablePath);
    throw e;
  }
  const files: LiveFile[] = [];
  for (const add of adds.values()) {
    if (add.deletionVector) throw new UnsupportedFeatureError("deletionVectors", tablePath);
    const stats = parseStats(add.stats);
    files.push(stats ? { ...add, parsedStats: stats } : { ...add });
  }
  return {
    tablePath,
    version: target,
    protocol,
    metadata: { ...metadata, partitionColumns: metadata.partitionColumns ?? [], configuration: metadata.configuration ?? {}, schema },
    files,
    tombstones: [...removes.values()],
    txns,
  };
}

/** Paths are URL-encoded in the log; reconcile adds and removes on the decoded form. */
export function canonicalPath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** The absolute filesystem path of a data file named in the log. */
export function resolveDataPath(tablePath: string, p: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(p)) {
    const u = new URL(p);
    if (u.protocol !== "file:") throw new DeltaError(`unsupported file URL ${p}`);
    return decodeURIComponent(u.pathname);
  }
  return path.join(tablePath, canonicalPath(p));
}

// ---- following a table commit by commit (runtime/sources/table.ts) ------------------------------

/** The newest version in the log (a commit or a checkpoint), without replaying it. */
export function latestVersion(tablePath: string): number {
  const logDir = path.join(tablePath, "_delta_log");
  if (!fs.existsSync(logDir) || !fs.statSync(logDir).isDirectory()) {
    throw new DeltaError(`no Delta log at ${logDir}: not a Delta table`);
  }
  const listing = listLog(logDir);
  const versions = [...listing.commits.keys(), ...listing.checkpoints.keys()];
  if (versions.length === 0) throw new DeltaError(`empty Delta log in ${tablePath}`);
  return Math.max(...versions);
}

/**
 * The actions of commit `version` (its JSON file), in the order written. A commit that is not
 * there (never written, or removed by log cleanup) or that is not JSON lines is a `DeltaError`
 * naming the file.
 */
export function commitActions(tablePath: string, version: number): Record<string, unknown>[] {
  const file = path.join(tablePath, "_delta_log", `${String(version).padStart(20, "0")}.json`);
  if (!fs.existsSync(file)) throw new DeltaError(`commit ${version} of ${tablePath} is not in the log (${file} does not exist)`);
  try {
    return readCommit(file);
  } catch (e) {
    throw new DeltaError(`${file}: not a readable commit (${e instanceof Error ? e.message : String(e)}); the log is corrupt`);
  }
}
