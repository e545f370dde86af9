/**
 * A mergeable quantile sketch over doubles, for drift checks on windows too large for one
 * worker: each prediction-log partition is sketched on its own, anywhere, and the sketches are
 * merged in any order. Pure code.
 *
 * The algorithm is KLL (Karnin, Lang & Liberty, "Optimal Quantile Approximation in Streams",
 * FOCS 2016), laid out as Apache DataSketches' KllDoublesSketch: levels of items, level h
 * weighing 2^h each; a full level is sorted and every other item (which half: a coin flip)
 * moves up with twice the weight. Level capacities shrink by 2/3 per level down from the top
 * (k), never below {@link MIN_LEVEL_WIDTH}. Written here rather than taken from npm: `tdigest`
 * has no rank-error guarantee and its merges depend on their order, DDSketch
 * (`@datadog/sketches-js`) bounds the relative error of values, not of ranks (which KS and
 * the binned tests need), and no maintained KLL package exists there.
 *
 * Accuracy ({@link QuantileSketch.rankError}): with probability at least 99% over the coin
 * flips, for every x at once, the sketch's count of values <= x (and of values < x) is within
 * ε·n of the true count. ε is not a fit: each compaction at level h moves the count at any x by
 * 0 or ±2^h with equal chance (taking the seeded hash below as fair, independent coins), so the
 * total error is a martingale and the Azuma–Hoeffding
 * inequality bounds it from the sketch's own compaction history (which depends on n and the
 * merges, not on the values or the coins); a union bound over a grid of cuts makes it hold for
 * all x at once. Merging adds the histories, so the bound stays valid for any merge order.
 * With the default k ({@link DEFAULT_K}) ε stays below 0.01 at every size (see the constant).
 *
 * The coins are a seeded hash of (seed, level, compaction number, an item of the level): the
 * same inputs and operations give the same sketch on every machine, and no generator state
 * needs serialising. Sketches that will be merged should get different seeds (a partition's
 * index or {@link seedOf} its key): equal seeds on identical data flip identical coins, so
 * their errors add instead of averaging out. Different data with equal seeds still flips
 * different coins (the item is hashed in).
 *
 * NaN is counted as missing and ±Infinity as infinite; neither is inserted.
 */

import { countBelow } from './sorted-search';
import { z } from 'zod';
import { formatIssues, InvalidInputError } from '../errors';
import { hash53 } from '../row-hash';

/**
 * Default size parameter k: the top level's capacity. The sketch keeps about 3k values (about
 * 1 800: 14 KB in memory, some 35 KB of JSON).
 *
 * ε at k = 600 (99%, all x at once), from the bound the sketch computes: at most 0.0084 for a
 * streamed sketch, measured at every 2% step of n up to 2e7 (the peak comes just after the first
 * compactions, n ≈ 1 700; past that the bound only cycles with each doubling of n, and is 0.0071
 * at 2e7); at most 0.0071 for merges of 2 to 64 partitions of 3e3 to 3e6 values, folded or
 * pairwise. k = 500 gives 0.0100 and k = 200 (DataSketches' default) 0.0235 by the same
 * bound: DataSketches' 1.65% for k = 200 is a fit to experiments, not a bound.
 */
export const DEFAULT_K = 600;
/** Smallest k accepted. */
export const MIN_K = 8;
/** Largest k accepted. */
export const MAX_K = 65_535;
/** A level never holds fewer than this many items before it is compacted. */
export const MIN_LEVEL_WIDTH = 8;
/** Confidence at which {@link QuantileSketch.rankError} is stated. */
export const RANK_ERROR_CONFIDENCE = 0.99;
/** Levels above this would weigh more than 2^53: no window gets there. */
const MAX_LEVELS = 60;

/** Options of a new sketch. */
export interface QuantileSketchOptions {
  /**
   * Size parameter: the top level's capacity; ε falls about as 1/k.
   * @default {@link DEFAULT_K}
   */
  k?: number;
  /**
   * Seed of the coin flips (an unsigned 32-bit integer). Give each partition its own.
   * @default 0
   */
  seed?: number;
}

/** The sketch's distinct retained values ascending, with the estimated count of values <= each. */
export interface SketchPoints {
  values: Float64Array;
  /** cumulative[i]: estimated count of values <= values[i]; the last one is n. */
  cumulative: Float64Array;
  /** Weight of the heaviest retained item (2^h of the highest level holding one); 0 when empty. */
  maxWeight: number;
}

// One scratch double for reading an item's bits into the coin hash.
const BITS_F64 = new Float64Array(1);
const BITS_U32 = new Uint32Array(BITS_F64.buffer);

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed from a text (a partition key, a column name), the same on every machine. */
export function seedOf(text: string, seed = 0): number {
  return hash53(text, seed) % 4294967296;
}

