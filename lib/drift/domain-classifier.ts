/**
 * Multivariate drift by a domain classifier (training/domain_classifier.py): a model trained to
 * tell reference rows from current rows. Per-feature tests compare one marginal at a time and miss
 * a change in the joint distribution (each marginal the same, a correlation flipped); the
 * classifier sees all features together, and its cross-validated ROC AUC is about 0.5 when the
 * windows come from one distribution. Pure code: the request and result schemas and the verdict.
 */

import { z } from 'zod';
import { formatIssues, InvalidInputError, TrainingContractError, type ErrorContext } from '../errors';
import { FEATURE_KINDS } from '../feature-kind';

/** The contract id the domain classifier's request and result line carry. */
export const DOMAIN_CLASSIFIER_CONTRACT = 'retrain.domain-classifier/v1';

/** Rows per window the classifier reads at most; a larger window is sampled uniformly (seeded). */
export const DEFAULT_DOMAIN_CLASSIFIER_MAX_ROWS = 20_000;
/** Cross-validation folds: every row is scored once by a model that did not see it. */
export const DEFAULT_DOMAIN_CLASSIFIER_FOLDS = 5;

/**
 * The AUC from which a difference between the windows counts as drift: an effect-size floor.
 *
 * An AUC of 0.55 is what a shift of 0.18 standard deviations in one normal feature gives
 * (AUC = Φ(d/√2)), just under what is conventionally a small effect (d = 0.2). With the default
 * 20,000 rows a side an AUC of 0.507 is already beyond chance, yet such a shift is the
 * everyday difference between any two periods of real data; a retrain for it would be noise.
 *
 * The floor alone is not enough on small windows, where chance alone reaches 0.55 (at 200 rows a
 * side the AUC of two samples of one distribution has a standard deviation of 0.029). So
 * {@link domainClassifierVerdict} also asks the AUC to be beyond chance for the rows used: above
 * 0.5 + z·SE₀, SE₀ being the AUC's standard error when the windows do not differ (see
 * {@link nullAucStandardError}), z {@link DOMAIN_CLASSIFIER_Z}. Whichever bar is higher decides:
 * the noise bar below about 360 rows a side, the floor above.
 */
export const DEFAULT_DOMAIN_CLASSIFIER_THRESHOLD = 0.55;

/**
 * Standard normal quantile for a one-sided test at 1%: a daily check on small windows raises a
 * false alarm by chance about once in a hundred days; on larger ones, where the floor decides, far
 * more rarely.
 */
export const DOMAIN_CLASSIFIER_Z = 2.326;

/** Importances listed in a verdict at most. */
export const TOP_FEATURES = 5;
/**
 * A feature is listed when shuffling it takes back at least this share of the AUC's excess over
 * 0.5: smaller drops are the noise of a single shuffle, not a feature the classifier relied on.
 */
export const MIN_IMPORTANCE_SHARE = 0.1;

/** Fewest rows each window needs for `folds` folds: each fold must hold rows of both windows. */
export function minDomainClassifierRows(folds: number = DEFAULT_DOMAIN_CLASSIFIER_FOLDS): number {
  return 2 * folds;
}

const featureSchema = z.object({ name: z.string().min(1), kind: z.enum(FEATURE_KINDS) });

/** The request file the domain classifier reads; defaults are filled by parsing. */
export const domainClassifierRequestSchema = z
  .object({
    contract: z.literal(DOMAIN_CLASSIFIER_CONTRACT),
    /** CSV with a header row and at least the feature columns; an empty cell is a missing value. */
    referencePath: z.string().min(1),
    currentPath: z.string().min(1),
    features: z
      .array(featureSchema)
      .min(1)
      .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, 'feature names must be unique'),
    /** Seeds the sampling, the folds, the trees and the shuffles: the same request gives the same result. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(0),
    maxRows: z.number().int().min(2).default(DEFAULT_DOMAIN_CLASSIFIER_MAX_ROWS),
    folds: z.number().int().min(2).max(100).default(DEFAULT_DOMAIN_CLASSIFIER_FOLDS),
    /** Importances are computed only for an AUC at least this high (nothing to explain below it). */
    threshold: z.number().gt(0.5).lt(1).default(DEFAULT_DOMAIN_CLASSIFIER_THRESHOLD),
  })
  .refine((r) => r.maxRows >= minDomainClassifierRows(r.folds), {
    path: ['maxRows'],
    message: 'must be at least 2 × folds, so that every fold holds rows of both windows',
  });
/** A complete request, as written for the classifier. */
export type DomainClassifierRequest = z.output<typeof domainClassifierRequestSchema>;
/** A request before defaults: seed, maxRows, folds and threshold may be left out. */
export type DomainClassifierRequestInput = z.input<typeof domainClassifierRequestSchema>;

const auc = z.number().min(0).max(1);
const perWindow = z.object({ reference: z.number().int().min(1), current: z.number().int().min(1) });

/** The one JSON line the classifier prints on stdout. */
export const domainClassifierResultSchema = z.object({
  contract: z.literal(DOMAIN_CLASSIFIER_CONTRACT),
  /** Out-of-fold ROC AUC of "current" against "reference": 0.5 is no difference. */
  auc,
  foldAucs: z.array(auc).min(2),
  /** Rows the classifier used per window (after sampling). */
  rows: perWindow,
  /** Rows each window had. */
  windowRows: perWindow,
  folds: z.number().int().min(2),
  seed: z.number().int(),
  threshold: z.number(),
  /**
   * Per feature, the drop in out-of-fold AUC when its values are shuffled, largest first; null
   * when the AUC was below the request's threshold (not computed).
   */
  importances: z.array(z.object({ name: z.string().min(1), importance: z.number() })).nullable(),
  libraryVersions: z.record(z.string(), z.string()).default({}),
});
/** A validated result line. */
export type DomainClassifierResult = z.infer<typeof domainClassifierResultSchema>;

