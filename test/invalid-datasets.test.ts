import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { readPointer, listVersions } from '../services/registry';
import { loadSnapshot, snapshotSource, splitSnapshot, validateSnapshot } from '../services/datasets';
import { InvalidDatasetError } from '../lib/errors';
import type { ValidationReport } from '../lib/validate-dataset';
import { startRetrain } from '../client/client';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { activityAttempts, expectRunFailure, tempDir } from './helpers/runs';

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = tempDir('datasets');
});
afterAll(async () => {
  await h?.close();
});

const HEADER = ['customer_id', 'tenure_months', 'monthly_spend', 'support_tickets', 'plan', 'churned'];

/** A valid churn-like table of `n` distinct rows; `edit` changes row i (a record by column name). */
function rows(n: number, edit: (row: Record<string, string>, i: number) => void = () => undefined): Record<string, string>[] {
  return Array.from({ length: n }, (_, i) => {
    const row: Record<string, string> = {
      customer_id: `c${String(i).padStart(4, '0')}`,
      tenure_months: String(1 + (i % 48)),
      monthly_spend: (20 + i * 1.5).toFixed(2),
      support_tickets: String(i % 5),
      plan: ['basic', 'pro', 'team'][i % 3],
      churned: i % 3 === 0 ? 'yes' : 'no',
    };
    edit(row, i);
    return row;
  });
}

function writeCsv(file: string, data: Record<string, string>[], columns = HEADER): string {
  const path = join(dir, file);
  writeFileSync(path, [columns.join(','), ...data.map((r) => columns.map((c) => r[c] ?? '').join(','))].join('\n') + '\n');
  return path;
}

function writeCsvText(data: Record<string, string>[], columns = HEADER): string {
  return [columns.join(','), ...data.map((r) => columns.map((c) => r[c] ?? '').join(','))].join('\n') + '\n';
}

function pipelineOn(name: string, path: string) {
  return testPipeline({ name, source: { path }, training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT } });
}

interface DatasetFailureDetails {
  context: { model: string; step: string };
  report: ValidationReport;
}

/** Runs the pipeline on `path`, expects validation to fail non-retryably, returns the failure. */
async function failValidation(name: string, path: string) {
  const { handle } = await startRetrain(h.client, h.config, pipelineOn(name, path));
  const { application } = await expectRunFailure(handle);
  expect(application.type).toBe('InvalidDataset');
  expect(application.nonRetryable).toBe(true);
  // The validation step failed, once (a local activity for a small snapshot: no activity failure wraps it).
  expect((await activityAttempts(handle)).validateSnapshot).toEqual([1]);
  const details = application.details?.[0] as DatasetFailureDetails;
  expect(details.context).toMatchObject({ model: name, step: 'validate' });
  expect(details.report.ok).toBe(false);
  // Nothing was trained from a bad dataset.
  expect(await listVersions(h.store, name)).toEqual([]);
  expect(Object.keys(await activityAttempts(handle))).not.toContain('trainModel');
  return { message: application.message, report: details.report, handle };
}

