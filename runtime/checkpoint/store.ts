/**
 * The checkpoint directory: what a pipeline has done, so that a restart continues exactly where it
 * stopped.
 *
 * Layout (docs/architecture.md, "Checkpoints"):
 * ```
 * CHECKPOINT/metadata.json       { format, id, name, created, streamcVersion }: written once
 * CHECKPOINT/plan.json           the program's sources and state schemas (compat.ts `CheckpointPlan`)
 * CHECKPOINT/offsets/N.json      batch N's ranges, the offsets after it and its watermark: before N runs
 * CHECKPOINT/commits/N.json      batch N is done: the next watermark, event-time maxima, state files
 * CHECKPOINT/state/OPERATOR/N.arrow   an operator's state after batch N (Arrow IPC)
 * CHECKPOINT/progress.jsonl      recent progress, one JSON object a line, bounded
 * ```
 *
 * Contract:
 * - Every file is written whole or not at all (storage/durable-file.ts), but for
 *   `progress.jsonl`, which is appended to and kept to whole lines (see `appendProgress`). `offsets/N` and
 *   `commits/N` are put-if-absent: finding one already there means another process runs the same
 *   checkpoint, and the write fails rather than overwrite it.
 * - `recover()` reads the newest commit and, when present, the uncommitted `offsets/N+1` that must
 *   be replayed. It validates what it reads; a file that is missing, truncated, unparsable or
 *   inconsistent throws a `CheckpointError` that names the file and the way out. Nothing in the
 *   directory is changed on error.
 * - `cleanup(batchId, retain)` keeps the newest `retain` committed batches and deletes older
 *   offsets, commits and state files, oldest first (a crash in between leaves only old files that
 *   the next cleanup deletes). `scheduleCleanup` runs it in the background, one at a time, so the
 *   next batch does not wait for deletions (on ext4 a delete waits behind the batch's fsyncs);
 *   `settle()` waits for it and throws what it failed with.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EventTimeSnapshot } from "../engine/event-time-tracker.ts";
import type { StateSchema } from "../plan.ts";
import type { Offset, Range } from "../sources/source.ts";
import { createFileExclusively, isTemporaryFileName, writeFileAtomically } from "../storage/durable-file.ts";
import { STREAMC_VERSION } from "../version.ts";
import type { CheckpointPlan } from "./compat.ts";

export const CHECKPOINT_FORMAT = "streamc-checkpoint/1";

export interface CheckpointMetadata {
  format: typeof CHECKPOINT_FORMAT;
  /** The pipeline's identity: table sinks commit with txn appId `<id>/<sink id>`. */
  id: string;
  /** The pipeline's name when the checkpoint was created. */
  name: string;
  created: string;
  streamcVersion: string;
}

/** `offsets/N.json`: written before batch N reads anything. */
export interface OffsetsEntry {
  batchId: number;
  /** The watermark batch N runs under (event-time micros), null before any. */
  watermark: number | null;
  /** What batch N reads, by source id; sources without new data are absent. */
  ranges: Record<string, Range>;
  /** Every source's position after batch N (null: not started), by source id. */
  offsets: Record<string, Offset | null>;
  timestamp: string;
}

/** One operator's state after a batch. */
export interface StateEntry {
  /** Relative to the checkpoint directory: `state/OPERATOR/N.arrow`. */
  file: string;
  rows: number;
  /** The state's declaration when it was written, so a changed program can evolve it. */
  schema: StateSchema;
}

/** `commits/N.json`: batch N's output is durable in every sink and its state is saved. */
export interface CommitEntry {
  batchId: number;
  /** The watermark batch N + 1 runs under. */
  nextWatermark: number | null;
  /** Per `watermark` node, the largest event time it has seen (it holds the next watermark back). */
  eventTimeMax: Record<string, number>;
  /** Per stateful operator id. */
  state: Record<string, StateEntry>;
  /** Event time per source and partition, and the watermark nodes (`status --explain-time`). */
  eventTime?: {
    sources: EventTimeSnapshot;
    watermarks: { node: string; column: string; delayMicros: number; maxEventTime: number | null }[];
  };
  timestamp: string;
}

export interface Recovery {
  /** The newest committed batch, with the offsets entry it ran with. */
  committed: { offsets: OffsetsEntry; commit: CommitEntry } | undefined;
  /** An uncommitted batch to replay: `committed.batchId + 1` (or 0), with the same ranges and watermark. */
  replay: OffsetsEntry | undefined;
}

