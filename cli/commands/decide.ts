import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { onePipeline, parseCommandArgs } from '../args';
import { connectClient, decideCandidate, retrainWorkflowId } from '../../client/client';
import { output } from '../format';

export const usage = (name: string) => `${name} <pipeline> --by WHO [--reason TEXT] [--version V] [--json]`;

const schema = z.object({
  positionals: onePipeline,
  by: z.string({ error: 'say who decides: --by you@example.com' }).min(1),
  reason: z.string().default(''),
  version: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

/**
 * Approves or rejects the candidate waiting for approval. Sent as an update, so the answer says
 * whether the decision counted (an unlisted approver or a wrong version is refused).
 */
export async function run(argv: string[], name: string): Promise<number> {
  const action = name === 'reject' ? 'reject' : 'approve';
  const flags = { by: { type: 'string' as const }, reason: { type: 'string' as const }, version: { type: 'string' as const }, json: { type: 'boolean' as const } };
  const args = parseCommandArgs(action, argv, flags, schema);
  const client = await connectClient(loadConfig());
  try {
    const status = await decideCandidate(client, args.positionals, action, { by: args.by, reason: args.reason, version: args.version });
    output(args.json, status, () => `${action === 'approve' ? 'Approved' : 'Rejected'} ${status.version} of ${status.model} as ${args.by}.\nNext: npx retrain status ${status.model}`);
    return 0;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      process.stderr.write(`retrain: ${action} refused: ${(err.cause as Error | undefined)?.message ?? err.message}\n`);
      return 1;
    }
    if (err instanceof WorkflowNotFoundError || /not found|completed/i.test((err as Error).message)) {
      process.stderr.write(`retrain: no running retraining run of ${args.positionals} (${retrainWorkflowId(args.positionals)}) is waiting for a decision. See: npx retrain status ${args.positionals}\n`);
      return 1;
    }
    throw err;
  }
}
