/**
 * Drift tests on window summaries (lib/drift/window-summary.ts) instead of raw columns, for
 * windows summarised per partition and merged. Pure code.
 *
 * Same tests, thresholds, default choice, edge cases and result shape as
 * {@link detectDrift} (dataset-drift.ts), plus `approximate` and, when approximate,
 * `rankError` ε (quantile-sketch.ts: with 99% confidence each window's estimated CDF is within
 * ε of its true CDF at every x at once). Where each result comes from:
 *  - categorical features (chisquare, jensenshannon, psi, z): exact, from the label counts
 *    through the same code the exact tests run (runCountedStattest);
 *  - numeric features with at most MAX_EXACT_VALUES distinct values in both windows (the
 *    summaries keep their value counts), or with exact columns on both sides: exact, the exact
 *    tests' results (bit for bit, except that wasserstein's norm on a summary is the std from
 *    merged moments, within about 1e-13 of the two-pass std);
 *  - other numeric features: approximate, from the quantile sketches' CDFs:
 *     - ks: D̂ = max |F̂_ref - F̂_cur| over the sketches' values, |D̂ - D| <= ε_ref + ε_cur; the
 *       p-value as ks2samp computes it from the statistic and the sizes (exact distribution up to
 *       10 000 rows, else kstwo). At large n the test resolves differences far finer than ε, so
 *       drift is called only when the smallest D the rank error allows is still significant;
 *     - wasserstein: ∫|F̂_ref - F̂_cur| dx / reference std (the std exact), off by at most
 *       (ε_ref + ε_cur) · (max - min) / std;
 *     - psi, jensenshannon: on the exact test's bins (Sturges edges from the exact extremes and
 *       sizes), bin counts from the sketches' CDFs smoothed between their points, each bin's
 *       share within 2(ε + w/n), w the heaviest sketch item (about 0.1% of n at k = 600). No
 *       bound on the statistics themselves: on two stable 1e6-row windows the measured error is
 *       up to 0.008 for PSI and 0.025 for Jensen–Shannon (thresholds 0.1), from the small tail
 *       bins; on drifted ones 0.004 and 0.0015;
 *     - chisquare, z: need exact value counts; when a window has too many distinct values for
 *       them the result is undefined (null statistic, a note), except that chi-square falls back
 *       to jensenshannon as the exact test does when categories are certainly unseen.
 */

import { applyEffectFloor } from './effect-floor';
import { countBelow } from './sorted-search';
import { InvalidInputError } from '../errors';
import type { FeatureKind } from '../feature-kind';
import { MAX_DISTINCT_FOR_VALUE_BINS, sturgesEdgesOfRange, type CategoryKey, type CountedSample } from './binning';
import {
  datasetDriftOf,
  PreparedColumn,
  prepareColumn,
  type DriftColumn,
  type DriftColumns,
  type DriftReport,
  type FeatureDrift,
  type FeatureSpec,
  type WindowCounts,
} from './dataset-drift';
import { KS_MAX_AUTO_N, ksPValue } from './ks';
import { RANK_ERROR_CONFIDENCE } from './quantile-sketch';
import { isStattestName, STATTEST_KINDS, type StattestName } from './stattest-names';
import {
  chooseStattest,
  DEFAULT_THRESHOLDS,
  populationStd,
  runCountedStattest,
  runStattest,
  WASSERSTEIN_MIN_STD,
  type StattestResult,
} from './stattests';
import { CategoricalSummary, MAX_EXACT_VALUES, NumericSummary, WindowSummary, type ColumnSummary } from './window-summary';

/** A drift test's result on summaries: a {@link StattestResult} and how exact it is. */
export interface ApproximateStattestResult extends StattestResult {
  /** True when the result was estimated from quantile sketches, false when it is the exact test's. */
  approximate: boolean;
  /**
   * When approximate: ε, the larger of the two windows' rank errors (a share of rows, 0..1);
   * with {@link RANK_ERROR_CONFIDENCE} confidence each window's CDF is within ε at every x.
   */
  rankError?: number;
  /**
   * When approximate and the rank error bounds it (ks, wasserstein): |statistic - exact
   * statistic| is at most this whenever both windows' rank error bounds hold (probability at
   * least 98% with two 99% bounds).
   */
  statisticError?: number;
}

