import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createActivities } from '../activities';
import { step } from '../activities/step';
import { startRetrain } from '../client/client';
import type { Pipeline } from '../lib/pipeline';
import type { DatasetSnapshot } from '../shared/results';
import { startHarness, testPipeline, type Harness } from './helpers/harness';
import { activityAttempts, expectRunFailure, waitFor } from './helpers/runs';

let h: Harness;
let worker: Worker;
let pulls = 0;

/** A pull step with a bug: it spreads a few million values into one call and overflows the stack. */
async function buggySnapshot(input: { pipeline: Pipeline }): Promise<DatasetSnapshot> {
  return step('pull', { model: input.pipeline.name }, async () => {
    pulls++;
    const values: number[] = [];
    values.push(...new Array<number>(5_000_000).fill(0));
    throw new Error('unreachable');
  });
}

beforeAll(async () => {
  h = await startHarness({ runWorkers: false });
  // The real workflows and light activities, with the pull step replaced by the buggy one.
  worker = await Worker.create({
    connection: h.connection,
    namespace: h.config.namespace,
    taskQueue: h.config.taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: { ...createActivities({ store: h.store, config: h.config }), snapshotDataset: buggySnapshot },
  });
  void worker.run();
});
afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  while (worker && worker.getState() !== 'STOPPED' && worker.getState() !== 'FAILED') await new Promise((r) => setTimeout(r, 50));
  await h?.close();
});

describe('a step that hits a bug in Retrain', () => {
  it('fails after one attempt as InternalError, saying what was thrown and where', async () => {
    // The pull step's retry policy allows 10 attempts over minutes: a bug must not use them.
    const { handle } = await startRetrain(h.client, h.config, testPipeline({ name: 'step-bug' }));
    await waitFor(
      'the run to end or the pull step to be retried',
      async () => pulls > 1 || (await handle.describe()).status.name !== 'RUNNING',
    );
    expect(pulls).toBe(1);
    const { application, activity } = await expectRunFailure(handle);

    expect(activity?.activityType).toBe('snapshotDataset');
    expect(application.type).toBe('InternalError');
    expect(application.nonRetryable).toBe(true);
    expect(application.message).toMatch(
      /^internal error \(a bug in Retrain, not retried\): RangeError: Maximum call stack size exceeded at .*step-failures\.test\.ts/,
    );
    expect((await activityAttempts(handle)).snapshotDataset).toEqual([1]);
    expect(pulls).toBe(1);
  });
});
