/**
 * Increasing isotonic regression by pool-adjacent-violators, fitted as scikit-learn's
 * `IsotonicRegression` fits it, and the thinning of its knots to a bounded count. Pure code.
 */

/** A monotone piecewise-linear function: `x` ascending, `y` non-decreasing, same length (at least 1). */
export interface Knots {
  x: Float64Array;
  y: Float64Array;
}

/**
 * The increasing isotonic fit of `y` on `x`, as sklearn's `X_thresholds_` and `y_thresholds_`.
 *
 * `x` must be distinct and ascending: tied inputs are pooled into one point first (their weighted
 * mean, their summed weight), as sklearn does before fitting. Adjacent points that violate the
 * order are pooled into blocks of their weighted mean; each block keeps only its first and last
 * `x`, since prediction interpolates linearly between the kept points and a block is flat.
 */
export function isotonicKnots(x: Float64Array, y: Float64Array, w: Float64Array): Knots {
  const n = x.length;
  // Blocks on a stack: weighted sum, weight and first point of each. Merging while the block
  // below is not strictly lower leaves strictly increasing block values.
  const sumWy = new Float64Array(n);
  const sumW = new Float64Array(n);
  const start = new Int32Array(n);
  let top = -1;
  for (let i = 0; i < n; i++) {
    top++;
    sumWy[top] = w[i]! * y[i]!;
    sumW[top] = w[i]!;
    start[top] = i;
    while (top > 0 && sumWy[top - 1]! * sumW[top]! >= sumWy[top]! * sumW[top - 1]!) {
      sumWy[top - 1]! += sumWy[top]!;
      sumW[top - 1]! += sumW[top]!;
      top--;
    }
  }
  const kx: number[] = [];
  const ky: number[] = [];
  for (let b = 0; b <= top; b++) {
    const first = start[b]!;
    const last = b < top ? start[b + 1]! - 1 : n - 1;
    const value = sumWy[b]! / sumW[b]!;
    kx.push(x[first]!);
    ky.push(value);
    if (last > first) {
      kx.push(x[last]!);
      ky.push(value);
    }
  }
  return { x: Float64Array.from(kx), y: Float64Array.from(ky) };
}

/**
 * At most `max` (at least 6) of the knots, first and last included, chosen so the function they
 * describe differs from the full one by less than `2 / (max - 4)` anywhere (0.002 for 1,000).
 *
 * A subset of the points of a monotone function is monotone, so only the error needs care. Walking
 * up, a knot is kept as soon as `y` has risen by the step since the last kept one, together with
 * the knot before it: between two kept knots `y` then rises by less than the step, or they are
 * adjacent in the full fit. Each such pair uses up a rise of at least the step out of at most 1, so
 * there are at most `(max - 4) / 2` pairs: two knots to spare against rounding.
 */
export function thinKnots(knots: Knots, max: number): { knots: Knots; maxChange: number } {
  const n = knots.x.length;
  if (n <= max) return { knots, maxChange: 0 };
  const step = 2 / (max - 4);
  const kept = [0];
  for (let j = 1; j < n; j++) {
    const last = kept[kept.length - 1]!;
    const risen = knots.y[j]! - knots.y[last]! >= step;
    if (risen && j - 1 > last) kept.push(j - 1);
    if (risen || j === n - 1) kept.push(j);
  }
  const x = Float64Array.from(kept, (j) => knots.x[j]!);
  const y = Float64Array.from(kept, (j) => knots.y[j]!);
  return { knots: { x, y }, maxChange: step };
}