/** A checkpoint problem: names the file and what to do about it. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly wayOut: string,
  ) {
    super(`checkpoint ${file}: ${problem}\n  way out: ${wayOut}`);
    this.name = "CheckpointError";
  }
}

const PROGRESS_LINES = 100;

export class CheckpointStore {
  private progressLines: number | undefined;

  private constructor(
    /** Absolute path of the checkpoint directory. */
    readonly dir: string,
    readonly metadata: CheckpointMetadata,
    /** True when this run created the checkpoint. */
    readonly created: boolean,
  ) {}

  /**
   * Opens the checkpoint at `dir` for the pipeline `name`, creating it when `dir` holds none.
   * A checkpoint of another pipeline, or of an unknown format, is refused.
   */
  static async open(dir: string, name: string): Promise<CheckpointStore> {
    const existing = await readMetadata(dir);
    if (existing) {
      if (existing.name !== name) {
        throw new CheckpointError(
          join(dir, "metadata.json"),
          `it belongs to pipeline \`${existing.name}\` (id ${existing.id}), not \`${name}\``,
          `give pipeline \`${name}\` its own checkpoint path (the \`checkpoint\` option); a checkpoint holds one pipeline's offsets and state`,
        );
      }
      return new CheckpointStore(dir, existing, false);
    }
    const metadata: CheckpointMetadata = { format: CHECKPOINT_FORMAT, id: randomUUID(), name, created: new Date().toISOString(), streamcVersion: STREAMC_VERSION };
    await mkdir(join(dir, "offsets"), { recursive: true });
    await mkdir(join(dir, "commits"), { recursive: true });
    await mkdir(join(dir, "state"), { recursive: true });
    if (!(await createFileExclusively(join(dir, "metadata.json"), json(metadata)))) {
      // Another process created it between our read and our write: use theirs.
      return CheckpointStore.open(dir, name);
    }
    return new CheckpointStore(dir, metadata, true);
  }

  async recover(): Promise<Recovery> {
    const offsets = await batchIds(join(this.dir, "offsets"));
    const commits = await batchIds(join(this.dir, "commits"));
    const lastCommit = commits.at(-1);
    const lastOffsets = offsets.at(-1);
    if (lastCommit === undefined) {
      if (lastOffsets === undefined) return { committed: undefined, replay: undefined };
      if (lastOffsets !== 0 || offsets.length > 1) {
        throw new CheckpointError(this.file("offsets", lastOffsets), `batch ${lastOffsets} has offsets but no batch was ever committed (commits/ is empty)`, inconsistent(this.dir));
      }
      return { committed: undefined, replay: await this.readOffsets(0) };
    }
    const commit = await this.readCommit(lastCommit);
    if (!offsets.includes(lastCommit)) {
      throw new CheckpointError(this.file("offsets", lastCommit), `batch ${lastCommit} is committed but its offsets file is missing`, inconsistent(this.dir));
    }
    const committedOffsets = await this.readOffsets(lastCommit);
    for (const entry of Object.values(commit.state)) {
      const path = join(this.dir, entry.file);
      try {
        await stat(path);
      } catch {
        throw new CheckpointError(path, `the state of batch ${lastCommit} is missing`, inconsistent(this.dir));
      }
    }
    if (lastOffsets !== undefined && lastOffsets > lastCommit + 1) {
      throw new CheckpointError(this.file("offsets", lastOffsets), `offsets go up to batch ${lastOffsets} but the last commit is batch ${lastCommit}`, inconsistent(this.dir));
    }
    const replay = lastOffsets === lastCommit + 1 ? await this.readOffsets(lastCommit + 1) : undefined;
    return { committed: { offsets: committedOffsets, commit }, replay };
  }

  /** Writes `offsets/N.json` before batch N runs; fails if it exists (another run owns the checkpoint). */
  async writeOffsets(entry: OffsetsEntry): Promise<void> {
    const path = this.file("offsets", entry.batchId);
    if (!(await createFileExclusively(path, json(entry)))) {
      throw new CheckpointError(path, `batch ${entry.batchId} was started by another run of this checkpoint`, `make sure only one process runs a checkpoint; stop the other one, then start this one again`);
    }
  }

  async writeCommit(entry: CommitEntry): Promise<void> {
    const path = this.file("commits", entry.batchId);
    if (!(await createFileExclusively(path, json(entry)))) {
      throw new CheckpointError(path, `batch ${entry.batchId} was committed by another run of this checkpoint`, `make sure only one process runs a checkpoint; stop the other one, then start this one again`);
    }
  }

  /** Writes an operator's state after `batchId`; returns the path relative to the checkpoint. */
  async writeState(operatorId: string, batchId: number, bytes: Uint8Array): Promise<string> {
    const relative = join("state", operatorId, `${batchId}.arrow`);
    await mkdir(join(this.dir, "state", operatorId), { recursive: true });
    await writeFileAtomically(join(this.dir, relative), bytes);
    return relative;
  }

  async readState(entry: StateEntry): Promise<Uint8Array> {
    const path = join(this.dir, entry.file);
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      throw new CheckpointError(path, `cannot read the state: ${(error as Error).message}`, inconsistent(this.dir));
    }
  }

  /** The plan the checkpoint was last run with; undefined for a checkpoint that has none yet. */
  async readPlan(): Promise<CheckpointPlan | undefined> {
    const path = join(this.dir, "plan.json");
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return undefined;
    }
    return parseJson(path, text, isCheckpointPlan, "a checkpoint plan");
  }

  async writePlan(plan: CheckpointPlan): Promise<void> {
    await writeFileAtomically(join(this.dir, "plan.json"), json(plan));
  }

  private cleaning: Promise<void> = Promise.resolve();
  private cleanupFailure: unknown;

  /** `cleanup` in the background, after the one before it; a failure is thrown by the next call or by `settle`. */
  scheduleCleanup(lastCommitted: number, retain: number): void {
    this.throwCleanupFailure();
    this.cleaning = this.cleaning.then(() => this.cleanup(lastCommitted, retain)).catch((error: unknown) => {
      this.cleanupFailure = error;
    });
  }

  /** Waits for background cleanup; throws its failure, if any. */
  async settle(): Promise<void> {
    await this.cleaning;
    this.throwCleanupFailure();
  }

  private throwCleanupFailure(): void {
    if (this.cleanupFailure === undefined) return;
    const failure = this.cleanupFailure;
    this.cleanupFailure = undefined;
    throw new CheckpointError(this.dir, `deleting batches older than retain_batches failed: ${(failure as Error).message}`, "check the directory's permissions and free space");
  }

  /** Keeps the newest `retain` committed batches (at least 1); deletes older entries and state. */
  async cleanup(lastCommitted: number, retain: number): Promise<void> {
    const oldestKept = lastCommitted - Math.max(1, retain) + 1;
    if (oldestKept <= 0) return;
    const offsets = (await batchIds(join(this.dir, "offsets"))).filter((n) => n < oldestKept);
    const commits = (await batchIds(join(this.dir, "commits"))).filter((n) => n < oldestKept);
    const stateDirs = await listDir(join(this.dir, "state"));
    // State first, then commits, then offsets: a crash midway never leaves a commit without its state
    // for a batch that recovery would use (it only uses the newest).
    for (const operator of stateDirs) {
      for (const name of await listDir(join(this.dir, "state", operator))) {
        const n = Number.parseInt(name, 10);
        if ((Number.isInteger(n) && n < oldestKept) || isTemporaryFileName(name)) await rm(join(this.dir, "state", operator, name), { force: true });
      }
    }
    for (const n of commits) await rm(this.file("commits", n), { force: true });
    for (const n of offsets) await rm(this.file("offsets", n), { force: true });
  }

  /** Appends one line to `progress.jsonl`, keeping about the newest 100. */
  async appendProgress(progress: object): Promise<void> {
    const path = join(this.dir, "progress.jsonl");
    if (this.progressLines === undefined) {
      // Lines are appended, not replaced: a crash mid-append can leave a partial last line, which
      // the first append of the next run cuts off, so the file stays whole lines.
      const text = await readFile(path, "utf8").catch(() => "");
      const whole = text.slice(0, text.lastIndexOf("\n") + 1);
      if (whole.length !== text.length) await writeFileAtomically(path, whole);
      this.progressLines = whole.split("\n").filter(Boolean).length;
    }
    const line = JSON.stringify(progress) + "\n";
    if (this.progressLines + 1 > 2 * PROGRESS_LINES) {
      const kept = (await readFile(path, "utf8").catch(() => "")).split("\n").filter(Boolean).slice(-(PROGRESS_LINES - 1));
      await writeFileAtomically(path, kept.map((l) => l + "\n").join("") + line);
      this.progressLines = kept.length + 1;
    } else {
      await writeFile(path, line, { flag: "a" });
      this.progressLines++;
    }
  }

  async readOffsets(batchId: number): Promise<OffsetsEntry> {
    const path = this.file("offsets", batchId);
    return parseJson(path, await readFile(path, "utf8"), (v): v is OffsetsEntry => isObject(v) && v["batchId"] === batchId && isObject(v["ranges"]) && isObject(v["offsets"]) && (v["watermark"] === null || typeof v["watermark"] === "number"), `the offsets of batch ${batchId}`);
  }

  async readCommit(batchId: number): Promise<CommitEntry> {
    const path = this.file("commits", batchId);
    return parseJson(path, await readFile(path, "utf8"), (v): v is CommitEntry => isObject(v) && v["batchId"] === batchId && isObject(v["state"]) && isObject(v["eventTimeMax"]) && (v["nextWatermark"] === null || typeof v["nextWatermark"] === "number"), `the commit of batch ${batchId}`);
  }

  private file(kind: "offsets" | "commits", batchId: number): string {
    return join(this.dir, kind, `${batchId}.json`);
  }
}

