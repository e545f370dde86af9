import { keys } from '../lib/keys';
import {
  estimableTask,
  fitCalibration,
  fitMulticlassCalibration,
  parseCalibration,
  type StoredCalibration,
} from '../lib/performance-estimation';
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
 * Fits and stores the calibration of a classifier's holdout scores: of the positive class's score
 * for 2 classes, one per class (one-vs-rest) for more. Returns null (and stores nothing) for a
 * task it does not apply to: regression, or a prediction without a score for a class it needs.
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
): Promise<StoredCalibration | null> {
  const { pipeline, version, classes, labels, predictions } = input;
  if (!classes || !estimableTask(pipeline.task, classes).estimable) return null;
  const calibration = classes.length === 2 ? binaryCalibration(input) : multiclassCalibration(classes, labels, predictions);
  if (!calibration) return null;
  await store.put(keys.calibration(pipeline.name, version), JSON.stringify(calibration));
  return calibration;
}

function binaryCalibration(input: {
  pipeline: Pipeline;
  classes: readonly string[] | null;
  labels: readonly string[];
  predictions: readonly ModelOutput[];
}): StoredCalibration | null {
  const { pipeline, classes, labels, predictions } = input;
  const positive = positiveClassOf(pipeline, classes);
  if (!positive || predictions.some((p) => p.scores?.[positive] === undefined)) return null;
  return fitCalibration({
    scores: predictions.map((p) => p.scores![positive]!),
    outcomes: labels.map((l) => (l === positive ? 1 : 0)),
    positiveClass: positive,
  });
}

function multiclassCalibration(
  classes: readonly string[],
  labels: readonly string[],
  predictions: readonly ModelOutput[],
): StoredCalibration | null {
  if (predictions.some((p) => classes.some((c) => p.scores?.[c] === undefined))) return null;
  const scores = Object.fromEntries(classes.map((c) => [c, predictions.map((p) => p.scores![c]!)]));
  return fitMulticlassCalibration({ scores, labels, classes });
}

/** A version's stored calibration, or null when it has none (trained before, or not a classifier with scores). */
export async function loadCalibration(store: Store, model: string, version: string): Promise<StoredCalibration | null> {
  const key = keys.calibration(model, version);
  const body = await store.get(key);
  return body ? parseCalibration(JSON.parse(body.toString('utf8')), key) : null;
}
