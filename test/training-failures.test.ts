import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { listVersions, readPointer } from '../services/registry';
import { keys } from '../lib/keys';
import { startRetrain } from '../client/client';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { activityAttempts, expectRunFailure, isAlive, tempDir, waitFor, waitForPid } from './helpers/runs';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

function misbehaving(name: string, behaviour: string, extra: { params?: Record<string, string | number>; timeout?: string } = {}) {
  return testPipeline({
    name,
    training: {
      command: TRIVIAL_TRAINER,
      predictCommand: TRIVIAL_PREDICT,
      params: { behaviour, ...extra.params },
      maxAttempts: 2,
      timeout: extra.timeout,
    },
  });
}

/** Scratch directories the worker left behind for a model (attempt dirs live under workDir/<model>/<version>/). */
async function leftovers(name: string): Promise<string[]> {
  const root = join(h.config.workDir, name);
  const versions = await readdir(root).catch(() => [] as string[]);
  return (await Promise.all(versions.map((v) => readdir(join(root, v))))).flat();
}

/** Nothing of a failed training may reach the registry. */
async function expectNothingRegistered(name: string) {
  expect(await listVersions(h.store, name)).toEqual([]);
  expect((await readPointer(h.store, name)).pointer.champion).toBeNull();
  expect(await h.store.exists(keys.pointer(name))).toBe(false);
  const types = (await listAudit(h.store, name)).map((e) => e.type);
  expect(types).not.toContain('training');
  expect(types).not.toContain('registration');
  expect(types).not.toContain('promotion');
}

describe('a training command that fails', () => {
  it('is retried when it crashes, and fails the run when every attempt crashed', async () => {
    const name = 'train-crash';
    const { handle } = await startRetrain(h.client, h.config, misbehaving(name, 'crash'));
    const { application, activity } = await expectRunFailure(handle);

    expect(activity?.activityType).toBe('trainModel');
    expect(application.nonRetryable).toBe(false);
    expect(application.message).toMatch(/training exited with code 1/);
    expect((await activityAttempts(handle)).trainModel).toEqual([2]);
    await expectNothingRegistered(name);
    // A failed attempt's copies of the training data do not pile up on the worker's disk.
    expect(await leftovers(name)).toEqual([]);
  });

  it('stops a training command that runs past its timeout, and retries it', async () => {
    const name = 'train-timeout';
    const pidFile = join(tempDir('timeout'), 'trainer.pid');
    const { handle } = await startRetrain(
      h.client,
      h.config,
      misbehaving(name, 'slow', { params: { sleep_seconds: 60, pid_file: pidFile }, timeout: '1s' }),
    );
    const firstPid = await waitForPid(pidFile);
    const { application, activity } = await expectRunFailure(handle);

    expect(activity?.activityType).toBe('trainModel');
    expect(application.nonRetryable).toBe(false);
    expect(application.message).toMatch(/training timed out and was stopped/);
    expect((await activityAttempts(handle)).trainModel).toEqual([2]);
    await waitFor(`trainer ${firstPid} to be gone`, () => !isAlive(firstPid), 10_000);
    await expectNothingRegistered(name);
    expect(await leftovers(name)).toEqual([]);
  });

  it('is not retried when it rejects its input (exit 2)', async () => {
    const name = 'train-bad-input';
    const { handle } = await startRetrain(h.client, h.config, misbehaving(name, 'bad_input'));
    const { application, activity } = await expectRunFailure(handle);

    expect(activity?.activityType).toBe('trainModel');
    expect(application.type).toBe('TrainingBadInput');
    expect(application.nonRetryable).toBe(true);
    expect(application.message).toMatch(/rejected its input \(exit 2\)/);
    expect(application.message).toMatch(/behaviour bad_input requested/); // the stderr tail
    expect((await activityAttempts(handle)).trainModel).toEqual([1]);
    await expectNothingRegistered(name);
  });

  it.each([
    ['no_result', /wrote no result\.json/],
    ['invalid_json', /result\.json is not valid JSON/],
    ['wrong_shape', /result\.json is invalid:[\s\S]*artifacts/],
    ['missing_artifact', /names artifact "model" \(model\.json\) but the file does not exist/],
  ])('fails with a contract violation when it exits 0 but %s', async (behaviour, problem) => {
    const name = `train-${behaviour.replaceAll('_', '-')}`;
    const { handle } = await startRetrain(h.client, h.config, misbehaving(name, behaviour));
    const { application, activity } = await expectRunFailure(handle);

    expect(activity?.activityType).toBe('trainModel');
    expect(application.type).toBe('TrainingContractViolation');
    expect(application.nonRetryable).toBe(true);
    expect(application.message).toMatch(problem);
    expect((await activityAttempts(handle)).trainModel).toEqual([1]);
    const summary = await handle.query('status');
    expect(summary).toMatchObject({ outcome: 'failed', step: 'train', championAfter: null });
    await expectNothingRegistered(name);
    expect(await leftovers(name)).toEqual([]);
  });
});