/**
 * Validates what the classifier printed on stdout: exactly one line, a JSON object matching
 * {@link domainClassifierResultSchema}. A broken result is the command's bug, not retried.
 * @throws TrainingContractError naming what was wrong.
 */
export function parseDomainClassifierOutput(stdoutLines: readonly string[], context: ErrorContext): DomainClassifierResult {
  if (stdoutLines.length === 0) throw new TrainingContractError('the domain classifier printed no result line on stdout', context);
  if (stdoutLines.length > 1) {
    throw new TrainingContractError(
      `the domain classifier printed ${stdoutLines.length} lines on stdout, expected exactly one JSON result line (the first: ${excerpt(stdoutLines[0]!)})`,
      context,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(stdoutLines[0]!);
  } catch (err) {
    throw new TrainingContractError(
      `the domain classifier's result line is not valid JSON (${(err as Error).message}): ${excerpt(stdoutLines[0]!)}`,
      context,
    );
  }
  const parsed = domainClassifierResultSchema.safeParse(json);
  if (!parsed.success) throw new TrainingContractError(formatIssues("the domain classifier's result line", parsed.error.issues), context);
  return parsed.data;
}

/**
 * Standard error of the AUC of two windows that do not differ, with n₁ and n₂ rows: the
 * Hanley–McNeil formula at AUC = 0.5, √((n₁ + n₂ + 1) / (12·n₁·n₂)), which is also the exact
 * null variance of the Mann–Whitney statistic. Out-of-fold scores are scored by models that never
 * saw the rows, so the AUC of two samples of one distribution varies about this much around 0.5.
 */
export function nullAucStandardError(n1: number, n2: number): number {
  return Math.sqrt((n1 + n2 + 1) / (12 * n1 * n2));
}

/** What the domain classifier says about drift between the two windows. */
export interface DomainClassifierVerdict {
  /** The AUC reaches the threshold and is beyond chance for the rows used. */
  drifted: boolean;
  auc: number;
  threshold: number;
  /** The AUC chance alone stays below (one-sided 1%) for the rows used: 0.5 + z·SE₀. */
  noiseBar: number;
  /** The features that tell the windows apart best, by AUC drop when shuffled; empty without drift. */
  topFeatures: { name: string; importance: number }[];
  /** One sentence for a report: the verdict and why. */
  note: string;
}

/**
 * Drift when the AUC is at least `threshold` (an effect-size floor) and above the noise bar
 * 0.5 + z·SE₀ for the rows used (see {@link DEFAULT_DOMAIN_CLASSIFIER_THRESHOLD}).
 * @param threshold @default the threshold the classifier ran with (`result.threshold`)
 * @throws InvalidInputError for a threshold outside (0.5, 1).
 */
export function domainClassifierVerdict(result: DomainClassifierResult, threshold: number = result.threshold): DomainClassifierVerdict {
  if (!(threshold > 0.5 && threshold < 1)) {
    throw new InvalidInputError(`the domain classifier's threshold must be above 0.5 and below 1, got ${threshold}`);
  }
  const { reference, current } = result.rows;
  const noise = DOMAIN_CLASSIFIER_Z * nullAucStandardError(reference, current);
  const noiseBar = 0.5 + noise;
  const aucText = result.auc.toFixed(3);
  const rows = `${reference} + ${current} rows`;
  const drifted = result.auc >= threshold && result.auc > noiseBar;
  if (!drifted) {
    const why =
      result.auc < threshold
        ? `AUC ${aucText} is below ${threshold}: a classifier cannot tell the windows apart`
        : `AUC ${aucText} reaches ${threshold} but not the noise bar of ${noiseBar.toFixed(3)} for ${rows}: too few rows to tell`;
    // Below 0.5 beyond chance: rows present in both windows, which cross-validation scores as
    // the other window (each row's twin was in the training folds). Not drift either way.
    const shared = result.auc < 0.5 - noise ? ' (far below 0.5: the windows probably share rows)' : '';
    return { drifted, auc: result.auc, threshold, noiseBar, topFeatures: [], note: `no multivariate drift: ${why}${shared}` };
  }
  const minImportance = MIN_IMPORTANCE_SHARE * (result.auc - 0.5);
  const topFeatures = (result.importances ?? [])
    .filter((f) => f.importance >= minImportance)
    .sort((a, b) => b.importance - a.importance)
    .slice(0, TOP_FEATURES);
  const telling = topFeatures.length
    ? `; most telling: ${topFeatures.map((f) => `${f.name} (AUC −${f.importance.toFixed(3)} when shuffled)`).join(', ')}`
    : result.importances
      ? '; no single feature stands out'
      : '';
  return {
    drifted,
    auc: result.auc,
    threshold,
    noiseBar,
    topFeatures,
    note: `multivariate drift: a classifier tells current rows from reference rows with AUC ${aucText} (≥ ${threshold}, noise bar ${noiseBar.toFixed(3)} for ${rows})${telling}`,
  };
}

function excerpt(line: string): string {
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
