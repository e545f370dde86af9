/**
 * simple-statistics' normal CDF is a 0.01-step table, its chi-square test returns a boolean
 * from a fixed table and its error function is an approximation, so the drift tests stay our
 * own (scipy-exact); descriptive statistics use simple-statistics.
 *
 * Drift tests for one feature, matching Evidently's legacy stattests
 * (src/evidently/legacy/calculations/stattests/*.py) and the scipy 1.17.1 calls they make.
 * Pure code.
 *
 * Every test takes a cleaned reference and current sample (no missing values: numeric samples
 * finite only) and returns a {@link StattestResult}. Distances (psi, jensenshannon, wasserstein)
 * report `statistic` and a null `pValue`; hypothesis tests (ks, chisquare, z) report both.
 * Data edge cases give defined results, never NaN and never a throw:
 *  - an empty window: statistic and pValue null, not drifted, `note` says which window;
 *  - a constant column or a single category: the test's natural value (KS D = 0, p = 1; a
 *    single-category chi-square is reported as statistic 0, p = 1 with a note);
 *  - a category only in current: PSI fills the zero share, Jensen–Shannon handles it natively,
 *    chi-square is undefined and falls back to Jensen–Shannon (noted).
 * Asking for a test that cannot take the feature kind (ks or wasserstein on strings) throws
 * {@link InvalidInputError}: that is a configuration error, not a data edge case.
 */

import type { FeatureKind } from '../feature-kind';
import type { EffectMeasure } from './effect-floor';
import { InvalidInputError } from '../errors';
import { binnedShares, valueCounts, valueShares, unionKeys, type CountedSample, type Sample, type CategoryKey } from './binning';
import { ks2samp } from './ks';
import { ascending } from './sort';
import { chi2Sf, normSf } from './special';
import { STATTEST_KINDS, type StattestName } from './stattest-names';

// The names live apart so the pipeline schema can use them without this engine.

/** Evidently's default thresholds (StatTest.default_threshold: 0.05 unless the test sets one). */
export const DEFAULT_THRESHOLDS: Readonly<Record<StattestName, number>> = Object.freeze({
  psi: 0.1,
  jensenshannon: 0.1,
  wasserstein: 0.1,
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
});

/** What one drift test found for one feature. */
export interface StattestResult {
  /** The test that produced the numbers (after any fallback). */
  method: StattestName;
  /** Test statistic or distance; null when undefined (an empty window). Unitless. */
  statistic: number | null;
  /** p-value for ks, chisquare and z; null for distances and empty windows. */
  pValue: number | null;
  /** Threshold applied: a distance cut-off (drift when statistic >= it) or a significance level. */
  threshold: number;
  drifted: boolean;
  /** Why a value is special: empty window, fallback, single category... */
  note?: string;
  /**
   * The size of the difference, for the hypothesis tests whose statistic is not one already:
   * Cohen's w for chisquare, Cohen's h for z. (The KS statistic D is its own effect size.) A
   * tiny p-value on a large window says only that a difference exists; this says how large it is.
   */
  effect?: { measure: EffectMeasure; value: number; floor?: number };
  /**
   * Set when an effect-size floor was applied (lib/drift/effect-floor.ts): the test's own
   * verdict before the floor; `drifted` is then significant and at least the floor.
   */
  significant?: boolean;
}

/** How to run a drift test on one feature. */
export interface StattestOptions {
  /** Feature kind; decides binning for psi and jensenshannon. */
  kind: FeatureKind;
  /**
   * Drift threshold.
   * @default the test's entry in {@link DEFAULT_THRESHOLDS}
   */
  threshold?: number;
  /**
   * Numeric samples are already ascending (the built-in sort's order): ks and wasserstein
   * ({@link ORDERED_TESTS}) then neither sort nor check the order (without it, an ascending
   * sample is recognised in one pass and not copied). Other tests ignore it.
   */
  presorted?: boolean;
}

/**
 * The tests that read numeric samples in sorted order: a caller running several of them on one
 * column sorts each window once and passes `presorted` (detectDrift does).
 */
export const ORDERED_TESTS: ReadonlySet<StattestName> = new Set<StattestName>(['ks', 'wasserstein']);

/** Floor on the reference standard deviation that normalises the Wasserstein distance (Evidently). */
export const WASSERSTEIN_MIN_STD = 0.001;
/** Smallest normal double (np.finfo(np.float64).tiny): below it scipy's rel_entr takes logs first. */
const MIN_NORMAL = 2.2250738585072014e-308;
/** Evidently picks tests for "small" data when the reference has at most this many rows. */
export const SMALL_REFERENCE_ROWS = 1000;

