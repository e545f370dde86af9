import type { FeatureSpec } from '../lib/drift/dataset-drift';
import { buildDriftReport, type ConceptDrift, type DriftCheckReport } from '../lib/drift/report';
import { InvalidInputError, NotFoundError } from '../lib/errors';
import { outputKind } from '../lib/feature-kind';
import { scorePredictions } from '../lib/evaluate';
import { durationToMs } from '../lib/duration';
import { keys } from '../lib/keys';
import { sourceFormat, type Pipeline } from '../lib/pipeline';
import { servingSummaryOfColumns } from '../lib/prediction-log';
import { readTable } from '../lib/table';
import type { ModelOutput } from '../lib/training-contract';
import { renderDriftReportHtml } from '../reports/html-report';
import type { DriftCheckResult } from '../shared/results';
import type { Store } from '../store/store';
import type { RetrainConfig } from '../lib/config';
import { readLabels } from './label-log';
import { readPredictionsById, readPredictionWindow, type PredictionOfId, type PredictionWindow } from './prediction-log';
import { loadReferenceColumns } from './reference-profiles';
import { holdoutBaseline, readVersion } from './registry';
import { sourceReader } from './sources';

/** Where a drift check reports what it noticed along the way (the activity's logger, or the console). */
export interface DriftCheckLog {
  warn(message: string, attrs: Record<string, unknown>): void;
}

/** One drift check of one champion version over one prediction-log window. */
export interface DriftCheckRequest {
  pipeline: Pipeline;
  version: string;
  checkId: string;
  /** The window, ISO-8601: from <= timestamp < to. */
  from: string;
  to: string;
}

/**
 * Compares the prediction-log window with the champion's reference (data drift, prediction
 * drift) and newly labelled rows (the `drift.labels` file and the label log posted to the API)
 * with the holdout baseline (concept drift); stores the JSON and HTML report under the check id
 * (the same check id writes the same keys, so a retry is harmless). Returns the small result
 * the workflow decides on, and the full report.
 */
