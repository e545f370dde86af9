import { describe, expect, it } from 'vitest';
import { countBelow } from '../lib/drift/sorted-search';
import { InvalidInputError } from '../lib/errors';
import { DEFAULT_K, QuantileSketch, uniformRankError, type QuantileSketchJson } from '../lib/drift/quantile-sketch';
import { mulberry32 } from '../lib/split';

const N = 1_000_000;

/** 1e6 values of each shape the sketch must handle: smooth, heavy-tailed, tied, two-humped. */
function distributions(seed: number): Record<string, Float64Array> {
  const r = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const of = (f: () => number) => Float64Array.from({ length: N }, f);
  return {
    normal: of(() => 50 + 10 * normal()),
    lognormal: of(() => Math.exp(normal())),
    'discrete with ties': of(() => Math.round(3 * normal())),
    bimodal: of(() => (r() < 0.3 ? -4 + normal() : 3 + 0.5 * normal())),
  };
}
const DATA = distributions(7);
const SORTED = Object.fromEntries(Object.entries(DATA).map(([name, values]) => [name, values.slice().sort()]));

/**
 * The largest |estimated - true| count over every cut the data has (values <= v and values < v
 * for each distinct v), as a share of n: one walk over the sorted data and the sketch's points.
 */
function maxRankError(sketch: QuantileSketch, sorted: Float64Array): number {
  const { values, cumulative } = sketch.points();
  const n = sorted.length;
  let worst = 0;
  let p = 0; // points < v
  let start = 0;
  while (start < n) {
    const v = sorted[start];
    let end = start;
    while (end < n && sorted[end] === v) end++;
    while (p < values.length && values[p] < v) p++;
    const below = p === 0 ? 0 : cumulative[p - 1];
    const atOrBelow = p < values.length && values[p] === v ? cumulative[p] : below;
    worst = Math.max(worst, Math.abs(below - start), Math.abs(atOrBelow - end));
    start = end;
  }
  return worst / n;
}

function sketchOf(values: Float64Array, seed = 1, k = DEFAULT_K): QuantileSketch {
  const s = new QuantileSketch({ k, seed });
  s.updateAll(values);
  return s;
}

/** The values cut into `parts` contiguous partitions, each sketched with its own seed. */
function partitionSketches(values: Float64Array, parts: number): QuantileSketch[] {
  const size = Math.ceil(values.length / parts);
  return Array.from({ length: parts }, (_, p) => sketchOf(values.subarray(p * size, (p + 1) * size), 100 + p));
}

