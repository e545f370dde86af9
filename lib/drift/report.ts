/**
 * The drift report people look at: the per-feature tests of {@link detectDrift}, the binned
 * distributions behind them (for plots), drift per segment, prediction drift, concept drift,
 * serving figures and their budgets, an overall verdict and one summary sentence. Pure code; the result is plain JSON (no typed
 * arrays, no NaN: every number is finite or null).
 */

import type { FeatureKind } from '../feature-kind';
import type { VersionServing } from '../prediction-log';
import { checkServingBudgets, describeOverBudget, overBudgetOf, type BudgetsReport, type ServingBudgetLimits } from '../serving-budgets';
import { InvalidInputError } from '../errors';
import { higherIsBetter } from '../metrics/names';
import {
  compareKeys,
  countDistinct,
  countDistinctUnion,
  histogramCounts,
  sortedHistogramCounts,
  MAX_DISTINCT_FOR_VALUE_BINS,
  sturgesEdges,
  valueCounts,
  type CategoryKey,
  type CountedSample,
} from './binning';
import {
  CodedColumn,
  datasetDriftOf,
  detectDrift,
  PreparedColumn,
  prepareColumn,
  type CategoricalColumn,
  type DriftColumn,
  type DriftColumns,
  type DriftReport,
  type FeatureDrift,
  type FeatureSpec,
  type NumericColumn,
} from './dataset-drift';
import type { StattestName } from './stattest-names';
import { describeAccuracy } from './approximate-drift';
import { describeEstimate, type EstimatedPerformance } from './estimated-performance';

/** Shares (0..1) of each window per bin, for plots. */
export interface FeatureDistribution {
  kind: FeatureKind;
  /** Shares of the non-missing rows of each window; all 0 for an empty window. */
  bins: { label: string; reference: number; current: number }[];
}

/** Performance on newly labelled rows against the holdout baseline. */
export interface ConceptDrift {
  labelledRows: number;
  metric: string;
  baseline: number | null;
  current: number | null;
  /** Largest worsening of `metric` still accepted (metric units). */
  maxRegression: number;
  drifted: boolean;
  metrics: Record<string, number | null>;
  note?: string;
  /**
   * Where the labels of the `labelledRows` came from: the pipeline's `drift.labels` file, or the
   * label log posted to the API (which wins for a prediction both have); file + log = labelledRows.
   */
  sources?: { file: number; log: number };
  /** The window the labels became known in (ISO-8601, from <= knownAt < to): the check's window. */
  labelsKnown?: { from: string; to: string };
  /**
   * Start of the predictions the labels were joined to (ISO-8601; they run to `labelsKnown.to`):
   * `drift.labelDelay` before the window, or the window's start when there is no delay.
   */
  predictionsFrom?: string;
}

/**
 * Multivariate drift: a classifier trained to tell the reference rows from the window's
 * (drift.multivariate). Its cross-validated ROC AUC is 0.5 when it cannot.
 */
export interface MultivariateDrift {
  method: 'domain-classifier';
  drifted: boolean;
  /** Out-of-fold ROC AUC; null when not tested (too few rows). */
  auc: number | null;
  /** The AUC from which a difference counts (an effect-size floor). */
  threshold: number;
  /** The AUC chance alone stays below for the rows used (one-sided 1%). */
  noiseBar: number | null;
  /** The features that tell the windows apart best (AUC lost when shuffled). */
  topFeatures: { name: string; importance: number }[];
  /** Rows the classifier used from each window (sampled). */
  rows: { reference: number; current: number } | null;
  note: string;
}

/** What one model version did while serving in the window (computed by lib/prediction-log.ts). */
export type ServingSummary = VersionServing;

/** One feature's test in one segment value: the figures of {@link FeatureDrift} a reader compares. */
export interface SegmentFeatureDrift {
  name: string;
  method: StattestName;
  statistic: number | null;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
}

