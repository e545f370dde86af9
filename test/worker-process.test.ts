// The real `retrain worker` command in child processes against the shared dev server: its
// Prometheus endpoint, and what SIGTERM does to a training that is running (finish within the
// grace, or be cancelled and handed back to another worker).
import type { WorkflowHandle } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { listVersions } from '../services/registry';
import { storeLocation } from '../lib/config';
import { startRetrain } from '../client/client';
import { generateChurn } from '../examples/data/generators';
import { createPredictionLogger } from '../serving';
import { REPO, startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { activityAttempts, isAlive, tempDir, waitFor } from './helpers/runs';

const SLOW_ONCE_TRAINER = ['$PYTHON', join(REPO, 'test/fixtures/trainers/slow_once_trainer.py')];

interface CliWorker {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  exit: Promise<number | null>;
}

const children: ChildProcess[] = [];
const harnesses: Harness[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const h of harnesses.splice(0)) await h.close();
});

/** `retrain worker` for the harness's queues and store; resolved once it has said what it serves. */
async function startCliWorker(h: Harness, args: string[], env: Record<string, string> = {}): Promise<CliWorker> {
  const child = spawn(process.execPath, [join(REPO, 'bin/retrain.mjs'), 'worker', ...args], {
    cwd: REPO,
    env: {
      ...process.env,
      RETRAIN_PROJECT_DIR: REPO,
      RETRAIN_TEMPORAL_ADDRESS: h.config.temporalAddress,
      RETRAIN_TASK_QUEUE: h.config.taskQueue,
      RETRAIN_TRAINING_TASK_QUEUE: h.config.trainingTaskQueue,
      RETRAIN_STORE: storeLocation(h.config.store),
      RETRAIN_WORK_DIR: h.config.workDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stdout!.resume(); // JSON log lines: not needed here
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  await Promise.race([
    waitFor('the worker to start', () => stderr.includes('retrain worker: task queues'), 90_000),
    exit.then((code) => Promise.reject(new Error(`retrain worker exited (${code}) before it started:\n${stderr}`))),
  ]);
  return { child, stderr: () => stderr, exit };
}

/** Sends SIGTERM and waits (generously) for the process to exit. */
async function stopWith(worker: CliWorker, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  worker.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const tooLong = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`retrain worker did not exit after ${signal}:\n${worker.stderr()}`)), 100_000);
  });
  return Promise.race([worker.exit, tooLong]).finally(() => clearTimeout(timer));
}

/** A harness whose `retrain` queue is served in this process and `training` queue by CLI workers only. */
async function trainingOnlyHarness(): Promise<Harness> {
  const h = await startHarness({ runWorkers: false });
  harnesses.push(h);
  await h.startWorkers(['retrain']);
  return h;
}

function slowOncePipeline(name: string, runsFile: string, sleepSeconds: number) {
  return testPipeline({
    name,
    training: {
      command: SLOW_ONCE_TRAINER,
      predictCommand: TRIVIAL_PREDICT,
      params: { runs_file: runsFile, sleep_seconds: sleepSeconds },
      maxAttempts: 3,
    },
  });
}