describe('a training command that stalls or cannot start', () => {
  it('is stopped when it prints no progress line for training.progressTimeout, retried, and the last failure says so', async () => {
    const name = 'train-silent';
    const pidFile = join(tempDir('silent'), 'trainer.pid');
    const pipeline = testPipeline({
      name,
      training: {
        command: TRIVIAL_TRAINER,
        predictCommand: TRIVIAL_PREDICT,
        params: { behaviour: 'silent', sleep_seconds: 60, pid_file: pidFile },
        maxAttempts: 2,
        progressTimeout: '1s',
      },
    });
    const { handle } = await startRetrain(h.client, h.config, pipeline);
    const firstPid = await waitForPid(pidFile);
    const { application, activity } = await expectRunFailure(handle);

    expect(activity?.activityType).toBe('trainModel');
    expect(application.nonRetryable).toBe(false);
    expect(application.message).toMatch(
      /^training printed no progress line for 1s \(training\.progressTimeout\) and was stopped \(attempt 2 of 2, the last: not retried\)/,
    );
    expect(application.message).not.toMatch(/will be retried/);
    expect((await activityAttempts(handle)).trainModel).toEqual([2]);
    const lastPid = Number((await readFile(pidFile, 'utf8')).trim());
    await waitFor(`trainers ${firstPid} and ${lastPid} to be gone`, () => !isAlive(firstPid) && !isAlive(lastPid), 10_000);
    await expectNothingRegistered(name);
    // No scratch folder is left, nor the model and version folders that held them.
    expect(existsSync(join(h.config.workDir, name))).toBe(false);
  });

  it('fails at once, naming the missing script and training.command, when the training script does not exist', async () => {
    const name = 'train-missing-script';
    const script = 'test/fixtures/trainers/no_such_trainer.py';
    const pipeline = testPipeline({ name, training: { command: ['$PYTHON', script], predictCommand: TRIVIAL_PREDICT, maxAttempts: 2 } });
    const { handle } = await startRetrain(h.client, h.config, pipeline);
    const { application, activity } = await expectRunFailure(handle);

    expect(activity?.activityType).toBe('trainModel');
    expect(application.type).toBe('InvalidInput');
    expect(application.nonRetryable).toBe(true);
    expect(application.message).toBe(
      `training.command of pipeline ${name} names a script that does not exist: ${join(h.config.projectDir, script)} (given as "${script}", relative to the project directory ${h.config.projectDir})`,
    );
    expect((await activityAttempts(handle)).trainModel).toEqual([1]);
    await expectNothingRegistered(name);
  });

  it('fails evaluation at once, naming training.predictCommand, when the predict script does not exist', async () => {
    const name = 'predict-missing-script';
    const script = join(h.config.projectDir, 'test/fixtures/trainers/no_such_predict.py');
    const pipeline = testPipeline({ name, training: { command: TRIVIAL_TRAINER, predictCommand: ['$PYTHON', script], maxAttempts: 2 } });
    const { handle } = await startRetrain(h.client, h.config, pipeline);
    const { application, activity } = await expectRunFailure(handle);

    expect(activity?.activityType).toBe('evaluateCandidate');
    expect(application.type).toBe('InvalidInput');
    expect(application.nonRetryable).toBe(true);
    expect(application.message).toBe(`training.predictCommand of pipeline ${name} names a script that does not exist: ${script}`);
    expect((await activityAttempts(handle)).evaluateCandidate).toEqual([1]);
  });
});
