/**
 * The `console` sink: prints each batch as a table, as Spark's console sink does.
 *
 * Contract: for every batch (empty ones too, as Spark) it writes to its output
 *
 * ```
 * -------------------------------------------
 * Batch: 3 (update)
 * -------------------------------------------
 * +-------+---+
 * |country|  n|
 * +-------+---+
 * |     DE|  2|
 * +-------+---+
 * only showing top 20 rows
 * ```
 *
 * at most `rows` rows (option, default 20), with a last line saying so when there were more. It
 * gives no guarantee: a replayed batch is printed again.
 *
 * Decisions (Spark's `show()` where it has one): cells are right-aligned, columns at least 3
 * wide; text (strings, bytes, lists, maps, structs) longer than 20 characters is cut to 17 and
 * `...`, numbers and times never are; line breaks and tabs in text are shown as `\n` and `\t` so
 * rows stay on one line; widths count East Asian wide characters and emoji as two columns and
 * combining marks as none; timestamps are ISO-8601 UTC (`2024-01-01T00:00:00Z`), not Spark's
 * local-time text.
 */
import type { Batch } from "../columnar/batch.ts";
import type { Schema } from "../plan.ts";
import { displayRows } from "./encode.ts";
import type { OutputMode, Sink } from "./sink.ts";

export interface TextOutput {
  write(text: string): unknown;
}

export class ConsoleSink implements Sink {
  constructor(
    readonly id: string,
    readonly schema: Schema,
    private readonly maxRows = 20,
    private readonly out: TextOutput = process.stdout,
  ) {}

  async write(batchId: number, batch: Batch, mode: OutputMode): Promise<void> {
    this.out.write(formatBatch(batchId, mode, this.schema, batch, this.maxRows));
  }

  async close(): Promise<void> {}
}

export function formatBatch(batchId: number, mode: OutputMode, schema: Schema, batch: Batch, maxRows: number): string {
  const rule = "-------------------------------------------";
  const header = schema.fields.map((f) => cell(f.name, true));
  const cut = schema.fields.map((f) => ["string", "bytes", "list", "map", "struct"].includes(f.type.kind));
  const rows = displayRows(schema, batch, maxRows).map((row) => row.map((text, i) => cell(text, cut[i]!)));
  const widths = header.map((h, i) => Math.max(3, displayWidth(h), ...rows.map((r) => displayWidth(r[i]!))));
  const border = `+${widths.map((w) => "-".repeat(w)).join("+")}+`;
  const line = (cells: string[]): string => `|${cells.map((c, i) => " ".repeat(widths[i]! - displayWidth(c)) + c).join("|")}|`;
  const lines = [rule, `Batch: ${batchId} (${mode})`, rule, border, line(header), border, ...rows.map(line), border];
  if (batch.length > maxRows) lines.push(`only showing top ${maxRows} row${maxRows === 1 ? "" : "s"}`);
  return lines.join("\n") + "\n\n";
}

function cell(text: string, cut: boolean): string {
  const shown = text.replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  if (!cut) return shown;
  const points = Array.from(shown);
  return points.length > 20 ? points.slice(0, 17).join("") + "..." : shown;
}

/** Terminal columns: wide (CJK, fullwidth, emoji) count two, combining marks and joiners none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x300 && c <= 0x36f) || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x20d0 && c <= 0x20ff)) continue;
    width += isWide(c) ? 2 : 1;
  }
  return width;
}

function isWide(c: number): boolean {
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf && c !== 0x303f) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}
