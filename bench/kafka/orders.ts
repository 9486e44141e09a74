/**
 * The input of `bench:kafka`: deterministic JSON orders, the streamc programs that read them, and
 * the exact checksum of what the programs' filter keeps.
 *
 * Contract:
 * - `orderMessages(n)` returns `n` orders as UTF-8 JSON values (about 150 bytes each) with their
 *   partition (order i goes to partition i mod `PARTITIONS`), the same on every machine (seeded
 *   PRNG); and `expectedChecksum` over the orders the filter keeps (`amount > THRESHOLD`),
 *   computed from the generated values, not from anything streamc wrote.
 * - `kafkaProgram(brokers, topic, sink)` is `kafka (start = earliest, max_per_batch) -> where ->
 *   select -> SINK`, the sink a Delta `table` at `out/large` or a `memory` sink (which the
 *   benchmark replaces with one that keeps the batches, bench/kafka/pipeline.ts).
 * - `KEPT_TERMS` are the checksum terms (bench/runtime/checksum.ts) of the selected columns: the row
 *   count, the ids, and products with the id so that a value in the wrong row shows. Amounts are
 *   multiples of 1/8, so every term is an exact integer.
 */
import { prng } from "../../test/support/prng.ts";
import { type Checksum, checksumOfRows, type Row, type Term } from "../runtime/checksum.ts";

export const PARTITIONS = 4;
/** `where amount > THRESHOLD` keeps about 45% of the orders. */
export const THRESHOLD = 50;
export const MAX_PER_BATCH = Number(process.env["BENCH_KAFKA_MAX_PER_BATCH"] ?? 100_000);

/** 2024-01-01T00:00:00Z in milliseconds. */
const T0_MS = 1_704_067_200_000;
const FIRST_ID = 1_000_000_000;

const COUNTRIES = [
  "US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "IT", "ES", "NL", "AU", "MX", "KR", "SE", "PL", "CH", "BE", "AT", "NO",
  "DK", "FI", "IE", "PT", "CZ", "GR", "RO", "HU", "TR", "ZA", "AR", "CL", "CO", "NZ", "SG", "HK", "TW", "IL", "AE", "ID",
];
const CURRENCY: Record<string, string> = { US: "USD", GB: "GBP", JP: "JPY", CA: "CAD", AU: "AUD", CH: "CHF", IN: "INR", BR: "BRL" };
const CHANNELS = ["web", "ios", "android", "store"];

export const ORDER_SCHEMA_TEXT =
  "schema Order { order_id: long, customer_id: string, country: string, amount: double, quantity: int, currency: string, channel: string, ts: timestamp }";

/** One order as produced; `amount` a multiple of 1/8, `ts` ISO-8601 with milliseconds. */
export interface Order {
  order_id: number;
  customer_id: string;
  country: string;
  amount: number;
  quantity: number;
  currency: string;
  channel: string;
  ts: string;
}

export interface OrderMessages {
  /** The JSON values, in production order. */
  values: Buffer[];
  /** Each value's partition. */
  partitions: Uint8Array;
  bytes: number;
  /** Orders with `amount > THRESHOLD`: their count and checksum (`KEPT_TERMS`). */
  kept: { rows: number; checksum: Checksum };
}

export function orderMessages(n: number, seed = 20240301): OrderMessages {
  const random = prng(seed);
  const values: Buffer[] = [];
  const partitions = new Uint8Array(n);
  const kept: Row[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const country = COUNTRIES[Math.min(COUNTRIES.length - 1, Math.floor(COUNTRIES.length * random() ** 2.5))]!;
    const order: Order = {
      order_id: FIRST_ID + i,
      customer_id: `c-${String(Math.floor(random() * 2_000_000)).padStart(7, "0")}`,
      country,
      // About exponential with mean 60, in steps of 1/8: exact sums.
      amount: Math.min(8000, Math.floor(-Math.log(1 - random()) * 60 * 8)) / 8,
      quantity: 1 + Math.floor(random() ** 3 * 12),
      currency: CURRENCY[country] ?? "EUR",
      channel: CHANNELS[Math.floor(random() * CHANNELS.length)]!,
      ts: new Date(T0_MS + i * 7 + Math.floor(random() * 3_000)).toISOString(),
    };
    const value = Buffer.from(JSON.stringify(order));
    values.push(value);
    partitions[i] = i % PARTITIONS;
    bytes += value.length;
    if (order.amount > THRESHOLD) kept.push(keptRow(order));
  }
  return { values, partitions, bytes, kept: { rows: kept.length, checksum: checksumOfRows(KEPT_TERMS, kept) } };
}

/** What the programs' `select` makes of a kept order (timestamps in microseconds). */
function keptRow(o: Order): Row {
  return { order_id: o.order_id, customer_id: o.customer_id, country: o.country, amount: o.amount, quantity: o.quantity, total: o.amount * o.quantity, ts: Date.parse(o.ts) * 1000 };
}

const num = (row: Row, name: string) => row[name] as number;
const id = (row: Row) => num(row, "order_id") - FIRST_ID;
const countryCode = (c: string) => c.charCodeAt(0) * 256 + c.charCodeAt(1);
const COUNTRY_SQL = "(ascii(country) * 256 + ascii(substr(country, 2, 1)))";
const ID_SQL = `(order_id - ${FIRST_ID})`;

/** Exact checksum terms of the selected columns; the SQL is over the table's columns. */
export const KEPT_TERMS: Term[] = [
  { name: "rows", sql: "1", value: () => 1 },
  { name: "order_id", sql: "order_id", value: (r) => num(r, "order_id") },
  { name: "customer_x_id", sql: `CAST(substr(customer_id, 3) AS BIGINT) * ${ID_SQL}`, value: (r) => Number((r["customer_id"] as string).slice(2)) * id(r) },
  { name: "country_x_id", sql: `${COUNTRY_SQL} * ${ID_SQL}`, value: (r) => countryCode(r["country"] as string) * id(r) },
  { name: "amount_x8_x_id", sql: `CAST(amount * 8 AS BIGINT) * ${ID_SQL}`, value: (r) => num(r, "amount") * 8 * id(r) },
  { name: "quantity_x_id", sql: `quantity * ${ID_SQL}`, value: (r) => num(r, "quantity") * id(r) },
  { name: "total_x8", sql: "CAST(total * 8 AS BIGINT)", value: (r) => num(r, "total") * 8 },
  { name: "ts_ms", sql: `epoch_ms(ts) - ${T0_MS}`, value: (r) => num(r, "ts") / 1000 - T0_MS },
];

export type SinkKind = "table" | "memory";

/** The program: the kafka source from the earliest offset, the filter and projection, one sink. */
export function kafkaProgram(brokers: string, topic: string, sink: SinkKind): string {
  return [
    'pipeline bench_kafka { checkpoint = "checkpoint", trigger = available_now }',
    ORDER_SCHEMA_TEXT,
    "source orders: Order = kafka {",
    `  brokers = ${JSON.stringify(brokers)}`,
    `  topic = ${JSON.stringify(topic)}`,
    "  format = json",
    "  start = earliest",
    `  max_per_batch = ${MAX_PER_BATCH}`,
    "}",
    "stream large = orders",
    `  | where amount > ${THRESHOLD}`,
    "  | select order_id, customer_id, country, amount, quantity, total = amount * quantity, ts",
    sink === "table" ? 'sink large -> table "out/large"' : "sink large -> memory",
    "",
  ].join("\n");
}