/**
 * Evidently's default test (`_get_default_stattest` in
 * src/evidently/legacy/calculations/stattests/registry.py):
 *  - reference <= 1000 rows: numeric -> ks, but with <= 5 distinct values chisquare (3..5) or
 *    z (<= 2); categorical -> chisquare, or z with <= 2 distinct values;
 *  - reference > 1000 rows: numeric -> wasserstein, or jensenshannon with <= 5 distinct values;
 *    categorical -> jensenshannon.
 *
 * @param referenceSize reference rows after missing values are dropped (Evidently drops them first).
 * @param uniqueCount distinct non-missing values in reference and current together
 *   (Evidently: `pd.concat([reference, current]).nunique()`).
 */
export function chooseStattest(input: { kind: FeatureKind; referenceSize: number; uniqueCount: number }): StattestName {
  const { kind, referenceSize, uniqueCount } = input;
  if (referenceSize <= SMALL_REFERENCE_ROWS) {
    if (kind === 'numeric' && uniqueCount > 5) return 'ks';
    return uniqueCount > 2 ? 'chisquare' : 'z';
  }
  if (kind === 'numeric') return uniqueCount <= 5 ? 'jensenshannon' : 'wasserstein';
  return 'jensenshannon';
}

function thresholdOf(method: StattestName, options: StattestOptions): number {
  return options.threshold ?? DEFAULT_THRESHOLDS[method];
}

/** The defined result for an empty window, or null when both windows have data. */
function emptyWindow(method: StattestName, referenceSize: number, currentSize: number, threshold: number): StattestResult | null {
  if (referenceSize > 0 && currentSize > 0) return null;
  const which =
    referenceSize === 0 && currentSize === 0
      ? 'empty reference and current windows'
      : referenceSize === 0
        ? 'empty reference window'
        : 'empty current window';
  return { method, statistic: null, pValue: null, threshold, drifted: false, note: which };
}

function requireKind(method: StattestName, kind: FeatureKind, reference?: Sample, current?: Sample): void {
  if (!STATTEST_KINDS[method].includes(kind)) {
    throw new InvalidInputError(`drift test '${method}' does not apply to ${kind} features`, { method, kind });
  }
  if (reference && current && kind === 'numeric' && !(reference instanceof Float64Array && current instanceof Float64Array)) {
    throw new InvalidInputError(`drift test '${method}': numeric samples must be Float64Array`, { method });
  }
}

/**
 * Population Stability Index on binned shares with zeros filled (Evidently `_psi`):
 * sum (r - c) ln(r / c). Drift when PSI >= threshold (default 0.1). Unitless, >= 0.
 */
export function psiTest(reference: Sample, current: Sample, options: StattestOptions): StattestResult {
  const threshold = thresholdOf('psi', options);
  requireKind('psi', options.kind, reference, current);
  const empty = emptyWindow('psi', reference.length, current.length, threshold);
  if (empty) return empty;
  const { reference: r, current: c } = binnedShares(reference, current, options.kind, { fillZeroes: true });
  return psiResult(r, c, threshold);
}

/** {@link psiTest} on counts: one bin per value (what a categorical feature gets). */
function psiCounted(reference: CountedSample, current: CountedSample, options: StattestOptions): StattestResult {
  const threshold = thresholdOf('psi', options);
  const empty = emptyWindow('psi', reference.size, current.size, threshold);
  if (empty) return empty;
  const { reference: r, current: c } = valueShares(reference, current, { fillZeroes: true });
  return psiResult(r, c, threshold);
}

function psiResult(r: Float64Array, c: Float64Array, threshold: number): StattestResult {
  const terms = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) terms[i] = (r[i] - c[i]) * Math.log(r[i] / c[i]);
  // Summed in np.sum's order, as Evidently's np.sum over the terms.
  const psi = pairwiseSum(terms);
  return { method: 'psi', statistic: psi, pValue: null, threshold, drifted: psi >= threshold };
}

/**
 * Jensen–Shannon distance with natural log between two share vectors, as
 * scipy.spatial.distance.jensenshannon(p, q): both normalised to sum 1, sqrt((KL(p||m) + KL(q||m)) / 2).
 * In [0, sqrt(ln 2)]. A rounding-negative divergence is clamped to 0 (scipy would return NaN).
 */
