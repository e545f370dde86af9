import { makeUserProject, runCli, writeTestPipeline } from './helpers/cli-project';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideCandidate, retrainWorkflowId, startRetrain } from '../client/client';
import { followRun } from '../client/follow';
import { NoWorkerPollingError, retrainQueues } from '../client/pollers';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { waitForStep } from './helpers/runs';

let h: Harness;
let project: string;

/** Runs the real `retrain` binary in this file's project against its harness, timed (ms). */
async function retrain(args: string[]) {
  const started = Date.now();
  const result = await runCli(h, project, args);
  return { ...result, ms: Date.now() - started };
}

const writePipeline = (name: string, extra = '') => writeTestPipeline(project, name, extra);

/** A manual-approval pipeline on the trivial trainer: it runs to the approval step in seconds. */
function approvalPipeline(name: string, approvers = ['alice@example.com', 'bob@example.com']) {
  return testPipeline({
    name,
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
    approval: { mode: 'manual', approvers, timeout: '1h' },
  });
}

const START_ONE = 'start one with `npx retrain worker` or `npx retrain dev`';
/** Well under the 31 s a status query takes to time out, and the minutes an update waits. */
const PROMPTLY_MS = 20_000;

beforeAll(async () => {
  h = await startHarness({ runWorkers: false });
  project = makeUserProject('retrain-no-worker-');
  writePipeline('nw-model');
  writePipeline('nw-approval', `approval: { mode: 'manual', approvers: ['alice'], timeout: '1h' },`);
});
afterAll(async () => {
  await h?.close();
});

