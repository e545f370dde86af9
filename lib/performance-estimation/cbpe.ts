/**
 * Confidence-based performance estimation (CBPE), after NannyML: the champion's metrics on a
 * window of logged predictions whose labels have not arrived, from its calibrated scores alone.
 * Binary classification only. Pure code.
 */

import { sortedCopy } from '../drift/sort';
import { InvalidInputError } from '../errors';
import type { Task } from '../metrics/names';
import { mulberry32 } from '../split';
import { calibrateAll, type Calibration } from './calibration';
import { confusionMetrics, ESTIMATED_METRICS, expectedConfusion, expectedRocAuc, type EstimatedMetric } from './expected-metrics';
import { drawnMetrics, midRanks, quantile } from './sampling-band';

/** Above this many rows the band is computed on a seeded sample of this many, then scaled (see {@link estimatePerformance}). */
export const MAX_BAND_ROWS = 200_000;

/** What every estimate assumes, for a report to show beside it. */
export const ESTIMATE_ASSUMPTION =
  'Assumes no concept drift: P(label | score) is the same as on the holdout the calibration was fitted on. ' +
  "The band covers only the sampling noise of the window's labels, not the calibration's own error from a finite holdout.";

/** A window of logged predictions to estimate the champion's performance on. */
export interface EstimateInput {
  /** Raw positive-class score of each logged prediction; NaN marks a missing score (the row is left out and counted). */
  scores: Float64Array;
  /** Per row: 1 when the logged predicted label is the positive class (the model's own decision), else 0. */
  predictedPositive: Uint8Array;
  /** The champion's calibration, fitted on its holdout. */
  calibration: Calibration;
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
  /** Mean calibrated probability: the share of positive labels the window is expected to have. */
  expectedPositiveRate: number;
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
  if (n === 0) {
    const none: MetricEstimate = { value: null, lower: null, upper: null };
    const metrics = Object.fromEntries(ESTIMATED_METRICS.map((m) => [m, { ...none }])) as Record<EstimatedMetric, MetricEstimate>;
    return { ...result, metrics, expectedPositiveRate: 0, note: 'no row of the window has a score: there is nothing to estimate' };
  }

  const full = prepare(scores, predictedPositive, calibration);
  const value = pointEstimates(full);
  const random = mulberry32(seed);
  const lower = (1 - confidence) / 2;
  const upper = (1 + confidence) / 2;
  const notes: string[] = [];
  let band: Record<EstimatedMetric, { lower: number | null; upper: number | null }>;
  let aucDraws: number;

  if (n <= MAX_BAND_ROWS) {
    const drawn = drawnMetrics({ ...full, ranks: midRanks(full.scores, full.sorted), draws, random });
    aucDraws = drawn.roc_auc.length;
    band = mapMetrics((m) => ({ lower: quantile(drawn[m], lower), upper: quantile(drawn[m], upper) }));
  } else {
    // Bounded cost: draws × MAX_BAND_ROWS at most. The noise of these metrics shrinks as
    // 1 / sqrt(rows), so the sample's half-widths, scaled, stand for the whole window's.
    const rows = sampleRows(n, MAX_BAND_ROWS, random);
    const sample = prepare(
      scores.filter((_, i) => rows[i] === 1),
      predictedPositive.filter((_, i) => rows[i] === 1),
      calibration,
    );
    const center = pointEstimates(sample);
    const drawn = drawnMetrics({ ...sample, ranks: midRanks(sample.scores, sample.sorted), draws, random });
    aucDraws = drawn.roc_auc.length;
    const shrink = Math.sqrt(MAX_BAND_ROWS / n);
    band = mapMetrics((m) => {
      const lo = quantile(drawn[m], lower);
      const hi = quantile(drawn[m], upper);
      const v = value[m];
      const c = center[m];
      if (lo === null || hi === null || v === null || c === null) return { lower: null, upper: null };
      return { lower: v - Math.max(c - lo, 0) * shrink, upper: v + Math.max(hi - c, 0) * shrink };
    });
    notes.push(
      `the band comes from a seeded sample of ${MAX_BAND_ROWS} of the ${n} rows, its half-widths scaled by ` +
        `sqrt(${MAX_BAND_ROWS} / ${n}) around the estimates, which use every row`,
    );
  }

  if (value.roc_auc === null) notes.push('roc_auc is undefined: the calibrated probabilities are all 0 or all 1');
  else if (aucDraws < draws) notes.push(`the roc_auc band comes from the ${aucDraws} of ${draws} draws in which both classes occur`);
  const metrics = mapMetrics((m) => {
    const v = value[m];
    const b = band[m];
    if (v === null || b.lower === null || b.upper === null) return { value: v, lower: null, upper: null };
    return { value: v, lower: clamp01(b.lower), upper: clamp01(b.upper) };
  });
  return {
    ...result,
    metrics,
    expectedPositiveRate: full.sumP / n,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

/** Whether CBPE can estimate a task's performance: binary classification only, for now. */
export function estimableTask(task: Task, classes: readonly string[]): { estimable: true } | { estimable: false; reason: string } {
  if (task !== 'classification') return { estimable: false, reason: `performance estimation covers classification, not ${task}` };
  if (classes.length !== 2) {
    return { estimable: false, reason: `performance estimation covers binary classification only, not ${classes.length} classes` };
  }
  return { estimable: true };
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

function prepare(scores: Float64Array, predictedPositive: Uint8Array, calibration: Calibration): PreparedRows {
  const p = calibrateAll(calibration, scores);
  let sumP = 0;
  for (const pi of p) sumP += pi;
  const sorted = sortedCopy(scores);
  return { scores, predictedPositive, p, sumP, sorted, sortedP: calibrateAll(calibration, sorted) };
}

function pointEstimates(rows: PreparedRows): Record<EstimatedMetric, number | null> {
  return { ...confusionMetrics(expectedConfusion(rows.p, rows.predictedPositive)), roc_auc: expectedRocAuc(rows.sorted, rows.sortedP) };
}

function mapMetrics<T>(f: (m: EstimatedMetric) => T): Record<EstimatedMetric, T> {
  return Object.fromEntries(ESTIMATED_METRICS.map((m) => [m, f(m)])) as Record<EstimatedMetric, T>;
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

/** A uniform sample of `k` of `n` rows without replacement, as a 0/1 mask (Knuth's selection sampling, one pass). */
function sampleRows(n: number, k: number, random: () => number): Uint8Array {
  const mask = new Uint8Array(n);
  let needed = k;
  for (let i = 0; i < n && needed > 0; i++) {
    if (random() * (n - i) < needed) {
      mask[i] = 1;
      needed--;
    }
  }
  return mask;
}

function checkOptions(confidence: number, draws: number, seed: number): void {
  if (!(confidence > 0 && confidence < 1))
    throw new InvalidInputError(`confidence is ${confidence}: it must be between 0 and 1, e.g. 0.95`);
  if (!Number.isInteger(draws) || draws < 1) throw new InvalidInputError(`draws is ${draws}: it must be a whole number of at least 1`);
  if (!Number.isInteger(seed)) throw new InvalidInputError(`seed is ${seed}: it must be a whole number`);
}

function clamp01(x: number): number {
  return Math.min(Math.max(x, 0), 1);
}