export function jensenShannonDistance(p: Float64Array, q: Float64Array): number {
  const sp = pairwiseSum(p);
  const sq = pairwiseSum(q);
  const left = new Float64Array(p.length);
  const right = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] / sp;
    const qi = q[i] / sq;
    const m = (pi + qi) / 2.0;
    left[i] = relEntr(pi, m);
    right[i] = relEntr(qi, m);
  }
  return Math.sqrt(Math.max((pairwiseSum(left) + pairwiseSum(right)) / 2.0, 0));
}

/**
 * scipy.special.rel_entr(x, y) for x >= 0, y > 0: x ln(x/y), 0 when x = 0. Like scipy (xsf), it
 * takes log1p((x - y) / y) when 0.5 < x/y < 2: for nearly equal shares ln(x/y) alone loses digits.
 */
function relEntr(x: number, y: number): number {
  if (!(x > 0)) return 0;
  const ratio = x / y;
  if (ratio > 0.5 && ratio < 2) return x * Math.log1p((x - y) / y);
  if (ratio > MIN_NORMAL && ratio < Infinity) return x * Math.log(ratio);
  return x * (Math.log(x) - Math.log(y)); // the ratio overflowed or went subnormal
}

/**
 * np.sum of a float64 vector, in numpy's order (pairwise_sum in umath loops): plain below 8
 * values, eight interleaved partial sums up to 128, halves above. The same order gives the same
 * rounding as scipy's sums over the shares.
 */
export function pairwiseSum(a: Float64Array, start = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = start; i < start + n; i++) res += a[i];
    return res;
  }
  if (n <= 128) {
    const r = a.slice(start, start + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/**
 * Jensen–Shannon distance on binned shares without zero filling (Evidently `_jensenshannon`).
 * Drift when distance >= threshold (default 0.1).
 */
export function jensenShannonTest(reference: Sample, current: Sample, options: StattestOptions): StattestResult {
  const threshold = thresholdOf('jensenshannon', options);
  requireKind('jensenshannon', options.kind, reference, current);
  const empty = emptyWindow('jensenshannon', reference.length, current.length, threshold);
  if (empty) return empty;
  const { reference: r, current: c } = binnedShares(reference, current, options.kind, { fillZeroes: false });
  return jensenShannonResult(r, c, threshold);
}

/** {@link jensenShannonTest} on counts: one bin per value (what a categorical feature gets). */
function jensenShannonCounted(reference: CountedSample, current: CountedSample, options: StattestOptions): StattestResult {
  const threshold = thresholdOf('jensenshannon', options);
  const empty = emptyWindow('jensenshannon', reference.size, current.size, threshold);
  if (empty) return empty;
  const { reference: r, current: c } = valueShares(reference, current, { fillZeroes: false });
  return jensenShannonResult(r, c, threshold);
}

function jensenShannonResult(r: Float64Array, c: Float64Array, threshold: number): StattestResult {
  const js = jensenShannonDistance(r, c);
  return { method: 'jensenshannon', statistic: js, pValue: null, threshold, drifted: js >= threshold };
}

/** Neumaier-compensated running sum: the reductions below stay within an ulp or two of exact. */
class Sum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    // Once the sum overflows the correction is meaningless (Inf - Inf): keep the plain sum.
    if (Number.isFinite(t)) this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return Number.isFinite(this.s) ? this.s + this.c : this.s;
  }
}

/** Population standard deviation (ddof = 0), two-pass: what Evidently's np.std(pd.Series) returns. */
export function populationStd(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const sum = new Sum();
  for (let i = 0; i < n; i++) sum.add(values[i]);
  const mean = sum.value / n;
  const sq = new Sum();
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    sq.add(d * d);
  }
  return Math.sqrt(sq.value / n);
}

/**
 * First Wasserstein distance between two empirical distributions, as
 * scipy.stats.wasserstein_distance(u, v): the integral of |F_u - F_v| over the merged support.
 * Units of the data. Inputs non-empty, finite; not modified.
 *
 * @param options.presorted both inputs are already ascending: skips the sorted copies.
 */