describe('commands that need a worker, when none polls', () => {
  it('run --wait refuses at once, naming both task queues, and starts nothing', async () => {
    const run = await retrain(['run', 'nw-model', '--wait']);
    expect(run.ms).toBeLessThan(PROMPTLY_MS);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `no worker is polling task queues ${h.config.taskQueue} (workflows) and ${h.config.trainingTaskQueue} (activities): ${START_ONE}. No run was started`,
    );
    expect(run.stdout).not.toMatch(/Started/);
    await expect(h.client.workflow.getHandle(retrainWorkflowId('nw-model')).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('run without --wait warns and starts; status, approve and drift then answer promptly instead of hanging', async () => {
    const started = await retrain(['run', 'nw-approval']);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/Started retrain-nw-approval/);
    expect(started.stderr).toMatch(/warning: no worker is polling task queues .*The run is started anyway and waits until one does/);

    const [status, statusJson, approve, approveJson, drift] = await Promise.all([
      retrain(['status', 'nw-approval']),
      retrain(['status', 'nw-approval', '--json']),
      retrain(['approve', 'nw-approval', '--by', 'alice']),
      retrain(['approve', 'nw-approval', '--by', 'alice', '--json']),
      retrain(['drift', 'nw-approval']),
    ]);

    // status: what the server knows, without the query that would time out.
    expect(status.ms).toBeLessThan(PROMPTLY_MS);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^nw-approval: running for \d+s \(started .*\); what the server knows:$/m);
    expect(status.stdout).toMatch(/its next workflow task waits for a worker/);
    expect(status.stdout).toContain(`workflow: retrain-nw-approval (running) on task queue ${h.config.taskQueue}`);
    expect(status.stderr).toContain(`no worker is polling task queue ${h.config.taskQueue} (workflows): ${START_ONE}`);
    expect(status.stderr).not.toMatch(/ServiceError|at .*\.js:\d+/);
    expect(statusJson.code).toBe(1);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({
      workflowId: 'retrain-nw-approval',
      workflowStatus: 'RUNNING',
      lastKnown: { taskQueue: h.config.taskQueue, workflowTaskPending: true },
      error: { type: 'NoWorkerPolling', message: expect.stringContaining('no worker is polling task queue') },
    });

    // approve: refused before the update is sent (it would wait for a worker for minutes).
    expect(approve.ms).toBeLessThan(PROMPTLY_MS);
    expect(approve.code).toBe(1);
    expect(approve.stderr).toContain(`retrain: no worker is polling task queue ${h.config.taskQueue} (workflows): ${START_ONE}`);
    expect(approve.stderr).toMatch(/The approval was not sent/);
    expect(approveJson.code).toBe(1);
    expect(JSON.parse(approveJson.stdout)).toEqual({
      error: { type: 'NoWorkerPolling', message: expect.stringMatching(/^no worker is polling task queue .*The approval was not sent$/) },
    });

    // drift: refused before a check is started.
    expect(drift.ms).toBeLessThan(PROMPTLY_MS);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain(
      `no worker is polling task queue ${h.config.taskQueue} (workflows): ${START_ONE}. No drift check was started`,
    );

    await h.client.workflow.getHandle(retrainWorkflowId('nw-approval')).terminate('test over');
  });

  it('followRun reports a run whose queue has no worker instead of waiting for it', async () => {
    const { handle } = await startRetrain(h.client, h.config, approvalPipeline('nw-follow'));
    const lines: string[] = [];
    const started = Date.now();
    const err = await followRun(handle, { print: (l) => lines.push(l) }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(err).toBeInstanceOf(NoWorkerPollingError);
    expect((err as Error).message).toBe(
      `no worker is polling task queue ${h.config.taskQueue} (workflows): ${START_ONE}. retrain-nw-follow waits and goes on when a worker polls again (see \`npx retrain check\`)`,
    );
    await handle.terminate('test over');
  });
});

describe('following a run with workers', () => {
  beforeAll(async () => {
    await h.startWorkers();
  });

  it('says who may approve and the commands to type, and how long it has been waiting', async () => {
    const pipeline = approvalPipeline('follow-approval');
    const { handle } = await startRetrain(h.client, h.config, pipeline);
    const lines: string[] = [];
    let approving: Promise<unknown> | null = null;
    const { status } = await followRun(handle, {
      workers: retrainQueues(h.config),
      progressEveryMs: 500,
      print: (line) => {
        lines.push(line);
        // Decide only once the wait has been reported.
        if (/still waiting for approval/.test(line))
          approving ??= decideCandidate(h.client, pipeline.name, 'approve', { by: 'bob@example.com', reason: 'fine' });
      },
    });
    await approving;
    expect(status.outcome).toBe('promoted');
    const at = lines.findIndex((l) => /→ waiting for approval/.test(l));
    expect(lines.slice(at + 1, at + 4)).toEqual([
      '    needs a decision from one of its approvers: alice@example.com, bob@example.com',
      '    approve: npx retrain approve follow-approval --by <one of the approvers> --reason "…"',
      '    reject:  npx retrain reject follow-approval --by <one of the approvers> --reason "…"',
    ]);
    expect(lines.slice(at + 4).find((l) => /still waiting/.test(l))).toMatch(/^ {4}still waiting for approval \(\d+s\)$/);
  });

  it('reports a worker that stopped while the run waits, although the server still lists it', async () => {
    const { handle } = await startRetrain(h.client, h.config, approvalPipeline('follow-dead-worker', ['alice']));
    await waitForStep(handle, 'approval');
    await h.stopWorkers();
    try {
      // The stopped worker is still listed as a poller: only its age says it is gone.
      const listed = await h.client.workflowService.describeTaskQueue({
        namespace: h.config.namespace,
        taskQueue: { name: h.config.taskQueue },
        taskQueueType: 1,
      });
      expect(listed.pollers?.length).toBeGreaterThan(0);
      const err = await followRun(handle, { print: () => undefined, workerCheckEveryMs: 500, staleAfterMs: 1_000 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NoWorkerPollingError);
      expect((err as Error).message).toMatch(
        new RegExp(`^no worker is polling task queue ${h.config.taskQueue} \\(workflows\\).*retrain-follow-dead-worker waits`),
      );
    } finally {
      await handle.terminate('test over');
    }
  });
});
