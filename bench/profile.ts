/**
 * CPU profiles for the benchmarks: take one in-process (V8's sampling profiler through
 * `node:inspector`, the same profiler as `node --cpu-prof`), and summarise one: the functions with
 * the most self time, the most inclusive time, and the share of garbage collection.
 *
 * `node --import tsx bench/profile.ts FILE.cpuprofile [TOP]` prints the summary of a profile
 * written by `node --cpu-prof`.
 */
import { readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  gcShare: number;
  /** `(program)`, `(idle)` and the like: time outside JavaScript and GC. */
  otherShare: number;
  self: { name: string; ms: number; share: number }[];
  inclusive: { name: string; ms: number; share: number }[];
}

/** Runs `work` under the sampling profiler (100 µs interval) and returns its profile. */
export async function profile(work: () => unknown | Promise<unknown>): Promise<CpuProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    await work();
    const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: CpuProfile };
    return profile;
  } finally {
    session.disconnect();
  }
}

function frameName(frame: CpuProfile["nodes"][number]["callFrame"]): string {
  if (!frame.url) return frame.functionName || "(anonymous)";
  let file = frame.url;
  if (file.startsWith("file:")) file = relative(process.cwd(), fileURLToPath(file));
  else if (file.startsWith("data:")) file = "generated kernels";
  // Under tsx, line numbers point into the transformed module; the file is what helps.
  return `${frame.functionName || "(anonymous)"} ${file}`;
}

/** Frames worth ranking by inclusive time: the project's code, not the benchmark's driver, Node's internals or V8's pseudo-frames. */
function isProjectFrame(name: string): boolean {
  return /\s(runtime|stdlib|compiler)\/|\sgenerated kernels$/.test(name);
}

export function summarizeProfile(p: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => {
    // The in-process profiler keeps sampling while `Profiler.stop` builds the profile, inside the
    // inspector's native `dispatch`: that is the profiler's own time, not the benchmark's.
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "dispatch" && frame.url === "") return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const selfByName = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const name = frameName(byId.get(id)!.callFrame);
    selfByName.set(name, (selfByName.get(name) ?? 0) + us);
  }

  // Inclusive time: each function counted once per sample, however deep it recurses.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusiveByName = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = frameName(byId.get(at)!.callFrame);
      if (!isProjectFrame(name) || seen.has(name)) continue;
      seen.add(name);
      inclusiveByName.set(name, (inclusiveByName.get(name) ?? 0) + us);
    }
  }

  const ranked = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: Math.round((us / total) * 1000) / 1000 }));
  const gc = selfByName.get("(garbage collector)") ?? 0;
  const other = (selfByName.get("(program)") ?? 0) + (selfByName.get("(idle)") ?? 0);
  return {
    totalMs: Math.round(total / 1000),
    gcShare: Math.round((gc / total) * 1000) / 1000,
    otherShare: Math.round((other / total) * 1000) / 1000,
    self: ranked(selfByName),
    inclusive: ranked(inclusiveByName),
  };
}

export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [`  ${s.totalMs} ms sampled; garbage collection ${(s.gcShare * 100).toFixed(1)}%, (program)/(idle) ${(s.otherShare * 100).toFixed(1)}%`];
  lines.push("  self time:");
  for (const f of s.self) lines.push(`    ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(1).padStart(8)} ms  ${f.name}`);
  lines.push("  inclusive time:");
  for (const f of s.inclusive) lines.push(`    ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(1).padStart(8)} ms  ${f.name}`);
  return lines.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node --import tsx bench/profile.ts FILE.cpuprofile [TOP]");
    process.exit(2);
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(process.argv[3] ?? 20));
  console.log(`${file}:\n${formatProfileSummary(summary)}`);
}