/** The rows of one value of a segment column, tested on their own (lib/drift/segments.ts). */
export interface SegmentValueDrift {
  /** The column's value; null for the rows where it is missing, shown as "(missing)". */
  value: string | null;
  /** Rows of the value in each window (the reference: the champion's training rows read). */
  rows: { reference: number; current: number };
  /** False when a window has too few of its rows (see `note`). */
  tested: boolean;
  /** Drifted features / features tested; null when not tested. */
  share: number | null;
  /** Features tested: the pipeline's, less the segment column itself. */
  featureCount: number;
  /** The share reached `datasetDriftShare`: dataset drift in this segment. */
  datasetDrift: boolean;
  driftedFeatures: string[];
  /** Dataset drift here while the whole window has none: a change the average hides. */
  hiddenByAverage: boolean;
  /** Each feature's test; empty when not tested. */
  features: SegmentFeatureDrift[];
  note?: string;
}

/** The values of one segment column, the largest first. */
export interface SegmentColumnDrift {
  column: string;
  values: SegmentValueDrift[];
  /** Values beyond `maxValues` (the smallest): neither listed nor tested. */
  leftOut: { values: number; rows: { reference: number; current: number } };
  /** Why the column could not be tested at all, when it could not. */
  note?: string;
}

/** Drift per segment (pipeline `segments`): each value's rows tested as the whole window is. */
export interface SegmentsReport {
  /** Rows a value needs in each window to be tested (drift.minPredictions for both). */
  minRows: { reference: number; current: number };
  /** Most values of one column listed and tested: the largest by rows in the window. */
  maxValues: number;
  /**
   * The champion's training rows the segments' reference rows come from: all `seen` of them, or a
   * seeded uniform sample of `rows`. Null when nothing was read (segments not tested).
   */
  reference: { rows: number; seen: number; sampled: boolean } | null;
  columns: SegmentColumnDrift[];
  /** Some segment value shows dataset drift; the check then counts as drifted. */
  drifted: boolean;
  /** How to read the section: what counts as drift, or why it was not tested. */
  note: string;
}

/** Segments as lib/drift/segments.ts tests them: the report adds each value's `hiddenByAverage`. */
export type TestedSegments = Omit<SegmentsReport, 'columns'> & {
  columns: (Omit<SegmentColumnDrift, 'values'> & { values: Omit<SegmentValueDrift, 'hiddenByAverage'>[] })[];
};

/** A drift check's full report: plain JSON, every number finite or null. */
export interface DriftCheckReport {
  kind: 'retrain.drift-report/v1';
  model: string | null;
  version: string | null;
  checkId: string;
  createdAt: string;
  reference: { label: string; rows: number };
  current: { label: string; rows: number; from?: string; to?: string };
  dataDrift: DriftReport & { distributions: Record<string, FeatureDistribution> };
  /** Drift per value of each segment column (pipeline `segments`); absent without segments or enough data. */
  segments?: SegmentsReport;
  predictionDrift: (FeatureDrift & { distribution: FeatureDistribution }) | null;
  conceptDrift: ConceptDrift | null;
  /**
   * The champion's performance estimated from its logged scores, before labels arrive (binary
   * classifiers with a stored calibration); absent when it cannot be estimated.
   */
  estimatedPerformance?: EstimatedPerformance;
  /** The domain classifier's verdict on the features together, when the pipeline asks for it. */
  multivariateDrift?: MultivariateDrift;
  serving: ServingSummary[] | null;
  /** Each serving version's figures against the pipeline's `budgets`; absent without budgets. Over budget is not drift. */
  budgets?: BudgetsReport;
  /**
   * Dataset drift, prediction drift or concept drift (or an estimated drop that counts as drift,
   * multivariate drift, or dataset drift in a segment value).
   */
  drifted: boolean;
  /**
   * False when a window was too small for a verdict: nothing was tested, and the report says
   * "not enough data", never "drift" or "no drift".
   * @default true
   */
  enoughData?: boolean;
  /**
   * Present when a result was estimated from window summaries (a partitioned check): which
   * results are approximate, with what rank error, and which are exact.
   */
  accuracy?: string;
  /** One sentence a person reads first. */
  summary: string;
}

/** A window of data: its label (file, time range…) and its columns. */
export interface DriftWindowInput {
  label: string;
  /** Raw columns, or columns prepared once ({@link prepareColumn}) and shared with other calls. */
  columns: DriftColumns;
  /**
   * Rows in the window.
   * @default the length of its first column
   */
  rows?: number;
}

