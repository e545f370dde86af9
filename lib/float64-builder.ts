/** A growable Float64Array: numbers appended one at a time, capacity doubling as needed. */
export class Float64Builder {
  private data: Float64Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Float64Array(capacity);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  /** Pads with NaN up to `n` entries (a column first seen after `n` rows). */
  padTo(n: number): void {
    while (this.length < n) this.push(NaN);
  }

  at(i: number): number {
    return this.data[i]!;
  }

  /** Overwrites entry `i` (< length). */
  set(i: number, v: number): void {
    this.data[i] = v;
  }

  /** The values as a copy of their exact length. */
  build(): Float64Array {
    return this.data.slice(0, this.length);
  }

  /** The values as a view (no copy: a column of millions of rows is not held twice). */
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
