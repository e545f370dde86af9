/**
 * Dataset drift: one drift test per feature, then the share of drifted features against a
 * threshold, as Evidently's legacy `get_drift_for_columns` / `get_dataset_drift`
 * (src/evidently/legacy/calculations/data_drift.py). Pure code.
 *
 * Missing values are counted and reported per window, then left out of the test, as Evidently's
 * `get_one_column_drift` does (it drops NaN and, for numeric columns, +-Infinity before testing).
 * Categorical columns are reduced to label counts in that same pass and tested on the counts.
 * Each feature runs one test, so there are no sorted copies to share between tests here; a caller
 * running ks and wasserstein on one column can sort once (`sortedCopy`) and pass `presorted`.
 */

import { InvalidInputError } from '../errors';
import type { FeatureKind } from '../feature-kind';
import { Counter, countDistinctUnion, type CountedSample } from './binning';
import { isStattestName, STATTEST_KINDS, type StattestName } from './stattest-names';
import { chooseStattest, runCountedStattest, runStattest, type StattestResult } from './stattests';

/** A numeric column: NaN marks a missing value; +-Infinity is also left out of the tests. */
export type NumericColumn = Float64Array;
/** A categorical column: null marks a missing value. */
export type CategoricalColumn = readonly (string | null)[];
/** A window's columns by name, numeric or categorical, one entry per row. */
export type Columns = Readonly<Record<string, NumericColumn | CategoricalColumn>>;

/** A feature to test for drift, and optionally how. */
export interface FeatureSpec {
  name: string;
  kind: FeatureKind;
  /**
   * Test to run.
   * @default the test {@link chooseStattest} picks for the cleaned data
   */
  method?: StattestName;
  /**
   * Drift threshold for the test.
   * @default the test's entry in `DEFAULT_THRESHOLDS` (stattests.ts)
   */
  threshold?: number;
}

/** What {@link detectDrift} compares: the reference and current columns, and the features to test. */
export interface DetectDriftInput {
  reference: Columns;
  current: Columns;
  features: readonly FeatureSpec[];
  /**
   * Dataset drift when the share of drifted features is >= this, as in Evidently.
   * @default 0.5
   */
  datasetDriftShare?: number;
}

/** Row accounting for one feature in one window. */
export interface WindowCounts {
  /** Rows in the column. */
  rows: number;
  /** NaN (numeric) or null (categorical) entries. */
  missing: number;
  /** +-Infinity entries (numeric only), left out like missing values. */
  infinite: number;
  /** Rows the test ran on: rows - missing - infinite. */
  used: number;
}

/** One feature's drift test result, with the test's origin and each window's row counts. */
export interface FeatureDrift extends StattestResult {
  name: string;
  kind: FeatureKind;
  /** 'configured' when the spec named the test, 'default' when {@link chooseStattest} picked it. */
  methodSource: 'configured' | 'default';
  reference: WindowCounts;
  current: WindowCounts;
}

/** Per-feature drift results and the dataset drift verdict drawn from them. */
export interface DriftReport {
  features: FeatureDrift[];
  datasetDrift: {
    /** Drifted features / features (0 when there are no features). */
    share: number;
    driftedCount: number;
    featureCount: number;
    /** The datasetDriftShare applied. */
    threshold: number;
    drifted: boolean;
  };
}

/** Share of drifted features (0..1) from which the dataset counts as drifted, as in Evidently. */
export const DEFAULT_DATASET_DRIFT_SHARE = 0.5;

/** A cleaned numeric column: the finite values. */
interface CleanNumeric {
  kind: 'numeric';
  values: Float64Array;
  counts: WindowCounts;
}
/** A cleaned categorical column: its label counts, all the categorical tests need. */
interface CleanCategorical {
  kind: 'categorical';
  counted: CountedSample;
  counts: WindowCounts;
}

type Clean = CleanNumeric | CleanCategorical;

/** Split a column into what a test can take and the counts of what was left out. */
function clean(column: NumericColumn | CategoricalColumn, kind: FeatureKind, where: string, name: string): Clean {
  return kind === 'numeric' ? cleanNumeric(column, where, name) : cleanCategorical(column, where, name);
}

/** The finite values (the column itself when all are), without NaN and +-Infinity. */
function cleanNumeric(column: NumericColumn | CategoricalColumn, where: string, name: string): CleanNumeric {
  if (!(column instanceof Float64Array)) {
    throw new InvalidInputError(`numeric feature '${name}' in ${where} must be a Float64Array`, { feature: name });
  }
  let missing = 0;
  let infinite = 0;
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (Number.isNaN(v)) missing++;
    else if (!Number.isFinite(v)) infinite++;
  }
  const values = missing + infinite === 0 ? column : new Float64Array(column.length - missing - infinite);
  if (values !== column) {
    let k = 0;
    for (let i = 0; i < column.length; i++) if (Number.isFinite(column[i])) values[k++] = column[i];
  }
  return { kind: 'numeric', values, counts: { rows: column.length, missing, infinite, used: values.length } };
}

