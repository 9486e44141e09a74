/**
 * The Delta log reader and row reader against real reference tables
 * (/work/shared/conformance/delta: dat/, golden/, kernel/; see its README.md).
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { snapshot } from "../../runtime/table/delta-log.ts";
import { readTable } from "../../runtime/table/read-table.ts";
import { canonicalRows, readExpectedRows } from "./conformance-helpers.ts";

const ROOT = path.resolve(import.meta.dirname, "../../../shared/conformance/delta");
const exists = fs.existsSync(ROOT);
const GOLDEN = path.join(ROOT, "golden");
const DAT = path.join(ROOT, "dat");
const KERNEL = path.join(ROOT, "kernel");

/** Golden tables using a feature this reader rejects: name → the feature named in the error. */
const REJECTED: Record<string, string> = {
  "data-reader-timestamp_ntz": "timestampNtz",
  "data-reader-timestamp_ntz-id-mode": "columnMapping",
  "data-reader-timestamp_ntz-name-mode": "columnMapping",
  "data-skipping-basic-stats-all-types-columnmapping-id": "columnMapping",
  "data-skipping-basic-stats-all-types-columnmapping-name": "columnMapping",
  "dv-partitioned-with-checkpoint": "deletionVectors",
  "dv-with-columnmapping": "deletionVectors",
  "log-replay-dv-key-cases": "deletionVectors",
  "parquet-all-types": "timestampNtz",
  "parquet-all-types-legacy-format": "timestampNtz",
  "table-with-columnmapping-mode-id": "columnMapping",
  "table-with-columnmapping-mode-name": "columnMapping",
  "v2-checkpoint-json": "v2Checkpoint",
  "v2-checkpoint-parquet": "v2Checkpoint",
  // protocol minReaderVersion 99
  "deltalog-invalid-protocol-version": "readerVersion99",
};

/** Golden tables whose log is broken on purpose: name → the error the reader must give. */
const LOG_ERRORS: Record<string, RegExp> = {
  "versions-not-contiguous": /not contiguous.*missing version 1/,
  "no-delta-log-folder": /no Delta log/,
  // the nested tables live in hive/delta/deltatbl-*; the folder itself is no table
  hive: /no Delta log/,
  "deltalog-state-reconstruction-without-metadata": /no metaData action/,
  "deltalog-state-reconstruction-without-protocol": /no protocol action/,
  "deltalog-state-reconstruction-from-checkpoint-missing-metadata": /no metaData action.*version 10/,
  "deltalog-state-reconstruction-from-checkpoint-missing-protocol": /no protocol action.*version 10/,
  // log-only tables written without a schemaString / metaData (they test other readers' paths)
  "data-reader-absolute-paths-escaped-chars": /no metaData action/,
  "deltalog-commit-info": /no schemaString/,
  "update-deleted-directory": /no schemaString/,
};

/** Log-only golden tables (no expected rows): name → [snapshot version, number of live files]. */
const LOG_ONLY: Record<string, [number, number]> = {
  checkpoint: [14, 1],
  "canonicalized-paths-normal-a": [1, 1],
  "canonicalized-paths-normal-b": [1, 1],
  "canonicalized-paths-special-a": [1, 1],
  "canonicalized-paths-special-b": [1, 1],
  "delete-re-add-same-file-different-transactions": [3, 2],
  "log-replay-special-characters-b": [0, 1],
};

/** Golden tables we cannot make pass, with the reason. */
const EXCLUDED: Record<string, string> = {
  // Timestamp partition values are written as local time ("2021-09-08 11:11:11") in the Spark
  // session time zone (America/Los_Angeles); the protocol reader reads them as UTC, as the
  // protocol says, so the expected rows differ by the writer's zone offset.
  "data-reader-partition-values": "timestamp partition value in the writer's session time zone",
};

function goldenNames(): string[] {
  return fs.readdirSync(GOLDEN).filter((n) => fs.statSync(path.join(GOLDEN, n)).isDirectory()).sort();
}

function expectRowsMatch(tablePath: string, expectedPath: string, version?: number): void {
  const snap = snapshot(tablePath, version);
  const fields = snap.metadata.schema.fields;
  const actual = canonicalRows(readTable(tablePath, version), fields);
  const expectedRows = readExpectedRows(expectedPath);
  const expectedCols = new Set(expectedRows.flatMap((r) => Object.keys(r)));
  if (expectedRows.length > 0) for (const f of fields) expect(expectedCols.has(f.name), `expected has column ${f.name}`).toBe(true);
  const expected = canonicalRows(expectedRows, fields);
  expect(actual.length).toBe(expected.length);
  expect(actual).toEqual(expected);
}

