import { describe, it, expect } from 'vitest';
import { definePipeline, type Pipeline, type PipelineInput } from '../lib/pipeline';
import type { Table } from '../lib/table';
import { describeProblems, unreadableReport, validateDataset, type ValidationReport } from '../lib/validate-dataset';

function pipeline(over: Record<string, unknown> = {}, validation: Record<string, unknown> = {}): Pipeline {
  return definePipeline({
    name: 'churn',
    task: 'classification',
    source: { path: 'data.csv' },
    label: 'churned',
    features: [
      { name: 'tenure', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
    ],
    metrics: { primary: 'accuracy' },
    owners: { monitoring: 'a', retraining: 'b', inference: 'c', logging: 'd' },
    validation: { minRows: 4, maxNullShare: 0.25, maxDuplicateShare: 0.25, ...validation },
    ...over,
  } as PipelineInput);
}

/** A table from a header and rows of cells; `null` is a missing cell. */
function table(columns: string[], rows: (string | null)[][]): Table {
  return { columns, rows };
}

const goodRows = [
  ['1', 'basic', 'no'],
  ['2', 'pro', 'yes'],
  ['3', 'basic', 'no'],
  ['4', 'pro', 'yes'],
];
const good = () =>
  table(
    ['tenure', 'plan', 'churned'],
    goodRows.map((r) => [...r]),
  );

const codes = (report: ValidationReport) => report.problems.map((p) => p.code);

describe('validateDataset', () => {
  it('accepts a clean dataset and summarises it', () => {
    const report = validateDataset(good(), pipeline());
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.notes).toEqual([]);
    expect(report.rows).toBe(4);
    expect(report.labelClasses).toEqual({ no: 2, yes: 2 });
    expect(report.duplicateRows).toBe(0);
    expect(report.columns).toEqual([
      { name: 'tenure', role: 'feature', type: 'numeric', nulls: 0, nullShare: 0, distinct: null },
      { name: 'plan', role: 'feature', type: 'categorical', nulls: 0, nullShare: 0, distinct: 2 },
      { name: 'churned', role: 'label', type: 'categorical', nulls: 0, nullShare: 0, distinct: 2 },
    ]);
  });

  it('reports an empty dataset as empty, not as too few rows', () => {
    const report = validateDataset(table(['tenure', 'plan', 'churned'], []), pipeline());
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['empty']);
    expect(report.problems[0].message).toBe('the dataset has no rows');
  });

  it('reports fewer rows than validation.minRows', () => {
    const report = validateDataset(table(['tenure', 'plan', 'churned'], goodRows.slice(0, 3)), pipeline({}, { minRows: 4 }));
    expect(codes(report)).toEqual(['too_few_rows']);
    expect(report.problems[0].message).toBe('3 rows, fewer than the minimum of 4');
  });

  it('reports each missing column with its role', () => {
    const t = table(['plan'], [['basic'], ['pro'], ['basic'], ['pro']]);
    const report = validateDataset(t, pipeline({ idColumn: 'customer_id' }));
    expect(report.problems.filter((p) => p.code === 'missing_column')).toEqual([
      { code: 'missing_column', column: 'tenure', message: 'feature column "tenure" is missing' },
      { code: 'missing_column', column: 'churned', message: 'label column "churned" is missing' },
      { code: 'missing_column', column: 'customer_id', message: 'id column "customer_id" is missing' },
    ]);
  });

  it('fails on an extra column when extraColumns is "fail"', () => {
    const t = table(
      ['tenure', 'plan', 'churned', 'email'],
      goodRows.map((r, i) => [...r, `u${i}@x`]),
    );
    const report = validateDataset(t, pipeline({}, { extraColumns: 'fail' }));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ code: 'extra_column', column: 'email', message: 'column "email" is not named in the pipeline' }]);
    expect(report.notes).toEqual([]);
  });

  it('only notes an extra column when extraColumns is "ignore"', () => {
    const t = table(
      ['tenure', 'plan', 'churned', 'email', 'phone'],
      goodRows.map((r, i) => [...r, `u${i}@x`, null]),
    );
    const report = validateDataset(t, pipeline({}, { extraColumns: 'ignore' }));
    expect(report.ok).toBe(true);
    expect(report.notes).toEqual(['ignored columns not named in the pipeline: email, phone']);
    // Nulls in an ignored column do not count against the limits.
    expect(report.columns.map((c) => c.name)).toEqual(['tenure', 'plan', 'churned']);
  });

  it('reports non-numeric values in a numeric column with examples', () => {
    const t = good();
    t.rows[0][0] = 'twelve';
    t.rows[1][0] = '3 months';
    t.rows[2][0] = 'Infinity';
    t.rows[3][0] = 'n/a-ish';
    const report = validateDataset(t, pipeline());
    const wrong = report.problems.filter((p) => p.code === 'wrong_type');
    expect(wrong).toHaveLength(1);
    expect(wrong[0].column).toBe('tenure');
    expect(wrong[0].message).toBe('"tenure" should be numeric but 4 values are not (e.g. "twelve", "3 months", "Infinity")');
    expect(report.columns[0].nulls).toBe(0);
  });

  it('checks a regression label as numeric', () => {
    const p = pipeline({ task: 'regression', label: 'price', metrics: { primary: 'rmse' } });
    const t = table(
      ['tenure', 'plan', 'price'],
      [
        ['1', 'a', '10.5'],
        ['2', 'b', 'cheap'],
        ['3', 'a', '-3e2'],
        ['4', 'b', ' 7 '],
      ],
    );
    const report = validateDataset(t, p);
    expect(report.problems).toEqual([
      { code: 'wrong_type', column: 'price', message: '"price" should be numeric but 1 values are not (e.g. "cheap")' },
    ]);
    expect(report.labelClasses).toBeNull();
  });

  it('counts null cells and reports a column above maxNullShare', () => {
    const t = good();
    t.rows[0][1] = null;
    t.rows[1][1] = null;
    const report = validateDataset(t, pipeline({}, { maxNullShare: 0.25 }));
    expect(report.problems).toEqual([
      { code: 'too_many_nulls', column: 'plan', message: '"plan" has 2 missing values (50.0%), above the limit of 25.0%' },
    ]);
    expect(report.columns[1]).toMatchObject({ nulls: 2, nullShare: 0.5 });
  });

  it('allows nulls up to maxNullShare', () => {
    const t = good();
    t.rows[0][1] = null;
    const report = validateDataset(t, pipeline({}, { maxNullShare: 0.25 }));
    expect(report.ok).toBe(true);
    expect(report.columns[1].nulls).toBe(1);
  });

  it('counts "NaN", "nan" and similar markers as missing in numeric columns, not as wrong types', () => {
    const t = good();
    t.rows[0][0] = 'NaN';
    t.rows[1][0] = 'nan';
    t.rows[2][0] = null;
    const report = validateDataset(t, pipeline({}, { maxNullShare: 0.5 }));
    expect(codes(report)).toEqual(['too_many_nulls']);
    expect(report.problems[0].column).toBe('tenure');
    expect(report.problems[0].message).toContain('3 missing values (75.0%)');
    expect(report.columns[0]).toMatchObject({ nulls: 3, nullShare: 0.75 });
  });

  it('reports a classification label with a single class', () => {
    const t = table(
      ['tenure', 'plan', 'churned'],
      goodRows.map((r) => [r[0], r[1], 'no']),
    );
    const report = validateDataset(t, pipeline());
    expect(report.problems).toEqual([
      { code: 'single_class', column: 'churned', message: 'label "churned" has a single class ("no"): a classifier needs at least two' },
    ]);
    expect(report.labelClasses).toEqual({ no: 4 });
  });

  it('reports a classification label with no values at all', () => {
    const t = table(
      ['tenure', 'plan', 'churned'],
      goodRows.map((r) => [r[0], r[1], null]),
    );
    const report = validateDataset(t, pipeline());
    const single = report.problems.find((p) => p.code === 'single_class');
    expect(single?.message).toContain('has no values');
    expect(codes(report)).toContain('too_many_nulls');
  });

  it('reports duplicate rows above maxDuplicateShare', () => {
    const t = table(
      ['tenure', 'plan', 'churned'],
      [
        ['1', 'basic', 'no'],
        ['1', 'basic', 'no'],
        ['1', 'basic', 'no'],
        ['2', 'pro', 'yes'],
      ],
    );
    const report = validateDataset(t, pipeline({}, { maxDuplicateShare: 0.25 }));
    expect(report.duplicateRows).toBe(2);
    expect(report.problems).toEqual([{ code: 'too_many_duplicates', message: '2 duplicate rows (50.0%), above the limit of 25.0%' }]);
  });

  it('allows duplicates up to maxDuplicateShare', () => {
    const t = good();
    t.rows[1] = [...t.rows[0]];
    const report = validateDataset(t, pipeline({}, { maxDuplicateShare: 0.25 }));
    expect(report.duplicateRows).toBe(1);
    expect(report.ok).toBe(true);
  });

  it('reports several problems at once, and describes each on its own line', () => {
    const t = table(
      ['tenure', 'churned', 'extra'],
      [
        ['x', 'no', '1'],
        ['x', 'no', '1'],
        [null, 'no', '1'],
      ],
    );
    const report = validateDataset(t, pipeline({}, { minRows: 5, extraColumns: 'fail', maxNullShare: 0.1, maxDuplicateShare: 0.1 }));
    expect(report.ok).toBe(false);
    expect(codes(report).sort()).toEqual(
      ['extra_column', 'missing_column', 'single_class', 'too_few_rows', 'too_many_duplicates', 'too_many_nulls', 'wrong_type'].sort(),
    );
    const text = describeProblems(report);
    expect(text.split('\n')).toHaveLength(report.problems.length);
    expect(text).toContain('  - feature column "plan" is missing');
    expect(text).toContain('  - 3 rows, fewer than the minimum of 5');
  });
});

