import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  METRICS,
  METRIC_NAMES,
  MetricInputError,
  classificationMetrics,
  isMetricName,
  metricsForTask,
  regressionMetrics,
  type ClassificationInput,
  type RegressionInput,
} from '../lib/metrics/index.js';

// Regenerate with: .retrain/venv/bin/python test/fixtures/make_metric_fixtures.py
interface Case<I> {
  name: string;
  input: I;
  expected: Record<string, number | null>;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/metrics-sklearn.json', import.meta.url), 'utf8')) as {
  versions: Record<string, string>;
  classification: Case<ClassificationInput>[];
  regression: Case<RegressionInput>[];
  deviations: (Case<RegressionInput> & { sklearn: Record<string, number | null> })[];
};

const TOLERANCE = 1e-9;

/** Every expected metric present and within 1e-9 absolute; null (sklearn NaN) must stay null. */
function expectMatches(actual: Record<string, number | null>, expected: Record<string, number | null>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    if (want === null) {
      expect(got, name).toBeNull();
    } else {
      expect(typeof got, name).toBe('number');
      expect(Math.abs((got as number) - want), `${name}: got ${got}, sklearn ${want}`).toBeLessThanOrEqual(TOLERANCE);
    }
  }
}

const binary = (over: Partial<ClassificationInput> = {}): ClassificationInput => ({
  labels: ['no', 'yes', 'yes', 'no'],
  predictions: ['no', 'yes', 'no', 'no'],
  scores: [
    { no: 0.8, yes: 0.2 },
    { no: 0.3, yes: 0.7 },
    { no: 0.6, yes: 0.4 },
    { no: 0.9, yes: 0.1 },
  ],
  classes: ['no', 'yes'],
  ...over,
});

describe(`metrics match scikit-learn ${fixture.versions['scikit-learn']}`, () => {
  it('has fixture cases', () => {
    expect(fixture.classification.length).toBeGreaterThanOrEqual(10);
    expect(fixture.regression.length).toBeGreaterThanOrEqual(8);
  });

  for (const c of fixture.classification) {
    it(c.name, () => expectMatches({ ...classificationMetrics(c.input) }, c.expected));
  }
  for (const c of fixture.regression) {
    it(c.name, () => expectMatches({ ...regressionMetrics(c.input) }, c.expected));
  }
  for (const c of fixture.deviations) {
    it(`${c.name} (deliberate deviation)`, () => {
      expect(c.sklearn.r2).toBeLessThan(-1e20); // the fixture documents what sklearn returned
      expectMatches({ ...regressionMetrics(c.input) }, c.expected);
    });
  }
});

describe('metric registry', () => {
  it('lists every metric once, keyed by its own name', () => {
    expect(Object.keys(METRICS)).toEqual([...METRIC_NAMES]);
    for (const name of METRIC_NAMES) expect(METRICS[name].name).toBe(name);
  });

  it('flags losses and errors as lower-is-better', () => {
    const lowerIsBetter = METRIC_NAMES.filter((n) => !METRICS[n].higherIsBetter);
    expect(lowerIsBetter.sort()).toEqual(['log_loss', 'mae', 'rmse']);
  });

  it('groups metrics by task', () => {
    expect(metricsForTask('classification').map((m) => m.name)).toEqual(['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss']);
    expect(metricsForTask('regression').map((m) => m.name)).toEqual(['rmse', 'mae', 'r2']);
  });

  it('recognises metric names only', () => {
    expect(isMetricName('roc_auc')).toBe(true);
    expect(isMetricName('rocAuc')).toBe(false);
    expect(isMetricName('toString')).toBe(false);
    expect(isMetricName(3)).toBe(false);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(METRICS)).toBe(true);
    expect(Object.isFrozen(METRICS.accuracy)).toBe(true);
  });
});

