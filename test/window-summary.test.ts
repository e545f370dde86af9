import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../lib/errors';
import {
  describeAccuracy,
  detectDriftFromSummaries,
  type ApproximateFeatureDrift,
  type SummaryWindow,
} from '../lib/drift/approximate-drift';
import {
  detectDrift,
  prepareColumn,
  type Columns,
  type DriftColumns,
  type FeatureDrift,
  type FeatureSpec,
} from '../lib/drift/dataset-drift';
import type { StattestName } from '../lib/drift/stattest-names';
import { MAX_EXACT_VALUES, WindowSummary, type SummaryFeature } from '../lib/drift/window-summary';
import { mulberry32 } from '../lib/split';

const ROWS = 1_000_000;

interface WindowShape {
  /** Shift of the numeric features, in reference standard deviations. */
  shift: number;
  /** Share of the categorical feature's rows moved from 'a' to 'c'. */
  moved: number;
}

const FEATURES: SummaryFeature[] = [
  { name: 'normal', kind: 'numeric' },
  { name: 'lognormal', kind: 'numeric' },
  { name: 'rating', kind: 'numeric' },
  { name: 'plan', kind: 'categorical' },
];

/** A window of `rows` rows: two continuous features, one with few values, one categorical, some missing. */
function windowOf(rows: number, seed: number, shape: WindowShape): Columns {
  const r = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const plan: (string | null)[] = new Array(rows);
  const columns = {
    normal: new Float64Array(rows),
    lognormal: new Float64Array(rows),
    rating: new Float64Array(rows),
    plan,
  };
  for (let i = 0; i < rows; i++) {
    const z = normal() + shape.shift;
    columns.normal[i] = r() < 0.01 ? NaN : 100 + 15 * z;
    columns.lognormal[i] = r() < 0.001 ? Infinity : Math.exp(0.8 * (normal() + shape.shift));
    columns.rating[i] = Math.min(5, Math.max(1, Math.round(3 + 1.1 * (normal() + shape.shift))));
    const u = r();
    plan[i] = u < 0.02 ? null : u < 0.5 ? (r() < shape.moved ? 'c' : 'a') : u < 0.85 ? 'b' : 'c';
  }
  return columns;
}

/** The window summarised in `parts` partitions (each its own seed), sent through JSON and merged. */
function summarised(columns: Columns, parts: number): WindowSummary {
  const rows = columns.normal.length;
  const size = Math.ceil(rows / parts);
  const texts = Array.from({ length: parts }, (_, p) => {
    const part = WindowSummary.create(FEATURES, { seed: p });
    // Two batches per partition, as a reader hands them over.
    for (const [from, to] of [
      [p * size, p * size + size / 2],
      [p * size + size / 2, Math.min(rows, (p + 1) * size)],
    ]) {
      part.add(Object.fromEntries(Object.entries(columns).map(([name, c]) => [name, c.slice(from, to)])));
    }
    return JSON.stringify(part);
  });
  return texts.map((t, p) => WindowSummary.fromJSON(JSON.parse(t), `partition ${p}`)).reduce((a, b) => a.merge(b));
}

const NUMERIC_TESTS: StattestName[] = ['ks', 'wasserstein', 'psi', 'jensenshannon'];
const CATEGORICAL_TESTS: StattestName[] = ['chisquare', 'jensenshannon', 'psi', 'z'];

function specs(): FeatureSpec[] {
  return [
    ...NUMERIC_TESTS.flatMap((method) => ['normal', 'lognormal'].map((name) => ({ name, kind: 'numeric' as const, method }))),
    ...['ks', 'wasserstein', 'psi', 'jensenshannon', 'chisquare', 'z'].map((method) => ({
      name: 'rating',
      kind: 'numeric' as const,
      method: method as StattestName,
    })),
    ...CATEGORICAL_TESTS.map((method) => ({ name: 'plan', kind: 'categorical' as const, method })),
  ];
}

/** The columns cleaned and (when a test asks) sorted once, for all the specs. */
function prepared(columns: Columns): DriftColumns {
  return Object.fromEntries(FEATURES.map((f) => [f.name, prepareColumn(columns[f.name], f.kind)]));
}

/** Runs each spec on its own (a feature may be tested by several methods). */
function exactResults(reference: DriftColumns, current: DriftColumns): FeatureDrift[] {
  return specs().map((spec) => detectDrift({ reference, current, features: [spec] }).features[0]);
}
function approximateResults(reference: SummaryWindow, current: SummaryWindow): ApproximateFeatureDrift[] {
  return specs().map((spec) => detectDriftFromSummaries({ reference, current, features: [spec] }).features[0]);
}

