import type { FeatureSpec } from '../lib/drift/dataset-drift';
import type { EstimatedPerformance } from '../lib/drift/estimated-performance';
import { buildDriftReport, type DriftCheckReport } from '../lib/drift/report';
import { NotFoundError } from '../lib/errors';
import { outputKind } from '../lib/feature-kind';
import { keys } from '../lib/keys';
import { requireDrift, type Pipeline } from '../lib/pipeline';
import { seedOf } from '../lib/seed';
import { servingSummaryOfColumns } from '../lib/prediction-log';
import type { Columns } from '../lib/drift/dataset-drift';
import type { ReferenceProfile } from '../lib/reference-profile';
import { renderDriftReportHtml } from '../reports/html-report';
import { overBudgetOf } from '../lib/serving-budgets';
import type { DriftCheckResult } from '../shared/results';
import type { Store } from '../store/store';
import type { RetrainConfig } from '../lib/config';
import { measureConceptDrift } from './concept-drift';
import type { DriftCheckLog } from './drift-check-log';
import { readLabels, type LabelWindow } from './label-log';
import { readPredictionWindow, type PredictionWindow } from './prediction-log';
import { measureMultivariateDrift } from './multivariate-drift';
import { estimateWindowPerformance } from './performance-estimate';
import { loadReferenceColumns } from './reference-profiles';
import { measureSegmentDrift } from './segment-drift';
import { sourceReader } from './sources';

export type { DriftCheckLog } from './drift-check-log';

/** One drift check of one champion version over one prediction-log window. */
export interface DriftCheckRequest {
  pipeline: Pipeline;
  version: string;
  checkId: string;
  /** The window, ISO-8601: from <= timestamp < to. */
  from: string;
  to: string;
}

/** What a drift check needs besides the request: the store, and where labels sources are read from. */
export interface DriftCheckDeps {
  store: Store;
  config: Pick<RetrainConfig, 'projectDir' | 's3' | 'python' | 'workDir'>;
}

/**
 * Compares the prediction-log window with the champion's reference (data drift, for the whole
 * window and per segment value, and prediction drift) and newly labelled rows (the `drift.labels`
 * file and the label log posted to the API) with the holdout baseline (concept drift); checks the
 * serving figures against the pipeline's budgets; stores the JSON and HTML report under the check id
 * (the same check id writes the same keys, so a retry is harmless). Returns the small result
 * the workflow decides on, and the full report.
 */
export async function runDriftCheck(
  deps: DriftCheckDeps,
  input: DriftCheckRequest,
  log: DriftCheckLog,
): Promise<{ result: DriftCheckResult; report: DriftCheckReport }> {
  const { store } = deps;
  const { pipeline, version, checkId } = input;
  const drift = requireDrift(pipeline);
  const { features, prediction: predictionRef } = await loadReferences(store, pipeline.name, version);
  // Seeded by the check id, so a retried check samples the same rows and reaches the same verdict.
  const window = await readPredictionWindow(store, pipeline.name, {
    from: new Date(input.from),
    to: new Date(input.to),
    maxRows: drift.maxWindowRows,
    seed: seedOf(checkId),
  });
  warnInvalid(log, input, window, 'prediction-log');
  const labelLog = await readLabelLog(store, input, log);
  const enoughData = window.rows >= drift.minPredictions;
  const specs = featureSpecs(pipeline);
  const current = currentColumns(window, specs);
  const conceptDrift = await conceptDriftOf(deps, input, labelLog, window, log);
  const estimatedPerformance = enoughData ? await estimateWindowPerformance(store, { pipeline, version, window, conceptDrift }) : null;
  const multivariateDrift = enoughData
    ? await measureMultivariateDrift(deps, { pipeline, version, checkId, current, currentRows: window.rows })
    : null;
  const segments = enoughData
    ? await measureSegmentDrift(deps, { pipeline, version, checkId, features: specs, current, logged: window.features, rows: window.rows })
    : null;
  const report = buildDriftReport({
    ...reportFrame(input),
    reference: { label: `training data of ${version}`, columns: features.columns, rows: features.profile.rows },
    current: { label: currentLabel(input), columns: current, rows: window.rows, from: input.from, to: input.to },
    features: enoughData ? specs : [],
    segments,
    prediction:
      enoughData && predictionRef
        ? {
            kind: outputKind(pipeline.task),
            reference: predictionRef.columns.prediction,
            current: window.predictions,
            method: drift.prediction.method,
            threshold: drift.prediction.threshold,
            minEffect: drift.prediction.minEffect,
          }
        : null,
    conceptDrift,
    estimatedPerformance,
    multivariateDrift,
    // Over the kept rows: a uniform sample keeps latency percentiles and cost per prediction
    // unbiased, but counts and cost totals are then of the sample (the summary says sampled).
    serving: servingSummaryOfColumns(window),
  });
  const rows = { predictions: window.rows, windowPredictions: window.seen, sampled: window.sampled };
  const prefix = window.sampled ? `Sampled ${window.rows} of ${window.seen} predictions in the window (uniform, seeded). ` : '';
  return finishReport(store, input, report, { rows, enoughData, prefix, invalid: window });
}

