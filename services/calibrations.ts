import { keys } from '../lib/keys';
import { estimableTask, fitCalibration, parseCalibration, type Calibration } from '../lib/performance-estimation';
import type { Pipeline } from '../lib/pipeline';
import type { ModelOutput } from '../lib/training-contract';
import type { Store } from '../store/store';

/**
 * The calibration a version's performance is estimated with before labels arrive: fitted on its
 * holdout predictions at evaluation, stored beside its reference profiles.
 */

/** The class whose scores are calibrated: the pipeline's positive class, else the second class (as the metrics take it). */
export function positiveClassOf(pipeline: Pipeline, classes: readonly string[] | null): string | null {
  if (!classes || classes.length !== 2) return null;
  return pipeline.positiveClass && classes.includes(pipeline.positiveClass) ? pipeline.positiveClass : classes[1]!;
}

/**
 * Fits and stores the calibration of a binary classifier's holdout scores; returns null (and
 * stores nothing) for a task it does not apply to: regression, multiclass, or no scores.
 */
export async function saveCalibration(
  store: Store,
  input: {
    pipeline: Pipeline;
    version: string;
    classes: readonly string[] | null;
    labels: readonly string[];
    predictions: readonly ModelOutput[];
  },
): Promise<Calibration | null> {
  const { pipeline, version, classes, labels, predictions } = input;
  if (!estimableTask(pipeline.task, classes ?? []).estimable) return null;
  const positive = positiveClassOf(pipeline, classes);
  if (!positive || predictions.some((p) => p.scores?.[positive] === undefined)) return null;
  const calibration = fitCalibration({
    scores: predictions.map((p) => p.scores![positive]!),
    outcomes: labels.map((l) => (l === positive ? 1 : 0)),
    positiveClass: positive,
  });
  await store.put(keys.calibration(pipeline.name, version), JSON.stringify(calibration));
  return calibration;
}

/** A version's stored calibration, or null when it has none (trained before, or not a binary classifier). */
export async function loadCalibration(store: Store, model: string, version: string): Promise<Calibration | null> {
  const key = keys.calibration(model, version);
  const body = await store.get(key);
  return body ? parseCalibration(JSON.parse(body.toString('utf8')), key) : null;
}
