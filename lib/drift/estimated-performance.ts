/**
 * The drift report's section on performance estimated without labels (lib/performance-estimation:
 * CBPE), next to the realised figure once labels arrive. Pure code.
 */

import { ESTIMATED_METRICS, type EstimatedMetric, type MetricEstimate, type PerformanceEstimate } from '../performance-estimation';

/** What a check estimated for the champion from its logged scores. */
export interface EstimatedPerformance {
  method: 'cbpe';
  /** The metric judged: the pipeline's primary metric when it can be estimated, else accuracy. */
  metric: EstimatedMetric;
  /** The champion's value of `metric` on its holdout, where the calibration was fitted. */
  baseline: number | null;
  /** The champion's holdout value of every estimated metric (null where unknown). */
  baselines: Record<EstimatedMetric, number | null>;
  /** The estimate of `metric` on the window, with its band. */
  estimate: MetricEstimate;
  /** Every metric estimated, with its band. */
  metrics: Record<EstimatedMetric, MetricEstimate>;
  confidence: number;
  /** Largest worsening of `metric` still accepted (drift.maxMetricRegression). */
  maxRegression: number;
  /** The estimate is below the baseline by more than maxRegression. */
  dropped: boolean;
  /** Whether a drop counts as drift (drift.onEstimatedDrop: 'drift') or is reported only. */
  counts: boolean;
  /** Window predictions of the champion estimated, and those without a score for the positive class. */
  rows: number;
  missingScores: number;
  positiveClass: string;
  /** What the estimate assumes (no concept drift), and what it does not cover. */
  assumption: string;
  /** The realised value of `metric` (and of every estimated metric) on labelled rows of the window, when a check has them. */
  realised?: { value: number | null; labelledRows: number; metrics: Record<EstimatedMetric, number | null> };
  note?: string;
}

/**
 * The section from an estimate: the primary metric (or accuracy when the primary metric cannot be
 * estimated, e.g. log_loss), whether it dropped beyond `maxRegression`, and whether that counts.
 */
export function estimatedPerformanceOf(input: {
  estimate: PerformanceEstimate;
  primary: string;
  positiveClass: string;
  baselines: Readonly<Record<string, number | null | undefined>>;
  maxRegression: number;
  counts: boolean;
  realised?: { metrics: Readonly<Record<string, number | null>>; labelledRows: number } | null;
}): EstimatedPerformance {
  const { estimate, primary } = input;
  const metric = judgedMetric(primary);
  const baseline = input.baselines[metric] ?? null;
  const value = estimate.metrics[metric].value;
  // All estimated metrics are "higher is better".
  const dropped = baseline !== null && value !== null && baseline - value > input.maxRegression + 1e-12;
  const notes = [
    metric !== primary ? `the primary metric ${primary} cannot be estimated without labels; accuracy is judged instead` : null,
    estimate.note ?? null,
  ].filter((n): n is string => n !== null);
  return {
    method: 'cbpe',
    metric,
    baseline,
    baselines: Object.fromEntries(ESTIMATED_METRICS.map((m) => [m, input.baselines[m] ?? null])) as Record<EstimatedMetric, number | null>,
    estimate: estimate.metrics[metric],
    metrics: estimate.metrics,
    confidence: estimate.confidence,
    maxRegression: input.maxRegression,
    dropped,
    counts: input.counts,
    rows: estimate.rows,
    missingScores: estimate.missingScores,
    positiveClass: input.positiveClass,
    assumption: estimate.assumption,
    ...(input.realised
      ? {
          realised: {
            value: input.realised.metrics[metric] ?? null,
            labelledRows: input.realised.labelledRows,
            metrics: Object.fromEntries(ESTIMATED_METRICS.map((m) => [m, input.realised!.metrics[m] ?? null])) as Record<
              EstimatedMetric,
              number | null
            >,
          },
        }
      : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

/** The metric an estimate is judged on: the primary metric when it can be estimated, else accuracy. */
export function judgedMetric(primary: string): EstimatedMetric {
  return (ESTIMATED_METRICS as readonly string[]).includes(primary) ? (primary as EstimatedMetric) : 'accuracy';
}

/** The summary's clause on the estimate. */
export function describeEstimate(e: EstimatedPerformance): string {
  const v = e.estimate.value;
  if (v === null) return `${e.metric} could not be estimated from the scores`;
  const band = e.estimate.lower !== null && e.estimate.upper !== null ? ` (${fmt(e.estimate.lower)}–${fmt(e.estimate.upper)})` : '';
  const against = e.baseline === null ? '' : ` against ${fmt(e.baseline)} on the holdout`;
  const verdict = e.dropped
    ? `, a drop beyond the allowed ${fmt(e.maxRegression)}${e.counts ? '' : ' (reported, not counted as drift)'}`
    : '';
  return `estimated ${e.metric} without labels is ${fmt(v)}${band}${against}${verdict}`;
}

function fmt(x: number): string {
  return String(Number(x.toFixed(4)));
}
