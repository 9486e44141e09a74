/**
 * The local Kafka test broker as a process (tools/kafka-test-broker): build it, start it on a free
 * loopback port, stop it. Used by the vitest global setup (the broker every Kafka test shares) and by
 * `useOwnBroker()` in test/support/kafka.ts (a broker for one test file, which may take it down).
 *
 * Contract: `buildTestBroker()` returns the binary's path or throws an Error whose message holds the
 * whole build log. `startTestBroker()` resolves once the broker accepts TCP connections, or throws with
 * the broker's log; the process exits by itself when the process that started it ends. Also declares
 * what the global setup `provide`s to tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

declare module "vitest" {
  export interface ProvidedContext {
    /** Comma-separated `host:port` list: the local test broker, or `KAFKA_BROKERS`. */
    kafkaBrokers: string;
    /** PID of the local test broker; null when `KAFKA_BROKERS` points at another Kafka. */
    kafkaBrokerPid: number | null;
    /** Path of the built broker binary; null when `KAFKA_BROKERS` points at another Kafka. */
    kafkaBrokerBinary: string | null;
  }
}

const BUILD_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../tools/kafka-test-broker/build.sh");
const LOG_LIMIT = 256 * 1024;
const START_ATTEMPTS = 5;
const START_TIMEOUT_MS = 10_000;

/** Default partitions of auto-created topics; 1 GiB kept per partition (the mock's stock 5 MB drops data). */
export const TEST_BROKER_PARTITIONS = 4;
export const TEST_BROKER_RETENTION_BYTES = 1024 * 1024 * 1024;

/** Runs tools/kafka-test-broker/build.sh (milliseconds when cached; about 30 s cold) and returns the binary. */
export async function buildTestBroker(): Promise<string> {
  const child = spawn("bash", [BUILD_SCRIPT], { stdio: ["ignore", "pipe", "pipe"] });
  const log = collectOutput(child);
  // A cold build takes about 30 s: say so as it happens (a cached build writes nothing to stderr).
  child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  const exit = await exitOf(child);
  const lines = log.text().trim().split("\n");
  if (exit.error || exit.code !== 0) {
    throw new Error(
      `Building the Kafka test broker failed (${exit.error?.message ?? describeExit(exit.code, exit.signal)}): ` +
        `bash ${path.relative(process.cwd(), BUILD_SCRIPT)}\n${log.text()}\n` +
        `It needs gcc, make and the npm registry; or run the tests against another Kafka: KAFKA_BROKERS=host:port npm test`,
    );
  }
  return lines[lines.length - 1]!;
}

/** A running broker process. */
export interface TestBrokerProcess {
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  /** Its stdout and stderr so far (the last 256 KiB). */
  log(): string;
  /** Set once the process has exited. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Registers a callback for an exit that `stop()` did not ask for. */
  onUnexpectedExit(callback: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts the broker binary on a free loopback port (found by binding port 0; another free port is tried
 * if someone takes it first) and resolves once it accepts connections.
 */
export async function startTestBroker(binary: string, extraArgs: readonly string[] = []): Promise<TestBrokerProcess> {
  let lastLog = "";
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freeLoopbackPort();
    const child = spawn(
      binary,
      [
        "--port", String(port),
        "--partitions", String(TEST_BROKER_PARTITIONS),
        "--retention-bytes", String(TEST_BROKER_RETENTION_BYTES),
        "--parent-pid", String(process.pid),
        ...extraArgs,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    // Neither the process nor its pipes keep this Node process alive; --parent-pid ends it with us.
    child.unref();
    (child.stdout as net.Socket | null)?.unref();
    (child.stderr as net.Socket | null)?.unref();
    const log = collectOutput(child);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let stopping = false;
    const unexpected: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
    const exitPromise = exitOf(child).then((e) => {
      exit = { code: e.code, signal: e.signal };
      if (!stopping) for (const callback of unexpected) callback(e.code, e.signal);
      return e;
    });
    const started = await Promise.race([
      waitUntilAccepting(port, START_TIMEOUT_MS).then((ok) => (ok ? "listening" : "timeout")),
      exitPromise.then(() => "exited" as const),
    ]);
    if (started === "listening") {
      return {
        address: `127.0.0.1:${port}`,
        port,
        pid: child.pid!,
        log: () => log.text(),
        exited: () => exit,
        onUnexpectedExit: (callback) => void unexpected.push(callback),
        stop: async () => {
          stopping = true;
          if (exit) return;
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
          await exitPromise;
          clearTimeout(timer);
        },
      };
    }
    stopping = true;
    child.kill("SIGKILL");
    const e = await exitPromise;
    lastLog = log.text();
    const portTaken = /port in use|Address already in use|Failed to bind/i.test(lastLog);
    if (started === "exited" && portTaken && attempt < START_ATTEMPTS) continue;
    throw new Error(
      `The Kafka test broker did not start on 127.0.0.1:${port} ` +
        `(${started === "timeout" ? `not listening after ${START_TIMEOUT_MS / 1000} s` : e.error?.message ?? describeExit(e.code, e.signal)}): ` +
        `${binary}\n--- broker log ---\n${lastLog || "(empty)"}`,
    );
  }
  throw new Error(`The Kafka test broker found no free port in ${START_ATTEMPTS} attempts.\n--- broker log ---\n${lastLog}`);
}

/** A loopback port nobody listens on right now (the OS picks it; someone may still take it before we do). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connection to `host:port` succeeds within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Polls until the port on 127.0.0.1 accepts (or, with `accepting` false, refuses) connections. */
export async function waitUntilAccepting(port: number, timeoutMs: number, accepting = true): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await canConnect("127.0.0.1", port, 1_000)) === accepting) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function collectOutput(child: ChildProcess): { text(): string } {
  let text = "";
  const append = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    if (text.length > LOG_LIMIT) text = text.slice(text.length - LOG_LIMIT);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  return { text: () => text };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> {
  return new Promise((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}
