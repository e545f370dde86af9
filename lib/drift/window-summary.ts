/**
 * A mergeable summary of one window's feature columns, for drift checks on windows larger than
 * one worker's memory: each prediction-log partition is summarised where it is read, the
 * summaries travel as JSON and merge in any order, and lib/drift/approximate-drift.ts tests the
 * merged summaries. Pure code.
 *
 * Per numeric feature: exact counts of rows, missing (NaN) and infinite values; the exact mean
 * and sum of squared deviations (merged with Chan's formula, which stays accurate where a sum of
 * squares would cancel); exact counts per distinct value while there are at most
 * {@link MAX_EXACT_VALUES} of them (so flags, ratings and other discrete features are tested
 * exactly); and a {@link QuantileSketch} for everything else. Per categorical feature: exact
 * label counts and missing (null) cells.
 */

import { z } from 'zod';
import { formatIssues, InvalidInputError } from '../errors';
import type { FeatureKind } from '../feature-kind';
import type { CategoricalColumn, Columns, NumericColumn, WindowCounts } from './dataset-drift';
import { QuantileSketch, quantileSketchSchema, seedOf, type QuantileSketchOptions } from './quantile-sketch';

/** A numeric column's distinct values are counted exactly up to this many; past it only the sketch remains. */
export const MAX_EXACT_VALUES = 1000;

/** A feature a summary covers. */
export interface SummaryFeature {
  name: string;
  kind: FeatureKind;
}

/** Options of a new summary. */
export interface WindowSummaryOptions {
  /**
   * Seed of the sketches' coin flips (unsigned 32-bit). Give each partition its own: its index,
   * or `seedOf(partitionKey)` (quantile-sketch.ts); each column's sketch mixes in its name.
   * @default 0
   */
  seed?: number;
  /**
   * Size parameter of the numeric columns' sketches.
   * @default DEFAULT_K (quantile-sketch.ts)
   */
  k?: number;
}

/** One numeric column of a window, summarised. */
export class NumericSummary {
  readonly kind = 'numeric';
  /** Mean of the finite values (0 while there are none). */
  private meanValue = 0;
  /** Sum of squared deviations of the finite values from their mean. */
  private m2Value = 0;

  constructor(
    /** The finite values' quantile sketch; also counts missing and infinite values. */
    readonly sketch: QuantileSketch,
    /** Count per distinct finite value, or null once there were more than {@link MAX_EXACT_VALUES}. */
    private exactValues: Map<number, number> | null = new Map(),
  ) {}

  /** Rows, missing (NaN) and infinite entries, and the finite values used by the tests. */
  get counts(): WindowCounts {
    const s = this.sketch;
    return { rows: s.n + s.missing + s.infinite, missing: s.missing, infinite: s.infinite, used: s.n };
  }
  /** Count per distinct finite value (-0 and 0 one key), or null when there were too many to keep. */
  get values(): ReadonlyMap<number, number> | null {
    return this.exactValues;
  }
  /** Mean of the finite values; NaN when there are none. */
  get mean(): number {
    return this.sketch.n === 0 ? NaN : this.meanValue;
  }
  /** Population standard deviation (ddof = 0) of the finite values; NaN when there are none. */
  get std(): number {
    return this.sketch.n === 0 ? NaN : Math.sqrt(this.m2Value / this.sketch.n);
  }

  /** Adds a batch of the column: NaN is missing, ±Infinity infinite. */
  add(column: NumericColumn): void {
    let sum = 0;
    let finite = 0;
    let counts = this.exactValues;
    for (let i = 0; i < column.length; i++) {
      const v = column[i];
      this.sketch.update(v);
      if (!Number.isFinite(v)) continue;
      sum += v;
      finite++;
      if (counts) {
        counts.set(v, (counts.get(v) ?? 0) + 1);
        if (counts.size > MAX_EXACT_VALUES) counts = this.exactValues = null;
      }
    }
    if (finite === 0) return;
    // The batch's own mean and squared deviations (two passes), then merged in.
    const mean = sum / finite;
    let m2 = 0;
    for (let i = 0; i < column.length; i++) {
      const v = column[i];
      if (Number.isFinite(v)) m2 += (v - mean) * (v - mean);
    }
    this.mergeMoments(this.sketch.n - finite, finite, mean, m2);
  }

