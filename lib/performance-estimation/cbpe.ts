/**
 * Confidence-based performance estimation (CBPE), after NannyML: the champion's metrics on a
 * window of logged predictions whose labels have not arrived, from its calibrated scores alone.
 * Binary classification here; multiclass in multiclass-cbpe.ts, with the same result. Pure code.
 */

import { sortedCopy } from '../drift/sort';
import { InvalidInputError } from '../errors';
import type { Task } from '../metrics/names';
import { bandedEstimates, byMetric } from './band';
import type { BootstrapKnots } from './bootstrap';
import { type Calibration, interpolate } from './calibration';
import { confusionMetrics, expectedConfusion, expectedRocAuc, type EstimatedMetric } from './expected-metrics';
import { MAX_CLASSES } from './multiclass-calibration';
import { drawnMetrics, midRanks } from './sampling-band';

/** Above this many rows the band is computed on a seeded sample of this many, then scaled (see {@link estimatePerformance}). */
export const MAX_BAND_ROWS = 200_000;

/** What every estimate assumes, for a report to show beside it. */
export const ESTIMATE_ASSUMPTION =
  'Assumes no concept drift: P(label | score) is the same as on the holdout the calibration was fitted on. ' +
  "The band covers the sampling noise of the window's labels and the calibration's own error from its finite holdout " +
  '(bootstrap refits of the calibration), not concept drift.';

/** The note of an estimate whose calibration was stored without bootstrap refits. */
export const NO_BOOTSTRAPS_NOTE =
  "the calibration was stored without bootstrap refits: the band covers only the labels' noise, " +
  "not the calibration's error from its holdout (refit the calibration to include it)";

/** How an estimate's band is drawn. */
export interface EstimateOptions {
  /**
   * Coverage of the band, in (0, 1).
   * @default 0.95
   */
  confidence?: number;
  /**
   * Simulated label vectors the band is measured from.
   * @default 200
   */
  draws?: number;
  /**
   * Seed of the draws (and of the sample of a large window): the same seed gives the same band.
   * @default 1
   */
  seed?: number;
}

/** A window of logged predictions to estimate the champion's performance on. */
export interface EstimateInput extends EstimateOptions {
  /** Raw positive-class score of each logged prediction; NaN marks a missing score (the row is left out and counted). */
  scores: Float64Array;
  /** Per row: 1 when the logged predicted label is the positive class (the model's own decision), else 0. */
  predictedPositive: Uint8Array;
  /** The champion's calibration, fitted on its holdout. */
  calibration: Calibration;
}

/** One estimated metric: `null` where the metric is undefined (roc_auc with one expected class, or no rows). */
export interface MetricEstimate {
  value: number | null;
  lower: number | null;
  upper: number | null;
}

/** The champion's estimated performance on a window. */
export interface PerformanceEstimate {
  /** Rows estimated on: the window's rows with a score. */
  rows: number;
  /** Rows left out because their score is missing (NaN). */
  missingScores: number;
  confidence: number;
  draws: number;
  metrics: Record<EstimatedMetric, MetricEstimate>;
  /**
   * Mean calibrated probability: the share of positive labels the window is expected to have.
   * Multiclass: the expected share of the first class (see `expectedClassRates`).
   */
  expectedPositiveRate: number;
  /** Multiclass only: the share of each class's labels the window is expected to have. */
  expectedClassRates?: Record<string, number>;
  /** {@link ESTIMATE_ASSUMPTION}. */
  assumption: string;
  /** What a reader should know about this estimate: no rows, a sampled band, a band from fewer draws. */
  note?: string;
}

/**
 * Estimates accuracy, precision, recall, f1 and roc_auc of a window from its scores.
 *
 * Each row is positive with its calibrated probability p. The estimates are the metrics of the
 * expected confusion matrix (TP = Σ p·ŷ, FP = Σ (1 − p)·ŷ, …) and the expected ROC curve; they
 * use every row. The band is the `(1 ± confidence) / 2` quantiles of the metrics over `draws`
 * label vectors drawn Bernoulli(p). Above {@link MAX_BAND_ROWS} rows it is drawn on a seeded
 * sample of that many, and its half-widths, scaled by sqrt(sample / rows) (metrics of a mean
 * shrink as 1 / sqrt(rows)), are placed around the full window's estimate.
 *
 * The predicted labels are taken as logged, never re-derived from a threshold.
 *
 * @throws {InvalidInputError} when the lengths differ, a predicted label is not 0 or 1, or an
 * option is out of range.
 */
