import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadKernelModule } from "../../compiler/bundle.ts";
import { compileProgram } from "../../compiler/compile-program.ts";
import { runPipeline } from "../../runtime/engine/pipeline.ts";
import { createOperator } from "../../runtime/operators/registry.ts";

/** Two files read one per batch: the second holds two rows behind the first batch's watermark. */
async function run(late: "drop" | "deadletter") {
  const dir = mkdtempSync(join(tmpdir(), "streamc-late-"));
  mkdirSync(join(dir, "in"));
  const row = (user: string, ts: string) => JSON.stringify({ user, ts });
  writeFileSync(join(dir, "in", "a.json"), [row("u1", "2024-01-01T10:00:00Z"), row("u1", "2024-01-01T10:30:00Z")].join("\n"));
  writeFileSync(join(dir, "in", "b.json"), [row("u2", "2024-01-01T09:00:00Z"), row("u3", "2024-01-01T09:05:00Z"), row("u1", "2024-01-01T10:31:00Z")].join("\n"));
  const text = `pipeline p { deadletter = files "dead", late = ${late}, trigger = available_now }
source events: { user: string, ts: timestamp } = files "in" { format = json, max_files_per_batch = 1 }
stream counts = events | watermark ts delay 1m | window tumbling 10m | aggregate n = count() by user
sink counts -> memory
`;
  const { compiled } = compileProgram(text, undefined);
  const kernels = await loadKernelModule(compiled!.kernelSource, { sourcePath: undefined });
  const summary = await runPipeline({ plan: compiled!.plan, kernels, createOperator, cwd: dir, env: {}, log: () => {} });
  const deadDir = join(dir, "dead");
  const dead = existsSync(deadDir) ? readdirSync(deadDir).flatMap((f) => readFileSync(join(deadDir, f), "utf8").trim().split("\n")).map((l) => JSON.parse(l) as { reason: string }) : [];
  return { summary, dead };
}

describe("rows behind the watermark", () => {
  it("go to the dead letter with reason `late` by default", async () => {
    const { summary, dead } = await run("deadletter");
    expect(summary.deadLetters).toEqual({ late: 2 });
    expect(dead.map((d) => d.reason)).toEqual(["late", "late"]);
  });

  it("are counted but written nowhere with `late = drop`", async () => {
    const { summary, dead } = await run("drop");
    expect(summary.deadLetters).toEqual({ late: 2 });
    expect(dead).toEqual([]);
  });
});