/** One feature's drift result on summaries. */
export type ApproximateFeatureDrift = FeatureDrift & Omit<ApproximateStattestResult, keyof StattestResult>;

/** Per-feature results on summaries and the dataset drift verdict drawn from them. */
export interface ApproximateDriftReport extends DriftReport {
  features: ApproximateFeatureDrift[];
}

/**
 * A window as the tests on summaries take it: a summary, or exact columns (e.g. the reference)
 * as the exact tests take them, raw or prepared once (prepareColumn) to share their sort.
 */
export type SummaryWindow = WindowSummary | DriftColumns;
/** One feature's column in such a window. */
export type SummaryColumn = ColumnSummary | DriftColumn;

/** What {@link detectDriftFromSummaries} compares. */
export interface SummaryDriftInput {
  reference: SummaryWindow;
  current: SummaryWindow;
  features: readonly FeatureSpec[];
  /**
   * Dataset drift when the share of drifted features is >= this, as in Evidently.
   * @default 0.5
   */
  datasetDriftShare?: number;
}

/**
 * Tests every feature for drift between two windows, either of which may be a summary, and
 * decides dataset drift as {@link detectDrift} does.
 * @throws InvalidInputError for a configuration or shape error (a feature missing from a
 *   window or summarised as another kind, a test that does not apply to the kind, a feature
 *   listed twice). Data edge cases give defined results.
 */
export function detectDriftFromSummaries(input: SummaryDriftInput): ApproximateDriftReport {
  const features = input.features.map((spec) =>
    testSummarizedFeature(columnOf(input.reference, spec.name, 'reference'), columnOf(input.current, spec.name, 'current'), spec),
  );
  return { features, datasetDrift: datasetDriftOf(features, input.datasetDriftShare) };
}

/**
 * Tests one feature on two windows' columns, summarised or exact.
 * @throws InvalidInputError as {@link detectDriftFromSummaries}.
 */
export function testSummarizedFeature(reference: SummaryColumn, current: SummaryColumn, spec: FeatureSpec): ApproximateFeatureDrift {
  validateSpec(spec);
  let result: ApproximateStattestResult;
  let counts: { reference: WindowCounts; current: WindowCounts };
  let method: StattestName;
  if (spec.kind === 'numeric') {
    const ref = numericView(reference, spec.name, 'reference');
    const cur = numericView(current, spec.name, 'current');
    method = spec.method ?? chooseStattest({ kind: 'numeric', referenceSize: ref.counts.used, uniqueCount: uniqueUnion(ref, cur) });
    result = numericTest(method, ref, cur, spec.threshold);
    counts = { reference: ref.counts, current: cur.counts };
  } else {
    const ref = categoricalView(reference, spec.name, 'reference');
    const cur = categoricalView(current, spec.name, 'current');
    const keys = new Set(ref.counted.counts.keys());
    for (const k of cur.counted.counts.keys()) keys.add(k);
    method = spec.method ?? chooseStattest({ kind: 'categorical', referenceSize: ref.counts.used, uniqueCount: keys.size });
    result = { ...runCountedStattest(method, ref.counted, cur.counted, { threshold: spec.threshold }), approximate: false };
    counts = { reference: ref.counts, current: cur.counts };
  }
  result = applyEffectFloor(result, spec.minEffect);
  return {
    name: spec.name,
    kind: spec.kind,
    methodSource: spec.method ? 'configured' : 'default',
    ...result,
    reference: counts.reference,
    current: counts.current,
  };
}

