import { describe, it, expect } from 'vitest';
import { decideGate, type GateDecision, type Metrics } from '../lib/gate';
import type { Pipeline } from '../lib/pipeline';

type Gate = Pipeline['gates'][number];

function decide(opts: {
  primary: Pipeline['metrics']['primary'];
  gates?: Gate[];
  challenger: Metrics;
  champion?: Metrics | null;
  championVersion?: string | null;
}): GateDecision {
  return decideGate({
    pipeline: { metrics: { primary: opts.primary, others: [] }, gates: opts.gates ?? [] },
    challenger: opts.challenger,
    champion: opts.champion ?? null,
    championVersion: opts.champion ? (opts.championVersion ?? 'vchampion0001') : null,
  });
}

const failed = (d: GateDecision) => d.checks.filter((c) => !c.passed).map((c) => `${c.metric}:${c.rule}`);

describe('gate: absolute limits', () => {
  it('passes a higher-is-better metric at or above min, fails it below', () => {
    const gates: Gate[] = [{ metric: 'accuracy', min: 0.8 }];
    expect(decide({ primary: 'accuracy', gates, challenger: { accuracy: 0.8 } }).passed).toBe(true);
    expect(decide({ primary: 'accuracy', gates, challenger: { accuracy: 0.85 } }).passed).toBe(true);
    const below = decide({ primary: 'accuracy', gates, challenger: { accuracy: 0.79 } });
    expect(below.passed).toBe(false);
    expect(failed(below)).toEqual(['accuracy:min']);
    expect(below.reason).toContain('accuracy 0.7900 < min 0.8000');
  });

  it('passes a lower-is-better metric (rmse) at or below max, fails it above', () => {
    const gates: Gate[] = [{ metric: 'rmse', max: 10 }];
    expect(decide({ primary: 'rmse', gates, challenger: { rmse: 10 } }).passed).toBe(true);
    expect(decide({ primary: 'rmse', gates, challenger: { rmse: 9.5 } }).passed).toBe(true);
    const above = decide({ primary: 'rmse', gates, challenger: { rmse: 10.5 } });
    expect(above.passed).toBe(false);
    expect(failed(above)).toEqual(['rmse:max']);
    expect(above.reason).toContain('rmse 10.5000 > max 10');
  });

  it('applies min and max of one gate together', () => {
    const gates: Gate[] = [{ metric: 'r2', min: 0.5, max: 0.99 }];
    expect(decide({ primary: 'rmse', gates, challenger: { rmse: 1, r2: 0.7 } }).passed).toBe(true);
    expect(failed(decide({ primary: 'rmse', gates, challenger: { rmse: 1, r2: 0.999 } }))).toEqual(['r2:max']);
  });

  it('does not fail a tie on floating-point noise', () => {
    expect(decide({ primary: 'f1', gates: [{ metric: 'f1', min: 0.3 }], challenger: { f1: 0.1 + 0.2 - 1e-15 } }).passed).toBe(true);
  });
});

