import { describe, expect, it } from 'vitest';
import { countBelow } from '../lib/drift/sorted-search';
import { InvalidInputError } from '../lib/errors';
import type { FeatureKind } from '../lib/feature-kind';
import { servingSummary, type PredictionLine, type VersionServing } from '../lib/prediction-log';
import { OUTPUT_COLUMN, PredictionWindowSummary, type PredictionWindowSummaryJson } from '../lib/prediction-window-summary';
import type { FeatureSpec } from '../lib/drift/dataset-drift';
import { seedOf } from '../lib/drift/quantile-sketch';
import { featureDistribution } from '../lib/drift/report';
import { summarizedDistribution, testSummarized } from '../lib/drift/summary-report';
import { CategoricalSummary, NumericSummary, WindowSummary, type SummaryFeature } from '../lib/drift/window-summary';
import { HISTOGRAM_LENGTH, scoreBin } from '../lib/performance-estimation';
import { mulberry32 } from '../lib/split';

const FEATURES: SummaryFeature[] = [
  { name: 'age', kind: 'numeric' },
  { name: 'income', kind: 'numeric' },
  { name: 'plan', kind: 'categorical' },
];

type Features = PredictionLine['features'];

function lineOf(i: number, fields: Partial<PredictionLine> & { features: Features }): PredictionLine {
  return {
    id: `p-${i}`,
    timestamp: '2024-05-01T03:00:00Z',
    model: 'churn',
    version: 'v1',
    prediction: 'no',
    latencyMs: 10,
    ...fields,
  };
}

/**
 * `rows` prediction lines of a churn classifier: an integer feature, a continuous one (at most
 * `rows` distinct values), a categorical one with some numbers in it; each feature sometimes null
 * or absent. Three versions: v1 always reports a cost, v10 sometimes, v2 never.
 */
function linesOf(rows: number, seed: number): PredictionLine[] {
  const r = mulberry32(seed);
  const lines: PredictionLine[] = [];
  for (let i = 0; i < rows; i++) {
    const features: Features = {};
    const u = r();
    if (u < 0.9) features.age = 18 + Math.floor(r() * 60);
    else if (u < 0.95) features.age = null; // else absent
    if (r() < 0.97) features.income = Math.round(20_000 + 80_000 * r() * r()) / 100;
    const p = r();
    if (p < 0.04) features.plan = null;
    else if (p < 0.07) features.plan = p < 0.055 ? 3 : 2.5;
    else if (p < 0.95) features.plan = ['basic', 'pro', 'team'][Math.floor(r() * 3)];
    // else absent
    const v = r();
    const version = v < 0.45 ? 'v1' : v < 0.8 ? 'v10' : 'v2';
    const cost = version === 'v1' || (version === 'v10' && r() < 0.5) ? 0.001 + r() / 100 : undefined;
    const q = r();
    const prediction = q < 0.05 ? 1 : q < 0.6 ? 'no' : 'yes';
    lines.push(lineOf(i, { version, features, prediction, latencyMs: 3 + 40 * r() * r(), ...(cost !== undefined ? { cost } : {}) }));
  }
  return lines;
}

/** Three partitions of unequal size, each summarised with its own seed. */
function partitionSummaries(lines: readonly PredictionLine[], cuts: readonly number[], outputKind: FeatureKind = 'categorical') {
  const bounds = [0, ...cuts, lines.length];
  return bounds.slice(1).map((to, p) => {
    const hour = `2024-05-01T0${p}`;
    const part = PredictionWindowSummary.create({ features: FEATURES, outputKind, seed: seedOf(hour) });
    for (let i = bounds[p]; i < to; i++) part.add(lines[i], `predictions/${hour}.jsonl:${i - bounds[p] + 1}`);
    return part;
  });
}

function throughJson(summary: PredictionWindowSummary): PredictionWindowSummary {
  return PredictionWindowSummary.fromJSON(JSON.parse(JSON.stringify(summary)));
}

function numericColumn(summary: WindowSummary, name: string): NumericSummary {
  const column = summary.columns.get(name);
  if (!(column instanceof NumericSummary)) throw new Error(`${name} is not a numeric summary`);
  return column;
}

function categoricalColumn(summary: WindowSummary, name: string): CategoricalSummary {
  const column = summary.columns.get(name);
  if (!(column instanceof CategoricalSummary)) throw new Error(`${name} is not a categorical summary`);
  return column;
}

function expectRelClose(actual: number, expected: number, rel: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-300);
}

/** Mean and population std of the finite numbers, two passes. */
function moments(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const m2 = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  return { mean, std: Math.sqrt(m2 / values.length) };
}

