import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { startHarness, testPipeline, type Harness } from './helpers/harness';
import { activityAttempts } from './helpers/runs';

/*
 * Any Temporal client can start a workflow, so each run checks its input when it starts (a local
 * activity on the worker, with the same zod schemas the CLI uses): bad input fails the run at
 * once, not retried, with the same InvalidInput failure the workflow used to throw itself.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const start = (workflowType: string, input: unknown) =>
  h.client.workflow.start(workflowType, {
    taskQueue: h.config.taskQueue,
    workflowId: `${workflowType}-input-${Math.random().toString(36).slice(2, 8)}`,
    args: [input],
  });

/** The run's failure: an InvalidInput ApplicationFailure of the run itself, not one wrapped in an activity failure. */
async function invalidInput(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const failure = (err as WorkflowFailedError).cause;
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
  return failure as ApplicationFailure;
}

describe('a run checks its input when it starts', () => {
  it('fails an invalid inline pipeline at once, not retried, naming each field', async () => {
    const pipeline = { ...testPipeline({ name: 'input-bad' }), name: 'Bad Name', task: 'clustering', holdout: { fraction: 2 } };
    const handle = await start('retrainPipeline', { pipeline, requestedBy: 'test' });
    const failure = await invalidInput(handle);

    expect(failure.message).toMatch(/^pipeline definition is invalid:\n/);
    expect(failure.message).toContain('  - name: expected lowercase letters, digits and dashes, starting with a letter');
    expect(failure.message).toMatch(/ {2}- task: .*"classification"/);
    expect(failure.message).toMatch(/ {2}- holdout\.fraction: /);
    const [details] = failure.details as [{ issues: { path: unknown[] }[] }];
    expect(details.issues.map((i) => i.path[0])).toEqual(expect.arrayContaining(['name', 'task', 'holdout']));
    // One attempt of the check and nothing else: no step ran, nothing was written.
    expect(await activityAttempts(handle)).toEqual({ checkRetrainInput: [1] });
    expect(await listAudit(h.store, 'input-bad')).toEqual([]);
  });

  it('fails an input that is neither a pipeline nor a model name', async () => {
    const failure = await invalidInput(await start('retrainPipeline', { requestedBy: 'test' }));
    expect(failure.message).toMatch(/^retrainPipeline takes \{"model": "<pipeline name>", …}.*got neither/);
  });

  it('fails a drift check of an invalid inline pipeline the same way', async () => {
    const failure = await invalidInput(await start('driftCheck', { pipeline: { name: 'drift-bad' }, trigger: 'test' }));
    expect(failure.message).toMatch(/^pipeline definition is invalid:\n/);
    expect(failure.message).toMatch(/ {2}- owners: /);
  });

  it('fails a rollback request without a reason, naming the field', async () => {
    const failure = await invalidInput(await start('rollbackModel', { model: 'input-rollback', reason: '', requestedBy: 'test' }));
    expect(failure.message).toBe('rollback request is invalid:\n  - reason: a rollback needs a reason (it goes into the audit log)');
  });
});
