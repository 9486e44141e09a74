/**
 * The `generator` source: synthetic rows that fit the declared schema.
 *
 * Contract: row k (k = 0, 1, 2, ...) depends only on (`seed`, k) and the schema, so any range
 * replays identically, in any process, and two seeds give different rows.
 *
 * Offsets and ranges (JSON): the offset is `{ "row": k }`, the next row to generate; a range is
 * `{ "start": k0, "end": k1 }`, rows k0 ≤ k < k1.
 *
 * Options: `rate` rows per second; `rows` stop after this many (then the source is bounded);
 * `seed` (default 0).
 * - With `rate`, rows become available as time passes: `rate × seconds since open` after where
 *   reading resumed (a restarted pipeline does not catch up on the time it was down, as Spark's
 *   rate source); each batch takes what accrued.
 * - Without `rate`, rows are available at once; a batch takes at most `maxRowsPerBatch` (100,000)
 *   of them, even under `trigger = once` when there is no `rows` end.
 *
 * Values (decisions; h is a 32-bit hash of seed, row and the field's path):
 * - event time: `timestamp` fields hold `2024-01-01T00:00:00Z + k / rate` seconds (microseconds,
 *   rounded down; 1 ms apart without `rate`), so event time rises steadily with the row, as a
 *   rate source's would; `date` fields hold that instant's day.
 * - `bool` h's low bit; `int` 0–999; `long` 0–999,999; `double` 0–999.99 in hundredths;
 *   `decimal(P, S)` 0 up to 1000 (fewer when P − S < 3) with S decimals; `string` the field's
 *   name, a dash and 0–99 (`country-42`: few distinct values, good for grouping); `bytes` 8
 *   bytes; `list` 0–3 elements; `map` 0–2 entries with keys `k0`, `k1`; `struct` its fields.
 * - A nullable field (or element, or map value) is null in about one row in ten.
 */
import type { Batch } from "../columnar/batch.ts";
import { columnBuilder } from "../columnar/builder.ts";
import type { CellValue } from "../columnar/values.ts";
import type { DataType, Field, Schema } from "../plan.ts";
import type { Offset, PlanLimits, Range, ReadResult, Source } from "./source.ts";

export interface GeneratorOptions {
  rate?: number;
  rows?: number;
  seed?: number;
  /** Without `rate`: at most this many rows per batch. Default 100,000. */
  maxRowsPerBatch?: number;
  /** Milliseconds, for `rate`. Default `Date.now`. */
  clock?: () => number;
}

export interface GeneratorOffset {
  row: number;
}

export interface GeneratorRange {
  start: number;
  end: number;
}

/** 2024-01-01T00:00:00Z in micros: where generated event time starts. */
export const GENERATOR_EPOCH_MICROS = 1_704_067_200_000_000;

export class GeneratorSource implements Source {
  readonly bounded: boolean;
  readonly description: string;
  private readonly rate: number | undefined;
  private readonly rows: number | undefined;
  private readonly maxRowsPerBatch: number;
  private readonly clock: () => number;
  private readonly columns: ((k: number) => CellValue)[];
  private resumeRow = 0;
  private openedAt = 0;

  constructor(
    readonly id: string,
    readonly schema: Schema,
    options: GeneratorOptions = {},
  ) {
    this.rate = options.rate;
    this.rows = options.rows;
    this.bounded = options.rows !== undefined;
    this.maxRowsPerBatch = options.maxRowsPerBatch ?? 100_000;
    this.clock = options.clock ?? Date.now;
    const seed = options.seed ?? 0;
    this.description = `generator[seed=${seed}${this.rate ? `, rate=${this.rate}` : ""}${this.rows ? `, rows=${this.rows}` : ""}]`;
    const seedMix = mix32(mix32(seed >>> 0) ^ high32(seed) ^ 0x9e3779b9);
    const eventTime = eventTimeOf(this.rate);
    this.columns = schema.fields.map((f, i) => {
      const gen = fieldGenerator(f, eventTime);
      const salt = mix32(Math.imul(i + 1, 0x9e3779b9));
      return (k: number) => gen(rowHash(seedMix, k), k, salt);
    });
  }

  async open(resume: Offset | undefined): Promise<void> {
    this.resumeRow = resume === undefined ? 0 : asOffset(resume).row;
    this.openedAt = this.clock();
  }

  async latest(): Promise<Offset> {
    const cap = this.rows ?? Number.MAX_SAFE_INTEGER;
    if (this.rate === undefined) return { row: cap };
    const accrued = Math.floor(((this.clock() - this.openedAt) * this.rate) / 1000);
    return { row: Math.min(cap, this.resumeRow + Math.max(0, accrued)) };
  }

  plan(from: Offset | undefined, limits: PlanLimits): Range | undefined {
    const start = from === undefined ? 0 : asOffset(from).row;
    let end = asOffset(limits.latest).row;
    if (this.rows !== undefined) end = Math.min(end, this.rows);
    if (this.rate === undefined && (!limits.uncapped || this.rows === undefined)) end = Math.min(end, start + this.maxRowsPerBatch);
    return end > start ? { start, end } : undefined;
  }

  end(range: Range): Offset {
    return { row: asRange(range).end };
  }

