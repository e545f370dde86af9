/**
 * Where a column that is read value by value keeps its values until it is used whole: in memory
 * (here), or in a file per column (services/column-files.ts) when the data would not fit. The
 * column readers (lib/drift/column-collector.ts) take a {@link ColumnStorage}, so they stay pure
 * and the caller decides what holds the data. `retrain drift-report` keeps large files' columns
 * on disk and loads one column of each file at a time.
 */

/** A typed array the storage holds: numbers, or category codes. */
export type StoredArray = Float64Array | Int32Array;

/** A column of numbers appended one at a time and read back whole. */
export interface StoredColumn<T extends StoredArray> {
  readonly length: number;
  push(value: number): void;
  /** Every value, in order (a view that the next push may invalidate, or a fresh array). */
  values(): T;
  /** Frees what the column holds; it is not used after. */
  release(): void;
}

/** Makes the columns of one file being read. */
export interface ColumnStorage {
  float64(): StoredColumn<Float64Array>;
  int32(): StoredColumn<Int32Array>;
}

/** A growable typed array, doubling as needed. */
class MemoryColumn<T extends StoredArray> implements StoredColumn<T> {
  private data: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = this.make(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  values(): T {
    return this.data.subarray(0, this.length) as T;
  }
  release(): void {
    this.data = this.make(0);
    this.length = 0;
  }
}

/** Columns held in memory. */
export const memoryStorage: ColumnStorage = {
  float64: () => new MemoryColumn((n) => new Float64Array(n)),
  int32: () => new MemoryColumn((n) => new Int32Array(n)),
};
