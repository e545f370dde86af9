/**
 * Effect-size floors for the hypothesis tests (ks, chisquare, z). On a large window a p-value
 * finds any difference "significant", however small: a KS statistic of 0.01 on a million rows
 * has p < 1e-40. A feature is called drifted only when its test is significant AND the
 * difference is at least the floor. The distance tests (psi, jensenshannon, wasserstein) are
 * effect sizes already: their threshold is their floor. Pure code, no imports of the engine, so
 * the pipeline schema and documentation can name the defaults.
 */

/** The tests a floor applies to, and the effect size each is floored on. */
export const EFFECT_MEASURES = {
  ks: 'ks_statistic',
  chisquare: 'cohens_w',
  z: 'cohens_h',
} as const;

/** A test that has a floor. */
export type FlooredTest = keyof typeof EFFECT_MEASURES;
/** An effect-size measure: the KS statistic D, Cohen's w (chi-square) or Cohen's h (two proportions). */
export type EffectMeasure = (typeof EFFECT_MEASURES)[FlooredTest];

/**
 * Default floors: the KS statistic 0.1 (the two CDFs differ by 10 points somewhere), and the
 * smallest effect Cohen calls "small" for the others: w = 0.1, h = 0.2 (for example 50% against
 * 40% of rows in one category).
 */
export const DEFAULT_MIN_EFFECT: Readonly<Record<FlooredTest, number>> = Object.freeze({ ks: 0.1, chisquare: 0.1, z: 0.2 });

/** True when `method` is a test with an effect-size floor. */
export function isFlooredTest(method: string): method is FlooredTest {
  return Object.hasOwn(EFFECT_MEASURES, method);
}

/** The part of a test result the floor reads. */
interface TestOutcome {
  method: string;
  statistic: number | null;
  pValue: number | null;
  drifted: boolean;
  note?: string;
  effect?: { measure: EffectMeasure; value: number; floor?: number };
  significant?: boolean;
}

/**
 * Holds a hypothesis test's verdict to an effect-size floor: drifted only when the test is
 * significant and the effect is at least `minEffect` (default {@link DEFAULT_MIN_EFFECT} of the
 * test). A significant result below the floor says so in its note. Results of other tests, and
 * results without a statistic (an empty window), are returned as they are.
 */
export function applyEffectFloor<T extends TestOutcome>(result: T, minEffect?: number): T {
  if (!isFlooredTest(result.method) || result.statistic === null) return result;
  const measure = EFFECT_MEASURES[result.method];
  const value = result.method === 'ks' ? result.statistic : result.effect?.measure === measure ? result.effect.value : null;
  if (value === null || !Number.isFinite(value)) return result;
  const floor = minEffect ?? DEFAULT_MIN_EFFECT[result.method];
  // Applied twice (a summary re-tested), the test's own verdict is the one kept the first time.
  const significant = result.significant ?? result.drifted;
  const drifted = significant && value >= floor;
  const below =
    significant && !drifted
      ? `significant (p = ${result.pValue === null ? '?' : result.pValue.toPrecision(3)}) but the effect (${EFFECT_LABELS[measure]} ${value.toPrecision(3)}) is below the floor of ${floor}: not drift`
      : undefined;
  const note = [result.note, below].filter(Boolean).join('; ');
  return { ...result, effect: { measure, value, floor }, significant, drifted, ...(note ? { note } : {}) };
}

/** How the report names each measure. */
export const EFFECT_LABELS: Readonly<Record<EffectMeasure, string>> = Object.freeze({
  ks_statistic: 'KS statistic',
  cohens_w: "Cohen's w",
  cohens_h: "Cohen's h",
});
