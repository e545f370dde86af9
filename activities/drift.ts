import { getClient, heartbeat, log } from '@temporalio/activity';
import type { AlertDecision, CheckOutcome } from '../lib/drift/alert-policy';
import { durationToMs } from '../lib/duration';
import { monitoringRoutes, type AlertHeadline } from '../lib/alert-message';
import { describeOverBudget } from '../lib/serving-budgets';
import type { AlertRoute, Pipeline } from '../lib/pipeline';
import { recordCheckOutcome } from '../services/drift-alert-state';
import { retrainWorkflowId } from '../lib/workflow-ids';
import type { DriftCheckReport } from '../lib/drift/report';
import { describeLoggingProblem, runDriftCheck, type DriftCheckRequest } from '../services/drift-check';
import {
  deleteSummaries,
  finishPartitionedDriftCheck,
  summarizePartition,
  type PartitionedDriftCheckRequest,
  type PartitionRequest,
  type PartitionSummaryRef,
} from '../services/partitioned-drift-check';
import { deliverAlert } from '../services/alert-delivery';
import type { DriftAlertDelivery, DriftCheckResult, RetrainStart } from '../shared/results';
import type { RetrainInput, RetrainSummary } from '../shared/inputs';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';
import { recordDriftCheck } from './telemetry';

/** A check's budget alert id: its own, so it never collides with the check's drift alert (keyed by the check id). */
export function budgetAlertId(checkId: string): string {
  return `${checkId}-budget`;
}

