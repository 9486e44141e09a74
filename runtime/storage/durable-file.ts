/**
 * Writing files whole or not at all: the one way the checkpoint, the table log and the file sinks
 * put bytes on disk.
 *
 * Contract:
 * - `writeFileAtomically(path, bytes)`: the bytes go to a hidden temporary file beside `path`
 *   (`.NAME.PID-RANDOM.tmp`), are fsynced, then renamed over `path`, and the directory is fsynced.
 *   A reader sees the old file or the new one, never part of one. Use it where replacing is
 *   correct (a replayed batch's output file, `_last_checkpoint`).
 * - `createFileExclusively(path, bytes)`: the same, but linked into place (put-if-absent): when
 *   `path` exists it resolves `false` and leaves the existing file untouched. Use it wherever two
 *   writers may race for a name (a Delta log version, a checkpoint's offsets/N and commits/N).
 * - Before the link, `crashPoint("storage.before-link")` lets the crash tests stop there.
 * - `{ midwayCrashPoint: NAME }` (either function): the first half of the bytes is written, then
 *   `crashPoint(NAME)`, then the rest; a crash there leaves half a temporary file and nothing at
 *   `path` (the table's data files use `table.parquet-write`).
 * Temporary files that a crash leaves behind start with `.` and end in `.tmp`; every reader in
 * streamc skips them, and cleanup may delete them.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, link, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { crashPoint } from "../fault.ts";

export interface WriteOptions {
  /** A crash point (fault.ts) reached when half of the bytes are written to the temporary file. */
  midwayCrashPoint?: string;
}

export async function writeFileAtomically(path: string, bytes: Uint8Array | string, options: WriteOptions = {}): Promise<void> {
  const temp = await writeTemporary(path, bytes, options);
  try {
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  await syncDirectory(dirname(path));
}

/** Put-if-absent: true when this call created `path`, false when it already existed. */
export async function createFileExclusively(path: string, bytes: Uint8Array | string, options: WriteOptions = {}): Promise<boolean> {
  const temp = await writeTemporary(path, bytes, options);
  try {
    crashPoint("storage.before-link");
    await link(temp, path);
    await syncDirectory(dirname(path));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await rm(temp, { force: true });
  }
}

/** True for the names `writeFileAtomically` and `createFileExclusively` use for their temporary files. */
export function isTemporaryFileName(name: string): boolean {
  return name.startsWith(".") && name.endsWith(".tmp");
}

async function writeTemporary(path: string, bytes: Uint8Array | string, options: WriteOptions): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  const file = await open(temp, "w");
  try {
    if (options.midwayCrashPoint === undefined) await file.writeFile(bytes);
    else {
      const data = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
      const half = data.length >> 1;
      await writeAt(file, data.subarray(0, half), 0);
      await file.sync();
      crashPoint(options.midwayCrashPoint);
      await writeAt(file, data.subarray(half), half);
    }
    await file.sync();
  } catch (e) {
    await file.close();
    await rm(temp, { force: true });
    // Errors of writes to a descriptor carry no path; give them the file's, so they can say where.
    if (e instanceof Error && (e as NodeJS.ErrnoException).path === undefined) (e as NodeJS.ErrnoException).path = temp;
    throw e;
  }
  await file.close();
  return temp;
}

async function writeAt(file: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}
