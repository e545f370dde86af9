/**
 * CBPE of a binary classifier from a histogram of its raw positive-class scores instead of the
 * scores row by row: what a partitioned drift check can keep of a window too large for one
 * worker's memory, since histograms merge by adding. Pure code.
 *
 * The expected confusion matrix is a sum over rows, so a bin's rows contribute through their
 * count and one calibrated probability. The calibration is monotone, so every row of a bin has its
 * probability between the calibration at the bin's two edges; the estimate takes the middle of
 * that range and {@link BinnedEstimate.binningError} bounds what that costs.
 */

import { InvalidInputError } from '../errors';
import { bandedEstimates, byMetric } from './band';
import type { BootstrapKnots } from './bootstrap';
import { type Calibration, interpolate } from './calibration';
import {
  checkOptions,
  emptyEstimate,
  ESTIMATE_ASSUMPTION,
  type EstimateOptions,
  NO_BOOTSTRAPS_NOTE,
  type PerformanceEstimate,
} from './cbpe';
import { confusionMetrics, type EstimatedMetric } from './expected-metrics';

/** Equal-width bins of the open interval (0, 1); scores at or below 0, and at or above 1, have a bin each besides. */
export const SCORE_BINS = 1000;

/** Entries of a score histogram: the bin of scores ≤ 0, {@link SCORE_BINS} bins, the bin of scores ≥ 1. */
export const HISTOGRAM_LENGTH = SCORE_BINS + 2;

/**
 * The histogram bin of a finite raw score: 0 for a score ≤ 0, `SCORE_BINS + 1` for a score ≥ 1,
 * else `1 + floor(score · SCORE_BINS)`. Calibrations clip outside their knots, which lie in
 * [0, 1], so every score of the two end bins has exactly the calibrated probability of 0 or 1.
 */
export function scoreBin(score: number): number {
  if (score <= 0) return 0;
  if (score >= 1) return SCORE_BINS + 1;
  return 1 + Math.min(Math.floor(score * SCORE_BINS), SCORE_BINS - 1);
}

/** A window's rows binned by {@link scoreBin} of their raw positive-class score, split by the logged predicted label. */
export interface BinnedScores {
  /** Rows predicted positive, per bin ({@link HISTOGRAM_LENGTH} entries). */
  predictedPositive: Float64Array;
  /** Rows predicted negative, per bin. */
  predictedNegative: Float64Array;
}

/** A window's binned scores to estimate the champion on. */
export interface BinnedEstimateInput extends BinnedScores, EstimateOptions {
  /** The champion's binary calibration. */
  calibration: Calibration;
  /** Rows of the window without a score, left out and counted. @default 0 */
  missingScores?: number;
}

/** The estimate, and how far each metric may be from the estimate of the same rows row by row. */
export interface BinnedEstimate {
  estimate: PerformanceEstimate;
  /**
   * Largest difference from the row-by-row estimate that binning can make: exact for accuracy,
   * precision, recall and f1 (each is monotone in the expected true positives and false
   * negatives, whose ranges the bins' edges give); for roc_auc, the cost of ordering rows within
   * a bin as ties plus a mean-value bound on moving each probability. Null where the metric is.
   */
  binningError: Record<EstimatedMetric, number | null>;
}

/**
 * Estimates accuracy, precision, recall, f1 and roc_auc as {@link estimatePerformance} does, from
 * binned scores: each bin's rows get the middle of the calibrated probabilities at its edges, and
 * are tied for the expected ROC curve. The band is the `(1 ± confidence) / 2` quantiles over
 * `draws` simulated windows, each bin's positives drawn binomially (cost: draws × bins, whatever
 * the rows), draw d taking the bins' probabilities from the calibration's bootstrap refit d mod B
 * (its edges calibrated by the refit), so the band covers the calibration's error too.
 *
 * @throws {InvalidInputError} when a histogram has the wrong length or a count is not a whole
 * number ≥ 0, or an option is out of range.
 */
