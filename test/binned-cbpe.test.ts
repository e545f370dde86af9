import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../lib/errors.js';
import {
  estimateBinnedPerformance,
  ESTIMATED_METRICS,
  estimatePerformance,
  fitCalibration,
  HISTOGRAM_LENGTH,
  SCORE_BINS,
  scoreBin,
} from '../lib/performance-estimation/index.js';
import { binomial } from '../lib/performance-estimation/binned.js';
import { mulberry32 } from '../lib/split.js';
import { calibrationOf } from './helpers/cbpe-synthetic.js';

/**
 * A miscalibrated classifier: the true probability is a logistic of x, the score it logs is that
 * probability squared (overconfident in the negative class), so the isotonic calibration has to
 * undo a curve; it predicts positive above a score of 0.3. `shift` moves x (covariate shift).
 */
function rowsOf(n: number, seed: number, shift: number) {
  const random = mulberry32(seed);
  const scores = new Float64Array(n);
  const outcomes = new Uint8Array(n);
  const predictedPositive = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = (random() + random() + random() - 1.5) * 4 + shift;
    const p = 1 / (1 + Math.exp(-x));
    scores[i] = p * p;
    outcomes[i] = random() < p ? 1 : 0;
    predictedPositive[i] = scores[i]! > 0.3 ? 1 : 0;
  }
  return { scores, outcomes, predictedPositive };
}

/** The histograms of rows' scores, split by their predicted label, as a partitioned check keeps them. */
function histogramsOf(scores: Float64Array, predictedPositive: Uint8Array) {
  const positive = new Float64Array(HISTOGRAM_LENGTH);
  const negative = new Float64Array(HISTOGRAM_LENGTH);
  scores.forEach((s, i) => ((predictedPositive[i] === 1 ? positive : negative)[scoreBin(s)]! += 1));
  return { predictedPositive: positive, predictedNegative: negative };
}

describe('scoreBin', () => {
  it('gives scores at or below 0 and at or above 1 bins of their own, and splits (0, 1) into equal bins', () => {
    expect([-3, 0, 1e-9, 0.0005, 0.001, 0.5, 0.9995, 1 - 1e-12, 1, 7].map(scoreBin)).toEqual([
      0,
      0,
      1,
      1,
      2,
      501,
      SCORE_BINS,
      SCORE_BINS,
      SCORE_BINS + 1,
      SCORE_BINS + 1,
    ]);
  });
});

