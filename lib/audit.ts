import { hashOf } from './canonical-json';
import type { Assert, Equals } from './type-check';

/** The lifecycle events the audit log records, one per step of a run. */
export type AuditEventType =
  | 'snapshot'
  | 'validation'
  | 'training'
  | 'registration'
  | 'evaluation'
  | 'gate'
  | 'approval'
  | 'promotion'
  | 'verification'
  | 'rollback'
  | 'drift-check'
  | 'alert'
  /** A retraining run that failed or was cancelled: the step, the error type and the message. */
  | 'run-failed'
  /** A retraining run that found its version trained before and ended without promoting anything. */
  | 'run-unchanged'
  /** An approval or rejection that did not count (unlisted approver, wrong version, not waiting), by signal or update. */
  | 'refused-decision';

/** Every event type, in lifecycle order: for filters and pickers (the type above is the record). */
export const AUDIT_EVENT_TYPES = [
  'snapshot',
  'validation',
  'training',
  'registration',
  'evaluation',
  'gate',
  'approval',
  'promotion',
  'verification',
  'rollback',
  'drift-check',
  'alert',
  'run-failed',
  'run-unchanged',
  'refused-decision',
] as const satisfies readonly AuditEventType[];
// Every type is listed: adding one to AuditEventType without listing it fails here.
type _AllListed = Assert<Equals<(typeof AUDIT_EVENT_TYPES)[number], AuditEventType>>;

/** An append-only record of one lifecycle event, with the model version it concerns. */
export interface AuditEvent {
  id: string;
  at: string;
  type: AuditEventType;
  model: string;
  version: string | null;
  outcome: 'ok' | 'failed' | 'skipped' | 'rejected';
  summary: string;
  workflowId: string | null;
  runId: string | null;
  details: Record<string, unknown>;
}

/**
 * An event id that is the same for every attempt of the same step of the same run, so a
 * retried activity finds its event already written instead of writing a second one.
 */
export function auditEventId(parts: {
  workflowId: string;
  runId: string;
  step: string;
  type: AuditEventType;
  version: string | null;
}): string {
  return hashOf(parts).slice(0, 32);
}

/** Events in the order they happened. */
export function sortEvents<E extends Pick<AuditEvent, 'at' | 'id'>>(events: readonly E[]): E[] {
  return [...events].sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
}
