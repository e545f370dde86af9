import { describe, expect, it } from 'vitest';
import { generateChurn, type ChurnRow } from '../examples/data/generators.js';
import { prepareCounted, type FeatureSpec } from '../lib/drift/dataset-drift.js';
import {
  buildDriftReport,
  buildDriftReportOf,
  featureDistribution,
  testFeature,
  MAX_CATEGORY_BINS,
  type DriftCheckReport,
} from '../lib/drift/report.js';

function churnColumns(rows: ChurnRow[]) {
  const num = (k: 'tenure_months' | 'monthly_spend' | 'support_tickets' | 'seats') => Float64Array.from(rows, (r) => r[k]);
  return {
    tenure_months: num('tenure_months'),
    monthly_spend: num('monthly_spend'),
    support_tickets: num('support_tickets'),
    seats: num('seats'),
    plan: rows.map((r) => r.plan),
    region: rows.map((r) => r.region),
  };
}

const FEATURES: FeatureSpec[] = [
  { name: 'tenure_months', kind: 'numeric' },
  { name: 'monthly_spend', kind: 'numeric' },
  { name: 'support_tickets', kind: 'numeric' },
  { name: 'seats', kind: 'numeric' },
  { name: 'plan', kind: 'categorical' },
  { name: 'region', kind: 'categorical' },
];

function churnReport(drift: number, extra: Partial<Parameters<typeof buildDriftReport>[0]> = {}): DriftCheckReport {
  return buildDriftReport({
    model: 'churn',
    version: 'v1',
    checkId: 'check-1',
    createdAt: '2026-01-01T00:00:00.000Z',
    reference: { label: 'training data', columns: churnColumns(generateChurn({ rows: 2000, seed: 1, drift: 0 })) },
    current: {
      label: 'window',
      columns: churnColumns(generateChurn({ rows: 1500, seed: 2, drift })),
      from: '2026-01-01',
      to: '2026-01-02',
    },
    features: FEATURES,
    ...extra,
  });
}

