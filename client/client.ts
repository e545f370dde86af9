import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { RetrainConfig } from '../lib/config';
import { formatIssues, InvalidInputError, NotFoundError, RetrainError, RunConflictError } from '../lib/errors';
import type { Pipeline } from '../lib/pipeline';
import { asOfProblem, asOfSchema } from '../lib/time-window';
import { retrainWorkflowId } from '../lib/workflow-ids';
import type { ChampionPointer } from '../lib/registry';
import { approveUpdate, rejectUpdate, statusQuery, type ApprovalDecision } from '../shared/messages';
import type { PipelineRef, RetrainInput, RetrainSummary } from '../shared/inputs';
import type { RollbackInput } from '../shared/inputs';
import type { RunStatus } from '../shared/status';
// Type-only: the workflows' signatures check the arguments below; no workflow code is loaded.
import type { retrainPipeline } from '../workflows/retrain-pipeline';
import type { rollbackModel as rollbackModelWorkflow } from '../workflows/rollback-model';
import { notTemporalError, serverUnreachableError, temporalConnectionOptions, whatAnswers } from './temporal-connection';
import { diagnoseTls } from './tls-diagnosis';
import { rootCause } from './follow';
import { NoWorkerPollingError, queuesWithoutPollers, requirePollers } from './pollers';
import { joinConflict } from './join-conflict';
import { startedRun } from './run-input';

export { retrainWorkflowId };

/**
 * Connects to Temporal with the configured address, TLS and API key, or fails saying what to
 * check (how to start a server, or which TLS settings to look at).
 */
export async function connectClient(config: RetrainConfig): Promise<Client> {
  // Outside the try: an unreadable certificate is bad configuration, not an unreachable server.
  const options = temporalConnectionOptions(config);
  // Lazy, so a failed connection can be closed: otherwise its channel goes on retrying in the
  // background of a long-running caller.
  const connection = Connection.lazy({ ...options, connectTimeout: 3_000 });
  try {
    await connection.ensureConnected();
    await assertTemporal(connection, config);
    return new Client({ connection, namespace: config.namespace });
  } catch (err) {
    await connection.close().catch(() => undefined);
    if (err instanceof RetrainError) throw err;
    const tlsProblem = await diagnoseTls(options);
    // No gRPC at all: if something else listens there, say what instead of "no server answers".
    const answer = options.tls ? null : await whatAnswers(config.temporalAddress);
    throw answer ? notTemporalError(config, answer, err) : serverUnreachableError(config, err, tlsProblem);
  }
}

/**
 * `ensureConnected` accepts an UNIMPLEMENTED answer (old Temporal servers lack GetSystemInfo),
 * and so does any HTTP/2 server that answers 404; a frontend answers the call itself.
 */
async function assertTemporal(connection: Connection, config: RetrainConfig): Promise<void> {
  try {
    await connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.getSystemInfo({}));
  } catch (err) {
    const text = `${(err as { details?: string }).details ?? ''} ${(err as Error).message}`;
    const http = /Received HTTP status code (\d+)/.exec(text);
    if (http) throw notTemporalError(config, `it answers gRPC calls with HTTP status ${http[1]}`, err);
    if (/content-type/i.test(text)) throw notTemporalError(config, 'it answers gRPC calls with something that is not gRPC', err);
    // An old server's UNIMPLEMENTED, or a failure the first call will report in its own words.
  }
}

/** What {@link startRetrain} takes besides the pipeline. */
export interface StartRetrainOptions {
  /** Who or what asks for the run, kept with it. */
  requestedBy?: string;
  /** Why, kept with the run. */
  reason?: string;
  /**
   * Train on the data as it was at this time (a backfill): a date (`2026-10-01`, midnight UTC) or
   * an ISO-8601 time with its zone, not in the future. Only for a pipeline whose source has a
   * window. A run in progress is joined only when it reads the data as of the same time.
   * @default the run's start
   */
  asOf?: string;
}

/**
 * Starts the retraining workflow of a pipeline: the definition itself, or its name (the worker then
 * loads `pipelines/<model>.ts`). If one is already running for the model, returns that run
 * instead of starting a second one (`joined: true`), unless it reads the data as of another time
 * than `asOf` asks: then it fails with {@link RunConflictError} (joining would answer with a
 * model of other data). Bad `asOf` fails with InvalidInputError before anything is started.
 */
