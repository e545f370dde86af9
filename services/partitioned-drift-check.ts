import type { FeatureSpec } from '../lib/drift/dataset-drift';
import { seedOf } from '../lib/drift/quantile-sketch';
import type { EstimatedPerformance } from '../lib/drift/estimated-performance';
import { buildDriftReportOf, PREDICTION_FEATURE, type DriftCheckReport } from '../lib/drift/report';
import { testSummarized } from '../lib/drift/summary-report';
import type { SummaryFeature } from '../lib/drift/window-summary';
import { InvalidInputError } from '../lib/errors';
import { outputKind, summaryFeaturesOf, type FeatureKind } from '../lib/feature-kind';
import { keys } from '../lib/keys';
import { estimateBinnedPerformance } from '../lib/performance-estimation';
import { requireDrift, type Pipeline } from '../lib/pipeline';
import { segmentsNotTested } from '../lib/drift/segments';
import { safeParsePredictionLine } from '../lib/prediction-log';
import { OUTPUT_COLUMN, PredictionWindowSummary } from '../lib/prediction-window-summary';
import type { DriftCheckResult } from '../shared/results';
import type { Store } from '../store/store';
import { loadCalibration } from './calibrations';
import {
  conceptDriftOf,
  currentLabel,
  featureSpecs,
  finishReport,
  loadReferences,
  readLabelLog,
  reportFrame,
  warnInvalid,
  type DriftCheckDeps,
  type DriftCheckLog,
  type DriftCheckRequest,
} from './drift-check';
import { checkRange, forEachLogLine } from './log-batches';
import { estimateSection } from './performance-estimate';
import { segmentColumnsOf } from './segment-drift';

/**
 * A drift check over a window larger than one worker's memory: each run of UTC hours of the
 * prediction log is summarised by its own activity, on whichever worker takes it
 * ({@link summarizePartition}), and the summaries are merged and tested against the champion's
 * exact reference ({@link finishPartitionedDriftCheck}). Every logged prediction counts (no
 * sampling); categorical tests and numeric features with few distinct values are exact, the
 * others are estimated from quantile sketches, and the report states their rank error. A binary
 * champion's performance is estimated without labels from histograms of its scores.
 */

const HOUR_MS = 3_600_000;

/** One activity's share of a partitioned check: a run of consecutive hours of the window. */
export interface PartitionRequest {
  model: string;
  checkId: string;
  /** UTC hours 'YYYY-MM-DDTHH', consecutive, oldest first. */
  hours: string[];
  /** The window, ISO-8601: from <= timestamp < to (the first and last hour may be partly outside it). */
  from: string;
  to: string;
  features: SummaryFeature[];
  outputKind: FeatureKind;
}

/** What a partition's activity returns to the workflow: small; the summary itself is in the store. */
export interface PartitionSummaryRef {
  /** Store key of the summary (JSON). */
  key: string;
  /** Predictions summarised. */
  rows: number;
  /** Batch files read. */
  files: number;
  invalidLines: number;
  firstInvalid?: string;
}

/**
 * Reads the batch files of the hours one at a time, validates each line as the exact check does
 * and summarises the lines in the window (lines of another model, invalid lines and values that
 * do not fit the pipeline are counted, the first one described), then stores the summary under
 * the check id and first hour. Deterministic: a retry writes the same summary to the same key.
 */
