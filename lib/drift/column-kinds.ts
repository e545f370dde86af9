/**
 * Turns the cells of a data table into drift columns when nothing declares the columns' kinds
 * (`retrain drift-report` on two files): which kind a column is, whether it is an id rather
 * than a feature, and the column in the form the drift tests take. Pure: no I/O.
 */
import type { FeatureKind } from '../feature-kind';
import { isMissingMarker, numericValue, type Table } from '../table';
import type { CategoricalColumn, NumericColumn } from './dataset-drift';

/**
 * A text column whose reference values are all distinct, on at least this many rows, is an id,
 * not a feature (on fewer rows, distinct values are too likely by chance).
 */
export const ID_MIN_ROWS = 20;

/** The cells of one column, by header name; a short row's missing cell is null. */
export function columnCells(table: Table, column: string): (string | null)[] {
  const i = table.columns.indexOf(column);
  if (i < 0) throw new Error(`column "${column}" is not in the table`);
  return table.rows.map((r) => r[i] ?? null);
}

/**
 * Fewest present values on which at most 2 distinct numbers make a flag (categorical): one or
 * two values cannot show how a column varies, so a small sample never turns numbers into
 * categories.
 */
export const FLAG_MIN_VALUES = 3;

/**
 * The kind of a column, from its reference cells: numeric when every non-missing cell is a
 * finite number, unless there are at most 2 distinct values on at least {@link FLAG_MIN_VALUES}
 * present cells (a 0/1 flag or a constant, better compared as categories); otherwise
 * categorical. Missing markers (NaN, NA, null, empty) are ignored.
 */
export function inferKind(reference: readonly (string | null)[]): FeatureKind {
  const distinct = new Set<number>();
  let present = 0;
  for (const cell of reference) {
    if (isMissingMarker(cell)) continue;
    const n = numericValue(cell);
    if (n === null) return 'categorical';
    distinct.add(n);
    present++;
  }
  if (present === 0) return 'categorical';
  return distinct.size > 2 || present < FLAG_MIN_VALUES ? 'numeric' : 'categorical';
}

/** True when every present reference value is distinct, on at least {@link ID_MIN_ROWS} of them: an id column. */
export function looksLikeId(reference: readonly (string | null)[]): boolean {
  const values = reference.filter((c): c is string => c !== null);
  return values.length >= ID_MIN_ROWS && new Set(values).size === values.length;
}

/**
 * A numeric drift column: missing markers become NaN (the tests leave NaN out). Any other cell
 * that is not a number also becomes NaN, and is returned in `invalid` so the caller can warn.
 */
export function numericColumn(cells: readonly (string | null)[]): { column: NumericColumn; invalid: string[] } {
  const column = new Float64Array(cells.length);
  const invalid: string[] = [];
  cells.forEach((cell, i) => {
    const n = isMissingMarker(cell) ? null : numericValue(cell);
    if (n === null && !isMissingMarker(cell)) invalid.push(cell as string);
    column[i] = n ?? NaN;
  });
  return { column, invalid };
}

/** The cells as a drift column of the given kind; `invalid` lists cells a numeric column could not read. */
export function driftColumn(
  kind: FeatureKind,
  cells: readonly (string | null)[],
): { column: NumericColumn | CategoricalColumn; invalid: string[] } {
  return kind === 'numeric' ? numericColumn(cells) : { column: cells, invalid: [] };
}
