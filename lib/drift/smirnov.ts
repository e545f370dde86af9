/**
 * One-sided Kolmogorov–Smirnov (Smirnov) survival function P(D+_n >= x), a port of scipy 1.17.1's
 * `scipy.special.smirnov` (xsf/cephes/kolmogorov.h, `_smirnov`), which the two-sided
 * distribution `kstwo` calls for large statistics. Pure code.
 *
 * The sum (Birnbaum–Tingey / Smirnov 1944) has terms
 *   A_v = C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v),
 * raised to powers up to n; like scipy we carry the bases and the binomial in double-double so an
 * ulp of a base is not multiplied by n, and keep a separate binary exponent so nothing underflows.
 */

/** A double-double: the unevaluated sum hi + lo with |lo| <= ulp(hi)/2. */
interface DD {
  hi: number;
  lo: number;
}

const EPS = 2.220446049250313e-16;
const SPLITTER = 134217729; // 2^27 + 1, Dekker's split
const MINLOG = -7.451332191019412e2; // log(2**-1075), cephes MINLOG
const LN2 = Math.LN2;
const SMIRNOV_MAX_COMPUTE_N = 1000000;
const SM_UPPER_MAX_TERMS = 3;
const SM_UPPERSUM_MIN_N = 10;
/** Keep both halves of a double-double normal: below 1023 - 52. */
const SM_MAX_EXPONENT = 960;

function dd(hi: number, lo = 0): DD {
  return { hi, lo };
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return { hi: s, lo: b - (s - a) };
}

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return { hi: s, lo: a - (s - bb) + (b - bb) };
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return { hi: p, lo: ah * bh - p + ah * bl + al * bh + al * bl };
}

function add(a: DD, b: DD): DD {
  const s = twoSum(a.hi, b.hi);
  const t = twoSum(a.lo, b.lo);
  let r = quickTwoSum(s.hi, s.lo + t.hi);
  r = quickTwoSum(r.hi, r.lo + t.lo);
  return r;
}

function addD(a: DD, b: number): DD {
  const s = twoSum(a.hi, b);
  return quickTwoSum(s.hi, s.lo + a.lo);
}

function mul(a: DD, b: DD): DD {
  const p = twoProd(a.hi, b.hi);
  return quickTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

function mulD(a: DD, b: number): DD {
  const p = twoProd(a.hi, b);
  return quickTwoSum(p.hi, p.lo + a.lo * b);
}

function div(a: DD, b: DD): DD {
  const q1 = a.hi / b.hi;
  let r = add(a, neg(mulD(b, q1)));
  const q2 = r.hi / b.hi;
  r = add(r, neg(mulD(b, q2)));
  const q3 = r.hi / b.hi;
  return addD(quickTwoSum(q1, q2), q3);
}

function neg(a: DD): DD {
  return { hi: -a.hi, lo: -a.lo };
}

function floorDD(a: DD): DD {
  const hi = Math.floor(a.hi);
  if (hi !== a.hi) return dd(hi, 0);
  return quickTwoSum(hi, Math.floor(a.lo));
}

/** 2^k for every k a double can hold as a power of two, so scaling is one multiply. */
const POW2 = Float64Array.from({ length: 1023 + 1074 + 1 }, (_, i) => 2 ** (i - 1074));
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // word holding the exponent

/** x * 2^e without overflow or premature underflow of 2^e itself (C ldexp). */
export function ldexp(x: number, e: number): number {
  if (e >= -1022 && e <= 1023) return x * POW2[e + 1074];
  while (e > 1023) {
    x *= POW2[1023 + 1074];
    e -= 1023;
    if (!Number.isFinite(x)) return x;
  }
  while (e < -1022) {
    x *= POW2[-1022 + 1074];
    e += 1022;
    if (x === 0) return x;
  }
  return x * POW2[e + 1074];
}

/** Mantissa in [0.5, 1) and exponent, as C frexp; read from the bits (this sits in the hot loop). */
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let shift = 0;
  F64[0] = x;
  if ((U32[HI] & 0x7ff00000) === 0) {
    F64[0] = x * POW2[54 + 1074]; // subnormal: normalise first
    shift = 54;
  }
  const hw = U32[HI];
  const e = ((hw >>> 20) & 0x7ff) - 1022 - shift;
  U32[HI] = (hw & 0x800fffff) | (1022 << 20);
  return [F64[0], e];
}