/**
 * Capacity of level h when there are `levels` levels: round(k * (2/3)^depth), depth counted
 * down from the top, at least {@link MIN_LEVEL_WIDTH}. Integer arithmetic (exact below 2^53),
 * so every machine computes the same capacities and so the same sketch.
 */
function levelCapacity(k: number, levels: number, h: number): number {
  const depth = levels - 1 - h;
  if (depth > 30) return MIN_LEVEL_WIDTH;
  let twos = 1;
  let threes = 1;
  for (let i = 0; i < depth; i++) {
    twos *= 2;
    threes *= 3;
  }
  return Math.max(MIN_LEVEL_WIDTH, Math.round((k * twos) / threes));
}

/**
 * ε for a sketch of n values whose compactions sum to `variance` = Σ 4^h over compactions at
 * level h: with probability >= `confidence`, |estimated - true count| <= ε·n at every cut at once.
 *
 * Azuma–Hoeffding gives, at one cut, P(|error| >= t) <= 2 exp(-t² / (2 variance)). Cuts on a
 * grid at most g = ceil(n/M) apart in true count (at most 2M + 2 of them, tie blocks counting
 * twice) take a union bound; a cut between two grid cuts is off by at most g more, since both
 * counts grow with x. M is the power of two that gives the smallest ε.
 */
export function uniformRankError(variance: number, n: number, confidence = RANK_ERROR_CONFIDENCE): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  if (variance === 0 || n === 0) return 0;
  const delta = 1 - confidence;
  let best = Infinity;
  for (let j = 1; j <= 52; j++) {
    const m = 2 ** j;
    const e = Math.sqrt(2 * variance * Math.log((4 * (m + 1)) / delta)) / n + Math.ceil(n / m) / n;
    if (e < best) best = e;
  }
  return Math.min(best, 1);
}

/** A mergeable KLL quantile sketch; see the module comment for what its answers guarantee. */
export class QuantileSketch {
  /** Size parameter: capacity of the top level. */
  readonly k: number;
  private seed: number;
  private count = 0;
  private minValue = Infinity;
  private maxValue = -Infinity;
  private missingCount = 0;
  private infiniteCount = 0;
  /** Items per level; level 0 in arrival order, the others ascending. */
  private items: Float64Array[] = [new Float64Array(16)];
  private sizes: number[] = [0];
  /** Compactions done at each level, over every merged sketch: the error bound reads them. */
  private compactions: number[] = [0];
  private capacities: number[] = [];
  private capacity = 0;
  private retained = 0;
  private view: SketchPoints | null = null;

  constructor(options: QuantileSketchOptions = {}) {
    const k = options.k ?? DEFAULT_K;
    if (!(Number.isInteger(k) && k >= MIN_K && k <= MAX_K)) {
      throw new InvalidInputError(`quantile sketch k must be an integer in [${MIN_K}, ${MAX_K}], got ${k}`);
    }
    const seed = options.seed ?? 0;
    if (!(Number.isInteger(seed) && seed >= 0 && seed < 4294967296)) {
      throw new InvalidInputError(`quantile sketch seed must be an unsigned 32-bit integer, got ${seed}`);
    }
    this.k = k;
    this.seed = seed;
    this.updateCapacities();
  }

  /** Finite values inserted (missing and infinite ones not counted). */
  get n(): number {
    return this.count;
  }
  /** NaN values seen (not inserted). */
  get missing(): number {
    return this.missingCount;
  }
  /** ±Infinity values seen (not inserted). */
  get infinite(): number {
    return this.infiniteCount;
  }
  /** Smallest finite value inserted, exactly; NaN when empty. */
  get min(): number {
    return this.count === 0 ? NaN : this.minValue;
  }
  /** Largest finite value inserted, exactly; NaN when empty. */
  get max(): number {
    return this.count === 0 ? NaN : this.maxValue;
  }
  /** Values the sketch keeps. */
  get retainedCount(): number {
    return this.retained;
  }
  /** True while no compaction has happened here or in any merged sketch: every answer is exact. */
  get isExact(): boolean {
    return this.compactions.every((c) => c === 0);
  }

  /**
   * ε: with probability >= {@link RANK_ERROR_CONFIDENCE} the estimated count of values <= x
   * (or < x) is within ε·n of the true count, for every x at once. 0 while the sketch is exact.
   * A fraction of n, in [0, 1].
   */
  get rankError(): number {
    return this.rankErrorAt(RANK_ERROR_CONFIDENCE);
  }