/**
 * The counts a report plots for one numeric feature on summaries, on the bins featureDistribution
 * (report.ts) picks for exact columns: Sturges histogram bins over both windows (`edges`) when
 * the reference has more than 20 distinct values or both together more than `maxValueBins`, else
 * one bin per value (`edges` null). A sketch's bin counts are estimates, smoothed as the binned
 * tests' are.
 * @throws InvalidInputError as {@link testSummarizedFeature} for a column of the wrong kind.
 */
export function numericPlotCounts(
  reference: SummaryColumn,
  current: SummaryColumn,
  name: string,
  maxValueBins: number,
): { edges: Float64Array | null; reference: CountedSample; current: CountedSample } {
  const ref = numericView(reference, name, 'reference');
  const cur = numericView(current, name, 'current');
  if (ref.distinct > MAX_DISTINCT_FOR_VALUE_BINS || uniqueUnion(ref, cur, maxValueBins) > maxValueBins) {
    const used = ref.counts.used + cur.counts.used;
    const min = Math.min(ref.counts.used ? ref.min : Infinity, cur.counts.used ? cur.min : Infinity);
    const max = Math.max(ref.counts.used ? ref.max : -Infinity, cur.counts.used ? cur.max : -Infinity);
    const edges = sturgesEdgesOfRange(min, max, used);
    let increasing = edges.length > 1;
    for (let i = 1; i < edges.length; i++) if (!(edges[i - 1] < edges[i])) increasing = false;
    if (increasing) return { edges, reference: histogramOrEmpty(ref, edges), current: histogramOrEmpty(cur, edges) };
  }
  return { edges: null, reference: valueBins(ref), current: valueBins(cur) };
}

/**
 * The label counts a report plots for one categorical feature, from a summary or an exact column.
 * @throws InvalidInputError as {@link testSummarizedFeature} for a column of the wrong kind.
 */
export function categoricalPlotCounts(
  reference: SummaryColumn,
  current: SummaryColumn,
  name: string,
): { reference: CountedSample; current: CountedSample } {
  return { reference: categoricalView(reference, name, 'reference').counted, current: categoricalView(current, name, 'current').counted };
}

function histogramOrEmpty(view: NumericView, edges: Float64Array): CountedSample {
  return view.counts.used === 0 ? { counts: new Map(), size: 0 } : histogram(view, edges);
}

/**
 * What a report says about accuracy: which results are approximate, with what rank error, and
 * which are exact. Null when every result is exact.
 */
export function describeAccuracy(
  features: readonly (FeatureDrift & Partial<Omit<ApproximateStattestResult, keyof StattestResult>>)[],
): string | null {
  const approximate = features.filter((f) => f.approximate);
  if (approximate.length === 0) return null;
  const epsilon = Math.max(...approximate.map((f) => f.rankError ?? 0));
  const exact = features.filter((f) => !f.approximate);
  const list = (fs: readonly FeatureDrift[]) => {
    const names = fs.map((f) => `${f.name} (${f.method})`);
    return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
  };
  return (
    `Approximate, rank error ≤ ${formatShare(epsilon)} (${Math.round(RANK_ERROR_CONFIDENCE * 100)}% confidence): ` +
    `${list(approximate)}.${exact.length > 0 ? ` Exact: ${list(exact)}.` : ''}`
  );
}

function formatShare(x: number): string {
  return String(Number(x.toPrecision(2)));
}

// ---------------------------------------------------------------------------------------------
// Windows as the tests read them
// ---------------------------------------------------------------------------------------------

/**
 * A numeric column as a step function: its distinct values ascending with the count of values
 * <= each, exact or estimated.
 */
interface NumericView {
  counts: WindowCounts;
  values: Float64Array;
  cumulative: Float64Array;
  /** The step function is the column's true one. */
  exact: boolean;
  /** ε of the step function (0 when exact). */
  rankError: number;
  /** Weight of the heaviest sketch item (0 when exact): what one step may spread over the gap before it. */
  maxWeight: number;
  /** Distinct finite values, exact; Infinity when only "more than MAX_EXACT_VALUES" is known. */
  distinct: number;
  min: number;
  max: number;
  /** Population std of the finite values (exact); NaN when there are none. */
  std: number;
}