export async function runDriftCheck(
  deps: { store: Store; config: Pick<RetrainConfig, 'projectDir' | 's3'> },
  input: DriftCheckRequest,
  log: DriftCheckLog,
): Promise<{ result: DriftCheckResult; report: DriftCheckReport }> {
  const { store } = deps;
  const readSource = sourceReader(deps.config);
  const { pipeline, version, checkId } = input;
  const drift = requireDrift(pipeline);
  const features = await loadReferenceColumns(store, pipeline.name, version, 'features');
  if (!features)
    throw new NotFoundError(
      `${pipeline.name} ${version} has no reference profile (it was registered before drift monitoring); retrain it to create one`,
      { model: pipeline.name, version, step: 'drift-check' },
    );
  const predictionRef = await loadReferenceColumns(store, pipeline.name, version, 'prediction');
  // Seeded by the check id, so a retried check samples the same rows and reaches the same verdict.
  const window = await readPredictionWindow(store, pipeline.name, {
    from: new Date(input.from),
    to: new Date(input.to),
    maxRows: drift.maxWindowRows,
    seed: seedOf(checkId),
  });
  if (window.invalidLines > 0)
    log.warn(`${window.invalidLines} invalid prediction-log lines left out`, {
      model: pipeline.name,
      version,
      step: 'drift-check',
      firstInvalid: window.firstInvalid,
    });
  // Labels posted to the API that became known in the window: they come after the prediction,
  // up to the check time `to`.
  const labelLog = await readLabels(store, pipeline.name, { from: new Date(input.from), to: new Date(input.to) });
  if (labelLog.invalidLines > 0)
    log.warn(`${labelLog.invalidLines} invalid label-log lines left out`, {
      model: pipeline.name,
      version,
      step: 'drift-check',
      firstInvalid: labelLog.firstInvalid,
    });
  const enoughData = window.rows >= drift.minPredictions;
  const specs: FeatureSpec[] = pipeline.features.map((f) => ({
    name: f.name,
    kind: f.type,
    method: drift.features[f.name]?.method,
    threshold: drift.features[f.name]?.threshold,
  }));
  const predictionKind = outputKind(pipeline.task);
  const report = buildDriftReport({
    model: pipeline.name,
    version,
    checkId,
    createdAt: new Date().toISOString(),
    reference: { label: `training data of ${version}`, columns: features.columns, rows: features.profile.rows },
    current: {
      label: `predictions logged ${input.from} – ${input.to}`,
      columns: currentColumns(window, specs),
      rows: window.rows,
      from: input.from,
      to: input.to,
    },
    features: enoughData ? specs : [],
    datasetDriftShare: drift.datasetDriftShare,
    prediction:
      enoughData && predictionRef
        ? {
            kind: predictionKind,
            reference: predictionRef.columns.prediction,
            current: window.predictions,
            method: drift.prediction.method,
            threshold: drift.prediction.threshold,
          }
        : null,
    conceptDrift: drift.labels || labelLog.labels.size > 0 ? await conceptDrift(pipeline, version, window, labelLog.labels) : null,
    // Over the kept rows: a uniform sample keeps latency percentiles and cost per prediction
    // unbiased, but counts and cost totals are then of the sample (the summary says sampled).
    serving: servingSummaryOfColumns(window),
  });
  if (!enoughData) {
    // Nothing was tested: say so, and never "drift" or "no drift".
    report.enoughData = false;
    report.drifted = false;
    report.summary = `Not enough data: ${window.rows} predictions in the window, fewer than the ${drift.minPredictions} a verdict needs; no feature was tested, so there is no verdict.`;
  }
  if (window.sampled)
    report.summary = `Sampled ${window.rows} of ${window.seen} predictions in the window (uniform, seeded). ${report.summary}`;
  const reportKey = keys.driftReport(pipeline.name, checkId, 'json');
  const htmlKey = keys.driftReport(pipeline.name, checkId, 'html');
  await store.put(reportKey, JSON.stringify(report, null, 2));
  await store.put(htmlKey, renderDriftReportHtml(report));
  const result: DriftCheckResult = {
    checkId,
    version,
    drifted: enoughData && report.drifted,
    enoughData,
    predictions: window.rows,
    windowPredictions: window.seen,
    sampled: window.sampled,
    summary: report.summary,
    reportKey,
    htmlKey,
    datasetDriftShare: report.dataDrift.datasetDrift.share,
    predictionDrifted: report.predictionDrift?.drifted ?? false,
    conceptDrifted: report.conceptDrift?.drifted ?? false,
  };
  return { result, report };

  /**
   * Performance of the champion on newly labelled rows, joined to logged predictions by id: the
   * labels of the pipeline's `drift.labels` file, if it has one, and those of the label log
   * (`logLabels`, known in the window), which win for a prediction both label. With
   * `drift.labelDelay` 0 they join the window's predictions; with a delay, the predictions made
   * from `labelDelay` before the window to its end, found by id in the prediction log.
   */
  async function conceptDrift(
    pipeline: Pipeline,
    version: string,
    window: PredictionWindow,
    logLabels: ReadonlyMap<string, string>,
  ): Promise<Omit<ConceptDrift, 'drifted'>> {
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
    const predictionsFrom = new Date(Date.parse(input.from) - delayMs).toISOString();
    let rows: JoinedLabels;
    if (delayMs > 0) {
      const found = await readPredictionsById(
        store,
        pipeline.name,
        { from: new Date(predictionsFrom), to: new Date(input.to) },
        new Set(labelById.keys()),
      );
      if (found.invalidLines > 0)
        log.warn(`${found.invalidLines} invalid prediction-log lines left out of the label join`, {
          model: pipeline.name,
          version,
          step: 'drift-check',
          firstInvalid: found.firstInvalid,
        });
      rows = joinLabelsById(found.predictions, version, labelById);
    } else rows = joinLabels(window, version, labelById);
    const range = { labelsKnown: { from: input.from, to: input.to }, predictionsFrom };
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

/** A 32-bit seed from a string (FNV-1a): the same check id always samples the same rows. */
function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function requireDrift(pipeline: Pipeline): NonNullable<Pipeline['drift']> {
  if (!pipeline.drift)
    throw new InvalidInputError(`pipeline ${pipeline.name} has no drift settings (add drift: { … } to its definition)`, {
      model: pipeline.name,
      step: 'drift-check',
    });
  return pipeline.drift;
}

function currentColumns(window: PredictionWindow, specs: FeatureSpec[]) {
  return Object.fromEntries(
    specs.map((s) => [
      s.name,
      window.features[s.name] ??
        (s.kind === 'numeric' ? new Float64Array(window.rows).fill(Number.NaN) : new Array(window.rows).fill(null)),
    ]),
  );
}