  /** {@link rankError} at another confidence level, in (0, 1). */
  rankErrorAt(confidence: number): number {
    let variance = 0;
    for (let h = 0; h < this.compactions.length; h++) variance += this.compactions[h] * 4 ** h;
    return uniformRankError(variance, this.count, confidence);
  }

  /** Adds one value: NaN counts as missing, ±Infinity as infinite, neither is inserted. */
  update(x: number): void {
    if (x !== x) {
      this.missingCount++;
      return;
    }
    if (x === Infinity || x === -Infinity) {
      this.infiniteCount++;
      return;
    }
    let level0 = this.items[0];
    if (this.sizes[0] === level0.length) level0 = this.grow(0, this.sizes[0] + 1);
    level0[this.sizes[0]++] = x;
    this.count++;
    this.retained++;
    if (x < this.minValue) this.minValue = x;
    if (x > this.maxValue) this.maxValue = x;
    this.view = null;
    if (this.retained > this.capacity) this.compress();
  }

  /** Adds every value of `values` (see {@link update}). */
  updateAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.update(values[i]);
  }

  /**
   * Merges `other` into this sketch (`other` is not changed) and returns this. Merging is
   * commutative (a.merge(b) and b.merge(a) give the same sketch); in any grouping the rank error
   * bound holds for the result, computed from the compactions of every sketch that went in.
   * @throws InvalidInputError when the sketches have different k.
   */
  merge(other: QuantileSketch): this {
    if (other === this) return this.merge(other.clone());
    if (other.k !== this.k) {
      throw new InvalidInputError(`cannot merge quantile sketches of different sizes (k = ${this.k} and k = ${other.k})`);
    }
    const a = this.seed;
    const b = other.seed;
    // Symmetric in the two seeds, so the merge is commutative, and new, so the coins after it are fresh.
    this.seed = fmix32(Math.min(a, b) ^ fmix32(Math.max(a, b) + 0x9e3779b9));
    this.missingCount += other.missingCount;
    this.infiniteCount += other.infiniteCount;
    if (other.count === 0) {
      this.view = null;
      return this;
    }
    while (this.items.length < other.items.length) this.addLevel();
    for (let h = 0; h < other.items.length; h++) {
      this.compactions[h] += other.compactions[h];
      const theirs = other.items[h].subarray(0, other.sizes[h]);
      if (theirs.length === 0) continue;
      if (h === 0) {
        const mine = this.grow(0, this.sizes[0] + theirs.length);
        mine.set(theirs, this.sizes[0]);
        this.sizes[0] += theirs.length;
      } else {
        this.mergeSortedInto(h, theirs, 0, 1, theirs.length);
      }
    }
    // Level 0 sorted, so that its order (and with it the sketch) does not depend on who merged into whom.
    this.items[0].subarray(0, this.sizes[0]).sort();
    this.count += other.count;
    this.retained += other.retained;
    if (other.minValue < this.minValue) this.minValue = other.minValue;
    if (other.maxValue > this.maxValue) this.maxValue = other.maxValue;
    this.view = null;
    this.compress();
    return this;
  }

  /** An independent copy. */
  clone(): QuantileSketch {
    return QuantileSketch.fromJSON(this.toJSON());
  }

  /**
   * Estimated count of values <= x (`inclusive`, the default) or < x. Exact below the minimum
   * and from the maximum on; elsewhere within ε·n (see {@link rankError}).
   */
  rank(x: number, inclusive = true): number {
    if (this.count === 0 || x !== x) return 0;
    if (x < this.minValue || (!inclusive && x === this.minValue)) return 0;
    if (x > this.maxValue || (inclusive && x === this.maxValue)) return this.count;
    const { values, cumulative } = this.points();
    const lo = countBelow(values, x, inclusive);
    return lo === 0 ? 0 : cumulative[lo - 1];
  }

  /** Estimated share of values <= x, in [0, 1]; NaN when the sketch is empty. */
  cdf(x: number): number {
    return this.count === 0 ? NaN : this.rank(x) / this.count;
  }

  /**
   * A value whose rank is q·n within ε·n: the smallest retained value whose estimated count of
   * values <= it reaches q·n. q = 0 gives the minimum and q = 1 the maximum, exactly. NaN when empty.
   * @throws RangeError when q is outside [0, 1].
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
    if (this.count === 0) return NaN;
    if (q === 0) return this.minValue;
    if (q === 1) return this.maxValue;
    const { values, cumulative } = this.points();
    const target = q * this.count;
    let lo = 0;
    let hi = values.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return values[lo];
  }

  /**
   * The retained values ascending, one entry per distinct value, with estimated counts <= each:
   * the step function the drift tests read. Computed once per change; not to be modified.
   */
  points(): SketchPoints {
    if (this.view) return this.view;
    // Merge the levels bottom up, each level's items weighing 2^h.
    let values = this.items[0].slice(0, this.sizes[0]).sort();
    let weights = new Float64Array(values.length).fill(1);
    for (let h = 1; h < this.items.length; h++) {
      const size = this.sizes[h];
      if (size === 0) continue;
      const level = this.items[h];
      const w = 2 ** h;
      const outV = new Float64Array(values.length + size);
      const outW = new Float64Array(values.length + size);
      let i = 0;
      let j = 0;
      let o = 0;
      while (i < values.length || j < size) {
        if (j >= size || (i < values.length && values[i] <= level[j])) {
          outV[o] = values[i];
          outW[o++] = weights[i++];
        } else {
          outV[o] = level[j++];
          outW[o++] = w;
        }
      }
      values = outV;
      weights = outW;
    }
    let distinct = 0;
    const cumulative = new Float64Array(values.length);
    let total = 0;
    for (let i = 0; i < values.length; i++) {
      total += weights[i];
      if (distinct > 0 && values[distinct - 1] === values[i]) {
        cumulative[distinct - 1] = total;
      } else {
        values[distinct] = values[i];
        cumulative[distinct++] = total;
      }
    }
    let top = this.sizes.length - 1;
    while (top >= 0 && this.sizes[top] === 0) top--;
    this.view = { values: values.slice(0, distinct), cumulative: cumulative.slice(0, distinct), maxWeight: top < 0 ? 0 : 2 ** top };
    return this.view;
  }

  /** The sketch as plain JSON (see {@link quantileSketchSchema}); {@link fromJSON} reads it back. */
  toJSON(): QuantileSketchJson {
    return {
      kind: SKETCH_KIND,
      k: this.k,
      seed: this.seed,
      n: this.count,
      missing: this.missingCount,
      infinite: this.infiniteCount,
      min: this.count === 0 ? null : this.minValue,
      max: this.count === 0 ? null : this.maxValue,
      compactions: [...this.compactions],
      levels: this.items.map((items, h) => {
        const level = items.slice(0, this.sizes[h]);
        // Level 0 in order: the JSON of a sketch does not depend on the order values arrived in.
        if (h === 0) level.sort();
        return Array.from(level);
      }),
    };
  }

  /**
   * Reads a sketch written by {@link toJSON} (in this process or another), checking every field
   * and that the levels add up to n.
   * @param source names the input in the error, e.g. "summary of partition 3".
   * @throws InvalidInputError naming each field that is wrong.
   */
  static fromJSON(value: unknown, source = 'quantile sketch'): QuantileSketch {
    const parsed = quantileSketchSchema.safeParse(value);
    if (!parsed.success) throw new InvalidInputError(formatIssues(source, parsed.error.issues));
    const json = parsed.data;
    const sketch = new QuantileSketch({ k: json.k, seed: json.seed });
    sketch.count = json.n;
    sketch.missingCount = json.missing;
    sketch.infiniteCount = json.infinite;
    sketch.minValue = json.min ?? Infinity;
    sketch.maxValue = json.max ?? -Infinity;
    while (sketch.items.length < json.levels.length) sketch.addLevel();
    json.levels.forEach((level, h) => {
      sketch.items[h] = level.length > 0 ? Float64Array.from(level) : new Float64Array(16);
      sketch.sizes[h] = level.length;
      sketch.compactions[h] = json.compactions[h];
      sketch.retained += level.length;
    });
    sketch.compress();
    return sketch;
  }

  /** A level's buffer with room for at least `size` items (grown by doubling, contents kept). */
  private grow(h: number, size: number): Float64Array {
    const old = this.items[h];
    if (old.length >= size) return old;
    const grown = new Float64Array(Math.max(size, old.length * 2));
    grown.set(old.subarray(0, this.sizes[h]));
    this.items[h] = grown;
    return grown;
  }

  private addLevel(): void {
    if (this.items.length >= MAX_LEVELS) throw new RangeError('quantile sketch: more than 2^60 values');
    this.items.push(new Float64Array(16));
    this.sizes.push(0);
    this.compactions.push(0);
    this.updateCapacities();
  }

  private updateCapacities(): void {
    const levels = this.items.length;
    this.capacities = Array.from({ length: levels }, (_, h) => levelCapacity(this.k, levels, h));
    this.capacity = this.capacities.reduce((a, b) => a + b, 0);
  }

  /** Compacts the lowest full level until the sketch fits its capacity again. */
  private compress(): void {
    while (this.retained > this.capacity) {
      let h = 0;
      // Some level is at or over its capacity when the total is over the sum of them.
      while (this.sizes[h] < this.capacities[h]) h++;
      this.compact(h);
    }
  }

  /**
   * Halves level h into level h + 1: sorted, then every other item (from the first or the second:
   * the coin) moves up at twice the weight. An odd item out stays, so nothing is lost.
   */
  private compact(h: number): void {
    if (h + 1 === this.items.length) this.addLevel();
    const size = this.sizes[h];
    const level = this.items[h];
    if (h === 0) level.subarray(0, size).sort();
    const odd = size & 1;
    const pairs = (size - odd) >> 1;
    const offset = this.coin(h, level[odd]);
    this.mergeSortedInto(h + 1, level, odd + offset, 2, pairs);
    // The odd item (the smallest) stays at index 0.
    this.sizes[h] = odd;
    this.compactions[h]++;
    this.retained -= pairs;
    this.view = null;
  }

  /** Merges `count` ascending items of `source` (from `start`, every `stride`-th) into sorted level h. */
  private mergeSortedInto(h: number, source: Float64Array, start: number, stride: number, count: number): void {
    const mine = this.sizes[h];
    const target = this.grow(h, mine + count);
    // From the back, so the merge needs no second buffer.
    let i = mine - 1;
    let j = count - 1;
    for (let o = mine + count - 1; j >= 0; o--) {
      const s = source[start + j * stride];
      if (i >= 0 && target[i] > s) target[o] = target[i--];
      else {
        target[o] = s;
        j--;
      }
    }
    this.sizes[h] = mine + count;
  }

  /** The coin for the next compaction at `level`: 0 or 1, from the seed, the level, its compaction count and an item. */
  private coin(level: number, item: number): number {
    const c = this.compactions[level];
    BITS_F64[0] = item;
    let h = fmix32(this.seed ^ Math.imul(level + 1, 0x9e3779b1));
    h = fmix32(h ^ c);
    h = fmix32(h ^ Math.floor(c / 4294967296));
    h = fmix32(h ^ BITS_U32[0] ^ Math.imul(BITS_U32[1], 0x27d4eb2f));
    return h >>> 31;
  }
}

