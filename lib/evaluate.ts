import { classificationMetrics, regressionMetrics } from './metrics';
import type { Metrics } from './gate';
import type { ModelOutput } from './training-contract';

/**
 * Metrics of a model's predictions against the holdout's labels: the single path through
 * which challenger and champion are scored, so both are measured the same way.
 */
export function scorePredictions(opts: {
  task: 'classification' | 'regression';
  labels: string[];
  predictions: ModelOutput[];
  classes: string[] | null;
  positiveClass?: string;
}): Metrics {
  if (opts.task === 'regression') {
    return { ...regressionMetrics({ actual: opts.labels.map(Number), predicted: opts.predictions.map((p) => Number(p.prediction)) }) };
  }
  const classes = opts.classes ?? [...new Set(opts.labels)].sort();
  return {
    ...classificationMetrics({
      labels: opts.labels,
      predictions: opts.predictions.map((p) => String(p.prediction)),
      scores: opts.predictions.map((p) => p.scores ?? {}),
      classes,
      positiveClass: opts.positiveClass && classes.includes(opts.positiveClass) ? opts.positiveClass : undefined,
    }),
  };
}