/** The drift-check steps on the `retrain` queue: the check, the alerts, and the retrain it may start. */
export function driftActivities({ store, config }: ActivityDeps) {
  /** A check's metrics and audit event (one per check id: the audit log is idempotent). */
  async function recorded(input: DriftCheckRequest, checked: { result: DriftCheckResult; report: DriftCheckReport }) {
    const { result, report } = checked;
    recordDriftCheck(input.pipeline.name, result, report.serving);
    await writeAudit(store, {
      type: 'drift-check',
      model: input.pipeline.name,
      version: input.version,
      outcome: result.drifted ? 'failed' : 'ok',
      summary: report.summary,
      details: { ...result, window: { from: input.from, to: input.to } },
    });
    return result;
  }

  return {
    /**
     * Compares the prediction-log window with the champion's reference (data drift, prediction
     * drift) and newly labelled rows with the holdout baseline (concept drift); stores the JSON
     * and HTML report under the check id.
     */
    async runDriftCheck(input: DriftCheckRequest): Promise<DriftCheckResult> {
      return step('drift-check', { model: input.pipeline.name, version: input.version }, async () =>
        recorded(input, await runDriftCheck({ store, config }, input, log)),
      );
    },

    /**
     * A partitioned check's share of the window: summarises the prediction log of a run of hours
     * (any worker may take it) and stores the summary; returns its key and counts.
     */
    async summarizeDriftPartition(input: PartitionRequest): Promise<PartitionSummaryRef> {
      return step('drift-partition', { model: input.model, hours: `${input.hours[0]}..${input.hours.at(-1)}` }, () =>
        summarizePartition(store, input, (progress) => heartbeat(progress)),
      );
    },

    /**
     * A partitioned check's end: merges the partitions' summaries, tests them against the
     * champion's reference and stores the report, as runDriftCheck does for a whole window.
     */
    async finishPartitionedDriftCheck(input: PartitionedDriftCheckRequest): Promise<DriftCheckResult> {
      return step('drift-check', { model: input.pipeline.name, version: input.version, partitions: input.parts.length }, async () =>
        recorded(input, await finishPartitionedDriftCheck({ store, config }, input, log)),
      );
    },

    /** Removes a partitioned check's summaries once its report is stored. */
    async deleteDriftSummaries(input: { model: string; parts: Pick<PartitionSummaryRef, 'key'>[] }): Promise<void> {
      return step('drift-cleanup', { model: input.model }, () => deleteSummaries(store, input.parts));
    },

    async sendDriftAlert(input: { pipeline: Pipeline; result: DriftCheckResult; decision?: AlertDecision }): Promise<DriftAlertDelivery> {
      const { pipeline, result, decision } = input;
      return step('alert', { model: pipeline.name, version: result.version }, async () => {
        const { routes } = monitoringRoutes(pipeline, config.alertWebhook);
        const body = {
          kind: 'retrain.drift-alert/v1',
          checkId: result.checkId,
          model: pipeline.name,
          version: result.version,
          owner: pipeline.owners.monitoring,
          summary: result.summary,
          datasetDriftShare: result.datasetDriftShare,
          predictionDrifted: result.predictionDrifted,
          conceptDrifted: result.conceptDrifted,
          // A partitioned check says which results were estimated, and how closely.
          ...(result.accuracy ? { accuracy: result.accuracy } : {}),
          // How long drift has held, and how many drifted checks this one alert speaks for.
          ...(decision ? { consecutiveChecks: decision.streak, coveredChecks: decision.coveredChecks, why: decision.reason } : {}),
          report: { json: result.reportKey, html: result.htmlKey, store: store.location },
          onDrift: pipeline.drift?.onDrift ?? 'alert',
        };
        const headline: AlertHeadline = {
          model: pipeline.name,
          version: result.version,
          area: 'monitoring',
          owner: pipeline.owners.monitoring,
          severity: 'warning',
          subject: `Drift in ${pipeline.name}${result.version ? ` ${result.version}` : ''}`,
          lines: [
            result.summary,
            ...(decision && decision.streak > 1 ? [decision.reason] : []),
            `Report: ${store.location}/${result.htmlKey}`,
            pipeline.drift?.onDrift === 'retrain'
              ? 'A retraining run starts (or joins the one running).'
              : 'No retraining is started (onDrift: alert).',
          ],
        };
        // Deduplicated by the check id: every route gets this check's alert once.
        return sendAndRecord(store, config, {
          alertId: result.checkId,
          routes,
          headline,
          json: body,
          what: 'drift alert',
          step: 'alert',
          checkId: result.checkId,
          summary: result.summary,
          noRoute: 'no webhook configured',
        });
      });
    },

    /**
     * Tells the inference owner that serving went over the pipeline's budgets (cost per 1,000
     * predictions, p95 latency) through the `alerts.inference` routes, with an audit event and a
     * log line. Deduplicated by `<checkId>-budget`: every route gets a check's budget alert once.
     */
    async sendBudgetAlert(input: { pipeline: Pipeline; result: DriftCheckResult }): Promise<DriftAlertDelivery> {
      const { pipeline, result } = input;
      return step('budget-alert', { model: pipeline.name, version: result.version }, async () => {
        const over = result.overBudget ?? [];
        const routes = pipeline.alerts?.inference ?? [];
        const alertId = budgetAlertId(result.checkId);
        const lines = over.map(describeOverBudget);
        const body = {
          kind: 'retrain.budget-alert/v1',
          alertId,
          checkId: result.checkId,
          model: pipeline.name,
          version: result.version,
          owner: pipeline.owners.inference,
          overBudget: over,
          summary: result.summary,
          report: { json: result.reportKey, html: result.htmlKey, store: store.location },
        };
        const headline: AlertHeadline = {
          model: pipeline.name,
          version: result.version,
          area: 'inference',
          owner: pipeline.owners.inference,
          severity: 'warning',
          subject: `Serving over budget in ${pipeline.name}`,
          lines: [...lines, `Report: ${store.location}/${result.htmlKey}`],
        };
        return sendAndRecord(store, config, {
          alertId,
          routes,
          headline,
          json: body,
          what: 'budget alert',
          step: 'budget-alert',
          checkId: result.checkId,
          summary: lines.join('; '),
          noRoute: 'no inference route configured',
        });
      });
    },

    /**
     * Tells the logging owner that the prediction log of the window had too many invalid lines
     * (drift.maxInvalidLineShare) through the `alerts.logging` routes, with an audit event and a
     * log line. Deduplicated by `<checkId>-logging`.
     */
    async sendLoggingAlert(input: { pipeline: Pipeline; result: DriftCheckResult }): Promise<DriftAlertDelivery> {
      const { pipeline, result } = input;
      return step('logging-alert', { model: pipeline.name, version: result.version }, async () => {
        const problem = result.loggingProblem!;
        const alertId = `${result.checkId}-logging`;
        const said = describeLoggingProblem(problem);
        const body = {
          kind: 'retrain.logging-alert/v1',
          alertId,
          checkId: result.checkId,
          model: pipeline.name,
          version: result.version,
          owner: pipeline.owners.logging,
          ...problem,
          summary: said,
          report: { json: result.reportKey, html: result.htmlKey, store: store.location },
        };
        const headline: AlertHeadline = {
          model: pipeline.name,
          version: result.version,
          area: 'logging',
          owner: pipeline.owners.logging,
          severity: 'warning',
          subject: `Invalid prediction-log lines for ${pipeline.name}`,
          lines: [
            said,
            'Invalid lines are left out of drift checks, explain and readiness.',
            `Report: ${store.location}/${result.htmlKey}`,
          ],
        };
        return sendAndRecord(store, config, {
          alertId,
          routes: pipeline.alerts?.logging ?? [],
          headline,
          json: body,
          what: 'logging alert',
          step: 'logging-alert',
          checkId: result.checkId,
          summary: said,
          noRoute: 'no logging route configured',
        });
      });
    },

    /**
     * Records a check's outcome in the model's recent history and decides, by the pipeline's
     * alertAfter and cooldown, whether it alerts (a retried check gets its first decision).
     */
    async recordDriftOutcome(input: {
      model: string;
      outcome: Omit<CheckOutcome, 'alerted'>;
      alertAfter: number;
      cooldown: string;
    }): Promise<AlertDecision> {
      const { model, outcome } = input;
      return step('drift-alert-policy', { model, checkId: outcome.checkId }, async () => {
        const decision = await recordCheckOutcome(store, model, outcome, {
          alertAfter: input.alertAfter,
          cooldownMs: durationToMs(input.cooldown),
        });
        if (outcome.drifted && !decision.alert)
          await writeAudit(store, {
            type: 'drift-check',
            model,
            version: null,
            outcome: 'ok',
            summary: `drift alert held: ${decision.reason}`,
            details: { checkId: outcome.checkId, ...decision },
          });
        return decision;
      });
    },

    /**
     * Starts the pipeline's retraining run, or joins the one already running: the workflow id is
     * derived from the model and a conflict means "use the existing run", so concurrent drift
     * alerts never start two.
     */
    async startRetrainForDrift(input: { pipeline: Pipeline; checkId: string }): Promise<RetrainStart> {
      const { pipeline, checkId } = input;
      return step('start-retrain', { model: pipeline.name }, async () => {
        const client = getClient();
        const workflowId = retrainWorkflowId(pipeline.name);
        const requestedBy = `drift-check ${checkId}`;
        // The workflow's signature, from shared/: importing the workflow module's type here would
        // make a cycle (the workflow imports the activities' types).
        const handle = await client.workflow.start<(input: RetrainInput) => Promise<RetrainSummary>>('retrainPipeline', {
          taskQueue: config.taskQueue,
          workflowId,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ pipeline, requestedBy, reason: 'drift confirmed', trainingTaskQueue: config.trainingTaskQueue }],
          // Who started the run, readable by describe: no worker needed, unlike a query, which
          // also fails while a new run has not yet registered its handler.
          memo: { requestedBy },
        });
        const runId = handle.firstExecutionRunId;
        // Anyone else (a person, another check, a run started without the memo) means this check
        // joined a run in progress.
        const { memo } = await client.workflow.getHandle(workflowId, runId).describe();
        const joined = memo?.requestedBy !== requestedBy;
        await writeAudit(store, {
          type: 'drift-check',
          model: pipeline.name,
          version: null,
          outcome: 'ok',
          summary: joined
            ? `drift confirmed: joined the retraining run already in progress (${workflowId})`
            : `drift confirmed: started retraining run ${workflowId}`,
          details: { checkId, workflowId, runId, joined },
        });
        return { workflowId, runId, joined };
      });
    },
  };
}

