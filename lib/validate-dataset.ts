import { outputKind } from './feature-kind';
import type { Pipeline } from './pipeline';
import { hashRow } from './row-hash';
import { isMissingMarker, numericValue, type Table } from './table';
import type { RowBatch } from './table-stream';

/** One reason a dataset cannot be trained on; `column` names the column when there is one. */
export interface ValidationProblem {
  code:
    | 'unreadable'
    | 'empty'
    | 'too_few_rows'
    | 'missing_column'
    | 'extra_column'
    | 'wrong_type'
    | 'too_many_nulls'
    | 'missing_label'
    | 'missing_id'
    | 'single_class'
    | 'new_label_class'
    | 'too_many_classes'
    | 'too_many_duplicates';
  column?: string;
  message: string;
}

/** One column the pipeline uses, as found in the dataset. */
export interface ColumnSummary {
  name: string;
  role: 'feature' | 'label' | 'id';
  type: 'numeric' | 'categorical';
  /** Missing values. */
  nulls: number;
  /** Missing values / rows, 0..1 (0 for an empty dataset). */
  nullShare: number;
  /** Distinct values (categorical; counted up to 100,000) or null. */
  distinct: number | null;
}

/** Everything a person needs to fix a dataset: all problems at once, not the first one. */
export interface ValidationReport {
  ok: boolean;
  rows: number;
  problems: ValidationProblem[];
  /** Things worth knowing that do not fail the run (e.g. ignored extra columns). */
  notes: string[];
  columns: ColumnSummary[];
  labelClasses: Record<string, number> | null;
  duplicateRows: number;
}

const EXAMPLES = 3;

/** The model in production, as far as validation needs it: a class it does not know cannot be scored. */
export interface ChampionClasses {
  version: string;
  /** The champion's label classes; null for regression. */
  classes: string[] | null;
}

/** Counts rows seen before; `finish` of the {@link DatasetValidator} takes its total. */
export interface DuplicateSink {
  add(hash: number): void;
}

/** Distinct values counted per categorical column; past this the count stops (and a note says so). */
const MAX_DISTINCT = 100_000;
/** Label classes counted; a "classification" label with more is most likely the wrong column. */
const MAX_CLASSES = 10_000;

/**
 * Checks a table against the pipeline's columns, types and validation limits, and, for
 * classification with a champion, that every label class is one the champion knows: the
 * challenger is compared with the champion on the same holdout, which needs the champion to
 * score every row. (The in-memory form of {@link DatasetValidator}.)
 */
export function validateDataset(table: Table, pipeline: Pipeline, champion: ChampionClasses | null = null): ValidationReport {
  const seen = new Set<number>();
  let duplicates = 0;
  const validator = new DatasetValidator(pipeline, champion, {
    add(hash) {
      if (seen.has(hash)) duplicates++;
      else seen.add(hash);
    },
  });
  validator.add({ columns: table.columns, rows: table.rows });
  return validator.finish(duplicates);
}

/** Where a row is, for messages: its position (0 = the first row after the header) and id. */
interface RowRef {
  row: number;
  id: string | null;
}

interface ColumnStats {
  nulls: number;
  wrong: number;
  examples: string[];
  distinct: Set<string> | null;
  distinctCapped: boolean;
  /** Label or id cells that are missing, and the first such row. */
  absent: number;
  firstAbsent: RowRef | null;
}

/**
 * Validation in one pass over batches of rows, holding counts, not rows: a dataset of any size is
 * checked with bounded memory. Duplicate rows are counted by the caller's sink from one hash per
 * row (an exact Set in memory, a spilling counter for large data), whose total `finish` takes.
 */
