// Signals, updates and queries of the retraining workflow, defined once and imported by both
// the workflow and the CLI so a name is never typed twice.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { RunStatus } from './status';

/** Payload of an approval or rejection: who decided, why, and (optionally) for which version. */
export const approvalDecisionSchema = z
  .object({
    by: z.string().min(1, 'say who decides (--by)'),
    reason: z.string().default(''),
    /** When given, the decision only counts for this candidate version. */
    version: z.string().min(1).optional(),
  })
  .strict();
/** What an approve or reject signal or update carries. */
export type ApprovalDecision = z.input<typeof approvalDecisionSchema>;

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