function columnOf(window: SummaryWindow, name: string, where: string): SummaryColumn {
  if (window instanceof WindowSummary) {
    const column = window.columns.get(name);
    if (!column) throw new InvalidInputError(`feature '${name}' is missing from the ${where} summary`, { feature: name });
    return column;
  }
  if (!Object.hasOwn(window, name))
    throw new InvalidInputError(`feature '${name}' is missing from the ${where} columns`, { feature: name });
  return window[name];
}

function validateSpec(spec: FeatureSpec): void {
  if (spec.kind !== 'numeric' && spec.kind !== 'categorical') {
    throw new InvalidInputError(`feature '${spec.name}': kind must be 'numeric' or 'categorical'`, { feature: spec.name });
  }
  if (spec.method !== undefined) {
    if (!isStattestName(spec.method)) {
      throw new InvalidInputError(`feature '${spec.name}': unknown drift test '${String(spec.method)}'`, { feature: spec.name });
    }
    if (!STATTEST_KINDS[spec.method].includes(spec.kind)) {
      throw new InvalidInputError(`feature '${spec.name}': drift test '${spec.method}' does not apply to ${spec.kind} features`, {
        feature: spec.name,
      });
    }
  }
  if (spec.threshold !== undefined && !Number.isFinite(spec.threshold)) {
    throw new InvalidInputError(`feature '${spec.name}': threshold must be a finite number`, { feature: spec.name });
  }
  if (spec.minEffect !== undefined && !(Number.isFinite(spec.minEffect) && spec.minEffect >= 0)) {
    throw new InvalidInputError(`feature '${spec.name}': minEffect must be a finite number >= 0`, { feature: spec.name });
  }
}

function kindError(name: string, where: string, kind: FeatureKind, got: string): InvalidInputError {
  return new InvalidInputError(`feature '${name}' in the ${where} window is ${got}, not ${kind}`, { feature: name });
}

function isSummary(column: SummaryColumn): column is ColumnSummary {
  return column instanceof NumericSummary || column instanceof CategoricalSummary;
}

/** An exact column cleaned (and sorted, for numeric ones) once: prepareColumn checks its type. */
function preparedOf(column: DriftColumn, kind: FeatureKind, name: string, where: string): PreparedColumn {
  const prepared = column instanceof PreparedColumn ? column : prepareColumn(column, kind, { name, where });
  if (prepared.kind !== kind) throw kindError(name, where, kind, `prepared as ${prepared.kind}`);
  return prepared;
}

function numericView(column: SummaryColumn, name: string, where: string): NumericView {
  if (!isSummary(column)) {
    const prepared = preparedOf(column, 'numeric', name, where);
    const sorted = prepared.sorted()!;
    const view = stepsOfSorted(sorted);
    const exact = { exact: true, rankError: 0, maxWeight: 0, distinct: view.values.length };
    return { ...view, ...exact, counts: prepared.counts, std: populationStd(sorted) };
  }
  if (column.kind !== 'numeric') throw kindError(name, where, 'numeric', 'summarised as categorical');
  const counts = column.counts;
  const std = column.std;
  if (column.values) {
    const entries = [...column.values].sort((a, b) => a[0] - b[0]);
    const values = Float64Array.from(entries, (e) => e[0]);
    const cumulative = new Float64Array(entries.length);
    let total = 0;
    entries.forEach((e, i) => (cumulative[i] = total += e[1]));
    const [min, max] = values.length > 0 ? [values[0], values[values.length - 1]] : [NaN, NaN];
    return { counts, values, cumulative, exact: true, rankError: 0, maxWeight: 0, distinct: values.length, min, max, std };
  }
  const sketch = column.sketch;
  const { values, cumulative, maxWeight } = sketch.points();
  const exact = sketch.isExact;
  return {
    counts,
    values,
    cumulative,
    exact,
    rankError: sketch.rankError,
    maxWeight: exact ? 0 : maxWeight,
    distinct: exact ? values.length : Infinity,
    min: sketch.min,
    max: sketch.max,
    std,
  };
}

