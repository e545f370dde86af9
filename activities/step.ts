import { activityInfo, ApplicationFailure, log } from '@temporalio/activity';
import type { AuditEvent } from '../lib/audit';
import { RetrainError } from '../lib/errors';
import { appendAudit, type NewAuditEvent } from '../services/audit-log';
import type { Store } from '../store/store';
import { recordStep } from './telemetry';

interface StepMeta {
  model: string;
  version?: string | null;
}

/**
 * Runs one activity body: logs a structured line when it ends (step, outcome, duration, model,
 * version; the SDK adds workflow id, run id and attempt) and turns domain errors into Temporal
 * failures, non-retryable when retrying cannot help. The one place that does this mapping:
 * services and lib throw `RetrainError`s and know nothing of Temporal.
 */
export async function step<T>(name: string, meta: StepMeta, body: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    const result = await body();
    const durationMs = Date.now() - started;
    log.info(`${name}: ok`, { ...meta, step: name, outcome: 'ok', durationMs });
    recordStep(meta.model, name, 'ok', durationMs);
    return result;
  } catch (err) {
    const failure = toFailure(err, name, meta);
    const durationMs = Date.now() - started;
    recordStep(meta.model, name, 'failed', durationMs);
    log.warn(`${name}: failed: ${failure.message}`, {
      ...meta,
      step: name,
      outcome: 'failed',
      durationMs,
      errorType: failure instanceof ApplicationFailure ? failure.type : undefined,
      retryable: !(failure instanceof ApplicationFailure && failure.nonRetryable),
    });
    throw failure;
  }
}

function toFailure(err: unknown, stepName: string, meta: StepMeta): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof RetrainError) {
    const details = { context: { ...meta, step: stepName, ...err.context }, report: err.details ?? null };
    return ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable: !err.retryable,
      details: [details],
      ...(err.cause instanceof Error ? { cause: err.cause } : {}),
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Appends an audit event. Its id comes from the workflow run and the activity, so every retry
 * of the same activity writes the same event, and only once.
 */
export async function writeAudit(store: Store, event: NewAuditEvent): Promise<AuditEvent> {
  const info = activityInfo();
  // Standalone activities have no workflow; their activity id is unique on its own.
  const origin = {
    workflowId: info.workflowExecution?.workflowId ?? 'standalone',
    runId: info.workflowExecution?.runId ?? 'standalone',
    step: info.activityId,
  };
  const { record, created } = await appendAudit(store, origin, event);
  if (!created) log.info(`audit event ${record.id} already recorded`, { model: event.model, step: event.type });
  return record;
}
