/** Regression metrics matching scikit-learn 1.9.1 (see index.ts). */

import { CompensatedSum } from './compensated-sum';
import { checkRowCounts, MetricInputError } from './input';

/** A regression model's predictions and the actual values, row by row. */
export interface RegressionInput {
  actual: ArrayLike<number>;
  predicted: ArrayLike<number>;
}

/** Regression metrics as scikit-learn computes them; rmse and mae are in the label's units. */
export interface RegressionMetrics {
  rmse: number;
  mae: number;
  /** `null` with fewer than 2 rows (sklearn: NaN plus a warning). */
  r2: number | null;
}

/**
 * Regression metrics, as scikit-learn computes them.
 *
 * r2 follows sklearn's default `force_finite=True`: perfect predictions give 1.0 (even when
 * `actual` is constant), and a constant `actual` with imperfect predictions gives 0.0 instead
 * of -Infinity. Constancy is tested exactly here; sklearn tests `sum((y - mean(y))^2) == 0`,
 * and its rounded mean can miss a constant like 0.1 (x3) and return about -5e29 instead of 0.
 *
 * @throws {MetricInputError} on no rows, different lengths, or a non-finite value (sklearn
 * rejects NaN and infinity).
 */
export function regressionMetrics(input: RegressionInput): RegressionMetrics {
  const { actual, predicted } = input;
  const n = checkRowCounts({ actual: actual.length, predicted: predicted.length });
  checkFinite(actual, 'actual');
  checkFinite(predicted, 'predicted');

  const squared = new CompensatedSum();
  const absolute = new CompensatedSum();
  for (let i = 0; i < n; i++) {
    const e = actual[i]! - predicted[i]!;
    squared.add(e * e);
    absolute.add(Math.abs(e));
  }
  const residual = squared.value();
  return { rmse: Math.sqrt(residual / n), mae: absolute.value() / n, r2: r2Of(actual, residual) };
}

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number' || !Number.isFinite(values[i])) {
      throw new MetricInputError(`${what}[${i}] must be a finite number, got ${String(values[i])}`);
    }
  }
}

function r2Of(actual: ArrayLike<number>, residual: number): number | null {
  const n = actual.length;
  if (n < 2) return null;
  const total = sumOfSquaredDeviations(actual);
  if (residual === 0) return 1;
  if (total === 0) return 0;
  return 1 - residual / total;
}

/** Sum of (y - mean)^2, exactly 0 when all values are equal (see regressionMetrics). */
function sumOfSquaredDeviations(values: ArrayLike<number>): number {
  const n = values.length;
  let constant = true;
  const sum = new CompensatedSum();
  for (let i = 0; i < n; i++) {
    sum.add(values[i]!);
    if (values[i] !== values[0]) constant = false;
  }
  if (constant) return 0;
  const mean = sum.value() / n;
  const squares = new CompensatedSum();
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    squares.add(d * d);
  }
  return squares.value();
}
