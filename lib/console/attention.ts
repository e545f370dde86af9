/**
 * What needs a person's attention on a model, most urgent first: the Models page sorts by it, so
 * the model with a candidate waiting or a failed run is the first row, not the alphabetical one.
 */
export interface AttentionFacts {
  hasChampion: boolean;
  /** A candidate waits for an approver. */
  approvalWaiting: boolean;
  /** How the latest run ended, or 'running'; null when there never was one (or Temporal did not say). */
  lastRunOutcome: string | null;
  lastCheck: {
    at: string;
    drifted: boolean;
    enoughData: boolean;
    estimatedDrop: boolean;
  } | null;
  /** The champion's latest figures are over the pipeline's budgets. */
  overBudget: boolean;
}

/** One reason, with its weight (higher sorts first). */
export interface AttentionReason {
  weight: number;
  text: string;
}

/** A week without a drift check means the schedule is off or failing. */
const STALE_CHECK_MS = 7 * 86_400_000;

/** Every reason that applies, most urgent first. */
export function attentionReasons(f: AttentionFacts, now: number): AttentionReason[] {
  const out: AttentionReason[] = [];
  if (f.approvalWaiting) out.push({ weight: 50, text: 'a candidate waits for approval' });
  if (f.lastRunOutcome === 'rolled-back') out.push({ weight: 45, text: 'the last run was rolled back' });
  if (f.lastRunOutcome === 'failed') out.push({ weight: 40, text: 'the last run failed' });
  if (f.lastCheck?.drifted) out.push({ weight: 35, text: 'drift in the last check' });
  if (f.lastCheck?.estimatedDrop) out.push({ weight: 30, text: 'estimated performance dropped' });
  if (f.overBudget) out.push({ weight: 25, text: 'over its serving budget' });
  if (!f.hasChampion) out.push({ weight: 20, text: 'no champion yet' });
  if (!f.lastCheck) out.push({ weight: 10, text: 'never checked for drift' });
  else if (now - Date.parse(f.lastCheck.at) > STALE_CHECK_MS) out.push({ weight: 10, text: 'no drift check for over a week' });
  else if (!f.lastCheck.enoughData) out.push({ weight: 5, text: 'too few predictions in the last check' });
  return out.sort((a, b) => b.weight - a.weight);
}

/** Orders rows by their most urgent reason, then by their number of reasons, then by name. */
export function byAttention<T extends { name: string; reasons: readonly AttentionReason[] }>(rows: readonly T[]): T[] {
  const top = (r: T) => r.reasons[0]?.weight ?? 0;
  return [...rows].sort((a, b) => top(b) - top(a) || b.reasons.length - a.reasons.length || a.name.localeCompare(b.name));
}