export async function summarizePartition(
  store: Store,
  request: PartitionRequest,
  /** Called after each batch file with the files and lines read so far (the activity heartbeats). */
  onFile: (progress: { files: number; lines: number }) => void = () => undefined,
): Promise<PartitionSummaryRef> {
  const { model, checkId, hours } = request;
  const from = new Date(request.from);
  const to = new Date(request.to);
  checkRange(from, to, 'prediction window', model);
  if (hours.length === 0) throw new InvalidInputError(`a partition of ${model}'s drift check ${checkId} names no hours`, { model });
  const fromMs = from.getTime();
  const toMs = to.getTime();
  const summary = PredictionWindowSummary.create({
    features: request.features,
    outputKind: request.outputKind,
    seed: seedOf(`${checkId} ${hours[0]}`),
  });
  const prefixes = hours.map((h) => keys.predictionPartition(model, h));
  // A UTC timestamp in an hour the window covers whole is in the window: no need to parse it.
  const inner = new Set(
    hours.filter((h) => {
      const start = Date.parse(`${h}:00:00Z`);
      return start >= fromMs && start + HOUR_MS <= toMs;
    }),
  );
  let lines = 0;
  const visit = (text: string, key: string, lineNumber: number) => {
    lines++;
    const where = `${key}:${lineNumber}`;
    const parsed = safeParsePredictionLine(text, where);
    if (!parsed.ok) return summary.addInvalid(parsed.error);
    const line = parsed.line;
    if (line.model !== model) return summary.addInvalid(`${where}: belongs to model ${line.model}, not ${model}`);
    const ts = line.timestamp;
    if (ts.endsWith('Z') && inner.has(ts.slice(0, 13))) return summary.add(line, where);
    const at = Date.parse(ts);
    if (at >= fromMs && at < toMs) summary.add(line, where);
  };
  const files = await forEachLogLine(store, prefixes, visit, (filesRead) => onFile({ files: filesRead, lines }));
  const key = keys.driftSummary(model, checkId, hours[0]);
  await store.put(key, JSON.stringify(summary));
  return { key, rows: summary.rows, files, ...summary.invalid };
}

/** The check and the summaries of its partitions. */
export interface PartitionedDriftCheckRequest extends DriftCheckRequest {
  parts: PartitionSummaryRef[];
}

/**
 * Merges the partitions' summaries (one in memory at a time besides the merged one), tests each
 * feature and the predictions against the champion's exact reference, measures concept drift on
 * the labelled ids (found by id in the prediction log), estimates a binary champion's performance
 * from its binned scores and stores the report, which says which results are approximate and with
 * what error. The summaries stay in the store until
 * {@link deleteSummaries}, so a retry finds them.
 */
export async function finishPartitionedDriftCheck(
  deps: DriftCheckDeps,
  input: PartitionedDriftCheckRequest,
  log: DriftCheckLog,
): Promise<{ result: DriftCheckResult; report: DriftCheckReport }> {
  const { store } = deps;
  const { pipeline, version } = input;
  const drift = requireDrift(pipeline);
  const { features: reference, prediction: predictionRef } = await loadReferences(store, pipeline.name, version);
  const window = await mergeSummaries(store, input);
  warnInvalid(log, input, window.invalid, 'prediction-log');
  const labelLog = await readLabelLog(store, input, log);
  const rows = window.rows;
  const enoughData = rows >= drift.minPredictions;
  const specs = featureSpecs(pipeline);
  const current = window.features;
  const tested = enoughData
    ? specs.map((spec) => testSummarized(columnOf(reference.columns, spec), current.columns.get(spec.name)!, spec))
    : [];
  const predictionSpec: FeatureSpec = {
    name: PREDICTION_FEATURE,
    kind: outputKind(pipeline.task),
    method: drift.prediction.method,
    threshold: drift.prediction.threshold,
    minEffect: drift.prediction.minEffect,
  };
  const predictionTested =
    enoughData && predictionRef
      ? testSummarized(predictionRef.columns.prediction, window.output.columns.get(OUTPUT_COLUMN)!, predictionSpec)
      : null;
  const conceptDrift = await conceptDriftOf(deps, input, labelLog, null, log);
  const estimated = enoughData ? await binnedEstimateOf(store, input, window, conceptDrift) : null;
  const report = buildDriftReportOf({
    ...reportFrame(input),
    reference: { label: `training data of ${version}`, rows: reference.profile.rows },
    current: { label: currentLabel(input), rows, from: input.from, to: input.to },
    tested,
    predictionTested,
    conceptDrift,
    estimatedPerformance: estimated?.section ?? null,
    serving: window.serving(),
    segments: enoughData ? segmentsSkipped(pipeline) : null,
  });
  const prefix = `Summarised all ${rows} predictions of the window in ${input.parts.length} partitions. ${estimated?.skipped ?? ''}`;
  return finishReport(store, input, report, {
    rows: { predictions: rows, windowPredictions: rows, sampled: false },
    enoughData,
    prefix,
    invalid: window.invalid,
  });
}

