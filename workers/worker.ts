import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities, createTrainingActivities } from '../activities';
import type { RetrainConfig } from '../lib/config';
import type { Store } from '../store/store';

export type QueueRole = 'retrain' | 'training';

export interface WorkerSetOptions {
  config: RetrainConfig;
  store: Store;
  connection: NativeConnection;
  /** Which task queues this process serves (default both). Split them to scale training out. */
  roles?: QueueRole[];
  /** Concurrent training/predict subprocesses on this machine (default 2). */
  maxConcurrentTrainings?: number;
  /** A prebuilt workflow bundle (tests build one and share it); default: bundle workflows/ now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Creates the workers of one process: the `retrain` queue runs workflows and light activities,
 * the `training` queue runs training and predict subprocesses.
 */
export async function createWorkers(opts: WorkerSetOptions): Promise<Worker[]> {
  const roles = opts.roles ?? ['retrain', 'training'];
  const deps = { store: opts.store, config: opts.config };
  const workers: Worker[] = [];
  if (roles.includes('retrain')) {
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.config.namespace,
        taskQueue: opts.config.taskQueue,
        ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
        activities: createActivities(deps),
      }),
    );
  }
  if (roles.includes('training')) {
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.config.namespace,
        taskQueue: opts.config.trainingTaskQueue,
        activities: createTrainingActivities(deps),
        maxConcurrentActivityTaskExecutions: opts.maxConcurrentTrainings ?? 2,
        // Cancellation reaches a subprocess only with a heartbeat sent to the server: send them
        // at least every 5 s, so a cancelled training stops within seconds, not a minute.
        maxHeartbeatThrottleInterval: '5s',
      }),
    );
  }
  return workers;
}

/** Runs workers until one fails or all are shut down (SIGINT/SIGTERM stop them gracefully). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
