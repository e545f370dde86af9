import { ApplicationFailure, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LightActivities } from '../activities';
import { ErrorType, NON_RETRYABLE } from '../lib/errors';
import type { DriftCheckInput, DriftCheckSummary } from '../shared/inputs';
import { durationToMs } from '../lib/duration';
import { summaryFeaturesOf } from '../lib/feature-kind';
import { hourGroups, hoursOverlapping } from '../lib/log-hours';
import { partitionQueueOf } from '../lib/task-queues';
import type { Pipeline } from '../lib/pipeline';
import type { DriftAlertDelivery, DriftCheckResult } from '../shared/results';
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
 * One drift check of a pipeline's champion: data (whole window and per segment), prediction and
 * concept drift over the prediction-log window; a report; an alert to the monitoring owner when
 * drift is confirmed; an alert to the inference owner when serving exceeds the pipeline's
 * budgets; and, when the pipeline says so, a retraining run (joined if one is already running).
 */
export async function driftCheck(input: DriftCheckInput): Promise<DriftCheckSummary> {
  // Checked, inline or loaded by model name (the definition used is in the history).
  const pipeline = await driftInput(input, drift.resolvePipeline);
  if (!pipeline.drift) throw ApplicationFailure.nonRetryable(`pipeline ${pipeline.name} has no drift settings`, ErrorType.INVALID_INPUT);
  // The checked settings, for the steps below (a property's narrowing does not reach nested functions).
  const settings = pipeline.drift;
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
  const request = { pipeline, version: champion, checkId, from: from.toISOString(), to: to.toISOString() };
  const result = pipeline.drift.partitioned ? await partitionedCheck(request) : await drift.runDriftCheck(request);
  log.info(`drift check ${checkId}: ${result.summary}`, { ...meta, version: champion, drifted: result.drifted });

  // Every check's outcome goes into the model's recent history, which decides whether drift is
  // confirmed (held for alertAfter checks) and not within the cooldown of the last alert.
  // Checks recorded before this policy replay as they ran: every drifted check alerted.
  const decision = patched(ALERT_POLICY)
    ? await drift.recordDriftOutcome({
        model: pipeline.name,
        outcome: { checkId, to: to.toISOString(), drifted: result.drifted, enoughData: result.enoughData },
        // A pipeline recorded before these settings existed has neither: every drifted check alerts.
        alertAfter: pipeline.drift.alertAfter ?? 1,
        cooldown: pipeline.drift.cooldown ?? '0s',
      })
    : undefined;
  // Over budget is not drift: the inference owner hears of it whatever the verdict. Checks recorded
  // before budgets were checked replay without the step (no overBudget in their results).
  const budgetAlerting = aside(
    result.overBudget?.length && patched(SERVING_BUDGETS) ? alerts.sendBudgetAlert({ pipeline, result }) : undefined,
  );
  // Nor is a log with too many invalid lines: its owner hears of it, beside the rest, the same way.
  const loggingAlerting = aside(
    result.loggingProblem && patched(LOGGING_ALERTS) ? alerts.sendLoggingAlert({ pipeline, result }) : undefined,
  );
  const checked =
    result.enoughData && result.drifted ? await onDrift() : summary(result.enoughData ? 'no-drift' : 'not-enough-data', result.summary);
  const budgeted = await told(checked, budgetAlerting, 'budgetAlert', 'Serving over budget', 'inference');
  return told(budgeted, loggingAlerting, 'loggingAlert', 'Invalid log lines', 'logging');

  /** Confirmed drift alerts the monitoring owner and, with onDrift 'retrain', retrains; held drift says why not. */
  async function onDrift(): Promise<DriftCheckSummary> {
    if (decision && !decision.alert) {
      log.info(`drift check ${checkId}: alert held: ${decision.reason}`, { ...meta, version: champion });
      return summary('drift-held', `${result.summary} No alert: ${decision.reason}.`);
    }
    const alert = await alerts.sendDriftAlert({ pipeline, result, ...(decision ? { decision } : {}) });
    if (settings.onDrift !== 'retrain') return summary('drift-alerted', result.summary, alert);
    const retrain = await drift.startRetrainForDrift({ pipeline, checkId });
    return summary(
      'drift-retraining',
      `${result.summary} ${retrain.joined ? 'Joined the retraining run in progress' : 'Started retraining'}: ${retrain.workflowId}.`,
      alert,
      retrain,
    );
  }

  function summary(
    outcome: DriftCheckSummary['outcome'],
    message: string,
    alert: DriftCheckSummary['alert'] = null,
    retrain: DriftCheckSummary['retrain'] = null,
  ): DriftCheckSummary {
    return {
      model: pipeline.name,
      outcome,
      version: champion,
      result,
      ...(decision ? { alertDecision: decision } : {}),
      alert,
      retrain,
      message,
    };
  }

  /** The summary with an owner's alert sent beside the drift steps, and a sentence saying where it went. */
  async function told(
    done: DriftCheckSummary,
    sending: Promise<DriftAlertDelivery> | undefined,
    field: 'budgetAlert' | 'loggingAlert',
    what: string,
    area: 'inference' | 'logging',
  ): Promise<DriftCheckSummary> {
    if (!sending) return done;
    const delivery = await sending;
    const to = `the ${area} owner (${pipeline.owners[area]})`;
    const where = delivery.delivered === 'webhook' ? `alerted ${to}` : `logged for ${to} (no alerts.${area} route)`;
    return { ...done, [field]: delivery, message: `${done.message} ${what}: ${where}.` };
  }
}