/** Why a partitioned check does not estimate a multiclass champion: said in its summary. */
const MULTICLASS_NOT_ESTIMATED =
  'Performance was not estimated without labels: a partitioned check estimates binary classifiers only; ' +
  'an exact check (drift.partitioned: false) estimates this multiclass champion. ';

/**
 * The champion's performance estimated from the merged histograms of its scores (binary
 * champions with a stored calibration), or null as the exact check has none: no calibration, no
 * score logged. A multiclass champion is not estimated here, and `skipped` says so.
 */
async function binnedEstimateOf(
  store: Store,
  input: PartitionedDriftCheckRequest,
  window: PredictionWindowSummary,
  conceptDrift: Parameters<typeof estimateSection>[1]['conceptDrift'],
): Promise<{ section: EstimatedPerformance | null; skipped?: string }> {
  const { pipeline, version } = input;
  const calibration = await loadCalibration(store, pipeline.name, version);
  if (!calibration) return { section: null };
  if (calibration.method !== 'isotonic') return { section: null, skipped: MULTICLASS_NOT_ESTIMATED };
  const binned = window.binnedScores(version, calibration.positiveClass);
  if (!binned) return { section: null };
  const { estimate } = estimateBinnedPerformance({ ...binned, calibration });
  if (estimate.rows === 0) return { section: null };
  const section = await estimateSection(store, { pipeline, version, estimate, positiveClass: calibration.positiveClass, conceptDrift });
  return { section };
}

/** A partitioned check says why it has no drift per segment, when the pipeline names segments. */
function segmentsSkipped(pipeline: Pipeline) {
  const columns = segmentColumnsOf(pipeline);
  if (columns.length === 0) return null;
  const min = requireDrift(pipeline).minPredictions;
  return segmentsNotTested(
    { columns, minRows: { reference: min, current: min } },
    'a partitioned check summarises the window hour by hour and keeps no rows to split by segment; an exact check (drift.partitioned: false) tests each segment value',
  );
}

/** Removes a check's partition summaries once its report is stored (a missing one is fine: a retry). */
export async function deleteSummaries(store: Store, parts: readonly Pick<PartitionSummaryRef, 'key'>[]): Promise<void> {
  for (const part of parts) await store.delete(part.key);
}

/** The partitions' summaries merged, read one at a time. */
async function mergeSummaries(store: Store, input: PartitionedDriftCheckRequest): Promise<PredictionWindowSummary> {
  let merged: PredictionWindowSummary | null = null;
  for (const part of input.parts) {
    const body = await store.get(part.key);
    if (!body)
      throw new Error(
        `the summary ${part.key} of ${input.pipeline.name}'s drift check ${input.checkId} is missing from the store (removed before the check finished?)`,
      );
    const summary = PredictionWindowSummary.fromJSON(JSON.parse(body.toString()), part.key);
    merged = merged ? merged.merge(summary) : summary;
  }
  if (merged) return merged;
  return PredictionWindowSummary.create({ ...summaryFeaturesOf(input.pipeline), seed: 0 });
}

function columnOf(columns: Record<string, unknown>, spec: FeatureSpec) {
  const column = columns[spec.name];
  if (column === undefined)
    throw new InvalidInputError(`feature '${spec.name}' is missing from the reference profile`, { feature: spec.name });
  return column as Parameters<typeof testSummarized>[0];
}
