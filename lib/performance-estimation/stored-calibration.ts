/**
 * A calibration as stored beside a model version, binary or multiclass, told apart by `method`;
 * and the calibrated probability of a class's score under either. Pure code.
 */

import { z } from 'zod';
import { formatIssues, InvalidInputError } from '../errors';
import { calibrationSchema, interpolate } from './calibration';
import { multiclassCalibrationSchema } from './multiclass-calibration';

/**
 * Either stored form: `method: 'isotonic'` (binary, one positive class) or `'isotonic-ovr'`
 * (multiclass, one calibration per class). Binary calibrations stored before multiclass existed
 * read unchanged.
 */
export const storedCalibrationSchema = z.discriminatedUnion('method', [calibrationSchema, multiclassCalibrationSchema]);

/** A binary or a multiclass calibration, as read from storage. */
export type StoredCalibration = z.infer<typeof storedCalibrationSchema>;

/**
 * Reads a stored calibration, binary or multiclass (narrow on `method`).
 * @param source names where it came from in the error message, e.g. a file name.
 * @throws {InvalidInputError} naming each field that is wrong.
 */
export function parseCalibration(value: unknown, source = 'calibration'): StoredCalibration {
  const parsed = storedCalibrationSchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(formatIssues(source, parsed.error.issues));
  return parsed.data;
}

/**
 * The calibrated probability of `score`: linear between knots, clipped to the end values
 * outside them. A NaN score (missing) stays NaN.
 * @param forClass the class whose score it is: required for a multiclass calibration; for a
 * binary one, the positive class (the default).
 * @throws {InvalidInputError} when `forClass` is not a class the calibration covers.
 */
export function calibrate(calibration: StoredCalibration, score: number, forClass?: string): number {
  const { knots, values } = knotsOf(calibration, forClass);
  return interpolate(knots, values, score);
}

/** {@link calibrate} for every score of an array (NaN stays NaN). */
export function calibrateAll(calibration: StoredCalibration, scores: Float64Array, forClass?: string): Float64Array {
  const { knots, values } = knotsOf(calibration, forClass);
  const x = Float64Array.from(knots);
  const y = Float64Array.from(values);
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = interpolate(x, y, scores[i]!);
  return out;
}

function knotsOf(calibration: StoredCalibration, forClass: string | undefined): { knots: number[]; values: number[] } {
  if (calibration.method === 'isotonic') {
    if (forClass !== undefined && forClass !== calibration.positiveClass) {
      throw new InvalidInputError(
        `the calibration is of the positive class ${JSON.stringify(calibration.positiveClass)}, not ${JSON.stringify(forClass)}`,
      );
    }
    return calibration;
  }
  const c = forClass === undefined ? -1 : calibration.classes.indexOf(forClass);
  if (c < 0) {
    throw new InvalidInputError(
      `a multiclass calibration calibrates one of ${JSON.stringify(calibration.classes)}; got ${forClass === undefined ? 'no class' : JSON.stringify(forClass)}`,
    );
  }
  return calibration.perClass[c]!;
}