/** What {@link buildDriftReport} needs: both windows, the features to test and the optional extra sections. */
export interface BuildDriftReportInput {
  model?: string | null;
  version?: string | null;
  checkId: string;
  /** ISO timestamp; passed in so the function stays pure. */
  createdAt: string;
  reference: DriftWindowInput;
  current: DriftWindowInput & { from?: string; to?: string };
  features: readonly FeatureSpec[];
  /**
   * Dataset drift when the share of drifted features is >= this.
   * @default 0.5
   */
  datasetDriftShare?: number;
  /** Model outputs in both windows (numeric scores or categorical labels). */
  prediction?: {
    kind: FeatureKind;
    reference: DriftColumn;
    current: DriftColumn;
    method?: StattestName;
    threshold?: number;
    /** Effect-size floor of a hypothesis test (see {@link FeatureSpec}). */
    minEffect?: number;
  } | null;
  /** `drifted` is computed from baseline, current and maxRegression when left out. */
  conceptDrift?: (Omit<ConceptDrift, 'drifted'> & { drifted?: boolean }) | null;
  /** Performance estimated without labels (see lib/drift/estimated-performance.ts). */
  estimatedPerformance?: EstimatedPerformance | null;
  multivariateDrift?: MultivariateDrift | null;
  serving?: ServingSummary[] | null;
  /** The serving budgets to check `serving` against; a version with fewer predictions than `minPredictions` is not judged. */
  budgets?: { limits: ServingBudgetLimits; minPredictions: number } | null;
  /** Drift per segment, as lib/drift/segments.ts tested it (or a section that says why it was not). */
  segments?: TestedSegments | null;
}

/** At most this many bars per categorical plot; the rest are summed into one "other" bin. */
export const MAX_CATEGORY_BINS = 30;

/** Name the prediction column gets in its drift result. */
export const PREDICTION_FEATURE = 'prediction';

// Floating-point noise must not turn a tie into concept drift (same as the gate).
const EPS = 1e-12;

/**
 * Runs the drift tests and assembles the report.
 *
 * @throws InvalidInputError for configuration errors (see {@link detectDrift}); data edge
 *   cases (empty windows, constant columns, new categories) give defined results.
 */
export function buildDriftReport(input: BuildDriftReportInput): DriftCheckReport {
  // Each column is cleaned (and, for the order-based tests, sorted) once, for its test and its
  // distribution both.
  const reference = preparedColumns(input.reference.columns, input.features);
  const current = preparedColumns(input.current.columns, input.features);
  const data = detectDrift({ reference, current, features: input.features, datasetDriftShare: input.datasetDriftShare });
  // fromEntries: a feature may be called "__proto__"; an assignment would not make it a key.
  const distributions: Record<string, FeatureDistribution> = Object.fromEntries(
    input.features.map((f) => [f.name, featureDistribution(reference[f.name], current[f.name], f.kind)]),
  );
  return assembleReport(
    {
      ...input,
      reference: { label: input.reference.label, rows: rowsOf(input.reference) },
      current: { ...input.current, rows: rowsOf(input.current) },
    },
    { ...data, distributions },
  );
}

/** One feature tested on its own: the drift result and the distribution behind it. */
export interface TestedFeature {
  drift: FeatureDrift;
  distribution: FeatureDistribution;
}

/**
 * Tests one feature, so that a caller can load, test and drop one column at a time (a report on
 * files larger than memory); {@link buildDriftReportOf} assembles the results. The same result
 * {@link buildDriftReport} gives the feature.
 * @throws InvalidInputError as {@link detectDrift} does for the feature.
 */
export function testFeature(reference: DriftColumn, current: DriftColumn, spec: FeatureSpec): TestedFeature {
  const ref = preparedColumns({ [spec.name]: reference }, [spec]);
  const cur = preparedColumns({ [spec.name]: current }, [spec]);
  const drift = detectDrift({ reference: ref, current: cur, features: [spec] }).features[0]!;
  return { drift, distribution: featureDistribution(ref[spec.name]!, cur[spec.name]!, spec.kind) };
}

/** What {@link buildDriftReportOf} needs: the windows' labels and sizes, and the features as {@link testFeature} tested them. */
export type BuildDriftReportOfInput = Omit<BuildDriftReportInput, 'reference' | 'current' | 'features'> & {
  reference: { label: string; rows: number };
  current: { label: string; rows: number; from?: string; to?: string };
  tested: readonly TestedFeature[];
  /** Prediction drift already tested (on summaries), instead of `prediction`'s columns. */
  predictionTested?: TestedFeature | null;
};