/** Distinct values and counts <= each of an ascending array. */
function stepsOfSorted(sorted: Float64Array): { values: Float64Array; cumulative: Float64Array; min: number; max: number } {
  const values = new Float64Array(sorted.length);
  const cumulative = new Float64Array(sorted.length);
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (distinct > 0 && values[distinct - 1] === sorted[i]) cumulative[distinct - 1] = i + 1;
    else {
      values[distinct] = sorted[i];
      cumulative[distinct++] = i + 1;
    }
  }
  const [min, max] = sorted.length > 0 ? [sorted[0], sorted[sorted.length - 1]] : [NaN, NaN];
  return { values: values.slice(0, distinct), cumulative: cumulative.slice(0, distinct), min, max };
}

function categoricalView(column: SummaryColumn, name: string, where: string): { counted: CountedSample; counts: WindowCounts } {
  if (!isSummary(column)) {
    const prepared = preparedOf(column, 'categorical', name, where);
    return { counted: prepared.counted!, counts: prepared.counts };
  }
  if (column.kind !== 'categorical') throw kindError(name, where, 'categorical', 'summarised as numeric');
  const counts = column.counts;
  return { counted: { counts: new Map<CategoryKey, number>(column.labelCounts), size: counts.used }, counts };
}

/**
 * Distinct values of both windows together, counted up to cap + 1 (the default choice only asks
 * "<= 2" and "<= 5"; the plot "<= 30").
 */
function uniqueUnion(a: NumericView, b: NumericView, cap = 5): number {
  if (!Number.isFinite(a.distinct) || !Number.isFinite(b.distinct)) return cap + 1;
  let i = 0;
  let j = 0;
  let n = 0;
  while ((i < a.values.length || j < b.values.length) && n <= cap) {
    const v = j >= b.values.length || (i < a.values.length && a.values[i] <= b.values[j]) ? a.values[i] : b.values[j];
    if (i < a.values.length && a.values[i] === v) i++;
    if (j < b.values.length && b.values[j] === v) j++;
    n++;
  }
  return n;
}

/**
 * Count of values <= x (inclusive) or < x in a view, at a bin edge: exact for exact views;
 * smoothed where the view is a sketch, whose step function makes tail bins all or nothing (one
 * item of weight 1024 where 30 values are). A sketch item of weight w stands for about w values
 * around it, so half its weight (of at most the heaviest single item's: a tie of many items stays
 * a jump) is spread over the gap on each side, and the count rises linearly from (min, 0)
 * through the points to (max, n). Still within εn + maxWeight of the true count; on stable 1e6-row
 * windows PSI errs several times less than on the steps.
 */
function smoothCountAt(view: NumericView, x: number, inclusive: boolean): number {
  const { values, cumulative } = view;
  const i = countBelow(view.values, x, inclusive);
  const before = i === 0 ? 0 : cumulative[i - 1];
  if (view.exact) return before;
  if (x < view.min || (!inclusive && x === view.min)) return 0;
  if (x > view.max || (inclusive && x === view.max)) return view.counts.used;
  const spread = (j: number) => Math.min(cumulative[j] - (j === 0 ? 0 : cumulative[j - 1]), view.maxWeight) / 2;
  // x on a point: the point's own half-spreads fall on either side of it.
  if (i < values.length && values[i] === x) return before + spread(i);
  if (i > 0 && values[i - 1] === x) return before - spread(i - 1);
  const left = i === 0 ? view.min : values[i - 1];
  const right = i === values.length ? view.max : values[i];
  const atLeft = i === 0 ? 0 : before - spread(i - 1);
  const atRight = i === values.length ? view.counts.used : before + spread(i);
  return right === left ? atLeft : atLeft + ((atRight - atLeft) * (x - left)) / (right - left);
}

