/**
 * Calibration of a multiclass classifier's scores, one-vs-rest as NannyML's multiclass CBPE
 * calibrates: one isotonic calibration per class, of that class's score against "the label is
 * this class", fitted on the holdout. Pure code.
 */

import { z } from 'zod';
import { InvalidInputError } from '../errors';
import {
  BOOTSTRAP_KNOTS,
  BOOTSTRAPS,
  type BootstrapKnots,
  forEachResample,
  MAX_BOOTSTRAP_KNOTS,
  MAX_BOOTSTRAPS,
  refitKnots,
  sortedColumn,
} from './bootstrap';
import {
  bootstrapKnotsSchema,
  checkedBootstraps,
  checkKnots,
  count,
  fitOutcomes,
  knotsSchema,
  MAX_KNOTS,
  probability,
} from './calibration';

/** A multiclass calibration covers at most this many classes, so a stored one stays small. */
export const MAX_CLASSES = 100;

/**
 * All classes together keep at most this many knots: each class gets
 * `min(MAX_KNOTS, MAX_TOTAL_KNOTS / classes)` (100 for 100 classes, moving probabilities by < 0.021).
 */
export const MAX_TOTAL_KNOTS = 10_000;

/** One class's calibration within a {@link MulticlassCalibration}. */
const classCalibrationSchema = z.strictObject({
  ...knotsSchema,
  /** Share of the fitted holdout rows whose label is the class. */
  positiveRate: probability,
  /** ECE of the class's raw scores and of its calibrated ones, cross-fitted (as the binary calibration's). */
  ece: z.strictObject({ before: probability, after: probability }),
});

/** The JSON form of a {@link MulticlassCalibration}, as stored with a model version. */
export const multiclassCalibrationSchema = z
  .strictObject({
    version: z.literal(1),
    method: z.literal('isotonic-ovr'),
    /** The model's classes, in its order. */
    classes: z.array(z.string().min(1)).min(3).max(MAX_CLASSES),
    /** One calibration per class, in the order of `classes`. */
    perClass: z.array(classCalibrationSchema).min(3).max(MAX_CLASSES),
    /** Holdout rows the calibrations were fitted on (rows with a score for every class). */
    holdoutRows: count.min(1),
    /** Holdout rows left out because a class's score was missing (NaN). */
    missingScores: count,
    /** What a report should say about the fit, each note naming its class. */
    notes: z.array(z.string()),
    /**
     * Refits on holdout rows resampled with replacement, each one calibration per class in the
     * order of `classes`; the band draws through them. Absent in calibrations stored before.
     */
    bootstraps: z.array(z.array(bootstrapKnotsSchema)).max(MAX_BOOTSTRAPS).optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (c.perClass.length !== c.classes.length) {
      issue(['perClass'], `has ${c.perClass.length} entries and classes ${c.classes.length}: there must be one calibration per class`);
    }
    const seen = new Set<string>();
    c.classes.forEach((name, i) => {
      if (seen.has(name)) issue(['classes', i], `class ${JSON.stringify(name)} appears twice`);
      seen.add(name);
    });
    let knots = 0;
    c.perClass.forEach((k, i) => {
      checkKnots(k, issue, ['perClass', i]);
      knots += k.knots.length;
    });
    if (knots > MAX_TOTAL_KNOTS) issue(['perClass'], `has ${knots} knots in all: at most ${MAX_TOTAL_KNOTS} are kept`);
    let refitKnotCount = 0;
    c.bootstraps?.forEach((refit, b) => {
      if (refit.length !== c.classes.length) {
        issue(['bootstraps', b], `has ${refit.length} calibrations and classes ${c.classes.length}: there must be one per class`);
      }
      refit.forEach((k, i) => {
        checkKnots(k, issue, ['bootstraps', b, i]);
        refitKnotCount += k.knots.length;
      });
    });
    if (refitKnotCount > MAX_BOOTSTRAP_KNOTS) {
      issue(['bootstraps'], `has ${refitKnotCount} knots in all: at most ${MAX_BOOTSTRAP_KNOTS} are kept`);
    }
  });

/** A fitted multiclass calibration: per class, a monotone map from the class's raw score to a probability. */
export type MulticlassCalibration = z.infer<typeof multiclassCalibrationSchema>;

