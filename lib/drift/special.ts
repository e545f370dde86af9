/**
 * Special functions the drift tests need, in plain double precision: the normal tail, the
 * complementary error function, log-gamma and the chi-square survival function.
 *
 * Pure code. Each function names the scipy 1.17.1 function it stands in for; the structure
 * (which branch for which argument) follows scipy's xsf/cephes sources so the two agree to a few
 * ulps, but the approximations inside are our own series and continued fractions rather than
 * cephes' coefficient tables. test/drift-stats.test.ts checks them against scipy on a grid.
 */

const SQRT1_2 = Math.SQRT1_2;
const SQRT_PI = Math.sqrt(Math.PI);
/** 2**-53, cephes' MACHEP: the convergence tolerance of every series below. */
const MACHEP = 1.1102230246251565e-16;
/** log(DBL_MAX), cephes' MAXLOG. */
const MAXLOG = 7.09782712893384e2;
const MAXITER = 2000;

/**
 * exp(-x*x) without the rounding of x*x: x is split so the large part squares exactly.
 * Matters for erfc far in the tail, where an ulp of x*x is a relative error of x*x*eps.
 */
function expNegSquare(x: number): number {
  const hi = Math.round(x * 65536) / 65536; // at most ~22 significant bits for x < 64
  const lo = x - hi;
  return Math.exp(-hi * hi) * Math.exp(-(2 * hi + lo) * lo);
}

/** erf(x) for |x| <= 1 by the all-positive series 2/sqrt(pi) e^{-x^2} sum 2^n x^{2n+1}/(2n+1)!!. */
function erfSeries(x: number): number {
  const ax = Math.abs(x);
  const x2 = 2 * ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < MAXITER; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term <= MACHEP * sum) break;
  }
  const r = (2 / SQRT_PI) * expNegSquare(ax) * sum;
  return x < 0 ? -r : r;
}

/** erfc(x) for x >= 1 by Laplace's continued fraction, evaluated with the modified Lentz method. */
function erfcContinuedFraction(x: number): number {
  // erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...))))
  const tiny = 1e-300;
  let f = x;
  let c = f;
  let d = 0;
  // ~190 iterations at x = 1, fewer beyond.
  for (let i = 1; i < MAXITER; i++) {
    const a = i / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) <= MACHEP) break;
  }
  return expNegSquare(x) / (SQRT_PI * f);
}

/** Error function, as scipy.special.erf. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) <= 1) return erfSeries(x);
  const r = 1 - erfc(Math.abs(x));
  return x < 0 ? -r : r;
}

/** Complementary error function 1 - erf(x), accurate in the upper tail, as scipy.special.erfc. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 1) return 1 - erfSeries(x); // erf <= 0.843 here: no cancellation worth the name
  if (-ax * ax < -MAXLOG) return x < 0 ? 2 : 0; // underflow cut-off of cephes erfc
  const y = erfcContinuedFraction(ax);
  return x < 0 ? 2 - y : y;
}

/** Standard normal CDF, structured as cephes `ndtr` (erf near 0, erfc in the tails). */
export function normCdf(a: number): number {
  if (Number.isNaN(a)) return NaN;
  const x = a * SQRT1_2;
  const z = Math.abs(x);
  if (z < 1) return 0.5 + 0.5 * erf(x);
  const y = 0.5 * erfc(z);
  return x > 0 ? 1 - y : y;
}

/** Standard normal survival function P(Z > a), as scipy.stats.norm.sf (= ndtr(-a)). */
export function normSf(a: number): number {
  return normCdf(-a);
}

// Lanczos approximation, N=13, g=6.0246800407767296 (Boost's lanczos13m53, as used by
// scipy's cephes lanczos.h). Numerator and denominator in descending powers of x.
const LANCZOS_G = 6.024680040776729583740234375;
const LANCZOS_NUM = [
  0.006061842346248906525783753964555936883222, 0.5098416655656676188125178644804694509993, 19.51992788247617482847860966235652136208,
  449.9445569063168119446858607650988409623, 6955.999602515376140356310115515198987526, 75999.29304014542649875303443598909137092,
  601859.6171681098786670226533699352302507, 3481712.15498064590882071018964774556468, 14605578.08768506808414169982791359218571,
  43338889.32467613834773723740590533316085, 86363131.28813859145546927288977868422342, 103794043.1163445451906271053616070238554,
  56906521.91347156388090791033559122686859,
];
// x(x+1)...(x+11) expanded.
const LANCZOS_DEN = [1, 66, 1925, 32670, 357423, 2637558, 13339535, 45995730, 105258076, 150917976, 120543840, 39916800, 0];

/** Boost's lanczos_sum_expg_scaled(x): Gamma(x) = L(x) * ((x+g-0.5)/e)^(x-0.5). */
function lanczosSumExpgScaled(x: number): number {
  let num = 0;
  let den = 0;
  if (Math.abs(x) <= 1) {
    for (let i = 0; i < 13; i++) {
      num = num * x + LANCZOS_NUM[i];
      den = den * x + LANCZOS_DEN[i];
    }
  } else {
    // Horner in 1/x over reversed coefficients: stable for large x (cephes ratevl).
    const y = 1 / x;
    for (let i = 12; i >= 0; i--) {
      num = num * y + LANCZOS_NUM[i];
      den = den * y + LANCZOS_DEN[i];
    }
  }
  return num / den;
}

