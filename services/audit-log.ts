import { auditEventId, sortEvents, type AuditEvent, type AuditEventType } from '../lib/audit';
import { keys } from '../lib/keys';
import type { Store } from '../store/store';
import { readListed } from './registry';

/** An audit event as a step describes it; the id, time and origin are added when it is written. */
export interface NewAuditEvent {
  type: AuditEventType;
  model: string;
  version: string | null;
  outcome: AuditEvent['outcome'];
  summary: string;
  details?: Record<string, unknown>;
}

/** Which run and step wrote an event: the same origin always gives the same event id. */
export interface AuditOrigin {
  workflowId: string;
  runId: string;
  /** Unique within the run (Temporal's activity id). */
  step: string;
}

/**
 * Appends an audit event once: its id comes from the origin, so a retried step finds its event
 * already written and writes nothing. Returns the record and whether this call created it.
 */
export async function appendAudit(
  store: Store,
  origin: AuditOrigin,
  event: NewAuditEvent,
): Promise<{ record: AuditEvent; created: boolean }> {
  const id = auditEventId({
    workflowId: origin.workflowId,
    runId: origin.runId,
    step: origin.step,
    type: event.type,
    version: event.version,
  });
  const record: AuditEvent = {
    id,
    at: new Date().toISOString(),
    workflowId: origin.workflowId,
    runId: origin.runId,
    details: {},
    ...event,
  };
  const created = await store.putIfAbsent(keys.auditEvent(event.model, id), JSON.stringify(record, null, 2));
  return { record, created };
}

/** The audit log of a model, in the order events happened. */
export async function listAudit(store: Store, model: string): Promise<AuditEvent[]> {
  return sortEvents(await readListed<AuditEvent>(store, await store.list(keys.audit(model))));
}
