import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun } from '../cli/format';
import { startRetrain } from '../client/client';
import type { PipelineInput } from '../lib/pipeline';
import { initialApprovalState } from '../workflows/approval';
import { newRunStatus } from '../workflows/run-tracker';
import { REPO, startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { expectRunFailure } from './helpers/runs';

const exec = promisify(execFile);
let h: Harness;
let project: string;

/** Runs the real `retrain` binary against the test server, in a project of its own. */
async function retrain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
  idColumn: 'customer_id',
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

/** Unique per file run: schedule ids are server-wide. */
const suffix = Math.random().toString(36).slice(2, 8);
const NO_CRON_NO_DRIFT = `msg-plain-${suffix}`;
const DRIFT_NO_CRON = `msg-drift-${suffix}`;
const NOT_APPLIED = `msg-cron-${suffix}`;

beforeAll(async () => {
  h = await startHarness();
  project = mkdtempSync(join(tmpdir(), 'retrain-messages-'));
  mkdirSync(join(project, 'pipelines'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'a-user-project', type: 'module', private: true }));
  writePipeline('msg-champion');
  writePipeline(NO_CRON_NO_DRIFT);
  writePipeline(DRIFT_NO_CRON, `drift: { window: '24h' },`);
  writePipeline(NOT_APPLIED, `drift: { window: '24h' }, schedule: { cron: '0 * * * *' },`);
});
afterAll(async () => {
  await h?.close();
});

describe('the champion of a run that stopped before reading the registry', () => {
  it('is "unknown" in the run summary, not "none → none"', () => {
    const status = {
      ...newRunStatus('m', null, initialApprovalState({ mode: 'auto' })),
      outcome: 'failed' as const,
      step: 'validate' as const,
    };
    expect(describeRun(status)).toMatch(/^ {2}champion: {10}unknown \(the run stopped before reading the registry\)$/m);
    expect(describeRun(status, { currentChampion: 'v0123456789ab' })).toMatch(
      /^ {2}champion: {10}v0123456789ab \(unchanged: the run stopped before reading the registry\)$/m,
    );
    expect(describeRun({ ...status, outcome: 'running', step: 'pull' })).toMatch(
      /^ {2}champion: {10}not read yet \(the run has not reached its plan step\)$/m,
    );
  });

  it('is the current champion in `retrain status`, read from the registry', async () => {
    const overrides: Partial<PipelineInput> & { name: string } = {
      name: 'msg-champion',
      training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
    };
    const first = await startRetrain(h.client, h.config, testPipeline(overrides));
    const promoted = await first.handle.result();
    expect(promoted.outcome).toBe('promoted');

    // The next run fails validation, before its plan step reads the champion.
    const second = await startRetrain(h.client, h.config, testPipeline({ ...overrides, validation: { minRows: 1_000_000 } }));
    await expectRunFailure(second.handle);

    const status = await retrain(['status', 'msg-champion']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^msg-champion: FAILED$/m);
    expect(status.stdout).toContain(`  champion:          ${promoted.version} (unchanged: the run stopped before reading the registry)`);
    expect(status.stdout).not.toMatch(/none → none/);
    const json = JSON.parse((await retrain(['status', 'msg-champion', '--json'])).stdout);
    expect(json).toMatchObject({ outcome: 'failed', championBefore: null, currentChampion: promoted.version });
  });
});

describe('schedules on a pipeline without a schedule', () => {
  it('say why there is none and what to add, instead of sending to `schedules apply`, which would skip it', async () => {
    const [plain, driftOnly, notApplied] = await Promise.all([
      retrain(['schedules', 'trigger', NO_CRON_NO_DRIFT]),
      retrain(['schedules', 'trigger', DRIFT_NO_CRON]),
      retrain(['schedules', 'pause', NOT_APPLIED]),
    ]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe(
      `retrain: ${NO_CRON_NO_DRIFT} has no schedule.cron (and no drift settings), so schedules apply makes no drift schedule for it: ` +
        `add drift: { window: '24h' } and schedule: { cron: '0 * * * *' } to pipelines/${NO_CRON_NO_DRIFT}.ts, then run npx retrain schedules apply\n`,
    );
    expect(driftOnly.code).toBe(2);
    expect(driftOnly.stderr).toBe(
      `retrain: ${DRIFT_NO_CRON} has no schedule.cron, so schedules apply makes no drift schedule for it: ` +
        `add schedule: { cron: '0 * * * *' } to pipelines/${DRIFT_NO_CRON}.ts, then run npx retrain schedules apply; ` +
        `or run a drift check now, without a schedule: npx retrain drift ${DRIFT_NO_CRON}\n`,
    );
    expect(notApplied.code).toBe(2);
    expect(notApplied.stderr).toBe(
      `retrain: no drift schedule for ${NOT_APPLIED} yet: create it (and the others) from pipelines/ with: npx retrain schedules apply\n`,
    );
  });
});
