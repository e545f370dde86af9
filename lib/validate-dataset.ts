import { outputKind } from './feature-kind';
import type { Pipeline } from './pipeline';
import { isMissingMarker, numericValue, type Table } from './table';

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
  /** Distinct values (categorical) or null. */
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

/**
 * Checks a table against the pipeline's columns, types and validation limits, and, for
 * classification with a champion, that every label class is one the champion knows: the
 * challenger is compared with the champion on the same holdout, which needs the champion to
 * score every row.
 */
export function validateDataset(table: Table, pipeline: Pipeline, champion: ChampionClasses | null = null): ValidationReport {
  const problems: ValidationProblem[] = [];
  const notes: string[] = [];
  const rows = table.rows.length;
  const limits = pipeline.validation;

  if (rows === 0) problems.push({ code: 'empty', message: 'the dataset has no rows' });
  else if (rows < limits.minRows) {
    problems.push({ code: 'too_few_rows', message: `${rows} row${rows === 1 ? '' : 's'}, fewer than the minimum of ${limits.minRows}` });
  }

  const wanted = usedColumns(pipeline);
  const delimiter = wrongDelimiter(table, wanted);
  if (delimiter) {
    problems.push({
      code: 'unreadable',
      message: `the header is one column, ${JSON.stringify(table.columns[0])}: the file looks ${delimiter}-separated, but CSV data must be comma-separated (save it with commas)`,
    });
  }
  for (const col of wanted) {
    if (!table.columns.includes(col.name)) {
      problems.push({ code: 'missing_column', column: col.name, message: `${col.role} column "${col.name}" is missing` });
    }
  }
  const extra = table.columns.filter((c) => !wanted.some((w) => w.name === c));
  if (extra.length && limits.extraColumns === 'fail') {
    for (const c of extra) problems.push({ code: 'extra_column', column: c, message: `column "${c}" is not named in the pipeline` });
  } else if (extra.length) notes.push(`ignored columns not named in the pipeline: ${extra.join(', ')}`);

  const columns: ColumnSummary[] = [];
  let labelClasses: Record<string, number> | null = null;
  for (const col of wanted) {
    const i = table.columns.indexOf(col.name);
    if (i < 0) continue;
    const summary = summarise(table, i, col, problems);
    columns.push(summary);
    if (rows > 0 && summary.nullShare > limits.maxNullShare) {
      problems.push({
        code: 'too_many_nulls',
        column: col.name,
        message: `"${col.name}" has ${summary.nulls} missing values (${pct(summary.nullShare)}), above the limit of ${pct(limits.maxNullShare)}`,
      });
    }
    if (col.role === 'label') checkLabelsPresent(table, i, pipeline, problems);
    if (col.role === 'id') checkIdsPresent(table, i, pipeline, problems);
    if (col.role === 'label' && pipeline.task === 'classification') {
      labelClasses = countValues(table, i);
      const classes = Object.keys(labelClasses);
      if (rows > 0 && classes.length < 2) {
        problems.push({
          code: 'single_class',
          column: col.name,
          message: `label "${col.name}" has ${classes.length === 0 ? 'no values' : `a single class ("${classes[0]}")`}: a classifier needs at least two`,
        });
      }
      if (champion?.classes)
        checkClassesKnown(table, i, pipeline, labelClasses, { version: champion.version, classes: champion.classes }, problems);
    }
  }

  const duplicateRows = countDuplicates(table, duplicateKeyColumns(table, pipeline));
  if (rows > 0 && duplicateRows / rows > limits.maxDuplicateShare) {
    const what =
      pipeline.idColumn && table.columns.includes(pipeline.idColumn)
        ? `rows repeating an earlier "${pipeline.idColumn}"`
        : 'duplicate rows';
    problems.push({
      code: 'too_many_duplicates',
      message: `${duplicateRows} ${what} (${pct(duplicateRows / rows)}), above the limit of ${pct(limits.maxDuplicateShare)}`,
    });
  }
  return { ok: problems.length === 0, rows, problems, notes, columns, labelClasses, duplicateRows };
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

interface UsedColumn {
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

function summarise(table: Table, i: number, col: UsedColumn, problems: ValidationProblem[]): ColumnSummary {
  let nulls = 0;
  let wrong = 0;
  const examples: string[] = [];
  const distinct = new Set<string>();
  for (const row of table.rows) {
    const cell = row[i];
    if (col.type === 'numeric') {
      if (numericValue(cell) !== null) continue;
      if (isMissingMarker(cell)) nulls++;
      else {
        wrong++;
        if (examples.length < EXAMPLES) examples.push(JSON.stringify(cell));
      }
    } else if (cell === null) nulls++;
    else distinct.add(cell);
  }
  if (wrong > 0) {
    problems.push({
      code: 'wrong_type',
      column: col.name,
      message: `"${col.name}" should be numeric but ${wrong} values are not (e.g. ${examples.join(', ')})`,
    });
  }
  const rows = table.rows.length;
  return {
    name: col.name,
    role: col.role,
    type: col.type,
    nulls,
    nullShare: rows ? nulls / rows : 0,
    distinct: col.type === 'categorical' ? distinct.size : null,
  };
}

/**
 * Every row needs a label, whatever maxNullShare allows for features: the trainer cannot learn
 * from a row without one. Empty (or blank) cells; for regression also NaN, NA and the like.
 */
function checkLabelsPresent(table: Table, i: number, pipeline: Pipeline, problems: ValidationProblem[]): void {
  const missing = (cell: string | null) => (pipeline.task === 'regression' ? isMissingMarker(cell) : cell === null || cell.trim() === '');
  let count = 0;
  let first = -1;
  table.rows.forEach((row, r) => {
    if (!missing(row[i])) return;
    count++;
    if (first < 0) first = r;
  });
  if (count === 0) return;
  problems.push({
    code: 'missing_label',
    column: pipeline.label,
    message: `label "${pipeline.label}" is missing in ${count} of ${table.rows.length} rows (first: ${rowName(table, first, pipeline)}): every row needs a label`,
  });
}

/**
 * Every row needs its id, whatever maxNullShare allows: predictions and labels are joined to
 * rows by it, and a row without one can be joined to nothing.
 */
function checkIdsPresent(table: Table, i: number, pipeline: Pipeline, problems: ValidationProblem[]): void {
  let count = 0;
  let first = -1;
  table.rows.forEach((row, r) => {
    const cell = row[i];
    if (cell !== null && cell.trim() !== '') return;
    count++;
    if (first < 0) first = r;
  });
  if (count === 0) return;
  problems.push({
    code: 'missing_id',
    column: pipeline.idColumn,
    message: `id "${pipeline.idColumn}" is missing in ${count} of ${table.rows.length} rows (first: row ${first + 1}): every row needs an id`,
  });
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
function wrongDelimiter(table: Table, wanted: UsedColumn[]): string | null {
  if (table.columns.length !== 1 || wanted.some((w) => w.name === table.columns[0])) return null;
  const found = OTHER_DELIMITERS.find(([d]) => table.columns[0].split(d).some((part) => wanted.some((w) => w.name === part.trim())));
  return found ? found[1] : null;
}

/**
 * Label classes the champion does not know: it cannot score rows of them, so the challenger could
 * not be compared with it at evaluation, after training and registering. Caught here instead.
 */
function checkClassesKnown(
  table: Table,
  i: number,
  pipeline: Pipeline,
  counts: Record<string, number>,
  champion: { version: string; classes: string[] },
  problems: ValidationProblem[],
): void {
  const known = new Set(champion.classes);
  // A blank label is reported as missing, not as a class.
  const unknown = Object.keys(counts).filter((c) => !known.has(c) && c.trim() !== '');
  if (unknown.length === 0) return;
  const rows = table.rows.length;
  // The first row of each class named (one pass, however many new classes there are).
  const named = unknown.slice(0, EXAMPLES);
  const first = new Map<string, number>();
  for (let r = 0; r < rows && first.size < named.length; r++) {
    const cell = table.rows[r][i];
    if (cell !== null && named.includes(cell) && !first.has(cell)) first.set(cell, r);
  }
  const described = named.map(
    (c) => `"${c}" (${counts[c]} rows, ${pct(counts[c] / rows)}; first: ${rowName(table, first.get(c)!, pipeline)})`,
  );
  if (unknown.length > named.length) described.push(`and ${unknown.length - named.length} more`);
  problems.push({
    code: 'new_label_class',
    column: pipeline.label,
    message:
      `label "${pipeline.label}" has ${unknown.length === 1 ? 'a class' : `${unknown.length} classes`} the champion ${champion.version} does not know: ${described.join(', ')}; ` +
      `the champion knows ${champion.classes.map((c) => `"${c}"`).join(', ')}. New label classes are not accepted: the champion cannot ` +
      `score rows of a new class, so a new model could not be compared with it. Fix the labels if the class is a mistake`,
  });
}

/** "row 12" (1 = the first row after the header), with its id when the pipeline has an id column. */
function rowName(table: Table, r: number, pipeline: Pipeline): string {
  const id = pipeline.idColumn ? table.columns.indexOf(pipeline.idColumn) : -1;
  const value = id >= 0 ? table.rows[r][id] : null;
  return `row ${r + 1}${value !== null ? `, ${pipeline.idColumn} "${value}"` : ''}`;
}

function countValues(table: Table, i: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of table.rows) {
    const cell = row[i];
    if (cell !== null) counts[cell] = (counts[cell] ?? 0) + 1;
  }
  return counts;
}

/**
 * What makes two rows the same record: the id column when there is one (two customers may well
 * share every value, but one customer twice is a double load); otherwise the whole row (in
 * low-dimensional data, equal feature values are normal and must not block training).
 */
function duplicateKeyColumns(table: Table, pipeline: Pipeline): number[] {
  const id = pipeline.idColumn ? table.columns.indexOf(pipeline.idColumn) : -1;
  return id >= 0 ? [id] : table.columns.map((_, i) => i);
}

function countDuplicates(table: Table, keyColumns: number[]): number {
  const seen = new Set<string>();
  let dups = 0;
  for (const row of table.rows) {
    const key = JSON.stringify(keyColumns.map((i) => row[i]));
    if (seen.has(key)) dups++;
    else seen.add(key);
  }
  return dups;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
