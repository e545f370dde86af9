/**
 * Confidence-based performance estimation (CBPE) of a multiclass classifier, as NannyML's
 * multiclass CBPE: each class's score calibrated one-vs-rest, each row's probabilities normalised
 * to sum to 1, the logged predicted class taken as the model's decision. Pure code.
 */

import { sortedCopy } from '../drift/sort';
import { InvalidInputError } from '../errors';
import { bandedEstimates } from './band';
import type { BootstrapKnots } from './bootstrap';
import {
  calibrateScores,
  checkOptions,
  emptyEstimate,
  ESTIMATE_ASSUMPTION,
  type EstimateOptions,
  MAX_BAND_ROWS,
  NO_BOOTSTRAPS_NOTE,
  type PerformanceEstimate,
} from './cbpe';
import type { MulticlassCalibration } from './multiclass-calibration';
import { drawnMulticlassMetrics, expectedMulticlassMetrics, type MulticlassRows } from './multiclass-metrics';
import { midRanks } from './sampling-band';

/** A window of a multiclass champion's logged predictions to estimate its performance on. */
export interface MulticlassEstimateInput extends EstimateOptions {
  /**
   * Raw score of each class per logged prediction, keyed by class, one column for every class of
   * the calibration. NaN marks a missing score: a row missing any class's score is left out and counted.
   */
  scores: Readonly<Record<string, Float64Array>>;
  /** The logged predicted class of each row (the model's own decision), one of the calibration's classes. */
  predicted: ArrayLike<string>;
  /** The champion's multiclass calibration, fitted on its holdout. */
  calibration: MulticlassCalibration;
}

/**
 * Estimates accuracy, macro precision, recall and f1 and one-vs-rest macro roc_auc of a window
 * from its scores (multiclass-metrics.ts defines them on expected counts).
 *
 * Each class's score is calibrated by its own calibration and each row's calibrated probabilities
 * are divided by their sum (a row whose calibrated probabilities are all 0 is spread evenly and
 * said so in `note`). The band is the `(1 ± confidence) / 2` quantiles of the metrics over
 * `draws` label vectors, each row's label a categorical draw from its probabilities, draw d
 * taking them from the calibration's bootstrap refit d mod B (so the band covers the
 * calibrations' error too; without refits, from the calibration itself, said in `note`). Above
 * {@link MAX_BAND_ROWS} × min(1, 10 / classes) rows it is drawn on a seeded sample and scaled as
 * `estimatePerformance` does (the draws cost rows × classes).
 *
 * `expectedClassRates` gives the expected share of each class; `expectedPositiveRate` is that of
 * the first class.
 *
 * @throws {InvalidInputError} when a class has no score column, the lengths differ, a predicted
 * class is not one of the calibration's, or an option is out of range.
 */
