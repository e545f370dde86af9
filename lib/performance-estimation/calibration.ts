/**
 * Probability calibration of a binary classifier's scores, fitted on the holdout and stored with
 * the model version, so that performance can later be estimated from scores alone (cbpe.ts).
 * Multiclass calibrations (multiclass-calibration.ts) fit one of these per class. Pure code.
 */

import { z } from 'zod';
import { countBelow } from '../drift/sorted-search';
import { sortedCopy } from '../drift/sort';
import { InvalidInputError } from '../errors';
import { BOOTSTRAP_KNOTS, BOOTSTRAPS, type BootstrapKnots, forEachResample, MAX_BOOTSTRAPS, refitKnots, sortedColumn } from './bootstrap';
import { isotonicKnots, thinKnots, type Knots } from './isotonic';

/** A stored calibration keeps at most this many knots, so it stays a small JSON document. */
export const MAX_KNOTS = 1000;

/** Equal-width bins of the expected calibration error (ECE). */
export const ECE_BINS = 10;

/** A probability in [0, 1], as every stored calibration's fields check it. */
export const probability = z.number().min(0, 'must be a probability in [0, 1]').max(1, 'must be a probability in [0, 1]');
/** A count of rows. */
export const count = z.number().int().nonnegative();

/** A piecewise-linear calibration function as stored: knots strictly ascending, one non-decreasing value each. */
export const knotsSchema = {
  /** Scores where the calibration function bends, strictly ascending. */
  knots: z.array(probability).min(1).max(MAX_KNOTS),
  /** Calibrated probability at each knot, non-decreasing; linear in between, clipped outside. */
  values: z.array(probability).min(1).max(MAX_KNOTS),
};

/** One bootstrap refit as stored (bootstrap.ts): knots and values as a calibration's, at most {@link BOOTSTRAP_KNOTS}. */
export const bootstrapKnotsSchema = z.strictObject({
  knots: z.array(probability).min(1).max(BOOTSTRAP_KNOTS),
  values: z.array(probability).min(1).max(BOOTSTRAP_KNOTS),
});

/** Reports what is wrong with stored knots and values, at paths under `at`. */
export function checkKnots(
  c: { knots: readonly number[]; values: readonly number[] },
  issue: (path: PropertyKey[], message: string) => void,
  at: PropertyKey[] = [],
): void {
  if (c.values.length !== c.knots.length) {
    issue([...at, 'values'], `has ${c.values.length} entries and knots ${c.knots.length}: there must be one value per knot`);
  }
  for (let i = 1; i < c.knots.length; i++) {
    if (!(c.knots[i]! > c.knots[i - 1]!)) {
      issue([...at, 'knots', i], `knots must be strictly ascending: ${c.knots[i]} follows ${c.knots[i - 1]}`);
      break;
    }
  }
  for (let i = 1; i < c.values.length; i++) {
    if (c.values[i]! < c.values[i - 1]!) {
      issue([...at, 'values', i], `values must be non-decreasing: ${c.values[i]} follows ${c.values[i - 1]}`);
      break;
    }
  }
}

/** The JSON form of a {@link Calibration}, as stored with a model version. */
export const calibrationSchema = z
  .strictObject({
    version: z.literal(1),
    method: z.literal('isotonic'),
    /** The class the scores are the probability of. */
    positiveClass: z.string().min(1),
    ...knotsSchema,
    /** Holdout rows the calibration was fitted on (rows with a score). */
    holdoutRows: count.min(1),
    /** Holdout rows left out because their score was missing (NaN). */
    missingScores: count,
    /** Share of the fitted holdout rows whose label is the positive class. */
    positiveRate: probability,
    /**
     * Expected calibration error on the holdout (10 equal-width bins) of the raw scores, and of
     * the calibrated ones cross-fitted (each fifth of the holdout calibrated by a fit on the rest).
     */
    ece: z.strictObject({ before: probability, after: probability }),
    /** What a report should say about the fit: one class only, one distinct score, knots thinned. */
    notes: z.array(z.string()),
    /**
     * Refits on holdout rows resampled with replacement, which the band draws through to cover the
     * calibration's own error. Absent in calibrations stored before: their band covers the labels' noise only.
     */
    bootstraps: z.array(bootstrapKnotsSchema).max(MAX_BOOTSTRAPS).optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    checkKnots(c, issue);
    c.bootstraps?.forEach((b, i) => checkKnots(b, issue, ['bootstraps', i]));
  });

/** A fitted binary calibration: a monotone map from a raw positive-class score to a probability. */
export type Calibration = z.infer<typeof calibrationSchema>;

