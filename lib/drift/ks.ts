/**
 * Two-sample Kolmogorov–Smirnov test, two-sided: statistic and p-value as scipy 1.17.1's
 * `scipy.stats.ks_2samp(a, b, alternative='two-sided', method=...)`, including its choice of
 * method and its fallbacks. Pure code.
 *
 * Inputs must hold no NaN: the caller filters missing values first (scipy would propagate NaN
 * through its `nan_policy`; we do not re-create that). The inputs are not modified.
 *
 * Cost: one sorted copy per sample that is not already ascending (see sort.ts; none with `presorted`),
 * plus the p-value:
 *  - exact (both sizes <= 10000 under 'auto'): O(n) when n = m, else O(max(n,m) * D * min(n,m))
 *    (at most ~1e8 cheap steps, a fraction of a second);
 *  - asymptotic: usually O(1); up to ~1.5 s when round(nm/(n+m)) nears 1e6 and
 *    2.2 <= n D^2 < 370, where scipy's Smirnov sum itself runs O(n) terms (scipy takes ~1 s).
 */

import { kstwoSf } from './kstwo';
import { ascending } from './sort';

/** How to compute the p-value, as scipy's `method`: 'auto' is exact when both sizes are <= 10000. */
export type KsMethod = 'auto' | 'exact' | 'asymp';

/** What {@link ks2samp} returns: the fields of scipy's ks_2samp result. */
export interface KsResult {
  /** D = sup |F_a - F_b|, in [0, 1]; on the exact path rounded to the lattice h/lcm(n, m), as scipy. */
  statistic: number;
  /** Two-sided p-value in [0, 1]. */
  pValue: number;
  /** The method that produced `pValue` (after any fallback). */
  method: 'exact' | 'asymp';
  /** Value at which the ECDF difference attains D (scipy's statistic_location). */
  statisticLocation: number;
  /** +1 when F_a - F_b is largest at D, -1 when F_b - F_a is (scipy's statistic_sign). */
  statisticSign: 1 | -1;
  /** Set when an 'exact' request fell back to 'asymp'; scipy emits a RuntimeWarning then. */
  warning?: string;
}

/** scipy's MAX_AUTO_N: 'auto' tries the exact distribution when both sizes are at most this. */
export const KS_MAX_AUTO_N = 10000;
const INT32_MAX = 2147483647;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** numpy.round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Running arg-extreme with scipy's tie rule: argmax over concat(a, b) takes a's values first. */
class Extreme {
  value: number;
  private atA = NaN;
  private atB = NaN;
  constructor(private readonly sense: 1 | -1) {
    this.value = sense * -Infinity;
  }
  offer(diff: number, v: number, inA: boolean, inB: boolean): void {
    if (this.sense * diff > this.sense * this.value) {
      this.value = diff;
      this.atA = inA ? v : NaN;
      this.atB = inB ? v : NaN;
    } else if (diff === this.value) {
      if (inA && Number.isNaN(this.atA)) this.atA = v;
      if (inB && Number.isNaN(this.atB)) this.atB = v;
    }
  }
  get location(): number {
    return Number.isNaN(this.atA) ? this.atB : this.atA;
  }
}

/**
 * The ECDF difference extremes over the merged sample, from two sorted arrays: exactly the
 * `searchsorted(..., side='right') / n` differences scipy forms (same divisions, same subtraction).
 */
function ecdfExtremes(a: Float64Array, b: Float64Array) {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  const max = new Extreme(1);
  const min = new Extreme(-1);
  while (i < n1 || j < n2) {
    // Next distinct value of the merged sample; count everything <= it in both.
    const v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    const i0 = i;
    const j0 = j;
    while (i < n1 && a[i] <= v) i++;
    while (j < n2 && b[j] <= v) j++;
    const diff = i / n1 - j / n2;
    max.offer(diff, v, i > i0, j > j0);
    min.offer(diff, v, i > i0, j > j0);
  }
  return { max: max.value, min: min.value, maxAt: max.location, minAt: min.location };
}

/**
 * Pr(D_{n,n} >= h/n) for equal sample sizes (scipy _compute_prob_outside_square): the alternating
 * binomial sum, divided through by binom(2n, n) and evaluated Horner-style.
 */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/**
 * Proportion of lattice paths from (0,0) to (m,n) that leave the band |x/m - y/n| < h/lcm(m,n)
 * (scipy's pythran `_compute_outer_prob_inside_method`; Hodges 1958, with Viehmann's 2021
 * recursion that carries 1 - p directly so no large binomials appear).
 */