export function estimateBinnedPerformance(input: BinnedEstimateInput): BinnedEstimate {
  const { calibration, confidence = 0.95, draws = 200, seed = 1, missingScores = 0 } = input;
  checkOptions(confidence, draws, seed);
  const bins = binsOf(input, calibration);
  const bootstraps = calibration.bootstraps ?? [];
  const result = { rows: bins.rows, missingScores, confidence, draws, assumption: ESTIMATE_ASSUMPTION };
  if (bins.rows === 0) return { estimate: emptyEstimate(result), binningError: byMetric(() => null) };

  const banded = bandedEstimates(
    {
      full: bins,
      n: bins.rows,
      // Never called: the band is drawn on every bin below an infinite row limit.
      subset: () => bins,
      point: (b) => ({ ...confusionMetrics(expectedCells(b, b.p)), roc_auc: binnedRocAuc(b) }),
      drawn: drawnBinMetrics,
      bootstraps: bootstraps.length,
      refit: (b, i) => ({ ...b, ...edgeProbabilities(bootstraps[i]!) }),
    },
    Infinity,
    { confidence, draws, seed },
  );
  const binningError = binningErrorOf(bins, banded.metrics);
  const notes = [binningNote(binningError)];
  if (bootstraps.length === 0) notes.push(NO_BOOTSTRAPS_NOTE);
  if (banded.metrics.roc_auc.value === null) notes.push('roc_auc is undefined: the calibrated probabilities are all 0 or all 1');
  else if (banded.aucDraws < draws) {
    notes.push(`the roc_auc band comes from the ${banded.aucDraws} of ${draws} draws in which both classes occur`);
  }
  let sumP = 0;
  for (let k = 0; k < HISTOGRAM_LENGTH; k++) sumP += bins.rowsIn[k]! * bins.p[k]!;
  return {
    estimate: { ...result, metrics: banded.metrics, expectedPositiveRate: sumP / bins.rows, note: notes.join('; ') },
    binningError,
  };
}

/** The bins with their counts and the calibrated probability at their edges and middle. */
interface Bins {
  positive: Float64Array;
  negative: Float64Array;
  /** Rows per bin, either prediction. */
  rowsIn: Float64Array;
  rows: number;
  predictedPositive: number;
  /** Lowest, middle and highest calibrated probability a row of each bin can have. */
  low: Float64Array;
  p: Float64Array;
  high: Float64Array;
}

function binsOf(input: BinnedScores, calibration: Calibration): Bins {
  const { predictedPositive: positive, predictedNegative: negative } = input;
  for (const [name, h] of [
    ['predictedPositive', positive],
    ['predictedNegative', negative],
  ] as const) {
    if (h.length !== HISTOGRAM_LENGTH)
      throw new InvalidInputError(`${name} has ${h.length} bins: a score histogram has ${HISTOGRAM_LENGTH}`);
    const bad = h.findIndex((c) => !(Number.isInteger(c) && c >= 0));
    if (bad >= 0) throw new InvalidInputError(`${name}[${bad}] is ${h[bad]}: a bin holds a whole number of rows, at least 0`);
  }
  const rowsIn = positive.map((c, k) => c + negative[k]!);
  let rows = 0;
  let predicted = 0;
  for (let k = 0; k < HISTOGRAM_LENGTH; k++) {
    rows += rowsIn[k]!;
    predicted += positive[k]!;
  }
  return { positive, negative, rowsIn, rows, predictedPositive: predicted, ...edgeProbabilities(calibration) };
}

/** Per bin, the calibrated probability at its low edge, its middle (their mean) and its high edge, under `calibration`. */
function edgeProbabilities(calibration: BootstrapKnots): Pick<Bins, 'low' | 'p' | 'high'> {
  const x = Float64Array.from(calibration.knots);
  const y = Float64Array.from(calibration.values);
  const at = (s: number) => interpolate(x, y, s);
  const low = new Float64Array(HISTOGRAM_LENGTH);
  const high = new Float64Array(HISTOGRAM_LENGTH);
  low[0] = high[0] = at(0);
  low[SCORE_BINS + 1] = high[SCORE_BINS + 1] = at(1);
  for (let j = 0; j < SCORE_BINS; j++) {
    low[j + 1] = at(j / SCORE_BINS);
    high[j + 1] = at((j + 1) / SCORE_BINS);
  }
  return { low, p: low.map((lo, k) => (lo + high[k]!) / 2), high };
}

