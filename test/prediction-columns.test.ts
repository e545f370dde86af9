import { describe, expect, it } from 'vitest';
import { PredictionColumnsBuilder, type PredictionColumns, type Reservoir } from '../lib/prediction-columns';
import type { PredictionLine } from '../lib/prediction-log';

/**
 * Line `i` carries its index in every column, so a kept row can be checked to be one whole
 * input line. Some columns are only on some lines, and `late` first appears at line 15, after
 * a small reservoir is full, to exercise padding on replacement.
 */
function line(i: number): PredictionLine {
  return {
    id: `p-${i}`,
    timestamp: new Date(Date.UTC(2024, 4, 1) + i * 1000).toISOString(),
    model: 'churn',
    version: `v${i}`,
    features: { index: i, label: `f-${i}`, ...(i % 3 === 0 ? { third: i } : {}), ...(i >= 15 && i % 2 === 1 ? { late: `late-${i}` } : {}) },
    prediction: i % 4 === 0 ? `c-${i}` : i,
    ...(i % 2 === 0 ? { score: i / 1000, scores: { a: i, ...(i % 4 === 0 ? { b: -i } : {}) } } : {}),
    latencyMs: i,
    ...(i % 5 === 0 ? {} : { cost: i * 10 }),
  };
}

function build(n: number, reservoir?: Reservoir): { columns: PredictionColumns; seen: number } {
  const builder = new PredictionColumnsBuilder(reservoir);
  for (let i = 0; i < n; i++) builder.add(line(i));
  return { columns: builder.build(), seen: builder.seen };
}

/** The input index of each kept row, after checking every column of the row agrees with it. */
function keptIndices(c: PredictionColumns): number[] {
  const out: number[] = [];
  for (let r = 0; r < c.rows; r++) {
    const i = Number(c.ids[r].slice(2));
    expect(c.versions[r]).toBe(`v${i}`);
    expect(c.timestamps[r]).toBe(Date.UTC(2024, 4, 1) + i * 1000);
    expect((c.features.index as Float64Array)[r]).toBe(i);
    expect((c.features.label as string[])[r]).toBe(`f-${i}`);
    if (i % 3 === 0) expect((c.features.third as Float64Array)[r]).toBe(i);
    else expect((c.features.third as Float64Array)[r]).toBeNaN();
    if (c.features.late) expect((c.features.late as (string | null)[])[r]).toBe(i >= 15 && i % 2 === 1 ? `late-${i}` : null);
    expect((c.predictions as (string | null)[])[r]).toBe(i % 4 === 0 ? `c-${i}` : String(i));
    expect(c.score![r]).toBe(i % 2 === 0 ? i / 1000 : NaN);
    expect(c.scores!.a[r]).toBe(i % 2 === 0 ? i : NaN);
    expect(c.scores!.b[r]).toBe(i % 4 === 0 ? -i : NaN);
    expect(c.latencyMs[r]).toBe(i);
    expect(c.cost[r]).toBe(i % 5 === 0 ? NaN : i * 10);
    out.push(i);
  }
  return out;
}

describe('PredictionColumnsBuilder', () => {
  it('keeps every line in order without a reservoir, and with one that is never full', () => {
    const plain = build(40);
    expect(plain.seen).toBe(40);
    expect(plain.columns.rows).toBe(40);
    expect(keptIndices(plain.columns)).toEqual([...Array(40).keys()]);
    expect(build(40, { maxRows: 40, seed: 1 })).toEqual(plain);
  });

  it('keeps exactly maxRows whole input lines, the same ones for the same seed', () => {
    const { columns, seen } = build(200, { maxRows: 10, seed: 42 });
    expect(seen).toBe(200);
    expect(columns.rows).toBe(10);
    for (const column of [
      columns.ids,
      columns.versions,
      columns.timestamps,
      columns.predictions,
      columns.latencyMs,
      columns.cost,
      columns.score!,
      ...Object.values(columns.features),
      ...Object.values(columns.scores!),
    ]) {
      expect(column).toHaveLength(10);
    }
    const kept = keptIndices(columns);
    expect(new Set(kept).size).toBe(10);
    expect(kept.some((i) => i >= 10)).toBe(true);
    expect(columns.features.late).toBeDefined(); // first seen in a line that replaced a row
    expect(build(200, { maxRows: 10, seed: 42 })).toEqual({ columns, seen });
    expect(keptIndices(build(200, { maxRows: 10, seed: 43 }).columns)).not.toEqual(kept);
  });

  it('keeps each input line with probability maxRows / seen', () => {
    const n = 100;
    const maxRows = 10;
    const seeds = 2000;
    const counts = new Array<number>(n).fill(0);
    for (let seed = 1; seed <= seeds; seed++) for (const id of build(n, { maxRows, seed }).columns.ids) counts[Number(id.slice(2))]++;
    // Each count is Binomial(2000, 0.1): mean 200, sd ≈ 13.4; ±60 is about 4.5 sd.
    const expected = (seeds * maxRows) / n;
    for (const count of counts) expect(Math.abs(count - expected)).toBeLessThan(60);
    // The first and last halves of the input are equally represented (no bias toward early lines).
    const firstHalf = counts.slice(0, n / 2).reduce((a, b) => a + b, 0);
    expect(Math.abs(firstHalf / (seeds * maxRows) - 0.5)).toBeLessThan(0.02);
  });

  it('rejects a maxRows that is not a positive integer', () => {
    expect(() => new PredictionColumnsBuilder({ maxRows: 0, seed: 1 })).toThrow(/maxRows/);
  });
});
