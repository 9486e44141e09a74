/**
 * Event times of a batch, for the operators that compare them with the watermark.
 *
 * Contract: `eventTimes(batch, column)` gives each row's `timestamp` (microseconds, exact within
 * ±2^53) as a Float64Array, NaN for a null cell; a stateful operator treats a NaN event time as
 * late (a watermark column is non-null, so this only guards against bad input).
 */
import type { Batch } from "../columnar/batch.ts";
import { isValid } from "../columnar/read.ts";

const TWO_32 = 4294967296;

export function columnIndex(batch: Batch, column: string, what: string): number {
  const index = batch.schema.fields.findIndex((f) => f.name === column);
  if (index < 0) throw new Error(`${what}: column ${column} is not in the input (${batch.schema.fields.map((f) => f.name).join(", ")})`);
  return index;
}

export function eventTimes(batch: Batch, column: number): Float64Array {
  const data = batch.columns[column]!;
  const values = data.values as BigInt64Array;
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const out = new Float64Array(batch.length);
  const nullable = data.nullCount > 0;
  for (let r = 0; r < batch.length; r++) {
    out[r] = nullable && !isValid(data, r) ? NaN : words[2 * r + 1]! * TWO_32 + (words[2 * r]! >>> 0);
  }
  return out;
}

/**
 * The rows at or after the watermark (`onTime`, in order) and the rows before it (`late`); a null
 * event time (NaN) is late.
 */
export function splitByWatermark(times: Float64Array, watermark: number): { onTime: Int32Array; late: Int32Array } {
  const onTime = new Int32Array(times.length);
  const late: number[] = [];
  let count = 0;
  for (let r = 0; r < times.length; r++) {
    if (times[r]! >= watermark) onTime[count++] = r;
    else late.push(r);
  }
  return { onTime: onTime.subarray(0, count), late: Int32Array.from(late) };
}
