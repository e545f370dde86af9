import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { listVersions, readPointer } from '../services/registry';
import { startRetrain } from '../client/client';
import { HISTORY_DIR, REPO, startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { activityAttempts, causes, isAlive, tempDir, waitFor, waitForPid, waitForStep } from './helpers/runs';
import { statusQuery } from '../shared/messages';
import type { WorkerProcessEnv } from './helpers/worker-process';

let h: Harness;
/** Histories of this file's finished runs, replayed at the end against the workflow code. */
const finished: { workflowId: string; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> }[] = [];
const record = async (handle: WorkflowHandle) => finished.push({ workflowId: handle.workflowId, history: await handle.fetchHistory() });
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
  // RETRAIN_RECORD_HISTORIES=1 npx vitest run test/durability.test.ts refreshes the committed
  // histories that test/replay.test.ts replays (do it when a workflow change is intended).
  if (process.env.RETRAIN_RECORD_HISTORIES === '1') {
    mkdirSync(HISTORY_DIR, { recursive: true });
    finished.forEach(({ workflowId, history }, i) =>
      writeFileSync(
        join(HISTORY_DIR, `${String(i + 1).padStart(2, '0')}-${workflowId}.binpb`),
        temporal.api.history.v1.History.encode(history).finish(),
      ),
    );
  }
});

function slowPipeline(name: string, pidFile: string, sleepSeconds: number) {
  return testPipeline({
    name,
    training: {
      command: TRIVIAL_TRAINER,
      predictCommand: TRIVIAL_PREDICT,
      params: { behaviour: 'slow', sleep_seconds: sleepSeconds, pid_file: pidFile },
      heartbeatTimeout: '2s',
      maxAttempts: 3,
    },
  });
}

/** A worker for the harness's queues in a child process, resolved once it polls. */
async function spawnWorkerProcess(harness: Harness): Promise<ChildProcess> {
  const env: WorkerProcessEnv = {
    TEST_WORKER_ADDRESS: harness.config.temporalAddress,
    TEST_WORKER_TASK_QUEUE: harness.config.taskQueue,
    TEST_WORKER_TRAINING_TASK_QUEUE: harness.config.trainingTaskQueue,
    TEST_WORKER_STORE_DIR: harness.store.location,
    TEST_WORKER_WORK_DIR: harness.config.workDir,
    TEST_WORKER_BUNDLE: inject('workflowBundlePath'),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-process.ts'], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`worker process exited (${code}) before it was ready:\n${stderr}`)));
  });
  return child;
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