  /** Merges `other` (the same feature in another partition) into this one; `other` is not changed. */
  merge(other: NumericSummary): this {
    const before = this.sketch.n;
    this.sketch.merge(other.sketch);
    this.mergeMoments(before, other.sketch.n, other.meanValue, other.m2Value);
    const mine = this.exactValues;
    const theirs = other.exactValues;
    if (mine && theirs) {
      for (const [v, c] of theirs) mine.set(v, (mine.get(v) ?? 0) + c);
      if (mine.size > MAX_EXACT_VALUES) this.exactValues = null;
    } else {
      this.exactValues = null;
    }
    return this;
  }

  /** Chan et al.'s pairwise update: this column's n values with a mean and m2 of `count` more. */
  private mergeMoments(n: number, count: number, mean: number, m2: number): void {
    if (count === 0) return;
    if (n === 0) {
      this.meanValue = mean;
      this.m2Value = m2;
      return;
    }
    const total = n + count;
    const delta = mean - this.meanValue;
    this.meanValue += (delta * count) / total;
    this.m2Value += m2 + ((delta * delta * n) / total) * count;
  }

  /** @internal The JSON fields of this column. */
  toJSON(): Omit<NumericSummaryJson, 'name'> {
    return {
      kind: 'numeric',
      mean: this.meanValue,
      m2: this.m2Value,
      values: this.exactValues ? [...this.exactValues].sort((a, b) => a[0] - b[0]) : null,
      sketch: this.sketch.toJSON(),
    };
  }

  /** @internal From validated JSON. */
  static fromJSON(json: NumericSummaryJson): NumericSummary {
    const summary = new NumericSummary(QuantileSketch.fromJSON(json.sketch), json.values ? new Map(json.values) : null);
    summary.meanValue = json.mean;
    summary.m2Value = json.m2;
    return summary;
  }
}

/** One categorical column of a window, summarised: its label counts. */
export class CategoricalSummary {
  readonly kind = 'categorical';
  private rowCount = 0;
  private missingCount = 0;
  private readonly labels = new Map<string, number>();

  /** Rows and missing (null) cells; categorical columns have no infinite entries. */
  get counts(): WindowCounts {
    return { rows: this.rowCount, missing: this.missingCount, infinite: 0, used: this.rowCount - this.missingCount };
  }
  /** Count per label, in first-seen order. */
  get labelCounts(): ReadonlyMap<string, number> {
    return this.labels;
  }

  /**
   * Adds a batch of the column: null (or undefined) is missing.
   * @throws InvalidInputError when a cell is neither a string nor null.
   */
  add(column: CategoricalColumn, name = 'column'): void {
    for (let i = 0; i < column.length; i++) {
      const v: unknown = column[i];
      if (typeof v === 'string') this.labels.set(v, (this.labels.get(v) ?? 0) + 1);
      else if (v === null || v === undefined) this.missingCount++;
      else throw new InvalidInputError(`categorical feature '${name}' holds a ${typeof v}`, { feature: name });
    }
    this.rowCount += column.length;
  }

  /** Merges `other` (the same feature in another partition) into this one; `other` is not changed. */
  merge(other: CategoricalSummary): this {
    this.rowCount += other.rowCount;
    this.missingCount += other.missingCount;
    for (const [label, c] of other.labels) this.labels.set(label, (this.labels.get(label) ?? 0) + c);
    return this;
  }

  /** @internal The JSON fields of this column. */
  toJSON(): Omit<CategoricalSummaryJson, 'name'> {
    return { kind: 'categorical', rows: this.rowCount, missing: this.missingCount, counts: [...this.labels] };
  }

  /** @internal From validated JSON. */
  static fromJSON(json: CategoricalSummaryJson): CategoricalSummary {
    const summary = new CategoricalSummary();
    summary.rowCount = json.rows;
    summary.missingCount = json.missing;
    for (const [label, c] of json.counts) summary.labels.set(label, c);
    return summary;
  }
}

/** A summarised column of either kind. */
export type ColumnSummary = NumericSummary | CategoricalSummary;

/**
 * The summary of one window (or of one partition of it): rows and a summary per feature.
 *
 * @example
 *   const part = WindowSummary.create(features, { seed: partitionIndex });
 *   for (const batch of batches) part.add(batch);          // on any worker
 *   const text = JSON.stringify(part);                     // to the store
 *   const window = parts.map((t) => WindowSummary.fromJSON(JSON.parse(t))).reduce((a, b) => a.merge(b));
 */
