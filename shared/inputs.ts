import type { AlertDecision } from '../lib/drift/alert-policy';
import { z } from 'zod';
import type { Pipeline } from '../lib/pipeline';
import type { RunStatus } from './status';
import type { DriftAlertDelivery, DriftCheckResult, RetrainStart } from './results';

/*
 * Inputs and results of the three workflows, for whoever starts them: the CLI, schedules, the
 * drift check (which starts retraining), tests. Workflows take one object and return one
 * object, so either can grow without breaking runs in flight.
 */

/**
 * Which pipeline a workflow runs: the definition itself, or the name of a pipeline the worker
 * loads from its project's `pipelines/<model>.ts` (in an activity, so the definition used is
 * recorded in the run's history). Exactly one of the two.
 */
export type PipelineRef =
  | {
      /** The validated pipeline definition (the CLI loads pipelines/<model>.ts). */
      pipeline: Pipeline;
      model?: never;
    }
  | {
      /** The pipeline's name: the worker loads `pipelines/<model>.ts` when the run starts. */
      model: string;
      pipeline?: never;
    };

/** Input of `retrainPipeline`: a pipeline (inline or by model name) and who asked for the run. */
export type RetrainInput = PipelineRef & RetrainOptions;

/** What `retrainPipeline` takes besides the pipeline. */
export interface RetrainOptions {
  /** Who or what asked for this run: a person, a schedule, a drift check. */
  requestedBy?: string;
  reason?: string;
  /**
   * The time the run reads its data as of, for a source with a window: a date (`2026-10-01`,
   * midnight UTC) or an ISO-8601 time with its zone, not after the run's start. A backfill.
   * @default the run's start
   */
  asOf?: string;
  /**
   * Task queue of the training activities.
   * @default "training"
   */
  trainingTaskQueue?: string;
}

/** Result of `retrainPipeline`: the run's final status. */
export type RetrainSummary = RunStatus;

/** Input of `driftCheck`: a pipeline (inline or by model name) and when and why to check it. */
export type DriftCheckInput = PipelineRef & DriftCheckOptions;

/** What `driftCheck` takes besides the pipeline. */
export interface DriftCheckOptions {
  /** What started the check: "schedule", a person, a script. */
  trigger?: string;
  /**
   * ISO time the window ends at; for backfills and reproducible checks.
   * @default now
   */
  asOf?: string;
}

/** Result of `driftCheck`. */
export interface DriftCheckSummary {
  model: string;
  /** 'drift-held': drift found, but not yet confirmed (drift.alertAfter) or within the cooldown of the last alert. */
  outcome: 'no-champion' | 'no-drift' | 'not-enough-data' | 'drift-held' | 'drift-alerted' | 'drift-retraining';
  version: string | null;
  result: DriftCheckResult | null;
  /** The alert policy's decision on a drifted check (checks recorded before the policy existed have none). */
  alertDecision?: AlertDecision;
  alert: DriftAlertDelivery | null;
  retrain: RetrainStart | null;
  /** Where the over-budget alert to the inference owner went, when serving exceeded the pipeline's budgets. */
  budgetAlert?: DriftAlertDelivery;
  /** Where the alert to the logging owner went, when the window had too many invalid log lines. */
  loggingAlert?: DriftAlertDelivery;
  message: string;
}

/** Input of `rollbackModel`, validated by the workflow itself. */
export const rollbackInputSchema = z.object({
  model: z.string().min(1),
  /** Version to restore; the previous champion when omitted. */
  to: z.string().min(1).optional(),
  reason: z.string().min(1, 'a rollback needs a reason (it goes into the audit log)'),
  requestedBy: z.string().min(1),
  /** Owner to notify (the pipeline's retraining owner). */
  notify: z.string().min(1).optional(),
});
/** What `rollbackModel` takes (validated by the workflow with `rollbackInputSchema`). */
export type RollbackInput = z.infer<typeof rollbackInputSchema>;
