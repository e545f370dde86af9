/**
 * Bootstrap refits of a calibration: the holdout's rows resampled with replacement and the
 * isotonic fit repeated, so the band can carry the calibration's own error from a finite holdout
 * (every window shares it; the labels' noise alone leaves it out). Pure code.
 */

import { mulberry32 } from '../split';
import { isotonicKnots, thinKnots } from './isotonic';

/** Bootstrap refits fitted beside a calibration unless told otherwise. */
export const BOOTSTRAPS = 20;

/** A stored bootstrap refit keeps at most this many knots (probabilities move by < 0.011, 2 / 196). */
export const BOOTSTRAP_KNOTS = 200;

/**
 * All bootstrap refits of a calibration together keep at most this many knots (about 16 bytes of
 * JSON each: 640 kB at most); a multiclass calibration of many classes keeps fewer refits.
 */
export const MAX_BOOTSTRAP_KNOTS = 40_000;

/** Most refits a stored calibration holds. */
export const MAX_BOOTSTRAPS = 100;

/** A bootstrap refit as stored: a monotone piecewise-linear calibration function, thinned and rounded. */
export interface BootstrapKnots {
  knots: number[];
  values: number[];
}

/** One holdout column's rows in ascending order of score, computed once for every refit. */
export interface SortedColumn {
  scores: Float64Array;
  outcomes: Uint8Array;
  /** Row indices, ascending by score. */
  order: Int32Array;
}

/** The rows of a score column sorted once, for {@link refitKnots}. */
export function sortedColumn(scores: Float64Array, outcomes: Uint8Array): SortedColumn {
  const order = Int32Array.from(scores, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  return { scores, outcomes, order };
}

/**
 * Calls `f` with how often each of `rows` rows is drawn in each of `bootstraps` resamples with
 * replacement of `rows` rows, from a seeded stream: the same seed gives the same resamples. One
 * buffer is reused, so memory stays one count per row.
 */
export function forEachResample(rows: number, bootstraps: number, seed: number, f: (counts: Uint32Array) => void): void {
  const random = mulberry32(seed);
  const counts = new Uint32Array(rows);
  for (let b = 0; b < bootstraps; b++) {
    counts.fill(0);
    for (let i = 0; i < rows; i++) counts[Math.floor(random() * rows)]!++;
    f(counts);
  }
}

/**
 * The isotonic fit of a column with each row weighted by how often a resample drew it, thinned
 * to `maxKnots` (at least 6) and rounded: knots to 6 decimals (a knot that rounds onto the one
 * before is dropped), values to 4. O(rows) per refit once the column is sorted.
 */
export function refitKnots(column: SortedColumn, counts: Uint32Array, maxKnots: number): BootstrapKnots {
  const { scores, outcomes, order } = column;
  const x: number[] = [];
  const rate: number[] = [];
  const weight: number[] = [];
  for (let j = 0; j < order.length;) {
    const s = scores[order[j]!]!;
    let w = 0;
    let positives = 0;
    for (; j < order.length && scores[order[j]!] === s; j++) {
      const c = counts[order[j]!]!;
      w += c;
      positives += c * outcomes[order[j]!]!;
    }
    if (w === 0) continue;
    x.push(s);
    weight.push(w);
    rate.push(positives / w);
  }
  const fit = isotonicKnots(Float64Array.from(x), Float64Array.from(rate), Float64Array.from(weight));
  const { knots } = thinKnots(fit, maxKnots);
  return compact(knots.x, knots.y);
}

/** Rounded knots, still strictly ascending, and values, still non-decreasing (rounding is monotone). */
function compact(x: Float64Array, y: Float64Array): BootstrapKnots {
  const knots: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const k = Math.round(x[i]! * 1e6) / 1e6;
    const v = Math.round(y[i]! * 1e4) / 1e4;
    if (knots.length > 0 && k <= knots[knots.length - 1]!) {
      // Keep the higher value at a merged knot, so the function stays non-decreasing.
      values[values.length - 1] = v;
      continue;
    }
    knots.push(k);
    values.push(v);
  }
  return { knots, values };
}