/**
 * The plan a checkpoint holds, as the compatibility check compares it: `plan.json`'s sources, and
 * the state schemas of the newest commit (what the saved state really is) where there is one.
 * Undefined when `dir` holds no checkpoint.
 */
export async function readCheckpointPlan(dir: string): Promise<CheckpointPlan | undefined> {
  const metadata = await readMetadata(dir);
  if (!metadata) return undefined;
  const store = await CheckpointStore.open(dir, metadata.name);
  const plan = await store.readPlan();
  if (!plan) return undefined;
  const { committed } = await store.recover();
  if (!committed) return plan;
  return { ...plan, state: Object.values(committed.commit.state).map((s) => s.schema) };
}

/** `metadata.json`, or undefined when the directory holds no checkpoint. */
export async function readMetadata(dir: string): Promise<CheckpointMetadata | undefined> {
  const path = join(dir, "metadata.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      const entries = await listDir(dir);
      if (entries.some((e) => e === "offsets" || e === "commits")) {
        throw new CheckpointError(path, "it is missing, but the directory holds offsets or commits", `restore metadata.json from a backup, or start over with a new checkpoint path`);
      }
      return undefined;
    }
    throw new CheckpointError(path, `cannot read it: ${(error as Error).message}`, "check the path and its permissions");
  }
  const metadata = parseJson(path, text, (v): v is CheckpointMetadata => isObject(v) && typeof v["id"] === "string" && typeof v["name"] === "string" && typeof v["format"] === "string", "checkpoint metadata");
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(path, `its format is ${metadata.format}; this streamc (${STREAMC_VERSION}) reads ${CHECKPOINT_FORMAT}`, "run it with the streamc version that wrote it, or start over with a new checkpoint path");
  }
  return metadata;
}

