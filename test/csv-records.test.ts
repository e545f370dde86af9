import { describe, expect, it } from 'vitest';
import { CsvRecordReader } from '../lib/csv-records';
import { InvalidInputError } from '../lib/errors';
import { parseTable } from '../lib/table';
import { textRowBatches } from '../lib/table-stream';
import { chunkSizes, errorShape, generateCsv } from './helpers/generated-csv';
import { chunksOf, collectRows, outcomeOf, type Outcome } from './helpers/row-batches';

/*
 * The incremental CSV reader, checked against csv-parse (what parseTable in lib/table.ts reads
 * with: bom, skip_empty_lines, no relaxed column count; header trimmed, '' read as null) on
 * generated files fed in chunks of every size, and on the malformed records it must refuse.
 */

/** Reads `text` in chunks with the streaming reader. */
function streamed(text: string, sizes: () => number, source = 'gen.csv'): Promise<Outcome> {
  return outcomeOf(() => collectRows(textRowBatches(chunksOf(Buffer.from(text), sizes), 'csv', source)));
}

describe('CSV read incrementally, against csv-parse', () => {
  it('gives the same columns and rows, or the same error, for 3000 generated files in chunks of every size', async () => {
    const FILES = 3000;
    let valid = 0;
    let invalid = 0;
    const defects = new Set<string>();
    for (let seed = 1; seed <= FILES; seed++) {
      const { text, defect } = generateCsv(seed);
      const bytes = Buffer.from(text);
      const expected = await outcomeOf(() => parseTable(bytes, 'csv', 'gen.csv'));
      const actual = await streamed(text, chunkSizes(seed, bytes.length));
      const about = `seed ${seed} (${defect ?? 'valid'}), chunk mode ${seed % 4}: ${JSON.stringify(text)}`;
      if ('table' in expected) {
        valid++;
        expect(actual, about).toEqual(expected);
      } else {
        invalid++;
        if (defect) defects.add(defect);
        expect('error' in actual, `${about}: csv-parse fails with ${expected.error.message}`).toBe(true);
        if (!('error' in actual)) continue;
        expect(actual.error.type, about).toBe('InvalidInputError');
        expect(expected.error.type, about).toBe('InvalidInputError');
        const mine = errorShape(actual.error.message);
        const theirs = errorShape(expected.error.message);
        expect(mine.kind, about).toBe(theirs.kind);
        // Lines agree, but for three differences of csv-parse's: it counts a \r\n inside quotes as
        // two lines, names the line a record of the wrong length ends on (the reader: the line it
        // starts on), and the end of the file for a quote never closed (the reader: the quote's line).
        if (mine.kind !== 'Quote Not Closed' && mine.line !== null) {
          if (text.includes('\r') || mine.kind === 'Invalid Record Length') {
            expect(Number(mine.line), about).toBeLessThanOrEqual(Number(theirs.line));
          } else expect(mine.line, about).toBe(theirs.line);
        }
      }
    }
    // Neither kind of file is so rare that the comparison says little.
    expect(valid).toBeGreaterThan(FILES / 2);
    expect(invalid).toBeGreaterThan(FILES / 20);
    expect([...defects].sort()).toEqual(
      [
        'column named twice',
        'quote in an unquoted cell',
        'text after a closing quote',
        'too few cells',
        'too many cells',
        'unclosed quote',
      ].sort(),
    );
  });

  it('reads records and multi-byte characters cut anywhere between chunks the same as whole', async () => {
    const text = '\uFEFFid, note ,emoji\r\n1,"a, ""b""\r\nc",😀\r\n\r\n2,日本語,"€"\r\n3,,"x\ny"';
    const whole = parseTable(Buffer.from(text), 'csv', 'cut.csv');
    expect(whole).toEqual({
      columns: ['id', 'note', 'emoji'],
      rows: [
        ['1', 'a, "b"\r\nc', '😀'],
        ['2', '日本語', '€'],
        ['3', null, 'x\ny'],
      ],
    });
    const bytes = Buffer.from(text);
    // Every cut into two chunks, then every cut into three.
    for (let a = 0; a <= bytes.length; a++) {
      const two = await collectRows(textRowBatches([bytes.subarray(0, a), bytes.subarray(a)], 'csv', 'cut.csv'));
      expect(two, `cut at ${a}`).toEqual(whole);
    }
    for (let a = 1; a < bytes.length; a += 3) {
      for (let b = a; b < bytes.length; b += 2) {
        const three = await collectRows(textRowBatches([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)], 'csv', 'cut.csv'));
        expect(three, `cuts at ${a} and ${b}`).toEqual(whole);
      }
    }
  });
});

