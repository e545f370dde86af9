import type { WorkflowService } from '@temporalio/client';
import type { RetrainConfig } from '../lib/config';

/**
 * Whether a worker serves a task queue. A workflow or an update sent to a queue nobody polls
 * waits without an error, and a query times out after half a minute: callers that need a
 * worker ask the server who polls first, and say what to start when nobody does.
 */

/** A task queue and the kind of task a worker must take from it. */
export interface QueueNeed {
  name: string;
  /** `workflow`: the queue runs workflows (the `retrain` queue); `activity`: it runs activities (the `training` queue). */
  tasks: 'workflow' | 'activity';
}

/** A worker polling a task queue, as the server last saw it. */
export interface Poller {
  identity: string;
  lastAccessTime: Date | null;
}

/** What the poller helpers need of a client: `Client` and `WorkflowClient` both have it. */
export interface ServiceClient {
  readonly workflowService: WorkflowService;
}

/**
 * A poller the server has not seen for this long is a worker that went away: the server keeps
 * listing pollers for minutes after they stop, and a live worker polls again at least every
 * minute (a long poll lasts up to 60 s).
 */
export const STALE_POLLER_MS = 120_000;

// Values of temporal.api.enums.v1.TaskQueueType.
const TASK_QUEUE_TYPE = { workflow: 1, activity: 2 } as const;

/** The queues a retraining run needs: workflows on the `retrain` queue, training and evaluation on the `training` queue. */
export function retrainQueues(config: Pick<RetrainConfig, 'taskQueue' | 'trainingTaskQueue'>): QueueNeed[] {
  return [
    { name: config.taskQueue, tasks: 'workflow' },
    { name: config.trainingTaskQueue, tasks: 'activity' },
  ];
}

/** The workers polling a queue for its kind of task, leaving out those not seen for `staleAfterMs`. */
export async function pollersOf(
  client: ServiceClient,
  namespace: string,
  queue: QueueNeed,
  opts: { staleAfterMs?: number } = {},
): Promise<Poller[]> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: queue.name },
    taskQueueType: TASK_QUEUE_TYPE[queue.tasks],
  });
  const oldest = Date.now() - (opts.staleAfterMs ?? STALE_POLLER_MS);
  return (pollers ?? [])
    .map((p) => {
      const seconds = p.lastAccessTime?.seconds;
      const ms = seconds === null || seconds === undefined ? null : Number(seconds) * 1000 + (p.lastAccessTime?.nanos ?? 0) / 1e6;
      return { identity: p.identity ?? '', lastAccessTime: ms === null ? null : new Date(ms) };
    })
    .filter((p) => p.lastAccessTime === null || p.lastAccessTime.getTime() >= oldest);
}

/**
 * The queues of `queues` that no live worker polls. A queue found without one is asked again
 * after `graceMs` (2 s by default), so a worker that has just started (its first poll not yet in)
 * is not missed.
 */
export async function queuesWithoutPollers(
  client: ServiceClient,
  namespace: string,
  queues: readonly QueueNeed[],
  opts: { staleAfterMs?: number; graceMs?: number } = {},
): Promise<QueueNeed[]> {
  const unpolled = async (qs: readonly QueueNeed[]) => {
    const counts = await Promise.all(qs.map(async (q) => (await pollersOf(client, namespace, q, opts)).length));
    return qs.filter((_, i) => counts[i] === 0);
  };
  const missing = await unpolled(queues);
  if (missing.length === 0) return missing;
  await new Promise((r) => setTimeout(r, opts.graceMs ?? 2_000));
  return unpolled(missing);
}

/** "no worker is polling task queue X: start one with …", naming every queue that has none. */
export function noWorkerMessage(queues: readonly QueueNeed[]): string {
  const names = queues.map((q) => `${q.name} (${q.tasks === 'workflow' ? 'workflows' : 'activities'})`);
  const which = names.length === 1 ? `task queue ${names[0]}` : `task queues ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `no worker is polling ${which}: start one with \`npx retrain worker\` or \`npx retrain dev\``;
}

/** Nobody polls a task queue that the command needs: what was asked would wait for a worker, silently. */
export class NoWorkerPollingError extends Error {
  constructor(
    /** The queues without a worker. */
    readonly queues: QueueNeed[],
    /** What this means for the request, appended to the message. */
    detail?: string,
  ) {
    super(noWorkerMessage(queues) + (detail ? `. ${detail}` : ''));
    this.name = 'NoWorkerPolling';
  }
}

/** Fails with {@link NoWorkerPollingError} unless a live worker polls each of `queues`. */
export async function requirePollers(
  client: ServiceClient,
  config: Pick<RetrainConfig, 'namespace'>,
  queues: readonly QueueNeed[],
  opts: { staleAfterMs?: number; graceMs?: number; detail?: string } = {},
): Promise<void> {
  const missing = await queuesWithoutPollers(client, config.namespace, queues, opts);
  if (missing.length > 0) throw new NoWorkerPollingError(missing, opts.detail);
}