/** The holdout a calibration is fitted on. */
export interface CalibrationInput {
  /** Raw score of the positive class per holdout row, in [0, 1]. NaN marks a missing score: the row is left out and counted. */
  scores: Float64Array | readonly number[];
  /** Per holdout row: 1 when its true label is the positive class, else 0. */
  outcomes: Uint8Array | readonly number[];
  /** The class the scores are about. */
  positiveClass: string;
  /**
   * Bootstrap refits to fit and store beside the calibration (0: none), at most {@link MAX_BOOTSTRAPS}.
   * @default 20
   */
  bootstraps?: number;
  /**
   * Seed of the bootstrap resamples: the same seed gives the same refits.
   * @default 1
   */
  seed?: number;
}

/**
 * Fits an increasing isotonic calibration on the holdout, as scikit-learn's
 * `IsotonicRegression(out_of_bounds='clip')` does (tied scores pooled first, prediction by linear
 * interpolation between block boundaries), kept to at most {@link MAX_KNOTS} knots.
 *
 * One class only or one distinct score give a constant calibration (the positive rate) and say
 * so in `notes`; they are not errors.
 *
 * Beside it, `bootstraps` refits on the holdout's rows resampled with replacement (seeded), each
 * thinned to {@link BOOTSTRAP_KNOTS} knots: about 3 kB of JSON each, 60-70 kB for 20 whatever
 * the holdout's size (a 1e6-row holdout included).
 *
 * @throws {InvalidInputError} when no row has a score, the lengths differ, a score is outside
 * [0, 1], an outcome is not 0 or 1, or `bootstraps` is not a whole number in [0, MAX_BOOTSTRAPS].
 */
export function fitCalibration(input: CalibrationInput): Calibration {
  const { scores, outcomes, missing } = rowsWithScore(input);
  const rows = scores.length;
  if (rows === 0) {
    throw new InvalidInputError(
      input.scores.length === 0
        ? 'cannot fit a calibration on an empty holdout: it needs rows with a score and a label'
        : `cannot fit a calibration: all ${missing} holdout scores are missing (NaN)`,
    );
  }
  const refits = checkedBootstraps(input.bootstraps ?? BOOTSTRAPS);
  const fit = fitOutcomes(scores, outcomes, MAX_KNOTS);
  const bootstraps: BootstrapKnots[] = [];
  if (refits > 0) {
    const column = sortedColumn(scores, outcomes);
    forEachResample(rows, refits, input.seed ?? 1, (counts) => bootstraps.push(refitKnots(column, counts, BOOTSTRAP_KNOTS)));
  }
  return {
    version: 1,
    method: 'isotonic',
    positiveClass: input.positiveClass,
    knots: fit.knots,
    values: fit.values,
    holdoutRows: rows,
    missingScores: missing,
    positiveRate: fit.positiveRate,
    ece: fit.ece,
    notes: fit.notes,
    ...(refits > 0 ? { bootstraps } : {}),
  };
}

/** @throws {InvalidInputError} unless `bootstraps` is a whole number in [0, {@link MAX_BOOTSTRAPS}]. */
export function checkedBootstraps(bootstraps: number): number {
  if (!Number.isInteger(bootstraps) || bootstraps < 0 || bootstraps > MAX_BOOTSTRAPS) {
    throw new InvalidInputError(`bootstraps is ${bootstraps}: it must be a whole number from 0 to ${MAX_BOOTSTRAPS}`);
  }
  return bootstraps;
}

/** One outcome's isotonic calibration on rows that all have a score, with its positive rate, ECE and notes. */
export interface OutcomeFit {
  knots: number[];
  values: number[];
  positiveRate: number;
  ece: { before: number; after: number };
  notes: string[];
}

/**
 * The isotonic fit of 0/1 `outcomes` on `scores` (no NaN, at least one row), thinned to at most
 * `maxKnots` knots (at least 6), as {@link fitCalibration} describes.
 */
export function fitOutcomes(scores: Float64Array, outcomes: Uint8Array, maxKnots: number): OutcomeFit {
  const rows = scores.length;
  const full = isotonicFit(scores, outcomes, () => true);
  const { knots, maxChange } = thinKnots(full.knots, maxKnots);
  let positives = 0;
  for (const o of outcomes) positives += o;
  const positiveRate = positives / rows;

  const notes: string[] = [];
  if (positiveRate === 0 || positiveRate === 1) {
    notes.push(
      `every holdout row is ${positiveRate === 1 ? 'positive' : 'negative'}: the calibration is the constant ${positiveRate}, ` +
        'so estimates from it only repeat that rate',
    );
  } else if (full.distinctScores === 1) {
    notes.push(`every holdout row has the score ${scores[0]}: the calibration is the constant positive rate ${positiveRate}`);
  }
  if (maxChange > 0) {
    notes.push(
      `the isotonic fit had ${full.knots.x.length} knots, thinned to ${knots.x.length}: probabilities move by less than ${maxChange.toPrecision(2)}`,
    );
  }
  return {
    knots: Array.from(knots.x),
    values: Array.from(knots.y),
    positiveRate,
    ece: { before: ece(scores, outcomes, (s) => s), after: crossFittedEce(scores, outcomes, maxKnots) },
    notes,
  };
}