/** Label counts in one pass, nulls counted as missing: no copy of the labels is made. */
function cleanCategorical(column: NumericColumn | CategoricalColumn, where: string, name: string): CleanCategorical {
  if (!Array.isArray(column)) {
    throw new InvalidInputError(`categorical feature '${name}' in ${where} must be an array of string | null`, {
      feature: name,
    });
  }
  const counter = new Counter();
  let missing = 0;
  for (let i = 0; i < column.length; i++) {
    const v: unknown = column[i];
    if (typeof v === 'string') counter.add(v);
    else if (v === null || v === undefined) missing++;
    else {
      throw new InvalidInputError(`categorical feature '${name}' in ${where} holds a ${typeof v}`, { feature: name });
    }
  }
  const used = column.length - missing;
  return {
    kind: 'categorical',
    counted: { counts: counter.counts(), size: used },
    counts: { rows: column.length, missing, infinite: 0, used },
  };
}

/** Distinct values of both windows together (categorical: the union of their keys). */
function distinctUnion(ref: Clean, cur: Clean, cap: number): number {
  if (ref.kind === 'numeric' && cur.kind === 'numeric') return countDistinctUnion(ref.values, cur.values, cap);
  const keys = new Set((ref as CleanCategorical).counted.counts.keys());
  for (const k of (cur as CleanCategorical).counted.counts.keys()) keys.add(k);
  return keys.size;
}

/** Run one test on a cleaned feature: counts for categorical columns, values for numeric ones. */
function runOn(method: StattestName, ref: Clean, cur: Clean, spec: FeatureSpec): StattestResult {
  if (ref.kind === 'categorical' && cur.kind === 'categorical') {
    return runCountedStattest(method, ref.counted, cur.counted, { threshold: spec.threshold });
  }
  const values = (c: Clean) => (c as CleanNumeric).values;
  return runStattest(method, values(ref), values(cur), { kind: spec.kind, threshold: spec.threshold });
}

function validate(input: DetectDriftInput, share: number): void {
  if (!(share >= 0 && share <= 1)) {
    throw new InvalidInputError(`datasetDriftShare must be within [0, 1], got ${share}`);
  }
  const seen = new Set<string>();
  for (const f of input.features) {
    if (seen.has(f.name)) throw new InvalidInputError(`feature '${f.name}' is listed twice`, { feature: f.name });
    seen.add(f.name);
    if (f.kind !== 'numeric' && f.kind !== 'categorical') {
      throw new InvalidInputError(`feature '${f.name}': kind must be 'numeric' or 'categorical'`, { feature: f.name });
    }
    if (f.method !== undefined) {
      if (!isStattestName(f.method)) {
        throw new InvalidInputError(`feature '${f.name}': unknown drift test '${String(f.method)}'`, { feature: f.name });
      }
      if (!STATTEST_KINDS[f.method].includes(f.kind)) {
        throw new InvalidInputError(`feature '${f.name}': drift test '${f.method}' does not apply to ${f.kind} features`, {
          feature: f.name,
        });
      }
    }
    if (f.threshold !== undefined && !Number.isFinite(f.threshold)) {
      throw new InvalidInputError(`feature '${f.name}': threshold must be a finite number`, { feature: f.name });
    }
    for (const [where, cols] of [
      ['reference', input.reference],
      ['current', input.current],
    ] as const) {
      if (!Object.hasOwn(cols, f.name)) {
        throw new InvalidInputError(`feature '${f.name}' is missing from the ${where} columns`, { feature: f.name });
      }
    }
  }
}

/**
 * Test every feature for drift between the reference and current windows, and decide dataset
 * drift from the share of drifted features (Evidently: share >= datasetDriftShare).
 *
 * @throws InvalidInputError for a configuration or shape error (unknown feature, wrong column
 *   type, a test that does not apply to the kind, duplicate feature, share outside [0, 1]).
 *   Data edge cases (empty window, constant column, new category) never throw.
 */
export function detectDrift(input: DetectDriftInput): DriftReport {
  const threshold = input.datasetDriftShare ?? DEFAULT_DATASET_DRIFT_SHARE;
  validate(input, threshold);
  const features: FeatureDrift[] = input.features.map((spec) => {
    const ref = clean(input.reference[spec.name], spec.kind, 'reference', spec.name);
    const cur = clean(input.current[spec.name], spec.kind, 'current', spec.name);
    // Evidently chooses on the cleaned data: reference rows and distinct values of both windows.
    // Only "<= 2" and "<= 5" matter, so counting stops early on wide columns.
    const method =
      spec.method ?? chooseStattest({ kind: spec.kind, referenceSize: ref.counts.used, uniqueCount: distinctUnion(ref, cur, 5) });
    const result = runOn(method, ref, cur, spec);
    return {
      name: spec.name,
      kind: spec.kind,
      methodSource: spec.method ? 'configured' : 'default',
      ...result,
      reference: ref.counts,
      current: cur.counts,
    };
  });
  const driftedCount = features.filter((f) => f.drifted).length;
  const share = features.length === 0 ? 0 : driftedCount / features.length;
  return {
    features,
    datasetDrift: {
      share,
      driftedCount,
      featureCount: features.length,
      threshold,
      drifted: features.length > 0 && share >= threshold,
    },
  };
}
