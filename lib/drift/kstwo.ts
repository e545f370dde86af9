/**
 * The two-sided one-sample Kolmogorov–Smirnov distribution, D_n = sup |F_n - F|: a port of
 * scipy 1.17.1's `scipy.stats._ksstats._kolmogn` (the pure-Python algorithm behind
 * `scipy.stats.kstwo`), which follows Simard & L'Ecuyer (2011) in choosing among
 *   - Ruben–Gambino closed forms at the ends of the support,
 *   - the Durbin matrix (Marsaglia–Tsang–Wang) for small n*x,
 *   - Pomeranz's recursion (n <= 140),
 *   - Pelz–Good's asymptotic series (large n, small x),
 *   - 2 * smirnov(n, x) (Miller) for large x.
 * `ks_2samp` uses `kstwo.sf(d, round(m*n/(m+n)))` as its asymptotic p-value. Pure code.
 */

import { ldexp, smirnovSf } from './smirnov';

const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const MIN_LOG = -708;
const SQRT3 = Math.sqrt(3);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
/** Stirling-series coefficients B_{2j}/(2j)/(2j-1), j = 8..1 (as scipy's _STIRLING_COEFFS). */
const STIRLING_COEFFS = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4, -5.952380952380952381e-4,
  7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

function clip01(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}

function select(cdfProb: number, sfProb: number, cdf: boolean): number {
  return clip01(cdf ? cdfProb : sfProb);
}

/** log(n! / n^n) by Stirling, without forming n log n (scipy _log_nfactorial_div_n_pow_n). */
function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  const z = rn / n;
  for (const c of STIRLING_COEFFS) poly = poly * z + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** Row-major m*m matrix product. */
function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += aik * b[k * m + j];
    }
  }
  return out;
}

/** P(D_n <= d) by the Durbin matrix method, MTW variant (scipy _kolmogn_DMTW). */
function kolmognDMTW(n: number, d: number, cdf: boolean): number {
  if (d >= 1) return select(1, 0, cdf);
  const nd = n * d;
  if (nd <= 0.5) return select(0, 1, cdf);
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;

  // v[j] = (1 - h^(j+1)) / (j+1)!, w[j] = 1/j!, except the last entry of v.
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j; // may underflow: harmless
    v[j - 1] *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;

  let H = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)];
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];

  // H^n by squaring, rescaling H by 2^-128 whenever its (k,k) entry grows past 2^128.
  let Hpwr = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H, m);
      expnt += Hexpnt;
    }
    H = matmul(H, H, m);
    Hexpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]) > EP128) {
      for (let i = 0; i < H.length; i++) H[i] /= EP128;
      Hexpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }

  let p = Hpwr[(k - 1) * m + (k - 1)];
  // Multiply by n!/n^n.
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return select(p, 1 - p, cdf);
}

/** Endpoints of the non-zero window of row i (scipy _pomeranz_compute_j1j2). */
function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Python slice arr[start:stop] (negative indices count from the end; bounds are clipped). */
function pySlice(arr: Float64Array, start: number, stop: number): Float64Array {
  const len = arr.length;
  const s = start < 0 ? Math.max(len + start, 0) : Math.min(start, len);
  const e = stop < 0 ? Math.max(len + stop, 0) : Math.min(stop, len);
  return arr.subarray(s, Math.max(s, e));
}

/** Full discrete convolution, as numpy.convolve(a, b). */
function convolve(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    for (let j = 0; j < b.length; j++) out[i + j] += ai * b[j];
  }
  return out;
}

/** P(D_n <= x) by Pomeranz's recursion (scipy _kolmogn_Pomeranz). */
function kolmognPomeranz(n: number, x: number, cdf: boolean): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  // (g/n)^m/m!, (2g/n)^m/m!, ((1-2g)/n)^m/m!: Poisson probabilities without their normaliser.
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let expnt = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * gOverN) / m;
    twogpower[m] = (twogpower[m - 1] * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * oneMinusTwoGOverN) / m;
  }

  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const conv = convolve(pySlice(V0, k1 - V0s, k1 - V0s + ln2), pySlice(pwrs, 0, ln2));
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      V1.set(pySlice(conv, convStart, convStart + convLen).subarray(0, Math.min(convLen, V1.length)));
      // Rescale to avoid underflow.
      let maxV = -Infinity;
      for (let q = 0; q < V1.length; q++) if (V1[q] > maxV) maxV = V1[q];
      if (maxV > 0 && maxV < EM128) {
        for (let q = 0; q < V1.length; q++) V1[q] *= EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }

  // Multiply by n!.
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return select(ans, 1 - ans, cdf);
}

