/**
 * A column of a data file gathered as the drift tests take it, cell by cell, without keeping
 * the cells: numbers in a Float64Array, categories as codes into a dictionary of their values.
 * `retrain drift-report` reads files in batches of rows into these, so memory holds one typed
 * column per feature, not the file as text. Pure: no I/O.
 *
 * A reference column does not know its kind until its last cell (see inferKind): it keeps both
 * forms while both are possible and drops one as soon as the data rules it out. The rare column
 * that turns out categorical after its dictionary was dropped (a text cell after more than
 * {@link MAX_OPEN_CATEGORIES} distinct numbers) says so with `needsCells`: its caller reads it again.
 */
import type { FeatureKind } from '../feature-kind';
import { Float64Builder } from '../float64-builder';
import { hash53 } from '../row-hash';
import { isMissingMarker, numericValue } from '../table';
import { FLAG_MIN_VALUES, ID_MIN_ROWS } from './column-kinds';
import type { CategoricalColumn, NumericColumn } from './dataset-drift';

/** Distinct values a column that reads as numbers keeps as categories too, in case a text cell comes. */
export const MAX_OPEN_CATEGORIES = 4096;
/** Cells that are not numbers, named in a warning. */
const EXAMPLES = 1;

/** A growable Int32Array of category codes (-1: missing) and the values they stand for. */
class CategoryBuilder {
  private codes = new Int32Array(1024);
  length = 0;
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];
  push(cell: string | null): void {
    let code = -1;
    if (cell !== null) {
      const known = this.index.get(cell);
      if (known !== undefined) code = known;
      else {
        code = this.values.length;
        this.index.set(cell, code);
        this.values.push(cell);
      }
    }
    if (this.length === this.codes.length) {
      const grown = new Int32Array(this.codes.length * 2);
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[this.length++] = code;
  }
  /** The cells again, each value one shared string. */
  finish(): CategoricalColumn {
    const cells = new Array<string | null>(this.length);
    for (let i = 0; i < this.length; i++) {
      const code = this.codes[i]!;
      cells[i] = code < 0 ? null : this.values[code]!;
    }
    return cells;
  }
}

/** One column of a file, as it is read. */
export class ColumnCollector {
  private numbers: Float64Builder | null;
  private categories: CategoryBuilder | null;
  private rows = 0;
  private present = 0;
  private textSeen = false;
  /** Distinct numbers, up to 3: the flag rule of inferKind needs no more. */
  private readonly distinctNumbers = new Set<number>();
  /** Hashes of the non-empty cells while all of them are distinct (an id?); null after a repeat. */
  private distinctCells: Set<number> | null = new Set();
  private nonEmpty = 0;
  private invalid = 0;
  private readonly invalidExamples: string[] = [];

  /** @param kind the column's kind when it is known (a current file, by its reference); null to infer it. */
  constructor(private readonly kind: FeatureKind | null) {
    this.numbers = kind === 'categorical' ? null : new Float64Builder(1024);
    this.categories = kind === 'numeric' ? null : new CategoryBuilder();
    if (kind) this.distinctCells = null;
  }

  add(cell: string | null): void {
    this.rows++;
    this.categories?.push(cell);
    // A number first: most cells are, and the missing-value check is a regular expression.
    const value = numericValue(cell);
    const missing = value === null && isMissingMarker(cell);
    if (!missing) {
      this.present++;
      if (value === null) {
        this.invalid++;
        if (this.invalidExamples.length < EXAMPLES) this.invalidExamples.push(cell!);
        if (!this.kind && !this.textSeen) {
          // Text: a reference column is categorical now, whatever follows.
          this.textSeen = true;
          this.numbers = null;
        }
      } else if (this.distinctNumbers.size < 3) this.distinctNumbers.add(value);
    }
    if (cell !== null) {
      this.nonEmpty++;
      if (this.distinctCells) {
        const h = hash53(cell);
        if (this.distinctCells.has(h)) this.distinctCells = null;
        else this.distinctCells.add(h);
      }
    }
    this.numbers?.push(value ?? NaN);
    // Many distinct numbers and no text so far: numeric, unless a text cell comes; stop keeping categories.
    if (
      !this.kind &&
      !this.textSeen &&
      this.distinctNumbers.size > 2 &&
      this.categories &&
      this.categories.values.length > MAX_OPEN_CATEGORIES
    ) {
      this.categories = null;
    }
    if (this.distinctCells && !this.kind && !this.textSeen && this.distinctNumbers.size > 2 && this.present > MAX_OPEN_CATEGORIES) {
      // A numeric column is never an id; stop remembering its values.
      this.distinctCells = null;
    }
  }

  /** Rows read. */
  get length(): number {
    return this.rows;
  }

  /** The kind: given, or inferred from every cell as inferKind does. */
  inferredKind(): FeatureKind {
    if (this.kind) return this.kind;
    if (this.textSeen || this.present === 0) return 'categorical';
    return this.distinctNumbers.size > 2 || this.present < FLAG_MIN_VALUES ? 'numeric' : 'categorical';
  }

  /** True when every non-empty value is distinct, on at least ID_MIN_ROWS of them (as looksLikeId). */
  looksLikeId(): boolean {
    return this.distinctCells !== null && this.nonEmpty >= ID_MIN_ROWS;
  }

  /** A categorical column whose categories were dropped: read its cells again. */
  get needsCells(): boolean {
    return this.inferredKind() === 'categorical' && this.categories === null;
  }

  /** The numeric column (missing and invalid cells NaN), the count of invalid cells and the first of them. */
  numeric(): { column: NumericColumn; invalid: number; examples: string[] } {
    if (!this.numbers) throw new Error('the column was read as categories only');
    return { column: this.numbers.view(), invalid: this.invalid, examples: this.invalidExamples };
  }

  /** The categorical column: the cells, as the tests take them. */
  categorical(): CategoricalColumn {
    if (!this.categories) throw new Error('the column was read as numbers only');
    return this.categories.finish();
  }
}