export function estimatePerformance(input: EstimateInput): PerformanceEstimate {
  const { calibration, confidence = 0.95, draws = 200, seed = 1 } = input;
  checkOptions(confidence, draws, seed);
  const { scores, predictedPositive, missing } = rowsWithScore(input.scores, input.predictedPositive);
  const n = scores.length;
  const result = { rows: n, missingScores: missing, confidence, draws, assumption: ESTIMATE_ASSUMPTION };
  if (n === 0) return emptyEstimate(result);

  const full = prepare(scores, predictedPositive, calibration);
  const bootstraps = calibration.bootstraps ?? [];
  // Refits keep the scores, so their ranks are computed once per set of rows.
  const ranks = new WeakMap<Float64Array, Float64Array>();
  const ranksOf = (rows: PreparedRows) =>
    ranks.get(rows.scores) ?? ranks.set(rows.scores, midRanks(rows.scores, rows.sorted)).get(rows.scores)!;
  const banded = bandedEstimates(
    {
      full,
      n,
      subset: (mask) =>
        prepare(
          scores.filter((_, i) => mask[i] === 1),
          predictedPositive.filter((_, i) => mask[i] === 1),
          calibration,
        ),
      point: pointEstimates,
      drawn: (rows, k, random) => drawnMetrics({ ...rows, ranks: ranksOf(rows), draws: k, random }),
      bootstraps: bootstraps.length,
      refit: (rows, b) => prepare(rows.scores, rows.predictedPositive, bootstraps[b]!, rows.sorted),
    },
    MAX_BAND_ROWS,
    { confidence, draws, seed },
  );
  const notes = banded.sampleNote ? [banded.sampleNote] : [];
  if (bootstraps.length === 0) notes.push(NO_BOOTSTRAPS_NOTE);
  if (banded.metrics.roc_auc.value === null) notes.push('roc_auc is undefined: the calibrated probabilities are all 0 or all 1');
  else if (banded.aucDraws < draws) {
    notes.push(`the roc_auc band comes from the ${banded.aucDraws} of ${draws} draws in which both classes occur`);
  }
  return {
    ...result,
    metrics: banded.metrics,
    expectedPositiveRate: full.sumP / n,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

/**
 * Whether CBPE can estimate a task's performance: classification with 2 classes
 * ({@link estimatePerformance}) or 3 to {@link MAX_CLASSES} (`estimateMulticlassPerformance`).
 */
export function estimableTask(task: Task, classes: readonly string[]): { estimable: true } | { estimable: false; reason: string } {
  if (task !== 'classification') return { estimable: false, reason: `performance estimation covers classification, not ${task}` };
  if (classes.length < 2) return { estimable: false, reason: `performance estimation needs at least 2 classes, not ${classes.length}` };
  if (classes.length > MAX_CLASSES) {
    return { estimable: false, reason: `performance estimation covers at most ${MAX_CLASSES} classes, not ${classes.length}` };
  }
  return { estimable: true };
}

/** The estimate of a window with no row to estimate on: every metric null. */
export function emptyEstimate(
  result: Pick<PerformanceEstimate, 'rows' | 'missingScores' | 'confidence' | 'draws' | 'assumption'>,
): PerformanceEstimate {
  const none: MetricEstimate = { value: null, lower: null, upper: null };
  const metrics = byMetric(() => ({ ...none }));
  return { ...result, metrics, expectedPositiveRate: 0, note: 'no row of the window has a score: there is nothing to estimate' };
}

/** A window's rows with a score, their calibrated probabilities and the scores ascending with theirs. */
interface PreparedRows {
  scores: Float64Array;
  predictedPositive: Uint8Array;
  p: Float64Array;
  sumP: number;
  sorted: Float64Array;
  sortedP: Float64Array;
}

/** The rows with their probabilities under `calibration` (the main one or a bootstrap refit); `sorted` when already known. */
function prepare(
  scores: Float64Array,
  predictedPositive: Uint8Array,
  calibration: BootstrapKnots,
  sorted = sortedCopy(scores),
): PreparedRows {
  const p = calibrateScores(calibration, scores);
  let sumP = 0;
  for (const pi of p) sumP += pi;
  return { scores, predictedPositive, p, sumP, sorted, sortedP: calibrateScores(calibration, sorted) };
}

/** Each score's probability under knots and values (NaN stays NaN). */
export function calibrateScores(calibration: BootstrapKnots, scores: Float64Array): Float64Array {
  const x = Float64Array.from(calibration.knots);
  const y = Float64Array.from(calibration.values);
  return scores.map((s) => interpolate(x, y, s));
}

function pointEstimates(rows: PreparedRows): Record<EstimatedMetric, number | null> {
  return { ...confusionMetrics(expectedConfusion(rows.p, rows.predictedPositive)), roc_auc: expectedRocAuc(rows.sorted, rows.sortedP) };
}

/** The rows whose score is not NaN. */
function rowsWithScore(
  scores: Float64Array,
  predictedPositive: Uint8Array,
): { scores: Float64Array; predictedPositive: Uint8Array; missing: number } {
  if (scores.length !== predictedPositive.length) {
    throw new InvalidInputError(
      `scores has ${scores.length} rows and predictedPositive ${predictedPositive.length}: there must be one of each per logged prediction`,
    );
  }
  let missing = 0;
  for (let i = 0; i < scores.length; i++) {
    const y = predictedPositive[i]!;
    if (y !== 0 && y !== 1) throw new InvalidInputError(`predictedPositive[${i}] is ${y}: it is 1 (predicted the positive class) or 0`);
    if (Number.isNaN(scores[i])) missing++;
  }
  if (missing === 0) return { scores, predictedPositive, missing };
  return {
    scores: scores.filter((s) => !Number.isNaN(s)),
    predictedPositive: predictedPositive.filter((_, i) => !Number.isNaN(scores[i])),
    missing,
  };
}

/** @throws {InvalidInputError} when an option of {@link EstimateOptions} is out of range. */
export function checkOptions(confidence: number, draws: number, seed: number): void {
  if (!(confidence > 0 && confidence < 1))
    throw new InvalidInputError(`confidence is ${confidence}: it must be between 0 and 1, e.g. 0.95`);
  if (!Number.isInteger(draws) || draws < 1) throw new InvalidInputError(`draws is ${draws}: it must be a whole number of at least 1`);
  if (!Number.isInteger(seed)) throw new InvalidInputError(`seed is ${seed}: it must be a whole number`);
}
