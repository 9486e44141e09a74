/**
 * `streamc run --http PORT`: a small HTTP server (node:http) over a run's `RunMonitor`.
 *
 * Contract: `startProgressServer({ host, port, monitor })` listens on `host` (the caller's
 * default is loopback, 127.0.0.1) and `port` (0 picks a free one) and resolves once it listens,
 * with the address it got and `close()`; it rejects with a `ProgressServerError` whose message
 * says what to do when it cannot listen (the port is in use, a port below 1024 without the right,
 * an address this machine does not have). It serves, to GET (and HEAD):
 * - `/`: the dashboard (dashboard-assets.ts: one HTML page with uPlot and its script inlined, so
 *   a bundle serves it with no files around it);
 * - `/progress`: a JSON array of the recent batches' progress, oldest first (`?after=N`: only the
 *   batches after batch N);
 * - `/status`: a JSON object (`RunStatus`);
 * - `/metrics`: the Prometheus text format 0.0.4.
 * Anything else is 404 (an unknown path) or 405 (another method). Responses are never cached.
 * `close()` stops listening and ends open connections (a dashboard's keep-alive ones included),
 * so the process can exit.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DASHBOARD_HTML } from "./dashboard-assets.ts";
import type { RunMonitor } from "./run-monitor.ts";

export interface ProgressServerOptions {
  host: string;
  port: number;
  monitor: RunMonitor;
}

export interface ProgressServer {
  /** The address and port it listens on (the port chosen when asked for 0). */
  readonly address: { host: string; port: number };
  /** `http://HOST:PORT/`. */
  readonly url: string;
  close(): Promise<void>;
}

export class ProgressServerError extends Error {}

const NO_STORE = { "cache-control": "no-store" };
/** The dashboard's own script and style are inline; it fetches only from this server. */
const DASHBOARD_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

export function startProgressServer(options: ProgressServerOptions): Promise<ProgressServer> {
  const { monitor } = options;
  const server = createServer((request, response) => {
    handle(monitor, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain; charset=utf-8", ...NO_STORE });
      response.end(`internal error: ${(error as Error).message}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(new ProgressServerError(listenFailure(error, options.host, options.port))));
    server.listen(options.port, options.host, () => {
      // Once listening, a server error (say, out of file descriptors) must not end the pipeline.
      server.removeAllListeners("error");
      server.on("error", () => {});
      const address = server.address() as AddressInfo;
      const host = address.address;
      resolve({
        address: { host, port: address.port },
        url: `http://${host.includes(":") ? `[${host}]` : host}:${address.port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function handle(monitor: RunMonitor, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://streamc.invalid");
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8", ...NO_STORE });
    response.end(`${request.method} is not allowed: this server only answers GET\n`);
    return;
  }
  switch (url.pathname) {
    case "/":
    case "/index.html":
      return send(request, response, 200, "text/html; charset=utf-8", DASHBOARD_HTML, { "content-security-policy": DASHBOARD_POLICY });
    case "/progress": {
      const after = url.searchParams.get("after");
      const afterBatchId = after === null || !/^-?[0-9]+$/.test(after) ? undefined : Number(after);
      return sendJson(request, response, monitor.recent(afterBatchId));
    }
    case "/status":
      return sendJson(request, response, monitor.status());
    case "/metrics": {
      const { contentType, text } = await monitor.metrics.scrape();
      return send(request, response, 200, contentType, text);
    }
    default:
      return send(request, response, 404, "text/plain; charset=utf-8", `no such page: ${url.pathname}; this server has / (the dashboard), /progress, /status and /metrics\n`);
  }
}

function sendJson(request: IncomingMessage, response: ServerResponse, value: unknown): void {
  send(request, response, 200, "application/json; charset=utf-8", JSON.stringify(value) + "\n");
}

function send(request: IncomingMessage, response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body, "utf8");
  response.writeHead(status, { "content-type": contentType, "content-length": bytes.length, "x-content-type-options": "nosniff", ...NO_STORE, ...headers });
  response.end(request.method === "HEAD" ? undefined : bytes);
}

function listenFailure(error: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  switch (error.code) {
    case "EADDRINUSE":
      return `--http ${port}: ${where} is already in use by another process; choose another port with --http PORT (--http 0 picks a free one)`;
    case "EACCES":
      return `--http ${port}: not allowed to listen on ${where} (ports below 1024 need extra rights); choose a port of 1024 or above`;
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `--http-host ${host}: this machine has no such address; use 127.0.0.1 (the default), 0.0.0.0 for every address, or one of this machine's addresses`;
    default:
      return `--http ${port}: cannot listen on ${where}: ${error.message}`;
  }
}
