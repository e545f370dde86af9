/**
 * When a drift check's verdict becomes an alert: only once drift has held for `alertAfter`
 * consecutive checks (one noisy window is not an incident), and not again within `cooldown` of
 * the model's last alert (one incident, one alert, saying how many checks it covers). Pure
 * code: the checks' outcomes are kept per model by services/drift-alert-state.ts.
 */

/** What one check found, as the alert policy remembers it. */
export interface CheckOutcome {
  checkId: string;
  /** The end of the check's window (ISO-8601): checks are ordered by it, not by when they ran. */
  to: string;
  drifted: boolean;
  /** False for "not enough data": such a check neither extends nor breaks a run of drift. */
  enoughData: boolean;
  /** Whether this check sent an alert. */
  alerted: boolean;
}

/** A pipeline's alert policy. */
export interface AlertPolicy {
  /** Drift must hold for this many consecutive checks (with enough data) before an alert. */
  alertAfter: number;
  /** No second alert within this long (by window end) of the model's last one. */
  cooldownMs: number;
}

/** What the policy decided for one check. */
export interface AlertDecision {
  alert: boolean;
  /** Consecutive drifted checks ending with this one (checks without enough data skipped). */
  streak: number;
  /** Drifted checks this alert speaks for: those of the streak since the last alert, this one included. */
  coveredChecks: number;
  /** Why, in a sentence: what held the alert back, or what it covers. */
  reason: string;
}

/** At most this many outcomes are kept per model: far more than any sensible `alertAfter`. */
export const MAX_KEPT_OUTCOMES = 200;

/**
 * Decides whether `current` alerts, given the outcomes already recorded for its model (in any
 * order; `current` must not be among them). Only checks up to `current`'s window end count, so
 * a backfilled check is judged on what came before it.
 */
export function decideAlert(history: readonly CheckOutcome[], current: Omit<CheckOutcome, 'alerted'>, policy: AlertPolicy): AlertDecision {
  const before = history.filter((o) => byWindowEnd(o, current) < 0).sort(byWindowEnd);
  if (!current.enoughData) return { alert: false, streak: 0, coveredChecks: 0, reason: 'not enough data for a verdict' };
  if (!current.drifted) return { alert: false, streak: 0, coveredChecks: 0, reason: 'no drift' };
  // The run of drift ending here, newest first, and the last alert inside it.
  let streak = 1;
  let sinceAlert = 1;
  let alertInStreak = false;
  for (let i = before.length - 1; i >= 0; i--) {
    const o = before[i]!;
    if (!o.enoughData) continue;
    if (!o.drifted) break;
    streak++;
    if (o.alerted) alertInStreak = true;
    if (!alertInStreak) sinceAlert++;
  }
  if (streak < policy.alertAfter)
    return {
      alert: false,
      streak,
      coveredChecks: 0,
      reason: `drift in ${streak} consecutive check${streak === 1 ? '' : 's'}; an alert needs ${policy.alertAfter} (drift.alertAfter)`,
    };
  const lastAlert = [...before].reverse().find((o) => o.alerted);
  if (lastAlert && Date.parse(current.to) - Date.parse(lastAlert.to) < policy.cooldownMs) {
    const until = new Date(Date.parse(lastAlert.to) + policy.cooldownMs).toISOString();
    return {
      alert: false,
      streak,
      coveredChecks: sinceAlert,
      reason: `drift continues (${sinceAlert} drifted check${sinceAlert === 1 ? '' : 's'} since the alert of check ${lastAlert.checkId}); no new alert before ${until} (drift.cooldown)`,
    };
  }
  return {
    alert: true,
    streak,
    coveredChecks: sinceAlert,
    reason:
      streak === 1
        ? 'drift in this check'
        : `drift held for ${streak} consecutive checks${alertInStreak ? `, ${sinceAlert} of them since the last alert` : ''}`,
  };
}

/** Adds `outcome` to `history`, ordered by window end, keeping the newest {@link MAX_KEPT_OUTCOMES}. */
export function rememberOutcome(history: readonly CheckOutcome[], outcome: CheckOutcome): CheckOutcome[] {
  const kept = [...history.filter((o) => o.checkId !== outcome.checkId), outcome].sort(byWindowEnd);
  return kept.slice(Math.max(0, kept.length - MAX_KEPT_OUTCOMES));
}

/** Window end, then check id: the order checks are judged in. */
function byWindowEnd(a: Pick<CheckOutcome, 'to' | 'checkId'>, b: Pick<CheckOutcome, 'to' | 'checkId'>): number {
  const t = Date.parse(a.to) - Date.parse(b.to);
  return t !== 0 ? t : a.checkId < b.checkId ? -1 : a.checkId > b.checkId ? 1 : 0;
}
