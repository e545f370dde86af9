/**
 * The band around a window's estimates, for any kind of rows (binary or multiclass): quantiles
 * of the metrics over simulated label vectors, drawn on a seeded sample when the window is large.
 * When the calibration has bootstrap refits, the draws cycle through them, so the band carries
 * the calibration's own error from its holdout as well as the labels' noise. Pure code.
 */

import { mulberry32 } from '../split';
import { ESTIMATED_METRICS, type EstimatedMetric } from './expected-metrics';
import { quantile } from './sampling-band';

/** A window's rows, and what the band needs to know about them. */
export interface BandRows<R> {
  /** Every row of the window, prepared. */
  full: R;
  /** Rows in the window. */
  n: number;
  /** The rows a 0/1 mask over the window keeps, prepared. */
  subset: (mask: Uint8Array) => R;
  /** The estimates of prepared rows. */
  point: (rows: R) => Record<EstimatedMetric, number | null>;
  /** Each metric over `draws` simulated label vectors, ascending (shorter where a draw leaves it undefined). */
  drawn: (rows: R, draws: number, random: () => number) => Record<EstimatedMetric, Float64Array>;
  /** Bootstrap refits of the calibration the draws cycle through; 0 when it has none. */
  bootstraps: number;
  /** The prepared rows with their probabilities from bootstrap refit `b` instead (only called when there are refits). */
  refit: (rows: R, b: number) => R;
}

/** The estimates with their bands, how many draws defined roc_auc, and a note when the band was drawn on a sample. */
export interface Banded {
  metrics: Record<EstimatedMetric, { value: number | null; lower: number | null; upper: number | null }>;
  aucDraws: number;
  sampleNote?: string;
}

/**
 * The estimates of every row with the `(1 ± confidence) / 2` quantiles of `draws` simulated
 * label vectors. With bootstrap refits, draw d takes its probabilities from refit d mod B (B × rows
 * calibrations at most); the estimates stay the main calibration's. Each draw enters the
 * quantiles as the estimate, minus its refit's shift from the main calibration's estimate (the
 * calibration's error, mirrored as the basic bootstrap does), plus the draw's distance from its
 * refit's estimate (the labels' noise). Above `maxRows` rows the draws run on a seeded sample of
 * `maxRows` and the labels' noise is scaled by sqrt(maxRows / n), since metrics of a mean shrink
 * as 1 / sqrt(rows), while the calibration's shift, which every row shares, is not. Bounds are
 * clamped to [0, 1].
 */
export function bandedEstimates<R>(
  rows: BandRows<R>,
  maxRows: number,
  options: { confidence: number; draws: number; seed: number },
): Banded {
  const { n } = rows;
  const { confidence, draws } = options;
  const value = rows.point(rows.full);
  const random = mulberry32(options.seed);
  const lower = (1 - confidence) / 2;
  const upper = (1 + confidence) / 2;
  const sampled = n > maxRows;
  // Bounded cost: draws × maxRows at most. The noise of these metrics shrinks as 1 / sqrt(rows).
  const base = sampled ? rows.subset(sampleRows(n, maxRows, random)) : rows.full;
  const center = sampled ? rows.point(base) : value;
  const shrink = sampled ? Math.sqrt(maxRows / n) : 1;
  const variants = rows.bootstraps > 0 ? Math.min(rows.bootstraps, draws) : 1;
  const collected = byMetric(() => [] as number[]);
  for (let b = 0; b < variants; b++) {
    const variantRows = rows.bootstraps > 0 ? rows.refit(base, b) : base;
    // Draws d with d mod variants = b.
    const drawn = rows.drawn(variantRows, Math.floor((draws - 1 - b) / variants) + 1, random);
    const variantCenter = rows.bootstraps > 0 ? rows.point(variantRows) : center;
    for (const m of ESTIMATED_METRICS) {
      const v = value[m];
      const c = center[m];
      const cb = variantCenter[m];
      if (v === null || c === null || cb === null) continue;
      // The refit's shift is mirrored (the basic bootstrap): isotonic refits on a resample drift
      // from the fit in the direction the fit drifts from the truth, so unmirrored they would pull
      // the band away from it.
      for (const x of drawn[m]) collected[m].push(v + (c - cb) + (x - cb) * shrink);
    }
  }
  const band = byMetric((m) => {
    const sorted = Float64Array.from(collected[m]).sort();
    const lo = quantile(sorted, lower);
    const hi = quantile(sorted, upper);
    const v = value[m];
    if (lo === null || hi === null || v === null) return { lower: null, upper: null };
    // A sampled band is placed around the estimate, so it holds it (as before the refits).
    return sampled ? { lower: Math.min(lo, v), upper: Math.max(hi, v) } : { lower: lo, upper: hi };
  });
  const aucDraws = collected.roc_auc.length;
  const sampleNote = sampled
    ? `the band comes from a seeded sample of ${maxRows} of the ${n} rows, the labels' noise in it scaled by ` +
      `sqrt(${maxRows} / ${n}) around the estimates, which use every row`
    : undefined;

  const metrics = byMetric((m) => {
    const v = value[m];
    const b = band[m];
    if (v === null || b.lower === null || b.upper === null) return { value: v, lower: null, upper: null };
    return { value: v, lower: clamp01(b.lower), upper: clamp01(b.upper) };
  });
  return { metrics, aucDraws, ...(sampleNote ? { sampleNote } : {}) };
}

/** A record of every estimated metric. */
export function byMetric<T>(f: (m: EstimatedMetric) => T): Record<EstimatedMetric, T> {
  return Object.fromEntries(ESTIMATED_METRICS.map((m) => [m, f(m)])) as Record<EstimatedMetric, T>;
}

/** A uniform sample of `k` of `n` rows without replacement, as a 0/1 mask (Knuth's selection sampling, one pass). */
function sampleRows(n: number, k: number, random: () => number): Uint8Array {
  const mask = new Uint8Array(n);
  let needed = k;
  for (let i = 0; i < n && needed > 0; i++) {
    if (random() * (n - i) < needed) {
      mask[i] = 1;
      needed--;
    }
  }
  return mask;
}

function clamp01(x: number): number {
  return Math.min(Math.max(x, 0), 1);
}
