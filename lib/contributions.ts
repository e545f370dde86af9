/**
 * Which features pushed a prediction: the request and result of training/explain.py, which splits
 * one prediction's raw output into a base and one contribution per original feature (linear
 * models: coefficient × (value − training mean); tree ensembles: the Saabas path attribution), so
 * that base + Σ contributions = the raw output. Pure code: schemas, the top features, rendering.
 */

import { z } from 'zod';
import { formatIssues, TrainingContractError, type ErrorContext } from './errors';
import { FEATURE_KINDS } from './feature-kind';
import { modelOutputSchema } from './training-contract';

/** The contract id the request carries and the `kind` of the result line. */
export const CONTRIBUTIONS_CONTRACT = 'retrain.contributions/v1';

/** How the contributions were computed. */
export const ContributionMethod = {
  /** Linear model; base = the model's mean raw output on the training data. */
  LINEAR: 'linear',
  /**
   * Linear model whose training mean is unknown for some columns (one-hot columns of a version
   * without category counts): those are measured from 0, the encoder's "no category" reference,
   * so a category's contribution is its whole coefficient and base is not a training mean.
   */
  LINEAR_REFERENCE: 'linear-reference',
  /** Tree ensemble: Saabas path attribution (each split's change in node value goes to its feature). */
  TREE_PATH: 'tree-path',
  /** No decomposition for this model (a dummy, another estimator or preprocessing): see `reason`. */
  UNSUPPORTED: 'unsupported',
} as const;
export type ContributionMethod = (typeof ContributionMethod)[keyof typeof ContributionMethod];

/** What `base`, `value` and the contributions are measured in. */
export const ContributionOutput = {
  /** Binary classification: log-odds of the row's `class` (logistic regression, gradient boosting). */
  LOG_ODDS: 'log-odds',
  /** More than two classes: the softmax score (logit) of the row's `class`. */
  LOGIT: 'logit',
  /** Probability of the row's `class` (random forest). */
  PROBABILITY: 'probability',
  /** Regression: the predicted value itself. */
  VALUE: 'value',
} as const;
export type ContributionOutput = (typeof ContributionOutput)[keyof typeof ContributionOutput];

/** A logged feature value: a number, a category, or missing (as in the prediction log). */
const featureValueSchema = z.union([z.number(), z.string(), z.null()], { error: 'expected a number, a string or null' });
const categoryCountsSchema = z.object({
  counts: z.record(z.string(), z.number().int().nonnegative()),
  missing: z.number().int().nonnegative(),
});

/** The request file training/explain.py reads: a predict request's model fields plus inline rows. */
export const contributionsRequestSchema = z
  .object({
    contract: z.literal(CONTRIBUTIONS_CONTRACT),
    task: z.enum(['classification', 'regression']),
    /** Directory the version's artefacts were copied into, and artefact name → file inside it. */
    modelDir: z.string().min(1),
    artifacts: z.record(z.string(), z.string().min(1)).refine((a) => 'model' in a, 'must name a "model" artifact'),
    features: z
      .array(z.object({ name: z.string().min(1), type: z.enum(FEATURE_KINDS) }))
      .min(1)
      .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, 'feature names must be unique'),
    /** The version's classes (classification), checked against the model's. */
    classes: z.array(z.string()).min(2).nullable(),
    /** The class whose output is explained; default: the second class of two, else each row's predicted class. */
    positiveClass: z.string().min(1).optional(),
    /** One object of feature values per prediction to explain; every feature must be present (null for missing). */
    rows: z.array(z.record(z.string(), featureValueSchema)).min(1),
    /**
     * Training-split category counts per categorical feature (the version's reference profile):
     * they give the training mean of one-hot columns, so a linear model's base is a true mean.
     */
    categoryCounts: z.record(z.string(), categoryCountsSchema).optional(),
  })
  .refine((r) => r.positiveClass === undefined || (r.classes ?? []).includes(r.positiveClass), {
    path: ['positiveClass'],
    message: 'must be one of classes',
  });
/** A request for training/explain.py. */
export type ContributionsRequest = z.infer<typeof contributionsRequestSchema>;

/** One explained prediction: base + Σ contributions = value (the model's raw output for the row). */
const explainedRowSchema = modelOutputSchema.extend({
  /** The class whose output is explained; null for regression. */
  class: z.string().nullable(),
  base: z.number(),
  value: z.number(),
  /** Per original feature (one-hot columns summed back to their feature), in the request's feature order. */
  contributions: z.record(z.string(), z.number()),
});
/** One prediction with its contributions. */
export type ExplainedRow = z.infer<typeof explainedRowSchema>;