// ---------------------------------------------------------------------------------------------
// Numeric tests
// ---------------------------------------------------------------------------------------------

function numericTest(method: StattestName, ref: NumericView, cur: NumericView, threshold: number | undefined): ApproximateStattestResult {
  if (ref.counts.used === 0 || cur.counts.used === 0) {
    // The exact test's own result for an empty window (nothing is estimated).
    const placeholder = (n: number) => (n === 0 ? new Float64Array(0) : Float64Array.of(0));
    const empty = runStattest(method, placeholder(ref.counts.used), placeholder(cur.counts.used), { kind: 'numeric', threshold });
    return { ...empty, approximate: false };
  }
  switch (method) {
    case 'ks':
      return ksOnViews(ref, cur, threshold ?? DEFAULT_THRESHOLDS.ks);
    case 'wasserstein':
      return wassersteinOnViews(ref, cur, threshold ?? DEFAULT_THRESHOLDS.wasserstein);
    case 'psi':
    case 'jensenshannon':
      return binnedOnViews(method, ref, cur, threshold);
    default:
      return countedOnViews(method, ref, cur, threshold);
  }
}

function accuracy(ref: NumericView, cur: NumericView, statisticError?: number): Omit<ApproximateStattestResult, keyof StattestResult> {
  if (ref.exact && cur.exact) return { approximate: false };
  return {
    approximate: true,
    rankError: Math.max(ref.rankError, cur.rankError),
    ...(statisticError !== undefined ? { statisticError } : {}),
  };
}

/** Where the step functions differ most: the counts <= that point in each window. */
interface KsExtreme {
  /** D = sup |F_ref - F_cur|. */
  d: number;
  refCount: number;
  curCount: number;
}

/**
 * KS on two step functions: D = sup |F_ref - F_cur| over both windows' values, with the
 * divisions ks2samp makes (count / n), so exact step functions give its statistic bit for bit.
 */
function ksExtreme(a: NumericView, b: NumericView): KsExtreme {
  const na = a.counts.used;
  const nb = b.counts.used;
  let i = 0;
  let j = 0;
  let ca = 0;
  let cb = 0;
  let max = -Infinity;
  let min = Infinity;
  let atMax = [0, 0];
  let atMin = [0, 0];
  while (i < a.values.length || j < b.values.length) {
    const v = j >= b.values.length || (i < a.values.length && a.values[i] <= b.values[j]) ? a.values[i] : b.values[j];
    if (i < a.values.length && a.values[i] === v) ca = a.cumulative[i++];
    if (j < b.values.length && b.values[j] === v) cb = b.cumulative[j++];
    const diff = ca / na - cb / nb;
    if (diff > max) {
      max = diff;
      atMax = [ca, cb];
    }
    if (diff < min) {
      min = diff;
      atMin = [ca, cb];
    }
  }
  // ks2samp's choice between the two one-sided extremes.
  const minS = Math.min(Math.max(-min, 0), 1);
  const [refCount, curCount] = minS > max ? atMin : atMax;
  return { d: minS > max ? minS : max, refCount, curCount };
}

/**
 * The statistic and p-value ks2samp (method 'auto') gives samples of n1 and n2 values whose
 * CDFs differ most where they hold i and j values: |i/n1 - j/n2| (the divisions ks2samp makes),
 * with its p-value.
 */
function ksAt(i: number, j: number, n1: number, n2: number): { statistic: number; pValue: number } {
  const { statistic, pValue } = ksPValue(Math.abs(i / n1 - j / n2), n1, n2);
  return { statistic, pValue };
}

/**
 * The p-value of the largest statistic <= d that samples of n1 and n2 values can have: the
 * exact distribution lives on the lattice i/n1 - j/n2 (integer search up to 10 000 values).
 */
