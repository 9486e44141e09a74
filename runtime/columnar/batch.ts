/**
 * A batch of rows in Arrow's columnar layout: the unit every source, operator and sink exchanges.
 *
 * Contract: `columns[i]` holds the values of `schema.fields[i]`, as an Arrow `Data` of exactly
 * `length` rows with offset 0 (operators may index buffers directly, without adding an offset).
 * A column's Arrow type follows `arrowType(field)` in arrow-types.ts, except that a `string`
 * column may also be dictionary-encoded (`Dictionary<Utf8, Int32>`): readers handle both.
 * Validity is Arrow's bitmap (bit i of `nullBitmap`, LSB first); a column without nulls may have
 * an empty bitmap. Batches are immutable once emitted.
 */
import type { Data } from "apache-arrow";
import type { Schema } from "../plan.ts";

export interface Batch {
  readonly schema: Schema;
  readonly length: number;
  readonly columns: readonly Data[];
}