  behind(from: Offset | undefined, latest: Offset): number {
    return Math.max(0, asOffset(latest).row - (from === undefined ? 0 : asOffset(from).row));
  }

  async read(range: Range): Promise<ReadResult> {
    const { start, end } = asRange(range);
    const length = end - start;
    const columns = this.schema.fields.map((f, i) => {
      const builder = columnBuilder(f, length);
      const gen = this.columns[i]!;
      for (let k = start; k < end; k++) builder.append(gen(k));
      return builder.finish();
    });
    const batch: Batch = { schema: this.schema, length, columns };
    return { batch, rejects: [] };
  }

  async close(): Promise<void> {}
}

function asOffset(offset: Offset): GeneratorOffset {
  const row = (offset as { row?: unknown } | null)?.row;
  if (typeof row !== "number" || !Number.isSafeInteger(row) || row < 0) throw new Error(`not a generator offset: ${JSON.stringify(offset)}`);
  return { row };
}

function asRange(range: Range): GeneratorRange {
  const r = range as { start?: unknown; end?: unknown } | null;
  if (typeof r?.start !== "number" || typeof r.end !== "number" || r.start < 0 || r.end < r.start) throw new Error(`not a generator range: ${JSON.stringify(range)}`);
  return { start: r.start, end: r.end };
}

/** Row k's event time in micros. */
function eventTimeOf(rate: number | undefined): (k: number) => number {
  if (rate === undefined) return (k) => GENERATOR_EPOCH_MICROS + k * 1000;
  // k / rate seconds, exactly: whole seconds, then the remainder's microseconds.
  return (k) => GENERATOR_EPOCH_MICROS + Math.floor(k / rate) * 1_000_000 + Math.floor(((k % rate) * 1_000_000) / rate);
}

// ---- hashing -------------------------------------------------------------------------------------

function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function high32(n: number): number {
  return Math.floor(n / 4294967296) >>> 0;
}

function rowHash(seedMix: number, k: number): number {
  return mix32(mix32(seedMix ^ (k >>> 0)) ^ high32(k));
}

/** A value's hash: the row's hash combined with the value's path salt. */
function valueHash(row: number, salt: number): number {
  return mix32(row ^ salt);
}

function childSalt(salt: number, index: number): number {
  return mix32(salt ^ Math.imul(index + 1, 0x85ebca6b));
}

const DAY_MICROS = 86_400_000_000;

/** (row hash, row, salt) → the value of `field` at that path. */
type ValueGenerator = (row: number, k: number, salt: number) => CellValue;

function fieldGenerator(field: Field, eventTime: (k: number) => number): ValueGenerator {
  const gen = typeGenerator(field.type, field.name, eventTime);
  if (!field.nullable) return gen;
  return (row, k, salt) => (mix32(valueHash(row, salt) ^ 0x5bd1e995) % 10 === 0 ? null : gen(row, k, salt));
}

function typeGenerator(type: DataType, name: string, eventTime: (k: number) => number): ValueGenerator {
  switch (type.kind) {
    case "bool":
      return (row, _k, salt) => (valueHash(row, salt) & 1) === 1;
    case "int":
      return (row, _k, salt) => valueHash(row, salt) % 1000;
    case "long":
      return (row, _k, salt) => valueHash(row, salt) % 1_000_000;
    case "double":
      return (row, _k, salt) => (valueHash(row, salt) % 100_000) / 100;
    case "decimal": {
      const modulus = 10n ** BigInt(Math.min(type.precision, type.scale + 3));
      return (row, _k, salt) => {
        const h = valueHash(row, salt);
        const wide = BigInt(h) * 2097152n + BigInt(mix32(h) >>> 11);
        return wide % modulus;
      };
    }
    case "string":
      return (row, _k, salt) => `${name}-${valueHash(row, salt) % 100}`;
    case "bytes":
      return (row, _k, salt) => {
        const a = valueHash(row, salt);
        const b = mix32(a);
        return Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255, b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255);
      };
    case "timestamp":
      return (_row, k) => eventTime(k);
    case "date":
      return (_row, k) => Math.floor(eventTime(k) / DAY_MICROS);
    case "list": {
      const element = fieldGenerator(type.element, eventTime);
      return (row, k, salt) => {
        const n = valueHash(row, salt) % 4;
        const out: CellValue[] = [];
        for (let j = 0; j < n; j++) out.push(element(row, k, childSalt(salt, j)));
        return out;
      };
    }
    case "map": {
      const value = fieldGenerator(type.value, eventTime);
      return (row, k, salt) => {
        const n = valueHash(row, salt) % 3;
        const out = new Map<string, CellValue>();
        for (let j = 0; j < n; j++) out.set(`k${j}`, value(row, k, childSalt(salt, j)));
        return out;
      };
    }
    case "struct": {
      const fields = type.fields.map((f) => ({ name: f.name, gen: fieldGenerator(f, eventTime) }));
      return (row, k, salt) => {
        const out: { [field: string]: CellValue } = {};
        fields.forEach((f, j) => (out[f.name] = f.gen(row, k, childSalt(salt, j))));
        return out;
      };
    }
    case "duration":
    case "null":
      throw new Error(`a column cannot be of type ${type.kind}`);
  }
}
