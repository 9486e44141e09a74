/**
 * State snapshots as Arrow IPC, for dedup and join (aggregate.ts writes its own with the same tag key).
 *
 * Contract: `writeStateIPC(tag, schema, batches)` writes one IPC stream whose schema carries
 * `streamc.state = tag` in its metadata; `readStateIPC` gives the batches back (offset-0 columns)
 * and refuses bytes with another tag. Dictionary-encoded columns are written decoded, so a snapshot's
 * columns follow arrow-types.ts exactly. Nested rows are stored as struct columns (`structColumn`),
 * and read back with `structFields`.
 */
import * as arrow from "apache-arrow";
import type { Field, Schema } from "../plan.ts";
import { arrowType } from "../columnar/arrow-types.ts";
import type { Batch } from "../columnar/batch.ts";
import { columnBuilder } from "../columnar/builder.ts";
import { plainBatch } from "../columnar/batch-ops.ts";

/** The schema metadata key that names a snapshot's layout (`aggregate/1`, `dedup/1`, `join/1`). */
export const STATE_TAG = "streamc.state";

/** A column of `length` nulls of `field`'s type. */
export function nullColumn(field: Field, length: number): arrow.Data {
  const builder = columnBuilder({ ...field, nullable: true }, length);
  for (let r = 0; r < length; r++) builder.appendNull();
  return builder.finish();
}

/**
 * Arrow IPC (stream format) of record batches of `schema`, tagged `tag` (`dedup/1`, `join/1`) in the
 * schema's metadata so that `readStateIPC` refuses a snapshot of another layout.
 */
export function writeStateIPC(tag: string, schema: Schema, batches: readonly Batch[]): Uint8Array {
  const fields = schema.fields.map((f) => new arrow.Field(f.name, arrowType(f.type), f.nullable));
  const arrowSchemaWithTag = new arrow.Schema(fields, new Map([[STATE_TAG, tag]]));
  const records = batches.map((batch) => {
    const plain = plainBatch(batch);
    const struct = arrow.makeData({ type: new arrow.Struct(arrowSchemaWithTag.fields), length: plain.length, nullCount: 0, children: plain.columns as arrow.Data[] });
    return new arrow.RecordBatch(arrowSchemaWithTag, struct);
  });
  return arrow.tableToIPC(new arrow.Table(arrowSchemaWithTag, records), "stream");
}

/** The record batches of a snapshot written by `writeStateIPC` with the same `tag` and `schema`. */
export function readStateIPC(tag: string, schema: Schema, bytes: Uint8Array): Batch[] {
  const table = arrow.tableFromIPC(bytes);
  const found = table.schema.metadata.get(STATE_TAG);
  if (found !== tag) throw new Error(`state snapshot is ${found ?? "untagged"}, expected ${tag}`);
  return table.batches.map((record) => {
    const columns = schema.fields.map((field) => {
      const child = record.getChild(field.name);
      if (!child) throw new Error(`state snapshot ${tag}: column ${field.name} is missing`);
      const data = child.data[0]!;
      if (child.data.length !== 1 || data.offset !== 0) throw new Error(`state snapshot ${tag}: column ${field.name} is not one contiguous chunk`);
      return data;
    });
    return { schema, length: record.numRows, columns };
  });
}

/** A non-null struct column whose fields are the columns of `batch`. */
export function structColumn(batch: Batch): arrow.Data {
  const plain = plainBatch(batch);
  return arrow.makeData({ type: arrowType({ kind: "struct", fields: batch.schema.fields }) as arrow.Struct, length: batch.length, nullCount: 0, children: plain.columns as arrow.Data[] });
}

/** A struct column of `length` nulls with `fields`. */
export function nullStructColumn(fields: Field[], length: number): arrow.Data {
  const children = fields.map((f) => nullColumn(f, length));
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  return arrow.makeData({ type: arrowType({ kind: "struct", fields }) as arrow.Struct, length, nullCount: length, nullBitmap, children });
}

/** The fields of a struct column read back from a snapshot, as a batch of `schema`. */
export function structFields(schema: Schema, column: arrow.Data, length: number): Batch {
  return { schema, length, columns: schema.fields.map((_, i) => column.children[i]!) };
}
