import { describe, it, expect } from 'vitest';
import { InvalidInputError } from '../lib/errors';
import { isMissingMarker, numericValue, parseTable, toCsv, type Table } from '../lib/table';

describe('parseTable: CSV', () => {
  it('reads a header and rows of text cells', () => {
    expect(parseTable('a,b\n1,x\n2,y\n', 'csv', 'data.csv')).toEqual({
      columns: ['a', 'b'],
      rows: [
        ['1', 'x'],
        ['2', 'y'],
      ],
    });
  });

  it('handles quoted cells with commas, doubled quotes and newlines', () => {
    const csv = 'id,text\n1,"hello, world"\n2,"she said ""hi"""\n3,"line one\nline two"\n';
    expect(parseTable(csv, 'csv', 'data.csv').rows).toEqual([
      ['1', 'hello, world'],
      ['2', 'she said "hi"'],
      ['3', 'line one\nline two'],
    ]);
  });

  it('strips a byte order mark so the first column keeps its name', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,value\n1,2\n')]);
    const t = parseTable(body, 'csv', 'data.csv');
    expect(t.columns).toEqual(['id', 'value']);
    expect(t.rows).toEqual([['1', '2']]);
  });

  it('reads empty cells as null', () => {
    expect(parseTable('a,b,c\n,x,\n1,,3\n', 'csv', 'data.csv').rows).toEqual([
      [null, 'x', null],
      ['1', null, '3'],
    ]);
  });

  it('accepts CRLF line endings and no final newline, and trims header names', () => {
    expect(parseTable(' a , b\r\n1,2\r\n3,4', 'csv', 'data.csv')).toEqual({
      columns: ['a', 'b'],
      rows: [
        ['1', '2'],
        ['3', '4'],
      ],
    });
  });

  it('skips blank lines', () => {
    expect(parseTable('a,b\n\n1,2\n\n', 'csv', 'data.csv').rows).toEqual([['1', '2']]);
  });

  it('gives an empty table for an empty file', () => {
    expect(parseTable('', 'csv', 'data.csv')).toEqual({ columns: [], rows: [] });
  });

  it('gives columns and no rows for a header-only file', () => {
    expect(parseTable('a,b\n', 'csv', 'data.csv')).toEqual({ columns: ['a', 'b'], rows: [] });
  });

  it('rejects a row with the wrong number of cells as InvalidInputError naming the source', () => {
    expect(() => parseTable('a,b\n1,2,3\n', 'csv', 'data.csv')).toThrow(InvalidInputError);
    expect(() => parseTable('a,b\n1,2,3\n', 'csv', 'data.csv')).toThrow(/^data\.csv: not valid CSV/);
  });

  it('rejects an unterminated quote', () => {
    expect(() => parseTable('a,b\n1,"oops\n', 'csv', 'data.csv')).toThrow(InvalidInputError);
  });
});

