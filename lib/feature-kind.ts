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

/**
 * A pipeline's features with their kinds, and its output's kind: what a partitioned drift check
 * summarises. Here, free of imports, so the workflow that plans the check and the activities that
 * run it derive them the same way.
 */
export function summaryFeaturesOf(pipeline: {
  features: readonly { name: string; type: FeatureKind }[];
  task: 'classification' | 'regression';
}): { features: { name: string; kind: FeatureKind }[]; outputKind: FeatureKind } {
  return { features: pipeline.features.map((f) => ({ name: f.name, kind: f.type })), outputKind: outputKind(pipeline.task) };
}
