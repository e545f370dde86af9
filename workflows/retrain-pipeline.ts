import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
  type WorkflowInfo,
} from '@temporalio/workflow';
import type { LightActivities, TrainingActivities } from '../activities';
import { ErrorType, NON_RETRYABLE } from '../lib/errors';
import { decideGate } from '../lib/gate';
import type { Pipeline } from '../lib/pipeline';
import { TaskQueue } from '../lib/task-queues';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery, type ApprovalDecision } from '../shared/messages';
import type { RetrainInput, RetrainSummary } from '../shared/inputs';
import type { DatasetSnapshot, VersionPlan } from '../shared/results';
import { ApprovalMachine, initialApprovalState } from './approval';
import { durationToMs } from '../lib/duration';
import { retrainInput } from './run-input';
import { newRunStatus, RunTracker } from './run-tracker';

const lightRetry = { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE };
const light = proxyActivities<LightActivities>({ startToCloseTimeout: '2m', retry: lightRetry });
// The same steps as local activities: run by the workflow's own worker within its workflow task,
// so a step costs no task dispatch and no workflow task of its own. Retried as above, by the
// worker (every backoff of this policy is under the SDK's localRetryThreshold of 1 minute); a
// step whose worker dies is run again by the next one, as an activity would be: they are
// idempotent, their audit events keyed by run and activity id.
const local = proxyLocalActivities<LightActivities>({ startToCloseTimeout: '2m', retry: lightRetry });

/**
 * Runs take their quick light steps as local activities (see `local`): those whose time does not
 * grow with the data (plan, register, audit events, promote, roll back, notify), and validate and
 * split when the snapshot is small. Runs recorded before replay with activities, as they ran.
 */
const LOCAL_LIGHT_STEPS = 'local-light-steps';

/**
 * Largest snapshot validated and split by local activities: well under a second of work (bench:data
 * validates or splits about 30 MiB/s of CSV and 4 MiB/s of Parquet on 2 cores), inside one workflow
 * task. Larger ones are activities of their own.
 */
const LOCAL_DATA_STEP_MAX_BYTES = 1024 * 1024;

/**
 * The retraining lifecycle: pull → validate → split → plan → train → register → evaluate → gate →
 * (approve) → promote → verify, rolling back to the previous champion if verification fails.
 */
