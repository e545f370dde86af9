/**
 * Classification metrics matching scikit-learn 1.9.1 (see index.ts). Loops run over typed arrays
 * so a 1e6-row holdout stays cheap: one pass to encode inputs, one sort per class for ROC AUC.
 */

import { CompensatedSum } from './compensated-sum';
import { checkRowCounts, MetricInputError } from './input';

/** A classifier's predictions and class scores per row, with the true labels. */
export interface ClassificationInput {
  /** True label of each row. Every value must be in `classes`. */
  labels: ArrayLike<string>;
  /** Predicted label of each row. Every value must be in `classes`. */
  predictions: ArrayLike<string>;
  /** Per-row probability of each class, e.g. `{ no: 0.2, yes: 0.8 }`; keys not in `classes` are ignored. */
  scores: ArrayLike<Readonly<Record<string, number>>>;
  /** The task's classes (at least 2, distinct). Their order picks the default positive class. */
  classes: readonly string[];
  /**
   * Binary only: the class precision/recall/f1/roc_auc are about.
   * Ignored for multiclass, but must still be one of `classes`.
   * @default `classes[1]`
   */
  positiveClass?: string;
}

/** Classification metrics as scikit-learn computes them (log_loss with the natural log). */
export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** `null` when undefined: some class (binary: either class) never occurs in `labels`. */
  roc_auc: number | null;
  log_loss: number;
}

/**
 * Classification metrics, as scikit-learn computes them.
 *
 * Binary (2 classes): precision/recall/f1 of the positive class (`average='binary'`), roc_auc from
 * the positive class's score. Multiclass (more than 2): precision/recall/f1 macro-averaged over
 * the classes present in `labels` or `predictions` (sklearn's default `labels=None`; a class that
 * never occurs is left out rather than counted as 0), roc_auc one-vs-rest macro.
 *
 * - Zero division (no predicted / no true positives for a class) gives 0, like sklearn's
 *   default `zero_division='warn'`.
 * - log_loss clips each probability to `[eps, 1 - eps]` (eps = 2^-52) and does NOT renormalise
 *   rows; sklearn 1.9.1 only warns when rows do not sum to 1.
 * - roc_auc counts tied scores as half (exactly sklearn's trapezoid over distinct thresholds).
 *   It is `null` (sklearn: NaN plus a warning) when a class never occurs in `labels`: for
 *   binary when only one class occurs, for multiclass when any class is missing, since its
 *   one-vs-rest AUC is then undefined and so is the macro mean.
 *
 * @throws {MetricInputError} on no rows or different lengths; fewer than 2 or duplicate classes;
 * a label or prediction not in `classes` (sklearn's log_loss and roc_auc reject such labels, and
 * binary precision rejects such predictions); a score missing, non-numeric or outside [0, 1]
 * (sklearn's log_loss rejects those); for multiclass, a score row not summing to 1 within
 * numpy's `allclose` tolerance (sklearn's multiclass roc_auc rejects those).
 */
export function classificationMetrics(input: ClassificationInput): ClassificationMetrics {
  const { labels, predictions, scores, classes } = input;
  const n = checkRowCounts({ labels: labels.length, predictions: predictions.length, scores: scores.length });
  const classIndex = indexClasses(classes);
  const y = encodeLabels(labels, classIndex, 'labels');
  const yPred = encodeLabels(predictions, classIndex, 'predictions');
  const proba = readScores(scores, classes);

  const accuracy = countEqual(y, yPred) / n;
  const logLoss = logLossOf(y, proba);

  if (classes.length === 2) {
    const positive = positiveIndex(input.positiveClass, classIndex, classes);
    const counts = classCounts(y, yPred, 2);
    return {
      accuracy,
      ...prfOfClass(counts, positive),
      roc_auc: oneVsRestAuc(y, proba[positive]!, positive),
      log_loss: logLoss,
    };
  }

  if (input.positiveClass !== undefined) positiveIndex(input.positiveClass, classIndex, classes);
  checkRowsSumToOne(proba);
  return {
    accuracy,
    ...macroPrf(classCounts(y, yPred, classes.length)),
    roc_auc: macroOvrAuc(y, proba),
    log_loss: logLoss,
  };
}

function indexClasses(classes: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  for (const c of classes) {
    if (typeof c !== 'string') throw new MetricInputError(`classes must be strings, got ${JSON.stringify(c)}`);
    if (index.has(c)) throw new MetricInputError(`duplicate class ${JSON.stringify(c)} in classes`);
    index.set(c, index.size);
  }
  if (index.size < 2) {
    throw new MetricInputError(`need at least 2 classes, got ${index.size}: ${JSON.stringify(classes)}`);
  }
  return index;
}

/** Labels as class indices. Unknown values throw: sklearn raises for them too (see TSDoc). */
function encodeLabels(values: ArrayLike<string>, classIndex: Map<string, number>, what: string): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const idx = classIndex.get(values[i]!);
    if (idx === undefined) {
      throw new MetricInputError(
        `${what}[${i}] is ${JSON.stringify(values[i])}, not one of classes ${JSON.stringify([...classIndex.keys()])}`,
      );
    }
    out[i] = idx;
  }
  return out;
}

/** Score columns, one Float64Array per class (column-major suits the per-class AUC sorts). */
function readScores(scores: ArrayLike<Readonly<Record<string, number>>>, classes: readonly string[]): Float64Array[] {
  const n = scores.length;
  const columns = classes.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const row = scores[i];
    if (row === null || typeof row !== 'object') {
      throw new MetricInputError(`scores[${i}] must be an object of class scores, got ${JSON.stringify(row)}`);
    }
    for (let c = 0; c < classes.length; c++) {
      const v = row[classes[c]!];
      // `!(v >= 0 && v <= 1)` also rejects NaN and non-numbers.
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new MetricInputError(
          `scores[${i}][${JSON.stringify(classes[c])}] must be a probability in [0, 1], got ${JSON.stringify(v) ?? String(v)}`,
        );
      }
      columns[c]![i] = v;
    }
  }
  return columns;
}