export function wassersteinDistance(u: Float64Array, v: Float64Array, options: { presorted?: boolean } = {}): number {
  const a = options.presorted ? u : ascending(u);
  const b = options.presorted ? v : ascending(v);
  const nu = a.length;
  const nv = b.length;
  let i = 0;
  let j = 0;
  // The Neumaier sum of {@link Sum}, inlined (the same operations in the same order).
  let sum = 0;
  let compensation = 0;
  let prev = a[0] <= b[0] ? a[0] : b[0];
  let cdfDiff = 0;
  while (i < nu || j < nv) {
    const x = j >= nv || (i < nu && a[i] <= b[j]) ? a[i] : b[j];
    const term = cdfDiff * (x - prev);
    const t = sum + term;
    if (Number.isFinite(t)) compensation += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
    sum = t;
    while (i < nu && a[i] <= x) i++;
    while (j < nv && b[j] <= x) j++;
    cdfDiff = Math.abs(i / nu - j / nv);
    prev = x;
  }
  return Number.isFinite(sum) ? sum + compensation : sum;
}

/**
 * Wasserstein distance normed by the reference's population std, floored at 0.001
 * (Evidently `_wasserstein_distance_norm`). Drift when >= threshold (default 0.1). Numeric only.
 */
export function wassersteinTest(reference: Sample, current: Sample, options: StattestOptions): StattestResult {
  const threshold = thresholdOf('wasserstein', options);
  requireKind('wasserstein', options.kind, reference, current);
  const empty = emptyWindow('wasserstein', reference.length, current.length, threshold);
  if (empty) return empty;
  const ref = reference as Float64Array;
  const norm = Math.max(populationStd(ref), WASSERSTEIN_MIN_STD);
  const value = wassersteinDistance(ref, current as Float64Array, { presorted: options.presorted }) / norm;
  return { method: 'wasserstein', statistic: value, pValue: null, threshold, drifted: value >= threshold };
}

/**
 * Two-sample two-sided KS test (Evidently `_ks_stat_test`: scipy ks_2samp, method 'auto').
 * statistic = D, pValue = p; drift when p <= threshold (default 0.05; Evidently uses <= here,
 * unlike chisquare and z). Numeric only.
 */
export function ksTest(reference: Sample, current: Sample, options: StattestOptions): StattestResult {
  const threshold = thresholdOf('ks', options);
  requireKind('ks', options.kind, reference, current);
  const empty = emptyWindow('ks', reference.length, current.length, threshold);
  if (empty) return empty;
  const r = ks2samp(reference as Float64Array, current as Float64Array, { presorted: options.presorted });
  return {
    method: 'ks',
    statistic: r.statistic,
    pValue: r.pValue,
    threshold,
    drifted: r.pValue <= threshold,
    ...(r.warning ? { note: r.warning } : {}),
  };
}

/**
 * Pearson chi-square of current counts against reference proportions scaled to the current size
 * (Evidently `_chi_stat_test`: scipy.stats.chisquare(f_obs, f_exp = ref_count * n_cur / n_ref)),
 * over the union of categories, df = categories - 1. Drift when p < threshold (default 0.05).
 *
 * Undefined cases: a category absent from the reference (expected count 0; scipy gives an
 * infinite statistic and p = 0) falls back to {@link jensenShannonTest} with its default
 * threshold; a single category (df = 0; scipy gives NaN or 0) is statistic 0, p = 1.
 */
export function chiSquareTest(reference: Sample, current: Sample, options: StattestOptions): StattestResult {
  requireKind('chisquare', options.kind, reference, current);
  // The fallback bins the samples themselves: a numeric sample may get histogram bins.
  const fallback = () => jensenShannonTest(reference, current, { kind: options.kind });
  return chiSquareCounted(countedOf(reference), countedOf(current), options, fallback);
}

function chiSquareCounted(
  reference: CountedSample,
  current: CountedSample,
  options: StattestOptions,
  fallback: () => StattestResult,
): StattestResult {
  const threshold = thresholdOf('chisquare', options);
  const empty = emptyWindow('chisquare', reference.size, current.size, threshold);
  if (empty) return empty;
  const refCounts = reference.counts;
  const curCounts = current.counts;
  const keys = unionKeys(refCounts, curCounts);
  const unseen = keys.filter((k) => !refCounts.has(k));
  if (unseen.length > 0) {
    return {
      ...fallback(),
      note:
        `chisquare undefined: ${unseen.length} categor${unseen.length === 1 ? 'y' : 'ies'} absent from reference ` +
        `(${unseen.slice(0, 3).map(String).join(', ')}${unseen.length > 3 ? ', ...' : ''}); fell back to jensenshannon`,
    };
  }
  if (keys.length === 1) {
    return {
      method: 'chisquare',
      statistic: 0,
      pValue: 1,
      threshold,
      drifted: false,
      note: 'single category in both windows: chi-square has 0 degrees of freedom',
    };
  }
  const kNorm = current.size / reference.size;
  const terms = new Float64Array(keys.length);
  keys.forEach((k, i) => {
    const exp = (refCounts.get(k) as number) * kNorm;
    const d = (curCounts.get(k) ?? 0) - exp;
    terms[i] = (d * d) / exp;
  });
  // Summed in np.sum's order, as scipy sums the terms: the statistic is large (1e5 at 5e6 rows),
  // where a different order is already 1-2 ulp = 3e-11 away.
  const stat = pairwiseSum(terms);
  const p = chi2Sf(stat, keys.length - 1);
  // Cohen's w of a goodness-of-fit test: sqrt(chi² / n), 0.1 small, 0.3 medium, 0.5 large.
  const effect = { measure: 'cohens_w' as const, value: Math.sqrt(stat / current.size) };
  return { method: 'chisquare', statistic: stat, pValue: p, threshold, drifted: p < threshold, effect };
}

