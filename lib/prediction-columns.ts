import type { PredictionLine } from './prediction-log';
import { mulberry32 } from './split';
import { Float64Builder } from './float64-builder';

/**
 * Prediction-log lines turned into columns, the shape drift statistics read: one entry per
 * line, in the order the lines were added (or, above a reservoir's `maxRows`, a uniform sample
 * of them, in no meaningful order). Pure code.
 */

/**
 * A numeric column (missing values are NaN) when every present value is a number, otherwise
 * a categorical one (numbers among strings become their decimal text; missing values are null).
 */
export type PredictionColumn = Float64Array | (string | null)[];

/** Prediction-log lines as columns: entry i of every column belongs to the same line. */
export interface PredictionColumns {
  /** Lines kept: the length of every column. */
  rows: number;
  ids: string[];
  versions: string[];
  /** Epoch milliseconds. */
  timestamps: Float64Array;
  /** One column per feature name seen in any kept line; a line without the feature has it missing. */
  features: Record<string, PredictionColumn>;
  predictions: PredictionColumn;
  /** `score` of each line, NaN where absent; present when any line had one. */
  score?: Float64Array;
  /** `scores` per class, NaN where a line had no score for it; present when any line had them. */
  scores?: Record<string, Float64Array>;
  /** Milliseconds. */
  latencyMs: Float64Array;
  /** NaN where a line had no cost. */
  cost: Float64Array;
}

/** Numbers in a typed array until the first string; then one array of values. */
class MixedColumn {
  private numbers: Float64Builder | null = new Float64Builder();
  private values: (string | null)[] | null = null;

  get length(): number {
    return this.numbers ? this.numbers.length : this.values!.length;
  }

  push(v: number | string | null): void {
    if (this.numbers) {
      if (typeof v !== 'string') return this.numbers.push(v ?? NaN);
      this.toCategorical();
    }
    this.values!.push(v === null ? null : String(v));
  }

  padTo(n: number): void {
    while (this.length < n) this.push(null);
  }

  /** Overwrites entry `i` (< length); a string turns the column categorical, as `push` does. */
  set(i: number, v: number | string | null): void {
    if (this.numbers) {
      if (typeof v !== 'string') return this.numbers.set(i, v ?? NaN);
      this.toCategorical();
    }
    this.values![i] = v === null ? null : String(v);
  }

  private toCategorical(): void {
    const numbers = this.numbers!;
    // JSON has no NaN, so a NaN here always stands for a missing value.
    this.values = Array.from({ length: numbers.length }, (_, i) => (Number.isNaN(numbers.at(i)) ? null : String(numbers.at(i))));
    this.numbers = null;
  }

  build(): PredictionColumn {
    return this.numbers ? this.numbers.build() : this.values!;
  }
}

/** Bounds a builder's rows: a uniform sample of at most `maxRows` lines, reproducible by `seed`. */
export interface Reservoir {
  maxRows: number;
  seed: number;
}

/**
 * Accumulates lines into {@link PredictionColumns}, one line at a time (no line is kept). With a
 * {@link Reservoir}, memory is bounded: Algorithm R keeps the first `maxRows` lines, and line k
 * (0-based) after them replaces kept row j = floor(random() · (k+1)) when j < maxRows, so every
 * line offered ends up kept with the same probability maxRows / seen.
 */
export class PredictionColumnsBuilder {
  private rows = 0;
  private offered = 0;
  private readonly maxRows: number;
  private readonly random: (() => number) | null;
  private readonly ids: string[] = [];
  private readonly versions: string[] = [];
  private readonly timestamps = new Float64Builder();
  private readonly features = new Map<string, MixedColumn>();
  private readonly predictions = new MixedColumn();
  private score: Float64Builder | null = null;
  private readonly scores = new Map<string, Float64Builder>();
  private readonly latencyMs = new Float64Builder();
  private readonly cost = new Float64Builder();

  constructor(reservoir?: Reservoir) {
    if (reservoir && !(Number.isInteger(reservoir.maxRows) && reservoir.maxRows >= 1))
      throw new RangeError(`maxRows must be a positive integer, got ${reservoir.maxRows}`);
    this.maxRows = reservoir?.maxRows ?? Infinity;
    // The PRNG is only drawn from once the reservoir is full, so below maxRows nothing changes.
    this.random = reservoir ? mulberry32(reservoir.seed) : null;
  }

