/**
 * Sorting Float64Arrays for the drift tests. Pure code.
 *
 * KS and Wasserstein need both windows in order. Every sort here gives exactly what the built-in
 * `Float64Array.prototype.sort` gives (ascending, -0 before +0, NaN last: equal values are equal
 * bit patterns, so any correct sort is bit-identical), picking the fastest method for the size:
 *  - below {@link BUCKET_SORT_MIN} values: the built-in sort (a C++ comparison sort);
 *  - from there: a bucket sort on the values (the range cut into n/2 equal-width buckets, each
 *    bucket insertion-sorted, or bucketed again over its own range when large), O(n) on the
 *    smooth distributions drift data has. Where the values do not spread over equal-width
 *    buckets twice in a row (values orders of magnitude apart) a level buckets the high word of
 *    the IEEE-754 bit pattern instead, which is about logarithmic; what still does not spread
 *    after {@link MAX_BUCKET_DEPTH} levels goes to the LSD radix sort over the bit patterns
 *    (independent of the distribution), or to the built-in sort when small. Input with NaN, an
 *    infinity or a range the bucket arithmetic overflows on goes to the radix sort (NaN: the
 *    built-in sort) directly.
 * Input that is already ascending (a reference column stored sorted) is recognised in one pass
 * and not sorted again: see {@link ascending}.
 *
 * Measured on the 2-core AMD EPYC dev machine (Node 20.20), µs per sorted copy of n values, the
 * median of 7 timings, averaged over 12 distributions: 8 of drift data's shapes (normal, uniform,
 * integers 0..9, lognormal σ 0.5, exponential, Cauchy, normal rounded to 0.01, 1e9 + normal) and 4
 * that defeat equal-width buckets (lognormal σ 5, Pareto α 0.5, 1000 powers of two, 1% outliers
 * at 1e12):
 *
 *          n   built-in     radix    bucket
 *        250          6        42         8
 *        500         11        47        12
 *      1 000         23        64        23   <- BUCKET_SORT_MIN: the bucket sort wins from here
 *      2 000         52        96        45
 *      5 000        216       201       112   (radix beats built-in from ~4 000: RADIX_SORT_MIN)
 *     10 000        600       374       221
 *     30 000      2 034     1 107       813
 *    100 000      7 601     3 657     2 879
 *    300 000     24 900    11 086     9 240
 *  1 000 000     93 568    40 223    33 735
 *
 * At 1e4 the drift shapes take 132-253 µs by bucket (built-in 390-670, radix 170-574); the four
 * adverse shapes 264-369 µs (built-in 225-661, radix 178-574). At 1e3 the drift shapes take
 * 14-28 µs by bucket against 19-25 built-in, the adverse ones 37-39 against 15-25: even overall.
 * To measure again: time {@link bucketSorted}, {@link radixSorted} and `values.slice().sort()`.
 */

/** Below this many values the built-in sort is the fastest (the bucket sort's passes cost more). */
export const BUCKET_SORT_MIN = 1000;
/** A bucket that the values did not spread over and that holds at least this many goes to the radix sort. */
export const RADIX_SORT_MIN = 4096;

/** Buckets of at most this many values are insertion-sorted. */
const INSERTION_MAX = 24;
/** Levels of bucketing below the first before a bucket is left to the radix (or built-in) sort. */
const MAX_BUCKET_DEPTH = 4;

// The bit tricks read the low word of a double first: true on every platform Node ships for.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A sorted copy of `values`, ascending, bit for bit `values.slice().sort()`. The input is not
 * modified. An input already ascending is copied as is.
 */
export function sortedCopy(values: Float64Array): Float64Array {
  if (isAscending(values)) return values.slice();
  return sortedFresh(values);
}

/**
 * `values` in ascending order: `values` itself when it already is (checked in one pass, which stops
 * at the first pair out of order), else a sorted copy ({@link sortedCopy}). The caller must not
 * modify the result, which may be its input.
 */
export function ascending(values: Float64Array): Float64Array {
  return isAscending(values) ? values : sortedFresh(values);
}

/**
 * True when `values` is in the built-in sort's order: non-decreasing, -0 before +0, no NaN
 * (an array with NaN is reported unsorted, and the sorts put NaN last as the built-in does).
 */