export function estimateMulticlassPerformance(input: MulticlassEstimateInput): PerformanceEstimate {
  const { calibration, confidence = 0.95, draws = 200, seed = 1 } = input;
  checkOptions(confidence, draws, seed);
  const { classes } = calibration;
  const k = classes.length;
  const { raw, predicted, missing } = rowsWithScores(input);
  const n = predicted.length;
  const result = { rows: n, missingScores: missing, confidence, draws, assumption: ESTIMATE_ASSUMPTION };
  if (n === 0) return emptyEstimate(result);

  const { p, spread } = normalisedProbabilities(raw, calibration.perClass);
  const full: MulticlassRows = { k, raw, p, predicted };
  const bandRows = Math.floor(MAX_BAND_ROWS * Math.min(1, 10 / k));
  const bootstraps = calibration.bootstraps ?? [];
  // Refits keep the raw scores, so their ranks are computed once per set of rows.
  const ranks = new WeakMap<Float64Array[], Float64Array[]>();
  const ranksOf = (rows: MulticlassRows) =>
    ranks.get(rows.raw) ??
    ranks
      .set(
        rows.raw,
        rows.raw.map((s) => midRanks(s, sortedCopy(s))),
      )
      .get(rows.raw)!;
  const banded = bandedEstimates(
    {
      full,
      n,
      subset: (mask) => subsetRows(full, mask),
      point: expectedMulticlassMetrics,
      drawn: (rows, d, random) => drawnMulticlassMetrics(rows, ranksOf(rows), d, random),
      bootstraps: bootstraps.length,
      refit: (rows, b) => ({ ...rows, p: normalisedProbabilities(rows.raw, bootstraps[b]!).p }),
    },
    bandRows,
    { confidence, draws, seed },
  );

  const notes = banded.sampleNote ? [banded.sampleNote] : [];
  if (bootstraps.length === 0) notes.push(NO_BOOTSTRAPS_NOTE);
  if (spread > 0) notes.push(`${spread} rows had a calibrated probability of 0 for every class: they count as equally likely of each`);
  if (banded.metrics.roc_auc.value === null) notes.push("roc_auc is undefined: some class's calibrated probabilities are all 0 or all 1");
  else if (banded.aucDraws < draws) {
    notes.push(`the roc_auc band comes from the ${banded.aucDraws} of ${draws} draws in which every class occurs and none is every row`);
  }
  const support = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) support[c]! += p[i * k + c]!;
  const expectedClassRates = Object.fromEntries(classes.map((name, c) => [name, support[c]! / n]));
  return {
    ...result,
    metrics: banded.metrics,
    expectedPositiveRate: support[0]! / n,
    expectedClassRates,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

/** Per class the raw scores of the rows with every score, and their predicted class indices. */
function rowsWithScores(input: MulticlassEstimateInput): { raw: Float64Array[]; predicted: Int32Array; missing: number } {
  const { classes } = input.calibration;
  const rows = input.predicted.length;
  const columns = classes.map((name) => {
    const column = input.scores[name];
    if (!column) throw new InvalidInputError(`scores has no column for class ${JSON.stringify(name)}: every class's score is needed`);
    if (column.length !== rows) {
      throw new InvalidInputError(
        `scores[${JSON.stringify(name)}] has ${column.length} rows and predicted ${rows}: there must be one of each per logged prediction`,
      );
    }
    return column;
  });
  const index = new Map(classes.map((name, c) => [name, c]));
  const keep = new Uint8Array(rows);
  const predicted: number[] = [];
  for (let i = 0; i < rows; i++) {
    const c = index.get(input.predicted[i]!);
    if (c === undefined) {
      throw new InvalidInputError(`predicted[${i}] is ${JSON.stringify(input.predicted[i])}, not one of ${JSON.stringify(classes)}`);
    }
    if (columns.some((column) => Number.isNaN(column[i]))) continue;
    keep[i] = 1;
    predicted.push(c);
  }
  const missing = rows - predicted.length;
  return {
    raw: missing === 0 ? columns : columns.map((column) => column.filter((_, i) => keep[i] === 1)),
    predicted: Int32Array.from(predicted),
    missing,
  };
}

/**
 * Each class's calibrated probability under `perClass` (the main calibrations or one bootstrap
 * refit's), each row divided by its sum (rows × classes), and how many rows summed to 0.
 */
function normalisedProbabilities(raw: Float64Array[], perClass: readonly BootstrapKnots[]): { p: Float64Array; spread: number } {
  const k = raw.length;
  const n = raw[0]!.length;
  const p = new Float64Array(n * k);
  perClass.forEach((calibration, c) => {
    const calibrated = calibrateScores(calibration, raw[c]!);
    for (let i = 0; i < n; i++) p[i * k + c] = calibrated[i]!;
  });
  let spread = 0;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += p[i * k + c]!;
    if (sum === 0) spread++;
    for (let c = 0; c < k; c++) p[i * k + c] = sum === 0 ? 1 / k : p[i * k + c]! / sum;
  }
  return { p, spread };
}

/** The rows a 0/1 mask keeps. */
function subsetRows(rows: MulticlassRows, mask: Uint8Array): MulticlassRows {
  const { k } = rows;
  const kept: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) kept.push(i);
  const p = new Float64Array(kept.length * k);
  kept.forEach((i, j) => p.set(rows.p.subarray(i * k, (i + 1) * k), j * k));
  return {
    k,
    raw: rows.raw.map((column) => Float64Array.from(kept, (i) => column[i]!)),
    p,
    predicted: Int32Array.from(kept, (i) => rows.predicted[i]!),
  };
}
