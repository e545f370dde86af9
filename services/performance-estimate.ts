import type { ConceptDrift } from '../lib/drift/report';
import { estimatedPerformanceOf, type EstimatedPerformance } from '../lib/drift/estimated-performance';
import { estimatePerformance } from '../lib/performance-estimation';
import { requireDrift, type Pipeline } from '../lib/pipeline';
import type { PredictionColumns } from '../lib/prediction-columns';
import type { Store } from '../store/store';
import { loadCalibration } from './calibrations';
import { holdoutMetrics } from './registry';

/**
 * The champion's performance on a window estimated from its logged scores (no labels needed),
 * or null when it cannot be: no calibration stored with the version (not a binary classifier,
 * or trained before calibrations were kept), or no prediction of the version with a score.
 */
export async function estimateWindowPerformance(
  store: Store,
  input: { pipeline: Pipeline; version: string; window: PredictionColumns; conceptDrift: Omit<ConceptDrift, 'drifted'> | null },
): Promise<EstimatedPerformance | null> {
  const { pipeline, version, window } = input;
  const calibration = await loadCalibration(store, pipeline.name, version);
  if (!calibration) return null;
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
  const estimate = estimatePerformance({ scores: Float64Array.from(scores), predictedPositive: Uint8Array.from(predicted), calibration });
  if (estimate.rows === 0) return null;
  const drift = requireDrift(pipeline);
  const concept = input.conceptDrift;
  return estimatedPerformanceOf({
    estimate,
    primary: pipeline.metrics.primary,
    positiveClass: positive,
    baselines: await holdoutMetrics(store, pipeline.name, version),
    maxRegression: drift.maxMetricRegression,
    // A pipeline recorded before the setting existed reports only.
    counts: (drift.onEstimatedDrop ?? 'report') === 'drift',
    realised: concept && concept.labelledRows > 0 ? { metrics: concept.metrics, labelledRows: concept.labelledRows } : null,
  });
}
