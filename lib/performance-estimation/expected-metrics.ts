/**
 * Binary classification metrics from a confusion matrix whose cells are counts or expected
 * counts, and the expected ROC AUC of calibrated probabilities. The definitions and zero-division
 * conventions are those of lib/metrics/classification.ts. Pure code.
 */

import type { MetricName } from '../metrics/names';

/** The metrics CBPE estimates, in the registry's order. */
export const ESTIMATED_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const satisfies readonly MetricName[];

/** The name of a metric CBPE estimates. */
export type EstimatedMetric = (typeof ESTIMATED_METRICS)[number];

/** Cells of a binary confusion matrix: counts of a labelled window, or their expectations. */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** The metrics a confusion matrix gives. */
export interface ConfusionMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** accuracy, precision, recall and f1 of the positive class; 0 where a denominator is 0, as sklearn's default. */
export function confusionMetrics(c: Confusion): ConfusionMetrics {
  const n = c.tp + c.fp + c.fn + c.tn;
  return {
    accuracy: divideOrZero(c.tp + c.tn, n),
    precision: divideOrZero(c.tp, c.tp + c.fp),
    recall: divideOrZero(c.tp, c.tp + c.fn),
    // sklearn's 2tp / (actual + predicted): 0, not NaN, when precision and recall are 0.
    f1: divideOrZero(2 * c.tp, 2 * c.tp + c.fp + c.fn),
  };
}

/**
 * The expected confusion matrix when row i is positive with probability `p[i]` and was predicted
 * positive when `predictedPositive[i]` is 1.
 */
export function expectedConfusion(p: Float64Array, predictedPositive: Uint8Array): Confusion {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (predictedPositive[i] === 1) {
      tp += pi;
      fp += 1 - pi;
    } else {
      fn += pi;
      tn += 1 - pi;
    }
  }
  return { tp, fp, fn, tn };
}

/**
 * The expected ROC AUC as NannyML's CBPE computes it: walking down the scores (tied scores one
 * step), TPR is the share of Σp and FPR the share of Σ(1 - p) seen so far; the area by the
 * trapezoid rule. `null` when Σp or Σ(1 - p) is 0 (the curve is undefined).
 *
 * NannyML walks down the calibrated probabilities instead. Calibration is monotone, so the order
 * is the same; where it maps distinct scores to one probability, those rows' steps are collinear
 * and the area is the same either way.
 *
 * @param sortedScores the scores, ascending.
 * @param sortedP the calibrated probability of each of `sortedScores`.
 */
export function expectedRocAuc(sortedScores: Float64Array, sortedP: Float64Array): number | null {
  let positives = 0;
  let negatives = 0;
  for (const p of sortedP) {
    positives += p;
    negatives += 1 - p;
  }
  if (positives === 0 || negatives === 0) return null;
  let area = 0;
  let tp = 0;
  for (let i = sortedScores.length - 1; i >= 0;) {
    const s = sortedScores[i]!;
    let dTp = 0;
    let dFp = 0;
    for (; i >= 0 && sortedScores[i] === s; i--) {
      dTp += sortedP[i]!;
      dFp += 1 - sortedP[i]!;
    }
    // Trapezoid in unnormalised units (Σ(1-p) by Σp), divided once at the end.
    area += dFp * (tp + dTp / 2);
    tp += dTp;
  }
  return Math.min(Math.max(area / (positives * negatives), 0), 1);
}

function divideOrZero(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}