export function isAscending(values: Float64Array): boolean {
  for (let i = 1; i < values.length; i++) {
    const prev = values[i - 1];
    const v = values[i];
    if (prev < v) continue;
    // Equal (or NaN): equal zeros must not be +0 then -0.
    if (prev !== v || (v === 0 && 1 / prev > 1 / v)) return false;
  }
  return values.length !== 1 || values[0] === values[0];
}

/** A new sorted array by the method for the size (the input is not modified and not ascending). */
function sortedFresh(values: Float64Array): Float64Array {
  if (values.length < BUCKET_SORT_MIN || !LITTLE_ENDIAN) return values.slice().sort();
  return bucketSorted(values) ?? radixSorted(values) ?? values.slice().sort();
}

// ---------------------------------------------------------------------------------------------
// Bucket sort

/**
 * Sorted copy by value buckets, or null when the range is not finite or holds NaN (the radix
 * sort takes those). The bucket of a value, floor((v - min) * m / (max - min)), never decreases
 * as v grows (each rounding is monotone), so sorting each bucket sorts the whole. -0 and +0 share
 * a bucket and compare equal; they are put in order at the end (all zeros are one run then).
 * Exported for the tests and for measuring; {@link sortedCopy} picks the method.
 */
export function bucketSorted(values: Float64Array): Float64Array | null {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let negativeZeros = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== v) return null;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === 0 && 1 / v < 0) negativeZeros++;
  }
  if (min !== max && !spreadable(n, min, max)) return null;
  const out = new Float64Array(n);
  if (min === max) out.set(values);
  else distribute(values, out, { scratch: null }, 0, n, min, max, 0, false);
  if (negativeZeros > 0) orderZeros(out, negativeZeros);
  return out;
}

/** Buckets for n values in [min, max], min < max: at least 4, about one per two values. */
function bucketCount(n: number): number {
  return Math.max(4, n >>> 1);
}

/** Whether the bucket arithmetic works over [min, max]: the range and its scale are finite. */
function spreadable(n: number, min: number, max: number): boolean {
  const scale = bucketCount(n) / (max - min);
  return scale > 0 && scale < Infinity;
}

/** Where a bucket's values are to be bucketed again: what its parent level was. */
interface Level {
  /** Values of the parent level. */
  size: number;
  /** The parent level was itself most of its own parent (a bucket the values did not spread over). */
  skewed: boolean;
}

/**
 * Scatters src[lo, hi) (values in [min, max], min < max, {@link spreadable}) into dst[lo, hi) by
 * equal-width buckets over [min, max], then sorts each bucket in dst.
 */
function distribute(
  src: Float64Array,
  dst: Float64Array,
  buffers: { scratch: Float64Array | null },
  lo: number,
  hi: number,
  min: number,
  max: number,
  depth: number,
  skewed: boolean,
): void {
  const n = hi - lo;
  const m = bucketCount(n);
  const scale = m / (max - min);
  // ends[b]: first the count of bucket b, then its start, then (after the scatter) its end.
  const ends = new Int32Array(m);
  for (let i = lo; i < hi; i++) {
    const b = ((src[i] - min) * scale) | 0;
    ends[b < m ? b : m - 1]++;
  }
  startsFromCounts(ends, lo);
  for (let i = lo; i < hi; i++) {
    const v = src[i];
    const b = ((v - min) * scale) | 0;
    dst[ends[b < m ? b : m - 1]++] = v;
  }
  sortBuckets(dst, buffers, ends, lo, { size: n, skewed }, depth);
}

/**
 * As {@link distribute}, with buckets equal-width over the high word of the order-preserving bit
 * pattern (sign, exponent, top 20 bits of the mantissa): roughly logarithmic, for values many
 * orders of magnitude apart. False when that word is the same for all values (nothing done).
 */