function countsOf<T>(values: readonly T[]): Map<T, number> {
  const out = new Map<T, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

function sortedEntries<K extends number | string>(map: ReadonlyMap<K, number>): [K, number][] {
  return [...map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** What one summary of all the lines must hold, computed directly from them. */
function expectSummaryOf(summary: PredictionWindowSummary, lines: readonly PredictionLine[], what: string): void {
  expect(summary.rows, what).toBe(lines.length);
  expect(summary.invalid, what).toEqual({ invalidLines: 0 });
  for (const name of ['age', 'income']) {
    const numbers = lines.map((l) => l.features[name]).filter((v): v is number => typeof v === 'number');
    const column = numericColumn(summary.features, name);
    const where = `${what}: ${name}`;
    expect(column.counts, where).toEqual({ rows: lines.length, missing: lines.length - numbers.length, infinite: 0, used: numbers.length });
    const expected = moments(numbers);
    expectRelClose(column.mean, expected.mean, 1e-12, `${where} mean`);
    expectRelClose(column.std, expected.std, 1e-12, `${where} std`);
    expect(column.values, where).not.toBeNull();
    expect(sortedEntries(column.values!), where).toEqual(sortedEntries(countsOf(numbers)));
  }
  const plan = categoricalColumn(summary.features, 'plan');
  const labels = lines.map((l) => l.features.plan).filter((v) => v !== null && v !== undefined);
  expect(plan.counts, what).toEqual({ rows: lines.length, missing: lines.length - labels.length, infinite: 0, used: labels.length });
  expect(sortedEntries(plan.labelCounts), what).toEqual(sortedEntries(countsOf(labels.map(String))));

  expect(summary.output.features, what).toEqual([{ name: OUTPUT_COLUMN, kind: 'categorical' }]);
  const output = categoricalColumn(summary.output, OUTPUT_COLUMN);
  expect(output.counts, what).toEqual({ rows: lines.length, missing: 0, infinite: 0, used: lines.length });
  expect(sortedEntries(output.labelCounts), what).toEqual(sortedEntries(countsOf(lines.map((l) => String(l.prediction)))));

  expectServing(summary.serving(), servingSummary(lines), what);
}

/** Serving figures: counts, max and (few latencies: exact sketches) percentiles equal; sums within 1e-12. */
function expectServing(actual: VersionServing[], expected: VersionServing[], what: string): void {
  expect(
    actual.map((s) => s.version),
    what,
  ).toEqual(expected.map((s) => s.version));
  actual.forEach((a, i) => {
    const e = expected[i];
    const where = `${what}: ${a.version}`;
    expect(a.predictions, where).toBe(e.predictions);
    expect(a.latencyMs.max, where).toBe(e.latencyMs.max);
    expect(a.latencyMs.p50, where).toBe(e.latencyMs.p50);
    expect(a.latencyMs.p95, where).toBe(e.latencyMs.p95);
    expectRelClose(a.latencyMs.mean, e.latencyMs.mean, 1e-12, `${where} latency mean`);
    expect(a.cost.counted, where).toBe(e.cost.counted);
    expectRelClose(a.cost.total, e.cost.total, 1e-12, `${where} cost total`);
    if (e.cost.perPrediction === null) expect(a.cost.perPrediction, where).toBeNull();
    else expectRelClose(a.cost.perPrediction!, e.cost.perPrediction, 1e-12, `${where} cost per prediction`);
  });
}

/** Share of `sorted` (ascending) that is <= x. */
function empiricalCdf(sorted: Float64Array, x: number): number {
  return countBelow(sorted, x, true) / sorted.length;
}

function normals(n: number, seed: number, mean: number, sd: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

const LINES = linesOf(600, 11);
const CUTS = [150, 370];

describe('PredictionWindowSummary', () => {
  it('summarises the lines exactly, whatever the partitions and the order they merge in', () => {
    // The test data covers what it should: every version, costs and their absence, missing values, numbers in plan.
    expect(new Set(LINES.map((l) => l.version))).toEqual(new Set(['v1', 'v10', 'v2']));
    expect(LINES.some((l) => !Object.hasOwn(l.features, 'age'))).toBe(true);
    expect(LINES.some((l) => typeof l.features.plan === 'number')).toBe(true);
    expect(LINES.some((l) => typeof l.prediction === 'number')).toBe(true);

    const whole = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'categorical', seed: 1 });
    LINES.forEach((l, i) => whole.add(l, `all:${i + 1}`));
    expectSummaryOf(whole, LINES, 'one summary');

    const orders = [
      [0, 1, 2],
      [2, 0, 1],
      [1, 2, 0],
    ];
    for (const order of orders) {
      const parts = partitionSummaries(LINES, CUTS);
      const merged = order.map((p) => parts[p]).reduce((a, b) => a.merge(b));
      expectSummaryOf(merged, LINES, `merged in order ${order.join(',')}`);
      // With few latencies per version the latency sketches stay exact.
      expect(merged.latencyRankError).toBe(0);
    }
    for (const order of orders) {
      const parts = partitionSummaries(LINES, CUTS).map(throughJson);
      const merged = order.map((p) => parts[p]).reduce((a, b) => a.merge(b));
      expectSummaryOf(merged, LINES, `merged through JSON in order ${order.join(',')}`);
    }
    // Pairwise, and the merged result through JSON once more.
    const parts = partitionSummaries(LINES, CUTS);
    const pairwise = throughJson(parts[0].merge(throughJson(parts[2].merge(parts[1]))));
    expectSummaryOf(pairwise, LINES, 'merged pairwise');
  });

  it('does not change the summary merged in', () => {
    const [a, b] = partitionSummaries(LINES, [200]);
    const before = JSON.stringify(b);
    a.merge(b);
    expect(JSON.stringify(b)).toBe(before);
    expect(a.rows).toBe(600);
    expect(b.rows).toBe(400);
  });

  it('keeps the rank error of a merged sketch when a numeric feature has more than 1000 values', () => {
    const rows = 20_000;
    const values = normals(rows, 5, 50, 12);
    const lines = Array.from(values, (v, i) => lineOf(i, { features: { age: 30, income: v, plan: 'basic' }, latencyMs: 1 + i / 100 }));
    const parts = partitionSummaries(lines, [3000, 9000, 15_000]).map(throughJson);
    const merged = parts.reduce((a, b) => a.merge(b));
    const income = numericColumn(merged.features, 'income');
    expect(income.values).toBeNull();
    expect(income.counts).toEqual({ rows, missing: 0, infinite: 0, used: rows });
    expect(income.sketch.isExact).toBe(false);
    const epsilon = income.sketch.rankError;
    expect(epsilon).toBeGreaterThan(0);
    expect(epsilon).toBeLessThan(0.02);
    const sorted = values.slice().sort();
    expect(income.sketch.min).toBe(sorted[0]);
    expect(income.sketch.max).toBe(sorted[rows - 1]);
    for (let x = 10; x <= 90; x += 0.5) {
      expect(Math.abs(income.sketch.cdf(x) - empiricalCdf(sorted, x)), `cdf at ${x}`).toBeLessThanOrEqual(epsilon);
    }
    // Still the exact moments, and the one-valued feature's exact counts.
    const expected = moments(Array.from(values));
    expectRelClose(income.mean, expected.mean, 1e-12, 'mean');
    expectRelClose(income.std, expected.std, 1e-12, 'std');
    expect(sortedEntries(numericColumn(merged.features, 'age').values!)).toEqual([[30, rows]]);
    // The latency percentiles come from a sketch now, within its rank error of the nearest rank.
    const [serving] = merged.serving();
    const latencies = Float64Array.from(lines, (l) => l.latencyMs).sort();
    const latencyError = merged.latencyRankError;
    expect(latencyError).toBeGreaterThan(0);
    expect(serving.predictions).toBe(rows);
    expect(serving.latencyMs.max).toBe(latencies[rows - 1]);
    expectRelClose(serving.latencyMs.mean, moments(Array.from(latencies)).mean, 1e-12, 'latency mean');
    for (const [q, value] of [
      [0.5, serving.latencyMs.p50],
      [0.95, serving.latencyMs.p95],
    ]) {
      expect(Math.abs(empiricalCdf(latencies, value) - q), `p${q * 100}`).toBeLessThanOrEqual(latencyError + 1 / rows);
    }
  });

  it('leaves out and counts a line with text in a numeric feature, naming where and the field', () => {
    const summary = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'categorical', seed: 3 });
    summary.add(lineOf(0, { features: { age: 40, income: 12.5, plan: 'pro' } }), 'predictions/2024-05-01T03.jsonl:1');
    summary.add(lineOf(1, { features: { age: 'forty', income: 12.5, plan: 'pro' }, version: 'v9' }), 'predictions/2024-05-01T03.jsonl:2');
    summary.add(lineOf(2, { features: { age: 41, income: 'n/a', plan: 'pro' } }), 'predictions/2024-05-01T03.jsonl:3');
    expect(summary.rows).toBe(1);
    expect(summary.invalid.invalidLines).toBe(2);
    expect(summary.invalid.firstInvalid).toContain('predictions/2024-05-01T03.jsonl:2');
    expect(summary.invalid.firstInvalid).toContain('features.age');
    expect(summary.invalid.firstInvalid).toContain('"forty"');
    // The left-out lines count nowhere else: not in the features, the output or the serving figures.
    expect(numericColumn(summary.features, 'age').counts.rows).toBe(1);
    expect(summary.output.rows).toBe(1);
    expect(summary.serving().map((s) => [s.version, s.predictions])).toEqual([['v1', 1]]);
    // A text in a categorical feature is fine.
    summary.add(lineOf(3, { features: { age: 42, income: 1, plan: 'forty' } }), 'x:4');
    expect(summary.rows).toBe(2);
  });

  it("leaves out and counts a regression model's text output", () => {
    const summary = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'numeric', seed: 3 });
    summary.add(lineOf(0, { features: {}, prediction: 12.5 }), 'log:1');
    summary.add(lineOf(1, { features: {}, prediction: 'high' }), 'log:2');
    expect(summary.rows).toBe(1);
    expect(summary.invalid.invalidLines).toBe(1);
    expect(summary.invalid.firstInvalid).toContain('log:2');
    expect(summary.invalid.firstInvalid).toMatch(/prediction/);
    expect(summary.invalid.firstInvalid).toContain('"high"');
    const output = numericColumn(summary.output, OUTPUT_COLUMN);
    expect(output.counts).toEqual({ rows: 1, missing: 0, infinite: 0, used: 1 });
    expect(sortedEntries(output.values!)).toEqual([[12.5, 1]]);
    // A classifier takes the same text output.
    const classifier = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'categorical', seed: 3 });
    classifier.add(lineOf(1, { features: {}, prediction: 'high' }), 'log:2');
    expect(classifier.invalid).toEqual({ invalidLines: 0 });
    expect(classifier.rows).toBe(1);
  });

  it('counts lines added as invalid, and merging adds the counts and keeps the first description', () => {
    const empty = () => PredictionWindowSummary.create({ features: FEATURES, outputKind: 'categorical', seed: 0 });
    const a = empty();
    expect(a.invalid).toEqual({ invalidLines: 0 });
    const b = empty();
    b.addInvalid('hour 1:7: not JSON');
    b.addInvalid('hour 1:9: model is not churn');
    expect(b.invalid).toEqual({ invalidLines: 2, firstInvalid: 'hour 1:7: not JSON' });
    const c = empty();
    c.add(lineOf(0, { features: { age: 'x' } }), 'hour 2:1');
    // The first summary without one takes the other's first.
    a.merge(b);
    expect(a.invalid).toEqual({ invalidLines: 2, firstInvalid: 'hour 1:7: not JSON' });
    // One that has a first keeps its own.
    const merged = throughJson(c).merge(throughJson(a));
    expect(merged.invalid.invalidLines).toBe(3);
    expect(merged.invalid.firstInvalid).toContain('hour 2:1');
    expect(merged.invalid.firstInvalid).toContain('features.age');
    // And JSON keeps both.
    expect(throughJson(merged).invalid).toEqual(merged.invalid);
    expect(merged.rows).toBe(0);
  });

  it('counts an absent feature as missing and turns numbers in a categorical feature into their text', () => {
    const summary = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'categorical', seed: 9 });
    summary.add(lineOf(0, { features: {}, prediction: 1 }), 'l:1');
    summary.add(lineOf(1, { features: { age: null, plan: null }, prediction: 0.5 }), 'l:2');
    summary.add(lineOf(2, { features: { age: 30, income: Infinity, plan: 3 }, prediction: 'yes' }), 'l:3');
    summary.add(lineOf(3, { features: { age: 31, income: 7, plan: 2.5, other: 'ignored' }, prediction: 'yes' }), 'l:4');
    summary.add(lineOf(4, { features: { age: 31, income: -1, plan: 'pro' }, prediction: 'no' }), 'l:5');
    expect(summary.rows).toBe(5);
    expect(numericColumn(summary.features, 'age').counts).toEqual({ rows: 5, missing: 2, infinite: 0, used: 3 });
    expect(sortedEntries(numericColumn(summary.features, 'age').values!)).toEqual([
      [30, 1],
      [31, 2],
    ]);
    const income = numericColumn(summary.features, 'income');
    expect(income.counts).toEqual({ rows: 5, missing: 2, infinite: 1, used: 2 });
    expect(income.mean).toBe(3);
    expect(income.std).toBe(4);
    const plan = categoricalColumn(summary.features, 'plan');
    expect(plan.counts).toEqual({ rows: 5, missing: 2, infinite: 0, used: 3 });
    expect(sortedEntries(plan.labelCounts)).toEqual([
      ['2.5', 1],
      ['3', 1],
      ['pro', 1],
    ]);
    expect(sortedEntries(categoricalColumn(summary.output, OUTPUT_COLUMN).labelCounts)).toEqual([
      ['0.5', 1],
      ['1', 1],
      ['no', 1],
      ['yes', 2],
    ]);
    // A feature the pipeline does not declare is not summarised.
    expect(summary.features.features).toEqual(FEATURES);
  });

  it('reports a version without costs with a null cost per prediction', () => {
    const summary = PredictionWindowSummary.create({ features: [{ name: 'age', kind: 'numeric' }], outputKind: 'categorical', seed: 2 });
    summary.add(lineOf(0, { features: {}, version: 'b', latencyMs: 10 }), 'l:1');
    summary.add(lineOf(1, { features: {}, version: 'b', latencyMs: 30 }), 'l:2');
    summary.add(lineOf(2, { features: {}, version: 'a', latencyMs: 5, cost: 0.25 }), 'l:3');
    summary.add(lineOf(3, { features: {}, version: 'a', latencyMs: 7 }), 'l:4');
    expect(summary.serving()).toEqual([
      {
        version: 'a',
        predictions: 2,
        latencyMs: { mean: 6, p50: 5, p95: 7, max: 7 },
        cost: { total: 0.25, perPrediction: 0.25, counted: 1 },
      },
      {
        version: 'b',
        predictions: 2,
        latencyMs: { mean: 20, p50: 10, p95: 30, max: 30 },
        cost: { total: 0, perPrediction: null, counted: 0 },
      },
    ]);
    expect(throughJson(summary).serving()).toEqual(summary.serving());
  });

  describe('fromJSON', () => {
    const valid = (): PredictionWindowSummaryJson => JSON.parse(JSON.stringify(partitionSummaries(LINES, CUTS)[1]));

    it('reads back what toJSON wrote', () => {
      const json = valid();
      expect(PredictionWindowSummary.fromJSON(json).toJSON()).toEqual(json);
    });

    const cases: [string, (json: PredictionWindowSummaryJson) => unknown, RegExp][] = [
      ['a version missing', (j) => ({ ...j, versions: j.versions.slice(1) }), /versions: count \d+ predictions in a summary of 220 rows/],
      [
        'a version with more predictions than its sketch',
        (j) => ({ ...j, versions: j.versions.map((v, i) => (i === 0 ? { ...v, predictions: v.predictions + 1 } : v)) }),
        /versions\.0\.latency: sketch of \d+ for \d+ predictions/,
      ],
      ['a wrong kind', (j) => ({ ...j, kind: 'retrain.prediction-window-summary/v2' }), /kind/],
      ['a negative invalid count', (j) => ({ ...j, invalidLines: -1 }), /invalidLines/],
      [
        'a negative cost count',
        (j) => ({ ...j, versions: j.versions.map((v) => ({ ...v, cost: { ...v.cost, counted: -1 } })) }),
        /versions\.0\.cost\.counted/,
      ],
      [
        'more costs than predictions',
        (j) => ({ ...j, versions: j.versions.map((v) => ({ ...v, cost: { ...v.cost, counted: v.predictions + 1 } })) }),
        /versions\.0\.cost\.counted: more than the \d+ predictions/,
      ],
      [
        'an output of the wrong kind',
        (j) => ({ ...j, outputKind: 'numeric' }),
        /output\.columns: must be the one numeric column 'prediction'/,
      ],
      ['an output with fewer rows than the features', (j) => ({ ...j, output: { ...j.output, rows: j.output.rows - 1 } }), /output\.rows/],
      [
        "a latency maximum other than its sketch's",
        (j) => ({ ...j, versions: j.versions.map((v) => ({ ...v, latency: { ...v.latency, max: v.latency.max + 1 } })) }),
        /versions\.0\.latency\.max/,
      ],
      [
        'a missing latency maximum',
        (j) => ({ ...j, versions: j.versions.map((v) => ({ ...v, latency: { ...v.latency, max: null } })) }),
        /versions\.0\.latency\.max/,
      ],
      ['a version listed twice', (j) => ({ ...j, versions: [...j.versions, j.versions[0]] }), /a version appears twice/],
      ['an unknown field', (j) => ({ ...j, extra: 1 }), /extra/],
      ['a seed out of range', (j) => ({ ...j, seed: 2 ** 32 }), /seed/],
      ['a negative feature count', (j) => ({ ...j, features: { ...j.features, rows: -1 } }), /features\.rows/],
      ['not an object', () => null, /prediction window summary is invalid/],
    ];
    for (const [what, mutate, message] of cases) {
      it(`rejects ${what}, naming the field`, () => {
        const bad = mutate(valid());
        expect(() => PredictionWindowSummary.fromJSON(bad)).toThrow(InvalidInputError);
        expect(() => PredictionWindowSummary.fromJSON(bad)).toThrow(message);
      });
    }

    it('names the source in the error', () => {
      expect(() => PredictionWindowSummary.fromJSON({ ...valid(), invalidLines: -1 }, 'summaries/2024-05-01T03.json')).toThrow(
        /^summaries\/2024-05-01T03\.json is invalid:\n {2}- invalidLines:/,
      );
    });
  });

  it('refuses to merge summaries of different features', () => {
    const of = (features: SummaryFeature[]) => PredictionWindowSummary.create({ features, outputKind: 'categorical', seed: 1 });
    const a = of(FEATURES);
    a.add(lineOf(0, { features: { age: 1, income: 2, plan: 'x' } }), 'l:1');
    const fewer = of(FEATURES.slice(0, 2));
    expect(() => a.merge(fewer)).toThrow(InvalidInputError);
    expect(() => a.merge(fewer)).toThrow(/different features/);
    const otherKind = of([...FEATURES.slice(0, 2), { name: 'plan', kind: 'numeric' }]);
    expect(() => a.merge(otherKind)).toThrow(InvalidInputError);
    // A refused merge leaves the summary as it was.
    expect(a.rows).toBe(1);
    expect(a.serving().map((s) => s.predictions)).toEqual([1]);
  });

  it('refuses to merge summaries of different output kinds', () => {
    const classifier = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'categorical', seed: 1 });
    const regressor = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'numeric', seed: 1 });
    classifier.add(lineOf(0, { features: { age: 1, income: 2, plan: 'x' } }), 'l:1');
    regressor.add(lineOf(1, { features: { age: 1, income: 2, plan: 'x' }, prediction: 3 }), 'l:2');
    expect(() => classifier.merge(regressor)).toThrow(/a categorical and a numeric model output/);
    // Refused before anything changed: still one row, and its JSON still reads back.
    expect(classifier.rows).toBe(1);
    expect(PredictionWindowSummary.fromJSON(JSON.parse(JSON.stringify(classifier))).rows).toBe(1);
  });

  it('refuses a summary of no features', () => {
    expect(() => PredictionWindowSummary.create({ features: [], outputKind: 'categorical', seed: 1 })).toThrow(/at least one feature/);
  });

  it('refuses a feature listed twice', () => {
    expect(() =>
      PredictionWindowSummary.create({
        features: [...FEATURES, { name: 'age', kind: 'numeric' }],
        outputKind: 'categorical',
        seed: 1,
      }),
    ).toThrow(InvalidInputError);
  });
});

