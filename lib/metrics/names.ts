/**
 * Metric names, which task each belongs to and which way is better. No computation here: the
 * pipeline schema and the gate use these, and both are bundled into workflows, which must not
 * carry the metric engine (classification.ts, regression.ts).
 */

export type Task = 'classification' | 'regression';

/** Every metric name, in registry order (a tuple, so it can feed `z.enum`). */
export const METRIC_NAMES = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss', 'rmse', 'mae', 'r2'] as const;

/** The name of a metric Retrain computes. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** A metric's name, its task and which way is better. */
export interface MetricInfo {
  readonly name: MetricName;
  readonly task: Task;
  /** True when a larger value means a better model (false for losses and errors). */
  readonly higherIsBetter: boolean;
}

function info(name: MetricName, task: Task, higherIsBetter: boolean): MetricInfo {
  return Object.freeze({ name, task, higherIsBetter });
}

/** Registry of all metrics, keyed by name. */
export const METRICS: Readonly<Record<MetricName, MetricInfo>> = Object.freeze({
  accuracy: info('accuracy', 'classification', true),
  precision: info('precision', 'classification', true),
  recall: info('recall', 'classification', true),
  f1: info('f1', 'classification', true),
  roc_auc: info('roc_auc', 'classification', true),
  log_loss: info('log_loss', 'classification', false),
  rmse: info('rmse', 'regression', false),
  mae: info('mae', 'regression', false),
  r2: info('r2', 'regression', true),
});

/** True when `s` is one of {@link METRIC_NAMES} (own keys only, so `"toString"` is not). */
export function isMetricName(s: unknown): s is MetricName {
  return typeof s === 'string' && Object.hasOwn(METRICS, s);
}

/** The metrics computed for `task`, in registry order. */
export function metricsForTask(task: Task): MetricInfo[] {
  return METRIC_NAMES.map((name) => METRICS[name]).filter((m) => m.task === task);
}

/**
 * True when a larger value of `metric` means a better model. A name outside the registry counts
 * as higher-is-better, as scores usually are.
 */
export function higherIsBetter(metric: string): boolean {
  return isMetricName(metric) ? METRICS[metric].higherIsBetter : true;
}
