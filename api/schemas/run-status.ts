import { z } from 'zod';
import { RUN_STEPS, type ApprovalState, type RunOutcome, type RunStatus, type RunStep } from '../../shared/status';
import { gateDecisionSchema, metricsSchema } from './gate';
import type { Assert, Equals, Extends } from '../../lib/type-check';

/*
 * RunStatus (shared/status.ts) as the API documents and serializes it. The zod schema lives here,
 * not in shared/: shared/ is part of the workflow bundle, which stays free of these schemas. The
 * checks at the end keep the two in step.
 */

export const runStepSchema = z.enum(RUN_STEPS).meta({
  id: 'RunStep',
  description: 'The steps of a retraining run, in the order they happen (`approval` and `rollback` only when needed).',
});

export const runOutcomeSchema = z
  .enum(['running', 'promoted', 'unchanged', 'rejected-by-gate', 'rejected-by-approver', 'rolled-back', 'cancelled', 'failed'])
  .meta({ id: 'RunOutcome', description: 'How a retraining run ended, or `running`.' });

export const approvalStateSchema = z
  .object({
    required: z.boolean(),
    approvers: z.array(z.string()),
    decision: z.enum(['pending', 'approved', 'rejected', 'timed-out']).nullable(),
    by: z.string().nullable(),
    reason: z.string().nullable(),
    at: z.string().nullable(),
    ignored: z
      .array(z.object({ by: z.string(), action: z.enum(['approve', 'reject']), why: z.string(), at: z.string() }))
      .describe('Decisions that did not count (unlisted approver, wrong version, not waiting), kept for the audit.'),
  })
  .meta({ id: 'ApprovalState', description: 'Who may decide, what was decided, what was ignored.' });

export const resolvedWindowSchema = z
  .object({
    column: z.string().describe('The timestamp column.'),
    from: z.string().nullable().describe('Inclusive lower bound (ISO-8601 UTC); null: every row before `to`.'),
    to: z.string().describe('Exclusive upper bound (ISO-8601 UTC): the run’s asOf.'),
  })
  .meta({ id: 'DataWindow', description: 'The rows of a training source a run reads: `column` in [`from`, `to`).' });

export const runStatusSchema = z
  .object({
    model: z.string(),
    requestedBy: z.string().nullable().describe('Who or what started the run (a person, `demo`, `drift-check <id>`).'),
    // Optional here only: the result of a run that ended before `reason` was recorded (the API
    // answers with the stored result when no worker polls) has no such field, and encoding the
    // answer through a required field would turn that into a 500.
    reason: z
      .string()
      .nullable()
      .optional()
      .describe(
        'Why it was asked for ("new labels", "drift confirmed"), as the starter gave it. Absent for runs that ended before it was recorded.',
      ),
    // Optional for the same reason as `reason`: runs that ended before they were recorded lack them.
    asOf: z
      .string()
      .optional()
      .describe(
        'The time the run reads its data as of (ISO-8601 UTC): the `asOf` it was started with (a backfill), else its start. Absent for runs that ended before it was recorded.',
      ),
    window: resolvedWindowSchema
      .nullable()
      .optional()
      .describe(
        'The rows of the training source the run reads, or null when the source has no window (or the pipeline is not loaded yet).',
      ),
    step: runStepSchema,
    outcome: runOutcomeSchema,
    version: z.string().nullable(),
    reusedVersion: z.boolean().describe('True when these exact inputs were trained before and the existing version was reused.'),
    championBefore: z.string().nullable(),
    championAfter: z.string().nullable(),
    snapshot: z.object({ sha256: z.string(), created: z.boolean(), rows: z.number().int() }).nullable(),
    metrics: z.object({ challenger: metricsSchema, champion: metricsSchema.nullable() }).nullable(),
    gate: gateDecisionSchema.nullable(),
    approval: approvalStateSchema,
    message: z.string().nullable(),
    steps: z.array(z.object({ step: runStepSchema, startedAt: z.string(), durationMs: z.number().nullable() })),
  })
  .meta({ id: 'RunStatus', description: 'A retraining run’s status: step, outcome, candidate, metrics, gate and approval.' });

/** `GET /v1/models/{model}/runs/current`: the status with the Temporal execution it belongs to. */
export const currentRunSchema = runStatusSchema
  .extend({
    workflowId: z.string(),
    runId: z.string(),
    workflowStatus: z.string().describe('RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT…'),
  })
  .meta({ id: 'CurrentRun', description: 'A RunStatus plus the Temporal execution it belongs to.' });

type _RunStep = Assert<Equals<z.infer<typeof runStepSchema>, RunStep>>;
type _RunOutcome = Assert<Equals<z.infer<typeof runOutcomeSchema>, RunOutcome>>;
type _ApprovalState = Assert<Equals<z.infer<typeof approvalStateSchema>, ApprovalState>>;
type ApiRunStatus = z.infer<typeof runStatusSchema>;
/** The fields the API allows to be absent, for runs that ended before they were recorded (see above). */
type Recorded = 'reason' | 'asOf' | 'window';
// Equal but for those…
type _RunStatus = Assert<Equals<Omit<ApiRunStatus, Recorded>, Omit<RunStatus, Recorded>>>;
type _RunStatusReason = Assert<Equals<Exclude<ApiRunStatus['reason'], undefined>, RunStatus['reason']>>;
type _RunStatusAsOf = Assert<Equals<Exclude<ApiRunStatus['asOf'], undefined>, RunStatus['asOf']>>;
type _RunStatusWindow = Assert<Equals<Exclude<ApiRunStatus['window'], undefined>, RunStatus['window']>>;
// …so every RunStatus the code builds is a valid answer.
type _RunStatusAnswer = Assert<Extends<RunStatus, ApiRunStatus>>;