/**
 * Sends an alert to its routes (each once: see deliverAlert), then leaves a log line and an audit
 * event saying to whom and through what: the same end for every kind of alert.
 */
async function sendAndRecord(
  store: ActivityDeps['store'],
  config: ActivityDeps['config'],
  a: {
    alertId: string;
    routes: AlertRoute[];
    headline: AlertHeadline;
    json: Record<string, unknown>;
    /** 'drift alert', 'budget alert': how the log and the audit name it. */
    what: string;
    step: string;
    checkId: string;
    /** What the alert says, for the log line. */
    summary: string;
    /** Why nothing was sent when there is no route. */
    noRoute: string;
  },
): Promise<DriftAlertDelivery> {
  const { headline, routes } = a;
  const context = { model: headline.model, version: headline.version ?? undefined, step: a.step };
  const routed = await deliverAlert(
    store,
    { alertId: a.alertId, routes, headline, json: a.json },
    { secret: config.webhookSecret, context },
  );
  log.warn(`${a.what} for ${headline.model} to ${headline.owner}: ${a.summary}`, {
    model: headline.model,
    version: headline.version,
    step: a.step,
    checkId: a.checkId,
    webhooks: routes.map((r) => new URL(r.url).host),
  });
  const via = routes.map((r) => `${new URL(r.url).host}${r.format === 'slack' ? ' (chat)' : ''}`).join(', ');
  await writeAudit(store, {
    type: 'alert',
    model: headline.model,
    version: headline.version,
    outcome: 'ok',
    summary: `${a.what} to ${headline.owner}${via ? ` via ${via}` : ` (log only: ${a.noRoute})`}${a.what === 'drift alert' ? '' : `: ${a.summary}`}`,
    details: a.json,
  });
  const url = routes[0]?.url ?? null;
  return { delivered: url ? 'webhook' : 'log', url, routes: routed };
}
