import type { ConceptDrift } from '../lib/drift/report';
import { estimatedPerformanceOf, type EstimatedPerformance } from '../lib/drift/estimated-performance';
import {
  type Calibration,
  estimateMulticlassPerformance,
  estimatePerformance,
  type MulticlassCalibration,
  type PerformanceEstimate,
} from '../lib/performance-estimation';
import { requireDrift, type Pipeline } from '../lib/pipeline';
import type { PredictionColumns } from '../lib/prediction-columns';
import type { Store } from '../store/store';
import { loadCalibration } from './calibrations';
import { holdoutMetrics } from './registry';

/** What the report names as the positive class of a multiclass estimate: its metrics are macro over every class. */
export const ALL_CLASSES = '(all classes)';

/**
 * The champion's performance on a window estimated from its logged scores (no labels needed),
 * or null when it cannot be: no calibration stored with the version (not a classifier with
 * scores, or trained before calibrations were kept), or no prediction of the version with a score.
 */
export async function estimateWindowPerformance(
  store: Store,
  input: { pipeline: Pipeline; version: string; window: PredictionColumns; conceptDrift: Omit<ConceptDrift, 'drifted'> | null },
): Promise<EstimatedPerformance | null> {
  const { pipeline, version, window } = input;
  const calibration = await loadCalibration(store, pipeline.name, version);
  if (!calibration) return null;
  const estimate =
    calibration.method === 'isotonic' ? binaryEstimate(window, version, calibration) : multiclassEstimate(window, version, calibration);
  if (!estimate || estimate.rows === 0) return null;
  const positiveClass = calibration.method === 'isotonic' ? calibration.positiveClass : ALL_CLASSES;
  return estimateSection(store, { ...input, estimate, positiveClass });
}

/**
 * The report's section on an estimate of the champion, however it was made (row by row, or from
 * a partitioned check's binned scores): judged against the version's holdout metrics, with the
 * realised figures of concept drift beside it when the window has labelled rows.
 */
export async function estimateSection(
  store: Store,
  input: {
    pipeline: Pipeline;
    version: string;
    estimate: PerformanceEstimate;
    positiveClass: string;
    conceptDrift: Omit<ConceptDrift, 'drifted'> | null;
  },
): Promise<EstimatedPerformance> {
  const { pipeline, version, estimate, positiveClass } = input;
  const drift = requireDrift(pipeline);
  const concept = input.conceptDrift;
  return estimatedPerformanceOf({
    estimate,
    primary: pipeline.metrics.primary,
    positiveClass,
    baselines: await holdoutMetrics(store, pipeline.name, version),
    maxRegression: drift.maxMetricRegression,
    // A pipeline recorded before the setting existed reports only.
    counts: (drift.onEstimatedDrop ?? 'report') === 'drift',
    realised: concept && concept.labelledRows > 0 ? { metrics: concept.metrics, labelledRows: concept.labelledRows } : null,
  });
}

function binaryEstimate(window: PredictionColumns, version: string, calibration: Calibration): PerformanceEstimate | null {
  const positive = calibration.positiveClass;
  // The positive class's score; a line with only `score` logged it for the positive class.
  const column = window.scores?.[positive] ?? window.score;
  if (!column) return null;
  const scores: number[] = [];
  const predicted: number[] = [];
  for (let i = 0; i < window.rows; i++) {
    if (window.versions[i] !== version) continue;
    scores.push(column[i]!);
    predicted.push(String(window.predictions[i]) === positive ? 1 : 0);
  }
  if (scores.length === 0) return null;
  return estimatePerformance({ scores: Float64Array.from(scores), predictedPositive: Uint8Array.from(predicted), calibration });
}

/** The version's rows with a predicted class the model has; a row predicting something else is left out and said so. */
function multiclassEstimate(window: PredictionColumns, version: string, calibration: MulticlassCalibration): PerformanceEstimate | null {
  const { classes } = calibration;
  const columns = classes.map((c) => window.scores?.[c]);
  if (columns.some((column) => !column)) return null;
  const known = new Set(classes);
  const rows: number[] = [];
  const predicted: string[] = [];
  let unknown = 0;
  for (let i = 0; i < window.rows; i++) {
    if (window.versions[i] !== version) continue;
    const label = window.predictions[i];
    // A missing prediction (null or NaN) reads as "null" or "NaN": not a class either.
    if (!known.has(String(label))) {
      unknown++;
      continue;
    }
    rows.push(i);
    predicted.push(String(label));
  }
  if (rows.length === 0) return null;
  const scores = Object.fromEntries(classes.map((c, j) => [c, Float64Array.from(rows, (i) => columns[j]![i]!)]));
  const estimate = estimateMulticlassPerformance({ scores, predicted, calibration });
  if (unknown === 0) return estimate;
  const note = `${unknown} predictions of the version were left out: their predicted label is not one of the model's classes`;
  return { ...estimate, note: estimate.note ? `${estimate.note}; ${note}` : note };
}
