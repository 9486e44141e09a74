/**
 * Order-independent, exact checksums of a result, computed the same way from streamc's output
 * batches, from the row-at-a-time baselines' objects, and (as SQL) from DuckDB's result table.
 *
 * A checksum is a list of terms, each an integer-valued function of a row (doubles are scaled to
 * integers: the benchmark's amounts are multiples of 1/8, so every value and sum is exact) and
 * the same expression in SQL; each term is summed over all rows exactly (BigInt). Terms weigh key
 * numbers by counts and sums, so a value that lands in the wrong group changes the checksum.
 */
import type { Batch } from "../../runtime/columnar/batch.ts";
import { cellReader } from "../../runtime/columnar/read.ts";

export type Row = Record<string, unknown>;

export interface Term {
  name: string;
  /** The term as a SQL expression over the result table's columns. */
  sql: string;
  value: (row: Row) => number;
}

export type Checksum = Record<string, string>;

const LIMIT = 2 ** 51;

/** A sum of safe integers, exact at any size. */
class ExactSum {
  private hi = 0n;
  private lo = 0;
  add(value: number): void {
    if (!Number.isInteger(value) || Math.abs(value) > LIMIT) throw new Error(`checksum term value ${value} is not an integer within 2^51`);
    this.lo += value;
    if (Math.abs(this.lo) > LIMIT) {
      this.hi += BigInt(this.lo);
      this.lo = 0;
    }
  }
  get value(): bigint {
    return this.hi + BigInt(this.lo);
  }
}

export function checksumOfRows(terms: readonly Term[], rows: Iterable<Row>): Checksum {
  const sums = terms.map(() => new ExactSum());
  for (const row of rows) for (let t = 0; t < terms.length; t++) sums[t]!.add(terms[t]!.value(row));
  return Object.fromEntries(terms.map((t, i) => [t.name, sums[i]!.value.toString()]));
}

/** The rows of streamc's output batches, one reused object at a time (cells as `cellReader` reads them). */
export function* rowsOfBatches(batches: readonly Batch[]): Generator<Row> {
  for (const batch of batches) {
    const readers = batch.schema.fields.map((f, i) => ({ name: f.name, read: cellReader(batch.columns[i]!, f.type) }));
    const row: Row = {};
    for (let r = 0; r < batch.length; r++) {
      for (const { name, read } of readers) row[name] = read(r);
      yield row;
    }
  }
}

/** The SQL that computes the checksum of table `table`: one VARCHAR column per term. */
export function checksumSql(terms: readonly Term[], table: string, where = ""): string {
  const columns = terms.map((t) => `coalesce(sum(CAST(${t.sql} AS HUGEINT)), 0)::VARCHAR AS "${t.name}"`);
  return `SELECT ${columns.join(", ")} FROM ${table}${where ? ` WHERE ${where}` : ""}`;
}

export function sameChecksum(a: Checksum, b: Checksum): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** The terms on which two checksums differ, for the error message. */
export function checksumDiff(a: Checksum, b: Checksum): string {
  return Object.keys(a)
    .filter((k) => a[k] !== b[k])
    .map((k) => `${k}: ${a[k]} vs ${b[k]}`)
    .join(", ");
}
