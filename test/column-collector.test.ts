import { describe, expect, it } from 'vitest';
import { ColumnCollector, MAX_OPEN_CATEGORIES } from '../lib/drift/column-collector';
import { driftColumn, inferKind, looksLikeId } from '../lib/drift/column-kinds';
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
});