/** The expected confusion matrix when every row of bin k is positive with probability `p[k]`. */
function expectedCells(b: Bins, p: Float64Array) {
  let tp = 0;
  let fn = 0;
  for (let k = 0; k < HISTOGRAM_LENGTH; k++) {
    tp += b.positive[k]! * p[k]!;
    fn += b.negative[k]! * p[k]!;
  }
  const fp = b.predictedPositive - tp;
  return { tp, fp, fn, tn: b.rows - b.predictedPositive - fn };
}

/**
 * The expected ROC AUC as expectedRocAuc computes it, each bin one step of tied rows; null when
 * the expected positives or negatives are 0.
 */
function binnedRocAuc(b: Bins): number | null {
  const { positives, negatives } = expectedClasses(b);
  if (positives === 0 || negatives === 0) return null;
  let area = 0;
  let tp = 0;
  for (let k = HISTOGRAM_LENGTH - 1; k >= 0; k--) {
    const dTp = b.rowsIn[k]! * b.p[k]!;
    area += (b.rowsIn[k]! - dTp) * (tp + dTp / 2);
    tp += dTp;
  }
  return Math.min(Math.max(area / (positives * negatives), 0), 1);
}

function expectedClasses(b: Bins): { positives: number; negatives: number } {
  let positives = 0;
  for (let k = 0; k < HISTOGRAM_LENGTH; k++) positives += b.rowsIn[k]! * b.p[k]!;
  return { positives, negatives: b.rows - positives };
}

/**
 * How far binning can move each metric. accuracy, precision, recall and f1 are monotone in the
 * expected true positives (up) and false negatives (down, or not at all), whose exact values lie
 * between their sums at the bins' low and high edges: each metric's range follows, and both the
 * estimate and the row-by-row value lie in it.
 *
 * roc_auc: (1) ordering the rows of a bin as ties changes each pair's share of the area by
 * |p_i − p_j| / 2 at most, so by Σ (high − low)·rows² / 4 over the bins, divided by the expected
 * positives times negatives; (2) moving each probability by at most d = (high − low) / 2 changes
 * the area over positives × negatives by at most d / min(positives, negatives) per row (the
 * derivative's bound), both taken at their smallest along the way (Σ rows·d lower).
 */
function binningErrorOf(b: Bins, metrics: Record<EstimatedMetric, { value: number | null }>): Record<EstimatedMetric, number | null> {
  const lo = expectedCells(b, b.low);
  const hi = expectedCells(b, b.high);
  const range: Record<Exclude<EstimatedMetric, 'roc_auc'>, [number, number]> = {
    // tp at its lowest and fn at its highest give every metric's lowest value, and the other way round.
    accuracy: [confusionMetrics({ ...lo, fn: hi.fn, tn: hi.tn }).accuracy, confusionMetrics({ ...hi, fn: lo.fn, tn: lo.tn }).accuracy],
    precision: [confusionMetrics(lo).precision, confusionMetrics(hi).precision],
    recall: [confusionMetrics({ ...lo, fn: hi.fn, tn: hi.tn }).recall, confusionMetrics({ ...hi, fn: lo.fn, tn: lo.tn }).recall],
    f1: [confusionMetrics({ ...lo, fn: hi.fn, tn: hi.tn }).f1, confusionMetrics({ ...hi, fn: lo.fn, tn: lo.tn }).f1],
  };
  return byMetric((m) => {
    const v = metrics[m].value;
    if (v === null) return null;
    if (m === 'roc_auc') return aucBinningError(b);
    const [low, high] = range[m];
    return Math.max(high - v, v - low, 0);
  });
}

