import { makeUserProject, runCli, writeTestPipeline } from './helpers/cli-project';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun } from '../cli/format';
import { startRetrain } from '../client/client';
import type { PipelineInput } from '../lib/pipeline';
import { initialApprovalState } from '../workflows/approval';
import { newRunStatus } from '../workflows/run-tracker';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { expectRunFailure } from './helpers/runs';

let h: Harness;
let project: string;

/** Runs the real `retrain` binary in this file's project against its harness. */
const retrain = (args: string[], env: Record<string, string> = {}) => runCli(h, project, args, env);

const writePipeline = (name: string, extra = '') => writeTestPipeline(project, name, `idColumn: 'customer_id', ${extra}`);

/** Unique per file run: schedule ids are server-wide. */
const suffix = Math.random().toString(36).slice(2, 8);
const NO_CRON_NO_DRIFT = `msg-plain-${suffix}`;
const DRIFT_NO_CRON = `msg-drift-${suffix}`;
const NOT_APPLIED = `msg-cron-${suffix}`;

beforeAll(async () => {
  h = await startHarness();
  project = makeUserProject('retrain-messages-');
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
      ...newRunStatus({
        model: 'm',
        requestedBy: null,
        reason: null,
        asOf: '2026-01-01T00:00:00.000Z',
        window: null,
        approval: initialApprovalState({ mode: 'auto' }),
      }),
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
