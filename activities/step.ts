import { activityInfo, ApplicationFailure, log } from '@temporalio/activity';
import { TemporalFailure } from '@temporalio/common';
import type { AuditEvent } from '../lib/audit';
import { attemptNote, errorKind, internalErrorMessage, withNote, type Attempt } from '../lib/error-kind';
import { ErrorType, RetrainError } from '../lib/errors';
import { appendAudit, type NewAuditEvent } from '../services/audit-log';
import type { Store } from '../store/store';
import { recordStep } from './telemetry';

interface StepMeta {
  model: string;
  version?: string | null;
  /** More fields for the log line (never for the metrics). */
  [field: string]: unknown;
}

/**
 * Runs one activity body: logs a structured line when it ends (step, outcome, duration, model,
 * version; the SDK adds workflow id, run id and attempt) and turns errors into Temporal
 * failures. The one place that does this mapping: services and lib throw `RetrainError`s and
 * know nothing of Temporal.
 * - A `RetrainError` is retried or not as it says.
 * - A JavaScript programming error not caused by I/O (RangeError, TypeError, …: lib/error-kind.ts)
 *   is a bug in Retrain: it fails the step at once as `InternalError`, instead of being retried
 *   ten times with the same result.
 * - Anything else (network and disk trouble, `TransientError`) is retried.
 * A failure that may be retried says which attempt it ended and whether another one follows, so
 * the last one does not read as if it would be retried.
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
    const attempt = currentAttempt();
    const { failure, logNote } = toFailure(err, name, meta, attempt);
    const durationMs = Date.now() - started;
    recordStep(meta.model, name, 'failed', durationMs);
    const retryable = !(failure instanceof ApplicationFailure && failure.nonRetryable);
    log.warn(`${name}: failed: ${logNote ? withNote(failure.message, logNote) : failure.message}`, {
      ...meta,
      step: name,
      outcome: 'failed',
      durationMs,
      errorType: failure instanceof ApplicationFailure ? failure.type : undefined,
      retryable,
      maxAttempts: attempt.max,
      lastAttempt: !retryable || attempt.last,
    });
    throw failure;
  }
}

/** This attempt, and the most attempts the retry policy allows (the server sends the policy along). */
function currentAttempt(): Attempt {
  const info = activityInfo();
  // 0 or unset means no limit; the policy itself is unset only with an old server.
  const max = info.retryPolicy?.maximumAttempts || null;
  return { number: info.attempt, max, last: max !== null && info.attempt >= max, policyKnown: info.retryPolicy !== undefined };
}

/**
 * The failure to throw, and a note on the attempt for the log line when the failure's message
 * does not carry one already (a retryable failure's does).
 */
function toFailure(err: unknown, stepName: string, meta: StepMeta, attempt: Attempt): { failure: Error; logNote: string | null } {
  // Already a Temporal failure: an ApplicationFailure someone chose, or the cancellation.
  if (err instanceof TemporalFailure) {
    return {
      failure: err,
      logNote: err instanceof ApplicationFailure ? attemptNote(attempt, !err.nonRetryable) : `attempt ${attempt.number}`,
    };
  }
  const context = { ...meta, step: stepName };
  if (err instanceof RetrainError) {
    const details = { context: { ...context, ...err.context }, report: err.details ?? null };
    const failure = ApplicationFailure.create({
      message: err.retryable ? withNote(err.message, attemptNote(attempt, true)) : err.message,
      type: err.type,
      nonRetryable: !err.retryable,
      details: [details],
      ...(err.cause instanceof Error ? { cause: err.cause } : {}),
    });
    return { failure, logNote: err.retryable ? null : attemptNote(attempt, false) };
  }
  const error = err instanceof Error ? err : new Error(String(err));
  if (errorKind(err) === 'internal') {
    const failure = ApplicationFailure.create({
      message: internalErrorMessage(error),
      type: ErrorType.INTERNAL_ERROR,
      nonRetryable: true,
      details: [{ context, report: null, error: { name: error.name, message: error.message } }],
    });
    // The whole stack of the bug, where the Temporal UI shows a failure's stack.
    failure.stack = error.stack ?? failure.stack;
    // The message says already that it is not retried.
    return { failure, logNote: `attempt ${attempt.number}${attempt.max === null ? '' : ` of ${attempt.max}`}` };
  }
  // Retried: the same failure the SDK would make of it (type from the class, the cause kept),
  // with the attempt in its message.
  const failure = ApplicationFailure.create({
    message: withNote(error.message, attemptNote(attempt, true)),
    type: error.constructor?.name ?? error.name,
    nonRetryable: false,
    ...(error.cause instanceof Error ? { cause: error.cause } : {}),
  });
  failure.stack = error.stack ?? failure.stack;
  return { failure, logNote: null };
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
