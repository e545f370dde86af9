import { getClient, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FeatureSpec } from '../lib/drift/dataset-drift';
import { buildDriftReport, type ConceptDrift, type DriftCheckReport } from '../lib/drift/report';
import { InvalidInputError, NotFoundError } from '../lib/errors';
import { scorePredictions } from '../lib/evaluate';
import { keys } from '../lib/keys';
import { sourceFormat, type Pipeline } from '../lib/pipeline';
import { servingSummaryOfColumns } from '../lib/prediction-log';
import { parseTable } from '../lib/table';
import type { PredictionLine } from '../lib/training-contract';
import { renderDriftReportHtml } from '../reports/html-report';
import { retrainWorkflowId } from '../lib/workflow-ids';
import { statusQuery } from '../workflows/messages';
import type { ActivityDeps } from './deps';
import { readPredictionWindow, type PredictionWindow } from './prediction-window';
import { loadReferenceColumns } from './reference';
import { readVersion } from './registry';
import { sourceReader } from './sources';
import { recordDriftCheck } from './telemetry';
import { step, writeAudit } from './step';

/** What the drift-check workflow needs to decide: small, the full report stays in the store. */
export interface DriftCheckResult {
  checkId: string;
  version: string;
  drifted: boolean;
  /** False when the window held fewer predictions than `drift.minPredictions`. */
  enoughData: boolean;
  /** Predictions the statistics ran on: all of the window, or a sample of `drift.maxWindowRows`. */
  predictions: number;
  /** Predictions logged in the window. */
  windowPredictions: number;
  /** True when `predictions` is a uniform sample of `windowPredictions`. */
  sampled: boolean;
  summary: string;
  reportKey: string;
  htmlKey: string;
  datasetDriftShare: number;
  predictionDrifted: boolean;
  conceptDrifted: boolean;
}

