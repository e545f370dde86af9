import { classificationMetrics } from '../../lib/metrics/index.js';
import { calibrationSchema, type Calibration } from '../../lib/performance-estimation/index.js';

// No vitest import here: bench/cbpe.ts draws its windows from this module too.

/**
 * The synthetic truth the performance-estimation tests and bench/cbpe.ts share: a model scores
 * s = logistic(z), z ~ Normal(mu, sigma), and predicts s >= 0.5, while the true P(y = 1 | z) is
 * logistic(2z − 0.5), so the raw scores are far from calibrated. Covariate shift moves mu and
 * sigma; P(y | s) stays.
 */

export const logistic = (x: number) => 1 / (1 + Math.exp(-x));
/** The true chance of the positive class at z. */
export const TRUTH = (z: number) => logistic(2 * z - 0.5);

/** One labelled window: raw scores, the model's decisions and the true labels. */
export interface SyntheticWindow {
  scores: Float64Array;
  predictedPositive: Uint8Array;
  labels: Uint8Array;
}

/** `n` rows drawn with `random` (three draws a row, in a fixed order: the same seed, the same rows). */
export function drawWindow(random: () => number, n: number, mu: number, sigma: number, truth = TRUTH): SyntheticWindow {
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // Box–Muller; 1 - u keeps the log finite.
    const z = mu + sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    scores[i] = logistic(z);
    labels[i] = random() < truth(z) ? 1 : 0;
  }
  return { scores, labels, predictedPositive: Uint8Array.from(scores, (s) => (s >= 0.5 ? 1 : 0)) };
}

/** The holdout's score distribution. */
export const HOLDOUT = { mu: 0, sigma: 1.5 };
/** Where the windows' scores sit: the holdout's distribution, then shifts as drift would move them. */
export const SCENARIOS = [
  { name: 'as holdout', mu: 0, sigma: 1.5 },
  { name: 'mu +1', mu: 1, sigma: 1.5 },
  { name: 'mu -1', mu: -1, sigma: 1.5 },
  { name: 'wider', mu: 0, sigma: 2.5 },
  { name: 'near 0.5', mu: 0, sigma: 0.5 },
  { name: 'mu +0.5, narrower', mu: 0.5, sigma: 0.8 },
  { name: 'mu -0.5, narrower', mu: -0.5, sigma: 1 },
  { name: 'mu +0.3, wider', mu: 0.3, sigma: 2 },
];

/** The realised metrics of a labelled binary window, by the one metric engine. */
export function realised(scores: Float64Array, predictedPositive: Uint8Array, labels: Uint8Array) {
  const name = (b: number) => (b === 1 ? 'yes' : 'no');
  return classificationMetrics({
    labels: Array.from(labels, name),
    predictions: Array.from(predictedPositive, name),
    scores: Array.from(scores, (s) => ({ no: 1 - s, yes: s })),
    classes: ['no', 'yes'],
    positiveClass: 'yes',
  });
}

/** A calibration with the given knots, as if read from storage (not fitted). */
export function calibrationOf(knots: number[], values: number[]): Calibration {
  return calibrationSchema.parse({
    version: 1,
    method: 'isotonic',
    positiveClass: 'yes',
    knots,
    values,
    holdoutRows: 1,
    missingScores: 0,
    positiveRate: 0.5,
    ece: { before: 0, after: 0 },
    notes: [],
  });
}