export async function retrainPipeline(input: RetrainInput): Promise<RetrainSummary> {
  const info = workflowInfo();
  const localSteps = patched(LOCAL_LIGHT_STEPS);
  const quick = localSteps ? local : light;
  const started = { requestedBy: input.requestedBy ?? null, reason: input.reason ?? null };
  // Started by model name, the run answers `status` while the worker loads the definition.
  const named = (input as { model?: unknown })?.model;
  if (typeof named === 'string') {
    const given = (input as { asOf?: unknown }).asOf;
    const asOf = typeof given === 'string' ? given : info.startTime.toISOString();
    const loading = newRunStatus({ ...started, asOf, model: named, window: null, approval: initialApprovalState({ mode: 'auto' }) });
    setHandler(statusQuery, () => loading);
  }
  // Checked, inline or loaded by model name; asOf is a backfill's, else the run's start: all in
  // the history, so a replay reads the same rows.
  const { pipeline, asOf, window } = await retrainInput(input, info.startTime, light.resolvePipeline);
  const training = trainingActivities(pipeline, input.trainingTaskQueue);
  const status = newRunStatus({ ...started, asOf, model: pipeline.name, window, approval: initialApprovalState(pipeline.approval) });
  const approvals = new ApprovalMachine(pipeline.approval, status.approval, { model: pipeline.name, candidate: () => status.version, log });
  const run = new RunTracker(status, log);

  // A query handler returns and never mutates.
  setHandler(statusQuery, () => status);
  // A signal handler mutates and returns nothing: a decision that does not count is kept as
  // "ignored", and audited (the audit waits for the handler: see the end of the run).
  const onSignal = async (action: 'approve' | 'reject', d: ApprovalDecision) => {
    const ignoredBefore = status.approval.ignored.length;
    approvals.decide(action, d, new Date());
    const ignored = status.approval.ignored[ignoredBefore];
    if (ignored && patched('audit-ignored-decisions')) {
      await quick.recordAudit({
        type: 'refused-decision',
        model: pipeline.name,
        version: status.version,
        outcome: 'rejected',
        summary: `ignored ${ignored.action} from ${ignored.by} (signal): ${ignored.why}`,
        details: { ...ignored, via: 'signal' },
      });
    }
  };
  setHandler(approveSignal, (d) => onSignal('approve', d));
  setHandler(rejectSignal, (d) => onSignal('reject', d));
  // An update validator rejects bad input before anything enters history; the caller gets the reason.
  const validator = (d: ApprovalDecision) => approvals.validate(d);
  setHandler(approveUpdate, (d) => (approvals.decide('approve', d, new Date()), status), { validator });
  setHandler(rejectUpdate, (d) => (approvals.decide('reject', d, new Date()), status), { validator });

  try {
    return await lifecycle();
  } finally {
    // Signal handlers may still be writing audit events: a run ends after them, cancelled or not.
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  }

  async function lifecycle(): Promise<RetrainSummary> {
    try {
      run.enter('pull');
      const snapshot = await light.snapshotDataset({ pipeline, asOf });

      run.enter('validate');
      // A small snapshot is read in moments: validated and split in this workflow task.
      const data = localSteps && smallData(pipeline, snapshot) ? local : light;
      const report = await data.validateSnapshot({ pipeline, snapshot });
      status.snapshot = { sha256: snapshot.sha256, created: snapshot.created, rows: report.rows };

      run.enter('split');
      const split = await data.splitDataset({ pipeline, snapshot });

      run.enter('plan');
      const plan = await quick.planVersion({ pipeline, snapshot, split });
      status.version = plan.version;
      status.championBefore = plan.champion;
      status.championAfter = plan.champion;

      // The version is derived from the training inputs: inputs trained before are reused, not retrained.
      if (plan.existing) {
        status.reusedVersion = true;
        const unchanged = unchangedReason(plan, pipeline.name);
        if (unchanged) {
          // A run that ends here still leaves its outcome in the audit log, as every other end does.
          if (patched('audit-unchanged-run'))
            await quick.recordAudit({
              type: 'run-unchanged',
              model: pipeline.name,
              version: plan.version,
              outcome: 'skipped',
              summary: unchanged,
              details: { champion: plan.champion, rolledBack: plan.rolledBack ?? null },
            });
          return run.finish('unchanged', unchanged);
        }
        log.info(`reusing ${plan.version}: same data and params were trained before`, {
          model: pipeline.name,
          version: plan.version,
          step: 'plan',
        });
      } else {
        run.enter('train');
        const trained = await training.trainModel({ pipeline, split, version: plan.version });
        run.enter('register');
        await quick.registerVersion({ pipeline, plan, snapshot, split, trained, workflowId: info.workflowId, runId: info.runId });
      }

      run.enter('evaluate');
      const evaluation = await training.evaluateCandidate({ pipeline, version: plan.version, split });
      status.metrics = { challenger: evaluation.challenger, champion: evaluation.champion };

      run.enter('gate');
      const gate = decideGate({
        pipeline,
        challenger: evaluation.challenger,
        champion: evaluation.champion,
        championVersion: evaluation.championVersion,
        // Per segment and predict latency, when the pipeline gates on them (evaluations of older
        // runs have neither, and their pipelines no such gates: the same decision on replay).
        segments: evaluation.segments ?? null,
        latency: evaluation.latency ?? null,
      });
      status.gate = gate;
      await quick.recordAudit({
        type: 'gate',
        model: pipeline.name,
        version: plan.version,
        outcome: gate.passed ? 'ok' : 'rejected',
        summary: gate.reason,
        details: { ...gate },
      });
      if (!gate.passed) {
        return run.finish(
          'rejected-by-gate',
          plan.existing ? `${plan.version} was trained before from the same data and params; ${gate.reason}` : gate.reason,
        );
      }

      if (pipeline.approval.mode === 'manual') {
        run.enter('approval');
        approvals.open();
        // Silence is a decision too: the pipeline's onTimeout policy settles it, so no run waits forever.
        const decided = await condition(() => !approvals.waiting, pipeline.approval.timeout);
        if (!decided) approvals.timeOut(new Date());
        await quick.recordAudit({
          type: 'approval',
          model: pipeline.name,
          version: plan.version,
          outcome: approvals.approved ? 'ok' : 'rejected',
          summary: approvals.summary(),
          details: { ...status.approval },
        });
        if (!approvals.approved) {
          const { decision, by, reason } = status.approval;
          return run.finish('rejected-by-approver', `candidate ${plan.version} ${decision} by ${by}${reason ? ` (${reason})` : ''}`);
        }
      }

      run.enter('promote');
      // A promotion once asked for is seen through even when the run is being cancelled, so the
      // run knows whether there is a champion to verify or undo (cancelling would not unsend it).
      const promoted = await CancellationScope.nonCancellable(() =>
        quick.promoteChampion({
          model: pipeline.name,
          version: plan.version,
          expectedChampion: evaluation.championVersion,
          reason: gate.reason,
          actor: input.requestedBy ?? info.workflowId,
          eventId: `${info.workflowId}/${info.runId}/promote`,
        }),
      );
      status.championAfter = promoted.champion;

      run.enter('verify');
      try {
        await training.verifyChampion({ pipeline, version: plan.version, split });
      } catch (err) {
        return await rollBackPromotion(err, run, quick, { pipeline, version: plan.version, restore: evaluation.championVersion, info });
      }
      return run.finish('promoted', `${plan.version} is the champion of ${pipeline.name} (was ${plan.champion ?? 'none'})`);
    } catch (err) {
      const cancelled = isCancellation(err);
      // A cancellation carries no message of its own: say where the run was stopped.
      run.fail(cancelled ? 'cancelled' : 'failed', cancelled ? `cancelled during ${status.step}` : errorMessage(err));
      // Every failed or cancelled run leaves an audit event with where and why it stopped.
      if (patched('audit-failed-run')) {
        await CancellationScope.nonCancellable(() =>
          quick.recordAudit({
            type: 'run-failed',
            model: pipeline.name,
            version: status.version,
            outcome: 'failed',
            summary: `${status.outcome} during ${status.step}: ${failureType(err)}: ${status.message}`,
            details: { step: status.step, outcome: status.outcome, errorType: failureType(err), message: status.message },
          }),
        );
      }
      throw err;
    }
  }
}

