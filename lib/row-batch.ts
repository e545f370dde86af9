/**
 * Rows as the streaming readers give them (lib/table-stream.ts for CSV and JSON lines,
 * lib/parquet-table.ts for Parquet): text cells, `null` for missing, as in a Table.
 */

/** One row: cells by column position; a row may be shorter than `columns` (the rest are missing). */
export type Row = (string | null)[];

/**
 * Rows with the data's columns as known so far. For CSV and Parquet the columns are known from
 * the first batch; JSON lines add a column when a line first gives its key, so the columns of
 * the last batch are the complete list. Positions never change once given.
 */
export interface RowBatch {
  columns: readonly string[];
  rows: Row[];
}