describe('CSV read incrementally: malformed records', () => {
  const one = (text: string) => streamed(text, () => 1 << 20, 'bad.csv');
  const byteByByte = (text: string) => streamed(text, () => 1, 'bad.csv');

  it('names the line of a record with the wrong number of cells, counting empty lines and quoted line breaks', async () => {
    const text = 'a,b\n1,2\n\n"x\ny",3\n4,5,6\n7,8\n';
    for (const read of [one, byteByByte]) {
      expect(await read(text)).toEqual({
        error: { type: 'InvalidInputError', message: 'bad.csv: not valid CSV: Invalid Record Length: expect 2, got 3 on line 6' },
      });
    }
    expect(await one('a,b,c\n1,2\n')).toEqual({
      error: { type: 'InvalidInputError', message: 'bad.csv: not valid CSV: Invalid Record Length: expect 3, got 2 on line 2' },
    });
    // The same message csv-parse gives, word for word.
    expect(() => parseTable(text, 'csv', 'bad.csv')).toThrow('bad.csv: not valid CSV: Invalid Record Length: expect 2, got 3 on line 6');
  });

  it('names the line a record of the wrong length starts on', async () => {
    const text = 'a,b\n1,2\n"x\ny\nz",3,4\n';
    expect(await byteByByte(text)).toEqual({
      error: { type: 'InvalidInputError', message: 'bad.csv: not valid CSV: Invalid Record Length: expect 2, got 3 on line 3' },
    });
    // csv-parse names the line it ends on.
    expect(() => parseTable(text, 'csv', 'bad.csv')).toThrow('on line 5');
  });

  it('counts a \\r\\n inside a quoted field as one line, as an editor shows it', async () => {
    const text = 'a,b\r\n"x\r\ny",2\r\n1,2,3\r\n';
    for (const read of [one, byteByByte]) {
      expect(await read(text)).toEqual({
        error: { type: 'InvalidInputError', message: 'bad.csv: not valid CSV: Invalid Record Length: expect 2, got 3 on line 4' },
      });
    }
    // csv-parse counts the \r and the \n apart there: one line more.
    expect(() => parseTable(text, 'csv', 'bad.csv')).toThrow('on line 5');
  });

  it('refuses a quoted field that is never closed, naming the line it starts on', async () => {
    for (const text of ['a,b\n1,2\n3,"never\nclosed\n', 'a,b\n1,2\n3,"never\nclosed', 'a,b\n1,2\n3,"ends ""escaped""\n']) {
      for (const read of [one, byteByByte]) {
        const outcome = await read(text);
        expect(outcome, JSON.stringify(text)).toEqual({
          error: {
            type: 'InvalidInputError',
            message: 'bad.csv: not valid CSV: Quote Not Closed: the quoted field that starts on line 3 is never closed',
          },
        });
      }
      expect(() => parseTable(text, 'csv', 'bad.csv')).toThrow(/not valid CSV: Quote Not Closed/);
    }
  });

  it('refuses a quote inside an unquoted field, naming its line', async () => {
    for (const text of ['a,b\n1,2\n3,x"y\n', 'a,b\n1,2\n"q",x"y\n', 'a,b\n1,2\n3,x""\n']) {
      for (const read of [one, byteByByte]) {
        expect(await read(text), JSON.stringify(text)).toEqual({
          error: {
            type: 'InvalidInputError',
            message: 'bad.csv: not valid CSV: Invalid Opening Quote: a quote is found in an unquoted field at line 3',
          },
        });
      }
      expect(() => parseTable(text, 'csv', 'bad.csv')).toThrow(/not valid CSV: Invalid Opening Quote: .* at line 3/);
    }
  });

  it('refuses text after a closing quote, naming the character and line', async () => {
    for (const read of [one, byteByByte]) {
      expect(await read('a,b\n1,"x\ny"z\n')).toEqual({
        error: {
          type: 'InvalidInputError',
          message: 'bad.csv: not valid CSV: Invalid Closing Quote: got "z" at line 3 instead of a comma or line break after a quoted field',
        },
      });
      expect(await read('a,b\n"x" ,2\n')).toEqual({
        error: {
          type: 'InvalidInputError',
          message: 'bad.csv: not valid CSV: Invalid Closing Quote: got " " at line 2 instead of a comma or line break after a quoted field',
        },
      });
    }
    expect(() => parseTable('a,b\n1,"x\ny"z\n', 'csv', 'bad.csv')).toThrow(/not valid CSV: Invalid Closing Quote: got "z" at line 3/);
  });

  it('refuses a column named twice in the header, as parseTable does', async () => {
    const text = 'a, b ,b\n1,2,3\n';
    expect(await one(text)).toEqual(await outcomeOf(() => parseTable(text, 'csv', 'bad.csv')));
    expect(await one(text)).toMatchObject({
      error: { type: 'InvalidInputError', message: expect.stringContaining('column "b" appears twice') },
    });
  });
});

