/**
 * Dataset drift: one drift test per feature, then the share of drifted features against a
 * threshold, as Evidently's legacy `get_drift_for_columns` / `get_dataset_drift`
 * (src/evidently/legacy/calculations/data_drift.py). Pure code.
 *
 * Missing values are counted and reported per window, then left out of the test, as Evidently's
 * `get_one_column_drift` does (it drops NaN and, for numeric columns, +-Infinity before testing).
 * Categorical columns are reduced to label counts in that same pass and tested on the counts.
 *
 * Sorting: the tests that read a numeric sample in order (ks, wasserstein: {@link ORDERED_TESTS})
 * get each window's values sorted once per column, shared by every test and every use that needs
 * the order; a column that is already ascending (a reference profile stores its values sorted) is
 * recognised in one pass and not sorted at all. A column passed as a {@link PreparedColumn}
 * keeps its cleaning and its sort across calls: a caller running ks and wasserstein (or the
 * tests and the report's distributions) on one column prepares it once.
 */

import { InvalidInputError } from '../errors';
import type { FeatureKind } from '../feature-kind';
import { applyEffectFloor } from './effect-floor';
import { Counter, countDistinctUnion, type CountedSample } from './binning';
import { ascending } from './sort';
import { isStattestName, STATTEST_KINDS, type StattestName } from './stattest-names';
import { chooseStattest, ORDERED_TESTS, runCountedStattest, runStattest, type StattestResult } from './stattests';

/** A numeric column: NaN marks a missing value; +-Infinity is also left out of the tests. */
export type NumericColumn = Float64Array;
/** A categorical column: null marks a missing value. */
export type CategoricalColumn = readonly (string | null)[];
/** A window's columns by name, numeric or categorical, one entry per row. */
export type Columns = Readonly<Record<string, NumericColumn | CategoricalColumn>>;
/**
 * A categorical column as codes into its labels, the way columnar data holds one (Parquet, Arrow,
 * pandas categoricals, a data file read by `retrain drift-report`): counted without a string per
 * row. A code outside `[0, labels.length)` (-1, say) is a missing value.
 */
export class CodedColumn {
  constructor(
    readonly codes: Int32Array | Uint16Array | Uint8Array,
    readonly labels: readonly string[],
  ) {}
}

/** A column as the drift functions take it: raw (cells or codes), or cleaned once by {@link prepareColumn}. */
export type DriftColumn = NumericColumn | CategoricalColumn | CodedColumn | PreparedColumn;
/** A window's columns by name as the drift functions take them (raw {@link Columns} are such). */
export type DriftColumns = Readonly<Record<string, DriftColumn>>;

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
  /**
   * Effect-size floor of a hypothesis test (ks, chisquare, z): drift needs a significant p-value
   * and at least this effect (lib/drift/effect-floor.ts). Ignored by the distance tests.
   * @default the test's entry in `DEFAULT_MIN_EFFECT` (effect-floor.ts)
   */
  minEffect?: number;
}