function ksPValueAtMost(d: number, n1: number, n2: number): number {
  if (Math.max(n1, n2) > KS_MAX_AUTO_N) return ksPValue(d, n1, n2).pValue;
  let g = n1;
  let r = n2;
  while (r) [g, r] = [r, g % r];
  const a = n1 / g;
  const b = n2 / g;
  // i/n1 - j/n2 = (i b - j a) / lcm: the largest i b - j a <= floor(d lcm).
  const limit = Math.floor(d * a * n2);
  let best = [0, 0];
  let bestH = 0;
  for (let i = 1; i <= n1; i++) {
    const j = Math.max(0, Math.ceil((i * b - limit) / a));
    const h = i * b - j * a;
    if (j <= n2 && h <= limit && h > bestH) {
      bestH = h;
      best = [i, j];
    }
  }
  return ksAt(best[0], best[1], n1, n2).pValue;
}

function ksOnViews(ref: NumericView, cur: NumericView, threshold: number): ApproximateStattestResult {
  const n1 = ref.counts.used;
  const n2 = cur.counts.used;
  const extreme = ksExtreme(ref, cur);
  const { statistic, pValue } = ksAt(extreme.refCount, extreme.curCount, n1, n2);
  if (ref.exact && cur.exact) {
    return { method: 'ks', statistic, pValue, threshold, drifted: pValue <= threshold, approximate: false };
  }
  const error = ref.rankError + cur.rankError;
  // At large n the test resolves differences finer than the rank error: drift only when the
  // smallest D the error allows is still significant.
  const lowest = Math.max(0, extreme.d - error);
  // A smaller D has a larger p: no need to look when D itself is not significant.
  const pAtLowest = pValue <= threshold ? ksPValueAtMost(lowest, n1, n2) : pValue;
  const drifted = pAtLowest <= threshold;
  const note =
    pValue <= threshold && !drifted
      ? `not called drift: within the rank error D could be ${formatShare(lowest)}, where p = ${formatShare(pAtLowest)}`
      : undefined;
  return {
    method: 'ks',
    statistic,
    pValue,
    threshold,
    drifted,
    ...(note ? { note } : {}),
    ...accuracy(ref, cur, error),
  };
}

/**
 * ∫ |F_ref - F_cur| dx over the merged support, summed as scipy's wasserstein_distance (and
 * stattests.ts wassersteinDistance) sums it, step by step with a Neumaier correction, normed by
 * the reference's population std floored at 0.001.
 */
function wassersteinOnViews(ref: NumericView, cur: NumericView, threshold: number): ApproximateStattestResult {
  const na = ref.counts.used;
  const nb = cur.counts.used;
  const a = ref.values;
  const b = cur.values;
  let i = 0;
  let j = 0;
  let ca = 0;
  let cb = 0;
  let sum = 0;
  let compensation = 0;
  let prev = a[0] <= b[0] ? a[0] : b[0];
  let cdfDiff = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
    const term = cdfDiff * (x - prev);
    const t = sum + term;
    if (Number.isFinite(t)) compensation += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
    sum = t;
    if (i < a.length && a[i] === x) ca = ref.cumulative[i++];
    if (j < b.length && b[j] === x) cb = cur.cumulative[j++];
    cdfDiff = Math.abs(ca / na - cb / nb);
    prev = x;
  }
  const distance = Number.isFinite(sum) ? sum + compensation : sum;
  const norm = Math.max(ref.std, WASSERSTEIN_MIN_STD);
  const value = distance / norm;
  const range = Math.max(ref.max, cur.max) - Math.min(ref.min, cur.min);
  return {
    method: 'wasserstein',
    statistic: value,
    pValue: null,
    threshold,
    drifted: value >= threshold,
    ...accuracy(ref, cur, ((ref.rankError + cur.rankError) * range) / norm),
  };
}

