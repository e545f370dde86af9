import type { AuditEvent } from '../audit';

/** An audit event as the console lists it: without its details, plus who acted when the details say. */
export type AuditEntry = Omit<AuditEvent, 'details'> & { by: string | null };

/** The entry of a stored event; `by` is the approver, the person who rolled back, or who asked. */
export function auditEntry(event: AuditEvent): AuditEntry {
  const { details, ...rest } = event;
  const d = details ?? {};
  const by = [d.by, d.actor, d.requestedBy].find((v): v is string => typeof v === 'string' && v.length > 0) ?? null;
  return { ...rest, by };
}

/** What the audit table filters on. */
export interface AuditFilter {
  type?: AuditEvent['type'];
  version?: string;
  outcome?: AuditEvent['outcome'];
}

/** The entries a filter keeps, newest first, and one page of them. */
export function filterAudit(
  entries: readonly AuditEntry[],
  filter: AuditFilter,
  page: { number: number; size: number },
): { rows: AuditEntry[]; total: number; pages: number } {
  const kept = entries.filter(
    (e) =>
      (!filter.type || e.type === filter.type) &&
      (!filter.version || e.version === filter.version) &&
      (!filter.outcome || e.outcome === filter.outcome),
  );
  kept.sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id));
  const pages = Math.max(1, Math.ceil(kept.length / page.size));
  const number = Math.min(Math.max(1, page.number), pages);
  return { rows: kept.slice((number - 1) * page.size, number * page.size), total: kept.length, pages };
}
