/**
 * A column of a data file gathered as the drift tests take it, cell by cell, without keeping
 * the cells: numbers as doubles, categories as codes into a dictionary of their values, kept by
 * a {@link ColumnStorage} (memory, or a file per column for data larger than memory).
 * `retrain drift-report` reads files into these (CSV straight from bytes: {@link addNumber},
 * {@link addCategoryBytes}), then tests one column at a time. Pure: no I/O of its own.
 *
 * A reference column does not know its kind until its last cell (see inferKind): it keeps both
 * forms while both are possible and drops one as soon as the data rules it out. The rare column
 * that turns out categorical after its dictionary was dropped (a text cell after more than
 * {@link MAX_OPEN_CATEGORIES} distinct numbers) says so with `needsCells`: its caller reads it again.
 */
import type { FeatureKind } from '../feature-kind';
import { ByteDictionary, cellText, hashBytes } from '../byte-dictionary';
import { memoryStorage, type ColumnStorage, type StoredColumn } from '../column-storage';
import { hash53 } from '../row-hash';
import { isMissingMarker, numericValue } from '../table';
import { FLAG_MIN_VALUES, ID_MIN_ROWS } from './column-kinds';
import type { CategoricalColumn, NumericColumn } from './dataset-drift';

/** Distinct values a column that reads as numbers keeps as categories too, in case a text cell comes. */
export const MAX_OPEN_CATEGORIES = 4096;
/** Cells that are not numbers, named in a warning. */
const EXAMPLES = 1;

/** Category codes (-1: missing) in a stored column, and the values they stand for. */
class CategoryBuilder {
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];
  constructor(private readonly codes: StoredColumn<Int32Array>) {}
  get length(): number {
    return this.codes.length;
  }
  /** The same dictionary by bytes (cells read from a file): its codes map to ours through `byteCodes`. */
  private readonly byBytes = new ByteDictionary();
  private byteCodes = new Int32Array(64);
  push(cell: string | null): void {
    this.codes.push(cell === null ? -1 : this.codeOf(cell));
  }
  /** A present cell given as UTF-8 bytes: decoded only the first time its value is seen. */
  pushBytes(bytes: Uint8Array, start: number, end: number): void {
    const hash = hashBytes(bytes, start, end);
    let byteCode = this.byBytes.find(bytes, start, end, hash);
    if (byteCode < 0) {
      byteCode = this.byBytes.add(bytes, start, end, hash);
      if (byteCode >= this.byteCodes.length) {
        const grown = new Int32Array(this.byteCodes.length * 2);
        grown.set(this.byteCodes);
        this.byteCodes = grown;
      }
      this.byteCodes[byteCode] = this.codeOf(cellText(bytes, start, end));
    }
    this.codes.push(this.byteCodes[byteCode]!);
  }
  private codeOf(cell: string): number {
    const known = this.index.get(cell);
    if (known !== undefined) return known;
    const code = this.values.length;
    this.index.set(cell, code);
    this.values.push(cell);
    return code;
  }
  /** The cells again, each value one shared string. */
  finish(): CategoricalColumn {
    const codes = this.codes.values();
    const cells = new Array<string | null>(codes.length);
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      cells[i] = code < 0 ? null : this.values[code]!;
    }
    return cells;
  }
  /** The label counts, counted on the codes (first-seen order, as the tests count cells). */
  counted(): { counts: Map<string, number>; rows: number; missing: number } {
    const codes = this.codes.values();
    const tally = new Float64Array(this.values.length);
    let missing = 0;
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      if (code < 0) missing++;
      else tally[code]++;
    }
    const counts = new Map<string, number>();
    this.values.forEach((value, code) => {
      if (tally[code]! > 0) counts.set(value, tally[code]!);
    });
    return { counts, rows: codes.length, missing };
  }
  release(): void {
    this.codes.release();
  }
}

/** One column of a file, as it is read. */
export class ColumnCollector {
  private numbers: StoredColumn<Float64Array> | null;
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

  /**
   * @param kind the column's kind when it is known (a current file, by its reference); null to infer it.
   * @param storage what holds the values until they are used (memory unless the caller says otherwise).
   */
  constructor(
    private readonly kind: FeatureKind | null,
    storage: ColumnStorage = memoryStorage,
  ) {
    this.numbers = kind === 'categorical' ? null : storage.float64();
    this.categories = kind === 'numeric' ? null : new CategoryBuilder(storage.int32());
    if (kind) this.distinctCells = null;
  }

  add(cell: string | null): void {
    this.rows++;
    this.categories?.push(cell);
    // Categories for good (given, or text seen and no id to look for): nothing else to learn.
    if (this.numbers === null && this.distinctCells === null) return;
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
          this.numbers?.release();
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
      this.categories.release();
      this.categories = null;
    }
    if (this.distinctCells && !this.kind && !this.textSeen && this.distinctNumbers.size > 2 && this.present > MAX_OPEN_CATEGORIES) {
      // A numeric column is never an id; stop remembering its values.
      this.distinctCells = null;
    }
  }

  /**
   * True when a number can be added with {@link addNumber}, without its text: the column is still
   * read as numbers and no longer looks for an id (after its first few thousand values).
   */
  get takesBareNumbers(): boolean {
    return this.numbers !== null && this.distinctCells === null;
  }

  /**
   * True when a present cell can be added as bytes with {@link addCategoryBytes}: the column is
   * categorical for good (given, or text seen) and no longer looks for an id.
   */
  get takesBareCategories(): boolean {
    return this.numbers === null && this.distinctCells === null && this.categories !== null;
  }

  /** A present (non-empty) cell as UTF-8 bytes, as {@link add} would take its text (only while {@link takesBareCategories}). */
  addCategoryBytes(bytes: Uint8Array, start: number, end: number): void {
    this.rows++;
    this.categories!.pushBytes(bytes, start, end);
  }

  /**
   * A cell that is the finite number `value`, written as the UTF-8 bytes `[start, end)`, as
   * {@link add} would take its text (only while {@link takesBareNumbers}): the bytes are read only
   * while the column also keeps categories.
   */
  addNumber(value: number, bytes: Uint8Array, start: number, end: number): void {
    this.rows++;
    this.present++;
    this.nonEmpty++;
    if (this.distinctNumbers.size < 3) this.distinctNumbers.add(value);
    this.numbers!.push(value);
    const categories = this.categories;
    if (categories) {
      categories.pushBytes(bytes, start, end);
      if (!this.kind && this.distinctNumbers.size > 2 && categories.values.length > MAX_OPEN_CATEGORIES) {
        categories.release();
        this.categories = null;
      }
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
    return { column: this.numbers.values(), invalid: this.invalid, examples: this.invalidExamples };
  }

  /** The categorical column: the cells, as the tests take them. */
  categorical(): CategoricalColumn {
    if (!this.categories) throw new Error('the column was read as numbers only');
    return this.categories.finish();
  }

  /** Cells that are present but not numbers (a numeric column counts them as missing), and the first of them. */
  invalidCells(): { count: number; examples: string[] } {
    return { count: this.invalid, examples: this.invalidExamples };
  }

  /** The categorical column as label counts, without making its cells (what the drift tests take). */
  categoryCounts(): { counts: Map<string, number>; rows: number; missing: number } {
    if (!this.categories) throw new Error('the column was read as numbers only');
    return this.categories.counted();
  }

  /** Frees the column's values (a tested column, or one not needed). */
  release(): void {
    this.numbers?.release();
    this.categories?.release();
  }
}
