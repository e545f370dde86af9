// Signals, updates and queries of the retraining workflow, defined once and imported by both
// the workflow and the CLI so a name is never typed twice.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunStatus } from './status';

/** Payload of an approval or rejection: who decided, why, and (optionally) for which version. */
export interface ApprovalDecision {
  by: string;
  /** @default "" */
  reason?: string;
  /** When given, the decision only counts for this candidate version. */
  version?: string;
}

/**
 * A decision as any client may send it, checked: the decision with its reason filled in, or each
 * problem. Plain code rather than a zod schema: the workflow checks decisions in its signal
 * handlers and update validators, and the workflow bundle carries no schema library (every run
 * would load it again).
 */
export function checkApprovalDecision(
  raw: unknown,
):
  | { ok: true; decision: Required<Pick<ApprovalDecision, 'by' | 'reason'>> & Pick<ApprovalDecision, 'version'> }
  | { ok: false; problems: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, problems: ['expected { by, reason?, version? }'] };
  const { by, reason, version, ...rest } = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof by !== 'string') problems.push('by: expected a string');
  else if (by === '') problems.push('say who decides (--by)');
  if (reason !== undefined && typeof reason !== 'string') problems.push('reason: expected a string');
  if (version !== undefined && (typeof version !== 'string' || version === '')) problems.push('version: expected a version id');
  for (const key of Object.keys(rest)) problems.push(`unknown field "${key}"`);
  if (problems.length) return { ok: false, problems };
  return { ok: true, decision: { by: by as string, reason: (reason as string | undefined) ?? '', version: version as string | undefined } };
}

/** Signal: approve the candidate. Fire-and-forget; an unlisted approver is recorded and ignored. */
export const approveSignal = defineSignal<[ApprovalDecision]>('approve');
/** Signal: reject the candidate. */
export const rejectSignal = defineSignal<[ApprovalDecision]>('reject');
/** Update: approve and get an answer; the validator refuses an unlisted approver before anything enters history. */
export const approveUpdate = defineUpdate<RunStatus, [ApprovalDecision]>('approveCandidate');
/** Update: reject and get an answer. */
export const rejectUpdate = defineUpdate<RunStatus, [ApprovalDecision]>('rejectCandidate');
/** Query: where the run stands (step, candidate, metrics, gate, approval). */
export const statusQuery = defineQuery<RunStatus>('status');