describe('estimateBinnedPerformance', () => {
  const calibration = fitCalibration({ ...rowsOf(20_000, 1, 0), positiveClass: 'yes' });
  const window = rowsOf(100_000, 2, 0.8);
  const exact = estimatePerformance({ scores: window.scores, predictedPositive: window.predictedPositive, calibration });
  const binned = estimateBinnedPerformance({ ...histogramsOf(window.scores, window.predictedPositive), calibration });

  it('matches the row-by-row estimate of 100,000 miscalibrated scores within its stated bound', () => {
    // The calibration has many knots and a steep stretch: binning has something to lose.
    expect(calibration.knots.length).toBeGreaterThan(50);
    const table = ESTIMATED_METRICS.map((m) => {
      const e = exact.metrics[m].value!;
      const b = binned.estimate.metrics[m].value!;
      return { metric: m, exact: e, binned: b, difference: Math.abs(b - e), bound: binned.binningError[m]! };
    });
    console.table(table);
    for (const row of table) {
      expect(row.difference, row.metric).toBeLessThanOrEqual(row.bound + 1e-12);
      // The bound says something: well below the band's width.
      expect(row.bound, row.metric).toBeLessThan(0.01);
    }
    expect(binned.estimate).toMatchObject({ rows: 100_000, missingScores: 0, confidence: 0.95, draws: 200 });
    expect(binned.estimate.expectedPositiveRate).toBeCloseTo(exact.expectedPositiveRate, 3);
    expect(binned.estimate.assumption).toBe(exact.assumption);
    expect(binned.estimate.note).toMatch(/^estimated from a histogram of the positive-class scores \(1000 equal bins on \[0, 1\]\)/);
    expect(binned.estimate.note).toMatch(/may differ from a row-by-row estimate by at most 0\.\d+ and roc_auc by at most 0\.\d+/);
  });

  it('draws a band as wide as the row-by-row one, around the estimate', () => {
    const table = ESTIMATED_METRICS.map((m) => {
      const e = exact.metrics[m];
      const b = binned.estimate.metrics[m];
      return { metric: m, exactWidth: e.upper! - e.lower!, binnedWidth: b.upper! - b.lower!, lower: b.lower!, upper: b.upper! };
    });
    console.table(table);
    for (const row of table) {
      const m = binned.estimate.metrics[row.metric];
      expect(row.lower).toBeLessThanOrEqual(m.value!);
      expect(row.upper).toBeGreaterThanOrEqual(m.value!);
      // 200 draws measure a 95% band to within some 20%: both are that noisy.
      expect(row.binnedWidth / row.exactWidth, row.metric).toBeGreaterThan(0.6);
      expect(row.binnedWidth / row.exactWidth, row.metric).toBeLessThan(1.6);
    }
  });

  it('is exact, with a zero bound, when the calibration is flat across every bin with rows', () => {
    // Knots on bin edges: it rises only within [0.25, 0.251) and [0.6, 0.601), where no row is.
    const stepped = calibrationOf([0, 0.25, 0.251, 0.6, 0.601, 1], [0.1, 0.1, 0.5, 0.5, 0.9, 0.9]);
    const all = rowsOf(5_000, 3, 0);
    const keep = (_: number, i: number) => ![scoreBin(0.25), scoreBin(0.6)].includes(scoreBin(all.scores[i]!));
    const rows = { scores: all.scores.filter(keep), predictedPositive: all.predictedPositive.filter(keep) };
    const row = estimatePerformance({ ...rows, calibration: stepped });
    const fromBins = estimateBinnedPerformance({ ...histogramsOf(rows.scores, rows.predictedPositive), calibration: stepped });
    for (const m of ['accuracy', 'precision', 'recall', 'f1'] as const) {
      expect(fromBins.binningError[m], m).toBeLessThan(1e-12);
      expect(fromBins.estimate.metrics[m].value!).toBeCloseTo(row.metrics[m].value!, 12);
    }
  });

  it('counts scores outside [0, 1] in the end bins, where the calibration is clipped, and passes missing scores on', () => {
    const identity = calibrationOf([0.2, 0.8], [0.2, 0.8]);
    const scores = Float64Array.from([-1, 0, 0.1, 0.9, 1, 2]);
    const predicted = Uint8Array.from([0, 0, 0, 1, 1, 1]);
    const row = estimatePerformance({ scores, predictedPositive: predicted, calibration: identity });
    const fromBins = estimateBinnedPerformance({ ...histogramsOf(scores, predicted), calibration: identity, missingScores: 4 });
    expect(fromBins.estimate).toMatchObject({ rows: 6, missingScores: 4 });
    for (const m of ESTIMATED_METRICS) expect(fromBins.estimate.metrics[m].value!).toBeCloseTo(row.metrics[m].value!, 12);
  });

  it("draws its band through the calibration's bootstrap refits, and says when a calibration stored before has none", () => {
    expect(calibration.bootstraps).toHaveLength(20);
    const { bootstraps: _, ...stored } = calibration;
    const histograms = histogramsOf(window.scores, window.predictedPositive);
    const before = estimateBinnedPerformance({ ...histograms, calibration: stored });
    expect(before.estimate.note).toMatch(/stored without bootstrap refits: the band covers only the labels' noise/);
    expect(binned.estimate.note).not.toMatch(/bootstrap/);
    for (const m of ESTIMATED_METRICS) {
      const withRefits = binned.estimate.metrics[m];
      const labelsOnly = before.estimate.metrics[m];
      expect(withRefits.value).toBe(labelsOnly.value);
      // 100,000 rows: the labels' noise is small beside the error of a 20,000-row holdout's calibration.
      expect(withRefits.upper! - withRefits.lower!, m).toBeGreaterThan(1.2 * (labelsOnly.upper! - labelsOnly.lower!));
    }
  });

  it('gives the same band for the same seed', () => {
    const input = { ...histogramsOf(window.scores.subarray(0, 2000), window.predictedPositive.subarray(0, 2000)), calibration };
    expect(estimateBinnedPerformance({ ...input, seed: 7 })).toEqual(estimateBinnedPerformance({ ...input, seed: 7 }));
  });

  it('estimates nothing from empty histograms, and says so', () => {
    const empty = new Float64Array(HISTOGRAM_LENGTH);
    const { estimate, binningError } = estimateBinnedPerformance({ predictedPositive: empty, predictedNegative: empty, calibration });
    expect(estimate.rows).toBe(0);
    expect(estimate.metrics.accuracy.value).toBeNull();
    expect(binningError.accuracy).toBeNull();
    expect(estimate.note).toMatch(/nothing to estimate/);
  });

  it('refuses a histogram of the wrong length or with a count that is not a whole number', () => {
    const ok = new Float64Array(HISTOGRAM_LENGTH);
    expect(() => estimateBinnedPerformance({ predictedPositive: new Float64Array(10), predictedNegative: ok, calibration })).toThrow(
      /predictedPositive has 10 bins: a score histogram has 1002/,
    );
    const half = new Float64Array(HISTOGRAM_LENGTH);
    half[3] = 0.5;
    expect(() => estimateBinnedPerformance({ predictedPositive: ok, predictedNegative: half, calibration })).toThrow(InvalidInputError);
    expect(() => estimateBinnedPerformance({ predictedPositive: ok, predictedNegative: half, calibration })).toThrow(
      /predictedNegative\[3\] is 0\.5: a bin holds a whole number of rows/,
    );
  });
});

describe('binomial', () => {
  it('has the mean and variance of a binomial, small and large', () => {
    const random = mulberry32(5);
    for (const [n, p] of [
      [1, 0.3],
      [40, 0.1],
      [1000, 0.5],
      [100_000, 0.999],
    ] as const) {
      const draws = Float64Array.from({ length: 20_000 }, () => binomial(n, p, random));
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws.length - 1);
      expect(Math.abs(mean - n * p), `mean of Binomial(${n}, ${p})`).toBeLessThan(5 * Math.sqrt((n * p * (1 - p)) / draws.length));
      expect(variance / (n * p * (1 - p)), `variance of Binomial(${n}, ${p})`).toBeGreaterThan(0.9);
      expect(variance / (n * p * (1 - p)), `variance of Binomial(${n}, ${p})`).toBeLessThan(1.1);
      expect(draws.every((k) => Number.isInteger(k) && k >= 0 && k <= n)).toBe(true);
    }
    expect(binomial(10, 0, random)).toBe(0);
    expect(binomial(10, 1, random)).toBe(10);
  });
});
