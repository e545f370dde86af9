import { describe, expect, it } from 'vitest';
import { CsvColumnReader } from '../lib/csv-column-reader';
import { splitCellSink, type SplitCellSink } from '../lib/split-csv-cells';
import { mulberry32, splitPoint } from '../lib/split';
import { csvLine, parseTable } from '../lib/table';
import { chunkSizes, generateCsv } from './helpers/generated-csv';
import { chunksOf } from './helpers/row-batches';

/*
 * The split from a CSV's bytes (lib/split-csv-cells.ts, what splitSnapshot runs on CSV) must write
 * the lines csvLine writes from the parsed rows, each to the side splitPoint gives it.
 */

/** The split of the parsed rows, written with csvLine: the expected output. */
function expectedSplit(
  text: string,
  columns: string[],
  idColumn: string | null,
  seed: number,
  holdout: (group: string, point: number) => boolean,
) {
  const table = parseTable(Buffer.from(text), 'csv', 'gen.csv');
  const at = columns.map((c) => table.columns.indexOf(c));
  const idAt = idColumn ? table.columns.indexOf(idColumn) : -1;
  let train = '';
  let held = '';
  for (const row of table.rows) {
    const point = splitPoint(row, idAt >= 0 ? [idAt] : at, seed);
    const group = String(row[at[at.length - 1]!] ?? null);
    if (holdout(group, point)) held += csvLine(row, at);
    else train += csvLine(row, at);
  }
  return { train, holdout: held };
}

/** The same split from bytes, in chunks. */
function splitFromBytes(
  chunks: Uint8Array[],
  columns: string[],
  idColumn: string | null,
  seed: number,
  holdout: (group: string, point: number) => boolean,
) {
  let sink: SplitCellSink | null = null;
  let train = '';
  let held = '';
  const reader = new CsvColumnReader(
    'gen.csv',
    (header) => (sink = splitCellSink(header, { columns, idColumn, classification: true, seed, holdout })),
  );
  const drain = () => {
    if (!sink) return;
    const out = sink.take();
    train += Buffer.from(out.train).toString();
    held += Buffer.from(out.holdout).toString();
  };
  for (const chunk of chunks) {
    reader.push(chunk);
    drain();
  }
  reader.end();
  drain();
  return { train, holdout: held };
}

describe('the split from CSV bytes', () => {
  it('writes csvLine’s lines to splitPoint’s sides for 2000 generated files, by id or by row, in chunks of every size', () => {
    let compared = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const { text, defect } = generateCsv(seed);
      if (defect) continue;
      const header = parseTable(Buffer.from(text), 'csv', 'gen.csv').columns;
      if (header.length === 0) continue;
      const random = mulberry32(seed);
      // Some of the header's columns, in another order, the last one as the label; sometimes a column the file lacks.
      const columns = header.filter(() => random() < 0.7).sort(() => random() - 0.5);
      if (columns.length === 0) columns.push(header[0]!);
      if (random() < 0.1) columns.splice(0, 0, 'absent');
      const idColumn = random() < 0.5 ? header[Math.floor(random() * header.length)]! : null;
      const holdout = (group: string, point: number) => (group.length % 2 === 0 ? point < 0.3 : point < 0.6);
      const bytes = Buffer.from(text);
      const expected = expectedSplit(text, columns, idColumn, seed, holdout);
      const actual = splitFromBytes(chunksOf(bytes, chunkSizes(seed, bytes.length)), columns, idColumn, seed, holdout);
      expect(actual, `seed ${seed}: ${JSON.stringify(text)} columns ${JSON.stringify(columns)} id ${idColumn}`).toEqual(expected);
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
  });
});

describe('the split from CSV bytes, a run of columns', () => {
  it('copies a run of the file’s columns whole, and still quotes a cell with a carriage return', () => {
    const text = 'id,a,b,c\n1,x,2,yes\n2,x\ry,3,no\n3,,4,yes\n';
    for (const columns of [
      ['a', 'b', 'c'],
      ['b', 'c'],
      ['a', 'c'],
      ['c', 'a', 'b'],
    ]) {
      const holdout = (_group: string, point: number) => point < 0.5;
      const expected = expectedSplit(text, columns, 'id', 3, holdout);
      expect(splitFromBytes([Buffer.from(text)], columns, 'id', 3, holdout), columns.join(',')).toEqual(expected);
      expect(expected.train + expected.holdout, columns.join(',')).toContain(columns[0] === 'a' ? '"x\ry"' : '');
    }
  });
});
