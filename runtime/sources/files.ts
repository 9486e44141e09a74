/**
 * The `files` source: a directory whose files are read as they appear.
 *
 * Contract: files are read in name order (JavaScript string order), each once. Offsets and ranges
 * (JSON): the offset is `{ "file": NAME }`, the last file read (`""` before any); a range is
 * `{ "files": [{ "name": NAME, "size": BYTES }, ...] }`, the files batch N reads and how many
 * bytes of each, so a replay reads exactly those bytes even if a file has grown since; one that has
 * shrunk or gone makes `read` fail with an error that says so.
 *
 * Options: `format` `json` (newline-delimited JSON) · `csv` (with a header row) · `parquet`;
 * `max_files_per_batch` (none: every new file). Decoding and schema enforcement: decode/*.ts;
 * rejects are positioned at the file's path and line (Parquet: row).
 *
 * Decisions:
 * - Only regular files directly in DIR are read (symbolic links followed); names starting with `.`
 *   or `_` are skipped, as Spark and Hadoop do (temporary files, `_SUCCESS`), so a producer should
 *   write `.name.tmp` and rename it into place. A file must be complete when it appears under its
 *   final name: what is appended later is never read.
 * - A new file whose name sorts at or before the last file read is not read (the offset is a name,
 *   as it must stay small); name files so that they sort in arrival order (timestamps, zero-padded
 *   counters, as Spark's part files are).
 * - DIR must exist when the pipeline starts (a typo should not read nothing forever).
 * - A bounded files source (a lookup join's table) lists DIR once, at the first `latest()`, and
 *   reads that snapshot.
 */
import { open as openFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { concatBatches } from "../columnar/batch-ops.ts";
import type { Batch } from "../columnar/batch.ts";
import type { RejectedRecord } from "../deadletter.ts";
import { CsvDecoder } from "../decode/csv.ts";
import { JsonDecoder } from "../decode/json.ts";
import { decodeParquet } from "../decode/parquet.ts";
import type { DecodeOptions } from "../decode/rows.ts";
import type { Schema } from "../plan.ts";
import type { Offset, PlanLimits, Range, ReadResult, Source } from "./source.ts";

export type FilesFormat = "json" | "csv" | "parquet";

export interface FilesSourceOptions {
  format: FilesFormat;
  maxFilesPerBatch?: number;
  /** Read one snapshot of the directory (lookup joins). */
  bounded?: boolean;
  /** Decoder settings other than the source's name. */
  decode?: Omit<DecodeOptions, "source">;
}

export interface FilesOffset {
  file: string;
}

export interface FileEntry {
  name: string;
  size: number;
}

export interface FilesRange {
  files: FileEntry[];
}

export class FilesSource implements Source {
  readonly bounded: boolean;
  readonly description: string;
  /** Regular files seen by the last `latest()`, in name order. */
  private listing: FileEntry[] | undefined;
  /** Names at or before this were read (or precede where reading resumed): not listed again. */
  private floor = "";

  constructor(
    readonly id: string,
    readonly schema: Schema,
    /** The directory, resolved against the working directory. */
    readonly dir: string,
    private readonly options: FilesSourceOptions,
  ) {
    this.bounded = options.bounded ?? false;
    this.description = `files[${dir}]`;
  }

  async open(resume: Offset | undefined): Promise<void> {
    const info = await stat(this.dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new Error(`files source ${this.id}: directory ${this.dir} does not exist`);
    this.floor = resume === undefined ? "" : asOffset(resume).file;
  }

  async latest(): Promise<Offset> {
    if (!(this.bounded && this.listing)) this.listing = await this.list();
    return { file: this.listing.length ? this.listing[this.listing.length - 1]!.name : this.floor };
  }

  private async list(): Promise<FileEntry[]> {
    const names = (await readdir(this.dir)).filter((n) => !n.startsWith(".") && !n.startsWith("_") && n > this.floor).sort(compareNames);
    const entries: FileEntry[] = [];
    for (const name of names) {
      const info = await stat(join(this.dir, name)).catch(() => undefined);
      if (info?.isFile()) entries.push({ name, size: info.size });
    }
    return entries;
  }

  plan(from: Offset | undefined, limits: PlanLimits): Range | undefined {
    if (!this.listing) throw new Error(`files source ${this.id}: plan before latest`);
    const after = from === undefined ? "" : asOffset(from).file;
    const upTo = asOffset(limits.latest).file;
    let files = this.listing.filter((f) => f.name > after && f.name <= upTo);
    const cap = this.options.maxFilesPerBatch;
    if (cap !== undefined && !limits.uncapped) files = files.slice(0, cap);
    if (files.length === 0) return undefined;
    return { files } satisfies FilesRange as unknown as Range;
  }

  end(range: Range): Offset {
    const { files } = asRange(range);
    return { file: files[files.length - 1]!.name };
  }

  behind(from: Offset | undefined, latest: Offset): number {
    const after = from === undefined ? "" : asOffset(from).file;
    const upTo = asOffset(latest).file;
    return (this.listing ?? []).filter((f) => f.name > after && f.name <= upTo).length;
  }

  async read(range: Range): Promise<ReadResult> {
    const { files } = asRange(range);
    const last = files[files.length - 1]!.name;
    if (last > this.floor) this.floor = last;
    const decode: DecodeOptions = { ...this.options.decode, source: this.id };
    switch (this.options.format) {
      case "json": {
        const decoder = new JsonDecoder(this.schema, decode);
        for (const f of files) decoder.lines(await this.readFile(f), join(this.dir, f.name));
        return decoder.finish();
      }
      case "csv": {
        const decoder = new CsvDecoder(this.schema, decode);
        for (const f of files) decoder.file(await this.readFile(f), join(this.dir, f.name));
        return decoder.finish();
      }
      case "parquet": {
        const batches: Batch[] = [];
        const rejects: RejectedRecord[] = [];
        for (const f of files) {
          const result = decodeParquet(this.schema, await this.readFile(f), join(this.dir, f.name), decode);
          batches.push(...result.batches);
          rejects.push(...result.rejects);
        }
        return { batch: concatBatches(this.schema, batches), rejects };
      }
    }
  }

  /** Exactly the planned bytes of a file. */
  private async readFile(entry: FileEntry): Promise<Uint8Array> {
    const path = join(this.dir, entry.name);
    const handle = await openFile(path, "r").catch((e: NodeJS.ErrnoException) => {
      throw new Error(`files source ${this.id}: cannot read ${path}, planned with ${entry.size} bytes (${e.code ?? e.message}); the batch cannot be replayed`);
    });
    try {
      const bytes = new Uint8Array(entry.size);
      let filled = 0;
      while (filled < entry.size) {
        const { bytesRead } = await handle.read(bytes, filled, entry.size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled < entry.size) {
        throw new Error(`files source ${this.id}: ${path} has ${filled} bytes, the batch planned ${entry.size}; it was truncated, so the batch cannot be replayed`);
      }
      return bytes;
    } finally {
      await handle.close();
    }
  }

  async close(): Promise<void> {}
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function asOffset(offset: Offset): FilesOffset {
  const file = (offset as { file?: unknown } | null)?.file;
  if (typeof file !== "string") throw new Error(`not a files offset: ${JSON.stringify(offset)}`);
  return { file };
}

function asRange(range: Range): FilesRange {
  const files = (range as { files?: unknown } | null)?.files;
  if (!Array.isArray(files) || files.length === 0 || !files.every((f) => typeof f?.name === "string" && Number.isSafeInteger(f?.size))) {
    throw new Error(`not a files range: ${JSON.stringify(range)}`);
  }
  return { files: files as FileEntry[] };
}