const foldLeft = (sketches: QuantileSketch[]) => sketches.map((s) => s.clone()).reduce((a, b) => a.merge(b));
const foldRight = (sketches: QuantileSketch[]) => foldLeft([...sketches].reverse());
function pairwise(sketches: QuantileSketch[]): QuantileSketch {
  let level = sketches.map((s) => s.clone());
  while (level.length > 1) {
    const next: QuantileSketch[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? level[i].merge(level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}
function shuffled(sketches: QuantileSketch[]): QuantileSketch {
  const r = mulberry32(3);
  const order = sketches.map((s) => s.clone());
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.reduce((a, b) => a.merge(b));
}

describe('QuantileSketch', () => {
  it(`keeps the rank error of 1e6 values within its stated ε (k = ${DEFAULT_K})`, () => {
    for (const [name, values] of Object.entries(DATA)) {
      const sketch = sketchOf(values);
      const measured = maxRankError(sketch, SORTED[name]);
      console.log(
        `sketch ${name}: max rank error ${measured.toFixed(5)} of n, stated ε ${sketch.rankError.toFixed(5)}, ${sketch.retainedCount} values kept`,
      );
      expect(sketch.n).toBe(N);
      expect(sketch.rankError).toBeLessThanOrEqual(0.01);
      expect(measured).toBeLessThanOrEqual(sketch.rankError);
      expect(sketch.min).toBe(SORTED[name][0]);
      expect(sketch.max).toBe(SORTED[name][N - 1]);
    }
  });

  it('answers rank, cdf and quantile within ε', () => {
    const sorted = SORTED.bimodal;
    const sketch = sketchOf(DATA.bimodal);
    const eps = sketch.rankError;
    const r = mulberry32(11);
    for (let t = 0; t < 2000; t++) {
      const x = sorted[Math.floor(r() * N)] + (r() < 0.5 ? 0 : 1e-3);
      const truth = countBelow(sorted, x, true);
      expect(Math.abs(sketch.rank(x) - truth)).toBeLessThanOrEqual(eps * N);
      expect(Math.abs(sketch.rank(x, false) - countBelow(sorted, x))).toBeLessThanOrEqual(eps * N);
      expect(Math.abs(sketch.cdf(x) - truth / N)).toBeLessThanOrEqual(eps);
    }
    for (const [name, values] of Object.entries(DATA)) {
      const s = sketchOf(values);
      for (let q = 0; q <= 1.0000001; q += 0.01) {
        const v = s.quantile(Math.min(q, 1));
        // The value's rank range (a tie block) must meet [q - ε, q + ε].
        expect(countBelow(SORTED[name], v), name).toBeLessThanOrEqual((Math.min(q, 1) + s.rankError) * N);
        expect(countBelow(SORTED[name], v, true), name).toBeGreaterThanOrEqual((Math.min(q, 1) - s.rankError) * N);
      }
      expect(s.quantile(0)).toBe(SORTED[name][0]);
      expect(s.quantile(1)).toBe(SORTED[name][N - 1]);
    }
    expect(() => sketch.quantile(1.5)).toThrow(RangeError);
  });

  it('merges 1, 2, 4 and 16 partitions within ε, whatever the order of merging', () => {
    for (const [name, values] of Object.entries(DATA)) {
      for (const parts of [1, 2, 4, 16]) {
        const sketches = partitionSketches(values, parts);
        const errors: string[] = [];
        for (const [how, merged] of [
          ['left fold', foldLeft(sketches)],
          ['right fold', foldRight(sketches)],
          ['pairwise', pairwise(sketches)],
          ['shuffled', shuffled(sketches)],
        ] as const) {
          const measured = maxRankError(merged, SORTED[name]);
          errors.push(`${how} ${measured.toFixed(5)} (ε ${merged.rankError.toFixed(5)})`);
          expect(merged.n, `${name} ${parts} ${how}`).toBe(N);
          expect(merged.min).toBe(SORTED[name][0]);
          expect(merged.max).toBe(SORTED[name][N - 1]);
          expect(merged.rankError, `${name} ${parts} ${how}`).toBeLessThanOrEqual(0.01);
          expect(measured, `${name} ${parts} ${how}`).toBeLessThanOrEqual(merged.rankError);
        }
        console.log(`merge ${name}, ${parts} partitions: ${errors.join('; ')}`);
      }
    }
  });

  it('merges partitions cut by value (each one a narrow range) within ε', () => {
    const sorted = SORTED.normal;
    const merged = pairwise(partitionSketches(sorted, 16));
    const measured = maxRankError(merged, sorted);
    console.log(`merge of 16 value-range partitions: max rank error ${measured.toFixed(5)}, ε ${merged.rankError.toFixed(5)}`);
    expect(measured).toBeLessThanOrEqual(merged.rankError);
  });

  it('merges commutatively: a.merge(b) and b.merge(a) are the same sketch', () => {
    const [a, b] = partitionSketches(DATA.lognormal.subarray(0, 200_000), 2);
    expect(a.clone().merge(b).toJSON()).toEqual(b.clone().merge(a).toJSON());
  });

  it('is exact while nothing has been compacted', () => {
    const values = Float64Array.from([5, 1, 3, 3, 9, -2, 3, 0, -0]);
    const sketch = sketchOf(values);
    expect(sketch.isExact).toBe(true);
    expect(sketch.rankError).toBe(0);
    const sorted = values.slice().sort();
    for (const x of [-3, -2, 0, 1, 2, 3, 4, 9, 10]) {
      expect(sketch.rank(x)).toBe(countBelow(sorted, x, true));
      expect(sketch.rank(x, false)).toBe(countBelow(sorted, x));
    }
    expect(sketch.quantile(0.5)).toBe(3);
    expect(sketch.quantile(0)).toBe(-2);
    expect(sketch.quantile(1)).toBe(9);
  });

  it('counts NaN as missing and ±Infinity as infinite without inserting them', () => {
    const sketch = sketchOf(Float64Array.from([1, NaN, Infinity, 2, -Infinity, NaN, 3]));
    expect([sketch.n, sketch.missing, sketch.infinite, sketch.min, sketch.max]).toEqual([3, 2, 2, 1, 3]);
    const empty = sketchOf(Float64Array.from([NaN]));
    expect([empty.n, empty.rank(1), empty.min, empty.quantile(0.5), empty.cdf(0)]).toEqual([0, 0, NaN, NaN, NaN]);
    expect(empty.toJSON().min).toBeNull();
  });

  it('round-trips through JSON and carries on as the original would', () => {
    const original = sketchOf(DATA.normal.subarray(0, 300_000));
    const copy = QuantileSketch.fromJSON(JSON.parse(JSON.stringify(original)));
    expect(copy.toJSON()).toEqual(original.toJSON());
    expect(copy.rankError).toBe(original.rankError);
    for (const q of [0.01, 0.25, 0.5, 0.75, 0.99]) expect(copy.quantile(q)).toBe(original.quantile(q));
    const more = DATA.normal.subarray(300_000, 400_000);
    original.updateAll(more);
    copy.updateAll(more);
    expect(copy.toJSON()).toEqual(original.toJSON());
  });

  it('rejects bad serialised input with a message naming the field', () => {
    const good = sketchOf(DATA.normal.subarray(0, 50_000)).toJSON();
    const bad = (change: (j: QuantileSketchJson) => unknown): unknown => change(structuredClone(good));
    const cases: [string, unknown, RegExp][] = [
      ['not an object', 'sketch', /partition 7 is invalid/],
      ['another kind', bad((j) => ({ ...j, kind: 'retrain.other/v1' })), /kind/],
      ['negative n', bad((j) => ({ ...j, n: -1 })), /n: /],
      ['a string item', bad((j) => (((j.levels[1][0] as unknown) = 'x'), j)), /levels\.1\.0/],
      ['an unsorted level', bad((j) => (j.levels[1].reverse(), j)), /ascending/],
      ['levels that do not add up to n', bad((j) => ({ ...j, n: j.n + 1 })), /weigh/],
      ['min missing', bad((j) => ({ ...j, min: null })), /min and max must be null exactly when n is 0/],
      ['k too small', bad((j) => ({ ...j, k: 2 })), /k: /],
      ['an unknown field', bad((j) => ({ ...j, extra: 1 })), /extra/],
      ['compactions of another length', bad((j) => ({ ...j, compactions: [0] })), /compactions/],
      ['an item outside [min, max]', bad((j) => ((j.levels[1][0] = -1e9), j)), /outside \[min, max\]/],
    ];
    for (const [what, input, message] of cases) {
      let error: unknown;
      try {
        QuantileSketch.fromJSON(input, 'partition 7');
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message, what).toMatch(/^partition 7 is invalid:/);
      expect((error as Error).message, what).toMatch(message);
    }
  });

  it('refuses to merge sketches of different k, and bad options', () => {
    expect(() => new QuantileSketch({ k: 200 }).merge(new QuantileSketch({ k: 400 }))).toThrow(InvalidInputError);
    expect(() => new QuantileSketch({ k: 4 })).toThrow(InvalidInputError);
    expect(() => new QuantileSketch({ seed: -1 })).toThrow(InvalidInputError);
  });

  it('states a bound that grows with the compaction variance and is 0 without compactions', () => {
    expect(uniformRankError(0, 1000)).toBe(0);
    expect(uniformRankError(1e6, 1e6)).toBeLessThan(uniformRankError(4e6, 1e6));
    expect(uniformRankError(1e6, 1e6, 0.9)).toBeLessThan(uniformRankError(1e6, 1e6, 0.999));
  });
});
