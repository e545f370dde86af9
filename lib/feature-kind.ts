/**
 * The two kinds of column Retrain knows, one word each everywhere: pipeline features, drift
 * tests, reference profiles, reports and `drift-report --json`.
 */
export const FEATURE_KINDS = ['numeric', 'categorical'] as const;
export type FeatureKind = (typeof FEATURE_KINDS)[number];

/** The kind of a model's output: numbers for regression, class labels for classification. */
export function outputKind(task: 'classification' | 'regression'): FeatureKind {
  return task === 'regression' ? 'numeric' : 'categorical';
}
