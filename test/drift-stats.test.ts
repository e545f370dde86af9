import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../lib/errors.js';
import { binnedShares, fillZeroShares, sturgesEdges } from '../lib/drift/binning.js';
import { detectDrift } from '../lib/drift/dataset-drift.js';
import { ks2samp } from '../lib/drift/ks.js';
import { kstwoSf } from '../lib/drift/kstwo.js';
import { smirnovSf } from '../lib/drift/smirnov.js';
import { chi2Sf, normSf } from '../lib/drift/special.js';
import {
  chiSquareTest,
  chooseStattest,
  DEFAULT_THRESHOLDS,
  jensenShannonTest,
  ksTest,
  populationStd,
  psiTest,
  runStattest,
  wassersteinDistance,
  wassersteinTest,
  zTest,
} from '../lib/drift/stattests.js';
import { STATTEST_NAMES, type StattestName } from '../lib/drift/stattest-names.js';

// Regenerate with: .retrain/venv/bin/python test/fixtures/make_drift_fixtures.py
interface GenSpec {
  seed: number;
  n: number;
  k: number;
  scale: number;
  shift: number;
  q?: number;
}
type DataSpec = { values: number[] } | { gen: GenSpec };
type Counts = Record<string, number>;
interface Fixture {
  versions: Record<string, string>;
  ks: {
    name: string;
    a: DataSpec;
    b: DataSpec;
    method: 'auto' | 'exact' | 'asymp';
    expected: { statistic: number; pValue: number; location: number; sign: 1 | -1; warned: boolean; path: 'exact' | 'asymp' };
  }[];
  kstwo: [number, number, number][];
  smirnov: [number, number, number][];
  chi2: [number, number, number][];
  normSf: [number, number][];
  wasserstein: { name: string; ref: DataSpec; cur: DataSpec; expected: { distance: number; std: number; normed: number } }[];
  binned: {
    name: string;
    kind: 'numeric' | 'categorical';
    ref: DataSpec | { counts: Counts };
    cur: DataSpec | { counts: Counts };
    expected: {
      mode: 'histogram' | 'values';
      edges?: number[];
      keys?: (number | string)[];
      refShares: number[];
      curShares: number[];
      refFilled: number[];
      curFilled: number[];
      psi: number;
      jensenshannon: number;
    };
  }[];
  chisquare: { name: string; ref: Counts; cur: Counts; expected: { statistic: number; pValue: number; df: number } }[];
  z: { name: string; ref: Counts; cur: Counts; expected: { statistic: number; pValue: number; pValueEvidently: number } }[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/drift-scipy.json', import.meta.url), 'utf8')) as Fixture;

const STAT_TOL = 1e-12;
const P_TOL = 1e-6;

/** Rebuilds a generated sample bit for bit; mirrors gen() in make_drift_fixtures.py. */
function generate(spec: GenSpec): Float64Array {
  let state = spec.seed;
  const out = new Float64Array(spec.n);
  for (let i = 0; i < spec.n; i++) {
    let s = 0;
    for (let j = 0; j < spec.k; j++) {
      state = (48271 * state) % 2147483647;
      s += state / 2147483647;
    }
    let v = (s - spec.k / 2) * spec.scale + spec.shift;
    if (spec.q) v = Math.floor(v * spec.q) / spec.q;
    out[i] = v;
  }
  return out;
}

function numeric(d: DataSpec): Float64Array {
  return 'gen' in d ? generate(d.gen) : Float64Array.from(d.values);
}

function categorical(counts: Counts): string[] {
  return Object.entries(counts).flatMap(([k, n]) => Array<string>(n).fill(k));
}

function sampleOf(d: DataSpec | { counts: Counts }): Float64Array | string[] {
  return 'counts' in d ? categorical(d.counts) : numeric(d);
}

/** |got - want| / |want| (0 when equal, including both 0). */
function rel(got: number, want: number): number {
  return got === want ? 0 : Math.abs(got - want) / Math.abs(want);
}

/** Largest differences seen per quantity, printed after the run for the record. */
const worst = new Map<string, number>();
function note(what: string, diff: number): void {
  worst.set(what, Math.max(worst.get(what) ?? 0, diff));
}
afterAll(() => {
  const rows = [...worst].map(([k, v]) => `  ${k.padEnd(40)} ${v.toExponential(2)}`);
  console.log(`max differences vs scipy ${fixture.versions.scipy}:\n${rows.join('\n')}`);
});

/** A p-value within 1e-6 relative of scipy's; scipy's 0 must stay 0. */
function expectP(got: number | null, want: number, what: string, label: string): void {
  expect(got, label).not.toBeNull();
  const r = rel(got as number, want);
  note(what, r);
  expect(r, `${label}: got ${got}, scipy ${want}`).toBeLessThanOrEqual(P_TOL);
}

/** A statistic within 1e-12 (relative when |want| > 1, else absolute). */
function expectStat(got: number | null, want: number, what: string, label: string): void {
  expect(got, label).not.toBeNull();
  const d = Math.abs((got as number) - want) / Math.max(1, Math.abs(want));
  note(what, d);
  expect(d, `${label}: got ${got}, scipy ${want}`).toBeLessThanOrEqual(STAT_TOL);
}

describe('two-sample KS against scipy.stats.ks_2samp', () => {
  for (const c of fixture.ks) {
    it(c.name, () => {
      const a = numeric(c.a);
      const b = numeric(c.b);
      const r = ks2samp(a, b, { method: c.method });
      expectStat(r.statistic, c.expected.statistic, 'ks statistic', c.name);
      expectP(r.pValue, c.expected.pValue, 'ks p-value', c.name);
      expect(r.method).toBe(c.expected.path);
      expect(r.warning !== undefined).toBe(c.expected.warned);
      expect(r.statisticLocation).toBe(c.expected.location);
      expect(r.statisticSign).toBe(c.expected.sign);
    });
  }

  it('does not modify its inputs', () => {
    const a = Float64Array.of(3, 1, 2);
    const b = Float64Array.of(9, 8, 7);
    ks2samp(a, b);
    expect([...a]).toEqual([3, 1, 2]);
    expect([...b]).toEqual([9, 8, 7]);
  });

  it('throws on an empty sample, as scipy', () => {
    expect(() => ks2samp(new Float64Array(0), Float64Array.of(1))).toThrow(RangeError);
  });
});

describe('distribution functions against scipy', () => {
  it('kstwo.sf on a grid over every branch of _kolmogn', () => {
    for (const [n, x, want] of fixture.kstwo) expectP(kstwoSf(x, n), want, 'kstwo.sf', `kstwo.sf(${x}, ${n})`);
  });
  it('special.smirnov', () => {
    for (const [n, x, want] of fixture.smirnov) expectP(smirnovSf(n, x), want, 'smirnov', `smirnov(${n}, ${x})`);
  });
  it('chi2.sf for df 1..500 down to p = 1e-200 (1e-10 relative)', () => {
    for (const [x, df, want] of fixture.chi2) {
      const r = rel(chi2Sf(x, df), want);
      note('chi2.sf', r);
      expect(r, `chi2.sf(${x}, ${df})`).toBeLessThanOrEqual(1e-10);
    }
  });
  it('norm.sf from -8 to 38', () => {
    for (const [z, want] of fixture.normSf) expectP(normSf(z), want, 'norm.sf', `norm.sf(${z})`);
  });
});

describe('Wasserstein (Evidently normed) against scipy', () => {
  for (const c of fixture.wasserstein) {
    it(c.name, () => {
      const ref = numeric(c.ref);
      const cur = numeric(c.cur);
      expectStat(wassersteinDistance(ref, cur), c.expected.distance, 'wasserstein distance', c.name);
      expectStat(populationStd(ref), c.expected.std, 'reference std (ddof 0)', c.name);
      const r = wassersteinTest(ref, cur, { kind: 'numeric' });
      expectStat(r.statistic, c.expected.normed, 'wasserstein normed', c.name);
      expect(r.drifted).toBe(c.expected.normed >= 0.1);
      expect(r.pValue).toBeNull();
    });
  }
});

describe('binning, PSI and Jensen-Shannon against numpy/scipy', () => {
  for (const c of fixture.binned) {
    it(c.name, () => {
      const ref = sampleOf(c.ref);
      const cur = sampleOf(c.cur);
      const b = binnedShares(ref, cur, c.kind, { fillZeroes: false });
      expect(b.mode).toBe(c.expected.mode);
      if (c.expected.edges) {
        expect([...(b.edges as Float64Array)]).toEqual(c.expected.edges); // bit-identical to numpy
      } else {
        expect(b.keys).toEqual(c.expected.keys);
      }
      for (const [got, want] of [
        [b.reference, c.expected.refShares],
        [b.current, c.expected.curShares],
        [fillZeroShares(b.reference), c.expected.refFilled],
        [fillZeroShares(b.current), c.expected.curFilled],
      ] as const) {
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => expectStat(g, want[i], 'bin shares', c.name));
      }
      const psi = psiTest(ref, cur, { kind: c.kind });
      expectStat(psi.statistic, c.expected.psi, 'psi', c.name);
      expect(psi.drifted).toBe(c.expected.psi >= 0.1);
      const js = jensenShannonTest(ref, cur, { kind: c.kind });
      expectStat(js.statistic, c.expected.jensenshannon, 'jensenshannon', c.name);
      expect(js.drifted).toBe(c.expected.jensenshannon >= 0.1);
    });
  }

  it('Sturges over the combined sample: a constant sample gets one bin of width 1', () => {
    expect([...sturgesEdges(Float64Array.of(2, 2), Float64Array.of(2))]).toEqual([1.5, 2.5]);
  });
});

describe('chi-square against scipy.stats.chisquare', () => {
  for (const c of fixture.chisquare) {
    it(c.name, () => {
      const r = chiSquareTest(categorical(c.ref), categorical(c.cur), { kind: 'categorical' });
      expect(r.method).toBe('chisquare');
      expectStat(r.statistic, c.expected.statistic, 'chisquare statistic', c.name);
      expectP(r.pValue, c.expected.pValue, 'chisquare p-value', c.name);
      expect(r.drifted).toBe(c.expected.pValue < 0.05);
    });
  }
});

describe('two-proportion z-test against the Evidently formula', () => {
  for (const c of fixture.z) {
    it(c.name, () => {
      const r = zTest(categorical(c.ref), categorical(c.cur), { kind: 'categorical' });
      expectStat(r.statistic, c.expected.statistic, 'z statistic', c.name);
      expectP(r.pValue, c.expected.pValue, 'z p-value', c.name);
      if (c.expected.pValueEvidently > 1e-8) {
        expect(rel(r.pValue as number, c.expected.pValueEvidently)).toBeLessThanOrEqual(P_TOL);
      }
      expect(r.drifted).toBe(c.expected.pValue < 0.05);
    });
  }
});

describe('edge cases give defined results', () => {
  const num = (...v: number[]) => Float64Array.from(v);
  const numericTests: StattestName[] = ['psi', 'jensenshannon', 'wasserstein', 'ks', 'chisquare', 'z'];
  const categoricalTests: StattestName[] = ['psi', 'jensenshannon', 'chisquare', 'z'];

  function expectDefined(r: ReturnType<typeof runStattest>): void {
    for (const v of [r.statistic, r.pValue]) if (v !== null) expect(Number.isFinite(v)).toBe(true);
    expect(typeof r.drifted).toBe('boolean');
  }

  it('empty current window: null statistic and p-value, not drifted, noted', () => {
    for (const m of numericTests) {
      const r = runStattest(m, num(1, 2, 3), new Float64Array(0), { kind: 'numeric' });
      expect(r).toMatchObject({ method: m, statistic: null, pValue: null, drifted: false, note: 'empty current window' });
      expect(r.threshold).toBe(DEFAULT_THRESHOLDS[m]);
    }
    for (const m of categoricalTests) {
      const r = runStattest(m, ['a'], [], { kind: 'categorical' });
      expect(r).toMatchObject({ statistic: null, pValue: null, drifted: false, note: 'empty current window' });
    }
  });

  it('empty reference window likewise', () => {
    for (const m of numericTests) {
      const r = runStattest(m, new Float64Array(0), num(1), { kind: 'numeric' });
      expect(r).toMatchObject({ statistic: null, pValue: null, drifted: false, note: 'empty reference window' });
    }
  });

  it('constant column, same value in both windows: no drift', () => {
    const ref = new Float64Array(50).fill(7);
    const cur = new Float64Array(30).fill(7);
    for (const m of numericTests) {
      const r = runStattest(m, ref, cur, { kind: 'numeric' });
      expectDefined(r);
      expect(r.drifted, m).toBe(false);
    }
    expect(ksTest(ref, cur, { kind: 'numeric' })).toMatchObject({ statistic: 0, pValue: 1 });
    expect(wassersteinTest(ref, cur, { kind: 'numeric' }).statistic).toBe(0);
  });

  it('constant column that moves: drift, std floored at 0.001 for Wasserstein', () => {
    const ref = new Float64Array(50).fill(7);
    const cur = new Float64Array(30).fill(8);
    const w = wassersteinTest(ref, cur, { kind: 'numeric' });
    expect(w.statistic).toBeCloseTo(1 / 0.001, 9);
    expect(w.drifted).toBe(true);
    expect(ksTest(ref, cur, { kind: 'numeric' }).drifted).toBe(true);
  });

  it('single category: chi-square 0 with p = 1 and a note, z p = 1, distances 0', () => {
    const chi = chiSquareTest(['a', 'a'], ['a'], { kind: 'categorical' });
    expect(chi).toMatchObject({ method: 'chisquare', statistic: 0, pValue: 1, drifted: false });
    expect(chi.note).toMatch(/0 degrees of freedom/);
    expect(zTest(['a', 'a'], ['a'], { kind: 'categorical' })).toMatchObject({ statistic: 0, pValue: 1, drifted: false });
    expect(psiTest(['a'], ['a', 'a'], { kind: 'categorical' }).statistic).toBe(0);
    expect(jensenShannonTest(['a'], ['a', 'a'], { kind: 'categorical' }).statistic).toBe(0);
  });

  it('category only in current: chi-square falls back to Jensen-Shannon and says so', () => {
    const c = fixture.binned.find((b) => b.name === 'categorical, new category in current')!;
    const ref = sampleOf(c.ref);
    const cur = sampleOf(c.cur);
    const r = chiSquareTest(ref, cur, { kind: 'categorical', threshold: 0.01 });
    expect(r.method).toBe('jensenshannon');
    expect(r.note).toMatch(/absent from reference.*new.*fell back to jensenshannon/);
    expect(r.threshold).toBe(DEFAULT_THRESHOLDS.jensenshannon);
    expectStat(r.statistic, c.expected.jensenshannon, 'jensenshannon', 'fallback');
    expect(r.drifted).toBe(true);
    // PSI fills the missing reference share with 0.0001; z and JS need nothing special.
    expectStat(psiTest(ref, cur, { kind: 'categorical' }).statistic, c.expected.psi, 'psi', 'new category');
    expectDefined(zTest(ref, cur, { kind: 'categorical' }));
  });

  it('no test returns NaN on awkward data', () => {
    const cases: [Float64Array, Float64Array][] = [
      [num(0), num(0)],
      [num(-0), num(0)],
      [num(1e300, -1e300), num(0)],
      [num(1, 1, 1, 2), num(2, 2, 2, 2)],
      [Float64Array.from({ length: 40 }, (_, i) => i), num(1e9)],
    ];
    for (const [ref, cur] of cases) for (const m of numericTests) expectDefined(runStattest(m, ref, cur, { kind: 'numeric' }));
  });

  it('tests that need numbers refuse categorical features', () => {
    expect(() => runStattest('ks', ['a'], ['b'], { kind: 'categorical' })).toThrow(InvalidInputError);
    expect(() => runStattest('wasserstein', ['a'], ['b'], { kind: 'categorical' })).toThrow(InvalidInputError);
  });

  it('KS drift is p <= threshold (Evidently), chisquare and z are p < threshold', () => {
    const ref = Float64Array.from({ length: 30 }, (_, i) => i);
    const cur = Float64Array.from({ length: 30 }, (_, i) => i + 12);
    const p = ksTest(ref, cur, { kind: 'numeric' }).pValue as number;
    expect(ksTest(ref, cur, { kind: 'numeric', threshold: p }).drifted).toBe(true);
    const zp = zTest(['a', 'a', 'b'], ['b', 'b', 'b', 'a'], { kind: 'categorical' }).pValue as number;
    expect(zTest(['a', 'a', 'b'], ['b', 'b', 'b', 'a'], { kind: 'categorical', threshold: zp }).drifted).toBe(false);
  });
});

describe('default test choice (Evidently _get_default_stattest)', () => {
  const table: [kind: 'numeric' | 'categorical', referenceSize: number, uniqueCount: number, want: StattestName][] = [
    ['numeric', 1000, 6, 'ks'],
    ['numeric', 1000, 5, 'chisquare'],
    ['numeric', 1000, 3, 'chisquare'],
    ['numeric', 1000, 2, 'z'],
    ['numeric', 10, 1, 'z'],
    ['categorical', 1000, 3, 'chisquare'],
    ['categorical', 1000, 2, 'z'],
    ['categorical', 1, 1, 'z'],
    ['numeric', 1001, 6, 'wasserstein'],
    ['numeric', 1001, 5, 'jensenshannon'],
    ['numeric', 5000, 2, 'jensenshannon'],
    ['categorical', 1001, 2, 'jensenshannon'],
    ['categorical', 1001, 50, 'jensenshannon'],
  ];
  for (const [kind, referenceSize, uniqueCount, want] of table) {
    it(`${kind}, ${referenceSize} reference rows, ${uniqueCount} distinct -> ${want}`, () => {
      expect(chooseStattest({ kind, referenceSize, uniqueCount })).toBe(want);
    });
  }
  it('every test has a default threshold', () => {
    for (const m of STATTEST_NAMES) expect(DEFAULT_THRESHOLDS[m]).toBeGreaterThan(0);
  });
});

describe('detectDrift', () => {
  it('counts missing values per window and leaves them out of the test', () => {
    const report = detectDrift({
      reference: {
        x: Float64Array.of(1, 2, NaN, 3, 4, Infinity),
        c: ['a', null, 'b', 'a'],
      },
      current: {
        x: Float64Array.of(NaN, NaN, 1, 2),
        c: [null, null, null, 'a'],
      },
      features: [
        { name: 'x', kind: 'numeric' },
        { name: 'c', kind: 'categorical' },
      ],
    });
    const [x, c] = report.features;
    expect(x).toMatchObject({ name: 'x', method: 'chisquare', methodSource: 'default' });
    expect(x.reference).toEqual({ rows: 6, missing: 1, infinite: 1, used: 4 });
    expect(x.current).toEqual({ rows: 4, missing: 2, infinite: 0, used: 2 });
    const direct = ksTest(Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 2), { kind: 'numeric' });
    expect(detectDrift({ ...reportInput(), features: [{ name: 'x', kind: 'numeric', method: 'ks' }] }).features[0].pValue).toBe(
      direct.pValue,
    );
    expect(c).toMatchObject({ name: 'c', method: 'z' });
    expect(c.reference).toEqual({ rows: 4, missing: 1, infinite: 0, used: 3 });
    expect(c.current).toEqual({ rows: 4, missing: 3, infinite: 0, used: 1 });

    function reportInput() {
      return {
        reference: { x: Float64Array.of(1, 2, NaN, 3, 4, Infinity) },
        current: { x: Float64Array.of(NaN, NaN, 1, 2) },
      };
    }
  });

  it('dataset drift when the drifted share reaches the threshold', () => {
    const ref = Float64Array.from({ length: 200 }, (_, i) => i / 10);
    const same = Float64Array.from({ length: 200 }, (_, i) => i / 10 + 0.01);
    const moved = Float64Array.from({ length: 200 }, (_, i) => i / 10 + 15);
    const input = {
      reference: { a: ref, b: ref },
      current: { a: same, b: moved },
      features: [
        { name: 'a', kind: 'numeric' as const },
        { name: 'b', kind: 'numeric' as const },
      ],
    };
    const report = detectDrift(input);
    expect(report.features.map((f) => [f.method, f.drifted])).toEqual([
      ['ks', false],
      ['ks', true],
    ]);
    expect(report.datasetDrift).toEqual({ share: 0.5, driftedCount: 1, featureCount: 2, threshold: 0.5, drifted: true });
    expect(detectDrift({ ...input, datasetDriftShare: 0.6 }).datasetDrift.drifted).toBe(false);
  });

  it('an empty current window is reported, not thrown, and does not count as drift', () => {
    const report = detectDrift({
      reference: { x: Float64Array.of(1, 2, 3) },
      current: { x: Float64Array.of(NaN) },
      features: [{ name: 'x', kind: 'numeric', method: 'psi', threshold: 0.2 }],
    });
    expect(report.features[0]).toMatchObject({
      method: 'psi',
      methodSource: 'configured',
      statistic: null,
      pValue: null,
      threshold: 0.2,
      drifted: false,
      note: 'empty current window',
    });
    expect(report.datasetDrift.drifted).toBe(false);
  });

  it('no features: share 0, no drift', () => {
    expect(detectDrift({ reference: {}, current: {}, features: [] }).datasetDrift).toMatchObject({ share: 0, drifted: false });
  });

  it('rejects configuration errors', () => {
    const cols = { x: Float64Array.of(1), c: ['a'] };
    const run =
      (features: Parameters<typeof detectDrift>[0]['features'], extra = {}) =>
      () =>
        detectDrift({ reference: cols, current: cols, features, ...extra });
    expect(run([{ name: 'missing', kind: 'numeric' }])).toThrow(/missing from the reference/);
    expect(run([{ name: 'c', kind: 'numeric' }])).toThrow(/must be a Float64Array/);
    expect(run([{ name: 'x', kind: 'categorical' }])).toThrow(/string \| null/);
    expect(run([{ name: 'c', kind: 'categorical', method: 'ks' }])).toThrow(/does not apply/);
    expect(
      run([
        { name: 'x', kind: 'numeric' },
        { name: 'x', kind: 'numeric' },
      ]),
    ).toThrow(/listed twice/);
    expect(run([{ name: 'x', kind: 'numeric' }], { datasetDriftShare: 1.5 })).toThrow(InvalidInputError);
  });

  it('handles 1e6-row windows (default test: Wasserstein)', () => {
    const ref = generate({ seed: 5, n: 1_000_000, k: 4, scale: 1, shift: 0 });
    const cur = generate({ seed: 6, n: 1_000_000, k: 4, scale: 1, shift: 0.05 });
    const t0 = performance.now();
    const report = detectDrift({
      reference: { x: ref },
      current: { x: cur },
      features: [{ name: 'x', kind: 'numeric' }],
    });
    const ks = ksTest(ref, cur, { kind: 'numeric' });
    const psi = psiTest(ref, cur, { kind: 'numeric' });
    const elapsed = performance.now() - t0;
    expect(report.features[0].method).toBe('wasserstein');
    expect(report.features[0].drifted).toBe(false); // 0.05 / 0.577 sd ~ 0.087 < 0.1
    expect(ks.drifted).toBe(true);
    expect(psi.statistic).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(30_000);
  });
});