describe('parseTable: JSON lines', () => {
  it('takes the union of keys in first-seen order and fills absent keys with null', () => {
    const text = ['{"a":1,"b":"x"}', '{"b":"y","c":true}', '{"c":false,"a":2.5}'].join('\n');
    expect(parseTable(text, 'jsonl', 'data.jsonl')).toEqual({
      columns: ['a', 'b', 'c'],
      rows: [
        ['1', 'x', null],
        [null, 'y', 'true'],
        ['2.5', null, 'false'],
      ],
    });
  });

  it('writes numbers as text, and null or empty strings as null', () => {
    const text = '{"n":1.0,"big":1e21,"neg":-0.5,"z":null,"s":""}\n';
    expect(parseTable(text, 'jsonl', 'data.jsonl').rows).toEqual([['1', '1e+21', '-0.5', null, null]]);
  });

  it('keeps nested values as JSON text', () => {
    expect(parseTable('{"tags":["a","b"],"o":{"k":1}}', 'jsonl', 'data.jsonl').rows).toEqual([['["a","b"]', '{"k":1}']]);
  });

  it('skips blank lines and accepts CRLF', () => {
    const t = parseTable('{"a":1}\r\n\r\n   \n{"a":2}\r\n', 'jsonl', 'data.jsonl');
    expect(t.rows).toEqual([['1'], ['2']]);
  });

  it('ignores a byte order mark at the start', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"a":2}\n')]);
    expect(parseTable(body, 'jsonl', 'data.jsonl')).toEqual({ columns: ['a'], rows: [['1'], ['2']] });
  });

  it('rejects a bad line as InvalidInputError with its line number', () => {
    const text = '{"a":1}\n\n{"a":2\n{"a":3}\n';
    let caught: unknown;
    try {
      parseTable(text, 'jsonl', 'data.jsonl');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidInputError);
    expect((caught as Error).message).toBe('data.jsonl: line 3 is not valid JSON');
  });

  it('rejects a line that is JSON but not an object', () => {
    expect(() => parseTable('{"a":1}\n[1,2]\n', 'jsonl', 'data.jsonl')).toThrow('data.jsonl: line 2 is not a JSON object');
    expect(() => parseTable('null\n', 'jsonl', 'data.jsonl')).toThrow('line 1 is not a JSON object');
  });

  it('gives an empty table for an empty file', () => {
    expect(parseTable('\n', 'jsonl', 'data.jsonl')).toEqual({ columns: [], rows: [] });
  });
});

describe('toCsv', () => {
  const tricky: Table = {
    columns: ['id', 'text', 'score'],
    rows: [
      ['1', 'plain', '0.5'],
      ['2', 'comma, inside', null],
      ['3', 'quote " inside', '1'],
      ['4', 'multi\nline', '2'],
      ['5', 'carriage\r\nreturn', '3'],
      ['6', null, null],
    ],
  };

  it('round-trips through parseTable, with nulls staying null', () => {
    expect(parseTable(toCsv(tricky), 'csv', 'round-trip')).toEqual(tricky);
  });

  it('quotes only where needed', () => {
    expect(
      toCsv({
        columns: ['a', 'b'],
        rows: [
          ['x', 'y,z'],
          [null, 'say "hi"'],
        ],
      }),
    ).toBe('a,b\nx,"y,z"\n,"say ""hi"""\n');
  });

  it('writes chosen columns in the given order, for chosen rows', () => {
    const csv = toCsv(tricky, ['score', 'id'], [0, 2]);
    expect(csv).toBe('score,id\n0.5,1\n1,3\n');
    expect(parseTable(csv, 'csv', 'subset').rows).toEqual([
      ['0.5', '1'],
      ['1', '3'],
    ]);
  });

  it('accepts row indexes as a typed array', () => {
    expect(toCsv(tricky, ['id'], Uint32Array.from([5, 1]))).toBe('id\n6\n2\n');
  });

  it('keeps a row whose only cell is null in a single-column table', () => {
    const single: Table = { columns: ['v'], rows: [['a'], [null], ['b']] };
    expect(parseTable(toCsv(single), 'csv', 'round-trip')).toEqual(single);
  });

  it('rejects a column that is not in the table', () => {
    expect(() => toCsv(tricky, ['nope'])).toThrow('column "nope" is not in the table');
  });
});

describe('cell helpers', () => {
  it('numericValue parses finite numbers and gives null for anything else', () => {
    expect(numericValue('3.5')).toBe(3.5);
    expect(numericValue(' -2e3 ')).toBe(-2000);
    expect(numericValue('0')).toBe(0);
    expect(numericValue(null)).toBeNull();
    expect(numericValue('')).toBeNull();
    expect(numericValue('  ')).toBeNull();
    expect(numericValue('NaN')).toBeNull();
    expect(numericValue('Infinity')).toBeNull();
    expect(numericValue('abc')).toBeNull();
  });

  it('isMissingMarker recognises the usual spellings of a missing number', () => {
    for (const cell of [null, '', ' ', 'NaN', 'nan', 'NULL', 'NA', 'n/a', 'None']) expect(isMissingMarker(cell), String(cell)).toBe(true);
    for (const cell of ['0', 'nano', 'x', 'Infinity']) expect(isMissingMarker(cell), cell).toBe(false);
  });
});
