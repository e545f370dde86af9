/**
 * Binning of a reference and a current sample into shares per bin, as Evidently's
 * `get_binned_data` (src/evidently/legacy/calculations/stattests/utils.py), which PSI and
 * Jensen–Shannon run on. Pure code.
 *
 * Evidently's rule:
 *  - numeric feature with more than 20 distinct reference values: bin edges are
 *    `np.histogram_bin_edges(concat(reference, current), bins='sturges')` (equal-width bins over the
 *    combined range) and each sample is counted with `np.histogram(sample, edges)`;
 *  - otherwise (categorical, or numeric with <= 20 distinct reference values): one bin per
 *    value in the union of both samples' values.
 * Shares are count / sample size. With `fillZeroes` (Evidently's `feel_zeroes`, on for PSI, off
 * for Jensen–Shannon) zero shares are replaced per sample: by 0.0001, or by (smallest non-zero
 * share) / 1e6 when that smallest share is itself <= 0.0001.
 */

/** Numeric sample: finite values only (missing values removed by the caller). */
export type NumericSample = Float64Array;
/** Categorical sample: category labels, missing values removed by the caller. */
export type CategoricalSample = readonly string[];
/** A cleaned sample of either kind. */
export type Sample = NumericSample | CategoricalSample;
import { countBelow } from './sorted-search';
import type { FeatureKind } from '../feature-kind';
/** A value counted as its own bin: a number or a category label. */
export type CategoryKey = number | string;

/** A sample reduced to its value counts: all the categorical tests need. */
export interface CountedSample {
  /** Count per distinct value (-0 and 0 one key), in first-seen order. */
  counts: Map<CategoryKey, number>;
  /** Values counted: the sum of `counts`. */
  size: number;
}

/** Evidently bins a numeric feature only when its reference has more distinct values than this. */
export const MAX_DISTINCT_FOR_VALUE_BINS = 20;
/** Evidently's replacement for a zero share (PSI only). */
export const ZERO_SHARE = 0.0001;

/** The reference and current samples as shares per bin, what PSI and Jensen–Shannon compare. */
export interface BinnedShares {
  /** 'histogram': Sturges bins over the combined range; 'values': one bin per distinct value. */
  mode: 'histogram' | 'values';
  /** Histogram mode: the bins + 1 edges, ascending (last bin closed on the right). */
  edges?: Float64Array;
  /** Values mode: the bin labels, sorted (numbers ascending, strings by code point). */
  keys?: CategoryKey[];
  /** Share of the reference sample in each bin (count / reference size), zeros filled if asked. */
  reference: Float64Array;
  /** Share of the current sample in each bin (count / current size), zeros filled if asked. */
  current: Float64Array;
}

/** Number of distinct values (NaN never counted; -0 and 0 are one value), stopping at `cap` + 1. */
export function countDistinct(values: Sample, cap = Infinity): number {
  const seen = new Set<CategoryKey>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isNaN(v)) continue;
    seen.add(v);
    if (seen.size > cap) break;
  }
  return seen.size;
}

/** Distinct values of the union of two samples (same rules as {@link countDistinct}). */
export function countDistinctUnion(a: Sample, b: Sample, cap = Infinity): number {
  const seen = new Set<CategoryKey>();
  for (const values of [a, b]) {
    for (let i = 0; i < values.length && seen.size <= cap; i++) {
      const v = values[i];
      if (typeof v === 'number' && Number.isNaN(v)) continue;
      seen.add(v);
    }
  }
  return seen.size;
}

/** Count of each value; -0 and 0 share a key, as in pandas' value_counts. */
export function valueCounts(values: Sample): Map<CategoryKey, number> {
  const counter = new Counter();
  for (let i = 0; i < values.length; i++) counter.add(values[i]);
  return counter.counts();
}

/**
 * Counts values with one hash lookup per value (a Map get + set would be two): the map holds
 * each key's slot in a plain array of counts.
 */
