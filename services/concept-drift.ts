import type { ConceptDrift } from '../lib/drift/report';
import { InvalidInputError } from '../lib/errors';
import { scorePredictions } from '../lib/evaluate';
import { durationToMs } from '../lib/duration';
import { requireDrift, sourceFormat, type Pipeline } from '../lib/pipeline';
import { readTable } from '../lib/table';
import type { ModelOutput } from '../lib/training-contract';
import type { Store } from '../store/store';
import type { DriftCheckLog } from './drift-check-log';
import { readPredictionsById, type PredictionOfId, type PredictionWindow } from './prediction-log';
import { holdoutBaseline, readVersion } from './registry';
import type { sourceReader } from './sources';

/** Reads a small source whole (see sourceReader). */
type SourceReader = ReturnType<typeof sourceReader>;

/** What concept drift is measured on. */
export interface ConceptDriftRequest {
  pipeline: Pipeline;
  version: string;
  /** The check's window, ISO-8601: labels known from ≤ t < to. */
  from: string;
  to: string;
  /** Labels posted to the label log that became known in the window, by prediction id. */
  logLabels: ReadonlyMap<string, string>;
  /**
   * The window's predictions when the check holds them (an exact check); null when it does not
   * (a partitioned check): the labelled ids are then found in the prediction log.
   */
  window: PredictionWindow | null;
}

/**
 * Performance of the champion on newly labelled rows, joined to logged predictions by id: the
 * labels of the pipeline's `drift.labels` file, if it has one, and those of the label log
 * (`logLabels`, known in the window), which win for a prediction both label. With
 * `drift.labelDelay` 0 they join the window's predictions; with a delay, the predictions made
 * from `labelDelay` before the window to its end. Predictions not in memory are found by id in
 * the prediction log, reading only the labelled ids' lines, so memory grows with the labels.
 */
export async function measureConceptDrift(
  deps: { store: Store; readSource: SourceReader },
  request: ConceptDriftRequest,
  log: DriftCheckLog,
): Promise<Omit<ConceptDrift, 'drifted'>> {
  const { store, readSource } = deps;
  const { pipeline, version, window, logLabels } = request;
  const drift = requireDrift(pipeline);
  const labelById = new Map<string, LabelOf>();
  const source = drift.labels;
  if (source) {
    const body = await readSource(source, `labels source of ${pipeline.name}`, { model: pipeline.name, step: 'drift-check' });
    const labels = await readTable(body, sourceFormat(source), `labels ${source.path}`, source.encoding);
    const idIndex = labels.columns.indexOf(pipeline.idColumn!);
    const labelIndex = labels.columns.indexOf(pipeline.label);
    if (idIndex < 0 || labelIndex < 0)
      throw new InvalidInputError(`labels ${source.path} needs columns "${pipeline.idColumn}" and "${pipeline.label}"`, {
        model: pipeline.name,
        step: 'drift-check',
      });
    for (const row of labels.rows)
      if (row[idIndex] !== null && row[labelIndex] !== null) labelById.set(row[idIndex]!, { label: row[labelIndex]!, from: 'file' });
  }
  for (const [id, label] of logLabels) labelById.set(id, { label, from: 'log' });

  const model = await readVersion(store, pipeline.name, version);
  // A pipeline recorded before labelDelay existed (an older workflow's input) has none: 0.
  const delayMs = durationToMs(drift.labelDelay ?? '0s');
  const predictionsFrom = new Date(Date.parse(request.from) - delayMs).toISOString();
  let rows: JoinedLabels;
  if (delayMs > 0) {
    const found = await findLabelled(predictionsFrom);
    rows = joinLabelsById(found.predictions, version, labelById);
  } else if (window) rows = joinLabels(window, version, labelById);
  else rows = joinLabelsById((await findLabelled(predictionsFrom)).predictions, version, labelById);
  const range = { labelsKnown: { from: request.from, to: request.to }, predictionsFrom };
  const metric = pipeline.metrics.primary;
  const baseline = await holdoutBaseline(store, pipeline.name, version, metric);
  const maxRegression = drift.maxMetricRegression;
  if (rows.labels.length === 0)
    return {
      labelledRows: 0,
      metric,
      baseline,
      current: null,
      maxRegression,
      metrics: {},
      note:
        delayMs > 0
          ? `no labelled rows match predictions of this version made from ${predictionsFrom}`
          : 'no labelled rows match predictions of this version in the window',
      sources: rows.sources,
      ...range,
    };
  const metrics = scorePredictions({
    task: pipeline.task,
    labels: rows.labels,
    predictions: rows.predictions,
    classes: model.classes,
    positiveClass: pipeline.positiveClass,
  });
  return {
    labelledRows: rows.labels.length,
    metric,
    baseline,
    current: metrics[metric] ?? null,
    maxRegression,
    metrics,
    sources: rows.sources,
    ...range,
  };
  /** The logged predictions of the labelled ids made from `predictionsFrom` to the window's end. */
  async function findLabelled(predictionsFrom: string) {
    const found = await readPredictionsById(
      store,
      pipeline.name,
      { from: new Date(predictionsFrom), to: new Date(request.to) },
      new Set(labelById.keys()),
    );
    if (found.invalidLines > 0)
      log.warn(`${found.invalidLines} invalid prediction-log lines left out of the label join`, {
        model: pipeline.name,
        version,
        step: 'drift-check',
        firstInvalid: found.firstInvalid,
      });
    return found;
  }
}

/** A prediction's label and where it came from: the `drift.labels` file or the label log. */
interface LabelOf {
  label: string;
  from: 'file' | 'log';
}

/** Labelled predictions in the shape the metrics take, and how many labels came from each source. */
interface JoinedLabels {
  labels: string[];
  predictions: ModelOutput[];
  sources: { file: number; log: number };
}

/** The predictions of `version` in the window's columns that have a label. */
function joinLabels(window: PredictionWindow, version: string, labelById: Map<string, LabelOf>): JoinedLabels {
  const joined: JoinedLabels = { labels: [], predictions: [], sources: { file: 0, log: 0 } };
  for (let i = 0; i < window.rows; i++) {
    const found = labelById.get(window.ids[i]);
    if (window.versions[i] !== version || found === undefined) continue;
    const scores: Record<string, number> = {};
    for (const [cls, column] of Object.entries(window.scores ?? {})) if (!Number.isNaN(column[i])) scores[cls] = column[i];
    addJoined(joined, found, window.predictions[i], scores);
  }
  return joined;
}

/** The predictions of `version` found by id (see {@link readPredictionsById}) that have a label. */
function joinLabelsById(found: ReadonlyMap<string, PredictionOfId>, version: string, labelById: Map<string, LabelOf>): JoinedLabels {
  const joined: JoinedLabels = { labels: [], predictions: [], sources: { file: 0, log: 0 } };
  for (const [id, p] of found) {
    const label = labelById.get(id);
    if (p.version !== version || label === undefined) continue;
    const scores: Record<string, number> = {};
    for (const [cls, score] of Object.entries(p.scores ?? {})) if (Number.isFinite(score)) scores[cls] = score;
    addJoined(joined, label, p.prediction, scores);
  }
  return joined;
}

function addJoined(joined: JoinedLabels, found: LabelOf, prediction: string | number | null, scores: Record<string, number>): void {
  if (prediction === null || (typeof prediction === 'number' && Number.isNaN(prediction))) return;
  joined.labels.push(found.label);
  joined.predictions.push({ prediction, scores: Object.keys(scores).length ? scores : undefined });
  joined.sources[found.from]++;
}
