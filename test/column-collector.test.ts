import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../lib/column-storage';
import { parseTable } from '../lib/table';
import { ColumnFiles } from '../services/column-files';
import { readFileColumns } from '../services/file-columns';
import { ColumnCollector, MAX_OPEN_CATEGORIES } from '../lib/drift/column-collector';
import { columnCells, driftColumn, inferKind, looksLikeId, numericColumn } from '../lib/drift/column-kinds';
import { mulberry32 } from '../lib/split';

/** What the collector gives for cells, and what the cell-based functions give: they must agree. */
function both(cells: (string | null)[]) {
  const collector = new ColumnCollector(null);
  for (const cell of cells) collector.add(cell);
  const kind = inferKind(cells);
  expect(collector.inferredKind()).toBe(kind);
  expect(collector.length).toBe(cells.length);
  // A column that needs its cells read again is judged on those cells (drift-report does so).
  if (kind === 'categorical' && !collector.needsCells) {
    expect(collector.looksLikeId()).toBe(looksLikeId(cells));
    expect(collector.categorical()).toEqual(driftColumn(kind, cells).column);
  } else if (kind === 'categorical') {
    expect(() => collector.categorical()).toThrow(/numbers only/);
  } else {
    const { column, invalid } = driftColumn(kind, cells) as { column: Float64Array; invalid: string[] };
    const got = collector.numeric();
    expect([...got.column]).toEqual([...column]);
    expect(got.invalid).toBe(invalid.length);
  }
  return collector;
}

describe('ColumnCollector', () => {
  it('agrees with inferKind, looksLikeId and driftColumn on generated columns', () => {
    const random = mulberry32(11);
    const pools = [
      () => String(Math.floor(random() * 1000) / 10),
      () => (random() < 0.5 ? '0' : '1'),
      () => ['a', 'b', 'c'][Math.floor(random() * 3)]!,
      () => ['NaN', 'NA', '', 'null', 'x'][Math.floor(random() * 5)]!,
      () => `id-${Math.floor(random() * 1e9)}`,
    ];
    for (let k = 0; k < 300; k++) {
      const n = Math.floor(random() * 60);
      const mix = pools.filter(() => random() < 0.5);
      if (mix.length === 0) mix.push(pools[0]!);
      const cells = Array.from({ length: n }, () => {
        if (random() < 0.1) return null;
        const cell = mix[Math.floor(random() * mix.length)]!();
        return cell === '' ? null : cell;
      });
      both(cells);
    }
  });

  it('keeps the given kind for a current file: numbers with invalid cells counted, or categories', () => {
    const numeric = new ColumnCollector('numeric');
    for (const cell of ['1', 'x', null, 'NaN', '2.5']) numeric.add(cell);
    expect([...numeric.numeric().column]).toEqual([1, NaN, NaN, NaN, 2.5]);
    expect(numeric.numeric()).toMatchObject({ invalid: 1, examples: ['x'] });
    const categorical = new ColumnCollector('categorical');
    for (const cell of ['1', 'x', null, 'x']) categorical.add(cell);
    expect(categorical.categorical()).toEqual(['1', 'x', null, 'x']);
  });

  it('drops its categories past many distinct numbers, and asks for the cells if text comes after', () => {
    const numbers = Array.from({ length: MAX_OPEN_CATEGORIES + 10 }, (_, i) => String(i));
    expect(both(numbers).needsCells).toBe(false);
    const late = both([...numbers, 'text']);
    expect(late.inferredKind()).toBe('categorical');
    expect(late.needsCells).toBe(true);
  });

  it('reads a CSV file from bytes into the same columns as cell by cell, in memory and in column files', async () => {
    const random = mulberry32(3);
    const n = MAX_OPEN_CATEGORIES * 3;
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const makers: Record<string, (i: number) => string> = {
      real: () => (random() < 0.05 ? pick(['', 'NaN', 'NA']) : (random() * 200 - 100).toFixed(Math.floor(random() * 6))),
      few: () => String(Math.floor(random() * 40)),
      flag: () => pick(['0', '1']),
      plan: () => pick(['free', 'pro', 'team', '"pro, annual"', 'équipe', '', '\uFEFFpro']),
      id: (i) => `u-${i}`,
      late: (i) => (i === n - 5 ? 'text' : String(i)),
      wide: () => String(1e16 + Math.floor(random() * 1e6)),
      bad: () => (random() < 0.01 ? 'oops' : String(random())),
    };
    const names = Object.keys(makers);
    const lines = [names.join(',')];
    for (let i = 0; i < n; i++) lines.push(names.map((name) => makers[name]!(i)).join(','));
    const dir = mkdtempSync(join(tmpdir(), 'retrain-columns-'));
    const path = join(dir, 'data.csv');
    writeFileSync(path, lines.join('\n') + '\n');
    try {
      const table = parseTable(readFileSync(path), 'csv', path);
      const files = new ColumnFiles();
      for (const storage of [memoryStorage, files]) {
        const read = await readFileColumns(path, { what: path, kinds: null, storage });
        expect(read.rows).toBe(n);
        expect(read.columns).toEqual(names);
        for (const name of names) {
          const collector = read.collectors.get(name)!;
          const cells = columnCells(table, name);
          const byCell = new ColumnCollector(null);
          for (const cell of cells) byCell.add(cell);
          const about = `${name} (${storage === files ? 'files' : 'memory'})`;
          expect(collector.inferredKind(), about).toBe(byCell.inferredKind());
          expect(collector.inferredKind(), about).toBe(inferKind(cells));
          expect(collector.looksLikeId(), about).toBe(byCell.looksLikeId());
          expect(collector.needsCells, about).toBe(byCell.needsCells);
          expect(collector.invalidCells(), about).toEqual(byCell.invalidCells());
          if (collector.inferredKind() === 'numeric')
            expect([...collector.numeric().column], about).toEqual([...numericColumn(cells).column]);
          else if (!collector.needsCells) {
            expect(collector.categorical(), about).toEqual(cells);
            const counts = new Map<string, number>();
            for (const cell of cells) if (cell !== null) counts.set(cell, (counts.get(cell) ?? 0) + 1);
            expect(collector.categoryCounts(), about).toEqual({ counts, rows: n, missing: cells.filter((c) => c === null).length });
          }
        }
        // The current file, read with the reference's kinds: numbers and categories from bytes from the first row.
        const kinds = new Map(names.map((name) => [name, read.collectors.get(name)!.inferredKind()]));
        const current = await readFileColumns(path, { what: path, kinds, storage });
        for (const name of names) {
          const cells = columnCells(table, name);
          const collector = current.collectors.get(name)!;
          if (kinds.get(name) === 'numeric') expect([...collector.numeric().column], name).toEqual([...numericColumn(cells).column]);
          else expect(collector.categorical(), name).toEqual(cells);
        }
      }
      files.remove();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