describe.skipIf(!exists && process.env.CI !== "true")("Delta conformance: reference tables", () => {
  it("has the reference tables", () => {
    expect(exists).toBe(true);
  });

  describe("dat", () => {
    const names = exists ? fs.readdirSync(DAT).sort() : [];
    for (const name of names) {
      const dir = path.join(DAT, name);
      const versions = fs.readdirSync(path.join(dir, "expected")).sort();
      for (const v of versions) {
        it(`${name} @ ${v}`, () => {
          const base = path.join(dir, "expected", v);
          const content = fs.existsSync(path.join(base, "table_content"))
            ? path.join(base, "table_content")
            : path.join(base, "table_content.parquet");
          const meta = JSON.parse(fs.readFileSync(path.join(base, "table_version_metadata.json"), "utf8")) as { version: number };
          const version = v === "latest" ? undefined : Number(v.slice(1));
          if (version !== undefined) expect(meta.version).toBe(version);
          expect(snapshot(path.join(dir, "delta"), version).version).toBe(meta.version);
          expectRowsMatch(path.join(dir, "delta"), content, version);
        });
      }
    }
  });

  describe("golden", () => {
    const names = exists ? goldenNames() : [];

    it("every golden table is matched, rejected, log-tested or excluded", () => {
      for (const name of names) {
        const known =
          name in REJECTED ||
          name in LOG_ERRORS ||
          name in LOG_ONLY ||
          name in EXCLUDED ||
          fs.existsSync(path.join(GOLDEN, name, "expected"));
        expect(known, name).toBe(true);
      }
    });

    for (const name of names) {
      const table = path.join(GOLDEN, name, "delta");
      if (name in EXCLUDED) continue;
      if (name in REJECTED) {
        it(`${name}: rejected (${REJECTED[name]})`, () => {
          expect(() => readTable(table)).toThrow(`unsupported table feature ${REJECTED[name]} in ${table}`);
        });
      } else if (name in LOG_ERRORS) {
        it(`${name}: log error`, () => {
          expect(() => snapshot(table)).toThrow(LOG_ERRORS[name]);
        });
      } else if (name in LOG_ONLY) {
        it(`${name}: log only`, () => {
          const snap = snapshot(table);
          expect(snap.version).toBe(LOG_ONLY[name]![0]);
          expect(snap.files.length).toBe(LOG_ONLY[name]![1]);
        });
      } else {
        it(`${name}: rows match`, { timeout: 60_000 }, () => {
          expectRowsMatch(table, path.join(GOLDEN, name, "expected"));
        });
      }
    }

    it("hive/delta/deltatbl-*: nested tables read, escaped partition directories resolve", () => {
      const hive = path.join(GOLDEN, "hive", "delta");
      for (const name of fs.readdirSync(hive)) {
        expect(readTable(path.join(hive, name)).length, name).toBeGreaterThan(0);
      }
      const rows = readTable(path.join(hive, "deltatbl-special-chars-in-partition-column"));
      expect(new Set(rows.map((r) => r.c2))).toContain("+ =%0");
    });

    it("corrupted _last_checkpoint falls back to listing", () => {
      const table = path.join(GOLDEN, "corrupted-last-checkpoint-kernel", "delta");
      const raw = fs.readFileSync(path.join(table, "_delta_log", "_last_checkpoint"), "utf8");
      expect(() => JSON.parse(raw)).toThrow();
      expect(snapshot(table).version).toBe(11);
    });

    // Each "-a"/shorter table holds the rows of an earlier version of the longer one.
    const timeTravel: [string, number, string][] = [
      ["time-travel-start-start20-start40", 0, "time-travel-start"],
      ["time-travel-start-start20-start40", 1, "time-travel-start-start20"],
      ["time-travel-start-start20-start40", 2, "time-travel-start-start20-start40"],
      ["time-travel-schema-changes-b", 0, "time-travel-schema-changes-a"],
      ["time-travel-partition-changes-b", 0, "time-travel-partition-changes-a"],
    ];
    for (const [name, version, expectedFrom] of timeTravel) {
      it(`${name} @ v${version}: rows of ${expectedFrom}`, () => {
        expectRowsMatch(path.join(GOLDEN, name, "delta"), path.join(GOLDEN, expectedFrom, "expected"), version);
      });
    }

    it("checkpoint: time travel before and after the checkpoint", () => {
      const table = path.join(GOLDEN, "checkpoint", "delta");
      for (const v of [0, 5, 9, 10, 11, 14]) expect(snapshot(table, v).version).toBe(v);
      expect(() => snapshot(table, 15)).toThrow(/version 15 does not exist/);
    });

  });

  describe("kernel", () => {
    for (const name of ["app-txn-checkpoint", "app-txn-no-checkpoint"]) {
      it(`${name}: txn versions`, () => {
        const snap = snapshot(path.join(KERNEL, name));
        expect(snap.version).toBe(1);
        expect(Object.fromEntries(snap.txns)).toEqual({ "my-app": 3, "my-app2": 2 });
      });
    }

    it("app-txn-with-last-updated: txn versions", () => {
      const snap = snapshot(path.join(KERNEL, "app-txn-with-last-updated"));
      expect(Object.fromEntries(snap.txns)).toEqual({ new_app_0: 1, new_app_1: 1, new_app_2: 1, old_app: 1 });
    });

    it("with_checkpoint_no_last_checkpoint: checkpoint found by listing", () => {
      expect(snapshot(path.join(KERNEL, "with_checkpoint_no_last_checkpoint")).version).toBe(3);
    });

    for (const [name, version, files, rows] of [
      ["mixed-nulls", 0, 3, 15],
      ["parsed-stats", 5, 6, 600],
      ["timestamp-truncation-stats", 2, 3, 6],
    ] as const) {
      it(`${name}: snapshot, stats and rows agree`, () => {
        const table = path.join(KERNEL, name);
        const snap = snapshot(table);
        expect(snap.version).toBe(version);
        expect(snap.files.length).toBe(files);
        expect(readTable(table).length).toBe(rows);
        const counted = snap.files.reduce((n, f) => n + (f.parsedStats?.numRecords ?? Number.NaN), 0);
        expect(counted).toBe(rows);
      });
    }

    it("stats-writing-all-types: rejected", () => {
      const table = path.join(KERNEL, "stats-writing-all-types", "delta");
      expect(() => snapshot(table)).toThrow(`unsupported table feature columnMapping in ${table}`);
    });

    it("type-widening: rejected", () => {
      const table = path.join(KERNEL, "type-widening");
      expect(() => snapshot(table)).toThrow(`unsupported table feature typeWidening in ${table}`);
    });
  });
});
