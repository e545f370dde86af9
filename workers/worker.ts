import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities, createTrainingActivities } from '../activities';
import type { RetrainConfig } from '../lib/config';
import { partitionQueueOf } from '../lib/task-queues';
import { removeStaleScratch, STALE_SCRATCH_MS } from '../services/runner/scratch';
import type { Store } from '../store/store';

/** Which task queue a worker serves: workflows and light steps, or training subprocesses. */
export type QueueRole = 'retrain' | 'training';

/** What `createWorkers` needs; defaults are given per field. */
export interface WorkerSetOptions {
  config: RetrainConfig;
  store: Store;
  connection: NativeConnection;
  /**
   * Which task queues this process serves. Split them to scale training out.
   * @default both
   */
  roles?: QueueRole[];
  /**
   * Concurrent training/predict subprocesses on this machine.
   * @default config.maxConcurrentTrainings
   */
  maxConcurrentTrainings?: number;
  /**
   * A prebuilt workflow bundle (tests build one and share it).
   * @default bundle workflows/ now
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Interceptors for both workers (benchmarks time the activities with one). */
  interceptors?: WorkerOptions['interceptors'];
}

/**
 * After the grace, running activities are cancelled: a training subprocess gets SIGTERM, then
 * SIGKILL 5 s later (services/runner/subprocess.ts), and the failed attempt is reported so the server
 * retries it elsewhere. This is the time allowed for that before the worker gives up waiting.
 */
export const HAND_BACK_SECONDS = 30;

/** The workflows module the worker bundles (tests bundle it once and share the bundle). */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Creates the workers of one process: the `retrain` queue runs workflows and light activities
 * (and its `-partitions` queue the hours of partitioned drift checks), the `training` queue runs
 * training and predict subprocesses.
 */
export async function createWorkers(opts: WorkerSetOptions): Promise<Worker[]> {
  const roles = opts.roles ?? ['retrain', 'training'];
  const deps = { store: opts.store, config: opts.config };
  // On shutdown (SIGTERM, SIGINT) the SDK stops polling at once and lets running activities go
  // on for shutdownGraceTime; then it cancels them, and an attempt cancelled this way fails
  // (retryable), so Temporal hands it to another worker at once instead of waiting for a timeout.
  // shutdownForceTime bounds the whole stop, for activities that ignore the cancellation.
  const graceMs = opts.config.shutdownGraceSeconds * 1_000;
  const shutdown = { shutdownGraceTime: graceMs, shutdownForceTime: graceMs + HAND_BACK_SECONDS * 1_000 };
  const workers: Worker[] = [];
  if (roles.includes('retrain')) {
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.config.namespace,
        taskQueue: opts.config.taskQueue,
        ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
        activities: createActivities(deps),
        ...(opts.interceptors ? { interceptors: opts.interceptors } : {}),
        ...shutdown,
      }),
    );
    // The hours of partitioned drift checks: a few at a time per worker (CPU-bound), so that
    // every worker takes its share instead of the first to poll taking them all.
    const { summarizeDriftPartition } = createActivities(deps);
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.config.namespace,
        taskQueue: partitionQueueOf(opts.config.taskQueue),
        activities: { summarizeDriftPartition },
        ...(opts.interceptors ? { interceptors: opts.interceptors } : {}),
        maxConcurrentActivityTaskExecutions: opts.config.maxConcurrentPartitions,
        ...shutdown,
      }),
    );
  }
  if (roles.includes('training')) {
    await removeLeftScratch(opts.config.workDir);
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.config.namespace,
        taskQueue: opts.config.trainingTaskQueue,
        activities: createTrainingActivities(deps),
        ...(opts.interceptors ? { interceptors: opts.interceptors } : {}),
        maxConcurrentActivityTaskExecutions: opts.maxConcurrentTrainings ?? opts.config.maxConcurrentTrainings,
        // Cancellation reaches a subprocess only with a heartbeat sent to the server: send them
        // at least every 5 s, so a cancelled training stops within seconds, not a minute.
        maxHeartbeatThrottleInterval: '5s',
        ...shutdown,
      }),
    );
  }
  return workers;
}

/**
 * Removes the scratch folders of attempts that ended with their worker (killed, machine
 * restarted): those whose marker no running attempt has refreshed for a day. Not "every folder
 * of this worker's previous process": several workers may share a work directory, and nothing
 * but the marker's age tells a folder of a dead worker from one of a live neighbour, on this
 * machine or another. A failure here is logged, and the worker starts anyway.
 */
async function removeLeftScratch(workDir: string): Promise<void> {
  const logger = Runtime.instance().logger;
  try {
    const removed = await removeStaleScratch(workDir);
    if (removed.length)
      logger.info(`removed ${removed.length} scratch folder(s) of attempts that ended with their worker`, { workDir, removed });
  } catch (err) {
    logger.warn(`could not clean up the work directory: ${(err as Error).message}`, { workDir, olderThanMs: STALE_SCRATCH_MS });
  }
}

/**
 * Runs workers until one fails or all are shut down. The SDK's runtime shuts every worker down on
 * SIGINT, SIGTERM, SIGQUIT or SIGUSR2; this resolves once they have drained.
 */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