/** numpy's `interp(s, x, y)` with `s` clipped to the knots' range first, as sklearn predicts; NaN stays NaN. */
export function interpolate(x: ArrayLike<number>, y: ArrayLike<number>, s: number): number {
  if (Number.isNaN(s)) return NaN;
  const last = x.length - 1;
  if (s <= x[0]!) return y[0]!;
  if (s >= x[last]!) return y[last]!;
  const j = countBelow(x, s, true) - 1; // x[j] <= s < x[j + 1]
  return y[j]! + ((s - x[j]!) * (y[j + 1]! - y[j]!)) / (x[j + 1]! - x[j]!);
}

/** The holdout rows whose score is not NaN, checked. */
function rowsWithScore(input: CalibrationInput): { scores: Float64Array; outcomes: Uint8Array; missing: number } {
  const { scores, outcomes } = input;
  if (scores.length !== outcomes.length) {
    throw new InvalidInputError(
      `scores has ${scores.length} rows and outcomes ${outcomes.length}: there must be one of each per holdout row`,
    );
  }
  let missing = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    const o = outcomes[i]!;
    if (o !== 0 && o !== 1) throw new InvalidInputError(`outcomes[${i}] is ${o}: an outcome is 1 (positive class) or 0`);
    if (Number.isNaN(s)) missing++;
    else if (!(s >= 0 && s <= 1)) throw new InvalidInputError(`scores[${i}] is ${s}: a score is a probability in [0, 1]`);
  }
  const kept = new Float64Array(scores.length - missing);
  const keptOutcomes = new Uint8Array(kept.length);
  for (let i = 0, k = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) continue;
    kept[k] = scores[i]!;
    keptOutcomes[k++] = outcomes[i]!;
  }
  return { scores: kept, outcomes: keptOutcomes, missing };
}

/** The isotonic fit on the rows `use` picks (all knots, not thinned), and how many distinct scores those rows have. */
function isotonicFit(scores: Float64Array, outcomes: Uint8Array, use: (row: number) => boolean): { knots: Knots; distinctScores: number } {
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (use(i)) (outcomes[i] === 1 ? positives : negatives).push(scores[i]!);
  }
  const groups = groupByScore(sortedCopy(Float64Array.from(positives)), sortedCopy(Float64Array.from(negatives)));
  return { knots: isotonicKnots(groups.score, groups.rate, groups.rows), distinctScores: groups.score.length };
}

/** Rows pooled by distinct score, ascending: how many rows have the score and the share of them that are positive. */
function groupByScore(positives: Float64Array, negatives: Float64Array): { score: Float64Array; rate: Float64Array; rows: Float64Array } {
  const score: number[] = [];
  const rows: number[] = [];
  const rate: number[] = [];
  let i = 0;
  let j = 0;
  while (i < positives.length || j < negatives.length) {
    const s = Math.min(i < positives.length ? positives[i]! : Infinity, j < negatives.length ? negatives[j]! : Infinity);
    let p = 0;
    let q = 0;
    for (; i < positives.length && positives[i] === s; i++) p++;
    for (; j < negatives.length && negatives[j] === s; j++) q++;
    score.push(s);
    rows.push(p + q);
    rate.push(p / (p + q));
  }
  return { score: Float64Array.from(score), rate: Float64Array.from(rate), rows: Float64Array.from(rows) };
}

/** Folds of the cross-fitted ECE. */
const ECE_FOLDS = 5;

/**
 * The ECE of the calibration on rows it was not fitted on: each of 5 folds (row i in fold i mod 5)
 * calibrated by a fit on the others. Measured on the rows of its own fit, isotonic's ECE is 0 by
 * construction (each block's value is its rows' positive rate), which would say nothing.
 */
function crossFittedEce(scores: Float64Array, outcomes: Uint8Array, maxKnots: number): number {
  const folds = Math.min(ECE_FOLDS, scores.length);
  if (folds < 2) return ece(scores, outcomes, () => outcomes[0]!);
  const p = new Float64Array(scores.length);
  for (let f = 0; f < folds; f++) {
    const { knots } = thinKnots(isotonicFit(scores, outcomes, (i) => i % folds !== f).knots, maxKnots);
    for (let i = f; i < scores.length; i += folds) p[i] = interpolate(knots.x, knots.y, scores[i]!);
  }
  return ece(scores, outcomes, (_, i) => p[i]!);
}

/** Expected calibration error: per equal-width bin of the probability, |Σ outcome − Σ probability|, summed, over all rows. */
function ece(scores: Float64Array, outcomes: Uint8Array, probabilityOf: (score: number, row: number) => number): number {
  const gap = new Float64Array(ECE_BINS);
  for (let i = 0; i < scores.length; i++) {
    const p = probabilityOf(scores[i]!, i);
    gap[Math.min(Math.floor(p * ECE_BINS), ECE_BINS - 1)]! += outcomes[i]! - p;
  }
  let sum = 0;
  for (const g of gap) sum += Math.abs(g);
  return Math.min(sum / scores.length, 1);
}
