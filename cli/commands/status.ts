import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../../services/config';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { connectClient, inspectRun, retrainWorkflowId, type RunDescription } from '../../client/client';
import { formatElapsed } from '../../client/follow';
import type { NoWorkerPollingError } from '../../client/pollers';
import type { RetrainConfig } from '../../lib/config';
import { readPointer } from '../../services/registry';
import { createStore } from '../../store/index';
import { runningDevHint } from '../dev-server';
import { shellQuote } from '../../lib/shell-quote';
import { describeRun, output } from '../format';
import { loadPipeline } from '../../services/pipelines';

/** Where the latest retraining run of a pipeline stands (via the workflow's status query). */
export const statusCommand = defineCommand({
  name: 'status',
  summary: 'where the latest run stands',
  details:
    'Asks the latest retraining run of the pipeline (running or finished) for its step,\ncandidate, metrics, gate and approval, and says what to do next.',
  positionals: [pipelineArgument],
  flags: { json: jsonFlag },
  examples: ['retrain status churn', 'retrain status churn --json | jq .approval'],
  async run(args) {
    const config = loadConfig();
    await loadPipeline(config.projectDir, args.pipeline); // unknown: "unknown pipeline … Available: …"
    const client = await connectClient(config);
    try {
      const { description, status, noWorker } = await inspectRun(client, args.pipeline);
      if (!status) return reportWithoutWorker(description, noWorker!, args.json, runningDevHint(config.projectDir));
      const { workflowStatus, runId } = description;
      // Before its plan step a run has not read the registry: the registry says who the champion is.
      const currentChampion = status.version === null ? await currentChampionOf(config, args.pipeline) : undefined;
      const extra = currentChampion === undefined ? {} : { currentChampion };
      output(args.json, { workflowId: retrainWorkflowId(args.pipeline), runId, workflowStatus, ...status, ...extra }, () => {
        const next =
          status.step === 'approval' && status.approval.decision === 'pending'
            ? `\nNext: npx retrain approve ${status.model} --by <you> --reason "…"   (approvers: ${status.approval.approvers.join(', ')})`
            : status.outcome === 'running'
              ? `\nNext: npx retrain status ${status.model}   (again, to follow it)`
              : `\nNext: npx retrain versions ${status.model}`;
        return `${describeRun(status, { currentChampion })}\n  workflow: ${retrainWorkflowId(args.pipeline)} (${workflowStatus.toLowerCase()})${next}`;
      });
      return 0;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        process.stderr.write(
          `retrain: ${args.pipeline} has no retraining run yet. Start one with: npx retrain run ${shellQuote(args.pipeline)}\n`,
        );
        return 1;
      }
      throw err;
    }
  },
});

/** The model's champion in the registry now; undefined when the store cannot be read (the line then says "unknown"). */
async function currentChampionOf(config: RetrainConfig, model: string): Promise<string | null | undefined> {
  try {
    return (await readPointer(createStore(config), model)).pointer.champion;
  } catch {
    return undefined;
  }
}

/**
 * A run whose task queue has no worker cannot answer its status query: say what the server knows
 * (running since when, what it waits for; how a closed run ended) and what to start. Exit 1 for a
 * running run (it is stuck until a worker polls), 0 for one that has ended.
 */
function reportWithoutWorker(d: RunDescription, noWorker: NoWorkerPollingError, json: boolean, devHint: string | null): number {
  const running = d.workflowStatus === 'RUNNING';
  const model = d.workflowId.replace(/^retrain-/, '');
  output(
    json,
    {
      workflowId: d.workflowId,
      runId: d.runId,
      workflowStatus: d.workflowStatus,
      lastKnown: d,
      error: { type: noWorker.name, message: noWorker.message },
    },
    () => {
      const lines = running
        ? [`${model}: running for ${formatElapsed(Date.now() - Date.parse(d.startedAt))} (started ${d.startedAt}); what the server knows:`]
        : [`${model}: the run ended ${d.workflowStatus.toLowerCase()} at ${d.closedAt}${d.failure ? `: ${d.failure}` : ''}`];
      if (running && d.workflowTaskPending && d.pendingActivities.length === 0)
        lines.push('  its next workflow task waits for a worker (no step runs without one)');
      for (const a of d.pendingActivities)
        lines.push(
          `  activity ${a.activity}${a.step ? ` (step ${a.step})` : ''}: ${a.state}, attempt ${a.attempt}${a.lastFailure ? `, last failure: ${a.lastFailure}` : ''}`,
        );
      if (running && !d.workflowTaskPending && d.pendingActivities.length === 0)
        lines.push('  no activity pending: it waits for a timer, a decision or its next workflow task');
      lines.push(`  workflow: ${d.workflowId} (${d.workflowStatus.toLowerCase()}) on task queue ${d.taskQueue}`);
      return lines.join('\n');
    },
  );
  process.stderr.write(
    `retrain: ${noWorker.message}. ${running ? 'Until one does, the run does not move and cannot report its step, candidate or metrics' : "The run's full status (candidate, metrics, gate) needs one to answer"}.${devHint ? ` ${devHint}.` : ''}\n`,
  );
  return running ? 1 : 0;
}
