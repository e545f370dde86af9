/**
 * Drift per segment: the rows of each value of a segment column (plan tier, region) tested on
 * their own, reference against window, with the same per-feature tests and the same dataset-drift
 * rule as the whole window. A change confined to a segment fades in the whole window's average
 * (a segment of a sixth of the rows moves the whole by about a sixth); tested alone, it shows.
 * Pure code.
 *
 * Rows whose segment value is missing form a segment of their own (value null, "(missing)"): an
 * application that stopped logging a column for some customers is itself worth seeing. Values
 * are ranked by rows in the window (then in the reference); the largest `maxValues` are listed,
 * and tested when both windows have enough rows; the rest are counted as left out.
 */
import { numericValue } from '../table';
import { detectDrift, type CategoricalColumn, type Columns, type FeatureSpec, type NumericColumn } from './dataset-drift';
import type { SegmentFeatureDrift, TestedSegments } from './report';

/** Most values of one segment column listed and tested, by default. */
export const DEFAULT_MAX_SEGMENT_VALUES = 20;

/** How the report and the HTML page name the rows whose segment value is missing. */
export const MISSING_SEGMENT_LABEL = '(missing)';

/** One window's rows as segments are cut from them. */
export interface SegmentWindow {
  /** The features' columns, one entry per row. */
  columns: Columns;
  /** Each segment column's values, one entry per row; a column absent here is not in this window. */
  segments: Readonly<Record<string, NumericColumn | CategoricalColumn>>;
  rows: number;
}

/** What {@link testSegments} compares. */
export interface SegmentTestInput {
  /** The segment columns, in the pipeline's order. */
  columns: readonly string[];
  /** The champion's training rows: `seen` of them were read, `rows` kept (a seeded sample beyond a bound). */
  reference: SegmentWindow & { seen: number };
  current: SegmentWindow;
  /** The features tested in each segment value (its own column is left out: it is constant there). */
  features: readonly FeatureSpec[];
  /** @default 0.5, as the whole window */
  datasetDriftShare?: number;
  /** Fewer rows of a value than this in a window: listed, not tested. */
  minRows: { reference: number; current: number };
  /** @default {@link DEFAULT_MAX_SEGMENT_VALUES} */
  maxValues?: number;
  /**
   * How notes name the reference.
   * @default "the champion's training data"
   */
  referenceLabel?: string;
}

type Key = string | null;
type TestedColumn = TestedSegments['columns'][number];
type TestedValue = TestedColumn['values'][number];

/**
 * Tests the features in each value of each segment column.
 * @throws InvalidInputError as {@link detectDrift} does for a feature's configuration or column type.
 */
export function testSegments(input: SegmentTestInput): TestedSegments {
  const maxValues = input.maxValues ?? DEFAULT_MAX_SEGMENT_VALUES;
  const columns = input.columns.map((column) => testColumn(input, column, maxValues));
  const drifted = columns.some((c) => c.values.some((v) => v.datasetDrift));
  return {
    minRows: { ...input.minRows },
    maxValues,
    reference: { rows: input.reference.rows, seen: input.reference.seen, sampled: input.reference.rows < input.reference.seen },
    columns,
    drifted,
    note: 'Each segment value is tested as the whole window is, on its own rows. Dataset drift in a segment value makes the check drifted (it alerts, and retrains with onDrift: retrain), also when the whole window shows none.',
  };
}

/** A section that says why segments were not tested (a partitioned check keeps no rows to split). */
export function segmentsNotTested(input: Pick<SegmentTestInput, 'columns' | 'minRows' | 'maxValues'>, why: string): TestedSegments {
  return {
    minRows: { ...input.minRows },
    maxValues: input.maxValues ?? DEFAULT_MAX_SEGMENT_VALUES,
    reference: null,
    columns: [],
    drifted: false,
    note: `Segments not tested: ${why}`,
  };
}

