import { ApplicationFailure, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LightActivities } from '../activities';
import { ErrorType, NON_RETRYABLE } from '../lib/errors';
import type { DriftCheckInput, DriftCheckSummary } from '../shared/inputs';
import { durationToMs } from '../lib/duration';
import { driftInput } from './run-input';

const drift = proxyActivities<LightActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});
// An alert that cannot be delivered now is retried for a long while: it must not be lost.
const alerts = proxyActivities<LightActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', maximumInterval: '5m', maximumAttempts: 30, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * One drift check of a pipeline's champion: data, prediction and concept drift over the
 * prediction-log window; a report; an alert to the monitoring owner when drift is confirmed;
 * and, when the pipeline says so, a retraining run (joined if one is already running).
 */
export async function driftCheck(input: DriftCheckInput): Promise<DriftCheckSummary> {
  // Checked, inline or loaded by model name (the definition used is in the history).
  const pipeline = await driftInput(input, drift.resolvePipeline);
  if (!pipeline.drift) throw ApplicationFailure.nonRetryable(`pipeline ${pipeline.name} has no drift settings`, ErrorType.INVALID_INPUT);
  const info = workflowInfo();
  const meta = { model: pipeline.name, step: 'drift-check', trigger: input.trigger ?? 'manual' };

  const { champion } = await drift.getChampion({ model: pipeline.name });
  if (!champion) {
    log.info('no champion yet: nothing to check', meta);
    return {
      model: pipeline.name,
      outcome: 'no-champion',
      version: null,
      result: null,
      alert: null,
      retrain: null,
      message: `${pipeline.name} has no champion yet: nothing to check`,
    };
  }

  if (input.asOf !== undefined && Number.isNaN(Date.parse(input.asOf)))
    throw ApplicationFailure.nonRetryable(`asOf must be an ISO time, got "${input.asOf}"`, ErrorType.INVALID_INPUT);
  const to = input.asOf ? new Date(input.asOf) : new Date();
  const from = new Date(to.getTime() - durationToMs(pipeline.drift.window));
  // Readable and unique per run; also the alert's idempotency key. Run ids are time-ordered
  // (UUIDv7), so their random tail, not their head, tells two checks of the same second apart.
  const checkId = `${to
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${info.runId.replace(/-/g, '').slice(-12)}`;
  const result = await drift.runDriftCheck({ pipeline, version: champion, checkId, from: from.toISOString(), to: to.toISOString() });
  log.info(`drift check ${checkId}: ${result.summary}`, { ...meta, version: champion, drifted: result.drifted });

  if (!result.enoughData) return summary('not-enough-data', result.summary);
  if (!result.drifted) return summary('no-drift', result.summary);
  const alert = await alerts.sendDriftAlert({ pipeline, result });
  if (pipeline.drift.onDrift !== 'retrain') return summary('drift-alerted', result.summary, alert);
  const retrain = await drift.startRetrainForDrift({ pipeline, checkId });
  return summary(
    'drift-retraining',
    `${result.summary} ${retrain.joined ? 'Joined the retraining run in progress' : 'Started retraining'}: ${retrain.workflowId}.`,
    alert,
    retrain,
  );

  function summary(
    outcome: DriftCheckSummary['outcome'],
    message: string,
    alert: DriftCheckSummary['alert'] = null,
    retrain: DriftCheckSummary['retrain'] = null,
  ): DriftCheckSummary {
    return { model: pipeline.name, outcome, version: champion, result, alert, retrain, message };
  }
}
