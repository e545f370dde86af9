/**
 * Drift test names and the feature kinds each takes, without the tests themselves: the pipeline
 * schema validates against these, and it is bundled into workflows, which must not carry the
 * statistics engine (stattests.ts and what it imports).
 */

import type { FeatureKind } from '../feature-kind';

/** Every test name, as Evidently registers it (a tuple, so it can feed `z.enum`). */
export const STATTEST_NAMES = ['psi', 'jensenshannon', 'wasserstein', 'ks', 'chisquare', 'z'] as const;
export type StattestName = (typeof STATTEST_NAMES)[number];

/** Feature kinds each test accepts. chisquare and z also take numeric samples (values as categories), as Evidently's default choice applies them to numeric columns with few values. */
export const STATTEST_KINDS: Readonly<Record<StattestName, readonly FeatureKind[]>> = Object.freeze({
  psi: ['numeric', 'categorical'],
  jensenshannon: ['numeric', 'categorical'],
  wasserstein: ['numeric'],
  ks: ['numeric'],
  chisquare: ['numeric', 'categorical'],
  z: ['numeric', 'categorical'],
});

/** True when `s` is one of {@link STATTEST_NAMES}. */
export function isStattestName(s: unknown): s is StattestName {
  return typeof s === 'string' && (STATTEST_NAMES as readonly string[]).includes(s);
}
