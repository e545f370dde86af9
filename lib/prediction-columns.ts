import type { PredictionLine } from './prediction-log';

/**
 * Prediction-log lines turned into columns, the shape drift statistics read: one entry per
 * line, in the order the lines were added. Pure code.
 */

/**
 * A numeric column (missing values are NaN) when every present value is a number, otherwise
 * a categorical one (numbers among strings become their decimal text; missing values are null).
 */
export type PredictionColumn = Float64Array | (string | null)[];

export interface PredictionColumns {
  rows: number;
  ids: string[];
  versions: string[];
  /** Epoch milliseconds. */
  timestamps: Float64Array;
  /** One column per feature name seen in any line; a line without the feature has it missing. */
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

/** A growable Float64Array. */
class NumberColumn {
  private data = new Float64Array(64);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  /** Pads with NaN up to `n` entries (a column first seen after `n` lines). */
  padTo(n: number): void {
    while (this.length < n) this.push(NaN);
  }

  at(i: number): number {
    return this.data[i];
  }

  build(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Numbers in a typed array until the first string; then one array of values. */
class MixedColumn {
  private numbers: NumberColumn | null = new NumberColumn();
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

/** Accumulates lines into {@link PredictionColumns}, one line at a time (no line is kept). */
export class PredictionColumnsBuilder {
  private rows = 0;
  private readonly ids: string[] = [];
  private readonly versions: string[] = [];
  private readonly timestamps = new NumberColumn();
  private readonly features = new Map<string, MixedColumn>();
  private readonly predictions = new MixedColumn();
  private score: NumberColumn | null = null;
  private readonly scores = new Map<string, NumberColumn>();
  private readonly latencyMs = new NumberColumn();
  private readonly cost = new NumberColumn();

  /** Adds one parsed line; `timestampMs` is its timestamp, parsed once by the caller. */
  add(line: PredictionLine, timestampMs: number = Date.parse(line.timestamp)): void {
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
      this.score ??= new NumberColumn();
      this.score.padTo(row);
      this.score.push(line.score);
    }
    if (line.scores) {
      for (const label in line.scores) {
        let column = this.scores.get(label);
        if (!column) this.scores.set(label, (column = new NumberColumn()));
        column.padTo(row);
        column.push(line.scores[label]);
      }
    }
  }

  get size(): number {
    return this.rows;
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