describe('durability', () => {
  it('finishes a run whose worker was killed during training, with one version and one promotion', async () => {
    const name = 'durable-worker-crash';
    const dir = tempDir('crash');
    const pidFile = join(dir, 'trainer.pid');
    // Only the child-process workers serve these queues.
    const crashing = await startHarness({ runWorkers: false });
    const children: ChildProcess[] = [];
    try {
      children.push(await spawnWorkerProcess(crashing));
      const { handle } = await startRetrain(crashing.client, crashing.config, slowPipeline(name, pidFile, 4));
      const firstTrainer = await waitForPid(pidFile);

      await kill(children[0], 'SIGKILL');
      // The trainer notices its stdin closed and exits: no orphan keeps training.
      await waitFor(`orphaned trainer ${firstTrainer} to exit`, () => !isAlive(firstTrainer), 15_000);

      children.push(await spawnWorkerProcess(crashing));
      const summary = await handle.result();

      expect(summary.outcome).toBe('promoted');
      expect((await activityAttempts(handle)).trainModel).toEqual([2]);
      const versions = await listVersions(crashing.store, name);
      expect(versions.map((v) => v.version)).toEqual([summary.version]);
      const audit = await listAudit(crashing.store, name);
      expect(audit.filter((e) => e.type === 'training')).toHaveLength(1);
      expect(audit.filter((e) => e.type === 'registration')).toHaveLength(1);
      expect(audit.filter((e) => e.type === 'promotion')).toHaveLength(1);
      const { pointer } = await readPointer(crashing.store, name);
      expect(pointer.champion).toBe(summary.version);
      expect(pointer.history).toHaveLength(1);
      await record(handle);
    } finally {
      for (const child of children) await kill(child, 'SIGKILL');
      await crashing.close();
    }
  });

  it('kills the training process when the run is cancelled', async () => {
    const name = 'durable-cancel';
    const pidFile = join(tempDir('cancel'), 'trainer.pid');
    const { handle } = await startRetrain(h.client, h.config, slowPipeline(name, pidFile, 60));
    const pid = await waitForPid(pidFile);
    expect(isAlive(pid)).toBe(true);

    await handle.cancel();
    await waitFor(`trainer ${pid} to be killed`, () => !isAlive(pid), 20_000);

    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(causes(err as Error).some((c) => c instanceof CancelledFailure)).toBe(true);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(await handle.query(statusQuery)).toMatchObject({ outcome: 'cancelled', step: 'train', message: 'cancelled during train' });
    expect(await listVersions(h.store, name)).toEqual([]);
    expect((await readPointer(h.store, name)).pointer.champion).toBeNull();
    await record(handle);
  });

  it('cancels a run waiting for approval without touching the champion', async () => {
    const name = 'durable-cancel-approval';
    const pipeline = testPipeline({
      name,
      training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
      approval: { mode: 'manual', approvers: ['alice'], timeout: '1h' },
    });
    const { handle } = await startRetrain(h.client, h.config, pipeline);
    await waitForStep(handle, 'approval');

    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(await handle.query(statusQuery)).toMatchObject({
      outcome: 'cancelled',
      message: 'cancelled during approval',
      championAfter: null,
    });
    expect((await readPointer(h.store, name)).pointer.champion).toBeNull();
    await record(handle);
  });

  it('rolls back a promoted candidate when the run is cancelled during verification', async () => {
    const name = 'durable-cancel-verify';
    const params = (extra: Record<string, string | number> = {}) =>
      // A short heartbeat timeout makes the worker pass the cancellation on within a couple of seconds.
      testPipeline({
        name,
        training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT, params: extra, heartbeatTimeout: '2s' },
      });
    const v1 = (await (await startRetrain(h.client, h.config, params())).handle.result()).version;
    const pidFile = join(tempDir('cancel-verify'), 'predict.pid');
    const { handle } = await startRetrain(h.client, h.config, params({ verify_sleep_seconds: 60, verify_pid_file: pidFile }));
    const pid = await waitForPid(pidFile);
    const v2 = (await handle.query(statusQuery)).version;
    expect((await readPointer(h.store, name)).pointer.champion).toBe(v2); // promoted, not yet verified

    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(causes(err as Error).some((c) => c instanceof CancelledFailure)).toBe(true);
    await waitFor(`predict ${pid} to be killed`, () => !isAlive(pid), 20_000);

    // An unverified model must not stay champion because its run was cancelled.
    const { pointer } = await readPointer(h.store, name);
    expect(pointer.champion).toBe(v1);
    expect(pointer.history.map((c) => c.action)).toEqual(['promote', 'promote', 'rollback']);
    const status = await handle.query(statusQuery);
    expect(status).toMatchObject({ outcome: 'cancelled', championAfter: v1 });
    expect(status.message).toMatch(new RegExp(`cancelled during verify; ${v2} was rolled back to ${v1}`));
    const { runId } = await handle.describe();
    const types = (await listAudit(h.store, name)).filter((e) => e.runId === runId).map((e) => e.type);
    // The compensation's events, then the cancelled run's own.
    expect(types.slice(-5)).toEqual(['promotion', 'verification', 'rollback', 'alert', 'run-failed']);
    await record(handle);
  });

  it('replays the recorded histories of its runs without nondeterminism', async () => {
    const name = 'durable-replay';
    const pipeline = testPipeline({ name, training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT } });
    const promoted = (await startRetrain(h.client, h.config, pipeline)).handle;
    expect((await promoted.result()).outcome).toBe('promoted');
    const unchanged = (await startRetrain(h.client, h.config, pipeline)).handle;
    expect((await unchanged.result()).outcome).toBe('unchanged');
    await record(promoted);
    await record(unchanged);
    expect(finished.length).toBeGreaterThanOrEqual(6);

    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, finished))
      results.push(result);

    expect(results).toHaveLength(finished.length);
    for (const result of results) expect(result.error, `replay of ${result.workflowId}`).toBeUndefined();
  });
});
