/**
 * The hash split (lib/split.ts) fed straight from a CSV's bytes (lib/csv-column-reader.ts): each
 * record's split point is hashed from its bytes, and its line in the train or holdout file is
 * copied from them, cell by cell, so no row of strings is built. The output is byte for byte what
 * csvLine writes from the parsed row, and the split the same. Pure: bytes in, bytes out.
 */
import { ByteTextCache, cellText } from './byte-dictionary';
import type { CellSink } from './csv-column-reader';
import { HASH53_RANGE, RowHasher } from './row-hash';
import { csvLine, quote } from './table';

/** Bytes of the two outputs since the last {@link SplitCellSink.take}. */
export interface SplitOutput {
  train: Uint8Array;
  holdout: Uint8Array;
}

/** A sink that splits the records it is given; its output is taken between chunks. */
export interface SplitCellSink extends CellSink {
  /** The lines written since the last call (copies), and the rows each side got in all. */
  take(): SplitOutput;
  readonly trainRows: number;
  readonly holdoutRows: number;
}

/** What to split a CSV by: the columns written (features, then the label), the id, the seed and the side of each row. */
export interface SplitCellsOptions {
  columns: readonly string[];
  idColumn: string | null;
  /** Rows are grouped by label (classification) or all in one group (''). */
  classification: boolean;
  seed: number;
  /** True when a row of `group` at split point `point` goes to the holdout. */
  holdout: (group: string, point: number) => boolean;
}

const COMMA = 44;
const LF = 10;
const CR = 13;

/** A growable byte buffer. */
class ByteOutput {
  private bytes = new Uint8Array(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  byte(b: number): void {
    this.room(1);
    this.bytes[this.length++] = b;
  }
  copy(from: Uint8Array, start: number, end: number): void {
    this.room(end - start);
    const bytes = this.bytes;
    if (end - start > 32) {
      bytes.set(from.subarray(start, end), this.length);
      this.length += end - start;
      return;
    }
    let at = this.length;
    // A cell is short: a loop beats a native copy's call.
    for (let i = start; i < end; i++) bytes[at++] = from[i]!;
    this.length = at;
  }
  text(text: string): void {
    const encoded = Buffer.from(text);
    this.copy(encoded, 0, encoded.length);
  }
  take(): Uint8Array {
    const out = this.bytes.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

/**
 * A sink that splits the rows of a CSV with `header`: each goes to the train or holdout output as
 * `options.holdout` says for its group and split point, written as csvLine writes it.
 */
export function splitCellSink(header: readonly string[], options: SplitCellsOptions): SplitCellSink {
  const at = options.columns.map((c) => header.indexOf(c));
  const idAt = options.idColumn ? header.indexOf(options.idColumn) : -1;
  const hashed = idAt >= 0 ? [idAt] : at;
  const labelAt = at[at.length - 1]!;
  /** Two or more written columns, each the one after the other in the file. */
  const contiguous = at.length > 1 && at.every((c, k) => c >= 0 && (k === 0 || c === at[k - 1]! + 1));
  const width = header.length;
  const last = width - 1;
  const hasher = new RowHasher(options.seed);
  const labels = new ByteTextCache(10_000);
  const train = new ByteOutput();
  const holdout = new ByteOutput();
  let trainRows = 0;
  let holdoutRows = 0;
  // The record's cells: byte ranges in `line` (valid until the record ends), or texts for a record read with quotes.
  const starts = new Int32Array(width);
  const ends = new Int32Array(width);
  const ascii = new Uint8Array(width);
  let line: Buffer | null = null;
  const texts: (string | null)[] = new Array<string | null>(width).fill(null);

  const sideOf = (point: number, label: () => string | null): ByteOutput => {
    const group = options.classification ? String(label()) : '';
    if (options.holdout(group, point)) {
      holdoutRows++;
      return holdout;
    }
    trainRows++;
    return train;
  };

  const byteRecord = (bytes: Buffer) => {
    for (const c of hashed) {
      if (c < 0 || starts[c] === ends[c]) hasher.missing();
      else if (ascii[c]) hasher.ascii(bytes, starts[c]!, ends[c]!);
      else hasher.text(cellText(bytes, starts[c]!, ends[c]!));
    }
    const point = hasher.finish() / HASH53_RANGE;
    const out = sideOf(point, () =>
      labelAt < 0 || starts[labelAt] === ends[labelAt]
        ? null
        : labels.textOf(bytes, starts[labelAt]!, ends[labelAt]!, ascii[labelAt] === 1),
    );
    if (contiguous) {
      // The written columns are a run of the file's, in its order: the line's bytes from the run's
      // first cell to its last are what csvLine writes, unless a carriage return makes it quote one.
      const from = starts[at[0]!]!;
      const to = ends[at[at.length - 1]!]!;
      if (bytes.subarray(from, to).indexOf(CR) < 0) {
        out.copy(bytes, from, to);
        out.byte(LF);
        return;
      }
    }
    if (at.length === 1) {
      // A lone empty cell is written "" (an empty line would be skipped when read back).
      const c = at[0]!;
      if (c < 0 || starts[c] === ends[c]) out.text('""');
      else cell(out, bytes, c);
    } else {
      for (let k = 0; k < at.length; k++) {
        if (k > 0) out.byte(COMMA);
        const c = at[k]!;
        if (c >= 0 && starts[c] !== ends[c]) cell(out, bytes, c);
      }
    }
    out.byte(LF);
  };

  /** A cell of a line without quotes holds no quote, comma or line feed; only a carriage return makes csvLine quote it. */
  const cell = (out: ByteOutput, bytes: Buffer, c: number) => {
    const start = starts[c]!;
    const end = ends[c]!;
    for (let i = start; i < end; i++) {
      if (bytes[i] === CR) return out.text(quote(cellText(bytes, start, end)));
    }
    out.copy(bytes, start, end);
  };

  const textRecord = () => {
    for (const c of hashed) {
      const text = c < 0 ? null : texts[c]!;
      if (text === null) hasher.missing();
      else hasher.text(text);
    }
    const point = hasher.finish() / HASH53_RANGE;
    const out = sideOf(point, () => (labelAt < 0 ? null : texts[labelAt]!));
    out.text(csvLine(texts, at));
  };

  return {
    bytes(column, bytes, start, end, isAscii) {
      starts[column] = start;
      ends[column] = end;
      ascii[column] = isAscii ? 1 : 0;
      line = bytes;
      if (column === last) byteRecord(line);
    },
    text(column, cell) {
      texts[column] = cell;
      if (column === last) textRecord();
    },
    take: () => ({ train: train.take(), holdout: holdout.take() }),
    get trainRows() {
      return trainRows;
    },
    get holdoutRows() {
      return holdoutRows;
    },
  };
}
