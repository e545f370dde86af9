/**
 * Deterministic train/holdout split, decided row by row so that it streams: a row's place comes
 * from a seeded hash of its id (the pipeline's idColumn) or, without one, of its training cells.
 * The same rows, seed and fraction give the same split on every machine and in any order, so a
 * retried or rerun step reproduces it exactly; a row keeps its side when rows are added later,
 * and identical rows land on the same side (no copy of a holdout row in training).
 *
 * Each class (for classification; all rows for regression) gets about `fraction` of its rows. As
 * with the stratified split this replaces, a class of two or more rows gets at least one holdout
 * and at least one training row (a rare class must reach both), and a class of one row trains:
 * after one pass, {@link SplitTally.corrections} says which classes need a second pass that moves
 * their lowest-hash row into the holdout (or highest-hash row out of it).
 */
import { HASH53_RANGE, hashRow } from './row-hash';

/**
 * Where in [0, 1) a row falls for a seed, by the cells at `indexes` (its id, or its training
 * columns); the row is held out below the fraction.
 */
export function splitPoint(row: readonly (string | null)[], indexes: readonly number[], seed: number): number {
  return hashRow(row, indexes, seed) / HASH53_RANGE;
}

/** Which side a row of a class goes to, given its split point. */
export type SplitRule = (point: number) => boolean;

interface ClassTally {
  rows: number;
  holdout: number;
  lowest: number;
  highest: number;
}

/** The split of one pass, class by class, and the rules a second pass needs (if any). */
export class SplitTally {
  private readonly classes = new Map<string, ClassTally>();

  constructor(private readonly fraction: number) {}

  /** Whether a row of `group` with split point `point` goes to the holdout in the first pass. */
  assign(group: string, point: number): boolean {
    const held = point < this.fraction;
    const t = this.classes.get(group);
    if (!t) this.classes.set(group, { rows: 1, holdout: held ? 1 : 0, lowest: point, highest: point });
    else {
      t.rows++;
      if (held) t.holdout++;
      if (point < t.lowest) t.lowest = point;
      if (point > t.highest) t.highest = point;
    }
    return held;
  }

  /**
   * Per class whose first-pass split breaks the guarantees, the rule a second pass uses for it
   * (other classes keep `point < fraction`); null when the first pass stands.
   */
  corrections(): Map<string, SplitRule> | null {
    const rules = new Map<string, SplitRule>();
    for (const [group, t] of this.classes) {
      if (t.rows === 1 && t.holdout === 1) rules.set(group, () => false);
      else if (t.rows > 1 && t.holdout === 0) rules.set(group, (p) => p <= t.lowest);
      else if (t.rows > 1 && t.holdout === t.rows) rules.set(group, (p) => p < t.highest);
    }
    return rules.size > 0 ? rules : null;
  }
}

/** A small, well-known seeded PRNG: uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
