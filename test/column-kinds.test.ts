import { describe, expect, it } from 'vitest';
import { columnCells, driftColumn, FLAG_MIN_VALUES, ID_MIN_ROWS, inferKind, looksLikeId, numericColumn } from '../lib/drift/column-kinds';
import type { Table } from '../lib/table';

describe('inferKind', () => {
  it('calls a column numeric when every present cell is a number and there are more than 2 distinct values', () => {
    expect(inferKind(['1', '2.5', '-3', '1e3'])).toBe('numeric');
    expect(inferKind([' 4 ', '5', '6'])).toBe('numeric');
  });

  it('calls two distinct numbers categorical: a 0/1 flag is compared as categories', () => {
    expect(inferKind(['0', '1', '1', '0', '1'])).toBe('categorical');
    expect(inferKind(['7', '7', '7'])).toBe('categorical');
  });

  it('ignores missing markers (NaN, NA, null, empty, absent cells)', () => {
    expect(inferKind(['1', 'NaN', '2', 'NA', '', null, 'null', 'n/a', 'None', '3'])).toBe('numeric');
  });

  it('calls a column categorical as soon as one present cell is not a finite number', () => {
    expect(inferKind(['1', '2', '3', 'basic'])).toBe('categorical');
    expect(inferKind(['1', '2', '3', 'Infinity'])).toBe('categorical');
    expect(inferKind(['basic', 'pro', 'team'])).toBe('categorical');
  });

  it(`keeps numbers numeric on fewer than ${FLAG_MIN_VALUES} present values: a small sample cannot show a flag`, () => {
    // A one-row or two-row reference: its numeric columns stay numeric.
    expect(inferKind(['12'])).toBe('numeric');
    expect(inferKind(['45.30', 'NaN', null])).toBe('numeric');
    expect(inferKind(['3', '7'])).toBe('numeric');
    expect(inferKind(['5', '5'])).toBe('numeric');
    expect(inferKind(['0', '1', '1'])).toBe('categorical');
    // Text stays text however small the sample.
    expect(inferKind(['basic'])).toBe('categorical');
  });

  it('calls an empty or all-missing column categorical', () => {
    expect(inferKind([])).toBe('categorical');
    expect(inferKind([null, '', 'NaN'])).toBe('categorical');
  });
});

describe('looksLikeId', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `c${String(i).padStart(6, '0')}`);

  it(`is true when every present value is distinct, on at least ${ID_MIN_ROWS} values`, () => {
    expect(looksLikeId(ids(ID_MIN_ROWS))).toBe(true);
    expect(looksLikeId([...ids(ID_MIN_ROWS), null, null])).toBe(true);
  });

  it('is false on fewer values (distinct by chance) or with any repeat', () => {
    expect(looksLikeId(ids(ID_MIN_ROWS - 1))).toBe(false);
    expect(looksLikeId([...ids(ID_MIN_ROWS), 'c000000'])).toBe(false);
  });
});

describe('numericColumn', () => {
  it('reads numbers, turns missing markers into NaN, and lists other unreadable cells', () => {
    const { column, invalid } = numericColumn(['1', 'NaN', null, ' 2.5 ', 'oops', '']);
    expect(column).toBeInstanceOf(Float64Array);
    expect([...column]).toEqual([1, NaN, NaN, 2.5, NaN, NaN]);
    expect(invalid).toEqual(['oops']);
  });
});

describe('driftColumn', () => {
  it('gives a numeric column as a Float64Array and a categorical one as the cells themselves', () => {
    const cells = ['1', '2', 'x'];
    expect(driftColumn('numeric', cells)).toEqual({ column: Float64Array.from([1, 2, NaN]), invalid: ['x'] });
    expect(driftColumn('categorical', cells)).toEqual({ column: cells, invalid: [] });
  });
});

describe('columnCells', () => {
  const table: Table = {
    columns: ['id', 'plan', 'seats'],
    rows: [
      ['a', 'basic', '3'],
      ['b', 'pro'],
      ['c', null, '5'],
    ],
  };

  it('returns one column by header, with a short row read as missing', () => {
    expect(columnCells(table, 'plan')).toEqual(['basic', 'pro', null]);
    expect(columnCells(table, 'seats')).toEqual(['3', null, '5']);
  });

  it('refuses a column the table does not have', () => {
    expect(() => columnCells(table, 'region')).toThrow(/"region" is not in the table/);
  });
});
