import { NotFoundError } from '../lib/errors';
import { explainPrediction, type PredictionExplanation } from '../lib/prediction-explanation';
import type { Store } from '../store/store';
import { listAudit } from './audit-log';
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
export async function explainPredictionById(store: Store, id: string, opts: { model?: string; at?: string } = {}): Promise<ExplainResult> {
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
    audit: await listAudit(store, line.model),
  });
  return { found: true, explanation };
}