/** sklearn's multiclass roc_auc requires `np.allclose(1, row_sums)`: |1 - s| <= 1e-8 + 1e-5 * |s|. */
function checkRowsSumToOne(proba: Float64Array[]): void {
  const n = proba[0]!.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const column of proba) s += column[i]!;
    if (!(Math.abs(1 - s) <= 1e-8 + 1e-5 * Math.abs(s))) {
      throw new MetricInputError(`scores[${i}] sums to ${s}, not 1: multiclass scores must be probabilities`);
    }
  }
}

function positiveIndex(positiveClass: string | undefined, classIndex: Map<string, number>, classes: readonly string[]): number {
  if (positiveClass === undefined) return 1;
  const idx = classIndex.get(positiveClass);
  if (idx === undefined) {
    throw new MetricInputError(`positiveClass ${JSON.stringify(positiveClass)} is not one of classes ${JSON.stringify(classes)}`);
  }
  return idx;
}

function countEqual(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same;
}

interface ClassCounts {
  /** Per class: rows predicted as the class that truly are. */
  truePositive: Float64Array;
  /** Per class: rows predicted as the class. */
  predicted: Float64Array;
  /** Per class: rows truly of the class. */
  actual: Float64Array;
}

function classCounts(y: Int32Array, yPred: Int32Array, k: number): ClassCounts {
  const counts = { truePositive: new Float64Array(k), predicted: new Float64Array(k), actual: new Float64Array(k) };
  for (let i = 0; i < y.length; i++) {
    const t = y[i]!;
    const p = yPred[i]!;
    counts.actual[t]!++;
    counts.predicted[p]!++;
    if (t === p) counts.truePositive[t]!++;
  }
  return counts;
}

/** sklearn's `_prf_divide` with `zero_division='warn'`: 0 when the denominator is 0. */
function divideOrZero(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function prfOfClass(counts: ClassCounts, c: number): { precision: number; recall: number; f1: number } {
  const tp = counts.truePositive[c]!;
  const predicted = counts.predicted[c]!;
  const actual = counts.actual[c]!;
  return {
    precision: divideOrZero(tp, predicted),
    recall: divideOrZero(tp, actual),
    // sklearn's form 2tp / (actual + predicted): 0, not NaN, when precision and recall are 0.
    f1: divideOrZero(2 * tp, actual + predicted),
  };
}

/** Macro average over classes occurring in labels or predictions, like sklearn's `labels=None`. */
function macroPrf(counts: ClassCounts): { precision: number; recall: number; f1: number } {
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  let present = 0;
  for (let c = 0; c < counts.actual.length; c++) {
    if (counts.actual[c] === 0 && counts.predicted[c] === 0) continue;
    const prf = prfOfClass(counts, c);
    precision += prf.precision;
    recall += prf.recall;
    f1 += prf.f1;
    present++;
  }
  return { precision: precision / present, recall: recall / present, f1: f1 / present };
}

/**
 * AUC of `score` for "label is `positive`" vs the rest, or null if either side is empty.
 *
 * Mann–Whitney: the fraction of (positive, negative) pairs ranked correctly, ties counting 1/2,
 * which equals sklearn's trapezoid over distinct thresholds. The pair count is a sum of halves
 * below 2^53, so it is exact and only the final division rounds.
 */
function oneVsRestAuc(y: Int32Array, score: Float64Array, positive: number): number | null {
  let nPos = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === positive) nPos++;
  const nNeg = y.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;

  const pos = new Float64Array(nPos);
  const neg = new Float64Array(nNeg);
  for (let i = 0, p = 0, q = 0; i < y.length; i++) {
    if (y[i] === positive) pos[p++] = score[i]!;
    else neg[q++] = score[i]!;
  }
  pos.sort();
  neg.sort();

  let pairs = 0;
  let below = 0; // negatives strictly below the current positive score
  for (let i = 0; i < nPos;) {
    const s = pos[i]!;
    let groupEnd = i;
    while (groupEnd < nPos && pos[groupEnd] === s) groupEnd++;
    while (below < nNeg && neg[below]! < s) below++;
    let tiedEnd = below;
    while (tiedEnd < nNeg && neg[tiedEnd] === s) tiedEnd++;
    pairs += (groupEnd - i) * (below + (tiedEnd - below) / 2);
    i = groupEnd;
  }
  return pairs / (nPos * nNeg);
}

/** sklearn `roc_auc_score(multi_class='ovr', average='macro')`: NaN (here null) if any class is absent. */
function macroOvrAuc(y: Int32Array, proba: Float64Array[]): number | null {
  let sum = 0;
  for (let c = 0; c < proba.length; c++) {
    const auc = oneVsRestAuc(y, proba[c]!, c);
    if (auc === null) return null;
    sum += auc;
  }
  return sum / proba.length;
}

const EPS = Number.EPSILON; // float64 machine epsilon, numpy's finfo(float64).eps

/** Mean of -log(p[true class]) with p clipped to [eps, 1 - eps], as sklearn 1.9.1 `log_loss`. */
function logLossOf(y: Int32Array, proba: Float64Array[]): number {
  const sum = new CompensatedSum();
  for (let i = 0; i < y.length; i++) {
    const p = proba[y[i]!]![i]!;
    sum.add(-Math.log(Math.min(Math.max(p, EPS), 1 - EPS)));
  }
  return sum.value() / y.length;
}
