/**
 * A watchdog for synchronous code that may never return.
 *
 * Contract: `beat(label, text)` marks the start of a case. If no beat follows within `limitMs`,
 * the watchdog thread writes the hung case's text to a temp file, prints its label and the file's
 * path on stderr, and kills the process: an infinite loop in the parser blocks the test's own
 * thread, so neither a timer nor vitest's timeout could ever report it.
 */
import { Worker } from "node:worker_threads";

const textCapacity = 1 << 20;

const watchdogSource = `
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const os = require("node:os");
const { state, bytes, limitMs } = workerData;
const control = new Int32Array(state);
let last = Atomics.load(control, 0);
let since = Date.now();
while (Atomics.load(control, 1) === 0) {
  Atomics.wait(control, 1, 0, 250);
  const now = Atomics.load(control, 0);
  if (now !== last) { last = now; since = Date.now(); continue; }
  if (Date.now() - since < limitMs) continue;
  const view = new Uint8Array(bytes);
  const labelLength = Atomics.load(control, 2);
  const textLength = Atomics.load(control, 3);
  const decoder = new TextDecoder();
  const label = decoder.decode(view.slice(0, labelLength));
  const text = decoder.decode(view.slice(labelLength, labelLength + textLength));
  const file = path.join(os.tmpdir(), "streamc-hung-" + process.pid + ".stream");
  fs.writeFileSync(file, text);
  fs.writeSync(2, "\\nwatchdog: no progress for " + limitMs + " ms in: " + label + "\\nthe text is in " + file + "\\n");
  process.kill(process.pid, "SIGKILL");
}
`;

export class Watchdog {
  private readonly control: Int32Array;
  private readonly view: Uint8Array;
  private readonly worker: Worker;
  private readonly encoder = new TextEncoder();

  constructor(limitMs: number) {
    const state = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
    const bytes = new SharedArrayBuffer(textCapacity);
    this.control = new Int32Array(state);
    this.view = new Uint8Array(bytes);
    this.worker = new Worker(watchdogSource, { eval: true, workerData: { state, bytes, limitMs } });
    this.worker.unref();
  }

  beat(label: string, text: string): void {
    const labelBytes = this.encoder.encode(label).subarray(0, textCapacity / 4);
    const textBytes = this.encoder.encode(text).subarray(0, textCapacity - labelBytes.length);
    this.view.set(labelBytes, 0);
    this.view.set(textBytes, labelBytes.length);
    Atomics.store(this.control, 2, labelBytes.length);
    Atomics.store(this.control, 3, textBytes.length);
    Atomics.add(this.control, 0, 1);
  }

  async stop(): Promise<void> {
    Atomics.store(this.control, 1, 1);
    Atomics.notify(this.control, 1);
    await this.worker.terminate();
  }
}
