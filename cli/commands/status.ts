import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../../services/config';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { connectClient, retrainWorkflowId, runStatus } from '../../client/client';
import { describeRun, output } from '../format';

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
    const client = await connectClient(config);
    try {
      const { status, workflowStatus, runId } = await runStatus(client, args.pipeline);
      output(args.json, { workflowId: retrainWorkflowId(args.pipeline), runId, workflowStatus, ...status }, () => {
        const next =
          status.step === 'approval' && status.approval.decision === 'pending'
            ? `\nNext: npx retrain approve ${status.model} --by <you> --reason "…"   (approvers: ${status.approval.approvers.join(', ')})`
            : status.outcome === 'running'
              ? `\nNext: npx retrain status ${status.model}   (again, to follow it)`
              : `\nNext: npx retrain versions ${status.model}`;
        return `${describeRun(status)}\n  workflow: ${retrainWorkflowId(args.pipeline)} (${workflowStatus.toLowerCase()})${next}`;
      });
      return 0;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        process.stderr.write(`retrain: ${args.pipeline} has no retraining run yet. Start one with: npx retrain run ${args.pipeline}\n`);
        return 1;
      }
      throw err;
    }
  },
});