/** What {@link detectDrift} compares: the reference and current columns, and the features to test. */
export interface DetectDriftInput {
  reference: DriftColumns;
  current: DriftColumns;
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

/** A cleaned numeric column: the finite values, put in order at most once. */
class CleanNumeric {
  readonly kind = 'numeric';
  private sortedOnce = false;
  constructor(
    private finite: Float64Array,
    readonly counts: WindowCounts,
  ) {}
  /** The finite values: in column order, or ascending once {@link sorted} has run (no test depends on which). */
  get values(): Float64Array {
    return this.finite;
  }
  /** True once {@link sorted} has run: {@link values} are ascending. */
  get isSorted(): boolean {
    return this.sortedOnce;
  }
  /**
   * The finite values ascending: sorted on the first call (not at all when already ascending),
   * then shared. The sorted copy replaces the values in column order, so one copy is kept.
   */
  sorted(): Float64Array {
    if (!this.sortedOnce) {
      this.finite = ascending(this.finite);
      this.sortedOnce = true;
    }
    return this.finite;
  }
}
/** A cleaned categorical column: its label counts, all the categorical tests need. */
interface CleanCategorical {
  kind: 'categorical';
  counted: CountedSample;
  counts: WindowCounts;
}

type Clean = CleanNumeric | CleanCategorical;

/**
 * A window's column cleaned once for the drift tests (see {@link prepareColumn}): numeric columns
 * keep their finite values and sort them on the first test that needs the order, categorical ones
 * keep their label counts. Pass it in {@link DriftColumns} in place of the raw column.
 */
export class PreparedColumn {
  /** @internal Use {@link prepareColumn}. */
  constructor(readonly clean: Clean) {}
  get kind(): FeatureKind {
    return this.clean.kind;
  }
  /** Rows, missing and infinite entries, rows used. */
  get counts(): WindowCounts {
    return this.clean.counts;
  }
  /** Numeric: the finite values (ascending once a test sorted them). Not to be modified. */
  get values(): Float64Array | null {
    return this.clean.kind === 'numeric' ? this.clean.values : null;
  }
  /** Numeric: true when {@link values} are ascending already (a test sorted them). */
  get isSorted(): boolean {
    return this.clean.kind === 'numeric' && this.clean.isSorted;
  }
  /** Numeric: the finite values ascending, sorted now if no test has yet. Not to be modified. */
  sorted(): Float64Array | null {
    return this.clean.kind === 'numeric' ? this.clean.sorted() : null;
  }
  /** Categorical: the label counts. */
  get counted(): CountedSample | null {
    return this.clean.kind === 'categorical' ? this.clean.counted : null;
  }
}

/**
 * Cleans a column once for any number of drift tests and report sections: missing values counted
 * and left out (numeric: NaN and +-Infinity; categorical: null), labels counted. The sort the
 * order-based tests need is done once, by the first of them, and kept. The column must not change
 * while the prepared column is in use (a numeric column without missing values is not copied).
 *
 * @param options.name, options.where name the feature and window in error messages.
 * @throws InvalidInputError when the column is not of the kind (a numeric column must be a
 *   Float64Array; a categorical one an array of string | null).
 */
export function prepareColumn(
  column: NumericColumn | CategoricalColumn | CodedColumn,
  kind: FeatureKind,
  options: { name?: string; where?: string } = {},
): PreparedColumn {
  return new PreparedColumn(clean(column, kind, options.where ?? 'the window', options.name ?? 'column'));
}

/**
 * A categorical column prepared from its label counts (a column read as category codes, see
 * lib/drift/column-collector.ts): the same as {@link prepareColumn} on its cells, without them.
 */
export function prepareCounted(counted: { counts: Map<string, number>; rows: number; missing: number }): PreparedColumn {
  const used = counted.rows - counted.missing;
  return new PreparedColumn({
    kind: 'categorical',
    counted: { counts: counted.counts, size: used },
    counts: { rows: counted.rows, missing: counted.missing, infinite: 0, used },
  });
}

/** Split a column into what a test can take and the counts of what was left out. */
function clean(column: DriftColumn, kind: FeatureKind, where: string, name: string): Clean {
  if (column instanceof PreparedColumn) {
    if (column.kind !== kind) {
      throw new InvalidInputError(`feature '${name}' in ${where} was prepared as ${column.kind}, not ${kind}`, { feature: name });
    }
    return column.clean;
  }
  return kind === 'numeric' ? cleanNumeric(column, where, name) : cleanCategorical(column, where, name);
}

/** The finite values (the column itself when all are), without NaN and +-Infinity. */
function cleanNumeric(column: NumericColumn | CategoricalColumn | CodedColumn, where: string, name: string): CleanNumeric {
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
  return new CleanNumeric(values, { rows: column.length, missing, infinite, used: values.length });
}

/** Label counts in one pass, nulls counted as missing: no copy of the labels is made. */
function cleanCategorical(column: NumericColumn | CategoricalColumn | CodedColumn, where: string, name: string): CleanCategorical {
  if (column instanceof CodedColumn) return countCodes(column);
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

/** Label counts of a coded column: a tally per code, then one map entry per label present (first-code order). */
function countCodes({ codes, labels }: CodedColumn): CleanCategorical {
  const k = labels.length;
  const tally = codes instanceof Uint8Array ? tallyBytes(codes) : new Float64Array(k);
  if (!(codes instanceof Uint8Array)) {
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      if (code >= 0 && code < k) tally[code]++;
    }
  }
  let missing = codes.length;
  for (let code = 0; code < k; code++) missing -= tally[code]!;
  const counts = new Map<string, number>();
  for (let code = 0; code < k; code++) {
    if (tally[code]! === 0) continue;
    // Two codes of one label count as one category, as the same string twice would.
    const label = labels[code]!;
    counts.set(label, (counts.get(label) ?? 0) + tally[code]!);
  }
  const used = codes.length - missing;
  return { kind: 'categorical', counted: { counts, size: used }, counts: { rows: codes.length, missing, infinite: 0, used } };
}

/**
 * Counts of each byte value, in four interleaved tallies summed at the end: one increment does not
 * wait for the one before it on the same counter (runs of one code are common), about 1.7 times as
 * fast as one tally.
 */
function tallyBytes(codes: Uint8Array): Float64Array {
  const t = new Uint32Array(1024);
  const n4 = codes.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    t[codes[i]!]++;
    t[256 + codes[i + 1]!]++;
    t[512 + codes[i + 2]!]++;
    t[768 + codes[i + 3]!]++;
  }
  for (let i = n4; i < codes.length; i++) t[codes[i]!]++;
  const out = new Float64Array(256);
  for (let c = 0; c < 256; c++) out[c] = t[c]! + t[256 + c]! + t[512 + c]! + t[768 + c]!;
  return out;
}

