/**
 * Performance estimation without labels: confidence-based performance estimation (CBPE), after
 * NannyML, for binary classifiers. Labels often arrive weeks after the predictions; the scores
 * are there at once. Pure code (no I/O, no Temporal).
 *
 * Fit a calibration on the holdout when a model version is trained, store it as JSON beside the
 * version, and estimate any window of logged predictions from it:
 *
 * ```ts
 * import { estimatePerformance, fitCalibration, parseCalibration } from '../lib/performance-estimation';
 *
 * const calibration = fitCalibration({ scores: holdoutScores, outcomes: holdoutIsPositive, positiveClass: 'churned' });
 * const stored = JSON.stringify(calibration);
 * // … weeks later, on a window with no labels yet:
 * const estimate = estimatePerformance({ scores, predictedPositive, calibration: parseCalibration(JSON.parse(stored)) });
 * estimate.metrics.accuracy; // { value: 0.87, lower: 0.85, upper: 0.89 }
 * ```
 *
 * The estimate holds while P(label | score) stays what it was on the holdout: covariate shift is
 * covered, concept drift is not (see {@link ESTIMATE_ASSUMPTION}).
 */

export {
  calibrate,
  calibrateAll,
  type Calibration,
  type CalibrationInput,
  calibrationSchema,
  ECE_BINS,
  fitCalibration,
  MAX_KNOTS,
  parseCalibration,
} from './calibration';
export {
  ESTIMATE_ASSUMPTION,
  estimableTask,
  estimatePerformance,
  type EstimateInput,
  MAX_BAND_ROWS,
  type MetricEstimate,
  type PerformanceEstimate,
} from './cbpe';
export { ESTIMATED_METRICS, type EstimatedMetric } from './expected-metrics';