  /** Adds one parsed line; `timestampMs` is its timestamp, parsed once by the caller. */
  add(line: PredictionLine, timestampMs: number = Date.parse(line.timestamp)): void {
    const k = this.offered++;
    if (k < this.maxRows) return this.append(line, timestampMs);
    const j = Math.floor(this.random!() * (k + 1));
    if (j < this.maxRows) this.replace(j, line, timestampMs);
  }

  private append(line: PredictionLine, timestampMs: number): void {
    const row = this.rows++;
    this.ids.push(line.id);
    this.versions.push(line.version);
    this.timestamps.push(timestampMs);
    this.predictions.push(line.prediction);
    this.latencyMs.push(line.latencyMs);
    this.cost.push(line.cost ?? NaN);
    for (const name in line.features) {
      let column = this.features.get(name);
      if (!column) this.features.set(name, (column = new MixedColumn()));
      column.padTo(row);
      column.push(line.features[name]);
    }
    if (line.score !== undefined) {
      this.score ??= new Float64Builder();
      this.score.padTo(row);
      this.score.push(line.score);
    }
    if (line.scores) {
      for (const label in line.scores) {
        let column = this.scores.get(label);
        if (!column) this.scores.set(label, (column = new Float64Builder()));
        column.padTo(row);
        column.push(line.scores[label]);
      }
    }
  }

  /**
   * Overwrites every column at kept row `j` with `line`. Optional columns are padded lazily (a
   * column first seen at row r holds only r entries until `build`), so each is padded to the
   * full `rows` first; columns the line lacks get a missing value, not the evicted row's.
   */
  private replace(j: number, line: PredictionLine, timestampMs: number): void {
    const n = this.rows;
    this.ids[j] = line.id;
    this.versions[j] = line.version;
    this.timestamps.set(j, timestampMs);
    this.predictions.set(j, line.prediction);
    this.latencyMs.set(j, line.latencyMs);
    this.cost.set(j, line.cost ?? NaN);
    for (const name in line.features) {
      if (!this.features.has(name)) this.features.set(name, new MixedColumn());
    }
    for (const [name, column] of this.features) {
      column.padTo(n);
      column.set(j, Object.hasOwn(line.features, name) ? line.features[name] : null);
    }
    if (line.score !== undefined) this.score ??= new Float64Builder();
    if (this.score) {
      this.score.padTo(n);
      this.score.set(j, line.score ?? NaN);
    }
    for (const label in line.scores ?? {}) {
      if (!this.scores.has(label)) this.scores.set(label, new Float64Builder());
    }
    for (const [label, column] of this.scores) {
      column.padTo(n);
      column.set(j, line.scores && Object.hasOwn(line.scores, label) ? line.scores[label] : NaN);
    }
  }

  /** Rows kept. */
  get size(): number {
    return this.rows;
  }

  /** Lines offered to `add`; more than `size` when the reservoir sampled them down. */
  get seen(): number {
    return this.offered;
  }

  /** The columns, every one `rows` long. */
  build(): PredictionColumns {
    const n = this.rows;
    // Object.fromEntries defines own properties, so even a feature named "__proto__" is data.
    const features: Record<string, PredictionColumn> = Object.fromEntries(
      [...this.features.keys()].sort().map((name) => {
        const column = this.features.get(name)!;
        column.padTo(n);
        return [name, column.build()];
      }),
    );
    const result: PredictionColumns = {
      rows: n,
      ids: this.ids,
      versions: this.versions,
      timestamps: this.timestamps.build(),
      features,
      predictions: this.predictions.build(),
      latencyMs: this.latencyMs.build(),
      cost: this.cost.build(),
    };
    if (this.score) {
      this.score.padTo(n);
      result.score = this.score.build();
    }
    if (this.scores.size) {
      result.scores = Object.fromEntries(
        [...this.scores.keys()].sort().map((label) => {
          const column = this.scores.get(label)!;
          column.padTo(n);
          return [label, column.build()];
        }),
      );
    }
    return result;
  }
}
