import { describe, expect, it } from 'vitest';
import type { FeatureSpec } from '../lib/drift/dataset-drift.js';
import { buildDriftReport } from '../lib/drift/report.js';
import { segmentKeys, segmentsNotTested, testSegments, type SegmentTestInput, type SegmentWindow } from '../lib/drift/segments.js';
import { mulberry32 } from '../lib/split.js';

const FEATURES: FeatureSpec[] = [
  { name: 'x', kind: 'numeric', method: 'ks' },
  { name: 'y', kind: 'numeric', method: 'ks' },
  { name: 'tier', kind: 'categorical' },
];

/**
 * Rows with x and y standard normal and a tier drawn by `shares`; rows of a tier in `shift` have
 * x and y moved by that many standard deviations.
 */
function rows(n: number, seed: number, shares: Record<string, number>, shift: Record<string, number> = {}): SegmentWindow {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const tiers = Object.entries(shares);
  const tier: (string | null)[] = [];
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let u = random();
    const t = tiers.find(([, share]) => (u -= share) < 0)?.[0] ?? tiers.at(-1)![0];
    tier.push(t === 'none' ? null : t);
    x[i] = normal() + (shift[t] ?? 0);
    y[i] = normal() + (shift[t] ?? 0);
  }
  return { columns: { x, y, tier }, segments: { tier }, rows: n };
}

const SHARES = { basic: 0.5, pro: 0.35, enterprise: 0.15 };

function input(current: SegmentWindow, overrides: Partial<SegmentTestInput> = {}): SegmentTestInput {
  const reference = rows(3000, 1, SHARES);
  return {
    columns: ['tier'],
    reference: { ...reference, seen: 3000 },
    current,
    features: FEATURES,
    minRows: { reference: 30, current: 30 },
    ...overrides,
  };
}

describe('testSegments', () => {
  it('finds dataset drift in the one segment whose rows moved, and none in the others', () => {
    const tested = testSegments(input(rows(2000, 2, SHARES, { enterprise: 0.6 })));

    const [tier] = tested.columns;
    expect(tier.values.map((v) => [v.value, v.tested, v.datasetDrift])).toEqual([
      ['basic', true, false],
      ['pro', true, false],
      ['enterprise', true, true],
    ]);
    const enterprise = tier.values[2];
    expect(enterprise.driftedFeatures).toEqual(['x', 'y']);
    // The segment's own column is constant in it: left out of its tests.
    expect(enterprise.featureCount).toBe(2);
    expect(enterprise.features.map((f) => f.name)).toEqual(['x', 'y']);
    expect(enterprise.share).toBe(1);
    expect(enterprise.rows.reference).toBeGreaterThan(400);
    expect(tested.drifted).toBe(true);
    expect(tested.reference).toEqual({ rows: 3000, seen: 3000, sampled: false });
  });

  it('lists a value with too few rows in either window as not tested, saying why', () => {
    const current = rows(1000, 3, { basic: 0.6, pro: 0.385, trial: 0.015 });
    const tested = testSegments(input(current));
    const values = tested.columns[0].values;
    // Ranked by rows in the window, then in the reference: enterprise (none in the window) comes last.
    expect(values.map((v) => v.value)).toEqual(['basic', 'pro', 'trial', 'enterprise']);
    const trial = values.find((v) => v.value === 'trial')!;
    expect(trial).toMatchObject({ tested: false, share: null, datasetDrift: false, driftedFeatures: [], features: [] });
    expect(trial.note).toMatch(
      /^not tested: too few rows, \d+ rows in the window \(fewer than 30\) and 0 in the training data \(fewer than 30\)$/,
    );
    expect(values.find((v) => v.value === 'enterprise')!.note).toBe('not tested: too few rows, 0 rows in the window (fewer than 30)');
    expect(tested.drifted).toBe(false);
  });

  it('keeps the rows whose segment value is missing as a segment of their own', () => {
    const tested = testSegments(input(rows(2000, 4, { basic: 0.5, pro: 0.4, none: 0.1 })));
    const missing = tested.columns[0].values.find((v) => v.value === null)!;
    expect(missing.rows.current).toBeGreaterThan(100);
    expect(missing).toMatchObject({ tested: false, rows: { reference: 0 } });
  });

  it('lists the largest values up to the cap and counts the rest as left out', () => {
    const tested = testSegments(input(rows(2000, 5, SHARES), { maxValues: 2 }));
    const [tier] = tested.columns;
    expect(tier.values.map((v) => v.value)).toEqual(['basic', 'pro']);
    expect(tier.leftOut.values).toBe(1);
    expect(tier.leftOut.rows.current).toBeGreaterThan(200);
    expect(tier.leftOut.rows.reference).toBeGreaterThan(300);
  });

  it('says why a segment column cannot be tested when a window lacks it', () => {
    const current = rows(500, 6, SHARES);
    const tested = testSegments({
      ...input(current),
      columns: ['tier', 'region'],
      current: { ...current, segments: { tier: current.segments.tier, region: current.segments.tier } },
      referenceLabel: 'the training split of v1',
    });
    expect(tested.columns[1]).toEqual({
      column: 'region',
      values: [],
      leftOut: { values: 0, rows: { reference: 0, current: 0 } },
      note: '"region" is not in the training split of v1: no segment of it can be tested',
    });
    const unlogged = testSegments({ ...input(current), columns: ['plan'] });
    expect(unlogged.columns[0].note).toBe(`"plan" is not logged with the predictions' features: no segment of it can be tested`);
  });

  it('reports a sample of the reference as sampled', () => {
    const reference = rows(3000, 1, SHARES);
    const tested = testSegments({ ...input(rows(500, 7, SHARES)), reference: { ...reference, seen: 90_000 } });
    expect(tested.reference).toEqual({ rows: 3000, seen: 90_000, sampled: true });
  });
});