/** The report {@link buildDriftReport} makes, from features tested one at a time. */
export function buildDriftReportOf(input: BuildDriftReportOfInput): DriftCheckReport {
  const features = input.tested.map((t) => t.drift);
  const distributions: Record<string, FeatureDistribution> = Object.fromEntries(input.tested.map((t) => [t.drift.name, t.distribution]));
  return assembleReport(input, { features, datasetDrift: datasetDriftOf(features, input.datasetDriftShare), distributions });
}

/** The report around its data drift section: prediction and concept drift, serving, verdict and summary. */
function assembleReport(input: Omit<BuildDriftReportOfInput, 'tested'>, dataDrift: DriftCheckReport['dataDrift']): DriftCheckReport {
  const predictionDrift = input.predictionTested
    ? { ...input.predictionTested.drift, distribution: input.predictionTested.distribution }
    : input.prediction
      ? predictionDriftOf(input.prediction)
      : null;
  const accuracy = describeAccuracy([...dataDrift.features, ...(predictionDrift ? [predictionDrift] : [])]);
  const conceptDrift = input.conceptDrift ? conceptDriftOf(input.conceptDrift) : null;
  const estimated = input.estimatedPerformance ?? null;
  const segments = input.segments ? markHidden(input.segments, dataDrift.datasetDrift.drifted) : null;
  const serving = input.serving ? input.serving.map((s) => ({ ...s, latencyMs: { ...s.latencyMs }, cost: { ...s.cost } })) : null;
  const budgets = input.budgets ? checkServingBudgets(serving, input.budgets.limits, input.budgets.minPredictions) : null;
  const drifted =
    dataDrift.datasetDrift.drifted ||
    Boolean(predictionDrift?.drifted) ||
    Boolean(conceptDrift?.drifted) ||
    Boolean(estimated?.dropped && estimated.counts) ||
    Boolean(input.multivariateDrift?.drifted) ||
    Boolean(segments?.drifted);
  const report: DriftCheckReport = {
    kind: 'retrain.drift-report/v1',
    model: input.model ?? null,
    version: input.version ?? null,
    checkId: input.checkId,
    createdAt: input.createdAt,
    reference: { label: input.reference.label, rows: input.reference.rows },
    current: {
      label: input.current.label,
      rows: input.current.rows,
      ...(input.current.from !== undefined ? { from: input.current.from } : {}),
      ...(input.current.to !== undefined ? { to: input.current.to } : {}),
    },
    dataDrift,
    ...(segments ? { segments } : {}),
    predictionDrift,
    conceptDrift,
    ...(estimated ? { estimatedPerformance: estimated } : {}),
    ...(input.multivariateDrift ? { multivariateDrift: input.multivariateDrift } : {}),
    serving,
    ...(budgets ? { budgets } : {}),
    drifted,
    ...(accuracy ? { accuracy } : {}),
    summary: '',
  };
  report.summary = summarize(report);
  // A safety net for the JSON contract: whatever a caller passed, no NaN or Infinity leaves here.
  return finiteOrNullDeep(report) as DriftCheckReport;
}

/** The segments with each value's verdict set against the whole window's: drift there that the average hides. */
function markHidden(tested: TestedSegments, wholeDatasetDrift: boolean): SegmentsReport {
  return {
    ...tested,
    columns: tested.columns.map((c) => ({
      ...c,
      values: c.values.map((v) => ({ ...v, hiddenByAverage: v.datasetDrift && !wholeDatasetDrift })),
    })),
  };
}

/**
 * The window's columns with each tested feature's column prepared for its kind. A column that
 * does not fit its kind (or is missing) is left as it is, for detectDrift to report in its usual
 * order of checks.
 */
function preparedColumns(columns: DriftColumns, features: readonly FeatureSpec[]): Record<string, DriftColumn> {
  const kinds = new Map(features.map((f) => [f.name, f.kind]));
  // fromEntries, as below: a column may be called "__proto__".
  return Object.fromEntries(
    Object.entries(columns).map(([name, column]) => {
      const kind = kinds.get(name);
      return [name, kind === undefined || column instanceof PreparedColumn ? column : preparedOrRaw(column, kind)];
    }),
  );
}

