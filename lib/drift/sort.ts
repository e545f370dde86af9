/**
 * Sorting Float64Arrays for the drift tests. Pure code.
 *
 * KS and Wasserstein sort both windows; V8's `TypedArray.prototype.sort` is a comparison sort
 * (≈ 535 ms for 5e6 values). Above a size threshold this uses an LSD radix sort over the IEEE-754
 * bit patterns instead (a few times faster), with output identical to the built-in numeric sort:
 * the same order, -0 before +0, equal values being equal bit patterns.
 */

/** Below this many values the built-in sort wins (the radix sort has fixed histogram costs). */
export const RADIX_SORT_MIN = 4096;

const DIGIT_BITS = 11;
const RADIX = 1 << DIGIT_BITS;
const DIGIT_MASK = RADIX - 1;
/** 64 bits in 11-bit digits: 6 passes, the last one 9 bits wide. */
const PASSES = 6;
// The bit tricks read the low word of a double first: true on every platform Node ships for.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A sorted copy of `values`, ascending, as `values.slice().sort()`. The input is not modified.
 * Input with NaN takes the built-in sort (NaN last), so the output always equals it.
 */
export function sortedCopy(values: Float64Array): Float64Array {
  if (values.length < RADIX_SORT_MIN || !LITTLE_ENDIAN) return values.slice().sort();
  return radixSorted(values) ?? values.slice().sort();
}

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

/** LSD radix sort into a new array; null when the input holds NaN. */
function radixSorted(values: Float64Array): Float64Array | null {
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
