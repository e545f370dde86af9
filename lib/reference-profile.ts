import type { CategoricalColumn, Columns, NumericColumn } from './drift/dataset-drift';
import type { FeatureKind } from './feature-kind';
import { mulberry32 } from './split';
import { numericValue, type Table } from './table';

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
 * when given, the model's predictions on the holdout (`__prediction__`).
 */
export function buildReferenceProfile(opts: {
  model: string;
  version: string;
  table: Table;
  columns: { name: string; kind: FeatureKind }[];
  seed?: number;
}): { profile: ReferenceProfile; values: Record<string, Float64Array> } {
  const profile: ReferenceProfile = {
    kind: 'retrain.reference-profile/v1',
    model: opts.model,
    version: opts.version,
    rows: opts.table.rows.length,
    columns: {},
  };
  const values: Record<string, Float64Array> = {};
  for (const [n, col] of opts.columns.entries()) {
    const i = opts.table.columns.indexOf(col.name);
    if (i < 0) continue;
    const cells = opts.table.rows.map((r) => r[i]);
    if (col.kind === 'numeric') {
      const { kept, missing, sampled } = numericColumn(cells, opts.seed ?? 7);
      profile.columns[col.name] = { kind: 'numeric', count: kept.length, file: `column-${n}.f64`, missing, sampled };
      values[col.name] = kept;
    } else {
      const counts: Record<string, number> = {};
      let missing = 0;
      for (const cell of cells) {
        if (cell === null) missing++;
        else counts[cell] = (counts[cell] ?? 0) + 1;
      }
      profile.columns[col.name] = { kind: 'categorical', counts, missing };
    }
  }
  return { profile, values };
}

/** The reference as drift-test columns: numeric values as stored, categories expanded from counts. */
export function referenceColumns(profile: ReferenceProfile, values: Readonly<Record<string, Float64Array>>): Columns {
  const columns: Record<string, NumericColumn | CategoricalColumn> = {};
  for (const [name, col] of Object.entries(profile.columns)) {
    if (col.kind === 'numeric') {
      const kept = values[name] ?? new Float64Array(0);
      // Missing values are reported by the checks, so they are put back as NaN.
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

function numericColumn(cells: (string | null)[], seed: number): { kept: Float64Array; missing: number; sampled: boolean } {
  const present: number[] = [];
  let missing = 0;
  for (const cell of cells) {
    const v = numericValue(cell);
    if (v === null) missing++;
    else present.push(v);
  }
  if (present.length <= MAX_REFERENCE_VALUES) return { kept: Float64Array.from(present), missing, sampled: false };
  // A seeded partial shuffle: the same training data always gives the same sample.
  const random = mulberry32(seed);
  for (let i = 0; i < MAX_REFERENCE_VALUES; i++) {
    const j = i + Math.floor(random() * (present.length - i));
    [present[i], present[j]] = [present[j], present[i]];
  }
  return { kept: Float64Array.from(present.slice(0, MAX_REFERENCE_VALUES)), missing, sampled: true };
}
