import { outputKind } from './feature-kind';
import type { Pipeline } from './pipeline';
import { isMissingMarker, numericValue, type Table } from './table';

/** One reason a dataset cannot be trained on; `column` names the column when there is one. */
export interface ValidationProblem {
  code:
    'empty' | 'too_few_rows' | 'missing_column' | 'extra_column' | 'wrong_type' | 'too_many_nulls' | 'single_class' | 'too_many_duplicates';
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

/** Checks a table against the pipeline's columns, types and validation limits. */
export function validateDataset(table: Table, pipeline: Pipeline): ValidationReport {
  const problems: ValidationProblem[] = [];
  const notes: string[] = [];
  const rows = table.rows.length;
  const limits = pipeline.validation;

  if (rows === 0) problems.push({ code: 'empty', message: 'the dataset has no rows' });
  else if (rows < limits.minRows) {
    problems.push({ code: 'too_few_rows', message: `${rows} rows, fewer than the minimum of ${limits.minRows}` });
  }

  const wanted = usedColumns(pipeline);
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