export class WindowSummary {
  private rowCount = 0;

  private constructor(private readonly byName: Map<string, ColumnSummary>) {}

  /**
   * An empty summary of the given features.
   * @throws InvalidInputError for a feature listed twice or an unknown kind.
   */
  static create(features: readonly SummaryFeature[], options: WindowSummaryOptions = {}): WindowSummary {
    const columns = new Map<string, ColumnSummary>();
    for (const f of features) {
      if (columns.has(f.name)) throw new InvalidInputError(`feature '${f.name}' is listed twice`, { feature: f.name });
      if (f.kind === 'numeric') {
        const sketchOptions: QuantileSketchOptions = { k: options.k, seed: seedOf(f.name, options.seed ?? 0) };
        columns.set(f.name, new NumericSummary(new QuantileSketch(sketchOptions)));
      } else if (f.kind === 'categorical') {
        columns.set(f.name, new CategoricalSummary());
      } else {
        throw new InvalidInputError(`feature '${f.name}': kind must be 'numeric' or 'categorical'`, { feature: f.name });
      }
    }
    return new WindowSummary(columns);
  }

  /** Rows summarised. */
  get rows(): number {
    return this.rowCount;
  }
  /** The features' summaries by name. */
  get columns(): ReadonlyMap<string, ColumnSummary> {
    return this.byName;
  }
  /** The features summarised, in the order they were created. */
  get features(): SummaryFeature[] {
    return [...this.byName].map(([name, c]) => ({ name, kind: c.kind }));
  }

  /**
   * Adds a batch of rows: one column per feature (others are ignored), all of the same length;
   * numeric columns are Float64Array (NaN missing), categorical ones string | null.
   * @throws InvalidInputError for a missing column, a column of the wrong type or uneven lengths.
   */
  add(batch: Columns): void {
    let rows: number | undefined;
    for (const name of this.byName.keys()) {
      if (!Object.hasOwn(batch, name)) throw new InvalidInputError(`feature '${name}' is missing from the batch`, { feature: name });
      const column = batch[name];
      if (rows !== undefined && column.length !== rows) {
        throw new InvalidInputError(`feature '${name}' has ${column.length} rows in a batch of ${rows}`, { feature: name });
      }
      rows = column.length;
    }
    // Types checked for every column before any is added, so a bad batch adds nothing.
    for (const [name, summary] of this.byName) {
      const column = batch[name];
      if (summary.kind === 'numeric' && !(column instanceof Float64Array)) {
        throw new InvalidInputError(`numeric feature '${name}' must be a Float64Array`, { feature: name });
      }
      if (summary.kind === 'categorical' && !Array.isArray(column)) {
        throw new InvalidInputError(`categorical feature '${name}' must be an array of string | null`, { feature: name });
      }
    }
    for (const [name, summary] of this.byName) {
      const column = batch[name];
      if (summary.kind === 'numeric') summary.add(column as NumericColumn);
      else summary.add(column as CategoricalColumn, name);
    }
    this.rowCount += rows ?? 0;
  }

  /**
   * Merges `other` (another partition of the same features) into this summary and returns this;
   * `other` is not changed. Exact parts merge exactly; the sketches as QuantileSketch.merge.
   * @throws InvalidInputError when the features or their kinds differ.
   */
  merge(other: WindowSummary): this {
    if (other === this) return this.merge(WindowSummary.fromJSON(other.toJSON()));
    const mine = this.features.map((f) => `${f.name}:${f.kind}`).sort();
    const theirs = other.features.map((f) => `${f.name}:${f.kind}`).sort();
    if (mine.join('\u0000') !== theirs.join('\u0000')) {
      throw new InvalidInputError(`cannot merge window summaries of different features: ${describe(mine)} and ${describe(theirs)}`);
    }
    for (const [name, summary] of this.byName) {
      const that = other.byName.get(name)!;
      if (summary.kind === 'numeric') summary.merge(that as NumericSummary);
      else summary.merge(that as CategoricalSummary);
    }
    this.rowCount += other.rowCount;
    return this;
  }

