/**
 * Performance estimation without labels: confidence-based performance estimation (CBPE), after
 * NannyML, for binary and multiclass classifiers. Labels often arrive weeks after the predictions;
 * the scores are there at once. Pure code (no I/O, no Temporal).
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
 * const read = parseCalibration(JSON.parse(stored));
 * if (read.method === 'isotonic') {
 *   const estimate = estimatePerformance({ scores, predictedPositive, calibration: read });
 *   estimate.metrics.accuracy; // { value: 0.87, lower: 0.85, upper: 0.89 }
 * }
 * ```
 *
 * A multiclass classifier (3 classes or more) is calibrated one-vs-rest per class and estimated
 * from every class's score and its logged predicted class:
 *
 * ```ts
 * const calibration = fitMulticlassCalibration({ scores: { a: sa, b: sb, c: sc }, labels, classes: ['a', 'b', 'c'] });
 * const estimate = estimateMulticlassPerformance({ scores: { a: wa, b: wb, c: wc }, predicted, calibration });
 * ```
 *
 * A window too large for one worker's memory is estimated from histograms of its binary scores,
 * which merge by adding ({@link estimateBinnedPerformance}: within a stated bound of the row-by-row
 * estimate):
 *
 * ```ts
 * const { estimate, binningError } = estimateBinnedPerformance({ predictedPositive, predictedNegative, calibration });
 * ```
 *
 * Each fit also stores {@link BOOTSTRAPS} refits on resampled holdout rows, so the band covers the
 * calibration's own error from its finite holdout besides the labels' noise. The estimate holds
 * while P(label | score) stays what it was on the holdout: covariate shift is covered, concept
 * drift is not (see {@link ESTIMATE_ASSUMPTION}).
 */

export { BOOTSTRAP_KNOTS, BOOTSTRAPS, type BootstrapKnots, MAX_BOOTSTRAP_KNOTS, MAX_BOOTSTRAPS } from './bootstrap';
export { type Calibration, type CalibrationInput, calibrationSchema, ECE_BINS, fitCalibration, MAX_KNOTS } from './calibration';
export {
  ESTIMATE_ASSUMPTION,
  estimableTask,
  estimatePerformance,
  type EstimateInput,
  type EstimateOptions,
  MAX_BAND_ROWS,
  type MetricEstimate,
  NO_BOOTSTRAPS_NOTE,
  type PerformanceEstimate,
} from './cbpe';
export { ESTIMATED_METRICS, type EstimatedMetric } from './expected-metrics';
export {
  fitMulticlassCalibration,
  MAX_CLASSES,
  MAX_TOTAL_KNOTS,
  type MulticlassCalibration,
  type MulticlassCalibrationInput,
  multiclassCalibrationSchema,
} from './multiclass-calibration';
export { estimateMulticlassPerformance, type MulticlassEstimateInput } from './multiclass-cbpe';
export { calibrate, calibrateAll, parseCalibration, type StoredCalibration, storedCalibrationSchema } from './stored-calibration';
export {
  type BinnedEstimate,
  type BinnedEstimateInput,
  type BinnedScores,
  estimateBinnedPerformance,
  HISTOGRAM_LENGTH,
  SCORE_BINS,
  scoreBin,
} from './binned';
