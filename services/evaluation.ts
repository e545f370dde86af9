import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryConflictError, TrainingContractError } from '../lib/errors';
import { scorePredictions } from '../lib/evaluate';
import { outputKind } from '../lib/feature-kind';
import type { Metrics, SegmentMetric } from '../lib/gate';
import { keys } from '../lib/keys';
import { MetricInputError } from '../lib/metrics';
import type { Pipeline } from '../lib/pipeline';
import type { ModelVersion } from '../lib/registry';
import { toCsv, type Table } from '../lib/table';
import type { ModelOutput } from '../lib/training-contract';
import type { DatasetSplit, Evaluation } from '../shared/results';
import type { Store } from '../store/store';
import { rowBatches } from './dataset-rows';
import { saveCalibration } from './calibrations';
import { saveReferenceProfile } from './reference-profiles';
import { readPointer, readVersion } from './registry';

/**
 * Runs a registered version's predict command on a local CSV and returns its validated outputs
 * in input order. The caller decides how it runs (an activity heartbeats and can cancel it).
 */
export type Predictor = (opts: {
  model: ModelVersion;
  inputPath: string;
  rows: number;
  purpose: 'evaluate' | 'verify';
}) => Promise<ModelOutput[]>;

/** One scoring job: the candidate, its split, a scratch directory and how to run predictions. */
export interface ScoringRequest {
  pipeline: Pipeline;
  version: string;
  split: DatasetSplit;
  /** Scratch directory of this attempt (the caller removes it). */
  dir: string;
  predict: Predictor;
}

/**
 * Scores the challenger and the current champion on the same holdout with the same code
 * (lib/evaluate.ts), keeps the challenger's holdout predictions as the reference for prediction
 * drift, and stores the evaluation beside the registry.
 */
export async function evaluateCandidate(store: Store, request: ScoringRequest): Promise<Evaluation> {
  const { pipeline, version, split, dir, predict } = request;
  const holdout = await downloadHoldout(store, split, dir);
  // Only the label and segment columns are kept: the predict command reads the holdout file itself.
  const labels: string[] = [];
  const segmentColumns = pipeline.segments ?? [];
  const segmentValues: (string | null)[][] = segmentColumns.map(() => []);
  for await (const batch of rowBatches({ path: holdout }, 'csv', 'holdout')) {
    const at = batch.columns.indexOf(pipeline.label);
    const segmentAt = segmentColumns.map((c) => batch.columns.indexOf(c));
    for (const row of batch.rows) {
      labels.push((at >= 0 ? row[at] : null) ?? '');
      segmentAt.forEach((i, s) => segmentValues[s]!.push(i >= 0 ? (row[i] ?? null) : null));
    }
  }
  const scoredRows = new Map<string, { predictions: ModelOutput[]; classes: string[] | null; ms: number }>();
  const { pointer } = await readPointer(store, pipeline.name);
  const championVersion = pointer.champion && pointer.champion !== version ? pointer.champion : null;

  const score = async (v: string): Promise<Metrics> => {
    const model = await readVersion(store, pipeline.name, v);
    const started = performance.now();
    const predictions = await predict({ model, inputPath: holdout, rows: labels.length, purpose: 'evaluate' });
    scoredRows.set(v, { predictions, classes: model.classes, ms: performance.now() - started });
    if (v === version) await savePredictionReference(store, pipeline, v, predictions);
    const metrics = scored(v, () =>
      scorePredictions({ task: pipeline.task, labels, predictions, classes: model.classes, positiveClass: pipeline.positiveClass }),
    );
    // Its scores against the holdout's labels (checked by the scoring above): what estimates its
    // performance before labels arrive.
    if (v === version) await saveCalibration(store, { pipeline, version: v, classes: model.classes, labels, predictions });
    return metrics;
  };
  const scored = (v: string, score: () => Metrics): Metrics => {
    try {
      return score();
    } catch (err) {
      if (err instanceof MetricInputError) {
        throw new TrainingContractError(`cannot score ${v} on the holdout: ${err.message}`, {
          model: pipeline.name,
          version: v,
          step: 'evaluate',
        });
      }
      throw err;
    }
  };
  const challenger = await score(version);
  const champion = championVersion ? await score(championVersion) : null;
  const key = keys.evaluation(pipeline.name, version, championVersion);
  const perRow = (v: string | null) => (v && labels.length ? scoredRows.get(v)!.ms / labels.length : null);
  const segments = segmentColumns.length
    ? segmentMetrics(
        pipeline,
        segmentColumns,
        segmentValues,
        labels,
        scoredRows.get(version)!,
        championVersion ? scoredRows.get(championVersion)! : null,
      )
    : undefined;
  const evaluation: Evaluation = {
    challenger,
    champion,
    championVersion,
    holdoutRows: labels.length,
    key,
    ...(segments ? { segments } : {}),
    latency: { challenger: perRow(version) ?? 0, champion: perRow(championVersion) },
  };
  await store.put(key, JSON.stringify({ model: pipeline.name, version, holdoutKey: split.holdoutKey, ...evaluation }, null, 2));
  return evaluation;
}