function withoutAccuracy(f: ApproximateFeatureDrift): FeatureDrift {
  const { approximate, rankError, statisticError, ...rest } = f;
  void approximate;
  void rankError;
  void statisticError;
  return rest;
}

const REFERENCE = windowOf(ROWS, 1, { shift: 0, moved: 0 });
const STABLE = windowOf(ROWS, 2, { shift: 0, moved: 0 });
const DRIFTED = windowOf(ROWS, 3, { shift: 0.5, moved: 0.3 });
const REFERENCE_SUMMARY = summarised(REFERENCE, 4);
const REFERENCE_PREPARED = prepared(REFERENCE);

describe('drift tests on window summaries', () => {
  for (const [label, current] of [
    ['stable', STABLE],
    ['drifted', DRIFTED],
  ] as const) {
    it(`match the exact tests on a clearly ${label} 1e6-row window (16 partitions merged)`, () => {
      const exact = exactResults(REFERENCE_PREPARED, prepared(current));
      const currentSummary = summarised(current, 16);
      for (const [referenceLabel, reference] of [
        ['summary', REFERENCE_SUMMARY],
        ['exact columns', REFERENCE_PREPARED],
      ] as const) {
        const approx = approximateResults(reference, currentSummary);
        approx.forEach((a, i) => {
          const e = exact[i];
          const what = `${label}, reference ${referenceLabel}: ${a.name} ${a.method}`;
          expect(a.method, what).toBe(e.method);
          expect(a.reference, what).toEqual(e.reference);
          expect(a.current, what).toEqual(e.current);
          if (!a.approximate) {
            // Categorical features and the few-valued one: the exact test's result, bit for bit,
            // but for wasserstein's norm from a summary's merged moments (within about 1e-13).
            if (a.method === 'wasserstein' && reference instanceof WindowSummary) {
              expect(Math.abs((a.statistic as number) / (e.statistic as number) - 1), what).toBeLessThan(1e-12);
              expect({ ...withoutAccuracy(a), statistic: 0 }, what).toEqual({ ...e, statistic: 0 });
            } else {
              expect(withoutAccuracy(a), what).toEqual(e);
            }
            return;
          }
          const error = Math.abs((a.statistic as number) - (e.statistic as number));
          console.log(
            `${what}: exact ${e.statistic?.toPrecision(6)} approx ${a.statistic?.toPrecision(6)} |diff| ${error.toExponential(2)}` +
              (a.statisticError !== undefined ? ` (bound ${a.statisticError.toExponential(2)})` : '') +
              `, ε ${a.rankError?.toFixed(5)}, drifted ${e.drifted}/${a.drifted}`,
          );
          expect(a.rankError, what).toBeLessThanOrEqual(0.01);
          if (a.statisticError !== undefined) expect(error, what).toBeLessThanOrEqual(a.statisticError);
          expect(a.drifted, what).toBe(e.drifted);
          expect(a.drifted, what).toBe(label === 'drifted');
        });
        const categorical = approx.filter((a) => a.kind === 'categorical' || a.name === 'rating');
        expect(categorical.every((a) => !a.approximate)).toBe(true);
      }
    });
  }

  it('keeps KS from calling sketch noise drift at large n, and says so', () => {
    const result = detectDriftFromSummaries({
      reference: REFERENCE_SUMMARY,
      current: summarised(STABLE, 16),
      features: [{ name: 'normal', kind: 'numeric', method: 'ks' }],
    }).features[0];
    expect(result.drifted).toBe(false);
    expect(result.statisticError).toBeGreaterThan(0);
    // D̂ alone (about 0.003 against an exact 0.001) would be significant at 1e6 rows.
    expect(result.pValue).toBeLessThanOrEqual(0.05);
    expect(result.note).toMatch(/^not called drift: within the rank error D could be 0, where p = 1$/);
  });

  it('picks the default test as the exact code does and decides dataset drift the same way', () => {
    const features: FeatureSpec[] = FEATURES.map((f) => ({ name: f.name, kind: f.kind }));
    const exact = detectDrift({ reference: REFERENCE, current: DRIFTED, features });
    const approx = detectDriftFromSummaries({ reference: REFERENCE_SUMMARY, current: summarised(DRIFTED, 4), features });
    expect(approx.features.map((f) => [f.method, f.methodSource])).toEqual(exact.features.map((f) => [f.method, f.methodSource]));
    expect(approx.datasetDrift).toEqual(exact.datasetDrift);
    const sentence = describeAccuracy(approx.features);
    console.log(sentence);
    expect(sentence).toMatch(
      /^Approximate, rank error ≤ 0\.00\d+ \(99% confidence\): normal \(wasserstein\), lognormal \(wasserstein\)\. Exact: rating \(jensenshannon\), plan \(jensenshannon\)\.$/,
    );
  });

  it('tests small windows exactly when nothing was compacted, and with ks2samp exact p-values when it was', () => {
    const reference = windowOf(800, 4, { shift: 0, moved: 0 });
    const current = windowOf(6000, 5, { shift: 0.1, moved: 0 });
    const spec: FeatureSpec = { name: 'normal', kind: 'numeric', method: 'ks' };
    const exact = detectDrift({ reference, current, features: [spec] }).features[0];
    const small = detectDriftFromSummaries({ reference: summarised(reference, 1), current, features: [spec] }).features[0];
    expect(withoutAccuracy(small)).toEqual(exact);
    expect(small.approximate).toBe(false);
    const sketched = detectDriftFromSummaries({ reference: summarised(reference, 1), current: summarised(current, 3), features: [spec] })
      .features[0];
    console.log(
      `ks 800 vs 6000 rows: exact D ${exact.statistic} p ${exact.pValue}; approx D ${sketched.statistic} p ${sketched.pValue} (bound ${sketched.statisticError})`,
    );
    expect(sketched.approximate).toBe(true);
    expect(Math.abs((sketched.statistic as number) - (exact.statistic as number))).toBeLessThanOrEqual(sketched.statisticError as number);
  });

  it('gives the exact results for empty windows and unseen categories', () => {
    const reference: Columns = { normal: Float64Array.from([1, 2, 3]), plan: ['a', 'a', 'b'] };
    const current: Columns = { normal: Float64Array.from([NaN, NaN]), plan: ['c', null] };
    const features: SummaryFeature[] = [
      { name: 'normal', kind: 'numeric' },
      { name: 'plan', kind: 'categorical' },
    ];
    const summary = (columns: Columns) => {
      const s = WindowSummary.create(features);
      s.add(columns);
      return s;
    };
    for (const method of ['ks', 'wasserstein', 'psi', 'jensenshannon', 'chisquare', 'z'] as StattestName[]) {
      const spec: FeatureSpec = { name: 'normal', kind: 'numeric', method };
      const exact = detectDrift({ reference, current, features: [spec] }).features[0];
      const approx = detectDriftFromSummaries({ reference: summary(reference), current: summary(current), features: [spec] }).features[0];
      expect(withoutAccuracy(approx), method).toEqual(exact);
    }
    for (const method of CATEGORICAL_TESTS) {
      const spec: FeatureSpec = { name: 'plan', kind: 'categorical', method };
      const exact = detectDrift({ reference, current, features: [spec] }).features[0];
      const approx = detectDriftFromSummaries({ reference: summary(reference), current: summary(current), features: [spec] }).features[0];
      expect(withoutAccuracy(approx), method).toEqual(exact);
    }
  });

  it('refuses a feature missing from a window, summarised as another kind, or given a test that does not apply', () => {
    const run = (features: FeatureSpec[], current: SummaryWindow = REFERENCE_SUMMARY) =>
      detectDriftFromSummaries({ reference: REFERENCE_SUMMARY, current, features });
    expect(() => run([{ name: 'plan', kind: 'numeric' }])).toThrow(/'plan' in the reference window is summarised as categorical/);
    expect(() => run([{ name: 'age', kind: 'numeric' }])).toThrow(/'age' is missing from the reference summary/);
    expect(() => run([{ name: 'normal', kind: 'numeric' }], { plan: ['a'] })).toThrow(/'normal' is missing from the current columns/);
    expect(() => run([{ name: 'plan', kind: 'categorical', method: 'ks' }])).toThrow(/does not apply to categorical/);
    expect(() => run([{ name: 'normal', kind: 'numeric' }], { normal: ['1'] })).toThrow(InvalidInputError);
  });

  it('gives a defined result when a numeric chi-square needs value counts a summary no longer has', () => {
    const spec: FeatureSpec = { name: 'normal', kind: 'numeric', method: 'chisquare' };
    const result = detectDriftFromSummaries({ reference: REFERENCE_SUMMARY, current: summarised(STABLE, 2), features: [spec] }).features[0];
    expect(result).toMatchObject({ method: 'chisquare', statistic: null, pValue: null, drifted: false, approximate: true });
    expect(result.note).toMatch(`up to ${MAX_EXACT_VALUES} distinct values`);
  });
});