// ---------------------------------------------------------------------------------------------
// The parts every drift check shares (exact, or partitioned: partitioned-drift-check.ts)
// ---------------------------------------------------------------------------------------------

/** The champion's reference profiles: its training features, and its holdout predictions when stored. */
export async function loadReferences(
  store: Store,
  model: string,
  version: string,
): Promise<{ features: ReferenceColumns; prediction: ReferenceColumns | null }> {
  const features = await loadReferenceColumns(store, model, version, 'features');
  if (!features)
    throw new NotFoundError(
      `${model} ${version} has no reference profile (it was registered before drift monitoring); retrain it to create one`,
      { model, version, step: 'drift-check' },
    );
  const prediction = await loadReferenceColumns(store, model, version, 'prediction');
  return { features, prediction };
}

/** A stored reference profile with its columns. */
type ReferenceColumns = { profile: ReferenceProfile; columns: Columns };

/** Labels posted to the API that became known in the window: they come after the prediction, up to the check time `to`. */
export async function readLabelLog(store: Store, input: DriftCheckRequest, log: DriftCheckLog): Promise<LabelWindow> {
  const labelLog = await readLabels(store, input.pipeline.name, { from: new Date(input.from), to: new Date(input.to) });
  warnInvalid(log, input, labelLog, 'label-log');
  return labelLog;
}

/** Concept drift when there are labels to measure it on (a labels file, or labels logged in the window); else null. */
export async function conceptDriftOf(
  deps: DriftCheckDeps,
  input: DriftCheckRequest,
  labelLog: LabelWindow,
  window: PredictionWindow | null,
  log: DriftCheckLog,
) {
  const { pipeline, version } = input;
  if (!requireDrift(pipeline).labels && labelLog.labels.size === 0) return null;
  return measureConceptDrift(
    { store: deps.store, readSource: sourceReader(deps.config) },
    { pipeline, version, from: input.from, to: input.to, logLabels: labelLog.labels, window },
    log,
  );
}

/** Says how many lines of a log were left out as invalid, and the first one, when there were any. */
export function warnInvalid(
  log: DriftCheckLog,
  input: DriftCheckRequest,
  read: { invalidLines: number; firstInvalid?: string },
  what: 'prediction-log' | 'label-log',
): void {
  if (read.invalidLines === 0) return;
  log.warn(`${read.invalidLines} invalid ${what} lines left out`, {
    model: input.pipeline.name,
    version: input.version,
    step: 'drift-check',
    firstInvalid: read.firstInvalid,
  });
}

/** The pipeline's features as drift tests take them, with their configured tests. */
export function featureSpecs(pipeline: Pipeline): FeatureSpec[] {
  const drift = requireDrift(pipeline);
  return pipeline.features.map((f) => ({
    name: f.name,
    kind: f.type,
    method: drift.features[f.name]?.method,
    threshold: drift.features[f.name]?.threshold,
    minEffect: drift.features[f.name]?.minEffect,
  }));
}

/** The fields of a check's report that do not depend on how the window was read. */
export function reportFrame(input: DriftCheckRequest) {
  const drift = requireDrift(input.pipeline);
  const { maxCostPer1000, maxLatencyP95Ms } = input.pipeline.budgets ?? {};
  const limits = {
    ...(maxCostPer1000 !== undefined ? { maxCostPer1000 } : {}),
    ...(maxLatencyP95Ms !== undefined ? { maxLatencyP95Ms } : {}),
  };
  return {
    model: input.pipeline.name,
    version: input.version,
    checkId: input.checkId,
    createdAt: new Date().toISOString(),
    datasetDriftShare: drift.datasetDriftShare,
    // Serving budgets are checked on every check, exact or partitioned: both report serving figures.
    budgets: Object.keys(limits).length > 0 ? { limits, minPredictions: drift.minPredictions } : null,
  };
}

/** How the report names the current window. */
export function currentLabel(input: DriftCheckRequest): string {
  return `predictions logged ${input.from} – ${input.to}`;
}

/**
 * Stores the JSON and HTML report under the check id (the same keys on a retry) and returns the
 * small result the workflow decides on. Without enough data the report says so, and never
 * "drift" or "no drift". (The HTML is rendered after the summary is final.)
 */
