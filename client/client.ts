import { Client, Connection, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import type { RetrainConfig } from '../lib/config';
import type { Pipeline } from '../lib/pipeline';
import { retrainWorkflowId } from '../lib/workflow-ids';
import type { ChampionPointer } from '../lib/registry';
import { approveUpdate, rejectUpdate, statusQuery, type ApprovalDecision } from '../shared/messages';
import type { RetrainInput, RetrainSummary } from '../shared/inputs';
import type { RollbackInput } from '../shared/inputs';
import type { RunStatus } from '../shared/status';
// Type-only: the workflows' signatures check the arguments below; no workflow code is loaded.
import type { retrainPipeline } from '../workflows/retrain-pipeline';
import type { rollbackModel as rollbackModelWorkflow } from '../workflows/rollback-model';
import { serverUnreachableError, temporalConnectionOptions } from './temporal-connection';
import { diagnoseTls } from './tls-diagnosis';

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
    return new Client({ connection, namespace: config.namespace });
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw serverUnreachableError(config, err, await diagnoseTls(options));
  }
}

/**
 * Starts the retraining workflow of a pipeline. If one is already running for the model, returns
 * that run instead of starting a second one (`joined: true`).
 */
export async function startRetrain(
  client: Client,
  config: Pick<RetrainConfig, 'taskQueue' | 'trainingTaskQueue'>,
  pipeline: Pipeline,
  opts: { requestedBy?: string; reason?: string } = {},
): Promise<{ handle: WorkflowHandle; joined: boolean }> {
  const workflowId = retrainWorkflowId(pipeline.name);
  const input: RetrainInput = { pipeline, requestedBy: opts.requestedBy, reason: opts.reason, trainingTaskQueue: config.trainingTaskQueue };
  try {
    const handle = await client.workflow.start<typeof retrainPipeline>('retrainPipeline', {
      taskQueue: config.taskQueue,
      workflowId,
      args: [input],
    });
    return { handle, joined: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { handle: client.workflow.getHandle(workflowId), joined: true };
    throw err;
  }
}

/** Status of the latest retraining run of a model (running or finished). */
export async function runStatus(client: Client, model: string): Promise<{ status: RunStatus; workflowStatus: string; runId: string }> {
  const handle = client.workflow.getHandle<typeof retrainPipeline>(retrainWorkflowId(model));
  const description = await handle.describe();
  const status = await handle.query(statusQuery);
  return { status, workflowStatus: description.status.name, runId: description.runId };
}

/** Approves or rejects the running candidate through an update: the answer says whether it counted. */
export async function decideCandidate(
  client: Client,
  model: string,
  action: 'approve' | 'reject',
  decision: ApprovalDecision,
): Promise<RunStatus> {
  const handle = client.workflow.getHandle(retrainWorkflowId(model));
  return handle.executeUpdate(action === 'approve' ? approveUpdate : rejectUpdate, { args: [decision] });
}

/** Runs the rollback workflow and waits for the new champion pointer. */
export async function rollbackModel(
  client: Client,
  config: Pick<RetrainConfig, 'taskQueue'>,
  input: RollbackInput,
): Promise<ChampionPointer> {
  return client.workflow.execute<typeof rollbackModelWorkflow>('rollbackModel', {
    taskQueue: config.taskQueue,
    workflowId: `rollback-${input.model}-${Date.now()}`,
    args: [input],
  });
}

export type { RetrainSummary };