describe('score histograms', () => {
  /**
   * Lines of a binary churn classifier: most log `scores` for both classes, some only `score`
   * (the positive class's), some neither; a few scores fall outside [0, 1]. Two versions.
   */
  function scoredLines(rows: number, seed: number): PredictionLine[] {
    const r = mulberry32(seed);
    return Array.from({ length: rows }, (_, i) => {
      const yes = r() < 0.01 ? 1.2 : r() < 0.01 ? -0.1 : r() * r();
      const prediction = r() < 0.02 ? 1 : yes > 0.3 ? 'yes' : 'no';
      const u = r();
      const scored = u < 0.7 ? { scores: { no: 1 - yes, yes } } : u < 0.9 ? { score: yes } : {};
      return lineOf(i, { version: r() < 0.6 ? 'v1' : 'v2', features: { age: 30, income: 1, plan: 'pro' }, prediction, ...scored });
    });
  }
  const SCORED = scoredLines(3000, 21);

  function summaryOf(lines: readonly PredictionLine[], seed = 1): PredictionWindowSummary {
    const summary = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'categorical', seed });
    lines.forEach((l, i) => summary.add(l, `all:${i + 1}`));
    return summary;
  }

  /** The version's rows binned directly: scores[yes] when the line has it, else counted missing. */
  function directlyBinned(lines: readonly PredictionLine[], version: string, read: (l: PredictionLine) => number | undefined) {
    const positive = new Float64Array(HISTOGRAM_LENGTH);
    const negative = new Float64Array(HISTOGRAM_LENGTH);
    let missing = 0;
    for (const l of lines.filter((x) => x.version === version)) {
      const s = read(l);
      if (s === undefined) missing++;
      else (String(l.prediction) === 'yes' ? positive : negative)[scoreBin(s)]! += 1;
    }
    return { predictedPositive: positive, predictedNegative: negative, missingScores: missing };
  }

  it('merges hour histograms in any order into the histogram of all the rows, through JSON too', () => {
    const whole = summaryOf(SCORED).toJSON();
    expect(whole.versions.every((v) => (v.scoreHistograms?.length ?? 0) > 0)).toBe(true);
    const bounds = [0, 700, 1900, 2400, 3000];
    const parts = () => bounds.slice(1).map((to, p) => summaryOf(SCORED.slice(bounds[p], to), p + 1));
    for (const order of [
      [0, 1, 2, 3],
      [3, 1, 0, 2],
      [2, 3, 1, 0],
    ]) {
      const merged = order.map((p) => parts()[p]).reduce((a, b) => a.merge(b));
      const viaJson = order.map((p) => throughJson(parts()[p])).reduce((a, b) => a.merge(b));
      for (const m of [merged, viaJson]) {
        const json = m.toJSON();
        const byVersion = (j: PredictionWindowSummaryJson) => Object.fromEntries(j.versions.map((v) => [v.version, v.scoreHistograms]));
        expect(byVersion(json), `order ${order.join(',')}`).toEqual(byVersion(whole));
      }
    }
  });

  it("bins the positive class's score as the exact check reads it: scores[class] when any line logged it, else score", () => {
    const summary = throughJson(summaryOf(SCORED));
    for (const version of ['v1', 'v2']) {
      expect(summary.binnedScores(version, 'yes')).toEqual(directlyBinned(SCORED, version, (l) => l.scores?.yes));
    }
    // Only `score` logged: the exact check falls back to it for any positive class.
    const onlyScore = SCORED.map(({ scores, ...l }) => (scores ? { ...l, score: scores.yes } : l));
    expect(summaryOf(onlyScore).binnedScores('v1', 'yes')).toEqual(directlyBinned(onlyScore, 'v1', (l) => l.score));
    // Neither, or a version with no prediction: nothing to estimate.
    expect(summaryOf(LINES).binnedScores('v1', 'yes')).toBeNull();
    expect(summary.binnedScores('v9', 'yes')).toBeNull();
  });

  it("keeps no histograms of a regression model's lines", () => {
    const regressor = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'numeric', seed: 1 });
    regressor.add(lineOf(1, { features: { age: 1, income: 2, plan: 'x' }, prediction: 3, score: 0.4 }), 'l:1');
    expect(regressor.toJSON().versions[0]).not.toHaveProperty('scoreHistograms');
  });

  describe('fromJSON', () => {
    const valid = (): PredictionWindowSummaryJson => JSON.parse(JSON.stringify(summaryOf(SCORED.slice(0, 400))));

    it('reads back what toJSON wrote, bin for bin', () => {
      const json = valid();
      expect(json.versions[0].scoreHistograms).toContainEqual(expect.objectContaining({ scoresClass: null, predicted: 'no' }));
      expect(json.versions[0].scoreHistograms).toContainEqual(expect.objectContaining({ scoresClass: 'yes', predicted: null }));
      expect(PredictionWindowSummary.fromJSON(json).toJSON()).toEqual(json);
    });

    type Histogram = NonNullable<PredictionWindowSummaryJson['versions'][number]['scoreHistograms']>[number];
    /** The summary with the first version's first histogram changed. */
    const withFirst = (j: PredictionWindowSummaryJson, change: (h: Histogram, all: Histogram[]) => Histogram[]) => ({
      ...j,
      versions: j.versions.map((v, i) => (i === 0 ? { ...v, scoreHistograms: change(v.scoreHistograms![0], v.scoreHistograms!) } : v)),
    });
    const cases: [string, (json: PredictionWindowSummaryJson) => unknown, RegExp][] = [
      [
        'a count missing',
        (j) => withFirst(j, (h, all) => [{ ...h, counts: h.counts.slice(1) }, ...all.slice(1)]),
        /versions\.0\.scoreHistograms\.0\.counts: has \d+ entries and bins \d+: there must be one count per bin/,
      ],
      [
        'bins out of order',
        (j) => withFirst(j, (h, all) => [{ ...h, bins: [...h.bins].reverse() }, ...all.slice(1)]),
        /versions\.0\.scoreHistograms\.0\.bins\.1: bins must be strictly ascending/,
      ],
      ['a bin past the last', (j) => withFirst(j, (h, all) => [{ ...h, bins: [1002], counts: [1] }, ...all.slice(1)]), /bins\.0/],
      ['a zero count', (j) => withFirst(j, (h, all) => [{ ...h, counts: h.counts.map(() => 0) }, ...all.slice(1)]), /counts\.0/],
      [
        'a histogram with no bins',
        (j) => withFirst(j, (h, all) => [{ ...h, bins: [], counts: [] }, ...all.slice(1)]),
        /bins: must name at least one bin/,
      ],
      [
        'a histogram of score without a predicted label',
        (j) => withFirst(j, (h, all) => [{ ...h, scoresClass: null, predicted: null }, ...all.slice(1)]),
        /scoreHistograms\.0\.predicted: a histogram of score counts the lines of one predicted label/,
      ],
      [
        "a histogram of a class's score for another predicted label",
        (j) => withFirst(j, (h, all) => [{ ...h, scoresClass: 'yes', predicted: 'no' }, ...all.slice(1)]),
        /scoreHistograms\.0\.predicted: a histogram of scores\.yes counts the lines that predicted "yes" or the others \(null\), not "no"/,
      ],
      [
        'a histogram listed twice',
        (j) => withFirst(j, (h, all) => [h, ...all]),
        /scoreHistograms\.1: a second histogram of score for predicted/,
      ],
      [
        'more scores than predictions',
        (j) => withFirst(j, (h, all) => [{ ...h, counts: h.counts.map((c) => c + 1000) }, ...all.slice(1)]),
        /versions\.0\.scoreHistograms: bin \d+ scores of score for \d+ predictions/,
      ],
      [
        'histograms in a regression summary',
        (j) => {
          const regressor = PredictionWindowSummary.create({ features: FEATURES, outputKind: 'numeric', seed: 1 });
          regressor.add(lineOf(1, { features: { age: 1, income: 2, plan: 'x' }, prediction: 3 }), 'l:1');
          const r = regressor.toJSON();
          return { ...r, versions: r.versions.map((v) => ({ ...v, scoreHistograms: [j.versions[0].scoreHistograms![0]] })) };
        },
        /versions\.0\.scoreHistograms: a regression model's summary has no score histograms/,
      ],
    ];
    for (const [what, mutate, message] of cases) {
      it(`rejects ${what}, naming the field`, () => {
        const bad = mutate(valid());
        expect(() => PredictionWindowSummary.fromJSON(bad)).toThrow(InvalidInputError);
        expect(() => PredictionWindowSummary.fromJSON(bad)).toThrow(message);
      });
    }
  });
});

