import { describe, it, expect } from 'vitest';
import { InvalidInputError } from '../lib/errors';
import { isMissingMarker, numericValue, parseTable, toCsv, type Table } from '../lib/table';
import { mulberry32 } from '../lib/split';

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

describe('parseTable: text encoding', () => {
  /** Bytes from text pieces and raw byte values (a number is one byte). */
  const bytes = (...parts: (string | number)[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from([p]))));
  // "café" saved as latin1: é is the single byte 0xE9, which is not UTF-8.
  const latin1Csv = bytes('id,plan,city\n1,basic,Paris\n2,pro,caf', 0xe9, '\n3,team,Lyon\n');

  /** The InvalidInputError message of a parse that must fail. */
  function failure(parse: () => unknown): string {
    let caught: unknown;
    try {
      parse();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidInputError);
    return (caught as Error).message;
  }

  it('rejects CSV bytes that are not UTF-8, naming the line, row, column and byte, instead of reading U+FFFD', () => {
    expect(failure(() => parseTable(latin1Csv, 'csv', 'data.csv'))).toBe(
      `data.csv: not valid UTF-8 at line 3 (row 2, column "city"): byte 0xE9 after "2,pro,caf"; ` +
        `save the file as UTF-8 (or, in a pipeline's source, declare encoding: 'latin1')`,
    );
  });

  it('finds the bad byte in a header, and after a quoted cell that spans lines', () => {
    expect(failure(() => parseTable(bytes('id,pl', 0xe9, 'n\n1,2\n'), 'csv', 'h.csv'))).toMatch(
      /^h\.csv: not valid UTF-8 at line 1 \(the header, column 2\): byte 0xE9 after "id,pl"/,
    );
    // Row 1 spans lines 2 and 3; a literal U+FFFD before the bad byte is not mistaken for it.
    const body = bytes('id,note,plan\n1,"a\nb \uFFFD",caf', 0xc3, 0x28, '\n');
    expect(failure(() => parseTable(body, 'csv', 'q.csv'))).toMatch(
      /^q\.csv: not valid UTF-8 at line 3 \(row 1, column "plan"\): byte 0xC3/,
    );
  });

  it('rejects JSON lines that are not UTF-8, naming the line, row and key', () => {
    const body = bytes('{"id":1,"city":"Paris"}\n\n{"id":2,"city":"caf', 0xe9, '"}\n');
    expect(failure(() => parseTable(body, 'jsonl', 'data.jsonl'))).toMatch(
      /^data\.jsonl: not valid UTF-8 at line 3 \(row 2, key "city"\): byte 0xE9 after /,
    );
  });

  it('reads UTF-8 text (with or without a byte order mark) as it is', () => {
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,city\n1,café\n2,München\n3,東京\n')]);
    expect(parseTable(utf8, 'csv', 'data.csv').rows).toEqual([
      ['1', 'café'],
      ['2', 'München'],
      ['3', '東京'],
    ]);
    expect(parseTable(Buffer.from('{"city":"café"}\n'), 'jsonl', 'data.jsonl').rows).toEqual([['café']]);
  });

  it('reads a declared latin1 source as windows-1252', () => {
    expect(parseTable(latin1Csv, 'csv', 'data.csv', 'latin1').rows[1]).toEqual(['2', 'pro', 'café']);
    expect(parseTable(bytes('{"price":"5 ', 0x80, '"}\n'), 'jsonl', 'data.jsonl', 'latin1').rows).toEqual([['5 €']]);
  });
});

describe('parseTable: columns named twice', () => {
  it('rejects a CSV header that names a column twice, naming it and both positions', () => {
    const csv = 'customer_id,plan,tenure,plan\nc1,basic,3,pro\n';
    expect(() => parseTable(csv, 'csv', 'data.csv')).toThrow(InvalidInputError);
    expect(() => parseTable(csv, 'csv', 'data.csv')).toThrow(
      'data.csv: column "plan" appears twice in the header (columns 2 and 4): rename or remove one',
    );
    // Names are compared after trimming, as they are read.
    expect(() => parseTable('plan, plan \n1,2\n', 'csv', 'data.csv')).toThrow(/column "plan" appears twice/);
  });

  it('rejects a JSON-lines object that gives a key twice, naming the line and the key', () => {
    const text = '{"plan":"basic","tenure":3}\n{"plan":"basic","tenure":4, "plan" :"pro"}\n';
    expect(() => parseTable(text, 'jsonl', 'data.jsonl')).toThrow(InvalidInputError);
    expect(() => parseTable(text, 'jsonl', 'data.jsonl')).toThrow('data.jsonl: line 2 gives the key "plan" twice: remove one');
  });

  it('does not mistake nested objects, arrays or colons and quotes inside strings for repeated keys', () => {
    const text = '{"a":{"a":1,"b":[{"a":2}]},"b":"a\\":b","c":"x:y"}\n';
    expect(parseTable(text, 'jsonl', 'data.jsonl')).toEqual({ columns: ['a', 'b', 'c'], rows: [['{"a":1,"b":[{"a":2}]}', 'a":b', 'x:y']] });
  });
});

describe('numericValue', () => {
  it('gives the double Number() gives, for plain decimals (its fast path) and everything else', () => {
    const samples = ['0', '-0', '12.', '-.5', '.', '-', '007', '1e3', '0.1', '0.30000000000000004', '123456789012345', '1234567890123456'];
    samples.push('-9.87654321098765', '99999999999999.9', '  12', '12 ', '+5', '0x1A', '1_000', '1.2.3', '', 'NaN', 'Infinity');
    const random = mulberry32(5);
    for (let k = 0; k < 200_000; k++) {
      const digits = 1 + Math.floor(random() * 17);
      let s = '';
      for (let d = 0; d < digits; d++) s += Math.floor(random() * 10);
      const point = Math.floor(random() * (digits + 1));
      if (point < digits) s = `${s.slice(0, point)}.${s.slice(point)}`;
      samples.push(random() < 0.5 ? `-${s}` : s);
    }
    for (const s of samples) {
      const n = s.trim() === '' ? null : Number(s);
      expect(Object.is(numericValue(s), n !== null && Number.isFinite(n) ? n : null), s).toBe(true);
    }
  });
});