describe('gate: regression against the champion', () => {
  it('allows a higher-is-better metric to drop by at most maxRegression', () => {
    const gates: Gate[] = [{ metric: 'roc_auc', maxRegression: 0.01 }];
    const champion = { roc_auc: 0.9 };
    expect(decide({ primary: 'roc_auc', gates, challenger: { roc_auc: 0.895 }, champion }).passed).toBe(true);
    expect(decide({ primary: 'roc_auc', gates, challenger: { roc_auc: 0.89 }, champion }).passed).toBe(true);
    const worse = decide({ primary: 'roc_auc', gates, challenger: { roc_auc: 0.88 }, champion });
    expect(worse.passed).toBe(false);
    expect(worse.checks).toHaveLength(1);
    expect(worse.checks[0]).toMatchObject({
      metric: 'roc_auc',
      rule: 'maxRegression',
      threshold: 0.01,
      challenger: 0.88,
      champion: 0.9,
      passed: false,
    });
    expect(worse.checks[0].message).toContain('worse by 0.0200');
  });

  it('treats a rise of a lower-is-better metric (rmse) as the regression', () => {
    const gates: Gate[] = [{ metric: 'rmse', maxRegression: 0.5 }];
    const champion = { rmse: 10 };
    expect(decide({ primary: 'rmse', gates, challenger: { rmse: 9 }, champion }).checks[0].message).toContain('better by 1');
    expect(decide({ primary: 'rmse', gates, challenger: { rmse: 10.5 }, champion }).passed).toBe(true);
    const worse = decide({ primary: 'rmse', gates, challenger: { rmse: 10.6 }, champion });
    expect(worse.passed).toBe(false);
    expect(worse.checks[0].message).toContain('worse by 0.6000');
    // A lower rmse is never a regression, however large the change.
    expect(decide({ primary: 'rmse', gates, challenger: { rmse: 1 }, champion }).passed).toBe(true);
  });

  it('treats log_loss as lower-is-better too', () => {
    const gates: Gate[] = [{ metric: 'log_loss', maxRegression: 0 }];
    expect(
      decide({ primary: 'accuracy', gates, challenger: { accuracy: 1, log_loss: 0.3 }, champion: { accuracy: 1, log_loss: 0.4 } }).passed,
    ).toBe(true);
    expect(
      failed(decide({ primary: 'accuracy', gates, challenger: { accuracy: 1, log_loss: 0.5 }, champion: { accuracy: 1, log_loss: 0.4 } })),
    ).toEqual(['log_loss:maxRegression']);
  });

  it('gives the primary metric an implicit maxRegression of 0', () => {
    const champion = { accuracy: 0.8 };
    const same = decide({ primary: 'accuracy', challenger: { accuracy: 0.8 }, champion });
    expect(same.passed).toBe(true);
    expect(same.checks).toEqual([expect.objectContaining({ metric: 'accuracy', rule: 'maxRegression', threshold: 0 })]);
    const worse = decide({ primary: 'accuracy', challenger: { accuracy: 0.79 }, champion });
    expect(worse.passed).toBe(false);
    expect(failed(worse)).toEqual(['accuracy:maxRegression']);
    // Lower is better for rmse: the implicit rule follows the metric's direction.
    expect(decide({ primary: 'rmse', challenger: { rmse: 4.9 }, champion: { rmse: 5 } }).passed).toBe(true);
    expect(decide({ primary: 'rmse', challenger: { rmse: 5.1 }, champion: { rmse: 5 } }).passed).toBe(false);
  });

  it('keeps the implicit primary rule when the primary has only absolute gates', () => {
    const d = decide({
      primary: 'accuracy',
      gates: [{ metric: 'accuracy', min: 0.5 }],
      challenger: { accuracy: 0.7 },
      champion: { accuracy: 0.75 },
    });
    expect(d.checks.map((c) => c.rule)).toEqual(['min', 'maxRegression']);
    expect(failed(d)).toEqual(['accuracy:maxRegression']);
  });

  it('replaces the implicit primary rule with the pipeline own maxRegression', () => {
    const d = decide({
      primary: 'accuracy',
      gates: [{ metric: 'accuracy', maxRegression: 0.1 }],
      challenger: { accuracy: 0.7 },
      champion: { accuracy: 0.75 },
    });
    expect(d.passed).toBe(true);
    expect(d.checks).toHaveLength(1);
    expect(d.checks[0].threshold).toBe(0.1);
  });

  it('passes a regression check when the champion has no value for the metric', () => {
    const d = decide({ primary: 'roc_auc', challenger: { roc_auc: 0.7 }, champion: { roc_auc: null } });
    expect(d.passed).toBe(true);
    expect(d.checks[0].message).toContain('champion has no value to compare with');
  });
});