/** Pelz–Good approximation to P(D_n <= x) (scipy _kolmogn_PelzGood). */
function kolmognPelzGood(n: number, x: number, cdf: boolean): number {
  if (x <= 0) return select(0, 1, cdf);
  if (x >= 1) return select(1, 0, cdf);
  const z = Math.sqrt(n) * x;
  const zsquared = z ** 2;
  const zthree = z ** 3;
  const zfour = z ** 4;
  const zsix = z ** 6;

  const qlog = -PI_SQUARED / 8 / zsquared;
  if (qlog < MIN_LOG) return select(0, 1, cdf); // z ~ 0.0417
  let q = Math.exp(qlog);

  // Coefficients of the terms in the sums for K1, K2 and K3.
  const k1a = -zsquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zsix + 2 * zfour;
  const k2b = ((2 * zfour - 5 * zsquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * zsquared)) / 16;
  const k3d = (PI_SIX * (5 - 30 * zsquared)) / 64;
  const k3c = (PI_FOUR * (-60 * zsquared + 212 * zfour)) / 16;
  const k3b = (PI_SQUARED * (135 * zfour - 96 * zsix)) / 4;
  const k3a = -30 * zsix - 90 * z ** 8;

  const K = [0, 0, 0, 0];
  // Horner scheme for sum c_i q^(i^2), over odd integers.
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const msquared = m ** 2;
    const mfour = m ** 4;
    const msix = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * msquared, k2a + k2b * msquared + k2c * mfour, k3a + k3b * msquared + k3c * mfour + k3d * msix];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qpower + coeffs[i];
  }
  const divisors = [z, 6 * zfour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * SQRT2PI) / divisors[i];

  // The other sums, over all integers k.
  q = Math.exp(-PI_SQUARED / 2 / zsquared);
  const sqrt3z = SQRT3 * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const ksquared = k ** 2;
    const qpwer = q ** ksquared;
    const kspi = Math.PI * k;
    k2extra += ksquared * qpwer;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwer;
  }
  k2extra *= (PI_SQUARED * SQRT2PI) / (-36 * zthree);
  K[2] += k2extra;
  k3extra *= (PI_SQUARED * SQRT2PI) / (216 * zsix);
  K[3] += k3extra;
  for (let i = 0; i < 4; i++) K[i] /= Math.pow(n, i / 2);

  if (!cdf) {
    for (let i = 0; i < 4; i++) K[i] *= -1;
    K[0] += 1;
  }
  return K[0] + K[1] + K[2] + K[3];
}

/**
 * CDF (cdf = true) or survival function of the two-sided KS statistic D_n for a sample of size
 * `n` (a positive integer) at `x`: scipy's `_kolmogn(n, x, cdf)`. NaN for invalid n.
 */
export function kolmogn(n: number, x: number, cdf = true): number {
  if (Number.isNaN(n) || !Number.isInteger(n) || n <= 0) return NaN;
  if (x >= 1) return select(1, 0, cdf);
  if (x <= 0) return select(0, 1, cdf);
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: 1/2n <= x <= 1/n.
    if (t <= 0.5) return select(0, 1, cdf);
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return select(prob, 1 - prob, cdf);
  }
  if (t >= n - 1) {
    // Ruben–Gambino.
    const prob = 2 * (1 - x) ** n;
    return select(1 - prob, prob, cdf);
  }
  if (x >= 0.5) {
    // Exact: 2 * smirnov.
    const prob = 2 * smirnovSf(n, x);
    return select(1 - prob, prob, cdf);
  }
  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) {
      const prob = kolmognDMTW(n, x, true);
      return select(prob, 1 - prob, cdf);
    }
    if (nxsquared <= 4) {
      const prob = kolmognPomeranz(n, x, true);
      return select(prob, 1 - prob, cdf);
    }
    // Miller's approximation 2 * smirnov.
    const prob = 2 * smirnovSf(n, x);
    return select(1 - prob, prob, cdf);
  }
  // CDF and SF have different cut-offs on n x^2.
  if (!cdf) {
    if (nxsquared >= 370) return 0;
    if (nxsquared >= 2.2) return clip01(2 * smirnovSf(n, x));
    // Otherwise fall through: SF as 1 - CDF.
  }
  let cdfprob: number;
  if (nxsquared >= 18) {
    cdfprob = 1;
  } else if (n <= 100000 && n * x ** 1.5 <= 1.4) {
    cdfprob = kolmognDMTW(n, x, true);
  } else {
    cdfprob = kolmognPelzGood(n, x, true);
  }
  return select(cdfprob, 1 - cdfprob, cdf);
}

/**
 * Survival function of scipy's `kstwo` distribution: P(D_n >= d) for sample size `n`
 * (scipy.stats.kstwo.sf(d, n)). Outside the open support (1/(2n), 1) it is 1 below and 0 above,
 * as rv_continuous.sf; NaN when n is not a positive integer.
 */
export function kstwoSf(d: number, n: number): number {
  if (Number.isNaN(d) || Number.isNaN(n) || !(n >= 1) || !Number.isInteger(n)) return NaN;
  if (d <= 0.5 / n) return 1;
  if (d >= 1) return 0;
  return kolmogn(n, d, false);
}
