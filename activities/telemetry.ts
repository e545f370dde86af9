import { metricMeter } from '@temporalio/activity';
import type { ServingSummary } from '../lib/drift/report';
import type { DriftCheckResult } from '../shared/results';

/**
 * Retrain's own metrics, next to the SDK's on the worker's Prometheus endpoint
 * (RETRAIN_METRICS_ADDRESS), so drift and serving cost can be alerted on with the tools a team
 * already runs, not only through the webhook. Without an endpoint they cost next to nothing.
 * The SDK adds namespace, task_queue and activity_type labels to each.
 */

/** One per finished activity step: counts by outcome, durations for latency alerts. */
export function recordStep(model: string, step: string, outcome: 'ok' | 'failed', durationMs: number): void {
  const meter = metricMeter.withTags({ model, step });
  meter.createCounter('retrain_steps', '1', 'activity steps finished, by outcome').add(1, { outcome });
  meter.createHistogram('retrain_step_duration', 'int', 'ms', 'time an activity step took').record(durationMs);
}

type DriftVerdict = Pick<
  DriftCheckResult,
  'enoughData' | 'drifted' | 'datasetDriftShare' | 'predictionDrifted' | 'conceptDrifted' | 'windowPredictions' | 'estimatedPerformance'
>;

/**
 * The latest drift verdict of a model as gauges: e.g. alert on `retrain_drift_detected == 1`
 * or on `retrain_prediction_drift == 1` for prediction drift alone.
 */
export function recordDriftCheck(model: string, m: DriftVerdict, serving: ServingSummary[] | null): void {
  // Labelled by model only: after a new champion, the old version's verdict must not linger as a firing series.
  const meter = metricMeter.withTags({ model });
  const gauge = (name: string, description: string, value: number, type: 'int' | 'float' = 'int') =>
    meter.createGauge(name, type, '', description).set(value);
  gauge('retrain_drift_window_predictions', 'predictions in the last drift-check window', m.windowPredictions);
  // No verdict without enough data: leave the drift gauges as they were rather than report "no drift".
  if (m.enoughData) {
    gauge('retrain_drift_detected', '1 when the last drift check found drift (data, prediction or concept)', m.drifted ? 1 : 0);
    gauge('retrain_drift_share', 'share of features that drifted in the last check', m.datasetDriftShare, 'float');
    gauge('retrain_prediction_drift', '1 when the predictions drifted in the last check', m.predictionDrifted ? 1 : 0);
    gauge('retrain_concept_drift', '1 when the labelled performance regressed in the last check', m.conceptDrifted ? 1 : 0);
    const e = m.estimatedPerformance;
    if (e && e.value !== null) {
      // Before labels arrive: alert on the estimate falling, e.g. retrain_estimated_performance_drop == 1.
      const estimated = metricMeter.withTags({ model, metric: e.metric });
      estimated
        .createGauge(
          'retrain_estimated_performance',
          'float',
          '',
          "the champion's primary metric estimated from its scores, without labels",
        )
        .set(e.value);
      gauge(
        'retrain_estimated_performance_drop',
        '1 when the estimated performance fell beyond drift.maxMetricRegression',
        e.dropped ? 1 : 0,
      );
    }
  }
  for (const s of serving ?? []) {
    const served = metricMeter.withTags({ model, version: s.version });
    served
      .createGauge('retrain_serving_latency_p95', 'float', 'ms', 'p95 prediction latency in the last drift-check window')
      .set(s.latencyMs.p95);
    if (s.cost.perPrediction !== null) {
      served
        .createGauge('retrain_cost_per_prediction', 'float', '', 'mean inference cost per prediction in the last drift-check window')
        .set(s.cost.perPrediction);
    }
  }
}