function preparedOrRaw(column: NumericColumn | CategoricalColumn | CodedColumn, kind: FeatureKind): DriftColumn {
  try {
    return prepareColumn(column, kind);
  } catch (error) {
    if (error instanceof InvalidInputError) return column;
    throw error;
  }
}

function columnRows(column: DriftColumn): number {
  if (column instanceof CodedColumn) return column.codes.length;
  return column instanceof PreparedColumn ? column.counts.rows : column.length;
}

function rowsOf(w: DriftWindowInput): number {
  if (w.rows !== undefined) return w.rows;
  const first = Object.values(w.columns)[0];
  return first ? columnRows(first) : 0;
}

function predictionDriftOf(p: NonNullable<BuildDriftReportInput['prediction']>): DriftCheckReport['predictionDrift'] {
  const spec: FeatureSpec = { name: PREDICTION_FEATURE, kind: p.kind, method: p.method, threshold: p.threshold, minEffect: p.minEffect };
  const reference = preparedColumns({ [PREDICTION_FEATURE]: p.reference }, [spec]);
  const current = preparedColumns({ [PREDICTION_FEATURE]: p.current }, [spec]);
  const result = detectDrift({ reference, current, features: [spec] }).features[0];
  return { ...result, distribution: featureDistribution(reference[PREDICTION_FEATURE], current[PREDICTION_FEATURE], p.kind) };
}

function conceptDriftOf(c: NonNullable<BuildDriftReportInput['conceptDrift']>): ConceptDrift {
  if (!(Number.isFinite(c.maxRegression) && c.maxRegression >= 0)) {
    throw new InvalidInputError(`conceptDrift.maxRegression must be a finite number >= 0, got ${c.maxRegression}`);
  }
  return { ...c, metrics: { ...c.metrics }, drifted: c.drifted ?? regressed(c.metric, c.baseline, c.current, c.maxRegression) };
}

/** True when `current` is worse than `baseline` by more than `maxRegression` (metric direction from lib/metrics/names.ts). */
export function regressed(metric: string, baseline: number | null, current: number | null, maxRegression: number): boolean {
  // Without both numbers there is nothing to compare; the note explains why.
  if (baseline === null || current === null || !Number.isFinite(baseline) || !Number.isFinite(current)) return false;
  const worsening = higherIsBetter(metric) ? baseline - current : current - baseline;
  return worsening > maxRegression + EPS;
}

// ---------------------------------------------------------------------------------------------
// Distributions
// ---------------------------------------------------------------------------------------------

