import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { mulberry32, splitIndexes, type Split } from '../lib/split';

const labels = (n: number, rareEvery: number) => Array.from({ length: n }, (_, i) => (i % rareEvery === 0 ? 'yes' : 'no'));

/** Train and holdout are sorted, do not overlap, and together are exactly 0..n-1. */
function expectPartition(split: Split, n: number): void {
  const all = [...split.train, ...split.holdout].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(new Set(all).size).toBe(n);
  expect([...split.train]).toEqual([...split.train].sort((a, b) => a - b));
  expect([...split.holdout]).toEqual([...split.holdout].sort((a, b) => a - b));
}

describe('splitIndexes', () => {
  it('gives the same split for the same rows, fraction and seed', () => {
    const a = splitIndexes(500, 0.2, 7);
    const b = splitIndexes(500, 0.2, 7);
    expect([...a.train]).toEqual([...b.train]);
    expect([...a.holdout]).toEqual([...b.holdout]);
    const strata = labels(500, 5);
    expect(splitIndexes(500, 0.2, 7, strata)).toEqual(splitIndexes(500, 0.2, 7, [...strata]));
  });

  it('gives a different split for another seed', () => {
    const a = splitIndexes(500, 0.2, 7);
    const b = splitIndexes(500, 0.2, 8);
    expect([...a.holdout]).not.toEqual([...b.holdout]);
    expect(b.holdout.length).toBe(a.holdout.length);
  });

  it('is pinned to known output, so a stored split can always be reproduced', () => {
    // Changing these values changes every split ever made: do so only on purpose.
    expect([...splitIndexes(10, 0.3, 7).holdout]).toEqual([5, 6, 8]);
    const ab = Array.from({ length: 12 }, (_, i) => (i % 2 ? 'b' : 'a'));
    expect([...splitIndexes(12, 0.25, 7, ab).holdout]).toEqual([2, 7, 8, 9]);
    const random = mulberry32(7);
    expect([random(), random(), random()]).toEqual([0.011704753153026104, 0.06195825757458806, 0.97690763277933]);
  });

  it('is a disjoint and complete partition of the rows', () => {
    for (const [n, fraction, seed] of [
      [1, 0.2, 1],
      [2, 0.5, 1],
      [37, 0.25, 3],
      [1000, 0.1, 99],
    ] as const) {
      expectPartition(splitIndexes(n, fraction, seed), n);
      expectPartition(splitIndexes(n, fraction, seed, labels(n, 3)), n);
    }
  });

  it('honours the fraction within rounding', () => {
    for (const [n, fraction] of [
      [100, 0.2],
      [101, 0.2],
      [999, 0.33],
      [10, 0.25],
    ] as const) {
      const { holdout, train } = splitIndexes(n, fraction, 7);
      expect(holdout.length).toBe(Math.round(n * fraction));
      expect(train.length).toBe(n - holdout.length);
    }
  });

  it('honours the fraction within rounding per class when stratified', () => {
    const strata = labels(1000, 10); // 100 "yes", 900 "no"
    const { holdout } = splitIndexes(1000, 0.2, 7, strata);
    expect(holdout.length).toBe(200);
    expect([...holdout].filter((i) => strata[i] === 'yes')).toHaveLength(20);
  });

  it('keeps a rare class in the holdout when stratified', () => {
    // 3 rows of "yes" in 200: 3 * 0.1 rounds to 0, yet one still reaches the holdout.
    const strata = Array.from({ length: 200 }, (_, i) => (i < 3 ? 'yes' : 'no'));
    for (const seed of [1, 2, 3, 4, 5]) {
      const { holdout, train } = splitIndexes(200, 0.1, seed, strata);
      expect(new Set([...holdout].map((i) => strata[i]))).toEqual(new Set(['yes', 'no']));
      expect(new Set([...train].map((i) => strata[i]))).toEqual(new Set(['yes', 'no']));
    }
  });

  it('keeps at least one row of each class in train, even for a large fraction', () => {
    const strata = ['a', 'a', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b'];
    const { holdout, train } = splitIndexes(strata.length, 0.9, 7, strata);
    expect(new Set([...train].map((i) => strata[i]))).toEqual(new Set(['a', 'b']));
    expect(new Set([...holdout].map((i) => strata[i]))).toEqual(new Set(['a', 'b']));
    expect(splitIndexes(10, 0.99, 7).train.length).toBeGreaterThan(0);
  });

  it('keeps a class of one row in train', () => {
    const strata = ['only', 'x', 'x', 'x', 'x'];
    const { train } = splitIndexes(5, 0.4, 7, strata);
    expect([...train]).toContain(0);
  });

  it('does not depend on the order in which classes first appear', () => {
    const a = ['p', 'q', 'p', 'q', 'p', 'q', 'p', 'q'];
    const b = a.map((l) => (l === 'p' ? 'q' : 'p'));
    const sa = splitIndexes(8, 0.5, 3, a);
    expectPartition(sa, 8);
    expectPartition(splitIndexes(8, 0.5, 3, b), 8);
    expect([...sa.holdout].filter((i) => a[i] === 'p')).toHaveLength(2);
  });

  it('handles no rows', () => {
    expect(splitIndexes(0, 0.2, 7)).toEqual({ train: new Uint32Array(), holdout: new Uint32Array() });
  });
});

describe('splitIndexes on a large dataset', () => {
  const ROWS = 1_500_000;
  /** Three classes, one of them rare: 'yes' every 7th row, 'maybe' every 11th of the rest. */
  const threeClasses = (n: number) => Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 'yes' : i % 11 === 0 ? 'maybe' : 'no'));
  const digest = (split: Split) =>
    createHash('sha256').update(Buffer.from(split.train.buffer)).update('|').update(Buffer.from(split.holdout.buffer)).digest('hex');

  /** The same checks as expectPartition, in loops: matchers over millions of elements are slow. */
  function expectLargePartition(split: Split, n: number): void {
    const seen = new Uint8Array(n);
    let sorted = true;
    for (const part of [split.train, split.holdout]) {
      for (let i = 0; i < part.length; i++) {
        seen[part[i]]++;
        if (i > 0 && part[i - 1] >= part[i]) sorted = false;
      }
    }
    expect(split.train.length + split.holdout.length).toBe(n);
    expect(seen.every((count) => count === 1)).toBe(true);
    expect(sorted).toBe(true);
  }

  // The digests are those of the split before it was rewritten without spreading arrays into
  // push() (computed with a stack large enough for it): the same rows and seed still give the
  // same train and holdout.
  it('splits 1.5 million rows without stratification, as before', () => {
    const split = splitIndexes(ROWS, 0.2, 7);
    expectLargePartition(split, ROWS);
    expect(split.holdout.length).toBe(300_000);
    expect(digest(split)).toBe('a465f54a853532fe2bf8d56601acd17f30b1b70a3dda8de343b7c3e390f1d3cd');
  });

  it('splits 1.5 million rows stratified by label, as before', () => {
    const strata = threeClasses(ROWS);
    const split = splitIndexes(ROWS, 0.2, 7, strata);
    expectLargePartition(split, ROWS);
    expect(split.holdout.length).toBe(300_000);
    expect(digest(split)).toBe('da704bc691fcd9eeb0d36744a0ebfd217c5988a2b7125da5ea90d855a7633c83');
  });
});