describe('classificationMetrics edge cases', () => {
  it('computes a small binary case by hand', () => {
    const m = classificationMetrics(binary());
    expect(m.accuracy).toBe(0.75);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(0.5);
    expect(m.f1).toBeCloseTo(2 / 3, 15);
    expect(m.roc_auc).toBe(1);
    expect(m.log_loss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7) + Math.log(0.4) + Math.log(0.9)) / 4, 15);
  });

  it('counts tied scores as half in roc_auc', () => {
    const scores = [0.5, 0.5, 0.5, 0.5].map((p) => ({ no: 1 - p, yes: p }));
    expect(classificationMetrics(binary({ scores })).roc_auc).toBe(0.5);
  });

  it('returns null roc_auc when only one class occurs in labels', () => {
    const m = classificationMetrics(binary({ labels: ['yes', 'yes', 'yes', 'yes'] }));
    expect(m.roc_auc).toBeNull();
    expect(Number.isFinite(m.log_loss)).toBe(true);
  });

  it('returns null multiclass roc_auc when any class is missing from labels', () => {
    const m = classificationMetrics({
      labels: ['a', 'b', 'a'],
      predictions: ['a', 'b', 'c'],
      scores: [
        { a: 0.6, b: 0.2, c: 0.2 },
        { a: 0.1, b: 0.8, c: 0.1 },
        { a: 0.3, b: 0.3, c: 0.4 },
      ],
      classes: ['a', 'b', 'c'],
    });
    expect(m.roc_auc).toBeNull();
  });

  it('uses positiveClass, defaulting to the second class as given (not sorted)', () => {
    const base = binary({ classes: ['yes', 'no'] });
    expect(classificationMetrics(base).recall).toBe(1); // positive "no": 2 of 2 recalled
    expect(classificationMetrics({ ...base, positiveClass: 'yes' }).recall).toBe(0.5);
  });

  it('gives precision 0 (sklearn zero_division) when the positive class is never predicted', () => {
    const m = classificationMetrics(binary({ predictions: ['no', 'no', 'no', 'no'] }));
    expect(m).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });

  it('clips probabilities of 0 and 1 to machine epsilon in log_loss', () => {
    const scores = [0, 1, 1, 0].map((p) => ({ no: 1 - p, yes: p }));
    const m = classificationMetrics(binary({ scores }));
    expect(m.log_loss).toBeCloseTo(-Math.log(1 - Number.EPSILON), 30);
    const wrong = classificationMetrics(binary({ scores: [1, 0, 0, 1].map((p) => ({ no: 1 - p, yes: p })) }));
    expect(wrong.log_loss).toBeCloseTo(-Math.log(Number.EPSILON), 12);
  });

  it('throws MetricInputError with the counts on empty input', () => {
    const call = () => classificationMetrics({ labels: [], predictions: [], scores: [], classes: ['a', 'b'] });
    expect(call).toThrow(MetricInputError);
    expect(call).toThrow(/labels=0, predictions=0, scores=0/);
  });

  it('throws MetricInputError with the counts on a length mismatch', () => {
    const call = () => classificationMetrics(binary({ predictions: ['no', 'yes'] }));
    expect(call).toThrow(MetricInputError);
    expect(call).toThrow(/labels=4, predictions=2, scores=4/);
  });

  it('throws on a label or prediction outside classes (sklearn rejects them)', () => {
    expect(() => classificationMetrics(binary({ labels: ['no', 'yes', 'maybe', 'no'] }))).toThrow(/labels\[2\] is "maybe"/);
    expect(() => classificationMetrics(binary({ predictions: ['no', 'yes', 'maybe', 'no'] }))).toThrow(MetricInputError);
  });

  it('throws on missing or out-of-range scores', () => {
    const missing = binary().scores as Record<string, number>[];
    expect(() => classificationMetrics(binary({ scores: [...missing.slice(0, 3), { no: 1 }] }))).toThrow(/scores\[3\]\["yes"\]/);
    expect(() => classificationMetrics(binary({ scores: [...missing.slice(0, 3), { no: 1.2, yes: -0.2 }] }))).toThrow(MetricInputError);
    expect(() => classificationMetrics(binary({ scores: [...missing.slice(0, 3), { no: NaN, yes: 0.5 }] }))).toThrow(MetricInputError);
  });

  it('throws on multiclass score rows not summing to 1 (sklearn roc_auc rejects them)', () => {
    const input: ClassificationInput = {
      labels: ['a', 'b', 'c'],
      predictions: ['a', 'b', 'c'],
      scores: [
        { a: 0.6, b: 0.2, c: 0.2 },
        { a: 0.1, b: 0.8, c: 0.1 },
        { a: 0.3, b: 0.3, c: 0.3 },
      ],
      classes: ['a', 'b', 'c'],
    };
    expect(() => classificationMetrics(input)).toThrow(/scores\[2\] sums to/);
  });

  it('throws on bad classes or positiveClass', () => {
    expect(() => classificationMetrics(binary({ classes: ['no'] }))).toThrow(MetricInputError);
    expect(() => classificationMetrics(binary({ classes: ['no', 'no'] }))).toThrow(/duplicate/);
    expect(() => classificationMetrics(binary({ positiveClass: 'maybe' }))).toThrow(MetricInputError);
  });
});

