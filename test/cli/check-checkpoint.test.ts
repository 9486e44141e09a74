/**
 * `streamc check FILE --checkpoint DIR`: the state-compatibility report against a checkpoint that
 * `streamc run` wrote, and its exit codes (0 every source and operator can continue, 3 one cannot,
 * 1 the program has errors or the checkpoint cannot be read, 2 a wrong command line).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../../bin/streamc.ts";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), "streamc-check-checkpoint-"));
const checkpoint = join(dir, "checkpoint");

function program(name: string, amountType: string, window: string, items: string): string {
  const file = join(dir, `${name}.stream`);
  writeFileSync(
    file,
    `pipeline shop { checkpoint = ${JSON.stringify(checkpoint)} }
source orders: { country: string, amount: ${amountType}, ts: timestamp } = files ${JSON.stringify(join(dir, "in"))} { format = json }
stream revenue = orders | watermark ts delay 1m | window ${window} | aggregate ${items} by country
sink revenue -> files ${JSON.stringify(join(dir, "out"))}
`,
  );
  return file;
}

const old = program("old", "int", "tumbling 10m", "n = count(), total = sum(amount)");

beforeAll(async () => {
  mkdirSync(join(dir, "in"));
  writeFileSync(
    join(dir, "in", "a.json"),
    ['{"country":"de","amount":5,"ts":"2024-01-01T00:01:00Z"}', '{"country":"fr","amount":7,"ts":"2024-01-01T00:15:00Z"}'].join("\n") + "\n",
  );
  const r = await run("run", old, "--trigger", "available_now");
  expect(r.err).not.toMatch(/error/i);
  expect(r.code).toBe(0);
});

describe("streamc check --checkpoint", () => {
  it("says where a new checkpoint will start when DIR holds none (exit 0)", async () => {
    const r = await run("check", old, "--checkpoint", join(dir, "nothing-here"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("no checkpoint yet; `streamc run` will start a new one there");
  });

  it("reuses the state of the same program (exit 0)", async () => {
    const r = await run("check", old, "--checkpoint", checkpoint);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`checkpoint ${checkpoint}:\n  reuse        source orders\n  reuse        revenue.aggregate\nstate: compatible (2 reuse)\n`);
  });

  it("evolves an added aggregate and a widened argument (exit 0)", async () => {
    const next = program("evolve", "long", "tumbling 10m", "n = count(), top = max(amount), total = sum(amount)");
    const r = await run("check", next, "--checkpoint", checkpoint);
    expect(r.code).toBe(0);
    expect(r.out).toContain("  evolve       revenue.aggregate: top = max(amount) is new; it starts empty for existing groups\n");
    expect(r.out).toContain("total = sum(amount): its argument widens from int to long");
    expect(r.out).toMatch(/state: compatible \(1 reuse, 1 evolve\)\n$/);
  });

  it("refuses a changed window with the way out (exit 3), and takes the way out with --drop-state (exit 0)", async () => {
    const next = program("window", "int", "tumbling 5m", "n = count(), total = sum(amount)");
    const refused = await run("check", next, "--checkpoint", checkpoint);
    expect(refused.code).toBe(3);
    expect(refused.out).toContain("  incompatible revenue.aggregate: the window changed from tumbling 10m to tumbling 5m\n");
    expect(refused.out).toContain("way out: use a new checkpoint path, or run once with `--drop-state revenue.aggregate` to start that operator empty\n");
    expect(refused.out).toMatch(/state: incompatible: 1 operator cannot reuse its state\n$/);

    const dropped = await run("check", next, "--checkpoint", checkpoint, "--drop-state", "revenue.aggregate");
    expect(dropped.code).toBe(0);
    expect(dropped.out).toContain("  evolve       revenue.aggregate: state dropped on request: it starts empty\n");
  });

  it("refuses a source pointed at another directory (exit 3)", async () => {
    const file = join(dir, "moved.stream");
    writeFileSync(file, `pipeline shop { checkpoint = ${JSON.stringify(checkpoint)} }
source orders: { country: string, amount: int, ts: timestamp } = files ${JSON.stringify(join(dir, "elsewhere"))} { format = json }
stream revenue = orders | watermark ts delay 1m | window tumbling 10m | aggregate n = count(), total = sum(amount) by country
sink revenue -> files ${JSON.stringify(join(dir, "out"))}
`);
    const r = await run("check", file, "--checkpoint", checkpoint);
    expect(r.code).toBe(3);
    expect(r.out).toContain(`  incompatible source orders: its directory changed from ${join(dir, "in")} to ${join(dir, "elsewhere")}`);
    expect(r.out).toMatch(/state: incompatible: 1 source cannot continue from its offsets\n$/);
  });

  it("exits 1 without comparing when the program has errors", async () => {
    const file = join(dir, "broken.stream");
    writeFileSync(file, `source orders: { amount: int, ts: timestamp } = files "in"
stream big = orders | where amout > 1
sink big -> console
`);
    const r = await run("check", file, "--checkpoint", checkpoint);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error S2004");
    expect(r.out).not.toContain("checkpoint");
  });

  it("exits 1 naming the file when the checkpoint is broken", async () => {
    const broken = join(dir, "broken-checkpoint");
    mkdirSync(broken);
    writeFileSync(join(broken, "metadata.json"), "{ not json");
    const r = await run("check", old, "--checkpoint", broken);
    expect(r.code).toBe(1);
    expect(r.err).toContain(join(broken, "metadata.json"));
  });

  it("exits 2 for --drop-state without --checkpoint", async () => {
    const r = await run("check", old, "--drop-state", "revenue.aggregate");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--drop-state needs --checkpoint DIR");
  });
});
