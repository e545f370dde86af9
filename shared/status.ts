import type { GateDecision, Metrics } from '../lib/gate';
import type { ResolvedWindow } from '../lib/time-window';

/** The steps of a retraining run, in the order they happen (`approval` and `rollback` only when needed). */
export const RUN_STEPS = [
  'starting',
  'pull',
  'validate',
  'split',
  'plan',
  'train',
  'register',
  'evaluate',
  'gate',
  'approval',
  'promote',
  'verify',
  'rollback',
  'done',
] as const;
export type RunStep = (typeof RUN_STEPS)[number];

/** How a retraining run ended, or `running`. */
export type RunOutcome =
  'running' | 'promoted' | 'unchanged' | 'rejected-by-gate' | 'rejected-by-approver' | 'rolled-back' | 'cancelled' | 'failed';

/** The approval part of a run's status: who may decide, what was decided, what was ignored. */
export interface ApprovalState {
  required: boolean;
  approvers: string[];
  decision: 'pending' | 'approved' | 'rejected' | 'timed-out' | null;
  by: string | null;
  reason: string | null;
  at: string | null;
  /** Decisions that did not count (unlisted approver, wrong version, not waiting), kept for the audit. */
  ignored: { by: string; action: 'approve' | 'reject'; why: string; at: string }[];
}

/** What the `status` query returns and the workflow's summary builds on. */
export interface RunStatus {
  model: string;
  /** Who or what started the run (a person, `demo`, `drift-check <id>`). */
  requestedBy: string | null;
  /** Why it was asked for ("new labels", "drift confirmed"), as the starter gave it. */
  reason: string | null;
  /**
   * The time the run reads its data as of (ISO-8601 UTC): the `asOf` it was started with (a
   * backfill), else its start. Absent from the results of runs that ended before it was recorded.
   */
  asOf: string;
  /**
   * The rows of the training source the run reads (`column` in [`from`, `to`)), or null when the
   * source has no window or the pipeline is not loaded yet.
   */
  window: ResolvedWindow | null;
  step: RunStep;
  outcome: RunOutcome;
  version: string | null;
  /** True when these exact inputs were trained before and the existing version was reused. */
  reusedVersion: boolean;
  championBefore: string | null;
  championAfter: string | null;
  snapshot: { sha256: string; created: boolean; rows: number } | null;
  metrics: { challenger: Metrics; champion: Metrics | null } | null;
  gate: GateDecision | null;
  approval: ApprovalState;
  message: string | null;
  steps: { step: RunStep; startedAt: string; durationMs: number | null }[];
}