describe('an invalid dataset', () => {
  it('fails the run when a column is missing', async () => {
    const path = writeCsv(
      'missing-column.csv',
      rows(60),
      HEADER.filter((c) => c !== 'support_tickets'),
    );
    const { message, report } = await failValidation('data-missing-column', path);
    expect(report.problems).toEqual([expect.objectContaining({ code: 'missing_column', column: 'support_tickets' })]);
    expect(message).toMatch(/feature column "support_tickets" is missing/);
  });

  it('fails the run when a numeric feature holds text', async () => {
    const path = writeCsv(
      'wrong-type.csv',
      rows(60, (r, i) => i === 10 && (r.monthly_spend = 'lots')),
    );
    const { message, report } = await failValidation('data-wrong-type', path);
    expect(report.problems).toEqual([expect.objectContaining({ code: 'wrong_type', column: 'monthly_spend' })]);
    expect(message).toMatch(/"monthly_spend" should be numeric but 1 values are not \(e\.g\. "lots"\)/);
  });

  it('fails the run when the file has a header and no rows', async () => {
    const path = writeCsv('empty.csv', []);
    const { message, report } = await failValidation('data-empty', path);
    expect(report.rows).toBe(0);
    expect(report.problems.map((p) => p.code)).toEqual(['empty']);
    expect(message).toMatch(/the dataset has no rows/);
  });

  it('fails the run when a column has too many missing values', async () => {
    const path = writeCsv(
      'nulls.csv',
      rows(60, (r, i) => i % 5 === 0 && (r.tenure_months = i % 10 === 0 ? '' : 'NaN')),
    );
    const { message, report } = await failValidation('data-nulls', path);
    expect(report.problems).toEqual([expect.objectContaining({ code: 'too_many_nulls', column: 'tenure_months' })]);
    expect(message).toMatch(/"tenure_months" has 12 missing values \(20\.0%\), above the limit of 5\.0%/);
  });

  it('fails the run when the label has a single class', async () => {
    const path = writeCsv(
      'single-class.csv',
      rows(60, (r) => (r.churned = 'no')),
    );
    const { message, report } = await failValidation('data-single-class', path);
    expect(report.problems).toEqual([expect.objectContaining({ code: 'single_class', column: 'churned' })]);
    expect(report.labelClasses).toEqual({ no: 60 });
    expect(message).toMatch(/a single class \("no"\)/);
  });

  it('fails the run when there are more duplicate rows than allowed', async () => {
    const path = writeCsv('duplicates.csv', [...rows(60), ...rows(10)]);
    const { message, report } = await failValidation('data-duplicates', path);
    expect(report.duplicateRows).toBe(10);
    expect(report.problems.map((p) => p.code)).toEqual(['too_many_duplicates']);
    expect(message).toMatch(/10 rows repeating an earlier "customer_id" \(14\.3%\), above the limit of 5\.0%/);
  });

  it('lists every problem at once, not just the first', async () => {
    const distinct = rows(40, (r, i) => {
      r.churned = 'yes';
      if (i === 3) r.support_tickets = 'many';
      if (i % 4 === 0) r.plan = '';
    });
    const data = [...distinct, ...distinct.slice(0, 5)];
    const path = writeCsv(
      'many-problems.csv',
      data,
      HEADER.filter((c) => c !== 'tenure_months'),
    );
    const { message, report, handle } = await failValidation('data-many-problems', path);

    const codes = report.problems.map((p) => p.code).sort();
    expect(codes).toEqual(['missing_column', 'single_class', 'too_few_rows', 'too_many_duplicates', 'too_many_nulls', 'wrong_type']);
    for (const problem of report.problems) expect(message).toContain(problem.message);

    // The failed validation is audited with the same report.
    const audit = (await listAudit(h.store, 'data-many-problems')).filter((e) => e.type === 'validation');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ outcome: 'failed', workflowId: handle.workflowId });
    expect(audit[0].summary).toMatch(/^6 problem\(s\):/);
    expect((audit[0].details.report as ValidationReport).problems.map((p) => p.code).sort()).toEqual(codes);
  });
});

describe('data that cannot be read as it is', () => {
  it('fails the run when bytes are not UTF-8 (latin1 "café"), naming the line, row and column', async () => {
    const path = join(dir, 'latin1.csv');
    // Row 5's plan is "café" saved as latin1: é is the single byte 0xE9.
    writeFileSync(path, Buffer.from(writeCsvText(rows(60, (r, i) => i === 4 && (r.plan = 'café'))), 'latin1'));
    const { message, report, handle } = await failValidation('data-latin1', path);
    expect(report.problems).toEqual([expect.objectContaining({ code: 'unreadable' })]);
    expect(message).toMatch(/not valid UTF-8 at line 6 \(row 5, column "plan"\): byte 0xE9 after "c0004,5,26\.00,4,caf"/);
    expect(message).toContain("declare encoding: 'latin1'");
    const audit = (await listAudit(h.store, 'data-latin1')).filter((e) => e.type === 'validation');
    expect(audit).toMatchObject([{ outcome: 'failed', workflowId: handle.workflowId }]);
  });

  it('fails the run when the header names a column twice, naming it', async () => {
    const path = writeCsv('twice.csv', rows(60), [...HEADER, 'plan']);
    const { message, report } = await failValidation('data-column-twice', path);
    expect(report.problems.map((p) => p.code)).toEqual(['unreadable']);
    expect(message).toMatch(/column "plan" appears twice in the header \(columns 5 and 7\)/);
  });

  it('reads a source that declares latin1', async () => {
    const path = join(dir, 'declared-latin1.csv');
    const data = rows(60, (r, i) => i === 4 && (r.plan = 'café'));
    writeFileSync(path, Buffer.from(writeCsvText(data), 'latin1'));
    const pipeline = testPipeline({ name: 'data-declared-latin1', source: { path, encoding: 'latin1' } });
    const snapshot = await snapshotSource({ store: h.store, config: h.config }, pipeline);
    expect((await validateSnapshot(h.store, pipeline, snapshot)).ok).toBe(true);
    const table = await loadSnapshot(h.store, pipeline, snapshot);
    expect(table.rows[4][table.columns.indexOf('plan')]).toBe('café');
  });

  it('fails the split, not retried, when a holdout source is not UTF-8', async () => {
    const data = writeCsv('holdout-data.csv', rows(60));
    const holdout = join(dir, 'holdout-latin1.csv');
    writeFileSync(holdout, Buffer.from(writeCsvText(rows(10, (r, i) => i === 2 && (r.plan = 'café'))), 'latin1'));
    const pipeline = testPipeline({ name: 'data-holdout-latin1', source: { path: data }, holdout: { source: { path: holdout } } });
    const snapshot = await snapshotSource({ store: h.store, config: h.config }, pipeline);
    const err = await splitSnapshot({ store: h.store, config: h.config }, pipeline, snapshot).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidDatasetError);
    expect((err as InvalidDatasetError).retryable).toBe(false);
    expect((err as InvalidDatasetError).context).toEqual({ model: 'data-holdout-latin1', step: 'split' });
    expect((err as Error).message).toMatch(/not valid UTF-8 at line 4 \(row 3, column "plan"\)/);
  });
});

