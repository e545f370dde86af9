import { describe, expect, it } from 'vitest';
import { decideGate, type SegmentMetric } from '../lib/gate';

const pipeline: Parameters<typeof decideGate>[0]['pipeline'] = {
  gates: [],
  metrics: { primary: 'accuracy', others: [] },
  segmentGate: { maxRegression: 0.02, minRows: 30 },
};
const seg = (value: string, rows: number, challenger: number | null, champion: number | null): SegmentMetric => ({
  column: 'plan',
  value,
  rows,
  challenger,
  champion,
});

describe('the gate per segment', () => {
  it('rejects a challenger that is better on average but worse beyond the limit in one segment, with the table', () => {
    const d = decideGate({
      pipeline,
      challenger: { accuracy: 0.86 },
      champion: { accuracy: 0.85 },
      championVersion: 'v1',
      segments: [seg('basic', 400, 0.9, 0.86), seg('enterprise', 80, 0.7, 0.8), seg('trial', 12, 0.2, 0.9), seg('pro', 60, null, 0.5)],
    });
    expect(d.passed).toBe(false);
    expect(d.reason).toContain(
      'accuracy in plan=enterprise (80 rows) 0.7000 vs 0.8000: worse by 0.1000, exceeds allowed regression 0.0200',
    );
    expect(d.checks.filter((c) => c.rule === 'segmentRegression').map((c) => [c.segment!.value, c.passed])).toEqual([
      ['basic', true],
      ['enterprise', false],
    ]);
    expect(d.segments).toMatchObject({ metric: 'accuracy', maxRegression: 0.02, minRows: 30 });
    expect(d.segments!.rows.map((r) => [r.value, r.gated, r.passed, r.note])).toEqual([
      ['basic', true, true, 'better by 0.0400'],
      ['enterprise', true, false, 'worse by 0.1000'],
      ['trial', false, true, 'not gated: 12 holdout rows, fewer than 30'],
      ['pro', false, true, 'not gated: accuracy is undefined on these rows (a single class?)'],
    ]);
  });

  it('passes when every gated segment is within the limit, and gates nothing per segment without a champion or without the setting', () => {
    const segments = [seg('basic', 400, 0.85, 0.86), seg('enterprise', 80, 0.79, 0.8)];
    expect(
      decideGate({ pipeline, challenger: { accuracy: 0.86 }, champion: { accuracy: 0.85 }, championVersion: 'v1', segments }).passed,
    ).toBe(true);
    const first = decideGate({ pipeline, challenger: { accuracy: 0.86 }, champion: null, championVersion: null, segments });
    expect(first.segments).toBeUndefined();
    const unset = decideGate({
      pipeline: { ...pipeline, segmentGate: undefined },
      challenger: { accuracy: 0.86 },
      champion: { accuracy: 0.85 },
      championVersion: 'v1',
      segments: [seg('enterprise', 80, 0.1, 0.8)],
    });
    expect(unset.passed).toBe(true);
    expect(unset.checks.some((c) => c.rule === 'segmentRegression')).toBe(false);
  });

  it('judges a loss metric the right way round in a segment', () => {
    const d = decideGate({
      pipeline: { ...pipeline, metrics: { primary: 'rmse', others: [] } },
      challenger: { rmse: 1 },
      champion: { rmse: 1.1 },
      championVersion: 'v1',
      segments: [seg('basic', 100, 2.5, 2.0)],
    });
    expect(d.passed).toBe(false);
    expect(d.checks.find((c) => c.rule === 'segmentRegression')!.message).toContain('worse by 0.5000');
  });
});

describe('the gate on predict latency', () => {
  const budgets = { maxLatencyRatio: 1.5 };
  it('rejects a challenger that predicts more than maxLatencyRatio times slower per row than the champion', () => {
    const d = decideGate({
      pipeline: { ...pipeline, segmentGate: undefined, budgets },
      challenger: { accuracy: 0.9 },
      champion: { accuracy: 0.85 },
      championVersion: 'v1',
      latency: { challenger: 0.4, champion: 0.2 },
    });
    expect(d.passed).toBe(false);
    expect(d.reason).toContain('predict latency 0.4000 ms/row vs 0.2000 (v1): 2.00×, exceeds allowed 1.5000×');
    const ok = decideGate({
      pipeline: { ...pipeline, segmentGate: undefined, budgets },
      challenger: { accuracy: 0.9 },
      champion: { accuracy: 0.85 },
      championVersion: 'v1',
      latency: { challenger: 0.25, champion: 0.2 },
    });
    expect(ok.checks.find((c) => c.rule === 'latencyRatio')).toMatchObject({ passed: true, metric: 'predict_ms_per_row', threshold: 1.5 });
  });

  it('does not gate latency without the setting or without a champion', () => {
    const latency = { challenger: 10, champion: 0.2 };
    expect(
      decideGate({
        pipeline: { ...pipeline, segmentGate: undefined },
        challenger: { accuracy: 0.9 },
        champion: { accuracy: 0.85 },
        championVersion: 'v1',
        latency,
      }).passed,
    ).toBe(true);
    expect(
      decideGate({
        pipeline: { ...pipeline, segmentGate: undefined, budgets },
        challenger: { accuracy: 0.9 },
        champion: null,
        championVersion: null,
        latency: { challenger: 10, champion: null },
      }).passed,
    ).toBe(true);
  });
});