function distributeByKey(
  src: Float64Array,
  dst: Float64Array,
  buffers: { scratch: Float64Array | null },
  lo: number,
  hi: number,
  depth: number,
): boolean {
  const words = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  let kmin = Infinity;
  let kmax = -Infinity;
  for (let i = lo; i < hi; i++) {
    const k = keyHi(words[2 * i + 1]);
    if (k < kmin) kmin = k;
    if (k > kmax) kmax = k;
  }
  if (kmin === kmax) return false;
  const n = hi - lo;
  const m = bucketCount(n);
  const scale = m / (kmax - kmin);
  const ends = new Int32Array(m);
  for (let i = lo; i < hi; i++) {
    const b = ((keyHi(words[2 * i + 1]) - kmin) * scale) | 0;
    ends[b < m ? b : m - 1]++;
  }
  startsFromCounts(ends, lo);
  for (let i = lo; i < hi; i++) {
    const b = ((keyHi(words[2 * i + 1]) - kmin) * scale) | 0;
    dst[ends[b < m ? b : m - 1]++] = src[i];
  }
  sortBuckets(dst, buffers, ends, lo, { size: n, skewed: false }, depth);
  return true;
}

/** Counts per bucket into the start of each bucket, from `lo` on (in place). */
function startsFromCounts(ends: Int32Array, lo: number): void {
  let start = lo;
  for (let b = 0; b < ends.length; b++) {
    const count = ends[b];
    ends[b] = start;
    start += count;
  }
}

/** Sorts every bucket of dst from `lo` on; `ends` holds each bucket's end. */
function sortBuckets(
  dst: Float64Array,
  buffers: { scratch: Float64Array | null },
  ends: Int32Array,
  lo: number,
  level: Level,
  depth: number,
): void {
  let s = lo;
  for (let b = 0; b < ends.length; b++) {
    const e = ends[b];
    if (e - s > INSERTION_MAX) sortBucket(dst, buffers, s, e, level, depth);
    else if (e - s > 1) insertionSort(dst, s, e);
    s = e;
  }
}

/**
 * Sorts dst[s, e) in place: bucketed again over its own range, or over its bit patterns, or by
 * the radix (large) or built-in (small) sort when the levels run out.
 */
function sortBucket(
  dst: Float64Array,
  buffers: { scratch: Float64Array | null },
  s: number,
  e: number,
  parent: Level,
  depth: number,
): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = s; i < e; i++) {
    const v = dst[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return;
  const size = e - s;
  if (depth < MAX_BUCKET_DEPTH) {
    const scratch = (buffers.scratch ??= new Float64Array(dst.length));
    // Most of the parent in one bucket: the values are spread unevenly. Equal-width buckets over
    // this bucket's own range spread a core between outliers (Cauchy, sentinel values); the second
    // time in a row, the values lie orders of magnitude apart (lognormal with a large sigma, powers
    // of ten), where each equal-width level would peel off a few values only: bucket the bit
    // patterns instead.
    const skewed = size > parent.size / 2;
    if (skewed && parent.skewed) {
      scratch.set(dst.subarray(s, e), s);
      if (distributeByKey(scratch, dst, buffers, s, e, depth + 1)) return;
    } else if (spreadable(size, min, max)) {
      scratch.set(dst.subarray(s, e), s);
      distribute(scratch, dst, buffers, s, e, min, max, depth + 1, skewed);
      return;
    }
  }
  const part = dst.subarray(s, e);
  if (size >= RADIX_SORT_MIN) dst.set(radixSorted(part) as Float64Array, s);
  else part.sort();
}

function insertionSort(a: Float64Array, s: number, e: number): void {
  for (let i = s + 1; i < e; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= s && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

/** Rewrites the run of zeros of a sorted array as `negativeZeros` times -0, then +0. */
function orderZeros(a: Float64Array, negativeZeros: number): void {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < 0) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < lo + negativeZeros; i++) a[i] = -0;
  for (let i = lo + negativeZeros; i < a.length && a[i] === 0; i++) a[i] = 0;
}

// ---------------------------------------------------------------------------------------------
// LSD radix sort over the bit patterns

const DIGIT_BITS = 11;
const RADIX = 1 << DIGIT_BITS;
const DIGIT_MASK = RADIX - 1;
/** 64 bits in 11-bit digits: 6 passes, the last one 9 bits wide. */
const PASSES = 6;

/**
 * Order-preserving key of a double as two unsigned words: flip the sign bit of positives and all
 * bits of negatives, so unsigned comparison of (hi, lo) is numeric order with -0 just below +0.
 */
function keyHi(hi: number): number {
  return (hi >> 31 === 0 ? hi ^ 0x80000000 : ~hi) >>> 0;
}
function keyLo(hi: number, lo: number): number {
  return (hi >> 31 === 0 ? lo : ~lo) >>> 0;
}

/** Digit 2, the one that straddles the words: 10 bits of the low key word, 1 of the high. */
function middleDigit(khi: number, klo: number): number {
  return (klo >>> 22) | ((khi & 1) << 10);
}

/** Histograms of all six digits in one pass; null when a NaN is seen (its order is the built-in's). */
function digitHistograms(values: Float64Array, words: Uint32Array): Uint32Array | null {
  const hist = new Uint32Array(PASSES * RADIX);
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== values[i]) return null;
    const hi = words[2 * i + 1];
    const khi = keyHi(hi);
    const klo = keyLo(hi, words[2 * i]);
    hist[klo & DIGIT_MASK]++;
    hist[RADIX + ((klo >>> 11) & DIGIT_MASK)]++;
    hist[2 * RADIX + middleDigit(khi, klo)]++;
    hist[3 * RADIX + ((khi >>> 1) & DIGIT_MASK)]++;
    hist[4 * RADIX + ((khi >>> 12) & DIGIT_MASK)]++;
    hist[5 * RADIX + (khi >>> 23)]++;
  }
  return hist;
}

