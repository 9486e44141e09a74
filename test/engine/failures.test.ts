/**
 * Failures an operator can act on, each produced for real and its message asserted word for word:
 * permission denied on the checkpoint and on a table, and a full disk under a table. The pipeline
 * runs as a compiled bundle in a child process, as in production. (An unreachable broker and an
 * unknown topic: test/kafka/.)
 *
 * Permission denied needs a user that the file modes stop: as root (the CI machine) the bundle runs
 * as `nobody`; otherwise as the current user. A full disk is a 1 MiB tmpfs, which needs root.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";
import { compileBundle, startBundle } from "../support/bundle-process.ts";

const root = mkdtempSync(join(tmpdir(), "streamc-failures-"));
const mounts: string[] = [];
afterAll(() => {
  for (const dir of mounts) spawnSync("umount", [dir]);
  rmSync(root, { recursive: true, force: true });
});
chmodSync(root, 0o755);
const input = join(root, "in");
const bundle = join(root, "build", "events.mjs");
const asRoot = process.getuid?.() === 0;

beforeAll(async () => {
  mkdirSync(input);
  for (let f = 0; f < 3; f++) {
    // Notes of random hex: Parquet cannot compress them much, so the table needs megabytes.
    const lines = Array.from({ length: 20_000 }, (_, r) => `{"id":${f * 20_000 + r},"note":"${randomBytes(32).toString("hex")}"}`);
    writeFileSync(join(input, `part-${f}.json`), lines.join("\n") + "\n");
  }
  const file = join(root, "events.stream");
  writeFileSync(
    file,
    `pipeline events { checkpoint = env("CHECKPOINT", "") }
schema Event { id: long, note: string }
source events: Event = files env("IN", "") { format = json, max_files_per_batch = 1 }
stream kept = events | select id, note
sink kept -> table env("OUT", "")
`,
  );
  await compileBundle(file, join(root, "build"));
  chmodSync(join(root, "build"), 0o755);
}, 120_000);

function run(checkpoint: string, table: string) {
  const env = { ...process.env, CHECKPOINT: checkpoint, IN: input, OUT: table };
  return startBundle(bundle, ["--trigger", "available_now"], env, asRoot ? { uid: 65534, gid: 65534 } : undefined).exited;
}

/** A directory the pipeline's user may write. */
function writable(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true, mode: 0o777 });
  chmodSync(dir, 0o777);
  return dir;
}

describe("failures an operator can act on", () => {
  it("permission denied on the checkpoint", async () => {
    const checkpoint = join(root, "locked-checkpoint");
    mkdirSync(checkpoint, { mode: 0o555 });
    chmodSync(checkpoint, 0o555);
    const out = writable("out-1");
    const result = await run(checkpoint, join(out, "table"));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `events: cannot write the checkpoint at ${checkpoint}: permission denied (mkdir offsets); give the user running streamc write access to ${checkpoint}, or set the pipeline's checkpoint option to a writable directory\n`,
    );
  });

  it("permission denied on a table", async () => {
    const table = join(root, "locked-table");
    mkdirSync(table, { mode: 0o555 });
    chmodSync(table, 0o555);
    const result = await run(join(writable("ck-2"), "checkpoint"), table);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `events: cannot write table sink kept.table at ${table}: permission denied (open); give the user running streamc write access to ${table}, or set the target of sink kept.table to a writable directory\n`,
    );
  });

  it("no space left under a table; after space is freed the run resumes from its last commit", async () => {
    expect(asRoot, "a full disk is simulated with a tmpfs mount, which needs root").toBe(true);
    const disk = writable("small-disk");
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", disk], { encoding: "utf8" });
    expect(mounted.status, `mount failed: ${mounted.stderr}`).toBe(0);
    mounts.push(disk);
    const table = join(disk, "table");
    const checkpoint = join(writable("ck-3"), "checkpoint");
    const result = await run(checkpoint, table);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `events: cannot write table sink kept.table at ${table}: no space left on the device (write); free space there, then run again: the pipeline resumes from its last commit and nothing is lost\n`,
    );
    // More room: the same command finishes, and the table holds every row exactly once.
    expect(spawnSync("mount", ["-o", "remount,size=64m", disk]).status).toBe(0);
    const again = await run(checkpoint, table);
    expect(again.code, again.stderr).toBe(0);
    let out = "";
    expect(await main(["table", "show", table], { out: (t) => (out += t), err: () => {} })).toBe(0);
    const ids = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).id as number).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 60_000 }, (_, i) => i));
  });
});