export async function startRetrain(
  client: Client,
  config: Pick<RetrainConfig, 'taskQueue' | 'trainingTaskQueue'>,
  pipeline: Pipeline | { model: string },
  opts: StartRetrainOptions = {},
): Promise<{ handle: WorkflowHandle; joined: boolean }> {
  const ref: PipelineRef = 'model' in pipeline ? { model: pipeline.model } : { pipeline };
  const model = ref.model ?? ref.pipeline!.name;
  const workflowId = retrainWorkflowId(model);
  const asOf = checkedAsOf(opts.asOf, ref.pipeline);
  const input: RetrainInput = {
    ...ref,
    requestedBy: opts.requestedBy,
    reason: opts.reason,
    ...(asOf ? { asOf } : {}),
    trainingTaskQueue: config.trainingTaskQueue,
  };
  try {
    const handle = await client.workflow.start<typeof retrainPipeline>('retrainPipeline', {
      taskQueue: config.taskQueue,
      workflowId,
      args: [input],
    });
    return { handle, joined: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const conflict = joinConflict(model, workflowId, asOf, await startedRun(client, workflowId));
    if (conflict) throw new RunConflictError(conflict, { model, step: 'start' });
    return { handle: client.workflow.getHandle(workflowId), joined: true };
  }
}

/** `asOf` normalised to ISO-8601 UTC, or undefined; bad input (or a backfill of a source without a window) throws InvalidInputError. */
function checkedAsOf(asOf: string | undefined, pipeline: Pipeline | undefined): string | undefined {
  if (asOf === undefined) return undefined;
  const parsed = asOfSchema().safeParse(asOf);
  if (!parsed.success) throw new InvalidInputError(formatIssues('asOf', parsed.error.issues), { step: 'start' });
  const problem = pipeline ? asOfProblem(pipeline.name, pipeline.source.window) : null;
  if (problem) throw new InvalidInputError(problem, { model: pipeline!.name, step: 'start' });
  return parsed.data;
}

/**
 * Status of the latest retraining run of a model (running or finished). Fails with
 * {@link NoWorkerPollingError} when the run has no worker to answer (a query would wait for one);
 * a completed run's status is its result, which needs no worker.
 */
export async function runStatus(client: Client, model: string): Promise<{ status: RunStatus; workflowStatus: string; runId: string }> {
  const { description, status, noWorker } = await inspectRun(client, model);
  if (!status) throw noWorker!;
  return { status, workflowStatus: description.workflowStatus, runId: description.runId };
}

/** An activity a run waits for, as the server describes it (no worker needed). */
export interface PendingActivity {
  activity: string;
  /** The run's step the activity belongs to, when it belongs to one step only. */
  step: string | null;
  state: 'scheduled' | 'started' | 'cancel-requested' | 'paused' | 'unknown';
  attempt: number;
  /** The last attempt's error, when an attempt failed. */
  lastFailure: string | null;
}

/** What the server knows of a run without asking a worker: enough to say where a run without a worker stands. */
export interface RunDescription {
  workflowId: string;
  runId: string;
  /** The task queue its workflow tasks go to. */
  taskQueue: string;
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT… */
  workflowStatus: string;
  startedAt: string;
  closedAt: string | null;
  /** A workflow task waits for a worker (the run's first one, or its next step). */
  workflowTaskPending: boolean;
  pendingActivities: PendingActivity[];
  /** Why a run that ended without a result ended: failed, cancelled, terminated or timed out. */
  failure: string | null;
}

/**
 * A run's status as {@link runStatus} gets it, plus what the server knows of it; when no worker
 * polls the run's task queue, `status` is null (unless the run completed: its result is its
 * status) and `noWorker` says what to start. Fails with WorkflowNotFoundError when the model has
 * never run.
 */
export async function inspectRun(
  client: Client,
  model: string,
  opts: { staleAfterMs?: number } = {},
): Promise<{ description: RunDescription; status: RunStatus | null; noWorker: NoWorkerPollingError | null }> {
  const latest = await client.workflow.getHandle(retrainWorkflowId(model)).describe();
  const handle = client.workflow.getHandle<typeof retrainPipeline>(latest.workflowId, latest.runId);
  const description = describeExecution(latest);
  const missing = await queuesWithoutPollers(client, client.options.namespace, [{ name: latest.taskQueue, tasks: 'workflow' }], opts);
  if (missing.length === 0) return { description, status: await handle.query(statusQuery), noWorker: null };
  // Without a worker nothing can answer a query; the history still has how a closed run ended.
  if (latest.status.name === 'COMPLETED') return { description, status: await handle.result(), noWorker: null };
  if (latest.status.name !== 'RUNNING')
    description.failure = await handle.result().then(
      () => null,
      (err: Error) => rootCause(err).message,
    );
  return { description, status: null, noWorker: new NoWorkerPollingError(missing) };
}

const ACTIVITY_STEP: Record<string, string> = {
  snapshotDataset: 'pull',
  validateSnapshot: 'validate',
  splitDataset: 'split',
  planVersion: 'plan',
  trainModel: 'train',
  registerVersion: 'register',
  evaluateCandidate: 'evaluate',
  promoteChampion: 'promote',
  verifyChampion: 'verify',
  rollbackChampion: 'rollback',
};
// Values of temporal.api.enums.v1.PendingActivityState.
const ACTIVITY_STATE: Record<number, PendingActivity['state']> = { 1: 'scheduled', 2: 'started', 3: 'cancel-requested', 4: 'paused' };

function describeExecution(d: WorkflowExecutionDescription): RunDescription {
  return {
    workflowId: d.workflowId,
    runId: d.runId,
    taskQueue: d.taskQueue,
    workflowStatus: d.status.name,
    startedAt: d.startTime.toISOString(),
    closedAt: d.closeTime?.toISOString() ?? null,
    workflowTaskPending: d.status.name === 'RUNNING' && Boolean(d.raw.pendingWorkflowTask),
    pendingActivities: (d.raw.pendingActivities ?? []).map((a) => {
      const activity = a.activityType?.name ?? 'unknown';
      return {
        activity,
        step: ACTIVITY_STEP[activity] ?? null,
        state: ACTIVITY_STATE[Number(a.state ?? 0)] ?? 'unknown',
        attempt: a.attempt ?? 1,
        lastFailure: a.lastFailure?.message ?? null,
      };
    }),
    failure: null,
  };
}

/**
 * Approves or rejects the running candidate through an update: the answer says whether it
 * counted. Fails with {@link NoWorkerPollingError} before sending anything when no worker polls
 * the run's task queue (the update would wait for one).
 */
export async function decideCandidate(
  client: Client,
  model: string,
  action: 'approve' | 'reject',
  decision: ApprovalDecision,
): Promise<RunStatus> {
  const handle = client.workflow.getHandle(retrainWorkflowId(model));
  const { status, taskQueue } = await handle.describe();
  // A run that is not running refuses the update itself, with its own message.
  if (status.name === 'RUNNING')
    await requirePollers(client, client.options, [{ name: taskQueue, tasks: 'workflow' }], {
      detail: `The ${action === 'approve' ? 'approval' : 'rejection'} was not sent`,
    });
  return handle.executeUpdate(action === 'approve' ? approveUpdate : rejectUpdate, { args: [decision] });
}

/**
 * Cancels the running retraining run of a model. The run ends cancelled at the step it is in (a
 * training subprocess is stopped; a promotion already sent is seen through and then rolled back
 * by the workflow). Fails with `NotFound` when the model has no running run. Returns the run,
 * the step it was in (null when no worker could say) and whether a worker polls its queue
 * (without one, the cancellation takes effect when one does).
 */
export async function cancelRun(
  client: Client,
  model: string,
): Promise<{ workflowId: string; runId: string; taskQueue: string; step: string | null; workerPolling: boolean }> {
  const workflowId = retrainWorkflowId(model);
  let described: WorkflowExecutionDescription;
  try {
    described = await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new NotFoundError(`${model} has no retraining run (${workflowId}) to cancel`, { model, step: 'cancel' });
    throw err;
  }
  if (described.status.name !== 'RUNNING')
    throw new NotFoundError(
      `no running retraining run of ${model}: the latest one, ${workflowId}, is ${described.status.name.toLowerCase()}, nothing to cancel`,
      { model, step: 'cancel' },
    );
  // This run exactly: a newer run started meanwhile is not cancelled by mistake.
  const handle = client.workflow.getHandle<typeof retrainPipeline>(workflowId, described.runId);
  const workerPolling =
    (await queuesWithoutPollers(client, client.options.namespace, [{ name: described.taskQueue, tasks: 'workflow' }])).length === 0;
  const step = workerPolling
    ? await client
        .withDeadline(Date.now() + 5_000, () => handle.query(statusQuery))
        .then(
          (s) => s.step,
          () => null,
        )
    : null;
  await handle.cancel();
  return { workflowId, runId: described.runId, taskQueue: described.taskQueue, step, workerPolling };
}

/**
 * Runs the rollback workflow and waits for the new champion pointer. Fails with
 * {@link NoWorkerPollingError} before starting it when no worker polls the `retrain` queue.
 */
export async function rollbackModel(
  client: Client,
  config: Pick<RetrainConfig, 'taskQueue'>,
  input: RollbackInput,
): Promise<ChampionPointer> {
  // Nothing is started that would wait for a worker, silently.
  await requirePollers(client, client.options, [{ name: config.taskQueue, tasks: 'workflow' }], {
    detail: 'Nothing was rolled back',
  });
  return client.workflow.execute<typeof rollbackModelWorkflow>('rollbackModel', {
    taskQueue: config.taskQueue,
    workflowId: `rollback-${input.model}-${Date.now()}`,
    args: [input],
  });
}

export type { RetrainSummary };