describe('labels', () => {
  it('fails the run when some labels are empty, though fewer than maxNullShare allows', async () => {
    const path = writeCsv(
      'empty-labels.csv',
      rows(60, (r, i) => (i === 7 || i === 30) && (r.churned = '')),
    );
    const { message, report } = await failValidation('data-empty-labels', path);
    expect(report.problems).toEqual([expect.objectContaining({ code: 'missing_label', column: 'churned' })]);
    expect(message).toContain('label "churned" is missing in 2 of 60 rows (first: row 8, customer_id "c0007"): every row needs a label');
  });

  it('fails at validation, registering nothing, when a label class is one the champion does not know', async () => {
    const name = 'data-new-class';
    const first = await startRetrain(h.client, h.config, pipelineOn(name, writeCsv('classes-before.csv', rows(60))));
    expect((await first.handle.result()).outcome).toBe('promoted');
    const champion = (await readPointer(h.store, name)).pointer.champion;
    expect(champion).toMatch(/^v/);

    // A quarter of the rows now carry a class the champion never saw.
    const path = writeCsv(
      'classes-after.csv',
      rows(80, (r, i) => i % 4 === 1 && (r.churned = 'maybe')),
    );
    const { handle } = await startRetrain(h.client, h.config, pipelineOn(name, path));
    const { application } = await expectRunFailure(handle);
    expect(application.type).toBe('InvalidDataset');
    expect(application.nonRetryable).toBe(true);
    expect((await activityAttempts(handle)).validateSnapshot).toEqual([1]);
    const report = (application.details?.[0] as DatasetFailureDetails).report;
    expect(report.problems).toEqual([expect.objectContaining({ code: 'new_label_class', column: 'churned' })]);
    expect(application.message).toContain(`label "churned" has a class the champion ${champion} does not know: "maybe" (20 rows, 25.0%`);
    expect(application.message).toContain('New label classes are not accepted');
    // Nothing was trained or registered, and the champion is untouched.
    expect(Object.keys(await activityAttempts(handle))).not.toContain('trainModel');
    expect((await listVersions(h.store, name)).map((v) => v.version)).toEqual([champion]);
    expect((await readPointer(h.store, name)).pointer.champion).toBe(champion);
  });
});

describe('a missing data source', () => {
  it('fails the run non-retryably with InvalidInput, naming the path', async () => {
    const path = join(dir, 'does-not-exist.csv');
    const { handle } = await startRetrain(h.client, h.config, pipelineOn('data-no-source', path));
    const { application, activity } = await expectRunFailure(handle);
    expect(activity?.activityType).toBe('snapshotDataset');
    expect(application.type).toBe('InvalidInput');
    expect(application.nonRetryable).toBe(true);
    expect(application.message).toContain(path);
    expect(application.message).toMatch(/does not exist/);
    expect((await activityAttempts(handle)).snapshotDataset).toEqual([1]);
    // Nothing was snapshotted: the one audit event is the failed run's, naming the step and the error.
    const audit = await listAudit(h.store, 'data-no-source');
    expect(audit.map((e) => e.type)).toEqual(['run-failed']);
    expect(audit[0].details).toMatchObject({ step: 'pull', errorType: 'InvalidInput', outcome: 'failed' });
  });
});
