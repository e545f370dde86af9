import { describe, expect, it } from 'vitest';
import type { VersionServing } from '../lib/prediction-log.js';
import { checkServingBudgets, describeOverBudget, overBudgetOf } from '../lib/serving-budgets.js';

function serving(
  version: string,
  opts: { predictions?: number; p95?: number; perPrediction?: number | null; counted?: number } = {},
): VersionServing {
  const predictions = opts.predictions ?? 400;
  const perPrediction = opts.perPrediction === undefined ? 0.0002 : opts.perPrediction;
  const counted = opts.counted ?? (perPrediction === null ? 0 : predictions);
  return {
    version,
    predictions,
    latencyMs: { mean: 9, p50: 9, p95: opts.p95 ?? 14, max: 14 },
    cost: { total: perPrediction === null ? 0 : perPrediction * counted, perPrediction, counted },
  };
}

describe('checkServingBudgets', () => {
  it('compares each version with each limit set: cost per 1,000 predictions and p95 latency', () => {
    const report = checkServingBudgets(
      [serving('v1'), serving('v2', { p95: 8, perPrediction: 0.00005 })],
      { maxCostPer1000: 0.1, maxLatencyP95Ms: 10 },
      30,
    )!;

    expect(report.over).toBe(true);
    expect(report.checks.map((c) => [c.version, c.what, c.figure, c.over])).toEqual([
      ['v1', 'costPer1000', expect.closeTo(0.2, 12), true],
      ['v1', 'latencyP95Ms', 14, true],
      ['v2', 'costPer1000', expect.closeTo(0.05, 12), false],
      ['v2', 'latencyP95Ms', 8, false],
    ]);
    expect(report.checks.every((c) => c.judged)).toBe(true);
    expect(overBudgetOf(report)).toEqual([
      { version: 'v1', what: 'costPer1000', figure: expect.closeTo(0.2, 12), limit: 0.1 },
      { version: 'v1', what: 'latencyP95Ms', figure: 14, limit: 10 },
    ]);
  });

  it('checks only the limits that are set, and is null without any', () => {
    expect(checkServingBudgets([serving('v1')], {}, 30)).toBeNull();
    const report = checkServingBudgets([serving('v1')], { maxLatencyP95Ms: 20 }, 30)!;
    expect(report.checks.map((c) => c.what)).toEqual(['latencyP95Ms']);
    expect(report.over).toBe(false);
  });

  it('counts a figure equal to its limit as within, whatever the rounding of cost × 1,000', () => {
    const report = checkServingBudgets(
      [serving('v1', { perPrediction: 0.0002, p95: 10 })],
      { maxCostPer1000: 0.2, maxLatencyP95Ms: 10 },
      30,
    )!;
    expect(report.checks.map((c) => c.over)).toEqual([false, false]);
  });

  it('shows but does not judge a version with too few predictions, or without any cost logged', () => {
    const report = checkServingBudgets(
      [serving('canary', { predictions: 5, p95: 500 }), serving('v1', { perPrediction: null })],
      { maxCostPer1000: 0.1, maxLatencyP95Ms: 10 },
      30,
    )!;
    const [canaryCost, canaryLatency, cost] = report.checks;
    expect(canaryLatency).toMatchObject({
      figure: 500,
      judged: false,
      over: false,
      note: '5 predictions, fewer than the 30 a verdict needs',
    });
    expect(canaryCost).toMatchObject({ judged: false, over: false });
    expect(cost).toMatchObject({ figure: null, judged: false, over: false, note: 'no prediction logged a cost' });
    expect(report.over).toBe(true); // v1's latency (14 ms) is judged and over
    expect(overBudgetOf(report).map((o) => `${o.version} ${o.what}`)).toEqual(['v1 latencyP95Ms']);
  });

  it('says when only some predictions logged a cost', () => {
    const report = checkServingBudgets([serving('v1', { counted: 100 })], { maxCostPer1000: 1 }, 30)!;
    expect(report.checks[0]).toMatchObject({ judged: true, over: false, note: '100 of 400 predictions logged a cost' });
  });

  it('has no checks when nothing served in the window', () => {
    expect(checkServingBudgets(null, { maxCostPer1000: 1 }, 30)).toEqual({
      limits: { maxCostPer1000: 1 },
      minPredictions: 30,
      checks: [],
      over: false,
    });
  });
});

describe('describeOverBudget', () => {
  it('names the version, the figure and the limit, with units', () => {
    expect(describeOverBudget({ version: 'v1', what: 'latencyP95Ms', figure: 14, limit: 10 })).toBe('v1 p95 latency 14 ms (limit 10 ms)');
    expect(describeOverBudget({ version: 'v1', what: 'costPer1000', figure: 0.2 + 1e-17, limit: 0.1 })).toBe(
      'v1 cost per 1,000 predictions 0.2 (limit 0.1)',
    );
  });
});