function probOutsideBand(m: number, n: number, g: number, h: number): number {
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  // One sliding window of one column of the path-count matrix is enough.
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const shift = minj - lastminj;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + shift] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    // Entries carried over beyond the new window are outside the band: proportion 1.
    if (lastlen > curlen) A.fill(1, maxj - minj, Math.min(maxj - minj + (lastlen - curlen), lenA));
  }
  return A[maxj - minj - 1];
}

/** scipy _attempt_exact_2kssamp, two-sided: the lattice-rounded D and its exact p-value. */
function attemptExact(n1: number, n2: number, g: number, d: number) {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dRounded = (h * 1.0) / lcm;
  if (h === 0) return { success: true, d: dRounded, prob: 1 };
  const prob = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
  // scipy gives up on overflow/invalid or a probability outside [0, 1].
  const success = Number.isFinite(prob) && prob >= 0 && prob <= 1;
  return { success, d: dRounded, prob };
}

/**
 * Two-sided two-sample KS test of `a` against `b` (scipy.stats.ks_2samp, alternative='two-sided').
 *
 * Method choice, as scipy: 'auto' (default) is 'exact' when max(n, m) <= 10000, else 'asymp'.
 * An explicit 'exact' whose lcm(n, m) would overflow int32 switches to 'asymp' up front; an exact
 * computation that fails switches to 'asymp' too; both set `warning`. The asymptotic p-value is
 * kstwo.sf(D, round(n*m/(n+m))).
 *
 * @param a first sample; no NaN (filter missing values first). Not modified.
 * @param b second sample; no NaN. Not modified.
 * @param options.presorted both samples are already ascending (e.g. shared with
 *   {@link wassersteinDistance}): skips the sorted copies. Unsorted input then gives wrong results.
 * @throws RangeError when either sample is empty (scipy raises ValueError).
 */
export function ks2samp(a: Float64Array, b: Float64Array, options: { method?: KsMethod; presorted?: boolean } = {}): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (Math.min(n1, n2) === 0) throw new RangeError('ks2samp: samples must not be empty');
  // Sorted copies (or the inputs themselves when ascending), so the caller's arrays stay as they were.
  const sa = options.presorted ? a : ascending(a);
  const sb = options.presorted ? b : ascending(b);

  const mode: KsMethod = options.method ?? 'auto';
  const { max, min, maxAt, minAt } = ecdfExtremes(sa, sb);
  const minS = Math.min(Math.max(-min, 0), 1);
  const maxS = max;
  let d: number;
  let location: number;
  let sign: 1 | -1;
  if (minS > maxS) {
    d = minS;
    location = minAt;
    sign = -1;
  } else {
    d = maxS;
    location = maxAt;
    sign = 1;
  }

  const p = ksPValue(d, n1, n2, mode);
  return { ...p, statisticLocation: location, statisticSign: sign };
}

/**
 * The p-value ks2samp gives a statistic `d` of samples of n1 and n2 values (its method choice,
 * exact distribution with the statistic put on its lattice, or kstwo.sf of the effective size),
 * for callers that know the statistic without the samples (sketches of them, say).
 */
export function ksPValue(
  d: number,
  n1: number,
  n2: number,
  method: KsMethod = 'auto',
): Pick<KsResult, 'statistic' | 'pValue' | 'method' | 'warning'> {
  let mode = method;
  const g = gcd(n1, n2);
  const n1g = n1 / g;
  const n2g = n2 / g;
  let warning: string | undefined;
  let prob = -Infinity;
  if (mode === 'auto') {
    mode = Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymp';
  } else if (mode === 'exact' && n1g >= INT32_MAX / n2g) {
    mode = 'asymp';
    warning = `Exact ks_2samp calculation not possible with samples sizes ${n1} and ${n2}. Switching to 'asymp'.`;
  }
  if (mode === 'exact') {
    const exact = attemptExact(n1, n2, g, d);
    d = exact.d;
    prob = exact.prob;
    if (!exact.success) {
      mode = 'asymp';
      warning = "ks_2samp: Exact calculation unsuccessful. Switching to method='asymp'.";
    }
  }
  if (mode === 'asymp') {
    const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
    const en = (m * n) / (m + n);
    prob = kstwoSf(d, roundHalfEven(en));
  }
  const pValue = Number.isNaN(prob) ? prob : Math.min(Math.max(prob, 0), 1);
  return { statistic: d, pValue, method: mode === 'exact' ? 'exact' : 'asymp', ...(warning ? { warning } : {}) };
}