  /** The summary as plain JSON (see {@link windowSummarySchema}). */
  toJSON(): WindowSummaryJson {
    return {
      kind: SUMMARY_KIND,
      rows: this.rowCount,
      columns: [...this.byName].map(([name, c]) => ({ name, ...c.toJSON() }) as ColumnSummaryJson),
    };
  }

  /**
   * Reads a summary written by {@link toJSON}, in this process or another.
   * @param source names the input in the error, e.g. "summary of partition 3".
   * @throws InvalidInputError naming each field that is wrong.
   */
  static fromJSON(value: unknown, source = 'window summary'): WindowSummary {
    const parsed = windowSummarySchema.safeParse(value);
    if (!parsed.success) throw new InvalidInputError(formatIssues(source, parsed.error.issues));
    const columns = new Map<string, ColumnSummary>();
    for (const c of parsed.data.columns) {
      columns.set(c.name, c.kind === 'numeric' ? NumericSummary.fromJSON(c) : CategoricalSummary.fromJSON(c));
    }
    const summary = new WindowSummary(columns);
    summary.rowCount = parsed.data.rows;
    return summary;
  }
}

function describe(features: string[]): string {
  return features.length === 0 ? '(none)' : features.join(', ');
}

const SUMMARY_KIND = 'retrain.window-summary/v1';
const count = z.number().int().nonnegative();

const numericSummarySchema = z.strictObject({
  name: z.string(),
  kind: z.literal('numeric'),
  /** Mean of the finite values (0 when there are none). */
  mean: z.number(),
  /** Sum of squared deviations from the mean. */
  m2: z.number().nonnegative(),
  /** [value, count] per distinct finite value, ascending; null when there were too many to keep. */
  values: z
    .array(z.tuple([z.number(), count.min(1)]))
    .max(MAX_EXACT_VALUES)
    .nullable(),
  sketch: quantileSketchSchema,
});
const categoricalSummarySchema = z.strictObject({
  name: z.string(),
  kind: z.literal('categorical'),
  rows: count,
  missing: count,
  /** [label, count] per label. */
  counts: z.array(z.tuple([z.string(), count.min(1)])),
});
type NumericSummaryJson = z.infer<typeof numericSummarySchema>;
type CategoricalSummaryJson = z.infer<typeof categoricalSummarySchema>;
type ColumnSummaryJson = NumericSummaryJson | CategoricalSummaryJson;

/** The JSON form of a {@link WindowSummary}. */
export const windowSummarySchema = z
  .strictObject({
    kind: z.literal(SUMMARY_KIND),
    rows: count,
    columns: z.array(z.discriminatedUnion('kind', [numericSummarySchema, categoricalSummarySchema])),
  })
  .superRefine((s, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const names = new Set<string>();
    s.columns.forEach((c, i) => {
      if (names.has(c.name)) issue(['columns', i, 'name'], `feature '${c.name}' appears twice`);
      names.add(c.name);
      if (c.kind === 'numeric') {
        const sk = c.sketch;
        const rows = sk.n + sk.missing + sk.infinite;
        if (rows !== s.rows) issue(['columns', i, 'sketch'], `counts ${rows} rows in a window of ${s.rows}`);
        if (sk.n === 0 && (c.mean !== 0 || c.m2 !== 0)) issue(['columns', i, 'mean'], 'mean and m2 must be 0 without finite values');
        if (c.values) {
          const total = c.values.reduce((a, [, n]) => a + n, 0);
          if (total !== sk.n) issue(['columns', i, 'values'], `counts ${total} values, the sketch ${sk.n}`);
          for (let j = 1; j < c.values.length; j++) {
            if (!(c.values[j - 1][0] < c.values[j][0])) {
              issue(['columns', i, 'values', j], 'values must be distinct and ascending');
              break;
            }
          }
        }
      } else {
        const total = c.counts.reduce((a, [, n]) => a + n, 0);
        if (c.rows !== s.rows) issue(['columns', i, 'rows'], `${c.rows} rows in a window of ${s.rows}`);
        if (total + c.missing !== c.rows) issue(['columns', i, 'counts'], `add up to ${total} + ${c.missing} missing, not ${c.rows} rows`);
        if (new Set(c.counts.map(([label]) => label)).size !== c.counts.length) {
          issue(['columns', i, 'counts'], 'a label appears twice');
        }
      }
    });
  });

/** {@link windowSummarySchema} as a type. */
export type WindowSummaryJson = z.infer<typeof windowSummarySchema>;
