import type { CategoricalColumn, Columns, NumericColumn } from './drift/dataset-drift';
import { sortedCopy } from './drift/sort';
import type { FeatureKind } from './feature-kind';
import { mulberry32 } from './split';
import { numericValue, type Table } from './table';
import type { RowBatch } from './table-stream';

/** Numeric reference columns are kept whole up to this many values, else a seeded sample. */
export const MAX_REFERENCE_VALUES = 200_000;

/** What a drift check compares against, kept with the model version (no raw training data reread). */
export interface ReferenceProfile {
  kind: 'retrain.reference-profile/v1';
  model: string;
  version: string;
  rows: number;
  columns: Record<string, ReferenceColumn>;
}

/** One column of a reference profile: numeric values in a file beside it, categories as counts. */
export type ReferenceColumn =
  | {
      kind: 'numeric';
      /** Values kept (all, or a seeded sample of MAX_REFERENCE_VALUES); stored as Float64 little-endian. */
      count: number;
      /** File beside the profile that holds the values (column names need not be file-safe). */
      file: string;
      missing: number;
      sampled: boolean;
      /**
       * The file holds the values ascending (as Float64Array.prototype.sort orders them), so the
       * order-based drift tests (KS, Wasserstein) do not sort the reference again. Absent in
       * profiles stored before it was recorded: those hold the values in row order and are
       * sorted when loaded ({@link referenceColumns}).
       */
      sorted?: boolean;
    }
  | {
      kind: 'categorical';
      /** Category counts: all that the categorical tests (chi-square, z, PSI, Jensen–Shannon) need. */
      counts: Record<string, number>;
      missing: number;
    };

/**
 * Reads a stored profile. Profiles written before the feature kinds were one word say
 * `numeric`; they are read as `numeric`, so no stored version loses its reference.
 */
export function parseReferenceProfile(text: string): ReferenceProfile {
  const profile = JSON.parse(text) as ReferenceProfile;
  for (const column of Object.values(profile.columns) as { kind: string }[]) if (column.kind === 'numeric') column.kind = 'numeric';
  return profile;
}

/**
 * Builds the profile of the columns a drift check tests: features from the training split and,
 * when given, the model's predictions on the holdout (`__prediction__`). (The in-memory form of
 * {@link ReferenceProfileBuilder}.)
 */
export function buildReferenceProfile(opts: {
  model: string;
  version: string;
  table: Table;
  columns: { name: string; kind: FeatureKind }[];
  seed?: number;
}): { profile: ReferenceProfile; values: Record<string, Float64Array> } {
  const builder = new ReferenceProfileBuilder(opts);
  builder.add({ columns: opts.table.columns, rows: opts.table.rows });
  return builder.finish();
}

/** One numeric column being profiled: a seeded reservoir of its values. */
interface NumericSample {
  kept: Float64Array;
  seen: number;
  missing: number;
  random: () => number;
}

/**
 * A reference profile built from batches of rows, holding at most {@link MAX_REFERENCE_VALUES}
 * values per numeric column (a seeded reservoir sample past that: the same rows in the same order
 * give the same sample) and counts per category: memory does not grow with the training data.
 * The numeric values are handed out sorted (the drift tests need them in order; no test needs
 * the row order, and the columns' samples are not row-aligned anyway once values are missing).
 */
export class ReferenceProfileBuilder {
  private rows = 0;
  private present: readonly string[] = [];
  private readonly numeric = new Map<string, NumericSample>();
  private readonly categorical = new Map<string, { counts: Map<string, number>; missing: number }>();

  constructor(private readonly opts: { model: string; version: string; columns: { name: string; kind: FeatureKind }[]; seed?: number }) {
    for (const col of opts.columns) {
      if (col.kind === 'numeric') {
        this.numeric.set(col.name, { kept: new Float64Array(1024), seen: 0, missing: 0, random: mulberry32(opts.seed ?? 7) });
      } else this.categorical.set(col.name, { counts: new Map(), missing: 0 });
    }
  }

