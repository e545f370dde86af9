/**
 * Dataset validation fed from a Parquet source's decoded columns (lib/parquet-table.ts
 * parquetSlices) instead of rows of text: a finite number in a numeric column is valid without
 * its text, and no row is built. The checks are {@link DatasetValidator}'s, cell by cell, on the
 * text every reader of Parquet gives a value (parquetCell), so the report is the row reader's.
 * Pure: values in, counts out.
 */
import { parquetCell, type ParquetSlice } from './parquet-table';
import { RowHasher } from './row-hash';
import type { DatasetValidator } from './validate-dataset';

/** Validates the rows of one slice into `validator`. */
export function validateParquetSlice(validator: DatasetValidator, slice: ParquetSlice, classification: boolean): void {
  const at = validator.columnsAre(slice.columns);
  const idAt = validator.idAt;
  const { cursors } = slice;
  // A numeric feature (or a regression label) takes a finite number as it is: its text would read as that number.
  const bareNumbers = validator.usedColumns.map((col) => col.type === 'numeric' && !(col.role === 'label' && classification));
  const hasher = new RowHasher();
  // The duplicate hash, as hashRow of the row's text: by id, or of every cell.
  const hashed = idAt >= 0 ? [idAt] : cursors.map((_, c) => c);
  for (let r = slice.start; r < slice.end; r++) {
    const row = validator.nextRow();
    for (let k = 0; k < at.length; k++) {
      const c = at[k]!;
      if (c < 0) {
        validator.cell(k, null, row);
        continue;
      }
      const value = cursors[c]!(r);
      if (bareNumbers[k] && typeof value === 'number' && Number.isFinite(value)) continue;
      validator.cell(k, parquetCell(value), row);
    }
    for (const c of hashed) {
      const text = parquetCell(cursors[c]!(r));
      if (text === null) hasher.missing();
      else hasher.text(text);
    }
    validator.rowDone(hasher.finish(), validator.wantsId && idAt >= 0 ? parquetCell(cursors[idAt]!(r)) : null);
  }
}
