/**
 * The band around a window's estimates, for any kind of rows (binary or multiclass): quantiles
 * of the metrics over simulated label vectors, drawn on a seeded sample when the window is large.
 * Pure code.
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
}

/** The estimates with their bands, how many draws defined roc_auc, and a note when the band was drawn on a sample. */
export interface Banded {
  metrics: Record<EstimatedMetric, { value: number | null; lower: number | null; upper: number | null }>;
  aucDraws: number;
  sampleNote?: string;
}

/**
 * The estimates of every row with the `(1 ± confidence) / 2` quantiles of `draws` simulated
 * label vectors. Above `maxRows` rows the draws run on a seeded sample of `maxRows`, and its
 * half-widths, scaled by sqrt(maxRows / n) (metrics of a mean shrink as 1 / sqrt(rows)), are
 * placed around the full window's estimates. Bounds are clamped to [0, 1].
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
  let band: Record<EstimatedMetric, { lower: number | null; upper: number | null }>;
  let aucDraws: number;
  let sampleNote: string | undefined;

  if (n <= maxRows) {
    const drawn = rows.drawn(rows.full, draws, random);
    aucDraws = drawn.roc_auc.length;
    band = byMetric((m) => ({ lower: quantile(drawn[m], lower), upper: quantile(drawn[m], upper) }));
  } else {
    // Bounded cost: draws × maxRows at most. The noise of these metrics shrinks as
    // 1 / sqrt(rows), so the sample's half-widths, scaled, stand for the whole window's.
    const sample = rows.subset(sampleRows(n, maxRows, random));
    const center = rows.point(sample);
    const drawn = rows.drawn(sample, draws, random);
    aucDraws = drawn.roc_auc.length;
    const shrink = Math.sqrt(maxRows / n);
    band = byMetric((m) => {
      const lo = quantile(drawn[m], lower);
      const hi = quantile(drawn[m], upper);
      const v = value[m];
      const c = center[m];
      if (lo === null || hi === null || v === null || c === null) return { lower: null, upper: null };
      return { lower: v - Math.max(c - lo, 0) * shrink, upper: v + Math.max(hi - c, 0) * shrink };
    });
    sampleNote =
      `the band comes from a seeded sample of ${maxRows} of the ${n} rows, its half-widths scaled by ` +
      `sqrt(${maxRows} / ${n}) around the estimates, which use every row`;
  }

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