export async function finishReport(
  store: Store,
  input: DriftCheckRequest,
  report: DriftCheckReport,
  how: {
    rows: Pick<DriftCheckResult, 'predictions' | 'windowPredictions' | 'sampled'>;
    enoughData: boolean;
    /** Put before the summary: how the window was read (sampled, summarised). */
    prefix?: string;
    /** Lines of the window that were not valid prediction lines, and the first one. */
    invalid?: { invalidLines: number; firstInvalid?: string };
  },
): Promise<{ result: DriftCheckResult; report: DriftCheckReport }> {
  const { pipeline, version, checkId } = input;
  const { rows, enoughData } = how;
  // Not drift: over budget alerts the inference owner whatever the verdict.
  const overBudget = overBudgetOf(report.budgets);
  // Nor is a broken log: too many invalid lines alert the logging owner.
  const loggingProblem = loggingProblemOf(how.invalid, rows.windowPredictions, requireDrift(pipeline).maxInvalidLineShare);
  if (!enoughData) {
    report.enoughData = false;
    report.drifted = false;
    report.summary = `Not enough data: ${rows.predictions} predictions in the window, fewer than the ${requireDrift(pipeline).minPredictions} a verdict needs; no feature was tested, so there is no verdict.`;
  }
  report.summary = `${how.prefix ?? ''}${report.summary}`;
  if (loggingProblem) report.summary += ` ${describeLoggingProblem(loggingProblem)}`;
  const reportKey = keys.driftReport(pipeline.name, checkId, 'json');
  const htmlKey = keys.driftReport(pipeline.name, checkId, 'html');
  await store.put(reportKey, JSON.stringify(report, null, 2));
  await store.put(htmlKey, renderDriftReportHtml(report));
  const result: DriftCheckResult = {
    checkId,
    version,
    drifted: enoughData && report.drifted,
    enoughData,
    ...rows,
    ...(report.accuracy && enoughData ? { accuracy: report.accuracy } : {}),
    summary: report.summary,
    reportKey,
    htmlKey,
    datasetDriftShare: report.dataDrift.datasetDrift.share,
    predictionDrifted: report.predictionDrift?.drifted ?? false,
    conceptDrifted: report.conceptDrift?.drifted ?? false,
    ...(report.multivariateDrift?.auc != null ? { multivariateDrifted: report.multivariateDrift.drifted } : {}),
    ...(report.estimatedPerformance && enoughData ? { estimatedPerformance: briefEstimate(report.estimatedPerformance) } : {}),
    ...(report.segments?.reference ? { segmentDrifted: enoughData && report.segments.drifted } : {}),
    ...(overBudget.length > 0 ? { overBudget } : {}),
    ...(loggingProblem ? { loggingProblem } : {}),
  };
  return { result, report };
}

/** The estimate as the workflow, the CLI and the alert carry it. */
function briefEstimate(e: EstimatedPerformance): NonNullable<DriftCheckResult['estimatedPerformance']> {
  return { metric: e.metric, ...e.estimate, baseline: e.baseline, dropped: e.dropped, counts: e.counts };
}

function currentColumns(window: PredictionWindow, specs: FeatureSpec[]) {
  return Object.fromEntries(
    specs.map((s) => [
      s.name,
      window.features[s.name] ??
        (s.kind === 'numeric' ? new Float64Array(window.rows).fill(Number.NaN) : new Array(window.rows).fill(null)),
    ]),
  );
}

/**
 * Invalid lines over the allowed share of the window's lines (valid and invalid), or null. A
 * pipeline recorded before the setting existed allows 1%.
 */
function loggingProblemOf(
  invalid: { invalidLines: number; firstInvalid?: string } | undefined,
  validLines: number,
  limit = 0.01,
): DriftCheckResult['loggingProblem'] | null {
  if (!invalid || invalid.invalidLines === 0) return null;
  const lines = validLines + invalid.invalidLines;
  const share = invalid.invalidLines / lines;
  if (share <= limit) return null;
  return {
    invalidLines: invalid.invalidLines,
    lines,
    share,
    limit,
    ...(invalid.firstInvalid ? { firstInvalid: invalid.firstInvalid } : {}),
  };
}

/** The sentence a report and an alert say about a broken log. */
export function describeLoggingProblem(p: NonNullable<DriftCheckResult['loggingProblem']>): string {
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
  return (
    `${p.invalidLines} of ${p.lines} prediction-log lines in the window (${pct(p.share)}, more than the ${pct(p.limit)} allowed) are invalid and were left out` +
    `${p.firstInvalid ? `; the first: ${p.firstInvalid}` : ''}.`
  );
}
