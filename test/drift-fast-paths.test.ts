import { describe, expect, it } from 'vitest';
import { histogramCounts, sortedHistogramCounts, sturgesEdges } from '../lib/drift/binning.js';
import { CodedColumn, detectDrift, prepareColumn } from '../lib/drift/dataset-drift.js';
import { applyEffectFloor } from '../lib/drift/effect-floor.js';
import { ks2samp } from '../lib/drift/ks.js';
import { buildDriftReport } from '../lib/drift/report.js';
import { ascending, BUCKET_SORT_MIN, bucketSorted, isAscending, RADIX_SORT_MIN, radixSorted, sortedCopy } from '../lib/drift/sort.js';
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

describe('sortedCopy against Float64Array.prototype.sort', () => {
  for (const n of [0, 1, 100, BUCKET_SORT_MIN - 1, BUCKET_SORT_MIN, RADIX_SORT_MIN - 1, RADIX_SORT_MIN, 50_000, 300_000]) {
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

/** Samples of the shapes drift data takes, and of the shapes that defeat equal-width buckets. */
function shaped(n: number, seed: number): Record<string, Float64Array> {
  const r = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const of = (draw: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => draw(i));
  return {
    normal: of(() => 50 + 10 * normal()),
    uniform: of(() => r()),
    'integers 0..9': of(() => Math.floor(10 * r())),
    'rounded to 0.01 (both zeros)': of(() => Math.round(normal() * 100) / 100),
    'zeros of both signs only': of(() => (r() < 0.5 ? -0 : 0)),
    'two values': of(() => (r() < 0.3 ? -1 : 1)),
    constant: of(() => 2.5),
    'lognormal sigma 5': of(() => Math.exp(5 * normal())),
    'Pareto 0.5': of(() => (1 - r()) ** -2),
    Cauchy: of(() => Math.tan(Math.PI * (r() - 0.5))),
    'powers of ten': of(() => 10 ** Math.floor(r() * 12)),
    'powers of two, descending': of((i) => 2 ** -Math.floor((i * 1000) / n)),
    'sentinel outliers': of(() => (r() < 0.02 ? 999_999_999 : normal())),
    '1e9 + N(0,1)': of(() => 1e9 + normal()),
    'subnormal range': of(() => Math.floor(r() * 50) * Number.MIN_VALUE),
    'huge range': of(() => (r() < 0.5 ? -1 : 1) * Number.MAX_VALUE * r()),
    // Buckets the bit patterns cannot split either (all within one high word): radix or built-in sort.
    'ulps, Zipf-like': of(() => 1 + 2 ** -52 * Math.floor(1 / (1 - r()) ** 2)),
    'Cantor-like, base 1000': of(() => {
      let v = 0;
      for (let k = 1; k <= 5; k++) v += (r() < 0.5 ? 0 : 999) * 1000 ** -k;
      return v;
    }),
    ascending: of((i) => i / 7),
    descending: of((i) => -i / 7),
  };
}

describe('bucket sort and radix sort against Float64Array.prototype.sort', () => {
  for (const n of [2, 25, 1000, 3000, 20_000]) {
    it(`match bit for bit on ${n} values of every shape`, () => {
      for (const [name, values] of Object.entries(shaped(n, n))) {
        const want = values.slice().sort();
        const before = values.slice();
        const bucket = bucketSorted(values);
        // The bucket sort declines only ranges its arithmetic cannot take; the radix sort takes them.
        if (bucket !== null) expectSameBits(bucket, want);
        else expect(['subnormal range', 'huge range'], name).toContain(name);
        expectSameBits(radixSorted(values)!, want);
        expectSameBits(sortedCopy(values), want);
        expectSameBits(values, before);
      }
    });
  }

  it('sort a subarray view', () => {
    const values = shaped(30_000, 4)['rounded to 0.01 (both zeros)'].subarray(1000, 25_000);
    expectSameBits(bucketSorted(values)!, values.slice().sort());
  });

  it('decline NaN (the built-in sort puts it last, and sortedCopy then uses it)', () => {
    const values = shaped(5000, 9).normal;
    values[10] = NaN;
    expect(bucketSorted(values)).toBeNull();
    expect(radixSorted(values)).toBeNull();
    expectSameBits(sortedCopy(values), values.slice().sort());
  });
});

describe('isAscending and ascending', () => {
  it('follow the built-in order: -0 before +0, NaN never in order', () => {
    expect(isAscending(new Float64Array(0))).toBe(true);
    expect(isAscending(Float64Array.of(3))).toBe(true);
    expect(isAscending(Float64Array.of(NaN))).toBe(false);
    expect(isAscending(Float64Array.of(-1, -0, -0, 0, 0, 2, 2))).toBe(true);
    expect(isAscending(Float64Array.of(-1, 0, -0, 2))).toBe(false);
    expect(isAscending(Float64Array.of(1, 2, 1))).toBe(false);
    expect(isAscending(Float64Array.of(1, NaN))).toBe(false);
    expect(isAscending(Float64Array.of(NaN, 1))).toBe(false);
  });

  it('ascending hands back an ascending input itself, and a sorted copy otherwise', () => {
    const sorted = Float64Array.of(-2, -0, 0, 1.5, 1.5, 9);
    expect(ascending(sorted)).toBe(sorted);
    const unsorted = Float64Array.of(0, -0, 3, -2);
    const got = ascending(unsorted);
    expect(got).not.toBe(unsorted);
    expectSameBits(got, Float64Array.of(-2, -0, 0, 3));
    expectSameBits(unsorted, Float64Array.of(0, -0, 3, -2));
    // sortedCopy always copies, sorted input included.
    expect(sortedCopy(sorted)).not.toBe(sorted);
    expectSameBits(sortedCopy(sorted), sorted);
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

describe('one sort per column, shared and stored', () => {
  const r = rng(31);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const reference = Float64Array.from({ length: 12_000 }, () => (r() < 0.03 ? NaN : normal()));
  const current = Float64Array.from({ length: 9000 }, () => (r() < 0.02 ? Infinity : normal() + 0.04));
  const drift = (ref: Float64Array | ReturnType<typeof prepareColumn>, cur: typeof ref, method: StattestName) =>
    detectDrift({ reference: { f: ref }, current: { f: cur }, features: [{ name: 'f', kind: 'numeric', method }] }).features[0];

  it('a reference stored ascending (NaN after the values) gives the same results as in row order', () => {
    const finite = reference.filter((v) => !Number.isNaN(v));
    const stored = new Float64Array(reference.length).fill(NaN);
    stored.set(finite.slice().sort());
    for (const method of ['ks', 'wasserstein', 'psi', 'jensenshannon'] as StattestName[]) {
      const { statistic: want, ...wantRest } = drift(reference, current, method);
      const { statistic: got, ...gotRest } = drift(stored, current, method);
      expect(gotRest, method).toEqual(wantRest);
      // Wasserstein divides by the reference's std, summed in another order: within an ulp or two.
      expect(Math.abs(got! - want!), method).toBeLessThanOrEqual(4e-16 * Math.abs(want!));
    }
  });

  it('a prepared column is sorted by the first order-based test and shared by the next', () => {
    const ref = prepareColumn(reference, 'numeric');
    const cur = prepareColumn(current, 'numeric');
    const unsortedValues = cur.values;
    expect(isAscending(unsortedValues!)).toBe(false);
    const ks = drift(ref, cur, 'ks');
    const sortedValues = cur.values;
    expect(sortedValues).not.toBe(unsortedValues);
    expect(isAscending(sortedValues!)).toBe(true);
    const wasserstein = drift(ref, cur, 'wasserstein');
    const psi = drift(ref, cur, 'psi');
    expect(cur.values).toBe(sortedValues); // no second sort
    expect(cur.sorted()).toBe(sortedValues);
    // The same results as raw columns, each test sorting for itself.
    expect(ks).toEqual(drift(reference, current, 'ks'));
    expect(wasserstein).toEqual(drift(reference, current, 'wasserstein'));
    expect(psi).toEqual(drift(reference, current, 'psi'));
    expect(ks.reference).toEqual({ rows: 12_000, missing: ref.counts.missing, infinite: 0, used: 12_000 - ref.counts.missing });
    expect(ks.current.infinite).toBe(cur.counts.infinite);
  });

  it('an ascending column without missing values is used as it is, not copied', () => {
    const column = Float64Array.from({ length: 5000 }, (_, i) => Math.sqrt(i));
    const prepared = prepareColumn(column, 'numeric');
    expect(prepared.sorted()).toBe(column);
  });

  it('a prepared column of the other kind is a configuration error', () => {
    const prepared = prepareColumn(['a', 'b', null], 'categorical');
    expect(() => drift(prepared, prepared, 'ks')).toThrow(/prepared as categorical, not numeric/);
    expect(() => prepareColumn(['a'], 'numeric', { name: 'x', where: 'reference' })).toThrow(/'x' in reference must be a Float64Array/);
  });

  it('buildDriftReport on prepared columns equals buildDriftReport on raw ones', () => {
    const labels = Array.from({ length: 3000 }, () => (r() < 0.1 ? null : r() < 0.5 ? 'x' : 'y'));
    const features = [
      { name: 'n', kind: 'numeric' as const },
      { name: 'c', kind: 'categorical' as const },
    ];
    const report = (n: Float64Array | ReturnType<typeof prepareColumn>, c: (string | null)[] | ReturnType<typeof prepareColumn>) =>
      buildDriftReport({
        checkId: 'c1',
        createdAt: '2024-01-01T00:00:00.000Z',
        reference: { label: 'ref', columns: { n, c } },
        current: { label: 'cur', columns: { n: current, c: labels.slice().reverse() } },
        features,
        prediction: { kind: 'numeric', reference: n, current },
      });
    expect(report(prepareColumn(reference, 'numeric'), prepareColumn(labels, 'categorical'))).toEqual(report(reference, labels));
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
        // detectDrift holds the hypothesis tests to their effect-size floor; the statistics are the test's.
        expect(result, method).toEqual(applyEffectFloor(runStattest(method, labels(ref), labels(cur), { kind: 'categorical' })));
        expect(rc.missing + rc.used).toBe(ref.length);
        expect([name, kind, methodSource, cc.rows]).toEqual(['f', 'categorical', 'configured', cur.length]);
      }
    }
  });
});

describe('histograms of sorted windows', () => {
  it('counts by binary search what histogramCounts counts value by value, edges and ties included', () => {
    const random = mulberry32(17);
    for (let k = 0; k < 300; k++) {
      const n = Math.floor(random() * 400);
      const discrete = random() < 0.5;
      const draw = () => (discrete ? Math.floor(random() * 12) : random() * 100 - 50);
      const a = ascending(Float64Array.from({ length: n }, draw));
      const b = ascending(Float64Array.from({ length: Math.floor(random() * 300) }, draw));
      if (a.length + b.length === 0) continue;
      const edges = sturgesEdges(a, b, true);
      expect(edges).toEqual(sturgesEdges(a, b));
      expect(sortedHistogramCounts(a, edges)).toEqual(histogramCounts(a, edges));
      expect(sortedHistogramCounts(b, edges)).toEqual(histogramCounts(b, edges));
      // Edges that leave values out on both sides.
      const inner = Float64Array.from([edges[0] + 1, (edges[0] + edges.at(-1)!) / 2, edges.at(-1)! - 1]);
      if (inner[0]! < inner[1]! && inner[1]! < inner[2]!) expect(sortedHistogramCounts(a, inner)).toEqual(histogramCounts(a, inner));
    }
  });
});

describe('categorical columns as codes', () => {
  it('give the results of the same labels as strings, missing codes and all', () => {
    const random = mulberry32(23);
    const labels = ['a', 'b', 'c', 'd', 'e'];
    for (const method of ['chisquare', 'jensenshannon', 'psi', 'z'] as StattestName[]) {
      const n = 3000;
      const refCodes = Int32Array.from({ length: n }, () => (random() < 0.02 ? -1 : Math.floor(random() * (method === 'z' ? 2 : 5))));
      const curCodes = Uint8Array.from({ length: n }, () => (random() < 0.02 ? 9 : Math.floor(random() * (method === 'z' ? 2 : 4))));
      const cells = (codes: ArrayLike<number>) => Array.from(codes, (c) => labels[c] ?? null);
      const spec = [{ name: 'plan', kind: 'categorical' as const, method }];
      const coded = detectDrift({
        reference: { plan: new CodedColumn(refCodes, labels) },
        current: { plan: new CodedColumn(curCodes, labels) },
        features: spec,
      });
      const strings = detectDrift({ reference: { plan: cells(refCodes) }, current: { plan: cells(curCodes) }, features: spec });
      expect(coded, method).toEqual(strings);
    }
    // A label given two codes counts as one category.
    const twice = prepareColumn(new CodedColumn(Uint8Array.from([0, 1, 2]), ['x', 'y', 'x']), 'categorical');
    expect(twice.counted).toEqual({
      counts: new Map([
        ['x', 2],
        ['y', 1],
      ]),
      size: 3,
    });
  });
});