/** Every number anywhere in the value, with its path. */
function numbers(value: unknown, path = '$'): [string, number][] {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}.${k}`));
  return [];
}

/** A report survives JSON unchanged: no NaN or Infinity (they would come back as null), no typed arrays. */
function expectPlainJson(report: DriftCheckReport): void {
  const text = JSON.stringify(report);
  expect(text).not.toMatch(/NaN|Infinity/);
  expect(JSON.parse(text)).toEqual(report);
  expect(numbers(report).filter(([, n]) => !Number.isFinite(n))).toEqual([]);
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

describe('buildDriftReport', () => {
  it('flags tenure_months and support_tickets, and the dataset, when the churn generator drifts', () => {
    const report = churnReport(1);
    const byName = Object.fromEntries(report.dataDrift.features.map((f) => [f.name, f]));
    expect(byName.tenure_months.drifted).toBe(true);
    expect(byName.support_tickets.drifted).toBe(true);
    expect(report.dataDrift.datasetDrift.drifted).toBe(true);
    expect(report.drifted).toBe(true);
    expect(report.kind).toBe('retrain.drift-report/v1');
    expect(report.current).toEqual({ label: 'window', rows: 1500, from: '2026-01-01', to: '2026-01-02' });
    expect(report.summary).toMatch(/^Drift detected: \d of 6 features drifted \(.*tenure_months.*\), which is dataset drift/);
  });

  it('reports no drift between two samples of the same population', () => {
    const report = churnReport(0);
    expect(report.dataDrift.features.filter((f) => f.drifted).map((f) => f.name)).toEqual([]);
    expect(report.drifted).toBe(false);
    expect(report.summary).toBe('No drift: 0 of 6 features drifted.');
  });

  it('gives distributions whose shares sum to 1 per window, with readable bin labels', () => {
    const report = churnReport(1);
    expect(Object.keys(report.dataDrift.distributions)).toEqual(FEATURES.map((f) => f.name));
    for (const [name, dist] of Object.entries(report.dataDrift.distributions)) {
      expect(dist.bins.length, name).toBeGreaterThan(1);
      expect(sum(dist.bins.map((b) => b.reference)), name).toBeCloseTo(1, 9);
      expect(sum(dist.bins.map((b) => b.current)), name).toBeCloseTo(1, 9);
    }
    // Many distinct values: Sturges bins, "lo – hi"; few (tickets 0..8): one bin per value.
    expect(report.dataDrift.distributions.tenure_months.bins[0].label).toMatch(/^\d+(\.\d+)? – \d+(\.\d+)?$/);
    expect(report.dataDrift.distributions.support_tickets.bins.map((b) => b.label).slice(0, 3)).toEqual(['0', '1', '2']);
    expect(report.dataDrift.distributions.plan.bins.map((b) => b.label)).toEqual(['basic', 'enterprise', 'pro']);
  });

  it('serialises to plain JSON with no NaN, also on empty, constant and all-missing columns', () => {
    expectPlainJson(churnReport(1));
    const report = buildDriftReport({
      checkId: 'edge',
      createdAt: '2026-01-01T00:00:00.000Z',
      reference: {
        label: 'r',
        columns: { empty: new Float64Array([1, 2, 3]), constant: new Float64Array([5, 5, 5]), missing: [null, null], cat: ['a', 'a'] },
      },
      current: {
        label: 'c',
        columns: { empty: new Float64Array([NaN, Infinity]), constant: new Float64Array([5, 5]), missing: [null], cat: ['b'] },
      },
      features: [
        { name: 'empty', kind: 'numeric' },
        { name: 'constant', kind: 'numeric' },
        { name: 'missing', kind: 'categorical' },
        { name: 'cat', kind: 'categorical' },
      ],
      prediction: { kind: 'numeric', reference: new Float64Array([0.1, 0.2]), current: new Float64Array(0) },
      conceptDrift: { labelledRows: 0, metric: 'roc_auc', baseline: 0.8, current: null, maxRegression: 0.01, metrics: { roc_auc: null } },
      serving: [
        {
          version: 'v1',
          predictions: 0,
          latencyMs: { mean: NaN, p50: NaN, p95: NaN, max: NaN },
          cost: { total: 0, perPrediction: null, counted: 0 },
        },
      ],
    });
    expectPlainJson(report);
    const empty = report.dataDrift.features[0];
    expect([empty.statistic, empty.pValue, empty.drifted, empty.note]).toEqual([null, null, false, 'empty current window']);
    expect(report.dataDrift.distributions.empty.bins.every((b) => b.current === 0)).toBe(true);
    expect(report.dataDrift.distributions.missing.bins).toEqual([]);
    expect(report.serving?.[0].latencyMs.p95).toBeNull();
    expect(report.conceptDrift?.drifted).toBe(false);
    expect(report.summary).toContain('roc_auc could not be compared on 0 labelled rows');
  });

  it('adds prediction drift and decides concept drift by the metric direction', () => {
    const ref = generateChurn({ rows: 2000, seed: 1, drift: 0 });
    const cur = generateChurn({ rows: 1500, seed: 2, drift: 1 });
    const report = churnReport(1, {
      prediction: { kind: 'categorical', reference: ref.map((r) => r.churned), current: cur.map((r) => r.churned) },
      conceptDrift: { labelledRows: 300, metric: 'rmse', baseline: 10, current: 10.5, maxRegression: 1, metrics: { rmse: 10.5 } },
    });
    expect(report.predictionDrift?.name).toBe('prediction');
    expect(report.predictionDrift?.drifted).toBe(true);
    expect(sum(report.predictionDrift!.distribution.bins.map((b) => b.current))).toBeCloseTo(1, 9);
    // rmse: lower is better; 0.5 worse is within the allowed 1.
    expect(report.conceptDrift?.drifted).toBe(false);
    expect(report.summary).toContain('the predictions drifted');
    expect(report.summary).toContain('rmse is 10.5 against a baseline of 10, within the allowed regression of 1');

    const worse = churnReport(0, {
      conceptDrift: { labelledRows: 300, metric: 'roc_auc', baseline: 0.84, current: 0.79, maxRegression: 0.02, metrics: {} },
    });
    expect(worse.conceptDrift?.drifted).toBe(true);
    expect(worse.dataDrift.datasetDrift.drifted).toBe(false);
    expect(worse.drifted).toBe(true);
    expect(worse.summary).toMatch(
      /^Drift detected: .*roc_auc is 0\.79 against a baseline of 0\.84, more than the allowed regression of 0\.02\.$/,
    );
  });
});

describe('featureDistribution', () => {
  it(`caps categories at ${MAX_CATEGORY_BINS} bins, summing the rest into "other"`, () => {
    const ref = Array.from({ length: 500 }, (_, i) => `c${i % 50}`);
    const cur = Array.from({ length: 300 }, (_, i) => `c${i % 40}`);
    const dist = featureDistribution(ref, cur, 'categorical');
    expect(dist.bins).toHaveLength(MAX_CATEGORY_BINS);
    expect(dist.bins.at(-1)?.label).toBe('other (21 more)');
    expect(sum(dist.bins.map((b) => b.reference))).toBeCloseTo(1, 9);
    expect(sum(dist.bins.map((b) => b.current))).toBeCloseTo(1, 9);
  });

  it('leaves missing values out of the shares', () => {
    const dist = featureDistribution(['a', null, 'b', 'b'], [null, 'a'], 'categorical');
    expect(dist.bins).toEqual([
      { label: 'a', reference: 1 / 3, current: 1 },
      { label: 'b', reference: 2 / 3, current: 0 },
    ]);
  });
});

describe('buildDriftReportOf', () => {
  it('gives the report buildDriftReport gives, from features tested one at a time (categories as counts)', () => {
    for (const drift of [0, 0.8]) {
      const reference = churnColumns(generateChurn({ rows: 2000, seed: 1, drift: 0 }));
      const current = churnColumns(generateChurn({ rows: 1500, seed: 2, drift }));
      const whole = buildDriftReport({
        checkId: 'c',
        createdAt: '2026-01-01T00:00:00.000Z',
        reference: { label: 'r', columns: reference },
        current: { label: 'c', columns: current },
        features: FEATURES,
        datasetDriftShare: 0.3,
      });
      const countsOf = (cells: readonly (string | null)[]) => {
        const counts = new Map<string, number>();
        for (const cell of cells) if (cell !== null) counts.set(cell, (counts.get(cell) ?? 0) + 1);
        return prepareCounted({ counts, rows: cells.length, missing: cells.filter((c) => c === null).length });
      };
      const column = (columns: ReturnType<typeof churnColumns>, spec: FeatureSpec) => {
        const raw = columns[spec.name as keyof typeof columns];
        return spec.kind === 'categorical' ? countsOf(raw as string[]) : raw;
      };
      const byFeature = buildDriftReportOf({
        checkId: 'c',
        createdAt: '2026-01-01T00:00:00.000Z',
        reference: { label: 'r', rows: 2000 },
        current: { label: 'c', rows: 1500 },
        tested: FEATURES.map((spec) => testFeature(column(reference, spec), column(current, spec), spec)),
        datasetDriftShare: 0.3,
      });
      expect(byFeature).toEqual(whole);
    }
  });
});