describe('duplicates with an id column', () => {
  const withId = () => pipeline({ idColumn: 'id' });

  it('counts a repeated id as a duplicate even when other values differ', () => {
    const t = table(
      ['id', 'tenure', 'plan', 'churned'],
      [
        ['a', '1', 'basic', 'no'],
        ['a', '2', 'pro', 'yes'],
        ['b', '3', 'basic', 'no'],
        ['b', '4', 'pro', 'yes'],
      ],
    );
    const report = validateDataset(t, withId());
    expect(report.duplicateRows).toBe(2);
    expect(report.problems).toContainEqual({
      code: 'too_many_duplicates',
      message: '2 rows repeating an earlier "id" (50.0%), above the limit of 25.0%',
    });
  });

  it('does not count different customers with the same values as duplicates', () => {
    const t = table(
      ['id', 'tenure', 'plan', 'churned'],
      [
        ['a', '1', 'basic', 'no'],
        ['b', '1', 'basic', 'no'],
        ['c', '2', 'pro', 'yes'],
        ['d', '2', 'pro', 'yes'],
      ],
    );
    expect(validateDataset(t, withId()).duplicateRows).toBe(0);
  });

  it('without an id, compares whole rows', () => {
    const t = table(
      ['tenure', 'plan', 'churned', 'loaded_at'],
      [
        ['1', 'basic', 'no', 't1'],
        ['1', 'basic', 'no', 't2'],
        ['2', 'pro', 'yes', 't3'],
        ['2', 'pro', 'yes', 't3'],
      ],
    );
    expect(validateDataset(t, pipeline()).duplicateRows).toBe(1);
  });
});