describe('CsvRecordReader', () => {
  const reader = () => new CsvRecordReader((message) => new Error(message));

  it('gives each record once it is complete, holding the rest until the next piece', () => {
    const r = reader();
    const out: (string | null)[][] = [];
    r.push('a,b\n"x', out);
    expect(out).toEqual([['a', 'b']]);
    r.push('\ny"', out);
    expect(out).toEqual([['a', 'b']]);
    r.push(',1\r', out);
    // A \r at the end of a piece may start a \r\n: the record waits for the next piece.
    expect(out).toEqual([['a', 'b']]);
    r.push('\n3,4', out);
    expect(out).toEqual([
      ['a', 'b'],
      ['x\ny', '1'],
    ]);
    r.end(out);
    expect(out).toEqual([
      ['a', 'b'],
      ['x\ny', '1'],
      ['3', '4'],
    ]);
  });

  it('keeps cells as text (spaces and a BOM after the start are data), empty cells as null', () => {
    const r = reader();
    const out: (string | null)[][] = [];
    r.push('\uFEFF a ,,"",\uFEFFz\n', out);
    r.end(out);
    expect(out).toEqual([[' a ', null, null, '\uFEFFz']]);
  });

  it('skips empty lines of \\n and \\r\\n alike, and an empty input gives no records', () => {
    const r = reader();
    const out: (string | null)[][] = [];
    r.push('\n\r\na\n\r\n\nb\r\n', out);
    r.end(out);
    expect(out).toEqual([['a'], ['b']]);
    const empty: (string | null)[][] = [];
    reader().end(empty);
    expect(empty).toEqual([]);
  });

  it('builds its errors with the function it was given', () => {
    const r = new CsvRecordReader((message) => new RangeError(`custom: ${message}`));
    expect(() => r.push('a,b\n1\n', [])).toThrow(RangeError);
    expect(() => new CsvRecordReader((m) => new InvalidInputError(m)).push('a\n"x"y\n', [])).toThrow(InvalidInputError);
  });
});

describe('CSV read incrementally: speed', () => {
  /** 5 MB of CSV, read in 1 MiB pieces as the dataset steps read a file; `quoted`: every line has a quoted cell. */
  function readTime(quoted: boolean): number {
    const lines = ['id,text,value'];
    for (let i = 0; i < 200_000; i++) lines.push(quoted ? `${i},"text, here",1.5` : `${i},text here too,1.5`);
    const text = lines.join('\n') + '\n';
    const r = new CsvRecordReader((message) => new Error(message));
    const start = performance.now();
    let records = 0;
    for (let at = 0; at < text.length; at += 1 << 20) {
      const out: (string | null)[][] = [];
      r.push(text.slice(at, at + (1 << 20)), out);
      records += out.length;
    }
    const out: (string | null)[][] = [];
    r.end(out);
    records += out.length;
    expect(records).toBe(200_001);
    return performance.now() - start;
  }

  // A ratio of two reads of the same size in the same process, not a time limit: lines without a
  // quote take the reader's fast path, so they must not read slower than lines that each hold
  // one. (A search for the next quote from every line to the end of the piece made quote-free
  // data read in time quadratic in the piece size: about 30 times slower than with the position
  // of the next quote kept between lines.)
  it('reads lines without quotes no slower than lines with quoted cells', () => {
    readTime(false);
    readTime(true);
    const plain = Math.min(readTime(false), readTime(false));
    const quoted = Math.min(readTime(true), readTime(true));
    expect(plain).toBeLessThan(quoted * 3);
  });
});
