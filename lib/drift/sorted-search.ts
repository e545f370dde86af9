/** Binary search in ascending values. Pure. */

/** How many of the ascending `sorted` values are below `x` (`< x`), or, `inclusive`, at most `x` (`<= x`). */
export function countBelow(sorted: ArrayLike<number>, x: number, inclusive = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (inclusive ? sorted[mid]! <= x : sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