/** The holdout a multiclass calibration is fitted on. */
export interface MulticlassCalibrationInput {
  /**
   * Raw score of each class per holdout row, keyed by class, each in [0, 1]. NaN marks a missing
   * score: a row missing any class's score is left out (of every class's fit) and counted.
   */
  scores: Readonly<Record<string, Float64Array | readonly number[]>>;
  /** True label of each holdout row. */
  labels: readonly string[];
  /** The model's classes: at least 3 (2 take {@link fitCalibration}), at most {@link MAX_CLASSES}, distinct. */
  classes: readonly string[];
  /**
   * Bootstrap refits to fit and store (0: none); fewer are kept when the classes' knots would
   * pass {@link MAX_BOOTSTRAP_KNOTS}, and `notes` says so.
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
 * Fits one increasing isotonic calibration per class, one-vs-rest: class c's score against
 * "the label is c", on the holdout rows with a score for every class, each as
 * {@link fitCalibration} fits (notes and ECE per class; knots thinned to a shared budget,
 * {@link MAX_TOTAL_KNOTS}).
 *
 * Beside them, `bootstraps` refits (every class refitted on the same resampled rows, seeded),
 * each class's thinned to {@link BOOTSTRAP_KNOTS} knots: about 190 kB of JSON for 3 classes and
 * 20 refits whatever the holdout's size (a 1e6-row holdout included), at most
 * {@link MAX_BOOTSTRAP_KNOTS} knots in all.
 *
 * @throws {InvalidInputError} when there are fewer than 3 or more than {@link MAX_CLASSES} classes
 * or duplicates, a class has no scores or lengths differ, a score is outside [0, 1], or no row
 * has every score.
 */
export function fitMulticlassCalibration(input: MulticlassCalibrationInput): MulticlassCalibration {
  const { classes, labels } = input;
  const columns = checkedColumns(input);
  const n = labels.length;
  const keep = new Uint8Array(n).fill(1);
  let missing = 0;
  for (let i = 0; i < n; i++) {
    if (columns.some((column) => Number.isNaN(column[i]))) {
      keep[i] = 0;
      missing++;
    }
  }
  const rows = n - missing;
  if (rows === 0) {
    throw new InvalidInputError(
      n === 0
        ? 'cannot fit a calibration on an empty holdout: it needs rows with scores and a label'
        : `cannot fit a calibration: each of the ${n} holdout rows misses a class's score (NaN)`,
    );
  }
  const requested = checkedBootstraps(input.bootstraps ?? BOOTSTRAPS);
  const keptLabels = labels.filter((_, i) => keep[i] === 1);
  const maxKnots = Math.min(MAX_KNOTS, Math.floor(MAX_TOTAL_KNOTS / classes.length));
  const notes: string[] = [];
  const fitted = classes.map((name, c) => {
    const scores = Float64Array.from(columns[c]!.filter((_, i) => keep[i] === 1));
    const outcomes = Uint8Array.from(keptLabels, (l) => (l === name ? 1 : 0));
    const fit = fitOutcomes(scores, outcomes, maxKnots);
    notes.push(...fit.notes.map((note) => `class ${JSON.stringify(name)}: ${note}`));
    return {
      column: { scores, outcomes },
      calibration: { knots: fit.knots, values: fit.values, positiveRate: fit.positiveRate, ece: fit.ece },
    };
  });
  const perClass = fitted.map((f) => f.calibration);
  const result: MulticlassCalibration = {
    version: 1,
    method: 'isotonic-ovr',
    classes: [...classes],
    perClass,
    holdoutRows: rows,
    missingScores: missing,
    notes,
  };
  if (requested === 0) return result;
  // Bounded storage: each class's refit keeps the knots its share allows, and refits stop at MAX_BOOTSTRAP_KNOTS.
  const refitKnotsPerClass = Math.max(6, Math.min(BOOTSTRAP_KNOTS, maxKnots));
  const refits = Math.max(1, Math.min(requested, Math.floor(MAX_BOOTSTRAP_KNOTS / (refitKnotsPerClass * classes.length))));
  if (refits < requested) {
    notes.push(
      `${refits} bootstrap refits of the calibration are kept, not ${requested}: ${classes.length} classes' knots fill the budget`,
    );
  }
  const sorted = fitted.map((f) => sortedColumn(f.column.scores, f.column.outcomes));
  const bootstraps: BootstrapKnots[][] = [];
  forEachResample(rows, refits, input.seed ?? 1, (counts) =>
    bootstraps.push(sorted.map((column) => refitKnots(column, counts, refitKnotsPerClass))),
  );
  return { ...result, bootstraps };
}

/** Each class's score column, checked: one per class, one score per label, in [0, 1] or NaN. */
function checkedColumns(input: MulticlassCalibrationInput): Float64Array[] {
  const { classes, labels, scores } = input;
  if (classes.length < 3) {
    throw new InvalidInputError(`a multiclass calibration needs at least 3 classes, got ${classes.length}: fit 2 with fitCalibration`);
  }
  if (classes.length > MAX_CLASSES) {
    throw new InvalidInputError(`a multiclass calibration covers at most ${MAX_CLASSES} classes, got ${classes.length}`);
  }
  if (new Set(classes).size !== classes.length) throw new InvalidInputError(`classes has duplicates: ${JSON.stringify(classes)}`);
  return classes.map((name) => {
    const column = scores[name];
    if (!column) throw new InvalidInputError(`scores has no column for class ${JSON.stringify(name)}`);
    if (column.length !== labels.length) {
      throw new InvalidInputError(
        `scores[${JSON.stringify(name)}] has ${column.length} rows and labels ${labels.length}: there must be one of each per holdout row`,
      );
    }
    for (let i = 0; i < column.length; i++) {
      const s = column[i]!;
      if (!Number.isNaN(s) && !(s >= 0 && s <= 1)) {
        throw new InvalidInputError(`scores[${JSON.stringify(name)}][${i}] is ${s}: a score is a probability in [0, 1]`);
      }
    }
    return Float64Array.from(column);
  });
}
