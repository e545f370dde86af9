import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { onePipeline, parseCommandArgs } from '../args';
import { connectClient, retrainWorkflowId, runStatus } from '../../client/client';
import { describeRun, output } from '../format';

export const usage = () => 'status <pipeline> [--json]';

/** Where the latest retraining run of a pipeline stands (via the workflow's status query). */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('status', argv, { json: { type: 'boolean' } }, z.object({ positionals: onePipeline, json: z.boolean().default(false) }));
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    const { status, workflowStatus, runId } = await runStatus(client, args.positionals);
    output(args.json, { workflowId: retrainWorkflowId(args.positionals), runId, workflowStatus, ...status }, () => {
      const next =
        status.step === 'approval' && status.approval.decision === 'pending'
          ? `\nNext: npx retrain approve ${status.model} --by <you> --reason "…"   (approvers: ${status.approval.approvers.join(', ')})`
          : status.outcome === 'running'
            ? `\nNext: npx retrain status ${status.model}   (again, to follow it)`
            : `\nNext: npx retrain versions ${status.model}`;
      return `${describeRun(status)}\n  workflow: ${retrainWorkflowId(args.positionals)} (${workflowStatus.toLowerCase()})${next}`;
    });
    return 0;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      process.stderr.write(`retrain: ${args.positionals} has no retraining run yet. Start one with: npx retrain run ${args.positionals}\n`);
      return 1;
    }
    throw err;
  }
}
