/**
 * The engine's side of checkpoints: starting from one, and committing each batch to it.
 *
 * Contract (docs/architecture.md, "The micro-batch loop and exactly-once"):
 * - `startFromCheckpoint` opens (or creates) the checkpoint, checks the program against the plan
 *   it holds (compat.ts) and throws `IncompatibleStateError` before changing anything when some
 *   state cannot be reused. Otherwise it restores every stateful operator (evolving state whose
 *   declaration changed, starting empty what is new or dropped on request), the watermark and
 *   the watermark nodes' event-time maxima, claims the checkpoint for this process (`run.json`;
 *   the caller releases it), records the new plan, and says where each source
 *   resumes and which uncommitted batch must be replayed with its recorded ranges and watermark.
 * - `commitBatch` runs after every sink has written batch N: it saves each stateful operator's
 *   state, writes `commits/N`, then drops batches older than `retain_batches` in the background
 *   (the loop awaits `store.settle()` when it ends).
 */
import type { PhysicalPlan } from "../plan.ts";
import type { Environment } from "../sources/settings.ts";
import type { Offset } from "../sources/source.ts";
import { crashPoint } from "../fault.ts";
import { checkCompatibility, checkpointPlanOf, formatCompatibilityReport, isCompatible } from "../checkpoint/compat.ts";
import { evolveSnapshot } from "../checkpoint/state-evolution.ts";
import { claimRun } from "../checkpoint/run-file.ts";
import { CheckpointStore, type CommitEntry, type OffsetsEntry, type StateEntry } from "../checkpoint/store.ts";
import type { Dataflow } from "./dataflow.ts";
import type { EventTimeTracker } from "./event-time-tracker.ts";

/** The program cannot reuse the checkpoint's state; `report` says per operator why and the way out. */
export class IncompatibleStateError extends Error {
  constructor(
    readonly checkpoint: string,
    readonly report: string,
  ) {
    super(`the checkpoint at ${checkpoint} cannot be used by this program; nothing was changed\n${report}`);
    this.name = "IncompatibleStateError";
  }
}

export interface CheckpointStart {
  store: CheckpointStore;
  /** The first batch this run executes. */
  nextBatchId: number;
  /** Where each source resumes (absent: from its start option). */
  resume: Map<string, Offset>;
  /** The uncommitted batch to run first, exactly as recorded. */
  replay: OffsetsEntry | undefined;
  /** The watermark the last committed batch ran under (-Infinity before any). */
  lastRunWatermark: number;
  /** The compatibility report, when the checkpoint held a plan (printed when something evolves). */
  report: string | undefined;
  evolved: boolean;
}

export async function startFromCheckpoint(options: {
  dir: string;
  plan: PhysicalPlan;
  dataflow: Dataflow;
  cwd: string;
  env: Environment;
  dropState: ReadonlySet<string>;
  /** This run's id, recorded in `run.json` while it runs. */
  runId: string;
  eventTime: EventTimeTracker;
}): Promise<CheckpointStart> {
  const { plan, dataflow } = options;
  const store = await CheckpointStore.open(options.dir, plan.pipeline.name);
  const recovery = await store.recover();
  const nextPlan = checkpointPlanOf(plan, { cwd: options.cwd, env: options.env });
  const oldPlan = await store.readPlan();
  let report: string | undefined;
  let evolved = false;
  if (oldPlan) {
    const committedState = recovery.committed ? Object.values(recovery.committed.commit.state).map((s) => s.schema) : oldPlan.state;
    const compatibility = checkCompatibility({ ...oldPlan, state: committedState }, nextPlan, { dropState: options.dropState });
    const text: string = formatCompatibilityReport(compatibility);
    if (!isCompatible(compatibility)) throw new IncompatibleStateError(options.dir, text);
    report = text;
    evolved = JSON.stringify(oldPlan) !== JSON.stringify(nextPlan) || options.dropState.size > 0;
  }

  await claimRun(options.dir, options.runId);
  const resume = new Map<string, Offset>();
  let lastRunWatermark = Number.NEGATIVE_INFINITY;
  if (recovery.committed) {
    const { offsets, commit } = recovery.committed;
    for (const source of plan.sources) {
      const offset = offsets.offsets[source.id];
      if (offset !== undefined && offset !== null) resume.set(source.id, offset);
    }
    for (const declared of plan.state) {
      const saved = commit.state[declared.operatorId];
      if (!saved || options.dropState.has(declared.operatorId)) continue;
      const bytes = await store.readState(saved);
      const sameLayout = JSON.stringify(saved.schema) === JSON.stringify(declared);
      dataflow.restoreState(declared.operatorId, sameLayout ? bytes : evolveSnapshot(bytes, saved.schema, declared));
    }
    dataflow.restoreEventTimeMaxima(commit.eventTimeMax);
    options.eventTime.restore(commit.eventTime?.sources);
    if (commit.nextWatermark !== null) dataflow.setWatermark(commit.nextWatermark);
    if (offsets.watermark !== null) lastRunWatermark = offsets.watermark;
  }
  if (recovery.replay && recovery.replay.watermark !== null) dataflow.setWatermark(recovery.replay.watermark);
  await store.writePlan(nextPlan);
  return {
    store,
    nextBatchId: recovery.committed ? recovery.committed.commit.batchId + 1 : 0,
    resume,
    replay: recovery.replay,
    lastRunWatermark,
    report,
    evolved,
  };
}

/** Saves state and writes `commits/N` for a batch whose output every sink has made durable. */
export async function commitBatch(store: CheckpointStore, plan: PhysicalPlan, dataflow: Dataflow, batchId: number, retainBatches: number, eventTime: EventTimeTracker): Promise<void> {
  crashPoint("engine.before-commit");
  const snapshots = dataflow.snapshotState();
  const rows = new Map(dataflow.metrics().map((m) => [m.id, m.metrics.stateRows]));
  const state: Record<string, StateEntry> = {};
  for (const declared of plan.state) {
    const bytes = snapshots.get(declared.operatorId);
    if (!bytes) continue;
    state[declared.operatorId] = { file: await store.writeState(declared.operatorId, batchId, bytes), rows: rows.get(declared.operatorId) ?? 0, schema: declared };
  }
  const watermark = dataflow.currentWatermark;
  const eventTimeMax = dataflow.eventTimeMaxima();
  const commit: CommitEntry = {
    batchId,
    nextWatermark: Number.isFinite(watermark) ? watermark : null,
    eventTimeMax,
    state,
    eventTime: {
      sources: eventTime.snapshot(),
      watermarks: plan.nodes.flatMap((n) =>
        n.kind === "watermark" ? [{ node: n.id, column: n.column, delayMicros: n.delayMicros, maxEventTime: eventTimeMax[n.id] ?? null }] : [],
      ),
    },
    timestamp: new Date().toISOString(),
  };
  await store.writeCommit(commit);
  store.scheduleCleanup(batchId, retainBatches);
}