/** Passes whose digit varies: a digit that is the same for every value leaves the order as is. */
function activePasses(hist: Uint32Array, n: number): number[] {
  const passes: number[] = [];
  for (let p = 0; p < PASSES; p++) {
    let constant = false;
    for (let d = 0; d < RADIX; d++) {
      const c = hist[p * RADIX + d];
      if (c !== 0) {
        constant = c === n;
        break;
      }
    }
    if (!constant) passes.push(p);
  }
  return passes;
}

/** One stable counting-sort pass of `src` into `dst` on digit `pass`. */
function scatter(src: Float64Array, dst: Float64Array, hist: Uint32Array, pass: number): void {
  const offsets = new Uint32Array(RADIX);
  let sum = 0;
  for (let d = 0; d < RADIX; d++) {
    offsets[d] = sum;
    sum += hist[pass * RADIX + d];
  }
  const words = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  // Finite doubles (NaN was ruled out) copy bit for bit through a Float64Array. One loop per
  // digit position, so the hot loop has no branch on the pass.
  if (pass < 2) {
    const shift = pass * DIGIT_BITS;
    for (let i = 0; i < src.length; i++) {
      const d = (keyLo(words[2 * i + 1], words[2 * i]) >>> shift) & DIGIT_MASK;
      dst[offsets[d]++] = src[i];
    }
  } else if (pass > 2) {
    const shift = pass * DIGIT_BITS - 32;
    for (let i = 0; i < src.length; i++) {
      const d = (keyHi(words[2 * i + 1]) >>> shift) & DIGIT_MASK;
      dst[offsets[d]++] = src[i];
    }
  } else {
    for (let i = 0; i < src.length; i++) {
      const hi = words[2 * i + 1];
      const d = middleDigit(keyHi(hi), keyLo(hi, words[2 * i]));
      dst[offsets[d]++] = src[i];
    }
  }
}

/**
 * LSD radix sort into a new array; null when the input holds NaN. Exported for the tests and for
 * measuring; {@link sortedCopy} picks the method.
 */
export function radixSorted(values: Float64Array): Float64Array | null {
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  const hist = digitHistograms(values, words);
  if (hist === null) return null;
  const passes = activePasses(hist, n);
  const out = new Float64Array(n);
  if (passes.length === 0) {
    out.set(values); // one distinct value
    return out;
  }
  // Alternate buffers so that the last pass writes into `out`; the first reads the input itself.
  const tmp = passes.length > 1 ? new Float64Array(n) : out;
  let src = values;
  passes.forEach((pass, k) => {
    const dst = (passes.length - 1 - k) % 2 === 0 ? out : tmp;
    scatter(src, dst, hist, pass);
    src = dst;
  });
  return out;
}
