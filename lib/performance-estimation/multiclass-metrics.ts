/**
 * Multiclass metrics of a window whose labels are known only as probabilities: their expected
 * values, and their values under simulated labels. The definitions are those of
 * lib/metrics/classification.ts (macro precision/recall/F1 over the classes present, one-vs-rest
 * macro ROC AUC). Pure code.
 */

import { expectedRocAuc, type EstimatedMetric } from './expected-metrics';

/** The rows of a window with a score for every class. */
export interface MulticlassRows {
  /** Classes. */
  k: number;
  /** Per class, the raw score of each row: what the realised ROC AUC ranks by. */
  raw: Float64Array[];
  /** Probability of each class per row (row-major, rows × k), each row summing to 1. */
  p: Float64Array;
  /** The logged predicted class of each row, as an index into the classes. */
  predicted: Int32Array;
}

/**
 * The expected metrics when row i is of class c with probability `p[i, c]`.
 *
 * accuracy is the mean probability of the predicted class. Per class, TP = Σ p_c over rows
 * predicted c, FP = rows predicted c − TP, FN = Σ p_c over the other rows; precision, recall and
 * f1 are macro-averaged over the classes that are present as lib/metrics/classification.ts counts
 * them, "occurs in labels or predictions", read as: predicted at least once, or more likely than
 * not to occur among the labels (P(no row is c) = Π(1 − p_c) < 1/2).
 *
 * roc_auc is the mean over classes of the expected one-vs-rest ROC AUC, as NannyML computes it:
 * rows ranked by the class's raw score (what the realised AUC ranks by), weighted by p_c; null
 * when some class's curve is undefined (Σ p_c or Σ (1 − p_c) is 0).
 */
export function expectedMulticlassMetrics(rows: MulticlassRows): Record<EstimatedMetric, number | null> {
  const { k, p, predicted } = rows;
  const n = predicted.length;
  const predictedCount = new Float64Array(k);
  const tp = new Float64Array(k);
  const support = new Float64Array(k);
  const logAbsent = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    const c = predicted[i]!;
    predictedCount[c]!++;
    tp[c]! += p[base + c]!;
    for (let j = 0; j < k; j++) {
      support[j]! += p[base + j]!;
      logAbsent[j]! += Math.log1p(-p[base + j]!);
    }
  }
  let correct = 0;
  for (const t of tp) correct += t;
  const present = (c: number) => predictedCount[c]! > 0 || logAbsent[c]! < -Math.LN2;
  return {
    accuracy: correct / n,
    ...macroPrf({ tp, predicted: predictedCount, actual: support }, present),
    roc_auc: macroExpectedAuc(rows),
  };
}

/**
 * Each metric over `draws` label vectors, each row's label drawn from its probabilities, as
 * lib/metrics/classification.ts computes it on them; ascending. roc_auc holds only the draws in
 * which every class occurs and none is every row (elsewhere it is undefined), so it may be shorter.
 * @param ranks per class, the mid-rank of each row's raw score (sampling-band.ts's `midRanks`).
 */
export function drawnMulticlassMetrics(
  rows: MulticlassRows,
  ranks: Float64Array[],
  draws: number,
  random: () => number,
): Record<EstimatedMetric, Float64Array> {
  const { k, p, predicted } = rows;
  const n = predicted.length;
  const predictedCount = new Float64Array(k);
  for (let i = 0; i < n; i++) predictedCount[predicted[i]!]!++;
  const out: Record<EstimatedMetric, Float64Array> = {
    accuracy: new Float64Array(draws),
    precision: new Float64Array(draws),
    recall: new Float64Array(draws),
    f1: new Float64Array(draws),
    roc_auc: new Float64Array(draws),
  };
  const actual = new Float64Array(k);
  const tp = new Float64Array(k);
  const rankSum = new Float64Array(k);
  let aucDraws = 0;
  for (let d = 0; d < draws; d++) {
    actual.fill(0);
    tp.fill(0);
    rankSum.fill(0);
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const label = drawClass(p, i * k, k, random());
      actual[label]!++;
      rankSum[label]! += ranks[label]![i]!;
      if (predicted[i] === label) {
        tp[label]!++;
        correct++;
      }
    }
    out.accuracy[d] = correct / n;
    const prf = macroPrf({ tp, predicted: predictedCount, actual }, (c) => actual[c]! > 0 || predictedCount[c]! > 0);
    out.precision[d] = prf.precision;
    out.recall[d] = prf.recall;
    out.f1[d] = prf.f1;
    const auc = macroDrawnAuc(actual, rankSum, n);
    if (auc !== null) out.roc_auc[aucDraws++] = auc;
  }
  out.roc_auc = out.roc_auc.subarray(0, aucDraws);
  for (const m of Object.values(out)) m.sort();
  return out;
}

/** The class whose cumulative probability first exceeds `u` (in [0, 1)); the last class if rounding leaves none. */
function drawClass(p: Float64Array, base: number, k: number, u: number): number {
  let c = 0;
  let cumulative = p[base]!;
  while (u >= cumulative && c < k - 1) cumulative += p[base + ++c]!;
  return c;
}

/** Macro precision, recall and f1 over the classes `present` picks, 0 where a denominator is 0, as classification.ts. */
function macroPrf(
  counts: { tp: Float64Array; predicted: Float64Array; actual: Float64Array },
  present: (c: number) => boolean,
): { precision: number; recall: number; f1: number } {
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  let classes = 0;
  for (let c = 0; c < counts.tp.length; c++) {
    if (!present(c)) continue;
    const tp = counts.tp[c]!;
    precision += divideOrZero(tp, counts.predicted[c]!);
    recall += divideOrZero(tp, counts.actual[c]!);
    f1 += divideOrZero(2 * tp, counts.actual[c]! + counts.predicted[c]!);
    classes++;
  }
  return classes === 0
    ? { precision: 0, recall: 0, f1: 0 }
    : { precision: precision / classes, recall: recall / classes, f1: f1 / classes };
}

function macroExpectedAuc(rows: MulticlassRows): number | null {
  const { k, raw, p } = rows;
  const n = rows.predicted.length;
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const score = raw[c]!;
    const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
    const auc = expectedRocAuc(
      Float64Array.from(order, (i) => score[i]!),
      Float64Array.from(order, (i) => p[i * k + c]!),
    );
    if (auc === null) return null;
    sum += auc;
  }
  return sum / k;
}

/** Macro one-vs-rest AUC of a draw by Mann–Whitney on mid-ranks; null when a class is absent or every row. */
function macroDrawnAuc(actual: Float64Array, rankSum: Float64Array, n: number): number | null {
  let sum = 0;
  for (let c = 0; c < actual.length; c++) {
    const positives = actual[c]!;
    const negatives = n - positives;
    if (positives === 0 || negatives === 0) return null;
    sum += (rankSum[c]! - (positives * (positives + 1)) / 2) / (positives * negatives);
  }
  return sum / actual.length;
}

function divideOrZero(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}
