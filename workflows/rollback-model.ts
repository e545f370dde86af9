import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { LightActivities } from '../activities';
import type { ChampionPointer } from '../lib/registry';
import { checkedInput } from './checked-input';

const rollbackInputSchema = z.object({
  model: z.string().min(1),
  /** Version to restore; the previous champion when omitted. */
  to: z.string().min(1).optional(),
  reason: z.string().min(1, 'a rollback needs a reason (it goes into the audit log)'),
  requestedBy: z.string().min(1),
  /** Owner to notify (the pipeline's retraining owner). */
  notify: z.string().min(1).optional(),
});
export type RollbackInput = z.infer<typeof rollbackInputSchema>;

const { rollbackChampion, notifyOwner } = proxyActivities<LightActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['RegistryConflict', 'NotFound', 'InvalidInput'] },
});

/** Rolls a model's champion back (to the previous one or a named version), audited and announced. */
export async function rollbackModel(raw: RollbackInput): Promise<ChampionPointer> {
  const input = checkedInput(rollbackInputSchema, raw, 'rollback request');
  const info = workflowInfo();
  const pointer = await rollbackChampion({
    model: input.model,
    to: input.to,
    reason: input.reason,
    actor: input.requestedBy,
    eventId: `${info.workflowId}/${info.runId}/rollback`,
  });
  if (input.notify) {
    const change = pointer.history[pointer.history.length - 1];
    await notifyOwner({
      model: input.model,
      owner: input.notify,
      severity: 'warning',
      version: pointer.champion,
      subject: `${input.model}: rolled back to ${pointer.champion ?? 'none'} by ${input.requestedBy}`,
      message: `From ${change?.from ?? 'none'} to ${pointer.champion ?? 'none'}: ${input.reason}`,
    });
  }
  return pointer;
}
