import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { LightActivities, TrainingActivities } from '../activities';
import { durationToMs } from '../lib/duration';
import { ErrorType, NON_RETRYABLE } from '../lib/errors';
import { decideGate } from '../lib/gate';
import { pipelineSchema } from '../lib/pipeline';
import { TaskQueue } from '../lib/task-queues';
import { checkedInput } from './checked-input';
import { approvalDecisionSchema, approveSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery, type ApprovalDecision } from '../shared/messages';
import type { RetrainInput, RetrainSummary } from '../shared/inputs';
import type { RunStatus, RunStep } from '../shared/status';

const light = proxyActivities<LightActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * The retraining lifecycle: pull → validate → split → train → evaluate → gate → (approve) →
 * promote → verify, rolling back to the previous champion if anything after promotion fails.
 */
export async function retrainPipeline(input: RetrainInput): Promise<RetrainSummary> {
  const pipeline = checkedInput(pipelineSchema, input?.pipeline, 'pipeline definition');
  const info = workflowInfo();
  const training = proxyActivities<TrainingActivities>({
    taskQueue: input.trainingTaskQueue ?? TaskQueue.TRAINING,
    startToCloseTimeout: durationToMs(pipeline.training.timeout) + 60_000,
    heartbeatTimeout: pipeline.training.heartbeatTimeout,
    retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: pipeline.training.maxAttempts, nonRetryableErrorTypes: NON_RETRYABLE },
  });
  const approval = pipeline.approval;
  const status: RunStatus = {
    model: pipeline.name,
    requestedBy: input.requestedBy ?? null,
    step: 'starting',
    outcome: 'running',
    version: null,
    reusedVersion: false,
    championBefore: null,
    championAfter: null,
    snapshot: null,
    metrics: null,
    gate: null,
    approval: {
      required: approval.mode === 'manual',
      approvers: approval.mode === 'manual' ? approval.approvers : [],
      decision: null,
      by: null,
      reason: null,
      at: null,
      ignored: [],
    },
    message: null,
    steps: [],
  };

  // A query handler returns and never mutates.
  setHandler(statusQuery, () => status);

  // A signal handler mutates and returns nothing: a decision that does not count is kept as "ignored".
  const decide = (action: 'approve' | 'reject', raw: ApprovalDecision): void => {
    const parsed = approvalDecisionSchema.safeParse(raw);
    const by = parsed.success ? parsed.data.by : String((raw as { by?: unknown })?.by ?? '?');
    const why = parsed.success ? refusal(parsed.data) : `invalid payload: ${parsed.error.issues.map((i) => i.message).join('; ')}`;
    if (why) {
      status.approval.ignored.push({ by, action, why, at: new Date().toISOString() });
      log.warn(`ignored ${action} from ${by}: ${why}`, { model: pipeline.name, version: status.version, step: 'approval' });
      return;
    }
    status.approval.decision = action === 'approve' ? 'approved' : 'rejected';
    status.approval.by = by;
    status.approval.reason = parsed.success ? parsed.data.reason : null;
    status.approval.at = new Date().toISOString();
  };
  const refusal = (d: { by: string; version?: string }): string | null => {
    if (approval.mode !== 'manual') return 'this pipeline does not need approval';
    if (status.approval.decision !== 'pending') return status.approval.decision ? `already ${status.approval.decision}` : 'the run is not waiting for approval yet';
    if (!approval.approvers.includes(d.by)) return `${d.by} is not a listed approver (${approval.approvers.join(', ')})`;
    if (d.version && d.version !== status.version) return `decision is for ${d.version}, but the candidate is ${status.version}`;
    return null;
  };
  setHandler(approveSignal, (d) => decide('approve', d));
  setHandler(rejectSignal, (d) => decide('reject', d));
  // An update validator rejects bad input before anything enters history; the caller gets the reason.
  const validate = (d: ApprovalDecision) => {
    const parsed = approvalDecisionSchema.safeParse(d);
    if (!parsed.success) throw new Error(`invalid decision: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const why = refusal(parsed.data);
    if (why) throw new Error(why);
  };
  setHandler(approveUpdate, (d) => (decide('approve', d), status), { validator: validate });
  setHandler(rejectUpdate, (d) => (decide('reject', d), status), { validator: validate });

  let current: (typeof status.steps)[number] | null = null;
  // Each step leaves one structured line when it ends: step, outcome, duration, model, version
  // (the SDK adds workflow id and run id).
  const endStep = (outcome: 'ok' | 'failed') => {
    // 'done' is not a step that ends: a run that throws after finishing has nothing left to log.
    if (!current || current.durationMs !== null || current.step === 'done') return;
    current.durationMs = Date.now() - Date.parse(current.startedAt);
    const meta = { model: pipeline.name, version: status.version, step: current.step, outcome, durationMs: current.durationMs };
    if (outcome === 'ok') log.info(`step ${current.step}: ok`, meta);
    else log.warn(`step ${current.step}: failed`, meta);
  };
  const enter = (next: RunStep) => {
    endStep('ok');
    status.step = next;
    current = { step: next, startedAt: new Date().toISOString(), durationMs: null };
    if (next !== 'done') status.steps.push(current);
  };
  const finish = (outcome: RunStatus['outcome'], message: string): RetrainSummary => {
    enter('done');
    status.outcome = outcome;
    status.message = message;
    log.info(`finished: ${outcome}: ${message}`, { model: pipeline.name, version: status.version, step: 'done', outcome });
    return status;
  };

  try {
    enter('pull');
    const snapshot = await light.snapshotDataset({ pipeline });
    enter('validate');
    const report = await light.validateSnapshot({ pipeline, snapshot });
    status.snapshot = { sha256: snapshot.sha256, created: snapshot.created, rows: report.rows };
    enter('split');
    const split = await light.splitDataset({ pipeline, snapshot });
    enter('plan');
    const plan = await light.planVersion({ pipeline, snapshot, split });
    status.version = plan.version;
    status.championBefore = plan.champion;
    status.championAfter = plan.champion;

    if (plan.existing) {
      status.reusedVersion = true;
      if (plan.champion === plan.version) {
        return finish('unchanged', `same data, params and code as ${plan.version}, which is already the champion: no new version registered, nothing to promote`);
      }
      if (plan.rolledBack) {
        return finish(
          'unchanged',
          `same data, params and code as ${plan.version}, which was rolled back at ${plan.rolledBack.at} (${plan.rolledBack.reason}); ` +
            `it is not promoted again automatically. Change the data or params, or restore it by hand: retrain rollback ${pipeline.name} --to ${plan.version} --reason "…"`,
        );
      }
      log.info(`reusing ${plan.version}: same data and params were trained before`, { model: pipeline.name, version: plan.version, step: 'plan' });
    } else {
      enter('train');
      const trained = await training.trainModel({ pipeline, split, version: plan.version });
      enter('register');
      await light.registerVersion({ pipeline, plan, snapshot, split, trained, workflowId: info.workflowId, runId: info.runId });
    }

    enter('evaluate');
    const evaluation = await training.evaluateCandidate({ pipeline, version: plan.version, split });
    status.metrics = { challenger: evaluation.challenger, champion: evaluation.champion };

    enter('gate');
    const gate = decideGate({ pipeline, challenger: evaluation.challenger, champion: evaluation.champion, championVersion: evaluation.championVersion });
    status.gate = gate;
    await light.recordAudit({ type: 'gate', model: pipeline.name, version: plan.version, outcome: gate.passed ? 'ok' : 'rejected', summary: gate.reason, details: { ...gate } });
    if (!gate.passed) {
      const why = plan.existing ? `${plan.version} was trained before from the same data and params; ${gate.reason}` : gate.reason;
      return finish('rejected-by-gate', why);
    }

    if (approval.mode === 'manual') {
      enter('approval');
      status.approval.decision = 'pending';
      const decided = await condition(() => status.approval.decision !== 'pending', approval.timeout);
      if (!decided) {
        status.approval.decision = approval.onTimeout === 'approve' ? 'approved' : 'timed-out';
        status.approval.by = 'timeout';
        status.approval.reason = `no decision within ${approval.timeout}; policy: ${approval.onTimeout}`;
        status.approval.at = new Date().toISOString();
      }
      await light.recordAudit({
        type: 'approval',
        model: pipeline.name,
        version: plan.version,
        outcome: status.approval.decision === 'approved' ? 'ok' : 'rejected',
        summary: `${status.approval.decision} by ${status.approval.by}${status.approval.reason ? `: ${status.approval.reason}` : ''}`,
        details: { ...status.approval },
      });
      if (status.approval.decision !== 'approved') {
        return finish('rejected-by-approver', `candidate ${plan.version} ${status.approval.decision} by ${status.approval.by}${status.approval.reason ? ` (${status.approval.reason})` : ''}`);
      }
    }

    enter('promote');
    // A promotion once asked for is seen through even when the run is being cancelled, so the
    // run knows whether there is a champion to verify or undo (cancelling would not unsend it).
    const promoted = await CancellationScope.nonCancellable(() =>
      light.promoteChampion({
        model: pipeline.name,
        version: plan.version,
        expectedChampion: evaluation.championVersion,
        reason: gate.reason,
        actor: input.requestedBy ?? info.workflowId,
        eventId: `${info.workflowId}/${info.runId}/promote`,
      }),
    );
    status.championAfter = promoted.champion;

    enter('verify');
    try {
      await training.verifyChampion({ pipeline, version: plan.version, split });
    } catch (err) {
      return await rollBack(err);
    }
    return finish('promoted', `${plan.version} is the champion of ${pipeline.name} (was ${plan.champion ?? 'none'})`);

    // Compensation: put the previous champion back, record why, tell the owner, fail the run.
    // A run cancelled during verification is compensated too (an unverified model must not stay
    // champion), then ends cancelled.
    async function rollBack(err: unknown): Promise<never> {
      const cancelled = isCancellation(err);
      const cause = cancelled ? 'the run was cancelled' : errorMessage(err);
      const why = cancelled ? `verification of ${plan.version} was cancelled` : `verification of ${plan.version} failed: ${cause}`;
      endStep('failed');
      // Not cancellable: a cancelled scope would refuse to schedule the very activities that undo the promotion.
      const back = await CancellationScope.nonCancellable(async () => {
        await light.recordAudit({ type: 'verification', model: pipeline.name, version: plan.version, outcome: 'failed', summary: why });
        enter('rollback');
        const pointer = await light.rollbackChampion({
          model: pipeline.name,
          to: evaluation.championVersion ?? undefined,
          expectedChampion: plan.version,
          allowNoChampion: true,
          reason: why,
          actor: info.workflowId,
          eventId: `${info.workflowId}/${info.runId}/rollback`,
        });
        status.championAfter = pointer.champion;
        await light.notifyOwner({
          model: pipeline.name,
          owner: pipeline.owners.retraining,
          severity: 'critical',
          version: plan.version,
          subject: `${pipeline.name}: ${plan.version} rolled back after ${cancelled ? 'its run was cancelled during verification' : 'failed verification'}`,
          message: `Champion restored to ${pointer.champion ?? 'none'}. Cause: ${cause}`,
        });
        return pointer;
      });
      if (cancelled) {
        finish('cancelled', `cancelled during verify; ${plan.version} was rolled back to ${back.champion ?? 'no champion'}`);
        throw err;
      }
      finish('rolled-back', `${plan.version} failed verification and was rolled back to ${back.champion ?? 'no champion'}: ${cause}`);
      throw ApplicationFailure.nonRetryable(status.message!, ErrorType.PROMOTION_ROLLED_BACK, status);
    }
  } catch (err) {
    endStep('failed');
    if (status.outcome === 'running') {
      status.outcome = isCancellation(err) ? 'cancelled' : 'failed';
      // A cancellation carries no message of its own: say where the run was stopped.
      status.message = isCancellation(err) ? `cancelled during ${status.step}` : errorMessage(err);
    }
    throw err;
  }
}

/** The message of the failure that matters: an activity's own error rather than its wrapper. */
function errorMessage(err: unknown): string {
  return err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
}