describe('labels every row needs', () => {
  it('reports an empty label even when maxNullShare would allow it, with the count and the first row', () => {
    const t = good();
    t.rows[2][2] = null;
    const report = validateDataset(t, pipeline({}, { maxNullShare: 0.25 }));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      {
        code: 'missing_label',
        column: 'churned',
        message: 'label "churned" is missing in 1 of 4 rows (first: row 3): every row needs a label',
      },
    ]);
  });

  it('counts blank labels, and names the first row by its id when there is an id column', () => {
    const t = table(
      ['id', 'tenure', 'plan', 'churned'],
      goodRows.map((r, i) => [`c${i}`, ...r]),
    );
    t.rows[1][3] = '  ';
    t.rows[3][3] = null;
    const report = validateDataset(t, pipeline({ idColumn: 'id' }, { maxNullShare: 0.5 }));
    expect(report.problems.filter((p) => p.code === 'missing_label')).toEqual([
      {
        code: 'missing_label',
        column: 'churned',
        message: 'label "churned" is missing in 2 of 4 rows (first: row 2, id "c1"): every row needs a label',
      },
    ]);
  });

  it('counts NaN and other missing markers as a missing regression label', () => {
    const p = pipeline({ task: 'regression', label: 'price', metrics: { primary: 'rmse' } }, { maxNullShare: 0.5 });
    const t = table(
      ['tenure', 'plan', 'price'],
      [
        ['1', 'a', '10.5'],
        ['2', 'b', 'NaN'],
        ['3', 'a', '-3e2'],
        ['4', 'b', null],
      ],
    );
    expect(validateDataset(t, p).problems).toEqual([
      {
        code: 'missing_label',
        column: 'price',
        message: 'label "price" is missing in 2 of 4 rows (first: row 2): every row needs a label',
      },
    ]);
  });

  it('keeps "NA" as a class name in classification', () => {
    const t = good();
    t.rows[0][2] = 'NA';
    t.rows[1][2] = 'NA';
    expect(validateDataset(t, pipeline()).ok).toBe(true);
  });
});