const SKETCH_KIND = 'retrain.quantile-sketch/v1';
const count = z.number().int().nonnegative();

/** The JSON form of a {@link QuantileSketch}: what crosses from one worker to another. */
export const quantileSketchSchema = z
  .strictObject({
    kind: z.literal(SKETCH_KIND),
    k: z.number().int().min(MIN_K).max(MAX_K),
    seed: z.number().int().min(0).max(4294967295),
    /** Finite values inserted. */
    n: count,
    missing: count,
    infinite: count,
    /** Exact extremes; null when n = 0. */
    min: z.number().nullable(),
    max: z.number().nullable(),
    /** Compactions per level, over every sketch merged in. */
    compactions: z.array(count).min(1).max(MAX_LEVELS),
    /** Items per level, level h weighing 2^h; levels above 0 ascending. */
    levels: z.array(z.array(z.number())).min(1).max(MAX_LEVELS),
  })
  .superRefine((s, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (s.compactions.length !== s.levels.length) {
      issue(['compactions'], `has ${s.compactions.length} entries for ${s.levels.length} levels`);
    }
    if ((s.n === 0) !== (s.min === null) || (s.n === 0) !== (s.max === null)) {
      issue(['min'], 'min and max must be null exactly when n is 0');
    } else if (s.min !== null && s.max !== null && s.min > s.max) {
      issue(['min'], `min ${s.min} is above max ${s.max}`);
    }
    let weight = 0;
    s.levels.forEach((level, h) => {
      weight += level.length * 2 ** h;
      for (let i = 0; i < level.length; i++) {
        const v = level[i];
        if ((s.min !== null && v < s.min) || (s.max !== null && v > s.max)) {
          issue(['levels', h, i], `${v} is outside [min, max]`);
          return;
        }
        if (h > 0 && i > 0 && level[i - 1] > v) {
          issue(['levels', h, i], 'levels above 0 must be ascending');
          return;
        }
      }
      if (h > 0 && level.length > 0 && (s.compactions[h - 1] ?? 0) === 0) {
        issue(['levels', h], `holds items, but level ${h - 1} was never compacted`);
      }
    });
    if (weight !== s.n) issue(['levels'], `the items weigh ${weight} in all (level h counts 2^h each), not n = ${s.n}`);
  });

/** {@link quantileSketchSchema} as a type. */
export type QuantileSketchJson = z.infer<typeof quantileSketchSchema>;
