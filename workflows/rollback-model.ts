import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LightActivities } from '../activities';
import { changeByEventId, type ChampionPointer } from '../lib/registry';
import type { RollbackInput } from '../shared/inputs';
import { NON_RETRYABLE } from '../lib/errors';
import { rollbackInput } from './run-input';

const { rollbackChampion, notifyOwner } = proxyActivities<LightActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Rolls a model's champion back (to the previous one or a named version), audited and announced. */
export async function rollbackModel(raw: RollbackInput): Promise<ChampionPointer> {
  const input = await rollbackInput(raw);
  const info = workflowInfo();
  const eventId = `${info.workflowId}/${info.runId}/rollback`;
  const pointer = await rollbackChampion({ model: input.model, to: input.to, reason: input.reason, actor: input.requestedBy, eventId });
  if (input.notify) {
    // This run's own change, by its event id: after a retry or a race the last entry may be someone else's.
    const change = changeByEventId(pointer, eventId);
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