export class Counter {
  private readonly slots = new Map<CategoryKey, number>();
  private readonly tally: number[] = [];
  add(v: CategoryKey): void {
    const slot = this.slots.get(v);
    if (slot === undefined) {
      this.slots.set(v, this.tally.length);
      this.tally.push(1);
    } else {
      this.tally[slot]++;
    }
  }
  /** Count per key, in first-seen order. */
  counts(): Map<CategoryKey, number> {
    const out = new Map<CategoryKey, number>();
    for (const [k, slot] of this.slots) out.set(k, this.tally[slot]);
    return out;
  }
}

/** Python's `sorted` order for one kind of key: numbers ascending, strings by code point. */
export function compareKeys(a: CategoryKey, b: CategoryKey): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  // Code-point order (not UTF-16 units), as Python compares str.
  const ia = sa[Symbol.iterator]();
  const ib = sb[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done ? (cb.done ? 0 : -1) : 1;
    const d = (ca.value.codePointAt(0) as number) - (cb.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}

/** Sorted union of the keys of two count maps. */
export function unionKeys(a: Map<CategoryKey, number>, b: Map<CategoryKey, number>): CategoryKey[] {
  const keys = new Set<CategoryKey>(a.keys());
  for (const k of b.keys()) keys.add(k);
  return [...keys].sort(compareKeys);
}

/**
 * `np.histogram_bin_edges(concat(a, b), bins='sturges')` for finite samples: width
 * ptp / (log2(N) + 1), ceil(range / width) bins, edges by `np.linspace` (i * step + first, last
 * edge exactly the maximum). A constant sample gets one bin [v - 0.5, v + 0.5]. `sorted`: both samples
 * are ascending, so their ends are the extremes.
 */
export function sturgesEdges(a: Float64Array, b: Float64Array, sorted = false): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (const values of [a, b]) {
    if (sorted) {
      // Ascending: the ends are the extremes.
      if (values.length === 0) continue;
      min = Math.min(min, values[0]);
      max = Math.max(max, values[values.length - 1]);
      continue;
    }
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return sturgesEdgesOfRange(min, max, a.length + b.length);
}

/**
 * {@link sturgesEdges} of samples that together hold `size` values from `min` to `max` (the
 * edges depend on nothing else): for callers that know a sample's range and size but not its
 * values (a sketch of it).
 */
export function sturgesEdgesOfRange(min: number, max: number, size: number): Float64Array {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = (max - min) / (Math.log2(size) + 1);
  // numpy treats a zero width as "one bin"; the float64 column never takes the integer-dtype floor.
  const bins = width ? Math.ceil((last - first) / width) : 1;
  const delta = last - first;
  const step = delta / bins;
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = step === 0 ? (i / bins) * delta + first : i * step + first;
  edges[bins] = last;
  return edges;
}

/**
 * `np.histogram(values, edges)[0]`: bins [e_i, e_{i+1}) except the last, which is closed;
 * values outside [e_0, e_last] are not counted.
 *
 * The edges come from {@link sturgesEdges}, equally spaced up to rounding, so the bin is first
 * guessed arithmetically, as numpy's uniform-bin path does, and then moved until
 * e_k <= v < e_{k+1} holds against the edges themselves: the counts are exactly those of the
 * edge comparisons (numpy's searchsorted path, which Evidently's explicit edges take), for any
 * ascending edges. A guess off by more than one only costs steps.
 */
export function histogramCounts(values: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  const first = edges[0];
  const last = edges[bins];
  const scale = bins / (last - first);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= first && v <= last)) continue;
    const guess = Math.trunc((v - first) * scale);
    // NaN when the range overflows a double (scale 0, v - first infinite): start from bin 0.
    let k = guess >= 0 ? Math.min(guess, bins - 1) : 0;
    // Largest k with edges[k] <= v; the last bin also takes v = last.
    while (k > 0 && v < edges[k]) k--;
    while (k < bins - 1 && v >= edges[k + 1]) k++;
    counts[k]++;
  }
  return counts;
}

/**
 * {@link histogramCounts} of ascending values: the same counts, found by a binary search per edge
 * instead of a step per value.
 */