export class DatasetValidator {
  private readonly wanted: UsedColumn[];
  private readonly stats: ColumnStats[];
  private readonly classCounts = new Map<string, number>();
  private readonly classFirst = new Map<string, RowRef>();
  private classesCapped = false;
  private columns: readonly string[] = [];
  private rows = 0;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly champion: ChampionClasses | null,
    private readonly duplicates: DuplicateSink,
  ) {
    this.wanted = usedColumns(pipeline);
    this.stats = this.wanted.map((col) => ({
      nulls: 0,
      wrong: 0,
      examples: [],
      distinct: col.type === 'categorical' ? new Set<string>() : null,
      distinctCapped: false,
      absent: 0,
      firstAbsent: null,
    }));
  }

  /** Takes a batch of rows (see {@link RowBatch}: columns may grow between batches). */
  add(batch: RowBatch): void {
    const at = this.columnsAre(batch.columns);
    const idAt = this.idAt;
    for (const row of batch.rows) {
      const r = this.rows++;
      for (let k = 0; k < at.length; k++) this.cell(k, at[k]! >= 0 ? (row[at[k]!] ?? null) : null, r);
      this.rowDone(idAt >= 0 ? hashRow(row, [idAt]) : hashRow(row, null), idAt >= 0 ? (row[idAt] ?? null) : null);
    }
  }

  /** Where the id column is in the data's columns, or -1 (set by {@link columnsAre}). */
  idAt = -1;

  /**
   * The data's columns (the header; they may grow between batches of JSON lines): returns where
   * each used column is in them (-1 when absent), in the order of {@link cell}'s `k`.
   */
  columnsAre(columns: readonly string[]): number[] {
    this.columns = columns;
    this.idAt = this.pipeline.idColumn ? columns.indexOf(this.pipeline.idColumn) : -1;
    return this.wanted.map((col) => columns.indexOf(col.name));
  }

  /** The used columns, in the order of {@link cell}'s `k`. */
  get usedColumns(): readonly UsedColumn[] {
    return this.wanted;
  }

  /** Starts a row read cell by cell (see {@link cell}); returns its position. */
  nextRow(): number {
    return this.rows++;
  }

  /** Row refs of this row whose id is not known yet: {@link rowDone} fills it in. */
  private readonly waitingForId: RowRef[] = [];

  /**
   * Checks cell `cell` of used column `k` (null when missing or absent) in row `r`: its type,
   * missing values, distinct values, label classes. The row's id comes with {@link rowDone}.
   */
  cell(k: number, cell: string | null, r: number): void {
    const col = this.wanted[k]!;
    const st = this.stats[k]!;
    const classification = this.pipeline.task === 'classification';
    if (col.type === 'numeric') {
      if (numericValue(cell) === null) {
        if (isMissingMarker(cell)) st.nulls++;
        else {
          st.wrong++;
          if (st.examples.length < EXAMPLES) st.examples.push(JSON.stringify(cell));
        }
      }
    } else if (cell === null) st.nulls++;
    else if (st.distinct && !st.distinct.has(cell)) {
      if (st.distinct.size < MAX_DISTINCT) st.distinct.add(cell);
      else st.distinctCapped = true;
    }
    const absent =
      col.role === 'label'
        ? classification
          ? cell === null || cell.trim() === ''
          : isMissingMarker(cell)
        : col.role === 'id' && (cell === null || cell.trim() === '');
    if (absent) {
      st.absent++;
      if (!st.firstAbsent) this.waitingForId.push((st.firstAbsent = { row: r, id: null }));
    }
    if (col.role === 'label' && classification && cell !== null) this.countClass(cell, r);
  }

  /**
   * True when used column `k` counts no more distinct values (it has counted as many as it
   * keeps, and a value past them): a present cell of a categorical feature then changes nothing,
   * and one of the id only counts when it is blank.
   */
  distinctFull(k: number): boolean {
    const st = this.stats[k]!;
    return st.distinctCapped;
  }

  /** True when the row's id will be named in a message (a first missing label, a first class): pass it to {@link rowDone}. */
  get wantsId(): boolean {
    return this.waitingForId.length > 0;
  }

  /** Ends a row: `hash` for duplicates (by id, or of the whole row), and its id cell for messages. */
  rowDone(hash: number, id: string | null): void {
    if (this.waitingForId.length > 0) {
      for (const ref of this.waitingForId) ref.id = id;
      this.waitingForId.length = 0;
    }
    this.duplicates.add(hash);
  }

  private countClass(cell: string, r: number): void {
    const n = this.classCounts.get(cell);
    if (n !== undefined) this.classCounts.set(cell, n + 1);
    else if (this.classCounts.size < MAX_CLASSES) {
      this.classCounts.set(cell, 1);
      const first: RowRef = { row: r, id: null };
      this.classFirst.set(cell, first);
      this.waitingForId.push(first);
    } else this.classesCapped = true;
  }

  /** The report, with `duplicateRows` rows that repeat an earlier one (by id, or whole). */
  finish(duplicateRows: number): ValidationReport {
    const { pipeline, rows, columns: present } = this;
    const problems: ValidationProblem[] = [];
    const notes: string[] = [];
    const limits = pipeline.validation;

    if (rows === 0) problems.push({ code: 'empty', message: 'the dataset has no rows' });
    else if (rows < limits.minRows) {
      problems.push({ code: 'too_few_rows', message: `${rows} row${rows === 1 ? '' : 's'}, fewer than the minimum of ${limits.minRows}` });
    }

    const delimiter = wrongDelimiter(present, this.wanted);
    if (delimiter) {
      problems.push({
        code: 'unreadable',
        message: `the header is one column, ${JSON.stringify(present[0])}: the file looks ${delimiter}-separated, but CSV data must be comma-separated (save it with commas)`,
      });
    }
    for (const col of this.wanted) {
      if (!present.includes(col.name)) {
        problems.push({ code: 'missing_column', column: col.name, message: `${col.role} column "${col.name}" is missing` });
      }
    }
    // The source window's timestamp column is named in the pipeline too: it picks the rows.
    const windowColumn = pipeline.source.window?.column;
    const extra = present.filter((c) => c !== windowColumn && !this.wanted.some((w) => w.name === c));
    if (extra.length && limits.extraColumns === 'fail') {
      for (const c of extra) problems.push({ code: 'extra_column', column: c, message: `column "${c}" is not named in the pipeline` });
    } else if (extra.length) notes.push(`ignored columns not named in the pipeline: ${extra.join(', ')}`);

    const columns: ColumnSummary[] = [];
    let labelClasses: Record<string, number> | null = null;
    this.wanted.forEach((col, k) => {
      if (!present.includes(col.name)) return;
      const st = this.stats[k]!;
      if (st.wrong > 0) {
        problems.push({
          code: 'wrong_type',
          column: col.name,
          message: `"${col.name}" should be numeric but ${st.wrong} values are not (e.g. ${st.examples.join(', ')})`,
        });
      }
      const summary: ColumnSummary = {
        name: col.name,
        role: col.role,
        type: col.type,
        nulls: st.nulls,
        nullShare: rows ? st.nulls / rows : 0,
        distinct: st.distinct ? st.distinct.size : null,
      };
      if (st.distinctCapped) notes.push(`"${col.name}" has more than ${MAX_DISTINCT} distinct values (counted up to that)`);
      columns.push(summary);
      if (rows > 0 && summary.nullShare > limits.maxNullShare) {
        problems.push({
          code: 'too_many_nulls',
          column: col.name,
          message: `"${col.name}" has ${summary.nulls} missing values (${pct(summary.nullShare)}), above the limit of ${pct(limits.maxNullShare)}`,
        });
      }
      if (col.role === 'label' && st.absent > 0) {
        problems.push({
          code: 'missing_label',
          column: pipeline.label,
          message: `label "${pipeline.label}" is missing in ${st.absent} of ${rows} rows (first: ${this.rowName(st.firstAbsent!)}): every row needs a label`,
        });
      }
      if (col.role === 'id' && st.absent > 0) {
        problems.push({
          code: 'missing_id',
          column: pipeline.idColumn,
          message: `id "${pipeline.idColumn}" is missing in ${st.absent} of ${rows} rows (first: row ${st.firstAbsent!.row + 1}): every row needs an id`,
        });
      }
      if (col.role === 'label' && pipeline.task === 'classification') {
        labelClasses = Object.fromEntries(this.classCounts);
        const classes = Object.keys(labelClasses);
        if (this.classesCapped) {
          problems.push({
            code: 'too_many_classes',
            column: col.name,
            message: `label "${col.name}" has more than ${MAX_CLASSES} classes: is it the right column, or is the task regression?`,
          });
        } else if (rows > 0 && classes.length < 2) {
          problems.push({
            code: 'single_class',
            column: col.name,
            message: `label "${col.name}" has ${classes.length === 0 ? 'no values' : `a single class ("${classes[0]}")`}: a classifier needs at least two`,
          });
        }
        if (this.champion?.classes) {
          const problem = this.unknownClasses(labelClasses, { version: this.champion.version, classes: this.champion.classes });
          if (problem) problems.push(problem);
        }
      }
    });

    if (rows > 0 && duplicateRows / rows > limits.maxDuplicateShare) {
      const what =
        pipeline.idColumn && present.includes(pipeline.idColumn) ? `rows repeating an earlier "${pipeline.idColumn}"` : 'duplicate rows';
      problems.push({
        code: 'too_many_duplicates',
        message: `${duplicateRows} ${what} (${pct(duplicateRows / rows)}), above the limit of ${pct(limits.maxDuplicateShare)}`,
      });
    }
    return { ok: problems.length === 0, rows, problems, notes, columns, labelClasses, duplicateRows };
  }

  /**
   * Label classes the champion does not know: it cannot score rows of them, so the challenger
   * could not be compared with it at evaluation, after training and registering. Caught here instead.
   */
  private unknownClasses(counts: Record<string, number>, champion: { version: string; classes: string[] }): ValidationProblem | null {
    const known = new Set(champion.classes);
    // A blank label is reported as missing, not as a class.
    const unknown = Object.keys(counts).filter((c) => !known.has(c) && c.trim() !== '');
    if (unknown.length === 0) return null;
    const rows = this.rows;
    const named = unknown.slice(0, EXAMPLES);
    const described = named.map(
      (c) => `"${c}" (${counts[c]} rows, ${pct(counts[c]! / rows)}; first: ${this.rowName(this.classFirst.get(c)!)})`,
    );
    if (unknown.length > named.length) described.push(`and ${unknown.length - named.length} more`);
    const label = this.pipeline.label;
    return {
      code: 'new_label_class',
      column: label,
      message:
        `label "${label}" has ${unknown.length === 1 ? 'a class' : `${unknown.length} classes`} the champion ${champion.version} does not know: ${described.join(', ')}; ` +
        `the champion knows ${champion.classes.map((c) => `"${c}"`).join(', ')}. New label classes are not accepted: the champion cannot ` +
        `score rows of a new class, so a new model could not be compared with it. Fix the labels if the class is a mistake`,
    };
  }

  /** "row 12" (1 = the first row after the header), with its id when the pipeline has an id column. */
  private rowName(ref: RowRef): string {
    return `row ${ref.row + 1}${ref.id !== null ? `, ${this.pipeline.idColumn} "${ref.id}"` : ''}`;
  }
}