function frexpDD(a: DD): [DD, number] {
  const [hi, e] = frexp(a.hi);
  return [dd(hi, ldexp(a.lo, -e)), e];
}

function ldexpDD(a: DD, e: number): DD {
  return dd(ldexp(a.hi, e), ldexp(a.lo, e));
}

/** a^m for a double-double a: pow() of the head, then a first-order (or exact) correction for the tail. */
function powD(a: DD, m: number): DD {
  if (m <= 0) {
    if (m === 0) return dd(1);
    return div(dd(1), powD(a, -m));
  }
  if (a.hi === 0 && a.lo === 0) return dd(0);
  const ans = Math.pow(a.hi, m);
  const r = a.lo / a.hi;
  let adj = m * r;
  if (Math.abs(adj) > 1e-8) {
    if (Math.abs(adj) < 1e-4) {
      adj += m * r * (((m - 1) / 2) * r); // first two Taylor terms of (1+r)^m - 1
    } else {
      adj = Math.expm1(m * Math.log1p(r));
    }
  }
  return addD(dd(ans), ans * adj);
}

/** The C "nextPowerOf2" helper of xsf, reproduced as written (it decides the chunk size below). */
function nextPowerOf2(x: number): number {
  const q = ldexp(x, 1 - 53);
  let L = Math.abs(q + x);
  if (L === 0) {
    L = Math.abs(x);
  } else {
    const Lint = Math.trunc(L);
    if (Lint === L) L = Lint;
  }
  return L;
}

/** a^m as [significand, binary exponent], splitting the power so no intermediate underflows. */
function pow2ScaledD(a: DD, m: number): [DD, number] {
  if (m <= 0) {
    if (m === 0) return [dd(1), 0];
    const [ans, aE1] = pow2ScaledD(a, -m);
    const [inv, aE2] = frexpDD(div(dd(1), ans));
    return [inv, -aE1 + aE2];
  }
  const [y, yE] = frexpDD(a);
  if (m === 1) return [y, yE];
  let maxExpt = SM_MAX_EXPONENT;
  if ((m * (y.hi - 1)) / y.hi < -SM_MAX_EXPONENT * LN2) {
    const lg2y = Math.log(y.hi) / LN2;
    const lgAns = m * lg2y;
    if (lgAns <= -SM_MAX_EXPONENT) {
      maxExpt = Math.trunc(nextPowerOf2(-SM_MAX_EXPONENT / lg2y + 1) / 2);
    }
  }
  if (m <= maxExpt) {
    const [ans, ansE] = frexpDD(powD(y, m));
    return [ans, ansE + m * yE];
  }
  const q = Math.trunc(m / maxExpt);
  const r = m % maxExpt;
  // y^m = (y^maxExpt)^q * y^r
  const [y2r, y2rE] = pow2ScaledD(y, r);
  const [y2m, y2mE] = pow2ScaledD(y, maxExpt);
  const [y2mq, y2mqE0] = pow2ScaledD(y2m, q);
  const [ans, ansE0] = frexpDD(mul(y2r, y2mq));
  const y2mqE = y2mqE0 + y2mE * q;
  return [ans, ansE0 + y2mqE + y2rE + m * yE];
}

/** floor(n*x) and its remainder, exactly (n*x formed in double-double). */
function modNX(n: number, x: number): { alpha: number; nxfloor: number; nx: number } {
  const nxD = twoProd(n, x);
  const nxfloorD = floorDD(nxD);
  const alphaD = add(nxD, neg(nxfloorD));
  let alpha = alphaD.hi;
  let nxfloor = Math.trunc(nxfloorD.hi + nxfloorD.lo);
  if (alpha === 1) {
    nxfloor += 1;
    alpha = 0;
  }
  return { alpha, nxfloor, nx: nxD.hi };
}