describe('gate: no champion yet', () => {
  it('skips regression checks but still applies absolute ones', () => {
    const gates: Gate[] = [
      { metric: 'roc_auc', min: 0.7, maxRegression: 0.01 },
      { metric: 'accuracy', maxRegression: 0 },
    ];
    const ok = decide({ primary: 'roc_auc', gates, challenger: { roc_auc: 0.75, accuracy: 0.1 } });
    expect(ok.passed).toBe(true);
    expect(ok.checks.map((c) => `${c.metric}:${c.rule}`)).toEqual(['roc_auc:min']);
    expect(ok.championVersion).toBeNull();
    expect(ok.reason).toBe('passed 1 check (no champion yet): roc_auc 0.7500 >= min 0.7000');

    const low = decide({ primary: 'roc_auc', gates, challenger: { roc_auc: 0.65, accuracy: 0.9 } });
    expect(low.passed).toBe(false);
    expect(low.reason).toMatch(/^rejected \(no champion yet\): roc_auc 0\.6500 < min 0\.7000$/);
  });

  it('passes with no checks at all when there are no gates and no champion', () => {
    const d = decide({ primary: 'accuracy', challenger: { accuracy: 0.5 } });
    expect(d).toEqual({ passed: true, reason: 'passed 0 checks (no champion yet)', checks: [], championVersion: null });
  });
});

describe('gate: missing metrics', () => {
  it('fails an absolute check on a metric that could not be computed', () => {
    const d = decide({ primary: 'accuracy', gates: [{ metric: 'roc_auc', min: 0.5 }], challenger: { accuracy: 0.9, roc_auc: null } });
    expect(d.passed).toBe(false);
    expect(d.checks[0]).toMatchObject({ metric: 'roc_auc', challenger: null, passed: false, message: 'roc_auc could not be computed' });
  });

  it('fails a regression check on a challenger metric that is null or absent', () => {
    expect(decide({ primary: 'roc_auc', challenger: { roc_auc: null }, champion: { roc_auc: 0.8 } }).passed).toBe(false);
    const absent = decide({ primary: 'roc_auc', challenger: {}, champion: { roc_auc: 0.8 } });
    expect(absent.passed).toBe(false);
    expect(absent.reason).toContain('roc_auc could not be computed');
  });
});

describe('gate: the written reason', () => {
  it('names every failing metric and the champion version', () => {
    const d = decide({
      primary: 'roc_auc',
      gates: [{ metric: 'accuracy', min: 0.8 }],
      challenger: { roc_auc: 0.81, accuracy: 0.7 },
      champion: { roc_auc: 0.85, accuracy: 0.9 },
      championVersion: 'v0123456789ab',
    });
    expect(d.passed).toBe(false);
    expect(d.championVersion).toBe('v0123456789ab');
    expect(d.reason.startsWith('rejected (champion v0123456789ab): ')).toBe(true);
    expect(d.reason).toContain('accuracy 0.7000 < min 0.8000');
    expect(d.reason).toContain('roc_auc 0.8100 vs 0.8500 (v0123456789ab): worse by 0.0400, exceeds allowed regression 0');
    expect(failed(d)).toEqual(['accuracy:min', 'roc_auc:maxRegression']);
  });

  it('lists the checks that passed, against the champion', () => {
    const d = decide({ primary: 'rmse', challenger: { rmse: 3 }, champion: { rmse: 4 }, championVersion: 'vabc' });
    expect(d.reason).toBe('passed 1 check (champion vabc): rmse 3 vs 4 (vabc): better by 1, within allowed regression 0');
  });
});

describe('the primary metric', () => {
  it('fails a first model whose primary metric could not be computed, even with no gates', () => {
    const d = decideGate({
      pipeline: { gates: [], metrics: { primary: 'roc_auc', others: [] } },
      challenger: { roc_auc: null, accuracy: 0.9 },
      champion: null,
      championVersion: null,
    });
    expect(d.passed).toBe(false);
    expect(d.checks[0]).toMatchObject({ metric: 'roc_auc', rule: 'required', passed: false });
    expect(d.reason).toMatch(/primary metric roc_auc could not be computed/);
  });
});
