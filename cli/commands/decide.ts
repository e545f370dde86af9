import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { connectClient, decideCandidate, retrainWorkflowId } from '../../client/client';
import { shellQuote } from '../../lib/shell-quote';
import { output } from '../format';
import { appendAudit } from '../../services/audit-log';
import { loadPipeline } from '../../services/pipelines';
import { createStore } from '../../store';

/** `retrain approve`: approves the candidate waiting for approval. */
export const approveCommand = decideCommand('approve');
/** `retrain reject`: rejects the candidate waiting for approval. */
export const rejectCommand = decideCommand('reject');

/**
 * Approves or rejects the candidate waiting for approval. Sent as an update, so the answer says
 * whether the decision counted (an unlisted approver or a wrong version is refused).
 */
function decideCommand(action: 'approve' | 'reject') {
  return defineCommand({
    name: action,
    summary: `${action} the candidate waiting for approval`,
    details: `The decision is sent to the running retraining run, which answers whether it counted: a person\nwho is not one of the pipeline's approvers, or a version that is not the candidate, is refused (exit 1).`,
    positionals: [pipelineArgument],
    flags: {
      by: {
        type: 'string',
        schema: z.string({ error: 'say who decides: --by you@example.com' }).min(1),
        placeholder: 'WHO',
        description: "who decides: one of the pipeline's approvers",
      },
      reason: {
        type: 'string',
        schema: z.string(),
        default: '',
        placeholder: 'TEXT',
        description: 'why, kept in the run and the audit log',
      },
      version: {
        type: 'string',
        schema: z.string().min(1).optional(),
        placeholder: 'V',
        description: 'count the decision only if this version is the candidate',
      },
      json: jsonFlag,
    },
    examples: [
      `retrain ${action} churn --by alice@example.com --reason "${action === 'approve' ? 'holdout looks fine' : 'recall dropped on the new region'}"`,
    ],
    async run(args) {
      const config = loadConfig();
      await loadPipeline(config.projectDir, args.pipeline); // unknown: "unknown pipeline … Available: …"
      const client = await connectClient(config);
      try {
        const status = await decideCandidate(client, args.pipeline, action, { by: args.by, reason: args.reason, version: args.version });
        output(
          args.json,
          status,
          () =>
            `${action === 'approve' ? 'Approved' : 'Rejected'} ${status.version} of ${status.model} as ${args.by}.\nNext: npx retrain status ${status.model}`,
        );
        return 0;
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          const why = (err.cause as Error | undefined)?.message ?? err.message;
          // A refused update never enters the run's history, so the CLI records it in the audit log.
          const workflowId = retrainWorkflowId(args.pipeline);
          await appendAudit(
            createStore(config),
            { workflowId, runId: 'cli', step: `refused-${action}-${randomUUID()}` },
            {
              type: 'refused-decision',
              model: args.pipeline,
              version: args.version ?? null,
              outcome: 'rejected',
              summary: `refused ${action} from ${args.by} (update): ${why}`,
              details: { by: args.by, action, why, reason: args.reason, version: args.version ?? null, via: 'update' },
            },
          );
          process.stderr.write(`retrain: ${action} refused: ${why}\n`);
          return 1;
        }
        if (err instanceof WorkflowNotFoundError || /not found|completed/i.test((err as Error).message)) {
          process.stderr.write(
            `retrain: no running retraining run of ${args.pipeline} (${retrainWorkflowId(args.pipeline)}) is waiting for a decision. See: npx retrain status ${shellQuote(args.pipeline)}\n`,
          );
          return 1;
        }
        throw err;
      }
    },
  });
}