describe('segmentKeys', () => {
  it('keys logged numbers and the reference text of the same number alike, and missing values as null', () => {
    expect(segmentKeys(Float64Array.from([3, NaN, 2.5]), true)).toEqual(['3', null, '2.5']);
    expect(segmentKeys(['3.0', '3', null, 'eu'], true)).toEqual(['3', '3', null, 'eu']);
    expect(segmentKeys(['007', 'eu'], false)).toEqual(['007', 'eu']);
  });
});

describe('segments in the drift report', () => {
  function report(shift: Record<string, number>) {
    const reference = rows(3000, 1, SHARES);
    const current = rows(2000, 2, SHARES, shift);
    return buildDriftReport({
      checkId: 'c1',
      createdAt: '2026-01-01T00:00:00.000Z',
      reference: { label: 'training', columns: reference.columns },
      current: { label: 'window', columns: current.columns },
      features: FEATURES,
      segments: testSegments(input(current)),
    });
  }

  it('flags drift in a segment that the whole window hides, makes the check drifted and says so in the summary', () => {
    const r = report({ enterprise: 0.6 });

    expect(r.dataDrift.datasetDrift.drifted).toBe(false);
    expect(r.drifted).toBe(true);
    const values = r.segments!.columns[0].values;
    expect(values.filter((v) => v.hiddenByAverage).map((v) => v.value)).toEqual(['enterprise']);
    expect(r.summary).toMatch(
      /^Drift detected: .*; a segment drifted: tier = enterprise \(2 of 2 features: x, y; hidden by the whole window's average\)\.$/,
    );
  });

  it('does not call a segment hidden when the whole window drifted too', () => {
    const r = report({ basic: 1, pro: 1, enterprise: 1 });
    expect(r.dataDrift.datasetDrift.drifted).toBe(true);
    expect(r.segments!.columns[0].values.every((v) => v.datasetDrift && !v.hiddenByAverage)).toBe(true);
    expect(r.summary).toContain('3 segments drifted');
  });

  it('adds nothing to the summary when no segment drifted', () => {
    const r = report({});
    expect(r.drifted).toBe(false);
    expect(r.summary).not.toContain('segment');
  });

  it('keeps a section that says why segments were not tested', () => {
    const section = segmentsNotTested({ columns: ['tier'], minRows: { reference: 30, current: 30 } }, 'a partitioned check keeps no rows');
    expect(section).toMatchObject({
      reference: null,
      columns: [],
      drifted: false,
      note: 'Segments not tested: a partitioned check keeps no rows',
    });
  });
});
