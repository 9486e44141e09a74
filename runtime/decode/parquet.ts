/**
 * Parquet files decoded into batches of the declared schema.
 *
 * Contract: `decodeParquet` reads a whole file's bytes with parquet-wasm and hands the Arrow
 * table to `decodeArrowTable` (arrow.ts: columns by name, the same enforcement as JSON, rejects
 * positioned at the file and row from 1). A file that parquet-wasm cannot read is one `malformed`
 * reject at line 0 whose raw bytes are the file's first 64 KiB; reading carries on with the next
 * file.
 */
import * as arrow from "apache-arrow";
import * as parquet from "parquet-wasm";
import type { Batch } from "../columnar/batch.ts";
import { RAW_LIMIT_TOO_LARGE, type RejectedRecord } from "../deadletter.ts";
import type { Schema } from "../plan.ts";
import { decodeArrowTable } from "./arrow.ts";
import { type DecodeOptions, wallClockMicros } from "./rows.ts";

export function decodeParquet(schema: Schema, bytes: Uint8Array, file: string, options: DecodeOptions): { batches: Batch[]; rejects: RejectedRecord[] } {
  let table: arrow.Table;
  try {
    table = arrow.tableFromIPC(parquet.readParquet(bytes).intoIPCStream());
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return {
      batches: [],
      rejects: [
        {
          reason: "malformed",
          source: options.source,
          position: { kind: "file", file, line: 0 },
          raw: bytes.slice(0, RAW_LIMIT_TOO_LARGE),
          detail: `not a readable Parquet file (${reason}); the dead letter keeps its first ${RAW_LIMIT_TOO_LARGE} bytes`,
          time: (options.now ?? wallClockMicros)(),
        },
      ],
    };
  }
  return decodeArrowTable(schema, table, file, options);
}