function testColumn(input: SegmentTestInput, column: string, maxValues: number): TestedColumn {
  const none = { column, values: [], leftOut: { values: 0, rows: { reference: 0, current: 0 } } };
  const current = input.current.segments[column];
  const reference = input.reference.segments[column];
  if (!current) return { ...none, note: `"${column}" is not logged with the predictions' features: no segment of it can be tested` };
  if (!reference)
    return {
      ...none,
      note: `"${column}" is not in ${input.referenceLabel ?? "the champion's training data"}: no segment of it can be tested`,
    };
  // Logged numbers (a region code 3) meet the reference's text ("3", "3.0") as the same value.
  const numeric = current instanceof Float64Array;
  const cur = groupRows(segmentKeys(current, numeric));
  const ref = groupRows(segmentKeys(reference, numeric));
  const ranked = [...new Set<Key>([...cur.keys(), ...ref.keys()])]
    .map((value) => ({ value, current: cur.get(value) ?? [], reference: ref.get(value) ?? [] }))
    .sort((a, b) => b.current.length - a.current.length || b.reference.length - a.reference.length || compareKeys(a.value, b.value));
  const listed = ranked.slice(0, maxValues);
  const rest = ranked.slice(maxValues);
  const features = input.features.filter((f) => f.name !== column);
  return {
    column,
    values: listed.map((v) => testValue(input, features, v)),
    leftOut: {
      values: rest.length,
      rows: { reference: sum(rest.map((v) => v.reference.length)), current: sum(rest.map((v) => v.current.length)) },
    },
  };
}

function testValue(
  input: SegmentTestInput,
  features: readonly FeatureSpec[],
  v: { value: Key; current: number[]; reference: number[] },
): TestedValue {
  const rows = { reference: v.reference.length, current: v.current.length };
  const short = tooFew(rows, input.minRows);
  if (short)
    return {
      value: v.value,
      rows,
      tested: false,
      share: null,
      featureCount: features.length,
      datasetDrift: false,
      driftedFeatures: [],
      features: [],
      note: short,
    };
  const report = detectDrift({
    reference: pick(input.reference.columns, features, v.reference),
    current: pick(input.current.columns, features, v.current),
    features,
    datasetDriftShare: input.datasetDriftShare,
  });
  const tested: SegmentFeatureDrift[] = report.features.map((f) => ({
    name: f.name,
    method: f.method,
    statistic: f.statistic,
    pValue: f.pValue,
    threshold: f.threshold,
    drifted: f.drifted,
  }));
  return {
    value: v.value,
    rows,
    tested: true,
    share: report.datasetDrift.share,
    featureCount: report.datasetDrift.featureCount,
    datasetDrift: report.datasetDrift.drifted,
    driftedFeatures: tested.filter((f) => f.drifted).map((f) => f.name),
    features: tested,
  };
}

/** Why a value is not tested, or null when both windows have enough of its rows. */
function tooFew(rows: { reference: number; current: number }, min: { reference: number; current: number }): string | null {
  const short: string[] = [];
  if (rows.current < min.current) short.push(`${rows.current} rows in the window (fewer than ${min.current})`);
  if (rows.reference < min.reference) short.push(`${rows.reference} in the training data (fewer than ${min.reference})`);
  return short.length ? `not tested: too few rows, ${short.join(' and ')}` : null;
}

/**
 * Each row's segment value as a key: text as it is, a number as its shortest decimal, missing as
 * null. With `numeric` (the logged column holds numbers), text that reads as a number is keyed by
 * that number, so "3.0" in a CSV and 3 in the log are one value.
 */
export function segmentKeys(column: NumericColumn | CategoricalColumn, numeric: boolean): Key[] {
  if (column instanceof Float64Array) return Array.from(column, (v) => (Number.isNaN(v) ? null : String(v)));
  return column.map((cell) => {
    if (cell === null || !numeric) return cell;
    const n = numericValue(cell);
    return n === null ? cell : String(n);
  });
}

/** Row indexes by key, in row order. */
function groupRows(keys: readonly Key[]): Map<Key, number[]> {
  const groups = new Map<Key, number[]>();
  keys.forEach((key, i) => {
    const rows = groups.get(key);
    if (rows) rows.push(i);
    else groups.set(key, [i]);
  });
  return groups;
}

/** The features' columns at the given rows; a feature absent from the window stays absent, for detectDrift to name. */
function pick(columns: Columns, features: readonly FeatureSpec[], rows: readonly number[]): Columns {
  // fromEntries: a feature may be called "__proto__".
  return Object.fromEntries(features.flatMap((f) => (Object.hasOwn(columns, f.name) ? [[f.name, pickRows(columns[f.name]!, rows)]] : [])));
}

function pickRows(column: NumericColumn | CategoricalColumn, rows: readonly number[]): NumericColumn | CategoricalColumn {
  if (column instanceof Float64Array) {
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = column[rows[i]!]!;
    return out;
  }
  return rows.map((r) => column[r] ?? null);
}

/** Text order, missing last. */
function compareKeys(a: Key, b: Key): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function sum(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0);
}