/** The type of the failure that matters: an activity's own error type rather than its wrapper's. */
function failureType(err: unknown): string {
  if (isCancellation(err)) return 'Cancelled';
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : cause instanceof Error ? cause.name : 'Error';
}

/** Training and prediction run on their own task queue, scaled apart, with the pipeline's timeout and attempts. */
function trainingActivities(pipeline: Pipeline, taskQueue: string | undefined) {
  return proxyActivities<TrainingActivities>({
    taskQueue: taskQueue ?? TaskQueue.TRAINING,
    startToCloseTimeout: durationToMs(pipeline.training.timeout) + 60_000,
    heartbeatTimeout: pipeline.training.heartbeatTimeout,
    retry: {
      initialInterval: '2s',
      maximumInterval: '1m',
      maximumAttempts: pipeline.training.maxAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
}

/** Whether a snapshot is small enough to validate and split in moments (a separate holdout source may be any size). */
function smallData(pipeline: Pipeline, snapshot: DatasetSnapshot): boolean {
  return snapshot.bytes <= LOCAL_DATA_STEP_MAX_BYTES && !('source' in pipeline.holdout);
}

/** Why a reused version ends the run unchanged, or null when it goes on to evaluation. */
function unchangedReason(plan: VersionPlan, model: string): string | null {
  if (plan.champion === plan.version) {
    return `same data, params and code as ${plan.version}, which is already the champion: no new version registered, nothing to promote`;
  }
  if (plan.rolledBack) {
    return (
      `same data, params and code as ${plan.version}, which was rolled back at ${plan.rolledBack.at} (${plan.rolledBack.reason}); ` +
      `it is not promoted again automatically. Change the data or params, or restore it by hand: retrain rollback ${model} --to ${plan.version} --reason "…"`
    );
  }
  return null;
}

/**
 * Compensation for a promotion that failed verification: put the previous champion back, record
 * why, tell the owner, fail the run. A run cancelled during verification is compensated too (an
 * unverified model must not stay champion), then ends cancelled.
 */
async function rollBackPromotion(
  err: unknown,
  run: RunTracker,
  steps: typeof light,
  promotion: { pipeline: Pipeline; version: string; restore: string | null; info: WorkflowInfo },
): Promise<never> {
  const { pipeline, version, restore, info } = promotion;
  const cancelled = isCancellation(err);
  const cause = cancelled ? 'the run was cancelled' : errorMessage(err);
  const why = cancelled ? `verification of ${version} was cancelled` : `verification of ${version} failed: ${cause}`;
  run.endStep('failed');
  // Not cancellable: a cancelled scope would refuse to schedule the very activities that undo the promotion.
  const back = await CancellationScope.nonCancellable(async () => {
    await steps.recordAudit({ type: 'verification', model: pipeline.name, version, outcome: 'failed', summary: why });
    run.enter('rollback');
    const pointer = await steps.rollbackChampion({
      model: pipeline.name,
      to: restore ?? undefined,
      expectedChampion: version,
      allowNoChampion: true,
      reason: why,
      actor: info.workflowId,
      eventId: `${info.workflowId}/${info.runId}/rollback`,
    });
    run.status.championAfter = pointer.champion;
    await steps.notifyOwner({
      model: pipeline.name,
      owner: pipeline.owners.retraining,
      severity: 'critical',
      version,
      subject: `${pipeline.name}: ${version} rolled back after ${cancelled ? 'its run was cancelled during verification' : 'failed verification'}`,
      message: `Champion restored to ${pointer.champion ?? 'none'}. Cause: ${cause}`,
      // The retraining area's routes; a pipeline recorded before routes existed has none.
      routes: pipeline.alerts?.retraining ?? [],
      area: 'retraining',
    });
    return pointer;
  });
  if (cancelled) {
    run.finish('cancelled', `cancelled during verify; ${version} was rolled back to ${back.champion ?? 'no champion'}`);
    throw err;
  }
  const summary = run.finish(
    'rolled-back',
    `${version} failed verification and was rolled back to ${back.champion ?? 'no champion'}: ${cause}`,
  );
  throw ApplicationFailure.nonRetryable(summary.message!, ErrorType.PROMOTION_ROLLED_BACK, summary);
}

/** The message of the failure that matters: an activity's own error rather than its wrapper. */
function errorMessage(err: unknown): string {
  return err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
}
