/**
 * The sampling noise of a window's metrics: even when every probability is right, the labels
 * are Bernoulli(p) draws, so the realised metrics scatter around their expectation. Simulated
 * label vectors measure that scatter. Pure code.
 */

import { countBelow } from '../drift/sorted-search';
import { confusionMetrics, ESTIMATED_METRICS, type EstimatedMetric } from './expected-metrics';

/**
 * The mid-rank of each score among all of them (1-based, ties get the mean of their ranks), so a
 * draw's ROC AUC is one pass: the Mann–Whitney statistic, ties counting a half as sklearn does.
 * @param sortedScores the same scores, ascending.
 */
export function midRanks(scores: Float64Array, sortedScores: Float64Array): Float64Array {
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    ranks[i] = (countBelow(sortedScores, s) + countBelow(sortedScores, s, true) + 1) / 2;
  }
  return ranks;
}

/** The rows of a window, as the draws need them. */
export interface DrawInput {
  /** Calibrated probability that each row is positive. */
  p: Float64Array;
  /** 1 when the row was predicted positive. */
  predictedPositive: Uint8Array;
  /** {@link midRanks} of the rows' scores. */
  ranks: Float64Array;
  /** Label vectors to draw. */
  draws: number;
  /** Uniform numbers in [0, 1). */
  random: () => number;
}

/**
 * Each metric over `draws` simulated label vectors, ascending. ROC AUC holds only the draws in
 * which both classes occur (elsewhere it is undefined), so it may be shorter.
 */
export function drawnMetrics(input: DrawInput): Record<EstimatedMetric, Float64Array> {
  const { p, predictedPositive, ranks, draws, random } = input;
  const n = p.length;
  let predicted = 0;
  for (let i = 0; i < n; i++) predicted += predictedPositive[i]!;
  const out = Object.fromEntries(ESTIMATED_METRICS.map((m) => [m, new Float64Array(draws)])) as Record<EstimatedMetric, Float64Array>;
  let aucDraws = 0;
  for (let d = 0; d < draws; d++) {
    let tp = 0;
    let positives = 0;
    let rankSum = 0;
    for (let i = 0; i < n; i++) {
      if (random() < p[i]!) {
        positives++;
        rankSum += ranks[i]!;
        tp += predictedPositive[i]!;
      }
    }
    const fn = positives - tp;
    const fp = predicted - tp;
    const m = confusionMetrics({ tp, fp, fn, tn: n - tp - fp - fn });
    out.accuracy[d] = m.accuracy;
    out.precision[d] = m.precision;
    out.recall[d] = m.recall;
    out.f1[d] = m.f1;
    const negatives = n - positives;
    if (positives > 0 && negatives > 0) out.roc_auc[aucDraws++] = (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
  }
  out.roc_auc = out.roc_auc.subarray(0, aucDraws);
  for (const m of ESTIMATED_METRICS) out[m].sort();
  return out;
}

/** The `q` quantile of ascending values by linear interpolation (numpy's default); null when there are none. */
export function quantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