/**
 * Bin counts of both windows on the exact test's bins (binning.ts binnedShares): Sturges
 * histogram bins when the reference has more than 20 distinct values and the edges increase,
 * else one bin per value. Histogram bins are keyed by index, empty ones included, so
 * runCountedStattest forms the same share vectors binnedShares does.
 */
function binCounts(ref: NumericView, cur: NumericView): { ref: CountedSample; cur: CountedSample } {
  if (ref.distinct > MAX_DISTINCT_FOR_VALUE_BINS) {
    const edges = sturgesEdgesOfRange(Math.min(ref.min, cur.min), Math.max(ref.max, cur.max), ref.counts.used + cur.counts.used);
    let increasing = true;
    for (let i = 1; i < edges.length; i++) if (!(edges[i - 1] < edges[i])) increasing = false;
    if (increasing) return { ref: histogram(ref, edges), cur: histogram(cur, edges) };
  }
  return { ref: valueBins(ref), cur: valueBins(cur) };
}

/** Counts per bin [e_k, e_k+1), the last closed: differences of the step function at the edges. */
function histogram(view: NumericView, edges: Float64Array): CountedSample {
  const bins = edges.length - 1;
  const counts = new Map<CategoryKey, number>();
  let below = smoothCountAt(view, edges[0], false);
  for (let k = 0; k < bins; k++) {
    const upTo = k === bins - 1 ? smoothCountAt(view, edges[bins], true) : smoothCountAt(view, edges[k + 1], false);
    counts.set(k, Math.max(0, upTo - below));
    below = Math.max(below, upTo);
  }
  return { counts, size: view.counts.used };
}

function valueBins(view: NumericView): CountedSample {
  const counts = new Map<CategoryKey, number>();
  let before = 0;
  for (let i = 0; i < view.values.length; i++) {
    counts.set(view.values[i], view.cumulative[i] - before);
    before = view.cumulative[i];
  }
  return { counts, size: view.counts.used };
}

function binnedOnViews(
  method: 'psi' | 'jensenshannon',
  ref: NumericView,
  cur: NumericView,
  threshold: number | undefined,
): ApproximateStattestResult {
  const bins = binCounts(ref, cur);
  return { ...runCountedStattest(method, bins.ref, bins.cur, { threshold }), ...accuracy(ref, cur) };
}

/** chisquare and z on a numeric feature: the values as categories, which needs their exact counts. */
function countedOnViews(
  method: StattestName,
  ref: NumericView,
  cur: NumericView,
  threshold: number | undefined,
): ApproximateStattestResult {
  if (ref.exact && cur.exact) {
    const result = runCountedStattest(method, valueBins(ref), valueBins(cur), { threshold });
    // The exact chi-square falls back to Jensen–Shannon binned as the feature's kind bins it:
    // histogram bins for a numeric reference with more than 20 values.
    if (method === 'chisquare' && result.method === 'jensenshannon' && ref.distinct > MAX_DISTINCT_FOR_VALUE_BINS) {
      return { ...binnedOnViews('jensenshannon', ref, cur, undefined), note: result.note };
    }
    return { ...result, approximate: false };
  }
  const resolvedThreshold = threshold ?? DEFAULT_THRESHOLDS[method];
  // A current window with more distinct values than the reference has categories it lacks:
  // chi-square is undefined there and falls back, as the exact test does.
  if (method === 'chisquare' && ref.exact && !cur.exact && ref.distinct <= MAX_EXACT_VALUES) {
    return {
      ...binnedOnViews('jensenshannon', ref, cur, undefined),
      note:
        `chisquare undefined: categories absent from reference (more than ${MAX_EXACT_VALUES} distinct current values, ` +
        `${ref.distinct} in the reference); fell back to jensenshannon`,
    };
  }
  return {
    method,
    statistic: null,
    pValue: null,
    threshold: resolvedThreshold,
    drifted: false,
    note: `${method} on a numeric feature needs exact value counts, which a summary keeps only up to ${MAX_EXACT_VALUES} distinct values`,
    ...accuracy(ref, cur),
  };
}