/**
 * The report of a dataset that could not be read at all (not UTF-8, not valid CSV or JSON lines,
 * a column named twice): one `unreadable` problem with the reader's message.
 */
export function unreadableReport(message: string): ValidationReport {
  return {
    ok: false,
    rows: 0,
    problems: [{ code: 'unreadable', message }],
    notes: [],
    columns: [],
    labelClasses: null,
    duplicateRows: 0,
  };
}

/** One line per problem, for error messages and the CLI. */
export function describeProblems(report: ValidationReport): string {
  return report.problems.map((p) => `  - ${p.message}`).join('\n');
}

export interface UsedColumn {
  name: string;
  role: ColumnSummary['role'];
  type: ColumnSummary['type'];
}

function usedColumns(p: Pipeline): UsedColumn[] {
  const cols: UsedColumn[] = p.features.map((f) => ({ name: f.name, role: 'feature' as const, type: f.type }));
  cols.push({ name: p.label, role: 'label', type: outputKind(p.task) });
  if (p.idColumn) cols.push({ name: p.idColumn, role: 'id', type: 'categorical' });
  return cols;
}

/** Other separators a CSV is often saved with, by the name a message gives them. */
const OTHER_DELIMITERS: [string, string][] = [
  [';', 'semicolon'],
  ['\t', 'tab'],
  ['|', 'pipe'],
];

/**
 * The name of the separator a CSV was saved with instead of commas, when its header read as one
 * column splits on it into a column the pipeline needs; null otherwise.
 */
function wrongDelimiter(columns: readonly string[], wanted: UsedColumn[]): string | null {
  if (columns.length !== 1 || wanted.some((w) => w.name === columns[0])) return null;
  const found = OTHER_DELIMITERS.find(([d]) => columns[0]!.split(d).some((part) => wanted.some((w) => w.name === part.trim())));
  return found ? found[1] : null;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