/** Distinct values of both windows together (categorical: the union of their keys). */
function distinctUnion(ref: Clean, cur: Clean, cap: number): number {
  if (ref.kind === 'numeric' && cur.kind === 'numeric') return countDistinctUnion(ref.values, cur.values, cap);
  const keys = new Set((ref as CleanCategorical).counted.counts.keys());
  for (const k of (cur as CleanCategorical).counted.counts.keys()) keys.add(k);
  return keys.size;
}

/**
 * Run one test on a cleaned feature: counts for categorical columns, values for numeric ones,
 * sorted (once per column, see {@link CleanNumeric}) for the tests that read them in order.
 */
function runOn(method: StattestName, ref: Clean, cur: Clean, spec: FeatureSpec): StattestResult {
  if (ref.kind === 'categorical' && cur.kind === 'categorical') {
    return runCountedStattest(method, ref.counted, cur.counted, { threshold: spec.threshold });
  }
  const r = ref as CleanNumeric;
  const c = cur as CleanNumeric;
  if (ORDERED_TESTS.has(method)) {
    return runStattest(method, r.sorted(), c.sorted(), { kind: spec.kind, threshold: spec.threshold, presorted: true });
  }
  return runStattest(method, r.values, c.values, { kind: spec.kind, threshold: spec.threshold });
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
    if (f.minEffect !== undefined && !(Number.isFinite(f.minEffect) && f.minEffect >= 0)) {
      throw new InvalidInputError(`feature '${f.name}': minEffect must be a finite number >= 0`, { feature: f.name });
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
    const result = applyEffectFloor(runOn(method, ref, cur, spec), spec.minEffect);
    return {
      name: spec.name,
      kind: spec.kind,
      methodSource: spec.method ? 'configured' : 'default',
      ...result,
      reference: ref.counts,
      current: cur.counts,
    };
  });
  return { features, datasetDrift: datasetDriftOf(features, threshold) };
}

/**
 * Dataset drift from features tested one at a time (see lib/drift/report.ts testFeature): the
 * share of drifted features against `threshold`, as {@link detectDrift} decides it.
 * @throws InvalidInputError for a share outside [0, 1] or a feature tested twice.
 */
export function datasetDriftOf(features: readonly FeatureDrift[], threshold = DEFAULT_DATASET_DRIFT_SHARE): DriftReport['datasetDrift'] {
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new InvalidInputError(`datasetDriftShare must be within [0, 1], got ${threshold}`);
  }
  const seen = new Set<string>();
  for (const f of features) {
    if (seen.has(f.name)) throw new InvalidInputError(`feature '${f.name}' is listed twice`, { feature: f.name });
    seen.add(f.name);
  }
  const driftedCount = features.filter((f) => f.drifted).length;
  const share = features.length === 0 ? 0 : driftedCount / features.length;
  return { share, driftedCount, featureCount: features.length, threshold, drifted: features.length > 0 && share >= threshold };
}