/** The one JSON line training/explain.py prints on stdout. */
export const contributionsSchema = z.discriminatedUnion('method', [
  z.object({
    kind: z.literal(CONTRIBUTIONS_CONTRACT),
    method: z.enum([ContributionMethod.LINEAR, ContributionMethod.LINEAR_REFERENCE, ContributionMethod.TREE_PATH]),
    output: z.enum(Object.values(ContributionOutput) as [ContributionOutput, ...ContributionOutput[]]),
    /** The estimator's class name, e.g. LogisticRegression. */
    estimator: z.string(),
    rows: z.array(explainedRowSchema),
    /** How the numbers were computed, in words. */
    note: z.string(),
  }),
  z.object({
    kind: z.literal(CONTRIBUTIONS_CONTRACT),
    method: z.literal(ContributionMethod.UNSUPPORTED),
    output: z.null(),
    /** Null when the model file could not be loaded. */
    estimator: z.string().nullable(),
    /** Why there are no contributions (not an error: the model is simply not decomposed). */
    reason: z.string().min(1),
    /** The predictions, when the model could make them. */
    rows: z.array(modelOutputSchema.extend({ prediction: modelOutputSchema.shape.prediction.nullable() })),
  }),
]);
/** A validated result: contributions per row, or `unsupported` with a reason. */
export type Contributions = z.infer<typeof contributionsSchema>;

/**
 * Validates what training/explain.py printed on stdout: exactly one line, a JSON object matching
 * {@link contributionsSchema}, with one row per requested row. A broken result is the script's
 * bug, not retried.
 * @throws TrainingContractError naming what was wrong.
 */
export function parseContributions(stdoutLines: readonly string[], expectedRows: number, context: ErrorContext): Contributions {
  if (stdoutLines.length !== 1) {
    const first = stdoutLines.length ? ` (the first: ${stdoutLines[0]!.slice(0, 200)})` : '';
    throw new TrainingContractError(
      `explain printed ${stdoutLines.length} lines on stdout, expected exactly one JSON line${first}`,
      context,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(stdoutLines[0]!);
  } catch (err) {
    throw new TrainingContractError(`explain's result line is not valid JSON (${(err as Error).message})`, context);
  }
  const parsed = contributionsSchema.safeParse(json);
  if (!parsed.success) throw new TrainingContractError(formatIssues("explain's result line", parsed.error.issues), context);
  if (parsed.data.rows.length !== expectedRows) {
    throw new TrainingContractError(`explain returned ${parsed.data.rows.length} rows for ${expectedRows} requested`, context);
  }
  return parsed.data;
}

/** One feature's push on one prediction. */
export interface FeatureContribution {
  feature: string;
  /** Positive: towards the row's class (or a higher value); negative: away from it. */
  contribution: number;
}

/**
 * The `n` features with the largest |contribution|, largest first (ties by name, so the order is
 * stable), with their signs. Fewer when the row has fewer features.
 */
export function topContributions(row: Pick<ExplainedRow, 'contributions'>, n: number): FeatureContribution[] {
  return Object.entries(row.contributions)
    .map(([feature, contribution]) => ({ feature, contribution }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : 0))
    .slice(0, Math.max(0, n));
}

/**
 * One contribution for people: `tenure_months +0.42 (pushed towards "yes")`,
 * `plan -0.31 (pushed away from "yes")`, or for regression `seats +3.1 (pushed the value up)`.
 */
export function describeContribution(item: FeatureContribution, row: Pick<ExplainedRow, 'class'>): string {
  const { feature, contribution } = item;
  const number = `${contribution > 0 ? '+' : contribution < 0 ? '-' : ''}${formatMagnitude(Math.abs(contribution))}`;
  let effect: string;
  if (contribution === 0) effect = 'no effect';
  else if (row.class === null) effect = `pushed the value ${contribution > 0 ? 'up' : 'down'}`;
  else effect = `pushed ${contribution > 0 ? 'towards' : 'away from'} ${JSON.stringify(row.class)}`;
  return `${feature} ${number} (${effect})`;
}

/** Two decimals, or two significant digits for a magnitude below 0.1 (a probability's 0.012). */
function formatMagnitude(x: number): string {
  if (x === 0) return '0';
  return x >= 0.1 ? x.toFixed(2) : x.toPrecision(2);
}
