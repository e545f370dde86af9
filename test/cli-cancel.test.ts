import { makeUserProject, runCli, writeTestPipeline } from './helpers/cli-project';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrainWorkflowId } from '../client/client';
import { statusQuery } from '../shared/messages';
import { startHarness, type Harness } from './helpers/harness';
import { waitForStep } from './helpers/runs';

let h: Harness;
let project: string;

/** Runs the real `retrain` binary in this file's project against its harness. */
const retrain = (args: string[], env: Record<string, string> = {}) => runCli(h, project, args, env);

const writePipeline = (name: string, extra = '') => writeTestPipeline(project, name, extra);

beforeAll(async () => {
  h = await startHarness();
  project = makeUserProject('retrain-cancel-');
  writePipeline('cancel-never');
  writePipeline('cancel-approval', `approval: { mode: 'manual', approvers: ['alice'], timeout: '1h' },`);
});
afterAll(async () => {
  await h?.close();
});

describe('retrain cancel', () => {
  it('cancels the running run, which ends cancelled, and refuses when nothing runs', async () => {
    const started = await retrain(['run', 'cancel-approval']);
    expect(started.code).toBe(0);
    const handle = h.client.workflow.getHandle(retrainWorkflowId('cancel-approval'));
    await waitForStep(handle, 'approval');

    const cancel = await retrain(['cancel', 'cancel-approval']);
    expect(cancel.stderr).toBe('');
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(/^Cancelling retrain-cancel-approval \(run [0-9a-f-]+, step: approval\)\.$/m);
    expect(cancel.stdout).toMatch(/The run ends CANCELLED/);
    expect(cancel.stdout).toMatch(/a promotion already sent is seen through, then rolled back by the workflow/);
    expect(cancel.stdout).toMatch(/Next: npx retrain status cancel-approval/);

    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(await handle.query(statusQuery)).toMatchObject({ outcome: 'cancelled', message: 'cancelled during approval' });

    const again = await retrain(['cancel', 'cancel-approval']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'retrain: no running retraining run of cancel-approval: the latest one, retrain-cancel-approval, is cancelled, nothing to cancel\n',
    );
  });

  it('answers --json, for a cancellation and for a refusal', async () => {
    expect((await retrain(['run', 'cancel-approval'])).code).toBe(0);
    const handle = h.client.workflow.getHandle(retrainWorkflowId('cancel-approval'));
    const { runId } = await handle.describe();
    await waitForStep(handle, 'approval');

    const cancel = await retrain(['cancel', 'cancel-approval', '--json']);
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)).toEqual({
      workflowId: 'retrain-cancel-approval',
      runId,
      step: 'approval',
      cancelRequested: true,
      workerPolling: true,
    });
    await expect(handle.result()).rejects.toThrow();

    const never = await retrain(['cancel', 'cancel-never', '--json']);
    expect(never.code).toBe(1);
    expect(JSON.parse(never.stdout)).toEqual({
      error: { type: 'NotFound', message: 'cancel-never has no retraining run (retrain-cancel-never) to cancel' },
    });

    const unknown = await retrain(['cancel', 'no-such-pipeline']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no-such-pipeline/);
  });
});

describe('--json failures', () => {
  it('print an error object on stdout, whatever failed, with the exit code', async () => {
    const [badFlag, down, failed, unknownCommand] = await Promise.all([
      retrain(['run', 'cancel-never', '--bogus', '--json']),
      retrain(['status', 'cancel-never', '--json'], { RETRAIN_TEMPORAL_ADDRESS: '127.0.0.1:1' }),
      retrain(['status', 'cancel-never', '--json']),
      retrain(['nonsense', '--json']),
    ]);

    expect(badFlag.code).toBe(2);
    expect(JSON.parse(badFlag.stdout)).toEqual({ error: { type: 'InvalidInput', message: expect.stringContaining('--bogus') } });

    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout)).toEqual({
      error: { type: 'ServerUnreachable', message: expect.stringContaining('no Temporal server answers at 127.0.0.1:1') },
    });

    // A command that fails on its own terms (here: a pipeline that never ran) says why in the same shape.
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual({ error: { type: 'CommandFailed', message: expect.stringContaining('cancel-never') } });

    expect(unknownCommand.code).toBe(2);
    expect(JSON.parse(unknownCommand.stdout)).toEqual({
      error: { type: 'InvalidInput', message: expect.stringContaining('unknown command "nonsense"') },
    });

    // Without --json, stdout stays empty on failure.
    expect((await retrain(['status', 'cancel-never'])).stdout).toBe('');
  });
});
