/**
 * Deterministic train/holdout split. The same rows, seed and fraction always give the same
 * split on every machine, so a retried or rerun step reproduces it exactly. For classification
 * the split is stratified by label, so a rare class reaches the holdout too.
 */
export interface Split {
  train: Uint32Array;
  holdout: Uint32Array;
}

/** Splits row indexes `0..rowCount-1`; `strata` (labels) makes it stratified when given. */
export function splitIndexes(rowCount: number, fraction: number, seed: number, strata?: (string | null)[]): Split {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < rowCount; i++) {
    const key = strata ? String(strata[i]) : '';
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  }
  const random = mulberry32(seed);
  // Every row lands in exactly one of the two, so their sizes are known once the groups are
  // shuffled. Filled element by element: spreading a group into push() puts every row on the
  // call stack, which overflows from a few hundred thousand rows on.
  const takes: [number[], number][] = [];
  let holdoutRows = 0;
  for (const key of [...groups.keys()].sort()) {
    const group = shuffle(groups.get(key)!, random);
    // At least one holdout row per group when the group has two or more rows, and at least
    // one train row too: a large fraction must not leave a class (or all rows) out of training.
    const take = group.length > 1 ? Math.min(group.length - 1, Math.max(1, Math.round(group.length * fraction))) : 0;
    takes.push([group, take]);
    holdoutRows += take;
  }
  const train = new Uint32Array(rowCount - holdoutRows);
  const holdout = new Uint32Array(holdoutRows);
  let t = 0;
  let h = 0;
  for (const [group, take] of takes) {
    for (let i = 0; i < take; i++) holdout[h++] = group[i];
    for (let i = take; i < group.length; i++) train[t++] = group[i];
  }
  // A typed array sorts numerically, in place.
  return { train: train.sort(), holdout: holdout.sort() };
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

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
