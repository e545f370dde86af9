import { describe, expect, it } from 'vitest';
import { histogramCounts, sturgesEdges } from '../lib/drift/binning.js';
import { detectDrift } from '../lib/drift/dataset-drift.js';
import { ks2samp } from '../lib/drift/ks.js';
import { RADIX_SORT_MIN, sortedCopy } from '../lib/drift/sort.js';
import { mulberry32 } from '../lib/split';
import type { StattestName } from '../lib/drift/stattest-names.js';
import { runStattest, wassersteinDistance } from '../lib/drift/stattests.js';

/** Deterministic uniform [0, 1), so a failure reproduces. */
const rng = mulberry32;

/** Bit-for-bit equality, so -0 vs +0 counts as a difference. */
function expectSameBits(got: Float64Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length * 2);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length * 2);
  let first = -1;
  for (let i = 0; i < g.length && first < 0; i++) if (g[i] !== w[i]) first = i >> 1;
  expect(first, first < 0 ? '' : `first difference at ${first}: ${got[first]} vs ${want[first]}`).toBe(-1);
}

/** Values of every awkward kind: signs, zeros of both signs, duplicates, subnormals, extremes. */
function awkward(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const special = [
    0,
    -0,
    Number.MIN_VALUE,
    -Number.MIN_VALUE,
    2.2250738585072014e-308,
    -1e-310,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Infinity,
    -Infinity,
    1,
    -1,
  ];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.05) out[i] = special[Math.floor(r() * special.length)];
    else if (u < 0.3)
      out[i] = Math.round((r() - 0.5) * 20) / 4; // heavy ties around 0
    else if (u < 0.4)
      out[i] = (r() - 0.5) * 1e-300; // tiny, some subnormal after scaling
    else out[i] = (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
  }
  return out;
}

describe('sortedCopy (radix sort) against Float64Array.prototype.sort', () => {
  for (const n of [0, 1, 100, RADIX_SORT_MIN - 1, RADIX_SORT_MIN, 50_000, 300_000]) {
    it(`matches bit for bit on ${n} awkward values`, () => {
      const values = awkward(n, n + 7);
      const before = values.slice();
      expectSameBits(sortedCopy(values), values.slice().sort());
      expectSameBits(values, before); // input untouched
    });
  }

  it('matches on data where some digits are constant (skipped passes)', () => {
    const r = rng(3);
    const ints = Float64Array.from({ length: 20_000 }, () => Math.floor(r() * 10)); // 10 values
    expectSameBits(sortedCopy(ints), ints.slice().sort());
    const offset = Float64Array.from({ length: 20_000 }, () => 1e9 + r());
    expectSameBits(sortedCopy(offset), offset.slice().sort());
    const constant = new Float64Array(10_000).fill(-2.5);
    expectSameBits(sortedCopy(constant), constant.slice().sort());
  });

  it('sorts a subarray view (non-zero byte offset)', () => {
    const values = awkward(30_000, 11).subarray(1000, 25_000);
    expectSameBits(sortedCopy(values), values.slice().sort());
  });

  it('puts NaN last, as the built-in sort does', () => {
    const values = awkward(10_000, 5);
    values[17] = NaN;
    values[9000] = NaN;
    expectSameBits(sortedCopy(values), values.slice().sort());
  });
});

/** The reference definition: largest k with edges[k] <= v, last bin closed. */
function histogramBySearch(values: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  for (const v of values) {
    if (!(v >= edges[0] && v <= edges[bins])) continue;
    let k = 0;
    while (k < bins - 1 && edges[k + 1] <= v) k++;
    counts[k]++;
  }
  return counts;
}

describe('histogramCounts (arithmetic bin, corrected against the edges)', () => {
  it('counts exactly as edge comparisons, values on and next to every edge included', () => {
    const r = rng(21);
    for (const [lo, hi] of [
      [0, 1],
      [-3.7, 12.1],
      [1e9, 1e9 + 1],
      [-1e-6, 3e-7],
      [0.1, 0.7],
    ]) {
      const a = Float64Array.from({ length: 5000 }, () => lo + (hi - lo) * r());
      const b = Float64Array.from({ length: 3000 }, () => lo + (hi - lo) * r());
      a[0] = lo;
      b[0] = hi;
      const edges = sturgesEdges(a, b);
      // Every edge and its neighbouring doubles.
      const probes = Array.from(edges).flatMap((e) => [e, e * (1 + 2 ** -52), e * (1 - 2 ** -52), e + 2 ** -1074]);
      const values = Float64Array.from([...a, ...probes]);
      expect(Array.from(histogramCounts(values, edges))).toEqual(Array.from(histogramBySearch(values, edges)));
    }
  });

  it('handles edges that are not evenly spaced', () => {
    const edges = Float64Array.from([0, 0.1, 5, 5.5, 100]);
    const values = Float64Array.from([-1, 0, 0.05, 0.1, 4.99, 5, 5.25, 5.5, 99, 100, 101]);
    expect(Array.from(histogramCounts(values, edges))).toEqual([2, 2, 2, 3]);
  });
});

describe('presorted samples', () => {
  it('give ks2samp and wassersteinDistance the same results as unsorted ones', () => {
    const r = rng(8);
    const a = Float64Array.from({ length: 6000 }, () => r() * 3);
    const b = Float64Array.from({ length: 4000 }, () => r() * 3 + 0.1);
    const sa = sortedCopy(a);
    const sb = sortedCopy(b);
    expect(ks2samp(sa, sb, { presorted: true })).toEqual(ks2samp(a, b));
    expect(wassersteinDistance(sa, sb, { presorted: true })).toBe(wassersteinDistance(a, b));
  });
});

describe('categorical features tested on counts', () => {
  it('give detectDrift the same results as the tests on the label arrays', () => {
    const r = rng(13);
    const pick = (labels: string[]) => labels[Math.floor(r() * labels.length)];
    const reference = Array.from({ length: 3000 }, () => (r() < 0.05 ? null : pick(['a', 'b', 'c', 'd'])));
    const current = Array.from({ length: 2000 }, () => (r() < 0.05 ? null : pick(['a', 'b', 'c', 'd', 'e'])));
    const labels = (col: (string | null)[]) => col.filter((v): v is string => v !== null);
    for (const method of ['psi', 'jensenshannon', 'chisquare', 'z'] as StattestName[]) {
      for (const [ref, cur] of [
        [reference, current],
        [current, reference],
      ]) {
        const got = detectDrift({ reference: { f: ref }, current: { f: cur }, features: [{ name: 'f', kind: 'categorical', method }] });
        const { name, kind, methodSource, reference: rc, current: cc, ...result } = got.features[0];
        expect(result, method).toEqual(runStattest(method, labels(ref), labels(cur), { kind: 'categorical' }));
        expect(rc.missing + rc.used).toBe(ref.length);
        expect([name, kind, methodSource, cc.rows]).toEqual(['f', 'categorical', 'configured', cur.length]);
      }
    }
  });
});
