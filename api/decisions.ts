import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { decideCandidate, retrainWorkflowId } from '../client/client';
import { appendAudit } from '../services/audit-log';
import type { RunStatus } from '../shared/status';
import type { ApiContext } from './context';
import { HttpError } from './http-errors';

/** An approval or rejection as the API and the console send it: who is the signed-in identity, never a field of the request. */
export interface Decision {
  model: string;
  action: 'approve' | 'reject';
  by: string;
  reason: string;
  version?: string;
  /** Where it came from, kept in the audit of a refusal. */
  via: 'api' | 'console';
}

/**
 * Sends a decision through the run's update, as the CLI does; the answer is the run's status.
 * A refusal (not a listed approver, wrong version, nothing waiting) is a 409 HttpError with the
 * run's own reason, and is audited here: a refused update never enters the run's history.
 */
export async function decide(ctx: ApiContext, d: Decision): Promise<RunStatus> {
  const client = await ctx.temporal.get();
  try {
    return await decideCandidate(client, d.model, d.action, { by: d.by, reason: d.reason, ...(d.version ? { version: d.version } : {}) });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const why = (err.cause as Error | undefined)?.message ?? err.message;
      // A run started by model name registers its decision handlers once its pipeline is loaded.
      if (/No registered handler for update/.test(why))
        throw new HttpError(
          409,
          'NothingWaiting',
          `the retraining run of ${d.model} is still starting: no candidate waits for a decision yet`,
        );
      await appendAudit(
        ctx.store,
        { workflowId: retrainWorkflowId(d.model), runId: d.via, step: `refused-${d.action}-${randomUUID()}` },
        {
          type: 'refused-decision',
          model: d.model,
          version: d.version ?? null,
          outcome: 'rejected',
          summary: `refused ${d.action} from ${d.by} (${d.via === 'api' ? 'HTTP API' : 'console'}): ${why}`,
          details: { by: d.by, action: d.action, why, reason: d.reason, version: d.version ?? null, via: d.via },
        },
      );
      throw new HttpError(409, 'DecisionRefused', why);
    }
    if (err instanceof WorkflowNotFoundError || /not found|completed/i.test((err as Error).message))
      throw new HttpError(409, 'NothingWaiting', `no running retraining run of ${d.model} is waiting for a decision`);
    throw err;
  }
}