/** Pids of the trainer runs so far (the slow-once trainer appends one per run). */
function trainerRuns(runsFile: string): number[] {
  try {
    return readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Activity ids of trainModel that completed, from the run's history. */
async function completedTrainings(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  const trainIds = new Set<string>();
  let completed = 0;
  for (const event of history.events ?? []) {
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel') trainIds.add(String(event.eventId));
    const done = event.activityTaskCompletedEventAttributes;
    if (done && trainIds.has(String(done.scheduledEventId))) completed++;
  }
  return completed;
}

/** The failure of the attempt before the one that finished trainModel, as the history records it. */
async function trainingLastFailure(handle: WorkflowHandle): Promise<{ type?: string | null; message?: string | null } | null> {
  const history = await handle.fetchHistory();
  const trainIds = new Set<string>();
  for (const event of history.events ?? []) {
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel') trainIds.add(String(event.eventId));
    const started = event.activityTaskStartedEventAttributes;
    if (started && trainIds.has(String(started.scheduledEventId)) && started.lastFailure) {
      return { type: started.lastFailure.applicationFailureInfo?.type, message: started.lastFailure.message };
    }
  }
  return null;
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('retrain worker (CLI process)', () => {
  it(
    "serves the SDK's and Retrain's metrics (steps, drift verdict, serving cost) for Prometheus and exits 0 on SIGTERM",
    { timeout: 180_000 },
    async () => {
      const h = await startHarness({ runWorkers: false });
      harnesses.push(h);
      const address = `127.0.0.1:${await freeLoopbackPort()}`;
      const worker = await startCliWorker(h, [], { RETRAIN_METRICS_ADDRESS: address, RETRAIN_MAX_CONCURRENT_TRAININGS: '3' });
      expect(worker.stderr()).toContain(`"${h.config.trainingTaskQueue}" (training, 3 at once)`);
      expect(worker.stderr()).toContain(`retrain worker: Prometheus metrics at http://${address}/metrics`);

      // Poller metrics appear once the workers poll their task queues, each worker's slot gauges
      // once that worker has started: the training worker starts after the retrain queue's two.
      const trainingSlots = `worker_type="ActivityWorker"`;
      const body = await waitFor(
        'poller and training slot metrics on /metrics',
        async () => {
          const response = await fetch(`http://${address}/metrics`);
          expect(response.status).toBe(200);
          const text = await response.text();
          const trainingReports = text
            .split('\n')
            .some(
              (l) =>
                l.startsWith('temporal_worker_task_slots_available{') &&
                l.includes(`task_queue="${h.config.trainingTaskQueue}"`) &&
                l.includes(trainingSlots),
            );
          return /^temporal_num_pollers\{/m.test(text) && trainingReports ? text : null;
        },
        60_000,
      );
      const names = new Set(
        body
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .map((l) => l.split(/[{ ]/)[0]),
      );
      expect([...names].every((n) => n.startsWith('temporal_'))).toBe(true);
      expect(names).toContain('temporal_num_pollers');
      expect(names).toContain('temporal_worker_task_slots_available');
      // Both task queues report, each with its own label.
      expect(body).toContain(`task_queue="${h.config.taskQueue}"`);
      // RETRAIN_MAX_CONCURRENT_TRAININGS is what the training worker takes at once.
      expect(body).toMatch(
        new RegExp(
          `^temporal_worker_task_slots_available\\{[^}]*task_queue="${h.config.trainingTaskQueue}",worker_type="ActivityWorker"\\} 3$`,
          'm',
        ),
      );

      // Retrain's own metrics: steps, and the drift verdict as gauges to alert on.
      const model = 'worker-metrics';
      const pipeline = testPipeline({
        name: model,
        training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
        drift: { window: '1h', minPredictions: 30 },
      });
      const trained = await (await startRetrain(h.client, h.config, pipeline)).handle.result();
      const logger = createPredictionLogger({ store: h.store, model, version: trained.version });
      for (const r of generateChurn({ rows: 300, seed: 5, drift: 1 })) {
        logger.logPrediction({
          id: `${model}-${r.customer_id}`,
          timestamp: new Date(Date.now() - 60_000),
          features: { tenure_months: r.tenure_months, monthly_spend: r.monthly_spend, support_tickets: r.support_tickets, plan: r.plan },
          prediction: 'no',
          latencyMs: 7,
          cost: 0.0004,
        });
      }
      await logger.close();
      const check = await h.client.workflow.execute('driftCheck', {
        taskQueue: h.config.taskQueue,
        workflowId: `drift-${model}-${Date.now()}`,
        args: [{ pipeline, trigger: 'test' }],
      });
      expect(check.outcome).toBe('drift-alerted');
      const text = await (await fetch(`http://${address}/metrics`)).text();
      const series = (name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(`model="${model}"`));
      expect(series('retrain_drift_detected')).toEqual([expect.stringMatching(/ 1$/)]);
      expect(series('retrain_prediction_drift')).toHaveLength(1);
      expect(series('retrain_drift_window_predictions')).toEqual([expect.stringMatching(/ 300$/)]);
      const [cost] = series('retrain_cost_per_prediction');
      expect(cost).toContain(`version="${trained.version}"`);
      expect(Number(cost!.split(' ').at(-1))).toBeCloseTo(0.0004, 12);
      expect(series('retrain_steps').some((l) => l.includes('step="train"') && l.includes('outcome="ok"'))).toBe(true);
      // Trainings of hours still land in a bucket of their own.
      expect(series('retrain_step_duration_bucket').some((l) => l.includes('le="7200000"'))).toBe(true);

      expect(await stopWith(worker)).toBe(0);
      expect(worker.stderr()).toMatch(/retrain worker: SIGTERM received, shutting down/);
      expect(worker.stderr()).toMatch(/retrain worker: stopped/);
    },
  );

  it('lets a running training finish within the grace, then exits 0; another worker completes the run', { timeout: 240_000 }, async () => {
    const h = await trainingOnlyHarness();
    const name = 'worker-grace-finish';
    const runsFile = join(tempDir('grace-finish'), 'runs');
    const first = await startCliWorker(h, ['--queues', 'training'], { RETRAIN_SHUTDOWN_GRACE_SECONDS: '120' });
    const { handle } = await startRetrain(h.client, h.config, slowOncePipeline(name, runsFile, 4));
    const [trainerPid] = await waitFor('the first training to start', () => trainerRuns(runsFile).length > 0 && trainerRuns(runsFile));

    expect(await stopWith(first)).toBe(0);

    // It exited only after the training had finished and its result was recorded.
    expect(first.stderr()).toMatch(/SIGTERM received, shutting down: no new tasks; running activities get up to 120s/);
    expect(isAlive(trainerPid)).toBe(false);
    expect(await completedTrainings(handle)).toBe(1);

    // Evaluation, verification and the rest need a training-queue worker again.
    // --concurrency wins over RETRAIN_MAX_CONCURRENT_TRAININGS.
    const second = await startCliWorker(h, ['--queues', 'training', '--concurrency', '1'], { RETRAIN_MAX_CONCURRENT_TRAININGS: '3' });
    expect(second.stderr()).toContain('(training, 1 at once)');
    const summary = await handle.result();
    expect(summary.outcome).toBe('promoted');
    expect((await activityAttempts(handle)).trainModel).toEqual([1]);
    expect(trainerRuns(runsFile)).toEqual([trainerPid]);
    expect((await listVersions(h.store, name)).map((v) => v.version)).toEqual([summary.version]);
    expect(await stopWith(second)).toBe(0);
  });

  it(
    'hands a training back when the grace is over: the attempt fails, another worker retrains, one version',
    { timeout: 240_000 },
    async () => {
      const h = await trainingOnlyHarness();
      const name = 'worker-grace-handback';
      const runsFile = join(tempDir('grace-handback'), 'runs');
      const first = await startCliWorker(h, ['--queues', 'training'], { RETRAIN_SHUTDOWN_GRACE_SECONDS: '0' });
      // Ten minutes: the worker can only exit in time by cancelling it.
      const { handle } = await startRetrain(h.client, h.config, slowOncePipeline(name, runsFile, 600));
      const [trainerPid] = await waitFor('the first training to start', () => trainerRuns(runsFile).length > 0 && trainerRuns(runsFile));

      expect(await stopWith(first)).toBe(0);

      expect(first.stderr()).toMatch(/retrain worker: stopped/);
      expect(isAlive(trainerPid)).toBe(false); // the cancelled attempt killed its training process
      expect(await completedTrainings(handle)).toBe(0);
      // The server already holds the failed attempt and waits to retry it elsewhere.
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      expect(pending.map((a) => [a.activityType?.name, a.attempt, a.lastFailure?.applicationFailureInfo?.type])).toEqual([
        ['trainModel', 2, 'WorkerShutdown'],
      ]);

      const second = await startCliWorker(h, ['--queues', 'training']);
      const summary = await handle.result();
      expect(summary.outcome).toBe('promoted');
      expect((await activityAttempts(handle)).trainModel).toEqual([2]);
      expect(await trainingLastFailure(handle)).toMatchObject({ type: 'WorkerShutdown' });
      expect(trainerRuns(runsFile)).toHaveLength(2);
      expect((await listVersions(h.store, name)).map((v) => v.version)).toEqual([summary.version]);
      const audit = await listAudit(h.store, name);
      expect(audit.filter((e) => e.type === 'training')).toHaveLength(1);
      expect(audit.filter((e) => e.type === 'registration')).toHaveLength(1);
      expect(await stopWith(second)).toBe(0);
    },
  );

  it('exits at once on a second SIGTERM during the grace, and the orphaned training stops', { timeout: 180_000 }, async () => {
    const h = await trainingOnlyHarness();
    const runsFile = join(tempDir('grace-twice'), 'runs');
    const worker = await startCliWorker(h, ['--queues', 'training'], { RETRAIN_SHUTDOWN_GRACE_SECONDS: '600' });
    const { handle } = await startRetrain(h.client, h.config, slowOncePipeline('worker-grace-twice', runsFile, 600));
    const [trainerPid] = await waitFor('the first training to start', () => trainerRuns(runsFile).length > 0 && trainerRuns(runsFile));

    worker.child.kill('SIGTERM');
    await waitFor('the shutdown notice', () => worker.stderr().includes('SIGTERM received, shutting down'));
    expect(await stopWith(worker)).toBe(1);

    expect(worker.stderr()).toMatch(/SIGTERM again: exiting now/);
    // Its stdin closed with the worker: the trainer exits instead of training for nobody.
    await waitFor(`orphaned trainer ${trainerPid} to exit`, () => !isAlive(trainerPid), 15_000);
    await handle.terminate('test over');
  });

  it('refuses to start with an unreadable client certificate, naming the variable and the path', async () => {
    const missing = join(tempDir('tls'), 'client.pem');
    const run = await runCliWorker({ RETRAIN_TEMPORAL_TLS_CERT: missing, RETRAIN_TEMPORAL_TLS_KEY: missing });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`retrain: RETRAIN_TEMPORAL_TLS_CERT: cannot read ${missing} (no such file)`);
  });

  it('points at the TLS settings when a TLS connection to the server fails', async () => {
    const run = await runCliWorker({ RETRAIN_TEMPORAL_TLS: 'true' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^retrain: cannot connect to Temporal at 127\.0\.0\.1:\d+ \(TLS\), namespace default/m);
    expect(run.stderr).toMatch(/Check RETRAIN_TEMPORAL_ADDRESS and the TLS settings/);
  });
});

/** `retrain worker` that is expected to fail before it starts: its exit code and stderr. */
async function runCliWorker(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO, 'bin/retrain.mjs'), 'worker'], {
    cwd: REPO,
    env: { ...process.env, RETRAIN_PROJECT_DIR: REPO, RETRAIN_TEMPORAL_ADDRESS: inject('temporalAddress'), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stderr };
}