export function driftActivities({ store, config }: ActivityDeps) {
  const readSource = sourceReader(config);
  return {
    /**
     * Compares the prediction-log window with the champion's reference (data drift, prediction
     * drift) and newly labelled rows with the holdout baseline (concept drift); stores the JSON
     * and HTML report under the check id.
     */
    async runDriftCheck(input: { pipeline: Pipeline; version: string; checkId: string; from: string; to: string }): Promise<DriftCheckResult> {
      const { pipeline, version, checkId } = input;
      const drift = requireDrift(pipeline);
      return step('drift-check', { model: pipeline.name, version }, async () => {
        const features = await loadReferenceColumns(store, pipeline.name, version, 'features');
        if (!features) throw new NotFoundError(`${pipeline.name} ${version} has no reference profile (it was registered before drift monitoring); retrain it to create one`, { model: pipeline.name, version, step: 'drift-check' });
        const predictionRef = await loadReferenceColumns(store, pipeline.name, version, 'prediction');
        // Seeded by the check id, so a retried check samples the same rows and reaches the same verdict.
        const window = await readPredictionWindow(store, pipeline.name, { from: new Date(input.from), to: new Date(input.to), maxRows: drift.maxWindowRows, seed: seedOf(checkId) });
        if (window.invalidLines > 0) log.warn(`${window.invalidLines} invalid prediction-log lines left out`, { model: pipeline.name, version, step: 'drift-check', firstInvalid: window.firstInvalid });
        const enoughData = window.rows >= drift.minPredictions;
        const specs: FeatureSpec[] = pipeline.features.map((f) => ({
          name: f.name,
          kind: f.type === 'numeric' ? 'numerical' : 'categorical',
          method: drift.features[f.name]?.method,
          threshold: drift.features[f.name]?.threshold,
        }));
        const predictionKind = pipeline.task === 'regression' ? 'numerical' : 'categorical';
        const report = buildDriftReport({
          model: pipeline.name,
          version,
          checkId,
          createdAt: new Date().toISOString(),
          reference: { label: `training data of ${version}`, columns: features.columns, rows: features.profile.rows },
          current: { label: `predictions logged ${input.from} – ${input.to}`, columns: currentColumns(window, specs), rows: window.rows, from: input.from, to: input.to },
          features: enoughData ? specs : [],
          datasetDriftShare: drift.datasetDriftShare,
          prediction:
            enoughData && predictionRef
              ? { kind: predictionKind, reference: predictionRef.columns.prediction, current: window.predictions, method: drift.prediction.method, threshold: drift.prediction.threshold }
              : null,
          conceptDrift: drift.labels ? await conceptDrift(pipeline, version, window) : null,
          // Over the kept rows: a uniform sample keeps latency percentiles and cost per prediction
          // unbiased, but counts and cost totals are then of the sample (the summary says sampled).
          serving: servingSummaryOfColumns(window),
        });
        if (!enoughData) report.summary = `Not enough data: ${window.rows} predictions in the window, fewer than the ${drift.minPredictions} a verdict needs. ${report.summary}`;
        if (window.sampled) report.summary = `Sampled ${window.rows} of ${window.seen} predictions in the window (uniform, seeded). ${report.summary}`;
        const reportKey = keys.driftReport(pipeline.name, checkId, 'json');
        const htmlKey = keys.driftReport(pipeline.name, checkId, 'html');
        await store.put(reportKey, JSON.stringify(report, null, 2));
        await store.put(htmlKey, renderDriftReportHtml(report));
        const result: DriftCheckResult = {
          checkId,
          version,
          drifted: enoughData && report.drifted,
          enoughData,
          predictions: window.rows,
          windowPredictions: window.seen,
          sampled: window.sampled,
          summary: report.summary,
          reportKey,
          htmlKey,
          datasetDriftShare: report.dataDrift.datasetDrift.share,
          predictionDrifted: report.predictionDrift?.drifted ?? false,
          conceptDrifted: report.conceptDrift?.drifted ?? false,
        };
        recordDriftCheck(pipeline.name, result, report.serving);
        await writeAudit(store, {
          type: 'drift-check',
          model: pipeline.name,
          version,
          outcome: result.drifted ? 'failed' : 'ok',
          summary: report.summary,
          details: { ...result, window: { from: input.from, to: input.to } },
        });
        return result;
      });
    },

    /**
     * POSTs the alert to the pipeline's webhook (or RETRAIN_ALERT_WEBHOOK) with the check id as
     * idempotency key, and records it. Network errors and 5xx are retried; 4xx is not.
     */
    async sendDriftAlert(input: { pipeline: Pipeline; result: DriftCheckResult }): Promise<{ delivered: 'webhook' | 'log'; url: string | null }> {
      const { pipeline, result } = input;
      return step('alert', { model: pipeline.name, version: result.version }, async () => {
        const url = pipeline.drift?.alertWebhook ?? config.alertWebhook ?? null;
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
          report: { json: result.reportKey, html: result.htmlKey, store: store.location },
          onDrift: pipeline.drift?.onDrift ?? 'alert',
        };
        if (url) await postJson(url, body, result.checkId);
        log.warn(`drift alert for ${pipeline.name} to ${pipeline.owners.monitoring}: ${result.summary}`, { model: pipeline.name, version: result.version, step: 'alert', checkId: result.checkId, webhook: url });
        await writeAudit(store, {
          type: 'alert',
          model: pipeline.name,
          version: result.version,
          outcome: 'ok',
          summary: `drift alert to ${pipeline.owners.monitoring}${url ? ` via ${new URL(url).host}` : ' (log only: no webhook configured)'}`,
          details: body,
        });
        return { delivered: url ? 'webhook' : 'log', url };
      });
    },

    /**
     * Starts the pipeline's retraining run, or joins the one already running: the workflow id is
     * derived from the model and a conflict means "use the existing run", so concurrent drift
     * alerts never start two.
     */
    async startRetrainForDrift(input: { pipeline: Pipeline; checkId: string }): Promise<{ workflowId: string; runId: string; joined: boolean }> {
      const { pipeline, checkId } = input;
      return step('start-retrain', { model: pipeline.name }, async () => {
        const client = getClient();
        const workflowId = retrainWorkflowId(pipeline.name);
        const requestedBy = `drift-check ${checkId}`;
        const handle = await client.workflow.start('retrainPipeline', {
          taskQueue: config.taskQueue,
          workflowId,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ pipeline, requestedBy, reason: 'drift confirmed', trainingTaskQueue: config.trainingTaskQueue }],
        });
        const runId = handle.firstExecutionRunId;
        // The run says who started it: anyone else means this check joined a run in progress.
        const status = await client.workflow.getHandle(workflowId, runId).query(statusQuery);
        const joined = status.requestedBy !== requestedBy;
        await writeAudit(store, {
          type: 'drift-check',
          model: pipeline.name,
          version: null,
          outcome: 'ok',
          summary: joined ? `drift confirmed: joined the retraining run already in progress (${workflowId})` : `drift confirmed: started retraining run ${workflowId}`,
          details: { checkId, workflowId, runId, joined },
        });
        return { workflowId, runId, joined };
      });
    },
  };

  /** Performance of the champion on newly labelled rows, joined to logged predictions by id. */
  async function conceptDrift(pipeline: Pipeline, version: string, window: PredictionWindow): Promise<Omit<ConceptDrift, 'drifted'>> {
    const drift = requireDrift(pipeline);
    const source = drift.labels!;
    const body = await readSource(source, `labels source of ${pipeline.name}`, { model: pipeline.name, step: 'drift-check' });
    const labels = parseTable(body, sourceFormat(source), `labels ${source.path}`);
    const idIndex = labels.columns.indexOf(pipeline.idColumn!);
    const labelIndex = labels.columns.indexOf(pipeline.label);
    if (idIndex < 0 || labelIndex < 0) throw new InvalidInputError(`labels ${source.path} needs columns "${pipeline.idColumn}" and "${pipeline.label}"`, { model: pipeline.name, step: 'drift-check' });
    const labelById = new Map<string, string>();
    for (const row of labels.rows) if (row[idIndex] !== null && row[labelIndex] !== null) labelById.set(row[idIndex]!, row[labelIndex]!);

    const model = await readVersion(store, pipeline.name, version);
    const rows = joinLabels(window, version, labelById);
    const metric = pipeline.metrics.primary;
    const baseline = await holdoutBaseline(pipeline.name, version, metric);
    const maxRegression = drift.maxMetricRegression;
    if (rows.labels.length === 0) return { labelledRows: 0, metric, baseline, current: null, maxRegression, metrics: {}, note: 'no labelled rows match predictions of this version in the window' };
    const metrics = scorePredictions({ task: pipeline.task, labels: rows.labels, predictions: rows.predictions, classes: model.classes, positiveClass: pipeline.positiveClass });
    return { labelledRows: rows.labels.length, metric, baseline, current: metrics[metric] ?? null, maxRegression, metrics };
  }

  /** The version's primary metric on its holdout, as measured when it was evaluated. */
  async function holdoutBaseline(model: string, version: string, metric: string): Promise<number | null> {
    const [first] = await store.list(keys.evaluationsOf(model, version));
    if (!first) return null;
    const evaluation = JSON.parse((await store.get(first))!.toString());
    return evaluation.challenger?.[metric] ?? null;
  }
}

