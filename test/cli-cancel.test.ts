import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrainWorkflowId } from '../client/client';
import { statusQuery } from '../shared/messages';
import { REPO, startHarness, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { waitForStep } from './helpers/runs';

const exec = promisify(execFile);
let h: Harness;
let project: string;

/** Runs the real `retrain` binary against the test server, in a project of its own. */
async function retrain(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(REPO, 'bin/retrain.mjs'), ...args], {
      cwd: project,
      timeout: 60_000,
      env: {
        ...process.env,
        RETRAIN_TEMPORAL_ADDRESS: h.config.temporalAddress,
        RETRAIN_STORE: h.store.location,
        RETRAIN_WORK_DIR: h.config.workDir,
        RETRAIN_TASK_QUEUE: h.config.taskQueue,
        RETRAIN_TRAINING_TASK_QUEUE: h.config.trainingTaskQueue,
        ...env,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function writePipeline(name: string, extra = ''): void {
  writeFileSync(
    join(project, 'pipelines', `${name}.ts`),
    `import { definePipeline } from ${JSON.stringify(join(REPO, 'lib/pipeline.ts'))};
export default definePipeline({
  name: ${JSON.stringify(name)},
  task: 'classification',
  source: { path: ${JSON.stringify(join(REPO, 'examples/data/churn.csv'))} },
  label: 'churned',
  features: [{ name: 'tenure_months', type: 'numeric' }, { name: 'plan', type: 'categorical' }],
  training: { command: ${JSON.stringify(TRIVIAL_TRAINER)}, predictCommand: ${JSON.stringify(TRIVIAL_PREDICT)} },
  metrics: { primary: 'accuracy' },
  owners: { monitoring: 'm@x', retraining: 'r@x', inference: 'i@x', logging: 'l@x' },
  ${extra}
});
`,
  );
}

beforeAll(async () => {
  h = await startHarness();
  project = mkdtempSync(join(tmpdir(), 'retrain-cancel-'));
  mkdirSync(join(project, 'pipelines'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'a-user-project', type: 'module', private: true }));
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