/** The finite numbers of a column (none in a column prepared as categorical). */
function finiteValues(column: DriftColumn): Float64Array {
  if (column instanceof PreparedColumn) return column.values ?? new Float64Array(0);
  if (column instanceof CodedColumn) return new Float64Array(0);
  const out: number[] = [];
  for (let i = 0; i < column.length; i++) {
    const v: unknown = column[i];
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return Float64Array.from(out);
}

function isSorted(column: DriftColumn): boolean {
  return column instanceof PreparedColumn && column.isSorted;
}

/** The label counts of a column (strings only; none in a column prepared as numeric). */
function categoryCounts(column: DriftColumn): CountedSample {
  if (column instanceof CodedColumn) return prepareColumn(column, 'categorical').counted!;
  if (column instanceof PreparedColumn) return column.counted ?? { counts: new Map(), size: 0 };
  const out: string[] = [];
  for (let i = 0; i < column.length; i++) {
    const v: unknown = column[i];
    if (typeof v === 'string') out.push(v);
  }
  return countedOf(out);
}

function countedOf(values: Float64Array | string[]): CountedSample {
  return { counts: valueCounts(values), size: values.length };
}

/**
 * Reference and current shares per bin, for one column (missing values left out, as the tests do).
 *
 * Numeric: Sturges bins over both windows (binning.ts, as PSI and Jensen–Shannon bin), labelled
 * "lo – hi"; a column with at most 20 distinct reference values (and at most
 * {@link MAX_CATEGORY_BINS} overall) gets one bin per value instead, again as those tests do.
 * Categorical: one bin per category in key order, capped at {@link MAX_CATEGORY_BINS} bins by
 * keeping the most frequent and summing the rest into "other (N more)".
 */
export function featureDistribution(reference: DriftColumn, current: DriftColumn, kind: FeatureKind): FeatureDistribution {
  if (kind === 'numeric') {
    const ref = finiteValues(reference);
    const cur = finiteValues(current);
    if (ref.length + cur.length === 0) return { kind, bins: [] };
    const manyValues =
      countDistinct(ref, MAX_DISTINCT_FOR_VALUE_BINS) > MAX_DISTINCT_FOR_VALUE_BINS ||
      countDistinctUnion(ref, cur, MAX_CATEGORY_BINS) > MAX_CATEGORY_BINS;
    if (manyValues) {
      const bins = histogramBins(ref, cur, isSorted(reference) && isSorted(current));
      if (bins) return { kind, bins };
    }
    return { kind, bins: valueBins(countedOf(ref), countedOf(cur)) };
  }
  return { kind, bins: valueBins(categoryCounts(reference), categoryCounts(current)) };
}

/** Histogram bins of both windows; `sorted`: both are ascending (a test sorted them), so the counts are binary searches. */
function histogramBins(ref: Float64Array, cur: Float64Array, sorted: boolean): FeatureDistribution['bins'] | null {
  const edges = sturgesEdges(ref, cur, sorted);
  for (let i = 1; i < edges.length; i++) if (!(edges[i - 1] < edges[i])) return null;
  const count = sorted ? sortedHistogramCounts : histogramCounts;
  return labelledHistogram(edges, { counts: count(ref, edges), total: ref.length }, { counts: count(cur, edges), total: cur.length });
}

/**
 * Histogram bins labelled "lo – hi" with each window's share per bin, from counts per bin
 * [edges[k], edges[k+1]) and each window's total (counts of a summary's sketch may be fractional).
 */
export function labelledHistogram(
  edges: Float64Array,
  reference: { counts: ArrayLike<number>; total: number },
  current: { counts: ArrayLike<number>; total: number },
): FeatureDistribution['bins'] {
  const decimals = decimalsFor(edges[1] - edges[0]);
  return Array.from({ length: edges.length - 1 }, (_, i) => ({
    label: `${edges[i].toFixed(decimals)} – ${edges[i + 1].toFixed(decimals)}`,
    reference: share(reference.counts[i], reference.total),
    current: share(current.counts[i], current.total),
  }));
}

/** Enough decimals to tell neighbouring edges apart: one more than the bin width's magnitude. */
function decimalsFor(width: number): number {
  if (!(width > 0)) return 2;
  return Math.min(6, Math.max(0, Math.ceil(-Math.log10(width)) + 1));
}

function share(count: number, total: number): number {
  return total === 0 ? 0 : count / total;
}

/**
 * One bin per value (category, or number of a column with few values) with each window's share,
 * capped at {@link MAX_CATEGORY_BINS} bins by keeping the values that carry the most mass and
 * summing the rest into "other (N more)".
 */
export function valueBins(refCounted: CountedSample, curCounted: CountedSample): FeatureDistribution['bins'] {
  const r = refCounted.counts;
  const c = curCounted.counts;
  const ref = { length: refCounted.size };
  const cur = { length: curCounted.size };
  const keys = [...new Set<CategoryKey>([...r.keys(), ...c.keys()])];
  const weight = (k: CategoryKey) => share(r.get(k) ?? 0, ref.length) + share(c.get(k) ?? 0, cur.length);
  let kept = keys;
  if (keys.length > MAX_CATEGORY_BINS) {
    // Keep the categories that carry the most mass in either window; ties by key for stability.
    kept = [...keys].sort((a, b) => weight(b) - weight(a) || compareKeys(a, b)).slice(0, MAX_CATEGORY_BINS - 1);
  }
  kept = [...kept].sort(compareKeys);
  const bins = kept.map((k) => ({
    label: String(k),
    reference: share(r.get(k) ?? 0, ref.length),
    current: share(c.get(k) ?? 0, cur.length),
  }));
  if (kept.length < keys.length) {
    const keptSet = new Set(kept);
    let refOther = 0;
    let curOther = 0;
    for (const k of keys) {
      if (keptSet.has(k)) continue;
      refOther += r.get(k) ?? 0;
      curOther += c.get(k) ?? 0;
    }
    bins.push({
      label: `other (${keys.length - kept.length} more)`,
      reference: share(refOther, ref.length),
      current: share(curOther, cur.length),
    });
  }
  return bins;
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

const pct = (x: number) => `${Math.round(x * 100)}%`;

function num(x: number | null): string {
  if (x === null) return 'n/a';
  // At most 4 decimals, trailing zeros dropped: 0.79, not 0.7900.
  return String(Number(x.toFixed(Math.abs(x) >= 100 ? 1 : 4)));
}

function listNames(names: string[], max = 3): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** The one sentence at the top of the report: verdict, then data, prediction and concept drift. */
export function summarize(r: Omit<DriftCheckReport, 'summary'>): string {
  const clauses: string[] = [];
  const d = r.dataDrift.datasetDrift;
  if (d.featureCount === 0) clauses.push('no features were tested');
  else {
    const names = r.dataDrift.features.filter((f) => f.drifted).map((f) => f.name);
    let clause = `${d.driftedCount} of ${d.featureCount} features drifted${names.length ? ` (${listNames(names)})` : ''}`;
    if (d.drifted) clause += `, which is dataset drift (${pct(d.share)} of features, threshold ${pct(d.threshold)})`;
    else if (names.length) clause += `, under the ${pct(d.threshold)} share that makes dataset drift`;
    clauses.push(clause);
  }
  if (r.predictionDrift) {
    const p = r.predictionDrift;
    clauses.push(p.drifted ? `the predictions drifted (${p.method} ${num(p.statistic)})` : 'the predictions are stable');
  }
  if (r.conceptDrift) {
    const c = r.conceptDrift;
    if (c.current === null || c.baseline === null) {
      clauses.push(`${c.metric} could not be compared on ${c.labelledRows} labelled rows`);
    } else {
      const how = c.drifted ? 'more than' : 'within';
      clauses.push(
        `${c.metric} is ${num(c.current)} against a baseline of ${num(c.baseline)}, ${how} the allowed regression of ${num(c.maxRegression)}`,
      );
    }
  }
  if (r.multivariateDrift?.auc != null) {
    const m = r.multivariateDrift;
    clauses.push(
      m.drifted
        ? `a classifier tells the window from the reference (ROC AUC ${num(m.auc!)}${m.topFeatures.length ? `, mostly by ${listNames(m.topFeatures.map((f) => f.name))}` : ''}): the features changed together`
        : `a classifier cannot tell the window from the reference (ROC AUC ${num(m.auc!)})`,
    );
  }
  if (r.estimatedPerformance) clauses.push(describeEstimate(r.estimatedPerformance));
  const segments = segmentClause(r.segments);
  if (segments) clauses.push(segments);
  const over = overBudgetOf(r.budgets);
  // Not drift, but said in the same sentence: it is what an on-call person reads.
  if (over.length) clauses.push(`serving is over budget: ${listNames(over.map(describeOverBudget), 4)}`);
  return `${r.drifted ? 'Drift detected' : 'No drift'}: ${clauses.join('; ')}.`;
}

/** The segment values with dataset drift, named; null when none drifted. */
function segmentClause(s: SegmentsReport | undefined): string | null {
  const drifted = (s?.columns ?? []).flatMap((c) => c.values.filter((v) => v.datasetDrift).map((v) => ({ column: c.column, v })));
  if (drifted.length === 0) return null;
  const named = drifted.map(
    ({ column, v }) =>
      `${column} = ${v.value ?? '(missing)'} (${v.driftedFeatures.length} of ${v.featureCount} features: ${listNames(v.driftedFeatures)}${v.hiddenByAverage ? "; hidden by the whole window's average" : ''})`,
  );
  return `${drifted.length === 1 ? 'a segment drifted' : `${drifted.length} segments drifted`}: ${listNames(named)}`;
}

/** Deep copy with every non-finite number replaced by null (JSON would write NaN as null anyway, silently). */
function finiteOrNullDeep(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(finiteOrNullDeep);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, (v) => finiteOrNullDeep(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : [[k, finiteOrNullDeep(v)]])));
  }
  return value;
}