describe('regressionMetrics edge cases', () => {
  it('computes a small case by hand', () => {
    const m = regressionMetrics({ actual: [1, 2, 3, 4], predicted: [1, 2, 3, 6] });
    expect(m.rmse).toBe(1);
    expect(m.mae).toBe(0.5);
    expect(m.r2).toBeCloseTo(1 - 4 / 5, 15);
  });

  it('follows force_finite for a constant actual: 1 if perfect, else 0', () => {
    expect(regressionMetrics({ actual: [0.1, 0.1, 0.1], predicted: [0.1, 0.1, 0.1] }).r2).toBe(1);
    expect(regressionMetrics({ actual: [0.1, 0.1, 0.1], predicted: [0.2, 0.1, 0.1] }).r2).toBe(0);
  });

  it('returns null r2 for a single row', () => {
    expect(regressionMetrics({ actual: [1], predicted: [2] })).toEqual({ rmse: 1, mae: 1, r2: null });
  });

  it('accepts typed arrays', () => {
    const m = regressionMetrics({ actual: Float64Array.of(1, 2, 3), predicted: Float64Array.of(1, 2, 4) });
    expect(m.mae).toBeCloseTo(1 / 3, 15);
  });

  it('throws MetricInputError with the counts on empty input or a length mismatch', () => {
    expect(() => regressionMetrics({ actual: [], predicted: [] })).toThrow(MetricInputError);
    expect(() => regressionMetrics({ actual: [], predicted: [] })).toThrow(/actual=0, predicted=0/);
    expect(() => regressionMetrics({ actual: [1, 2, 3], predicted: [1, 2] })).toThrow(/actual=3, predicted=2/);
  });

  it('throws on non-finite values', () => {
    expect(() => regressionMetrics({ actual: [1, NaN], predicted: [1, 2] })).toThrow(/actual\[1\]/);
    expect(() => regressionMetrics({ actual: [1, 2], predicted: [1, Infinity] })).toThrow(MetricInputError);
  });
});

describe('scale', () => {
  it('scores a 1e6-row binary holdout quickly and exactly', () => {
    const n = 1_000_000;
    const labels: string[] = new Array(n);
    const predictions: string[] = new Array(n);
    const scores: Record<string, number>[] = new Array(n);
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < n; i++) {
      const yes = random() < 0.3;
      const p = Math.round(Math.min(1, Math.max(0, (yes ? 0.6 : 0.4) + (random() - 0.5) * 0.6)) * 100) / 100;
      labels[i] = yes ? 'yes' : 'no';
      predictions[i] = p >= 0.5 ? 'yes' : 'no';
      scores[i] = { no: 1 - p, yes: p };
    }
    const start = performance.now();
    const m = classificationMetrics({ labels, predictions, scores, classes: ['no', 'yes'] });
    const elapsed = performance.now() - start;
    expect(m.roc_auc).toBeGreaterThan(0.5);
    expect(m.roc_auc).toBeLessThan(1);
    expect(elapsed).toBeLessThan(5000);
  });
});