function inconsistent(dir: string): string {
  return `restore ${dir} from a backup, or start over with a new checkpoint path (the pipeline then reads its sources from their start positions)`;
}

function parseJson<T>(path: string, text: string, valid: (value: unknown) => value is T, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const problem = text.length === 0 ? "it is empty (truncated)" : `it is not valid JSON (${(error as Error).message}); it may be truncated or corrupt`;
    throw new CheckpointError(path, problem, `restore it from a backup, or start over with a new checkpoint path; streamc never writes a file partially, so something else changed it`);
  }
  if (!valid(value)) throw new CheckpointError(path, `it does not hold ${what}`, `restore it from a backup, or start over with a new checkpoint path`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCheckpointPlan(value: unknown): value is CheckpointPlan {
  return isObject(value) && typeof value["format"] === "string" && Array.isArray(value["sources"]) && Array.isArray(value["state"]);
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** The batch ids of `DIR/N.json` files, ascending; temporary files are skipped, anything else is an error. */
async function batchIds(dir: string): Promise<number[]> {
  const ids: number[] = [];
  for (const name of await listDir(dir)) {
    if (isTemporaryFileName(name)) continue;
    const match = /^(0|[1-9][0-9]*)\.json$/.exec(name);
    if (!match) throw new CheckpointError(join(dir, name), "this file does not belong in a checkpoint", `move it out of ${dir}`);
    ids.push(Number(match[1]));
  }
  return ids.sort((a, b) => a - b);
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