describe('label classes the champion does not know', () => {
  const champion = { version: 'v0123456789ab', classes: ['no', 'yes'] };

  it('reports a class the champion does not know, naming it, its rows and the champion', () => {
    const t = good();
    t.rows[1][2] = 'maybe';
    t.rows[3][2] = 'maybe';
    const report = validateDataset(t, pipeline(), champion);
    expect(report.ok).toBe(false);
    expect(report.labelClasses).toEqual({ no: 2, maybe: 2 });
    expect(report.problems).toEqual([
      {
        code: 'new_label_class',
        column: 'churned',
        message:
          'label "churned" has a class the champion v0123456789ab does not know: "maybe" (2 rows, 50.0%; first: row 2); ' +
          'the champion knows "no", "yes". New label classes are not accepted: the champion cannot score rows of a new class, ' +
          'so a new model could not be compared with it. Fix the labels if the class is a mistake',
      },
    ]);
  });

  it('accepts classes the champion knows, also when some of them are absent', () => {
    expect(validateDataset(good(), pipeline(), champion).ok).toBe(true);
    expect(validateDataset(good(), pipeline(), { version: 'v1', classes: ['no', 'yes', 'maybe'] }).ok).toBe(true);
  });

  it('checks nothing without a champion or for a champion without classes (regression)', () => {
    const t = good();
    t.rows[1][2] = 'maybe';
    expect(validateDataset(t, pipeline()).ok).toBe(true);
    expect(validateDataset(t, pipeline(), { version: 'v1', classes: null }).ok).toBe(true);
  });

  it('reports a blank label as missing, not as a new class', () => {
    const t = good();
    t.rows[1][2] = ' ';
    expect(codes(validateDataset(t, pipeline({}, { maxNullShare: 0.5 }), champion))).toEqual(['missing_label']);
  });
});

describe('unreadableReport', () => {
  it("is a failed report with one unreadable problem carrying the reader's message", () => {
    expect(unreadableReport('data.csv: not valid UTF-8 at line 3')).toEqual({
      ok: false,
      rows: 0,
      problems: [{ code: 'unreadable', message: 'data.csv: not valid UTF-8 at line 3' }],
      notes: [],
      columns: [],
      labelClasses: null,
      duplicateRows: 0,
    });
  });
});

describe('many label classes the champion does not know', () => {
  it('names the first three with their first rows, and counts the rest', () => {
    const t = table(
      ['tenure', 'plan', 'churned'],
      ['no', 'yes', 'a', 'b', 'b', 'c', 'd', 'e'].map((label, i) => [String(i), 'basic', label]),
    );
    const report = validateDataset(t, pipeline(), { version: 'v1', classes: ['no', 'yes'] });
    expect(report.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(
        /^label "churned" has 5 classes the champion v1 does not know: "a" \(1 rows, 12\.5%; first: row 3\), "b" \(2 rows, 25\.0%; first: row 4\), "c" \(1 rows, 12\.5%; first: row 6\), and 2 more; the champion knows "no", "yes"\./,
      ),
    ]);
  });
});
