/**
 * What a script or service needs to drive Retrain from outside the CLI: connect to Temporal,
 * start (or join) a pipeline's retraining run and follow it, decide on a candidate, cancel a run,
 * roll back, check that workers poll the task queues, and keep the drift-check schedules in step
 * with pipelines/.
 *
 * @example
 * ```ts
 * import { connectClient, followRun, loadConfig, loadPipeline, startRetrain } from 'retrain/client';
 *
 * const config = loadConfig(); // RETRAIN_TEMPORAL_ADDRESS, RETRAIN_NAMESPACE, RETRAIN_STORE, …
 * const client = await connectClient(config);
 * const pipeline = await loadPipeline(config.projectDir, 'churn');
 * const { handle, joined } = await startRetrain(client, config, pipeline, { requestedBy: 'nightly-job', reason: 'new labels' });
 * const { status, failed } = await followRun(handle, { print: console.log });
 * console.log(joined ? 'joined a run in progress' : 'started a run', status.outcome, failed?.message ?? '');
 * await client.connection.close();
 * ```
 */
export {
  cancelRun,
  connectClient,
  decideCandidate,
  inspectRun,
  retrainWorkflowId,
  rollbackModel,
  runStatus,
  startRetrain,
  type PendingActivity,
  type RunDescription,
  type StartRetrainOptions,
} from './client';
export { followRun, rootCause, type FollowOptions } from './follow';
export {
  noWorkerMessage,
  NoWorkerPollingError,
  pollersOf,
  queuesWithoutPollers,
  requirePollers,
  retrainQueues,
  type Poller,
  type QueueNeed,
} from './pollers';
export { applySchedules, listSchedules, type AppliedSchedule, type ScheduleRow } from './schedules';

/** The configuration from the environment, and the pipelines of a project, as the CLI loads them. */
export { loadConfig } from '../services/config';
export { listPipelines, loadPipeline } from '../services/pipelines';
export type { RetrainConfig } from '../lib/config';
export type { Pipeline } from '../lib/pipeline';

/** The workflows' inputs and results. */
export type { DriftCheckInput, DriftCheckSummary, PipelineRef, RetrainInput, RetrainSummary, RollbackInput } from '../shared/inputs';
export type { RunStatus } from '../shared/status';
export type { ResolvedWindow } from '../lib/time-window';
/** What startRetrain throws when a run in progress reads the data as of another time. */
export { RunConflictError } from '../lib/errors';

/** The retraining workflow's messages, for a handle from `client.workflow.getHandle(retrainWorkflowId(model))`. */
export { approveSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery, type ApprovalDecision } from '../shared/messages';