/**
 * After promotion: checks that `version` is still the champion (else `RegistryConflict`), loads
 * it from the registry and predicts a sample of the holdout. Any failure means roll back.
 */
export async function verifyChampion(store: Store, request: ScoringRequest): Promise<{ rows: number }> {
  const { pipeline, version, split, dir, predict } = request;
  const { pointer } = await readPointer(store, pipeline.name);
  if (pointer.champion !== version) {
    throw new RegistryConflictError(
      `expected ${version} to be champion of ${pipeline.name}, found ${pointer.champion ?? 'none'}: someone else promoted or rolled back since`,
      { model: pipeline.name, version, step: 'verify' },
    );
  }
  // The first sampleRows rows of the holdout, read until there are enough.
  const sample: Table = { columns: [], rows: [] };
  for await (const batch of rowBatches({ path: await downloadHoldout(store, split, dir) }, 'csv', 'holdout')) {
    sample.columns = [...batch.columns];
    for (const row of batch.rows) if (sample.rows.length < pipeline.verification.sampleRows) sample.rows.push(row);
    if (sample.rows.length >= pipeline.verification.sampleRows) break;
  }
  const rows = sample.rows.length;
  const samplePath = join(dir, 'sample.csv');
  await writeFile(samplePath, toCsv(sample));
  const model = await readVersion(store, pipeline.name, version);
  await predict({ model, inputPath: samplePath, rows, purpose: 'verify' });
  return { rows };
}

/** The holdout split as a local file (the predict command reads it). */
async function downloadHoldout(store: Store, split: DatasetSplit, dir: string): Promise<string> {
  const path = join(dir, 'holdout.csv');
  await store.download(split.holdoutKey, path);
  return path;
}

/** The challenger's holdout predictions: the reference that prediction drift is measured against. */
async function savePredictionReference(store: Store, pipeline: Pipeline, version: string, predictions: ModelOutput[]): Promise<void> {
  await saveReferenceProfile(store, {
    model: pipeline.name,
    version,
    name: 'prediction',
    table: { columns: ['prediction'], rows: predictions.map((p) => [String(p.prediction)]) },
    columns: [{ name: 'prediction', kind: outputKind(pipeline.task) }],
  });
}

/**
 * The primary metric of each model on the holdout rows of each segment value (missing values
 * form the "(missing)" segment). A segment whose rows cannot be scored (one class only, say) gets
 * null, and the gate shows it without gating it.
 */
function segmentMetrics(
  pipeline: Pipeline,
  columns: readonly string[],
  values: readonly (readonly (string | null)[])[],
  labels: readonly string[],
  challenger: { predictions: ModelOutput[]; classes: string[] | null },
  champion: { predictions: ModelOutput[]; classes: string[] | null } | null,
): SegmentMetric[] {
  const metric = pipeline.metrics.primary;
  const primaryOf = (model: { predictions: ModelOutput[]; classes: string[] | null }, rows: number[]): number | null => {
    try {
      const scored = scorePredictions({
        task: pipeline.task,
        labels: rows.map((i) => labels[i]!),
        predictions: rows.map((i) => model.predictions[i]!),
        classes: model.classes,
        positiveClass: pipeline.positiveClass,
      });
      return scored[metric] ?? null;
    } catch (err) {
      if (err instanceof MetricInputError) return null;
      throw err;
    }
  };
  return columns.flatMap((column, c) => {
    const groups = new Map<string, number[]>();
    values[c]!.forEach((v, i) => {
      const key = v === null || v === '' ? MISSING_SEGMENT : v;
      const rows = groups.get(key);
      if (rows) rows.push(i);
      else groups.set(key, [i]);
    });
    // Largest segments first: the ones a reader looks for.
    return [...groups]
      .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))
      .map(([value, rows]) => ({
        column,
        value,
        rows: rows.length,
        challenger: primaryOf(challenger, rows),
        champion: champion ? primaryOf(champion, rows) : null,
      }));
  });
}

/** The segment of rows without a value in the segment column. */
const MISSING_SEGMENT = '(missing)';