describe('WindowSummary', () => {
  it('counts rows, missing and infinite values exactly, and merges in any order to the same counts', () => {
    const a = summarised(STABLE, 3);
    const b = summarised(STABLE, 7);
    const normal = a.columns.get('normal')!;
    expect(a.rows).toBe(ROWS);
    expect(normal.counts).toEqual(b.columns.get('normal')!.counts);
    expect(normal.counts.missing).toBe(STABLE.normal.filter((v) => Number.isNaN(v)).length);
    expect(a.columns.get('lognormal')!.counts.infinite).toBe((STABLE.lognormal as Float64Array).filter((v) => v === Infinity).length);
    const plan = a.columns.get('plan')!;
    expect(plan.kind === 'categorical' && Object.fromEntries(plan.labelCounts)).toEqual(
      plan.kind === 'categorical' &&
        Object.fromEntries(b.columns.get('plan')!.kind === 'categorical' ? (b.columns.get('plan') as typeof plan).labelCounts : []),
    );
    const finite = (STABLE.normal as Float64Array).filter((v) => Number.isFinite(v));
    const mean = finite.reduce((s, v) => s + v, 0) / finite.length;
    const std = Math.sqrt(finite.reduce((s, v) => s + (v - mean) ** 2, 0) / finite.length);
    if (normal.kind !== 'numeric') throw new Error('numeric expected');
    expect(Math.abs(normal.std - std) / std).toBeLessThan(1e-12);
    expect(Math.abs(normal.mean - mean) / mean).toBeLessThan(1e-12);
  });

  it('round-trips through JSON', () => {
    const summary = summarised(windowOf(20_000, 9, { shift: 0, moved: 0 }), 2);
    const copy = WindowSummary.fromJSON(JSON.parse(JSON.stringify(summary)));
    expect(copy.toJSON()).toEqual(summary.toJSON());
    expect(copy.features).toEqual(FEATURES);
  });

  it('rejects bad serialised input with a message naming the field', () => {
    const good = summarised(windowOf(5000, 9, { shift: 0, moved: 0 }), 1).toJSON();
    const cases: [string, unknown, RegExp][] = [
      ['a wrong kind', { ...good, kind: 'x' }, /kind/],
      ['rows that disagree', { ...good, rows: good.rows + 1 }, /columns\.0\.sketch: counts 5000 rows in a window of 5001/],
      [
        'a bad sketch inside',
        { ...good, columns: good.columns.map((c) => (c.kind === 'numeric' ? { ...c, sketch: { ...c.sketch, n: -3 } } : c)) },
        /columns\.0\.sketch\.n/,
      ],
      [
        'a label counted twice',
        {
          ...good,
          columns: good.columns.map((c) =>
            c.kind === 'categorical' ? { ...c, counts: [...c.counts, [c.counts[0][0], 1]], rows: c.rows + 1 } : c,
          ),
        },
        /columns\.3\.(rows|counts)/,
      ],
    ];
    for (const [what, input, message] of cases) {
      expect(() => WindowSummary.fromJSON(input, 'summary of partition 2'), what).toThrow(InvalidInputError);
      expect(() => WindowSummary.fromJSON(input, 'summary of partition 2'), what).toThrow(/^summary of partition 2 is invalid:/);
      expect(() => WindowSummary.fromJSON(input, 'summary of partition 2'), what).toThrow(message);
    }
  });

  it('refuses to merge summaries of different features, and batches that do not fit', () => {
    const a = WindowSummary.create(FEATURES);
    const b = WindowSummary.create(FEATURES.slice(0, 2));
    expect(() => a.merge(b)).toThrow(/different features/);
    expect(() => a.add({ normal: new Float64Array(2) })).toThrow(/'lognormal' is missing from the batch/);
    expect(() =>
      a.add({ normal: new Float64Array(2), lognormal: new Float64Array(3), rating: new Float64Array(2), plan: ['a', 'b'] }),
    ).toThrow(/3 rows in a batch of 2/);
    expect(() => a.add({ normal: ['1', '2'], lognormal: new Float64Array(2), rating: new Float64Array(2), plan: ['a', 'b'] })).toThrow(
      /must be a Float64Array/,
    );
    expect(a.rows).toBe(0);
    expect(() => WindowSummary.create([FEATURES[0], FEATURES[0]])).toThrow(/listed twice/);
  });

  it(`stops counting a numeric column's values exactly past ${MAX_EXACT_VALUES} distinct ones`, () => {
    const s = WindowSummary.create([{ name: 'x', kind: 'numeric' }]);
    s.add({ x: Float64Array.from({ length: MAX_EXACT_VALUES }, (_, i) => i % 7) });
    const x = s.columns.get('x')!;
    expect(x.kind === 'numeric' && x.values?.size).toBe(7);
    s.add({ x: Float64Array.from({ length: MAX_EXACT_VALUES }, (_, i) => i + 0.5) });
    expect(x.kind === 'numeric' && x.values).toBeNull();
  });
});