function aucBinningError(b: Bins): number {
  const { positives, negatives } = expectedClasses(b);
  let moved = 0;
  let ties = 0;
  for (let k = 0; k < HISTOGRAM_LENGTH; k++) {
    const rise = b.high[k]! - b.low[k]!;
    moved += (b.rowsIn[k]! * rise) / 2;
    ties += (rise * b.rowsIn[k]! * b.rowsIn[k]!) / 4;
  }
  const least = Math.min(positives, negatives) - moved;
  if (!(least > 0)) return 1;
  return Math.min(ties / ((positives - moved) * (negatives - moved)) + moved / least, 1);
}

/** The note every binned estimate carries: what it was estimated from and what that costs. */
function binningNote(error: Record<EstimatedMetric, number | null>): string {
  const counts = (['accuracy', 'precision', 'recall', 'f1'] as const).map((m) => error[m] ?? 0);
  const auc = error.roc_auc === null ? '' : ` and roc_auc by at most ${fmt(error.roc_auc)}`;
  return (
    `estimated from a histogram of the positive-class scores (${SCORE_BINS} equal bins on [0, 1]), not row by row: ` +
    `rows of a bin share one calibrated probability, so accuracy, precision, recall and f1 may differ from a row-by-row ` +
    `estimate by at most ${fmt(Math.max(...counts))}${auc}; the band is drawn from binomial counts per bin`
  );
}

function fmt(x: number): string {
  return x === 0 ? '0' : x.toPrecision(2);
}

/**
 * Each metric over `draws` simulated windows, ascending: per bin, the positives among its
 * predicted-positive and predicted-negative rows drawn binomially. ROC AUC (rows of a bin tied)
 * holds only the draws in which both classes occur.
 */
function drawnBinMetrics(b: Bins, draws: number, random: () => number): Record<EstimatedMetric, Float64Array> {
  const out = byMetric(() => new Float64Array(draws));
  let aucDraws = 0;
  for (let d = 0; d < draws; d++) {
    let tp = 0;
    let positives = 0;
    let area = 0;
    let negativesBelow = 0;
    for (let k = 0; k < HISTOGRAM_LENGTH; k++) {
      if (b.rowsIn[k] === 0) continue;
      const tpk = binomial(b.positive[k]!, b.p[k]!, random);
      const pos = tpk + binomial(b.negative[k]!, b.p[k]!, random);
      const neg = b.rowsIn[k]! - pos;
      area += pos * (negativesBelow + neg / 2);
      negativesBelow += neg;
      tp += tpk;
      positives += pos;
    }
    const fn = positives - tp;
    const fp = b.predictedPositive - tp;
    const m = confusionMetrics({ tp, fp, fn, tn: b.rows - tp - fp - fn });
    out.accuracy[d] = m.accuracy;
    out.precision[d] = m.precision;
    out.recall[d] = m.recall;
    out.f1[d] = m.f1;
    if (positives > 0 && negativesBelow > 0) out.roc_auc[aucDraws++] = area / (positives * negativesBelow);
  }
  out.roc_auc = out.roc_auc.subarray(0, aucDraws);
  for (const m of Object.values(out)) m.sort();
  return out;
}

/**
 * A Binomial(n, p) draw: by inversion of its distribution function when the expected count of
 * the rarer outcome is below 20 (a short walk), else from the normal approximation, rounded and
 * clamped, which at that size is as good as the band needs.
 */
export function binomial(n: number, p: number, random: () => number): number {
  if (n === 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const q = Math.min(p, 1 - p);
  let k: number;
  if (n * q < 20) {
    const u = random();
    let pmf = Math.exp(n * Math.log1p(-q));
    let cdf = pmf;
    k = 0;
    while (u > cdf && k < n) {
      pmf *= ((n - k) / (k + 1)) * (q / (1 - q));
      k++;
      cdf += pmf;
    }
  } else {
    // Box–Muller: 1 − u keeps the logarithm finite.
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    k = Math.min(Math.max(Math.round(n * q + Math.sqrt(n * q * (1 - q)) * z), 0), n);
  }
  return q === p ? k : n - k;
}
