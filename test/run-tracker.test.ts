import { describe, expect, it } from 'vitest';
import { initialApprovalState } from '../workflows/approval';
import { newRunStatus, RunTracker } from '../workflows/run-tracker';

const START = Date.parse('2024-01-01T10:00:00.000Z');
const start = { model: 'churn', requestedBy: null, reason: null, asOf: '2024-01-01T10:00:00.000Z', window: null };

/** A tracker over a fresh run whose clock only moves when the test says so. */
function tracker() {
  let now = START;
  const lines: { level: 'info' | 'warn'; message: string; meta?: Record<string, unknown> }[] = [];
  const status = newRunStatus({ ...start, requestedBy: 'alice', approval: initialApprovalState({ mode: 'auto' }) });
  const run = new RunTracker(
    status,
    {
      info: (message, meta) => lines.push({ level: 'info', message, meta }),
      warn: (message, meta) => lines.push({ level: 'warn', message, meta }),
    },
    () => now,
  );
  return { run, status, lines, advance: (ms: number) => void (now += ms) };
}

describe('newRunStatus', () => {
  it('starts running with nothing known but what it started with: model, who asked, asOf, window, approval state', () => {
    const approval = initialApprovalState({ mode: 'auto' });
    const status = newRunStatus({ ...start, approval });
    expect(status).toEqual({
      model: 'churn',
      requestedBy: null,
      reason: null,
      asOf: '2024-01-01T10:00:00.000Z',
      window: null,
      step: 'starting',
      outcome: 'running',
      version: null,
      reusedVersion: false,
      championBefore: null,
      championAfter: null,
      snapshot: null,
      metrics: null,
      gate: null,
      approval,
      message: null,
      steps: [],
    });
    expect(status.approval).toBe(approval);
    const window = { column: 'labelled_at', from: null, to: '2023-10-01T00:00:00.000Z' };
    expect(newRunStatus({ ...start, requestedBy: 'rails-app', reason: 'new labels', asOf: window.to, window, approval })).toMatchObject({
      requestedBy: 'rails-app',
      reason: 'new labels',
      asOf: window.to,
      window,
    });
  });
});

describe('RunTracker', () => {
  it('lists each step with its start and, once it ends, its duration', () => {
    const { run, status, advance } = tracker();
    run.enter('pull');
    expect(status.step).toBe('pull');
    expect(status.steps).toEqual([{ step: 'pull', startedAt: '2024-01-01T10:00:00.000Z', durationMs: null }]);
    advance(1500);
    run.enter('validate');
    advance(250);
    run.enter('split');
    expect(status.steps).toEqual([
      { step: 'pull', startedAt: '2024-01-01T10:00:00.000Z', durationMs: 1500 },
      { step: 'validate', startedAt: '2024-01-01T10:00:01.500Z', durationMs: 250 },
      { step: 'split', startedAt: '2024-01-01T10:00:01.750Z', durationMs: null },
    ]);
  });

  it('leaves one structured line per step that ends, with the version known by then', () => {
    const { run, status, lines, advance } = tracker();
    run.enter('plan');
    advance(20);
    status.version = 'v1';
    run.enter('train');
    expect(lines).toEqual([
      { level: 'info', message: 'step plan: ok', meta: { model: 'churn', version: 'v1', step: 'plan', outcome: 'ok', durationMs: 20 } },
    ]);
  });

  it('finishes: done is shown as the step but not listed, and the outcome is logged', () => {
    const { run, status, lines, advance } = tracker();
    run.enter('gate');
    advance(5);
    const summary = run.finish('rejected-by-gate', 'roc_auc below 0.7');
    expect(summary).toBe(status);
    expect(status).toMatchObject({ step: 'done', outcome: 'rejected-by-gate', message: 'roc_auc below 0.7' });
    expect(status.steps.map((s) => s.step)).toEqual(['gate']);
    expect(status.steps[0].durationMs).toBe(5);
    expect(lines.map((l) => l.message)).toEqual(['step gate: ok', 'finished: rejected-by-gate: roc_auc below 0.7']);
    expect(lines[1].meta).toEqual({ model: 'churn', version: null, step: 'done', outcome: 'rejected-by-gate' });
  });

  it('ends a step once: a failed step is not ended again as ok', () => {
    const { run, status, lines, advance } = tracker();
    run.enter('verify');
    advance(40);
    run.endStep('failed');
    advance(10);
    run.enter('rollback');
    expect(status.steps[0]).toMatchObject({ step: 'verify', durationMs: 40 });
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'step verify: failed',
        meta: expect.objectContaining({ step: 'verify', outcome: 'failed', durationMs: 40 }),
      },
    ]);
  });

  it('does nothing when no step has started', () => {
    const { run, lines } = tracker();
    run.endStep('failed');
    expect(lines).toEqual([]);
  });

  it('records a failure with the step it happened in', () => {
    const { run, status, lines } = tracker();
    run.enter('train');
    run.fail('failed', 'trainer exited with code 1');
    expect(status).toMatchObject({ step: 'train', outcome: 'failed', message: 'trainer exited with code 1' });
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', message: 'step train: failed' })]);
  });

  it('keeps the outcome of a run that already finished, and logs nothing more', () => {
    const { run, status, lines } = tracker();
    run.enter('verify');
    run.endStep('failed');
    run.enter('rollback');
    run.finish('rolled-back', 'v1 failed verification');
    const logged = lines.length;
    run.fail('failed', 'PromotionRolledBack');
    expect(status).toMatchObject({ step: 'done', outcome: 'rolled-back', message: 'v1 failed verification' });
    expect(lines).toHaveLength(logged);
  });
});