/**
 * Two-proportion z-test (Evidently `_z_stat_test`): the first category in sorted order against
 * all others, pooled variance; two-sided p = 2 * P(Z > |z|) from the normal tail (Evidently writes
 * 2 * (1 - cdf), which rounds to 0 below ~1e-16; same decisions). Drift when p < threshold
 * (default 0.05). Both windows holding one and the same single value: z = 0, p = 1.
 */
export function zTest(reference: Sample, current: Sample, options: StattestOptions): StattestResult {
  requireKind('z', options.kind, reference, current);
  return zCounted(countedOf(reference), countedOf(current), options);
}

function zCounted(reference: CountedSample, current: CountedSample, options: StattestOptions): StattestResult {
  const threshold = thresholdOf('z', options);
  const empty = emptyWindow('z', reference.size, current.size, threshold);
  if (empty) return empty;
  const refCounts = reference.counts;
  const curCounts = current.counts;
  const keys = unionKeys(refCounts, curCounts);
  if (keys.length === 1) {
    return { method: 'z', statistic: 0, pValue: 1, threshold, drifted: false, note: 'single value in both windows' };
  }
  const first: CategoryKey = keys[0];
  const n1 = reference.size;
  const n2 = current.size;
  // Same operations, same order, as Evidently's proportions_diff_z_stat_ind.
  const p1 = (n1 - (refCounts.get(first) ?? 0)) / n1;
  const p2 = (n2 - (curCounts.get(first) ?? 0)) / n2;
  const P = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2));
  const p = 2 * normSf(Math.abs(z));
  // Cohen's h of two proportions: |2 asin √p1 − 2 asin √p2|, 0.2 small, 0.5 medium, 0.8 large.
  const h = Math.abs(2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2)));
  return {
    method: 'z',
    statistic: z,
    pValue: p,
    threshold,
    drifted: p < threshold,
    effect: { measure: 'cohens_h', value: h },
    ...(keys.length > 2 ? { note: `${keys.length} categories: '${String(first)}' tested against all others` } : {}),
  };
}

function countedOf(sample: Sample): CountedSample {
  return { counts: valueCounts(sample), size: sample.length };
}

const TESTS: Readonly<Record<StattestName, (r: Sample, c: Sample, o: StattestOptions) => StattestResult>> = {
  psi: psiTest,
  jensenshannon: jensenShannonTest,
  wasserstein: wassersteinTest,
  ks: ksTest,
  chisquare: chiSquareTest,
  z: zTest,
};

/** Run the named test on cleaned samples. */
export function runStattest(method: StattestName, reference: Sample, current: Sample, options: StattestOptions): StattestResult {
  return TESTS[method](reference, current, options);
}

/**
 * Run the named test on categorical samples given as counts (one counting pass per window,
 * shared by every test; the labels themselves are not needed). Same results as
 * {@link runStattest} on the labels. ks and wasserstein do not take categorical features.
 */
export function runCountedStattest(
  method: StattestName,
  reference: CountedSample,
  current: CountedSample,
  options: { threshold?: number },
): StattestResult {
  const opts: StattestOptions = { ...options, kind: 'categorical' };
  requireKind(method, 'categorical');
  switch (method) {
    case 'psi':
      return psiCounted(reference, current, opts);
    case 'jensenshannon':
      return jensenShannonCounted(reference, current, opts);
    case 'chisquare':
      return chiSquareCounted(reference, current, opts, () => jensenShannonCounted(reference, current, { kind: 'categorical' }));
    default:
      return zCounted(reference, current, opts);
  }
}