/**
 * P(D+_n >= x), scipy.special.smirnov(n, x). `n` a positive integer, 0 <= x <= 1; NaN otherwise.
 */
export function smirnovSf(n: number, x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (!(n > 0 && x >= 0 && x <= 1) || !Number.isInteger(n)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;

  const { alpha, nxfloor: nxfl } = modNX(n, x);
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  let n1mxceil = n - nxfl;
  // With alpha = 0 the last term belongs to neither sum.
  if (alpha === 0) {
    n1mxfl -= 1;
    n1mxceil += 1;
  }

  // x <= 1/n: closed form.
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const t = ddToNumber(powD(twoSum(1, x), n - 1));
    return clamp01(1 - x * t);
  }
  // The sf underflows.
  if (-2 * n * x * x < MINLOG) return 0;
  // x >= 1 - 1/n: closed form.
  if (nxfl >= n - 1) return clamp01(ddToNumber(powD(twoSum(1, -x), n)));
  // Very large n: the approximation scipy uses, p ~ exp(-(6nx+1)^2 / 18n).
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -Math.pow(6 * n * x + 1, 2) / 18 / n;
    // Small p straight from exp; otherwise via the cdf, as scipy does, to keep its rounding.
    return clamp01(logp < -LN2 ? Math.exp(logp) : 1 - -Math.expm1(logp));
  }

  // The upper sum alternates in sign: only worth it for very few terms and small x.
  const nUpperTerms = n - n1mxceil + 1;
  const useUpperSum =
    (nUpperTerms <= 1 && x < 0.5) || (n >= SM_UPPERSUM_MIN_N && nUpperTerms <= SM_UPPER_MAX_TERMS && x <= 0.5 / Math.sqrt(n));

  let start = 0;
  let step = 1;
  let nTerms = n1mxfl + 1;
  const vmid = Math.trunc(n / 2);
  let Cman = dd(1);
  let Cexpt = 0;
  let Aj: DD;
  if (useUpperSum) {
    start = n;
    step = -1;
    nTerms = n - n1mxceil + 1;
    Aj = powD(twoSum(1, x), n - 1);
  } else {
    Aj = div(powD(twoSum(1, -x), n), dd(x));
  }
  let AjSum = Aj;
  [Cman, Cexpt] = updateBinomial(Cman, Cexpt, n, 0);

  for (let j = 1; j < nTerms; j++) {
    const v = start + j * step;
    Aj = computeAv(n, x, v, Cman, Cexpt);
    if (Number.isFinite(Aj.hi) && Aj.hi !== 0) AjSum = add(AjSum, Aj);
    // Stop once the remaining terms cannot move the sum.
    if (Aj.hi !== 0) {
      if (4 * (nTerms - j) * Math.abs(Aj.hi) < EPS * AjSum.hi && j !== nTerms - 1) break;
    } else if (j > vmid) {
      break;
    }
    [Cman, Cexpt] = updateBinomial(Cman, Cexpt, n, j);
  }
  const prob = ddToNumber(mulD(AjSum, x));
  return clamp01(step < 0 ? 1 - prob : prob);
}

/** C(n, j+1) from C(n, j), as (significand in [0.5, 1), exponent) so it never overflows. */
function updateBinomial(Cman: DD, Cexpt: number, n: number, j: number): [DD, number] {
  const rat = div(dd(n - j), dd(j + 1));
  const [man2, expt] = frexpDD(mul(Cman, rat));
  return [man2, Cexpt + expt];
}

/** A_v(n, x) = C(n, v) (1 - x - v/n)^(n-v) (x + v/n)^(v-1). */
function computeAv(n: number, x: number, v: number, Cman: DD, Cexpt: number): DD {
  const t2x = addD(div(dd(n - v), dd(n)), -x);
  const [t2, t2E] = pow2ScaledD(t2x, n - v);
  const t1x = addD(div(dd(v), dd(n)), x);
  const [t1, t1E] = pow2ScaledD(t1x, v - 1);
  const ans = mul(mul(t1, t2), Cman);
  return ldexpDD(ans, Cexpt + t1E + t2E);
}

function ddToNumber(a: DD): number {
  return a.hi + a.lo;
}

function clamp01(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}
