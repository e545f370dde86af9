import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTemporalCli } from '../scripts/provision.mjs';
import type { RunStatus } from '../shared/status';
import { expectRunFailure } from './helpers/runs';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';

/*
 * The workflows started and driven by model name from another Temporal client than Retrain's
 * own: the `temporal` CLI, found the way `retrain dev` finds it. The workers load the pipeline
 * from their project's pipelines/ directory.
 */

const run = promisify(execFile);
const temporalCli = findTemporalCli();
const MODEL = 'cli-churn';

let h: Harness;
let projectDir: string;

beforeAll(async () => {
  projectDir = mkdtempSync(join(tmpdir(), 'retrain-project-'));
  mkdirSync(join(projectDir, 'pipelines'));
  const pipeline = testPipeline({
    name: MODEL,
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
    approval: { mode: 'manual', approvers: ['alice@example.com'], timeout: '1h' },
    drift: { window: '1h', minPredictions: 30 },
  });
  // A pipeline file as a project has it (its paths are absolute: the example data of the repository).
  writeFileSync(join(projectDir, 'pipelines', `${MODEL}.ts`), `export default ${JSON.stringify(pipeline, null, 2)};\n`);
  h = await startHarness({ projectDir });
});
afterAll(async () => {
  await h?.close();
});

/** Runs `temporal <args>` against the harness's server; resolves with stdout, rejects with the CLI's error. */
async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await run(temporalCli!, [...args, '--address', h.config.temporalAddress, '--namespace', 'default'], {
    timeout: 30_000,
  });
  return stdout;
}

/** The CLI's failure: its exit code and what it printed. */
async function temporalFails(...args: string[]): Promise<{ code: unknown; output: string }> {
  return temporal(...args).then(
    (stdout) => {
      throw new Error(`expected temporal ${args.join(' ')} to fail; it printed:\n${stdout}`);
    },
    (err: { code?: unknown; stdout?: string; stderr?: string }) => ({ code: err.code, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
}

async function status(workflowId: string): Promise<RunStatus | null> {
  try {
    const out = JSON.parse(await temporal('workflow', 'query', '--workflow-id', workflowId, '--type', 'status', '-o', 'json'));
    return out.queryResult[0] as RunStatus;
  } catch {
    return null; // the run may not answer yet: its first step loads the pipeline
  }
}

describe.skipIf(!temporalCli)('the temporal CLI', () => {
  it('starts a retraining run by model name, is refused by a non-approver, approves and promotes', async () => {
    const workflowId = `retrain-${MODEL}`;
    const input = JSON.stringify({ model: MODEL, requestedBy: 'cli', trainingTaskQueue: h.config.trainingTaskQueue });
    await temporal(
      'workflow',
      'start',
      '--type',
      'retrainPipeline',
      '--task-queue',
      h.config.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      input,
    );
    // It answers at once, while the worker still loads the pipeline by name.
    const first = JSON.parse(await temporal('workflow', 'query', '--workflow-id', workflowId, '--type', 'status', '-o', 'json'));
    expect(first.queryResult[0]).toMatchObject({ model: MODEL, requestedBy: 'cli', outcome: 'running' });

    let current: RunStatus | null = null;
    for (let i = 0; i < 240 && current?.step !== 'approval' && (current?.outcome ?? 'running') === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      current = await status(workflowId);
    }
    expect(current).toMatchObject({ model: MODEL, step: 'approval', requestedBy: 'cli' });
    expect(current!.approval).toMatchObject({ required: true, approvers: ['alice@example.com'], decision: 'pending' });

    const refused = await temporalFails(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      workflowId,
      '--name',
      'approveCandidate',
      '--input',
      '{"by":"mallory"}',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/not a listed approver/);

    await temporal(
      'workflow',
      'signal',
      '--workflow-id',
      workflowId,
      '--name',
      'approve',
      '--input',
      '{"by":"alice@example.com","reason":"cli"}',
    );
    const result = JSON.parse(await temporal('workflow', 'result', '--workflow-id', workflowId, '-o', 'json'));
    const summary = result.result as RunStatus;
    expect(summary).toMatchObject({ model: MODEL, outcome: 'promoted', championAfter: current!.version });
    expect(summary.approval).toMatchObject({ decision: 'approved', by: 'alice@example.com', reason: 'cli' });
  });

  it('runs a drift check by model name', async () => {
    const out = JSON.parse(
      await temporal(
        'workflow',
        'execute',
        '--type',
        'driftCheck',
        '--task-queue',
        h.config.taskQueue,
        '--workflow-id',
        `drift-${MODEL}-cli`,
        '--input',
        JSON.stringify({ model: MODEL, trigger: 'cli' }),
        '-o',
        'json',
      ),
    );
    // The champion promoted above; no prediction has been logged for it.
    expect(out.result).toMatchObject({ model: MODEL, outcome: 'not-enough-data' });
  });

  it.each([
    ['{}', /retrainPipeline takes \{"model": "<pipeline name>", …}.*got neither/],
    ['{"model":3}', /"model" must be a pipeline name .*got 3/],
    ['{"model":"churn","pipeline":{}}', /not both/],
    ['{"model":"no-such-model"}', /unknown pipeline "no-such-model"/],
  ])('fails at once with InvalidInput on %s', async (input, message) => {
    const workflowId = `retrain-invalid-${Math.random().toString(36).slice(2, 8)}`;
    const failed = await temporalFails(
      'workflow',
      'execute',
      '--type',
      'retrainPipeline',
      '--task-queue',
      h.config.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      input,
    );
    expect(failed.code).not.toBe(0);
    expect(failed.output).toMatch(message);
    // Not retried: the first failure is the run's.
    const { application } = await expectRunFailure(h.client.workflow.getHandle(workflowId));
    expect(application).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
  });
});
