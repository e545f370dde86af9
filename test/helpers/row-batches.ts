import type { Table } from '../../lib/table';
import type { RowBatch } from '../../lib/table-stream';

/** What reading some data gave: its table, or the error it failed with. */
export type Outcome = { table: Table } | { error: { type: string; message: string } };

/**
 * Every row of a stream of row batches as one Table: the columns of the last batch (the complete
 * list), and rows padded with null to that width (a JSON-lines row is as wide as the columns
 * known when it was read).
 */
export async function collectRows(batches: AsyncIterable<RowBatch>): Promise<Table> {
  let columns: readonly string[] = [];
  const rows: (string | null)[][] = [];
  for await (const batch of batches) {
    columns = batch.columns;
    for (const row of batch.rows) rows.push(row);
  }
  return { columns: [...columns], rows: rows.map((r) => [...r, ...new Array<null>(Math.max(0, columns.length - r.length)).fill(null)]) };
}

/** Every batch of a stream, copied as it arrives (columns grow in place for JSON lines). */
export async function collectBatches(batches: AsyncIterable<RowBatch>): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for await (const batch of batches) out.push({ columns: [...batch.columns], rows: batch.rows.map((r) => [...r]) });
  return out;
}

/** The table `read` gives, or its error by class name and message. */
export async function outcomeOf(read: () => Promise<Table> | Table): Promise<Outcome> {
  try {
    return { table: await read() };
  } catch (err) {
    return { error: { type: (err as Error).constructor.name, message: (err as Error).message } };
  }
}

/** `bytes` cut at the given sizes (cycled), as views into it. */
export function chunksOf(bytes: Uint8Array, sizes: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = Math.max(1, sizes());
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}
