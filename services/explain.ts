import { NotFoundError } from '../lib/errors';
import { topContributions } from '../lib/contributions';
import { explainPrediction, type ContributionsSummary, type PredictionExplanation } from '../lib/prediction-explanation';
import type { PredictionLine } from '../lib/prediction-log';
import type { ModelVersion } from '../lib/registry';
import { explainContributions, type ExplainContributionsInput } from './contributions';
import type { Store } from '../store/store';
import { auditOfVersion } from './model-history';
import { findPrediction } from './prediction-log';
import { readPointer, readVersion } from './registry';

/** Why a prediction was made, or why it could not be found. */
export type ExplainResult =
  | { found: true; explanation: PredictionExplanation }
  | {
      found: false;
      /** A line with the id exists but is not a valid prediction line: what is wrong with it. */
      invalid?: string;
      /** Batch files scanned. */
      files: number;
    };

/**
 * Answers "why did the system make this decision?" for a logged prediction: the version that made
 * it, its lineage, the gate and approval that let it serve, and whether it is still the champion
 * (what `retrain explain` prints and `GET /v1/predictions/{id}/explain` returns).
 */
export async function explainPredictionById(
  store: Store,
  id: string,
  opts: {
    model?: string;
    at?: string;
    /** Also compute which features pushed the prediction (runs the version's model in Python). */
    contributions?: { config: ExplainContributionsInput['config']; top?: number };
  } = {},
): Promise<ExplainResult> {
  const { found, invalid, files } = await findPrediction(store, id, opts);
  if (!found) return { found: false, files, ...(invalid ? { invalid } : {}) };
  const { line } = found;
  const version = await readVersion(store, line.model, line.version).catch((err: unknown) => {
    if (err instanceof NotFoundError) return null;
    throw err;
  });
  const { pointer } = await readPointer(store, line.model);
  const explanation = explainPrediction({
    prediction: line,
    loggedIn: { key: found.key, line: found.lineNumber },
    version,
    pointer,
    // Only this version's events matter; read by id through the audit index, not the whole log.
    audit: await auditOfVersion(store, line.model, line.version),
  });
  if (opts.contributions) explanation.contributions = await contributionsOf(store, line, version, opts.contributions);
  return { found: true, explanation };
}

/** The prediction's top contributions, or why there are none: never an error, the rest of the answer stands. */
async function contributionsOf(
  store: Store,
  line: PredictionLine,
  version: ModelVersion | null,
  opts: { config: ExplainContributionsInput['config']; top?: number },
): Promise<ContributionsSummary> {
  if (!version) return { available: false, reason: `${line.model} ${line.version} is not in the registry, so its model cannot be run` };
  try {
    const result = await explainContributions({ store, config: opts.config, model: version, rows: [line.features] });
    if (result.method === 'unsupported') return { available: false, reason: result.reason };
    const row = result.rows[0]!;
    return {
      available: true,
      method: result.method,
      output: result.output,
      estimator: result.estimator,
      class: row.class,
      base: row.base,
      value: row.value,
      top: topContributions(row, opts.top ?? 5),
      note: result.note,
    };
  } catch (err) {
    return { available: false, reason: (err as Error).message };
  }
}
