/**
 * The live status line `streamc run` keeps on an interactive terminal instead of a log flood.
 *
 * Contract: `LiveStatusLine.update(progress, rates)` rewrites one line in place (carriage return,
 * erase line, the text cut to the terminal's width) after each batch:
 *   `NAME  batch 41 · in 1,204 rows/s · out 1,198 rows/s · behind 3 · watermark delay 2m 05s`
 * (`behind` sums `offsetsBehindLatest` over the sources; the watermark part is left out while
 * there is none). `write(text)` prints other output (log lines, the final summary) on a line of
 * its own and redraws the status line under it; `finish()` erases it for good. The caller decides
 * whether to use it: when standard error is a terminal and `--progress` is not given.
 */
import type { BatchProgress } from "../engine/pipeline.ts";
import type { BatchRates } from "./derived-figures.ts";
import { watermarkLagSeconds } from "./derived-figures.ts";

const ERASE_LINE = "\r\x1b[2K";

export class LiveStatusLine {
  private line = "";

  constructor(
    private readonly out: (text: string) => void,
    /** The terminal's width in columns; undefined when unknown. */
    private readonly columns: () => number | undefined = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  update(progress: BatchProgress, rates: BatchRates): void {
    this.line = statusText(progress, rates, this.now());
    this.out(ERASE_LINE + this.fitted());
  }

  write(text: string): void {
    if (this.line === "") return this.out(text);
    this.out(ERASE_LINE + text + (text.endsWith("\n") ? "" : "\n") + this.fitted());
  }

  finish(): void {
    if (this.line !== "") this.out(ERASE_LINE);
    this.line = "";
  }

  private fitted(): string {
    const width = this.columns();
    // One column short of the width: a full line would wrap on some terminals.
    return width !== undefined && width > 1 && this.line.length >= width ? this.line.slice(0, width - 2) + "…" : this.line;
  }
}

export function statusText(progress: BatchProgress, rates: BatchRates, nowMs: number): string {
  const behind = progress.sources.reduce((sum, s) => sum + s.metrics.offsetsBehindLatest, 0);
  const parts = [
    `batch ${progress.batchId}`,
    `in ${formatRate(rates.inputRowsPerSecond)} rows/s`,
    `out ${formatRate(rates.outputRowsPerSecond)} rows/s`,
    `behind ${behind.toLocaleString("en")}`,
  ];
  const lag = watermarkLagSeconds(progress.eventTime.watermark, nowMs);
  if (lag !== undefined) parts.push(`watermark delay ${formatDelay(lag)}`);
  return `${progress.name}  ${parts.join(" · ")}`;
}

function formatRate(perSecond: number): string {
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString("en") : perSecond.toFixed(1);
}

/** `850ms`, `12.3s`, `4m 05s`, `3h 12m`, `702d 4h`. */
export function formatDelay(seconds: number): string {
  const sign = seconds < 0 ? "-" : "";
  const s = Math.abs(seconds);
  const two = (n: number) => String(Math.floor(n)).padStart(2, "0");
  if (s < 1) return `${sign}${Math.round(s * 1000)}ms`;
  if (s < 60) return `${sign}${s.toFixed(1)}s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m ${two(s % 60)}s`;
  if (s < 86400) return `${sign}${Math.floor(s / 3600)}h ${two((s % 3600) / 60)}m`;
  return `${sign}${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}