/**
 * log Gamma(x) for x > 0 (NaN otherwise). Absolute error ~ eps * x log x, which is what the
 * callers (exponents of probabilities) need.
 */
export function lgamma(x: number): number {
  if (!(x > 0)) return NaN;
  if (x === Infinity) return Infinity;
  return (x - 0.5) * (Math.log(x + LANCZOS_G - 0.5) - 1) + Math.log(lanczosSumExpgScaled(x));
}

/** log(1+x) - x without cancellation near 0 (cephes log1pmx). */
function log1pmx(x: number): number {
  if (Math.abs(x) < 0.5) {
    let xfac = x;
    let res = 0;
    for (let n = 2; n < MAXITER; n++) {
      xfac *= -x;
      const term = xfac / n;
      res += term;
      if (Math.abs(term) < MACHEP * Math.abs(res)) break;
    }
    return res;
  }
  return Math.log1p(x) - x;
}

/** x^a e^{-x} / Gamma(a), via Lanczos when a ~ x to avoid the cancellation (cephes igam_fac). */
function igamFac(a: number, x: number): number {
  if (Math.abs(a - x) > 0.4 * Math.abs(a)) {
    const ax = a * Math.log(x) - x - lgamma(a);
    if (ax < -MAXLOG) return 0;
    return Math.exp(ax);
  }
  const fac = a + LANCZOS_G - 0.5;
  let res = Math.sqrt(fac / Math.E) / lanczosSumExpgScaled(a);
  if (a < 200 && x < 200) {
    res *= Math.exp(a - x) * Math.pow(x / fac, a);
  } else {
    const num = x - a - LANCZOS_G + 0.5;
    res *= Math.exp(a * log1pmx(num / fac) + (x * (0.5 - LANCZOS_G)) / fac);
  }
  return res;
}

/** Upper regularized gamma Q(a, x) by Legendre's continued fraction (cephes igamc_continued_fraction). */
function igamcContinuedFraction(a: number, x: number): number {
  const ax = igamFac(a, x);
  if (ax === 0) return 0;
  const big = 4.503599627370496e15;
  const biginv = 2.22044604925031308085e-16;
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let ans = pkm1 / qkm1;
  for (let i = 0; i < MAXITER; i++) {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    let t: number;
    if (qk !== 0) {
      const r = pk / qk;
      t = Math.abs((ans - r) / r);
      ans = r;
    } else {
      t = 1;
    }
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (Math.abs(pk) > big) {
      pkm2 *= biginv;
      pkm1 *= biginv;
      qkm2 *= biginv;
      qkm1 *= biginv;
    }
    if (t <= MACHEP) break;
  }
  return ans * ax;
}

/** Lower regularized gamma P(a, x) by its power series (cephes igam_series). */
function igamSeries(a: number, x: number): number {
  const ax = igamFac(a, x);
  if (ax === 0) return 0;
  let r = a;
  let c = 1;
  let ans = 1;
  for (let i = 0; i < MAXITER; i++) {
    r += 1;
    c *= x / r;
    ans += c;
    if (c <= MACHEP * ans) break;
  }
  return (ans * ax) / a;
}

/** Q(a, x) for small x without cancellation (cephes igamc_series, DLMF 8.7.3). */
function igamcSeries(a: number, x: number): number {
  let fac = 1;
  let sum = 0;
  for (let n = 1; n < MAXITER; n++) {
    fac *= -x / n;
    const term = fac / (a + n);
    sum += term;
    if (Math.abs(term) <= MACHEP * Math.abs(sum)) break;
  }
  const logx = Math.log(x);
  const term = -Math.expm1(a * logx - lgamma(1 + a));
  return term - Math.exp(a * logx - lgamma(a)) * sum;
}

/**
 * Upper regularized incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), as scipy.special.gammaincc,
 * for a >= 0.5 (the chi-square use: a = df/2 with df >= 1).
 *
 * Branches as cephes `igamc`, except that where cephes switches to Temme's uniform asymptotic
 * series (20 < a, x ~ a) we keep the series / continued fraction; both converge there and agree
 * with scipy to ~1e-13 relative for a up to 500 (checked by the tests).
 */
export function gammaincc(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || x < 0 || a < 0) return NaN;
  if (a === 0) return x > 0 ? 0 : NaN;
  if (x === 0) return 1;
  if (a === Infinity) return x === Infinity ? NaN : 1;
  if (x === Infinity) return 0;
  if (x > 1.1) return x < a ? 1 - igamSeries(a, x) : igamcContinuedFraction(a, x);
  if (x <= 0.5) return -0.4 / Math.log(x) < a ? 1 - igamSeries(a, x) : igamcSeries(a, x);
  return x * 1.1 < a ? 1 - igamSeries(a, x) : igamcSeries(a, x);
}

/**
 * Chi-square survival function P(X > x) with `df` degrees of freedom, as scipy.stats.chi2.sf
 * (cephes chdtrc: gammaincc(df/2, x/2)). NaN for x < 0, as cephes.
 */
export function chi2Sf(x: number, df: number): number {
  if (x < 0) return NaN;
  return gammaincc(df / 2, x / 2);
}
