/**
 * A checker of the Delta protocol's rules on a table's log, independent of the writer: the tests
 * run it on every table they write.
 *
 * Contract: `validateDeltaLog(tablePath)` replays `_delta_log` from its JSON commits alone (not
 * through the runtime's reader) and returns every broken rule as a sentence (empty: valid):
 * - versions are contiguous from 0, each commit is JSON lines with one `commitInfo`;
 * - version 0 has exactly one `protocol` and one `metaData`; no commit has more than one of
 *   either; the table id never changes; `partitionColumns` never change;
 * - a commit has at most one `txn` per appId, and an appId's txn versions increase;
 * - a `remove` names a live file; an `add` names a file not live, and not removed in the same
 *   commit; a `remove` with `dataChange: false` comes with `add`s with `dataChange: false`;
 * - every `add` has `partitionValues` for exactly the partition columns, a size equal to the
 *   file's, and `stats` with `numRecords`;
 * - every added file exists (with `mayBeVacuumed`: every live file at the end);
 * - every checkpoint `N.checkpoint.parquet` holds the same protocol, metaData, txns and live files
 *   as the JSON replay up to N, and `_last_checkpoint` names the latest checkpoint.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { readParquetTable, tableRows } from "../../runtime/table/arrow-values.ts";
import { resolveDataPath } from "../../runtime/table/delta-log.ts";

type Json = Record<string, unknown>;

interface State {
  protocol: Json | undefined;
  metaData: Json | undefined;
  live: Map<string, Json>;
  txns: Map<string, number>;
}

function decoded(path: string): string {
  return decodeURIComponent(path);
}

export function validateDeltaLog(tablePath: string, options: { mayBeVacuumed?: boolean } = {}): string[] {
  const problems: string[] = [];
  const logDir = join(tablePath, "_delta_log");
  if (!existsSync(logDir)) return [`${logDir} does not exist`];
  const names = readdirSync(logDir);
  const versions = names.flatMap((n) => (/^(\d{20})\.json$/.exec(n) ? [Number(n.slice(0, 20))] : [])).sort((a, b) => a - b);
  if (versions.length === 0) return ["no commits"];
  versions.forEach((v, i) => {
    if (v !== i) problems.push(`versions not contiguous from 0: position ${i} holds version ${v}`);
  });
  const checkpoints = new Set(names.flatMap((n) => (/^(\d{20})\.checkpoint\.parquet$/.exec(n) ? [Number(n.slice(0, 20))] : [])));

  const state: State = { protocol: undefined, metaData: undefined, live: new Map(), txns: new Map() };
  const everAdded = new Set<string>();
  for (const version of versions) {
    const where = `version ${version}`;
    let actions: Json[];
    try {
      actions = readFileSync(join(logDir, `${String(version).padStart(20, "0")}.json`), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Json);
    } catch (e) {
      problems.push(`${where}: not JSON lines (${(e as Error).message})`);
      continue;
    }
    const count = (kind: string): number => actions.filter((a) => kind in a).length;
    if (count("commitInfo") !== 1) problems.push(`${where}: ${count("commitInfo")} commitInfo actions, expected 1`);
    if (count("metaData") > 1) problems.push(`${where}: ${count("metaData")} metaData actions`);
    if (count("protocol") > 1) problems.push(`${where}: ${count("protocol")} protocol actions`);
    if (version === 0 && count("metaData") !== 1) problems.push(`${where}: no metaData in version 0`);
    if (version === 0 && count("protocol") !== 1) problems.push(`${where}: no protocol in version 0`);
    const txnApps = new Set<string>();
    const removedHere = new Set<string>();
    const addedHere = new Set<string>();
    let hasDataChangeFalseRemove = false;
    let hasDataChangeFalseAdd = false;
    for (const action of actions) {
      if (action.protocol) state.protocol = action.protocol as Json;
      if (action.metaData) {
        const m = action.metaData as Json;
        if (state.metaData && m.id !== state.metaData.id) problems.push(`${where}: table id changed from ${String(state.metaData.id)} to ${String(m.id)}`);
        if (state.metaData && JSON.stringify(m.partitionColumns) !== JSON.stringify(state.metaData.partitionColumns)) problems.push(`${where}: partition columns changed`);
        state.metaData = m;
      }
      if (action.txn) {
        const t = action.txn as { appId: string; version: number };
        if (txnApps.has(t.appId)) problems.push(`${where}: two txn actions for ${t.appId}`);
        txnApps.add(t.appId);
        const before = state.txns.get(t.appId);
        if (before !== undefined && t.version <= before) problems.push(`${where}: txn ${t.appId} went from ${before} to ${t.version}`);
        state.txns.set(t.appId, t.version);
      }
    }
    for (const action of actions) {
      if (!action.remove) continue;
      const r = action.remove as { path: string; dataChange: boolean };
      const key = decoded(r.path);
      if (!state.live.has(key)) problems.push(`${where}: remove of ${key}, which is not live`);
      state.live.delete(key);
      removedHere.add(key);
      if (r.dataChange === false) hasDataChangeFalseRemove = true;
    }
    for (const action of actions) {
      if (!action.add) continue;
      const a = action.add as { path: string; partitionValues: Record<string, unknown>; size: number; stats?: string; dataChange: boolean };
      const key = decoded(a.path);
      if (state.live.has(key)) problems.push(`${where}: add of ${key}, which is live already`);
      if (removedHere.has(key) || addedHere.has(key)) problems.push(`${where}: ${key} is added and removed (or added twice) in one commit`);
      addedHere.add(key);
      everAdded.add(key);
      state.live.set(key, a as unknown as Json);
      if (a.dataChange === false) hasDataChangeFalseAdd = true;
      const partitionColumns = ((state.metaData?.partitionColumns as string[]) ?? []).slice().sort();
      if (JSON.stringify(Object.keys(a.partitionValues ?? {}).sort()) !== JSON.stringify(partitionColumns)) problems.push(`${where}: ${key} has partition values for ${Object.keys(a.partitionValues ?? {}).join(",")}`);
      try {
        const stats = JSON.parse(a.stats ?? "null") as { numRecords?: unknown } | null;
        if (!stats || typeof stats.numRecords !== "number") problems.push(`${where}: ${key} has no numRecords in its stats`);
      } catch {
        problems.push(`${where}: ${key} has stats that are not JSON`);
      }
      const file = resolveDataPath(tablePath, a.path);
      if (existsSync(file) && statSync(file).size !== a.size) problems.push(`${where}: ${key} has size ${a.size} in the log but ${statSync(file).size} on disk`);
      if (!options.mayBeVacuumed && !existsSync(file)) problems.push(`${where}: ${key} does not exist`);
    }
    if (hasDataChangeFalseRemove && !hasDataChangeFalseAdd) problems.push(`${where}: removes with dataChange false but no adds with dataChange false`);
    if (checkpoints.has(version)) problems.push(...compareCheckpoint(logDir, version, state));
  }
  for (const [key, add] of state.live) {
    if (!existsSync(resolveDataPath(tablePath, add.path as string))) problems.push(`live file ${key} does not exist`);
  }
  if (checkpoints.size > 0) {
    try {
      const last = JSON.parse(readFileSync(join(logDir, "_last_checkpoint"), "utf8")) as { version: number };
      if (last.version !== Math.max(...checkpoints)) problems.push(`_last_checkpoint names ${last.version}, the latest checkpoint is ${Math.max(...checkpoints)}`);
    } catch (e) {
      problems.push(`_last_checkpoint is missing or not JSON (${(e as Error).message})`);
    }
  }
  return problems;
}

function compareCheckpoint(logDir: string, version: number, state: State): string[] {
  const problems: string[] = [];
  const where = `checkpoint ${version}`;
  const rows = tableRows(readParquetTable(new Uint8Array(readFileSync(join(logDir, `${String(version).padStart(20, "0")}.checkpoint.parquet`)))));
  const adds = rows.flatMap((r) => (r.add ? [r.add as Json] : []));
  const txns = new Map(rows.flatMap((r) => (r.txn ? [[(r.txn as Json).appId as string, (r.txn as Json).version as number] as const] : [])));
  const metaData = rows.flatMap((r) => (r.metaData ? [r.metaData as Json] : []));
  const protocol = rows.flatMap((r) => (r.protocol ? [r.protocol as Json] : []));
  if (metaData.length !== 1 || metaData[0]!.id !== state.metaData?.id || metaData[0]!.schemaString !== state.metaData?.schemaString) problems.push(`${where}: metaData differs from the log's`);
  if (protocol.length !== 1 || protocol[0]!.minReaderVersion !== state.protocol?.minReaderVersion || protocol[0]!.minWriterVersion !== state.protocol?.minWriterVersion) {
    problems.push(`${where}: protocol differs from the log's`);
  }
  const checkpointPaths = adds.map((a) => decoded(a.path as string)).sort();
  const livePaths = [...state.live.keys()].sort();
  if (JSON.stringify(checkpointPaths) !== JSON.stringify(livePaths)) problems.push(`${where}: ${checkpointPaths.length} adds, the log has ${livePaths.length} live files (or other paths)`);
  for (const add of adds) {
    const live = state.live.get(decoded(add.path as string));
    if (live && (live.size !== add.size || live.stats !== add.stats || JSON.stringify(live.partitionValues) !== JSON.stringify(add.partitionValues))) {
      problems.push(`${where}: ${String(add.path)} differs from its add in the log`);
    }
  }
  if (JSON.stringify([...txns].sort()) !== JSON.stringify([...state.txns].sort())) problems.push(`${where}: txns ${JSON.stringify([...txns])} differ from the log's ${JSON.stringify([...state.txns])}`);
  return problems;
}