/** The logged predictions of `version` that have a label, in the shape the metrics take. */
function joinLabels(window: PredictionWindow, version: string, labelById: Map<string, string>): { labels: string[]; predictions: PredictionLine[] } {
  const labels: string[] = [];
  const predictions: PredictionLine[] = [];
  for (let i = 0; i < window.rows; i++) {
    const label = labelById.get(window.ids[i]);
    if (window.versions[i] !== version || label === undefined) continue;
    const prediction = window.predictions[i];
    if (prediction === null || (typeof prediction === 'number' && Number.isNaN(prediction))) continue;
    const scores: Record<string, number> = {};
    for (const [cls, column] of Object.entries(window.scores ?? {})) if (!Number.isNaN(column[i])) scores[cls] = column[i];
    labels.push(label);
    predictions.push({ prediction, scores: Object.keys(scores).length ? scores : undefined });
  }
  return { labels, predictions };
}

/** A 32-bit seed from a string (FNV-1a): the same check id always samples the same rows. */
function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function requireDrift(pipeline: Pipeline): NonNullable<Pipeline['drift']> {
  if (!pipeline.drift) throw new InvalidInputError(`pipeline ${pipeline.name} has no drift settings (add drift: { … } to its definition)`, { model: pipeline.name, step: 'drift-check' });
  return pipeline.drift;
}

function currentColumns(window: PredictionWindow, specs: FeatureSpec[]) {
  return Object.fromEntries(specs.map((s) => [s.name, window.features[s.name] ?? (s.kind === 'numerical' ? new Float64Array(window.rows).fill(Number.NaN) : new Array(window.rows).fill(null))]));
}

async function postJson(url: string, body: unknown, idempotencyKey: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new Error(`alert webhook ${url} unreachable: ${(err as Error).message} (will be retried)`);
  }
  if (response.status >= 500 || response.status === 429) throw new Error(`alert webhook ${url} answered ${response.status} (will be retried)`);
  if (!response.ok) throw ApplicationFailure.nonRetryable(`alert webhook ${url} refused the alert with ${response.status}: ${(await response.text()).slice(0, 300)}`, 'AlertRejected');
}