export function sortedHistogramCounts(sorted: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  let from = countBelow(sorted, edges[0]);
  for (let k = 0; k < bins; k++) {
    // Each bin is [e_k, e_k+1), the last one closed.
    const to = k === bins - 1 ? countBelow(sorted, edges[bins], true) : countBelow(sorted, edges[k + 1]);
    counts[k] = Math.max(0, to - from);
    from = Math.max(from, to);
  }
  return counts;
}

/**
 * Evidently's zero replacement for one share vector (returns a new array): each 0 becomes 0.0001,
 * or min(non-zero share) / 1e6 when that minimum is <= 0.0001. All-zero input is returned as is.
 */
export function fillZeroShares(shares: Float64Array): Float64Array {
  let minNonZero = Infinity;
  for (let i = 0; i < shares.length; i++) if (shares[i] !== 0 && shares[i] < minNonZero) minNonZero = shares[i];
  const out = Float64Array.from(shares);
  if (minNonZero === Infinity) return out;
  const fill = minNonZero <= ZERO_SHARE ? minNonZero / 10 ** 6 : ZERO_SHARE;
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = fill;
  return out;
}

function edgesIncrease(edges: Float64Array): boolean {
  for (let i = 1; i < edges.length; i++) if (!(edges[i - 1] < edges[i])) return false;
  return true;
}

/**
 * Reference and current shares per bin, as Evidently's `get_binned_data`. Both samples must be
 * non-empty and hold no missing values (numeric: finite numbers only).
 *
 * @param kind 'numeric' samples are Float64Array; 'categorical' samples are string arrays
 *   (a numeric sample may also be binned as categorical: one bin per value).
 * @param options.fillZeroes replace zero shares as Evidently's `feel_zeroes` (default true; PSI
 *   uses it, Jensen–Shannon passes false).
 */
export function binnedShares(reference: Sample, current: Sample, kind: FeatureKind, options: { fillZeroes?: boolean } = {}): BinnedShares {
  const fillZeroes = options.fillZeroes ?? true;
  const finish = (b: BinnedShares): BinnedShares =>
    fillZeroes ? { ...b, reference: fillZeroShares(b.reference), current: fillZeroShares(b.current) } : b;

  if (
    kind === 'numeric' &&
    reference instanceof Float64Array &&
    current instanceof Float64Array &&
    countDistinct(reference, MAX_DISTINCT_FOR_VALUE_BINS) > MAX_DISTINCT_FOR_VALUE_BINS
  ) {
    const edges = sturgesEdges(reference, current);
    // numpy raises on edges that do not increase (a range too narrow for its float spacing);
    // value bins are the defined answer we give instead.
    if (edgesIncrease(edges)) {
      const ref = histogramCounts(reference, edges);
      const cur = histogramCounts(current, edges);
      for (let i = 0; i < ref.length; i++) {
        ref[i] /= reference.length;
        cur[i] /= current.length;
      }
      return finish({ mode: 'histogram', edges, reference: ref, current: cur });
    }
  }

  const counted = (s: Sample): CountedSample => ({ counts: valueCounts(s), size: s.length });
  return valueShares(counted(reference), counted(current), options);
}

/**
 * {@link binnedShares} in 'values' mode from counts: one bin per value of the union, shares
 * count / size, zeros filled as asked. Both samples non-empty.
 */
export function valueShares(reference: CountedSample, current: CountedSample, options: { fillZeroes?: boolean } = {}): BinnedShares {
  const keys = unionKeys(reference.counts, current.counts);
  let ref: Float64Array = new Float64Array(keys.length);
  let cur: Float64Array = new Float64Array(keys.length);
  keys.forEach((k, i) => {
    ref[i] = (reference.counts.get(k) ?? 0) / reference.size;
    cur[i] = (current.counts.get(k) ?? 0) / current.size;
  });
  if (options.fillZeroes ?? true) {
    ref = fillZeroShares(ref);
    cur = fillZeroShares(cur);
  }
  return { mode: 'values', keys, reference: ref, current: cur };
}
