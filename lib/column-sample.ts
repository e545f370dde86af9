/**
 * Chosen columns of a CSV gathered into typed columns, at most `maxRows` rows: beyond that a
 * uniform sample (Algorithm R, as lib/prediction-columns.ts samples a window), the same rows for
 * the same seed. It is a {@link CellSink} for lib/csv-column-reader.ts, so numbers are read from
 * their bytes and text is decoded only for the columns kept. Cells are read as a reference
 * profile reads them (lib/reference-profile.ts): a numeric cell that is not a number is missing
 * (NaN), an empty categorical cell is missing (null). Pure: cells in, columns out.
 */
import { cellText } from './byte-dictionary';
import type { CellSink } from './csv-column-reader';
import type { FeatureKind } from './feature-kind';
import { Float64Builder } from './float64-builder';
import { mulberry32 } from './split';
import { numericValue } from './table';

/** The columns gathered: numbers (NaN missing) or categories (null missing), one entry per kept row. */
export interface SampledColumns {
  columns: Record<string, Float64Array | (string | null)[]>;
  /** Rows kept: the length of every column. */
  rows: number;
  /** Rows read; more than `rows` when sampled. */
  seen: number;
  /** The columns asked for that the header has (the others are all missing). */
  present: string[];
}

type Gathered = { kind: 'numeric'; values: Float64Builder } | { kind: 'categorical'; values: (string | null)[] };

/** Gathers a sample of rows while a CSV is read; see the module comment. */
export class ColumnSample {
  private readonly gathered = new Map<string, Gathered>();
  private readonly random: () => number;
  private present: string[] = [];
  private offered = 0;
  /** Where the record being read goes: its row, or -1 when it is not kept. */
  private slot = -1;
  private appending = false;

  /**
   * @param opts.columns the columns to keep and how to read them (a name listed twice is kept once).
   * @param opts.maxRows most rows kept (>= 1).
   * @param opts.seed the sample's seed.
   */
  constructor(private readonly opts: { columns: readonly { name: string; kind: FeatureKind }[]; maxRows: number; seed: number }) {
    if (!(Number.isInteger(opts.maxRows) && opts.maxRows >= 1))
      throw new RangeError(`maxRows must be a positive integer, got ${opts.maxRows}`);
    for (const c of opts.columns) {
      if (this.gathered.has(c.name)) continue;
      this.gathered.set(
        c.name,
        c.kind === 'numeric' ? { kind: 'numeric', values: new Float64Builder() } : { kind: 'categorical', values: [] },
      );
    }
    this.random = mulberry32(opts.seed);
  }

  /** The sink for a file with this header (pass it to readCsvCells' `onHeader`). */
  sinkFor(header: readonly string[]): CellSink {
    const byIndex = header.map((name) => this.gathered.get(name) ?? null);
    this.present = header.filter((name) => this.gathered.has(name));
    return {
      bytes: (column, bytes, start, end, ascii, number) => {
        if (column === 0) this.startRecord();
        const into = byIndex[column];
        if (!into || this.slot < 0) return;
        if (start === end) return this.put(into, null);
        if (into.kind === 'numeric' && number === number) return this.putNumber(into.values, number);
        this.put(into, cellText(bytes, start, end, ascii));
      },
      text: (column, cell) => {
        if (column === 0) this.startRecord();
        const into = byIndex[column];
        if (into && this.slot >= 0) this.put(into, cell);
      },
    };
  }

  /** The columns gathered; a column the header lacked is all missing. */
  build(): SampledColumns {
    const rows = Math.min(this.offered, this.opts.maxRows);
    const built = [...this.gathered].map(([name, g]): [string, Float64Array | (string | null)[]] => {
      if (g.kind === 'numeric') {
        g.values.padTo(rows);
        return [name, g.values.build()];
      }
      while (g.values.length < rows) g.values.push(null);
      return [name, g.values];
    });
    // fromEntries: a column may be called "__proto__".
    return { columns: Object.fromEntries(built), rows, seen: this.offered, present: [...this.present] };
  }

  /** Algorithm R: record k (0-based) past the first maxRows replaces kept row j = floor(random · (k+1)) when j < maxRows. */
  private startRecord(): void {
    const k = this.offered++;
    this.appending = k < this.opts.maxRows;
    if (this.appending) this.slot = k;
    else {
      const j = Math.floor(this.random() * (k + 1));
      this.slot = j < this.opts.maxRows ? j : -1;
    }
  }

  private put(into: Gathered, cell: string | null): void {
    if (into.kind === 'numeric') return this.putNumber(into.values, numericValue(cell) ?? NaN);
    if (this.appending) into.values.push(cell);
    else into.values[this.slot] = cell;
  }

  private putNumber(values: Float64Builder, v: number): void {
    if (this.appending) values.push(v);
    else values.set(this.slot, v);
  }
}
