import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSdkPython } from '../scripts/provision.mjs';
import { readPointer } from '../services/registry';
import { REPO, startHarness, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';

/*
 * The workflows driven by a client nobody here wrote: the Temporal Python SDK starts a run by
 * model name, reads its status, has an update refused and approves by signal, knowing only the
 * names the README documents. The SDK lives in .retrain/venv-sdk (scripts/setup.mjs installs
 * test/requirements-sdk.txt there).
 */

const exec = promisify(execFile);
const PYTHON = findSdkPython();
const CLIENT = join(REPO, 'test/helpers/python_sdk_client.py');
const MODEL = 'python-sdk-churn';
const APPROVER = 'alice@example.com';

const probe = spawnSync(PYTHON, ['-c', 'import temporalio'], { encoding: 'utf8' });
const sdkMissing =
  probe.error || probe.status !== 0
    ? `the Temporal Python SDK is not installed (${PYTHON}: ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}); run \`node scripts/setup.mjs\``
    : null;
if (sdkMissing) console.warn(`skipping test/python-sdk.test.ts: ${sdkMissing}`);

let h: Harness;

beforeAll(async () => {
  if (sdkMissing) return;
  const project = mkdtempSync(join(tmpdir(), 'retrain-project-'));
  mkdirSync(join(project, 'pipelines'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'a-python-sdk-project', type: 'module', private: true }));
  writeFileSync(
    join(project, 'pipelines', `${MODEL}.ts`),
    `import { definePipeline } from ${JSON.stringify(join(REPO, 'lib/pipeline.ts'))};
export default definePipeline({
  name: ${JSON.stringify(MODEL)},
  task: 'classification',
  source: { path: ${JSON.stringify(join(REPO, 'examples/data/churn.csv'))} },
  idColumn: 'customer_id',
  label: 'churned',
  positiveClass: 'yes',
  features: [
    { name: 'tenure_months', type: 'numeric' },
    { name: 'monthly_spend', type: 'numeric' },
    { name: 'plan', type: 'categorical' },
  ],
  holdout: { fraction: 0.25, seed: 7 },
  training: { command: ${JSON.stringify(TRIVIAL_TRAINER)}, predictCommand: ${JSON.stringify(TRIVIAL_PREDICT)} },
  metrics: { primary: 'accuracy' },
  approval: { mode: 'manual', approvers: [${JSON.stringify(APPROVER)}], timeout: '1h' },
  owners: { monitoring: 'm@example.com', retraining: 'r@example.com', inference: 'i@example.com', logging: 'l@example.com' },
});
`,
  );
  h = await startHarness({ projectDir: project });
});
afterAll(async () => {
  await h?.close();
});

describe.skipIf(sdkMissing !== null)('the Temporal Python SDK as a client', () => {
  it('starts a run by model name, has an unlisted approver refused, approves by signal and promotes', async () => {
    const { stdout, stderr } = await exec(
      PYTHON,
      [
        CLIENT,
        ['--address', h.config.temporalAddress],
        ['--task-queue', h.config.taskQueue],
        ['--training-task-queue', h.config.trainingTaskQueue],
        ['--model', MODEL],
        ['--approver', APPROVER],
        ['--intruder', 'mallory@example.com'],
      ].flat(),
      { timeout: 110_000 },
    ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(
        `the Python client failed (exit ${String((err as { code?: unknown }).code)}, signal ${String((err as { signal?: unknown }).signal)}): ${err.stdout || ''}${err.stderr || err.message}`,
      );
    });
    const report = JSON.parse(stdout.trim() || `{"error": ${JSON.stringify(`no report; stderr: ${stderr}`)}}`);
    expect(report.error).toBeUndefined();

    expect(report.workflowId).toBe(`retrain-${MODEL}`);
    expect(report.approvers).toEqual([APPROVER]);
    expect(report.refusal).toMatch(/mallory@example\.com is not a listed approver/);
    expect(report).toMatchObject({ outcome: 'promoted', approvedBy: APPROVER, requestedBy: 'python-sdk' });
    expect(report.version).toBe(report.candidate);
    expect(report.championAfter).toBe(report.version);

    const { pointer } = await readPointer(h.store, MODEL);
    expect(pointer.champion).toBe(report.version);
  });
});
