import { describe, expect, it } from 'vitest';
import { ColumnSample } from '../lib/column-sample.js';
import { CsvColumnReader } from '../lib/csv-column-reader.js';

/** Reads CSV text into a sample, in chunks of `chunk` bytes (records cut across chunks). */
function read(csv: string, opts: ConstructorParameters<typeof ColumnSample>[0], chunk = 7) {
  const sample = new ColumnSample(opts);
  const reader = new CsvColumnReader('test.csv', (header) => sample.sinkFor(header));
  const bytes = Buffer.from(csv);
  for (let at = 0; at < bytes.length; at += chunk) reader.push(bytes.subarray(at, at + chunk));
  reader.end();
  return sample.build();
}

const COLUMNS = [
  { name: 'spend', kind: 'numeric' as const },
  { name: 'plan', kind: 'categorical' as const },
];

describe('ColumnSample', () => {
  it('keeps the chosen columns only, numbers as numbers and categories as text, missing as NaN and null', () => {
    const csv = 'id,spend,plan,label\nc1,12.5,basic,yes\nc2,,pro,no\nc3,n/a,,yes\n"c4",1e3,"enterprise, eu",no\n';
    const { columns, rows, seen, present } = read(csv, { columns: COLUMNS, maxRows: 10, seed: 1 });

    expect({ rows, seen, present }).toEqual({ rows: 4, seen: 4, present: ['spend', 'plan'] });
    expect(Object.keys(columns)).toEqual(['spend', 'plan']);
    expect(Array.from(columns.spend as Float64Array)).toEqual([12.5, NaN, NaN, 1000]);
    expect(columns.plan).toEqual(['basic', 'pro', null, 'enterprise, eu']);
  });

  it('gives a column the header lacks as all missing, and leaves it out of present', () => {
    const { columns, present } = read('spend\n1\n2\n', { columns: COLUMNS, maxRows: 10, seed: 1 });
    expect(present).toEqual(['spend']);
    expect(columns.plan).toEqual([null, null]);
  });

  it('keeps a uniform sample of maxRows rows beyond the bound, the same rows for the same seed', () => {
    const csv = 'i,group\n' + Array.from({ length: 5000 }, (_, i) => `${i},g${i % 7}`).join('\n') + '\n';
    const opts = {
      columns: [
        { name: 'i', kind: 'numeric' as const },
        { name: 'group', kind: 'categorical' as const },
      ],
      maxRows: 500,
    };
    const a = read(csv, { ...opts, seed: 11 }, 4096);
    const again = read(csv, { ...opts, seed: 11 }, 999);
    const other = read(csv, { ...opts, seed: 12 }, 4096);

    expect({ rows: a.rows, seen: a.seen }).toEqual({ rows: 500, seen: 5000 });
    const kept = Array.from(a.columns.i as Float64Array);
    expect(new Set(kept).size).toBe(500);
    expect(kept.filter((i) => i >= 500).length).toBeGreaterThan(400); // not just the first rows
    const mean = kept.reduce((s, v) => s + v, 0) / kept.length;
    expect(Math.abs(mean - 2499.5)).toBeLessThan(200); // standard error of the mean ≈ 65
    // Each kept row keeps its own cells together.
    expect((a.columns.group as string[]).every((g, k) => g === `g${kept[k]! % 7}`)).toBe(true);
    expect(Array.from(again.columns.i as Float64Array)).toEqual(kept);
    expect(Array.from(other.columns.i as Float64Array)).not.toEqual(kept);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new ColumnSample({ columns: COLUMNS, maxRows: 0, seed: 1 })).toThrow(RangeError);
  });
});