  add(batch: RowBatch): void {
    this.present = batch.columns;
    this.rows += batch.rows.length;
    for (const col of this.opts.columns) {
      const i = batch.columns.indexOf(col.name);
      const numeric = this.numeric.get(col.name);
      if (numeric) {
        for (const row of batch.rows) {
          const v = numericValue(i >= 0 ? (row[i] ?? null) : null);
          if (v === null) numeric.missing++;
          else keep(numeric, v);
        }
        continue;
      }
      const categorical = this.categorical.get(col.name)!;
      for (const row of batch.rows) {
        const cell = i >= 0 ? (row[i] ?? null) : null;
        if (cell === null) categorical.missing++;
        else categorical.counts.set(cell, (categorical.counts.get(cell) ?? 0) + 1);
      }
    }
  }

  finish(): { profile: ReferenceProfile; values: Record<string, Float64Array> } {
    const profile: ReferenceProfile = {
      kind: 'retrain.reference-profile/v1',
      model: this.opts.model,
      version: this.opts.version,
      rows: this.rows,
      columns: {},
    };
    const values: Record<string, Float64Array> = {};
    for (const [n, col] of this.opts.columns.entries()) {
      if (!this.present.includes(col.name)) continue;
      const numeric = this.numeric.get(col.name);
      if (numeric) {
        // Sorted once here, where the profile is made, instead of by every drift check that reads it.
        const kept = sortedCopy(numeric.kept.subarray(0, Math.min(numeric.seen, MAX_REFERENCE_VALUES)));
        profile.columns[col.name] = {
          kind: 'numeric',
          count: kept.length,
          file: `column-${n}.f64`,
          missing: numeric.missing,
          sampled: numeric.seen > MAX_REFERENCE_VALUES,
          sorted: true,
        };
        values[col.name] = kept;
      } else {
        const { counts, missing } = this.categorical.get(col.name)!;
        profile.columns[col.name] = { kind: 'categorical', counts: Object.fromEntries(counts), missing };
      }
    }
    return { profile, values };
  }
}

/** Algorithm R: every value seen so far has the same chance of being kept. */
function keep(sample: NumericSample, value: number): void {
  const i = sample.seen++;
  if (i < MAX_REFERENCE_VALUES) {
    if (i === sample.kept.length) {
      const grown = new Float64Array(Math.min(MAX_REFERENCE_VALUES, sample.kept.length * 2));
      grown.set(sample.kept);
      sample.kept = grown;
    }
    sample.kept[i] = value;
    return;
  }
  const j = Math.floor(sample.random() * (i + 1));
  if (j < MAX_REFERENCE_VALUES) sample.kept[j] = value;
}

/**
 * The reference as drift-test columns: numeric values ascending, then one NaN per missing value;
 * categories expanded from counts. Values of a profile stored before they were kept sorted are
 * sorted here; stored sorted ones are taken as they are, and the drift tests see that they are
 * in order and do not sort them.
 */
export function referenceColumns(profile: ReferenceProfile, values: Readonly<Record<string, Float64Array>>): Columns {
  const columns: Record<string, NumericColumn | CategoricalColumn> = {};
  for (const [name, col] of Object.entries(profile.columns)) {
    if (col.kind === 'numeric') {
      const stored = values[name] ?? new Float64Array(0);
      const kept = col.sorted === true ? stored : sortedCopy(stored);
      // Missing values are reported by the checks, so they are put back as NaN (after the values:
      // the column stays in order once the tests leave the NaN out).
      const withMissing = new Float64Array(kept.length + col.missing).fill(Number.NaN);
      withMissing.set(kept);
      columns[name] = withMissing;
    } else {
      const expanded: (string | null)[] = [];
      for (const [category, n] of Object.entries(col.counts)) for (let k = 0; k < n; k++) expanded.push(category);
      for (let k = 0; k < col.missing; k++) expanded.push(null);
      columns[name] = expanded;
    }
  }
  return columns;
}

/** Float64 little-endian bytes of a column, as the store keeps them. */
export function encodeFloat64(values: Float64Array): Buffer {
  const buffer = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) buffer.writeDoubleLE(values[i], i * 8);
  return buffer;
}

/** The inverse of {@link encodeFloat64}: a column from its Float64 little-endian bytes. */
export function decodeFloat64(buffer: Buffer): Float64Array {
  const values = new Float64Array(buffer.length / 8);
  for (let i = 0; i < values.length; i++) values[i] = buffer.readDoubleLE(i * 8);
  return values;
}