/**
 * An alert sent beside the drift steps, so that an owner's route that is down delays neither the
 * drift alert nor the retrain. Its failure is handled at once (no unhandled rejection while the
 * drift steps run); awaited later, it still fails the check: an alert must not be lost quietly.
 */
function aside<T>(sending: Promise<T> | undefined): Promise<T> | undefined {
  sending?.catch(() => undefined);
  return sending;
}

/** Checks record their outcome and apply drift.alertAfter and drift.cooldown (workflows started before replay without). */
const ALERT_POLICY = 'drift-alert-policy';
/** Checks whose serving exceeded the pipeline's budgets alert the inference owner (workflows started before replay without). */
const SERVING_BUDGETS = 'serving-budgets';
/** Checks whose log had too many invalid lines alert the logging owner (workflows started before replay without). */
const LOGGING_ALERTS = 'logging-alerts';

/** At most this many partition activities per check: a year of hours still makes a small history. */
const MAX_PARTITION_TASKS = 500;
/**
 * Partition activities scheduled at once: enough to keep several workers busy, few enough that a
 * worker polling faster than its neighbours does not take on the whole window at once.
 */
const PARTITIONS_IN_FLIGHT = 16;

/**
 * A check of a window larger than one worker's memory: one activity per run of hours of the
 * prediction log summarises it (any number of workers share them), then one merges the
 * summaries, tests and reports, and one removes the summaries.
 */
async function partitionedCheck(request: {
  pipeline: Pipeline;
  version: string;
  checkId: string;
  from: string;
  to: string;
}): Promise<DriftCheckResult> {
  const { pipeline, checkId, from, to } = request;
  // On the queue next to this workflow's, which every worker of it polls a few hours at a time.
  const partitions = proxyActivities<LightActivities>({
    taskQueue: partitionQueueOf(workflowInfo().taskQueue),
    startToCloseTimeout: '30m',
    // Heartbeats after every batch file: a worker that died hands its hours on within a minute.
    heartbeatTimeout: '1m',
    retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  });
  const groups = hourGroups(hoursOverlapping(new Date(from), new Date(to)), MAX_PARTITION_TASKS);
  const summarised = summaryFeaturesOf(pipeline);
  const parts = await inParallel(groups, PARTITIONS_IN_FLIGHT, (hours) =>
    partitions.summarizeDriftPartition({ model: pipeline.name, checkId, hours, from, to, ...summarised }),
  );
  const result = await drift.finishPartitionedDriftCheck({ ...request, parts });
  await drift.deleteDriftSummaries({ model: pipeline.name, parts: parts.map((p) => ({ key: p.key })) });
  return result;
}

/** Maps every item with at most `limit` calls in flight; results in the items' order. */
async function inParallel<T, R>(items: readonly T[], limit: number, call: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      results[i] = await call(items[i]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
