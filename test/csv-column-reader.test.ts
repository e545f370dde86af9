import { rmSync, existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ByteDictionary, hashBytes } from '../lib/byte-dictionary';
import { CsvColumnReader } from '../lib/csv-column-reader';
import { mulberry32 } from '../lib/split';
import { numericValue, type Table } from '../lib/table';
import { textRowBatches } from '../lib/table-stream';
import { ColumnFiles } from '../services/column-files';
import { chunkSizes, errorShape, generateCsv } from './helpers/generated-csv';
import { chunksOf, collectRows, outcomeOf, type Outcome } from './helpers/row-batches';

/*
 * The byte-level CSV reader of `retrain drift-report`, checked against the record reader every
 * dataset step uses (itself checked against csv-parse in test/csv-records.test.ts): the same cells
 * or the same error for generated files in chunks of every size, and the same number as
 * numericValue for every cell it reads as a plain decimal.
 */

/** Cells the reader gave with the number it read from their bytes. */
type Numbers = [cell: string, number: number][];

/** Reads chunks with CsvColumnReader into a table of text cells (null when empty), and the numbers it read. */
function readColumns(chunks: Uint8Array[], numbers: Numbers = []): Table {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  const put = (column: number, cell: string | null) => {
    if (column === 0) rows.push((row = []));
    row.push(cell);
  };
  const reader = new CsvColumnReader('gen.csv', () => ({
    bytes(column, bytes, start, end, ascii, number) {
      const cell = start === end ? null : bytes.toString(ascii ? 'latin1' : 'utf8', start, end);
      if (!Number.isNaN(number)) numbers.push([cell ?? '', number]);
      put(column, cell);
    },
    text: put,
  }));
  for (const chunk of chunks) reader.push(chunk);
  reader.end();
  expect(reader.rows).toBe(rows.length);
  return { columns: reader.columns ?? [], rows };
}

describe('CsvColumnReader', () => {
  it('gives the record reader’s cells, or its error, for 3000 generated files in chunks of every size', async () => {
    let valid = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const { text, defect } = generateCsv(seed);
      const bytes = Buffer.from(text);
      const expected = await outcomeOf(() => collectRows(textRowBatches([bytes], 'csv', 'gen.csv')));
      const numbers: Numbers = [];
      const actual: Outcome = await outcomeOf(() => readColumns(chunksOf(bytes, chunkSizes(seed, bytes.length)), numbers));
      const about = `seed ${seed} (${defect ?? 'valid'}), chunk mode ${seed % 4}: ${JSON.stringify(text)}`;
      if ('table' in expected) {
        valid++;
        expect(actual, about).toEqual(expected);
        for (const [cell, number] of numbers) expect(Object.is(number, numericValue(cell)), `${about}: ${cell}`).toBe(true);
      } else {
        expect('error' in actual, `${about}: the record reader fails with ${expected.error.message}`).toBe(true);
        if (!('error' in actual)) continue;
        expect(actual.error.type, about).toBe(expected.error.type);
        expect(errorShape(actual.error.message), about).toEqual(errorShape(expected.error.message));
      }
    }
    expect(valid).toBeGreaterThan(1500);
  });

  it('reads a plain decimal as numericValue does, and leaves every other cell to be decoded', () => {
    const random = mulberry32(5);
    const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(random() * 10))).join('');
    const cells = [
      '0',
      '-0',
      '5.',
      '.5',
      '-.5',
      '007',
      '123456789012345',
      '1234567890123456',
      '1.234567890123456',
      '-',
      '.',
      '--1',
      '1.2.3',
      ' 1',
      '1 ',
      '+1',
      '1e5',
      'NaN',
      '0x10',
      '١',
    ];
    for (let k = 0; k < 2000; k++) {
      const whole = digits(Math.floor(random() * 12));
      const fraction = random() < 0.7 ? `.${digits(Math.floor(random() * 10))}` : '';
      cells.push(`${random() < 0.3 ? '-' : ''}${whole}${fraction}`);
    }
    const text = `x\n${cells.map((c) => (c === '' ? '""' : c)).join('\n')}\n`;
    const numbers: Numbers = [];
    const table = readColumns([Buffer.from(text)], numbers);
    expect(table.rows.map((r) => r[0])).toEqual(cells.map((c) => (c === '' ? null : c)));
    const read = new Map(numbers);
    for (const cell of cells) {
      const plain = /^-?\d*\.?\d*$/.test(cell) && /\d/.test(cell) && cell.replace(/[-.]/g, '').length <= 15;
      expect(read.has(cell), cell).toBe(plain);
      if (plain) expect(Object.is(read.get(cell), numericValue(cell)), cell).toBe(true);
    }
  });

  it('names the line of a byte that is not UTF-8, as the record reader does', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n1,x\n2,'), Buffer.from([0xff]), Buffer.from('\n')]);
    const expected = await outcomeOf(() => collectRows(textRowBatches([bytes], 'csv', 'gen.csv')));
    const actual = await outcomeOf(() => readColumns([bytes]));
    expect(actual).toEqual(expected);
    expect(JSON.stringify(actual)).toMatch(/not valid UTF-8 at line 3: byte 0xFF/);
  });
});

describe('ByteDictionary', () => {
  it('gives each distinct byte string one code, in first-seen order', () => {
    const random = mulberry32(9);
    const dictionary = new ByteDictionary();
    const expected = new Map<string, number>();
    const bytes = new Uint8Array(64);
    for (let k = 0; k < 20_000; k++) {
      const length = Math.floor(random() * 4);
      for (let i = 0; i < length; i++) bytes[8 + i] = Math.floor(random() * 6);
      const key = Array.from(bytes.subarray(8, 8 + length)).join(',');
      const hash = hashBytes(bytes, 8, 8 + length);
      let code = dictionary.find(bytes, 8, 8 + length, hash);
      if (code < 0) code = dictionary.add(bytes, 8, 8 + length, hash);
      if (!expected.has(key)) expected.set(key, expected.size);
      expect(code, key).toBe(expected.get(key));
    }
    expect(dictionary.size).toBe(expected.size);
  });
});

describe('ColumnFiles', () => {
  it('gives back every value pushed past its blocks, and removes its files', () => {
    const files = new ColumnFiles();
    const numbers = files.float64();
    const codes = files.int32();
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      numbers.push(i / 7);
      codes.push(i % 13);
    }
    const values = numbers.values();
    expect(values.length).toBe(n);
    expect(values[0]).toBe(0);
    expect(values[n - 1]).toBe((n - 1) / 7);
    expect(values[123_457]).toBe(123_457 / 7);
    expect(Array.from(codes.values().subarray(65_530, 65_540))).toEqual(Array.from({ length: 10 }, (_, k) => (65_530 + k) % 13));
    const dir = (files as unknown as { dir: string }).dir;
    expect(readdirSync(dir).length).toBe(2);
    numbers.release();
    expect(readdirSync(dir).length).toBe(1);
    files.remove();
    expect(existsSync(dir)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