describe('summarizedDistribution and testSummarized', () => {
  function summaryOf(name: string, kind: FeatureKind, column: Float64Array | (string | null)[], parts = 1): WindowSummary {
    const size = Math.ceil(column.length / parts);
    return Array.from({ length: parts }, (_, p) => {
      const part = WindowSummary.create([{ name, kind }], { seed: seedOf(`part ${p}`) });
      part.add({ [name]: column.slice(p * size, (p + 1) * size) });
      return WindowSummary.fromJSON(JSON.parse(JSON.stringify(part)));
    }).reduce((a, b) => a.merge(b));
  }

  function categories(n: number, seed: number, labels: number, skew: number): (string | null)[] {
    const r = mulberry32(seed);
    return Array.from({ length: n }, () => {
      const u = r();
      return u < 0.03 ? null : `c${String(Math.floor(labels * r() ** skew)).padStart(2, '0')}`;
    });
  }

  it('matches featureDistribution on categorical columns, few labels and more than 30', () => {
    for (const labels of [4, 45]) {
      const reference = categories(3000, 1, labels, 1);
      const current = categories(2000, 2, labels, 1.5);
      const spec: FeatureSpec = { name: 'plan', kind: 'categorical' };
      const currentSummary = summaryOf('plan', 'categorical', current, 3);
      const expected = featureDistribution(reference, current, 'categorical');
      if (labels > 30) expect(expected.bins.at(-1)!.label).toMatch(/^other/);
      expect(summarizedDistribution(reference, currentSummary.columns.get('plan')!, spec)).toEqual(expected);
      // Both windows summarised.
      const referenceSummary = summaryOf('plan', 'categorical', reference, 2);
      expect(summarizedDistribution(referenceSummary.columns.get('plan')!, currentSummary.columns.get('plan')!, spec)).toEqual(expected);
      const tested = testSummarized(reference, currentSummary.columns.get('plan')!, spec);
      expect(tested.drift.approximate).toBe(false);
      expect(tested.drift.rankError).toBeUndefined();
      expect(tested.distribution).toEqual(expected);
    }
  });

  it('matches featureDistribution on a numeric column with few values', () => {
    const ratings = (n: number, seed: number, shift: number) => {
      const r = mulberry32(seed);
      return Float64Array.from({ length: n }, () =>
        r() < 0.02 ? NaN : Math.min(5, Math.max(1, Math.round(3 + shift + 1.2 * (r() + r() - 1) * 2))),
      );
    };
    const reference = ratings(4000, 3, 0);
    const current = ratings(3000, 4, 0.4);
    const spec: FeatureSpec = { name: 'rating', kind: 'numeric' };
    const column = summaryOf('rating', 'numeric', current, 3).columns.get('rating')!;
    const expected = featureDistribution(reference, current, 'numeric');
    expect(expected.bins.map((b) => b.label)).toEqual(['1', '2', '3', '4', '5']);
    expect(summarizedDistribution(reference, column, spec)).toEqual(expected);
    const tested = testSummarized(reference, column, spec);
    expect(tested.drift.approximate).toBe(false);
    expect(tested.distribution).toEqual(expected);
  });

  it('matches featureDistribution on a numeric column with a few hundred values (exact histogram)', () => {
    const r = mulberry32(8);
    const reference = Float64Array.from({ length: 3000 }, () => Math.round(100 * r()) / 4);
    const current = Float64Array.from({ length: 2500 }, () => Math.round(120 * r() * r()) / 4);
    const spec: FeatureSpec = { name: 'x', kind: 'numeric' };
    const column = summaryOf('x', 'numeric', current, 2).columns.get('x')!;
    const expected = featureDistribution(reference, current, 'numeric');
    expect(expected.bins.length).toBeGreaterThan(5);
    expect(expected.bins[0].label).toContain(' – ');
    expect(summarizedDistribution(reference, column, spec)).toEqual(expected);
    expect(testSummarized(reference, column, spec).drift.approximate).toBe(false);
  });

  it('estimates the histogram of a continuous window from its sketch, on the exact bins', () => {
    const reference = normals(5000, 21, 100, 15);
    const current = normals(50_000, 22, 105, 15);
    const spec: FeatureSpec = { name: 'amount', kind: 'numeric' };
    const column = summaryOf('amount', 'numeric', current, 4).columns.get('amount')!;
    const sketch = (column as NumericSummary).sketch;
    expect(sketch.isExact).toBe(false);
    const expected = featureDistribution(reference, current, 'numeric');
    const actual = summarizedDistribution(reference, column, spec);
    expect(actual.kind).toBe('numeric');
    expect(actual.bins.map((b) => b.label)).toEqual(expected.bins.map((b) => b.label));
    actual.bins.forEach((bin, i) => {
      // The reference is exact columns: its shares are the exact ones.
      expect(bin.reference, bin.label).toBe(expected.bins[i].reference);
      expect(Math.abs(bin.current - expected.bins[i].current), bin.label).toBeLessThanOrEqual(0.02);
    });
    expect(actual.bins.reduce((a, b) => a + b.current, 0)).toBeCloseTo(1, 9);
    expect(actual.bins.reduce((a, b) => a + b.reference, 0)).toBeCloseTo(1, 9);

    const tested = testSummarized(reference, column, spec);
    expect(tested.drift.approximate).toBe(true);
    expect(tested.drift.rankError).toBe(sketch.rankError);
    expect(tested.drift.rankError).toBeGreaterThan(0);
    expect(tested.drift.current).toEqual({ rows: 50_000, missing: 0, infinite: 0, used: 50_000 });
    expect(tested.distribution).toEqual(actual);
  });

  it('gives no bins when neither window has a value', () => {
    const spec: FeatureSpec = { name: 'x', kind: 'numeric' };
    const column = summaryOf('x', 'numeric', Float64Array.of(NaN, NaN)).columns.get('x')!;
    expect(summarizedDistribution(Float64Array.of(NaN), column, spec)).toEqual({ kind: 'numeric', bins: [] });
    expect(featureDistribution(Float64Array.of(NaN), Float64Array.of(NaN, NaN), 'numeric')).toEqual({ kind: 'numeric', bins: [] });
  });

  it('refuses a summary column of the other kind', () => {
    const column = summaryOf('x', 'categorical', ['a', 'b']).columns.get('x')!;
    expect(() => summarizedDistribution(Float64Array.of(1, 2), column, { name: 'x', kind: 'numeric' })).toThrow(InvalidInputError);
  });
});
