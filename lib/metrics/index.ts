/**
 * Model metrics: the one place where Retrain computes them.
 *
 * Pure code (no I/O, no Temporal). Every value matches scikit-learn 1.9.1 called with its
 * defaults (see test/fixtures/make_metric_fixtures.py for the exact calls), checked to 1e-9 by
 * test/metrics.test.ts. Where sklearn would return NaN we return `null`; where sklearn raises
 * we throw {@link MetricInputError}.
 *
 * The one entry for callers that compute metrics. Code that only needs names and directions
 * (the pipeline schema, the gate) imports names.ts, so it does not pull in the engine.
 */

export * from './names';
export { MetricInputError } from './input';
export { classificationMetrics, type ClassificationInput, type ClassificationMetrics } from './classification';
export { regressionMetrics, type RegressionInput, type RegressionMetrics } from './regression';
